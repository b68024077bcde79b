// Snapshots of the metawire Thrift metrics in a proxy's MetricStore, and their differences, so an
// end-to-end test can state exactly what its connections added.
import type { MetricStore } from "../host/metrics.js";

export const THRIFT_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error",
  "decode_errors_total", "passthrough_total"] as const;
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
