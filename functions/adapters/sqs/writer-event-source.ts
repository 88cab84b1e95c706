import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processBatch, type WriterDependencies } from '../../writer/process-batch.js';

/**
 * Binds {@link processBatch} to Lambda's SQS event source. The response lists the
 * messages to retry; the event source mapping must have `ReportBatchItemFailures`
 * on, or Lambda would retry the whole batch.
 */
export function createWriterHandler(
  deps: WriterDependencies & { readonly flush?: () => void },
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    try {
      const { failedMessageIds } = await processBatch(event.Records, deps);
      return { batchItemFailures: failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
    } finally {
      deps.flush?.();
    }
  };
}
