// Dubbo enforcement under the harness (in memory): the built module with policies, fed Dubbo frames
// whose Hessian 2 bodies hessian.js wrote (header per ExchangeCodec: test/support/dubbo-build.ts), its output split
// by the tests' own framer (test/support/dubbo-wire.ts) and read back with hessian.js. Whole, byte by
// byte and in random pieces:
//   - a denied two-way request goes upstream as exactly a heartbeat request with its id; the
//     provider's heartbeat answer comes back as exactly a response with that id, status 70 and the
//     policy's message as the Hessian string body (rate limit: status 100); a denied one-way request
//     is gone; every other byte is what was sent, in order, replies out of order included;
//   - matching on service, method, version (present or not), group, attachments (header.<name>), with
//     exact, prefix, regex and present;
//   - a client heartbeat that reuses the id of a denied request gets the provider's own answer;
//   - fault abort and delay, the rate limit with its refill;
//   - a denied request in a serialization the filter cannot write an error for, or larger than
//     max_hold_bytes once its start was forwarded, closes the connection before it reaches the provider;
//   - the counters, exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadFilter, openConnection } from "../support/filter.js";
import type { Clock, WasmVm } from "../host/vm.js";
import { durationSamples, legacyCounter } from "../support/metawire-metrics.js";
import type { FilterConnection } from "../host/connection.js";
import { dubboFrames, isHeartbeat, requestHead } from "../support/dubbo-wire.js";
import { segments } from "../support/thrift-wire.js";
import { HESSIAN2, errorResponse, heartbeat, heartbeatAnswer, hessian, okResponse, request, type Call } from "../support/dubbo-build.js";

const count = (vm: WasmVm, name: string) => legacyCounter(vm.metrics, "dubbo", name);
const durations = (vm: WasmVm) => durationSamples(vm.metrics, "dubbo").length;
const SPLITS = ["whole", "bytes", 7, 4242] as const;
type Split = (typeof SPLITS)[number] | number | { size: number };

function feed(conn: FilterConnection, bytes: Buffer, how: Split, up = false): void {
  for (const part of segments(bytes, how)) {
    if (conn.closed) return;
    if (up) conn.upstreamData(part); else conn.downstreamData(part);
  }
}

const DENY_DELETE = { name: "no-delete", match: { method: { exact: "delete" } }, deny: { message: "delete is denied ✋ 😀" } };

test("a denied request becomes a heartbeat with its id, the answer the policy's error; a denied one-way request is dropped: any segmentation", async () => {
  const get = request({ id: 1, method: "get" });
  const del = request({ id: 2, method: "delete", args: ["k1", "k2"], attachments: { "x-tenant": "acme" } });
  const oneway = request({ id: 3, method: "delete", twoWay: false });
  const hb = heartbeat(4);
  const put = request({ id: 5, method: "put", args: ["k", "v".repeat(300)] });
  const expectedUp = Buffer.concat([get, heartbeat(2), hb, put]);
  // the provider answers out of order
  const replies = Buffer.concat([okResponse(5, "stored"), heartbeatAnswer(2), heartbeatAnswer(4), okResponse(1, "value ✓")]);
  const expectedDown = Buffer.concat([okResponse(5, "stored"), errorResponse(2, 70, DENY_DELETE.deny.message), heartbeatAnswer(4), okResponse(1, "value ✓")]);
  for (const how of SPLITS) {
    const vm = await loadFilter({ protocol: "dubbo", policies: [DENY_DELETE] });
    const conn = openConnection(vm);
    feed(conn, Buffer.concat([get, del, oneway, hb, put]), how);
    const up = Buffer.from(conn.sentUpstream());
    assert.ok(up.equals(expectedUp), `split=${how}: upstream\n got  ${up.toString("hex")}\n want ${expectedUp.toString("hex")}`);
    assert.deepEqual(dubboFrames(up).map((f) => [f.id, isHeartbeat(f) ? "heartbeat" : requestHead(f).method]),
      [[1n, "get"], [2n, "heartbeat"], [4n, "heartbeat"], [5n, "put"]]);
    feed(conn, replies, how, true);
    const down = Buffer.from(conn.sentDownstream());
    assert.ok(down.equals(expectedDown), `split=${how}: downstream\n got  ${down.toString("hex")}\n want ${expectedDown.toString("hex")}`);
    const err = dubboFrames(down)[1];
    assert.deepEqual([err.id, err.request, err.event, err.status, err.serialization], [2n, false, false, 70, HESSIAN2]);
    assert.equal(hessian.decode(down.subarray(err.offset + 16, err.offset + 16 + err.bodyLength), "2.0"), DENY_DELETE.deny.message);
    assert.deepEqual({
      requests: count(vm, "requests_total"), denied: count(vm, "denied_total"), ok: count(vm, "replies_ok"), error: count(vm, "replies_error"),
      outOfBand: count(vm, "out_of_band_total"), decode: count(vm, "decode_errors_total"), closed: count(vm, "policy_closed_total"),
      rewriteFailures: count(vm, "rewrite_failures_total"), durations: durations(vm),
      // one latency sample per answered request, the denied one (answered by the filter) included
    }, { requests: 4, denied: 2, ok: 2, error: 1, outOfBand: 2, decode: 0, closed: 0, rewriteFailures: 0, durations: 3 }, `split=${how}: counters`);
    assert.equal(conn.closed, false);
    assert.equal(vm.failed, undefined);
  }
});

test("matching on service, method, version, group and attachments, with exact, prefix, regex and present", async () => {
  const policies = [
    { name: "svc", match: { service: { exact: "org.shop.Admin" }, method: { exact: "reset" } }, deny: { message: "svc" } },
    { name: "prefix", match: { service: { prefix: "org.legacy." } }, deny: { message: "prefix" } },
    { name: "regex", match: { method: { regex: "(?i)drop.*" } }, deny: { message: "regex" } },
    { name: "version", match: { version: { exact: "2.0.0" }, method: { exact: "get" } }, deny: { message: "version" } },
    { name: "no-version", match: { version: { present: false }, method: { exact: "put" } }, deny: { message: "no-version" } },
    { name: "group", match: { group: { exact: "canary" } }, deny: { message: "group" } },
    { name: "tenant", match: { "header.x-tenant": { exact: "evil", ignore_case: true } }, deny: { message: "tenant" } },
  ];
  const cases: [Call, string | null][] = [
    [{ id: 1, service: "org.shop.Admin", method: "reset" }, "svc"],
    [{ id: 2, service: "org.shop.Admin", method: "status" }, null],
    [{ id: 3, service: "org.shop.Cart", method: "reset" }, null],
    [{ id: 4, service: "org.legacy.Cart", method: "get" }, "prefix"],
    [{ id: 5, service: "org.legacyCart", method: "get" }, null],
    [{ id: 6, method: "DropAll" }, "regex"],
    [{ id: 7, method: "undrop" }, null],                        // regex is a full match
    [{ id: 8, version: "2.0.0", method: "get" }, "version"],
    [{ id: 9, version: "2.0.1", method: "get" }, null],
    [{ id: 10, version: null, method: "put" }, "no-version"],
    [{ id: 11, version: "1.0.0", method: "put" }, null],
    [{ id: 12, attachments: { group: "canary" } }, "group"],
    [{ id: 13, attachments: { group: "stable" } }, null],
    [{ id: 14, attachments: { "x-tenant": "EVIL" } }, "tenant"],
    [{ id: 15, attachments: { "X-Tenant": "evil" } }, null],    // attachment names are case-sensitive
    [{ id: 16, attachments: { "x-tenant": "evil-twin" } }, null],
  ];
  const vm = await loadFilter({ protocol: "dubbo", policies });
  const conn = openConnection(vm);
  const frames = cases.map(([c]) => request(c));
  feed(conn, Buffer.concat(frames), 11);
  const up = Buffer.from(conn.sentUpstream());
  assert.ok(up.equals(Buffer.concat(cases.map(([c, denied], i) => (denied ? heartbeat(c.id) : frames[i])))), "upstream");
  // the provider answers each frame it got
  feed(conn, Buffer.concat(cases.map(([c, denied]) => (denied ? heartbeatAnswer(c.id) : okResponse(c.id, "ok")))), "bytes", true);
  const down = Buffer.from(conn.sentDownstream());
  const got = dubboFrames(down).map((f) => [Number(f.id), f.status === 20 ? null : hessian.decode(down.subarray(f.offset + 16, f.offset + 16 + f.bodyLength), "2.0")]);
  assert.deepEqual(got, cases.map(([c, denied]) => [c.id, denied]));
  assert.equal(count(vm, "denied_total"), cases.filter(([, d]) => d).length);
});

test("a client heartbeat reusing the id of a denied request gets the provider's own answer", async () => {
  const vm = await loadFilter({ protocol: "dubbo", policies: [DENY_DELETE] });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.concat([request({ id: 7, method: "delete" }), heartbeat(7)]));
  assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([heartbeat(7), heartbeat(7)])));
  conn.upstreamData(Buffer.concat([heartbeatAnswer(7), heartbeatAnswer(7)]));
  assert.ok(Buffer.from(conn.sentDownstream()).equals(Buffer.concat([errorResponse(7, 70, DENY_DELETE.deny.message), heartbeatAnswer(7)])));
  assert.deepEqual([count(vm, "denied_total"), count(vm, "replies_error"), count(vm, "out_of_band_total")], [1, 1, 2]);
});

/** A clock the test moves, and manual ticks. */
function manualClock(): Clock & { advanceMs(ms: number): void } {
  let ns = 5_000_000_000n;
  return { realtimeNs: () => ns, monotonicNs: () => ns, advanceMs: (ms: number) => { ns += BigInt(Math.round(ms * 1e6)); } };
}

test("rate limit: status 100 with the policy's message once the burst is spent, a token back after 1/per_second", async () => {
  const clock = manualClock();
  const vm = await loadFilter({ protocol: "dubbo", policies: [{ name: "rl", match: { service: { prefix: "org.shop." } },
    rate_limit: { per_second: 20, burst: 2, message: "slow down" } }] }, { clock, timers: "manual" });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.concat([1, 2, 3].map((id) => request({ id }))));
  conn.downstreamData(request({ id: 4, service: "org.other.Svc" }));
  clock.advanceMs(50);
  conn.downstreamData(Buffer.concat([5, 6].map((id) => request({ id }))));
  const up = dubboFrames(Buffer.from(conn.sentUpstream()));
  assert.deepEqual(up.map((f) => [Number(f.id), f.event]), [[1, false], [2, false], [3, true], [4, false], [5, false], [6, true]]);
  conn.upstreamData(Buffer.concat([okResponse(1, "a"), okResponse(2, "b"), heartbeatAnswer(3), okResponse(4, "c"), okResponse(5, "d"), heartbeatAnswer(6)]));
  const down = Buffer.from(conn.sentDownstream());
  const frames = dubboFrames(down);
  assert.deepEqual(frames.map((f) => [Number(f.id), f.status]), [[1, 20], [2, 20], [3, 100], [4, 20], [5, 20], [6, 100]]);
  assert.ok(down.subarray(frames[2].offset, frames[3].offset).equals(errorResponse(3, 100, "slow down")));
  assert.deepEqual([count(vm, "rate_limited_total"), count(vm, "denied_total"), count(vm, "replies_ok"), count(vm, "replies_error")], [2, 0, 4, 2]);
});

test("fault abort at 100 % answers with status 70 and its message; a delay fault holds the request for its time", async () => {
  const clock = manualClock();
  const vm = await loadFilter({ protocol: "dubbo", policies: [
    { name: "abort", match: { method: { exact: "boom" } }, fault: { abort: { percent: 100, message: "injected" } } },
    { name: "slow", match: { method: { exact: "slow" } }, fault: { delay: { percent: 100, ms: 150 } } },
  ] }, { clock, timers: "manual" });
  const conn = openConnection(vm);
  conn.downstreamData(request({ id: 1, method: "boom" }));
  assert.ok(Buffer.from(conn.sentUpstream()).equals(heartbeat(1)));
  conn.upstreamData(heartbeatAnswer(1));
  assert.ok(Buffer.from(conn.sentDownstream()).equals(errorResponse(1, 70, "injected")));
  const slow = request({ id: 2, method: "slow" }), next = request({ id: 3, method: "get" });
  conn.downstreamData(Buffer.concat([slow, next]));
  const sent = conn.sentUpstream().length;
  clock.advanceMs(149);
  vm.tick();
  assert.equal(conn.sentUpstream().length, sent, "held at 149 ms");
  clock.advanceMs(1);
  vm.tick();
  assert.ok(Buffer.from(conn.sentUpstream()).subarray(sent).equals(Buffer.concat([slow, next])), "released unchanged at 150 ms");
  assert.deepEqual([count(vm, "aborted_total"), count(vm, "delayed_total"), count(vm, "requests_total")], [1, 1, 3]);
});

test("a denied request the filter cannot answer in-band closes the connection before it reaches the provider", async () => {
  const everything = { name: "all", match: { method: { exact: "delete" } }, deny: {} };
  // another serialization than Hessian 2 (fastjson2 = 23): its body is not parsed, so match on what the header says
  const vm = await loadFilter({ protocol: "dubbo", policies: [{ name: "all", deny: {} }] });
  const conn = openConnection(vm);
  conn.downstreamData(request({ id: 1, serialization: 23 }));
  assert.equal(conn.sentUpstream().length, 0);
  assert.ok(conn.closed, "closed");
  assert.deepEqual([count(vm, "policy_closed_total"), count(vm, "denied_total")], [1, 1]);

  // larger than max_hold_bytes: its start goes up, then the connection closes before its end
  const vm2 = await loadFilter({ protocol: "dubbo", max_hold_bytes: 1024, policies: [everything] });
  const conn2 = openConnection(vm2);
  const small = request({ id: 1, method: "get" });
  const big = request({ id: 2, method: "delete", args: ["x".repeat(5000)] });
  conn2.downstreamData(small);
  feed(conn2, big, { size: 512 });
  const up = Buffer.from(conn2.sentUpstream());
  assert.ok(conn2.closed, "closed");
  assert.ok(up.length > small.length && up.length < small.length + big.length, `${up.length - small.length} of ${big.length} bytes went up`);
  assert.ok(up.equals(Buffer.concat([small, big.subarray(0, up.length - small.length)])), "what went up is unchanged");
  assert.deepEqual([count(vm2, "hold_overflow_total"), count(vm2, "policy_closed_total"), count(vm2, "denied_total")], [1, 1, 1]);
});

test("protocol auto: a Dubbo connection is enforced the same way", async () => {
  const vm = await loadFilter({ protocol: "auto", policies: [DENY_DELETE] });
  const conn = openConnection(vm);
  const get = request({ id: 1, method: "get" });
  feed(conn, Buffer.concat([get, request({ id: 2, method: "delete" })]), "bytes");
  assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([get, heartbeat(2)])));
  feed(conn, Buffer.concat([heartbeatAnswer(2), okResponse(1, "v")]), "bytes", true);
  assert.ok(Buffer.from(conn.sentDownstream()).equals(Buffer.concat([errorResponse(2, 70, DENY_DELETE.deny.message), okResponse(1, "v")])));
  assert.equal(count(vm, "denied_total"), 1);
});
