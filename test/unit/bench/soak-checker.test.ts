/**
 * The soak checker (bench/soak-checker.ts) on traces recorded by `npm run soak`
 * (test/fixtures/soak-trace.json: 2 channels, 10 subscribers of every kind, random drops
 * and stream rotations), and on copies of it with one planted fault each. Whatever the
 * soak runs into, the checker must tell a clean run from a lost, duplicated or reordered
 * event.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkSoakTrace,
  formatSoakReport,
  parseSoakTrace,
  type SoakReport,
  type SoakTrace,
  type ViolationKind,
} from '../../../bench/soak-checker.js';

function fixture(name: string): SoakTrace {
  return parseSoakTrace(
    JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')),
  );
}

/** Every violation kind that was counted, with its count. */
function counted(report: SoakReport): Partial<Record<ViolationKind, number>> {
  return Object.fromEntries(Object.entries(report.violationCounts).filter(([, n]) => n > 0));
}

/** A deep copy with the received list of one subscriber's channel replaced. */
function withReceived(
  trace: SoakTrace,
  subscriber: string,
  channel: string,
  edit: (received: number[]) => number[],
): SoakTrace {
  return {
    ...trace,
    subscribers: trace.subscribers.map((s) =>
      s.id !== subscriber
        ? s
        : { ...s, received: { ...s.received, [channel]: edit([...(s.received[channel] ?? [])]) } },
    ),
  };
}

function withLog(trace: SoakTrace, channel: string, edit: (log: number[]) => number[]): SoakTrace {
  return {
    ...trace,
    channels: trace.channels.map((c) => (c.name !== channel ? c : { ...c, log: edit([...c.log]) })),
  };
}

describe('Feature: the soak checker proves exactly-once, in-order delivery', () => {
  const clean = fixture('soak-trace.json');

  describe('Scenario: a clean recorded trace', () => {
    it('passes and counts every delivery', () => {
      const report = checkSoakTrace(clean);
      expect(counted(report)).toEqual({});
      expect(report.ok).toBe(true);
      expect(report).toMatchObject({
        channels: 2,
        subscribers: 10,
        eventsPublished: 120,
        eventsStored: 120,
        expectedDeliveries: 780,
        deliveries: 780,
      });
      // The recording did exercise reconnects: drops and server-side rotations.
      expect(report.drops).toBeGreaterThan(0);
      expect(report.rotations).toBeGreaterThan(0);
      expect(formatSoakReport(report)).toContain('soak check: PASSED');
    });
  });

  describe('Scenario: recorded traces with one planted fault each', () => {
    it('catches the planted loss, and nothing else', () => {
      const report = checkSoakTrace(fixture('soak-trace-loss.json'));
      expect(report.ok).toBe(false);
      expect(counted(report)).toEqual({ loss: 1 });
      expect(report.violations).toEqual([
        expect.objectContaining({ kind: 'loss', subscriber: 'sse-4', channel: 'soak-0', seq: 37 }),
      ]);
      expect(report.deliveries).toBe(779);
      expect(formatSoakReport(report)).toContain('soak check: FAILED');
    });

    it('catches the planted duplicate, and nothing else', () => {
      const report = checkSoakTrace(fixture('soak-trace-duplicate.json'));
      expect(report.ok).toBe(false);
      expect(counted(report)).toEqual({ duplicate: 1 });
      expect(report.violations).toEqual([
        expect.objectContaining({
          kind: 'duplicate',
          subscriber: 'eventsource-7',
          channel: 'soak-1',
          seq: 21,
        }),
      ]);
    });

    it('catches the planted reorder, and nothing else', () => {
      const report = checkSoakTrace(fixture('soak-trace-reorder.json'));
      expect(report.ok).toBe(false);
      expect(counted(report)).toEqual({ reorder: 1 });
      expect(report.violations).toEqual([
        expect.objectContaining({
          kind: 'reorder',
          subscriber: 'sse-1',
          channel: 'soak-1',
          seq: 40,
        }),
      ]);
    });
  });

  describe('Scenario: other faults planted in the clean trace', () => {
    it('a duplicate far from the original (a replay after a reconnect) is a duplicate, not a reorder', () => {
      const trace = withReceived(clean, 'sse-0', 'soak-0', (r) => [
        ...r.slice(0, 30),
        12,
        ...r.slice(30),
      ]);
      expect(counted(checkSoakTrace(trace))).toEqual({ duplicate: 1 });
    });

    it('the log itself: an acknowledged event never stored is a log loss, even if every subscriber agrees', () => {
      let trace = withLog(clean, 'soak-1', (log) => log.filter((s) => s !== 10));
      for (const s of clean.subscribers.filter((x) => x.channels.includes('soak-1'))) {
        trace = withReceived(trace, s.id, 'soak-1', (r) => r.filter((seq) => seq !== 10));
      }
      expect(counted(checkSoakTrace(trace))).toEqual({ 'log-loss': 1 });
    });

    it('an unacknowledged publish may be missing from the log', () => {
      let trace = withLog(clean, 'soak-1', (log) => log.filter((s) => s !== 10));
      for (const s of clean.subscribers.filter((x) => x.channels.includes('soak-1'))) {
        trace = withReceived(trace, s.id, 'soak-1', (r) => r.filter((seq) => seq !== 10));
      }
      trace = {
        ...trace,
        channels: trace.channels.map((c) =>
          c.name === 'soak-1' ? { ...c, unacknowledged: [10] } : c,
        ),
      };
      expect(checkSoakTrace(trace).ok).toBe(true);
    });

    it('an event stored twice is a log duplicate', () => {
      const trace = withLog(clean, 'soak-0', (log) => [...log, 5]);
      expect(checkSoakTrace(trace).violationCounts['log-duplicate']).toBe(1);
    });

    it('an event nobody published, a stream.reset and a mislabelled event are each caught', () => {
      const foreign = withReceived(clean, 'sse-2', 'soak-0', (r) => [...r, 999]);
      expect(counted(checkSoakTrace(foreign))).toEqual({ foreign: 1 });
      const reset: SoakTrace = {
        ...clean,
        subscribers: clean.subscribers.map((s) => (s.id === 'sse-3' ? { ...s, resets: 1 } : s)),
      };
      expect(counted(checkSoakTrace(reset))).toEqual({ reset: 1 });
      const mislabelled: SoakTrace = {
        ...clean,
        subscribers: clean.subscribers.map((s) =>
          s.id === 'sse-3' ? { ...s, mislabelled: 2 } : s,
        ),
      };
      expect(counted(checkSoakTrace(mislabelled))).toEqual({ mislabelled: 1 });
    });

    it('a subscriber that got nothing has lost every event of its channels', () => {
      const trace = withReceived(clean, 'poll-9', 'soak-0', () => []);
      expect(counted(checkSoakTrace(trace))).toEqual({ loss: 60 });
    });
  });

  describe('Rule: a subscriber passes exactly when it received its channel log, in order, once', () => {
    it('holds for any log and any received sequence', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 25 }).chain((log) =>
            fc.tuple(
              fc.constant(log),
              fc.oneof(
                // exactly the log, a permutation of it, or anything
                fc.constant([...log]),
                fc.shuffledSubarray(log, { minLength: log.length, maxLength: log.length }),
                fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }),
              ),
            ),
          ),
          ([log, received]) => {
            const trace: SoakTrace = {
              version: 1,
              meta: {},
              channels: [
                {
                  name: 'c',
                  published: 40,
                  unacknowledged: Array.from({ length: 40 }, (_, i) => i + 1),
                  log,
                },
              ],
              subscribers: [
                {
                  id: 's',
                  kind: 'sse',
                  channels: ['c'],
                  connections: 1,
                  drops: 0,
                  rotations: 0,
                  resets: 0,
                  mislabelled: 0,
                  received: { c: received },
                },
              ],
            };
            const same =
              received.length === log.length && received.every((seq, i) => seq === log[i]);
            expect(checkSoakTrace(trace).ok).toBe(same);
          },
        ),
      );
    });
  });

  it('refuses something that is not a soak trace', () => {
    expect(() => parseSoakTrace({ version: 2 })).toThrow(/not a soak trace/);
    expect(() => parseSoakTrace({ ...clean, subscribers: [{ id: 'x' }] })).toThrow(/subscriber/);
  });
});
