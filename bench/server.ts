/**
 * A server for the bench, run in its own process so that the clients' memory and CPU
 * stay out of its figures: `node --import tsx bench/server.ts '<ServerConfig JSON>'`.
 * It reports `ready` over IPC, answers `stats` (memory after GC, CPU, DynamoDB counts)
 * and exits on `stop` or when the bench goes away.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { startSubscribeServer } from '../functions/adapters/node/http-adapter.js';
import { ENV } from '../functions/config/environment.js';
import type { Log } from '../functions/core/log.js';
import { SharedFeed } from '../functions/core/shared-feed.js';
import { createRouter } from '../functions/http/router.js';
import { readSubscribeConfig } from '../functions/http/subscribe-config.js';
import type {} from '../functions/writer/process-batch.js';
import { DEFAULT_LOCAL_TOPIC_ARN } from '../local/defaults.js';
import { startLocalStack } from '../local/stack.js';
import { startBaselineServer } from './baseline-server.js';
import { countDynamoDB, type DynamoDBCounter } from './lib/dynamodb-counter.js';
import {
  type ChildMessage,
  isParentMessage,
  parseServerConfig,
  type ServerConfig,
} from './lib/server-protocol.js';

/** Errors only: the writer's per-batch info lines would drown the bench's output. */
const quietLog: Log = {
  info: () => {},
  error: (message, fields) => console.error(`[bench server] ${message} ${JSON.stringify(fields)}`),
};

interface Running {
  readonly url: string;
  readonly topicArn: string;
  readonly dynamoEndpoint?: string | undefined;
  readonly counter?: DynamoDBCounter | undefined;
  stop(): Promise<void>;
}

async function start(config: ServerConfig): Promise<Running> {
  const env = config.env ?? {};
  if (config.mode === 'stack') {
    const stack = await startLocalStack({ port: 0, inMemory: true, env, log: quietLog });
    return {
      url: stack.url,
      topicArn: stack.topicArn,
      dynamoEndpoint: stack.dynamoEndpoint,
      stop: () => stack.stop(),
    };
  }
  if (config.mode === 'baseline') {
    const server = await startBaselineServer();
    return { url: server.url, topicArn: server.topicArn, stop: () => server.close() };
  }
  // The Node adapter assembled exactly as local/stack.ts does, on the bench's DynamoDB.
  if (config.dynamoEndpoint === undefined || config.tableName === undefined) {
    throw new Error('node mode needs dynamoEndpoint and tableName');
  }
  const client = new DynamoDBClient({
    endpoint: config.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const counter = countDynamoDB(client);
  const subscribeConfig = readSubscribeConfig({ [ENV.corsOrigins]: '*', ...env });
  const eventLog = new DynamoDBEventLog({
    client,
    tableName: config.tableName,
    retentionMs: subscribeConfig.retentionMs,
  });
  const feed = new SharedFeed(eventLog, {
    interval: { minMs: subscribeConfig.pollMinMs, maxMs: subscribeConfig.pollMaxMs },
    retentionMs: subscribeConfig.retentionMs,
    onError: (error, channel) => quietLog.error('read failed', { channel, error: String(error) }),
  });
  const router = createRouter({
    config: subscribeConfig,
    feed: () => feed,
    clock: Date.now,
    random: Math.random,
  });
  const server = await startSubscribeServer({ router, port: 0 });
  return {
    url: server.url,
    topicArn: DEFAULT_LOCAL_TOPIC_ARN,
    counter,
    stop: async () => {
      await server.close();
      feed.close();
      client.destroy();
    },
  };
}

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

function collect(): void {
  const gc = globalThis.gc;
  if (gc === undefined) return;
  gc();
  gc();
}

async function main(): Promise<void> {
  const config = parseServerConfig(process.argv[2]);
  let running: Running;
  try {
    running = await start(config);
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await running.stop().catch(() => {});
    process.exit(0);
  };
  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === 'stop') {
      void stop();
      return;
    }
    collect();
    send({
      type: 'stats',
      memory: process.memoryUsage(),
      gc: globalThis.gc !== undefined,
      cpu: process.cpuUsage(),
      dynamo: running.counter?.snapshot(),
    });
  });
  process.on('disconnect', () => void stop());
  send({
    type: 'ready',
    url: running.url,
    topicArn: running.topicArn,
    dynamoEndpoint: running.dynamoEndpoint,
  });
}

await main();
