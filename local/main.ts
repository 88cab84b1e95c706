/**
 * `npm start`: the whole system on this machine (see README, "Local stack").
 * Environment: PORT (8787), HOST (127.0.0.1), DATA_DIR (.data), plus the variables the
 * Lambda functions read.
 */
import { DataFolderInUseError, JavaMissingError } from './dynamodb-local.js';
import { npmLaunchChain, watchLaunchChain } from './launcher.js';
import { startLocalStack } from './stack.js';

// The AWS SDK warns at first use under Node 20 that its 2027 releases will need Node 22:
// eight lines of stderr between the user and the ready line, about a release not yet
// installed. Whoever set the variable decides.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack();
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof DataFolderInUseError) {
      console.error(error.message);
      process.exit(1);
    }
    if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
      console.error(`${error.message}: another process uses the port; set PORT to use another.`);
      process.exit(1);
    }
    throw error;
  }

  console.log(`Local stack ready: ${stack.url}`);
  console.log(`  Topic ARN:  ${stack.topicArn}`);
  console.log(`  SNS:        ${stack.url}/sns   (SNSClient endpoint)`);
  console.log(`  Stream:     ${stack.url}/events?channel=demo`);
  console.log(`  Poll:       ${stack.url}/poll?channel=demo`);
  console.log(`  Demo page:  ${stack.url}/`);
  console.log(`  DynamoDB:   ${stack.dynamoEndpoint}   (DynamoDB Local, pid ${stack.dynamoPid})`);
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  // Ctrl-C reaches DynamoDB Local too, which may end before the stop below does: only an
  // end nobody asked for is a failure.
  void stack.failed.then((error) => {
    if (stopping) return;
    stopping = true;
    console.error(`${error.message}\nThe local stack has stopped.`);
    process.exit(1);
  });
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${reason}: stopping…`);
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('stop failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  watchLaunchChain(await npmLaunchChain(), (gone) =>
    shutdown(`${gone.command} (pid ${gone.pid}), which runs npm start, has ended`),
  );
}

await main();
