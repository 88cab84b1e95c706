import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBChangeIndex } from '../functions/adapters/dynamodb/change-index.js';
import { DynamoDBEventLog } from '../functions/adapters/dynamodb/event-log.js';
import { startNewsFeed } from '../functions/adapters/dynamodb/news-feed.js';
import { eventLogTableDefinition } from '../functions/adapters/dynamodb/table.js';
import { startSubscribeServer } from '../functions/adapters/node/http-adapter.js';
import { authorizerFromConfig, readAuthConfig } from '../functions/auth/auth-config.js';
import { readChangeIndexConfig } from '../functions/config/change-index-config.js';
import { ConfigError, type Env, optionalString, positiveInteger } from '../functions/config/env.js';
import { ENV } from '../functions/config/environment.js';
import { MAX_PAYLOAD_BYTES } from '../functions/core/contract.js';
import type { Log } from '../functions/core/log.js';
import { createRouter } from '../functions/http/router.js';
import { readSubscribeConfig } from '../functions/http/subscribe-config.js';
import { processBatch } from '../functions/writer/process-batch.js';
import { DeadLetterFile, DeadLetterMemory } from './dead-letter-file.js';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_LOCAL_TABLE_NAME,
  DEFAULT_LOCAL_TOPIC_ARN,
  DEFAULT_PORT,
} from './defaults.js';
import { startDynamoDBLocal } from './dynamodb-local.js';
import { startLocalSns } from './sns/local-sns.js';
import { ensureTable } from './tables.js';

export interface LocalStackOptions {
  /** @default 8787; 0 picks a free port */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /**
   * Where data lives across restarts; a relative path is taken from the working
   * directory (the repository's folder under `npm start`). @default `.data`
   */
  readonly dataDir?: string;
  /** Keep nothing on disk (tests). @default false */
  readonly inMemory?: boolean;
  /**
   * The same variables the Lambda functions read (README, "Configuration"); access
   * control takes `AUTH_SECRET` here, not `AUTH_SECRET_ARN`.
   */
  readonly env?: Env;
  /** Log lines; @default one line per entry on stderr */
  readonly log?: Log;
}

export interface LocalStack {
  readonly url: string;
  readonly topicArn: string;
  readonly dynamoEndpoint: string;
  /** DynamoDB Local's process id. */
  readonly dynamoPid: number;
  /**
   * Settles if a part the stack cannot serve without ends on its own (DynamoDB Local
   * dying), once the rest has stopped, with an error saying what ended and how. Never
   * settles otherwise: a stack that keeps its port open without its store would answer
   * 500 to every request and hold streams open that never carry an event.
   */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

const DEMO_PAGE = new URL('./demo/index.html', import.meta.url);

/** Human-readable log lines for a terminal. */
export const consoleLog: Log = {
  info: (message, fields) => console.error(`${message} ${JSON.stringify(fields)}`),
  error: (message, fields) => console.error(`ERROR ${message} ${JSON.stringify(fields)}`),
};

/**
 * The whole system on one machine: DynamoDB Local as the store, the writer behind an
 * SNS-compatible endpoint (`POST /sns`), the subscribe routes (`/events`, `/poll`) and
 * the demo page (`/`), all on one port. The handlers are the ones Lambda runs.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = { ...process.env, ...options.env };
  const log = options.log ?? consoleLog;
  const dataDir = resolve(options.dataDir ?? optionalString(env, ENV.dataDir) ?? DEFAULT_DATA_DIR);
  const config = readSubscribeConfig({ [ENV.corsOrigins]: '*', ...env });
  const auth = readAuthConfig(env);
  if (auth.secretArn !== undefined) {
    throw new ConfigError(
      'environment variable AUTH_SECRET_ARN is for AWS; set AUTH_SECRET for the local stack',
    );
  }
  const authorize = authorizerFromConfig(auth);
  const tableName = optionalString(env, ENV.tableName) ?? DEFAULT_LOCAL_TABLE_NAME;
  const topicArn = optionalString(env, ENV.topicArn) ?? DEFAULT_LOCAL_TOPIC_ARN;
  const maxPayloadBytes = positiveInteger(env, ENV.maxPayloadBytes, MAX_PAYLOAD_BYTES);
  // Off by default here: the writer runs in this process and nudges the feed itself. With
  // CHANGE_INDEX_SHARDS set, the stack records and reads the index as the Web Function
  // host does, for other processes writing to the same DynamoDB Local.
  const changeIndex = readChangeIndexConfig(env);

  const dynamo = await startDynamoDBLocal({
    dataDir: options.inMemory ? undefined : join(dataDir, 'dynamodb'),
  });
  const stops: (() => Promise<void> | void)[] = [() => dynamo.stop()];
  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= (async () => {
      for (const stop of [...stops].reverse()) await stop();
    })();
    return stopping;
  };

  try {
    await ensureTable(dynamo.client, eventLogTableDefinition(tableName));
    const index =
      changeIndex === undefined
        ? undefined
        : new DynamoDBChangeIndex({ client: dynamo.client, tableName, shards: changeIndex.shards });
    const eventLog = new DynamoDBEventLog({
      client: dynamo.client,
      tableName,
      retentionMs: config.retentionMs,
      ...(index !== undefined && {
        changes: index,
        onChangeError: (error: unknown, channel: string) =>
          log.error('change index entry not written', { channel, error: String(error) }),
      }),
    });
    const { feed, close: closeFeed } = startNewsFeed({
      eventLog,
      client: dynamo.client,
      tableName,
      poll: { minMs: config.pollMinMs, maxMs: config.pollMaxMs },
      retentionMs: config.retentionMs,
      changeIndex,
      log,
    });
    stops.push(closeFeed);

    const deadLetters = options.inMemory
      ? new DeadLetterMemory()
      : new DeadLetterFile(join(dataDir, 'dead-letters.jsonl'));
    const sns = await startLocalSns({
      client: dynamo.client,
      tableName: `${tableName}-outbox`,
      topicArn,
      deliver: async (records) => {
        const result = await processBatch(records, {
          eventLog,
          deadLetters,
          log,
          metrics: { rejected() {}, appended() {}, duplicates() {}, failed() {} },
          maxPayloadBytes,
        });
        // The writer runs in this process: tell the subscribers' pollers at once rather
        // than let them find the events at their next poll.
        for (const channel of result.appendedChannels) feed.nudge(channel);
        return result;
      },
      log,
    });
    stops.push(() => sns.stop());

    const router = createRouter({
      config,
      feed: () => feed,
      clock: Date.now,
      random: Math.random,
      authorize,
      // The path only: the query string and headers may carry a token.
      onError: (error, request) =>
        log.error('request failed', { path: request.path, error: String(error) }),
    });
    const demoPage = (await readFile(DEMO_PAGE, 'utf8')).replaceAll('%TOPIC_ARN%', topicArn);
    const server = await startSubscribeServer({
      router,
      port: options.port ?? Number(optionalString(env, ENV.port) ?? DEFAULT_PORT),
      host: options.host ?? optionalString(env, ENV.host) ?? '127.0.0.1',
      handlers: {
        '/sns': sns.handle,
        '/sns/': sns.handle,
        '/': (req, res) => {
          if (req.method !== 'GET' && req.method !== 'HEAD') {
            res.writeHead(405, { allow: 'GET' }).end();
            return;
          }
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
          });
          res.end(req.method === 'HEAD' ? undefined : demoPage);
        },
      },
    });
    stops.push(() => server.close());
    const failed = dynamo.crashed.then(async (error) => {
      log.error('DynamoDB Local ended: the local stack stops', {
        pid: error.pid,
        code: error.code,
        signal: error.signal,
      });
      await stopAll();
      return error;
    });
    return {
      url: server.url,
      topicArn,
      dynamoEndpoint: dynamo.endpoint,
      dynamoPid: dynamo.pid,
      failed,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
