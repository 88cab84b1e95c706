/**
 * The event log's DynamoDB items as attribute maps: writing stored events and dedupe
 * markers, reading back events and channel heads.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { NewEvent, StoredEvent } from '../../core/event-log.js';
import { dedupeMarkerKey, HEAD_POSITION, TABLE_KEYS, TTL_ATTRIBUTE } from './table.js';

/** Attribute names, beyond the keys and TTL named in `table.ts`. */
export const ATTR = {
  pk: TABLE_KEYS.partition,
  sk: TABLE_KEYS.sort,
  event: 'event',
  data: 'data',
  time: 'time',
  expiresAt: 'expiresAt',
  ttl: TTL_ATTRIBUTE,
  last: 'last',
  lastTime: 'lastTime',
  target: 'target',
  appendId: 'appendId',
} as const;

export interface Head {
  readonly last: number;
  readonly lastTime: number;
}

export const NO_HEAD: Head = { last: 0, lastTime: 0 };

/** When an item written now expires: `expiresAt` in ms, `ttl` in seconds for DynamoDB. */
export interface Expiry {
  readonly time: number;
  readonly expiresAt: number;
  readonly ttl: number;
}

export function eventItem(
  channel: string,
  position: number,
  event: NewEvent,
  { time, expiresAt, ttl }: Expiry,
): Record<string, AttributeValue> {
  return {
    [ATTR.pk]: { S: channel },
    [ATTR.sk]: { N: String(position) },
    [ATTR.event]: { S: event.event },
    [ATTR.data]: { S: event.data },
    [ATTR.time]: { N: String(time) },
    [ATTR.expiresAt]: { N: String(expiresAt) },
    [ATTR.ttl]: { N: String(ttl) },
  };
}

export function markerItem(
  channel: string,
  position: number,
  event: NewEvent,
  { expiresAt, ttl }: Expiry,
  appendId: string,
): Record<string, AttributeValue> {
  return {
    [ATTR.pk]: { S: dedupeMarkerKey(channel, event.dedupeKey) },
    [ATTR.sk]: { N: String(HEAD_POSITION) },
    [ATTR.target]: { N: String(position) },
    [ATTR.expiresAt]: { N: String(expiresAt) },
    [ATTR.ttl]: { N: String(ttl) },
    [ATTR.appendId]: { S: appendId },
  };
}

export function storedEventOf(channel: string, item: Record<string, AttributeValue>): StoredEvent {
  return {
    channel,
    position: numberOf(item, ATTR.sk),
    event: stringOf(item, ATTR.event),
    data: stringOf(item, ATTR.data),
    time: numberOf(item, ATTR.time),
  };
}

export function headOf(item: Record<string, AttributeValue>): Head {
  return {
    last: numberOf(item, ATTR.last),
    lastTime: item[ATTR.lastTime] === undefined ? 0 : numberOf(item, ATTR.lastTime),
  };
}

export function numberOf(item: Record<string, AttributeValue>, name: string): number {
  const value = Number(item[name]?.N);
  if (!Number.isFinite(value)) {
    throw new Error(`event log item lacks number attribute ${JSON.stringify(name)}`);
  }
  return value;
}

function stringOf(item: Record<string, AttributeValue>, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) {
    throw new Error(`event log item lacks string attribute ${JSON.stringify(name)}`);
  }
  return value;
}
