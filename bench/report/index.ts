/** Turns the bench's results into targets, a cost table, and docs/benchmarks.md. Pure. */
export { PRICES } from './cost.js';
export { renderMarkdown } from './markdown.js';
export { summarize } from './summary.js';
export type { BenchResults, CostRow, Summary, TargetCheck } from './types.js';
