import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import {
  EmbeddedStreamMetrics,
  MAX_CHANNEL_DIMENSION_VALUES,
} from '../../../../../functions/adapters/powertools/stream-metrics.js';
import { captureEmf, metricTotal, metricValues } from '../../../../support/emf.js';

function recorder(options: { channelPrefixes?: string[]; lagSamples?: number } = {}) {
  return new EmbeddedStreamMetrics({
    metrics: new Metrics({ namespace: 'SsePubSub', serviceName: 'sse-pubsub-stream' }),
    ...options,
  });
}

describe('Class: EmbeddedStreamMetrics', () => {
  it('writes each count with its dimensions, the lag as high-resolution values, and the open streams', async () => {
    // Prepare
    const metrics = recorder();
    metrics.streamOpened(['a']);
    metrics.streamOpened(['a', 'b']);
    metrics.delivered('a', 12);
    metrics.delivered('b', 30);
    metrics.delivered('a', undefined);
    metrics.reset({ channel: 'a', reason: 'ahead' });
    metrics.reset({ channel: 'b', reason: 'expired', missed: 3 });
    metrics.reset({ channel: 'a', reason: 'expired', missed: 1 });
    metrics.refused(400, 'invalid_parameter');
    metrics.refused(401, 'unauthorized');
    metrics.refused(400, 'invalid_parameter');
    metrics.streamEnded(['a'], 'token');

    // Act
    const records = await captureEmf(() => metrics.flush());

    // Assess
    expect(new Set(records.map((r) => r.namespace))).toEqual(new Set(['SsePubSub']));
    expect(records.every((r) => r.dimensions.service === 'sse-pubsub-stream')).toBe(true);
    expect(metricTotal(records, 'StreamsOpened')).toBe(2);
    expect(metricTotal(records, 'OpenStreams')).toBe(1);
    expect(metricTotal(records, 'EventsDelivered')).toBe(3);
    // The backlog delivery (no lag) is counted, not sampled.
    expect(metricValues(records, 'DeliveryLag')).toEqual([12, 30]);
    const lagRecord = records.find((r) => 'DeliveryLag' in r.metrics);
    expect(lagRecord?.metrics.DeliveryLag).toEqual({ unit: 'Milliseconds', resolution: 1 });
    expect(metricTotal(records, 'Resets', { Reason: 'ahead' })).toBe(1);
    expect(metricTotal(records, 'Resets', { Reason: 'expired' })).toBe(2);
    expect(
      metricTotal(records, 'RequestsRefused', { Status: '400', Code: 'invalid_parameter' }),
    ).toBe(2);
    expect(metricTotal(records, 'RequestsRefused', { Status: '401', Code: 'unauthorized' })).toBe(
      1,
    );
    expect(metricTotal(records, 'StreamsEnded', { Reason: 'token' })).toBe(1);
    // No channel dimension unless asked for.
    expect(records.some((r) => 'Channel' in r.dimensions)).toBe(false);
  });

  it('starts again from zero after a flush, and reports open streams while they stay open', async () => {
    const metrics = recorder();
    metrics.streamOpened(['a']);
    metrics.delivered('a', 5);
    await captureEmf(() => metrics.flush());

    const idle = await captureEmf(() => metrics.flush());
    expect(metricTotal(idle, 'OpenStreams')).toBe(1);
    expect(metricTotal(idle, 'EventsDelivered')).toBeUndefined();
    expect(metricValues(idle, 'DeliveryLag')).toEqual([]);

    metrics.streamEnded(['a'], 'lifetime');
    const ended = await captureEmf(() => metrics.flush());
    expect(metricTotal(ended, 'StreamsEnded', { Reason: 'lifetime' })).toBe(1);
    // Nothing open and nothing else counted: no line at all for the plain set.
    expect(metricTotal(ended, 'OpenStreams')).toBeUndefined();
    expect(await captureEmf(() => metrics.flush())).toEqual([]);
  });

  it('keeps at most lagSamples lag values per flush, sampled from all of them', async () => {
    const metrics = recorder({ lagSamples: 10 });
    metrics.streamOpened(['a']);
    for (let lag = 1; lag <= 1_000; lag += 1) metrics.delivered('a', lag);

    const records = await captureEmf(() => metrics.flush());

    const values = metricValues(records, 'DeliveryLag');
    expect(values).toHaveLength(10);
    expect(new Set(values).size).toBe(10);
    // A reservoir keeps late values too, not only the first ten.
    expect(values.some((v) => v > 10)).toBe(true);
    expect(metricTotal(records, 'EventsDelivered')).toBe(1_000);
  });

  it('writes 100 lag values in one record with its dimensions, as EMF allows', async () => {
    const metrics = recorder({ channelPrefixes: ['ops/'] });
    metrics.streamOpened(['ops/x']);
    for (let lag = 0; lag < 250; lag += 1) metrics.delivered('ops/x', lag);

    const records = await captureEmf(() => metrics.flush());

    for (const record of records) {
      const value = record.values.DeliveryLag;
      if (Array.isArray(value)) expect(value.length).toBeLessThanOrEqual(100);
    }
    expect(metricValues(records, 'DeliveryLag', { Channel: 'ops/x' })).toHaveLength(100);
    expect(metricValues(records, 'DeliveryLag')).toHaveLength(100);
    expect(metricTotal(records, 'EventsDelivered', { Channel: 'ops/x' })).toBe(250);
  });

  it('counts channels under the chosen prefixes one by one, up to a bound', async () => {
    const metrics = recorder({ channelPrefixes: ['ops/', 'vip/'] });
    metrics.streamOpened(['ops/a', 'news', 'vip/b']);
    metrics.delivered('ops/a', 7);
    metrics.delivered('news', 9);
    metrics.reset({ channel: 'vip/b', reason: 'ahead' });
    metrics.streamEnded(['ops/a', 'news', 'vip/b'], 'aborted');
    for (let i = 0; i < MAX_CHANNEL_DIMENSION_VALUES + 5; i += 1) {
      metrics.streamOpened([`ops/u${i}`]);
    }

    const records = await captureEmf(() => metrics.flush());

    expect(metricTotal(records, 'StreamsOpened', { Channel: 'ops/a' })).toBe(1);
    expect(metricTotal(records, 'StreamsOpened', { Channel: 'vip/b' })).toBe(1);
    expect(metricTotal(records, 'StreamsOpened', { Channel: 'news' })).toBeUndefined();
    expect(metricValues(records, 'DeliveryLag', { Channel: 'ops/a' })).toEqual([7]);
    expect(metricTotal(records, 'Resets', { Channel: 'vip/b', Reason: 'ahead' })).toBe(1);
    expect(metricTotal(records, 'StreamsEnded', { Channel: 'ops/a', Reason: 'aborted' })).toBe(1);
    // The plain set still counts every stream.
    expect(metricTotal(records, 'StreamsOpened')).toBe(1 + MAX_CHANNEL_DIMENSION_VALUES + 5);
    const channels = new Set(records.map((r) => r.dimensions.Channel).filter(Boolean));
    expect(channels.size).toBe(MAX_CHANNEL_DIMENSION_VALUES + 1);
    // Two named above, the rest of the bound, then one catch-all value.
    expect(metricTotal(records, 'StreamsOpened', { Channel: 'ops/*' })).toBe(7);
  });

  it('refuses a lagSamples that is not a positive integer', () => {
    expect(() => recorder({ lagSamples: 0 })).toThrow(
      /lagSamples must be a positive integer, got 0/,
    );
  });
});
