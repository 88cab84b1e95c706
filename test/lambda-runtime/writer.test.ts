/**
 * The writer's bundle from cdk.out under AWS's runtime interface client (Node 22), invoked
 * as the SQS event source mapping invokes it (a buffered response), writing to DynamoDB
 * Local and dead-lettering to a fake SQS endpoint.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBEventLog } from '../../functions/adapters/dynamodb/event-log.js';
import { eventLogTableDefinition } from '../../functions/adapters/dynamodb/table.js';
import { snsRecord, sqsEvent } from '../fixtures/sqs-events.js';
import { type FakeSqs, startFakeSqs } from './harness/fake-sqs.js';
import { waitReady } from './harness/lambda-function.js';
import {
  createFunction,
  dynamoEndpointEnv,
  functionEnvironment,
  harnessContext,
  lambdaTestsEnabled,
  waitFor,
} from './support.js';

/** The SQS message whose dead-lettering the fake queue refuses. */
const DLQ_REFUSED = 'msg-dlq-refused';

describe.skipIf(!lambdaTestsEnabled)('writer bundle under aws-lambda-ric', () => {
  let client: DynamoDBClient;
  let sqs: FakeSqs;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    client = new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    sqs = await startFakeSqs((m) => m.attributes.sourceMessageId?.StringValue === DLQ_REFUSED);
    return async () => {
      client.destroy();
      await sqs.close();
    };
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function writer(overrides: (env: Record<string, string>) => void = () => {}) {
    const tableName = `lambda-${randomUUID()}`;
    await client.send(new CreateTableCommand(eventLogTableDefinition(tableName)));
    const { writer: synthesized } = harnessContext();
    const environment = functionEnvironment(synthesized, {
      TABLE_NAME: tableName,
      DEAD_LETTER_QUEUE_URL: sqs.queueUrl('SsePubSub-DeadLetters'),
      ...dynamoEndpointEnv(),
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    });
    overrides(environment);
    const fn = createFunction('sse-writer', synthesized, environment);
    cleanups.push(() => fn.close());
    return { fn, log: new DynamoDBEventLog({ client, tableName }) };
  }

  it('stores an SNS notification from SQS and reports partial batch failures', async () => {
    const { fn, log } = await writer();
    const event = sqsEvent(
      snsRecord({
        sqsMessageId: 'msg-valid',
        message: JSON.stringify({ orderId: 7, status: 'paid' }),
        attributes: { channel: 'orders/7', event: 'order.paid' },
      }),
      // Breaks the contract: dead-lettered, and then handled.
      snsRecord({ sqsMessageId: 'msg-rejected', message: 'no channel', attributes: {} }),
      // Breaks it too, but the dead-letter queue refuses it: back to the queue.
      snsRecord({ sqsMessageId: DLQ_REFUSED, message: 'no channel either', attributes: {} }),
    );

    const invocation = await fn.invoke(event);
    const outcome = await invocation.done;
    if (outcome.kind !== 'response') throw new Error(`${outcome.kind}:\n${fn.output()}`);
    expect(outcome.mode).toBe('buffered');
    const response = JSON.parse(outcome.body.toString('utf8')) as SQSBatchResponse;
    // Exactly the shape the event source mapping reads with ReportBatchItemFailures.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: DLQ_REFUSED }] });

    const stored = await log.read('orders/7', 0);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      channel: 'orders/7',
      position: 1,
      event: 'order.paid',
      data: JSON.stringify({ orderId: 7, status: 'paid' }),
    });
    const dead = sqs.messages.filter((m) => !m.refused);
    expect(dead.map((m) => m.attributes.sourceMessageId?.StringValue)).toEqual(['msg-rejected']);
    expect(dead[0]?.attributes.rejectReason?.StringValue).toBe('MISSING_CHANNEL');

    // A redelivery of the same publish, on the now warm environment: stored once.
    await waitFor(() => invocation.nextRequestedAt !== undefined, 2_000, 'no /next');
    const again = await fn.invoke(
      sqsEvent(
        snsRecord({
          sqsMessageId: 'msg-valid-redelivered',
          snsMessageId: 'sns-msg-valid',
          message: JSON.stringify({ orderId: 7, status: 'paid' }),
          attributes: { channel: 'orders/7', event: 'order.paid' },
        }),
      ),
    );
    const second = await again.done;
    if (second.kind !== 'response') throw new Error(`${second.kind}:\n${fn.output()}`);
    expect(JSON.parse(second.body.toString('utf8'))).toEqual({ batchItemFailures: [] });
    expect(await log.read('orders/7', 0)).toHaveLength(1);
    expect(fn.environments).toHaveLength(1);
    const gap = (invocation.nextRequestedAt ?? 0) - (invocation.endedAt ?? 0);
    console.log(`writer: response → next /next ${gap} ms`);
    expect(gap).toBeLessThan(1_000);
  });

  it('reports a handler failure on /invocation/{id}/error', async () => {
    const { fn } = await writer();
    // No Records: the handler throws, and the runtime posts the error.
    const invocation = await fn.invoke({ notRecords: true });
    const outcome = await invocation.done;
    expect(outcome.kind).toBe('error');
    if (outcome.kind !== 'error') return;
    expect(outcome.error.errorType).toBe('TypeError');
    expect(outcome.error.body).toMatchObject({ errorType: 'TypeError' });
    expect(invocation.chunks).toHaveLength(0);
  });

  it('reports a configuration error on /init/error', async () => {
    const { fn } = await writer((env) => {
      delete env.DEAD_LETTER_QUEUE_URL;
    });
    await fn.warm().then(
      () => {
        throw new Error('init should have failed');
      },
      () => {},
    );
    const [environment] = fn.environments;
    if (environment === undefined) throw new Error('no environment was started');
    expect(environment.api.initError?.errorType).toBe('ConfigError');
    expect(JSON.stringify(environment.api.initError?.body)).toContain('DEAD_LETTER_QUEUE_URL');
    // The runtime exits after reporting; the environment is gone, as in Lambda.
    await waitFor(() => environment.state === 'dead', 5_000, 'the failed environment lives on');
    await expect(waitReady(environment)).rejects.toThrow(/died/);
  });
});
