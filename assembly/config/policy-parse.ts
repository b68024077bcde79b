// Parsing and validation of `routes`, `routing`, `policies` and `redis.auth` (the shapes are in
// schema/metawire.schema.json and docs/configuration.md). Same rules as config.ts: the first
// problem wins and is reported as "<JSON path>: <reason>"; unknown members are errors. Everything
// the request path needs is prepared here: patterns as UTF-8 (ASCII-lower-cased for ignore_case),
// regexes compiled, percentages as parts per million, default messages filled in.
import { JsonKind, JsonValue } from "./json";
import { Checker, member } from "./config";
import { compileRegex, regexError } from "../policy/regex";
import { ARG_CAP } from "../protocols/redis/request-capture";
import {
  Field, LimitScope, MatchOp, OnMismatch, Policy, PolicyAction, RedisAuthConfig, RedisUser, Route,
  RoutingConfig, StringMatcher, WeightedCluster,
} from "./policy-config";

export const MAX_ROUTES = 1000;
export const MAX_POLICIES = 1000;
export const MAX_CLUSTERS = 64;
export const MAX_WEIGHT = 1000000;
export const MAX_USERS = 1000;
/** Deny/fault/rate-limit/mismatch messages become one-line protocol errors. */
export const MAX_MESSAGE_BYTES = 1024;
/** Route and policy names: they appear in default messages and logs. */
export const MAX_NAME_BYTES = 256;
/** The <name> of a `header.<name>` match key. */
export const MAX_HEADER_NAME_BYTES = 256;
export const MAX_WAIT_MS = 60000;
export const MAX_DELAY_MS = 60000;
export const MAX_PER_SECOND: f64 = 1e9;
export const MAX_BURST: f64 = 1e12;

/** Match keys in Field order (Field.Header is "header.<name>"). */
const FIELD_KEYS = ["protocol", "service", "method", "key", "version", "group"];
/** Matcher operators in MatchOp order. */
const OPS = ["exact", "prefix", "suffix", "contains", "regex", "present"];

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** 150 → "150", 1.5 → "1.5" (AssemblyScript prints whole f64 values as "150.0"). */
function fmt(x: f64): string {
  if (Math.floor(x) == x && Math.abs(x) < 1e15) return (<i64>x).toString();
  return x.toString();
}

/** The member, or null after reporting it missing. */
function required(c: Checker, parent: JsonValue, key: string, path: string): JsonValue | null {
  const v = parent.get(key);
  if (v == null) c.fail(path + "." + key, "required field is missing");
  return v;
}

/** A string value: non-empty if asked, at most `maxBytes` UTF-8 bytes (0 = no cap), no CR/LF if `oneLine`. */
function checkString(c: Checker, v: JsonValue, path: string, nonEmpty: bool, maxBytes: i32, oneLine: bool): bool {
  if (v.kind != JsonKind.String) {
    c.fail(path, (nonEmpty ? "expected a non-empty string, got " : "expected a string, got ") + v.kindName());
    return false;
  }
  const s = v.stringValue;
  if (nonEmpty && s.length == 0) { c.fail(path, "expected a non-empty string"); return false; }
  if (maxBytes > 0) {
    const n = String.UTF8.byteLength(s);
    if (n > maxBytes) { c.fail(path, "expected at most " + maxBytes.toString() + " bytes, got " + n.toString()); return false; }
  }
  if (oneLine && (s.includes("\r") || s.includes("\n"))) { c.fail(path, "must not contain CR or LF"); return false; }
  return true;
}

/** An optional message member: `dflt` when absent. */
function message(c: Checker, parent: JsonValue, key: string, path: string, dflt: string): string {
  const v = parent.get(key);
  if (v == null) return dflt;
  return checkString(c, v, path + "." + key, false, MAX_MESSAGE_BYTES, true) ? v.stringValue : dflt;
}

/** A required route/policy name: non-empty, one line, at most MAX_NAME_BYTES, unique in `seen`. */
function name(c: Checker, parent: JsonValue, path: string, seen: Map<string, i32>, index: i32, listPath: string, what: string): string {
  const v = required(c, parent, "name", path);
  if (v == null) return "";
  const p = path + ".name";
  if (!checkString(c, v, p, true, MAX_NAME_BYTES, true)) return "";
  const s = v.stringValue;
  if (seen.has(s)) {
    c.fail(p, "duplicate " + what + " name \"" + s + "\" (also " + listPath + "[" + seen.get(s).toString() + "].name)");
    return "";
  }
  seen.set(s, index);
  return s;
}

/** A number member in [lo, hi] (lo excluded when `loExclusive`); `dflt` when absent or invalid. */
function number(c: Checker, parent: JsonValue, key: string, path: string, lo: f64, hi: f64, loExclusive: bool, dflt: f64): f64 {
  const v = parent.get(key);
  if (v == null) return dflt;
  const x = v.numberValue;
  if (v.kind != JsonKind.Number || !isFinite(x) || (loExclusive ? x <= lo : x < lo) || x > hi) {
    const range = loExclusive
      ? "expected a number greater than " + fmt(lo) + " and at most " + fmt(hi)
      : "expected a number from " + fmt(lo) + " to " + fmt(hi);
    c.fail(path + "." + key, range + ", got " + (v.kind == JsonKind.Number ? fmt(x) : v.kindName()));
    return dflt;
  }
  return x;
}

/** An array of at most `max` items. */
function array(c: Checker, v: JsonValue, path: string, max: i32, what: string): bool {
  if (v.kind != JsonKind.Array) { c.fail(path, "expected an array, got " + v.kindName()); return false; }
  if (v.items.length > max) {
    c.fail(path, "expected at most " + max.toString() + " " + what + ", got " + v.items.length.toString());
    return false;
  }
  return true;
}

function lowerAscii(b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) {
    const x = b[i];
    if (x >= 0x41 && x <= 0x5a) b[i] = x + 0x20;
  }
}

/** One `{ "<op>": …, "ignore_case": … }` value of a match member. */
function parseMatcher(c: Checker, v: JsonValue, path: string, m: StringMatcher): bool {
  if (!c.object(v, path, ["exact", "prefix", "suffix", "contains", "regex", "present", "ignore_case"])) return false;
  let op = -1;
  let second = -1;
  for (let k = 0; k < OPS.length; k++) {
    if (v.get(OPS[k]) == null) continue;
    if (op < 0) op = k;
    else if (second < 0) second = k;
  }
  if (op < 0 || second >= 0) {
    c.fail(path, "expected exactly one of exact, prefix, suffix, contains, regex, present" +
      (op < 0 ? "" : ", got " + OPS[op] + " and " + OPS[second]));
    return false;
  }
  const value = v.get(OPS[op])!;
  const vp = path + "." + OPS[op];
  m.op = <MatchOp>op;
  if (m.op == MatchOp.Present) {
    if (value.kind != JsonKind.Bool) { c.fail(vp, "expected true or false, got " + value.kindName()); return false; }
    m.present = value.boolValue;
  } else {
    if (!checkString(c, value, vp, m.op != MatchOp.Exact, 0, false)) return false;
    if (m.op == MatchOp.Regex) {
      const re = compileRegex(value.stringValue);
      if (re == null) { c.fail(vp, "invalid regex: " + regexError); return false; }
      m.regex = re;
    } else {
      m.pattern = utf8(value.stringValue);
    }
  }
  if (v.get("ignore_case") != null) {
    if (m.op == MatchOp.Regex || m.op == MatchOp.Present) {
      c.fail(path + ".ignore_case", "only allowed with exact, prefix, suffix or contains");
      return false;
    }
    m.ignoreCase = c.boolean(v, "ignore_case", path, false);
    if (m.ignoreCase) lowerAscii(m.pattern);
  }
  return c.error.length == 0;
}

/** The optional `match` member of a route or policy; null on error. Absent or {} = every request. */
function parseMatch(c: Checker, parent: JsonValue, path: string): Array<StringMatcher> | null {
  const out = new Array<StringMatcher>();
  const v = parent.get("match");
  if (v == null) return out;
  const p = path + ".match";
  if (v.kind != JsonKind.Object) { c.fail(p, "expected an object, got " + v.kindName()); return null; }
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const kp = member(p, key);
    const m = new StringMatcher();
    const f = FIELD_KEYS.indexOf(key);
    if (f >= 0) {
      m.field = <Field>f;
    } else if (key.startsWith("header.")) {
      const headerName = key.substring(7);
      const n = String.UTF8.byteLength(headerName);
      if (n == 0 || n > MAX_HEADER_NAME_BYTES) {
        c.fail(kp, "expected a header name of 1 to " + MAX_HEADER_NAME_BYTES.toString() + " bytes after \"header.\", got " + n.toString());
        return null;
      }
      m.field = Field.Header;
      m.headerName = utf8(headerName);
    } else {
      c.fail(kp, "unknown field (allowed: " + FIELD_KEYS.join(", ") + ", header.<name>)");
      return null;
    }
    if (!parseMatcher(c, v.items[i], kp, m)) return null;
    out.push(m);
  }
  return out;
}

function parseRoute(c: Checker, v: JsonValue, path: string, index: i32, seen: Map<string, i32>): Route | null {
  if (!c.object(v, path, ["name", "match", "cluster", "clusters"])) return null;
  const route = new Route();
  route.name = name(c, v, path, seen, index, "$.routes", "route");
  if (c.error.length > 0) return null;
  const matchers = parseMatch(c, v, path);
  if (matchers == null) return null;
  route.matchers = matchers;

  const one = v.get("cluster");
  const many = v.get("clusters");
  if ((one == null) == (many == null)) {
    c.fail(path, "expected exactly one of cluster, clusters, got " + (one == null ? "none" : "both"));
    return null;
  }
  if (one != null) {
    if (!checkString(c, one, path + ".cluster", true, 0, false)) return null;
    route.clusters.push(new WeightedCluster(one.stringValue, 1));
    route.totalWeight = 1;
    return route;
  }
  const cp = path + ".clusters";
  if (!array(c, many!, cp, MAX_CLUSTERS, "clusters")) return null;
  if (many!.items.length == 0) { c.fail(cp, "expected 1 to " + MAX_CLUSTERS.toString() + " clusters, got 0"); return null; }
  let total: u32 = 0;
  for (let i = 0; i < many!.items.length; i++) {
    const w = many!.items[i];
    const wp = cp + "[" + i.toString() + "]";
    if (!c.object(w, wp, ["name", "weight"])) return null;
    const n = required(c, w, "name", wp);
    if (n == null || !checkString(c, n, wp + ".name", true, 0, false)) return null;
    if (required(c, w, "weight", wp) == null) return null;
    const weight = <u32>c.integer(w, "weight", wp, 0, MAX_WEIGHT, 0);
    if (c.error.length > 0) return null;
    route.clusters.push(new WeightedCluster(n.stringValue, weight));
    total += weight;
  }
  if (total == 0) { c.fail(cp, "expected the weights to add up to more than 0"); return null; }
  route.totalWeight = total;
  return route;
}

/** `routes`: first matching route wins. */
export function parseRoutes(c: Checker, root: JsonValue): Array<Route> {
  const out = new Array<Route>();
  const v = root.get("routes");
  if (v == null || !array(c, v, "$.routes", MAX_ROUTES, "routes")) return out;
  const seen = new Map<string, i32>();
  for (let i = 0; i < v.items.length; i++) {
    const r = parseRoute(c, v.items[i], "$.routes[" + i.toString() + "]", i, seen);
    if (r == null) break;
    out.push(r);
  }
  return out;
}

/** `routing`: how a connection is routed by its first request. */
export function parseRouting(c: Checker, root: JsonValue, cfg: RoutingConfig): void {
  const v = root.get("routing");
  if (v == null || !c.object(v, "$.routing", ["wait_ms", "on_mismatch", "mismatch_message"])) return;
  cfg.waitMs = <u32>c.integer(v, "wait_ms", "$.routing", 1, MAX_WAIT_MS, cfg.waitMs);
  const m = c.choice(v, "on_mismatch", "$.routing", ["allow", "deny"], 0);
  if (m >= 0) cfg.onMismatch = <OnMismatch>m;
  cfg.mismatchMessage = message(c, v, "mismatch_message", "$.routing", cfg.mismatchMessage);
}

function parseFault(c: Checker, v: JsonValue, path: string, p: Policy): void {
  if (!c.object(v, path, ["abort", "delay"])) return;
  const abort = v.get("abort");
  const delay = v.get("delay");
  if (abort == null && delay == null) { c.fail(path, "expected at least one of abort, delay"); return; }
  p.message = "fault injected by policy " + p.name;
  if (abort != null) {
    const ap = path + ".abort";
    if (!c.object(abort, ap, ["percent", "message"]) || required(c, abort, "percent", ap) == null) return;
    p.abortPpm = <u32>Math.round(number(c, abort, "percent", ap, 0, 100, false, 0) * 10000);
    p.message = message(c, abort, "message", ap, p.message);
  }
  if (delay != null) {
    const dp = path + ".delay";
    if (!c.object(delay, dp, ["percent", "ms"]) || required(c, delay, "percent", dp) == null) return;
    p.delayPpm = <u32>Math.round(number(c, delay, "percent", dp, 0, 100, false, 0) * 10000);
    if (required(c, delay, "ms", dp) == null) return;
    p.delayMs = <u32>c.integer(delay, "ms", dp, 1, MAX_DELAY_MS, 0);
  }
}

function parseRateLimit(c: Checker, v: JsonValue, path: string, p: Policy): void {
  if (!c.object(v, path, ["per_second", "burst", "scope", "message"])) return;
  if (required(c, v, "per_second", path) == null) return;
  p.perSecond = number(c, v, "per_second", path, 0, MAX_PER_SECOND, true, 1);
  p.burst = number(c, v, "burst", path, 1, MAX_BURST, false, Math.max(1, p.perSecond));
  const s = c.choice(v, "scope", path, ["worker", "shared"], 0);
  if (s >= 0) p.scope = <LimitScope>s;
  p.message = message(c, v, "message", path, "rate limited by policy " + p.name);
}

function parsePolicy(c: Checker, v: JsonValue, path: string, index: i32, seen: Map<string, i32>): Policy | null {
  const actions = ["deny", "fault", "rate_limit"];
  if (!c.object(v, path, ["name", "match", "deny", "fault", "rate_limit"])) return null;
  const p = new Policy();
  p.name = name(c, v, path, seen, index, "$.policies", "policy");
  if (c.error.length > 0) return null;
  const matchers = parseMatch(c, v, path);
  if (matchers == null) return null;
  p.matchers = matchers;

  let action = -1;
  let second = -1;
  for (let k = 0; k < actions.length; k++) {
    if (v.get(actions[k]) == null) continue;
    if (action < 0) action = k;
    else if (second < 0) second = k;
  }
  if (action < 0 || second >= 0) {
    c.fail(path, "expected exactly one of deny, fault, rate_limit, got " +
      (action < 0 ? "none" : actions[action] + " and " + actions[second]));
    return null;
  }
  p.action = <PolicyAction>action;
  const body = v.get(actions[action])!;
  const bp = path + "." + actions[action];
  if (p.action == PolicyAction.Deny) {
    if (c.object(body, bp, ["message"])) p.message = message(c, body, "message", bp, "denied by policy " + p.name);
  } else if (p.action == PolicyAction.Fault) {
    parseFault(c, body, bp, p);
  } else {
    parseRateLimit(c, body, bp, p);
  }
  return c.error.length == 0 ? p : null;
}

/** `policies`: every matching policy applies in order until one rejects the request. */
export function parsePolicies(c: Checker, root: JsonValue): Array<Policy> {
  const out = new Array<Policy>();
  const v = root.get("policies");
  if (v == null || !array(c, v, "$.policies", MAX_POLICIES, "policies")) return out;
  const seen = new Map<string, i32>();
  for (let i = 0; i < v.items.length; i++) {
    const p = parsePolicy(c, v.items[i], "$.policies[" + i.toString() + "]", i, seen);
    if (p == null) break;
    out.push(p);
  }
  return out;
}

/** A required non-empty string member, as UTF-8; null on error. */
function credential(c: Checker, parent: JsonValue, key: string, path: string): Uint8Array | null {
  const v = required(c, parent, key, path);
  if (v == null || !checkString(c, v, path + "." + key, true, 0, false)) return null;
  return utf8(v.stringValue);
}

/** A credential the filter checks itself: it keeps ARG_CAP bytes of each AUTH argument. */
function checkedCredential(c: Checker, parent: JsonValue, key: string, path: string): Uint8Array | null {
  const b = credential(c, parent, key, path);
  if (b != null && b.length > ARG_CAP) {
    c.fail(path + "." + key, "at most " + ARG_CAP.toString() + " bytes (the filter compares the bytes it keeps of each AUTH argument), got " + b.length.toString());
    return null;
  }
  return b;
}

/** `redis.auth`: downstream AUTH enforcement and upstream credentials; null on error. */
export function parseRedisAuth(c: Checker, v: JsonValue, path: string): RedisAuthConfig | null {
  if (!c.object(v, path, ["password", "users", "upstream"])) return null;
  const auth = new RedisAuthConfig();
  if (v.get("password") != null) {
    auth.password = checkedCredential(c, v, "password", path);
    if (auth.password == null) return null;
  }
  const users = v.get("users");
  if (users != null) {
    const up = path + ".users";
    if (!array(c, users, up, MAX_USERS, "users")) return null;
    for (let i = 0; i < users.items.length; i++) {
      const u = users.items[i];
      const p = up + "[" + i.toString() + "]";
      if (!c.object(u, p, ["username", "password"])) return null;
      const username = checkedCredential(c, u, "username", p);
      if (username == null) return null;
      const password = checkedCredential(c, u, "password", p);
      if (password == null) return null;
      auth.users.push(new RedisUser(username, password));
    }
  }
  const upstream = v.get("upstream");
  if (upstream != null) {
    const p = path + ".upstream";
    if (!c.object(upstream, p, ["username", "password"])) return null;
    if (upstream.get("username") != null) {
      auth.upstreamUsername = credential(c, upstream, "username", p);
      if (auth.upstreamUsername == null) return null;
    }
    auth.upstreamPassword = credential(c, upstream, "password", p);
    if (auth.upstreamPassword == null) return null;
  }
  if (!auth.enforcesDownstream() && !auth.injectsUpstream()) {
    c.fail(path, "expected at least one of password, users (non-empty) or upstream");
    return null;
  }
  return auth;
}
