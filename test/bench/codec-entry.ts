// @ts-nocheck: AssemblyScript (built by asc, not tsc; tsconfig.json includes test/**)
// Codec-only benchmark entry (AssemblyScript): drives RedisRequestDecoder / RedisReplyDecoder /
// RedisSession (and, further down, the Thrift and Dubbo decoders and sessions) over byte ranges the
// host has already copied into this module's memory, with no proxy-wasm ABI in between. Built by
// test/bench/codec-bench.ts with test/bench/asconfig.codec.json into build/bench-codec.wasm;
// imports nothing.
//
// One drive loop (window(), generic over the decoder) mirrors what the filter's BufferPump does:
// windows of at most `chunk` bytes (the pump fetches 16 KiB), each fed until consumed, each
// EV_MESSAGE handed to the session, and (with `skip`) whatever skippable() allows stepped over
// between windows instead of being fed.

import { EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { RedisLimits, RedisRequestDecoder, RedisReplyDecoder, RedisSession } from "../../assembly/protocols/redis";
import { ThriftLimits, ThriftDecoder, ThriftSession, MSG_CALL, MSG_REPLY, REPLY_STATUS_SUCCESS } from "../../assembly/protocols/thrift";
import { DubboLimits, DubboDecoder, DubboSession } from "../../assembly/protocols/dubbo";

let limits = new RedisLimits();
let req = new RedisRequestDecoder(limits);
let rep = new RedisReplyDecoder(limits);
let session = new RedisSession();

/** Memory outside the GC for the host to copy streams into. */
export function alloc(n: i32): usize {
  return heap.alloc(<usize>n);
}

export function release(p: usize): void {
  if (p != 0) heap.free(p);
}

/** Fresh decoders and session (allocates; call outside the timed region). */
export function fresh(): void {
  limits = new RedisLimits();
  req = new RedisRequestDecoder(limits);
  rep = new RedisReplyDecoder(limits);
  session = new RedisSession();
  __collect();
}

/**
 * The stream in [p, p+len) handed to `d` as the filter's BufferPump does: in windows of at most
 * `chunk` bytes, each fed until consumed; between windows, with `skip`, whatever skippable() allows
 * is skipped instead of fetched. With `withSession`, each message goes to `side` (the session).
 * Returns the messages completed, or -1 on an error or a stalled decoder.
 * Generic over the decoder and its side so that calls stay direct, and one side class per decoder
 * type (the direction a field) so that each type gets one copy of this loop: a function reference,
 * or a copy per direction, changed binaryen's inlining and cost the Redis rows ~10 %.
 */
function window<D, S>(d: D, side: S, withSession: bool, p: usize, len: i32, chunk: i32, skip: bool): i32 {
  let off = 0;
  let msgs = 0;
  while (off < len) {
    if (skip) {
      const s = d.skippable();
      if (s > 0) {
        const k = <i64>(len - off) < s ? len - off : <i32>s;
        d.skip(<i64>k);
        off += k;
        continue;
      }
    }
    const end = len - off > chunk ? off + chunk : len;
    while (off < end) {
      const c = d.feed(p + <usize>off, end - off);
      off += c;
      const ev = d.event;
      if (ev == EV_MESSAGE) {
        msgs++;
        if (withSession) side.seen(d);
      } else if (ev == EV_ERROR || c == 0) return -1;
    }
  }
  return msgs;
}

/** `iters` round trips: the request stream, then the reply stream, each message to its session side. */
function rounds<Q, QS, R, RS>(q: Q, qs: QS, reqPtr: usize, reqLen: i32, r: R, rs: RS, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = window<Q, QS>(q, qs, true, reqPtr, reqLen, chunk, skip);
    const b = window<R, RS>(r, rs, true, repPtr, repLen, chunk, skip);
    if (a < 0 || b < 0) return -1;
    total += <f64>(a + b);
  }
  return total;
}

/** One decoder alone (no session), `iters` times over one stream. */
function alone<D, S>(d: D, side: S, p: usize, len: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = window<D, S>(d, side, false, p, len, chunk, skip);
    if (a < 0) return -1;
    total += <f64>a;
  }
  return total;
}

// Session sides: what the session does with a message of each decoder type. One instance each,
// made outside the timed calls.
class RedisRequests {
  seen(d: RedisRequestDecoder): void {
    session.onRequest(d, 0);
  }
}
class RedisReplies {
  seen(d: RedisReplyDecoder): void {
    session.onReply(d);
  }
}
const REDIS_REQUESTS = new RedisRequests();
const REDIS_REPLIES = new RedisReplies();

/**
 * `iters` round trips: the request stream, then the reply stream, each message correlated by the
 * session (as the filter does). Returns requests + replies seen, or -1 on an error.
 */
export function roundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  return rounds(req, REDIS_REQUESTS, reqPtr, reqLen, rep, REDIS_REPLIES, repPtr, repLen, iters, chunk, skip);
}

/** The request decoder alone, `iters` times over one stream. */
export function requestsOnly(p: usize, len: i32, iters: i32, chunk: i32, skip: bool): f64 {
  return alone(req, REDIS_REQUESTS, p, len, iters, chunk, skip);
}

/** The reply decoder alone, `iters` times over one stream. */
export function repliesOnly(p: usize, len: i32, iters: i32, chunk: i32, skip: bool): f64 {
  return alone(rep, REDIS_REPLIES, p, len, iters, chunk, skip);
}

// ---- Thrift and Dubbo ------------------------------------------------------------------------------
// The same drive for ThriftDecoder/ThriftSession and DubboDecoder/DubboSession: one decoder type per
// protocol serves both directions (a decoder per direction); the session correlates by seqid
// (Thrift) or id (Dubbo).

let tLimits = new ThriftLimits();
let tReq = new ThriftDecoder(tLimits);
let tRep = new ThriftDecoder(tLimits);
let tSession = new ThriftSession();

let dLimits = new DubboLimits();
let dReq = new DubboDecoder(dLimits);
let dRep = new DubboDecoder(dLimits);
let dSession = new DubboSession();

/** Fresh Thrift decoders (transport detected again) and session. */
export function thriftFresh(): void {
  tLimits = new ThriftLimits();
  tReq = new ThriftDecoder(tLimits);
  tRep = new ThriftDecoder(tLimits);
  tSession = new ThriftSession();
  __collect();
}

/** Fresh Dubbo decoders and session. */
export function dubboFresh(): void {
  dLimits = new DubboLimits();
  dReq = new DubboDecoder(dLimits);
  dRep = new DubboDecoder(dLimits);
  dSession = new DubboSession();
  __collect();
}

class ThriftSide {
  constructor(public calls: bool) {}
  seen(d: ThriftDecoder): void {
    if (this.calls) tSession.onRequest(d, 0);
    else tSession.onReply(d);
  }
}
class DubboSide {
  constructor(public requests: bool) {}
  seen(d: DubboDecoder): void {
    if (this.requests) dSession.onRequest(d, 0);
    else dSession.onResponse(d);
  }
}
const THRIFT_CALLS = new ThriftSide(true);
const THRIFT_REPLIES = new ThriftSide(false);
const DUBBO_REQUESTS = new DubboSide(true);
const DUBBO_RESPONSES = new DubboSide(false);

/** roundTrips for Thrift: CALLs then their REPLYs, correlated by the session. */
export function thriftRoundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  return rounds(tReq, THRIFT_CALLS, reqPtr, reqLen, tRep, THRIFT_REPLIES, repPtr, repLen, iters, chunk, skip);
}

/** One Thrift decoder alone (`reply` picks the reply-side one), `iters` times over one stream. */
export function thriftOneSide(p: usize, len: i32, iters: i32, chunk: i32, skip: bool, reply: bool): f64 {
  return alone(reply ? tRep : tReq, THRIFT_CALLS, p, len, iters, chunk, skip);
}

/** roundTrips for Dubbo: requests then their responses, correlated by id. */
export function dubboRoundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  return rounds(dReq, DUBBO_REQUESTS, reqPtr, reqLen, dRep, DUBBO_RESPONSES, repPtr, repLen, iters, chunk, skip);
}

/** One Dubbo decoder alone, `iters` times over one stream. */
export function dubboOneSide(p: usize, len: i32, iters: i32, chunk: i32, skip: bool, reply: bool): f64 {
  return alone(reply ? dRep : dReq, DUBBO_REQUESTS, p, len, iters, chunk, skip);
}

/**
 * Untimed check that the codec read what the benchmark means it to (not just framed it): over one
 * pass of a stream with fresh decoders, the messages that have their metadata – Thrift: a CALL with a
 * method name / a successful REPLY; Dubbo: a parsed body with string attachments (requests: and a
 * method). Returns that count, or -1 on a stream error.
 */
export function thriftCheck(p: usize, len: i32, reply: bool): i32 {
  thriftFresh();
  return goodMessages<ThriftDecoder>(reply ? tRep : tReq, p, len, reply, thriftGood);
}

export function dubboCheck(p: usize, len: i32, reply: bool): i32 {
  dubboFresh();
  return goodMessages<DubboDecoder>(reply ? dRep : dReq, p, len, reply, dubboGood);
}

/** The stream fed whole; the messages `good` accepts, or -1 on a stream error. */
function goodMessages<D>(d: D, p: usize, len: i32, reply: bool, good: (d: D, reply: bool) => bool): i32 {
  let off = 0;
  let n = 0;
  while (off < len) {
    const c = d.feed(p + <usize>off, len - off);
    off += c;
    if (d.event == EV_MESSAGE) {
      if (good(d, reply)) n++;
    } else if (d.event == EV_ERROR || c == 0) return -1;
  }
  return n;
}

/** A CALL with a method name / a successful REPLY. */
function thriftGood(d: ThriftDecoder, reply: bool): bool {
  const t = d.messageType();
  return reply ? t == MSG_REPLY && d.replyStatus() == REPLY_STATUS_SUCCESS : t == MSG_CALL && d.methodLen() > 0;
}

/** A parsed body with string attachments (requests: and a method). */
function dubboGood(d: DubboDecoder, reply: bool): bool {
  return d.bodyParsed() && d.attachmentCount() > 0 && (reply || d.methodLen() > 0);
}
