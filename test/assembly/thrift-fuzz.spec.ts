// No-trap sweep: thousands of mutations of the fixture streams (bit flips, overwrites with
// protocol-significant bytes, insertions, deletions, duplications, splices, length-field edits) fed to
// the decoder and a session in random splits with random skips, under default, tiny and lax limits.
// A trap fails the test by itself; the decoder's contract is checked on every call.

import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import { ThriftSession } from "../../assembly/protocols/thrift/session";
import { vectors, edgeCases } from "./generated/thrift-vectors";
import { expand } from "./helpers";
import { W } from "./thrift-helpers";
import { Rng, Run, Tap, Tally, Feed, RANDOM, sweepSkip, drive } from "./drive";

// bytes that mean something somewhere: type ids, STOP, magic halves, compact headers, varint bits
const SPECIAL: u8[] = [0x00, 0x01, 0x02, 0x03, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x19, 0x1b, 0x1c, 0x21,
  0x3a, 0x7f, 0x80, 0x81, 0x82, 0xf0, 0xf5, 0xff, 0x0f, 0xfe];

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const vs = vectors();
  for (let i = 0; i < vs.length; i++) out.push(expand(vs[i].data.hex, vs[i].data.times));
  const es = edgeCases();
  for (let i = 0; i < es.length; i++) {
    const b = expand(es[i].data.hex, es[i].data.times);
    if (b.length > 0 && b.length <= 4096) out.push(b);
  }
  // deep and wide shapes the fixture lacks
  const deep = new W().bMsg(1, "d", 1);
  for (let i = 0; i < 70; i++) deep.bField(15, 1).u8(12).i32(1);
  out.push(deep.u8(0).bytes());
  const cdeep = new W().cMsg(1, "d", 1);
  for (let i = 0; i < 70; i++) cdeep.u8(0x19).u8(0x1c);
  out.push(cdeep.u8(0).bytes());
  // long strings and names, so skipping is exercised
  const big = new W().bMsg(1, "upload", 2).bField(11, 1).i32(600).fill(0x61, 600).bField(15, 2).u8(11).i32(2).i32(300).fill(0x62, 300).i32(0).u8(0);
  out.push(new W().i32(big.length).append(big).bytes());
  out.push(big.bytes());
  const cbig = new W().cMsg(3, "x", 4).u8(0x18).varint(700).fill(0x63, 700).u8(0x15).zz32(2).u8(0);
  out.push(new W().i32(cbig.length).append(cbig).bytes());
  let name = "Service:";
  for (let i = 0; i < 300; i++) name += "n";
  out.push(new W().i32(13 + name.length).bMsg(2, name, 1).u8(0).bytes());
  return out;
}

function mutate(src: Uint8Array, all: Uint8Array[], rng: Rng): Uint8Array {
  let out: u8[] = [];
  for (let i = 0; i < src.length; i++) out.push(src[i]);
  const edits = 1 + rng.below(4);
  for (let e = 0; e < edits; e++) {
    const n = out.length;
    const at = rng.below(n + 1);
    switch (rng.below(8)) {
      case 0: // flip a bit
        if (n > 0) out[at % n] ^= <u8>(1 << <u8>rng.below(8));
        break;
      case 1: // overwrite with a protocol byte
        if (n > 0) out[at % n] = SPECIAL[rng.below(SPECIAL.length)];
        break;
      case 2: {
        // insert protocol bytes
        const piece: u8[] = [];
        for (let k = rng.below(4); k >= 0; k--) piece.push(SPECIAL[rng.below(SPECIAL.length)]);
        out = out.slice(0, at).concat(piece).concat(out.slice(at));
        break;
      }
      case 3: // delete a range
        if (at < n) out.splice(at, 1 + rng.below(8));
        break;
      case 4: {
        // duplicate a range
        const end = at + 1 + rng.below(16) < n ? at + 1 + rng.below(16) : n;
        out = out.slice(0, end).concat(out.slice(at, end)).concat(out.slice(end));
        break;
      }
      case 5: {
        // splice in part of another corpus entry
        const other = all[rng.below(all.length)];
        const from = rng.below(other.length);
        const piece: u8[] = [];
        for (let k = from; k < other.length && k < from + 1 + rng.below(40); k++) piece.push(other[k]);
        out = out.slice(0, at).concat(piece).concat(out.slice(at));
        break;
      }
      case 6: {
        // overwrite 4 bytes with a hostile length
        const lens: u32[] = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x00fa0000, 0x3fffffff, 0x10000];
        const v = lens[rng.below(lens.length)];
        for (let k = 0; k < 4 && at + k < n; k++) out[at + k] = <u8>(v >>> (24 - 8 * k));
        break;
      }
      default: // truncate
        if (at < n) out = out.slice(0, at);
    }
  }
  const r = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) r[i] = out[i];
  return r;
}

function limitsFor(kind: i32): ThriftLimits {
  const l = new ThriftLimits();
  if (kind == 1) {
    l.maxDepth = 3;
    l.maxNameBytes = 2;
    l.maxHeaders = 1;
    l.maxHeaderBytes = 8;
    l.maxUnframedBytes = 64;
    l.maxFrameBytes = 64;
  } else if (kind == 2) {
    l.laxBinaryUnframed = true;
  }
  return l;
}

/** Every accessor, and every byte they point at, within the limits; the session sees each message as either side. */
class Sweep extends Tap<ThriftDecoder, bool> {
  constructor(public l: ThriftLimits, public s: ThriftSession, public rng: Rng) {
    super();
  }
  message(d: ThriftDecoder, run: Run<bool>): bool {
    const l = this.l;
    let sum: u32 = 0;
    const nl = d.nameLen();
    run.check(nl >= 0 && nl <= l.maxNameBytes && d.serviceLen() >= 0 && d.methodLen() >= 0 && d.serviceLen() + d.methodLen() <= nl, "name lengths");
    for (let i = 0; i < nl; i++) sum += load<u8>(d.namePtr() + <usize>i);
    for (let i = 0; i < d.methodLen(); i++) sum += load<u8>(d.methodPtr() + <usize>i);
    const hc = d.headerCount();
    run.check(hc >= 0 && hc <= l.maxHeaders, "header count");
    for (let h = 0; h < hc + 1; h++) {
      for (let i = 0; i < d.headerKeyLen(h); i++) sum += load<u8>(d.headerKeyPtr(h) + <usize>i);
      for (let i = 0; i < d.headerValueLen(h); i++) sum += load<u8>(d.headerValuePtr(h) + <usize>i);
    }
    const t = d.messageType();
    run.check(t >= 1 && t <= 4, "message type");
    run.check(d.replyStatus() >= 0 && d.replyStatus() <= 2, "reply status");
    sum += <u32>(d.seqId() + d.appExceptionType() + d.headerSeqId() + d.headerFlags() + d.transport() + d.protocol());
    run.check(!d.nameTruncated() || sum != 0xdeadbeef, "unreachable"); // keeps the reads
    if (this.rng.below(2) == 0) this.s.onRequest(d, d.position());
    else this.s.onReply(d);
    return true;
  }
}

/** Feeds data in random splits with random skips; records the first contract violation. */
function sweepStream(d: ThriftDecoder, l: ThriftLimits, s: ThriftSession, data: Uint8Array, rng: Rng, st: Tally): void {
  st.add(drive<ThriftDecoder, bool>(d, data, new Feed(RANDOM, rng, sweepSkip), new Sweep(l, s, rng)));
}

describe("Thrift no-trap sweep", () => {
  it("mutated fixture streams under default, tiny and lax limits", () => {
    const all = corpus();
    const rng = new Rng(20240611);
    const st = new Tally();
    for (let kind = 0; kind < 3; kind++) {
      const l = limitsFor(kind);
      const d = new ThriftDecoder(l);
      const s = new ThriftSession(8);
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < all.length; i++) {
          d.reset();
          sweepStream(d, l, s, mutate(all[i], all, rng), rng, st);
          if (st.first.length > 0) break;
        }
      }
      expect(st.first).toBe("", "limits " + kind.toString());
    }
    expect(st.runs).toBeGreaterThan(10000);
    expect(st.messages).toBeGreaterThan(2000);
    expect(st.errors).toBeGreaterThan(2000);
    expect(st.skips).toBeGreaterThan(100);
  });

  it("random bytes after every valid transport start", () => {
    const starts: string[] = [
      "0000ffff80010001", "0000ffff82210101", "0000ffff0fff0000000000010004", "8001000100000001", "82210101", "8001000200000000",
    ];
    const rng = new Rng(7);
    const st = new Tally();
    for (let round = 0; round < 400; round++) {
      const w = new W().hex(starts[round % starts.length]);
      const extra = rng.below(300);
      for (let i = 0; i < extra; i++) w.u8(rng.below(3) == 0 ? SPECIAL[rng.below(SPECIAL.length)] : rng.below(256));
      const l = limitsFor(round % 3);
      const d = new ThriftDecoder(l);
      sweepStream(d, l, new ThriftSession(), w.bytes(), rng, st);
      if (st.first.length > 0) break;
    }
    expect(st.first).toBe("");
    expect(st.runs).toBe(400);
  });
});
