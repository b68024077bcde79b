// The Thrift decoder's fast paths against its byte-at-a-time machines. Fed whole, a framed or THeader
// message takes the fast paths (the 4-byte frame length, the 2 bytes after it on a THeader
// connection, THeader's flags/sequence/header size, the whole message header); fed byte by byte it
// never can. Cut once at every position – inside the length, the magic, the fixed THeader fields,
// the version word, the name length, the name, the seqid and its varints – one side of the cut takes
// a fast path and the other does not. Fed both ways (two windows, or the prefix byte by byte and the
// rest whole), with and without skipping, every cut must give what the whole window gives: messages,
// metadata, offsets, errors and where they stop.

import { EV_MESSAGE, EV_ERROR, EV_NEED_MORE } from "../../assembly/protocols/codec";
import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import { MSG_CALL, MSG_REPLY, MSG_EXCEPTION, MSG_ONEWAY } from "../../assembly/protocols/thrift/types";
import { W, framedOf, snap, describeGot } from "./thrift-helpers";

class Lim {
  lax: bool = false;
  maxFrameBytes: i64 = -1;
  maxNameBytes: i32 = -1;
  maxUnframedBytes: i64 = -1;
  maxHeaderBytes: i32 = -1;
}

function limitsOf(l: Lim): ThriftLimits {
  const t = new ThriftLimits();
  t.laxBinaryUnframed = l.lax;
  if (l.maxFrameBytes >= 0) t.maxFrameBytes = l.maxFrameBytes;
  if (l.maxNameBytes >= 0) t.maxNameBytes = l.maxNameBytes;
  if (l.maxUnframedBytes >= 0) t.maxUnframedBytes = l.maxUnframedBytes;
  if (l.maxHeaderBytes >= 0) t.maxHeaderBytes = l.maxHeaderBytes;
  return t;
}

/**
 * Feeds data[from, to) as one window (byte by byte when `bytewise`), skipping everything skippable()
 * allows when `useSkip`. Appends to `out`; returns false once the decoder stopped (error) or broke
 * the feed contract.
 */
function window(d: ThriftDecoder, data: Uint8Array, from: i32, to: i32, bytewise: bool, useSkip: bool, out: string[]): bool {
  const base = data.dataStart;
  let off = from;
  while (off < to) {
    if (useSkip) {
      const s = d.skippable();
      if (s > 0) {
        const k = s < <i64>(to - off) ? <i32>s : to - off;
        d.skip(k);
        off += k;
        if (d.event != EV_NEED_MORE) {
          out.push("violation: skip ended a token");
          return false;
        }
        continue;
      }
    }
    const end = bytewise ? off + 1 : to;
    const c = d.feed(base + <usize>off, end - off);
    if (c < 0 || c > end - off) {
      out.push("violation: feed returned " + c.toString());
      return false;
    }
    off += c;
    if (d.event == EV_MESSAGE) {
      const m = snap(d);
      if (m.end != d.position()) out.push("violation: end " + m.end.toString() + " position " + d.position().toString());
      out.push(describeGot(m) + " name " + m.name + " lax " + (m.lax ? "1" : "0") + " hseq " + m.headerSeq.toString() + " hflags " + m.headerFlags.toString() + " hdrs " + m.headers.join(","));
    } else if (d.event == EV_ERROR) {
      out.push("error '" + d.errorReason() + "' at " + d.position().toString());
      return false;
    } else if (off != end || c == 0) {
      out.push("violation: need-more without consuming the window");
      return false;
    }
  }
  return true;
}

/** cut < 0: one window. Otherwise [0, cut) then [cut, n), the prefix byte by byte when bytewise. */
function decode(data: Uint8Array, l: Lim, cut: i32, bytewise: bool, useSkip: bool): string {
  const d = new ThriftDecoder(limitsOf(l));
  const out: string[] = [];
  const n = data.length;
  let ok = true;
  if (cut < 0) ok = window(d, data, 0, n, false, useSkip, out);
  else {
    ok = window(d, data, 0, cut, bytewise, useSkip, out);
    if (ok) ok = window(d, data, cut, n, false, useSkip, out);
  }
  if (ok) out.push("end at " + d.position().toString() + " boundary " + (d.atBoundary() ? "yes" : "no"));
  out.push("transport " + d.transport().toString() + " protocol " + d.protocol().toString());
  return out.join("\n");
}

/** Every cut, both ways, with and without skipping, equals the whole window. */
function checkCuts(label: string, data: Uint8Array, l: Lim, wantMessages: i32, wantError: string): void {
  const whole = decode(data, l, -1, false, false);
  // the reference itself: the expected count of messages and the expected error
  let msgs = 0;
  const lines = whole.split("\n");
  for (let i = 0; i < lines.length; i++) if (lines[i].startsWith("#") || lines[i].indexOf(" [") > 0) msgs++;
  expect(msgs).toBe(wantMessages, label + " messages, whole:\n" + whole);
  if (wantError.length > 0) expect(whole.indexOf("error '" + wantError + "'")).toBeGreaterThanOrEqual(0, label + " error, whole:\n" + whole);
  else expect(whole.indexOf("error")).toBe(-1, label + " no error, whole:\n" + whole);
  expect(whole.indexOf("violation")).toBe(-1, label + " violations:\n" + whole);
  expect(decode(data, l, -1, false, true)).toBe(whole, label + " whole with skip");
  for (let k = 0; k <= data.length; k++) {
    for (let way = 0; way < 4; way++) {
      const bytewise = (way & 1) != 0;
      const useSkip = (way & 2) != 0;
      const got = decode(data, l, k, bytewise, useSkip);
      expect(got).toBe(whole, label + " cut " + k.toString() + (bytewise ? " bytewise prefix" : " two windows") + (useSkip ? " skip" : ""));
    }
  }
}

function noLimits(): Lim {
  return new Lim();
}

// ---- message builders -----------------------------------------------------------------------------

/** A binary body: `{1: i32 v}` for calls, `{0: i32 v}` (success) or `{1: struct{}}` (declared error) for replies. */
function bBody(w: W, type: i32, declared: bool): W {
  if (type == MSG_REPLY && declared) return w.bField(12, 1).u8(0).u8(0);
  if (type == MSG_EXCEPTION) return w.bField(11, 1).i32(3).ascii("bad").bField(8, 2).i32(6).u8(0);
  return w.bField(8, type == MSG_REPLY ? 0 : 1).i32(42).u8(0);
}

function cBody(w: W, type: i32, declared: bool): W {
  if (type == MSG_REPLY && declared) return w.u8(0x1c).u8(0).u8(0); // field 1 struct {}, STOP
  if (type == MSG_EXCEPTION) return w.u8(0x18).varint(3).ascii("bad").u8(0x15).zz32(6).u8(0);
  if (type == MSG_REPLY) return w.cField(5, 0).zz32(42).u8(0);
  return w.u8(0x15).zz32(42).u8(0);
}

function bMsg(type: i32, name: string, seq: i32, declared: bool = false): W {
  return bBody(new W().bMsg(type, name, seq), type, declared);
}

function cMsg(type: i32, name: string, seq: i32, declared: bool = false): W {
  return cBody(new W().cMsg(type, name, seq), type, declared);
}

/** Non-strict binary: len | name | type | seqid. */
function laxMsg(type: i32, name: string, seq: i32): W {
  return bBody(new W().i32(name.length).ascii(name).u8(type).i32(seq), type, false);
}

/** A THeader frame around `payload`: protocol id, no transforms, one KEYVALUE block, padding. */
function theader(payload: W, proto: i32, flags: i32, seq: i32, key: string, value: string): W {
  const h = new W().varint(<u64>proto).varint(0);
  if (key.length > 0) h.varint(1).varint(1).varint(<u64>key.length).ascii(key).varint(<u64>value.length).ascii(value);
  while ((h.length & 3) != 0) h.u8(0);
  const inner = new W().i16(0x0fff).i16(flags).i32(seq).i16(h.length >> 2).append(h).append(payload);
  return framedOf(inner);
}

describe("thrift fast paths: framed binary", () => {
  it("calls, replies, exceptions and oneways cut at every byte", () => {
    const s = new W()
      .append(framedOf(bMsg(MSG_CALL, "Calc:add", 7)))
      .append(framedOf(bMsg(MSG_REPLY, "add", 7)))
      .append(framedOf(bMsg(MSG_REPLY, "add", -2, true)))
      .append(framedOf(bMsg(MSG_EXCEPTION, "x", 0x7fffffff)))
      .append(framedOf(bMsg(MSG_ONEWAY, "", 1)))
      .append(framedOf(new W().bMsg(MSG_REPLY, "void", 2).u8(0))) // a void reply: STOP first
      .append(framedOf(new W().bMsg(MSG_REPLY, "neg", 3).bField(8, -1).i32(0).u8(0)));
    checkCuts("framed binary", s.bytes(), noLimits(), 7, "");
  });
  it("a name longer than kept is truncated the same way", () => {
    const l = noLimits();
    l.maxNameBytes = 4;
    const s = new W().append(framedOf(bMsg(MSG_CALL, "Svc:method", 3))).append(framedOf(bMsg(MSG_CALL, "abcd", 4)));
    checkCuts("framed binary truncated", s.bytes(), l, 2, "");
  });
  it("a header that fills the frame exactly, and a frame at maxFrameBytes", () => {
    const l = noLimits();
    const call = new W().bMsg(MSG_CALL, "ab", 9); // no body: the header is the whole frame
    l.maxFrameBytes = call.length;
    checkCuts("framed binary header only", new W().append(framedOf(call)).append(framedOf(call)).bytes(), l, 2, "");
  });
  it("errors stop at the same byte", () => {
    const l = noLimits();
    checkCuts("bad version", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(20).hex("80020001").i32(1).ascii("a").i32(1).fill(0, 8).bytes(), l, 1, "invalid binary protocol version");
    checkCuts("bad type", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(20).hex("80010005").i32(1).ascii("a").i32(1).fill(0, 8).bytes(), l, 1, "invalid binary protocol message type");
    checkCuts("negative name", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(20).hex("80010001").i32(-1).fill(0, 12).bytes(), l, 1, "negative binary protocol message name length");
    checkCuts("name past frame", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(14).hex("80010001").i32(5).ascii("abcde").i32(1).bytes(), l, 1, "thrift message exceeds frame");
    checkCuts("seqid past frame", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(10).hex("80010001").i32(1).ascii("a").i32(1).bytes(), l, 1, "thrift message exceeds frame");
    checkCuts("zero frame", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(0).fill(0, 20).bytes(), l, 1, "invalid thrift framed transport frame size");
    checkCuts("negative frame", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(-5).fill(0, 20).bytes(), l, 1, "invalid thrift framed transport frame size");
    const small = noLimits();
    small.maxFrameBytes = 30;
    checkCuts("frame over limit", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).i32(31).fill(0, 31).bytes(), small, 1, "invalid thrift framed transport frame size");
    checkCuts("reply with a bad field type", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).append(framedOf(new W().bMsg(MSG_REPLY, "a", 1).u8(7).fill(0, 4))).bytes(), l, 1, "unknown field type");
    checkCuts("reply field header past frame", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).append(framedOf(new W().bMsg(MSG_REPLY, "a", 1).u8(8).u8(0))).bytes(), l, 1, "thrift message exceeds frame");
    checkCuts("reply with no body", new W().append(framedOf(bMsg(MSG_CALL, "a", 1))).append(framedOf(new W().bMsg(MSG_REPLY, "a", 1))).bytes(), l, 1, "thrift message exceeds frame");
  });
});

describe("thrift fast paths: framed compact", () => {
  it("calls and replies with every varint size cut at every byte", () => {
    const s = new W()
      .append(framedOf(cMsg(MSG_CALL, "Calc:add", 7)))
      .append(framedOf(cMsg(MSG_REPLY, "add", 300)))
      .append(framedOf(cMsg(MSG_REPLY, "add", -1, true))) // seqid: a 5-byte varint
      .append(framedOf(cMsg(MSG_EXCEPTION, "x", 0x10000)))
      .append(framedOf(cMsg(MSG_ONEWAY, "", 0)))
      .append(framedOf(cMsg(MSG_CALL, "n".repeat(200), 5))) // name length: a 2-byte varint
      .append(framedOf(new W().cMsg(MSG_REPLY, "void", 2).u8(0))) // a void reply: STOP first
      .append(framedOf(new W().cMsg(MSG_REPLY, "big", 3).cField(5, 300).zz32(1).u8(0))) // long-form id, 2-byte varint
      .append(framedOf(new W().cMsg(MSG_REPLY, "neg", 4).cField(5, -32768).zz32(1).u8(0)));
    checkCuts("framed compact", s.bytes(), noLimits(), 9, "");
  });
  it("errors stop at the same byte", () => {
    const l = noLimits();
    const ok = framedOf(cMsg(MSG_CALL, "a", 1));
    checkCuts("bad id", new W().append(ok).i32(10).hex("8121").fill(0, 8).bytes(), l, 1, "invalid compact protocol version");
    checkCuts("bad version", new W().append(ok).i32(10).hex("8222").fill(0, 8).bytes(), l, 1, "invalid compact protocol version");
    checkCuts("bad type", new W().append(ok).i32(10).hex("82a1").fill(0, 8).bytes(), l, 1, "invalid compact protocol message type");
    checkCuts("long seqid", new W().append(ok).i32(12).hex("8221ffffffffff01").fill(0, 4).bytes(), l, 1, "invalid compact protocol varint i32");
    checkCuts("long name length", new W().append(ok).i32(12).hex("822101ffffffffff").fill(0, 4).bytes(), l, 1, "invalid compact protocol varint i32");
    checkCuts("negative name", new W().append(ok).i32(12).hex("822101ffffffff0f").fill(0, 4).bytes(), l, 1, "negative compact protocol message name length");
    checkCuts("reply with a bad field type", new W().append(ok).append(framedOf(new W().cMsg(MSG_REPLY, "a", 1).u8(0x0e).fill(0, 4))).bytes(), l, 1, "unknown compact protocol field type");
    checkCuts("reply field id out of range", new W().append(ok).append(framedOf(new W().cMsg(MSG_REPLY, "a", 1).u8(5).zz32(40000).fill(0, 4))).bytes(), l, 1, "invalid compact protocol field id");
    checkCuts("reply field id too long", new W().append(ok).append(framedOf(new W().cMsg(MSG_REPLY, "a", 1).u8(5).hex("ffffffffff01").fill(0, 4))).bytes(), l, 1, "invalid compact protocol zig-zag i32");
    checkCuts("reply field header past frame", new W().append(ok).append(framedOf(new W().cMsg(MSG_REPLY, "a", 1).u8(5).u8(0x80))).bytes(), l, 1, "thrift message exceeds frame");
    checkCuts("name past frame", new W().append(ok).i32(6).hex("82210105").ascii("ab").bytes(), l, 1, "thrift message exceeds frame");
  });
});

describe("thrift fast paths: unframed", () => {
  it("strict binary", () => {
    const s = new W().append(bMsg(MSG_CALL, "Calc:add", 7)).append(bMsg(MSG_ONEWAY, "", -7)).append(bMsg(MSG_CALL, "x", 1));
    checkCuts("unframed binary", s.bytes(), noLimits(), 3, "");
  });
  it("non-strict binary where allowed", () => {
    const l = noLimits();
    l.lax = true;
    const s = new W().append(laxMsg(MSG_CALL, "Calc:add", 7)).append(bMsg(MSG_CALL, "strict", 8)).append(laxMsg(MSG_ONEWAY, "", 9));
    checkCuts("unframed lax", s.bytes(), l, 3, "");
    checkCuts("unframed lax bad type", new W().append(laxMsg(MSG_CALL, "ab", 1)).i32(2).ascii("ab").u8(9).i32(1).u8(0).bytes(), l, 1, "invalid binary protocol message type");
  });
  it("compact, and the unframed budget at its edge", () => {
    const s = new W().append(cMsg(MSG_CALL, "Calc:add", 7)).append(cMsg(MSG_CALL, "", -1));
    checkCuts("unframed compact", s.bytes(), noLimits(), 2, "");
    const l = noLimits();
    const one = bMsg(MSG_CALL, "abc", 1);
    l.maxUnframedBytes = one.length;
    checkCuts("unframed budget exact", new W().append(one).append(one).bytes(), l, 2, "");
    l.maxUnframedBytes = 12; // the header is 15 bytes
    checkCuts("unframed budget in header", one.bytes(), l, 0, "thrift unframed message exceeds limit");
  });
});

describe("thrift fast paths: THeader", () => {
  it("THeader frames, framed and bare messages on a THeader connection", () => {
    const s = new W()
      .append(theader(bMsg(MSG_CALL, "Calc:add", 7), 0, 1, 0x01020304, "k", "val"))
      .append(theader(cMsg(MSG_REPLY, "add", 7), 2, 0, -1, "", ""))
      .append(framedOf(bMsg(MSG_CALL, "framed", 8)))
      .append(framedOf(cMsg(MSG_CALL, "fc", 9)))
      .append(bMsg(MSG_CALL, "bare", 10))
      .append(cMsg(MSG_ONEWAY, "barec", 11))
      .append(theader(bMsg(MSG_EXCEPTION, "e", 12), 0, 0xffff, 5, "key", ""));
    checkCuts("theader", s.bytes(), noLimits(), 7, "");
  });
  it("errors stop at the same byte", () => {
    const l = noLimits();
    const ok = theader(bMsg(MSG_CALL, "a", 1), 0, 0, 1, "", "");
    checkCuts("no header data", new W().append(ok).i32(20).i16(0x0fff).i16(0).i32(1).i16(0).fill(0, 10).bytes(), l, 1, "thrift header transport has no header data");
    checkCuts("header data past frame", new W().append(ok).i32(20).i16(0x0fff).i16(0).i32(1).i16(8).fill(0, 10).bytes(), l, 1, "invalid thrift header transport header size");
    const hb = noLimits();
    hb.maxHeaderBytes = 4;
    checkCuts("header data over limit", new W().append(ok).i32(30).i16(0x0fff).i16(0).i32(1).i16(2).fill(0, 20).bytes(), hb, 1, "invalid thrift header transport header size");
    checkCuts("small frame", new W().append(ok).i32(13).i16(0x0fff).fill(0, 11).bytes(), l, 1, "invalid thrift header transport frame size");
    checkCuts("bad magic", new W().append(ok).i32(20).i16(0x1234).fill(0, 18).bytes(), l, 1, "invalid thrift header transport magic");
    checkCuts("negative length", new W().append(ok).i32(-20).fill(0, 18).bytes(), l, 1, "invalid thrift header transport frame size");
    checkCuts("framed past frame", new W().append(ok).i32(1).hex("8001").fill(0, 10).bytes(), l, 1, "thrift message exceeds frame");
  });
});
