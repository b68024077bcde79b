// Routing (and the other timing-driven enforcement: delay faults, rate limits) of the built module
// under the in-memory harness. Clusters {default, v1, v2}; which one tcp_proxy connected is read
// from the in-memory upstream's address, the stream info's upstream cluster and the filter state
// envoy.tcp_proxy.cluster the filter set. Time is the test's: manual timers and a manual clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SharedData } from "../host/shared-data.js";
import { MetricStore } from "../host/metrics.js";
import { LogLevel } from "../host/vm.js";
import type { FilterConnection } from "../host/connection.js";
import { loadFilter } from "../support/filter.js";
import { command, splitAt } from "../support/resp.js";
import { CLUSTERS, ManualClock, counterOf, routedConnection, runFor, upstreamCluster } from "../support/routing.js";

const ROUTES = [
  { name: "users", match: { key: { prefix: "user:" } }, cluster: "v2" },
  { name: "reads", match: { method: { exact: "GET" } }, cluster: "v1" },
];
const MISMATCH = "connection belongs to another route";
const redis = (vm: { metrics: MetricStore }, name: string) => counterOf(vm.metrics, "redis", name);
const sent = (c: FilterConnection) => Buffer.from(c.sentUpstream());
const received = (c: FilterConnection) => Buffer.from(c.sentDownstream());

/** The cluster tcp_proxy used, seen three ways; all must agree. */
function routedTo(conn: FilterConnection): string | undefined {
  const byAddress = upstreamCluster(conn);
  assert.equal(conn.streamInfo.upstream.cluster, byAddress, "stream info upstream cluster = the upstream connected");
  return byAddress;
}

async function manualVm(config: object, clock = new ManualClock(), extra: object = {}) {
  const vm = await loadFilter(config, { timers: "manual", clock, ...extra });
  return { vm, clock };
}

test("with routes, on_new_connection pauses tcp_proxy's start; without, it continues", async () => {
  const routed = await loadFilter({ routes: ROUTES });
  const conn = routedConnection(routed, true);
  assert.equal(conn.start(), "pause");
  assert.equal(conn.tcpProxy.route, undefined, "tcp_proxy has not picked a route");
  const plain = await loadFilter({});
  assert.equal(routedConnection(plain, true).start(), "continue");
});

test("early data: the first request's metadata picks the cluster (filter state, upstream, counters)", async () => {
  const vm = await loadFilter({ routes: ROUTES });
  const cases: [string, Buffer, string | undefined][] = [
    ["key prefix user: → v2", command("GET", "user:1"), "v2"],
    ["GET of another key → v1", command("GET", "order:7"), "v1"],
    ["inline get, lower case → v1", Buffer.from("get order:8\r\n"), "v1"],
    ["SET user:… (first route wins over method) → v2", command("SET", "user:9", "x"), "v2"],
    ["no route matched → tcp_proxy's cluster", command("SET", "order:1", "x"), undefined],
  ];
  let routed = 0;
  for (const [name, bytes, cluster] of cases) {
    const conn = routedConnection(vm, true);
    conn.start();
    conn.downstreamData(bytes);
    assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), cluster, name);
    assert.equal(conn.filterStateText("wasm.metawire.cluster"), cluster, name);
    assert.equal(conn.tcpProxy.route, cluster ?? "default", name);
    assert.equal(routedTo(conn), cluster ?? "default", name);
    assert.ok(sent(conn).equals(bytes), `${name}: bytes reach the upstream untouched`);
    if (cluster) routed++;
    assert.equal(redis(vm, "routed_total"), routed, name);
    conn.upstreamData(Buffer.from("+OK\r\n"));
    assert.equal(received(conn).toString(), "+OK\r\n", name);
  }
  assert.equal(redis(vm, "route_too_late_total"), 0);
  assert.equal(redis(vm, "route_mismatch_total"), 0);
  assert.equal(vm.failed, undefined);
});

test("a first request split across reads is held until complete, then routed (every cut, and byte by byte)", async () => {
  const vm = await loadFilter({ routes: ROUTES });
  const req = Buffer.concat([command("GET", "user:42"), command("GET", "other")]);
  const first = command("GET", "user:42").length;
  const plans: [string, Uint8Array[]][] = [];
  for (let cut = 1; cut < first; cut++) plans.push([`cut ${cut}`, splitAt(req, [cut])]);
  plans.push(["byte by byte", [...req].map((b) => Buffer.from([b]))]);
  for (const [name, parts] of plans) {
    const conn = routedConnection(vm, true);
    conn.start();
    let i = 0, fed = 0;
    while (fed < first) {
      assert.equal(conn.upstream, undefined, `${name}: no upstream while the first request is incomplete (${fed} bytes)`);
      assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), undefined, name);
      conn.downstreamData(parts[i]);
      fed += parts[i++].length;
    }
    assert.equal(routedTo(conn), "v2", name);
    assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), "v2", name);
    for (; i < parts.length; i++) conn.downstreamData(parts[i]);
    assert.ok(sent(conn).equals(req), `${name}: upstream got ${JSON.stringify(sent(conn).toString())}`);
  }
  assert.equal(redis(vm, "routed_total"), plans.length);
  assert.equal(redis(vm, "hold_overflow_total"), 0);
  // GET other (the second request) matches "reads", not the connection's "users" route.
  assert.equal(redis(vm, "route_mismatch_total"), plans.length);
});

test("weighted clusters: a 90/10 split over 4,000 connections (WASI random_get)", async () => {
  const vm = await loadFilter({ routes: [{ name: "split", clusters: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] }] });
  const n = 4000;
  const seen: Record<string, number> = { v1: 0, v2: 0 };
  for (let i = 0; i < n; i++) {
    const conn = routedConnection(vm, true);
    conn.start();
    conn.downstreamData(command("PING"));
    const c = routedTo(conn)!;
    assert.equal(conn.filterStateText("wasm.metawire.cluster"), c);
    seen[c]++;
    conn.closeDownstream("remote");
  }
  assert.equal(seen.v1 + seen.v2, n, JSON.stringify(seen));
  assert.equal(redis(vm, "routed_total"), n);
  // σ of the v2 share is 0.47 %: ±2.5 % is more than 5 σ.
  assert.ok(Math.abs(seen.v2 / n - 0.1) <= 0.025, `v2 share ${seen.v2 / n}`);
});

test("default mode (no early data): the wait expires, tcp_proxy connects its own cluster, too late is counted and logged once", async () => {
  const { vm, clock } = await manualVm({ routes: ROUTES, routing: { wait_ms: 50 } });
  const conn = routedConnection(vm, false);
  assert.equal(conn.start(), "pause");
  conn.downstreamData(command("GET", "user:1"));
  assert.equal(conn.upstream, undefined, "reads are disabled until tcp_proxy starts: nothing arrives");
  assert.ok(vm.tickPeriod() > 0, "the filter asked for ticks while it waits");
  runFor(vm, clock, 45);
  assert.equal(conn.upstream, undefined, "45 ms: still waiting");
  assert.equal(redis(vm, "route_too_late_total"), 0);
  runFor(vm, clock, 5);
  assert.equal(routedTo(conn), "default", "50 ms: the filter continued, tcp_proxy connected its configured cluster");
  assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), undefined);
  assert.equal(conn.filterStateText("wasm.metawire.cluster"), undefined);
  assert.ok(sent(conn).equals(command("GET", "user:1")), "the request then reaches the default cluster");
  assert.equal(redis(vm, "route_too_late_total"), 1);
  assert.equal(redis(vm, "routed_total"), 0);
  const warns = () => vm.logs.filter((l) => l.level === LogLevel.warn && l.msg.includes("routing.wait_ms"));
  assert.equal(warns().length, 1, JSON.stringify(vm.logs));
  assert.match(warns()[0].msg, /max_early_data_bytes/);

  // Same route later: nothing counted; another route: a mismatch (allowed, passed on).
  conn.downstreamData(command("GET", "user:2"));
  assert.equal(redis(vm, "route_mismatch_total"), 0);
  conn.downstreamData(command("GET", "order:1"));
  assert.equal(redis(vm, "route_mismatch_total"), 1);
  assert.ok(sent(conn).subarray(-command("GET", "order:1").length).equals(command("GET", "order:1")));

  // A second connection: too late again, but the log line is not repeated; no route → not counted.
  const conn2 = routedConnection(vm, false);
  conn2.start();
  conn2.downstreamData(command("GET", "user:3"));
  runFor(vm, clock, 50);
  assert.equal(routedTo(conn2), "default");
  assert.equal(redis(vm, "route_too_late_total"), 2);
  const conn3 = routedConnection(vm, false);
  conn3.start();
  conn3.downstreamData(command("SET", "plain", "1"));
  runFor(vm, clock, 50);
  assert.equal(routedTo(conn3), "default");
  assert.equal(redis(vm, "route_too_late_total"), 2, "a first request matching no route is not too late");
  assert.equal(warns().length, 1, "logged once per VM");
  runFor(vm, clock, 10);
  assert.equal(vm.tickPeriod(), 0, "nobody waits: the tick is switched off");
  assert.equal(vm.failed, undefined);
});

test("later requests on another route: route_mismatch_total; on_mismatch deny answers -ERR <mismatch_message>", async () => {
  for (const onMismatch of ["allow", "deny"] as const) {
    const vm = await loadFilter({ routes: ROUTES, routing: { on_mismatch: onMismatch, mismatch_message: MISMATCH } });
    const conn = routedConnection(vm, true);
    conn.start();
    // One read: the first request routes, the second (same route) passes, the third is on "reads".
    conn.downstreamData(Buffer.concat([command("GET", "user:1"), command("GET", "user:2"), command("GET", "order:1")]));
    assert.equal(routedTo(conn), "v2", onMismatch);
    assert.equal(redis(vm, "route_mismatch_total"), 1, onMismatch);
    const third = onMismatch === "deny" ? Buffer.from("*1\r\n$4\r\nPING\r\n") : command("GET", "order:1");
    assert.ok(sent(conn).equals(Buffer.concat([command("GET", "user:1"), command("GET", "user:2"), third])),
      `${onMismatch}: upstream got ${JSON.stringify(sent(conn).toString())}`);
    conn.upstreamData(Buffer.from(onMismatch === "deny" ? "$1\r\na\r\n$1\r\nb\r\n+PONG\r\n" : "$1\r\na\r\n$1\r\nb\r\n$-1\r\n"));
    const expected = onMismatch === "deny" ? `$1\r\na\r\n$1\r\nb\r\n-ERR ${MISMATCH}\r\n` : "$1\r\na\r\n$1\r\nb\r\n$-1\r\n";
    assert.equal(received(conn).toString(), expected, onMismatch);
    assert.equal(redis(vm, "denied_total"), onMismatch === "deny" ? 1 : 0, onMismatch);
    // A request matching no route at all is also "another route" than the connection's.
    conn.downstreamData(command("SET", "x", "1"));
    assert.equal(redis(vm, "route_mismatch_total"), 2, onMismatch);
    assert.equal(vm.failed, undefined);
  }
});

test("a first request larger than max_hold_bytes cannot wait: default cluster, counted too late (not a mismatch, not denied)", async () => {
  const vm = await loadFilter({ routes: ROUTES, routing: { on_mismatch: "deny", mismatch_message: MISMATCH }, max_hold_bytes: 64 });
  const big = command("SET", "user:1", "x".repeat(500));
  const conn = routedConnection(vm, true);
  conn.start();
  conn.downstreamData(big.subarray(0, 100));
  assert.equal(routedTo(conn), "default", "the partial request streams: tcp_proxy starts with its own cluster");
  conn.downstreamData(big.subarray(100));
  assert.ok(sent(conn).equals(big));
  assert.equal(conn.closed, false, "the connection stays open");
  assert.equal(redis(vm, "hold_overflow_total"), 1);
  assert.equal(redis(vm, "route_too_late_total"), 1);
  assert.equal(redis(vm, "route_mismatch_total"), 0);
  assert.equal(redis(vm, "denied_total"), 0);
  conn.downstreamData(command("GET", "user:2"));
  assert.equal(redis(vm, "route_mismatch_total"), 0, "same route as the first request");
});

test("protocol auto with routes: Redis and Thrift first bytes route by their own metadata", async () => {
  const thriftVectors = JSON.parse(readFileSync("test/fixtures/thrift-vectors.json", "utf8")).vectors as { name: string; hex: string }[];
  const framedCall = Buffer.from(thriftVectors.find((v) => v.name.startsWith("T1 "))!.hex, "hex");   // getUser, framed binary
  const compactCall = Buffer.from(thriftVectors.find((v) => v.name.startsWith("T5 "))!.hex, "hex");  // getUser, unframed compact
  const routes = [
    { name: "thrift-users", match: { protocol: { exact: "thrift" }, method: { exact: "getUser" } }, cluster: "v1" },
    { name: "redis-users", match: { protocol: { exact: "redis" }, key: { prefix: "user:" } }, cluster: "v2" },
  ];
  const vm = await loadFilter({ protocol: "auto", routes });
  const cases: [string, Buffer, string, string][] = [
    ["thrift framed binary", framedCall, "thrift", "v1"],
    ["thrift unframed compact", compactCall, "thrift", "v1"],
    ["redis multibulk", command("GET", "user:1"), "redis", "v2"],
    ["redis inline", Buffer.from("get user:2\r\n"), "redis", "v2"],
  ];
  for (const [name, bytes, protocol, cluster] of cases) {
    for (const split of [false, true]) {
      const conn = routedConnection(vm, true);
      assert.equal(conn.start(), "pause", name);
      if (split) for (const b of bytes) conn.downstreamData(Buffer.from([b]));
      else conn.downstreamData(bytes);
      assert.equal(routedTo(conn), cluster, `${name} split=${split}`);
      assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), cluster, name);
      assert.equal(conn.filterStateText("wasm.metawire.protocol"), protocol, name);
      assert.ok(sent(conn).equals(bytes), name);
    }
  }
  assert.equal(counterOf(vm.metrics, "thrift", "routed_total"), 4);
  assert.equal(counterOf(vm.metrics, "redis", "routed_total"), 4);
  // No match: Redis SET of another key → tcp_proxy's cluster.
  const conn = routedConnection(vm, true);
  conn.start();
  conn.downstreamData(command("SET", "k", "v"));
  assert.equal(routedTo(conn), "default");
  assert.equal(counterOf(vm.metrics, "redis", "routed_total"), 4);
  assert.equal(vm.failed, undefined);
});

test("protocol auto in default mode: the wait expires before the protocol is known; too late counted per protocol", async () => {
  const { vm, clock } = await manualVm({ protocol: "auto", routes: ROUTES, routing: { wait_ms: 50 } });
  const conn = routedConnection(vm, false);
  assert.equal(conn.start(), "pause");
  conn.downstreamData(command("GET", "user:1"));
  runFor(vm, clock, 45);
  assert.equal(conn.upstream, undefined);
  runFor(vm, clock, 5);
  assert.equal(routedTo(conn), "default");
  assert.ok(sent(conn).equals(command("GET", "user:1")));
  assert.equal(counterOf(vm.metrics, "redis", "route_too_late_total"), 1);
  conn.downstreamData(command("GET", "order:1"));
  assert.equal(counterOf(vm.metrics, "redis", "route_mismatch_total"), 1);
  assert.equal(vm.failed, undefined);
});

// ---- timing policies on the manual clock ----

const GET = (k: string) => command("GET", k);
const PING = Buffer.from("*1\r\n$4\r\nPING\r\n");
const count = (hay: Buffer, needle: Buffer) => {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
};

test("delay fault: the request is held exactly delay ms (tick resolution 5 ms), then forwarded; delayed_total", async () => {
  const { vm, clock } = await manualVm({ policies: [{ name: "slow", match: { method: { exact: "GET" } }, fault: { delay: { percent: 100, ms: 200 } } }] });
  const conn = vm.newConnection({ clusters: { ...CLUSTERS }, cluster: "default" });
  conn.start();
  conn.downstreamData(command("SET", "a", "1"));
  assert.ok(sent(conn).equals(command("SET", "a", "1")), "an unmatched request is not delayed");
  conn.downstreamData(GET("a"));
  assert.equal(sent(conn).length, command("SET", "a", "1").length, "held");
  runFor(vm, clock, 195);
  assert.equal(sent(conn).length, command("SET", "a", "1").length, "195 ms: still held");
  runFor(vm, clock, 5);
  assert.ok(sent(conn).equals(Buffer.concat([command("SET", "a", "1"), GET("a")])), "200 ms: forwarded");
  assert.equal(redis(vm, "delayed_total"), 1);
  // Bytes arriving during a delay stay behind the delayed request (order kept), then go together.
  conn.downstreamData(GET("b"));
  conn.downstreamData(command("SET", "c", "1"));
  runFor(vm, clock, 100);
  assert.equal(count(sent(conn), GET("b")), 0);
  runFor(vm, clock, 100);
  assert.ok(sent(conn).subarray(-GET("b").length - command("SET", "c", "1").length).equals(Buffer.concat([GET("b"), command("SET", "c", "1")])));
  assert.equal(redis(vm, "delayed_total"), 2);
  assert.equal(vm.failed, undefined);
});

test("rate limit, worker scope: burst then per_second refill on the VM's own bucket", async () => {
  const { vm, clock } = await manualVm({ policies: [{ name: "rl", match: { method: { exact: "GET" } }, rate_limit: { per_second: 100, burst: 10, message: "slow down" } }] });
  const conn = vm.newConnection({ clusters: { ...CLUSTERS }, cluster: "default" });
  conn.start();
  conn.downstreamData(Buffer.concat(Array.from({ length: 30 }, (_, i) => GET(`k${i}`))));
  assert.equal(count(sent(conn), Buffer.from("$3\r\nGET\r\n")), 10, "burst 10");
  assert.equal(count(sent(conn), PING), 20);
  assert.equal(redis(vm, "rate_limited_total"), 20);
  clock.advance(100); // 10 tokens
  conn.downstreamData(Buffer.concat(Array.from({ length: 15 }, (_, i) => GET(`m${i}`))));
  assert.equal(count(sent(conn), Buffer.from("$3\r\nGET\r\n")), 20);
  assert.equal(redis(vm, "rate_limited_total"), 25);
  clock.advance(10_000); // capped at burst
  conn.downstreamData(Buffer.concat(Array.from({ length: 15 }, (_, i) => GET(`n${i}`))));
  assert.equal(count(sent(conn), Buffer.from("$3\r\nGET\r\n")), 30);
  assert.equal(redis(vm, "rate_limited_total"), 30);
  // Replies in order: 10 for the admitted GETs, then the PING that replaced k10.
  conn.upstreamData(Buffer.from("$-1\r\n".repeat(10) + "+PONG\r\n"));
  assert.equal(received(conn).toString(), "$-1\r\n".repeat(10) + "-ERR slow down\r\n");
});

test("rate limit scope: worker = one bucket per VM, shared = one bucket for all VMs of a vm_id", async () => {
  for (const scope of ["worker", "shared"] as const) {
    const clock = new ManualClock();
    const sharedData = new SharedData();
    const metrics = new MetricStore();
    const config = { policies: [{ name: "rl", match: {}, rate_limit: { per_second: 100, burst: 10, scope } }] };
    const vms = [await loadFilter(config, { timers: "manual", clock, sharedData, metrics }),
      await loadFilter(config, { timers: "manual", clock, sharedData, metrics })];
    let admitted = 0;
    for (let round = 0; round < 3; round++) {
      for (const vm of vms) {
        const conn = vm.newConnection({ clusters: { ...CLUSTERS }, cluster: "default" });
        conn.start();
        conn.downstreamData(Buffer.concat(Array.from({ length: 40 }, (_, i) => GET(`k${i}`))));
        admitted += count(sent(conn), Buffer.from("$3\r\nGET\r\n"));
      }
      clock.advance(100);
    }
    // Per bucket: 10 (burst) + 10 + 10 (100 ms of refill each).
    assert.equal(admitted, scope === "worker" ? 60 : 30, scope);
    assert.equal(counterOf(metrics, "redis", "rate_limited_total"), 240 - admitted, scope);
  }
});
