// A user's own CDK app: the construct from the package, in a stack of their own.

import { SsePubSub } from '@serverless-sse-pubsub/cdk';
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';

class NotificationsStack extends Stack {
  constructor(scope, id) {
    super(scope, id);
    const pubSub = new SsePubSub(this, 'PubSub', { retention: Duration.hours(6) });
    new CfnOutput(this, 'TopicArn', { value: pubSub.topic.topicArn });
    new CfnOutput(this, 'StreamUrl', { value: pubSub.streamUrl });
  }
}

const app = new App();
new NotificationsStack(app, 'Notifications');
app.synth();
