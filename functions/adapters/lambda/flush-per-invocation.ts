/**
 * Gathered metrics must leave an invocation before it ends: once the handler settles,
 * Lambda may freeze the environment until the next request, or forever. A stream lasts
 * minutes, so they also go out every `intervalMs` while it runs.
 */
import type { StreamingHandler } from './http-adapter.js';

export function flushPerInvocation<TEvent>(
  handler: StreamingHandler<TEvent>,
  flush: () => void,
  intervalMs: number,
): StreamingHandler<TEvent> {
  return async (event, responseStream, context) => {
    const timer = setInterval(flush, intervalMs);
    try {
      await handler(event, responseStream, context);
    } finally {
      clearInterval(timer);
      flush();
    }
  };
}
