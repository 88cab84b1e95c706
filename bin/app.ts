import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from '../lib/app-context.js';
import { SsePubSubStack } from '../lib/sse-pub-sub-stack.js';

const app = new App();

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new SsePubSubStack(app, 'SsePubSub', {
  description: 'Serverless pub/sub: SNS in, a DynamoDB event log, Server-Sent Events out',
  // Environment-agnostic unless the CLI resolved an account and region.
  ...(account !== undefined && region !== undefined ? { env: { account, region } } : {}),
  // Deployment settings from context (`-c ssePubSub:fifo=true`; docs/deploy.md).
  ...stackPropsFromContext(app.node),
});

// AWS Solutions rules run at synth: any finding not acknowledged (with a reason, next to
// the construct it concerns) fails `cdk synth` and lands in cdk.out's validation report.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
