// @ts-nocheck: AssemblyScript (built by asc, not tsc; tsconfig.json includes test/**)
// Codec-only benchmark entry (AssemblyScript): drives RedisRequestDecoder / RedisReplyDecoder /
// RedisSession (and, further down, the Thrift and Dubbo decoders and sessions) over byte ranges the
// host has already copied into this module's memory, with no proxy-wasm ABI in between. Built by
// test/bench/codec-bench.ts with test/bench/asconfig.codec.json into build/bench-codec.wasm;
// imports nothing.
//
// The drive loops mirror what the filter's BufferPump does: windows of at most `chunk` bytes (the
// pump fetches 16 KiB), each fed until consumed, each EV_MESSAGE handed to the session, and (with
// `skip`) whatever skippable() allows stepped over between windows instead of being fed.

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
 * Requests in [p, p+len), handed over as the filter's BufferPump does: in windows of at most `chunk`
 * bytes, each fed until consumed; between windows, with `skip`, whatever skippable() allows is
 * skipped instead of fetched. Returns the messages completed, or -1 on an error or a stalled decoder.
 */
function requestWindow(p: usize, len: i32, chunk: i32, skip: bool, withSession: bool): i32 {
  const d = req;
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
        if (withSession) session.onRequest(d, 0);
      } else if (ev == EV_ERROR || c == 0) return -1;
    }
  }
  return msgs;
}

/** requestWindow for replies. */
function replyWindow(p: usize, len: i32, chunk: i32, skip: bool, withSession: bool): i32 {
  const d = rep;
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
        if (withSession) session.onReply(d);
      } else if (ev == EV_ERROR || c == 0) return -1;
    }
  }
  return msgs;
}

/**
 * `iters` round trips: the request stream, then the reply stream, each message correlated by the
 * session (as the filter does). Returns requests + replies seen, or -1 on an error.
 */
export function roundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = requestWindow(reqPtr, reqLen, chunk, skip, true);
    const b = replyWindow(repPtr, repLen, chunk, skip, true);
    if (a < 0 || b < 0) return -1;
    total += <f64>(a + b);
  }
  return total;
}

/** The request decoder alone, `iters` times over one stream. */
export function requestsOnly(p: usize, len: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = requestWindow(p, len, chunk, skip, false);
    if (a < 0) return -1;
    total += <f64>a;
  }
  return total;
}

/** The reply decoder alone, `iters` times over one stream. */
export function repliesOnly(p: usize, len: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const b = replyWindow(p, len, chunk, skip, false);
    if (b < 0) return -1;
    total += <f64>b;
  }
  return total;
}

// ---- Thrift and Dubbo ------------------------------------------------------------------------------
// The same drive as above for ThriftDecoder/ThriftSession and DubboDecoder/DubboSession: one decoder
// type per protocol serves both directions; the session correlates by seqid (Thrift) or id (Dubbo).
// DIR_* says which side a stream is and whether the session sees its messages.

const DIR_REQUEST: i32 = 0;
const DIR_REPLY: i32 = 1;
const DIR_REQUEST_SESSION: i32 = 2;
const DIR_REPLY_SESSION: i32 = 3;

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

/** requestWindow for a Thrift direction. */
function thriftWindow(p: usize, len: i32, chunk: i32, skip: bool, dir: i32): i32 {
  const d = dir == DIR_REQUEST || dir == DIR_REQUEST_SESSION ? tReq : tRep;
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
        if (dir == DIR_REQUEST_SESSION) tSession.onRequest(d, 0);
        else if (dir == DIR_REPLY_SESSION) tSession.onReply(d);
      } else if (ev == EV_ERROR || c == 0) return -1;
    }
  }
  return msgs;
}

/** requestWindow for a Dubbo direction. */
function dubboWindow(p: usize, len: i32, chunk: i32, skip: bool, dir: i32): i32 {
  const d = dir == DIR_REQUEST || dir == DIR_REQUEST_SESSION ? dReq : dRep;
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
        if (dir == DIR_REQUEST_SESSION) dSession.onRequest(d, 0);
        else if (dir == DIR_REPLY_SESSION) dSession.onResponse(d);
      } else if (ev == EV_ERROR || c == 0) return -1;
    }
  }
  return msgs;
}

/** roundTrips for Thrift: CALLs then their REPLYs, correlated by the session. */
export function thriftRoundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = thriftWindow(reqPtr, reqLen, chunk, skip, DIR_REQUEST_SESSION);
    const b = thriftWindow(repPtr, repLen, chunk, skip, DIR_REPLY_SESSION);
    if (a < 0 || b < 0) return -1;
    total += <f64>(a + b);
  }
  return total;
}

/** One Thrift decoder alone (`reply` picks the reply-side one), `iters` times over one stream. */
export function thriftOneSide(p: usize, len: i32, iters: i32, chunk: i32, skip: bool, reply: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = thriftWindow(p, len, chunk, skip, reply ? DIR_REPLY : DIR_REQUEST);
    if (a < 0) return -1;
    total += <f64>a;
  }
  return total;
}

/** roundTrips for Dubbo: requests then their responses, correlated by id. */
export function dubboRoundTrips(reqPtr: usize, reqLen: i32, repPtr: usize, repLen: i32, iters: i32, chunk: i32, skip: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = dubboWindow(reqPtr, reqLen, chunk, skip, DIR_REQUEST_SESSION);
    const b = dubboWindow(repPtr, repLen, chunk, skip, DIR_REPLY_SESSION);
    if (a < 0 || b < 0) return -1;
    total += <f64>(a + b);
  }
  return total;
}

/** One Dubbo decoder alone, `iters` times over one stream. */
export function dubboOneSide(p: usize, len: i32, iters: i32, chunk: i32, skip: bool, reply: bool): f64 {
  let total: f64 = 0;
  for (let i = 0; i < iters; i++) {
    const a = dubboWindow(p, len, chunk, skip, reply ? DIR_REPLY : DIR_REQUEST);
    if (a < 0) return -1;
    total += <f64>a;
  }
  return total;
}

/**
 * Untimed check that the codec read what the benchmark means it to (not just framed it): over one
 * pass of a stream with fresh decoders, the messages that have their metadata – Thrift: a CALL with a
 * method name / a successful REPLY; Dubbo: a parsed body with string attachments (requests: and a
 * method). Returns that count, or -1 on a stream error.
 */
export function thriftCheck(p: usize, len: i32, reply: bool): i32 {
  thriftFresh();
  const d = reply ? tRep : tReq;
  let off = 0;
  let good = 0;
  while (off < len) {
    const c = d.feed(p + <usize>off, len - off);
    off += c;
    if (d.event == EV_MESSAGE) {
      const t = d.messageType();
      if (reply ? t == MSG_REPLY && d.replyStatus() == REPLY_STATUS_SUCCESS : t == MSG_CALL && d.methodLen() > 0) good++;
    } else if (d.event == EV_ERROR || c == 0) return -1;
  }
  return good;
}

export function dubboCheck(p: usize, len: i32, reply: bool): i32 {
  dubboFresh();
  const d = reply ? dRep : dReq;
  let off = 0;
  let good = 0;
  while (off < len) {
    const c = d.feed(p + <usize>off, len - off);
    off += c;
    if (d.event == EV_MESSAGE) {
      if (d.bodyParsed() && d.attachmentCount() > 0 && (reply || d.methodLen() > 0)) good++;
    } else if (d.event == EV_ERROR || c == 0) return -1;
  }
  return good;
}
