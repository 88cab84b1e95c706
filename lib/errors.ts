/** A prop value that cannot work; thrown when the construct is built, naming the prop. */
export class SsePubSubConfigError extends Error {
  override readonly name = 'SsePubSubConfigError';
}
