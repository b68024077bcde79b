// npm run bench: what metawire costs per Redis request, printed as tables.
//  1. In memory, through the harness (Envoy's callback/buffer semantics): metawire vs a filter
//     that does nothing (the host's own cost), host calls per request, and redis-parser (the JS
//     RESP parser Node clients use) decoding the same reads.
//  2. Over TCP: redis-benchmark -P 16 direct, through the harness proxy without a filter
//     (passthrough), and with metawire.
// Numbers are for reading, not asserting: this 2-vCPU VM is noisy (±30 %).
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import RedisParser from "redis-parser";
import { WasmVm } from "../host/vm.js";
import { FilterConnection } from "../host/connection.js";
import { metawireWasm, RELEASE_WASM } from "../support/filter.js";
import { nullFilterWasm } from "./null-filter.js";
import { DOWN, scenarios, type Scenario } from "./scenarios.js";
import { proxyBenchmarks } from "./proxy-bench.js";
import { codecBenchmarks, CODEC_BENCH_HEAD, CODEC_BENCH_TITLE } from "./codec-bench.js";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);

interface Measured { nsPerRequest: number; guestNsPerRequest: number; hostCallsPerRequest: number }

async function throughHarness(wasm: Uint8Array, s: Scenario, config = "{}"): Promise<Measured> {
  const vm = await WasmVm.load(wasm, { pluginConfig: config, logLevel: 3 });
  const run = (reads: number) => {
    const conn = new FilterConnection({ vm });
    conn.start();
    const calls0 = vm.hostCallTotal;
    vm.profile.exportNs = vm.profile.hostNs = 0;
    const t0 = performance.now();
    const k = Math.min(reads, s.reads.length);
    for (let i = 0; i < k; i++) {
      const [dir, bytes] = s.reads[i];
      if (dir === DOWN) conn.downstreamData(bytes); else conn.upstreamData(bytes);
    }
    const ms = performance.now() - t0;
    const calls = vm.hostCallTotal - calls0;
    const guestNs = vm.profile.exportNs - vm.profile.hostNs;
    conn.closeDownstream("remote");
    return { ms, calls, guestNs };
  };
  run(Math.max(50, s.reads.length >> 3));            // warm up (JIT, wasm tier-up)
  const plain = run(Number.MAX_SAFE_INTEGER);         // wall time without the profiler's own cost
  vm.profile.enabled = true;
  const profiled = run(Number.MAX_SAFE_INTEGER);
  if (vm.failed) throw new Error(`filter failed: ${vm.failed.message}`);
  return { nsPerRequest: (plain.ms * 1e6) / s.requests, guestNsPerRequest: profiled.guestNs / s.requests,
    hostCallsPerRequest: plain.calls / s.requests };
}

function throughRedisParser(s: Scenario): number {
  let replies = 0;
  const make = () => new RedisParser({ returnReply: () => { replies++; }, returnError: () => { replies++; }, returnBuffers: true });
  const once = () => {
    const req = make(), rep = make();
    const t0 = performance.now();
    for (const [dir, bytes] of s.reads) (dir === DOWN ? req : rep).execute(bytes);
    return performance.now() - t0;
  };
  once();
  replies = 0;
  const ms = once();
  if (replies !== 2 * s.requests) throw new Error(`redis-parser saw ${replies} values, expected ${2 * s.requests}`);
  return (ms * 1e6) / s.requests;
}

function table(title: string, head: string[], rows: (string | number)[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  console.log(`\n${title}`);
  const line = (r: string[]) => "| " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|");
  for (const r of cells.slice(1)) console.log(line(r));
}

const f = (x: number, d = 0) => x.toFixed(d);

async function main(): Promise<void> {
  const metawire = metawireWasm();
  const nullWasm = await nullFilterWasm();
  const rows: (string | number)[][] = [];
  let small100 = 0, big1m = 0;
  for (const s of scenarios(SCALE)) {
    const mw = await throughHarness(metawire, s);
    const nul = await throughHarness(nullWasm, s);
    const rp = throughRedisParser(s);
    const own = mw.guestNsPerRequest;
    if (s.name === "SET 100 B, one per read") small100 = own;
    if (s.name === "SET 1 MiB, one per read") big1m = own;
    rows.push([s.name, s.requests, f(own), f(mw.hostCallsPerRequest, 2), f(mw.nsPerRequest), f(nul.nsPerRequest), f(rp), f(rp / own, 1) + "×"]);
  }
  table("Per request (request + its reply), in memory through the harness, ns",
    ["scenario", "requests", "filter (in wasm)", "host calls", "harness + metawire", "harness + null filter", "redis-parser", "redis-parser / filter"], rows);
  console.log("filter (in wasm): time inside metawire's callbacks minus time inside host functions.");
  if (small100 && big1m) console.log(`1 MiB value vs 100 B value (filter time, one read each): ${(big1m / small100).toFixed(2)}×`);
  console.log(`release module: ${RELEASE_WASM} ${(statSync(RELEASE_WASM).size / 1024).toFixed(1)} KiB`);

  table(CODEC_BENCH_TITLE, CODEC_BENCH_HEAD, await codecBenchmarks());

  const tcp = await proxyBenchmarks(metawire, SCALE);
  if (tcp.skipped) console.log(`\nTCP benchmark skipped: ${tcp.skipped}`);
  else table("redis-benchmark -P 16 over loopback (requests/s)", ["path", ...tcp.tests], tcp.rows);
}

main().catch((e) => { console.error(e); process.exit(1); });
