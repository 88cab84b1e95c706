import { describe, expect, it } from 'vitest';
import { AppendFailedError } from '../../../../functions/core/event-log.js';
import { MemoryEventLog } from '../../../../functions/core/memory-event-log.js';
import {
  processBatch,
  type WriterDependencies,
} from '../../../../functions/writer/process-batch.js';
import { snsRecord } from '../../../fixtures/sqs-events.js';

function deps(eventLog: MemoryEventLog): WriterDependencies {
  return {
    eventLog,
    deadLetters: { send: async () => {} },
    log: { info() {}, error() {} },
    metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
  };
}

const on = (channel: string, sqsMessageId: string, snsMessageId = `sns-${sqsMessageId}`) =>
  snsRecord({ sqsMessageId, snsMessageId, message: 'hi', attributes: { channel } });

describe('Function: processBatch (appendedChannels)', () => {
  it('names the channels that got new events, not those with duplicates or rejections only', async () => {
    // Prepare
    const eventLog = new MemoryEventLog();
    await processBatch([on('b', 'first-b', 'publish-b')], deps(eventLog));

    // Act
    const result = await processBatch(
      [
        on('a', 'a-1'),
        on('b', 'again-b', 'publish-b'),
        snsRecord({ sqsMessageId: 'bad', message: 'no channel' }),
        on('c', 'c-1'),
        on('a', 'a-2'),
      ],
      deps(eventLog),
    );

    // Assess
    expect(result).toEqual({ failedMessageIds: [], appendedChannels: ['a', 'c'] });
  });

  it('counts a channel whose append failed after storing part of it, not one that stored nothing', async () => {
    // Prepare
    const eventLog = new MemoryEventLog();
    eventLog.append = async (channel) => {
      throw new AppendFailedError(channel, channel === 'a' ? 1 : 0, { cause: new Error('down') });
    };

    // Act
    const result = await processBatch(
      [on('a', 'a-1'), on('a', 'a-2'), on('b', 'b-1')],
      deps(eventLog),
    );

    // Assess
    expect(result).toEqual({ failedMessageIds: ['a-2', 'b-1'], appendedChannels: ['a'] });
  });
});
