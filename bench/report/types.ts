/** The shapes the report reads and returns: a run's results, and its summary. */
import type { AppendResult } from '../append.js';
import type { BundleResult } from '../bundles.js';
import type { LambdaLatencyResult } from '../lambda-latency.js';
import type { FanoutResult, LatencyResult } from '../latency.js';
import type { LocalSnsResult } from '../local-sns.js';
import type { MemoryResult } from '../memory.js';
import type { NchanResult } from '../nchan.js';
import type { ActiveReads, IdleReads } from '../reads.js';
import type { SoakReport } from '../soak-checker.js';
import type { WebFunctionResult } from '../web-function.js';

export interface BenchResults {
  readonly machine: {
    readonly date: string;
    readonly nproc: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly freeMemoryGiB: number;
    readonly node: string;
    readonly os: string;
    readonly loadAverageAtStart: readonly number[];
    readonly commit: string;
  };
  readonly quick: boolean;
  readonly bundles: readonly BundleResult[];
  readonly appends: readonly AppendResult[];
  /** Older runs had no local SNS delivery figures. */
  readonly localSns?: readonly LocalSnsResult[];
  readonly idleReads: readonly IdleReads[];
  readonly activeReads: readonly ActiveReads[];
  readonly latency: {
    readonly product: readonly LatencyResult[];
    readonly baseline: readonly LatencyResult[];
    /** nginx with nchan, the same cases; absent where it is not installed, and in older runs. */
    readonly nchan?: readonly LatencyResult[];
  };
  readonly fanout: {
    readonly product: FanoutResult;
    readonly baseline: FanoutResult;
    /** The same burst appended straight to the product's log: fan-out without ingestion. */
    readonly productStoredDirectly?: FanoutResult | undefined;
    /** nginx with nchan, published through `/sns`; absent where it is not installed. */
    readonly nchan?: FanoutResult;
  };
  readonly memory: { readonly product: MemoryResult; readonly baseline: MemoryResult };
  /** The function URL host's simulated fleet, append → receive; older runs had none. */
  readonly lambdaLatency?: readonly LambdaLatencyResult[];
  /** The Lambda Web Function host; older runs had none. */
  readonly webFunction?: WebFunctionResult;
  /** nchan's version, or why it was not measured, and its deployed-path figures; older runs had none. */
  readonly nchan?: NchanResult;
  readonly durationSeconds: number;
  readonly loadAverageAtEnd: readonly number[];
  /** A soak run's trace, checked again (`--soak-trace`). */
  readonly soak?: { readonly meta: Readonly<Record<string, unknown>>; readonly report: SoakReport };
}

export interface TargetCheck {
  /** The issue that set the target. */
  readonly issue: number;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
  /** For a missed target: by how much, and what stands in the way. */
  readonly gap?: string;
}

export interface CostRow {
  readonly item: string;
  readonly quantity: string;
  readonly unitPrice: string;
  readonly dollars: number;
  readonly per: string;
}

export interface Summary {
  readonly targets: readonly TargetCheck[];
  readonly ratios: {
    /** Ours ÷ baseline, per latency case (p50, p99). */
    readonly latency: readonly {
      readonly name: string;
      readonly p50: number;
      readonly p99: number;
    }[];
    /** Ours ÷ baseline deliveries per second. */
    readonly fanout: number;
    /** Ours with the burst stored straight into the log ÷ baseline. */
    readonly fanoutStoredDirectly?: number | undefined;
  };
  readonly cost: {
    readonly rows: readonly CostRow[];
    readonly idleConnectionHour: number;
    readonly perMillionPublished: number;
    readonly perMillionDelivered: number;
    readonly nodeChannelHour: number;
  };
}
