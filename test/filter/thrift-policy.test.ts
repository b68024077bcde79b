// Thrift enforcement under the harness (in memory): the built module with policies, fed messages the
// npm `thrift` library wrote, its output read back by the same library (test/support/thrift-wire.ts).
// For every transport (framed, unframed, THeader) × protocol (strict binary, lax binary, compact),
// plain and multiplexed, whole, byte by byte and in random pieces:
//   - a denied CALL in the middle of a pipeline goes upstream as exactly the library's CALL of
//     `__metawire_denied` (same seqid; THeader seqid kept), frame/THeader lengths consistent; the
//     server's unknown-method answer comes back as exactly an EXCEPTION with the original method name
//     and seqid and TApplicationException{policy message, INTERNAL_ERROR (6)}; a denied ONEWAY is gone;
//     everything else is byte for byte what was sent, in order;
//   - matching on the multiplexed name (`Calc:add` → service Calc, method add), on THeader info
//     headers (`header.<name>`), fault abort and delay, the rate limit with its refill;
//   - a client sending `__metawire_denied` itself gets the server's own answer, and nothing else moves;
//   - a denied call larger than max_hold_bytes closes the connection before its last byte goes up;
//   - the counters, exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadFilter, openConnection } from "../support/filter.js";
import type { Clock, WasmVm } from "../host/vm.js";
import { durationSamples, legacyCounter } from "../support/metawire-metrics.js";
import type { FilterConnection } from "../host/connection.js";
import {
  INTERNAL_ERROR, MessageType, RESERVED_METHOD, UNKNOWN_METHOD, WIRE_STACKS, appException, message, readStream, reservedCall,
  segments, stackName, type WireStack,
} from "../support/thrift-wire.js";

const count = (vm: WasmVm, name: string) => legacyCounter(vm.metrics, "thrift", name);
const durations = (vm: WasmVm) => durationSamples(vm.metrics, "thrift").length;
const SPLITS = ["whole", "bytes", 7, 1234] as const;

function config(stack: WireStack, policies: object[], extra: object = {}): object {
  return { protocol: "thrift", thrift: { lax_binary_unframed: stack.protocol === "lax" }, policies, ...extra };
}

function feedDown(conn: FilterConnection, bytes: Buffer, how: (typeof SPLITS)[number] | number): void {
  for (const part of segments(bytes, how)) conn.downstreamData(part);
}
function feedUp(conn: FilterConnection, bytes: Buffer, how: (typeof SPLITS)[number] | number): void {
  for (const part of segments(bytes, how)) conn.upstreamData(part);
}

/** The answer of a server that does not know the method (as Apache servers write it: the name it got, type 1). */
const unknownMethod = (stack: WireStack, seqid: number, headerSeqId = 0) =>
  appException(stack, RESERVED_METHOD, seqid, `Unknown function ${RESERVED_METHOD}`, UNKNOWN_METHOD, { headerSeqId });
const okReply = (stack: WireStack, name: string, seqid: number, text: string, headerSeqId = 0) =>
  message(stack, name, MessageType.REPLY, seqid, [{ id: 0, string: text }], { headerSeqId });

const DENY_FIND = { name: "no-find", match: { method: { exact: "find" } }, deny: { message: "find is not allowed here ✋" } };
const DENY_RECORD = { name: "no-record", match: { method: { exact: "record" } }, deny: { message: "no recording" } };

test("a denied call becomes the reserved call, its reply the policy's exception; a denied oneway is dropped: every stack, plain and multiplexed, any segmentation", async () => {
  let cases = 0;
  for (const stack of WIRE_STACKS) {
    for (const service of ["", "Catalog"]) {
      const name = (m: string) => (service ? `${service}:${m}` : m);
      const header = stack.transport === "header";
      const h = (seq: number) => (header ? { headerSeqId: 1000 + seq, headers: { "x-tenant": "acme", "x-seq": String(seq) } } : {});
      const ping = message(stack, name("ping"), MessageType.CALL, 1, [], h(1));
      const find = message(stack, name("find"), MessageType.CALL, 2, [{ id: 1, i64: 404 }], h(2));
      const record = message(stack, name("record"), MessageType.ONEWAY, 3, [{ id: 1, string: "dropped" }, { id: 2, i64: 9 }], h(3));
      const echo = message(stack, name("echoText"), MessageType.CALL, 4, [{ id: 1, string: "héllo ✓" }], h(4));
      const requests = Buffer.concat([ping, find, record, echo]);
      const substitute = reservedCall(stack, service, 2, header ? 1002 : 0);
      const expectedUp = Buffer.concat([ping, substitute, echo]);

      const pong = okReply(stack, "ping", 1, "pong", header ? 1001 : 0);
      const unknown = unknownMethod(stack, 2, header ? 1002 : 0);
      const echoed = okReply(stack, "echoText", 4, "héllo ✓", header ? 1004 : 0);
      const policyError = appException(stack, "find", 2, DENY_FIND.deny.message, INTERNAL_ERROR, { headerSeqId: header ? 1002 : 0 });
      const expectedDown = Buffer.concat([pong, policyError, echoed]);

      for (const how of SPLITS) {
        const what = `${stackName(stack)} ${service || "plain"} split=${how}`;
        const vm = await loadFilter(config(stack, [DENY_FIND, DENY_RECORD]));
        const conn = openConnection(vm);
        feedDown(conn, requests, how);
        const up = Buffer.from(conn.sentUpstream());
        assert.ok(up.equals(expectedUp), `${what}: upstream\n got  ${up.toString("hex")}\n want ${expectedUp.toString("hex")}`);
        const sent = readStream(stack, up);
        assert.deepEqual(sent.map((m) => [m.name, m.type, m.seqid]),
          [[name("ping"), MessageType.CALL, 1], [name(RESERVED_METHOD), MessageType.CALL, 2], [name("echoText"), MessageType.CALL, 4]], what);
        if (header) assert.deepEqual(sent.map((m) => m.headerSeqId), [1001, 1002, 1004], `${what}: THeader seqids`);

        feedUp(conn, Buffer.concat([pong, unknown, echoed]), how);
        const down = Buffer.from(conn.sentDownstream());
        assert.ok(down.equals(expectedDown), `${what}: downstream\n got  ${down.toString("hex")}\n want ${expectedDown.toString("hex")}`);
        const got = readStream(stack, down);
        assert.deepEqual(got.map((m) => [m.name, m.type, m.seqid]),
          [["ping", MessageType.REPLY, 1], ["find", MessageType.EXCEPTION, 2], ["echoText", MessageType.REPLY, 4]], what);
        assert.deepEqual(got[1].ex, { message: DENY_FIND.deny.message, type: INTERNAL_ERROR }, what);

        assert.deepEqual({
          requests: count(vm, "requests_total"), denied: count(vm, "denied_total"), ok: count(vm, "replies_ok"),
          error: count(vm, "replies_error"), decode: count(vm, "decode_errors_total"), closed: count(vm, "policy_closed_total"),
          overflow: count(vm, "hold_overflow_total"), rewriteFailures: count(vm, "rewrite_failures_total"), durations: durations(vm),
          // one latency sample per answered request, the denied call (answered by the filter) included
        }, { requests: 4, denied: 2, ok: 2, error: 1, decode: 0, closed: 0, overflow: 0, rewriteFailures: 0, durations: 3 }, `${what}: counters`);
        assert.equal(conn.closed, false, what);
        assert.equal(vm.failed, undefined, what);
        cases++;
      }
    }
  }
  assert.equal(cases, WIRE_STACKS.length * 2 * SPLITS.length);
});

test("the multiplexed name is matched as service and method: Calc:add denied, Other:add, add and Calc:sub allowed", async () => {
  const policy = { name: "calc-add", match: { service: { exact: "Calc" }, method: { exact: "add" } }, deny: { message: "Calc:add is closed" } };
  for (const stack of WIRE_STACKS) {
    const args = [{ id: 1, i64: 2 }, { id: 2, i64: 3 }];
    const msgs = [["Calc:add", 1], ["Other:add", 2], ["add", 3], ["Calc:sub", 4], ["Calc:add", 5]] as const;
    const bytes = msgs.map(([n, s]) => message(stack, n, MessageType.CALL, s, args));
    const vm = await loadFilter(config(stack, [policy]));
    const conn = openConnection(vm);
    feedDown(conn, Buffer.concat(bytes), "bytes");
    const up = Buffer.from(conn.sentUpstream());
    const expected = Buffer.concat([reservedCall(stack, "Calc", 1), bytes[1], bytes[2], bytes[3], reservedCall(stack, "Calc", 5)]);
    assert.ok(up.equals(expected), `${stackName(stack)}: upstream ${up.toString("hex")}`);
    assert.deepEqual(readStream(stack, up).map((m) => m.name), [`Calc:${RESERVED_METHOD}`, "Other:add", "add", "Calc:sub", `Calc:${RESERVED_METHOD}`]);
    // a TMultiplexedProcessor answers with the bare method name
    feedUp(conn, Buffer.concat([unknownMethod(stack, 1), okReply(stack, "add", 2, "5"), okReply(stack, "add", 3, "5"),
      okReply(stack, "sub", 4, "-1"), unknownMethod(stack, 5)]), "whole");
    const got = readStream(stack, Buffer.from(conn.sentDownstream()));
    assert.deepEqual(got.map((m) => [m.name, m.type, m.seqid, m.ex?.message]), [
      ["add", MessageType.EXCEPTION, 1, "Calc:add is closed"], ["add", MessageType.REPLY, 2, undefined], ["add", MessageType.REPLY, 3, undefined],
      ["sub", MessageType.REPLY, 4, undefined], ["add", MessageType.EXCEPTION, 5, "Calc:add is closed"]], stackName(stack));
    assert.deepEqual([count(vm, "requests_total"), count(vm, "denied_total"), count(vm, "replies_ok"), count(vm, "replies_error")], [5, 2, 3, 2]);
  }
});

test("THeader info headers are matched through header.<name>; the substitute carries no info header", async () => {
  const policies = [
    { name: "blocked-tenant", match: { "header.x-tenant": { exact: "blocked" } }, deny: { message: "tenant blocked" } },
    { name: "canary-only", match: { "header.x-canary": { present: true }, method: { prefix: "echo" } }, deny: { message: "no canary echo" } },
  ];
  for (const protocol of ["binary", "compact"] as const) {
    const stack: WireStack = { transport: "header", protocol };
    const calls = [
      message(stack, "ping", MessageType.CALL, 1, [], { headers: { "x-tenant": "blocked" }, headerSeqId: 1 }),
      message(stack, "ping", MessageType.CALL, 2, [], { headers: { "x-tenant": "acme" }, headerSeqId: 2 }),
      message(stack, "ping", MessageType.CALL, 3, [], { headerSeqId: 3 }),
      message(stack, "echoText", MessageType.CALL, 4, [{ id: 1, string: "x" }], { headers: { "x-canary": "" }, headerSeqId: 4 }),
      message(stack, "ping", MessageType.CALL, 5, [], { headers: { "x-canary": "1" }, headerSeqId: 5 }),
      message(stack, "ping", MessageType.CALL, 6, [], { headers: { "X-Tenant": "blocked" }, headerSeqId: 6 }),   // names are case-sensitive
    ];
    const vm = await loadFilter(config(stack, policies));
    const conn = openConnection(vm);
    feedDown(conn, Buffer.concat(calls), 3);
    const sent = readStream(stack, Buffer.from(conn.sentUpstream()));
    assert.deepEqual(sent.map((m) => [m.name, m.seqid, m.headerSeqId, m.headers]), [
      [RESERVED_METHOD, 1, 1, {}], ["ping", 2, 2, { "x-tenant": "acme" }], ["ping", 3, 3, {}],
      [RESERVED_METHOD, 4, 4, {}], ["ping", 5, 5, { "x-canary": "1" }], ["ping", 6, 6, { "X-Tenant": "blocked" }]], protocol);
    feedUp(conn, Buffer.concat([unknownMethod(stack, 1, 1), okReply(stack, "ping", 2, "", 2), okReply(stack, "ping", 3, "", 3),
      unknownMethod(stack, 4, 4), okReply(stack, "ping", 5, "", 5), okReply(stack, "ping", 6, "", 6)]), "bytes");
    const got = readStream(stack, Buffer.from(conn.sentDownstream()));
    assert.deepEqual(got.map((m) => [m.name, m.seqid, m.headerSeqId, m.ex?.message ?? "ok"]), [
      ["ping", 1, 1, "tenant blocked"], ["ping", 2, 2, "ok"], ["ping", 3, 3, "ok"], ["echoText", 4, 4, "no canary echo"],
      ["ping", 5, 5, "ok"], ["ping", 6, 6, "ok"]]);
    assert.equal(count(vm, "denied_total"), 2);
  }
});

test("a client calling __metawire_denied itself gets the server's own answer; a denied call next to it still gets the policy's, in any reply order", async () => {
  for (const stack of WIRE_STACKS) {
    for (const service of ["", "Catalog"]) {
      const name = (m: string) => (service ? `${service}:${m}` : m);
      const own = message(stack, name(RESERVED_METHOD), MessageType.CALL, 5, [{ id: 1, string: "crafted" }]);
      const ownEmpty = reservedCall(stack, service, 8);   // the very bytes the filter writes, sent by the client
      const find = message(stack, name("find"), MessageType.CALL, 6, [{ id: 1, i64: 1 }]);
      const ping = message(stack, name("ping"), MessageType.CALL, 7, []);
      const vm = await loadFilter(config(stack, [DENY_FIND]));
      const conn = openConnection(vm);
      feedDown(conn, Buffer.concat([own, find, ping, ownEmpty]), "bytes");
      const up = Buffer.from(conn.sentUpstream());
      assert.ok(up.equals(Buffer.concat([own, reservedCall(stack, service, 6), ping, ownEmpty])), `${stackName(stack)} ${service}: upstream`);
      // the server answers out of order: 7, 8, 6, 5
      const r5 = unknownMethod(stack, 5), r8 = unknownMethod(stack, 8), pong = okReply(stack, "ping", 7, "pong");
      feedUp(conn, Buffer.concat([pong, r8, unknownMethod(stack, 6), r5]), "bytes");
      const down = Buffer.from(conn.sentDownstream());
      const policyError = appException(stack, "find", 6, DENY_FIND.deny.message, INTERNAL_ERROR);
      assert.ok(down.equals(Buffer.concat([pong, r8, policyError, r5])), `${stackName(stack)} ${service}: downstream ${down.toString("hex")}`);
      const got = readStream(stack, down);
      assert.deepEqual(got.map((m) => [m.name, m.seqid, m.ex?.type ?? null]),
        [["ping", 7, null], [RESERVED_METHOD, 8, UNKNOWN_METHOD], ["find", 6, INTERNAL_ERROR], [RESERVED_METHOD, 5, UNKNOWN_METHOD]]);
      assert.deepEqual([count(vm, "requests_total"), count(vm, "denied_total"), count(vm, "replies_ok"), count(vm, "replies_error")], [4, 1, 1, 3]);
    }
  }
});

test("a client reusing the seqid of a denied call for its own __metawire_denied: the first answer is the policy's, the second the server's", async () => {
  const stack: WireStack = { transport: "framed", protocol: "binary" };
  const vm = await loadFilter(config(stack, [DENY_FIND]));
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.concat([message(stack, "find", MessageType.CALL, 9, []), reservedCall(stack, "", 9)]));
  assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([reservedCall(stack, "", 9), reservedCall(stack, "", 9)])));
  conn.upstreamData(Buffer.concat([unknownMethod(stack, 9), unknownMethod(stack, 9)]));
  const got = readStream(stack, Buffer.from(conn.sentDownstream()));
  assert.deepEqual(got.map((m) => [m.name, m.seqid, m.ex]), [
    ["find", 9, { message: DENY_FIND.deny.message, type: INTERNAL_ERROR }],
    [RESERVED_METHOD, 9, { message: `Unknown function ${RESERVED_METHOD}`, type: UNKNOWN_METHOD }]]);
});

test("fault abort at 100 % rejects like a deny (aborted_total), at 0 % never", async () => {
  for (const stack of WIRE_STACKS) {
    for (const percent of [100, 0]) {
      const vm = await loadFilter(config(stack, [{ name: "chaos", match: { method: { exact: "summarize" } },
        fault: { abort: { percent, message: "injected fault" } } }]));
      const conn = openConnection(vm);
      const calls = [1, 2, 3].map((s) => message(stack, s === 2 ? "ping" : "summarize", MessageType.CALL, s, [{ id: 2, string: "label" }]));
      feedDown(conn, Buffer.concat(calls), 5);
      const sent = readStream(stack, Buffer.from(conn.sentUpstream()));
      const aborted = percent === 100;
      assert.deepEqual(sent.map((m) => m.name), aborted ? [RESERVED_METHOD, "ping", RESERVED_METHOD] : ["summarize", "ping", "summarize"]);
      feedUp(conn, Buffer.concat(aborted
        ? [unknownMethod(stack, 1), okReply(stack, "ping", 2, ""), unknownMethod(stack, 3)]
        : [okReply(stack, "summarize", 1, ""), okReply(stack, "ping", 2, ""), okReply(stack, "summarize", 3, "")]), 5);
      const got = readStream(stack, Buffer.from(conn.sentDownstream()));
      assert.deepEqual(got.map((m) => [m.name, m.seqid, m.ex ?? null]), [
        ["summarize", 1, aborted ? { message: "injected fault", type: INTERNAL_ERROR } : null], ["ping", 2, null],
        ["summarize", 3, aborted ? { message: "injected fault", type: INTERNAL_ERROR } : null]], `${stackName(stack)} ${percent} %`);
      assert.deepEqual([count(vm, "aborted_total"), count(vm, "denied_total"), count(vm, "replies_error")], aborted ? [2, 0, 2] : [0, 0, 0]);
    }
  }
});

/** A clock the test moves, and manual ticks: time passes only when the test says so. */
function manualClock(): Clock & { advanceMs(ms: number): void } {
  let ns = 1_000_000_000n;
  return { realtimeNs: () => ns, monotonicNs: () => ns, advanceMs: (ms: number) => { ns += BigInt(Math.round(ms * 1e6)); } };
}

test("a delay fault holds the call and everything behind it for its time, then lets it all through unchanged", async () => {
  for (const stack of WIRE_STACKS) {
    const clock = manualClock();
    const vm = await loadFilter(config(stack, [{ name: "slow", match: { method: { exact: "recorded" } }, fault: { delay: { percent: 100, ms: 200 } } }]),
      { clock, timers: "manual" });
    const conn = openConnection(vm);
    const first = message(stack, "ping", MessageType.CALL, 1, []);
    const slow = message(stack, "recorded", MessageType.CALL, 2, []);
    const after = message(stack, "ping", MessageType.CALL, 3, []);
    feedDown(conn, Buffer.concat([first, slow, after]), "whole");
    // the read holding the delayed call waits whole, the call before it included
    assert.equal(conn.sentUpstream().length, 0, `${stackName(stack)}: held`);
    clock.advanceMs(199);
    vm.tick();
    assert.equal(conn.sentUpstream().length, 0, `${stackName(stack)}: still held at 199 ms`);
    const late = message(stack, "ping", MessageType.CALL, 4, []);
    conn.downstreamData(late);   // arrives during the delay: queued behind it
    assert.equal(conn.sentUpstream().length, 0);
    clock.advanceMs(1);
    vm.tick();
    assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([first, slow, after, late])), `${stackName(stack)}: released at 200 ms`);
    assert.deepEqual([count(vm, "delayed_total"), count(vm, "requests_total"), count(vm, "denied_total")], [1, 4, 0]);
    // the next request is not delayed
    conn.downstreamData(message(stack, "ping", MessageType.CALL, 5, []));
    assert.equal(readStream(stack, Buffer.from(conn.sentUpstream())).length, 5);
  }
});

test("rate limit: burst calls pass, the next is rejected with the policy's message, a token comes back after 1/per_second", async () => {
  for (const stack of WIRE_STACKS) {
    const clock = manualClock();
    const vm = await loadFilter(config(stack, [{ name: "rl", match: { method: { exact: "ping" } },
      rate_limit: { per_second: 10, burst: 2, message: "slow down" } }]), { clock, timers: "manual" });
    const conn = openConnection(vm);
    const ping = (s: number) => message(stack, "ping", MessageType.CALL, s, []);
    feedDown(conn, Buffer.concat([ping(1), ping(2), ping(3), message(stack, "echoText", MessageType.CALL, 4, [])]), "bytes");
    clock.advanceMs(100);
    feedDown(conn, Buffer.concat([ping(5), ping(6)]), "whole");
    const sent = readStream(stack, Buffer.from(conn.sentUpstream()));
    assert.deepEqual(sent.map((m) => [m.name, m.seqid]), [["ping", 1], ["ping", 2], [RESERVED_METHOD, 3], ["echoText", 4], ["ping", 5], [RESERVED_METHOD, 6]]);
    feedUp(conn, Buffer.concat([okReply(stack, "ping", 1, ""), okReply(stack, "ping", 2, ""), unknownMethod(stack, 3), okReply(stack, "echoText", 4, ""),
      okReply(stack, "ping", 5, ""), unknownMethod(stack, 6)]), "whole");
    const got = readStream(stack, Buffer.from(conn.sentDownstream()));
    assert.deepEqual(got.map((m) => [m.name, m.seqid, m.ex?.message ?? "ok"]), [["ping", 1, "ok"], ["ping", 2, "ok"], ["ping", 3, "slow down"],
      ["echoText", 4, "ok"], ["ping", 5, "ok"], ["ping", 6, "slow down"]]);
    assert.equal(got[2].ex?.type, INTERNAL_ERROR);
    assert.deepEqual([count(vm, "rate_limited_total"), count(vm, "denied_total"), count(vm, "replies_ok"), count(vm, "replies_error")], [2, 0, 4, 2]);
  }
});

test("a denied call larger than max_hold_bytes: the connection closes before the call's last byte goes upstream", async () => {
  for (const stack of WIRE_STACKS) {
    const vm = await loadFilter(config(stack, [DENY_FIND], { max_hold_bytes: 1024 }));
    const conn = openConnection(vm);
    const ping = message(stack, "ping", MessageType.CALL, 1, []);
    const big = message(stack, "find", MessageType.CALL, 2, [{ id: 1, binary: Buffer.alloc(6000, 0x61) }]);
    const small = message(stack, "find", MessageType.CALL, 3, [{ id: 1, i64: 1 }]);
    feedDown(conn, Buffer.concat([ping, small]), "whole");
    assert.deepEqual(readStream(stack, Buffer.from(conn.sentUpstream())).map((m) => m.name), ["ping", RESERVED_METHOD], stackName(stack));
    const before = conn.sentUpstream().length;
    for (const part of segments(big, { size: 512 })) { if (!conn.closed) conn.downstreamData(part); }
    const forwarded = conn.sentUpstream().length - before;
    assert.ok(conn.closed, `${stackName(stack)}: closed`);
    assert.ok(forwarded < big.length, `${stackName(stack)}: ${forwarded} of ${big.length} bytes of the denied call went upstream`);
    assert.ok(Buffer.from(conn.sentUpstream()).subarray(before).equals(big.subarray(0, forwarded)), "what went up is the call's start, unchanged");
    assert.deepEqual([count(vm, "hold_overflow_total"), count(vm, "policy_closed_total"), count(vm, "denied_total")], [1, 1, 2]);
  }
});

test("a delayed call followed by denied ones, in the same read and in reads that arrive during the delay: released rewritten, in order", async () => {
  for (const stack of WIRE_STACKS) {
    const clock = manualClock();
    const vm = await loadFilter(config(stack, [DENY_FIND, { name: "slow", match: { method: { exact: "recorded" } },
      fault: { delay: { percent: 100, ms: 50 } } }]), { clock, timers: "manual" });
    const conn = openConnection(vm);
    const slow = message(stack, "recorded", MessageType.CALL, 1, []);
    const find = (s: number) => message(stack, "find", MessageType.CALL, s, [{ id: 1, i64: s }]);
    const ping = message(stack, "ping", MessageType.CALL, 4, []);
    feedDown(conn, Buffer.concat([slow, find(2)]), "whole");
    const later = Buffer.concat([find(3), ping]);
    feedDown(conn, later.subarray(0, 5), "whole");   // part of the next call arrives during the delay
    clock.advanceMs(50);
    vm.tick();
    // the released bytes end inside find(3): they stay held until the call is whole
    feedDown(conn, later.subarray(5), "bytes");
    const up = Buffer.from(conn.sentUpstream());
    const expected = Buffer.concat([slow, reservedCall(stack, "", 2), reservedCall(stack, "", 3), ping]);
    assert.ok(up.equals(expected), `${stackName(stack)}: upstream\n got  ${up.toString("hex")}\n want ${expected.toString("hex")}`);
    feedUp(conn, Buffer.concat([okReply(stack, "recorded", 1, ""), unknownMethod(stack, 2), unknownMethod(stack, 3), okReply(stack, "ping", 4, "")]), "bytes");
    assert.deepEqual(readStream(stack, Buffer.from(conn.sentDownstream())).map((m) => [m.name, m.seqid, m.ex?.message ?? "ok"]),
      [["recorded", 1, "ok"], ["find", 2, DENY_FIND.deny.message], ["find", 3, DENY_FIND.deny.message], ["ping", 4, "ok"]], stackName(stack));
    assert.deepEqual([count(vm, "delayed_total"), count(vm, "denied_total"), count(vm, "requests_total")], [1, 2, 4]);
  }
});

test("a seqid repeated on a multiplexed connection: only the answer to the reserved call becomes the policy's exception", async () => {
  // clients of different multiplexed services number their calls independently: Calc:add #1 (denied)
  // and Other:get #1 (allowed) are in flight together, and the server answers Other:get first
  for (const stack of WIRE_STACKS) {
    for (const maxName of [256, 8]) {   // 8: the kept reply names are cut ("__metawi")
      const vm = await loadFilter(config(stack, [{ name: "calc", match: { service: { exact: "Calc" } }, deny: { message: "no Calc" } }],
        { thrift: { lax_binary_unframed: stack.protocol === "lax", max_name_bytes: maxName } }));
      const conn = openConnection(vm);
      const get = message(stack, "Other:get", MessageType.CALL, 1, []);
      feedDown(conn, Buffer.concat([message(stack, "Calc:add", MessageType.CALL, 1, []), get]), "whole");
      assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([reservedCall(stack, "Calc", 1), get])));
      const value = okReply(stack, "get", 1, "value");
      feedUp(conn, Buffer.concat([value, unknownMethod(stack, 1)]), "bytes");
      const down = Buffer.from(conn.sentDownstream());
      const expected = Buffer.concat([value, appException(stack, "add", 1, "no Calc", INTERNAL_ERROR)]);
      assert.ok(down.equals(expected), `${stackName(stack)} max_name_bytes ${maxName}: downstream ${JSON.stringify(readStream(stack, down))}`);
      assert.deepEqual([count(vm, "replies_ok"), count(vm, "replies_error")], [1, 1]);
    }
  }
});

test("protocol auto: a Thrift connection is enforced the same way", async () => {
  for (const stack of WIRE_STACKS.filter((s) => s.protocol !== "lax")) {
    const vm = await loadFilter({ protocol: "auto", policies: [DENY_FIND] });
    const conn = openConnection(vm);
    const ping = message(stack, "ping", MessageType.CALL, 1, []);
    feedDown(conn, Buffer.concat([ping, message(stack, "find", MessageType.CALL, 2, [{ id: 1, i64: 3 }]), ping]), "bytes");
    assert.ok(Buffer.from(conn.sentUpstream()).equals(Buffer.concat([ping, reservedCall(stack, "", 2), ping])), stackName(stack));
    feedUp(conn, Buffer.concat([okReply(stack, "ping", 1, ""), unknownMethod(stack, 2), okReply(stack, "ping", 1, "")]), "bytes");
    assert.deepEqual(readStream(stack, Buffer.from(conn.sentDownstream())).map((m) => m.ex?.message ?? "ok"), ["ok", DENY_FIND.deny.message, "ok"]);
    assert.equal(count(vm, "denied_total"), 1);
  }
});
