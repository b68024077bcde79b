// Snapshots of the metawire Dubbo metrics in a proxy's MetricStore, and their differences, so an
// end-to-end test can state exactly what its connections added (read through metawire-metrics.ts).
import type { MetricStore } from "../host/metrics.js";
import { counterSnapshot, protocolSnapshot, snapshotDelta } from "./metawire-metrics.js";

export const DUBBO_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error", "out_of_band_total",
  "decode_errors_total", "passthrough_total"] as const;
export type DubboCounter = (typeof DUBBO_COUNTERS)[number];

export type DubboSnapshot = Record<DubboCounter, number> & { duration_samples: number };

export function dubboSnapshot(metrics: MetricStore): DubboSnapshot {
  return protocolSnapshot(metrics, "dubbo", DUBBO_COUNTERS);
}

export function dubboDelta(before: DubboSnapshot, after: DubboSnapshot): DubboSnapshot {
  return snapshotDelta(before, after);
}

/** The counters of policies and routing (assembly/filter/stats.ts ACTION_NAMES), apart from dubboSnapshot's traffic counters. */
export const DUBBO_POLICY_COUNTERS = ["denied_total", "aborted_total", "delayed_total", "rate_limited_total",
  "hold_overflow_total", "policy_closed_total", "rewrite_failures_total"] as const;
export type DubboPolicySnapshot = Record<(typeof DUBBO_POLICY_COUNTERS)[number], number>;

export function dubboPolicySnapshot(metrics: MetricStore): DubboPolicySnapshot {
  return counterSnapshot(metrics, "dubbo", DUBBO_POLICY_COUNTERS);
}

export function dubboPolicyDelta(before: DubboPolicySnapshot, after: DubboPolicySnapshot): DubboPolicySnapshot {
  return snapshotDelta(before, after);
}

/** The metrics one connection's frames call for: requests, replies by kind, events, no errors. */
export function framesSnapshot(requests: number, replies: number, events: number,
    kinds: { ok: number; error: number; exception: number }): DubboSnapshot {
  return {
    cx_total: 1,
    requests_total: requests,
    replies_ok: kinds.ok,
    replies_error: kinds.error + kinds.exception,
    out_of_band_total: events,
    decode_errors_total: 0,
    passthrough_total: 0,
    duration_samples: replies,
  } satisfies DubboSnapshot;
}
