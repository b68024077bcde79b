// Metric ids (defined once per VM in on_configure) and per-callback batching: counters are
// accumulated locally and flushed with one increment per non-zero counter when a host callback
// ends, so a pipelined batch of N requests costs a handful of host calls, not N.
import { defineMetric, incrementMetric, recordMetric } from "../abi/hostcalls";
import { MetricType } from "../abi/types";

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

/** Metric name suffixes of the ACT_* counters. */
export const ACTION_NAMES: StaticArray<string> = [
  "denied_total", "aborted_total", "delayed_total", "rate_limited_total", "routed_total", "route_too_late_total",
  "route_mismatch_total", "route_errors_total", "auth_failures_total", "hold_overflow_total", "policy_closed_total",
  "rewrite_failures_total",
];

export class ProtocolStats {
  cxTotal: u32 = 0;
  requests: u32 = 0;
  repliesOk: u32 = 0;
  repliesError: u32 = 0;
  outOfBand: u32 = 0;
  decodeErrors: u32 = 0;
  passthrough: u32 = 0;
  durationUs: u32 = 0;
  detected: u32 = 0;
  /** Policy and routing actions, indexed by ACT_*. */
  actions: StaticArray<u32> = new StaticArray<u32>(ACTION_NAMES.length);
  dActions: StaticArray<i64> = new StaticArray<i64>(ACTION_NAMES.length);
  private actionsDirty: bool = false;

  // batched deltas
  dCx: i64 = 0;
  dRequests: i64 = 0;
  dOk: i64 = 0;
  dError: i64 = 0;
  dOutOfBand: i64 = 0;
  dDecodeErrors: i64 = 0;
  dPassthrough: i64 = 0;
  dDetected: i64 = 0;

  define(protocol: string): void {
    const p = "metawire." + protocol + ".";
    this.cxTotal = defineMetric(MetricType.Counter, p + "cx_total");
    this.requests = defineMetric(MetricType.Counter, p + "requests_total");
    this.repliesOk = defineMetric(MetricType.Counter, p + "replies_ok");
    this.repliesError = defineMetric(MetricType.Counter, p + "replies_error");
    this.outOfBand = defineMetric(MetricType.Counter, p + "out_of_band_total");
    this.decodeErrors = defineMetric(MetricType.Counter, p + "decode_errors_total");
    this.passthrough = defineMetric(MetricType.Counter, p + "passthrough_total");
    this.durationUs = defineMetric(MetricType.Histogram, p + "request_duration_us");
    this.detected = defineMetric(MetricType.Counter, p + "detected_total");
    for (let i = 0; i < ACTION_NAMES.length; i++) this.actions[i] = defineMetric(MetricType.Counter, p + ACTION_NAMES[i]);
  }

  count(action: i32): void {
    unchecked(this.dActions[action]++);
    this.actionsDirty = true;
  }

  recordDuration(us: i64): void {
    recordMetric(this.durationUs, <u64>(us < 0 ? 0 : us));
  }

  flush(): void {
    if (this.dCx != 0) { incrementMetric(this.cxTotal, this.dCx); this.dCx = 0; }
    if (this.dRequests != 0) { incrementMetric(this.requests, this.dRequests); this.dRequests = 0; }
    if (this.dOk != 0) { incrementMetric(this.repliesOk, this.dOk); this.dOk = 0; }
    if (this.dError != 0) { incrementMetric(this.repliesError, this.dError); this.dError = 0; }
    if (this.dOutOfBand != 0) { incrementMetric(this.outOfBand, this.dOutOfBand); this.dOutOfBand = 0; }
    if (this.dDecodeErrors != 0) { incrementMetric(this.decodeErrors, this.dDecodeErrors); this.dDecodeErrors = 0; }
    if (this.dPassthrough != 0) { incrementMetric(this.passthrough, this.dPassthrough); this.dPassthrough = 0; }
    if (this.dDetected != 0) { incrementMetric(this.detected, this.dDetected); this.dDetected = 0; }
    if (this.actionsDirty) {
      this.actionsDirty = false;
      for (let i = 0; i < ACTION_NAMES.length; i++) {
        const d = unchecked(this.dActions[i]);
        if (d != 0) { incrementMetric(unchecked(this.actions[i]), d); unchecked(this.dActions[i] = 0); }
      }
    }
  }

}
