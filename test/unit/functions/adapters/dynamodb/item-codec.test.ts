import { describe, expect, it } from 'vitest';
import {
  eventItem,
  headOf,
  markerItem,
  storedEventOf,
} from '../../../../../functions/adapters/dynamodb/item-codec.js';
import {
  dedupeMarkerKey,
  HEAD_POSITION,
} from '../../../../../functions/adapters/dynamodb/table.js';

const event = { event: 'message', data: '{"n":1}', dedupeKey: 'key-1' };
const expiry = { time: 1_000, expiresAt: 61_000, ttl: 61 };

describe('Function: eventItem', () => {
  it('reads back as the stored event', () => {
    expect(storedEventOf('c', eventItem('c', 7, event, expiry))).toEqual({
      channel: 'c',
      position: 7,
      event: 'message',
      data: '{"n":1}',
      time: 1_000,
    });
  });

  it('carries the expiry for reads and the TTL in seconds for DynamoDB', () => {
    const item = eventItem('c', 7, event, expiry);
    expect(item.expiresAt).toEqual({ N: '61000' });
    expect(item.ttl).toEqual({ N: '61' });
  });
});

describe('Function: markerItem', () => {
  it('sits at the head position of the marker key and points at the event', () => {
    expect(markerItem('c', 7, event, expiry, 'append-1')).toEqual({
      channel: { S: dedupeMarkerKey('c', 'key-1') },
      position: { N: String(HEAD_POSITION) },
      target: { N: '7' },
      expiresAt: { N: '61000' },
      ttl: { N: '61' },
      appendId: { S: 'append-1' },
    });
  });
});

describe('Function: headOf', () => {
  it('reads last and lastTime', () => {
    expect(headOf({ last: { N: '12' }, lastTime: { N: '5000' } })).toEqual({
      last: 12,
      lastTime: 5_000,
    });
  });

  it('takes a missing lastTime as 0', () => {
    expect(headOf({ last: { N: '12' } })).toEqual({ last: 12, lastTime: 0 });
  });
});

describe('Function: storedEventOf', () => {
  it('refuses an item that lacks an attribute', () => {
    const { data: _, ...item } = eventItem('c', 7, event, expiry);
    expect(() => storedEventOf('c', item)).toThrow('event log item lacks string attribute "data"');
  });

  it('refuses a position that is not a number', () => {
    const item = { ...eventItem('c', 7, event, expiry), position: { S: '7' } };
    expect(() => storedEventOf('c', item)).toThrow(
      'event log item lacks number attribute "position"',
    );
  });
});
