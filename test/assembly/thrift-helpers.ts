// Test utilities for the Thrift specs: the Thrift side of the shared driver (drive.ts: what a run
// records of each message, the Thrift specs' skip habit); a checker against the fixture's
// expectations; a small Thrift writer to build large and nested messages; the filter's pump.
// Allocation is fine here; the decoder under test must not.

import { EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import { ThriftSession, REPLY_MATCHED } from "../../assembly/protocols/thrift/session";
import { TCase, TLimits, TMsg } from "./generated/thrift-vectors";
import { hexOf, expand, hexBytes } from "./helpers";
import { Rng, Run, Tap, Feed, SkipFn, skipAll, drive } from "./drive";

export class TGot {
  type: i32 = 0;
  name: string = ""; // hex
  service: string = "";
  method: string = "";
  nameTruncated: bool = false;
  seqId: i32 = 0;
  replyStatus: i32 = 0;
  appType: i32 = 0;
  lax: bool = false;
  headers: string[] = []; // key hex, value hex, …
  headersTruncated: bool = false;
  headerSeq: i32 = 0;
  headerFlags: i32 = 0;
  transport: i32 = 0;
  protocol: i32 = 0;
  start: i64 = 0;
  end: i64 = 0;
  correlation: i32 = 0;
  matchedSeq: i32 = 0;
  matchedMethod: string = "";
  matchedStart: i64 = 0;
}

export function snap(d: ThriftDecoder): TGot {
  const m = new TGot();
  m.type = d.messageType();
  m.name = hexOf(d.namePtr(), d.nameLen());
  m.service = hexOf(d.servicePtr(), d.serviceLen());
  m.method = hexOf(d.methodPtr(), d.methodLen());
  m.nameTruncated = d.nameTruncated();
  m.seqId = d.seqId();
  m.replyStatus = d.replyStatus();
  m.appType = d.appExceptionType();
  m.lax = d.isLax();
  for (let i = 0; i < d.headerCount(); i++) {
    m.headers.push(hexOf(d.headerKeyPtr(i), d.headerKeyLen(i)));
    m.headers.push(hexOf(d.headerValuePtr(i), d.headerValueLen(i)));
  }
  m.headersTruncated = d.headersTruncated();
  m.headerSeq = d.headerSeqId();
  m.headerFlags = d.headerFlags();
  m.transport = d.transport();
  m.protocol = d.protocol();
  m.start = d.start();
  m.end = d.end();
  return m;
}

export function makeLimits(l: TLimits): ThriftLimits {
  const t = new ThriftLimits();
  if (l.lax >= 0) t.laxBinaryUnframed = l.lax == 1;
  if (l.maxFrameBytes >= 0) t.maxFrameBytes = l.maxFrameBytes;
  if (l.maxDepth >= 0) t.maxDepth = l.maxDepth;
  if (l.maxUnframedBytes >= 0) t.maxUnframedBytes = l.maxUnframedBytes;
  if (l.maxNameBytes >= 0) t.maxNameBytes = l.maxNameBytes;
  if (l.maxHeaders >= 0) t.maxHeaders = l.maxHeaders;
  if (l.maxHeaderBytes >= 0) t.maxHeaderBytes = l.maxHeaderBytes;
  return t;
}

/** Thrift snapshots; with a session, each message is handed to it as a request or as a reply. */
class ThriftTap extends Tap<ThriftDecoder, TGot> {
  constructor(public session: ThriftSession | null, public requests: bool) {
    super();
  }
  message(d: ThriftDecoder, run: Run<TGot>): TGot {
    const m = snap(d);
    const session = this.session;
    if (session === null) return m;
    if (this.requests) {
      session.onRequest(d, <i64>run.msgs.length);
      return m;
    }
    m.correlation = session.onReply(d);
    if (m.correlation == REPLY_MATCHED) {
      m.matchedSeq = session.matchedSeqId();
      m.matchedMethod = hexOf(session.matchedMethodPtr(), session.matchedMethodLen());
      m.matchedStart = session.matchedStartNs();
    }
    return m;
  }
}

/** The Thrift specs' skip habit: three times in four; of those, half a random part, half all in the window. */
function thriftSkip(offered: i64, room: i32, rng: Rng): i64 {
  if (rng.below(4) == 0) return 0;
  const k = skipAll(offered, room, rng);
  return rng.below(2) == 0 ? 1 + <i64>rng.below(<i32>k) : k;
}

/**
 * Feeds `data` in the given split mode. With `useSkip`, bytes the decoder declares skippable are
 * skipped instead of fed: some of them at random, or all of them (within the current window) when
 * `skipAlways`. Messages are recorded and, with a session, correlated: requests
 * when `requests`, else replies.
 */
export function runThrift(
  d: ThriftDecoder,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  session: ThriftSession | null = null,
  requests: bool = true,
  skipAlways: bool = false,
): Run<TGot> {
  const skip: SkipFn | null = useSkip ? (skipAlways ? skipAll : thriftSkip) : null;
  return drive<ThriftDecoder, TGot>(d, data, new Feed(mode, rng, skip), new ThriftTap(session, requests));
}

/**
 * Decodes a case's bytes in one mode and compares everything with the fixture. The outcome is
 * compared as one text (one expectation per run keeps thousands of runs fast; a mismatch shows
 * the whole difference).
 */
export function checkCase(c: TCase, mode: i32, seed: u32, useSkip: bool, skipAlways: bool = false): void {
  const label = c.name + " mode " + mode.toString() + " seed " + seed.toString() + (useSkip ? (skipAlways ? " skip always" : " skip") : "");
  const d = new ThriftDecoder(makeLimits(c.limits));
  const data = expand(c.data.hex, c.data.times);
  const run = runThrift(d, data, mode, new Rng(seed), useSkip, null, true, skipAlways);
  let got = "violations " + run.violations.toString() + (run.violations > 0 ? " (" + run.violation + ")" : "") + " error '" + run.error + "' transport " + d.transport().toString() + " protocol " + d.protocol().toString();
  let want = "violations 0 error '" + c.error + "' transport " + c.transport.toString() + " protocol " + c.protocol.toString();
  if (c.error.length == 0) {
    got += " boundary " + (run.boundary ? "yes" : "no") + " consumed " + run.consumed.toString();
    want += " boundary " + (c.incomplete ? "no" : "yes") + " consumed " + data.length.toString();
  }
  for (let i = 0; i < run.msgs.length; i++) got += "\n" + describeGot(run.msgs[i]);
  for (let i = 0; i < c.messages.length; i++) want += "\n" + describeWant(c.messages[i]);
  expect(got).toBe(want, label);
}

export function describeGot(m: TGot): string {
  return describe(m.type, m.name, m.service, m.method, m.nameTruncated, m.seqId, m.replyStatus, m.appType, m.lax,
    m.headers, m.headersTruncated, m.headerSeq, m.headerFlags, m.start, m.end);
}

export function describeWant(w: TMsg): string {
  return describe(w.type, w.nameHex, w.serviceHex, w.methodHex, w.nameTruncated, w.seqId, w.replyStatus, w.appType, w.lax,
    w.headers, w.headersTruncated, w.headerSeq, w.headerFlags, w.start, w.end);
}

function describe(type: i32, name: string, service: string, method: string, truncated: bool, seq: i32, status: i32,
  app: i32, lax: bool, headers: string[], headersTruncated: bool, hseq: i32, hflags: i32, start: i64, end: i64): string {
  let s = "type " + type.toString() + " name " + name + (truncated ? "…" : "") + " service " + service + " method " + method;
  s += " seq " + seq.toString() + " status " + status.toString() + " app " + app.toString() + (lax ? " lax" : "");
  s += " headers [" + headers.join(",") + (headersTruncated ? ",…" : "") + "] hseq " + hseq.toString() + " hflags " + hflags.toString();
  return s + " [" + start.toString() + "," + end.toString() + ")";
}

// ---- a small Thrift writer (binary and compact) for messages the fixture cannot carry ------------

export class W {
  b: u8[] = [];
  u8(v: i32): W {
    this.b.push(<u8>v);
    return this;
  }
  i16(v: i32): W {
    return this.u8(v >> 8).u8(v);
  }
  i32(v: i32): W {
    return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v);
  }
  i64(v: i64): W {
    return this.i32(<i32>(v >>> 32)).i32(<i32>v);
  }
  varint(v: u64): W {
    do {
      let c = <i32>(v & 0x7f);
      v >>= 7;
      if (v != 0) c |= 0x80;
      this.u8(c);
    } while (v != 0);
    return this;
  }
  zz32(v: i32): W {
    return this.varint(<u64>(<u32>((v << 1) ^ (v >> 31))));
  }
  zz64(v: i64): W {
    return this.varint(<u64>((v << 1) ^ (v >> 63)));
  }
  hex(h: string): W {
    const x = hexBytes(h);
    for (let i = 0; i < x.length; i++) this.u8(x[i]);
    return this;
  }
  ascii(s: string): W {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  fill(v: i32, n: i32): W {
    for (let i = 0; i < n; i++) this.b.push(<u8>v);
    return this;
  }
  append(o: W): W {
    for (let i = 0; i < o.b.length; i++) this.b.push(o.b[i]);
    return this;
  }
  get length(): i32 {
    return this.b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.b.length);
    for (let i = 0; i < this.b.length; i++) out[i] = this.b[i];
    return out;
  }
  // binary protocol
  bMsg(type: i32, name: string, seq: i32): W {
    return this.u8(0x80).u8(1).u8(0).u8(type).i32(name.length).ascii(name).i32(seq);
  }
  bField(t: i32, id: i32): W {
    return this.u8(t).i16(id);
  }
  // compact protocol
  cMsg(type: i32, name: string, seq: i32): W {
    return this.u8(0x82).u8((type << 5) | 1).varint(<u64>(<u32>seq)).varint(<u64>name.length).ascii(name);
  }
  /** Long-form field header (works for any id). */
  cField(t: i32, id: i32): W {
    return this.u8(t).zz32(id);
  }
  cList(et: i32, n: i32): W {
    if (n < 15) return this.u8((n << 4) | et);
    return this.u8(0xf0 | et).varint(<u64>n);
  }
}

/** LEN + body. */
export function framedOf(body: W): W {
  return new W().i32(body.length).append(body);
}

// ---- the filter's way of driving a decoder (assembly/filter/pump.ts) --------------------------

export class PumpResult {
  msgs: TGot[] = [];
  error: string = "";
  fed: i64 = 0; // bytes handed to feed()
  skipped: i64 = 0;
  feeds: i32 = 0;
  windows: i32 = 0; // get_buffer_bytes calls the filter would make
}

/**
 * Windows of at most `chunk` bytes; before fetching a window, whatever skippable() allows is stepped
 * over (when useSkip), exactly as BufferPump does.
 */
export function pump(d: ThriftDecoder, data: Uint8Array, chunk: i32, useSkip: bool): PumpResult {
  const r = new PumpResult();
  const n = data.length;
  let pos = 0;
  while (pos < n) {
    if (useSkip) {
      const s = d.skippable();
      if (s > 0) {
        const k = s < <i64>(n - pos) ? <i32>s : n - pos;
        d.skip(k);
        pos += k;
        r.skipped += k;
        continue;
      }
    }
    const wl = n - pos < chunk ? n - pos : chunk;
    r.windows++;
    let off = 0;
    while (off < wl) {
      const c = d.feed(data.dataStart + <usize>(pos + off), wl - off);
      r.feeds++;
      r.fed += c;
      off += c;
      if (d.event == EV_MESSAGE) r.msgs.push(snap(d));
      else if (d.event == EV_ERROR) {
        r.error = d.errorReason();
        return r;
      } else if (c == 0) {
        r.error = "no progress";
        return r;
      }
    }
    pos += wl;
  }
  return r;
}
