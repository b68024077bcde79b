// Large and deep messages and every limit of ThriftLimits (specs/protocols.md §1.9): framed bodies are
// stepped over without being fed, unframed bodies are walked (their strings skippable), nesting and
// byte budgets end in errors, and the capture caps truncate instead of failing.

import { EV_MESSAGE, EV_NEED_MORE, EV_ERROR } from "../../assembly/protocols/codec";
import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import {
  TRANSPORT_FRAMED,
  TRANSPORT_UNFRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_COMPACT,
  MSG_CALL,
  REPLY_STATUS_SUCCESS,
  REPLY_STATUS_EXCEPTION,
} from "../../assembly/protocols/thrift/types";
import { W, framedOf, pump, runThrift, PumpResult } from "./thrift-helpers";
import { Rng, BYTEWISE, RANDOM } from "./drive";

const MIB: i32 = 1024 * 1024;

/** Binary CALL with one string argument of n bytes. */
function bigBinaryCall(name: string, seq: i32, n: i32): W {
  return new W().bMsg(1, name, seq).bField(11, 1).i32(n).fill(0x61, n).u8(0);
}
function bigCompactCall(name: string, seq: i32, n: i32): W {
  return new W().cMsg(1, name, seq).u8(0x18).varint(<u64>n).fill(0x61, n).u8(0);
}
/** THeader frame around a payload, no info headers (binary protocol id 0, or compact 2). */
function headerOf(payload: W, proto: i32): W {
  const body = new W().i16(0x0fff).i16(0).i32(9).i16(1).u8(proto).u8(0).u8(0).u8(0).append(payload);
  return new W().i32(body.length).append(body);
}

/** Fed in 16 KiB windows (the filter's chunk): two windows; in 64-byte windows: only the head is fed. */
function expectSkipped(msg: Uint8Array, label: string): PumpResult {
  const r = pump(new ThriftDecoder(new ThriftLimits()), msg, 16 * 1024, true);
  expect(r.error).toBe("", label);
  expect(r.msgs.length).toBe(1, label);
  expect(r.windows).toBeLessThanOrEqual(2, label + " windows");
  expect(r.skipped).toBeGreaterThan(<i64>(msg.length - 16 * 1024 - 64), label + " skipped");
  const small = pump(new ThriftDecoder(new ThriftLimits()), msg, 64, true);
  expect(small.msgs.length).toBe(1, label);
  expect(small.fed).toBeLessThan(200, label + " fed");
  expect(small.skipped + small.fed).toBe(<i64>msg.length, label);
  expect(small.msgs[0].end).toBe(<i64>msg.length, label);
  return small;
}

describe("Thrift: large framed messages are skipped, not fed", () => {
  it("a 1 MiB framed binary argument: a few dozen bytes fed, the rest skipped", () => {
    const msg = framedOf(bigBinaryCall("upload", 5, MIB)).bytes();
    const r = expectSkipped(msg, "framed");
    expect(r.msgs[0].transport).toBe(TRANSPORT_FRAMED);
  });

  it("a 1 MiB compact argument inside THeader: skipped too", () => {
    const msg = headerOf(bigCompactCall("upload", 6, MIB), 2).bytes();
    const r = expectSkipped(msg, "header");
    expect(r.msgs[0].seqId).toBe(6);
    expect(r.msgs[0].transport).toBe(TRANSPORT_HEADER);
    expect(r.msgs[0].protocol).toBe(PROTOCOL_COMPACT);
  });

  it("a 1 MiB success REPLY: only its first field header is read", () => {
    const reply = framedOf(new W().bMsg(2, "download", 7).bField(11, 0).i32(MIB).fill(0x62, MIB).u8(0)).bytes();
    const r = expectSkipped(reply, "reply");
    expect(r.msgs[0].replyStatus).toBe(REPLY_STATUS_SUCCESS);
  });

  it("an EXCEPTION with a 1 MiB message string: walked, the string skipped, its type read", () => {
    const ex = framedOf(new W().bMsg(3, "f", 8).bField(11, 1).i32(MIB).fill(0x63, MIB).bField(8, 2).i32(6).u8(0)).bytes();
    const r = expectSkipped(ex, "exception");
    expect(r.msgs[0].replyStatus).toBe(REPLY_STATUS_EXCEPTION);
    expect(r.msgs[0].appType).toBe(6);
  });

  it("a 1 MiB framed argument fed without skipping gives the same message", () => {
    const msg = framedOf(bigBinaryCall("upload", 5, MIB)).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const r = pump(d, msg, 16 * 1024, false);
    expect(r.msgs.length).toBe(1);
    expect(r.fed).toBe(<i64>msg.length);
    expect(r.msgs[0].end).toBe(<i64>msg.length);
  });

  it("a frame of exactly maxFrameBytes (16,384,000) is accepted and skipped by length", () => {
    const head = new W().i32(16384000).bMsg(1, "big", 1).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    expect(d.feed(head.dataStart, head.length)).toBe(head.length);
    expect(d.event).toBe(EV_NEED_MORE);
    expect(d.metadataReady()).toBe(true); // routable before the body arrives
    expect(d.messageType()).toBe(MSG_CALL);
    const s = d.skippable();
    expect(s).toBe(<i64>(16384000 - 15 - 1));
    d.skip(s);
    expect(d.event).toBe(EV_NEED_MORE);
    const last = new W().u8(0).bytes();
    expect(d.feed(last.dataStart, 1)).toBe(1);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.end()).toBe(16384004);
  });
});

describe("Thrift: large unframed messages are walked", () => {
  it("a 1 MiB unframed binary argument, fed in 16 KiB windows", () => {
    const msg = bigBinaryCall("upload", 9, MIB).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const r = pump(d, msg, 16 * 1024, false);
    expect(r.error).toBe("");
    expect(r.msgs.length).toBe(1);
    expect(r.msgs[0].end).toBe(<i64>msg.length);
    expect(d.transport()).toBe(TRANSPORT_UNFRAMED);
  });

  it("a 1 MiB unframed compact argument: the string payload is skippable", () => {
    const msg = bigCompactCall("upload", 9, MIB).bytes();
    const r = expectSkipped(msg, "unframed compact");
    expect(r.msgs[0].transport).toBe(TRANSPORT_UNFRAMED);
  });

  it("a 1 MiB unframed list<i32> is walked element by element, in random splits", () => {
    const n = MIB / 4;
    const w = new W().bMsg(1, "ints", 1).bField(15, 1).u8(8).i32(n);
    for (let i = 0; i < n; i++) w.i32(i);
    const msg = w.u8(0).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const run = runThrift(d, msg, RANDOM, new Rng(42), true);
    expect(run.violations).toBe(0);
    expect(run.error).toBe("");
    expect(run.msgs.length).toBe(1);
    expect(run.msgs[0].end).toBe(<i64>msg.length);
  });

  it("a hostile list count is rejected at its header, not after 2 GiB", () => {
    const msg = new W().bMsg(1, "x", 1).bField(15, 1).u8(3).i32(0x7fffffff).fill(0, 16).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const r = pump(d, msg, 4096, true);
    expect(r.error).toBe("thrift unframed message exceeds limit");
    expect(d.position()).toBeLessThan(32);
  });

  it("maxUnframedBytes bounds a message made of many small fields", () => {
    const l = new ThriftLimits();
    l.maxUnframedBytes = 1000;
    const w = new W().bMsg(1, "x", 1);
    for (let i = 0; i < 300; i++) w.bField(3, i).u8(1);
    const d = new ThriftDecoder(l);
    const r = pump(d, w.u8(0).bytes(), 64, true);
    expect(r.error).toBe("thrift unframed message exceeds limit");
  });
});

describe("Thrift: pipelining", () => {
  it("1000 framed, 1000 unframed binary and 1000 unframed compact messages in random splits", () => {
    for (let kind = 0; kind < 3; kind++) {
      const all = new W();
      for (let i = 0; i < 1000; i++) {
        const m = kind == 2 ? new W().cMsg(1, "m" + (i % 10).toString(), i).u8(0x15).zz32(i).u8(0) : new W().bMsg(1, "m" + (i % 10).toString(), i).bField(8, 1).i32(i).u8(0);
        all.append(kind == 0 ? framedOf(m) : m);
      }
      const data = all.bytes();
      for (let seed: u32 = 1; seed <= 3; seed++) {
        const d = new ThriftDecoder(new ThriftLimits());
        const run = runThrift(d, data, RANDOM, new Rng(seed), seed == 2);
        expect(run.violations).toBe(0);
        expect(run.error).toBe("");
        expect(run.msgs.length).toBe(1000);
        let ok = true;
        for (let i = 0; i < 1000; i++) {
          const m = run.msgs[i];
          if (m.seqId != i || (i > 0 && m.start != run.msgs[i - 1].end)) ok = false;
        }
        expect(ok).toBe(true, "kind " + kind.toString());
        expect(run.msgs[999].end).toBe(<i64>data.length);
      }
    }
  });
});

/** A message whose struct nests `depth` containers of `kind` (0 struct, 1 list, 2 map, 3 set). */
function nested(compact: bool, kind: i32, depth: i32): Uint8Array {
  const w = new W();
  if (compact) w.cMsg(1, "deep", 1);
  else w.bMsg(1, "deep", 1);
  // the message struct is level 1; each further level is one field/element of the kind
  for (let level = 2; level <= depth; level++) {
    const first = level == 2;
    if (kind == 0) {
      if (compact) w.u8(0x1c);
      else w.bField(12, 1);
    } else if (kind == 1 || kind == 3) {
      const ct = compact ? (kind == 1 ? 9 : 10) : kind == 1 ? 15 : 14;
      if (first) {
        if (compact) w.u8(0x10 | ct);
        else w.bField(ct, 1);
      }
      if (level < depth) {
        if (compact) w.cList(ct, 1);
        else w.u8(ct).i32(1);
      } else {
        if (compact) w.cList(5, 1).zz32(1);
        else w.u8(8).i32(1).i32(1);
      }
    } else {
      if (first) {
        if (compact) w.u8(0x1b);
        else w.bField(13, 1);
      }
      if (level < depth) {
        if (compact) w.varint(1).u8(0x3b).u8(1); // map<i8, map>: key 1
        else w.u8(3).u8(13).i32(1).u8(1);
      } else {
        if (compact) w.varint(1).u8(0x35).u8(1).zz32(1);
        else w.u8(3).u8(8).i32(1).u8(1).i32(1);
      }
    }
  }
  // close the structs
  if (kind == 0) for (let level = 2; level <= depth; level++) w.u8(0);
  return w.u8(0).bytes();
}

describe("Thrift: nesting depth", () => {
  it("64 levels pass and 65 fail, for every container kind, binary and compact", () => {
    for (let c = 0; c < 2; c++) {
      for (let kind = 0; kind < 4; kind++) {
        const label = (c == 1 ? "compact" : "binary") + " kind " + kind.toString();
        const okMsg = nested(c == 1, kind, 64);
        const d = new ThriftDecoder(new ThriftLimits());
        const run = runThrift(d, okMsg, BYTEWISE, new Rng(1), false);
        expect(run.error).toBe("", label + " at 64");
        expect(run.msgs.length).toBe(1, label + " at 64");
        expect(run.msgs.length > 0 && run.msgs[0].end == <i64>okMsg.length).toBe(true, label + " end");
        const bad = nested(c == 1, kind, 65);
        const d2 = new ThriftDecoder(new ThriftLimits());
        const run2 = runThrift(d2, bad, RANDOM, new Rng(3), true);
        expect(run2.error).toBe("thrift nesting exceeds limit", label + " at 65");
      }
    }
  });

  it("a smaller maxDepth is honoured and a larger one is capped by what the constructor allocated", () => {
    const l = new ThriftLimits();
    l.maxDepth = 10;
    const d = new ThriftDecoder(l);
    const r = pump(d, nested(false, 0, 11), 7, false);
    expect(r.error).toBe("thrift nesting exceeds limit");
    l.maxDepth = 1000; // the stack was sized for 10
    d.reset();
    const r2 = pump(d, nested(false, 0, 11), 7, false);
    expect(r2.error).toBe("thrift nesting exceeds limit");
    d.reset();
    const r3 = pump(d, nested(false, 0, 10), 7, false);
    expect(r3.error).toBe("");
    expect(r3.msgs.length).toBe(1);
  });
});

describe("Thrift: capture caps", () => {
  it("a 1000-byte name keeps maxNameBytes, its tail is skippable", () => {
    let name = "Svc:";
    while (name.length < 1000) name += "x";
    const msg = framedOf(new W().bMsg(1, name, 3).u8(0)).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const r = pump(d, msg, 64, true);
    expect(r.msgs.length).toBe(1);
    expect(d.nameLen()).toBe(256);
    expect(d.nameTruncated()).toBe(true);
    expect(d.serviceLen()).toBe(3);
    expect(d.methodLen()).toBe(252);
    expect(d.seqId()).toBe(3);
    expect(r.skipped).toBeGreaterThan(600);
  });

  it("100 THeader info headers: 64 kept, truncated flagged, values of 500 bytes grow the store", () => {
    const info = new W().u8(0).u8(0).u8(1).varint(100);
    for (let i = 0; i < 100; i++) {
      const k = "k" + i.toString();
      info.varint(<u64>k.length).ascii(k).varint(500).fill(0x30 + (i % 10), 500);
    }
    while (info.length % 4 != 0) info.u8(0);
    const payload = new W().bMsg(1, "h", 1).u8(0);
    const body = new W().i16(0x0fff).i16(0).i32(1).i16(info.length / 4).append(info).append(payload);
    const msg = new W().i32(body.length).append(body).bytes();
    const d = new ThriftDecoder(new ThriftLimits());
    const r = pump(d, msg, 1000, true);
    expect(r.error).toBe("");
    expect(r.msgs.length).toBe(1);
    expect(d.headerCount()).toBe(64);
    expect(d.headersTruncated()).toBe(true);
    expect(d.headerKeyLen(63)).toBe(3);
    expect(d.headerValueLen(63)).toBe(500);
    expect(load<u8>(d.headerValuePtr(63) + 499)).toBe(<u8>(0x30 + 3));
    expect(load<u8>(d.headerKeyPtr(10) + 2)).toBe(<u8>0x30);
    // a second identical frame reuses the grown store
    const d2 = new ThriftDecoder(new ThriftLimits());
    const twice = new W();
    for (let i = 0; i < msg.length; i++) twice.u8(msg[i]);
    for (let i = 0; i < msg.length; i++) twice.u8(msg[i]);
    const r2 = pump(d2, twice.bytes(), 333, false);
    expect(r2.msgs.length).toBe(2);
    expect(r2.msgs[1].headers.length).toBe(128);
  });

  it("limits can be tightened between messages (read when checked)", () => {
    const l = new ThriftLimits();
    const d = new ThriftDecoder(l);
    const one = framedOf(new W().bMsg(1, "a", 1).u8(0)).bytes();
    expect(pump(d, one, 100, false).msgs.length).toBe(1);
    l.maxFrameBytes = 4;
    expect(pump(d, one, 100, false).error).toBe("invalid thrift framed transport frame size");
  });
});
