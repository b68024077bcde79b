// The built module configured for Thrift, under the harness, fed the Apache Thrift vectors of
// test/fixtures/thrift-vectors.json (the codec's own unit specs check them in detail; this pins
// the wiring: metadata in filter state, counters, correlation, bytes untouched).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadFilter, openConnection } from "../support/filter.js";
import type { WasmVm } from "../host/vm.js";
import { durationSamples, legacyCounter } from "../support/metawire-metrics.js";

interface Message { type: string; service: string; method: string; seqid: number; reply_status: number; app_exception_type: number; headers: [string, string][] }
interface Vector { name: string; hex: string; expect: { transport: string; protocol: string; messages: Message[]; error: string | null; incomplete: boolean } }

const vectors = (JSON.parse(readFileSync("test/fixtures/thrift-vectors.json", "utf8")).vectors as Vector[])
  .filter((v) => v.expect.error === null && !v.expect.incomplete && v.expect.messages.length > 0);
const isRequest = (m: Message) => m.type === "call" || m.type === "oneway";
const config = (v: Vector) => ({ protocol: "thrift", expose: { properties: "every" }, thrift: { lax_binary_unframed: v.name.includes("lax") } });
const count = (vm: WasmVm, name: string) => legacyCounter(vm.metrics, "thrift", name);
const status = ["ok", "error", "exception"];

test("every Apache Thrift vector passes through unchanged with its metadata, whole and byte by byte", async () => {
  assert.ok(vectors.length >= 15, `only ${vectors.length} vectors`);
  for (const v of vectors) {
    const bytes = Buffer.from(v.hex, "hex");
    const requests = v.expect.messages.filter(isRequest);
    for (const split of [bytes.length, 1]) {
      const vm = await loadFilter(config(v));
      const conn = openConnection(vm);
      const down = requests.length > 0;
      for (let p = 0; p < bytes.length; p += split) {
        const part = bytes.subarray(p, p + split);
        if (down) conn.downstreamData(part); else conn.upstreamData(part);
      }
      const out = Buffer.from(down ? conn.sentUpstream() : conn.sentDownstream());
      assert.ok(out.equals(bytes), `${v.name}: bytes changed`);
      assert.equal(count(vm, "decode_errors_total"), 0, `${v.name}: ${JSON.stringify(vm.logs.slice(-2))}`);
      if (down) {
        assert.equal(count(vm, "requests_total"), requests.length, v.name);
        const last = requests[requests.length - 1];
        assert.equal(conn.filterStateText("wasm.metawire.method"), last.method, v.name);
        assert.equal(conn.filterStateText("wasm.metawire.service"), last.service, v.name);
        assert.equal(conn.filterStateText("wasm.metawire.id"), String(last.seqid), v.name);
        assert.equal(conn.filterStateText("wasm.metawire.kind"), last.type, v.name);
        for (const [k, val] of last.headers) assert.equal(conn.filterStateText(`wasm.metawire.header.${k}`), val, `${v.name} header ${k}`);
      } else {
        const replies = v.expect.messages.length;
        assert.equal(count(vm, "replies_ok") + count(vm, "replies_error"), replies, v.name);
        const last = v.expect.messages[replies - 1];
        assert.equal(conn.filterStateText("wasm.metawire.response_status"), status[last.reply_status], v.name);
      }
      assert.equal(vm.failed, undefined, v.name);
    }
  }
});

test("a reply is matched to its call by seqid: one latency sample, status exposed", async () => {
  let pairs = 0;
  for (const call of vectors.filter((v) => v.expect.messages.length === 1 && v.expect.messages[0].type === "call")) {
    for (const reply of vectors.filter((v) => v.expect.messages.length === 1 && !isRequest(v.expect.messages[0]))) {
      if (call.expect.transport !== reply.expect.transport || call.expect.protocol !== reply.expect.protocol) continue;
      if (call.expect.messages[0].seqid !== reply.expect.messages[0].seqid) continue;
      pairs++;
      const vm = await loadFilter(config(call));
      const conn = openConnection(vm);
      conn.downstreamData(Buffer.from(call.hex, "hex"));
      conn.upstreamData(Buffer.from(reply.hex, "hex"));
      assert.equal(durationSamples(vm.metrics, "thrift").length, 1, `${call.name} + ${reply.name}`);
      assert.equal(conn.filterStateText("wasm.metawire.response_status"), status[reply.expect.messages[0].reply_status]);
    }
  }
  assert.ok(pairs >= 3, `only ${pairs} call/reply pairs in the fixture`);
});

test("a non-Thrift stream switches the connection to passthrough", async () => {
  const vm = await loadFilter({ protocol: "thrift" });
  const conn = openConnection(vm);
  const junk = Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  conn.downstreamData(junk);
  assert.ok(Buffer.from(conn.sentUpstream()).equals(junk));
  assert.equal(count(vm, "decode_errors_total"), 1);
  assert.equal(vm.failed, undefined);
});
