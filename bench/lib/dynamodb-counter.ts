/**
 * Counts what a DynamoDB client sends, from inside the SDK: a middleware adds up
 * requests, failures and capacity units per command, and reads per partition key (the
 * event log's channel), so a benchmark can count the reads of its own channels only.
 *
 * Units are what AWS would bill, not what DynamoDB Local says:
 * - reads: the units DynamoDB Local reports (it is asked for `ReturnConsumedCapacity`),
 *   with AWS's minimum per request applied (0.5 eventually consistent, 1 strongly
 *   consistent), which DynamoDB Local reports as 0 for an empty result;
 * - writes: computed from the request by AWS's rule (1 unit per started KB per item, 2 in
 *   a transaction), because DynamoDB Local's figures for transactions are too low.
 *
 * A `BatchGetItem` reads up to 100 keys, of as many channels: it is kept apart, with the
 * units of each of its channels (AWS's minimum per item), so that `readsWhere` can count
 * it as one read of whichever set of channels it is asked about.
 */
import type {
  AttributeValue,
  ConsumedCapacity,
  DynamoDBClient,
  TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from '../../functions/adapters/dynamodb/table.js';

/** Commands that accept `ReturnConsumedCapacity`. */
const CAPACITY_COMMANDS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

export const READ_COMMANDS: ReadonlySet<string> = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

export interface CommandCount {
  requests: number;
  failures: number;
  /** Read units with AWS's per-request minimum applied (reads only). */
  readUnits: number;
  /** Write units by AWS's rule, for requests that succeeded (writes only). */
  writeUnits: number;
  /** Write units of requests that failed (cancelled transactions, failed conditions). */
  failedWriteUnits: number;
}

export interface PartitionReads {
  reads: number;
  readUnits: number;
}

/** One read request over several partitions (BatchGetItem): read units per partition. */
export interface MultiPartitionRead {
  readonly units: Readonly<Record<string, number>>;
}

export interface DynamoDBCounts {
  readonly byCommand: Record<string, CommandCount>;
  /** Read requests and units by partition key value (the channel, for the event log). */
  readonly byPartition: Record<string, PartitionReads>;
  /** Read requests that name several partitions, in the order they were made. */
  readonly multiPartition: readonly MultiPartitionRead[];
  /** All read requests (Query, GetItem, Scan, BatchGetItem, TransactGetItems). */
  readonly reads: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface DynamoDBCounter {
  snapshot(): DynamoDBCounts;
}

/** One table's entry in a BatchWriteItem. */
type WriteRequests = readonly { readonly PutRequest?: { Item?: Record<string, AttributeValue> } }[];
/** One table's entry in a BatchGetItem. */
interface KeysAndAttributes {
  readonly Keys?: readonly Record<string, AttributeValue>[];
  readonly ConsistentRead?: boolean;
}

/** The request fields the counter looks at: the SDK's command input, or the wire's JSON body. */
export interface CountedInput {
  readonly ConsistentRead?: boolean;
  readonly Key?: Record<string, AttributeValue>;
  readonly Item?: Record<string, AttributeValue>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly TransactItems?: readonly TransactWriteItem[];
  /** BatchWriteItem's write requests, or BatchGetItem's keys, per table. */
  readonly RequestItems?: Record<string, WriteRequests | KeysAndAttributes>;
}

interface CountedOutput {
  readonly ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
}

function reportedUnits(capacity: ConsumedCapacity | ConsumedCapacity[] | undefined): number {
  if (capacity === undefined) return 0;
  const list = Array.isArray(capacity) ? capacity : [capacity];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** DynamoDB's size of one value (AWS docs, "Item sizes and formats"). */
function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
    return Math.ceil(digits.length / 2) + 1;
  }
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + utf8(s), 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueBytes(v), 0);
  if (value.M !== undefined) return 3 + itemBytes(value.M);
  return 1;
}

export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + valueBytes(value);
  return bytes;
}

/** An update's size: the key plus the names and values it sets (a lower bound of the item). */
function updateBytes(input: {
  readonly Key?: Record<string, AttributeValue>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly ExpressionAttributeNames?: Record<string, string>;
}): number {
  let bytes = input.Key === undefined ? 0 : itemBytes(input.Key);
  for (const value of Object.values(input.ExpressionAttributeValues ?? {}))
    bytes += valueBytes(value);
  for (const name of Object.values(input.ExpressionAttributeNames ?? {})) bytes += utf8(name);
  return bytes;
}

const units = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** Write units AWS bills for `input` (0 for reads and control-plane calls). */
export function writeUnitsOf(command: string, input: CountedInput): number {
  switch (command) {
    case 'PutItemCommand':
      return units(itemBytes(input.Item ?? {}));
    case 'UpdateItemCommand':
      return units(updateBytes(input));
    case 'DeleteItemCommand':
      return units(itemBytes(input.Key ?? {}));
    case 'BatchWriteItemCommand':
      return Object.values(input.RequestItems ?? {})
        .filter((requests): requests is WriteRequests => Array.isArray(requests))
        .flat()
        .reduce((n, r) => n + units(itemBytes(r.PutRequest?.Item ?? {})), 0);
    case 'TransactWriteItemsCommand':
      return (input.TransactItems ?? []).reduce((n, item) => {
        if (item.Put !== undefined) return n + 2 * units(itemBytes(item.Put.Item ?? {}));
        if (item.Update !== undefined) return n + 2 * units(updateBytes(item.Update));
        if (item.Delete !== undefined) return n + 2 * units(itemBytes(item.Delete.Key ?? {}));
        if (item.ConditionCheck !== undefined)
          return n + 2 * units(itemBytes(item.ConditionCheck.Key ?? {}));
        return n;
      }, 0);
    default:
      return 0;
  }
}

/** The partition key value a read touches: the first string in its key or key condition. */
export function partitionOf(command: string, input: CountedInput): string {
  const values =
    command === 'GetItemCommand'
      ? input.Key
      : command === 'QueryCommand'
        ? input.ExpressionAttributeValues
        : undefined;
  for (const value of Object.values(values ?? {})) if (value.S !== undefined) return value.S;
  return '';
}

/** What AWS bills a read at least: 0.5 unit eventually consistent, 1 strongly consistent. */
export function minimumReadUnits(input: CountedInput): number {
  return input.ConsistentRead === true ? 1 : 0.5;
}

/** A key's partition: the event log's `channel`, else (another table) its first string. */
function keyPartition(key: Record<string, AttributeValue>): string {
  const named = key[TABLE_KEYS.partition]?.S;
  if (named !== undefined) return named;
  for (const value of Object.values(key)) if (value.S !== undefined) return value.S;
  return '';
}

/**
 * A BatchGetItem's minimum read units per partition: AWS bills each key as a GetItem of
 * its own (0.5 eventually consistent, 1 strongly consistent, per table). `undefined` for
 * every other command.
 */
export function batchReadUnits(
  command: string,
  input: CountedInput,
): Record<string, number> | undefined {
  if (command !== 'BatchGetItemCommand') return undefined;
  const units: Record<string, number> = {};
  for (const entry of Object.values(input.RequestItems ?? {})) {
    if (Array.isArray(entry)) continue;
    const { Keys: keys = [], ConsistentRead: consistent } = entry as KeysAndAttributes;
    for (const key of keys) {
      const partition = keyPartition(key);
      units[partition] = (units[partition] ?? 0) + (consistent === true ? 1 : 0.5);
    }
  }
  return units;
}

/** Where a successful read is counted: its partition, or (BatchGetItem) its several. */
export class ReadTally {
  readonly #byPartition = new Map<string, PartitionReads>();
  readonly #multiPartition: MultiPartitionRead[] = [];

  /**
   * One read of `command`; `reportedUnits` is what DynamoDB said it consumed, if asked.
   * Returns the units billed: at least AWS's minimum for the request.
   */
  record(command: string, input: CountedInput, reportedUnits = 0): number {
    const batch = batchReadUnits(command, input);
    if (batch !== undefined) {
      this.#multiPartition.push({ units: batch });
      const minimum = Object.values(batch).reduce((n, u) => n + u, 0);
      return Math.max(reportedUnits, minimum);
    }
    const billed = Math.max(reportedUnits, minimumReadUnits(input));
    const key = partitionOf(command, input);
    const partition = this.#byPartition.get(key) ?? { reads: 0, readUnits: 0 };
    partition.reads += 1;
    partition.readUnits += billed;
    this.#byPartition.set(key, partition);
    return billed;
  }

  snapshot(): Pick<DynamoDBCounts, 'byPartition' | 'multiPartition'> {
    const byPartition: Record<string, PartitionReads> = {};
    for (const [key, p] of this.#byPartition) byPartition[key] = { ...p };
    return { byPartition, multiPartition: [...this.#multiPartition] };
  }
}

/** Installs the counting middleware on `client`. */
export function countDynamoDB(client: DynamoDBClient): DynamoDBCounter {
  const byCommand = new Map<string, CommandCount>();
  const partitions = new ReadTally();
  const entry = (name: string): CommandCount => {
    let count = byCommand.get(name);
    if (count === undefined) {
      count = { requests: 0, failures: 0, readUnits: 0, writeUnits: 0, failedWriteUnits: 0 };
      byCommand.set(name, count);
    }
    return count;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      const count = entry(name);
      count.requests += 1;
      const input = args.input as CountedInput;
      const request = CAPACITY_COMMANDS.has(name)
        ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } }
        : args;
      const writeUnits = writeUnitsOf(name, input);
      try {
        const result = await next(request);
        count.writeUnits += writeUnits;
        if (READ_COMMANDS.has(name)) {
          const reported = reportedUnits((result.output as CountedOutput).ConsumedCapacity);
          count.readUnits += partitions.record(name, input, reported);
        }
        return result;
      } catch (error) {
        count.failures += 1;
        count.failedWriteUnits += writeUnits;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchDynamoDBCounter' },
  );

  return {
    snapshot: () => {
      const commands: Record<string, CommandCount> = {};
      let reads = 0;
      let readUnits = 0;
      let writeUnits = 0;
      for (const [name, count] of byCommand) {
        commands[name] = { ...count };
        if (READ_COMMANDS.has(name)) reads += count.requests;
        readUnits += count.readUnits;
        writeUnits += count.writeUnits;
      }
      return { byCommand: commands, ...partitions.snapshot(), reads, readUnits, writeUnits };
    },
  };
}

/** `after - before` of each entry's `fields`; an entry that is new in `after` counts from 0. */
function diffEntries<K extends string>(
  before: Readonly<Record<string, Readonly<Record<K, number>>>>,
  after: Readonly<Record<string, Readonly<Record<K, number>>>>,
  fields: readonly K[],
): Record<string, Record<K, number>> {
  const diff: Record<string, Record<K, number>> = {};
  for (const [key, a] of Object.entries(after)) {
    const b = before[key];
    const entry = Object.fromEntries(fields.map((f) => [f, a[f] - (b?.[f] ?? 0)]));
    diff[key] = entry as Record<K, number>;
  }
  return diff;
}

const COMMAND_FIELDS = [
  'requests',
  'failures',
  'readUnits',
  'writeUnits',
  'failedWriteUnits',
] as const satisfies readonly (keyof CommandCount)[];
const PARTITION_FIELDS = [
  'reads',
  'readUnits',
] as const satisfies readonly (keyof PartitionReads)[];

/**
 * `after - before`, command by command and partition by partition; the multi-partition
 * reads are a log, so the difference is what `after` holds beyond `before`'s length.
 */
export function diffCounts(before: DynamoDBCounts, after: DynamoDBCounts): DynamoDBCounts {
  return {
    byCommand: diffEntries(before.byCommand, after.byCommand, COMMAND_FIELDS),
    byPartition: diffEntries(before.byPartition, after.byPartition, PARTITION_FIELDS),
    multiPartition: after.multiPartition.slice(before.multiPartition.length),
    reads: after.reads - before.reads,
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
  };
}

export function requestsOf(counts: DynamoDBCounts, command: string): number {
  return counts.byCommand[`${command}Command`]?.requests ?? 0;
}

/**
 * Reads (and their units) of the partitions `select` picks. A multi-partition read is one
 * read if any of its partitions is picked, with the units of the picked ones only.
 */
export function readsWhere(
  counts: DynamoDBCounts,
  select: (partition: string) => boolean,
): PartitionReads {
  let reads = 0;
  let readUnits = 0;
  for (const [key, p] of Object.entries(counts.byPartition)) {
    if (!select(key)) continue;
    reads += p.reads;
    readUnits += p.readUnits;
  }
  for (const read of counts.multiPartition) {
    const picked = Object.entries(read.units).filter(([key]) => select(key));
    if (picked.length === 0) continue;
    reads += 1;
    readUnits += picked.reduce((n, [, units]) => n + units, 0);
  }
  return { reads, readUnits };
}
