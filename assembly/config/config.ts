// Plugin configuration: JSON in, a validated FilterConfig out. The first problem found is
// reported with its JSON path ("$.redis.max_depth: …") so on_configure can refuse the config
// with a message an operator can act on. Unknown members are errors: a typo must not silently
// fall back to a default in production.
import { JsonKind, JsonValue, jsonError, parseJson } from "./json";
import { RedisLimits } from "../protocols/redis/limits";
import { ThriftLimits } from "../protocols/thrift/limits";
import { DubboLimits } from "../protocols/dubbo/limits";
import { Policy, RedisAuthConfig, Route, RoutingConfig } from "./policy-config";
import { parsePolicies, parseRedisAuth, parseRouting, parseRoutes } from "./policy-parse";

export enum Protocol { Redis, Thrift, Dubbo }
export enum OnError { Passthrough, Close }
export enum Expose { Off, First, Every }

export class RedisConfig {
  /** Codec limits; defaults are Redis's and Envoy's own. */
  limits: RedisLimits = new RedisLimits();
  /** Outstanding requests tracked per connection. */
  maxPending: i32 = 65536;
  /** Downstream AUTH enforcement and upstream credential injection; null = off. */
  auth: RedisAuthConfig | null = null;
}

export class ThriftConfig {
  limits: ThriftLimits = new ThriftLimits();
  maxPending: i32 = 65536;
}

export class DubboConfig {
  limits: DubboLimits = new DubboLimits();
  maxPending: i32 = 65536;
}

export class FilterConfig {
  protocol: Protocol = Protocol.Redis;
  /** protocol: auto — the codec is chosen per connection from its first byte. */
  auto: bool = false;
  onError: OnError = OnError.Passthrough;
  expose: Expose = Expose.First;
  logRequests: bool = false;
  /** Level of the per-request log line (LogLevel values: trace 0 … critical 5). */
  logLevel: i32 = 2;
  /** Share of answered requests logged, in parts per million. */
  logSamplePpm: u32 = 1000000;
  /** Per service/method metric series (else per protocol only). */
  telemetrySeries: bool = true;
  /** Series per protocol and VM; new ones beyond it fold into service/method "other". */
  maxSeries: i32 = 1000;
  /** 0: counters reach the host at the end of every callback; else from a tick this often. */
  flushIntervalMs: i32 = 0;
  redis: RedisConfig = new RedisConfig();
  thrift: ThriftConfig = new ThriftConfig();
  dubbo: DubboConfig = new DubboConfig();
  routes: Array<Route> = [];
  routing: RoutingConfig = new RoutingConfig();
  policies: Array<Policy> = [];
  /**
   * Largest partial request held back (Pause) so a decision can still rewrite it; a message
   * larger than this passes while it streams, and if it is then denied the connection closes.
   */
  maxHoldBytes: i32 = 65536;

  /** Whether requests must be decided before their bytes move on (routes, policies or auth). */
  enforces(): bool {
    const auth = this.redis.auth;
    return this.routes.length > 0 || this.policies.length > 0 || (auth != null && auth.enforcesDownstream());
  }
}

export let configError: string = "";

/** `path.key`, or `path["key"]` when the key is not a plain identifier (e.g. "header.x-user"). */
export function member(path: string, key: string): string {
  let plain = key.length > 0;
  for (let i = 0; i < key.length && plain; i++) {
    const c = key.charCodeAt(i);
    plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || (i > 0 && c >= 0x30 && c <= 0x39);
  }
  if (plain) return path + "." + key;
  let out = path + "[\"";
  for (let i = 0; i < key.length; i++) {   // escaped as JSON.stringify would
    const c = key.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c == 0x08) out += "\\b";
    else if (c == 0x0c) out += "\\f";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"]";
}

export class Checker {
  error: string = "";
  fail(path: string, why: string): void { if (this.error.length == 0) this.error = path + ": " + why; }

  object(v: JsonValue, path: string, allowed: string[]): bool {
    if (v.kind != JsonKind.Object) { this.fail(path, "expected an object, got " + v.kindName()); return false; }
    for (let i = 0; i < v.keys.length; i++) {
      if (!allowed.includes(v.keys[i])) {
        this.fail(member(path, v.keys[i]), "unknown field (allowed: " + allowed.join(", ") + ")");
        return false;
      }
    }
    return true;
  }

  /** Index of the member's string value in `choices`, `dflt` when absent, -1 on error. */
  choice(parent: JsonValue, key: string, path: string, choices: string[], dflt: i32): i32 {
    const v = parent.get(key);
    if (v == null) return dflt;
    const p = path + "." + key;
    if (v.kind != JsonKind.String) { this.fail(p, "expected a string, got " + v.kindName()); return -1; }
    const i = choices.indexOf(v.stringValue);
    if (i < 0) this.fail(p, "expected one of " + choices.join(", ") + ", got \"" + v.stringValue + "\"");
    return i;
  }

  boolean(parent: JsonValue, key: string, path: string, dflt: bool): bool {
    const v = parent.get(key);
    if (v == null) return dflt;
    if (v.kind != JsonKind.Bool) { this.fail(path + "." + key, "expected true or false, got " + v.kindName()); return dflt; }
    return v.boolValue;
  }

  integer(parent: JsonValue, key: string, path: string, lo: i64, hi: i64, dflt: i64): i64 {
    const v = parent.get(key);
    if (v == null) return dflt;
    const p = path + "." + key;
    if (!v.isInteger() || <i64>v.numberValue < lo || <i64>v.numberValue > hi) {
      this.fail(p, "expected an integer from " + lo.toString() + " to " + hi.toString() +
        (v.kind == JsonKind.Number ? ", got " + v.numberValue.toString() : ", got " + v.kindName()));
      return dflt;
    }
    return <i64>v.numberValue;
  }
}

/** Parses and validates; null on error with `configError` set. Empty text = all defaults. */
export function parseConfig(text: Uint8Array): FilterConfig | null {
  configError = "";
  const cfg = new FilterConfig();
  let onlySpace = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) { onlySpace = false; break; }
  }
  if (onlySpace) return cfg;

  const root = parseJson(text);
  if (root == null) { configError = "$: invalid JSON: " + jsonError; return null; }
  const c = new Checker();
  if (!c.object(root, "$", ["protocol", "on_error", "expose", "log_requests", "telemetry", "redis", "thrift", "dubbo", "routes", "routing", "policies", "max_hold_bytes"])) { configError = c.error; return null; }

  const protocols = ["redis", "thrift", "dubbo", "auto"];
  const proto = c.choice(root, "protocol", "$", protocols, 0);
  if (proto == 3) cfg.auto = true;
  else if (proto >= 0) cfg.protocol = <Protocol>proto;
  cfg.onError = <OnError>c.choice(root, "on_error", "$", ["passthrough", "close"], 0);

  const expose = root.get("expose");
  if (expose != null && c.object(expose, "$.expose", ["properties"])) {
    const e = c.choice(expose, "properties", "$.expose", ["off", "first", "every"], 1);
    if (e >= 0) cfg.expose = <Expose>e;
  }
  cfg.logRequests = c.boolean(root, "log_requests", "$", false);
  const telemetry = root.get("telemetry");
  if (telemetry != null && c.object(telemetry, "$.telemetry", ["series", "max_series", "flush_interval_ms", "log"])) {
    cfg.telemetrySeries = c.boolean(telemetry, "series", "$.telemetry", true);
    cfg.maxSeries = <i32>c.integer(telemetry, "max_series", "$.telemetry", 0, 100000, cfg.maxSeries);
    cfg.flushIntervalMs = <i32>c.integer(telemetry, "flush_interval_ms", "$.telemetry", 0, 60000, cfg.flushIntervalMs);
    const logs = telemetry.get("log");
    if (logs != null && c.object(logs, "$.telemetry.log", ["level", "sample_percent"])) {
      cfg.logRequests = true;
      const level = c.choice(logs, "level", "$.telemetry.log", ["trace", "debug", "info", "warn", "error", "critical"], 2);
      if (level >= 0) cfg.logLevel = level;
      const pct = logs.get("sample_percent");
      if (pct != null) {
        if (pct.kind != JsonKind.Number || !(pct.numberValue >= 0 && pct.numberValue <= 100)) {
          c.fail("$.telemetry.log.sample_percent", "expected a number from 0 to 100, got " + (pct.kind == JsonKind.Number ? pct.numberValue.toString() : pct.kindName()));
        } else cfg.logSamplePpm = <u32>Math.round(pct.numberValue * 10000);
      }
    }
  }

  const redis = root.get("redis");
  if (redis != null && c.object(redis, "$.redis", ["max_bulk_bytes", "max_line_bytes", "max_elements", "max_total_elements", "max_depth", "max_key_bytes", "max_pending", "auth"])) {
    const r = cfg.redis.limits;
    r.maxBulkBytes = c.integer(redis, "max_bulk_bytes", "$.redis", 1, 512 * 1024 * 1024, r.maxBulkBytes);
    r.maxLineBytes = <i32>c.integer(redis, "max_line_bytes", "$.redis", 16, 64 * 1024, r.maxLineBytes);
    r.maxElements = c.integer(redis, "max_elements", "$.redis", 1, 2147483647, r.maxElements);
    r.maxTotalElements = c.integer(redis, "max_total_elements", "$.redis", 1, 2147483647, r.maxTotalElements);
    r.maxDepth = <i32>c.integer(redis, "max_depth", "$.redis", 1, 1024, r.maxDepth);
    r.maxKeyCapture = <i32>c.integer(redis, "max_key_bytes", "$.redis", 0, 65536, r.maxKeyCapture);
    cfg.redis.maxPending = <i32>c.integer(redis, "max_pending", "$.redis", 1, 1048576, cfg.redis.maxPending);
    const auth = redis.get("auth");
    if (auth != null) cfg.redis.auth = parseRedisAuth(c, auth, "$.redis.auth");
  }

  const thrift = root.get("thrift");
  if (thrift != null && c.object(thrift, "$.thrift", ["max_frame_bytes", "max_depth", "max_unframed_bytes", "max_name_bytes", "max_headers", "max_header_bytes", "lax_binary_unframed", "max_pending"])) {
    const t = cfg.thrift.limits;
    t.maxFrameBytes = c.integer(thrift, "max_frame_bytes", "$.thrift", 14, 0x3fffffff, t.maxFrameBytes);
    t.maxDepth = <i32>c.integer(thrift, "max_depth", "$.thrift", 1, 64, t.maxDepth);
    t.maxUnframedBytes = c.integer(thrift, "max_unframed_bytes", "$.thrift", 16, 0x3fffffff, t.maxUnframedBytes);
    t.maxNameBytes = <i32>c.integer(thrift, "max_name_bytes", "$.thrift", 1, 65536, t.maxNameBytes);
    t.maxHeaders = <i32>c.integer(thrift, "max_headers", "$.thrift", 0, 1024, t.maxHeaders);
    t.maxHeaderBytes = <i32>c.integer(thrift, "max_header_bytes", "$.thrift", 16, 0x3fffffff, t.maxHeaderBytes);
    t.laxBinaryUnframed = c.boolean(thrift, "lax_binary_unframed", "$.thrift", t.laxBinaryUnframed);
    cfg.thrift.maxPending = <i32>c.integer(thrift, "max_pending", "$.thrift", 1, 1048576, cfg.thrift.maxPending);
  }

  const dubbo = root.get("dubbo");
  if (dubbo != null && c.object(dubbo, "$.dubbo", ["max_body_bytes", "max_depth", "max_string_bytes", "max_attachments", "max_class_defs", "max_capture_bytes", "max_pending"])) {
    const d = cfg.dubbo.limits;
    d.maxBodyBytes = c.integer(dubbo, "max_body_bytes", "$.dubbo", 0, 0x7fffffff, d.maxBodyBytes);
    d.maxDepth = <i32>c.integer(dubbo, "max_depth", "$.dubbo", 1, 256, d.maxDepth);
    d.maxStringBytes = <i32>c.integer(dubbo, "max_string_bytes", "$.dubbo", 16, 1048576, d.maxStringBytes);
    d.maxAttachments = <i32>c.integer(dubbo, "max_attachments", "$.dubbo", 0, 1024, d.maxAttachments);
    d.maxClassDefs = <i32>c.integer(dubbo, "max_class_defs", "$.dubbo", 1, 4096, d.maxClassDefs);
    d.maxCaptureBytes = <i32>c.integer(dubbo, "max_capture_bytes", "$.dubbo", 64, 1048576, d.maxCaptureBytes);
    cfg.dubbo.maxPending = <i32>c.integer(dubbo, "max_pending", "$.dubbo", 1, 1048576, cfg.dubbo.maxPending);
  }

  cfg.routes = parseRoutes(c, root);
  parseRouting(c, root, cfg.routing);
  cfg.policies = parsePolicies(c, root);
  cfg.maxHoldBytes = <i32>c.integer(root, "max_hold_bytes", "$", 0, 16 * 1024 * 1024, cfg.maxHoldBytes);
  if (c.error.length > 0) { configError = c.error; return null; }
  return cfg;
}
