/**
 * The one JSON shape of an event outside SSE framing: the poll endpoint's answers and the
 * `data` of `envelope=1` streams, so a client that reads both sees the same object.
 */
import type { StoredEvent } from './event-log.js';

/** The event as the poll endpoint and `envelope=1` streams present it. */
export interface EnvelopedEvent {
  readonly id: string;
  readonly channel: string;
  readonly event: string;
  readonly data: string;
  readonly time: string;
}

export function envelopeOf(event: StoredEvent, id: string): EnvelopedEvent {
  return {
    id,
    channel: event.channel,
    event: event.event,
    data: event.data,
    time: new Date(event.time).toISOString(),
  };
}
