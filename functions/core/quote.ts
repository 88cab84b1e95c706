/** Longest part of a caller's value an error message repeats. */
const MAX_QUOTED_LENGTH = 80;

/**
 * A caller's value as an error message shows it: JSON-quoted (so control characters and
 * quotes cannot forge the message) and cut to {@link MAX_QUOTED_LENGTH} characters.
 */
export function quote(value: string): string {
  return JSON.stringify(
    value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value,
  );
}
