/**
 * The /proc parsers the Web Function bench reads the server's CPU and memory with: a
 * wrong field index or unit would silently scale every CPU-second or GB-second figure.
 */
import { describe, expect, it } from 'vitest';
import { parseProcStat, parseVmRssBytes, sampleProcess } from '../../../bench/lib/proc-stats.js';

// A real line's shape: pid, (comm), state, then fields 4… (utime = 14th, stime = 15th).
const STAT =
  '4242 (node) S 1 4242 4242 0 -1 4194560 9000 0 12 0 1234 567 0 0 20 0 11 0 100 1000 2000';

describe('parseProcStat', () => {
  it('reads utime and stime (fields 14 and 15)', () => {
    expect(parseProcStat(STAT)).toEqual({ utime: 1234, stime: 567 });
  });

  it('counts fields from the last ")", so a command name with spaces and ")" does not shift them', () => {
    const odd = STAT.replace('(node)', '(my (odd) node)');
    expect(parseProcStat(odd)).toEqual({ utime: 1234, stime: 567 });
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow(/stat/);
    expect(() => parseProcStat('1 (x) S 1 2')).toThrow(/utime/);
  });
});

describe('parseVmRssBytes', () => {
  it('turns the kB figure into bytes (the kernel means KiB)', () => {
    const status = 'Name:\tnode\nVmPeak:\t  999999 kB\nVmRSS:\t   71234 kB\nRssAnon:\t 50000 kB\n';
    expect(parseVmRssBytes(status)).toBe(71234 * 1024);
  });

  it('refuses a status without VmRSS (a zombie, or not Linux)', () => {
    expect(() => parseVmRssBytes('Name:\tnode\nState:\tZ (zombie)\n')).toThrow(/VmRSS/);
  });
});

describe('sampleProcess', () => {
  it('sees this process burn CPU and hold memory', () => {
    const before = sampleProcess(process.pid);
    const until = Date.now() + 150;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const after = sampleProcess(process.pid);
    expect(x).toBeGreaterThan(0);
    // 150 ms of busy loop, measured in clock ticks of 10 ms: at least a few ticks.
    expect(after.cpuSeconds - before.cpuSeconds).toBeGreaterThanOrEqual(0.05);
    expect(after.cpuSeconds - before.cpuSeconds).toBeLessThan(5);
    const rss = process.memoryUsage().rss;
    expect(after.rssBytes).toBeGreaterThan(rss / 2);
    expect(after.rssBytes).toBeLessThan(rss * 2);
  });
});
