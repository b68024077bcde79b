// Test utilities for the Dubbo specs: the Dubbo side of the shared driver (drive.ts: what a run
// records of each frame, the Dubbo specs' split and skip habits); a checker against the fixture's
// expectations; a Hessian walker driver for single values; a small Dubbo/Hessian writer to build
// large and nested frames. Allocation is fine here; the codec under test must not.

import { DubboDecoder } from "../../assembly/protocols/dubbo/message-decoder";
import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { DubboSession, MATCHED } from "../../assembly/protocols/dubbo/session";
import { W_MORE, W_DONE, W_FAIL } from "../../assembly/protocols/dubbo/hessian";
import { HessianReader } from "../../assembly/protocols/dubbo/hessian-reader";
import { DVector, DMsg, DStr, F_DUBBO_VERSION, F_SERVICE, F_VERSION, F_METHOD, F_PARAM_TYPES, F_GROUP, F_ERROR_MESSAGE } from "./generated/dubbo-vectors";
import { expand, hexOf } from "./helpers";
import { Rng, Run, Tap, Feed, SkipFn, skipAll, chunkLen, drive } from "./drive";

/** RANDOM window caps for Dubbo: windows of up to 1, 3, 17 or 300 bytes or the rest, equally often. */
export const DUBBO_CAPS: i32[] = [1, 3, 17, 300];

export function hexOfBytes(a: Uint8Array): string {
  return hexOf(a.dataStart, a.length);
}

// ---- decoder runs -----------------------------------------------------------------------------------

export class DGot {
  request: bool = false;
  twoWay: bool = false;
  event: bool = false;
  heartbeat: bool = false;
  serialization: i32 = 0;
  status: i32 = 0;
  id: i64 = 0;
  bodyLength: i32 = 0;
  bodyParsed: bool = false;
  bodyError: string = "";
  dubboVersion: string = ""; // UTF-8 hex, as all strings here
  service: string = "";
  hasVersion: bool = false;
  version: string = "";
  method: string = "";
  paramTypes: string = "";
  paramCount: i32 = 0;
  attachments: string[] = []; // key hex, value hex, …
  hasGroup: bool = false;
  group: string = "";
  responseFlag: i32 = 0;
  errorStatus: bool = false;
  hasErrorMessage: bool = false;
  errorMessage: string = "";
  start: i64 = 0;
  end: i64 = 0;
  correlation: i32 = 0;
  matchedId: i64 = 0;
  matchedMethod: string = "";
  matchedStart: i64 = 0;
}

export function snap(d: DubboDecoder): DGot {
  const m = new DGot();
  m.request = d.isRequest();
  m.twoWay = d.isTwoWay();
  m.event = d.isEvent();
  m.heartbeat = d.isHeartbeat();
  m.serialization = d.serializationId();
  m.status = d.status();
  m.id = d.requestId();
  m.bodyLength = d.bodyLength();
  m.bodyParsed = d.bodyParsed();
  m.bodyError = d.bodyErrorReason();
  m.dubboVersion = hexOf(d.dubboVersionPtr(), d.dubboVersionLen());
  m.service = hexOf(d.servicePtr(), d.serviceLen());
  m.hasVersion = d.hasVersion();
  m.version = hexOf(d.versionPtr(), d.versionLen());
  m.method = hexOf(d.methodPtr(), d.methodLen());
  m.paramTypes = hexOf(d.paramTypesPtr(), d.paramTypesLen());
  m.paramCount = d.parameterCount();
  for (let i = 0; i < d.attachmentCount(); i++) {
    m.attachments.push(hexOf(d.attachmentKeyPtr(i), d.attachmentKeyLen(i)));
    m.attachments.push(hexOf(d.attachmentValuePtr(i), d.attachmentValueLen(i)));
  }
  m.hasGroup = d.hasGroup();
  m.group = hexOf(d.groupPtr(), d.groupLen());
  m.responseFlag = d.responseFlag();
  m.errorStatus = d.isErrorStatus();
  m.hasErrorMessage = d.hasErrorMessage();
  m.errorMessage = hexOf(d.errorMessagePtr(), d.errorMessageLen());
  m.start = d.start();
  m.end = d.end();
  return m;
}

/** Frame snapshots (a frame is its 16-byte header and body); with a session, requests go to onRequest, responses to onResponse. */
class DubboTap extends Tap<DubboDecoder, DGot> {
  constructor(public session: DubboSession | null) {
    super();
  }
  message(d: DubboDecoder, run: Run<DGot>): DGot {
    const m = snap(d);
    run.check(m.end - m.start == 16 + <i64>m.bodyLength, "frame length");
    const session = this.session;
    if (session === null) return m;
    if (m.request) {
      session.onRequest(d, <i64>run.msgs.length);
      return m;
    }
    m.correlation = session.onResponse(d);
    if (m.correlation == MATCHED) {
      m.matchedId = session.matchedRequestId();
      m.matchedMethod = hexOf(session.matchedMethodPtr(), session.matchedMethodLen());
      m.matchedStart = session.matchedStartNs();
    }
    return m;
  }
}

/** The Dubbo specs' skip habit: two times in three; of those, half a random part, half all in the window. */
function dubboSkip(offered: i64, room: i32, rng: Rng): i64 {
  if (rng.below(3) == 0) return 0;
  const k = skipAll(offered, room, rng);
  return rng.below(2) != 0 ? 1 + <i64>rng.below(<i32>k) : k;
}

/**
 * Feed `data` in the given split mode. With `useSkip`, bytes the decoder declares skippable are
 * sometimes skipped instead of fed (all of them within the window when `alwaysSkip`). Requests go to
 * session.onRequest, responses to onResponse.
 */
export function runDubbo(
  d: DubboDecoder,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  session: DubboSession | null = null,
  alwaysSkip: bool = false,
): Run<DGot> {
  const skip: SkipFn | null = useSkip ? (alwaysSkip ? skipAll : dubboSkip) : null;
  return drive<DubboDecoder, DGot>(d, data, new Feed(mode, rng, skip, DUBBO_CAPS), new DubboTap(session));
}

function strField(got: DGot, field: i32): string {
  switch (field) {
    case F_DUBBO_VERSION:
      return got.dubboVersion;
    case F_SERVICE:
      return got.service;
    case F_VERSION:
      return got.version;
    case F_METHOD:
      return got.method;
    case F_PARAM_TYPES:
      return got.paramTypes;
    case F_GROUP:
      return got.group;
  }
  return got.errorMessage;
}

function checkStr(got: DGot, s: DStr, l: string): void {
  const label = l + " field " + s.field.toString();
  if (s.field == F_VERSION) expect(got.hasVersion).toBe(s.present, label + " hasVersion");
  if (s.field == F_GROUP) expect(got.hasGroup).toBe(s.present, label + " hasGroup");
  if (s.field == F_ERROR_MESSAGE) expect(got.hasErrorMessage).toBe(s.present, label + " hasErrorMessage");
  expect(strField(got, s.field)).toBe(s.hex, label);
}

export function checkMessage(got: DGot, w: DMsg, l: string): void {
  expect(got.request).toBe(w.request, l + " request");
  expect(got.twoWay).toBe(w.twoWay, l + " twoWay");
  expect(got.event).toBe(w.event, l + " event");
  expect(got.heartbeat).toBe(w.heartbeat, l + " heartbeat");
  expect(got.serialization).toBe(w.serialization, l + " serialization");
  expect(got.status).toBe(w.status, l + " status");
  expect(got.id).toBe(w.id, l + " id");
  expect(got.bodyLength).toBe(w.bodyLength, l + " body length");
  expect(got.bodyParsed).toBe(w.bodyParsed, l + " body parsed");
  if (w.bodyError.length > 0 || w.bodyParsed) expect(got.bodyError).toBe(w.bodyError, l + " body error");
  expect(got.errorStatus).toBe(!w.request && w.status != 20, l + " error status");
  expect(got.start).toBe(w.start, l + " start");
  expect(got.end).toBe(w.end, l + " end");
  if (w.paramCount >= 0) expect(got.paramCount).toBe(w.paramCount, l + " param count");
  if (w.responseFlag != -2) expect(got.responseFlag).toBe(w.responseFlag, l + " response flag");
  if (w.checkAttachments) {
    expect(got.attachments.length).toBe(w.attachments.length, l + " attachment count");
    const n = got.attachments.length < w.attachments.length ? got.attachments.length : w.attachments.length;
    for (let k = 0; k < n; k++) expect(got.attachments[k]).toBe(w.attachments[k], l + " attachment " + k.toString());
  }
  for (let k = 0; k < w.strings.length; k++) checkStr(got, w.strings[k], l);
}

/** Messages, error and end state of `run` match the vector's expectations. */
export function checkRun(run: Run<DGot>, v: DVector, label: string): void {
  expect(run.violations).toBe(0, label + ": driver invariants (" + run.violation + ")");
  expect(run.msgs.length).toBe(v.messages.length, label + ": message count");
  const n = run.msgs.length < v.messages.length ? run.msgs.length : v.messages.length;
  for (let i = 0; i < n; i++) checkMessage(run.msgs[i], v.messages[i], label + " message " + i.toString());
  expect(run.error).toBe(v.error, label + ": error");
  if (v.error.length > 0) {
    if (v.consumed >= 0) expect(run.consumed).toBe(v.consumed, label + ": consumed up to the error");
  } else {
    expect(run.boundary).toBe(!v.incomplete, label + ": boundary");
  }
}

export function vectorBytes(v: DVector): Uint8Array {
  return expand(v.data.hex, v.data.times);
}

export function runVector(v: DVector, mode: i32, seed: u32, useSkip: bool, alwaysSkip: bool = false): void {
  const label = v.name + " mode " + mode.toString() + " seed " + seed.toString() + (useSkip ? " skip" : "") + (alwaysSkip ? " always" : "");
  const d = new DubboDecoder(new DubboLimits());
  const run = runDubbo(d, vectorBytes(v), mode, new Rng(seed), useSkip || alwaysSkip, null, alwaysSkip);
  checkRun(run, v, label);
}

// ---- Hessian walker ---------------------------------------------------------------------------------

export function bigLimits(): DubboLimits {
  const l = new DubboLimits();
  l.maxStringBytes = 1 << 20;
  l.maxCaptureBytes = 1 << 20;
  return l;
}

export function newWalker(limits: DubboLimits): HessianReader {
  return new HessianReader(limits);
}

export class WalkResult {
  /** Top-level values completed. */
  values: i32 = 0;
  /** Bytes consumed (fed or skipped). */
  consumed: i32 = 0;
  status: i32 = W_MORE;
  reason: string = "";
  firstKind: i32 = 0;
  firstInt: i64 = 0;
  firstString: string = ""; // UTF-8 hex of the first value if captured
  firstOver: bool = false;
  violations: i32 = 0;
}

/**
 * Walks consecutive top-level values of `data` (one body: the class table is shared) until the data
 * ends, a value fails, or `maxValues` are done; the first value is walked with `capMode`.
 */
export function walkValues(
  w: HessianReader,
  data: Uint8Array,
  mode: i32,
  rng: Rng,
  useSkip: bool,
  expectX: i32,
  capMode: i32,
  maxValues: i32 = 1 << 30,
): WalkResult {
  const r = new WalkResult();
  w.resetBody();
  const base = data.dataStart;
  const n = data.length;
  let off = 0;
  let started = false;
  while (off < n && r.values < maxValues) {
    if (!started) {
      w.begin(r.values == 0 ? expectX : 0, r.values == 0 ? capMode : 0, false);
      started = true;
    }
    const end = off + chunkLen(mode, rng, n - off, DUBBO_CAPS);
    while (off < end) {
      const s = w.skippable();
      let fed = false;
      if (useSkip && s > 0 && rng.below(2) == 0) {
        const k = s < <i64>(end - off) ? <i32>s : end - off;
        w.skip(<i64>k);
        off += k;
      } else {
        const c = w.feed(base + <usize>off, end - off);
        if (c < 0 || c > end - off) r.violations++;
        off += c;
        fed = true;
      }
      const st = w.status();
      if (st == W_FAIL) {
        r.status = W_FAIL;
        r.reason = w.reason();
        r.consumed = off;
        return r;
      }
      if (st == W_DONE) {
        if (r.values == 0) {
          r.firstKind = w.kind();
          r.firstInt = w.intValue();
          r.firstString = hexOf(w.capturedPtr(), w.capturedLen());
          r.firstOver = w.capturedOver();
        }
        r.values++;
        started = false;
        r.status = W_DONE;
        break;
      }
      r.status = W_MORE;
      if (fed && off < end) {
        r.violations++; // a walker asking for more must have taken the whole window
        break;
      }
    }
  }
  r.consumed = off;
  return r;
}

// ---- a small Dubbo / Hessian writer -------------------------------------------------------------------

export class Writer {
  bytes: u8[] = [];
  u8(b: i32): Writer {
    this.bytes.push(<u8>b);
    return this;
  }
  raw(a: Uint8Array): Writer {
    for (let i = 0; i < a.length; i++) this.bytes.push(a[i]);
    return this;
  }
  fill(b: i32, n: i32): Writer {
    for (let i = 0; i < n; i++) this.bytes.push(<u8>b);
    return this;
  }
  /** An ASCII string (Hessian short/medium/S forms, ≤ 65535 chars). */
  str(s: string): Writer {
    const n = s.length;
    if (n <= 31) this.u8(n);
    else if (n <= 1023) this.u8(0x30 + (n >> 8)).u8(n & 0xff);
    else this.u8(0x53).u8(n >> 8).u8(n & 0xff);
    for (let i = 0; i < n; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  int(v: i32): Writer {
    if (v >= -16 && v <= 47) return this.u8(0x90 + v);
    if (v >= -2048 && v <= 2047) return this.u8(0xc8 + (v >> 8)).u8(v & 0xff);
    return this.u8(0x49).u8(v >>> 24).u8((v >>> 16) & 0xff).u8((v >>> 8) & 0xff).u8(v & 0xff);
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.bytes.length);
    for (let i = 0; i < this.bytes.length; i++) out[i] = this.bytes[i];
    return out;
  }
}

/** A frame around `body` (the header's length field may be overridden with `length`). */
export function frameOf(flag: i32, status: i32, id: i64, body: Uint8Array, length: i64 = -1): Uint8Array {
  const len = length >= 0 ? length : <i64>body.length;
  const out = new Uint8Array(16 + body.length);
  out[0] = 0xda;
  out[1] = 0xbb;
  out[2] = <u8>flag;
  out[3] = <u8>status;
  for (let i = 0; i < 8; i++) out[4 + i] = <u8>(id >> (56 - 8 * i));
  for (let i = 0; i < 4; i++) out[12 + i] = <u8>(len >> (24 - 8 * i));
  out.set(body, 16);
  return out;
}

/** A request body: 2.0.2, service, version, method, descriptor, then `args` and `tail` as given. */
export function requestBody(service: string, method: string, desc: string, args: Uint8Array, tail: Uint8Array): Uint8Array {
  return new Writer().str("2.0.2").str(service).str("1.0.0").str(method).str(desc).raw(args).raw(tail).toBytes();
}
