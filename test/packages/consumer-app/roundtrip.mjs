// A backend publishes with the publisher package; a client-package subscriber receives.
// Usage: node roundtrip.mjs <stream base URL> <topic ARN>; prints the event as JSON.
import { subscribe } from '@serverless-sse-pubsub/client';
import { createPublisher } from '@serverless-sse-pubsub/publisher';

const [url, topicArn] = process.argv.slice(2);
const channel = `consumer/${Date.now()}`;

const received = new Promise((resolve, reject) => {
  const stop = subscribe({
    url,
    channels: [channel],
    from: 'earliest',
    onEvent: (event) => {
      stop();
      resolve(event);
    },
    onError: (error) => {
      if (error.fatal) reject(error);
    },
  });
});

const publisher = createPublisher({
  topicArn,
  clientConfig: {
    endpoint: `${url}/sns`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  },
});
await publisher.publish(channel, 'from an installed publisher', { event: 'greeting' });
const event = await received;
console.log(JSON.stringify({ channel: event.channel, event: event.event, data: event.data }));
process.exit(0);
