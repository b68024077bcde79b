// protocol: auto — one listener, three protocols: the codec is chosen per connection from the
// client's first byte, counted per protocol, and everything after behaves as if configured.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadFilter, openConnection } from "../support/filter.js";
import { command } from "../support/resp.js";
import { legacyCounter, metawireSeries, parseMetricName } from "../support/metawire-metrics.js";

const thrift = JSON.parse(readFileSync("test/fixtures/thrift-vectors.json", "utf8")).vectors as { name: string; hex: string }[];
const dubbo = JSON.parse(readFileSync("test/fixtures/dubbo-vectors.json", "utf8")).frames as { name: string; hex: string }[];
const vector = (list: { name: string; hex: string }[], prefix: string) => Buffer.from(list.find((v) => v.name.startsWith(prefix))!.hex, "hex");

const cases: [string, Buffer, string, string][] = [
  ["redis multibulk", command("GET", "k"), "redis", "GET"],
  ["redis inline", Buffer.from("ping\r\n"), "redis", "PING"],
  ["thrift framed binary", vector(thrift, "T1 "), "thrift", "getUser"],
  ["thrift unframed binary", vector(thrift, "T2 "), "thrift", "getUser"],
  ["thrift framed compact", vector(thrift, "T4 "), "thrift", "getUser"],
  ["thrift THeader", vector(thrift, "T18 "), "thrift", ""],
  ["dubbo", vector(dubbo, "D1 "), "dubbo", "sayHello"],
];

test("each connection is detected from its first byte and decoded by that protocol's codec", async () => {
  const vm = await loadFilter({ protocol: "auto", expose: { properties: "every" } }, { logLevel: 1 });
  const detected: Record<string, number> = {};
  for (const [name, bytes, protocol, method] of cases) {
    const conn = openConnection(vm);
    for (const b of bytes) conn.downstreamData(Buffer.from([b]));   // byte by byte: detection needs one
    assert.ok(Buffer.from(conn.sentUpstream()).equals(bytes), name);
    assert.equal(conn.filterStateText("wasm.metawire.protocol"), protocol, name);
    if (method) assert.equal(conn.filterStateText("wasm.metawire.method"), method, name);
    detected[protocol] = (detected[protocol] ?? 0) + 1;
    assert.ok(vm.logs.some((l) => l.msg === `metawire auto: connection ${l.ctx} speaks ${protocol}`), name);
    conn.closeDownstream("remote");
  }
  for (const [protocol, n] of Object.entries(detected)) {
    assert.equal(legacyCounter(vm.metrics, protocol, "detected_total"), n, protocol);
    assert.equal(legacyCounter(vm.metrics, protocol, "decode_errors_total"), 0, protocol);
    assert.equal(legacyCounter(vm.metrics, protocol, "cx_total"), n, protocol);
  }
  assert.equal(vm.failed, undefined);
});

test("a fixed protocol defines only that protocol's metrics", async () => {
  const vm = await loadFilter({ protocol: "thrift" });
  const names = vm.metrics.names();
  assert.ok(names.length > 0);
  assert.ok(metawireSeries(vm.metrics).length === names.length, `not all metawire metrics: ${names.join(",")}`);
  assert.ok(names.every((n) => parseMetricName(n).tags.protocol === "thrift"), names.join(","));
});
