// Helpers of the Redis enforcement tests (policies, faults, rate limits, auth): the bytes the
// filter writes in place of a rejected command, a hand-driven clock for in-memory VMs, a
// redis-server that may require a password, redis-cli runs and counter snapshots.
import { execFile } from "node:child_process";
import type { Clock } from "../host/vm.js";
import type { MetricStore } from "../host/metrics.js";
import { startRedis, type RedisServer } from "./redis-server.js";

/** What the filter sends upstream instead of a rejected (or filter-answered) command. */
export const PING_SUBSTITUTE = Buffer.from("*1\r\n$4\r\nPING\r\n");
export const NOAUTH = "NOAUTH Authentication required.";
export const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

export const denyPolicy = (name: string, match: object, message = "forbidden"): object =>
  ({ name, match, deny: { message } });

/** A monotonic/realtime clock that only moves when the test says so (timers: "manual"). */
export class ManualClock implements Clock {
  ns = 1_000_000_000_000n;
  realtimeNs(): bigint { return this.ns; }
  monotonicNs(): bigint { return this.ns; }
  advanceMs(ms: number): void { this.ns += BigInt(Math.round(ms * 1e6)); }
}

export const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

/** Every Redis counter the enforcement tests look at (short names, see redisCounter). */
export const POLICY_COUNTERS = ["requests_total", "replies_ok", "replies_error", "denied_total", "aborted_total",
  "delayed_total", "rate_limited_total", "auth_failures_total", "hold_overflow_total", "policy_closed_total",
  "rewrite_failures_total", "decode_errors_total", "passthrough_total"] as const;
export type PolicyCounter = (typeof POLICY_COUNTERS)[number];
export type PolicyCounts = Record<PolicyCounter, number>;

/** `a=.=1;.;b=.=2;.;metric` → tags {a: "1", b: "2"} and the metric name (Istio's tag-in-name form). */
function parseTagged(name: string): { metric: string; tags: Record<string, string> } {
  const tags: Record<string, string> = {};
  let rest = name;
  for (let m = /^([^=;]+)=\.=(.*?);\.;/.exec(rest); m; m = /^([^=;]+)=\.=(.*?);\.;/.exec(rest)) {
    tags[m[1]] = m[2];
    rest = rest.slice(m[0].length);
  }
  return { metric: rest, tags };
}

/**
 * A Redis counter by short name, summed over the series that carry `where`'s tags: the tagged
 * names (`protocol=.=redis;.;…;.;metawire_denied_total`, replies_ok/error = metawire_responses_total
 * with response_status ok/error) or, where the module still defines them, `metawire.redis.<name>`.
 */
export function redisCounter(metrics: MetricStore, name: string, where: Record<string, string> = {}): number {
  const legacy = metrics.value(`metawire.redis.${name}`);
  if (legacy !== undefined && Object.keys(where).length === 0) return Number(legacy);
  const want: Record<string, string> = { protocol: "redis", ...where };
  let metric = `metawire_${name}`;
  if (name === "replies_ok" || name === "replies_error") {
    metric = "metawire_responses_total";
    want.response_status = name === "replies_ok" ? "ok" : "error";
  }
  let sum = 0;
  for (const n of metrics.names()) {
    const t = parseTagged(n);
    if (t.metric !== metric || !Object.entries(want).every(([k, v]) => t.tags[k] === v)) continue;
    sum += Number(metrics.value(n) ?? 0n);
  }
  return sum;
}

export function policyCounts(metrics: MetricStore): PolicyCounts {
  const out = {} as PolicyCounts;
  for (const c of POLICY_COUNTERS) out[c] = redisCounter(metrics, c);
  return out;
}

/** after − before, keeping only the counters that moved. */
export function policyDelta(before: PolicyCounts, after: PolicyCounts): Partial<PolicyCounts> {
  const out: Partial<PolicyCounts> = {};
  for (const c of POLICY_COUNTERS) if (after[c] !== before[c]) out[c] = after[c] - before[c];
  return out;
}

// ---- real peers ---------------------------------------------------------------------------------

export type Server = RedisServer;

/** A redis-server for these tests; `args` may make it require a password (see startRedis). */
export function startRedisWith(args: string[] = []): Promise<Server> {
  return startRedis(args);
}

export interface CliResult { code: number; stdout: string; stderr: string }

/** redis-cli against 127.0.0.1:port; `stdin` is what it reads (its non-interactive session). */
export function redisCli(port: number, args: string[], stdin = ""): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args],
      { encoding: "utf8", timeout: 20_000 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      });
    child.stdin!.on("error", () => { /* it may exit before reading everything */ });
    child.stdin!.end(stdin);
  });
}
