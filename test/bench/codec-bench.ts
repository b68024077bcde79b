// Codec-only benchmark: the Redis decoders and session (test/bench/codec-entry.ts, built into
// build/bench-codec.wasm) over streams already in wasm memory – no proxy-wasm ABI, no host calls –
// next to redis-parser (the JS RESP parser Node clients use, returnBuffers: true) on the same bytes.
// The same module drives the Thrift and Dubbo decoders and sessions (thriftCodecBenchmarks,
// dubboCodecBenchmarks; streams and references from thrift-scenarios.ts and dubbo-scenarios.ts).
// The codec gets the stream in 16 KiB windows as the filter's pump hands it over (skipping what it
// may between windows on the skip row); redis-parser gets each stream in one execute() call.
// Reported per request + its reply, in ns. `codecBenchmarks()` builds the module when it is missing
// or older than its sources (CODEC_BENCH_REBUILD=1 forces it; CODEC_BENCH_WASM=<file> measures a
// given build instead), so it needs no package.json entry. The build is asc -O3 followed by the same
// wasm-opt -O3 pass as the release filter (scripts/wasm-opt.mjs): that pass alone is worth ~15 %.
//
// Run alone: node dist/test/bench/codec-bench.js   (after `npx tsc -p tsconfig.json`). For a profile
// with function names: asc test/bench/codec-entry.ts --config test/bench/asconfig.codec.json
// --target debug, then node --cpu-prof (or perf with --perf-prof) on that module.
// Numbers are for reading, not asserting: this 2-vCPU VM is noisy (±30 %).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import RedisParser from "redis-parser";
import { command } from "../support/resp.js";
import { thriftCodecStreams, thriftLibraryRound, checkThriftStream, type ThriftCodecStream } from "./thrift-scenarios.js";
import { dubboCodecStreams, hessianRound, checkDubboStream, type DubboCodecStream } from "./dubbo-scenarios.js";

export const CODEC_WASM = "build/bench-codec.wasm";
const CONFIG = "test/bench/asconfig.codec.json";
const ENTRY = "test/bench/codec-entry.ts";
const SOURCES = ["assembly/protocols/redis", "assembly/protocols/thrift", "assembly/protocols/dubbo", "assembly/protocols/codec.ts", ENTRY, CONFIG];
/** Window size, as the filter's BufferPump fetches (DEFAULT_CHUNK). */
const CHUNK = 16 * 1024;

/** Column titles of the rows codecBenchmarks() returns. */
export const CODEC_BENCH_HEAD = ["stream", "pairs", "codec + session", "request decoder", "reply decoder", "redis-parser", "redis-parser / codec"];
export const CODEC_BENCH_TITLE = "Redis codec alone, ns per request + reply (data already in wasm memory)";

type Row = (string | number)[];

interface CodecExports {
  memory: WebAssembly.Memory;
  alloc(n: number): number;
  release(p: number): void;
  fresh(): void;
  roundTrips(reqPtr: number, reqLen: number, repPtr: number, repLen: number, iters: number, chunk: number, skip: number): number;
  requestsOnly(p: number, len: number, iters: number, chunk: number, skip: number): number;
  repliesOnly(p: number, len: number, iters: number, chunk: number, skip: number): number;
  thriftFresh(): void;
  thriftRoundTrips(reqPtr: number, reqLen: number, repPtr: number, repLen: number, iters: number, chunk: number, skip: number): number;
  thriftOneSide(p: number, len: number, iters: number, chunk: number, skip: number, reply: number): number;
  thriftCheck(p: number, len: number, reply: number): number;
  dubboFresh(): void;
  dubboRoundTrips(reqPtr: number, reqLen: number, repPtr: number, repLen: number, iters: number, chunk: number, skip: number): number;
  dubboOneSide(p: number, len: number, iters: number, chunk: number, skip: number, reply: number): number;
  dubboCheck(p: number, len: number, reply: number): number;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** Builds build/bench-codec.wasm (asc -O3 + wasm-opt -O3, incremental runtime, no imports) if it is stale. */
export function buildCodecWasm(force = process.env.CODEC_BENCH_REBUILD === "1"): string {
  if (process.env.CODEC_BENCH_WASM) return process.env.CODEC_BENCH_WASM;
  const out = existsSync(CODEC_WASM) ? statSync(CODEC_WASM).mtimeMs : 0;
  if (force || out === 0 || Math.max(...SOURCES.map(newestMtime)) > out) {
    // --config keeps the project's asconfig.json (proxy abort import, filter entry) out of this build
    execFileSync(process.execPath, ["node_modules/assemblyscript/bin/asc.js", ENTRY, "--config", CONFIG, "--target", "release"], { stdio: "inherit" });
    execFileSync(process.execPath, ["scripts/wasm-opt.mjs", CODEC_WASM], { stdio: ["ignore", "ignore", "inherit"] });
  }
  return CODEC_WASM;
}

async function loadCodec(): Promise<CodecExports> {
  const bytes = new Uint8Array(readFileSync(buildCodecWasm()));
  const mod = await WebAssembly.compile(bytes);
  if (WebAssembly.Module.imports(mod).length > 0) throw new Error(`${bytes.length}-byte codec module must import nothing`);
  const inst = await WebAssembly.instantiate(mod, {});
  return inst.exports as unknown as CodecExports;
}

interface Stream {
  name: string;
  /** request window and reply window of one round (`pairs` requests and their replies) */
  requests: Buffer;
  replies: Buffer;
  pairs: number;
  skip: boolean;
}

function streams(): Stream[] {
  const value100 = Buffer.alloc(100, 0x76);
  const valueMiB = Buffer.alloc(1 << 20, 0x77);
  const batch = (n: number, f: (i: number) => Buffer) => Buffer.concat(Array.from({ length: n }, (_, i) => f(i)));
  const get100 = Buffer.from(`$100\r\n${value100.toString()}\r\n`);
  const ok = Buffer.from("+OK\r\n");
  const big = command("SET", "big:1", valueMiB);
  return [
    { name: "GET 100 B, pipelined ×16", pairs: 16, skip: false, requests: batch(16, (i) => command("GET", `key:${i}`)), replies: batch(16, () => get100) },
    { name: "SET 100 B, pipelined ×16", pairs: 16, skip: false, requests: batch(16, (i) => command("SET", `key:${i}`, value100)), replies: batch(16, () => ok) },
    { name: "SET 1 MiB, skippable/skip", pairs: 1, skip: true, requests: big, replies: ok },
    { name: "SET 1 MiB, fed in 16 KiB windows", pairs: 1, skip: false, requests: big, replies: ok },
  ];
}

/** ns per call of `f(iters)`, `f` doing `iters` rounds; best of `reps` timed runs of ≥ `minMs`. */
function timeRounds(f: (iters: number) => void, reps = 7, minMs = 100, warmMs = 300): number {
  // warm-up: long enough for V8 to tier the wasm (and redis-parser's JS) up to optimised code
  const w0 = performance.now();
  for (let n = 1; performance.now() - w0 < warmMs; n = Math.min(n * 2, 1 << 16)) f(n);
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    f(iters);
    const ms = performance.now() - t0;
    if (ms >= minMs / 4) { iters = Math.max(1, Math.ceil((iters * minMs) / Math.max(ms, 0.001))); break; }
    iters *= 4;
  }
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f(iters);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / iters);
  }
  return best;
}

function parserRound(s: Stream): (iters: number) => void {
  let values = 0;
  const opts = { returnReply: () => { values++; }, returnError: () => { values++; }, returnFatalError: (e: Error) => { throw e; }, returnBuffers: true };
  const req = new RedisParser(opts), rep = new RedisParser(opts);
  return (iters) => {
    values = 0;
    for (let i = 0; i < iters; i++) {
      req.execute(s.requests);
      rep.execute(s.replies);
    }
    if (values !== 2 * s.pairs * iters) throw new Error(`redis-parser saw ${values} values, expected ${2 * s.pairs * iters}`);
  };
}

export async function codecBenchmarks(): Promise<Row[]> {
  const w = await loadCodec();
  const rows: Row[] = [];
  for (const s of streams()) {
    w.fresh();
    const rq = w.alloc(s.requests.length), rp = w.alloc(s.replies.length);
    new Uint8Array(w.memory.buffer, rq, s.requests.length).set(s.requests); // views after the allocs
    new Uint8Array(w.memory.buffer, rp, s.replies.length).set(s.replies);
    const skip = s.skip ? 1 : 0;
    const check = (got: number, want: number, what: string) => {
      if (got !== want) throw new Error(`${s.name}: ${what} saw ${got} messages, expected ${want}`);
    };
    const both = timeRounds((n) => check(w.roundTrips(rq, s.requests.length, rp, s.replies.length, n, CHUNK, skip), 2 * s.pairs * n, "codec"));
    const reqOnly = timeRounds((n) => check(w.requestsOnly(rq, s.requests.length, n, CHUNK, skip), s.pairs * n, "request decoder"));
    const repOnly = timeRounds((n) => check(w.repliesOnly(rp, s.replies.length, n, CHUNK, skip), s.pairs * n, "reply decoder"));
    const parser = timeRounds(parserRound(s));
    w.release(rq);
    w.release(rp);
    const per = (ns: number) => ns / s.pairs;
    rows.push([s.name, s.pairs, per(both).toFixed(0), per(reqOnly).toFixed(0), per(repOnly).toFixed(0), per(parser).toFixed(0),
      (parser / both).toFixed(1) + "×"]);
  }
  return rows;
}

// ---- Thrift and Dubbo ------------------------------------------------------------------------------
// The same measurement for ThriftDecoder/ThriftSession and DubboDecoder/DubboSession (one decoder
// type per protocol, both directions), next to the JS library a Node peer would read the bytes with:
// Apache Thrift's own (npm `thrift`) and hessian.js. Shorter timing runs than the Redis rows (more
// rows, same ~2 min budget for `npm run bench`).

export const THRIFT_CODEC_TITLE = "Thrift codec alone, ns per call + reply (data already in wasm memory)";
export const THRIFT_CODEC_HEAD = ["stream", "pairs", "codec + session", "call decoder", "reply decoder", "thrift library", "thrift library / codec"];
export const DUBBO_CODEC_TITLE = "Dubbo codec alone, ns per request + response (data already in wasm memory)";
export const DUBBO_CODEC_HEAD = ["stream", "pairs", "codec + session", "request decoder", "response decoder", "hessian.js", "hessian.js / codec"];

interface RpcStream {
  name: string;
  requests: Buffer;
  replies: Buffer;
  pairs: number;
  skip: boolean;
}

interface RpcCodec {
  fresh(): void;
  roundTrips(reqPtr: number, reqLen: number, repPtr: number, repLen: number, iters: number, chunk: number, skip: number): number;
  oneSide(p: number, len: number, iters: number, chunk: number, skip: number, reply: number): number;
  check(p: number, len: number, reply: number): number;
}

async function rpcCodecRows<S extends RpcStream>(pick: (w: CodecExports) => RpcCodec, all: S[], reference: (s: S) => (iters: number) => void): Promise<Row[]> {
  const w = await loadCodec();
  const c = pick(w);
  const rows: Row[] = [];
  const time = (f: (iters: number) => void) => timeRounds(f, 5, 40, 100);
  for (const s of all) {
    c.fresh();
    const rq = w.alloc(s.requests.length), rp = w.alloc(s.replies.length);
    new Uint8Array(w.memory.buffer, rq, s.requests.length).set(s.requests); // views after the allocs
    new Uint8Array(w.memory.buffer, rp, s.replies.length).set(s.replies);
    // untimed: every message was read for its metadata, not only framed
    const good = [c.check(rq, s.requests.length, 0), c.check(rp, s.replies.length, 1)];
    if (good[0] !== s.pairs || good[1] !== s.pairs) throw new Error(`${s.name}: codec read ${good.join("/")} requests/replies with metadata, expected ${s.pairs}`);
    c.fresh();
    const skip = s.skip ? 1 : 0;
    const check = (got: number, want: number, what: string) => {
      if (got !== want) throw new Error(`${s.name}: ${what} saw ${got} messages, expected ${want}`);
    };
    const both = time((n) => check(c.roundTrips(rq, s.requests.length, rp, s.replies.length, n, CHUNK, skip), 2 * s.pairs * n, "codec"));
    const reqOnly = time((n) => check(c.oneSide(rq, s.requests.length, n, CHUNK, skip, 0), s.pairs * n, "request decoder"));
    const repOnly = time((n) => check(c.oneSide(rp, s.replies.length, n, CHUNK, skip, 1), s.pairs * n, "reply decoder"));
    const lib = time(reference(s));
    w.release(rq);
    w.release(rp);
    const per = (ns: number) => ns / s.pairs;
    rows.push([s.name, s.pairs, per(both).toFixed(0), per(reqOnly).toFixed(0), per(repOnly).toFixed(0), per(lib).toFixed(0),
      (lib / both).toFixed(1) + "×"]);
  }
  return rows;
}

export async function thriftCodecBenchmarks(): Promise<Row[]> {
  const streams = thriftCodecStreams();
  for (const s of streams) {
    checkThriftStream(s, s.requests, "call", s.pairs, s.name);
    checkThriftStream(s, s.replies, "reply", s.pairs, s.name);
  }
  return rpcCodecRows<ThriftCodecStream>((w) => ({ fresh: w.thriftFresh, roundTrips: w.thriftRoundTrips, oneSide: w.thriftOneSide, check: w.thriftCheck }),
    streams, thriftLibraryRound);
}

export async function dubboCodecBenchmarks(): Promise<Row[]> {
  const streams = dubboCodecStreams();
  for (const s of streams) {
    checkDubboStream(s.requests, true, s.pairs, s.name);
    checkDubboStream(s.replies, false, s.pairs, s.name);
  }
  return rpcCodecRows<DubboCodecStream>((w) => ({ fresh: w.dubboFresh, roundTrips: w.dubboRoundTrips, oneSide: w.dubboOneSide, check: w.dubboCheck }),
    streams, hessianRound);
}

function table(title: string, head: string[], rows: Row[]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  console.log(`\n${title}\n${line(head)}`);
  console.log("|" + widths.map((wd, i) => (i === 0 ? "-".repeat(wd + 2) : "-".repeat(wd + 1) + ":")).join("|") + "|");
  for (const r of cells.slice(1)) console.log(line(r));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  (async () => {
    table(CODEC_BENCH_TITLE, CODEC_BENCH_HEAD, await codecBenchmarks());
    table(THRIFT_CODEC_TITLE, THRIFT_CODEC_HEAD, await thriftCodecBenchmarks());
    table(DUBBO_CODEC_TITLE, DUBBO_CODEC_HEAD, await dubboCodecBenchmarks());
  })().catch((e) => { console.error(e); process.exit(1); });
}
