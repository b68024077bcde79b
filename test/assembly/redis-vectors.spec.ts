// Every Redis request/response capture of protocols.md §4.3 (carried in test/fixtures/redis-vectors.json):
// the request decoder reports the right method/key/argc/inline, the reply decoder the right
// type/error word/null/push/head, and a session pairs them – fed whole, byte by byte and in random
// splits (several seeds, with and without skipping), always with identical results.

import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession } from "../../assembly/protocols/redis/session";
import { Vector, vectors } from "./generated/redis-vectors";
import { expand, hexBytes, runRequests, runReplies, checkRequests, checkReplies } from "./helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

function runVector(v: Vector, mode: i32, seed: u32, useSkip: bool): void {
  const label = v.name + " mode " + mode.toString() + " seed " + seed.toString() + (useSkip ? " skip" : "");
  const limits = new RedisLimits();
  const rq = new RedisRequestDecoder(limits);
  const rp = new RedisReplyDecoder(limits);
  const session = new RedisSession();
  const rng = new Rng(seed);

  const reqRun = runRequests(rq, expand(v.request.hex, v.request.times), mode, rng, useSkip, session);
  checkRequests(reqRun, v.requests, label);
  expect(reqRun.error).toBe(v.requestError, label + ": request error");
  if (v.requestError.length == 0) expect(reqRun.boundary).toBe(!v.requestIncomplete, label + ": request boundary");

  const ids: i64[] = [];
  for (let i = 0; i < reqRun.msgs.length; i++) ids.push(reqRun.msgs[i].id);
  const repRun = runReplies(rp, expand(v.reply.hex, v.reply.times), mode, rng, useSkip, session);
  checkReplies(repRun, v.replies, label, ids);
  expect(repRun.error).toBe(v.replyError, label + ": reply error");
  expect(repRun.boundary).toBe(true, label + ": reply boundary");
  expect(session.pending()).toBe(0, label + ": nothing left pending");
}

describe("Redis §4.3 vectors", () => {
  it("decode and correlate when fed whole", () => {
    const vs = vectors();
    for (let i = 0; i < vs.length; i++) runVector(vs[i], WHOLE, 1, false);
  });

  it("decode and correlate when fed byte by byte", () => {
    const vs = vectors();
    for (let i = 0; i < vs.length; i++) runVector(vs[i], BYTEWISE, 1, false);
  });

  it("decode and correlate in random splits (8 seeds, with and without skip)", () => {
    const vs = vectors();
    for (let seed: u32 = 1; seed <= 8; seed++) {
      for (let i = 0; i < vs.length; i++) {
        runVector(vs[i], RANDOM, seed * 7919 + <u32>i, false);
        runVector(vs[i], RANDOM, seed * 104729 + <u32>i, true);
      }
    }
  });

  it("R15: the three captured TCP writes, as written", () => {
    const vs = vectors();
    let found = 0;
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      if (v.writes.length == 0) continue;
      found++;
      const d = new RedisRequestDecoder(new RedisLimits());
      let messages = 0;
      for (let w = 0; w < v.writes.length; w++) {
        const b = hexBytes(v.writes[w]);
        const c = d.feed(b.dataStart, b.length);
        expect(c).toBe(b.length);
        if (d.event == 1) messages++;
        // the server answers only after the last piece
        expect(messages).toBe(w == v.writes.length - 1 ? 1 : 0);
      }
    }
    expect(found).toBeGreaterThan(0);
  });

  it("the fixture carries every §4.3 capture", () => {
    expect(vectors().length).toBe(58);
  });
});
