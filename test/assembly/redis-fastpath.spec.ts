// The decoders' fast paths against their byte-at-a-time machines. Fed whole, a stream takes the fast
// paths (a whole multibulk request, a whole top-level `$`/`+`/`-`/`:` reply, a whole count/length/
// integer line, the "\r\n" after a payload or a text line); fed byte by byte it never can (no window
// holds a whole line). Cut once at every position – right before and after each '\r' and '\n', inside
// every number, at the end of every payload – one side of the cut takes a fast path and the other
// does not. Every way must give the same messages, metadata, correlation, verdict and offsets, with
// and without skipping. Limits are probed exactly at their edges, where the fast paths hand over.

import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession } from "../../assembly/protocols/redis/session";
import { lookupCommand, commandName, commandCount } from "../../assembly/protocols/redis/commands";
import {
  ascii,
  concat,
  runRequests,
  runReplies,
  runRequestsAt,
  runRepliesAt,
  runText,
  reqText,
  repText,
  ReqMsg,
  RepMsg,
} from "./helpers";
import { Rng, BYTEWISE } from "./drive";

function resp(args: string[]): string {
  let s = "*" + args.length.toString() + "\r\n";
  for (let i = 0; i < args.length; i++) s += "$" + args[i].length.toString() + "\r\n" + args[i] + "\r\n";
  return s;
}

function reqLine(m: ReqMsg): string {
  return reqText(m);
}
function repLine(m: RepMsg): string {
  return repText(m);
}

/** Messages of the last reference run of requestsAgree/repliesAgree. */
let refMessages = 0;

/** Request stream `s` under `limits`: whole, byte by byte and cut at every position agree. */
function requestsAgree(s: string, limits: RedisLimits = new RedisLimits()): string {
  const data = ascii(s);
  const refRun = runRequests(new RedisRequestDecoder(limits), data, BYTEWISE, new Rng(1), false, new RedisSession());
  refMessages = refRun.msgs.length;
  const ref = runText(refRun, reqLine);
  const whole = runText(runRequestsAt(new RedisRequestDecoder(limits), data, [], false, new RedisSession()), reqLine);
  expect(whole).toBe(ref, "whole vs byte by byte: " + s);
  for (let c = 1; c < data.length; c++) {
    for (let k = 0; k < 2; k++) {
      const run = runRequestsAt(new RedisRequestDecoder(limits), data, [c], k == 1, new RedisSession());
      expect(runText(run, reqLine)).toBe(ref, "cut at " + c.toString() + (k == 1 ? " with skip: " : ": ") + s);
    }
  }
  return ref;
}

/** Reply stream `s` under `limits`: whole, byte by byte and cut at every position agree. */
function repliesAgree(s: string, limits: RedisLimits = new RedisLimits()): string {
  const data = ascii(s);
  const refRun = runReplies(new RedisReplyDecoder(limits), data, BYTEWISE, new Rng(1), false);
  refMessages = refRun.msgs.length;
  const ref = runText(refRun, repLine);
  const whole = runText(runRepliesAt(new RedisReplyDecoder(limits), data, [], false), repLine);
  expect(whole).toBe(ref, "whole vs byte by byte: " + s);
  for (let c = 1; c < data.length; c++) {
    for (let k = 0; k < 2; k++) {
      const run = runRepliesAt(new RedisReplyDecoder(limits), data, [c], k == 1);
      expect(runText(run, repLine)).toBe(ref, "cut at " + c.toString() + (k == 1 ? " with skip: " : ": ") + s);
    }
  }
  return ref;
}

function verdict(ref: string): string {
  const at = ref.lastIndexOf("error=");
  return ref.substring(at + 6, ref.indexOf(" consumed=", at));
}


describe("request fast path", () => {
  it("agrees with the byte machine on pipelined requests of every key rule, cut anywhere", () => {
    const v100 = "v".repeat(100);
    let s = resp(["GET", "key:1"]) + resp(["SET", "key:2", v100]) + resp(["sEt", "k", ""]);
    s += resp(["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"]);
    s += resp(["EVAL", "return 1", "2", "k1", "k2", "a"]) + resp(["CLIENT", "REPLY", "ON"]);
    s += resp(["MIGRATE", "h", "6379", "mkey", "0", "5000"]) + "PING inline\r\n" + "*0\r\n" + "*-1\r\n";
    s += resp(["BITOP", "AND", "dest", "a", "b"]) + resp(["ZUNION", "2", "z1", "z2"]);
    const ref = requestsAgree(s);
    expect(verdict(ref)).toBe("");
    expect(refMessages).toBe(10);
  });

  it("agrees on method names around the 8- and 16-byte word edges and non-ASCII bytes", () => {
    let s = resp(["GETRANGE", "k", "0", "1"]) + resp(["INCRBYFLOAT", "k", "1.5"]) + resp(["ZREMRANGEBYSCORE", "z", "0", "1"]);
    s += resp(["GEORADIUSBYMEMBER_RO", "g", "m", "1", "km"]) + resp(["georadiusbymember", "g", "m", "1", "km"]);
    s += resp(["G\u00c9T", "k"]) + resp(["GET\u00e9", "k"]) + resp(["M".repeat(64), "k"]) + resp(["M".repeat(65), "k"]);
    s += resp(["x", "k"]) + resp(["", "k"]);
    const ref = requestsAgree(s);
    expect(verdict(ref)).toBe("");
    expect(refMessages).toBe(11);
  });

  it("agrees on argument prefixes and keys around their capture caps", () => {
    const limits = new RedisLimits();
    limits.maxKeyCapture = 9;
    let s = resp(["SET", "k".repeat(8), "a".repeat(31)]) + resp(["SET", "k".repeat(9), "a".repeat(32)]);
    s += resp(["SET", "k".repeat(10), "a".repeat(33)]) + resp(["MSET", "a", "1", "b".repeat(7), "2"]);
    s += resp(["GET", "k".repeat(300)]);
    const ref = requestsAgree(s, limits);
    expect(verdict(ref)).toBe("");
    expect(refMessages).toBe(5);
  });

  it("hands numbers it does not take (zeros, signs, 19 digits) to the byte machine", () => {
    expect(verdict(requestsAgree("*1\r\n$03\r\nGET\r\n"))).toBe("invalid bulk length");
    expect(verdict(requestsAgree("*01\r\n$3\r\nGET\r\n"))).toBe("invalid multibulk length");
    expect(verdict(requestsAgree("*1\r\n$-1\r\n"))).toBe("invalid bulk length");
    expect(verdict(requestsAgree("*1\r\n$+3\r\nGET\r\n"))).toBe("invalid bulk length");
    expect(verdict(requestsAgree("*1\r\n$1000000000000000000\r\n"))).toBe("invalid bulk length");
    expect(verdict(requestsAgree("*1\r\n$99999999999999999999\r\n"))).toBe("invalid bulk length");
    expect(verdict(requestsAgree("*1\r\n$0\r\n\r\n*1\r\n$3\r\nGET\r\n"))).toBe("");
    expect(verdict(requestsAgree("*1\r\n$3\r\nGETxx"))).toBe("expected carriage return");
    expect(verdict(requestsAgree("*1\r\n$3\r\nGET\rx"))).toBe("expected new line");
    expect(verdict(requestsAgree("*1\r\n$3\rx"))).toBe("expected new line");
    expect(verdict(requestsAgree("*1\rx"))).toBe("expected new line");
    expect(verdict(requestsAgree("*1\r\n#3\r\nGET\r\n"))).toBe("expected '$', got '#'");
    expect(verdict(requestsAgree("*1\r\n$3\r\nGE"))).toBe("");
  });

  it("takes lines and payloads exactly at maxLineBytes, maxBulkBytes and maxRequestArgs", () => {
    const limits = new RedisLimits();
    limits.maxLineBytes = 4; // "*123" and "$100" fit, "$1000" does not
    expect(verdict(requestsAgree(resp(["SET", "k", "v".repeat(100)]), limits))).toBe("");
    expect(verdict(requestsAgree("*123\r\n$1000\r\n", limits))).toBe("too big bulk count string");
    expect(verdict(requestsAgree("*1000\r\n", limits))).toBe("too big mbulk count string");
    // one byte over, with the whole request in the window
    expect(verdict(requestsAgree(resp(["SET", "k", "v".repeat(1000)]), limits))).toBe("too big bulk count string");
    const two = new RedisLimits();
    two.maxLineBytes = 2; // "*9" fits, "*10" does not
    expect(verdict(requestsAgree(resp(["A", "B", "C", "D", "E", "F", "G", "H", "I"]), two))).toBe("");
    expect(verdict(requestsAgree(resp(["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]), two))).toBe("too big mbulk count string");
    const bulk = new RedisLimits();
    bulk.maxBulkBytes = 100;
    expect(verdict(requestsAgree(resp(["SET", "k", "v".repeat(100)]), bulk))).toBe("");
    expect(verdict(requestsAgree(resp(["SET", "k", "v".repeat(101)]), bulk))).toBe("invalid bulk length");
    const args = new RedisLimits();
    args.maxRequestArgs = 3;
    expect(verdict(requestsAgree(resp(["SET", "k", "v"]), args))).toBe("");
    expect(verdict(requestsAgree(resp(["MSET", "k", "v", "l"]), args))).toBe("invalid multibulk length");
    const none = new RedisLimits();
    none.maxRequestArgs = -1;
    none.maxBulkBytes = -1;
    expect(verdict(requestsAgree(resp(["GET", "k"]), none))).toBe("invalid multibulk length");
  });
});

describe("reply fast path", () => {
  it("agrees with the byte machine on top-level leaves, cut anywhere", () => {
    let s = "$100\r\n" + "v".repeat(100) + "\r\n" + "+OK\r\n" + "+" + "t".repeat(17) + "\r\n" + "+\r\n";
    s += "-ERR unknown command 'x'\r\n" + "-" + "W".repeat(31) + " x\r\n" + "-" + "W".repeat(32) + " x\r\n";
    s += "-" + "W".repeat(33) + "\r\n" + "-\r\n" + ":+5\r\n" + ":-12\r\n" + ":0\r\n" + ":999999999999999999\r\n";
    s += ":9223372036854775807\r\n" + "$-1\r\n" + "$0\r\n\r\n" + "$007\r\nabcdefg\r\n" + "+a\nb\r\n";
    const ref = repliesAgree(s);
    expect(verdict(ref)).toBe("");
    expect(refMessages).toBe(18);
  });

  it("agrees inside aggregates and after attributes, where only the line paths apply", () => {
    let s = "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" + ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n";
    s += "|1\r\n+key\r\n:1\r\n$1\r\nx\r\n" + "%1\r\n+a\r\n*2\r\n:1\r\n-ERR e\r\n" + "*-1\r\n" + "*0\r\n";
    s += "*?\r\n:1\r\n.\r\n" + "$?\r\n;3\r\nabc\r\n;0\r\n" + "=7\r\ntxt:abc\r\n" + "_\r\n" + "#t\r\n" + ",1.5\r\n" + "(12\r\n";
    const ref = repliesAgree(s);
    expect(verdict(ref)).toBe("");
    expect(refMessages).toBe(13);
  });

  it("hands what it does not take to the byte machine, with the same verdict", () => {
    expect(verdict(repliesAgree(":9223372036854775808\r\n"))).toBe("integer out of range");
    expect(verdict(repliesAgree("$-2\r\n"))).toBe("invalid negative length");
    expect(verdict(repliesAgree("$+3\r\nabc\r\n"))).toBe("invalid integer character");
    expect(verdict(repliesAgree(":+\r\n"))).toBe("integer with no digits");
    expect(verdict(repliesAgree("+OK\rx"))).toBe("expected new line");
    expect(verdict(repliesAgree("$3\r\nabcX\r\n"))).toBe("expected carriage return");
    expect(verdict(repliesAgree("$3\r\nabc\rX"))).toBe("expected new line");
    expect(verdict(repliesAgree("$3\rX"))).toBe("expected new line");
    expect(verdict(repliesAgree("$3\r\nab"))).toBe("");
  });

  it("takes lines and texts exactly at maxLineBytes and maxBulkBytes", () => {
    const line = new RedisLimits();
    line.maxLineBytes = 3; // "100" and "-12" fit, "-100" does not
    expect(verdict(repliesAgree("$100\r\n" + "v".repeat(100) + "\r\n:-12\r\n", line))).toBe("");
    expect(verdict(repliesAgree(":-100\r\n", line))).toBe("integer line too long");
    expect(verdict(repliesAgree("$1000\r\n" + "v".repeat(1000) + "\r\n", line))).toBe("integer line too long");
    const bulk = new RedisLimits();
    bulk.maxBulkBytes = 100;
    expect(verdict(repliesAgree("$100\r\n" + "v".repeat(100) + "\r\n+" + "t".repeat(100) + "\r\n", bulk))).toBe("");
    expect(verdict(repliesAgree("$101\r\n", bulk))).toBe("bulk string length exceeds maximum");
    expect(verdict(repliesAgree("+" + "t".repeat(101) + "\r\n", bulk))).toBe("simple string too long");
  });
});

describe("fast paths through the session", () => {
  it("correlates the same way whole, byte by byte and cut anywhere", () => {
    // 20 GETs first: more pending requests than the ring starts with, so it grows on the way
    let req = "";
    let rep = "";
    for (let i = 0; i < 20; i++) {
      req += resp(["GET", "k" + i.toString()]);
      rep += "$1\r\n" + String.fromCharCode(0x61 + i) + "\r\n";
    }
    req += resp(["SUBSCRIBE", "a", "b"]) + resp(["GEORADIUSBYMEMBER_RO", "g", "m", "1", "km"]);
    req += resp(["CLIENT", "REPLY", "SKIP"]) + resp(["SET", "k", "v"]) + resp(["PING"]);
    rep += "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n" + "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n";
    rep += "*0\r\n" + "+PONG\r\n";
    const rq = ascii(req);
    const rp = ascii(rep);
    const refSession = new RedisSession();
    const refReq = runText(runRequests(new RedisRequestDecoder(new RedisLimits()), rq, BYTEWISE, new Rng(1), false, refSession), reqLine);
    const refRep = runText(runReplies(new RedisReplyDecoder(new RedisLimits()), rp, BYTEWISE, new Rng(1), false, refSession), repLine);
    expect(refRep.includes("|GEORADIUSBYMEMBE|")).toBe(true, refRep); // the method as kept by the session: its first 16 bytes
    const n = rq.length > rp.length ? rq.length : rp.length;
    for (let c = 0; c < n; c++) {
      const session = new RedisSession();
      const cuts: i32[] = [];
      if (c > 0 && c < rq.length) cuts.push(c);
      const a = runText(runRequestsAt(new RedisRequestDecoder(new RedisLimits()), rq, cuts, c % 2 == 1, session), reqLine);
      const cuts2: i32[] = [];
      if (c > 0 && c < rp.length) cuts2.push(c);
      const b = runText(runRepliesAt(new RedisReplyDecoder(new RedisLimits()), rp, cuts2, c % 2 == 0, session), repLine);
      expect(a).toBe(refReq, "requests cut at " + c.toString());
      expect(b).toBe(refRep, "replies cut at " + c.toString());
    }
  });
});

describe("command lookup by words", () => {
  it("finds names that share their first 8 bytes or their length, in any case, through the decoder too", () => {
    const names: string[] = ["GEORADIUS", "GEORADIUSBYMEMBER", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO", "ZRANGEBYSCORE",
      "ZRANGEBYLEX", "ZREVRANGEBYSCORE", "HPEXPIRE", "HPEXPIREAT", "HPEXPIRETIME", "SINTERSTORE", "SINTERCARD",
      "BZPOPMIN", "BZPOPMAX", "GETRANGE", "EXPIRETIME", "PEXPIRETIME"];
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const b = ascii(name);
      const index = lookupCommand(b.dataStart, b.length);
      expect(index >= 0).toBe(true, name);
      expect(commandName(index)).toBe(name);
      const lower = ascii(name.toLowerCase());
      expect(lookupCommand(lower.dataStart, lower.length)).toBe(index, name);
      // one byte off at each position, one byte more, one less: no match (or another command)
      for (let k = 0; k < b.length; k++) {
        const m = ascii(name);
        m[k] = <u8>(m[k] ^ 0x01);
        const got = lookupCommand(m.dataStart, m.length);
        expect(got == -1 || commandName(got) != name).toBe(true, name + " off at " + k.toString());
      }
      const longer = concat(b, ascii("X"));
      expect(lookupCommand(longer.dataStart, longer.length) == index).toBe(false, name + "X");
      expect(lookupCommand(b.dataStart, b.length - 1) == index).toBe(false, name + " - 1");
    }
    // every table entry, through the request decoder's fast and byte paths
    const n = commandCount();
    let s = "";
    for (let i = 0; i < n; i++) s += resp([i % 2 == 0 ? commandName(i) : commandName(i).toLowerCase(), "k"]);
    const data = ascii(s);
    const fast = runRequestsAt(new RedisRequestDecoder(new RedisLimits()), data, [], false);
    const slow = runRequests(new RedisRequestDecoder(new RedisLimits()), data, BYTEWISE, new Rng(1), false);
    expect(fast.msgs.length).toBe(n);
    expect(slow.msgs.length).toBe(n);
    for (let i = 0; i < n && i < fast.msgs.length && i < slow.msgs.length; i++) {
      expect(fast.msgs[i].command).toBe(i, commandName(i));
      expect(slow.msgs[i].command).toBe(i, commandName(i));
    }
  });
});
