import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { WriterMetrics } from '../../writer/ports.js';

/** Writer metrics as CloudWatch embedded-metric log lines (no API call on the hot path). */
export function powertoolsWriterMetrics(metrics: Metrics): WriterMetrics {
  return {
    rejected(code) {
      metrics.addMetric('MessagesRejected', MetricUnit.Count, 1);
      // Per-reason counts go out at once with their own dimension, so the stored batch
      // keeps one dimension set for the alarms.
      const single = metrics.singleMetric();
      single.addDimension('Reason', code);
      single.addMetric('MessagesRejectedByReason', MetricUnit.Count, 1);
    },
    appended(count) {
      metrics.addMetric('EventsAppended', MetricUnit.Count, count);
    },
    duplicates(count) {
      metrics.addMetric('DuplicatesSkipped', MetricUnit.Count, count);
    },
    failed(count) {
      metrics.addMetric('AppendFailures', MetricUnit.Count, count);
    },
  };
}
