// Test utilities for the codec specs: bytes from hex/text, a deterministic PRNG, and drivers that feed
// a decoder whole, byte by byte or in random splits (optionally skipping what skippable() allows) and
// record every message with its metadata. Allocation is fine here; the decoders under test must not.

import { EV_MESSAGE, EV_ERROR, EV_NEED_MORE } from "../../assembly/protocols/codec";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession, REPLY_MATCHED } from "../../assembly/protocols/redis/session";
import { VReq, VRep } from "./generated/redis-vectors";

// ---- bytes ------------------------------------------------------------------------------------------

function nibble(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = <u8>((nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1)));
  }
  return out;
}

/** Concatenation of hex[i] repeated times[i] times. */
export function expand(hex: string[], times: i32[]): Uint8Array {
  let n = 0;
  for (let i = 0; i < hex.length; i++) n += (hex[i].length >> 1) * times[i];
  const out = new Uint8Array(n);
  let off = 0;
  for (let i = 0; i < hex.length; i++) {
    const part = hexBytes(hex[i]);
    for (let k = 0; k < times[i]; k++) {
      out.set(part, off);
      off += part.length;
    }
  }
  return out;
}

/** Latin-1 text → bytes (each char code & 0xff). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = <u8>s.charCodeAt(i);
  return out;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Bytes at [ptr, ptr+len) as Latin-1 text. */
export function text(ptr: usize, len: i32): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(load<u8>(ptr + <usize>i));
  return s;
}

export function hexOf(ptr: usize, len: i32): string {
  const digits = "0123456789abcdef";
  let s = "";
  for (let i = 0; i < len; i++) {
    const b = <i32>load<u8>(ptr + <usize>i);
    s += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return s;
}

/** ASCII upper-case of a hex-encoded byte string, as text (for comparing argv[0] with method()). */
export function upperText(hex: string): string {
  const b = hexBytes(hex);
  let s = "";
  for (let i = 0; i < b.length; i++) {
    let c = <i32>b[i];
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    s += String.fromCharCode(c);
  }
  return s;
}

// ---- PRNG (xorshift32; deterministic per seed) ----------------------------------------------------

export class Rng {
  constructor(public state: u32) {
    if (this.state == 0) this.state = 0x9e3779b9;
  }
  next(): u32 {
    let x = this.state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.state = x;
    return x;
  }
  /** Uniform in [0, n) for n ≥ 1. */
  below(n: i32): i32 {
    return n <= 1 ? 0 : <i32>(this.next() % <u32>n);
  }
}

// ---- feeding --------------------------------------------------------------------------------------

export const WHOLE: i32 = 0;
export const BYTEWISE: i32 = 1;
export const RANDOM: i32 = 2;

function chunkLen(mode: i32, rng: Rng, remaining: i32): i32 {
  if (mode == WHOLE) return remaining;
  if (mode == BYTEWISE) return 1;
  const pick = rng.below(4);
  const cap = pick == 0 ? 1 : pick == 1 ? 7 : pick == 2 ? 64 : remaining;
  return 1 + rng.below(cap < remaining ? cap : remaining);
}

export class ReqMsg {
  method: string = "";
  methodTruncated: bool = false;
  command: i32 = -1;
  hasKey: bool = false;
  key: string = "";
  keyTruncated: bool = false;
  argc: i64 = 0;
  inline: bool = false;
  /** hex of the kept prefixes of argv[1..min(3, argc-1)] */
  args: string[] = [];
  start: i64 = 0;
  end: i64 = 0;
  id: i64 = 0;
}

export class RepMsg {
  type: string = "";
  isError: bool = false;
  error: string = "";
  isNull: bool = false;
  push: bool = false;
  head: string = "";
  hasLastInt: bool = false;
  lastInt: i64 = 0;
  start: i64 = 0;
  end: i64 = 0;
  correlation: i32 = 0;
  matchedId: i64 = 0;
  matchedMethod: string = "";
  final: bool = false;
}

export class Run<T> {
  msgs: T[] = [];
  error: string = "";
  /** The decoder ended between messages. */
  boundary: bool = false;
  /** Bytes fed or skipped. */
  consumed: i64 = 0;
  /** Number of bytes skipped instead of fed. */
  skipped: i64 = 0;
  /** Broken driver invariants (a NEED_MORE that did not consume everything, …). */
  violations: i32 = 0;
}

function snapReq(d: RedisRequestDecoder): ReqMsg {
  const m = new ReqMsg();
  m.method = text(d.methodPtr(), d.methodLen());
  m.methodTruncated = d.methodTruncated();
  m.command = d.command();
  m.hasKey = d.hasKey();
  m.key = text(d.keyPtr(), d.keyLen());
  m.keyTruncated = d.keyTruncated();
  m.argc = d.argc();
  m.inline = d.isInline();
  for (let i = 1; i <= 3 && <i64>i < d.argc(); i++) m.args.push(hexOf(d.argPtr(i), d.argLen(i)));
  m.start = d.start();
  m.end = d.end();
  return m;
}

function snapRep(d: RedisReplyDecoder): RepMsg {
  const m = new RepMsg();
  m.type = String.fromCharCode(d.type());
  m.isError = d.isError();
  m.error = text(d.errorCodePtr(), d.errorCodeLen());
  m.isNull = d.isNull();
  m.push = d.isPush();
  m.head = text(d.headPtr(), d.headLen());
  m.hasLastInt = d.hasLastInt();
  m.lastInt = d.lastInt();
  m.start = d.start();
  m.end = d.end();
  return m;
}

/**
 * Feed `data` to a request decoder in the given split mode. With `useSkip`, bytes the decoder declares
 * skippable are sometimes skipped instead of fed. Each message is recorded and, if a session is
 * given, passed to it.
 */
export function runRequests(
  d: RedisRequestDecoder,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  session: RedisSession | null = null,
): Run<ReqMsg> {
  const run = new Run<ReqMsg>();
  const base = data.dataStart;
  const n = data.length;
  let off = 0;
  while (off < n) {
    const end = off + chunkLen(mode, rng, n - off);
    while (off < end) {
      if (useSkip) {
        const s = d.skippable();
        if (s > 0 && rng.below(3) != 0) {
          let k = <i64>(end - off);
          if (s < k) k = s;
          k = 1 + <i64>rng.below(<i32>k);
          d.skip(k);
          off += <i32>k;
          run.skipped += k;
          if (d.event != EV_NEED_MORE) run.violations++;
          continue;
        }
      }
      const c = d.feed(base + <usize>off, end - off);
      if (c < 0 || c > end - off) {
        run.violations++;
        return run;
      }
      off += c;
      if (d.event == EV_MESSAGE) {
        const m = snapReq(d);
        if (session !== null) {
          session.onRequest(d, <i64>run.msgs.length);
          m.id = session.lastRequestId();
        }
        run.msgs.push(m);
      } else if (d.event == EV_ERROR) {
        run.error = d.errorReason();
        run.consumed = d.position();
        return run;
      } else if (off != end) {
        run.violations++; // NEED_MORE must consume the whole window
        return run;
      }
    }
  }
  run.consumed = d.position();
  run.boundary = d.atBoundary();
  return run;
}

export function runReplies(
  d: RedisReplyDecoder,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  session: RedisSession | null = null,
): Run<RepMsg> {
  const run = new Run<RepMsg>();
  const base = data.dataStart;
  const n = data.length;
  let off = 0;
  while (off < n) {
    const end = off + chunkLen(mode, rng, n - off);
    while (off < end) {
      if (useSkip) {
        const s = d.skippable();
        if (s > 0 && rng.below(3) != 0) {
          let k = <i64>(end - off);
          if (s < k) k = s;
          k = 1 + <i64>rng.below(<i32>k);
          d.skip(k);
          off += <i32>k;
          run.skipped += k;
          if (d.event != EV_NEED_MORE) run.violations++;
          continue;
        }
      }
      const c = d.feed(base + <usize>off, end - off);
      if (c < 0 || c > end - off) {
        run.violations++;
        return run;
      }
      off += c;
      if (d.event == EV_MESSAGE) {
        const m = snapRep(d);
        if (session !== null) {
          m.correlation = session.onReply(d);
          if (m.correlation == REPLY_MATCHED) {
            m.matchedId = session.matchedId();
            m.matchedMethod = text(session.matchedMethodPtr(), session.matchedMethodLen());
            m.final = session.matchedFinal();
          }
        }
        run.msgs.push(m);
      } else if (d.event == EV_ERROR) {
        run.error = d.errorReason();
        run.consumed = d.position();
        return run;
      } else if (off != end) {
        run.violations++;
        return run;
      }
    }
  }
  run.consumed = d.position();
  run.boundary = d.atBoundary();
  return run;
}

// ---- comparing runs with fixture expectations (test/fixtures/redis-vectors.json) ----------------

/** Requests decoded in `run` match the fixture's expectations, in order. */
export function checkRequests(run: Run<ReqMsg>, want: VReq[], label: string): void {
  expect(run.violations).toBe(0, label + ": driver invariants");
  expect(run.msgs.length).toBe(want.length, label + ": request count");
  const n = run.msgs.length < want.length ? run.msgs.length : want.length;
  for (let i = 0; i < n; i++) {
    const got = run.msgs[i];
    const w = want[i];
    const l = label + " request " + i.toString();
    expect(got.method).toBe(w.method, l + " method");
    expect(got.hasKey).toBe(w.hasKey, l + " hasKey");
    expect(got.key).toBe(w.key, l + " key");
    expect(got.argc).toBe(w.argc, l + " argc");
    expect(got.inline).toBe(w.inline, l + " inline");
    if (w.argvHex.length > 0) {
      expect(got.method).toBe(upperText(w.argvHex[0]), l + " argv[0]");
      for (let a = 1; a < w.argvHex.length && a <= 3; a++) {
        const full = w.argvHex[a];
        expect(got.args[a - 1]).toBe(full.length > 64 ? full.substring(0, 64) : full, l + " argv[" + a.toString() + "]");
      }
    }
    expect(got.end > got.start).toBe(true, l + " offsets");
  }
}

/** Replies decoded in `run` match the fixture's expectations; `ids` are the session ids of the requests. */
export function checkReplies(run: Run<RepMsg>, want: VRep[], label: string, ids: i64[]): void {
  expect(run.violations).toBe(0, label + ": driver invariants");
  expect(run.msgs.length).toBe(want.length, label + ": reply count");
  const n = run.msgs.length < want.length ? run.msgs.length : want.length;
  for (let i = 0; i < n; i++) {
    const got = run.msgs[i];
    const w = want[i];
    const l = label + " reply " + i.toString();
    expect(got.type).toBe(w.type, l + " type");
    expect(got.isError).toBe(w.type == "-" || w.type == "!", l + " isError");
    expect(got.error).toBe(w.hasError ? w.error : "", l + " error word");
    expect(got.isNull).toBe(w.isNull, l + " null");
    expect(got.push).toBe(w.push, l + " push");
    if (w.checkHead) expect(got.head).toBe(w.head, l + " head");
    if (w.checkLastInt) {
      expect(got.hasLastInt).toBe(true, l + " has last int");
      expect(got.lastInt).toBe(w.lastInt, l + " last int");
    }
    if (w.correlation != 0) {
      expect(got.correlation).toBe(w.correlation, l + " correlation");
      if (w.request >= 0 && w.request < ids.length) expect(got.matchedId).toBe(ids[w.request], l + " matched id");
    }
  }
}

// ---- fixed cut points (fast-path boundaries) --------------------------------------------------

/** All the metadata of a request message, as one comparable line. */
export function reqText(m: ReqMsg): string {
  let s = m.method + "|" + (m.methodTruncated ? "T" : "-") + "|" + m.command.toString() + "|" + (m.hasKey ? "K" : "-");
  s += "|" + m.key + "|" + (m.keyTruncated ? "T" : "-") + "|" + m.argc.toString() + "|" + (m.inline ? "I" : "-");
  for (let i = 0; i < m.args.length; i++) s += "|" + m.args[i];
  return s + "|" + m.start.toString() + "-" + m.end.toString() + "|" + m.id.toString();
}

/** All the metadata of a reply message (and its correlation), as one comparable line. */
export function repText(m: RepMsg): string {
  let s = m.type + "|" + (m.isError ? "E" : "-") + "|" + m.error + "|" + (m.isNull ? "N" : "-") + "|" + (m.push ? "P" : "-");
  s += "|" + m.head + "|" + (m.hasLastInt ? m.lastInt.toString() : "-") + "|" + m.start.toString() + "-" + m.end.toString();
  return s + "|" + m.correlation.toString() + "|" + m.matchedId.toString() + "|" + m.matchedMethod + "|" + (m.final ? "F" : "-");
}

/** Everything a run observed: messages, verdict, bytes consumed, boundary, driver violations. */
export function runText<T>(run: Run<T>, line: (m: T) => string): string {
  let s = "";
  for (let i = 0; i < run.msgs.length; i++) s += line(run.msgs[i]) + "\n";
  s += "error=" + run.error + " consumed=" + run.consumed.toString() + " boundary=" + (run.boundary ? "1" : "0");
  return s + " violations=" + run.violations.toString();
}

/**
 * Feed `data` to a request decoder in windows that end at each of `cuts` (ascending, inside the data)
 * and at the end. With `useSkip`, whatever skippable() allows within a window is skipped, not fed.
 */
export function runRequestsAt(
  d: RedisRequestDecoder,
  data: Uint8Array,
  cuts: i32[],
  useSkip: bool,
  session: RedisSession | null = null,
): Run<ReqMsg> {
  const run = new Run<ReqMsg>();
  const base = data.dataStart;
  const n = data.length;
  let off = 0;
  for (let w = 0; w <= cuts.length && off < n; w++) {
    const end = w < cuts.length ? cuts[w] : n;
    while (off < end) {
      if (useSkip) {
        const s = d.skippable();
        if (s > 0) {
          const k = s < <i64>(end - off) ? <i32>s : end - off;
          d.skip(<i64>k);
          off += k;
          run.skipped += k;
          if (d.event != EV_NEED_MORE) run.violations++;
          continue;
        }
      }
      const c = d.feed(base + <usize>off, end - off);
      if (c < 0 || c > end - off) {
        run.violations++;
        return run;
      }
      off += c;
      if (d.event == EV_MESSAGE) {
        const m = snapReq(d);
        if (session !== null) {
          session.onRequest(d, <i64>run.msgs.length);
          m.id = session.lastRequestId();
        }
        run.msgs.push(m);
      } else if (d.event == EV_ERROR) {
        run.error = d.errorReason();
        run.consumed = d.position();
        return run;
      } else if (off != end) {
        run.violations++;
        return run;
      }
    }
  }
  run.consumed = d.position();
  run.boundary = d.atBoundary();
  return run;
}

/** runRequestsAt for replies. */
export function runRepliesAt(
  d: RedisReplyDecoder,
  data: Uint8Array,
  cuts: i32[],
  useSkip: bool,
  session: RedisSession | null = null,
): Run<RepMsg> {
  const run = new Run<RepMsg>();
  const base = data.dataStart;
  const n = data.length;
  let off = 0;
  for (let w = 0; w <= cuts.length && off < n; w++) {
    const end = w < cuts.length ? cuts[w] : n;
    while (off < end) {
      if (useSkip) {
        const s = d.skippable();
        if (s > 0) {
          const k = s < <i64>(end - off) ? <i32>s : end - off;
          d.skip(<i64>k);
          off += k;
          run.skipped += k;
          if (d.event != EV_NEED_MORE) run.violations++;
          continue;
        }
      }
      const c = d.feed(base + <usize>off, end - off);
      if (c < 0 || c > end - off) {
        run.violations++;
        return run;
      }
      off += c;
      if (d.event == EV_MESSAGE) {
        const m = snapRep(d);
        if (session !== null) {
          m.correlation = session.onReply(d);
          if (m.correlation == REPLY_MATCHED) {
            m.matchedId = session.matchedId();
            m.matchedMethod = text(session.matchedMethodPtr(), session.matchedMethodLen());
            m.final = session.matchedFinal();
          }
        }
        run.msgs.push(m);
      } else if (d.event == EV_ERROR) {
        run.error = d.errorReason();
        run.consumed = d.position();
        return run;
      } else if (off != end) {
        run.violations++;
        return run;
      }
    }
  }
  run.consumed = d.position();
  run.boundary = d.atBoundary();
  return run;
}
