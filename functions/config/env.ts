/**
 * Typed reads of environment variables, done once at cold start. Every error names the
 * variable and the bad value, so a misconfigured function fails on its first invocation
 * with a message that says what to fix.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function requiredString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required`);
  }
  return value;
}

export function optionalString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A positive integer, or `fallback` when unset. */
export function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `environment variable ${name} must be a positive integer, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** A non-negative integer, or `fallback` when unset. */
export function nonNegativeInteger(env: Env, name: string, fallback: number): number {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) {
    throw new ConfigError(
      `environment variable ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** A number between 0 and 1, or `fallback` when unset. */
export function fraction(env: Env, name: string, fallback: number): number {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(
      `environment variable ${name} must be a number from 0 to 1, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** A comma-separated list; empty entries are dropped. */
export function list(env: Env, name: string): string[] {
  return (optionalString(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
