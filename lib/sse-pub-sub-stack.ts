import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { SsePubSubConfigError } from './errors.js';
import type { SsePubSubProps } from './props.js';
import { SsePubSub } from './sse-pub-sub.js';
import { alarmEmailsSetting } from './validation.js';

export interface SsePubSubStackProps extends StackProps {
  /**
   * Settings of the pub/sub construct.
   *
   * @default - the construct's defaults
   */
  readonly pubSub?: SsePubSubProps;

  /**
   * Email addresses told when an alarm fires or recovers, through a topic this stack
   * creates (each address confirms its subscription first). Addresses in
   * `pubSub.alarmEmails` join them on the same topic. Not together with
   * `pubSub.alarmTopic` or `alarmTopicArn`.
   *
   * @default - no email notifications
   */
  readonly alarmEmails?: string[];

  /**
   * ARN of an existing SNS topic the alarms notify (an on-call integration, a chat
   * channel). Not together with `pubSub.alarmTopic` or email addresses.
   *
   * @default - the topic made for `alarmEmails`, else none: the alarms notify nobody
   */
  readonly alarmTopicArn?: string;
}

/** The deployable product: one {@link SsePubSub} and the outputs clients need. */
export class SsePubSubStack extends Stack {
  public readonly pubSub: SsePubSub;
  /** The topic alarms notify, when email addresses made one here. */
  public readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: SsePubSubStackProps = {}) {
    super(scope, id, props);

    const { alarmEmails: pubSubEmails = [], ...pubSubProps } = props.pubSub ?? {};
    const emails = alarmEmailsSetting({
      alarmEmails: [...(props.alarmEmails ?? []), ...pubSubEmails],
    });
    const givenTopics = [props.pubSub?.alarmTopic, props.alarmTopicArn].filter(
      (topic) => topic !== undefined,
    );
    if (givenTopics.length > 1 || (givenTopics.length === 1 && emails.length > 0)) {
      throw new SsePubSubConfigError(
        'SsePubSubStack: name one alarm destination: pubSub.alarmTopic, alarmTopicArn or ' +
          'alarm email addresses; subscribe addresses to your own topic yourself',
      );
    }

    let alarmTopic = props.pubSub?.alarmTopic;
    if (props.alarmTopicArn !== undefined) {
      alarmTopic = sns.Topic.fromTopicArn(this, 'GivenAlarmTopic', props.alarmTopicArn);
    } else if (alarmTopic === undefined && emails.length > 0) {
      // Made here rather than by the construct: its logical ID predates pubSub.alarmEmails,
      // and a new ID would replace the topic and ask every address to confirm again.
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
      ...pubSubProps,
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
        'the CloudFront distribution when there is one, else the function URL or the ' +
        'Web Function endpoint',
      value: this.pubSub.streamUrl,
    });
    if (this.pubSub.distribution !== undefined) {
      // The origin behind the distribution: the function URL or the Web Function endpoint.
      const webFunction = this.pubSub.webFunction;
      new CfnOutput(this, 'FunctionUrl', {
        description:
          webFunction !== undefined
            ? 'The Web Function endpoint behind the CloudFront distribution'
            : 'The stream function URL behind the CloudFront distribution',
        value:
          webFunction !== undefined
            ? `https://${webFunction.endpoint.domainName}/`
            : (this.pubSub.functionUrl?.url ?? ''),
      });
    }
    if (this.pubSub.tokenSecret !== undefined) {
      new CfnOutput(this, 'TokenSecretArn', {
        description:
          'Secrets Manager secret holding the HS256 key backend services sign subscriber tokens with',
        value: this.pubSub.tokenSecret.secretArn,
      });
    }
    if (this.pubSub.alarmTopic !== undefined) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'SNS topic the alarms notify when they fire and when they recover',
        value: this.pubSub.alarmTopic.topicArn,
      });
    }
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description:
        'Dead-letter queue of the writer; redrive transient failures with aws sqs start-message-move-task --source-arn <this>',
      value: this.pubSub.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the pub/sub system',
      value: this.pubSub.dashboard.dashboardName,
    });
  }
}
