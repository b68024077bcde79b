// DubboSession: responses matched to requests by the 8-byte id, in any order; one-way requests and
// one-way events expect nothing; heartbeats are tracked like calls; a repeated id replaces the older
// request; past maxPending correlation is given up. A random stress run is checked against a plain
// Map as the reference (table growth, wrap-around probing and backward-shift deletion included).

import { EV_MESSAGE } from "../../assembly/protocols/codec";
import { DubboDecoder } from "../../assembly/protocols/dubbo/message-decoder";
import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { DubboSession, MATCHED, UNEXPECTED } from "../../assembly/protocols/dubbo/session";
import { frames } from "./generated/dubbo-vectors";
import { Writer, frameOf, requestBody, runDubbo, vectorBytes } from "./dubbo-helpers";
import { hexOf } from "./helpers";
import { Rng, RANDOM } from "./drive";

const NO_ARGS = new Uint8Array(0);
const EMPTY_MAP = new Writer().u8(0x48).u8(0x5a).toBytes();

function feedOne(d: DubboDecoder, frame: Uint8Array): void {
  const c = d.feed(frame.dataStart, frame.length);
  expect(c).toBe(frame.length);
  expect(d.event).toBe(EV_MESSAGE);
}

function request(d: DubboDecoder, s: DubboSession, id: i64, method: string, now: i64): void {
  feedOne(d, frameOf(0xc2, 0, id, requestBody("svc", method, "", NO_ARGS, EMPTY_MAP)));
  s.onRequest(d, now);
}

function response(d: DubboDecoder, s: DubboSession, id: i64): i32 {
  feedOne(d, frameOf(0x02, 20, id, new Writer().u8(0x92).toBytes()));
  return s.onResponse(d);
}

function text(p: usize, n: i32): string {
  return String.UTF8.decodeUnsafe(p, <usize>n);
}

function named(prefix: string): Uint8Array {
  const vs = frames();
  for (let i = 0; i < vs.length; i++) if (vs[i].name.startsWith(prefix)) return vectorBytes(vs[i]);
  return new Uint8Array(0);
}

describe("DubboSession", () => {
  it("matches D1 (id 1) with D5 (id 1)", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    feedOne(q, named("D1 "));
    s.onRequest(q, 1234);
    expect(s.lastRequestExpectsResponse()).toBe(true);
    expect(s.pending()).toBe(1);
    feedOne(r, named("D5 "));
    expect(s.onResponse(r)).toBe(MATCHED);
    expect(s.matchedRequestId()).toBe(1);
    expect(s.matchedStartNs()).toBe(1234);
    expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe("sayHello");
    expect(s.matchedIsHeartbeat()).toBe(false);
    expect(s.pending()).toBe(0);
    feedOne(r, named("D5 "));
    expect(s.onResponse(r)).toBe(UNEXPECTED); // answered already
  });

  it("matches responses out of order", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    for (let id: i64 = 1; id <= 5; id++) request(q, s, id, "m" + id.toString(), id * 10);
    const order: i64[] = [3, 1, 5, 2, 4];
    for (let k = 0; k < order.length; k++) {
      expect(response(r, s, order[k])).toBe(MATCHED);
      expect(s.matchedRequestId()).toBe(order[k]);
      expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe("m" + order[k].toString());
      expect(s.matchedStartNs()).toBe(order[k] * 10);
    }
    expect(s.pending()).toBe(0);
  });

  it("one-way requests and one-way events expect no response; heartbeats are tracked", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    feedOne(q, named("D2 ")); // one-way, id 2
    s.onRequest(q, 0);
    expect(s.lastRequestExpectsResponse()).toBe(false);
    feedOne(q, named("D15 ")); // one-way READONLY event, id 12
    s.onRequest(q, 0);
    expect(s.lastRequestExpectsResponse()).toBe(false);
    expect(s.pending()).toBe(0);
    feedOne(q, named("D3 ")); // heartbeat, id 3
    s.onRequest(q, 77);
    expect(s.pending()).toBe(1);
    feedOne(r, named("D6 ")); // a response with id 2: nothing waits for it
    expect(s.onResponse(r)).toBe(UNEXPECTED);
    feedOne(r, named("D4 ")); // heartbeat response, id 3
    expect(s.onResponse(r)).toBe(MATCHED);
    expect(s.matchedIsHeartbeat()).toBe(true);
    expect(s.matchedStartNs()).toBe(77);
    expect(s.matchedMethodLen()).toBe(0);
  });

  it("a request given to onResponse is not a response", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    request(q, s, 9, "x", 0);
    expect(s.onResponse(q)).toBe(UNEXPECTED);
    expect(s.pending()).toBe(1);
  });

  it("a repeated id replaces the older request", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    request(q, s, 7, "first", 1);
    request(q, s, 7, "second", 2);
    expect(s.pending()).toBe(1);
    expect(response(r, s, 7)).toBe(MATCHED);
    expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe("second");
    expect(s.pending()).toBe(0);
  });

  it("keeps at most 64 method bytes", () => {
    const s = new DubboSession();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    const long = "abcdefghij".repeat(10);
    request(q, s, 1, long, 0);
    response(r, s, 1);
    expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe(long.substring(0, 64));
  });

  it("gives correlation up past maxPending", () => {
    const s = new DubboSession(4);
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    for (let id: i64 = 1; id <= 4; id++) request(q, s, id, "m", 0);
    expect(s.pending()).toBe(4);
    expect(s.overflowed()).toBe(false);
    request(q, s, 5, "m", 0);
    expect(s.overflowed()).toBe(true);
    expect(s.pending()).toBe(0);
    expect(response(r, s, 1)).toBe(UNEXPECTED);
    request(q, s, 6, "m", 0);
    expect(s.pending()).toBe(0);
  });

  it("pairs a whole pipelined exchange fed in random splits", () => {
    const q = new Writer().raw(named("D1 ")).raw(named("D3 ")).raw(named("D12 ")).raw(named("D2 ")).toBytes();
    // responses for ids 9 (D12), 3 (heartbeat), 1 (D1), in that order
    const r = new Writer()
      .raw(frameOf(0x02, 20, 9, new Writer().u8(0x91).u8(0x90).toBytes()))
      .raw(named("D4 "))
      .raw(named("D5 "))
      .toBytes();
    for (let seed: u32 = 1; seed <= 5; seed++) {
      const s = new DubboSession();
      const rq = runDubbo(new DubboDecoder(new DubboLimits()), q, RANDOM, new Rng(seed), true, s);
      expect(rq.msgs.length).toBe(4);
      expect(s.pending()).toBe(3);
      const rp = runDubbo(new DubboDecoder(new DubboLimits()), r, RANDOM, new Rng(seed + 100), true, s);
      expect(rp.msgs.length).toBe(3);
      expect(rp.msgs[0].correlation).toBe(MATCHED);
      expect(rp.msgs[0].matchedMethod).toBe(hexOf(changetype<usize>(String.UTF8.encode("complex")), 7));
      expect(rp.msgs[1].correlation).toBe(MATCHED);
      expect(rp.msgs[1].matchedId).toBe(3);
      expect(rp.msgs[2].correlation).toBe(MATCHED);
      expect(rp.msgs[2].matchedStart).toBe(0); // D1 was the first request (the driver passes its index)
      expect(s.pending()).toBe(0);
    }
  });

  it("agrees with a Map under random requests and responses (growth, collisions, deletion)", () => {
    const rng = new Rng(4242);
    const s = new DubboSession(100000);
    const ref = new Map<i64, string>();
    const q = new DubboDecoder(new DubboLimits());
    const r = new DubboDecoder(new DubboLimits());
    let live: i64[] = [];
    for (let op = 0; op < 6000; op++) {
      const pick = rng.below(10);
      if (pick < 5 || live.length == 0) {
        // ids: sequential-ish, clustered (probe collisions) and huge/negative ones
        const kind = rng.below(3);
        const id: i64 = kind == 0 ? <i64>rng.below(3000) : kind == 1 ? <i64>rng.below(64) * 4096 : -(<i64>rng.next()) << 20;
        const m = "m" + (op % 97).toString();
        request(q, s, id, m, <i64>op);
        if (!ref.has(id)) live.push(id);
        ref.set(id, m);
      } else if (pick < 9) {
        const k = rng.below(live.length);
        const id = live[k];
        live[k] = live[live.length - 1];
        live.pop();
        expect(response(r, s, id)).toBe(MATCHED);
        expect(text(s.matchedMethodPtr(), s.matchedMethodLen())).toBe(ref.get(id));
        ref.delete(id);
      } else {
        const id: i64 = 1000000000 + <i64>rng.below(1000);
        expect(response(r, s, id)).toBe(UNEXPECTED);
      }
      expect(s.pending()).toBe(ref.size);
    }
    // drain
    for (let k = 0; k < live.length; k++) expect(response(r, s, live[k])).toBe(MATCHED);
    expect(s.pending()).toBe(0);
    expect(s.overflowed()).toBe(false);
  });
});
