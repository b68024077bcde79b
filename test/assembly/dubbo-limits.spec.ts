// DubboLimits: each limit is enforced (the body length fails the stream; limits inside a body fail
// the body, and the stream goes on with the next frame), and what the decoder does not need is
// skipped without being fed: a 1 MiB argument, the tail of a body after the attachments, a whole
// non-Hessian body – fed the way the filter's pump feeds it (windows of 16 KiB, skip() between).

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { DubboDecoder } from "../../assembly/protocols/dubbo/message-decoder";
import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { frames } from "./generated/dubbo-vectors";
import { Writer, frameOf, requestBody, runDubbo, vectorBytes } from "./dubbo-helpers";
import { hexOf } from "./helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

const NO_ARGS = new Uint8Array(0);
const D3 = vectorBytes(frames()[2]);

function text(p: usize, n: i32): string {
  return String.UTF8.decodeUnsafe(p, <usize>n);
}

/** A request with the given descriptor, arguments and attachments, followed by a heartbeat. */
function withHeartbeat(body: Uint8Array): Uint8Array {
  return new Writer().raw(frameOf(0xc2, 0, 1, body)).raw(D3).toBytes();
}

class PumpRun {
  fed: i64 = 0;
  skipped: i64 = 0;
  messages: i32 = 0;
  event: i32 = EV_NEED_MORE;
}

/**
 * Feeds like assembly/filter/pump.ts: skip whatever is skippable, else feed a window of `chunk` bytes
 * (of fetchHint() bytes when `useHint` and the decoder gives one). A window is always fed whole.
 */
function pump(d: DubboDecoder, data: Uint8Array, chunk: i32, useHint: bool = false): PumpRun {
  const r = new PumpRun();
  let off = 0;
  const n = data.length;
  while (off < n) {
    const s = d.skippable();
    if (s > 0) {
      const k = s < <i64>(n - off) ? <i32>s : n - off;
      d.skip(<i64>k);
      expect(d.event).toBe(EV_NEED_MORE);
      off += k;
      r.skipped += k;
      continue;
    }
    const hint = useHint ? d.fetchHint() : 0;
    const want = hint > 0 && hint < chunk ? hint : chunk;
    const len = want < n - off ? want : n - off;
    let w = 0;
    while (w < len) {
      const c = d.feed(data.dataStart + <usize>(off + w), len - w);
      w += c;
      r.fed += c;
      if (d.event == EV_MESSAGE) r.messages++;
      else if (d.event == EV_ERROR) {
        r.event = EV_ERROR;
        return r;
      }
    }
    off += w;
  }
  r.event = d.event;
  return r;
}

describe("DubboLimits", () => {
  it("maxBodyBytes: one byte more fails the stream at the header", () => {
    const l = new DubboLimits();
    l.maxBodyBytes = 300;
    const body = requestBody("s", "m", "", NO_ARGS, new Writer().u8(0x48).u8(0x5a).toBytes());
    const pad = new Writer().raw(body).fill(0, 300 - body.length).toBytes();
    let run = runDubbo(new DubboDecoder(l), frameOf(0xc2, 0, 1, pad), RANDOM, new Rng(1), true);
    expect(run.error).toBe("");
    expect(run.msgs.length).toBe(1);
    const over = new Writer().raw(pad).u8(0).toBytes();
    run = runDubbo(new DubboDecoder(l), frameOf(0xc2, 0, 1, over), BYTEWISE, new Rng(1), false);
    expect(run.error).toBe("dubbo body length exceeds maxBodyBytes");
    expect(run.consumed).toBe(16);
    expect(new DubboLimits().maxBodyBytes).toBe(8 * 1024 * 1024);
  });

  it("maxDepth: one container more fails the body, not the stream", () => {
    const caps: i32[] = [1, 2, 3, 4, 5, 8, 64];
    for (let c = 0; c < caps.length; c++) {
      const cap = caps[c];
      const l = new DubboLimits();
      l.maxDepth = cap;
      for (let extra = 0; extra <= 1; extra++) {
        const depth = cap + extra;
        const arg = new Writer().fill(0x57, depth).fill(0x5a, depth).toBytes(); // W W … Z Z
        const body = requestBody("s", "m", "Ljava/util/List;", arg, new Writer().u8(0x48).str("group").str("g").u8(0x5a).toBytes());
        const run = runDubbo(new DubboDecoder(l), withHeartbeat(body), RANDOM, new Rng(<u32>cap), true);
        expect(run.error).toBe("");
        expect(run.msgs.length).toBe(2); // the heartbeat after it is found
        const m = run.msgs[0];
        expect(m.bodyParsed).toBe(extra == 0, "depth " + depth.toString() + " cap " + cap.toString());
        expect(m.bodyError).toBe(extra == 0 ? "" : "hessian: nesting too deep");
        expect(m.hasGroup).toBe(extra == 0);
        expect(m.method).toBe("6d"); // read before the failure
      }
    }
  });

  it("maxDepth counts maps, typed lists, objects and class definitions too", () => {
    const l = new DubboLimits();
    l.maxDepth = 3;
    // H { "a": V "[int" 1 [ C X(f) 0x60 { f: W [] } ] } needs 4: map, V, the class definition or
    // the object's fields, and the W list inside the object
    const arg = new Writer().u8(0x48).str("a").u8(0x56).str("[int").u8(0x91).u8(0x43).str("X").u8(0x91).str("f").u8(0x60).u8(0x57).u8(0x5a).u8(0x5a).toBytes();
    const run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "LX;", arg, NO_ARGS)), RANDOM, new Rng(3), false);
    expect(run.msgs[0].bodyError).toBe("hessian: nesting too deep");
    l.maxDepth = 4;
    const ok = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "LX;", arg, NO_ARGS)), RANDOM, new Rng(3), false);
    expect(ok.msgs[0].bodyParsed).toBe(true);
  });

  it("maxStringBytes: a longer request string fails the body; a longer attachment is dropped; an error message is cut", () => {
    const l = new DubboLimits();
    l.maxStringBytes = 10;
    let run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("0123456789", "m", "", NO_ARGS, NO_ARGS)), BYTEWISE, new Rng(1), false);
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(run.msgs[0].service).toBe("30313233343536373839");
    run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("0123456789a", "m", "", NO_ARGS, NO_ARGS)), BYTEWISE, new Rng(1), false);
    expect(run.msgs.length).toBe(2);
    expect(run.msgs[0].bodyParsed).toBe(false);
    expect(run.msgs[0].bodyError).toBe("hessian: string exceeds maxStringBytes");
    expect(run.msgs[0].service).toBe("");
    expect(run.msgs[0].method).toBe("");

    const att = new Writer().u8(0x48).str("group").str("g1").str("long").str("0123456789a").str("k").str("v").u8(0x5a).toBytes();
    const d = new DubboDecoder(l);
    run = runDubbo(d, frameOf(0xc2, 0, 1, requestBody("s", "m", "", NO_ARGS, att)), RANDOM, new Rng(2), true);
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(run.msgs[0].attachments.length).toBe(4); // group, k
    expect(d.attachmentsTruncated()).toBe(true);
    expect(text(d.groupPtr(), d.groupLen())).toBe("g1");

    const e = new DubboDecoder(l);
    run = runDubbo(e, frameOf(0x02, 70, 1, new Writer().str("Fail to invoke service").toBytes()), WHOLE, new Rng(1), false);
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(text(e.errorMessagePtr(), e.errorMessageLen())).toBe("Fail to in");
    expect(e.errorMessageTruncated()).toBe(true);
  });

  it("maxAttachments: one string attachment more fails the body; non-string pairs do not count", () => {
    const l = new DubboLimits();
    l.maxAttachments = 2;
    const two = new Writer().u8(0x48).str("a").str("1").str("n").u8(0x91).str("b").str("2").u8(0x5a).toBytes();
    let run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "", NO_ARGS, two)), RANDOM, new Rng(5), true);
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(run.msgs[0].attachments.length).toBe(4);
    const three = new Writer().u8(0x48).str("a").str("1").str("b").str("2").str("c").str("3").u8(0x5a).toBytes();
    run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "", NO_ARGS, three)), RANDOM, new Rng(5), true);
    expect(run.msgs.length).toBe(2);
    expect(run.msgs[0].bodyParsed).toBe(false);
    expect(run.msgs[0].bodyError).toBe("hessian: too many attachments");
    expect(run.msgs[0].attachments.length).toBe(4); // the two kept before the limit
  });

  it("maxClassDefs: one class definition more fails the body", () => {
    const l = new DubboLimits();
    l.maxClassDefs = 2;
    const cls = (name: string): Uint8Array => new Writer().u8(0x43).str(name).u8(0x90).toBytes();
    const args2 = new Writer().raw(cls("A")).u8(0x60).raw(cls("B")).u8(0x61).toBytes();
    let run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "LA;LB;", args2, NO_ARGS)), RANDOM, new Rng(6), false);
    expect(run.msgs[0].bodyParsed).toBe(true);
    const args3 = new Writer().raw(cls("A")).u8(0x60).raw(cls("B")).u8(0x61).raw(cls("C")).u8(0x62).toBytes();
    run = runDubbo(new DubboDecoder(l), withHeartbeat(requestBody("s", "m", "LA;LB;LC;", args3, NO_ARGS)), RANDOM, new Rng(6), false);
    expect(run.msgs[0].bodyError).toBe("hessian: too many class definitions");
    expect(run.msgs.length).toBe(2);
  });

  it("the class table and the attachments are per body", () => {
    // frame 1 defines class 0; frame 2 uses 0x60 without defining it: undefined in that body
    const f1 = frameOf(0xc2, 0, 1, requestBody("s", "m", "LA;", new Writer().u8(0x43).str("A").u8(0x90).u8(0x60).toBytes(), NO_ARGS));
    const f2 = frameOf(0xc2, 0, 2, requestBody("s", "m", "LA;", new Writer().u8(0x60).toBytes(), NO_ARGS));
    const run = runDubbo(new DubboDecoder(new DubboLimits()), new Writer().raw(f1).raw(f2).toBytes(), RANDOM, new Rng(7), false);
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(run.msgs[1].bodyError).toBe("hessian: undefined class definition");
  });

  it("maxCaptureBytes: request strings must fit; attachments that do not are dropped", () => {
    const l = new DubboLimits();
    l.maxCaptureBytes = 32;
    const att = new Writer().u8(0x48).str("group").str("g").str("key-that-does-not-fit").str("v").u8(0x5a).toBytes();
    const d = new DubboDecoder(l);
    let run = runDubbo(d, frameOf(0xc2, 0, 1, requestBody("svc", "m", "", NO_ARGS, att)), RANDOM, new Rng(8), true);
    // 2.0.2 + svc + 1.0.0 + m = 14 bytes; group/g = 6 more; the next pair does not fit
    expect(run.msgs[0].bodyParsed).toBe(true);
    expect(run.msgs[0].attachments.length).toBe(2);
    expect(d.attachmentsTruncated()).toBe(true);
    run = runDubbo(new DubboDecoder(l), frameOf(0xc2, 0, 1, requestBody("a-service-name-that-is-too-long", "m", "", NO_ARGS, att)), RANDOM, new Rng(8), true);
    expect(run.msgs[0].bodyError).toBe("hessian: string exceeds maxStringBytes");
  });
});

// Java's Hessian2Output writes a large byte[] as `A` chunks then a final `B` (specs §2.5)
function javaBytes(total: i32, piece: i32): Uint8Array {
  const w = new Writer();
  let left = total;
  while (left > 0) {
    const n = left > piece ? piece : left;
    left -= n;
    w.u8(left > 0 ? 0x41 : 0x42).u8(n >> 8).u8(n & 0xff).fill(0x5a, n);
  }
  return w.toBytes();
}

function bigRequest(arg: Uint8Array, desc: string): Uint8Array {
  const att = new Writer().u8(0x48).str("group").str("big").u8(0x5a).toBytes();
  return new Writer().raw(frameOf(0xc2, 0, 42, requestBody("org.Big", "upload", desc, arg, att))).raw(D3).toBytes();
}

describe("skipping what is not needed", () => {
  it("a 1 MiB byte[] argument (Java chunks of 32 KiB) is skipped, not fed: small windows", () => {
    const stream = bigRequest(javaBytes(1 << 20, 32768), "[B");
    const d = new DubboDecoder(new DubboLimits());
    const r = pump(d, stream, 64);
    expect(r.messages).toBe(2);
    expect(r.event).toBe(EV_MESSAGE);
    expect(r.fed).toBeLessThan(32 * 64 + 256);
    expect(r.skipped).toBeGreaterThan((1 << 20) - 32 * 64);
    expect(d.position()).toBe(<i64>stream.length);
    expect(d.atBoundary()).toBe(true);
  });

  it("with 16 KiB windows, fetchHint() keeps the copies to one window", () => {
    const stream = bigRequest(javaBytes(1 << 20, 8189), "[B"); // hessian-lite's 8 KiB buffer − 3
    const without = pump(new DubboDecoder(new DubboLimits()), stream, 16 * 1024, false);
    const d = new DubboDecoder(new DubboLimits());
    const r = pump(d, stream, 16 * 1024, true);
    expect(without.messages).toBe(2);
    expect(r.messages).toBe(2);
    expect(r.fed).toBeLessThan(16 * 1024 + 129 * 3 + 256);
    expect(without.fed).toBeGreaterThan(r.fed); // windows straddle every chunk header
    expect(d.groupLen()).toBe(0); // the heartbeat was last; the request had group "big" (checked below)
  });

  it("the metadata after a large argument is intact, in every split", () => {
    const stream = bigRequest(javaBytes(200000, 4093), "[B");
    for (let seed: u32 = 1; seed <= 4; seed++) {
      const run = runDubbo(new DubboDecoder(new DubboLimits()), stream, RANDOM, new Rng(seed), true);
      expect(run.msgs.length).toBe(2);
      expect(run.msgs[0].group).toBe("626967");
      expect(run.msgs[0].method).toBe("75706c6f6164");
      expect(run.msgs[0].bodyParsed).toBe(true);
    }
  });

  it("a 1 MiB byte[] argument in one piece is skipped after the first window", () => {
    const arg = new Writer().u8(0x42).u8(0xff).u8(0xff).fill(1, 65535).toBytes();
    const args = new Writer();
    for (let k = 0; k < 16; k++) args.raw(arg);
    const d = new DubboDecoder(new DubboLimits());
    const r = pump(d, bigRequest(args.toBytes(), "[B[B[B[B[B[B[B[B[B[B[B[B[B[B[B[B"), 64);
    expect(r.messages).toBe(2);
    expect(r.fed).toBeLessThan(16 * 64 + 256);
  });

  it("after the attachments the rest of the body is skipped (1 MiB of trailing bytes)", () => {
    const body = new Writer().raw(requestBody("s", "m", "", NO_ARGS, new Writer().u8(0x48).u8(0x5a).toBytes())).fill(0xee, 1 << 20).toBytes();
    const d = new DubboDecoder(new DubboLimits());
    const r = pump(d, new Writer().raw(frameOf(0xc2, 0, 1, body)).raw(D3).toBytes(), 16 * 1024);
    expect(r.messages).toBe(2);
    expect(r.fed).toBeLessThanOrEqual(2 * 16 * 1024);
    expect(r.skipped).toBeGreaterThan((1 << 20) - 16 * 1024);
  });

  it("a non-Hessian body (fastjson2, id 23) is skipped whole: framed, not parsed", () => {
    const body = new Writer().fill(0x7b, 1 << 20).toBytes();
    const d = new DubboDecoder(new DubboLimits());
    const r = pump(d, new Writer().raw(frameOf(0xd7, 0, 1, body)).raw(D3).toBytes(), 4096);
    expect(r.messages).toBe(2);
    expect(r.fed).toBeLessThanOrEqual(2 * 4096);
    expect(r.skipped).toBeGreaterThan((1 << 20) - 4096);
  });

  it("a large response value is skipped; a large error message is read and cut", () => {
    const value = new Writer().u8(0x94).raw(javaBytes(1 << 20, 32768)).u8(0x48).str("k").str("v").u8(0x5a).toBytes();
    const d = new DubboDecoder(new DubboLimits());
    let r = pump(d, frameOf(0x02, 20, 1, value), 64);
    expect(r.messages).toBe(1);
    expect(r.fed).toBeLessThan(32 * 64 + 128);
    expect(d.attachmentCount()).toBe(1);
    expect(d.responseFlag()).toBe(4);
    // strings have no byte length: a long error message is read; the first maxStringBytes are kept
    const msg = new Writer().u8(0x53).u8(0xff).u8(0xff).fill(0x78, 65535).toBytes();
    r = pump(d, frameOf(0x02, 70, 2, msg), 16 * 1024);
    expect(r.messages).toBe(1);
    expect(d.errorMessageLen()).toBe(4096);
    expect(d.errorMessageTruncated()).toBe(true);
    expect(hexOf(d.errorMessagePtr(), 2)).toBe("7878");
  });
});
