// Type-checks the packages' public types as a TypeScript user sees them.
import { type SsePubSubProps, SsePubSubStack } from '@serverless-sse-pubsub/cdk';
import { type ClientEvent, subscribe } from '@serverless-sse-pubsub/client';
import { createPublisher, InvalidMessageError } from '@serverless-sse-pubsub/publisher';
import { App, Duration } from 'aws-cdk-lib';

const props: SsePubSubProps = { retention: Duration.hours(1) };
new SsePubSubStack(new App(), 'Typed', { pubSub: props });
const publisher = createPublisher({ topicArn: 'arn:aws:sns:us-east-1:123456789012:t' });
const sent: Promise<{ messageId: string }> = publisher.publish('demo', 'hi');
const onEvent = (event: ClientEvent): string => event.data;
const stop: () => void = subscribe({ url: 'http://127.0.0.1:8787', channels: ['demo'], onEvent });

export { InvalidMessageError, sent, stop };
