/**
 * The second comparison server: nginx with the nchan module (Debian's
 * `libnginx-mod-nchan`), a C pub/sub server that keeps recent messages in shared memory
 * and pushes them to EventSource subscribers. No durability beyond nginx's memory, no
 * cursors the product's way (its ids are its own), so it is the "how fast can a push
 * server be" mark beside better-sse.
 *
 * One nginx master with one worker process (the product and better-sse each run on one
 * Node thread), configured in a temporary folder:
 * - `GET /events?channel=A`: an nchan EventSource subscriber of channel A, from the
 *   newest message on, with a comment ping every 15 s (the product's heartbeat);
 * - `POST /pub?channel=A`: nchan's publisher;
 * - `POST /sns`: proxied to a small Node endpoint in the bench process that parses SNS
 *   `Publish` / `PublishBatch` (bench/lib/sns-endpoint.ts) and posts each message to
 *   `/pub`, so the bench's publisher is the same SDK call for every server.
 * nchan sends no `stream.open`: a subscriber counts as connected when its 200 arrives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../local/defaults.js';
import { watchChild } from './lib/child-exit.js';
import { freePort } from './lib/free-port.js';
import { type ProcessSample, sampleProcess } from './lib/proc-stats.js';
import { handleSnsRequest, type SnsMessage } from './lib/sns-endpoint.js';
import { sleep } from './lib/stats.js';

export interface NchanInstall {
  readonly nginx: string;
  readonly module: string;
}

const NGINX_CANDIDATES = [
  '/usr/sbin/nginx',
  '/usr/local/sbin/nginx',
  '/usr/local/nginx/sbin/nginx',
];
const MODULE_CANDIDATES = [
  '/usr/lib/nginx/modules/ngx_nchan_module.so',
  '/usr/local/lib/nginx/modules/ngx_nchan_module.so',
];
/** The product's default heartbeat, so idle CPU compares like with like. */
export const NCHAN_PING_SECONDS = 15;

/** Where nginx and the nchan module are, or why the nchan rows cannot be measured. */
export function findNchan(): NchanInstall | { readonly missing: string } {
  const nginx = NGINX_CANDIDATES.find((path) => existsSync(path));
  const module = MODULE_CANDIDATES.find((path) => existsSync(path));
  if (nginx === undefined) {
    return { missing: 'nginx is not installed (apt-get install libnginx-mod-nchan)' };
  }
  if (module === undefined) {
    return { missing: 'the nchan module is not installed (apt-get install libnginx-mod-nchan)' };
  }
  return { nginx, module };
}

export interface NchanConfigOptions {
  readonly module: string;
  /** Folder for the pid file, logs and nginx's temporary files. */
  readonly dir: string;
  readonly port: number;
  /** The bench's SNS endpoint, which `/sns` is proxied to. */
  readonly snsPort: number;
  /** nginx started as root drops its worker to `nobody` unless told otherwise. */
  readonly runAsRoot: boolean;
}

/** The whole nginx.conf. */
export function nchanConfig(o: NchanConfigOptions): string {
  const path = (name: string): string => join(o.dir, name);
  return `load_module ${o.module};
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
${o.runAsRoot ? 'user root;\n' : ''}pid ${path('nginx.pid')};
error_log ${path('error.log')} warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${path('body')};
  proxy_temp_path ${path('proxy')};
  fastcgi_temp_path ${path('fastcgi')};
  uwsgi_temp_path ${path('uwsgi')};
  scgi_temp_path ${path('scgi')};
  client_body_buffer_size 1m;
  client_max_body_size 1m;
  upstream sns { server 127.0.0.1:${o.snsPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${o.port} backlog=4096;
    location = /events {
      nchan_subscriber eventsource;
      nchan_channel_id $arg_channel;
      nchan_subscriber_first_message newest;
      nchan_eventsource_ping_interval ${NCHAN_PING_SECONDS};
    }
    location = /pub {
      allow 127.0.0.1;
      deny all;
      nchan_publisher;
      nchan_channel_id $arg_channel;
      nchan_message_buffer_length 1000;
      nchan_message_timeout 10m;
    }
    location /sns {
      proxy_pass http://sns;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location = /ready { return 204; }
  }
}
`;
}

export interface NchanServer {
  readonly url: string;
  readonly topicArn: string;
  /** The master's pid. */
  readonly pid: number;
  /** CPU of the master and its workers together, RSS likewise. */
  sample(): ProcessSample;
  /** The shape the fan-out bench reads a server's CPU in (µs). */
  stats(): Promise<{ readonly cpu: NodeJS.CpuUsage }>;
  stop(): Promise<void>;
}

/** The worker processes of an nginx master (Linux lists a task's children in /proc). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function ready(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/ready`, { timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 204);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startNchanServer(install: NchanInstall): Promise<NchanServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-bench-nchan-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const post = (message: SnsMessage): Promise<boolean> =>
    new Promise((resolve) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (message.event !== 'message') headers['x-eventsource-event'] = message.event;
      const req = request(
        `${url}/pub?channel=${encodeURIComponent(message.channel)}`,
        { method: 'POST', agent, headers },
        (res) => {
          res.resume();
          resolve(res.statusCode === 201 || res.statusCode === 202);
        },
      );
      req.on('error', () => resolve(false));
      req.end(message.data);
    });
  const sns = createServer((req, res) => {
    handleSnsRequest(req, res, post).catch(() => res.destroy());
  });
  const snsPort = await freePort();
  await new Promise<void>((resolve) => sns.listen(snsPort, '127.0.0.1', resolve));

  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    nchanConfig({
      module: install.module,
      dir,
      port,
      snsPort,
      runAsRoot: process.getuid?.() === 0,
    }),
  );
  const child: ChildProcess = spawn(
    install.nginx,
    ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('nginx did not start');
  const { exited, exitCode } = watchChild(child);
  const cleanUp = (): void => {
    agent.destroy();
    sns.close();
    sns.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  while (!(await ready(url))) {
    if (exitCode() !== undefined || Date.now() > deadline) {
      const log = existsSync(join(dir, 'error.log'))
        ? readFileSync(join(dir, 'error.log'), 'utf8').slice(-2_000)
        : '';
      child.kill('SIGKILL');
      cleanUp();
      throw new Error(`nginx with nchan did not start (exit ${exitCode() ?? 'none'}): ${log}`);
    }
    await sleep(50);
  }

  const sample = (): ProcessSample => {
    const samples = [pid, ...childPids(pid)].map((p) => sampleProcess(p));
    return {
      cpuSeconds: samples.reduce((n, s) => n + s.cpuSeconds, 0),
      rssBytes: samples.reduce((n, s) => n + s.rssBytes, 0),
      at: Date.now(),
    };
  };
  let stopping: Promise<void> | undefined;
  return {
    url,
    topicArn: DEFAULT_LOCAL_TOPIC_ARN,
    pid,
    sample,
    stats: async () => ({ cpu: { user: Math.round(sample().cpuSeconds * 1e6), system: 0 } }),
    stop: () => {
      stopping ??= (async () => {
        // SIGTERM is nginx's fast shutdown: open streams are closed at once.
        if (exitCode() === undefined) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        cleanUp();
      })();
      return stopping;
    },
  };
}
