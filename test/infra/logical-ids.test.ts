import { writeFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEYS, stackPropsFromContext } from '../../lib/app-context.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import recorded from './fixtures/logical-ids.json' with { type: 'json' };

// A changed logical ID makes CloudFormation replace the resource on the next deploy: for the
// table that is the event log, for the topic every publisher's ARN. The list was taken from a
// synth before the source tree was reorganised; a change that renames a construct must update
// it on purpose (`UPDATE_LOGICAL_IDS=1 npx vitest run test/infra/logical-ids.test.ts`).
const VARIANTS: Record<string, Record<string, string>> = {
  default: {},
  fifo: { [CONTEXT_KEYS.fifo]: 'true' },
  'cloudFront+iam': { [CONTEXT_KEYS.cloudFront]: 'true', [CONTEXT_KEYS.streamAuthType]: 'AWS_IAM' },
  auth: { [CONTEXT_KEYS.privateChannelPrefixes]: 'private/', [CONTEXT_KEYS.alarmEmails]: 'a@b.c' },
};

function logicalIds(context: Record<string, string>): Record<string, string> {
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new SsePubSubStack(app, 'SsePubSub', stackPropsFromContext(app.node));
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Type: string }
  >;
  return Object.fromEntries(
    Object.entries(resources)
      .map(([id, resource]) => [id, resource.Type] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

describe('Infra: logical IDs', () => {
  const current = Object.fromEntries(
    Object.entries(VARIANTS).map(([name, context]) => [name, logicalIds(context)]),
  );
  if (process.env.UPDATE_LOGICAL_IDS === '1') {
    writeFileSync(
      new URL('./fixtures/logical-ids.json', import.meta.url),
      `${JSON.stringify(current, null, 2)}\n`,
    );
  }

  it.each(Object.keys(VARIANTS))('keeps every resource of the %s stack under its ID', (name) => {
    expect(current[name]).toEqual((recorded as Record<string, unknown>)[name]);
  });
});
