// The built module configured for Dubbo, under the harness, fed the Java-generated frames of
// test/fixtures/dubbo-vectors.json (the codec's unit specs check them in detail; this pins the
// wiring: metadata in filter state, counters, id correlation, bytes untouched).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadFilter, openConnection } from "../support/filter.js";
import type { WasmVm } from "../host/vm.js";
import { durationSamples, legacyCounter } from "../support/metawire-metrics.js";

interface Message { request: boolean; two_way: boolean; event: boolean; id: number; status: number; response_flag: number;
  service?: string; method?: string; version?: string | null; group?: string; attachments?: [string, string][] }
interface Frame { name: string; direction: "request" | "response"; hex: string; expect: { messages: Message[] } }

const frames = JSON.parse(readFileSync("test/fixtures/dubbo-vectors.json", "utf8")).frames as Frame[];
const count = (vm: WasmVm, name: string) => legacyCounter(vm.metrics, "dubbo", name);
const responseStatus = (m: Message) => m.status !== 20 ? "exception" : m.response_flag === 0 || m.response_flag === 3 ? "error" : "ok";

test("every Java-generated Dubbo frame passes through unchanged with its metadata, whole and byte by byte", async () => {
  assert.ok(frames.length >= 16);
  for (const f of frames) {
    const bytes = Buffer.from(f.hex, "hex");
    for (const split of [bytes.length, 1]) {
      const vm = await loadFilter({ protocol: "dubbo", expose: { properties: "every" } });
      const conn = openConnection(vm);
      const down = f.direction === "request";
      for (let p = 0; p < bytes.length; p += split) {
        const part = bytes.subarray(p, p + split);
        if (down) conn.downstreamData(part); else conn.upstreamData(part);
      }
      assert.ok(Buffer.from(down ? conn.sentUpstream() : conn.sentDownstream()).equals(bytes), `${f.name}: bytes changed`);
      assert.equal(count(vm, "decode_errors_total"), 0, `${f.name}: ${JSON.stringify(vm.logs.slice(-2))}`);
      const messages = f.expect.messages;
      const events = messages.filter((m) => m.event).length;
      assert.equal(count(vm, "out_of_band_total"), events, f.name);
      const calls = messages.filter((m) => !m.event);
      if (down) {
        assert.equal(count(vm, "requests_total"), calls.length, f.name);
        const last = calls[calls.length - 1];
        if (last?.method !== undefined) {
          assert.equal(conn.filterStateText("wasm.metawire.service"), last.service, f.name);
          assert.equal(conn.filterStateText("wasm.metawire.method"), last.method, f.name);
          if (last.version !== undefined) assert.equal(conn.filterStateText("wasm.metawire.version"), last.version ?? "", f.name);
          assert.equal(conn.filterStateText("wasm.metawire.id"), String(last.id), f.name);
          assert.equal(conn.filterStateText("wasm.metawire.kind"), last.two_way ? "request" : "oneway", f.name);
          for (const [k, v] of last.attachments ?? []) assert.equal(conn.filterStateText(`wasm.metawire.header.${k}`), v, `${f.name} ${k}`);
        }
      } else {
        assert.equal(count(vm, "replies_ok") + count(vm, "replies_error"), calls.length, f.name);
        const last = calls[calls.length - 1];
        if (last) assert.equal(conn.filterStateText("wasm.metawire.response_status"), responseStatus(last), f.name);
      }
      assert.equal(vm.failed, undefined, f.name);
    }
  }
});

test("responses are matched by request id, out of order", async () => {
  const d1 = frames.find((f) => f.name.startsWith("D1 "))!;
  const d5 = frames.find((f) => f.name.startsWith("D5 "))!;
  assert.equal(d1.expect.messages[0].id, d5.expect.messages[0].id, "fixture: D5 answers D1");
  const vm = await loadFilter({ protocol: "dubbo" });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.from(d1.hex, "hex"));
  conn.upstreamData(Buffer.from(d5.hex, "hex"));
  assert.equal(durationSamples(vm.metrics, "dubbo").length, 1);
  assert.equal(count(vm, "replies_ok"), 1);
});

test("a non-Dubbo stream switches the connection to passthrough", async () => {
  const vm = await loadFilter({ protocol: "dubbo" });
  const conn = openConnection(vm);
  const junk = Buffer.from("ls\r\n");   // Dubbo's telnet console: not the binary protocol
  conn.downstreamData(junk);
  assert.ok(Buffer.from(conn.sentUpstream()).equals(junk));
  assert.equal(count(vm, "decode_errors_total"), 1);
});
