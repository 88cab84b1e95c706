/**
 * What the bench measures of nginx with nchan besides the shared latency and fan-out
 * cases: the version installed, and an idle window of per-user channels (the deployed
 * path's idle case), nginx's CPU and RSS from /proc per connection-hour. nchan has no
 * event log, so it has no reads to count.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { LatencyResult } from './latency.js';
import { round, sleep } from './lib/stats.js';
import { closeSubscribers, connectSubscribers } from './lib/subscribers.js';
import type { NchanInstall, NchanServer } from './nchan-server.js';

export interface NchanIdle {
  readonly connections: number;
  readonly channels: number;
  /** Connections whose 200 arrived before the window. */
  readonly opened: number;
  readonly seconds: number;
  /** nginx master and worker together. */
  readonly cpuSeconds: number;
  readonly cpuSecondsPerConnectionHour: number;
  /** As a share of one core over the window. */
  readonly cpuShare: number;
  readonly rssBeforeBytes: number;
  readonly rssBytes: number;
  readonly rssPerConnectionBytes: number;
  readonly load: readonly number[];
}

export interface NchanResult {
  /** The Debian package's version and nginx's, or 'unknown'. */
  readonly version: string;
  /** Why nchan was not measured (not installed, or it did not start). */
  readonly missing?: string;
  /** The deployed path's latency cases, as the Web Function runs them (25 events/s). */
  readonly deployedPath?: readonly LatencyResult[];
  readonly idle?: NchanIdle;
}

/** Lets the connects' own work settle before the window, as for the Web Function. */
const WARM_MS = 3_000;
const HOUR = 3_600;

/** What a command printed (stdout, else stderr), or `undefined` when it could not run. */
function printed(command: string, args: readonly string[]): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) return undefined;
  const text = run.stdout.trim() === '' ? run.stderr.trim() : run.stdout.trim();
  return text === '' ? undefined : text;
}

/** e.g. `libnginx-mod-nchan 1:1.3.6+dfsg-2, nginx/1.22.1`; 'unknown' if neither says. */
export function nchanVersion(install: NchanInstall): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax.
  const pkg = printed('dpkg-query', ['-W', '-f', '${Version}', 'libnginx-mod-nchan']);
  // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
  const nginx = printed(install.nginx, ['-v'])?.match(/nginx\/\S+/)?.[0];
  const parts = [pkg === undefined ? undefined : `libnginx-mod-nchan ${pkg}`, nginx];
  const known = parts.filter((x): x is string => x !== undefined);
  return known.length === 0 ? 'unknown' : known.join(', ');
}

/** `connections` EventSource subscribers, each on its own channel, idle for `seconds`. */
export async function measureNchanIdle(
  server: NchanServer,
  connections: number,
  seconds: number,
  prefix: string,
): Promise<NchanIdle> {
  const before = server.sample();
  const subscribers = await connectSubscribers({
    baseUrl: server.url,
    count: connections,
    channelsOf: (i) => [`${prefix}-${i}`],
    onEvent: () => {},
    openedBy: 'status',
  });
  try {
    const opened = subscribers.filter((s) => s.opened).length;
    await sleep(WARM_MS);
    const start = server.sample();
    await sleep(seconds * 1000);
    const end = server.sample();
    const elapsed = (end.at - start.at) / 1000;
    const cpuSeconds = end.cpuSeconds - start.cpuSeconds;
    return {
      connections,
      channels: connections,
      opened,
      seconds: elapsed,
      cpuSeconds,
      cpuSecondsPerConnectionHour: (cpuSeconds / elapsed / connections) * HOUR,
      cpuShare: cpuSeconds / elapsed,
      rssBeforeBytes: before.rssBytes,
      rssBytes: end.rssBytes,
      rssPerConnectionBytes: (end.rssBytes - before.rssBytes) / connections,
      load: loadavg().map((l) => round(l, 2)),
    };
  } finally {
    closeSubscribers(subscribers);
  }
}
