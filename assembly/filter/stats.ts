// Metric ids (defined once per VM in on_configure, series on first use) and per-callback batching:
// counters are accumulated locally and flushed with one increment per changed counter when a host
// callback ends, so a pipelined batch of N requests costs a handful of host calls, not N.
// Names carry their tags Istio-style (telemetry/names.ts): `protocol=.=redis;.;metawire_…`.
import { defineMetric, incrementMetric } from "../abi/hostcalls";
import { MetricType } from "../abi/types";
import { FilterConfig } from "../config/config";
import { SeriesTable } from "../telemetry/series";
import { TAG_CLUSTER, TAG_POLICY, TAG_PROTOCOL, TAG_ROUTE, tag } from "../telemetry/names";

export const ACT_DENIED: i32 = 0;
export const ACT_ABORTED: i32 = 1;
export const ACT_DELAYED: i32 = 2;
export const ACT_RATE_LIMITED: i32 = 3;
export const ACT_ROUTED: i32 = 4;
export const ACT_ROUTE_TOO_LATE: i32 = 5;
export const ACT_ROUTE_MISMATCH: i32 = 6;
export const ACT_ROUTE_ERRORS: i32 = 7;
export const ACT_AUTH_FAILURES: i32 = 8;
export const ACT_HOLD_OVERFLOW: i32 = 9;
export const ACT_POLICY_CLOSED: i32 = 10;
export const ACT_REWRITE_FAILURES: i32 = 11;

/** Metric names of the ACT_* counters. The first four are per policy, ROUTED per route and cluster. */
export const ACTION_NAMES: StaticArray<string> = [
  "metawire_denied_total", "metawire_aborted_total", "metawire_delayed_total", "metawire_rate_limited_total", "metawire_routed_total",
  "metawire_route_too_late_total", "metawire_route_mismatch_total", "metawire_route_errors_total", "metawire_auth_failures_total",
  "metawire_hold_overflow_total", "metawire_policy_closed_total", "metawire_rewrite_failures_total",
];
const POLICY_ACTIONS: i32 = 4;
/** The `policy` tag of a request denied by `routing.on_mismatch`. */
export const MISMATCH_POLICY = "routing.on_mismatch";

export class ProtocolStats {
  cxTotal: u32 = 0;
  outOfBand: u32 = 0;
  decodeErrors: u32 = 0;
  passthrough: u32 = 0;
  detected: u32 = 0;
  activeRequests: u32 = 0;
  seriesOverflow: u32 = 0;
  /** Per-protocol action counters, indexed by ACT_* (the per-policy ones stay 0 here). */
  private actions: StaticArray<u32> = new StaticArray<u32>(ACTION_NAMES.length);
  /** [action × (policies + 1)]: the last column is routing.on_mismatch. */
  private policyActions: StaticArray<u32> = new StaticArray<u32>(0);
  private policyCount: i32 = 0;
  /** Per route, per weighted cluster. */
  private routed: Array<StaticArray<u32>> = [];
  series: SeriesTable = new SeriesTable("", false, 0);

  // batched deltas
  dCx: i64 = 0;
  dOutOfBand: i64 = 0;
  dDecodeErrors: i64 = 0;
  dPassthrough: i64 = 0;
  dDetected: i64 = 0;
  dActive: i64 = 0;
  private dActions: StaticArray<i64> = new StaticArray<i64>(ACTION_NAMES.length);
  private dPolicyActions: StaticArray<i64> = new StaticArray<i64>(0);
  private dRouted: Array<StaticArray<i64>> = [];
  private actionsDirty: bool = false;
  /** telemetry.flush_interval_ms > 0: flush() leaves the deltas for the root's tick (flushNow). */
  private deferred: bool = false;

  define(protocol: string, cfg: FilterConfig): void {
    const p = tag(TAG_PROTOCOL, protocol);
    this.cxTotal = defineMetric(MetricType.Counter, p + "metawire_connections_total");
    this.outOfBand = defineMetric(MetricType.Counter, p + "metawire_out_of_band_total");
    this.decodeErrors = defineMetric(MetricType.Counter, p + "metawire_decode_errors_total");
    this.passthrough = defineMetric(MetricType.Counter, p + "metawire_passthrough_total");
    this.detected = defineMetric(MetricType.Counter, p + "metawire_detected_total");
    this.activeRequests = defineMetric(MetricType.Gauge, p + "metawire_active_requests");
    this.seriesOverflow = defineMetric(MetricType.Counter, p + "metawire_series_overflow_total");
    for (let i = POLICY_ACTIONS + 1; i < ACTION_NAMES.length; i++) this.actions[i] = defineMetric(MetricType.Counter, p + ACTION_NAMES[i]);

    const policies = cfg.policies;
    const np = policies.length + 1;
    this.policyCount = policies.length;
    this.policyActions = new StaticArray<u32>(POLICY_ACTIONS * np);
    this.dPolicyActions = new StaticArray<i64>(POLICY_ACTIONS * np);
    for (let a = 0; a < POLICY_ACTIONS; a++) {
      for (let i = 0; i < np; i++) {
        const name = i < policies.length ? policies[i].name : MISMATCH_POLICY;
        // only the actions a policy can take: a mismatch can only deny
        if (i == policies.length && a != ACT_DENIED) continue;
        this.policyActions[a * np + i] = defineMetric(MetricType.Counter, p + tag(TAG_POLICY, name) + ACTION_NAMES[a]);
      }
    }
    for (let r = 0; r < cfg.routes.length; r++) {
      const route = cfg.routes[r];
      const ids = new StaticArray<u32>(route.clusters.length);
      for (let c = 0; c < route.clusters.length; c++) {
        ids[c] = defineMetric(MetricType.Counter, p + tag(TAG_ROUTE, route.name) + tag(TAG_CLUSTER, route.clusters[c].name) + ACTION_NAMES[ACT_ROUTED]);
      }
      this.routed.push(ids);
      this.dRouted.push(new StaticArray<i64>(route.clusters.length));
    }
    this.series = new SeriesTable(protocol, cfg.telemetrySeries, cfg.maxSeries);
    this.deferred = cfg.flushIntervalMs > 0;
  }

  /** A per-protocol action (ACT_ROUTE_TOO_LATE and later). */
  count(action: i32): void {
    unchecked(this.dActions[action]++);
    this.actionsDirty = true;
  }

  /** A policy action (ACT_DENIED … ACT_RATE_LIMITED) of policy `policy`, or of routing.on_mismatch (−1). */
  countPolicy(action: i32, policy: i32): void {
    const np = this.policyCount + 1;
    const i = action * np + (policy < 0 ? this.policyCount : policy);
    if (i < 0 || i >= this.dPolicyActions.length) return;
    unchecked(this.dPolicyActions[i]++);
    this.actionsDirty = true;
  }

  countRouted(route: i32, cluster: i32): void {
    if (route < 0 || route >= this.dRouted.length) return;
    const d = this.dRouted[route];
    if (cluster < 0 || cluster >= d.length) return;
    d[cluster]++;
    this.actionsDirty = true;
  }

  /** End of a host callback: the batched deltas go to the host now, or at the next flush tick. */
  flush(): void {
    if (!this.deferred) this.flushNow();
  }

  flushNow(): void {
    if (this.dCx != 0) { incrementMetric(this.cxTotal, this.dCx); this.dCx = 0; }
    if (this.dOutOfBand != 0) { incrementMetric(this.outOfBand, this.dOutOfBand); this.dOutOfBand = 0; }
    if (this.dDecodeErrors != 0) { incrementMetric(this.decodeErrors, this.dDecodeErrors); this.dDecodeErrors = 0; }
    if (this.dPassthrough != 0) { incrementMetric(this.passthrough, this.dPassthrough); this.dPassthrough = 0; }
    if (this.dDetected != 0) { incrementMetric(this.detected, this.dDetected); this.dDetected = 0; }
    if (this.dActive != 0) { incrementMetric(this.activeRequests, this.dActive); this.dActive = 0; }
    const series = this.series;
    if (series.overflowed != 0) { incrementMetric(this.seriesOverflow, series.overflowed); series.overflowed = 0; }
    series.flush();
    if (this.actionsDirty) this.flushActions();
  }

  private flushActions(): void {
    this.actionsDirty = false;
    for (let i = 0; i < ACTION_NAMES.length; i++) {
      const d = unchecked(this.dActions[i]);
      if (d != 0) { incrementMetric(unchecked(this.actions[i]), d); unchecked(this.dActions[i] = 0); }
    }
    for (let i = 0; i < this.dPolicyActions.length; i++) {
      const d = unchecked(this.dPolicyActions[i]);
      if (d != 0) { incrementMetric(unchecked(this.policyActions[i]), d); unchecked(this.dPolicyActions[i] = 0); }
    }
    for (let r = 0; r < this.dRouted.length; r++) {
      const d = this.dRouted[r];
      for (let c = 0; c < d.length; c++) {
        if (d[c] != 0) { incrementMetric(this.routed[r][c], d[c]); d[c] = 0; }
      }
    }
  }
}
