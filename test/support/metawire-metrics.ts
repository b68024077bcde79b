// Snapshots of the metawire Redis metrics in a proxy's MetricStore, and their differences, so an
// end-to-end test can state exactly what one connection (or one script) added.
import type { MetricStore } from "../host/metrics.js";

export const REDIS_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error", "out_of_band_total",
  "decode_errors_total", "passthrough_total"] as const;
export type RedisCounter = (typeof REDIS_COUNTERS)[number];

export type RedisSnapshot = Record<RedisCounter, number> & { duration_samples: number };

export function redisSnapshot(metrics: MetricStore): RedisSnapshot {
  const out = { duration_samples: metrics.samples("metawire.redis.request_duration_us").length } as RedisSnapshot;
  for (const c of REDIS_COUNTERS) out[c] = Number(metrics.value(`metawire.redis.${c}`) ?? 0n);
  return out;
}

export function redisDelta(before: RedisSnapshot, after: RedisSnapshot): RedisSnapshot {
  const out = {} as RedisSnapshot;
  for (const k of Object.keys(after) as (keyof RedisSnapshot)[]) out[k] = after[k] - before[k];
  return out;
}
