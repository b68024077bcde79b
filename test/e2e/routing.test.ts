// Routing end to end: the harness TCP proxy (tcp_proxy with early data: connect on the first
// downstream bytes, max_early_data_bytes set) in front of two real redis-servers, v1 and v2, told
// apart by keys that exist on one of them only; a 90/10 weighted split over 1,000 connections;
// a Thrift route by method to two npm thrift servers whose answers name the server; and the
// default tcp_proxy mode (no early data), where routes come too late and are counted as such.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { ask, bulk, counterOf, EARLY_DATA, inBatches, infoField, startTaggedThriftServer } from "../support/routing.js";
import { loadThriftCode, thriftStacks, ThriftSession } from "../support/thrift-peers.js";
import { waitFor } from "../support/thrift-e2e.js";
import { thriftSkipReason } from "../thrift/generate.js";

const skip = redisAvailable();
const thriftSkip = thriftSkipReason();
type CloseEvent = Extract<ProxyEvent, { type: "close" }>;

let v1: RedisServer | undefined;
let v2: RedisServer | undefined;
const proxies: ProxyHandle[] = [];

before(async () => {
  if (skip) return;
  [v1, v2] = await Promise.all([startRedis(), startRedis()]);
  // order:1 only on v1, user:1 only on v2; "whoami" on both, naming the server.
  assert.deepEqual(await ask(v1.port, ["SET", "order:1", "book"], ["SET", "whoami", "v1"]), ["+OK\r\n", "+OK\r\n"]);
  assert.deepEqual(await ask(v2.port, ["SET", "user:1", "alice"], ["SET", "whoami", "v2"]), ["+OK\r\n", "+OK\r\n"]);
});

after(async () => {
  for (const p of proxies) await p.close();
  await v1?.stop();
  await v2?.stop();
});

async function proxy(config: object, early: boolean, events?: ProxyEvent[], logs?: string[]): Promise<ProxyHandle> {
  const p = await startProxy({
    wasm: metawireWasm(),
    pluginConfig: JSON.stringify(config),
    clusters: { v1: `127.0.0.1:${v1!.port}`, v2: `127.0.0.1:${v2!.port}` },
    cluster: "v1",
    ...(early ? EARLY_DATA : {}),
    onEvent: (e) => { if (e.type === "log") logs?.push(e.msg); else events?.push(e); },
  });
  proxies.push(p);
  return p;
}

const MISMATCH = "this connection is routed elsewhere";

test("metadata routes land on the server of their cluster; the connection stays there; mismatches are denied", { skip }, async () => {
  const events: ProxyEvent[] = [];
  const p = await proxy({
    routes: [
      { name: "users", match: { key: { prefix: "user:" } }, cluster: "v2" },
      { name: "rest", match: {}, cluster: "v1" },
    ],
    routing: { on_mismatch: "deny", mismatch_message: MISMATCH },
  }, true, events);
  const r = (...c: string[][]) => ask(p.port, ...c).then((a) => a.map((x) => (x.startsWith("-") ? x.trim() : bulk(x))));
  // user:1 exists on v2 only, order:1 on v1 only: the first answer proves where the connection went.
  assert.deepEqual(await r(["GET", "user:1"], ["GET", "user:2"]), ["alice", null]);
  assert.deepEqual(await r(["GET", "order:1"], ["GET", "order:2"]), ["book", null]);
  // Later requests of the other route are refused in-band; the server never sees them.
  assert.deepEqual(await r(["GET", "user:1"], ["GET", "order:1"], ["GET", "user:1"]), ["alice", `-ERR ${MISMATCH}`, "alice"]);
  assert.deepEqual(await r(["GET", "order:1"], ["GET", "user:1"]), ["book", `-ERR ${MISMATCH}`]);
  assert.equal(counterOf(p.metrics, "redis", "routed_total"), 4);
  assert.equal(counterOf(p.metrics, "redis", "route_mismatch_total"), 2);
  assert.equal(counterOf(p.metrics, "redis", "denied_total"), 2);
  assert.equal(counterOf(p.metrics, "redis", "route_too_late_total"), 0);
  const closes = await waitFor(() => { const c = events.filter((e): e is CloseEvent => e.type === "close"); return c.length === 4 && c; }, "4 closes");
  const byId = closes.sort((a, b) => a.id - b.id);
  assert.deepEqual(byId.map((c) => c.cluster), ["v2", "v1", "v2", "v1"]);
  assert.deepEqual(byId.map((c) => c.filterState["envoy.tcp_proxy.cluster"]), ["v2", "v1", "v2", "v1"]);
  assert.deepEqual(byId.map((c) => c.filterState["wasm.metawire.cluster"]), ["v2", "v1", "v2", "v1"]);
});

test("weighted clusters: 1,000 connections split 90/10 within ±5 % (by the answering server and by its INFO)", { skip }, async () => {
  const p = await proxy({ routes: [{ name: "split", clusters: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] }] }, true);
  const before1 = await infoField(v1!.port, "total_connections_received");
  const before2 = await infoField(v2!.port, "total_connections_received");
  const n = 1000;
  const answers = await inBatches(n, 50, async () => bulk((await ask(p.port, ["GET", "whoami"]))[0]));
  const seen = { v1: answers.filter((a) => a === "v1").length, v2: answers.filter((a) => a === "v2").length };
  assert.equal(seen.v1 + seen.v2, n, JSON.stringify(seen));
  assert.ok(Math.abs(seen.v1 / n - 0.9) <= 0.05, `v1 share ${seen.v1 / n}`);
  assert.ok(Math.abs(seen.v2 / n - 0.1) <= 0.05, `v2 share ${seen.v2 / n}`);
  assert.equal(counterOf(p.metrics, "redis", "routed_total"), n);
  // Each server accepted exactly the connections routed to it (+1: the INFO connection asking).
  assert.equal(await infoField(v1!.port, "total_connections_received") - before1 - 1, seen.v1);
  assert.equal(await infoField(v2!.port, "total_connections_received") - before2 - 1, seen.v2);
});

test("default tcp_proxy mode (no early data): wait_ms expires, the default cluster answers, route_too_late_total counts it", { skip }, async () => {
  const logs: string[] = [];
  const p = await proxy({ routes: [{ name: "users", match: { key: { prefix: "user:" } }, cluster: "v2" }], routing: { wait_ms: 50 } }, false, undefined, logs);
  // user:1 is on v2 only: nil proves the connection went to v1, the configured cluster.
  assert.deepEqual((await ask(p.port, ["GET", "user:1"], ["GET", "whoami"])).map(bulk), [null, "v1"]);
  assert.deepEqual((await ask(p.port, ["GET", "user:1"])).map(bulk), [null]);
  assert.deepEqual((await ask(p.port, ["GET", "order:1"])).map(bulk), ["book"]);
  assert.equal(counterOf(p.metrics, "redis", "route_too_late_total"), 2, "order:1 matches no route");
  assert.equal(counterOf(p.metrics, "redis", "routed_total"), 0);
  const hint = logs.filter((l) => l.includes("routing.wait_ms"));
  assert.equal(hint.length, 1, logs.join("\n"));
  assert.match(hint[0], /max_early_data_bytes/);
});

test("thrift: a route by method sends each connection to the server of its first call", { skip: thriftSkip ?? skip }, async () => {
  const t = loadThriftCode();
  for (const stack of thriftStacks()) {
    const [s1, s2] = [await startTaggedThriftServer(t, stack, "v1"), await startTaggedThriftServer(t, stack, "v2")];
    const p = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify({
        protocol: "thrift",
        routes: [
          { name: "echo", match: { method: { exact: "echoText" } }, cluster: "v2" },
          { name: "health", match: { method: { exact: "ping" } }, cluster: "v1" },
        ],
      }),
      clusters: { v1: `127.0.0.1:${s1.port}`, v2: `127.0.0.1:${s2.port}` },
      cluster: "v1",
      ...EARLY_DATA,
    });
    try {
      const a = await ThriftSession.open(t, stack, p.port);
      assert.deepEqual(await a.call("echoText", ["a"]), { ok: "v2:a" }, stack.name);
      assert.deepEqual(await a.call("echoText", ["b"]), { ok: "v2:b" }, stack.name);
      await a.close();
      const b = await ThriftSession.open(t, stack, p.port);
      assert.ok("ok" in await b.call("ping", []), stack.name);
      assert.deepEqual(await b.call("echoText", ["c"]), { ok: "v1:c" }, `${stack.name}: the connection stays on v1`);
      await b.close();
      assert.deepEqual(s1.handler.calls, ["ping", "echoText c"], stack.name);
      assert.deepEqual(s2.handler.calls, ["echoText a", "echoText b"], stack.name);
      assert.equal(counterOf(p.metrics, "thrift", "routed_total"), 2, stack.name);
      assert.equal(counterOf(p.metrics, "thrift", "route_mismatch_total"), 1, stack.name);
      assert.equal(counterOf(p.metrics, "thrift", "decode_errors_total"), 0, stack.name);
    } finally {
      await p.close();
      await s1.close();
      await s2.close();
    }
  }
});
