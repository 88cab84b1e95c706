/**
 * Figures that the targets and more than one section derive from a run: a fan-out's
 * server CPU per delivery, and which Web Function cases are the deployed path's.
 */
import type { FanoutResult } from '../latency.js';
import type { WebFunctionIdle, WebFunctionLatency, WebFunctionResult } from '../web-function.js';

/** Server CPU time per delivery, µs. */
export function cpuPerDeliveryUs(f: FanoutResult): number {
  return (f.serverCpuShare * f.elapsedMs * 1000) / Math.max(1, f.delivered);
}

/** Older runs name no `changeIndex`: they ran with it on. */
export const indexed = (x: { readonly changeIndex?: boolean }): boolean => x.changeIndex !== false;

/** Every connection on a channel of its own, as with per-user channels. */
const perUser = (connections: number, channels: number): boolean =>
  channels > 1 && channels === connections;

/** The Web Function cases of one row of the deployed-path table. */
export interface WebFunctionCases {
  readonly latency: WebFunctionLatency | undefined;
  readonly idle: WebFunctionIdle | undefined;
}

export interface DeployedPathCases {
  /** With the change index: one channel (latency 100 subscribers, idle its 128 connections). */
  readonly oneChannel: WebFunctionCases;
  /** With the change index: per-user channels. */
  readonly perUser: WebFunctionCases;
  /** Without the change index (each channel polls itself): per-user channels. */
  readonly perUserOwnPolls: WebFunctionCases;
}

export function deployedPathCases(w: WebFunctionResult | undefined): DeployedPathCases {
  const latency = w?.latency ?? [];
  const idle = w?.idle ?? [];
  const perUserLatency = (withIndex: boolean) =>
    latency.find((x) => indexed(x) === withIndex && perUser(x.subscribers, x.channels));
  const perUserIdle = (withIndex: boolean) =>
    idle.find((x) => indexed(x) === withIndex && perUser(x.connections, x.channels));
  return {
    oneChannel: {
      latency: latency.find((x) => indexed(x) && x.channels === 1),
      // The first one-channel case is the 128 connections one environment serves.
      idle: idle.find((x) => indexed(x) && x.channels === 1),
    },
    perUser: { latency: perUserLatency(true), idle: perUserIdle(true) },
    perUserOwnPolls: { latency: perUserLatency(false), idle: perUserIdle(false) },
  };
}
