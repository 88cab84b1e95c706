import { type Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { SsePubSubProps } from '../../lib/sse-pub-sub.js';
import { SsePubSubStack } from '../../lib/sse-pub-sub-stack.js';
import { newApp } from './template-helpers.js';

/**
 * cdk-nag 3 is a policy validation plugin: `app.synth()` runs it after synthesis and
 * throws when it reports anything not acknowledged, as `cdk synth` exits 1. Its
 * `validateScope` returns the same report as data, for readable failures.
 */
function checkedApp(props?: SsePubSubProps) {
  const app = newApp();
  const stack = new SsePubSubStack(app, 'SsePubSub', { pubSub: props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function findings(scope: Stack | ReturnType<typeof newApp>) {
  return new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => ({
    rule: violation.ruleName,
    resources: violation.violatingResources.map((resource) => resource.constructPath),
  }));
}

describe('Rules: AwsSolutions (cdk-nag)', () => {
  it.each<[string, SsePubSubProps | undefined]>([
    ['the defaults', undefined],
    [
      'an AWS_IAM URL, x86 and CORS origins',
      {
        streamAuthType: lambda.FunctionUrlAuthType.AWS_IAM,
        architecture: lambda.Architecture.X86_64,
        corsOrigins: ['https://app.example.com'],
      },
    ],
  ])('finds nothing unacknowledged in the stack with %s', (_name, props) => {
    // Prepare
    const { app } = checkedApp(props);

    // Act & Assess
    expect(findings(app)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges only the pinned runtime, on the two functions, with a reason', () => {
    // Prepare
    const { stack } = checkedApp();

    // Act
    const acknowledged = stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            path: construct.node.path,
            id: id.replace(/^annotation::/i, ''),
            reason,
          })),
        ),
    );

    // Assess
    expect(acknowledged.map(({ path, id }) => `${path} ${id}`).sort()).toEqual([
      'SsePubSub/PubSub/Stream AwsSolutions-L1',
      'SsePubSub/PubSub/Writer AwsSolutions-L1',
    ]);
    for (const { reason } of acknowledged) expect(reason).toMatch(/nodejs22\.x.*by design/);
  });

  it('reports a finding that nobody acknowledged, and fails synthesis', () => {
    // Prepare: a queue with no dead-letter queue and no SSL-only policy.
    const { app, stack } = checkedApp();
    new sqs.Queue(stack, 'Unchecked', { encryption: sqs.QueueEncryption.SQS_MANAGED });

    // Act & Assess
    expect(findings(app)).toEqual(
      expect.arrayContaining([
        { rule: 'AwsSolutions-SQS3', resources: ['SsePubSub/Unchecked/Resource'] },
        { rule: 'AwsSolutions-SQS4', resources: ['SsePubSub/Unchecked/Resource'] },
      ]),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});
