/**
 * The nginx.conf of the nchan comparison server: a wrong location, channel or worker
 * count would compare the product with a different server than the report says.
 */
import { describe, expect, it } from 'vitest';
import { NCHAN_PING_SECONDS, nchanConfig } from '../../../bench/nchan-server.js';

const options = {
  module: '/usr/lib/nginx/modules/ngx_nchan_module.so',
  dir: '/tmp/nchan-test',
  port: 8123,
  snsPort: 9123,
  runAsRoot: false,
};

/** The body of `location <match> { … }` (locations here hold no nested braces). */
function location(conf: string, match: string): string {
  const start = conf.indexOf(`location ${match} {`);
  if (start < 0) throw new Error(`no location ${match}`);
  return conf.slice(start, conf.indexOf('}', start));
}

describe('nchanConfig', () => {
  const conf = nchanConfig(options);

  it('loads the module and runs one worker in the foreground, files in its folder', () => {
    expect(conf.startsWith(`load_module ${options.module};`)).toBe(true);
    expect(conf).toMatch(/^worker_processes 1;$/m);
    expect(conf).toMatch(/^daemon off;$/m);
    expect(conf).toContain('pid /tmp/nchan-test/nginx.pid;');
    expect(conf).toContain('listen 127.0.0.1:8123');
  });

  it('subscribes EventSource clients to the channel of the query, from the newest message, with pings', () => {
    const events = location(conf, '= /events');
    expect(events).toContain('nchan_subscriber eventsource;');
    expect(events).toContain('nchan_channel_id $arg_channel;');
    expect(events).toContain('nchan_subscriber_first_message newest;');
    expect(events).toContain(`nchan_eventsource_ping_interval ${NCHAN_PING_SECONDS};`);
  });

  it('publishes to the channel of the query, from this host only', () => {
    const pub = location(conf, '= /pub');
    expect(pub).toContain('nchan_publisher;');
    expect(pub).toContain('nchan_channel_id $arg_channel;');
    expect(pub).toContain('allow 127.0.0.1;');
    expect(pub).toContain('deny all;');
  });

  it('passes /sns to the bench endpoint', () => {
    expect(conf).toContain('upstream sns { server 127.0.0.1:9123;');
    expect(location(conf, '/sns')).toContain('proxy_pass http://sns;');
  });

  it('says `user root` only when asked', () => {
    expect(conf).not.toMatch(/^user /m);
    expect(nchanConfig({ ...options, runAsRoot: true })).toMatch(/^user root;$/m);
  });
});
