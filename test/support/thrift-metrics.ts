// Snapshots of the metawire Thrift metrics in a proxy's MetricStore, and their differences, so an
// end-to-end test can state exactly what its connections added.
import type { MetricStore } from "../host/metrics.js";

export const THRIFT_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error",
  "decode_errors_total", "passthrough_total"] as const;
/** The counters of policies and routing (assembly/filter/stats.ts ACTION_NAMES). */
export const THRIFT_POLICY_COUNTERS = ["denied_total", "aborted_total", "delayed_total", "rate_limited_total",
  "hold_overflow_total", "policy_closed_total", "rewrite_failures_total"] as const;
export type ThriftCounter = (typeof THRIFT_COUNTERS)[number];

export type ThriftSnapshot = Record<ThriftCounter, number> & { duration_samples: number };

export function thriftSnapshot(metrics: MetricStore): ThriftSnapshot {
  const out = { duration_samples: metrics.samples("metawire.thrift.request_duration_us").length } as ThriftSnapshot;
  for (const c of THRIFT_COUNTERS) out[c] = Number(metrics.value(`metawire.thrift.${c}`) ?? 0n);
  return out;
}

export function thriftDelta(before: ThriftSnapshot, after: ThriftSnapshot): ThriftSnapshot {
  const out = {} as ThriftSnapshot;
  for (const k of Object.keys(after) as (keyof ThriftSnapshot)[]) out[k] = after[k] - before[k];
  return out;
}

export type ThriftPolicySnapshot = Record<(typeof THRIFT_POLICY_COUNTERS)[number], number>;

/** The policy counters (kept apart from thriftSnapshot, whose shape the traffic tests compare whole). */
export function thriftPolicySnapshot(metrics: MetricStore): ThriftPolicySnapshot {
  const out = {} as ThriftPolicySnapshot;
  for (const c of THRIFT_POLICY_COUNTERS) out[c] = Number(metrics.value(`metawire.thrift.${c}`) ?? 0n);
  return out;
}

export function thriftPolicyDelta(before: ThriftPolicySnapshot, after: ThriftPolicySnapshot): ThriftPolicySnapshot {
  const out = {} as ThriftPolicySnapshot;
  for (const k of Object.keys(after) as (keyof ThriftPolicySnapshot)[]) out[k] = after[k] - before[k];
  return out;
}
