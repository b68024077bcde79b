// redis-benchmark -P 16 against a real redis-server: direct, through the harness proxy with no
// filter (plain tcp_proxy), and through the harness proxy running metawire.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startProxy } from "../host/tcp-proxy.js";
import { redisAvailable, startRedis } from "../support/redis-server.js";

const run = promisify(execFile);
const TESTS = ["SET", "GET", "INCR", "LPUSH", "MSET (10 keys)"];

async function benchmark(port: number, requests: number): Promise<Map<string, number>> {
  const { stdout } = await run("redis-benchmark", ["-h", "127.0.0.1", "-p", String(port), "-P", "16", "-c", "20",
    "-n", String(requests), "-t", "set,get,incr,lpush,mset", "--csv"], { maxBuffer: 1 << 20 });
  const out = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const cols = line.split(",").map((c) => c.replace(/^"|"$/g, ""));
    if (cols.length >= 2 && TESTS.includes(cols[0])) out.set(cols[0], Number(cols[1]));
  }
  return out;
}

export async function proxyBenchmarks(metawire: Uint8Array, scale: number):
    Promise<{ skipped?: string; tests: string[]; rows: (string | number)[][] }> {
  const missing = redisAvailable();
  if (missing) return { skipped: missing, tests: TESTS, rows: [] };
  const requests = Math.max(20000, Math.round(200000 * scale));
  const redis = await startRedis();
  const rows: (string | number)[][] = [];
  try {
    const direct = await benchmark(redis.port, requests);
    const results: [string, Map<string, number>][] = [["direct to redis-server", direct]];
    for (const [label, wasm] of [["harness proxy, no filter", null], ["harness proxy + metawire", metawire]] as const) {
      const proxy = await startProxy({ wasm, pluginConfig: "{}", listen: { host: "127.0.0.1", port: 0 },
        clusters: { default: `127.0.0.1:${redis.port}` }, cluster: "default" });
      try { results.push([label, await benchmark(proxy.port, requests)]); } finally { await proxy.close(); }
    }
    const passthrough = results[1][1];
    for (const [label, r] of results) {
      rows.push([label, ...TESTS.map((t) => {
        const v = r.get(t) ?? 0;
        const p = passthrough.get(t) ?? 0;
        return label.includes("metawire") && p ? `${v.toFixed(0)} (${((v / p) * 100).toFixed(0)} %)` : v.toFixed(0);
      })]);
    }
  } finally {
    await redis.stop();
  }
  return { tests: TESTS, rows };
}
