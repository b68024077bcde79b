// A multiplexed Apache Thrift server (TMultiplexedProcessor serving "Catalog" and "Admin") behind
// metawire, called through the proxy by the Node library's Multiplexer (one client per service on
// one connection, messages named "Service:method"), for each transport × protocol stack. Checked:
// results equal to direct ones, bytes untouched, the "Service:method" names really on the wire,
// exact counters, and the filter state splitting the name: wasm.metawire.service = Service,
// wasm.metawire.method = method, for the last request of each connection.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { joined } from "../support/tcp-tap.js";
import { thriftDelta, thriftSnapshot, type ThriftSnapshot } from "../support/thrift-metrics.js";
import { i64, loadThriftCode, makeItem, pseudoRandomBytes, thriftStacks, ThriftSession, type Outcome } from "../support/thrift-peers.js";
import { assertBytesUntouched, closedState, dump, expectedState, waitFor, withThriftEnv, type ThriftEnv } from "../support/thrift-e2e.js";
import { thriftSkipReason } from "../thrift/generate.js";

const skip = thriftSkipReason();

/** Both services, interleaved; the last request is Admin:version. */
async function workload(env: ThriftEnv, s: ThriftSession): Promise<unknown[]> {
  const { t } = env;
  const deferred = env.stack.transport !== "header";   // see thrift-peers.test.ts: deferred THeader replies
  const r: unknown[] = [];
  r.push(await s.call("version", [], "Admin"));
  r.push(await s.call("summarize", [[makeItem(t, 1, 1), makeItem(t, 2, 0)], "mux"], "Catalog"));
  r.push(await s.call("stats", [["a", "bb", "ccc"]], "Admin"));
  r.push(await s.call("fail", ["nope"], "Admin"));              // declared Invalid
  r.push(await s.call("find", [i64(404)], "Catalog"));          // declared NotFound
  r.push(await s.call("crash", ["mux"], "Catalog"));            // TApplicationException
  r.push(await s.call("added", [2], "Catalog"));                // unknown method of the Catalog processor
  s.oneway("audit", ["line 1"], "Admin");
  s.oneway("record", ["mux", i64(5)], "Catalog");
  r.push(await s.call("echoBlob", [pseudoRandomBytes(1 << 20, 77)], "Catalog"));

  const batch: Promise<Outcome>[] = [];
  for (let i = 0; i < 20; i++) {
    switch (i % 5) {
      case 0: batch.push(s.call("echoText", [`${deferred ? "slow" : "now"}:${i}`], "Catalog")); break;
      case 1: batch.push(s.call("stats", [[`k${i}`]], "Admin")); break;
      case 2: batch.push(s.call("fail", [`batch ${i}`], "Admin")); break;
      case 3: s.oneway("audit", [`batch ${i}`], "Admin"); break;
      case 4: batch.push(s.call("find", [i64(i)], "Catalog")); break;
    }
  }
  r.push(await Promise.all(batch));
  r.push(await s.call("recorded", [], "Catalog"));
  r.push(await s.call("version", [], "Admin"));
  return r;
}

async function multiplexedCase(env: ThriftEnv): Promise<void> {
  const { t, stack } = env;
  const header = stack.transport === "header";
  const d = await ThriftSession.open(t, stack, env.direct.port, true);
  if (header) d.headers = { Tenant: "Acme" };
  const expected = await workload(env, d);
  await d.close();

  const before = thriftSnapshot(env.proxy.metrics);
  const s = await ThriftSession.open(t, stack, env.tapIn.port, true);
  if (header) s.headers = { Tenant: "Acme" };
  const actual = await workload(env, s);
  await s.close();
  const mainState = await closedState(env, 0);

  // ends with Admin:fail (declared exception) and then a oneway Catalog:record
  const s2 = await ThriftSession.open(t, stack, env.tapIn.port, true);
  const fail = await s2.call("fail", ["tail"], "Admin");
  s2.oneway("record", ["bye", i64(1)], "Catalog");
  await waitFor(() => env.behind.catalog.records.includes("bye"), "the oneway at the server");
  await s2.close();
  const tailState = await closedState(env, 1);
  const delta = thriftDelta(before, thriftSnapshot(env.proxy.metrics));

  assert.deepEqual(actual, expected, `${stack.name}: results through the proxy differ from direct ones`);
  assert.deepEqual(s.tally, { messages: 32, oneway: 6, ok: 18, declared: 6, app: 2 }, "the workload did what it says");
  assert.deepEqual(fail, { declared: "Invalid", fields: { reason: "tail", fields: [] } });
  assert.deepEqual([...s.errors, ...s2.errors, ...d.errors, ...env.behind.errors, ...env.direct.errors], [], "no client or server errors");
  assert.deepEqual(env.behind.admin.audits, ["line 1", "batch 3", "batch 8", "batch 13", "batch 18"]);

  for (const k of [0, 1]) assertBytesUntouched(env, k);
  const up = joined(env.tapOut.connections[0].up);
  for (const name of ["Admin:version", "Catalog:summarize", "Admin:audit", "Catalog:record"]) {
    assert.ok(up.includes(Buffer.from(name)), `${stack.name}: "${name}" on the wire${dump(env, 0)}`);
  }

  assert.deepEqual(delta, {
    cx_total: 2,
    requests_total: s.tally.messages + s2.tally.messages,
    replies_ok: s.tally.ok,
    replies_error: s.tally.declared + s.tally.app + 1,   // + the tail's fail()
    decode_errors_total: 0,
    passthrough_total: 0,
    duration_samples: s.tally.ok + s.tally.declared + s.tally.app + 1,
  } satisfies ThriftSnapshot, `${stack.name}: metrics${dump(env, 0)}`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), "no VM failed");

  assert.deepEqual(mainState, expectedState(s, { status: "ok", code: "" }), `${stack.name}: filter state after Admin:version`);
  assert.equal(mainState["wasm.metawire.service"], "Admin");
  assert.equal(mainState["wasm.metawire.method"], "version");
  assert.deepEqual(tailState, expectedState(s2, { status: "error", code: "" }), `${stack.name}: filter state after Admin:fail, Catalog:record`);
  assert.equal(tailState["wasm.metawire.service"], "Catalog");
  assert.equal(tailState["wasm.metawire.method"], "record");
  assert.equal(tailState["wasm.metawire.kind"], "oneway");
}

test("a multiplexed Apache Thrift server through metawire: Service:method split into service and method",
  { skip, timeout: 120_000 }, async (tt: TestContext) => {
    const t = loadThriftCode();
    for (const stack of thriftStacks()) {
      await tt.test(`${stack.name}: Catalog and Admin on one connection`, () => withThriftEnv(t, stack, true, multiplexedCase));
    }
  });
