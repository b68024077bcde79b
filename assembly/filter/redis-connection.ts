// One Redis connection: request decoder on the downstream path, reply decoder on the upstream
// path, FIFO correlation in between, metadata to filter state, counts to batched metrics; with
// enforcement, in-band rewrites: a rejected command becomes PING and its reply `-ERR <message>`,
// AUTH is answered by the filter (and never reaches the server), upstream credentials are sent
// ahead of the first command and their reply removed.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { RedisReplyDecoder, RedisRequestDecoder, RedisSession, RedisLimits, REPLY_MATCHED, REPLY_OUT_OF_BAND } from "../protocols/redis";
import { writeRedisAuth, writeRedisDiscard, writeRedisError, writeRedisPing, writeRedisSimple } from "../protocols/redis/substitute";
import { EV_MESSAGE } from "../protocols/codec";
import { FilterConfig } from "../config/config";
import { Field, RedisAuthConfig } from "../config/policy-config";
import { VERDICT_ALLOW } from "../policy/engine";
import { MessageView } from "../policy/view";
import { ACT_AUTH_FAILURES, ProtocolStats } from "./stats";
import { STATUS_ERROR, STATUS_OK } from "../telemetry/series";
import { Enforcement, ProtocolConnection } from "./protocol-connection";
import { SUB_ERROR, SUB_ERROR_CODED, SUB_OK, SUB_SWALLOW, Substitute } from "./substitutes";
import { PROP_ID, PROP_KEY, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS, exposeBytes, exposeInt, exposeString } from "./expose";

const PROTOCOL_NAME = "redis";
const NOAUTH = "NOAUTH Authentication required.";
const NOAUTH_HELLO = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";
const AUTH_ARITY = "ERR wrong number of arguments for 'auth' command";
const EXECABORT = "EXECABORT Transaction discarded because of previous errors.";

/** Decodes the requests the filter writes itself, so the session sees what the server will see. */
let synthetic: RedisRequestDecoder | null = null;

function decodeSynthetic(ptr: usize, len: i32): RedisRequestDecoder | null {
  let d = synthetic;
  if (d == null) { d = new RedisRequestDecoder(new RedisLimits()); synthetic = d; }
  d.reset();
  d.feed(ptr, len);
  return d.event == EV_MESSAGE ? d : null;
}

class RedisView extends MessageView {
  constructor(private req: RedisRequestDecoder) { super(); }

  prepare(): void {
    const req = this.req;
    this.set(Field.Protocol, PROTOCOL_BYTES.dataStart, PROTOCOL_BYTES.length);
    this.absent(Field.Service);
    this.set(Field.Method, req.methodPtr(), req.methodLen());
    if (req.hasKey()) this.set(Field.Key, req.keyPtr(), req.keyLen()); else this.absent(Field.Key);
    this.absent(Field.Version);
    this.absent(Field.Group);
  }
}

const PROTOCOL_BYTES = Uint8Array.wrap(String.UTF8.encode(PROTOCOL_NAME));

export class RedisConnection extends ProtocolConnection<RedisRequestDecoder, RedisReplyDecoder> {
  private session: RedisSession;
  /** Keys of outstanding requests, kept only when per-request logging is on. */
  private logKeys: Array<string> = [];
  private auth: RedisAuthConfig | null;
  private authenticated: bool = false;
  private credentialsSent: bool = false;
  /** Between MULTI and EXEC/DISCARD as forwarded, and whether a command in it was rejected. */
  private inMulti: bool = false;
  private multiRejected: bool = false;

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats, enforcement: Enforcement) {
    const req = new RedisRequestDecoder(cfg.redis.limits);
    super(id, root, cfg, stats, PROTOCOL_NAME, req, new RedisReplyDecoder(cfg.redis.limits), new RedisView(req), enforcement, true, cfg.redis.maxPending);
    this.session = new RedisSession(cfg.redis.maxPending);
    this.auth = cfg.redis.auth;
  }

  protected needsRequestRewrites(): bool {
    const auth = this.auth;
    return auth != null && auth.injectsUpstream() && !this.credentialsSent;
  }

  /** Upstream credentials go in front of the client's first bytes; their reply is removed. */
  protected beforeRequests(): void {
    const auth = this.auth;
    if (auth == null || !auth.injectsUpstream() || this.credentialsSent) return;
    this.credentialsSent = true;
    const edits = this.reqEdits;
    const mark = edits.mark();
    writeRedisAuth(edits.sink, auth.upstreamUsername, auth.upstreamPassword!);
    this.insertAt(this.requestScanOffset());
    this.track(mark, 0, SUB_SWALLOW, "");
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    if (this.enforcing) {
      if (hasNul(req.methodPtr(), req.methodLen())) {
        // redis-server hashes the whole name but compares it only up to the NUL: `FLUSHALL\0<x>`
        // can run FLUSHALL (for some x, depending on its hash seed). No policy can be sure what
        // such a name is, so it is refused with the connection.
        this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), 0, false);
        this.closeForRejection("whose command name holds a NUL byte (Redis may run it as another command)");
        return;
      }
      let verdict = this.routeRequest();
      const auth = this.auth;
      if (auth != null && auth.enforcesDownstream() && this.authenticate(auth, now)) return;
      if (verdict == VERDICT_ALLOW) verdict = this.applyPolicies(now);
      if (this.transaction(verdict, now)) return;
      if (verdict != VERDICT_ALLOW) { this.substitute(SUB_ERROR_CODED, this.rejectText, now); return; }
    }
    this.session.onRequest(req, now);
    this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), this.session.lastRequestId(), this.session.lastRequestExpectsReply());
    if (this.exposeRequest()) {
      exposeBytes(PROP_METHOD, req.methodPtr(), req.methodLen());
      exposeBytes(PROP_KEY, req.hasKey() ? req.keyPtr() : 0, req.hasKey() ? req.keyLen() : 0);
      exposeInt(PROP_ID, this.session.lastRequestId());
      exposeString(PROP_KIND, "request");
    }
    // One key per reply that will come: requests the server will not answer (CLIENT REPLY OFF/SKIP)
    // must not shift the keys of later ones.
    if (this.logging && this.session.lastRequestExpectsReply() && !this.session.overflowed()) {
      this.logKeys.push(req.hasKey() ? String.UTF8.decodeUnsafe(req.keyPtr(), req.keyLen()) : "");
    }
  }

  /**
   * Keeps MULTI/EXEC as Redis has it: a command rejected inside a transaction makes its EXEC fail
   * (EXECABORT, nothing runs), as a command Redis itself refuses at queue time would — so the EXEC
   * goes upstream as DISCARD. A rejected EXEC is a DISCARD too (a PING would leave the server
   * queueing). Returns true when the request was handled here.
   */
  private transaction(verdict: i32, now: i64): bool {
    const req = this.req;
    if (isMethod(req, "EXEC") && this.inMulti) {
      this.inMulti = false;
      if (verdict == VERDICT_ALLOW && !this.multiRejected) return false;
      if (verdict == VERDICT_ALLOW) this.substitute(SUB_ERROR, EXECABORT, now, true);
      else this.substitute(SUB_ERROR_CODED, this.rejectText, now, true);
      return true;
    }
    if (verdict != VERDICT_ALLOW) {
      if (this.inMulti) this.multiRejected = true;
      return false;
    }
    if (isMethod(req, "MULTI")) { this.inMulti = true; this.multiRejected = false; }
    else if (isMethod(req, "DISCARD")) this.inMulti = false;
    return false;
  }

  /**
   * AUTH and HELLO … AUTH are answered by the filter; before a successful one every other command
   * is refused with NOAUTH. Returns true when the request was handled here.
   */
  private authenticate(auth: RedisAuthConfig, now: i64): bool {
    const req = this.req;
    if (isMethod(req, "AUTH")) {
      const argc = req.argc();
      if (argc != 2 && argc != 3) { this.substitute(SUB_ERROR, AUTH_ARITY, now); return true; }
      const ok = argc == 2 ? this.passwordOk(auth, 1) : this.userOk(auth, 1, 2);
      if (ok) {
        this.authenticated = true;
        this.substitute(SUB_OK, "", now);
      } else {
        this.stats.count(ACT_AUTH_FAILURES);
        this.substitute(SUB_ERROR, WRONGPASS, now);
      }
      return true;
    }
    if (isMethod(req, "HELLO") && req.argc() >= 5 && req.argIs(2, "AUTH")) {
      if (!this.userOk(auth, 3, 4)) {
        this.stats.count(ACT_AUTH_FAILURES);
        this.substitute(SUB_ERROR, WRONGPASS, now);
        return true;
      }
      this.authenticated = true;
      this.helloWithoutAuth(now);
      return true;
    }
    if (this.authenticated) return false;
    this.substitute(SUB_ERROR, isMethod(req, "HELLO") ? NOAUTH_HELLO : NOAUTH, now);
    return true;
  }

  private passwordOk(auth: RedisAuthConfig, arg: i32): bool {
    const pw = auth.password;
    return pw != null && argEquals(this.req, arg, pw);
  }

  /** ACL form; the "default" user's password is `password`. */
  private userOk(auth: RedisAuthConfig, userArg: i32, passArg: i32): bool {
    const req = this.req;
    for (let i = 0; i < auth.users.length; i++) {
      const u = auth.users[i];
      if (argEquals(req, userArg, u.username)) return argEquals(req, passArg, u.password);
    }
    return req.argIs(userArg, "default") && this.passwordOk(auth, passArg);
  }

  /** `HELLO <protover> AUTH u p [SETNAME n]` → `HELLO <protover>`: the credentials stay here. */
  private helloWithoutAuth(now: i64): void {
    const req = this.req;
    if (!this.requestEditable()) {
      this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), 0, false);
      this.closeForRejection();
      return;
    }
    const edits = this.reqEdits;
    const mark = edits.mark();
    const out = edits.sink;
    const n = req.argLen(1);
    out.utf8("*2\r\n$5\r\nHELLO\r\n$");
    out.utf8(n.toString());
    out.utf8("\r\n");
    out.bytes(req.argPtr(1), n);
    out.utf8("\r\n");
    this.replaceRequest();
    this.track(mark, now, -1, "");
    this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), this.session.lastRequestId(), this.session.lastRequestExpectsReply());
  }

  /** The request becomes PING (or DISCARD); its reply will become `kind` with `text`. */
  private substitute(kind: i32, text: string, now: i64, discard: bool = false): void {
    if (!this.requestEditable()) {
      const req = this.req;
      this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), 0, false);
      this.closeForRejection();
      return;
    }
    const edits = this.reqEdits;
    const mark = edits.mark();
    if (discard) writeRedisDiscard(edits.sink); else writeRedisPing(edits.sink);
    this.replaceRequest();
    this.track(mark, now, kind, text);
    const req = this.req;
    this.countRequest(0, 0, req.methodPtr(), req.methodLen(), req.end() - req.start(), this.session.lastRequestId(), this.session.lastRequestExpectsReply());
  }

  /**
   * The session learns the request the filter wrote at reqEdits.sink[mark, end): the server sees
   * that one (a rejected SUBSCRIBE or MULTI changes nothing). kind ≥ 0: its reply is rewritten.
   */
  private track(mark: i32, now: i64, kind: i32, text: string): void {
    const sink = this.reqEdits.sink;
    const d = decodeSynthetic(sink.ptr + <usize>mark, sink.length - mark);
    if (d == null) return; // unreachable: the filter's own bytes form one complete request
    this.session.onRequest(d, now);
    if (kind >= 0) this.subs.add(this.session.lastRequestId(), kind, text);
  }

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onReply(rep);
    if (match == REPLY_OUT_OF_BAND) { this.stats.dOutOfBand++; return; }
    if (match == REPLY_MATCHED && this.subs.size > 0) {
      const sub = this.subs.take(this.session.matchedId());
      if (sub != null) { this.rewriteReply(sub, now); return; }
    }
    // A multi-channel (UN)SUBSCRIBE is answered once per channel: its last answer completes it.
    if (match != REPLY_MATCHED) this.countReply(-1, rep.isError() ? STATUS_ERROR : STATUS_OK, rep.end() - rep.start(), -1);
    else if (this.session.matchedFinal()) {
      this.countReply(this.session.matchedId(), rep.isError() ? STATUS_ERROR : STATUS_OK, rep.end() - rep.start(),
        (now - this.session.matchedStartNs()) / 1000);
    }
    if (this.exposeReply()) {
      exposeString(PROP_RESPONSE_STATUS, rep.isError() ? "error" : "ok");
      exposeBytes(PROP_RESPONSE_CODE, rep.isError() ? rep.errorCodePtr() : 0, rep.isError() ? rep.errorCodeLen() : 0);
    }
    // log a multi-channel (UN)SUBSCRIBE once, on its last answer
    if (this.logging && match == REPLY_MATCHED && this.session.matchedFinal()) {
      if (this.sampled()) this.logReply(now); else if (this.logKeys.length > 0) this.logKeys.shift();
    }
  }

  private rewriteReply(sub: Substitute, now: i64): void {
    const edits = this.repEdits;
    const mark = edits.mark();
    if (sub.kind != SUB_SWALLOW) {
      if (sub.kind == SUB_OK) writeRedisSimple(edits.sink, "OK");
      else writeRedisError(edits.sink, sub.text, sub.kind == SUB_ERROR_CODED ? "ERR" : "");
      this.countReply(sub.id, sub.kind == SUB_OK ? STATUS_OK : STATUS_ERROR, edits.sink.length - mark,
        (now - this.session.matchedStartNs()) / 1000);
    } else if (this.rep.isError()) {
      this.stats.count(ACT_AUTH_FAILURES);
      log(LogLevel.Warn, "metawire redis: connection " + this.id.toString() + ": the server refused the configured upstream credentials (" +
        String.UTF8.decodeUnsafe(this.rep.errorCodePtr(), this.rep.errorCodeLen()) + ")");
    }
    this.replaceReply();
  }

  private logReply(now: i64): void {
    const key = this.logKeys.length > 0 ? this.logKeys.shift() : "";
    const s = this.session;
    const rep = this.rep;
    let line = "redis id=" + s.matchedId().toString() + " " + String.UTF8.decodeUnsafe(s.matchedMethodPtr(), s.matchedMethodLen());
    if (key.length > 0) line += " key=" + key;
    line += rep.isError() ? " -> error " + String.UTF8.decodeUnsafe(rep.errorCodePtr(), rep.errorCodeLen()) : " -> ok";
    line += " " + ((now - s.matchedStartNs()) / 1000).toString() + "us";
    log(this.cfg.logLevel, line);
  }
}

/** The bytes hold a NUL. */
function hasNul(ptr: usize, len: i32): bool {
  for (let i = 0; i < len; i++) if (load<u8>(ptr + <usize>i) == 0) return true;
  return false;
}

/** argv[0] (captured upper-cased) is `name`. */
function isMethod(req: RedisRequestDecoder, name: string): bool {
  const n = req.methodLen();
  if (n != name.length) return false;
  const p = req.methodPtr();
  for (let i = 0; i < n; i++) if (<i32>load<u8>(p + <usize>i) != name.charCodeAt(i)) return false;
  return true;
}

/** argv[i] equals `want`, compared in time independent of where they differ (secrets). */
function argEquals(req: RedisRequestDecoder, i: i32, want: Uint8Array): bool {
  const full = req.argFullLen(i);
  const n = want.length;
  if (full != <i64>n || req.argLen(i) != n) return false;
  const p = req.argPtr(i), q = want.dataStart;
  let diff: u32 = 0;
  for (let k = 0; k < n; k++) diff |= <u32>(load<u8>(p + <usize>k) ^ load<u8>(q + <usize>k));
  return diff == 0;
}
