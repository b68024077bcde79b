// @ts-nocheck: AssemblyScript (built by asc, not tsc; tsconfig.json includes test/**)
// Codec-only benchmark entry (AssemblyScript): drives RedisRequestDecoder / RedisReplyDecoder /
// RedisSession over byte ranges the host has already copied into this module's memory, with no
// proxy-wasm ABI in between. Built by test/bench/codec-bench.ts with test/bench/asconfig.codec.json
// into build/bench-codec.wasm; imports nothing.
//
// The drive loops mirror what the filter's BufferPump does: windows of at most `chunk` bytes (the
// pump fetches 16 KiB), each fed until consumed, each EV_MESSAGE handed to the session, and (with
// `skip`) whatever skippable() allows stepped over between windows instead of being fed.

import { EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { RedisLimits, RedisRequestDecoder, RedisReplyDecoder, RedisSession } from "../../assembly/protocols/redis";

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
