// Real Apache Thrift peers through metawire (build/metawire.wasm in the TCP proxy, protocol thrift,
// expose every): for each transport × protocol stack of the Node library (framed, buffered, header ×
// binary, compact), a Node Thrift server behind the proxy and a generated Node client in front of
// it run the same workload as against a second, identical server reached directly — struct/container
// calls, 1 MiB arguments and results, oneways, declared exceptions, TApplicationExceptions (handler
// error, unknown method), a batch of calls sent back to back and answered out of order. Checked: the
// results equal the direct ones; the bytes on both sides of the proxy are identical and really are
// the stack's wire format; the counters and the latency histogram count exactly what was sent; the
// filter state at close names the last request (seqid, kind, THeader info headers) and last reply.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { joined } from "../support/tcp-tap.js";
import { thriftDelta, thriftSnapshot, type ThriftSnapshot } from "../support/thrift-metrics.js";
import {
  classifyStream, i64, loadThriftCode, makeItem, normalize, pseudoRandomBytes, thriftStacks, ThriftSession,
  type Outcome, type ThriftCode,
} from "../support/thrift-peers.js";
import { assertBytesUntouched, closedState, dump, expectedState, waitFor, withThriftEnv, type ThriftEnv } from "../support/thrift-e2e.js";
import { thriftSkipReason } from "../thrift/generate.js";

const skip = thriftSkipReason();

const BIG_BLOB = pseudoRandomBytes((1 << 20) + 7, 0x5eed);
const BIG_TEXT = "ü✓ metawire 𝄞 ".repeat(75_000);   // 1,275,000 UTF-8 bytes

/**
 * The workload: the same on the direct and the proxied connection; the last request is find(404).
 * `deferred`: the batch's echoText calls are answered asynchronously, after the calls sent behind
 * them (the server holds them until it has handled the next oneway: out-of-order replies). On
 * THeader, the Node server sends such replies without THeader framing (see the case below).
 */
async function workload(t: ThriftCode, s: ThriftSession, deferred: boolean): Promise<unknown[]> {
  const r: unknown[] = [];
  r.push(await s.call("ping", []));
  r.push(await s.call("summarize", [[makeItem(t, 1, 2), makeItem(t, 2, 1), makeItem(t, 3, 0, 0)], "first"]));
  r.push(await s.call("echoText", ["héllo ✓ wörld \u0000 end"]));
  r.push(await s.call("echoText", [""]));
  r.push(await s.call("find", [i64(7)]));
  r.push(await s.call("find", [i64(404)]));       // declared NotFound
  r.push(await s.call("find", [i64(-3)]));        // declared Invalid
  r.push(await s.call("crash", ["undeclared"]));  // handler error → TApplicationException
  r.push(await s.call("added", [1]));             // not served → TApplicationException (unknown method)
  s.oneway("record", ["one", i64(1)]);

  const blob = await s.call("echoBlob", [BIG_BLOB]);
  assert.deepEqual(blob, { ok: normalize(BIG_BLOB) }, `${s.stack.name}: the 1 MiB binary comes back intact`);
  r.push(blob);
  const text = await s.call("echoText", [BIG_TEXT]);
  assert.ok("ok" in text && text.ok === BIG_TEXT, `${s.stack.name}: the 1 MiB string comes back intact`);
  r.push(normalize(Buffer.from(BIG_TEXT)));
  r.push(await s.call("summarize", [[makeItem(t, 9, 1, 1 << 20), makeItem(t, 10, 0)], "one big item"]));

  // Sent back to back without waiting for replies.
  const batch: Promise<Outcome>[] = [];
  const answered: number[] = [];
  for (let i = 0; i < 30; i++) {
    let p: Promise<Outcome> | undefined;
    switch (i % 6) {
      case 0: p = s.call("echoText", [`${deferred ? "slow" : "now"}:${i}`]); break;
      case 1: p = s.call("find", [i64(i % 4 === 1 ? 404 : i)]); break;
      case 2: p = s.call("summarize", [[makeItem(t, i, 1)], `batch ${i}`]); break;
      case 3: s.oneway("record", [`batch ${i}`, i64(i)]); break;
      case 4: p = s.call("crash", [`batch ${i}`]); break;
      case 5: p = s.call("echoBlob", [pseudoRandomBytes(1000 + i, i)]); break;
    }
    if (p) batch.push(p.then((o) => { answered.push(i); return o; }));
  }
  r.push(await Promise.all(batch));
  if (deferred) assert.notEqual(answered[0], 0, `${s.stack.name}: replies came in order ${answered}; the batch was meant to be answered out of order`);
  r.push(await s.call("recorded", []));           // every oneway reached the server before this call
  r.push(await s.call("find", [i64(404)]));
  return r;
}

const HEADERS = { Tenant: "Acme", "x-trace": "span=1;sampled" };

async function stackCase(env: ThriftEnv): Promise<void> {
  const { t, stack } = env;
  const header = stack.transport === "header";

  // the reference: the same workload straight to an identical server
  const d = await ThriftSession.open(t, stack, env.direct.port);
  if (header) d.headers = HEADERS;
  const expected = await workload(t, d, true);
  await d.close();

  const before = thriftSnapshot(env.proxy.metrics);
  const s = await ThriftSession.open(t, stack, env.tapIn.port);
  if (header) s.headers = HEADERS;
  const actual = await workload(t, s, true);
  await s.close();
  const mainState = await closedState(env, 0);

  // a second connection, ending with a TApplicationException reply and then a oneway request
  const s2 = await ThriftSession.open(t, stack, env.tapIn.port);
  if (header) s2.headers = { Tenant: "Globex" };
  const crash = await s2.call("crash", ["tail"]);
  s2.oneway("record", ["bye", i64(99)]);
  await waitFor(() => env.behind.catalog.records.includes("bye"), "the oneway at the server");
  await s2.close();
  const tailState = await closedState(env, 1);
  const delta = thriftDelta(before, thriftSnapshot(env.proxy.metrics));

  assert.deepEqual(actual, expected, `${stack.name}: results through the proxy differ from direct ones`);
  assert.deepEqual(s.tally, d.tally);
  assert.deepEqual(s.tally, { messages: 45, oneway: 6, ok: 26, declared: 6, app: 7 }, "the workload did what it says");
  assert.deepEqual([...s.errors, ...s2.errors, ...d.errors, ...env.behind.errors, ...env.direct.errors], [], "no client or server errors");

  for (const k of [0, 1]) assertBytesUntouched(env, k);
  const wire = env.tapOut.connections[0];
  assert.equal(classifyStream(joined(wire.up)), stack.name, `${stack.name}: requests on the wire${dump(env, 0)}`);
  assert.equal(classifyStream(joined(wire.down)), stack.name, `${stack.name}: replies on the wire${dump(env, 0)}`);

  assert.ok("app" in crash, "crash() is answered with a TApplicationException");
  assert.deepEqual(delta, {
    cx_total: 2,
    requests_total: s.tally.messages + s2.tally.messages,
    replies_ok: s.tally.ok,
    replies_error: s.tally.declared + s.tally.app + 1,   // + the tail's crash()
    decode_errors_total: 0,
    passthrough_total: 0,
    duration_samples: s.tally.ok + s.tally.declared + s.tally.app + 1,
  } satisfies ThriftSnapshot, `${stack.name}: metrics${dump(env, 0)}`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), "no VM failed");

  assert.deepEqual(mainState, expectedState(s, { status: "error", code: "" }), `${stack.name}: filter state after find(404)`);
  assert.deepEqual(tailState, expectedState(s2, { status: "exception", code: String(crash.app.type) }),
    `${stack.name}: filter state after crash() and a oneway record()`);
  assert.equal(tailState["wasm.metawire.kind"], "oneway");
  if (header) {
    assert.equal(mainState["wasm.metawire.header.x-trace"], "span=1;sampled");
    assert.equal(tailState["wasm.metawire.header.Tenant"], "Globex");
  }
}

/**
 * The Node THeader server answers a call whose handler completes later (asynchronously) without
 * THeader framing: its read loop ends by trying to read the next message from an empty buffer,
 * which clears the transport's "the client speaks THeader" flag, so the deferred reply leaves as a
 * bare unframed binary/compact message between THeader frames. The Node client reads either, and
 * so does metawire: on a THeader connection it recognises every message by its first bytes, as
 * Apache C++ THeaderTransport does.
 */
async function deferredHeaderReplyCase(env: ThriftEnv): Promise<void> {
  const { t, stack } = env;
  const calls = async (s: ThriftSession) => [await s.call("ping", []), await s.call("echoText", ["later:x"]), await s.call("ping", [])];
  const d = await ThriftSession.open(t, stack, env.direct.port);
  const expected = await calls(d);
  await d.close();
  const before = thriftSnapshot(env.proxy.metrics);
  const s = await ThriftSession.open(t, stack, env.tapIn.port);
  const actual = await calls(s);
  await s.close();
  await closedState(env, 0);
  const delta = thriftDelta(before, thriftSnapshot(env.proxy.metrics));
  assert.deepEqual(actual, expected);
  assertBytesUntouched(env, 0);
  const wire = env.tapOut.connections[0];
  assert.deepEqual(delta, {
    cx_total: 1, requests_total: 3, replies_ok: 3, replies_error: 0, decode_errors_total: 0, passthrough_total: 0, duration_samples: 3,
  } satisfies ThriftSnapshot, `${stack.name}: THeader frame, bare message, THeader frame from the server${dump(env, 0, 0)}` +
    `\n  requests: ${joined(wire.up).toString("hex")}\n  replies:  ${joined(wire.down).toString("hex")}`);
}

test("Apache Thrift Node peers through metawire, every transport × protocol", { skip, timeout: 120_000 }, async (tt: TestContext) => {
  const t = loadThriftCode();
  for (const stack of thriftStacks()) {
    await tt.test(`${stack.name}: results equal to direct, bytes untouched, metrics and filter state exact`,
      () => withThriftEnv(t, stack, false, stackCase));
  }
  for (const stack of thriftStacks().filter((s) => s.transport === "header")) {
    await tt.test(`${stack.name}: a deferred reply the Node server sends unframed between THeader replies`,
      () => withThriftEnv(t, stack, false, deferredHeaderReplyCase));
  }
});
