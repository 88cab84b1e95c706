import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SsePubSub, type SsePubSubProps } from './sse-pub-sub.js';

export interface SsePubSubStackProps extends StackProps {
  /**
   * Settings of the pub/sub construct.
   *
   * @default - the construct's defaults
   */
  readonly pubSub?: SsePubSubProps;
}

/** The deployable product: one {@link SsePubSub} and the outputs clients need. */
export class SsePubSubStack extends Stack {
  public readonly pubSub: SsePubSub;

  constructor(scope: Construct, id: string, props: SsePubSubStackProps = {}) {
    super(scope, id, props);

    // Stable id: renaming it would replace the table and lose the event log.
    this.pubSub = new SsePubSub(this, 'PubSub', props.pubSub);

    new CfnOutput(this, 'TopicArn', {
      description: 'SNS topic that publishers send events to',
      value: this.pubSub.topic.topicArn,
    });
    new CfnOutput(this, 'TableName', {
      description: 'DynamoDB table holding the event log',
      value: this.pubSub.table.tableName,
    });
    new CfnOutput(this, 'StreamUrl', {
      description: 'Function URL subscribers connect to: GET /events (SSE) and GET /poll (JSON)',
      value: this.pubSub.streamUrl,
    });
  }
}
