// RedisReplyDecoder beyond the captured vectors: skipping large payloads, metadata captures (error
// word, head, last integer), attributes and pushes, streamed types, offsets, every limit, sticky
// errors and reset.

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { ascii, text, RepMsg, runReplies } from "./helpers";
import { Rng, Run, WHOLE, BYTEWISE, RANDOM } from "./drive";

function decodeAll(s: string, limits: RedisLimits = new RedisLimits(), mode: i32 = WHOLE): Run<RepMsg> {
  return runReplies(new RedisReplyDecoder(limits), ascii(s), mode, new Rng(11), false);
}

function one(s: string, limits: RedisLimits = new RedisLimits()): RepMsg {
  const r = decodeAll(s, limits);
  expect(r.error).toBe("", s);
  expect(r.msgs.length).toBe(1, s);
  return r.msgs[0];
}

function errorOf(s: string, limits: RedisLimits = new RedisLimits()): string {
  const whole = decodeAll(s, limits, WHOLE).error;
  expect(decodeAll(s, limits, BYTEWISE).error).toBe(whole, s);
  expect(decodeAll(s, limits, RANDOM).error).toBe(whole, s);
  return whole;
}

describe("reply metadata", () => {
  it("error word of '-' and '!' replies, at most 32 bytes", () => {
    expect(one("-MOVED 3999 127.0.0.1:6381\r\n").error).toBe("MOVED");
    expect(one("-ERR\r\n").error).toBe("ERR");
    expect(one("!21\r\nSYNTAX invalid syntax\r\n").error).toBe("SYNTAX");
    const long = "E".repeat(40);
    expect(one("-" + long + " text\r\n").error).toBe(long.substring(0, 32));
    expect(one("!40\r\n" + long + "\r\n").error).toBe(long.substring(0, 32));
    const nested = one("*1\r\n-ERR inside\r\n");
    expect(nested.isError).toBe(false);
    expect(nested.error).toBe("");
  });

  it("head: first string element of a top-level array/push, lower-cased, at most 16 bytes", () => {
    expect(one("*3\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n:1\r\n").head).toBe("subscribe");
    expect(one("*2\r\n+PONG\r\n$0\r\n\r\n").head).toBe("pong");
    expect(one("*1\r\n$20\r\nABCDEFGHIJKLMNOPQRST\r\n").head).toBe("abcdefghijklmnop");
    expect(one("*2\r\n:1\r\n$7\r\nmessage\r\n").head).toBe("");
    expect(one("*1\r\n*1\r\n$7\r\nmessage\r\n").head).toBe("");
    expect(one("~1\r\n$3\r\nabc\r\n").head).toBe("");
    expect(one("*2\r\n|1\r\n+k\r\n+v\r\n$3\r\nABC\r\n:5\r\n").head).toBe("abc"); // attribute skipped
    expect(one("+1700000000.123456 [0 127.0.0.1:6379] \"GET\"\r\n").head).toBe("1700000000.12345");
    expect(one("+QUEUED\r\n").head).toBe("QUEUED");
    expect(one("$5\r\nHELLO\r\n").head).toBe("");
  });

  it("last integer directly inside the top-level aggregate", () => {
    const m = one("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    expect(m.hasLastInt).toBe(true);
    expect(m.lastInt).toBe(0);
    const n = one("*2\r\n:5\r\n*1\r\n:9\r\n");
    expect(n.lastInt).toBe(5); // :9 is nested deeper
    expect(one(":7\r\n").hasLastInt).toBe(false);
    expect(one("|1\r\n:1\r\n:2\r\n$1\r\nx\r\n").hasLastInt).toBe(false); // attribute contents do not count
    expect(one("*1\r\n:-9223372036854775808\r\n").lastInt).toBe(i64.MIN_VALUE);
  });

  it("types, null and push flags", () => {
    expect(one("_\r\n").isNull).toBe(true);
    expect(one("*-1\r\n").isNull).toBe(true);
    expect(one("$-1\r\n").isNull).toBe(true);
    expect(one("$0\r\n\r\n").isNull).toBe(false);
    const p = one(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
    expect(p.push).toBe(true);
    expect(p.type).toBe(">");
    const a = one("|1\r\n+ttl\r\n:3600\r\n>1\r\n+x\r\n");
    expect(a.type).toBe(">");
    expect(a.start).toBe(0); // the attribute belongs to the value
  });

  it("offsets of pipelined replies are contiguous; an attribute starts its value", () => {
    const s = "+OK\r\n|0\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n";
    const r = decodeAll(s);
    expect(r.msgs.length).toBe(3);
    expect(r.msgs[0].start).toBe(0);
    expect(r.msgs[0].end).toBe(5);
    expect(r.msgs[1].start).toBe(5);
    expect(r.msgs[1].end).toBe(13);
    expect(r.msgs[2].start).toBe(13);
    expect(r.msgs[2].end).toBe(<i64>s.length);
  });

  it("doubles: inf/infinity/nan in any case and sign, exponents, 64 characters", () => {
    const ok = [",INF\r\n", ",-Infinity\r\n", ",+nan\r\n", ",1.\r\n", ",1e10\r\n", ",-0.0E+5\r\n", ",1" + "0".repeat(63) + "\r\n"];
    for (let i = 0; i < ok.length; i++) expect(errorOf(ok[i])).toBe("", ok[i]);
    const bad = [",\r\n", ",.\r\n", ",e5\r\n", ",1e\r\n", ",1e+\r\n", ",+-1\r\n", ",infx\r\n", ",nana\r\n", ",1.2.3\r\n", ",in\r\n"];
    for (let i = 0; i < bad.length; i++) expect(errorOf(bad[i])).toBe("invalid double value", bad[i]);
  });
});

describe("skipping large payloads", () => {
  it("skips a 1 MiB bulk reply without feeding it", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    const head = ascii("$1048576\r\n");
    expect(d.feed(head.dataStart, head.length)).toBe(head.length);
    expect(d.skippable()).toBe(1048576);
    d.skip(1048576);
    expect(d.event).toBe(EV_NEED_MORE);
    const tail = ascii("\r\n");
    expect(d.feed(tail.dataStart, 2)).toBe(2);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.type()).toBe(0x24);
    expect(d.end()).toBe(1048576 + 12);
  });

  it("skips a 1 MiB message payload inside a push after its head is captured", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    const head = ascii(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1048576\r\n");
    d.feed(head.dataStart, head.length);
    expect(d.skippable()).toBe(1048576);
    d.skip(524288);
    d.skip(524288);
    const tail = ascii("\r\n");
    d.feed(tail.dataStart, 2);
    expect(d.event).toBe(EV_MESSAGE);
    expect(text(d.headPtr(), d.headLen())).toBe("message");
  });

  it("a head element is skippable after 16 bytes, an error word after the first space", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    const head = ascii("*1\r\n$100\r\n0123456789abcdefXYZ");
    d.feed(head.dataStart, 10 + 15);
    expect(d.skippable()).toBe(0);
    d.feed(head.dataStart + 25, 1);
    expect(d.skippable()).toBe(84);
    const e = new RedisReplyDecoder(new RedisLimits());
    const eb = ascii("!100\r\nWRONG ");
    e.feed(eb.dataStart, eb.length - 1);
    expect(e.skippable()).toBe(0);
    e.feed(eb.dataStart + eb.length - 1, 1);
    expect(e.skippable()).toBe(94);
  });

  it("streamed string chunks are skippable", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    const a = ascii("$?\r\n;1000\r\n");
    d.feed(a.dataStart, a.length);
    expect(d.skippable()).toBe(1000);
    d.skip(1000);
    const b = ascii("\r\n;0\r\n");
    d.feed(b.dataStart, b.length);
    expect(d.event).toBe(EV_MESSAGE);
  });

  it("gives identical results with random skipping", () => {
    let s = "";
    for (let i = 0; i < 30; i++) {
      s += "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$" + (700 + i).toString() + "\r\n" + "p".repeat(700 + i) + "\r\n";
      s += "!" + (300 + i).toString() + "\r\nERR " + "e".repeat(296 + i) + "\r\n";
    }
    const plain = decodeAll(s);
    expect(plain.msgs.length).toBe(60);
    for (let seed: u32 = 1; seed < 6; seed++) {
      const r = runReplies(new RedisReplyDecoder(new RedisLimits()), ascii(s), RANDOM, new Rng(seed), true);
      expect(r.error).toBe("");
      expect(r.skipped > 0).toBe(true);
      expect(r.msgs.length).toBe(60);
      for (let i = 0; i < 60; i++) {
        expect(r.msgs[i].head).toBe(plain.msgs[i].head);
        expect(r.msgs[i].error).toBe(plain.msgs[i].error);
        expect(r.msgs[i].end).toBe(plain.msgs[i].end);
      }
    }
  });

  it("rejects skipping outside a payload", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    d.skip(1);
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("invalid skip");
  });
});

describe("reply limits and errors", () => {
  it("maxBulkBytes for $ ! = payloads, simple strings and streamed totals", () => {
    const limits = new RedisLimits();
    limits.maxBulkBytes = 8;
    expect(errorOf("$8\r\n12345678\r\n", limits)).toBe("");
    expect(errorOf("$9\r\n", limits)).toBe("bulk string length exceeds maximum");
    expect(errorOf("!9\r\n", limits)).toBe("bulk string length exceeds maximum");
    expect(errorOf("=9\r\n", limits)).toBe("bulk string length exceeds maximum");
    expect(errorOf("+12345678\r\n", limits)).toBe("");
    expect(errorOf("+123456789\r\n", limits)).toBe("simple string too long");
    expect(errorOf("$?\r\n;5\r\n12345\r\n;3\r\n123\r\n;0\r\n", limits)).toBe("");
    expect(errorOf("$?\r\n;5\r\n12345\r\n;4\r\n", limits)).toBe("bulk string length exceeds maximum");
  });

  it("maxElements and maxTotalElements, also for streamed aggregates", () => {
    const limits = new RedisLimits();
    limits.maxElements = 4;
    limits.maxTotalElements = 6;
    expect(errorOf("*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", limits)).toBe("");
    expect(errorOf("*5\r\n", limits)).toBe("element count exceeds maximum");
    expect(errorOf("%2\r\n", limits)).toBe("");
    expect(errorOf("%3\r\n", limits)).toBe("element count exceeds maximum");
    expect(errorOf("|3\r\n", limits)).toBe("element count exceeds maximum");
    expect(errorOf("*2\r\n*4\r\n", limits)).toBe("");
    expect(errorOf("*2\r\n*4\r\n:1\r\n:1\r\n:1\r\n:1\r\n*1\r\n", limits)).toBe("total element count exceeds maximum");
    expect(errorOf("*?\r\n:1\r\n:2\r\n:3\r\n:4\r\n.\r\n", limits)).toBe("");
    expect(errorOf("*?\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n", limits)).toBe("element count exceeds maximum");
    // the total is per root value
    expect(errorOf("*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", limits)).toBe("");
  });

  it("maxDepth: maxDepth-1 open aggregates, a leaf at depth maxDepth", () => {
    const limits = new RedisLimits();
    limits.maxDepth = 3;
    expect(errorOf("*1\r\n*1\r\n:1\r\n", limits)).toBe("");
    expect(errorOf("*1\r\n*1\r\n*1\r\n", limits)).toBe("nesting depth exceeds maximum");
    expect(errorOf("*1\r\n*1\r\n*0\r\n", limits)).toBe(""); // an empty aggregate opens nothing
    expect(errorOf("*1\r\n|1\r\n+a\r\n+b\r\n:1\r\n", limits)).toBe("");
    expect(errorOf("*1\r\n*1\r\n|1\r\n", limits)).toBe("nesting depth exceeds maximum");
  });

  it("maxConsecutiveAttributes, counted per value position", () => {
    const limits = new RedisLimits();
    limits.maxConsecutiveAttributes = 2;
    expect(errorOf("|0\r\n|0\r\n+OK\r\n|0\r\n|0\r\n+OK\r\n", limits)).toBe("");
    expect(errorOf("|0\r\n|0\r\n|0\r\n+OK\r\n", limits)).toBe("too many consecutive RESP3 attributes");
    expect(errorOf("*2\r\n|0\r\n|0\r\n:1\r\n|0\r\n|0\r\n:2\r\n", limits)).toBe("");
    // attributes nested inside an attribute's values count at their own position
    expect(errorOf("|1\r\n|0\r\n|0\r\n+k\r\n+v\r\n|0\r\n+OK\r\n", limits)).toBe("");
  });

  it("maxLineBytes for integer lines", () => {
    const limits = new RedisLimits();
    limits.maxLineBytes = 8;
    expect(errorOf(":00000001\r\n", limits)).toBe("");
    expect(errorOf(":000000001\r\n", limits)).toBe("integer line too long");
  });

  it("framing errors", () => {
    expect(errorOf("_x\r\n")).toBe("expected carriage return");
    expect(errorOf("#t\r\r")).toBe("expected new line");
    expect(errorOf("#tt\r\n")).toBe("invalid boolean value");
    expect(errorOf("#\r\n")).toBe("invalid boolean value");
    expect(errorOf("+OK\rX")).toBe("expected new line");
    expect(errorOf(":+5\r\n")).toBe("");
    expect(errorOf("*+5\r\n")).toBe("invalid integer character");
    expect(errorOf("$?x\r\n")).toBe("invalid integer character");
    expect(errorOf(">?\r\n")).toBe("invalid integer character");
    expect(errorOf("=3\r\n")).toBe("invalid verbatim string value");
    expect(errorOf("*?\r\n|0\r\n.\r\n")).toBe("invalid value type"); // attribute before the end marker
    expect(errorOf("$?\r\n;-1\r\n")).toBe("invalid negative length");
    expect(errorOf("\r\n")).toBe("invalid value type");
  });

  it("stays in error until reset", () => {
    const d = new RedisReplyDecoder(new RedisLimits());
    const bad = ascii("^");
    d.feed(bad.dataStart, 1);
    expect(d.event).toBe(EV_ERROR);
    const good = ascii("+OK\r\n");
    expect(d.feed(good.dataStart, good.length)).toBe(0);
    expect(d.event).toBe(EV_ERROR);
    d.reset();
    expect(d.feed(good.dataStart, good.length)).toBe(good.length);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.start()).toBe(0);
  });

  it("a decoder built with a tiny maxDepth never overruns its stack when the limit is raised", () => {
    const limits = new RedisLimits();
    limits.maxDepth = 2;
    const d = new RedisReplyDecoder(limits);
    limits.maxDepth = 1000;
    const b = ascii("*1\r\n*1\r\n*1\r\n:1\r\n");
    d.feed(b.dataStart, b.length);
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("nesting depth exceeds maximum");
  });
});
