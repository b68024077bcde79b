// Routes and policies evaluated against one request. One engine per plugin configuration per VM
// (Envoy worker): token buckets of scope "worker" live here; "shared" buckets live in shared data
// (one per vm_id, i.e. per Envoy process) and are updated with compare-and-swap.
import { Policy, PolicyAction, LimitScope, Route, StringMatcher } from "../config/policy-config";
import { FilterConfig } from "../config/config";
import { randomU32, readSharedData, sharedCas, writeSharedData } from "../abi/hostcalls";
import { WasmResult } from "../abi/types";
import { RuleTable } from "./rule-table";
import { chance } from "./random";
import { MessageView } from "./view";

export const VERDICT_ALLOW: i32 = 0;
export const VERDICT_DENY: i32 = 1;
export const VERDICT_ABORT: i32 = 2;
export const VERDICT_RATE_LIMITED: i32 = 3;

export const NO_ROUTE: i32 = -1;

/** Shared-data key prefix of "shared" token buckets (one key per policy name). */
export const SHARED_BUCKET_PREFIX = "metawire.ratelimit.";
const CAS_ATTEMPTS = 16;

export class PolicyEngine {
  readonly routes: Array<Route>;
  readonly policies: Array<Policy>;
  private routeRules: RuleTable;
  private policyRules: RuleTable;
  /** Per route, per weighted cluster: the serialized SetEnvoyFilterStateArguments, built once. */
  private routeArgs: Array<Array<Uint8Array>> = [];
  // worker-scope buckets, indexed like policies
  private tokens: Float64Array = new Float64Array(0);
  private refilledNs: Int64Array = new Int64Array(0);
  /** UTF-8 shared-data keys of the policies' buckets, encoded once. */
  private sharedKeys: Array<ArrayBuffer> = [];
  private sharedValue: Uint8Array = new Uint8Array(16);

  // result of the last decide()
  verdict: i32 = VERDICT_ALLOW;
  /** Index of the policy that rejected the request (or -1). */
  policy: i32 = -1;
  /** Longest delay any matching fault policy drew for the request (0 = none), and its policy. */
  delayMs: u32 = 0;
  delayPolicy: i32 = -1;

  constructor(cfg: FilterConfig) {
    this.routes = cfg.routes;
    this.policies = cfg.policies;
    const routeMatchers = new Array<Array<StringMatcher>>();
    for (let r = 0; r < cfg.routes.length; r++) routeMatchers.push(cfg.routes[r].matchers);
    this.routeRules = new RuleTable(routeMatchers);
    const policyMatchers = new Array<Array<StringMatcher>>();
    for (let p = 0; p < cfg.policies.length; p++) policyMatchers.push(cfg.policies[p].matchers);
    this.policyRules = new RuleTable(policyMatchers);
    for (let r = 0; r < this.routes.length; r++) {
      const cl = this.routes[r].clusters;
      const args = new Array<Uint8Array>(cl.length);
      for (let c = 0; c < cl.length; c++) args[c] = clusterFilterStateArgs(cl[c].name);
      this.routeArgs.push(args);
    }
    const n = this.policies.length;
    this.tokens = new Float64Array(n);
    this.refilledNs = new Int64Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.policies[i];
      this.tokens[i] = p.burst;
      this.refilledNs[i] = -1;
      this.sharedKeys.push(String.UTF8.encode(SHARED_BUCKET_PREFIX + p.name));
    }
  }

  /** Index of the first route whose matchers all hold, or NO_ROUTE. */
  route(view: MessageView): i32 {
    const rules = this.routeRules;
    for (let i = 0, n = this.routes.length; i < n; i++) {
      if (rules.matches(i, view)) return i;
    }
    return NO_ROUTE;
  }

  /** Weighted choice among the route's clusters (uniform 32-bit randomness from WASI random_get). */
  pickCluster(route: i32): i32 {
    const r = this.routes[route];
    if (r.clusters.length == 1) return 0;
    let x = <u32>((<u64>randomU32() * <u64>r.totalWeight) >> 32);
    for (let i = 0; i < r.clusters.length; i++) {
      const w = r.clusters[i].weight;
      if (x < w) return i;
      x -= w;
    }
    return r.clusters.length - 1;
  }

  clusterName(route: i32, cluster: i32): string {
    return this.routes[route].clusters[cluster].name;
  }

  /** set_envoy_filter_state argument selecting the cluster (path envoy.tcp_proxy.cluster). */
  clusterArgs(route: i32, cluster: i32): Uint8Array {
    return this.routeArgs[route][cluster];
  }

  /**
   * Runs every matching policy in order until one rejects the request. Sets verdict, policy and
   * delayMs. `nowNs` is the monotonic time (token refill).
   */
  decide(view: MessageView, nowNs: i64): void {
    this.verdict = VERDICT_ALLOW;
    this.policy = -1;
    this.delayMs = 0;
    this.delayPolicy = -1;
    const policies = this.policies;
    const rules = this.policyRules;
    for (let i = 0, n = policies.length; i < n; i++) {
      if (!rules.matches(i, view)) continue;
      const p = unchecked(policies[i]);
      if (p.action == PolicyAction.Deny) { this.reject(VERDICT_DENY, i); return; }
      if (p.action == PolicyAction.Fault) {
        if (p.abortPpm > 0 && chance(p.abortPpm)) { this.reject(VERDICT_ABORT, i); return; }
        if (p.delayPpm > 0 && p.delayMs > this.delayMs && chance(p.delayPpm)) { this.delayMs = p.delayMs; this.delayPolicy = i; }
        continue;
      }
      const admitted = p.scope == LimitScope.Shared ? this.takeShared(i, p, nowNs) : this.takeLocal(i, p, nowNs);
      if (!admitted) { this.reject(VERDICT_RATE_LIMITED, i); return; }
    }
  }

  private reject(verdict: i32, policy: i32): void {
    this.verdict = verdict;
    this.policy = policy;
    this.delayMs = 0;
  }

  private takeLocal(i: i32, p: Policy, nowNs: i64): bool {
    let t = refill(unchecked(this.tokens[i]), unchecked(this.refilledNs[i]), nowNs, p);
    unchecked(this.refilledNs[i] = nowNs);
    const ok = t >= 1.0;
    if (ok) t -= 1.0;
    unchecked(this.tokens[i] = t);
    return ok;
  }

  /** The bucket is 16 bytes in shared data: f64 tokens, i64 last refill (monotonic ns). */
  private takeShared(i: i32, p: Policy, nowNs: i64): bool {
    const key = this.sharedKeys[i];
    const k = changetype<usize>(key), kl = key.byteLength;
    const v = this.sharedValue.dataStart;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const len = readSharedData(k, kl, v, 16);
      const cas = sharedCas;
      let t = p.burst;
      let last: i64 = -1;
      if (len == 16) {
        t = load<f64>(v);
        last = load<i64>(v + 8);
      }
      t = refill(t, last, nowNs, p);
      const ok = t >= 1.0;
      if (ok) t -= 1.0;
      store<f64>(v, t);
      store<i64>(v + 8, max<i64>(nowNs, last));
      // cas 0 would overwrite unconditionally: only the very first writer may do that.
      const r = writeSharedData(k, kl, v, 16, len < 0 ? 0 : cas);
      if (r == WasmResult.Ok) return ok;
      if (r != WasmResult.CasMismatch) break;
    }
    // The bucket kept changing under us (or shared data is unavailable): admit rather than
    // reject traffic for a contention the client did not cause.
    return true;
  }
}

function refill(tokens: f64, lastNs: i64, nowNs: i64, p: Policy): f64 {
  if (lastNs < 0 || nowNs <= lastNs) return lastNs < 0 ? p.burst : tokens;
  const t = tokens + <f64>(nowNs - lastNs) * p.perSecond / 1e9;
  return t > p.burst ? p.burst : t;
}


/** Protobuf SetEnvoyFilterStateArguments{path = 1: "envoy.tcp_proxy.cluster", value = 2: name}. */
export function clusterFilterStateArgs(cluster: string): Uint8Array {
  const path = String.UTF8.encode("envoy.tcp_proxy.cluster");
  const value = String.UTF8.encode(cluster);
  const out = new Array<u8>();
  pushField(out, 0x0a, path);
  pushField(out, 0x12, value);
  const bytes = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) bytes[i] = out[i];
  return bytes;
}

function pushField(out: Array<u8>, tag: u8, data: ArrayBuffer): void {
  out.push(tag);
  let n = <u32>data.byteLength;
  while (n >= 0x80) { out.push(<u8>(n | 0x80)); n >>= 7; }
  out.push(<u8>n);
  const view = Uint8Array.wrap(data);
  for (let i = 0; i < view.length; i++) out.push(view[i]);
}
