/** Time-ordered ids for outbox messages, and the FIFO sequence numbers that go with them. */
import { randomUUID } from 'node:crypto';

/**
 * Makes outbox ids, `<ms, 15 digits>-<counter, 6 digits>-<uuid>`, strictly increasing
 * within a process even if the clock steps back, and the matching FIFO sequence numbers
 * (`<ms><counter>`, 20 digits). {@link observe} an existing id (say, a leftover of the
 * last run) to never go below it.
 */
export class OutboxIds {
  #lastMs = 0;
  #counter = 0;
  readonly #now: () => number;
  readonly #uuid: () => string;

  constructor(now: () => number = Date.now, uuid: () => string = randomUUID) {
    this.#now = now;
    this.#uuid = uuid;
  }

  next(): { id: string; sequenceNumber: string } {
    const now = Math.floor(this.#now());
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else {
      this.#counter += 1;
      if (this.#counter > 999_999) {
        this.#lastMs += 1;
        this.#counter = 0;
      }
    }
    const ms = String(this.#lastMs);
    const counter = String(this.#counter).padStart(6, '0');
    return {
      id: `${ms.padStart(15, '0')}-${counter}-${this.#uuid()}`,
      sequenceNumber: `${ms.padStart(14, '0')}${counter}`,
    };
  }

  observe(id: string): void {
    const match = /^(\d{15})-(\d{6})-/.exec(id);
    if (match === null) return;
    const ms = Number(match[1]);
    const counter = Number(match[2]);
    if (ms > this.#lastMs || (ms === this.#lastMs && counter > this.#counter)) {
      this.#lastMs = ms;
      this.#counter = counter;
    }
  }
}
