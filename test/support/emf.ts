/**
 * Reads CloudWatch embedded-metric lines as a test sees them on stdout: each line's
 * dimension values and metric values, looked up by name.
 */
import { vi } from 'vitest';

export interface EmfRecord {
  readonly namespace: string;
  /** The dimension names of the record's one dimension set. */
  readonly dimensionNames: readonly string[];
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, { unit: string; resolution?: number }>>;
  readonly values: Readonly<Record<string, number | number[]>>;
}

interface EmfLine {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { Name: string; Unit: string; StorageResolution?: number }[];
    }[];
  };
  readonly [field: string]: unknown;
}

function isEmfLine(value: unknown): value is EmfLine {
  return typeof value === 'object' && value !== null && '_aws' in value;
}

/** Every EMF record in `text` (one JSON object per line; other lines are skipped). */
export function parseEmf(text: string): EmfRecord[] {
  const records: EmfRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isEmfLine(parsed)) continue;
    for (const directive of parsed._aws.CloudWatchMetrics) {
      const dimensionNames = directive.Dimensions[0] ?? [];
      const dimensions: Record<string, string> = {};
      for (const name of dimensionNames) dimensions[name] = String(parsed[name]);
      const metrics: Record<string, { unit: string; resolution?: number }> = {};
      const values: Record<string, number | number[]> = {};
      for (const metric of directive.Metrics) {
        metrics[metric.Name] = {
          unit: metric.Unit,
          ...(metric.StorageResolution !== undefined && { resolution: metric.StorageResolution }),
        };
        values[metric.Name] = parsed[metric.Name] as number | number[];
      }
      records.push({ namespace: directive.Namespace, dimensionNames, dimensions, metrics, values });
    }
  }
  return records;
}

/** What was written to stdout while `run` ran, as EMF records. */
export async function captureEmf(run: () => unknown): Promise<EmfRecord[]> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return parseEmf(chunks.join(''));
}

/**
 * The value of `metric` summed over the records whose dimensions are exactly
 * `dimensions` (besides `service`); an array of values adds its values.
 */
export function metricTotal(
  records: readonly EmfRecord[],
  metric: string,
  dimensions: Readonly<Record<string, string>> = {},
): number | undefined {
  let total: number | undefined;
  for (const record of matching(records, metric, dimensions)) {
    const value = record.values[metric];
    total = (total ?? 0) + (Array.isArray(value) ? value.reduce((a, b) => a + b, 0) : (value ?? 0));
  }
  return total;
}

/** Every value of `metric` in the matching records, in order. */
export function metricValues(
  records: readonly EmfRecord[],
  metric: string,
  dimensions: Readonly<Record<string, string>> = {},
): number[] {
  return matching(records, metric, dimensions).flatMap((record) => {
    const value = record.values[metric];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  });
}

function matching(
  records: readonly EmfRecord[],
  metric: string,
  dimensions: Readonly<Record<string, string>>,
): EmfRecord[] {
  const wanted = Object.keys(dimensions).sort();
  return records.filter((record) => {
    if (!(metric in record.values)) return false;
    const names = record.dimensionNames.filter((name) => name !== 'service').sort();
    if (names.join(',') !== wanted.join(',')) return false;
    return wanted.every((name) => record.dimensions[name] === dimensions[name]);
  });
}
