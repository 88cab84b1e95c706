import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { SsePubSubProps } from './props.js';
import { SsePubSub } from './sse-pub-sub.js';

export interface SsePubSubStackProps extends StackProps {
  /**
   * Settings of the pub/sub construct.
   *
   * @default - the construct's defaults
   */
  readonly pubSub?: SsePubSubProps;

  /**
   * Email addresses told when an alarm fires or recovers, through a topic this stack
   * creates (each address confirms its subscription first). Ignored when
   * `pubSub.alarmTopic` is set.
   *
   * @default - no notifications
   */
  readonly alarmEmails?: string[];
}

/** The deployable product: one {@link SsePubSub} and the outputs clients need. */
export class SsePubSubStack extends Stack {
  public readonly pubSub: SsePubSub;
  /** The topic alarms notify, when `alarmEmails` made one. */
  public readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: SsePubSubStackProps = {}) {
    super(scope, id, props);

    const emails = props.alarmEmails ?? [];
    let alarmTopic = props.pubSub?.alarmTopic;
    if (alarmTopic === undefined && emails.length > 0) {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'SSE pub/sub alarms',
        enforceSSL: true,
      });
      for (const email of emails) {
        this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
      }
      alarmTopic = this.alarmTopic;
    }

    // Stable id: renaming it would replace the table and lose the event log.
    this.pubSub = new SsePubSub(this, 'PubSub', {
      ...props.pubSub,
      ...(alarmTopic !== undefined && { alarmTopic }),
    });

    new CfnOutput(this, 'TopicArn', {
      description: 'SNS topic that publishers send events to',
      value: this.pubSub.topic.topicArn,
    });
    new CfnOutput(this, 'TableName', {
      description: 'DynamoDB table holding the event log',
      value: this.pubSub.table.tableName,
    });
    new CfnOutput(this, 'StreamUrl', {
      description:
        'Base URL subscribers connect to: GET /events (SSE) and GET /poll (JSON); ' +
        'the CloudFront distribution when there is one, else the function URL',
      value: this.pubSub.streamUrl,
    });
    if (this.pubSub.distribution !== undefined) {
      new CfnOutput(this, 'FunctionUrl', {
        description: 'The stream function URL behind the CloudFront distribution',
        value: this.pubSub.functionUrl.url,
      });
    }
    if (this.pubSub.tokenSecret !== undefined) {
      new CfnOutput(this, 'TokenSecretArn', {
        description:
          'Secrets Manager secret holding the HS256 key backend services sign subscriber tokens with',
        value: this.pubSub.tokenSecret.secretArn,
      });
    }
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the pub/sub system',
      value: this.pubSub.dashboard.dashboardName,
    });
  }
}
