// RedisRequestDecoder beyond the captured vectors: pipelining and offsets, interleaved inline/RESP,
// skipping large arguments without feeding them, each key-rule kind, truncation, every limit,
// sticky errors and reset.

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { commandName } from "../../assembly/protocols/redis/commands";
import { ascii, concat, text, ReqMsg, runRequests } from "./helpers";
import { Rng, Run, WHOLE, BYTEWISE, RANDOM } from "./drive";

function resp(args: string[]): string {
  let s = "*" + args.length.toString() + "\r\n";
  for (let i = 0; i < args.length; i++) s += "$" + args[i].length.toString() + "\r\n" + args[i] + "\r\n";
  return s;
}

function decodeAll(s: string, limits: RedisLimits = new RedisLimits(), mode: i32 = WHOLE): Run<ReqMsg> {
  return runRequests(new RedisRequestDecoder(limits), ascii(s), mode, new Rng(7), false);
}

function one(s: string, limits: RedisLimits = new RedisLimits()): ReqMsg {
  const r = decodeAll(s, limits);
  expect(r.error).toBe("", s);
  expect(r.msgs.length).toBe(1, s);
  return r.msgs[0];
}

function keyOf(args: string[]): string {
  const m = one(resp(args));
  return m.hasKey ? m.key : "<none>";
}

function errorOf(s: string, limits: RedisLimits = new RedisLimits()): string {
  // the verdict must not depend on how the bytes are split
  const whole = decodeAll(s, limits, WHOLE).error;
  expect(decodeAll(s, limits, BYTEWISE).error).toBe(whole, s);
  expect(decodeAll(s, limits, RANDOM).error).toBe(whole, s);
  return whole;
}

describe("request framing", () => {
  it("decodes 1000 pipelined requests from one window with contiguous offsets", () => {
    let s = "";
    for (let i = 0; i < 1000; i++) s += i % 3 == 2 ? "GET k" + i.toString() + "\r\n" : resp(["SET", "k" + i.toString(), "v"]);
    const r = decodeAll(s);
    expect(r.error).toBe("");
    expect(r.msgs.length).toBe(1000);
    let at: i64 = 0;
    for (let i = 0; i < 1000; i++) {
      const m = r.msgs[i];
      expect(m.start).toBe(at);
      expect(m.end > m.start).toBe(true);
      expect(m.key).toBe("k" + i.toString());
      expect(m.inline).toBe(i % 3 == 2);
      at = m.end;
    }
    expect(at).toBe(<i64>s.length);
  });

  it("stops right after each request and reports offsets across ignored requests", () => {
    const s = "*0\r\n\r\n" + resp(["PING"]) + "*-3\r\n  \r\nECHO x\n";
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = ascii(s);
    let c = d.feed(b.dataStart, b.length);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.start()).toBe(6); // after `*0\r\n` and the empty line
    expect(<i64>c).toBe(d.end());
    expect(text(d.methodPtr(), d.methodLen())).toBe("PING");
    const c2 = d.feed(b.dataStart + <usize>c, b.length - c);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.isInline()).toBe(true);
    expect(d.start()).toBe(<i64>s.length - 7);
    expect(d.end()).toBe(<i64>s.length);
    expect(c + c2).toBe(b.length);
    expect(d.atBoundary()).toBe(true);
  });

  it("feeds of zero or negative length consume nothing", () => {
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = ascii("PING\r\n");
    expect(d.feed(b.dataStart, 0)).toBe(0);
    expect(d.feed(b.dataStart, -5)).toBe(0);
    expect(d.event).toBe(EV_NEED_MORE);
  });

  it("upper-cases argv[0] and looks the command up case-insensitively", () => {
    const m = one(resp(["hGetAll", "h"]));
    expect(m.method).toBe("HGETALL");
    expect(commandName(m.command)).toBe("HGETALL");
    expect(m.key).toBe("h");
    const u = one(resp(["nosuchcommand", "x"]));
    expect(u.command).toBe(-1);
    expect(u.hasKey).toBe(false);
  });

  it("keeps raw prefixes of argv[1..3] and compares them case-insensitively", () => {
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = ascii(resp(["CLIENT", "reply", "Off"]));
    d.feed(b.dataStart, b.length);
    expect(d.event).toBe(EV_MESSAGE);
    expect(text(d.argPtr(1), d.argLen(1))).toBe("reply");
    expect(d.argIs(1, "REPLY")).toBe(true);
    expect(d.argIs(2, "OFF")).toBe(true);
    expect(d.argIs(2, "ON")).toBe(false);
    expect(d.argFullLen(3)).toBe(-1);
    expect(d.argIs(3, "")).toBe(false);
    expect(d.argLen(0)).toBe(0);
    expect(d.argLen(9)).toBe(0);
  });

  it("keeps the first 128 bytes of a long argv[1..4]", () => {
    const long = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(4);
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = ascii(resp(["ECHO", long, "x", "y", long]));
    d.feed(b.dataStart, b.length);
    expect(d.argLen(1)).toBe(128);
    expect(d.argFullLen(1)).toBe(144);
    expect(text(d.argPtr(1), 128)).toBe(long.substring(0, 128));
    expect(d.argLen(4)).toBe(128);
    expect(text(d.argPtr(4), 128)).toBe(long.substring(0, 128));
  });

  it("unescapes inline arguments for method and key", () => {
    const m = one('"g\\x45t" "my key"\r\n');
    expect(m.method).toBe("GET");
    expect(m.key).toBe("my key");
    const s = one("'sEt' 'it''s' v\r\n".replace("''", "\\'"));
    expect(s.method).toBe("SET");
    expect(s.key).toBe("it's");
  });

  it("accepts inline whitespace variants (\\t, \\v inside words, \\r mid-line)", () => {
    const m = one("\tGET\tk\x0bx \r \r\n");
    expect(m.method).toBe("GET");
    expect(m.key).toBe("k\x0bx"); // \v does not end an unquoted argument (sdssplitargs)
    expect(m.argc).toBe(2);
    const q = one('SET k "a\rb"\r\n');
    expect(q.argc).toBe(3);
  });
});

describe("skipping large arguments", () => {
  it("skips a 1 MiB value at argv[6] without feeding it", () => {
    const head = ascii("*7\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n$2\r\nv2\r\n$2\r\nk3\r\n$1048576\r\n");
    const d = new RedisRequestDecoder(new RedisLimits());
    expect(d.feed(head.dataStart, head.length)).toBe(head.length);
    expect(d.event).toBe(EV_NEED_MORE);
    expect(d.skippable()).toBe(1048576);
    d.skip(1000);
    expect(d.skippable()).toBe(1048576 - 1000);
    d.skip(1048576 - 1000);
    expect(d.event).toBe(EV_NEED_MORE);
    expect(d.skippable()).toBe(0);
    const tail = ascii("\r\n");
    expect(d.feed(tail.dataStart, 2)).toBe(2);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.argc()).toBe(7);
    expect(text(d.keyPtr(), d.keyLen())).toBe("k1");
    expect(d.end()).toBe(<i64>head.length + 1048576 + 2);
  });

  it("needs the first 128 bytes of argv[2] before the rest becomes skippable", () => {
    const head = ascii("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n");
    const d = new RedisRequestDecoder(new RedisLimits());
    d.feed(head.dataStart, head.length);
    expect(d.skippable()).toBe(0);
    const first = ascii("0123456789".repeat(13));
    expect(d.feed(first.dataStart, 127)).toBe(127);
    expect(d.skippable()).toBe(0);
    expect(d.feed(first.dataStart + 127, 1)).toBe(1);
    expect(d.skippable()).toBe(1048576 - 128);
    d.skip(d.skippable());
    const tail = ascii("\r\n");
    d.feed(tail.dataStart, 2);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.argLen(2)).toBe(128);
    expect(d.argFullLen(2)).toBe(1048576);
  });

  it("skips the rest of a long key after maxKeyCapture bytes", () => {
    const limits = new RedisLimits();
    limits.maxKeyCapture = 40;
    const key = "K".repeat(300); // past the 128 bytes kept of argv[1] too
    const b = ascii(resp(["GET", key]));
    const r = runRequests(new RedisRequestDecoder(limits), b, RANDOM, new Rng(3), true);
    expect(r.error).toBe("");
    expect(r.skipped > 0).toBe(true);
    expect(r.msgs[0].key).toBe(key.substring(0, 40));
    expect(r.msgs[0].keyTruncated).toBe(true);
  });

  it("rejects skipping more than skippable()", () => {
    const d = new RedisRequestDecoder(new RedisLimits());
    const head = ascii("*1\r\n$100\r\n");
    d.feed(head.dataStart, head.length);
    d.skip(0); // no-op
    expect(d.event).toBe(EV_NEED_MORE);
    d.skip(5); // argv[0] is still being captured
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("invalid skip");
  });

  it("gives identical results with random skipping over many large arguments", () => {
    let s = "";
    for (let i = 0; i < 20; i++) s += resp(["RPUSH", "list" + i.toString(), "x".repeat(500 + i * 37), "y".repeat(3000), "z"]);
    const plain = decodeAll(s);
    for (let seed: u32 = 1; seed < 6; seed++) {
      const r = runRequests(new RedisRequestDecoder(new RedisLimits()), ascii(s), RANDOM, new Rng(seed), true);
      expect(r.error).toBe("");
      expect(r.skipped > 0).toBe(true);
      expect(r.msgs.length).toBe(plain.msgs.length);
      for (let i = 0; i < r.msgs.length; i++) {
        expect(r.msgs[i].key).toBe(plain.msgs[i].key);
        expect(r.msgs[i].end).toBe(plain.msgs[i].end);
        expect(r.msgs[i].args.join(",")).toBe(plain.msgs[i].args.join(","));
      }
    }
  });
});

describe("key rules", () => {
  it("index: argv[1] for most commands, argv[2] for BITOP and container subcommands", () => {
    expect(keyOf(["GET", "a"])).toBe("a");
    expect(keyOf(["SET", "a", "b", "EX", "10"])).toBe("a");
    expect(keyOf(["BITOP", "AND", "dest", "s1", "s2"])).toBe("dest");
    expect(keyOf(["OBJECT", "ENCODING", "obj"])).toBe("obj");
    expect(keyOf(["OBJECT", "HELP"])).toBe("<none>");
    expect(keyOf(["XINFO", "STREAM", "st"])).toBe("st");
    expect(keyOf(["GET"])).toBe("<none>"); // missing argument: no key
    expect(keyOf(["PING", "hello"])).toBe("<none>");
    expect(keyOf(["SSUBSCRIBE", "shard-ch"])).toBe("shard-ch");
    expect(keyOf(["SUBSCRIBE", "ch"])).toBe("<none>");
  });

  it("keynum: the key after the count, none when the count is 0 or not a number", () => {
    expect(keyOf(["EVAL", "return 1", "2", "k1", "k2", "a"])).toBe("k1");
    expect(keyOf(["EVAL", "return 1", "0", "a"])).toBe("<none>");
    expect(keyOf(["EVAL", "return 1", "01", "k"])).toBe("<none>");
    expect(keyOf(["EVAL", "return 1", "-1", "k"])).toBe("<none>");
    expect(keyOf(["EVAL", "return 1", "x", "k"])).toBe("<none>");
    expect(keyOf(["EVAL", "return 1", "1"])).toBe("<none>"); // count without keys
    expect(keyOf(["EVALSHA_RO", "abc", "1", "kk"])).toBe("kk");
    expect(keyOf(["FCALL", "fn", "1", "fk"])).toBe("fk");
    expect(keyOf(["LMPOP", "2", "l1", "l2", "LEFT"])).toBe("l1");
    expect(keyOf(["ZUNION", "1", "z1"])).toBe("z1");
    expect(keyOf(["SINTERCARD", "0"])).toBe("<none>");
    expect(keyOf(["BLMPOP", "0", "1", "bl", "RIGHT"])).toBe("bl");
    expect(keyOf(["BZMPOP", "1.5", "1", "bz", "MIN"])).toBe("bz");
    expect(keyOf(["ZUNIONSTORE", "dst", "2", "a", "b"])).toBe("dst");
  });

  it("keyword: the first argument after STREAMS, searched from the key-spec start", () => {
    expect(keyOf(["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"])).toBe("s1");
    expect(keyOf(["xread", "block", "0", "streams", "s"])).toBe("s");
    expect(keyOf(["XREAD", "STREAMS"])).toBe("<none>");
    expect(keyOf(["XREAD", "STREAMSX", "a"])).toBe("<none>");
    // the group name "streams" sits before the search start (argv[4]) and is not the keyword
    expect(keyOf(["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "st", ">"])).toBe("st");
    expect(keyOf(["XREADGROUP", "GROUP", "g", "streams", "COUNT", "1", "STREAMS", "st", ">"])).toBe("st");
    // inline: the keyword is matched on the unescaped bytes
    const m = one('XREAD "STR\\x45AMS" "str eam" 0\r\n');
    expect(m.key).toBe("str eam");
  });
});

describe("truncation", () => {
  it("reports a method longer than 64 bytes as truncated and unknown", () => {
    const name = "G".repeat(70);
    const m = one(resp([name, "k"]));
    expect(m.methodTruncated).toBe(true);
    expect(m.method).toBe(name.substring(0, 64));
    expect(m.command).toBe(-1);
    expect(m.hasKey).toBe(false);
    const exact = one(resp(["G".repeat(64)]));
    expect(exact.methodTruncated).toBe(false);
  });

  it("keeps maxKeyCapture bytes of the key and flags longer keys", () => {
    const key = "k".repeat(300);
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = ascii(resp(["GET", key]));
    d.feed(b.dataStart, b.length);
    expect(d.keyTruncated()).toBe(true);
    expect(d.keyLen()).toBe(256);
    expect(d.keyFullLen()).toBe(300);
    const ok = one(resp(["GET", "k".repeat(256)]));
    expect(ok.keyTruncated).toBe(false);
    const limits = new RedisLimits();
    limits.maxKeyCapture = 4;
    const small = one(resp(["GET", "abcdef"]), limits);
    expect(small.key).toBe("abcd");
    expect(small.keyTruncated).toBe(true);
    limits.maxKeyCapture = 100000; // capped by the buffer made at construction (4 bytes)
    const d2 = new RedisRequestDecoder(new RedisLimits());
    d2.feed(b.dataStart, b.length);
    expect(d2.keyLen()).toBe(256);
  });
});

describe("request limits and errors", () => {
  it("maxBulkBytes", () => {
    const limits = new RedisLimits();
    limits.maxBulkBytes = 10;
    expect(errorOf(resp(["GET", "0123456789"]), limits)).toBe("");
    expect(errorOf(resp(["GET", "0123456789A"]), limits)).toBe("invalid bulk length");
  });

  it("maxRequestArgs, for multibulk and inline", () => {
    const limits = new RedisLimits();
    limits.maxRequestArgs = 2;
    expect(errorOf(resp(["GET", "k"]), limits)).toBe("");
    expect(errorOf(resp(["SET", "k", "v"]), limits)).toBe("invalid multibulk length");
    expect(errorOf("GET k\r\n", limits)).toBe("");
    expect(errorOf("SET k v\r\n", limits)).toBe("inline command element count exceeds maximum");
    expect(errorOf("*2147483648\r\n")).toBe("invalid multibulk length"); // INT_MAX + 1
    expect(errorOf("*2147483647\r\n")).toBe("");
  });

  it("maxLineBytes for inline lines, count lines and length lines", () => {
    const limits = new RedisLimits();
    limits.maxLineBytes = 16;
    // the line is every byte before the '\n', its '\r' included (Redis checks the buffered bytes)
    expect(errorOf("ECHO 0123456789\r\n", limits)).toBe("");
    expect(errorOf("ECHO 01234567890\r\n", limits)).toBe("too big inline request");
    expect(errorOf("*\x00" + "1".repeat(20), limits)).toBe("too big mbulk count string");
    expect(errorOf("*1\r\n$\x00" + "1".repeat(20), limits)).toBe("too big bulk count string");
    // a NUL in an inline line: Redis' strchr() never finds its end, even past a '\n'
    expect(errorOf("GET a\x00b\r\nPING\r\nPING\r\nPING\r\n", limits)).toBe("too big inline request");
  });

  it("Redis' count/length line rules", () => {
    expect(errorOf("*-0\r\n")).toBe("invalid multibulk length");
    expect(errorOf("*\r\n")).toBe("invalid multibulk length");
    expect(errorOf("*1 \r\n")).toBe("invalid multibulk length");
    expect(errorOf("*-9223372036854775808\r\nPING\r\n")).toBe(""); // ignored, like any *-N
    expect(errorOf("*-9223372036854775809\r\n")).toBe("invalid multibulk length");
    expect(errorOf("*99999999999999999999999\r\n")).toBe("invalid multibulk length");
    expect(errorOf("*1\r\n$-0\r\n")).toBe("invalid bulk length");
    expect(errorOf("*1\r\n$\r\n")).toBe("invalid bulk length");
    expect(errorOf("*1\r\n\r\n")).toBe("expected '$', got '\r'");
    expect(errorOf("*1\r\n$4\r\nPING\rX")).toBe("expected new line");
    expect(errorOf("*1\rX")).toBe("expected new line"); // Redis skips the byte blindly; we are stricter
    expect(errorOf("*1\r\n$4\rX")).toBe("expected new line");
    expect(errorOf("*1\r\n$0\r\n\r\n")).toBe("");
  });

  it("stays in error until reset", () => {
    const d = new RedisRequestDecoder(new RedisLimits());
    const bad = ascii("*x\r\n");
    d.feed(bad.dataStart, bad.length);
    expect(d.event).toBe(EV_ERROR);
    const good = ascii("PING\r\n");
    expect(d.feed(good.dataStart, good.length)).toBe(0);
    expect(d.event).toBe(EV_ERROR);
    d.skip(1);
    expect(d.event).toBe(EV_ERROR);
    expect(d.errorReason()).toBe("invalid multibulk length");
    d.reset();
    expect(d.errorReason()).toBe("");
    expect(d.feed(good.dataStart, good.length)).toBe(good.length);
    expect(d.event).toBe(EV_MESSAGE);
    expect(d.start()).toBe(0);
  });

  it("an error consumes up to the offending byte", () => {
    const d = new RedisRequestDecoder(new RedisLimits());
    const b = concat(ascii(resp(["PING"])), ascii("*1\r\n:1\r\n"));
    const c = d.feed(b.dataStart, b.length);
    expect(d.event).toBe(EV_MESSAGE);
    const c2 = d.feed(b.dataStart + <usize>c, b.length - c);
    expect(d.event).toBe(EV_ERROR);
    expect(c2).toBe(7); // "*1\r\n:1\r": the '$' check runs when the line ends, as in Redis
    expect(d.errorReason()).toBe("expected '$', got ':'");
  });
});
