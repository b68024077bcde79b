// RedisSession: FIFO correlation and its exceptions (protocols.md §3.3) – RESP2/RESP3 pub/sub with
// per-channel acks, MONITOR, RESP3 pushes, CLIENT REPLY OFF/ON/SKIP, MULTI/EXEC, blocking commands,
// RESET, QUIT, ring growth and overflow. Each scenario is also replayed byte by byte.

import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession, REPLY_MATCHED, REPLY_OUT_OF_BAND } from "../../assembly/protocols/redis/session";
import { commandName } from "../../assembly/protocols/redis/commands";
import { ascii, text, runRequests, runReplies } from "./helpers";
import { Rng, WHOLE, BYTEWISE } from "./drive";

/** One connection: requests and replies go through real decoders into one session. */
class Conn {
  rq: RedisRequestDecoder;
  rp: RedisReplyDecoder;
  session: RedisSession;
  constructor(public mode: i32 = WHOLE, maxPending: i32 = 65536) {
    const limits = new RedisLimits();
    this.rq = new RedisRequestDecoder(limits);
    this.rp = new RedisReplyDecoder(limits);
    this.session = new RedisSession(maxPending);
  }
  /** Replies: "M<id>" last reply of request id, "m<id>" an earlier ack, "O" out of band, "U" unexpected. */
  recv(s: string): string {
    const run = runReplies(this.rp, ascii(s), this.mode, new Rng(6), false, this.session);
    expect(run.error).toBe("", s);
    let out = "";
    for (let i = 0; i < run.msgs.length; i++) {
      const m = run.msgs[i];
      const tag = m.correlation == REPLY_MATCHED ? (m.final ? "M" : "m") + m.matchedId.toString() : m.correlation == REPLY_OUT_OF_BAND ? "O" : "U";
      out += (i > 0 ? " " : "") + tag;
    }
    return out;
  }
}

/** Sends requests (inline lines are fine) through the decoder into the session; returns their ids. */
function send(c: Conn, s: string): string {
  const run = runRequests(c.rq, ascii(s), c.mode, new Rng(5), false, c.session);
  expect(run.error).toBe("", s);
  expect(run.boundary).toBe(true, s);
  let out = "";
  for (let i = 0; i < run.msgs.length; i++) {
    out += (i > 0 ? " " : "") + run.msgs[i].id.toString();
  }
  return out;
}

function cmd(args: string[]): string {
  let s = "*" + args.length.toString() + "\r\n";
  for (let i = 0; i < args.length; i++) s += "$" + args[i].length.toString() + "\r\n" + args[i] + "\r\n";
  return s;
}

function bulk(s: string): string {
  return "$" + s.length.toString() + "\r\n" + s + "\r\n";
}

function ack(word: string, ch: string, n: i32, push: bool = false): string {
  return (push ? ">3\r\n" : "*3\r\n") + bulk(word) + (ch.length ? bulk(ch) : "$-1\r\n") + ":" + n.toString() + "\r\n";
}

function msg(ch: string, payload: string, push: bool = false): string {
  return (push ? ">3\r\n" : "*3\r\n") + bulk("message") + bulk(ch) + bulk(payload);
}

// every scenario runs whole and byte by byte
const MODES: i32[] = [WHOLE, BYTEWISE];

describe("FIFO", () => {
  it("matches replies in order and counts pending requests", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      expect(send(c, cmd(["SET", "a", "1"]) + "GET a\r\n" + cmd(["INCR", "n"]))).toBe("1 2 3");
      expect(c.session.pending()).toBe(3);
      expect(c.recv("+OK\r\n$1\r\n1\r\n")).toBe("M1 M2");
      expect(c.session.pending()).toBe(1);
      expect(c.recv(":1\r\n")).toBe("M3");
      expect(c.recv("+OK\r\n")).toBe("U");
      expect(c.session.pending()).toBe(0);
    }
  });

  it("reports the matched request's id, start time, command and method (≤ 16 bytes)", () => {
    const limits = new RedisLimits();
    const rq = new RedisRequestDecoder(limits);
    const rp = new RedisReplyDecoder(limits);
    const s = new RedisSession();
    const b = ascii(cmd(["georadiusbymember_ro", "k", "m", "1", "km"]));
    rq.feed(b.dataStart, b.length);
    s.onRequest(rq, 123456789);
    expect(s.lastRequestId()).toBe(1);
    expect(s.lastRequestExpectsReply()).toBe(true);
    const r = ascii("*0\r\n");
    rp.feed(r.dataStart, r.length);
    expect(s.onReply(rp)).toBe(REPLY_MATCHED);
    expect(s.matchedId()).toBe(1);
    expect(s.matchedStartNs()).toBe(123456789);
    expect(commandName(s.matchedCommand())).toBe("GEORADIUSBYMEMBER_RO");
    expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe("GEORADIUSBYMEMBE");
    expect(s.matchedMethodLen()).toBe(16);
    expect(s.matchedFinal()).toBe(true);
  });

  it("MULTI/EXEC: +QUEUED per command, one array for EXEC; aborted EXEC; DISCARD", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      send(c, "MULTI\r\n" + cmd(["SET", "a", "1"]) + cmd(["GET", "a"]) + "EXEC\r\n");
      expect(c.recv("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\n1\r\n")).toBe("M1 M2 M3 M4");
      send(c, "WATCH a\r\nMULTI\r\nINCR a\r\nEXEC\r\nMULTI\r\nPING\r\nDISCARD\r\n");
      expect(c.recv("+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n+OK\r\n+QUEUED\r\n+OK\r\n")).toBe("M5 M6 M7 M8 M9 M10 M11");
    }
  });

  it("blocking commands: later pipelined replies queue behind them", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      send(c, cmd(["BLPOP", "q", "0"]) + cmd(["BLPOP", "q", "0"]) + cmd(["GET", "x"]));
      expect(c.recv("*2\r\n$1\r\nq\r\n$1\r\na\r\n")).toBe("M1");
      expect(c.recv("*2\r\n$1\r\nq\r\n$1\r\nb\r\n$-1\r\n")).toBe("M2 M3");
    }
  });

  it("QUIT gets +OK", () => {
    const c = new Conn();
    send(c, "QUIT\r\n");
    expect(c.recv("+OK\r\n")).toBe("M1");
  });
});

describe("pub/sub", () => {
  it("RESP2: one ack per channel, messages out of band, PING pong, UNSUBSCRIBE without args", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      expect(send(c, cmd(["SUBSCRIBE", "a", "b"]))).toBe("1");
      expect(c.recv(ack("subscribe", "a", 1))).toBe("m1");
      expect(c.session.pending()).toBe(1);
      expect(c.recv(msg("a", "early") + ack("subscribe", "b", 2))).toBe("O M1");
      expect(c.session.subscribed()).toBe(true);
      expect(c.recv(msg("a", "hello") + "*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npx\r\n$1\r\nz\r\n")).toBe("O O");
      send(c, "PING\r\n");
      expect(c.recv("*2\r\n$4\r\npong\r\n$0\r\n\r\n")).toBe("M2");
      send(c, "UNSUBSCRIBE\r\n");
      expect(c.recv(ack("unsubscribe", "a", 1) + msg("b", "late") + ack("unsubscribe", "b", 0))).toBe("m3 O M3");
      expect(c.session.subscribed()).toBe(false);
      // no longer subscribed: an array that starts with "message" is an ordinary reply
      send(c, cmd(["LRANGE", "l", "0", "-1"]));
      expect(c.recv("*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n")).toBe("M4");
    }
  });

  it("UNSUBSCRIBE without args is counted when it reaches the head of the queue", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      send(c, cmd(["SUBSCRIBE", "a", "b", "c"]) + "UNSUBSCRIBE\r\n" + "UNSUBSCRIBE\r\n");
      const acks = ack("subscribe", "a", 1) + ack("subscribe", "b", 2) + ack("subscribe", "c", 3);
      const unacks = ack("unsubscribe", "a", 2) + ack("unsubscribe", "b", 1) + ack("unsubscribe", "c", 0);
      expect(c.recv(acks + unacks + ack("unsubscribe", "", 0))).toBe("m1 m1 M1 m2 m2 M2 M3");
    }
  });

  it("UNSUBSCRIBE with arguments expects one ack each, subscribed or not", () => {
    const c = new Conn();
    send(c, cmd(["SUBSCRIBE", "a"]) + cmd(["UNSUBSCRIBE", "a", "zz"]));
    expect(c.recv(ack("subscribe", "a", 1) + ack("unsubscribe", "a", 0) + ack("unsubscribe", "zz", 0))).toBe("M1 m2 M2");
  });

  it("patterns and channels are counted apart (PUNSUBSCRIBE without args)", () => {
    const c = new Conn();
    send(c, cmd(["PSUBSCRIBE", "p*"]) + cmd(["SUBSCRIBE", "c1", "c2"]) + "PUNSUBSCRIBE\r\n");
    expect(c.recv(ack("psubscribe", "p*", 1) + ack("subscribe", "c1", 2) + ack("subscribe", "c2", 3))).toBe("M1 m2 M2");
    expect(c.recv(ack("punsubscribe", "p*", 2))).toBe("M3");
    expect(c.session.subscribed()).toBe(true);
    expect(c.recv(msg("c1", "still"))).toBe("O");
    send(c, "UNSUBSCRIBE\r\n");
    expect(c.recv(ack("unsubscribe", "c1", 1) + ack("unsubscribe", "c2", 0))).toBe("m4 M4");
  });

  it("shard channels: SSUBSCRIBE / smessage / SUNSUBSCRIBE without args", () => {
    const c = new Conn();
    send(c, cmd(["SSUBSCRIBE", "s1", "s2"]));
    expect(c.recv(ack("ssubscribe", "s1", 1) + ack("ssubscribe", "s2", 2))).toBe("m1 M1");
    expect(c.recv("*3\r\n" + bulk("smessage") + bulk("s1") + bulk("x"))).toBe("O");
    send(c, "SUNSUBSCRIBE\r\n");
    expect(c.recv(ack("sunsubscribe", "s1", 1) + ack("sunsubscribe", "s2", 0))).toBe("m2 M2");
    expect(c.session.subscribed()).toBe(false);
  });

  it("(P)UNSUBSCRIBE without args and without subscriptions gets exactly one ack", () => {
    const c = new Conn();
    send(c, "UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nSUNSUBSCRIBE\r\nPING\r\n");
    expect(c.recv(ack("unsubscribe", "", 0) + ack("punsubscribe", "", 0) + ack("sunsubscribe", "", 0) + "+PONG\r\n")).toBe("M1 M2 M3 M4");
  });

  it("SUBSCRIBE answered by an error, or +QUEUED inside MULTI, completes at once", () => {
    const c = new Conn();
    send(c, "SUBSCRIBE\r\n" + "MULTI\r\n" + cmd(["SUBSCRIBE", "a", "b"]) + "EXEC\r\n");
    const execReply = "*1\r\n*3\r\n" + bulk("subscribe") + bulk("a") + ":1\r\n";
    expect(c.recv("-ERR wrong number of arguments for 'subscribe' command\r\n+OK\r\n+QUEUED\r\n" + execReply)).toBe("M1 M2 M3 M4");
  });

  it("RESP3: acks are pushes that answer the (un)subscribe, other pushes are out of band", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      send(c, cmd(["HELLO", "3"]));
      expect(c.recv("%1\r\n$5\r\nproto\r\n:3\r\n")).toBe("M1");
      send(c, cmd(["SUBSCRIBE", "a", "b"]) + cmd(["GET", "k"]));
      expect(c.recv(ack("subscribe", "a", 1, true) + msg("a", "x", true) + ack("subscribe", "b", 2, true))).toBe("m2 O M2");
      // RESP3 allows ordinary commands while subscribed; an array reply is never taken for a message
      expect(c.recv("*2\r\n$7\r\nmessage\r\n$1\r\nv\r\n")).toBe("M3");
      expect(c.recv(msg("b", "y", true))).toBe("O");
      send(c, cmd(["UNSUBSCRIBE", "a"]));
      expect(c.recv(ack("unsubscribe", "a", 1, true))).toBe("M4");
      // an unsolicited sunsubscribe push (slot migration) is out of band
      expect(c.recv(ack("sunsubscribe", "s", 0, true))).toBe("O");
    }
  });

  it("client-side caching invalidations are out of band between replies", () => {
    const c = new Conn(BYTEWISE);
    send(c, cmd(["GET", "tk"]) + cmd(["GET", "tk2"]));
    const inval = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\ntk\r\n";
    expect(c.recv(inval + "$1\r\n1\r\n" + inval + "_\r\n" + inval)).toBe("O M1 O M2 O");
  });
});

describe("MONITOR and RESET", () => {
  it("after MONITOR's +OK, simple strings starting with a digit are the feed", () => {
    for (let k = 0; k < MODES.length; k++) {
      const c = new Conn(MODES[k]);
      send(c, cmd(["ECHO", "x"]) + "MONITOR\r\n");
      expect(c.recv("+1234\r\n")).toBe("M1"); // not monitoring yet
      expect(c.session.monitorMode()).toBe(false);
      expect(c.recv("+OK\r\n")).toBe("M2");
      expect(c.session.monitorMode()).toBe(true);
      const line = '+1700000000.123456 [0 127.0.0.1:50000] "GET" "k"\r\n';
      expect(c.recv(line + line)).toBe("O O");
      send(c, "PING\r\n");
      expect(c.recv(line + "+PONG\r\n" + line)).toBe("O M3 O");
      send(c, "RESET\r\n");
      expect(c.recv(line + "+RESET\r\n")).toBe("O M4");
      expect(c.session.monitorMode()).toBe(false);
    }
  });

  it("a refused MONITOR does not start monitor mode", () => {
    const c = new Conn();
    send(c, "MONITOR\r\nECHO 1\r\n");
    expect(c.recv("-NOPERM this user has no permissions\r\n+1\r\n")).toBe("M1 M2");
  });

  it("RESET leaves RESP2 subscribed mode", () => {
    const c = new Conn();
    send(c, cmd(["SUBSCRIBE", "a"]));
    expect(c.recv(ack("subscribe", "a", 1))).toBe("M1");
    send(c, "RESET\r\n" + cmd(["LRANGE", "l", "0", "-1"]));
    expect(c.recv(msg("a", "before reset") + "+RESET\r\n" + "*1\r\n$7\r\nmessage\r\n")).toBe("O M2 M3");
  });
});

describe("CLIENT REPLY", () => {
  it("OFF silences everything until ON, whose +OK is sent", () => {
    const c = new Conn();
    const s = c.session;
    send(c, cmd(["CLIENT", "REPLY", "OFF"]));
    expect(s.lastRequestExpectsReply()).toBe(false);
    send(c, cmd(["SET", "a", "1"]));
    expect(s.lastRequestExpectsReply()).toBe(false);
    send(c, "client reply skip\r\n"); // no effect while OFF
    send(c, "GET a\r\n");
    expect(s.lastRequestExpectsReply()).toBe(false);
    expect(s.pending()).toBe(0);
    send(c, "CLIENT REPLY ON\r\n");
    expect(s.lastRequestExpectsReply()).toBe(true);
    send(c, "GET a\r\n");
    expect(c.recv("+OK\r\n$1\r\n1\r\n")).toBe("M5 M6");
  });

  it("SKIP silences itself and the next command", () => {
    const c = new Conn();
    send(c, cmd(["CLIENT", "REPLY", "SKIP"]) + cmd(["SET", "a", "1"]) + cmd(["GET", "a"]));
    expect(c.session.pending()).toBe(1);
    expect(c.recv("$1\r\n1\r\n")).toBe("M3");
  });

  it("SKIP twice, SKIP then ON, unknown mode, other CLIENT subcommands", () => {
    const c = new Conn();
    send(c, "CLIENT REPLY SKIP\r\nCLIENT REPLY SKIP\r\nPING\r\nPING\r\n");
    expect(c.recv("+PONG\r\n")).toBe("M4");
    send(c, "CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n");
    expect(c.recv("+OK\r\n+PONG\r\n")).toBe("M6 M7");
    send(c, "CLIENT REPLY MAYBE\r\nCLIENT REPLY OFF EXTRA\r\nCLIENT ID\r\n");
    expect(c.recv("-ERR syntax error\r\n-ERR syntax error\r\n:7\r\n")).toBe("M8 M9 M10");
  });

  it("RESET turns replies back on", () => {
    const c = new Conn();
    send(c, "CLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n");
    expect(c.recv("+RESET\r\n+PONG\r\n")).toBe("M3 M4");
  });
});

describe("pending ring", () => {
  it("grows by doubling and wraps around while keeping FIFO order", () => {
    const c = new Conn();
    let expected = "";
    let id = 0;
    let replies = 0;
    for (let round = 0; round < 20; round++) {
      let req = "";
      for (let i = 0; i < 37; i++) req += cmd(["GET", "k" + i.toString()]);
      send(c, req);
      let rep = "";
      expected = "";
      for (let i = 0; i < 23; i++) {
        rep += ":" + i.toString() + "\r\n";
        expected += (i > 0 ? " " : "") + "M" + (++id).toString();
      }
      replies += 23;
      expect(c.recv(rep)).toBe(expected);
    }
    expect(c.session.pending()).toBe(20 * 37 - replies);
    expect(c.session.overflowed()).toBe(false);
  });

  it("gives up correlation past maxPending", () => {
    const c = new Conn(WHOLE, 4);
    send(c, "PING\r\nPING\r\nPING\r\nPING\r\n");
    expect(c.session.overflowed()).toBe(false);
    expect(c.session.pending()).toBe(4);
    send(c, "PING\r\n");
    expect(c.session.overflowed()).toBe(true);
    expect(c.recv("+PONG\r\n+PONG\r\n")).toBe("U U");
    expect(c.recv(">2\r\n$10\r\ninvalidate\r\n_\r\n")).toBe("O"); // pushes are still told apart
    send(c, "PING\r\n");
    expect(c.session.lastRequestId()).toBe(6);
    expect(c.session.pending()).toBe(0);
  });

  it("a session with maxPending 1 still works", () => {
    const c = new Conn(WHOLE, 1);
    send(c, "PING\r\n");
    expect(c.recv("+PONG\r\n")).toBe("M1");
    send(c, "PING\r\n");
    expect(c.recv("+PONG\r\n")).toBe("M2");
  });
});
