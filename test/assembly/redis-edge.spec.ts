// protocols.md §5.3 (Envoy codec_impl_test.cc old and new, Redis protocol.tcl), the §4.3 strictness
// probes and the §5.4 items, from test/fixtures/redis-vectors.json: accepted or rejected with the
// right reason, in every split mode.

import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { EdgeCase, edgeCases } from "./generated/redis-vectors";
import { expand, runRequests, runReplies, checkRequests, checkReplies } from "./helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

function runCase(c: EdgeCase, data: Uint8Array, mode: i32, seed: u32, useSkip: bool): void {
  const label = c.name + " mode " + mode.toString() + " seed " + seed.toString();
  const rng = new Rng(seed);
  if (c.isRequest) {
    const run = runRequests(new RedisRequestDecoder(new RedisLimits()), data, mode, rng, useSkip);
    expect(run.error).toBe(c.ok ? "" : c.reason, label + ": verdict");
    if (c.ok) expect(run.boundary).toBe(true, label + ": ends between requests");
    if (c.checkMessages) checkRequests(run, c.requests, label);
  } else {
    const run = runReplies(new RedisReplyDecoder(new RedisLimits()), data, mode, rng, useSkip);
    expect(run.error).toBe(c.ok ? "" : c.reason, label + ": verdict");
    if (c.ok) expect(run.boundary).toBe(true, label + ": ends between replies");
    if (c.checkMessages) checkReplies(run, c.replies, label, []);
  }
}

describe("Redis §5.3 edge cases", () => {
  it("whole", () => {
    const cs = edgeCases();
    for (let i = 0; i < cs.length; i++) runCase(cs[i], expand(cs[i].data.hex, cs[i].data.times), WHOLE, 1, false);
  });

  it("byte by byte", () => {
    const cs = edgeCases();
    for (let i = 0; i < cs.length; i++) runCase(cs[i], expand(cs[i].data.hex, cs[i].data.times), BYTEWISE, 1, false);
  });

  it("random splits, with and without skip (4 seeds)", () => {
    const cs = edgeCases();
    for (let i = 0; i < cs.length; i++) {
      const data = expand(cs[i].data.hex, cs[i].data.times);
      for (let s: u32 = 1; s <= 4; s++) {
        runCase(cs[i], data, RANDOM, s * 31 + <u32>i, false);
        runCase(cs[i], data, RANDOM, s * 131 + <u32>i, true);
      }
    }
  });

  it("covers both directions, accepts and rejections", () => {
    const cs = edgeCases();
    let req = 0;
    let rep = 0;
    let bad = 0;
    for (let i = 0; i < cs.length; i++) {
      if (cs[i].isRequest) req++;
      else rep++;
      if (!cs[i].ok) bad++;
    }
    expect(req).toBeGreaterThan(40);
    expect(rep).toBeGreaterThan(80);
    expect(bad).toBeGreaterThan(60);
  });
});
