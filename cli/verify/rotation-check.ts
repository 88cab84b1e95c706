/**
 * `--long`: the one check that waits out a whole stream lifetime (5 minutes by default).
 * A stream must end itself between complete events at its lifetime, and a client that
 * reconnects with its last id must miss and repeat nothing, while events keep coming.
 */
import {
  type Check,
  eventsUrl,
  expectEveryEventOnce,
  openLive,
  pass,
  resumingClient,
  type VerifyContext,
} from './checks.js';
import { until } from './sse-reader.js';

/** One publish a second keeps events in flight when the stream ends. */
const PUBLISH_EVERY_MS = 1_000;
/** Events published after the reconnect. */
const AFTER_ROTATION = 3;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `lifetimeSeconds`: the stack's STREAM_LIFETIME_SECONDS; undefined without `--long`. */
export function rotationCheck(lifetimeSeconds: number | undefined): Check {
  return {
    name: 'sse.rotation',
    promise:
      'a stream ends itself at its lifetime; resumed with its last id while events keep coming, none is lost or repeated',
    async run(ctx: VerifyContext) {
      if (lifetimeSeconds === undefined) return { status: 'skip', detail: 'no --long given' };
      const channel = `${ctx.prefix}/rotation`;
      const client = resumingClient();
      let published = 0;
      let publishing = true;
      const publisher = (async () => {
        while (publishing) {
          await ctx.publish(channel, JSON.stringify({ verify: 'rotation', seq: published }));
          published += 1;
          await pause(PUBLISH_EVERY_MS);
        }
      })();
      const opened = performance.now();
      let c = await openLive(ctx, eventsUrl(ctx, [channel]));
      try {
        // The server ends it; a lifetime's wait plus room for the deadline and the network.
        const first = c;
        await until(
          () => first.ended(),
          lifetimeSeconds * 1000 + 30_000,
          'the stream to end itself',
        );
        const lifetimeMs = Math.round(performance.now() - opened);
        client.keep(first);
        c = await openLive(ctx, eventsUrl(ctx, [channel]), { 'last-event-id': client.lastId() });
        const target = published + AFTER_ROTATION;
        await until(
          () => published >= target,
          ctx.waitMs + AFTER_ROTATION * 2_000,
          'more publishes',
        );
        publishing = false;
        await publisher;
        await expectEveryEventOnce(ctx, channel, client, c, published);
        return pass(
          `the stream ended itself after ${lifetimeMs} ms; ${client.received.length} events across it, each once, in the log order`,
          { lifetimeMs },
        );
      } finally {
        publishing = false;
        c.drop();
        await publisher.catch(() => undefined);
      }
    },
  };
}
