// The built metawire module under the harness: what Envoy would see it do on Redis traffic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseModule } from "../host/wasm-binary.js";
import { checkModule } from "../host/envoy-abi.js";
import { ConfigureError } from "../host/vm.js";
import { RELEASE_WASM, DEBUG_WASM, counter, loadFilter, openConnection } from "../support/filter.js";
import { command, splitAt } from "../support/resp.js";
import { durationSamples } from "../support/metawire-metrics.js";

const PIPELINE = Buffer.concat([
  command("SET", "user:1", "alice"),
  command("GET", "user:1"),
  Buffer.from("INCR visits\r\n"),
  command("MSET", "a", "1", "b", "2"),
  command("EVAL", "return 1", "1", "script:key"),
  command("PING"),
]);
const REPLIES = Buffer.from("+OK\r\n$5\r\nalice\r\n:1\r\n+OK\r\n:1\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");

test("release and debug builds pass Envoy's load checks (imports by name and type, exports)", () => {
  for (const file of [RELEASE_WASM, DEBUG_WASM]) {
    const plan = checkModule(parseModule(new Uint8Array(readFileSync(file))), { requireNetworkCallbacks: true });
    assert.equal(plan.abiVersion, "0_2_1", file);
    assert.equal(plan.startExport, "_initialize", file);
    assert.deepEqual(plan.warnings, [], file);
  }
});

test("an invalid configuration is rejected with its JSON path", async () => {
  await assert.rejects(loadFilter({ redis: { max_depth: 0 } }), (e: unknown) => {
    assert.ok(e instanceof ConfigureError);
    assert.ok(e.logs.some((l) => l.msg.includes("$.redis.max_depth: expected an integer from 1 to 1024")), JSON.stringify(e.logs));
    return true;
  });
  await assert.rejects(loadFilter("{not json"), (e: unknown) => e instanceof ConfigureError &&
    e.logs.some((l) => l.msg.includes("$: invalid JSON")));
});

test("pipelined requests split at every byte: bytes untouched, metadata and counters exact", async () => {
  for (let cut = 1; cut < PIPELINE.length; cut++) {
    const vm = await loadFilter({ expose: { properties: "first" } });
    const conn = openConnection(vm);
    for (const part of splitAt(PIPELINE, [cut, cut * 2, cut * 3])) conn.downstreamData(part);
    assert.deepEqual(Buffer.from(conn.sentUpstream()), PIPELINE, `cut ${cut}`);
    assert.equal(counter(vm, "requests_total"), 6, `cut ${cut}`);
    assert.equal(conn.filterStateText("wasm.metawire.method"), "SET");
    assert.equal(conn.filterStateText("wasm.metawire.key"), "user:1");
    assert.equal(conn.filterStateText("wasm.metawire.id"), "1");
    assert.equal(conn.filterStateText("wasm.metawire.protocol"), "redis");
    assert.equal(vm.failed, undefined);
  }
});

test("replies are correlated FIFO: status counters, error code, one latency sample per answered request", async () => {
  const vm = await loadFilter({ expose: { properties: "every" } });
  const conn = openConnection(vm);
  conn.downstreamData(PIPELINE);
  assert.equal(conn.filterStateText("wasm.metawire.method"), "PING");
  for (const part of splitAt(REPLIES, [3, 9, 20, 40])) conn.upstreamData(part);
  assert.deepEqual(Buffer.from(conn.sentDownstream()), REPLIES);
  assert.equal(counter(vm, "replies_ok"), 5);
  assert.equal(counter(vm, "replies_error"), 1);
  assert.equal(durationSamples(vm.metrics, "redis").length, 6);
  assert.equal(conn.filterStateText("wasm.metawire.response_status"), "error");
  assert.equal(conn.filterStateText("wasm.metawire.response_code"), "WRONGTYPE");
});

test("key metadata follows Redis key specs", async () => {
  const cases: [Buffer, string, string][] = [
    [command("EVAL", "return 1", "1", "k1", "arg"), "EVAL", "k1"],
    [command("EVAL", "return 1", "0"), "EVAL", ""],
    [command("BITOP", "AND", "dest", "src"), "BITOP", "dest"],
    [command("XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"), "XREAD", "s1"],
    [Buffer.from('get "quoted key"\r\n'), "GET", "quoted key"],
    [command("PING"), "PING", ""],
  ];
  for (const [bytes, method, key] of cases) {
    const vm = await loadFilter();
    const conn = openConnection(vm);
    conn.downstreamData(bytes);
    assert.equal(conn.filterStateText("wasm.metawire.method"), method);
    assert.equal(conn.filterStateText("wasm.metawire.key"), key, bytes.toString());
  }
});

test("a 1 MiB value is skipped by length: a handful of buffer reads, not a copy of the value", async () => {
  const vm = await loadFilter();
  const conn = openConnection(vm);
  const big = command("SET", "big", Buffer.alloc(1 << 20, 0x61));
  const before = vm.callCount.get("env.proxy_get_buffer_bytes") ?? 0;
  conn.downstreamData(big);
  const reads = (vm.callCount.get("env.proxy_get_buffer_bytes") ?? 0) - before;
  assert.ok(reads <= 3, `get_buffer_bytes called ${reads} times`);
  assert.equal(counter(vm, "requests_total"), 1);
  assert.equal(Buffer.from(conn.sentUpstream()).equals(big), true);
});

test("a protocol error switches the connection to passthrough: counted, logged once, bytes intact", async () => {
  const vm = await loadFilter();
  const conn = openConnection(vm);
  const bad = Buffer.concat([command("GET", "a"), Buffer.from("*1\r\n:1\r\n"), command("GET", "b"), Buffer.from("\x00\x01garbage")]);
  conn.downstreamData(bad.subarray(0, 20));
  conn.downstreamData(bad.subarray(20));
  conn.downstreamData(command("GET", "c"));
  assert.deepEqual(Buffer.from(conn.sentUpstream()), Buffer.concat([bad, command("GET", "c")]));
  assert.equal(counter(vm, "decode_errors_total"), 1);
  assert.equal(counter(vm, "passthrough_total"), 1);
  assert.equal(counter(vm, "requests_total"), 1);
  const warnings = vm.logs.filter((l) => l.msg.includes("decode error"));
  assert.equal(warnings.length, 1, JSON.stringify(vm.logs));
  assert.match(warnings[0].msg, /expected '\$', got ':'/);
  assert.equal(conn.closed, false);
  assert.equal(vm.failed, undefined);
});

test("on_error close closes the connection on a protocol error", async () => {
  const vm = await loadFilter({ on_error: "close" });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.from("*1\r\n:1\r\n"));
  assert.equal(conn.closed, true);
  assert.equal(counter(vm, "decode_errors_total"), 1);
});

test("expose off writes no metadata", async () => {
  const vm = await loadFilter({ expose: { properties: "off" } });
  const conn = openConnection(vm);
  conn.downstreamData(command("GET", "a"));
  assert.equal(conn.filterStateText("wasm.metawire.method"), undefined);
  assert.equal(conn.filterStateText("wasm.metawire.protocol"), undefined);
});

test("log_requests prints one line per answered request", async () => {
  const vm = await loadFilter({ log_requests: true }, { logLevel: 2 });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.concat([command("SET", "k", "v"), command("GET", "k")]));
  conn.upstreamData(Buffer.from("+OK\r\n$1\r\nv\r\n"));
  const lines = vm.logs.map((l) => l.msg).filter((m) => m.startsWith("redis id="));
  assert.equal(lines.length, 2, JSON.stringify(vm.logs));
  assert.match(lines[0], /^redis id=1 SET key=k -> ok \d+us$/);
  assert.match(lines[1], /^redis id=2 GET key=k -> ok \d+us$/);
});
