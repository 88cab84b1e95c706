/**
 * Drops the AWS SDK's NodeVersionSupportWarning (Node 20 here) from the bench's output
 * and prints every other process warning as Node would. Import it first.
 */
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (`${warning.name} ${warning.message}`.includes('NodeVersionSupportWarning')) return;
  console.error(`(node:${process.pid}) ${warning.name}: ${warning.message}`);
});
