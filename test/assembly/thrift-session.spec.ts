// Seqid correlation (ThriftSession): FIFO in the common case, out-of-order replies, clients that use
// one seqid for everything, ONEWAY never answered, unexpected replies, growth and the pending cap.

import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import { ThriftSession, REPLY_MATCHED, REPLY_UNEXPECTED, PENDING_METHOD_CAP } from "../../assembly/protocols/thrift/session";
import { hexBytes, text } from "./helpers";
import { W, framedOf, runThrift, TGot } from "./thrift-helpers";
import { Rng, Run, WHOLE, RANDOM } from "./drive";

const T1 = "0000001f800100010000000767657455736572000000010a0001000000000000002a00";
const T6 = "0000001b800100020000000767657455736572000000010800000000000700";
const T9 = "000000308001000300000003666f6f000000090b000100000012756e6b6e6f776e206d6574686f6420666f6f0800020000000100";
const T11 = "0000001980010004000000036c6f67000000020b000100000002686900";
const T16 = "00000022800100010000000e43616c63756c61746f723a616464ffffffff080001000000010000";

function call(name: string, seq: i32): W {
  return framedOf(new W().bMsg(1, name, seq).u8(0));
}
function reply(name: string, seq: i32): W {
  return framedOf(new W().bMsg(2, name, seq).u8(0));
}

/** Requests then replies through one session; returns the reply run. */
function converse(s: ThriftSession, requests: Uint8Array, replies: Uint8Array, seed: u32): Run<TGot> {
  const rq = runThrift(new ThriftDecoder(new ThriftLimits()), requests, RANDOM, new Rng(seed), true, s, true);
  expect(rq.error).toBe("");
  const rp = runThrift(new ThriftDecoder(new ThriftLimits()), replies, RANDOM, new Rng(seed + 1), true, s, false);
  expect(rp.error).toBe("");
  return rp;
}

function unhex(h: string): string {
  return text(hexBytes(h).dataStart, h.length >> 1);
}

describe("ThriftSession", () => {
  it("matches T6 to T1 (FIFO, same seqid)", () => {
    const s = new ThriftSession();
    const rp = converse(s, hexBytes(T1), hexBytes(T6), 1);
    expect(rp.msgs.length).toBe(1);
    expect(rp.msgs[0].correlation).toBe(REPLY_MATCHED);
    expect(rp.msgs[0].matchedSeq).toBe(1);
    expect(unhex(rp.msgs[0].matchedMethod)).toBe("getUser");
    expect(rp.msgs[0].matchedStart).toBe(0); // the driver passes the request index as time
    expect(s.pending()).toBe(0);
  });

  it("an EXCEPTION answers its CALL", () => {
    const s = new ThriftSession();
    const rp = converse(s, call("foo", 9).bytes(), hexBytes(T9), 2);
    expect(rp.msgs[0].correlation).toBe(REPLY_MATCHED);
    expect(unhex(rp.msgs[0].matchedMethod)).toBe("foo");
  });

  it("ONEWAY is not queued; a reply to it is unexpected", () => {
    const s = new ThriftSession();
    const d = new ThriftDecoder(new ThriftLimits());
    const b = hexBytes(T11);
    d.feed(b.dataStart, b.length);
    s.onRequest(d, 5);
    expect(s.lastRequestExpectsReply()).toBe(false);
    expect(s.pending()).toBe(0);
    const rp = converse(s, new Uint8Array(0), reply("log", 2).bytes(), 3);
    expect(rp.msgs[0].correlation).toBe(REPLY_UNEXPECTED);
  });

  it("multiplexed names: the matched method is the part after ':'", () => {
    const s = new ThriftSession();
    const rp = converse(s, hexBytes(T16), reply("add", -1).bytes(), 4);
    expect(rp.msgs[0].correlation).toBe(REPLY_MATCHED);
    expect(rp.msgs[0].matchedSeq).toBe(-1);
    expect(unhex(rp.msgs[0].matchedMethod)).toBe("add");
  });

  it("out-of-order replies match by seqid", () => {
    const s = new ThriftSession();
    const rq = new W().append(call("a", 1)).append(call("b", 2)).append(call("c", 3)).append(call("d", 4));
    const rs = new W().append(reply("c", 3)).append(reply("a", 1)).append(reply("d", 4)).append(reply("b", 2));
    const rp = converse(s, rq.bytes(), rs.bytes(), 5);
    const want = ["c", "a", "d", "b"];
    const starts: i64[] = [2, 0, 3, 1];
    for (let i = 0; i < 4; i++) {
      expect(rp.msgs[i].correlation).toBe(REPLY_MATCHED);
      expect(unhex(rp.msgs[i].matchedMethod)).toBe(want[i]);
      expect(rp.msgs[i].matchedStart).toBe(starts[i]);
    }
    expect(s.pending()).toBe(0);
  });

  it("one seqid for every call (Python clients send 0): FIFO among equals", () => {
    const s = new ThriftSession();
    const rq = new W().append(call("a", 0)).append(call("b", 0)).append(call("c", 0));
    const rs = new W().append(reply("a", 0)).append(reply("b", 0)).append(reply("c", 0));
    const rp = converse(s, rq.bytes(), rs.bytes(), 6);
    expect(unhex(rp.msgs[0].matchedMethod)).toBe("a");
    expect(unhex(rp.msgs[1].matchedMethod)).toBe("b");
    expect(unhex(rp.msgs[2].matchedMethod)).toBe("c");
  });

  it("a reply with an unknown seqid is unexpected and leaves the queue alone", () => {
    const s = new ThriftSession();
    const rp = converse(s, new W().append(call("a", 1)).append(call("b", 2)).bytes(), reply("z", 77).bytes(), 7);
    expect(rp.msgs[0].correlation).toBe(REPLY_UNEXPECTED);
    expect(s.pending()).toBe(2);
  });

  it("a CALL on the reply side is unexpected; a REPLY on the request side is not queued", () => {
    const s = new ThriftSession();
    const d = new ThriftDecoder(new ThriftLimits());
    const b = reply("x", 1).bytes();
    d.feed(b.dataStart, b.length);
    s.onRequest(d, 0);
    expect(s.lastRequestExpectsReply()).toBe(false);
    expect(s.pending()).toBe(0);
    const d2 = new ThriftDecoder(new ThriftLimits());
    const c = call("x", 1).bytes();
    d2.feed(c.dataStart, c.length);
    expect(s.onReply(d2)).toBe(REPLY_UNEXPECTED);
  });

  it("grows past its initial size; replies in reverse order all match", () => {
    const s = new ThriftSession();
    const rq = new W();
    const rs = new W();
    for (let i = 0; i < 300; i++) rq.append(call("m" + i.toString(), i));
    for (let i = 299; i >= 0; i--) rs.append(reply("m", i));
    const rp = converse(s, rq.bytes(), rs.bytes(), 8);
    let ok = rp.msgs.length == 300;
    for (let i = 0; i < rp.msgs.length; i++) {
      const m = rp.msgs[i];
      if (m.correlation != REPLY_MATCHED || unhex(m.matchedMethod) != "m" + (299 - i).toString()) ok = false;
    }
    expect(ok).toBe(true);
    expect(s.pending()).toBe(0);
  });

  it("interleaved requests and replies wrap the ring", () => {
    const s = new ThriftSession(64);
    let ok = true;
    for (let round = 0; round < 50; round++) {
      const rq = new W();
      const rs = new W();
      for (let i = 0; i < 10; i++) rq.append(call("r", round * 10 + i));
      for (let i = 0; i < 10; i++) rs.append(reply("r", round * 10 + i));
      const rp = converse(s, rq.bytes(), rs.bytes(), <u32>round + 100);
      for (let i = 0; i < rp.msgs.length; i++) if (rp.msgs[i].matchedSeq != round * 10 + i) ok = false;
    }
    expect(ok).toBe(true);
    expect(s.overflowed()).toBe(false);
  });

  it("past maxPending, correlation is given up", () => {
    const s = new ThriftSession(4);
    const rq = new W();
    for (let i = 0; i < 5; i++) rq.append(call("a", i));
    const rp = converse(s, rq.bytes(), reply("a", 0).bytes(), 9);
    expect(s.overflowed()).toBe(true);
    expect(rp.msgs[0].correlation).toBe(REPLY_UNEXPECTED);
  });

  it("long methods are kept up to PENDING_METHOD_CAP bytes", () => {
    let name = "";
    for (let i = 0; i < 100; i++) name += "m";
    const s = new ThriftSession();
    const rp = converse(s, call(name, 1).bytes(), reply(name, 1).bytes(), 10);
    expect(rp.msgs[0].matchedMethod.length).toBe(PENDING_METHOD_CAP * 2);
  });

  it("THeader requests, replies mixing THeader frames and a bare deferred reply (Node server), out of order", () => {
    // captured from Apache Thrift Node 0.24 (test/e2e/thrift-peers.test.ts): ping, echoText("later:x"), ping
    const reqs: string[] = [
      "0000003f0fff0000000000000009000001010c782d726571756573742d69640f6865616465722f62696e6172792331000000800100010000000470696e670000000100" +
        "000000510fff0000000000000009000001010c782d726571756573742d69640f6865616465722f62696e617279233200000080010001000000086563686f54657874000000020b0001000000076c617465723a7800" +
        "0000003f0fff0000000000000009000001010c782d726571756573742d69640f6865616465722f62696e6172792333000000800100010000000470696e670000000300",
      "000000370fff0000000000000009020001010c782d726571756573742d6964106865616465722f636f6d70616374233100008221010470696e6700" +
        "000000440fff0000000000000009020001010c782d726571756573742d6964106865616465722f636f6d7061637423320000822102086563686f5465787418076c617465723a7800" +
        "000000370fff0000000000000009020001010c782d726571756573742d6964106865616465722f636f6d70616374233300008221030470696e6700",
    ];
    // the bare echoText reply moved behind the last ping, as the batch of the e2e test gets it
    const reps: string[] = [
      "0000001f0fff000000000000000100000000800100020000000470696e670000000100" +
        "0000001f0fff000000000000000100000000800100020000000470696e670000000300" +
        "80010002000000086563686f54657874000000020b0000000000074c415445523a5800",
      "000000170fff0000000000000001020000008241010470696e6700" +
        "000000170fff0000000000000001020000008241030470696e6700" +
        "824102086563686f546578740800074c415445523a5800",
    ];
    for (let k = 0; k < 2; k++) {
      for (let seed: u32 = 1; seed <= 8; seed++) {
        const s = new ThriftSession();
        const rp = converse(s, hexBytes(reqs[k]), hexBytes(reps[k]), 400 + seed);
        expect(rp.msgs.length).toBe(3);
        const want = ["ping", "ping", "echoText"];
        const seqs: i32[] = [1, 3, 2];
        const starts: i64[] = [0, 2, 1];
        for (let i = 0; i < 3; i++) {
          expect(rp.msgs[i].correlation).toBe(REPLY_MATCHED);
          expect(rp.msgs[i].matchedSeq).toBe(seqs[i]);
          expect(unhex(rp.msgs[i].matchedMethod)).toBe(want[i]);
          expect(rp.msgs[i].matchedStart).toBe(starts[i]);
          expect(rp.msgs[i].transport).toBe(3); // THeader, for the bare message too
          expect(rp.msgs[i].protocol).toBe(k + 1);
        }
        expect(s.pending()).toBe(0);
      }
    }
  });

  it("fed whole, T1 and T6 through WHOLE mode", () => {
    const s = new ThriftSession();
    runThrift(new ThriftDecoder(new ThriftLimits()), hexBytes(T1), WHOLE, new Rng(1), false, s, true);
    const rp = runThrift(new ThriftDecoder(new ThriftLimits()), hexBytes(T6), WHOLE, new Rng(1), false, s, false);
    expect(rp.msgs[0].correlation).toBe(REPLY_MATCHED);
  });
});
