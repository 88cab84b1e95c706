import { describe, expect, it } from 'vitest';
import { OutboxIds } from '../../../../local/sns/outbox-ids.js';

describe('Class: OutboxIds', () => {
  it('sorts in creation order even when the clock stands still or steps back', () => {
    let now = 5_000;
    const gen = new OutboxIds(
      () => now,
      () => 'u',
    );
    const made = [gen.next(), gen.next()];
    now = 4_000;
    made.push(gen.next());
    now = 6_000;
    made.push(gen.next());
    const sorted = [...made].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(sorted).toEqual(made);
    expect(made.map((m) => m.sequenceNumber)).toEqual([
      '00000000005000000000',
      '00000000005000000001',
      '00000000005000000002',
      '00000000006000000000',
    ]);
  });

  it('never goes below an observed id (a leftover of the last run)', () => {
    const gen = new OutboxIds(
      () => 1_000,
      () => 'u',
    );
    gen.observe('000000000002000-000007-x');
    expect(gen.next().id).toBe('000000000002000-000008-u');
  });
});
