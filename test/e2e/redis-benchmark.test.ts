// redis-benchmark through metawire: 11 tests × 20,000 pipelined requests from 10 clients, through
// the TCP proxy running build/metawire.wasm on two worker VMs, in front of a real redis-server.
// The benchmark must finish cleanly and the filter must have decoded every request and reply.
// (execFile, not spawnSync: the proxy runs in this process's event loop.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { startProxy, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { redisDelta, redisSnapshot } from "../support/metawire-metrics.js";

const skip = redisAvailable();
const TESTS = ["set", "get", "incr", "lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "mset"];
const REQUESTS = 20_000;

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20, timeout: 90_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

test("redis-benchmark -P 16 -c 10 -n 20000 through metawire: clean run, every request decoded", { skip, timeout: 120_000 }, async () => {
  const server: RedisServer = await startRedis();
  let proxy: ProxyHandle | undefined;
  const warnings: string[] = [];
  try {
    proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify({ protocol: "redis", expose: { properties: "every" } }),
      clusters: { redis: `127.0.0.1:${server.port}` },
      cluster: "redis",
      workers: 2,
      onLog: (level, msg) => { if (level >= 3) warnings.push(msg); },
    });
    const before = redisSnapshot(proxy.metrics);
    const r = await run("redis-benchmark", ["-h", "127.0.0.1", "-p", String(proxy.port), "-P", "16", "-c", "10",
      "-n", String(REQUESTS), "-t", TESTS.join(","), "-q"]);
    const d = redisDelta(before, redisSnapshot(proxy.metrics));
    const output = r.stdout + r.stderr;

    assert.equal(r.code, 0, `redis-benchmark exit code; output:\n${output}`);
    assert.doesNotMatch(output, /error|ERR\b|refused|reset|closed/i, "redis-benchmark reported an error");
    // The final -q line of each test: "SET: 123456.79 requests per second, p50=… msec"
    const finals = output.split(/[\r\n]+/).filter((l) => /requests per second/.test(l)).map((l) => l.trim().split(/[: ]/)[0]);
    assert.deepEqual(finals, TESTS.map((t) => t.toUpperCase()), `one result per test:\n${output}`);

    const sent = TESTS.length * REQUESTS;
    assert.ok(d.requests_total >= sent, `requests_total grew by ${d.requests_total}, the benchmark sent ${sent}`);
    assert.equal(d.decode_errors_total, 0);
    assert.equal(d.passthrough_total, 0);
    assert.equal(d.out_of_band_total, 0);
    assert.ok(d.replies_ok + d.replies_error >= sent, `replies ${d.replies_ok + d.replies_error} < ${sent}`);
    assert.ok(d.replies_ok + d.replies_error <= d.requests_total, "more replies than requests");
    assert.equal(d.duration_samples, d.replies_ok + d.replies_error, "one latency sample per reply");
    assert.ok(d.cx_total >= 10 * TESTS.length, `cx_total ${d.cx_total}`);
    assert.deepEqual(warnings, [], "the filter logged warnings");
    assert.equal(proxy.vms.length, 2);
    assert.ok(proxy.vms.every((v) => !v.failed), `a VM failed: ${proxy.vms.map((v) => v.failed?.message).join("; ")}`);
  } finally {
    await proxy?.close();
    await server.stop();
  }
});
