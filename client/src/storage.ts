import type { CursorStorage } from './types.js';

/** Keeps cursors for the life of the JavaScript context only (the default). */
export function memoryStorage(): CursorStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, value);
    },
  };
}

/**
 * The browser's `localStorage` when it can be used, else memory. Reading
 * `localStorage` throws in some sandboxed iframes and with storage disabled.
 */
export function browserStorage(): CursorStorage {
  try {
    const storage: unknown = Reflect.get(globalThis, 'localStorage');
    if (isStorage(storage)) {
      const probe = '__sse_pubsub_probe__';
      storage.setItem(probe, '1');
      return storage;
    }
  } catch {
    // fall through
  }
  return memoryStorage();
}

function isStorage(value: unknown): value is CursorStorage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'getItem') === 'function' &&
    typeof Reflect.get(value, 'setItem') === 'function'
  );
}

/**
 * The key a subscription's cursor is stored under: the base URL and the set of
 * channels (order does not matter), since a cursor means "this far, on these channels,
 * of this service".
 */
export function cursorKey(url: string, channels: readonly string[]): string {
  return `sse-pubsub:${url.replace(/\/+$/, '')}|${[...new Set(channels)].sort().join(',')}`;
}

/**
 * Writes the newest cursor, one write at a time, skipping values overtaken while a
 * write was in flight: a slow AsyncStorage never queues a write per event, while a
 * synchronous `localStorage` is written before `save` returns (a page that closes right
 * after an event still has its cursor).
 */
export class CursorStore {
  readonly #storage: CursorStorage;
  readonly #key: string;
  readonly #onError: (error: unknown) => void;
  #wanted: string | undefined;
  #written: string | undefined;
  #writing = false;

  constructor(storage: CursorStorage, key: string, onError: (error: unknown) => void) {
    this.#storage = storage;
    this.#key = key;
    this.#onError = onError;
  }

  /** The stored cursor, or `undefined` when none (or reading failed: reported). */
  async load(): Promise<string | undefined> {
    try {
      const value = await this.#storage.getItem(this.#key);
      this.#written = value ?? undefined;
      return typeof value === 'string' && value !== '' ? value : undefined;
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  save(cursor: string): void {
    this.#wanted = cursor;
    if (!this.#writing) this.#drain();
  }

  #drain(): void {
    while (this.#wanted !== undefined && this.#wanted !== this.#written) {
      const value = this.#wanted;
      let result: void | Promise<void>;
      try {
        result = this.#storage.setItem(this.#key, value);
      } catch (error) {
        this.#written = value;
        this.#onError(error);
        continue;
      }
      if (isThenable(result)) {
        this.#writing = true;
        Promise.resolve(result)
          .catch((error: unknown) => this.#onError(error))
          .finally(() => {
            this.#written = value;
            this.#writing = false;
            this.#drain();
          });
        return;
      }
      this.#written = value;
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return (
    typeof value === 'object' && value !== null && typeof Reflect.get(value, 'then') === 'function'
  );
}
