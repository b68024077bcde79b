// Routes, policies and Redis auth as the engine uses them: the JSON is parsed and validated once in
// on_configure (config.ts) into these plain classes, patterns pre-encoded and regexes compiled, so
// nothing on the request path allocates or re-parses.
import { Regex } from "../policy/regex";

/** Which piece of request metadata a matcher reads. */
export enum Field { Protocol, Service, Method, Key, Version, Group, Header }

export const FIELD_NAMES: StaticArray<string> = ["protocol", "service", "method", "key", "version", "group", "header"];

export enum MatchOp { Exact, Prefix, Suffix, Contains, Regex, Present }

/** One `"<field>": { "<op>": … }` member of a `match` object. */
export class StringMatcher {
  field: Field = Field.Method;
  /** For Field.Header: the THeader info header / Dubbo attachment name (UTF-8). */
  headerName: Uint8Array = new Uint8Array(0);
  op: MatchOp = MatchOp.Exact;
  /** UTF-8 pattern for exact/prefix/suffix/contains (ASCII-lower-cased when ignoreCase). */
  pattern: Uint8Array = new Uint8Array(0);
  /** ASCII case folding for exact/prefix/suffix/contains. */
  ignoreCase: bool = false;
  /** Compiled for MatchOp.Regex (full match, linear time). */
  regex: Regex | null = null;
  /** For MatchOp.Present: true = the field must be present, false = it must be absent. */
  present: bool = true;
}

export class WeightedCluster {
  constructor(public name: string, public weight: u32) {}
}

/** First matching route wins; a route with no matchers matches every request. */
export class Route {
  name: string = "";
  matchers: Array<StringMatcher> = [];
  /** One entry (weight 1) for `"cluster"`, several for `"clusters"`. */
  clusters: Array<WeightedCluster> = [];
  totalWeight: u32 = 0;
}

export enum PolicyAction { Deny, Fault, RateLimit }
export enum LimitScope { Worker, Shared }

/** Every matching policy applies in order until one rejects the request. */
export class Policy {
  name: string = "";
  matchers: Array<StringMatcher> = [];
  action: PolicyAction = PolicyAction.Deny;
  /** Text of the protocol-native error (deny, fault abort, rate limit). */
  message: string = "";
  /** Fault abort probability in parts per million (percent × 10,000). */
  abortPpm: u32 = 0;
  /** Fault delay probability in parts per million, and its length. */
  delayPpm: u32 = 0;
  delayMs: u32 = 0;
  /** Token bucket: refill rate and capacity. */
  perSecond: f64 = 0;
  burst: f64 = 0;
  scope: LimitScope = LimitScope.Worker;
}

export enum OnMismatch { Allow, Deny }

export class RoutingConfig {
  /** How long on_new_connection's Pause waits for the first request before giving up (too late). */
  waitMs: u32 = 1000;
  onMismatch: OnMismatch = OnMismatch.Allow;
  mismatchMessage: string = "request belongs to another route than its connection";
}

export class RedisUser {
  constructor(public username: Uint8Array, public password: Uint8Array) {}
}

export class RedisAuthConfig {
  /** `AUTH <password>` (the "default" user); null when only ACL users are configured. */
  password: Uint8Array | null = null;
  /** `AUTH <username> <password>` pairs. */
  users: Array<RedisUser> = [];
  /** Upstream credentials injected as the connection's first command; null = none. */
  upstreamUsername: Uint8Array | null = null;
  upstreamPassword: Uint8Array | null = null;

  enforcesDownstream(): bool { return this.password != null || this.users.length > 0; }
  injectsUpstream(): bool { return this.upstreamPassword != null; }
}
