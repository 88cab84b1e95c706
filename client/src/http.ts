import type { ClientEvent, ResetNotice } from './types.js';

/** Query-string pieces, written out: React Native's `URLSearchParams` is incomplete. */
export function endpointUrl(
  base: string,
  path: 'events' | 'poll',
  channels: readonly string[],
  params: Readonly<Record<string, string | undefined>>,
): string {
  const parts = channels.map((c) => `channel=${encodeURIComponent(c)}`);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) parts.push(`${name}=${encodeURIComponent(value)}`);
  }
  return `${base.replace(/\/+$/, '')}/${path}?${parts.join('&')}`;
}

/** An `envelope=1` event or a polled one: every field a string. */
export function asEvent(value: unknown): ClientEvent | undefined {
  if (!isRecord(value)) return undefined;
  const { id, channel, event, data, time } = value;
  if (
    typeof id !== 'string' ||
    typeof channel !== 'string' ||
    typeof event !== 'string' ||
    typeof data !== 'string' ||
    typeof time !== 'string'
  ) {
    return undefined;
  }
  return { id, channel, event, data, time };
}

/** A `stream.reset` notice: `{channel, reason, missed?}`. */
export function asReset(value: unknown): Omit<ResetNotice, 'transport'> | undefined {
  if (!isRecord(value)) return undefined;
  const { channel, reason, missed } = value;
  if (typeof channel !== 'string' || typeof reason !== 'string') return undefined;
  return typeof missed === 'number' ? { channel, reason, missed } : { channel, reason };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
