/** Formatting shared by the summary and the Markdown: units, money, tables, labels. */
import type { BundleResult } from '../bundles.js';
import { round } from '../lib/stats.js';
import type { Fleet } from '../reads.js';

/** Appends one line (a paragraph, a table, or an empty line) to the Markdown. */
export type Emit = (text?: string) => void;

export const KB = 1024;

export function pct(value: number): string {
  return `${Math.round(value * 100)}%`;
}

export function ms(value: number): string {
  return `${round(value, value < 10 ? 1 : 0)} ms`;
}

export function kb(bytes: number): string {
  return `${round(bytes / KB, 1)} KiB`;
}

export function usd(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 0.995) return `$${value.toFixed(2)}`;
  if (value >= 0.01) return `$${value.toFixed(3)}`;
  return `$${value.toPrecision(3)}`;
}

export function find<T extends { readonly name: string }>(list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new Error(`no result named ${JSON.stringify(name)}`);
  return found;
}

export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]): string =>
    `| ${cells.map((c) => String(c).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function fleetLabel(fleet: Fleet): string {
  return fleet === 'node' ? 'Node adapter' : 'Lambda fleet';
}

/** A bundle's five biggest packages, with their sizes. */
export function largestInputs(bundle: BundleResult): string {
  return bundle.topInputs
    .slice(0, 5)
    .map((t) => `${t.module} ${kb(t.bytes)}`)
    .join(', ');
}
