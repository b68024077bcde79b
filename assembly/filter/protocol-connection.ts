// What every protocol's connection shares: walking each host buffer through the direction's
// decoder, the switch to passthrough (or close) on a protocol error, the metric flush at the end
// of each callback, the "first or every" metadata rule — and enforcement: routing the connection
// on its first request, policies per request, and the in-band rewrites they need.
//
// Without routes, policies or auth the filter never holds bytes back: every data callback
// returns Continue and the bytes on the wire are exactly the client's and the server's.
//
// With them, a request must be decided before its first byte moves on. A request that ends in a
// later read is held back (Pause keeps the bytes in Envoy's read buffer and re-presents them,
// grown, on the next read) up to `max_hold_bytes`; a larger one streams, and if it is then
// rejected the connection is closed before its last byte is forwarded, so the server never
// executes it. Replies are never held (the write path cannot resume): the start of a reply that
// may have to be replaced is carried over to the next read instead (rewriter.ts).
//
// Subclasses say what a decoded request or reply means and how to rewrite one; Q and P are the
// request and reply decoder types (monomorphised, so calls into the decoders are direct).
import { NetworkContext, RootContext } from "../abi/context";
import { callForeignFunction, closeStream, continueStream, log, logEnabled, monotonicNs, setEffectiveContext } from "../abi/hostcalls";
import { chance } from "../policy/random";
import { Action, BufferType, LogLevel, PeerType, StreamType, WasmResult } from "../abi/types";
import { EV_ERROR, EV_MESSAGE } from "../protocols/codec";
import { Expose, FilterConfig, OnError } from "../config/config";
import { OnMismatch } from "../config/policy-config";
import { NO_ROUTE, PolicyEngine, VERDICT_ABORT, VERDICT_ALLOW, VERDICT_DENY, VERDICT_RATE_LIMITED } from "../policy/engine";
import { MessageView } from "../policy/view";
import { PROP_CLUSTER, PROP_ERRORS, PROP_FIRST_METHOD, PROP_LAST_METHOD, PROP_PROTOCOL, PROP_REQUESTS, exposeBytes, exposeInt, exposeString } from "./expose";
import { BufferPump } from "./pump";
import { Rewriter } from "./rewriter";
import { SubstituteTable } from "./substitutes";
import { ConnectionTimers } from "./timers";
import { ACT_ABORTED, ACT_DELAYED, ACT_DENIED, ACT_HOLD_OVERFLOW, ACT_POLICY_CLOSED, ACT_RATE_LIMITED, ACT_REWRITE_FAILURES,
  ACT_ROUTE_ERRORS, ACT_ROUTE_MISMATCH, ACT_ROUTE_TOO_LATE, ProtocolStats } from "./stats";
import { PendingSeries, STATUS_OK, Series } from "../telemetry/series";

/** No routes configured. */
export const ROUTE_OFF: i32 = 0;
/** on_new_connection paused: tcp_proxy waits for the first request's route. */
export const ROUTE_WAITING: i32 = 1;
/** The route of the connection is set (or no route matched: tcp_proxy's own cluster). */
export const ROUTE_DECIDED: i32 = 2;
/** tcp_proxy had to pick before the first request was parsed (no early data, or the wait expired). */
export const ROUTE_TOO_LATE: i32 = 3;

/** Bytes of a method name kept for the connection summary. */
const SUMMARY_METHOD_BYTES: i32 = 128;

/** Largest partial reply carried over to the next read while substituted replies are due. */
const CARRY_MAX: i32 = 64 * 1024;

let tooLateLogged = false;
let routeErrorLogged = false;

/** What the engine needs from a connection to time it and evaluate it. */
export class Enforcement {
  constructor(public engine: PolicyEngine, public timers: ConnectionTimers) {}
}

/** The routing handshake with tcp_proxy, shared with `protocol: auto` (which starts it). */
export abstract class RoutedConnection extends NetworkContext {
  routeState: i32 = ROUTE_OFF;
  protected routeDeadlineNs: i64 = 0;

  /** Pause tcp_proxy's start until the first request is routed or `deadlineNs` passes. */
  waitForRoute(deadlineNs: i64, timers: ConnectionTimers | null): void {
    this.routeState = ROUTE_WAITING;
    this.routeDeadlineNs = deadlineNs;
    if (timers != null) timers.arm(this);
  }
}

export abstract class ProtocolConnection<Q, P> extends RoutedConnection {
  protected passthrough: bool = false;
  private reqPump: BufferPump<Q> = new BufferPump<Q>();
  private repPump: BufferPump<P> = new BufferPump<P>();
  private requestsSeen: i64 = 0;
  private repliesSeen: i64 = 0;

  // ---- enforcement state ----
  protected readonly enforcing: bool;
  protected readonly reqEdits: Rewriter = new Rewriter();
  protected readonly repEdits: Rewriter = new Rewriter();
  protected readonly subs: SubstituteTable = new SubstituteTable();
  /** The last downstream callback returned Pause: its bytes are presented again, grown. */
  private held: bool = false;
  /** Buffer offset = decoder stream offset − base, for bytes not yet rewritten (per direction). */
  protected reqBase: i64 = 0;
  protected repBase: i64 = 0;
  /** The request in progress began in bytes already forwarded: it cannot be rewritten. */
  private unheld: bool = false;
  private closing: bool = false;
  private decided: i64 = 0;
  private routeIndex: i32 = NO_ROUTE;
  private delayUntilNs: i64 = 0;
  /** Text of the protocol error for the request being rejected. */
  protected rejectText: string = "";
  /** Per-request log lines are on and Envoy would print them at their level. */
  protected readonly logging: bool;

  // ---- telemetry state ----
  private pending: PendingSeries;
  private summaryRequests: i64 = 0;
  private summaryErrors: i64 = 0;
  private firstMethod: Uint8Array | null = null;
  private lastMethod: Uint8Array = new Uint8Array(SUMMARY_METHOD_BYTES);
  private lastMethodLen: i32 = 0;

  constructor(id: u32, root: RootContext, protected cfg: FilterConfig, protected stats: ProtocolStats,
    private protocolName: string, protected req: Q, protected rep: P, protected view: MessageView,
    protected enforcement: Enforcement, fifoReplies: bool, maxPending: i32) {
    super(id, root);
    this.enforcing = cfg.enforces();
    this.logging = cfg.logRequests && cfg.logSamplePpm > 0 && logEnabled(<LogLevel>cfg.logLevel);
    this.pending = new PendingSeries(fifoReplies, maxPending);
  }

  // ---- telemetry (called by subclasses) ----

  /**
   * A request of (service, method): counted in its series; `id` is what its reply will be
   * correlated by, when one is expected. Also feeds the connection summary.
   */
  // @ts-ignore: decorator
  @inline protected countRequest(sp: usize, sl: i32, mp: usize, ml: i32, bytes: i64, id: i64, expectsReply: bool): void {
    const table = this.stats.series;
    const s = table.lookup(sp, sl, mp, ml);
    s.dRequests++;
    s.dRequestBytes += bytes;
    table.touch(s);
    if (expectsReply) {
      this.pending.push(id, s.index);
      this.stats.dActive++;
    }
    this.summaryRequests++;
    const n = min(ml, SUMMARY_METHOD_BYTES);
    if (this.firstMethod == null) {
      const first = new Uint8Array(n);
      memory.copy(first.dataStart, mp, n);
      this.firstMethod = first;
    }
    memory.copy(this.lastMethod.dataStart, mp, n);
    this.lastMethodLen = n;
  }

  /** The reply to request `id` (STATUS_*), its size, and its duration in µs (< 0: not timed). */
  // @ts-ignore: decorator
  @inline protected countReply(id: i64, status: i32, bytes: i64, durationUs: i64): void {
    const table = this.stats.series;
    const pending = this.pending;
    const index = pending.take(id);
    if (pending.dropped != 0) { this.stats.dActive -= pending.dropped; pending.dropped = 0; }
    let s: Series;
    if (index >= 0) { s = table.at(index); this.stats.dActive--; }
    else s = table.lookup(0, 0, 0, 0); // a reply to nothing tracked: the protocol-wide series
    unchecked(s.dResponses[status]++);
    s.dResponseBytes += bytes;
    table.touch(s);
    if (durationUs >= 0) s.recordDuration(durationUs);
    if (status != STATUS_OK) this.summaryErrors++;
  }

  /**
   * Whether this answered request gets a log line: Envoy would print it at the configured level
   * (checked first, so a dropped line costs neither a random draw nor its text) and the sample
   * (telemetry.log.sample_percent) picks it.
   */
  protected sampled(): bool {
    return this.logging && chance(this.cfg.logSamplePpm);
  }

  /** Requests, errors, first and last method: filter state for tcp_proxy's access log. */
  private exposeSummary(): void {
    if (this.cfg.expose == Expose.Off) return;
    exposeInt(PROP_REQUESTS, this.summaryRequests);
    exposeInt(PROP_ERRORS, this.summaryErrors);
    const first = this.firstMethod;
    if (first != null) exposeBytes(PROP_FIRST_METHOD, first.dataStart, first.length);
    if (this.summaryRequests > 0) exposeBytes(PROP_LAST_METHOD, this.lastMethod.dataStart, this.lastMethodLen);
  }

  onNewConnection(): Action {
    this.stats.dCx++;
    if (this.cfg.expose != Expose.Off) exposeString(PROP_PROTOCOL, this.protocolName);
    this.stats.flush();
    if (this.cfg.routes.length > 0 && this.routeState == ROUTE_OFF) {
      this.waitForRoute(monotonicNs() + <i64>this.cfg.routing.waitMs * 1000000, this.enforcement.timers);
      return Action.Pause;
    }
    return Action.Continue;
  }

  onDownstreamData(size: i32, endOfStream: bool): Action {
    // A held buffer comes back grown (with any bytes the filter inserted): only the enforcing walk
    // knows where it stopped, even once nothing is left to rewrite (upstream AUTH already inserted).
    if (this.enforcing || this.held || this.needsRequestRewrites()) return this.enforceRequests(size, endOfStream);
    return this.drain<Q>(this.reqPump, this.req, BufferType.DownstreamData, size);
  }

  onUpstreamData(size: i32, endOfStream: bool): Action {
    if (this.subs.size > 0 || this.repEdits.carry.length > 0) return this.rewriteReplies(size, endOfStream);
    return this.drain<P>(this.repPump, this.rep, BufferType.UpstreamData, size);
  }

  /** Counts a request; true when its metadata goes to filter state (expose first/every). */
  protected exposeRequest(): bool {
    this.requestsSeen++;
    const e = this.cfg.expose;
    return e == Expose.Every || (e == Expose.First && this.requestsSeen == 1);
  }

  /** Counts a reply; true when its status goes to filter state. */
  protected exposeReply(): bool {
    this.repliesSeen++;
    const e = this.cfg.expose;
    return e == Expose.Every || (e == Expose.First && this.repliesSeen == 1);
  }

  /** A complete request was decoded; `now` is the monotonic time of this callback. */
  protected abstract onRequestMessage(now: i64): void;
  /** A complete reply was decoded. */
  protected abstract onReplyMessage(now: i64): void;
  /** Protocol-specific edits that do not come from a decision (Redis: upstream AUTH injection). */
  protected needsRequestRewrites(): bool { return false; }
  /** Called at the start of each downstream callback that enforces, before any request. */
  protected beforeRequests(): void {}

  // ---- decisions (called by subclasses from onRequestMessage) ----

  /**
   * Routes the connection on its first request, checks later ones against that route. Returns
   * VERDICT_ALLOW, or VERDICT_DENY (rejectText set) for a mismatch configured as deny.
   */
  protected routeRequest(): i32 {
    const engine = this.enforcement.engine;
    this.view.prepare(); // first of the decisions on this request: point the view at its metadata
    if (engine.routes.length == 0) return VERDICT_ALLOW;
    if (this.decided++ == 0 && this.routeState != ROUTE_DECIDED) {
      this.routeFirst(engine);
      return VERDICT_ALLOW;
    }
    const r = engine.route(this.view);
    if (r == this.routeIndex) return VERDICT_ALLOW;
    this.stats.count(ACT_ROUTE_MISMATCH);
    if (this.cfg.routing.onMismatch == OnMismatch.Allow) return VERDICT_ALLOW;
    this.rejectText = this.cfg.routing.mismatchMessage;
    this.stats.countPolicy(ACT_DENIED, -1);
    return VERDICT_DENY;
  }

  private routeFirst(engine: PolicyEngine): void {
    const r = engine.route(this.view);
    this.routeIndex = r;
    if (this.routeState == ROUTE_TOO_LATE) {
      if (r != NO_ROUTE) this.stats.count(ACT_ROUTE_TOO_LATE);
      return;
    }
    this.routeState = ROUTE_DECIDED;
    if (r == NO_ROUTE) return;
    const c = engine.pickCluster(r);
    const res = callForeignFunction("set_envoy_filter_state", engine.clusterArgs(r, c));
    if (res == WasmResult.Ok) {
      this.stats.countRouted(r, c);
      if (this.cfg.expose != Expose.Off) exposeString(PROP_CLUSTER, engine.clusterName(r, c));
    } else {
      this.stats.count(ACT_ROUTE_ERRORS);
      if (!routeErrorLogged) {
        routeErrorLogged = true;
        log(LogLevel.Warn, "metawire: set_envoy_filter_state(envoy.tcp_proxy.cluster) failed with result " + (<i32>res).toString() +
          " (route \"" + engine.routes[r].name + "\"): this Envoy does not accept the cluster from a wasm filter; connections use tcp_proxy's cluster");
      }
    }
  }

  /**
   * Policies for the request; VERDICT_ALLOW or the rejecting verdict (rejectText set). A delay
   * fault holds the connection's downstream bytes from this request on.
   */
  protected applyPolicies(now: i64): i32 {
    const engine = this.enforcement.engine;
    if (engine.policies.length == 0) return VERDICT_ALLOW;
    engine.decide(this.view, now);
    const v = engine.verdict;
    if (v != VERDICT_ALLOW) {
      this.rejectText = engine.policies[engine.policy].message;
      this.stats.countPolicy(v == VERDICT_DENY ? ACT_DENIED : v == VERDICT_ABORT ? ACT_ABORTED : ACT_RATE_LIMITED, engine.policy);
      return v;
    }
    if (engine.delayMs > 0) {
      this.stats.countPolicy(ACT_DELAYED, engine.delayPolicy);
      const until = now + <i64>engine.delayMs * 1000000;
      if (until > this.delayUntilNs) this.delayUntilNs = until;
      this.enforcement.timers.arm(this);
    }
    return VERDICT_ALLOW;
  }

  // ---- request rewrites ----

  /** Whether the request just decoded lies wholly in the current buffer (so it can be replaced). */
  protected requestEditable(): bool {
    return !this.unheld && this.reqStartOffset() >= 0;
  }

  private reqStartOffset(): i64 {
    return this.req.start() - this.reqBase;
  }

  /** The request becomes reqEdits.sink[mark, now) (call reqEdits.mark() before writing). */
  protected replaceRequest(): void {
    this.reqEdits.replace(<i32>(this.req.start() - this.reqBase), <i32>(this.req.end() - this.reqBase));
  }

  /** Bytes inserted before the request in progress (or at `offset` of the buffer). */
  protected insertAt(offset: i32): void {
    this.reqEdits.replace(offset, offset);
  }

  /** Offset in the buffer of the next byte the request decoder will read. */
  protected requestScanOffset(): i32 {
    return <i32>(this.req.position() - this.reqBase);
  }

  /** A request that must be rejected but cannot be rewritten: close before it completes upstream. */
  protected closeForRejection(why: string = ""): void {
    this.closing = true;
    this.stats.count(ACT_POLICY_CLOSED);
    if (logEnabled(LogLevel.Warn)) {
      log(LogLevel.Warn, "metawire " + this.protocolName + ": connection " + this.id.toString() + ": rejected a request " +
        (why.length > 0 ? why : "larger than max_hold_bytes (" + this.cfg.maxHoldBytes.toString() + ") whose first bytes were already forwarded") +
        "; closing the connection");
    }
  }

  /** Replace the reply just decoded by repEdits.sink[mark, now); false if it cannot be (already forwarded). */
  protected replaceReply(): bool {
    const s = this.rep.start() - this.repBase;
    if (s < 0) {
      this.stats.count(ACT_REWRITE_FAILURES);
      this.closing = true;
      return false;
    }
    this.repEdits.replace(<i32>s, <i32>(this.rep.end() - this.repBase));
    return true;
  }

  // ---- the walks ----

  private enforceRequests(size: i32, endOfStream: bool): Action {
    if (this.passthrough) return Action.Continue;
    const req = this.req;
    if (!this.held) this.reqBase = req.position();
    this.held = false;
    this.beforeRequests();
    const pump = this.reqPump;
    let now: i64 = -1;
    pump.begin(BufferType.DownstreamData, <i32>(req.position() - this.reqBase), size);
    while (!this.closing) {
      const ev = pump.next(req);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();
        this.onRequestMessage(now);
        this.unheld = false;
      } else if (ev == EV_ERROR) {
        this.applyEdits(true, size);
        if (this.routeState == ROUTE_WAITING) this.settleRoute();
        return this.protocolError("request", pump.failure.length > 0 ? pump.failure : req.errorReason(), req.start());
      } else break;
    }
    let holdPartial = false;
    if (this.enforcing && !this.closing && !req.atBoundary()) {
      const partialBytes = <i64>size - this.reqStartOffset();
      if (!endOfStream && !this.unheld && this.reqStartOffset() >= 0 && partialBytes <= <i64>this.cfg.maxHoldBytes) {
        holdPartial = true;
      } else if (!this.unheld) {
        this.unheld = true;
        this.stats.count(ACT_HOLD_OVERFLOW);
      }
    }
    if (!this.applyEdits(true, size)) this.closing = true;
    if (this.closing) {
      this.stats.flush();
      closeStream(StreamType.Downstream);
      return Action.Pause;
    }
    // The route must be set before tcp_proxy starts, which it does as soon as we Continue.
    if (this.routeState == ROUTE_WAITING && !holdPartial) this.settleRoute();
    this.held = holdPartial || this.delayUntilNs > 0;
    this.stats.flush();
    return this.held ? Action.Pause : Action.Continue;
  }

  /**
   * tcp_proxy is about to start without a routed first request (it is larger than max_hold_bytes,
   * or the stream ended or broke first): its own cluster it is. The first request, once parsed,
   * is too late (counted if it matches a route) and its route is the one later requests are
   * checked against — it must not be taken for a later request on another route (a mismatch,
   * denied with on_mismatch deny).
   */
  private settleRoute(): void {
    this.routeState = ROUTE_TOO_LATE;
  }

  private rewriteReplies(size: i32, endOfStream: bool): Action {
    if (this.passthrough) return Action.Continue;
    const rep = this.rep;
    const carried = this.repEdits.restoreCarry(BufferType.UpstreamData);
    if (carried < 0) return this.refuseRewrite();
    size += carried;
    this.repBase = rep.position() - <i64>carried;
    const pump = this.repPump;
    let now: i64 = -1;
    pump.begin(BufferType.UpstreamData, carried, size);
    while (true) {
      const ev = pump.next(rep);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();
        this.onReplyMessage(now);
      } else if (ev == EV_ERROR) {
        this.applyEdits(false, size);
        return this.protocolError("reply", pump.failure.length > 0 ? pump.failure : rep.errorReason(), rep.start());
      } else break;
    }
    if (this.subs.size > 0 && !endOfStream && !rep.atBoundary()) {
      const s = rep.start() - this.repBase;
      if (s >= 0 && <i64>size - s <= <i64>CARRY_MAX) this.repEdits.cutTail(<i32>s);
    }
    this.applyEdits(false, size);
    this.stats.flush();
    if (this.closing) {
      closeStream(StreamType.Downstream);
      return Action.Pause;
    }
    return Action.Continue;
  }

  /** The carried start of a reply could not be put back: its bytes would be lost, so close. */
  private refuseRewrite(): Action {
    this.logRewriteRefused();
    this.stats.flush();
    closeStream(StreamType.Downstream);
    return Action.Pause;
  }

  private logRewriteRefused(): void {
    this.stats.count(ACT_REWRITE_FAILURES);
    log(LogLevel.Error, "metawire " + this.protocolName + ": connection " + this.id.toString() + ": the host refused a buffer rewrite; closing the connection");
  }

  /** Applies the callback's edits; false when the host refused them (the caller closes). */
  private applyEdits(request: bool, size: i32): bool {
    const edits = request ? this.reqEdits : this.repEdits;
    if (!edits.pending) return true;
    const delta = edits.apply(request ? BufferType.DownstreamData : BufferType.UpstreamData, size);
    if (delta == i32.MIN_VALUE) {
      this.logRewriteRefused();
      return false;
    }
    if (request) this.reqBase -= <i64>delta;
    return true;
  }

  // ---- time ----

  onTimer(nowNs: i64): bool {
    if (this.routeState == ROUTE_WAITING && nowNs >= this.routeDeadlineNs) {
      // Nothing routable arrived in time (tcp_proxy without early data never lets it arrive).
      this.routeState = ROUTE_TOO_LATE;
      if (this.held && !this.req.atBoundary()) this.unheld = true;
      if (!tooLateLogged) {
        tooLateLogged = true;
        log(LogLevel.Warn, "metawire: no request parsed within routing.wait_ms (" + this.cfg.routing.waitMs.toString() +
          " ms) of a new connection, so tcp_proxy picked the upstream before any route could: routes only work with " +
          "tcp_proxy early data (max_early_data_bytes, upstream_connect_mode: ON_DOWNSTREAM_DATA; Envoy >= 1.37). Counted in route_too_late_total");
      }
      this.resume();
    }
    if (this.delayUntilNs > 0 && nowNs >= this.delayUntilNs) {
      this.delayUntilNs = 0;
      // A request still arriving keeps the bytes held; its next read continues them.
      if (this.held && this.req.atBoundary()) this.resume();
    }
    return this.routeState == ROUTE_WAITING || this.delayUntilNs > 0;
  }

  private resume(): void {
    this.held = false;
    if (setEffectiveContext(this.id) == WasmResult.Ok) continueStream(StreamType.Downstream);
  }

  // ---- plain walk (nothing to enforce) ----

  /** Feeds [0, size) of the direction's host buffer to `dec`. */
  private drain<D>(pump: BufferPump<D>, dec: D, type: BufferType, size: i32): Action {
    if (this.passthrough || size == 0) return Action.Continue;
    const request = type == BufferType.DownstreamData;
    let now: i64 = -1;
    pump.begin(type, 0, size);
    while (true) {
      const ev = pump.next(dec);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();   // one clock read per callback, shared by its messages
        if (request) this.onRequestMessage(now); else this.onReplyMessage(now);
      } else if (ev == EV_ERROR) {
        return this.protocolError(request ? "request" : "reply", pump.failure.length > 0 ? pump.failure : dec.errorReason(), dec.start());
      } else break;
    }
    this.stats.flush();
    return Action.Continue;
  }

  private protocolError(direction: string, reason: string, at: i64): Action {
    this.passthrough = true;
    this.held = false;
    this.stats.dDecodeErrors++;
    this.stats.dPassthrough++;
    // Policies and downstream auth fail closed, whatever on_error says: bytes passed through
    // unparsed would reach the server unchecked, and servers accept what a strict decoder refuses
    // (Redis executes `*1\r\n$8\r\nFLUSHALLxx`: it never checks the CRLF after a bulk string).
    const failClosed = this.cfg.onError != OnError.Close && this.failsClosed();
    if (failClosed) this.stats.count(ACT_POLICY_CLOSED);
    this.stats.flush();
    const close = this.cfg.onError == OnError.Close || failClosed;
    if (logEnabled(LogLevel.Warn)) {
      log(LogLevel.Warn, "metawire " + this.protocolName + ": connection " + this.id.toString() + ": " + direction +
        " decode error \"" + reason + "\" near stream offset " + at.toString() +
        (failClosed ? "; closing the connection (policies and auth fail closed)" :
          close ? "; closing the connection" : "; passing bytes through unparsed from here"));
    }
    if (close) {
      closeStream(StreamType.Downstream);
      return Action.Pause;
    }
    return Action.Continue;
  }

  /** Whether a decode error must close the connection: it enforces policies, auth or route mismatches. */
  private failsClosed(): bool {
    const cfg = this.cfg;
    const auth = cfg.redis.auth;
    return cfg.policies.length > 0 || (auth != null && auth.enforcesDownstream() && this.protocolName == "redis") ||
      (cfg.routes.length > 0 && cfg.routing.onMismatch == OnMismatch.Deny);
  }

  onDownstreamClose(peer: PeerType): void {
    this.stats.dActive -= this.pending.clear();
    this.exposeSummary();
    this.stats.flush();
  }

  onDelete(): void {
    this.enforcement.timers.disarm(this);
  }
}
