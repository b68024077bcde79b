// No-trap sweep: thousands of mutations of the Dubbo vectors (bit flips, Hessian-significant byte
// overwrites, insertions, deletions, duplications, splices, header length fix-ups so that mutated
// bodies are really parsed) fed to a decoder and a session in random splits with random skips,
// under default and tiny limits; then random byte soup through the Hessian walker. A trap fails the
// test by itself; the codec contract is checked on every step.

import { EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { DubboDecoder } from "../../assembly/protocols/dubbo/message-decoder";
import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { DubboSession } from "../../assembly/protocols/dubbo/session";
import { W_MORE, W_DONE, W_FAIL } from "../../assembly/protocols/dubbo/hessian";
import { frames, errorVectors, edgeCases, hessianValues, hessianFixtures, DVector } from "./generated/dubbo-vectors";
import { expand } from "./helpers";
import { newWalker, frameOf, requestBody, Writer, DUBBO_CAPS } from "./dubbo-helpers";
import { Rng, Run, Tap, Tally, Feed, RANDOM, sweepSkip, drive } from "./drive";

const SPECIAL: u8[] = [
  0x00, 0x01, 0x1f, 0x20, 0x30, 0x34, 0x38, 0x41, 0x42, 0x43, 0x44, 0x48, 0x49, 0x4a, 0x4c, 0x4d, 0x4e, 0x4f, 0x51,
  0x52, 0x53, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5f, 0x60, 0x6f, 0x70, 0x78, 0x7f, 0x80, 0x90, 0xbf, 0xc8, 0xd4,
  0xd8, 0xe0, 0xed, 0xf0, 0xf8, 0xff, 0xda, 0xbb, 0xc2, 0x02, 0x14, 0x92, 0x95,
];
const MAX_SEED_BYTES = 4096;

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const groups: DVector[][] = [frames(), errorVectors(), edgeCases()];
  for (let g = 0; g < groups.length; g++) {
    const vs = groups[g];
    for (let i = 0; i < vs.length; i++) {
      const b = expand(vs[i].data.hex, vs[i].data.times);
      if (b.length > 0 && b.length <= MAX_SEED_BYTES) out.push(b);
    }
  }
  // every Hessian value as a request argument and as a response value
  const hv = hessianValues().concat(hessianFixtures());
  for (let i = 0; i < hv.length; i++) {
    const v = expand(hv[i].data.hex, hv[i].data.times);
    if (v.length > 512) continue;
    const att = new Writer().u8(0x48).str("group").str("g").u8(0x5a).toBytes();
    out.push(frameOf(0xc2, 0, <i64>i, requestBody("s", "m", "Ljava/lang/Object;", v, att)));
    out.push(frameOf(0x02, 20, <i64>i, new Writer().u8(0x94).raw(v).raw(att).toBytes()));
  }
  return out;
}

function insert(a: u8[], at: i32, piece: u8[]): u8[] {
  const p = at > a.length ? a.length : at;
  return a.slice(0, p).concat(piece).concat(a.slice(p));
}

/** Rewrites the first frame's body length to what follows its header (so a mutated body is parsed). */
function fixLength(out: u8[]): void {
  if (out.length < 16) return;
  const n = out.length - 16;
  out[12] = <u8>(n >>> 24);
  out[13] = <u8>(n >>> 16);
  out[14] = <u8>(n >>> 8);
  out[15] = <u8>n;
}

function mutate(src: Uint8Array, all: Uint8Array[], rng: Rng): Uint8Array {
  let out: u8[] = [];
  for (let i = 0; i < src.length; i++) out.push(src[i]);
  const edits = 1 + rng.below(4);
  for (let e = 0; e < edits; e++) {
    const n = out.length;
    // bodies more often than headers: the header is 16 of typically 100+ bytes
    const at = rng.below(4) == 0 ? rng.below(n + 1) : 16 + rng.below(n > 16 ? n - 15 : 1);
    switch (rng.below(8)) {
      case 0: // flip a bit
        if (at < n) out[at] ^= <u8>(1 << <u8>rng.below(8));
        break;
      case 1: // overwrite with a Hessian-significant byte
        if (at < n) out[at] = SPECIAL[rng.below(SPECIAL.length)];
        break;
      case 2: // insert some
        for (let k = rng.below(3); k >= 0; k--) out = insert(out, at, [SPECIAL[rng.below(SPECIAL.length)]]);
        break;
      case 3: {
        // delete a range
        const len = 1 + rng.below(8);
        if (at < n) out.splice(at, len);
        break;
      }
      case 4: {
        // duplicate a range
        const len = 1 + rng.below(24);
        const end = at + len < n ? at + len : n;
        out = insert(out, end, out.slice(at, end));
        break;
      }
      case 5: {
        // splice in part of another corpus entry
        const other = all[rng.below(all.length)];
        const from = rng.below(other.length);
        const to = from + rng.below(other.length - from + 1);
        const piece: u8[] = [];
        for (let k = from; k < to; k++) piece.push(other[k]);
        out = insert(out, at, piece);
        break;
      }
      case 6: // truncate
        if (at < n) out = out.slice(0, at);
        break;
      default: // a random byte
        if (at < n) out[at] = <u8>rng.below(256);
    }
  }
  if (rng.below(3) != 0) fixLength(out);
  const b = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) b[i] = out[i];
  return b;
}

function randomLimits(rng: Rng): DubboLimits {
  const l = new DubboLimits();
  if (rng.below(2) == 0) return l;
  l.maxBodyBytes = <i64>(rng.below(4) == 0 ? rng.below(64) : 8 << 20);
  l.maxDepth = rng.below(6);
  l.maxStringBytes = rng.below(40) - 2;
  l.maxAttachments = rng.below(4) - 1;
  l.maxClassDefs = rng.below(3) - 1;
  l.maxCaptureBytes = rng.below(80) - 4;
  return l;
}

class Stats extends Tally {
  cases: i32 = 0;
  bytes: i64 = 0;
  bodyErrors: i32 = 0;
}

/** What a frame may hold under limits `l` (accessors never trap, captures stay bounded). */
function checkMessage(d: DubboDecoder, l: DubboLimits, run: Run<bool>, st: Stats): void {
  run.check(d.end() - d.start() == 16 + <i64>d.bodyLength(), "frame length");
  run.check(d.bodyLength() >= 0 && <i64>d.bodyLength() <= l.maxBodyBytes, "body length");
  run.check(d.bodyParsed() == (d.bodyErrorReason().length == 0), "body error reason");
  if (!d.bodyParsed()) st.bodyErrors++;
  const maxCap = l.maxCaptureBytes < 16 ? 16 : l.maxCaptureBytes;
  const lens: i32[] = [d.serviceLen(), d.methodLen(), d.versionLen(), d.paramTypesLen(), d.dubboVersionLen(), d.errorMessageLen(), d.groupLen()];
  for (let k = 0; k < lens.length; k++) run.check(lens[k] >= 0 && lens[k] <= maxCap, "capture length");
  const n = d.attachmentCount();
  run.check(n >= 0 && n <= (l.maxAttachments < 1 ? 1 : l.maxAttachments), "attachment count");
  for (let i = -1; i <= n; i++) {
    // out-of-range indices answer 0, never trap
    const kl = d.attachmentKeyLen(i);
    const vl = d.attachmentValueLen(i);
    run.check(kl >= 0 && kl <= maxCap && vl >= 0 && vl <= maxCap, "attachment length");
    if (i < 0 || i == n) run.check(kl == 0 && vl == 0, "attachment out of range");
    if (kl > 0) load<u8>(d.attachmentKeyPtr(i) + <usize>(kl - 1));
  }
  const f = d.responseFlag();
  run.check(f >= -1 && f <= 5, "response flag");
  if (d.isRequest()) run.check(f == -1, "response flag on a request");
  if (d.isHeartbeat()) run.check(d.isEvent() && d.bodyLength() == 1, "heartbeat");
}

/** checkMessage on every frame; requests go to the session's onRequest, responses to onResponse. */
class Sweep extends Tap<DubboDecoder, bool> {
  constructor(public l: DubboLimits, public s: DubboSession, public st: Stats) {
    super();
  }
  message(d: DubboDecoder, run: Run<bool>): bool {
    checkMessage(d, this.l, run, this.st);
    if (d.isRequest()) this.s.onRequest(d, d.position());
    else this.s.onResponse(d);
    return true;
  }
}

function sweepStream(d: DubboDecoder, l: DubboLimits, s: DubboSession, data: Uint8Array, rng: Rng, st: Stats): void {
  st.add(drive<DubboDecoder, bool>(d, data, new Feed(RANDOM, rng, sweepSkip, DUBBO_CAPS), new Sweep(l, s, st)));
}

describe("Dubbo no-trap sweep", () => {
  it("thousands of mutated frames, both directions, random splits and skips, random limits", () => {
    const all = corpus();
    const rng = new Rng(0xd0bb0);
    const st = new Stats();
    for (let round = 0; round < 20000; round++) {
      const src = all[rng.below(all.length)];
      const data = rng.below(10) == 0 ? src : mutate(src, all, rng);
      const l = randomLimits(rng);
      const d = new DubboDecoder(l);
      const s = new DubboSession(1 + rng.below(8));
      sweepStream(d, l, s, data, rng, st);
      // and again after reset(), with another split
      d.reset();
      sweepStream(d, l, s, data, rng, st);
      st.cases++;
      st.bytes += data.length;
    }
    expect(st.violations).toBe(0, st.first);
    // the sweep reached every outcome
    expect(st.messages).toBeGreaterThan(1000);
    expect(st.bodyErrors).toBeGreaterThan(500);
    expect(st.errors).toBeGreaterThan(500);
  });

  it("pipelined mutated frames: a body error never desynchronises the next frame", () => {
    const all = corpus();
    const rng = new Rng(77);
    let violations = 0;
    let checked = 0;
    for (let round = 0; round < 1500; round++) {
      // a mutated frame with a consistent length, followed by an intact heartbeat
      const bad = mutate(all[rng.below(all.length)], all, rng);
      if (bad.length < 16 || bad[0] != 0xda || bad[1] != 0xbb) continue;
      const b: u8[] = [];
      for (let i = 0; i < bad.length; i++) b.push(bad[i]);
      fixLength(b);
      const frame = new Writer();
      for (let i = 0; i < b.length; i++) frame.u8(b[i]);
      const hb = frameOf(0xe2, 0, 99, new Writer().u8(0x4e).toBytes());
      const data = frame.raw(hb).toBytes();
      const l = new DubboLimits();
      const d = new DubboDecoder(l);
      let last: i64 = -1;
      let messages = 0;
      let off = 0;
      while (off < data.length) {
        const len = 1 + rng.below(data.length - off < 50 ? data.length - off : 50);
        const c = d.feed(data.dataStart + <usize>off, len);
        off += c;
        if (d.event == EV_MESSAGE) {
          messages++;
          last = d.requestId();
        } else if (d.event == EV_ERROR) break;
      }
      // magic intact and length consistent: whatever the body holds, both frames are found
      if (d.event == EV_ERROR || !(messages == 2 && last == 99 && d.atBoundary())) violations++;
      checked++;
    }
    expect(violations).toBe(0);
    expect(checked).toBeGreaterThan(800);
  });

  it("random byte soup through the Hessian walker", () => {
    const rng = new Rng(31337);
    let violations = 0;
    let done = 0;
    let failed = 0;
    for (let round = 0; round < 6000; round++) {
      const l = randomLimits(rng);
      const w = newWalker(l);
      const n = 1 + rng.below(64);
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = rng.below(3) == 0 ? SPECIAL[rng.below(SPECIAL.length)] : <u8>rng.below(256);
      w.resetBody();
      w.begin(rng.below(3), rng.below(4), rng.below(2) == 0);
      let off = 0;
      while (off < n && w.busy()) {
        const s = w.skippable();
        if (s > 0 && rng.below(2) == 0) {
          const k = s < <i64>(n - off) ? <i32>s : n - off;
          w.skip(<i64>k);
          off += k;
          continue;
        }
        const len = 1 + rng.below(n - off);
        const c = w.feed(data.dataStart + <usize>off, len);
        if (c < 0 || c > len) violations++;
        if (w.status() == W_MORE && c != len) violations++;
        off += c;
      }
      const st = w.status();
      if (st == W_DONE) done++;
      else if (st == W_FAIL) {
        failed++;
        if (w.reason().length == 0) violations++;
      }
      if (w.capturedLen() < 0) violations++;
    }
    expect(violations).toBe(0);
    expect(done).toBeGreaterThan(500);
    expect(failed).toBeGreaterThan(500);
  });
});
