/**
 * Structured log lines, the one logging port of every module that logs (the writer, the
 * HTTP adapters, the local SNS outbox). Fields are JSON-safe values; Powertools' Logger,
 * a console formatter and a test recorder all fit.
 */
export interface Log {
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** An error as log fields: name, message and stack for an `Error`, the text otherwise. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack };
  }
  return { message: String(error) };
}
