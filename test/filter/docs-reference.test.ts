// The references in docs/ stay true to the module: every metric the filter defines is in
// docs/metrics.md, and every filter-state key it writes is in docs/metadata.md. The names are
// collected from a run with every feature that defines or writes one (protocol: auto, a policy of
// each kind, a route, traffic of each protocol).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadFilter } from "../support/filter.js";
import { FilterConnection } from "../host/connection.js";
import { command } from "../support/resp.js";
import { MessageType, message, type WireStack } from "../support/thrift-wire.js";
import { okResponse, request } from "../support/dubbo-build.js";
import { parseMetricName } from "../support/metawire-metrics.js";

const CONFIG = {
  protocol: "auto",
  expose: { properties: "every" },
  routes: [{ name: "all", cluster: "default" }],
  policies: [
    { name: "deny", match: { method: { exact: "NOPE" } }, deny: {} },
    { name: "fault", match: { method: { exact: "NOPE" } }, fault: { abort: { percent: 1 }, delay: { percent: 1, ms: 1 } } },
    { name: "limit", match: { method: { exact: "NOPE" } }, rate_limit: { per_second: 10 } },
  ],
};
const FRAMED: WireStack = { transport: "framed", protocol: "binary" };

async function run() {
  const vm = await loadFilter(CONFIG);
  const keys = new Set<string>();
  const exchanges: [Buffer, Buffer][] = [
    [command("GET", "k"), Buffer.from("$1\r\nv\r\n")],
    [message(FRAMED, "Calc:add", MessageType.CALL, 1, [{ id: 1, i64: 2 }]), message(FRAMED, "add", MessageType.REPLY, 1, [{ id: 0, i64: 4 }])],
    [request({ id: 1, method: "get", version: "1.0", attachments: { group: "g", tenant: "t" } }), okResponse(1, "value")],
  ];
  for (const [req, rep] of exchanges) {
    const conn = new FilterConnection({ vm, maxEarlyDataBytes: 65536, connectMode: "on-downstream-data" });
    conn.start();
    conn.downstreamData(req);
    conn.upstreamData(rep);
    conn.closeDownstream("remote");
    for (const key of conn.filterState.keys()) if (key.startsWith("wasm.metawire.")) keys.add(key.replace(/^(wasm\.metawire\.header\.).*/, "$1<name>"));
  }
  const metrics = new Set(vm.metrics.names().map((n) => parseMetricName(n).name));
  return { keys, metrics };
}

test("docs/metrics.md names every metric the filter defines, and docs/metadata.md every filter-state key", async () => {
  const { keys, metrics } = await run();
  assert.ok(metrics.size >= 20 && keys.size >= 15, `a run that defines and writes them all (${metrics.size} metrics, ${keys.size} keys)`);
  const metricsDoc = readFileSync("docs/metrics.md", "utf8");
  for (const m of metrics) assert.ok(metricsDoc.includes(`\`${m}\``), `docs/metrics.md lacks ${m}`);
  const metadataDoc = readFileSync("docs/metadata.md", "utf8");
  for (const k of keys) assert.ok(metadataDoc.includes(`\`${k}\``), `docs/metadata.md lacks ${k}`);
});
