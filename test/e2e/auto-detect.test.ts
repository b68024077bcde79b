// protocol: auto against real peers on ONE listener: Redis clients, Apache Thrift clients and
// Apache Dubbo's Java consumer connect to the same proxy port. tcp_proxy has a single upstream, so
// the upstream here is a small test demultiplexer that forwards each connection by its first byte
// to a real redis-server, Apache Thrift server or Dubbo provider — the filter's detection is what
// is under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { startProxy, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { legacyCounter } from "../support/metawire-metrics.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { thrift, loadThriftCode, startThriftServer, thriftStacks, type ThriftServer } from "../support/thrift-peers.js";
import { thriftSkipReason } from "../thrift/generate.js";
import { dubboPeers, dubboSkipReason, runDubboConsumer, startDubboProvider, type DubboProvider } from "../support/dubbo-peers.js";

const run = promisify(execFile);
const skip = redisAvailable() ?? thriftSkipReason();

/** Forwards each connection, by its first byte, to Dubbo (0xDA), Thrift (0x00, 0x80, 0x82) or Redis (anything else). */
function demux(redisPort: number, thriftPort: number, dubboPort = 1): Promise<net.Server> {
  const server = net.createServer((client) => {
    client.once("data", (first) => {
      const b = first[0];
      const port = b === 0xda ? dubboPort : b === 0x00 || b === 0x80 || b === 0x82 ? thriftPort : redisPort;
      const upstream = net.connect(port, "127.0.0.1", () => {
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      const end = () => { client.destroy(); upstream.destroy(); };
      upstream.on("error", end);
      client.on("error", end);
      upstream.on("close", end);
      client.on("close", end);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** ioredis and redis-cli (two Redis connections), then an Apache Thrift framed/compact client (two calls). */
async function redisAndThriftClients(proxy: ProxyHandle, t: ReturnType<typeof loadThriftCode>, stack: ReturnType<typeof thriftStacks>[number]): Promise<void> {
  // Redis: ioredis (RESP arrays) and redis-cli's inline-free client, on separate connections.
  const r = new Redis({ port: proxy.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  assert.equal(await r.set("auto:k", "v"), "OK");
  assert.equal(await r.get("auto:k"), "v");
  r.disconnect();
  const { stdout } = await run("redis-cli", ["-p", String(proxy.port), "incr", "auto:n"]);
  assert.equal(stdout.trim(), "1");

  // Thrift: framed compact client.
  const conn = thrift.createConnection("127.0.0.1", proxy.port, { ...stack.client, connect_timeout: 5000 });
  const client = thrift.createClient(t.CatalogNext, conn);
  await new Promise<void>((resolve, reject) => { conn.once("connect", () => resolve()); conn.once("error", reject); });
  const call = <T>(method: string, ...args: unknown[]) => new Promise<T>((resolve, reject) =>
    client[method](...args, (err: unknown, result: T) => (err ? reject(err) : resolve(result))));
  await call("ping");
  assert.equal(await call("echoText", "hello"), "hello");
  conn.end();
}

const counter = (p: ProxyHandle, protocol: string, name: string) => legacyCounter(p.metrics, protocol, name);

test("protocol auto: Redis and Apache Thrift clients on one listener (no JVM needed)", { skip, timeout: 60_000 }, async () => {
  const t = loadThriftCode();
  const stack = thriftStacks().find((s) => s.name === "framed/compact")!;
  let redis: RedisServer | undefined, ts: ThriftServer | undefined, mux: net.Server | undefined, proxy: ProxyHandle | undefined;
  try {
    redis = await startRedis();
    ts = await startThriftServer(t, stack);
    mux = await demux(redis.port, ts.port);
    proxy = await startProxy({ wasm: metawireWasm(), pluginConfig: JSON.stringify({ protocol: "auto", expose: { properties: "every" } }),
      clusters: { default: `127.0.0.1:${(mux.address() as net.AddressInfo).port}` }, cluster: "default" });

    await redisAndThriftClients(proxy, t, stack);

    assert.equal(counter(proxy, "redis", "detected_total"), 2);
    assert.equal(counter(proxy, "thrift", "detected_total"), 1);
    assert.equal(counter(proxy, "redis", "requests_total") >= 3, true);   // + the client's handshake commands
    assert.equal(counter(proxy, "thrift", "requests_total"), 2);
    assert.equal(counter(proxy, "thrift", "replies_ok"), 2);
    for (const p of ["redis", "thrift", "dubbo"]) assert.equal(counter(proxy, p, "decode_errors_total"), 0, p);
    assert.ok(proxy.vms.every((vm) => !vm.failed));
  } finally {
    await proxy?.close();
    mux?.close();
    await ts?.close();
    await redis?.stop();
  }
});

test("protocol auto: Redis, Apache Thrift and Apache Dubbo (Java) clients on one listener", { skip: skip ?? dubboSkipReason(), timeout: 120_000 }, async () => {
  const peer = dubboPeers()[dubboPeers().length - 1];
  const t = loadThriftCode();
  const stack = thriftStacks().find((s) => s.name === "framed/compact")!;
  let redis: RedisServer | undefined, ts: ThriftServer | undefined, provider: DubboProvider | undefined, mux: net.Server | undefined, proxy: ProxyHandle | undefined;
  try {
    redis = await startRedis();
    ts = await startThriftServer(t, stack);
    provider = await startDubboProvider(peer);
    mux = await demux(redis.port, ts.port, provider.port);
    proxy = await startProxy({ wasm: metawireWasm(), pluginConfig: JSON.stringify({ protocol: "auto" }),
      clusters: { default: `127.0.0.1:${(mux.address() as net.AddressInfo).port}` }, cluster: "default" });
    const run = await runDubboConsumer(peer, proxy.port, 0);
    await redisAndThriftClients(proxy, t, stack);
    assert.ok(run.summary.ok > 0, JSON.stringify(run.summary));
    assert.ok(counter(proxy, "dubbo", "detected_total") >= 1);
    assert.equal(counter(proxy, "redis", "detected_total"), 2);
    assert.equal(counter(proxy, "thrift", "detected_total"), 1);
    assert.equal(counter(proxy, "thrift", "replies_ok"), 2);
    for (const p of ["redis", "thrift"]) assert.equal(counter(proxy, p, "decode_errors_total"), 0, p);
    assert.ok(counter(proxy, "dubbo", "requests_total") >= run.summary.ok + run.summary.error);
    assert.equal(counter(proxy, "dubbo", "decode_errors_total"), 0);
    assert.ok(proxy.vms.every((vm) => !vm.failed));
  } finally {
    await proxy?.close();
    mux?.close();
    await provider?.stop();
    await ts?.close();
    await redis?.stop();
  }
});
