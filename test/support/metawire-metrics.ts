// Reading metawire's metrics out of a harness MetricStore — the one place tests do it.
//
// The filter defines its stats with Istio-style tags in the name (assembly/telemetry/names.ts):
// `protocol=.=redis;.;service=.=;.;method=.=GET;.;metawire_requests_total`. metawireSeries() runs
// Envoy's own tag extraction (test/host/metrics.ts extractTags, with the stats_tags of
// envoy/stats-tags.yaml) over each stat, so a test asks for `metawire_requests_total` with a tag
// filter, and gets the sum over every series that matches — the way a PromQL `sum(...)` would.
//
// legacyCounter() keeps the older tests' vocabulary (`cx_total`, `replies_ok`, … per protocol) as a
// thin mapping onto the new names; the snapshots below build on it.
import { METAWIRE_STATS_TAGS, MetricType, extractTags, type MetricStore } from "../host/metrics.js";

const NAMESPACE = "wasmcustom.";

export interface MetawireSeries {
  /** The metric name once the tags are extracted (`metawire_requests_total`). */
  name: string;
  type: number;
  tags: Record<string, string>;
  /** Counter or gauge value (a gauge as a signed 64-bit number); 0 for histograms. */
  value: bigint;
  /** Histogram samples (empty for counters and gauges). */
  samples: bigint[];
}

export type TagFilter = Record<string, string>;

const parsed = new Map<string, { name: string; tags: Record<string, string> }>();

/** The extracted name and tags of one defined stat name. */
export function parseMetricName(defined: string): { name: string; tags: Record<string, string> } {
  let hit = parsed.get(defined);
  if (!hit) {
    const { extracted, tags } = extractTags(NAMESPACE + defined, METAWIRE_STATS_TAGS);
    const name = extracted.startsWith(NAMESPACE) ? extracted.slice(NAMESPACE.length) : extracted;
    hit = { name, tags: Object.fromEntries(tags.map((t) => [t.name, t.value])) };
    parsed.set(defined, hit);
  }
  return hit;
}

/** Every metawire series in the store (optionally only those named `name` whose tags include `filter`). */
export function metawireSeries(metrics: MetricStore, name?: string, filter: TagFilter = {}): MetawireSeries[] {
  const out: MetawireSeries[] = [];
  for (const stat of metrics.all()) {
    const p = parseMetricName(stat.name);
    if (!p.name.startsWith("metawire_")) continue;
    if (name !== undefined && p.name !== name) continue;
    if (!Object.entries(filter).every(([k, v]) => p.tags[k] === v)) continue;
    out.push({
      name: p.name, type: stat.type, tags: p.tags,
      value: stat.type === MetricType.Gauge ? BigInt.asIntN(64, stat.value) : stat.type === MetricType.Counter ? stat.value : 0n,
      samples: [...stat.samples],
    });
  }
  return out;
}

/** Sum of a counter (or gauge) over the series whose tags include `filter`; 0 when there is none. */
export function metricValue(metrics: MetricStore, name: string, filter: TagFilter = {}): number {
  const series = metawireSeries(metrics, name, filter);
  const histogram = series.find((s) => s.type === MetricType.Histogram);
  if (histogram) throw new Error(`${name} is a histogram: use metricSamples`);
  return Number(series.reduce((sum, s) => sum + s.value, 0n));
}

/** Every histogram sample of the series whose tags include `filter`. */
export function metricSamples(metrics: MetricStore, name: string, filter: TagFilter = {}): bigint[] {
  return metawireSeries(metrics, name, filter).filter((s) => s.type === MetricType.Histogram).flatMap((s) => s.samples);
}

// ---- the older per-protocol vocabulary ----

/** Counters the older tests name, each `metawire_<name>` summed over its other tags unless mapped below. */
export const LEGACY_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error", "out_of_band_total",
  "decode_errors_total", "passthrough_total", "detected_total", "denied_total", "aborted_total", "delayed_total",
  "rate_limited_total", "routed_total", "route_too_late_total", "route_mismatch_total", "route_errors_total",
  "auth_failures_total", "hold_overflow_total", "policy_closed_total", "rewrite_failures_total"] as const;
export type LegacyCounter = (typeof LEGACY_COUNTERS)[number];

/**
 * A counter of one protocol by its older name: cx_total = connections_total; replies_ok =
 * responses_total{response_status=ok}; replies_error = responses with status error or exception;
 * the per-policy and per-route counters summed over their policy / route / cluster tags.
 */
export function legacyCounter(metrics: MetricStore, protocol: string, legacy: string): number {
  const p = { protocol };
  switch (legacy) {
    case "cx_total": return metricValue(metrics, "metawire_connections_total", p);
    case "replies_ok": return metricValue(metrics, "metawire_responses_total", { protocol, response_status: "ok" });
    case "replies_error":
      return metricValue(metrics, "metawire_responses_total", { protocol, response_status: "error" })
        + metricValue(metrics, "metawire_responses_total", { protocol, response_status: "exception" });
    default:
      if (!(LEGACY_COUNTERS as readonly string[]).includes(legacy)) throw new Error(`unknown metawire counter ${legacy}`);
      return metricValue(metrics, `metawire_${legacy}`, p);
  }
}

/** Latency samples of one protocol, all series (one per answered request). */
export function durationSamples(metrics: MetricStore, protocol: string): bigint[] {
  return metricSamples(metrics, "metawire_request_duration_us", { protocol });
}

/** The traffic counters every protocol snapshot carries. */
export const TRAFFIC_COUNTERS = ["cx_total", "requests_total", "replies_ok", "replies_error", "out_of_band_total",
  "decode_errors_total", "passthrough_total"] as const;

/** `counters` of one protocol, by their older names, plus the number of latency samples. */
export function protocolSnapshot<C extends string>(metrics: MetricStore, protocol: string, counters: readonly C[]):
  Record<C, number> & { duration_samples: number } {
  const out = { duration_samples: durationSamples(metrics, protocol).length } as Record<C, number> & { duration_samples: number };
  for (const c of counters) (out as Record<string, number>)[c] = legacyCounter(metrics, protocol, c);
  return out;
}

/** Counters without the latency samples. */
export function counterSnapshot<C extends string>(metrics: MetricStore, protocol: string, counters: readonly C[]): Record<C, number> {
  const out = {} as Record<C, number>;
  for (const c of counters) out[c] = legacyCounter(metrics, protocol, c);
  return out;
}

/** after − before, key by key. */
export function snapshotDelta<T extends Record<string, number>>(before: T, after: T): T {
  const out = {} as Record<string, number>;
  for (const k of Object.keys(after)) out[k] = after[k] - before[k];
  return out as T;
}

// ---- Redis (the e2e tests' snapshots) ----

export const REDIS_COUNTERS = TRAFFIC_COUNTERS;
export type RedisCounter = (typeof REDIS_COUNTERS)[number];
export type RedisSnapshot = Record<RedisCounter, number> & { duration_samples: number };

export function redisSnapshot(metrics: MetricStore): RedisSnapshot {
  return protocolSnapshot(metrics, "redis", REDIS_COUNTERS);
}

export function redisDelta(before: RedisSnapshot, after: RedisSnapshot): RedisSnapshot {
  return snapshotDelta(before, after);
}
