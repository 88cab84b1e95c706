import { randomUUID } from 'node:crypto';
import { startLocalStack } from '../../local/stack.js';
import { localSnsClient, publishInOrder } from './local-sns-client.js';

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** A quiet in-memory local stack whose clients reconnect after 10 ms. */
export function startInteropStack(): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    inMemory: true,
    env: { RETRY_MS: '10' },
    log: { info() {}, error() {} },
  });
}

/** A new channel holding `events`, published through the stack's `/sns` before anyone reads. */
export async function channelHolding(
  stack: LocalStack,
  events: readonly string[],
): Promise<string> {
  const channel = `interop/${randomUUID().slice(0, 8)}`;
  const sns = localSnsClient(stack.url);
  try {
    await publishInOrder(sns, stack.topicArn, channel, events);
  } finally {
    sns.destroy();
  }
  return channel;
}
