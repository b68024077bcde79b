// The timing policies end to end, through the harness TCP proxy in front of a real redis-server.
//
// Rate limit scope: the proxy runs two worker VMs (`workers: 2`; the listener hands connections to
// them round robin, in accept order, as Envoy spreads them over its workers). Under 3 s of
// closed-loop load from four connections (two per worker) with per_second 100 and burst 10,
// scope "shared" (one bucket in shared data for the vm_id) admits ≈ 10 + 100 × 3 in total, and
// scope "worker" (one bucket per VM) ≈ twice that. Checked within ±10 %.
//
// Delay faults: a 200 ms delay at 100 % makes matching requests take 160–240 ms (±20 %; never less);
// at 50 %, between 30 % and 70 % of 200 requests are delayed, exactly as many as delayed_total.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { command } from "../support/resp.js";
import { LineClient, counterOf, inBatches } from "../support/routing.js";

const skip = redisAvailable();
let server: RedisServer | undefined;
const proxies: ProxyHandle[] = [];

before(async () => { if (!skip) server = await startRedis(); });
after(async () => {
  for (const p of proxies) await p.close();
  await server?.stop();
});

async function proxy(policies: object[], workers: number, events?: ProxyEvent[]): Promise<ProxyHandle> {
  const p = await startProxy({
    wasm: metawireWasm(),
    pluginConfig: JSON.stringify({ policies }),
    clusters: { redis: `127.0.0.1:${server!.port}` },
    cluster: "redis",
    workers,
    onEvent: (e) => { if (e.type !== "log") events?.push(e); },
  });
  proxies.push(p);
  return p;
}

const LOAD_MS = 3000;
const PER_SECOND = 100;
const BURST = 10;
const BATCH = 8;
const GETS = Buffer.concat(Array.from({ length: BATCH }, (_, i) => command("GET", `missing:${i}`)));

/** Four connections, each sending batches of GETs back to back for LOAD_MS; counts the answers. */
async function load(port: number): Promise<{ admitted: number; limited: number; other: string[]; ms: number }> {
  const clients = [];
  for (let i = 0; i < 4; i++) clients.push(await LineClient.connect(port)); // one by one: workers 0, 1, 0, 1
  let admitted = 0, limited = 0;
  const other: string[] = [];
  const start = Date.now();
  await Promise.all(clients.map(async (c) => {
    while (Date.now() - start < LOAD_MS) {
      for (const line of await c.round(GETS, BATCH)) {
        if (line === "$-1") admitted++;
        else if (line === "-ERR slow down") limited++;
        else other.push(line);
      }
    }
  }));
  const ms = Date.now() - start;
  for (const c of clients) c.close();
  return { admitted, limited, other, ms };
}

for (const scope of ["shared", "worker"] as const) {
  test(`rate limit, scope ${scope}, two workers: admitted ≈ ${scope === "worker" ? "2 × " : ""}(burst + per_second × 3 s) ±10 %`, { skip }, async (t) => {
    const events: ProxyEvent[] = [];
    const p = await proxy([{ name: "rl", match: { method: { exact: "GET" } },
      rate_limit: { per_second: PER_SECOND, burst: BURST, scope, message: "slow down" } }], 2, events);
    assert.equal(p.vms.length, 2);
    const r = await load(p.port);
    const workers = events.filter((e) => e.type === "open").map((e) => (e as { worker: number }).worker);
    assert.deepEqual(workers, [0, 1, 0, 1], "connections spread over both workers");
    assert.deepEqual(r.other, []);
    const buckets = scope === "worker" ? 2 : 1;
    const expected = buckets * (BURST + PER_SECOND * LOAD_MS / 1000);
    const detail = `admitted ${r.admitted}, limited ${r.limited}, load ${r.ms} ms, expected ${expected}`;
    t.diagnostic(detail);
    assert.ok(r.limited > 10 * r.admitted, `the load exceeds the limit by far: ${detail}`);
    assert.ok(Math.abs(r.admitted - expected) <= 0.1 * expected, detail);
    assert.equal(counterOf(p.metrics, "redis", "rate_limited_total"), r.limited, detail);
    await p.close();
  });
}

/** Sequential GETs on one connection; the latency of each, in ms. */
async function latencies(port: number, n: number): Promise<number[]> {
  const c = await LineClient.connect(port);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const [line] = await c.round(command("GET", `missing:${i}`), 1);
      out.push(performance.now() - t0);
      assert.equal(line, "$-1");
    }
  } finally {
    c.close();
  }
  return out;
}

test("delay fault 200 ms at 100 %: every matching request takes 160–240 ms; others are not delayed", { skip }, async (t) => {
  const p = await proxy([{ name: "slow", match: { method: { exact: "GET" } }, fault: { delay: { percent: 100, ms: 200 } } }], 1);
  const delayed = await latencies(p.port, 10);
  t.diagnostic(`latencies ${delayed.map((x) => x.toFixed(1)).join(", ")} ms`);
  const list = delayed.map((x) => x.toFixed(1)).join(", ");
  // The delay is a floor no load can lower; the ceiling is the host's: a busy 2-CPU runner can
  // stall the event loop for tens of ms now and then, so one sample of ten may be late.
  assert.ok(delayed.every((ms) => ms >= 160), `a request was not held 200 ms: ${list}`);
  assert.ok(delayed.filter((ms) => ms <= 240).length >= 9, `more than one request over 240 ms: ${list}`);
  const median = [...delayed].sort((a, b) => a - b)[5];
  assert.ok(median >= 160 && median <= 240, `median ${median.toFixed(1)} ms: ${list}`);
  assert.equal(counterOf(p.metrics, "redis", "delayed_total"), 10);
  // Baseline on the same proxy: SET matches no policy.
  const c = await LineClient.connect(p.port);
  const t0 = performance.now();
  assert.deepEqual(await c.round(command("SET", "k", "v"), 1), ["+OK"]);
  const plain = performance.now() - t0;
  c.close();
  assert.ok(plain < 100, `an unmatched request took ${plain.toFixed(1)} ms`);
  assert.equal(counterOf(p.metrics, "redis", "delayed_total"), 10);
  await p.close();
});

test("delay fault at 50 %: 30–70 % of 200 requests delayed, as many as delayed_total", { skip }, async (t) => {
  const p = await proxy([{ name: "flaky", match: { method: { exact: "GET" } }, fault: { delay: { percent: 50, ms: 200 } } }], 1);
  // 20 connections in parallel, 10 sequential requests each.
  const all = (await inBatches(20, 20, () => latencies(p.port, 10))).flat();
  assert.equal(all.length, 200);
  // Undelayed requests take about a millisecond, delayed ones at least 200 ms.
  const delayed = all.filter((ms) => ms >= 150).length;
  t.diagnostic(`${delayed} of 200 delayed`);
  assert.ok(delayed >= 60 && delayed <= 140, `${delayed} of 200 delayed`);
  assert.equal(counterOf(p.metrics, "redis", "delayed_total"), delayed);
  await p.close();
});
