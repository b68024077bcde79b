// Every place the manifests configure metawire (each Envoy listener's wasm filter, each Istio
// WasmPlugin × port), run as Envoy would run it: the built module (build/metawire.wasm) loaded by the
// harness with that site's plugin JSON, identity and failure policy, in front of a harness tcp_proxy
// with that site's cluster and early-data settings, the site's clusters mapped to local servers of
// its protocol (redis-server, an npm thrift server, a Dubbo responder replaying Java-made frames).
// One request per site (Redis: two, to see the policy), then the reply, the cluster the connection
// took, metawire's counters, and the line the site's access log would print.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readFileSync } from "node:fs";
import { startProxy, type ProxyEvent } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { ask, counterOf, exchange, startTaggedThriftServer, type TaggedThriftServer } from "../support/routing.js";
import { loadThriftCode, startThriftServer, thriftStacks, ThriftSession, type ThriftServer } from "../support/thrift-peers.js";
import { waitFor } from "../support/thrift-e2e.js";
import { thriftSkipReason } from "../thrift/generate.js";
import { envoyFiles, envoySites, istioFiles, istioSet, istioSites } from "./manifests.js";

type CloseEvent = Extract<ProxyEvent, { type: "close" }>;

// ---- the request each site gets ----------------------------------------------------------------------

type Peer = "redis" | "thrift" | "thrift-multiplexed" | "dubbo";
interface Plan {
  /** The local server every cluster of the site is mapped to. */
  peer: Peer;
  /** Sends the request(s) to the proxy's port and returns the reply in a comparable form. */
  run(port: number): Promise<unknown>;
  reply: unknown;
  counters: Record<string, number>;
  cluster: string;
  /** Substrings of the rendered access log line (Envoy configs). */
  log?: string[];
}

const skipRedis = redisAvailable();
const skipThrift = thriftSkipReason();

let redis: RedisServer | undefined;
let plainThrift: TaggedThriftServer | undefined;
let muxThrift: ThriftServer | undefined;
let dubbo: DubboResponder | undefined;

// Java-generated Dubbo frames (test/fixtures/dubbo-vectors.json): D1 calls
// org.apache.dubbo.demo.DemoService:1.0.0 sayHello (id 1), D5 is its OK response.
const vectors = JSON.parse(readFileSync("test/fixtures/dubbo-vectors.json", "utf8")).frames as { name: string; hex: string }[];
const frame = (prefix: string) => Buffer.from(vectors.find((f) => f.name.startsWith(prefix))!.hex, "hex");
const D1 = frame("D1 "), D5 = frame("D5 ");

interface DubboResponder { port: number; requests: number; close(): Promise<void> }

/** A Dubbo provider stand-in: answers every whole request frame with D5 carrying the request's id. */
async function startDubboResponder(): Promise<DubboResponder> {
  const state = { requests: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => { /* the client's reset */ });
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 16 && buf.length >= 16 + buf.readInt32BE(12)) {
        const len = 16 + buf.readInt32BE(12);
        const reply = Buffer.from(D5);
        buf.copy(reply, 4, 4, 12);   // the request id
        state.requests++;
        s.write(reply);
        buf = buf.subarray(len);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get requests() { return state.requests; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

const FRAMED_BINARY = () => thriftStacks().find((s) => s.name === "framed/binary")!;

const redisPlan = (cluster: string): Plan => ({
  peer: "redis",
  run: (port) => ask(port, ["SET", "deploy", "ok"], ["FLUSHALL"]).then((r) => r.map((x) => x.trim())),
  reply: ["+OK", "-ERR FLUSHALL and FLUSHDB are disabled by the proxy"],
  counters: { cx_total: 1, requests_total: 2, replies_ok: 1, denied_total: 1, decode_errors_total: 0 },
  cluster,
  // the connection summary: SET answered, FLUSHALL denied (an error reply)
  log: ["protocol=redis", "first=SET", "key=deploy", "status=ok", "requests=2", "errors=1", "first_method=SET", "last_method=FLUSHALL", `upstream=${cluster}`],
});

const thriftEcho = (cluster: string, routed: number, log?: string[]): Plan => ({
  peer: "thrift",
  run: async (port) => {
    const s = await ThriftSession.open(loadThriftCode(), FRAMED_BINARY(), port);
    try { return await s.call("echoText", ["deploy"]); } finally { await s.close(); }
  },
  reply: { ok: "plain:deploy" },
  counters: { cx_total: 1, requests_total: 1, replies_ok: 1, routed_total: routed, decode_errors_total: 0 },
  cluster, log,
});

const dubboPlan = (cluster: string, log?: string[]): Plan => ({
  peer: "dubbo",
  run: async (port) => {
    const answer = await exchange(port, D1, (got) => got.length >= D5.length);
    return answer.equals(D5) ? "D5" : answer.toString("hex");
  },
  reply: "D5",
  counters: { cx_total: 1, requests_total: 1, replies_ok: 1, routed_total: 1, decode_errors_total: 0 },
  cluster, log,
});

/** The request of each site, by its source; a new site without an entry fails the test. */
const PLANS: Record<string, Plan> = {
  "envoy/redis.yaml listener redis_in": redisPlan("redis"),
  "istio/redis.yaml WasmPlugin data/metawire-redis SERVER port 6379": redisPlan("inbound|6379||"),
  "envoy/thrift.yaml listener thrift_in": {
    peer: "thrift-multiplexed",
    run: async (port) => {
      const s = await ThriftSession.open(loadThriftCode(), FRAMED_BINARY(), port, true);
      try { return await s.call("version", [], "Admin"); } finally { await s.close(); }
    },
    reply: { ok: "metawire-test 1.0" },
    counters: { cx_total: 1, requests_total: 1, replies_ok: 1, routed_total: 1, decode_errors_total: 0 },
    cluster: "thrift_admin",
    log: ["protocol=thrift", "service=Admin", "method=version", "status=ok", "route=thrift_admin", "requests=1", "errors=0", "first_method=version", "last_method=version", "upstream=thrift_admin"],
  },
  "istio/thrift.yaml WasmPlugin shop/metawire-thrift SERVER port 9090": thriftEcho("inbound|9090||", 0),
  "examples/thrift-split/envoy.yaml listener catalog_in": thriftEcho("catalog_v2", 1, ["protocol=thrift", "service=", "method=echoText", "status=ok", "route=catalog_v2", "requests=1", "errors=0", "first_method=echoText", "last_method=echoText", "upstream=catalog_v2"]),
  "examples/thrift-split/istio.yaml WasmPlugin demo/thrift-split CLIENT port 9090": thriftEcho("outbound|9090|v2|catalog.demo.svc.cluster.local", 1),
  "envoy/dubbo.yaml listener dubbo_in": dubboPlan("demo_v1", ["protocol=dubbo", "service=org.apache.dubbo.demo.DemoService", "version=1.0.0", "method=sayHello", "status=ok", "route=demo_v1", "requests=1", "errors=0", "first_method=sayHello", "last_method=sayHello", "upstream=demo_v1"]),
  "istio/dubbo.yaml WasmPlugin demo/metawire-dubbo CLIENT port 20880": dubboPlan("outbound|20880|v1|demo-provider.demo.svc.cluster.local"),
};

/** What Envoy's formatter would print for the commands the tests can know: FILTER_STATE, UPSTREAM_CLUSTER. */
function renderAccessLog(format: string, close: CloseEvent): string {
  return format
    .replace(/%FILTER_STATE\(([^:)]+)(?::PLAIN)?\)%/g, (_m, key: string) => close.filterState[key] ?? "-")
    .replace(/%UPSTREAM_CLUSTER%/g, close.cluster ?? "-");
}

before(async () => {
  if (!skipRedis) redis = await startRedis();
  if (!skipThrift) {
    const t = loadThriftCode();
    plainThrift = await startTaggedThriftServer(t, FRAMED_BINARY(), "plain");
    muxThrift = await startThriftServer(t, FRAMED_BINARY(), true);
  }
  dubbo = await startDubboResponder();
});

after(async () => {
  await redis?.stop();
  await plainThrift?.close();
  await muxThrift?.close();
  await dubbo?.close();
});

function serverFor(peer: Peer): string {
  const port = { redis: () => redis!.port, thrift: () => plainThrift!.port, "thrift-multiplexed": () => muxThrift!.port, dubbo: () => dubbo!.port }[peer]();
  return `127.0.0.1:${port}`;
}

const sites = [...envoyFiles().flatMap(envoySites), ...istioFiles().map(istioSet).flatMap(istioSites)];

test("every site of the manifests has a request here", () => {
  assert.deepEqual(sites.map((s) => s.source).sort(), Object.keys(PLANS).sort());
});

for (const site of sites) {
  const protocol = site.config.protocol as string;
  const skip = protocol === "redis" ? skipRedis : protocol === "thrift" ? skipThrift : undefined;
  test(`${site.source}: loads in the harness and serves a ${protocol} request as configured`, { skip }, async () => {
    const plan = PLANS[site.source];
    assert.ok(plan, `no request for ${site.source}`);
    assert.ok(site.failurePolicy === "FAIL_OPEN" || site.failurePolicy === "FAIL_CLOSED", site.failurePolicy);
    const events: ProxyEvent[] = [];
    const logs: string[] = [];
    const server = serverFor(plan.peer);
    const proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: site.configuration,
      pluginName: site.pluginName, rootId: site.rootId, vmId: site.vmId,
      failurePolicy: site.failurePolicy as "FAIL_OPEN" | "FAIL_CLOSED",
      clusters: Object.fromEntries(site.clusters.map((c) => [c, server])),
      cluster: site.tcpProxy.cluster!,
      ...(site.tcpProxy.maxEarlyDataBytes !== undefined ? {
        maxEarlyDataBytes: site.tcpProxy.maxEarlyDataBytes,
        connectMode: site.tcpProxy.connectMode === "ON_DOWNSTREAM_DATA" ? "on-downstream-data" as const : "immediate" as const,
      } : {}),
      onEvent: (e) => { if (e.type === "log") logs.push(e.msg); else events.push(e); },
    });
    try {
      assert.deepEqual(await plan.run(proxy.port), plan.reply, logs.join("\n"));
      const close = await waitFor(() => events.find((e): e is CloseEvent => e.type === "close"), "the connection's close");
      assert.equal(close.cluster, plan.cluster, "the cluster tcp_proxy connected");
      for (const [name, value] of Object.entries(plan.counters)) {
        assert.equal(counterOf(proxy.metrics, protocol, name), value, `metawire.${protocol}.${name}`);
      }
      assert.equal(counterOf(proxy.metrics, protocol, "route_too_late_total"), 0);
      assert.equal(close.filterState["wasm.metawire.protocol"], protocol);
      for (const format of site.tcpProxy.accessLogFormats) {
        const line = renderAccessLog(format, close);
        for (const part of plan.log ?? []) assert.ok(line.includes(` ${part} `), `access log: ${JSON.stringify(line)} lacks ${part}`);
      }
      if (site.kind === "envoy") assert.ok((plan.log ?? []).length > 0, "an Envoy site checks its access log");
    } finally {
      await proxy.close();
    }
  });
}
