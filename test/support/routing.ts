// Support for the routing and timing-policy tests (test/filter/routing.test.ts,
// test/e2e/routing.test.ts, test/e2e/rate-limit-delay.test.ts): a manual clock for the VM, the
// in-memory connections in both tcp_proxy modes, metric reads by protocol, one-request raw
// connections, and Thrift servers that say which cluster answered.
import net from "node:net";
import type { Clock } from "../host/vm.js";
import type { WasmVm } from "../host/vm.js";
import type { MetricStore } from "../host/metrics.js";
import { FilterConnection } from "../host/connection.js";
import { legacyCounter } from "./metawire-metrics.js";
import { scanFrames } from "./resp-frames.js";
import { command } from "./resp.js";
import { CatalogHandler, HeldReplies, thrift, type Stack, type ThriftCode } from "./thrift-peers.js";

/** The clusters of the in-memory tests: the address tells which one tcp_proxy connected. */
export const CLUSTERS = { default: "10.0.0.1:6379", v1: "10.0.0.2:6379", v2: "10.0.0.3:6379" } as const;
export type ClusterName = keyof typeof CLUSTERS;

/** tcp_proxy early data: receive before connecting, connect on the first downstream bytes. */
export const EARLY_DATA = { maxEarlyDataBytes: 65536, connectMode: "on-downstream-data" } as const;

/** A clock that only moves when told (with `timers: "manual"`, time is entirely the test's). */
export class ManualClock implements Clock {
  private ns = 1_000_000_000_000n;
  realtimeNs(): bigint { return 1_700_000_000_000_000_000n + this.ns; }
  monotonicNs(): bigint { return this.ns; }
  advance(ms: number): void { this.ns += BigInt(Math.round(ms * 1e6)); }
}

/**
 * Advances the clock in steps of `stepMs` (the filter's tick is 5 ms) for `ms` in total, firing
 * the VM's tick after each step, as Envoy's timer would.
 */
export function runFor(vm: WasmVm, clock: ManualClock, ms: number, stepMs = 5): void {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    vm.tick();
  }
}

/** A connection through the filter and tcp_proxy (clusters CLUSTERS, configured cluster "default"). */
export function routedConnection(vm: WasmVm, early: boolean): FilterConnection {
  return new FilterConnection({ vm, clusters: { ...CLUSTERS }, cluster: "default", ...(early ? EARLY_DATA : {}) });
}

/** Which cluster tcp_proxy connected, by the in-memory upstream's address; undefined if none yet. */
export function upstreamCluster(conn: FilterConnection): ClusterName | undefined {
  const address = conn.upstream?.address;
  if (address === undefined) return undefined;
  const hit = (Object.keys(CLUSTERS) as ClusterName[]).find((k) => CLUSTERS[k] === address);
  if (!hit) throw new Error(`upstream ${address} is none of the test clusters`);
  return hit;
}

/** A metawire counter of one protocol by its older name, summed over its tags (0 when never incremented). */
export function counterOf(metrics: MetricStore, protocol: string, name: string): number {
  return legacyCounter(metrics, protocol, name);
}

/**
 * One client connection doing one exchange: connects, writes `bytes`, collects the answer until
 * `complete(answer)` holds, then closes. Rejects after `timeoutMs`.
 */
export function exchange(port: number, bytes: Uint8Array, complete: (answer: Buffer) => boolean, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.setNoDelay(true);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no complete answer after ${timeoutMs} ms, got ${JSON.stringify(got.toString("latin1"))}`)); }, timeoutMs);
    s.once("connect", () => s.write(bytes));
    s.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (complete(got)) {
        clearTimeout(timer);
        s.end();
        s.destroy();
        resolve(got);
      }
    });
    s.once("error", (e) => { clearTimeout(timer); reject(e); });
    s.once("close", () => { clearTimeout(timer); if (!complete(got)) reject(new Error(`closed before a complete answer: ${JSON.stringify(got.toString("latin1"))}`)); });
  });
}

/**
 * One connection sending the Redis commands pipelined in one write; resolves with each reply's
 * bytes as text (e.g. "$5\r\nalice\r\n", "$-1\r\n", "-ERR …\r\n").
 */
export async function ask(port: number, ...commands: string[][]): Promise<string[]> {
  const answer = await exchange(port, Buffer.concat(commands.map((c) => command(...c))),
    (got) => scanFrames(got).frames.length >= commands.length);
  return scanFrames(answer).frames.map((f) => answer.subarray(f.start, f.end).toString("latin1"));
}

/** A field of a redis-server's INFO (asked directly, on a connection of its own). */
export async function infoField(port: number, field: string): Promise<number> {
  const [reply] = await ask(port, ["INFO", "stats"]);
  const m = new RegExp(`^${field}:(\\d+)\r$`, "m").exec(reply);
  if (!m) throw new Error(`INFO has no ${field}`);
  return Number(m[1]);
}

/** Bulk-string reply text → its value; null for a nil bulk string. */
export function bulk(reply: string): string | null {
  if (reply === "$-1\r\n") return null;
  const m = /^\$\d+\r\n([\s\S]*)\r\n$/.exec(reply);
  if (!m) throw new Error(`not a bulk string: ${JSON.stringify(reply)}`);
  return m[1];
}

/** Runs `fn(i)` for i in [0, n) with at most `parallel` running at a time; results in order. */
export async function inBatches<T>(n: number, parallel: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}

/** A Catalog whose echoText answers "<tag>:<text>", so a client can tell which server it reached. */
export class TaggedCatalog extends CatalogHandler {
  constructor(t: ThriftCode, readonly tag: string, readonly calls: string[] = []) {
    super(t, new HeldReplies());
  }
  override echoText(text: string, done: (err: unknown, r?: unknown) => void): void {
    this.calls.push(`echoText ${text}`);
    done(null, `${this.tag}:${text}`);
  }
  override ping(done: (err: unknown, r?: unknown) => void): void {
    this.calls.push("ping");
    done(null);
  }
}

export interface TaggedThriftServer {
  port: number;
  handler: TaggedCatalog;
  close(): Promise<void>;
}

/** A plain (not multiplexed) Catalog server of `stack` with a TaggedCatalog handler. */
export async function startTaggedThriftServer(t: ThriftCode, stack: Stack, tag: string): Promise<TaggedThriftServer> {
  const handler = new TaggedCatalog(t, tag);
  const server: net.Server = thrift.createServer(t.Catalog, handler, stack.server);
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  server.on("error", () => { /* a client reset; the test sees its own side */ });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => { server.off("error", reject); resolve(); });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    handler,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/**
 * A client for replies that are one line each (`+PONG`, `$-1`, `-ERR …`): sends a batch, waits
 * for as many lines, returns them. Cheap enough for closed-loop load over seconds.
 */
export class LineClient {
  private pending = "";
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.pending += d;
      let i: number;
      while ((i = this.pending.indexOf("\r\n")) >= 0) {
        this.lines.push(this.pending.slice(0, i));
        this.pending = this.pending.slice(i + 2);
      }
      this.wake?.();
    });
    socket.on("error", () => { /* followed by close */ });
    socket.on("close", () => { this.closed = true; this.wake?.(); });
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" });
      s.setNoDelay(true);
      s.once("connect", () => { s.off("error", reject); resolve(new LineClient(s)); });
      s.once("error", reject);
    });
  }

  /** Writes `bytes` and resolves with the next `n` reply lines. */
  async round(bytes: Uint8Array, n: number, timeoutMs = 10_000): Promise<string[]> {
    this.socket.write(bytes);
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.lines.length} of ${n} lines`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out: ${this.lines.length} of ${n} lines`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
      });
    }
    return this.lines.splice(0, n);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
