/**
 * How an append is cut into `TransactWriteItems` calls that stay within DynamoDB's
 * limits on items and bytes per transaction.
 */
import type { NewEvent } from '../../core/event-log.js';

/**
 * DynamoDB allows 100 items per transaction; each event takes two (the event and its
 * dedupe marker) and the head one more: 1 + 2 × 49 = 99.
 */
export const MAX_EVENTS_PER_TRANSACTION = 49;

/**
 * DynamoDB refuses a transaction whose items add up to more than 4 MiB (4,194,304
 * bytes). Our estimate of an item's size is never below its real size (see
 * {@link estimateBytes}), and this budget leaves ~190 KB spare on top.
 */
export const TRANSACTION_BYTE_BUDGET = 4_000_000;

/** Per-item slack in size estimates, for DynamoDB's own per-item and per-attribute overhead. */
const ITEM_OVERHEAD_BYTES = 100;

/** A DynamoDB number takes at most 21 bytes; ours are positions and epoch times. */
const NUMBER_BYTES = 21;

/** One distinct event of an append, with its index among the append's distinct events. */
export interface Unique {
  readonly index: number;
  readonly event: NewEvent;
}

/**
 * Splits an append's distinct events into transactions within DynamoDB's limits:
 * at most {@link MAX_EVENTS_PER_TRANSACTION} events and {@link TRANSACTION_BYTE_BUDGET}
 * bytes. An event too large for any transaction still gets a chunk of its own, so
 * DynamoDB's error (not a silent drop) reports it.
 */
export function chunkUniques(channel: string, uniques: readonly Unique[]): Unique[][] {
  const headBytes = estimateBytes(channel) + 2 * NUMBER_BYTES + 64 + ITEM_OVERHEAD_BYTES;
  const chunks: Unique[][] = [];
  let chunk: Unique[] = [];
  let bytes = headBytes;
  for (const unique of uniques) {
    const size = eventBytes(channel, unique.event);
    if (
      chunk.length > 0 &&
      (chunk.length >= MAX_EVENTS_PER_TRANSACTION || bytes + size > TRANSACTION_BYTE_BUDGET)
    ) {
      chunks.push(chunk);
      chunk = [];
      bytes = headBytes;
    }
    chunk.push(unique);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Upper bound of what one event adds to a transaction: its item plus its dedupe marker. */
function eventBytes(channel: string, event: NewEvent): number {
  const channelBytes = estimateBytes(channel);
  const eventItem =
    channelBytes +
    estimateBytes(event.event) +
    estimateBytes(event.data) +
    4 * NUMBER_BYTES +
    40 + // attribute names: channel, position, event, data, time, expiresAt, ttl
    ITEM_OVERHEAD_BYTES;
  const marker =
    channelBytes +
    1 +
    estimateBytes(event.dedupeKey) +
    4 * NUMBER_BYTES +
    24 + // appendId
    49 + // attribute names: channel, position, target, expiresAt, ttl, appendId
    ITEM_OVERHEAD_BYTES;
  return eventItem + marker;
}

/**
 * Bytes a string takes, rounded up: its JSON-escaped UTF-8 length. DynamoDB counts the
 * plain UTF-8 length, which is never more; the escaped length also bounds what the
 * string adds to the request body.
 */
function estimateBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}
