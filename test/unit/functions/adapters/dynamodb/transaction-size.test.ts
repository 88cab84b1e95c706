import { describe, expect, it } from 'vitest';
import {
  chunkUniques,
  MAX_EVENTS_PER_TRANSACTION,
  type Unique,
} from '../../../../../functions/adapters/dynamodb/transaction-size.js';

function uniques(data: readonly string[]): Unique[] {
  return data.map((d, index) => ({
    index,
    event: { event: 'message', data: d, dedupeKey: `k${index}` },
  }));
}

function sizes(chunks: readonly (readonly Unique[])[]): number[] {
  return chunks.map((chunk) => chunk.length);
}

describe('Function: chunkUniques', () => {
  it('makes no chunk of nothing', () => {
    expect(chunkUniques('c', [])).toEqual([]);
  });

  it('cuts small events into chunks of at most MAX_EVENTS_PER_TRANSACTION, keeping their order', () => {
    const all = uniques(Array.from({ length: 100 }, (_, i) => `e${i}`));
    const chunks = chunkUniques('c', all);
    expect(MAX_EVENTS_PER_TRANSACTION).toBe(49);
    expect(sizes(chunks)).toEqual([49, 49, 2]);
    expect(chunks.flat()).toEqual(all);
  });

  it('counts UTF-8 bytes, not characters, against the byte budget', () => {
    // 500,000 two-byte characters: about 1 MB per event, so three fit under 4 MB.
    const all = uniques(Array.from({ length: 10 }, () => 'é'.repeat(500_000)));
    expect(sizes(chunkUniques('c', all))).toEqual([3, 3, 3, 1]);
  });

  it('gives an event too large for any transaction a chunk of its own', () => {
    const all = uniques(['small', 'x'.repeat(5_000_000), 'small too']);
    expect(chunkUniques('c', all).map((chunk) => chunk.map((u) => u.index))).toEqual([
      [0],
      [1],
      [2],
    ]);
  });
});
