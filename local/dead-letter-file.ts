import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeadLetterSink, QueueRecord, Rejection } from '../functions/writer/ports.js';

/**
 * The local stack's dead-letter queue: one JSON line per rejected message, with its
 * reason and the original SNS envelope, so a developer can see what was refused and why.
 */
export class DeadLetterFile implements DeadLetterSink {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async send(record: QueueRecord, rejection: Rejection): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    const line = JSON.stringify({
      time: new Date().toISOString(),
      messageId: record.messageId,
      reason: rejection.code,
      field: rejection.field,
      detail: rejection.message,
      body: record.body,
    });
    await appendFile(this.#path, `${line}\n`, 'utf8');
  }
}

/** Where rejected messages go when the stack keeps nothing on disk. */
export class DeadLetterMemory implements DeadLetterSink {
  readonly messages: { record: QueueRecord; rejection: Rejection }[] = [];
  async send(record: QueueRecord, rejection: Rejection): Promise<void> {
    this.messages.push({ record, rejection });
  }
}
