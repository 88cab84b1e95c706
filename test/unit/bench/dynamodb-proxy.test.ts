/**
 * The counting proxy in front of DynamoDB Local: it must pass requests and answers on
 * unchanged and count them by target and by the channel in the key, so that the Web
 * Function's reads are neither missed nor taken from other channels.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { diffCounts, readsWhere } from '../../../bench/lib/dynamodb-counter.js';
import {
  commandOfTarget,
  RequestTally,
  startCountingProxy,
} from '../../../bench/lib/dynamodb-proxy.js';

const query = (channel: string, consistent = false): string =>
  JSON.stringify({
    TableName: 't',
    KeyConditionExpression: '#pk = :channel AND #sk > :after',
    ExpressionAttributeValues: { ':channel': { S: channel }, ':after': { N: '0' } },
    ConsistentRead: consistent,
  });
const getItem = (channel: string): string =>
  JSON.stringify({
    TableName: 't',
    Key: { pk: { S: channel }, sk: { N: '0' } },
    ConsistentRead: true,
  });

describe('commandOfTarget', () => {
  it('names a target as the SDK names its command', () => {
    expect(commandOfTarget('DynamoDB_20120810.Query')).toBe('QueryCommand');
    expect(commandOfTarget('DynamoDB_20120810.GetItem')).toBe('GetItemCommand');
    expect(commandOfTarget(undefined)).toBe('unknown');
    expect(commandOfTarget('Other.Query')).toBe('unknown');
  });
});

describe('RequestTally', () => {
  it('counts reads per channel with AWS minimum units, and other requests per command only', () => {
    const tally = new RequestTally();
    tally.record('DynamoDB_20120810.Query', query('bench-1'), true);
    tally.record('DynamoDB_20120810.Query', query('bench-1', true), true);
    tally.record('DynamoDB_20120810.Query', query('other'), true);
    tally.record('DynamoDB_20120810.GetItem', getItem('bench-2'), true);
    tally.record('DynamoDB_20120810.TransactWriteItems', '{}', true);
    tally.record('DynamoDB_20120810.Query', query('bench-1'), false);
    const counts = tally.snapshot();
    expect(counts.byCommand.QueryCommand).toMatchObject({ requests: 4, failures: 1 });
    expect(counts.byCommand.GetItemCommand?.requests).toBe(1);
    expect(counts.byCommand.TransactWriteItemsCommand?.requests).toBe(1);
    // Reads are requests of read commands, failed ones included; units only for answered ones.
    expect(counts.reads).toBe(5);
    expect(readsWhere(counts, (c) => c.startsWith('bench-'))).toEqual({ reads: 3, readUnits: 2.5 });
    expect(counts.byPartition.other).toEqual({ reads: 1, readUnits: 0.5 });
  });

  it('takes a body that is not JSON as a read of no channel', () => {
    const tally = new RequestTally();
    tally.record('DynamoDB_20120810.Query', 'not json', true);
    expect(tally.snapshot().byPartition['']).toEqual({ reads: 1, readUnits: 0.5 });
  });
});

/** The safety sweep's request: the heads of `channels`, one key each, in one table. */
const batchGet = (channels: readonly string[], consistent?: boolean): string =>
  JSON.stringify({
    RequestItems: {
      t: {
        Keys: channels.map((c) => ({ channel: { S: c }, position: { N: '0' } })),
        ...(consistent === undefined ? {} : { ConsistentRead: consistent }),
      },
    },
  });

describe('RequestTally, BatchGetItem', () => {
  it('is one read of a set of channels if any key is one of them, at 0.5 unit per key of theirs', () => {
    const tally = new RequestTally();
    tally.record('DynamoDB_20120810.BatchGetItem', batchGet(['bench-1', 'bench-2', 'other']), true);
    const counts = tally.snapshot();
    expect(counts.byCommand.BatchGetItemCommand).toMatchObject({ requests: 1, readUnits: 1.5 });
    expect(counts.reads).toBe(1);
    expect(readsWhere(counts, (c) => c.startsWith('bench-'))).toEqual({ reads: 1, readUnits: 1 });
    expect(readsWhere(counts, (c) => c === 'other')).toEqual({ reads: 1, readUnits: 0.5 });
    expect(readsWhere(counts, (c) => c.startsWith('none-'))).toEqual({ reads: 0, readUnits: 0 });
  });

  it('counts a strongly consistent batch at 1 unit per key, and not a failed one', () => {
    const tally = new RequestTally();
    tally.record('DynamoDB_20120810.BatchGetItem', batchGet(['bench-1', 'bench-2'], true), true);
    tally.record('DynamoDB_20120810.BatchGetItem', batchGet(['bench-3']), false);
    expect(readsWhere(tally.snapshot(), (c) => c.startsWith('bench-'))).toEqual({
      reads: 1,
      readUnits: 2,
    });
  });

  it('adds to the reads of single-channel requests, and diffs as a log', () => {
    const tally = new RequestTally();
    tally.record('DynamoDB_20120810.Query', query('bench-1'), true);
    tally.record('DynamoDB_20120810.BatchGetItem', batchGet(['bench-1']), true);
    const before = tally.snapshot();
    const hundred = Array.from({ length: 100 }, (_, i) => `bench-${i}`);
    tally.record('DynamoDB_20120810.BatchGetItem', batchGet(hundred), true);
    tally.record('DynamoDB_20120810.Query', query('bench-1'), true);
    const mine = (c: string): boolean => c.startsWith('bench-');
    expect(readsWhere(before, mine)).toEqual({ reads: 2, readUnits: 1 });
    expect(readsWhere(diffCounts(before, tally.snapshot()), mine)).toEqual({
      reads: 2,
      readUnits: 50.5,
    });
  });
});

describe('startCountingProxy', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('forwards requests unchanged, returns the answers unchanged, and counts them', async () => {
    const seen: { target: string | undefined; body: string; host: string | undefined }[] = [];
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        const target = req.headers['x-amz-target'];
        seen.push({
          target: typeof target === 'string' ? target : undefined,
          body,
          host: req.headers.host,
        });
        res.writeHead(body.includes('fail') ? 400 : 200, { 'x-amz-crc32': '123' });
        res.end(`answer to ${body.length}`);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    closers.push(() => new Promise((resolve) => upstream.close(() => resolve())));
    const proxy = await startCountingProxy(upstreamUrl);
    closers.unshift(() => proxy.close());

    const send = (
      target: string,
      body: string,
    ): Promise<{ status: number; text: string; crc: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = request(`${proxy.endpoint}/`, {
          method: 'POST',
          headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () => {
            const crc = res.headers['x-amz-crc32'];
            resolve({
              status: res.statusCode ?? 0,
              text,
              crc: typeof crc === 'string' ? crc : undefined,
            });
          });
        });
        req.on('error', reject);
        req.end(body);
      });

    const body = query('bench-7');
    expect(await send('DynamoDB_20120810.Query', body)).toEqual({
      status: 200,
      text: `answer to ${body.length}`,
      crc: '123',
    });
    expect((await send('DynamoDB_20120810.GetItem', getItem('fail'))).status).toBe(400);
    expect(seen.map((s) => s.target)).toEqual([
      'DynamoDB_20120810.Query',
      'DynamoDB_20120810.GetItem',
    ]);
    expect(seen[0]?.body).toBe(body);
    expect(seen[0]?.host).toBe(new URL(upstreamUrl).host);

    expect(proxy.snapshot().byPartition['bench-7']).toEqual({ reads: 1, readUnits: 0.5 });
    expect(proxy.snapshot('QueryCommand').reads).toBe(1);
    expect(proxy.snapshot('GetItemCommand').byCommand.GetItemCommand).toMatchObject({
      requests: 1,
      failures: 1,
    });
    expect(proxy.snapshot('ScanCommand').reads).toBe(0);
  });
});
