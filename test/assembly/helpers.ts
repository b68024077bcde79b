// Test utilities for the codec specs: bytes from hex/text, and the Redis side of the shared driver
// (drive.ts): what a run records of each request and reply, the Redis specs' split and skip habits,
// and the checks against the fixture. Allocation is fine here; the decoders under test must not.

import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession, REPLY_MATCHED } from "../../assembly/protocols/redis/session";
import { VReq, VRep } from "./generated/redis-vectors";
import { Rng, Run, Tap, Feed, CUTS, SMALL_CAPS, skipAll, drive } from "./drive";

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

const HEX_DIGITS = "0123456789abcdef";

/** Bytes at [ptr, ptr+len) as lower-case hex, in linear time (large strings are compared this way). */
export function hexOf(ptr: usize, len: i32): string {
  if (len <= 0) return "";
  const buf = new StaticArray<u16>(len * 2);
  const b = changetype<usize>(buf);
  for (let i = 0; i < len; i++) {
    const v = <i32>load<u8>(ptr + <usize>i);
    store<u16>(b + (<usize>i << 2), <u16>HEX_DIGITS.charCodeAt(v >> 4));
    store<u16>(b + (<usize>i << 2) + 2, <u16>HEX_DIGITS.charCodeAt(v & 15));
  }
  return String.UTF16.decodeUnsafe(b, <usize>len << 2);
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

// ---- driving the Redis decoders (test/assembly/drive.ts) ------------------------------------------

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

/** Request snapshots; with a session, each request is also handed to it (and gets its id). */
class RequestTap extends Tap<RedisRequestDecoder, ReqMsg> {
  constructor(public session: RedisSession | null) {
    super();
  }
  message(d: RedisRequestDecoder, run: Run<ReqMsg>): ReqMsg {
    const m = snapReq(d);
    const session = this.session;
    if (session !== null) {
      session.onRequest(d, <i64>run.msgs.length);
      m.id = session.lastRequestId();
    }
    return m;
  }
}

/** Reply snapshots; with a session, each reply is correlated and the matched request recorded. */
class ReplyTap extends Tap<RedisReplyDecoder, RepMsg> {
  constructor(public session: RedisSession | null) {
    super();
  }
  message(d: RedisReplyDecoder, run: Run<RepMsg>): RepMsg {
    const m = snapRep(d);
    const session = this.session;
    if (session !== null) {
      m.correlation = session.onReply(d);
      if (m.correlation == REPLY_MATCHED) {
        m.matchedId = session.matchedId();
        m.matchedMethod = text(session.matchedMethodPtr(), session.matchedMethodLen());
        m.final = session.matchedFinal();
      }
    }
    return m;
  }
}

/** The Redis specs' skip habit: two times in three, a random part (at least a byte) of what is offered. */
function someOfBulk(offered: i64, room: i32, rng: Rng): i64 {
  if (rng.below(3) == 0) return 0;
  return 1 + <i64>rng.below(<i32>skipAll(offered, room, rng));
}

/** Windows as `mode` says; with `useSkip`, the Redis habit above. */
function splitFeed(mode: i32, rng: Rng, useSkip: bool): Feed {
  return new Feed(mode, rng, useSkip ? someOfBulk : null);
}

/** Fixed cuts; with `useSkip`, whatever skippable() allows within a window is skipped, not fed. */
function cutFeed(cuts: i32[], useSkip: bool): Feed {
  return new Feed(CUTS, new Rng(1), useSkip ? skipAll : null, SMALL_CAPS, cuts);
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
  return drive<RedisRequestDecoder, ReqMsg>(d, data, splitFeed(mode, rng, useSkip), new RequestTap(session));
}

/** runRequests for replies. */
export function runReplies(
  d: RedisReplyDecoder,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  session: RedisSession | null = null,
): Run<RepMsg> {
  return drive<RedisReplyDecoder, RepMsg>(d, data, splitFeed(mode, rng, useSkip), new ReplyTap(session));
}

// ---- comparing runs with fixture expectations (test/fixtures/redis-vectors.json) ----------------

/** Requests decoded in `run` match the fixture's expectations, in order. */
export function checkRequests(run: Run<ReqMsg>, want: VReq[], label: string): void {
  expect(run.violations).toBe(0, label + ": driver invariants (" + run.violation + ")");
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
  expect(run.violations).toBe(0, label + ": driver invariants (" + run.violation + ")");
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
  return drive<RedisRequestDecoder, ReqMsg>(d, data, cutFeed(cuts, useSkip), new RequestTap(session));
}

/** runRequestsAt for replies. */
export function runRepliesAt(
  d: RedisReplyDecoder,
  data: Uint8Array,
  cuts: i32[],
  useSkip: bool,
  session: RedisSession | null = null,
): Run<RepMsg> {
  return drive<RedisReplyDecoder, RepMsg>(d, data, cutFeed(cuts, useSkip), new ReplyTap(session));
}
