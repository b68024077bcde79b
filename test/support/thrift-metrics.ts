// Snapshots of the metawire Thrift metrics in a proxy's MetricStore, and their differences, so an
// end-to-end test can state exactly what its connections added (read through metawire-metrics.ts).
import type { MetricStore } from "../host/metrics.js";
import { counterSnapshot, protocolSnapshot, snapshotDelta } from "./metawire-metrics.js";

export const THRIFT_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error",
  "decode_errors_total", "passthrough_total"] as const;
/** The counters of policies and routing (assembly/filter/stats.ts ACTION_NAMES). */
export const THRIFT_POLICY_COUNTERS = ["denied_total", "aborted_total", "delayed_total", "rate_limited_total",
  "hold_overflow_total", "policy_closed_total", "rewrite_failures_total"] as const;
export type ThriftCounter = (typeof THRIFT_COUNTERS)[number];

export type ThriftSnapshot = Record<ThriftCounter, number> & { duration_samples: number };

export function thriftSnapshot(metrics: MetricStore): ThriftSnapshot {
  return protocolSnapshot(metrics, "thrift", THRIFT_COUNTERS);
}

export function thriftDelta(before: ThriftSnapshot, after: ThriftSnapshot): ThriftSnapshot {
  return snapshotDelta(before, after);
}

export type ThriftPolicySnapshot = Record<(typeof THRIFT_POLICY_COUNTERS)[number], number>;

/** The policy counters (kept apart from thriftSnapshot, whose shape the traffic tests compare whole). */
export function thriftPolicySnapshot(metrics: MetricStore): ThriftPolicySnapshot {
  return counterSnapshot(metrics, "thrift", THRIFT_POLICY_COUNTERS);
}

export function thriftPolicyDelta(before: ThriftPolicySnapshot, after: ThriftPolicySnapshot): ThriftPolicySnapshot {
  return snapshotDelta(before, after);
}
