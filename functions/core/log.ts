/**
 * Structured log lines, the one logging port of every module that logs (the writer, the
 * HTTP adapters, the local SNS outbox). Fields are JSON-safe values; Powertools' Logger,
 * a console formatter and a test recorder all fit.
 */
export interface Log {
  info(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/**
 * An error as log fields: its name and message, its cause's name and message (an append
 * that failed says why), and with `stack` its stack; the text of anything else thrown.
 */
export function describeError(
  error: unknown,
  options: { readonly stack?: boolean } = {},
): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(options.stack === true && { stack: error.stack }),
    ...(cause && { cause: { name: cause.name, message: cause.message } }),
  };
}
