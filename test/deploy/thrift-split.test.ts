// The seed's demo, examples/thrift-split, end to end: its Envoy config's listener run by the harness
// (the built module, tcp_proxy with early data as the config sets it) in front of two npm thrift
// servers, v1 and v2, whose echoText answers name the server. Connections whose first call is
// echoText land on v2 (the by-method canary); other connections split 90/10 by weight, measured over
// 200 connections by what each server received. The Istio version of the demo must route the same way:
// its routes are the Envoy routes with the subset clusters in place of catalog_v1/catalog_v2, and its
// pluginConfig runs the same canary through the harness.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { counterOf, inBatches, startTaggedThriftServer, type TaggedThriftServer } from "../support/routing.js";
import { loadThriftCode, thriftStacks, ThriftSession } from "../support/thrift-peers.js";
import { thriftSkipReason } from "../thrift/generate.js";
import { envoySites, istioSet, istioSites, type PluginSite } from "./manifests.js";

const skip = thriftSkipReason();
const [site] = envoySites("examples/thrift-split/envoy.yaml");
const [istioSite] = istioSites(istioSet("examples/thrift-split/istio.yaml"));
const SUBSET = (v: string) => `outbound|9090|${v}|catalog.demo.svc.cluster.local`;
const stack = () => thriftStacks().find((s) => s.name === "framed/binary")!;

let v1: TaggedThriftServer | undefined;
let v2: TaggedThriftServer | undefined;

before(async () => {
  if (skip) return;
  const t = loadThriftCode();
  [v1, v2] = [await startTaggedThriftServer(t, stack(), "v1"), await startTaggedThriftServer(t, stack(), "v2")];
});

after(async () => {
  await v1?.close();
  await v2?.close();
});

/** The harness proxy of a demo site, its clusters "…v1…" and "…v2…" on the two servers. */
function demoProxy(s: PluginSite, names: { v1: string; v2: string }): Promise<ProxyHandle> {
  assert.ok(s.tcpProxy.maxEarlyDataBytes, `${s.source}: early data`);
  assert.equal(s.tcpProxy.connectMode, "ON_DOWNSTREAM_DATA");
  return startProxy({
    wasm: metawireWasm(),
    pluginConfig: s.configuration,
    pluginName: s.pluginName, rootId: s.rootId, vmId: s.vmId,
    clusters: { [names.v1]: `127.0.0.1:${v1!.port}`, [names.v2]: `127.0.0.1:${v2!.port}`, [s.tcpProxy.cluster!]: `127.0.0.1:${v1!.port}` },
    cluster: s.tcpProxy.cluster!,
    maxEarlyDataBytes: s.tcpProxy.maxEarlyDataBytes,
    connectMode: "on-downstream-data",
  });
}

/** One connection: `first` as its first call, then echoText "again"; returns both answers. */
async function connection(port: number, first: "echoText" | "ping", tag: string): Promise<unknown[]> {
  const s = await ThriftSession.open(loadThriftCode(), stack(), port);
  try {
    const a = await s.call(first, first === "echoText" ? [tag] : []);
    const b = await s.call("echoText", [`${tag}+`]);
    return [a, b];
  } finally {
    await s.close();
  }
}

test("the Istio demo routes like the Envoy demo (same routes, subset clusters for catalog_v1/v2)", () => {
  const rename = (c: string) => ({ catalog_v1: SUBSET("v1"), catalog_v2: SUBSET("v2") } as Record<string, string>)[c] ?? c;
  const routes = structuredClone(site.config.routes).map((r: any) => (
    r.cluster ? { ...r, cluster: rename(r.cluster) } : { ...r, clusters: r.clusters.map((c: any) => ({ ...c, name: rename(c.name) })) }));
  assert.deepEqual(istioSite.config.routes, routes);
  assert.deepEqual(istioSite.config.routing, site.config.routing);
  assert.equal(istioSite.config.protocol, "thrift");
});

test("by method: every connection whose first call is echoText lands on v2 and stays there", { skip }, async () => {
  for (const [s, names] of [[site, { v1: "catalog_v1", v2: "catalog_v2" }], [istioSite, { v1: SUBSET("v1"), v2: SUBSET("v2") }]] as const) {
    const p = await demoProxy(s, names);
    const before = { v1: v1!.handler.calls.length, v2: v2!.handler.calls.length };
    try {
      const answers = await inBatches(20, 10, (i) => connection(p.port, "echoText", `m${i}`));
      answers.forEach((a, i) => assert.deepEqual(a, [{ ok: `v2:m${i}` }, { ok: `v2:m${i}+` }], s.source));
      assert.equal(v1!.handler.calls.length - before.v1, 0, `${s.source}: v1 saw nothing`);
      assert.equal(v2!.handler.calls.length - before.v2, 40, s.source);
      assert.equal(counterOf(p.metrics, "thrift", "routed_total"), 20, s.source);
      assert.equal(counterOf(p.metrics, "thrift", "route_too_late_total"), 0, s.source);
    } finally {
      await p.close();
    }
  }
});

test("by weight: 200 connections whose first call is ping split 90/10 between v1 and v2 within ±7 %", { skip }, async () => {
  const p = await demoProxy(site, { v1: "catalog_v1", v2: "catalog_v2" });
  try {
    const n = 200;
    const pings = () => ({ v1: v1!.handler.calls.filter((c) => c === "ping").length, v2: v2!.handler.calls.filter((c) => c === "ping").length });
    const before = pings();
    const answers = await inBatches(n, 20, (i) => connection(p.port, "ping", `w${i}`));
    const after = pings();
    const seen = { v1: after.v1 - before.v1, v2: after.v2 - before.v2 };
    assert.equal(seen.v1 + seen.v2, n, JSON.stringify(seen));
    assert.ok(Math.abs(seen.v1 / n - 0.9) <= 0.07, `v1 share ${seen.v1 / n}`);
    assert.ok(Math.abs(seen.v2 / n - 0.1) <= 0.07, `v2 share ${seen.v2 / n}`);
    // Each connection's later echoText went to the server its first call reached.
    const byServer = answers.map(([, b]) => String((b as { ok: string }).ok).split(":")[0]);
    assert.equal(byServer.filter((x) => x === "v1").length, seen.v1);
    assert.equal(byServer.filter((x) => x === "v2").length, seen.v2);
    assert.equal(counterOf(p.metrics, "thrift", "routed_total"), n);
    // The second call (echoText) belongs to the canary route: counted, and allowed (on_mismatch: allow).
    assert.equal(counterOf(p.metrics, "thrift", "route_mismatch_total"), n);
  } finally {
    await p.close();
  }
});
