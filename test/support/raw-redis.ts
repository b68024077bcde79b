// A raw TCP client for end-to-end tests: writes bytes exactly as given (optionally cut into
// random-sized chunks with event-loop turns in between, so every segmentation reaches the proxy),
// records every byte it receives, and waits for a number of complete RESP values or for the
// server to close. No RESP client library is involved.
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { scanFrames, type Frame } from "./resp-frames.js";

/** mulberry32: a tiny deterministic PRNG, so a failing chunking can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChunkOptions {
  random: () => number;
  maxChunk?: number;   // largest chunk (default 64 KiB)
}

/** A chunk size: mostly tiny (cuts inside lines and lengths), sometimes medium, sometimes large. */
export function chunkSize(o: ChunkOptions): number {
  const r = o.random();
  const max = o.maxChunk ?? 65536;
  const size = r < 0.5 ? 1 + Math.floor(o.random() * 16)
    : r < 0.8 ? 17 + Math.floor(o.random() * 496)
      : 513 + Math.floor(o.random() * 65024);
  return Math.max(1, Math.min(size, max));
}

export class RawRedis {
  private readonly chunks: Buffer[] = [];
  private cache: Buffer | undefined;
  private closedFlag = false;
  private endFlag = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => { this.chunks.push(d); this.cache = undefined; this.wake(); });
    socket.on("end", () => { this.endFlag = true; this.wake(); });
    socket.on("error", () => { /* followed by close */ });
    socket.on("close", () => { this.closedFlag = true; this.wake(); });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawRedis> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, allowHalfOpen: true });
      s.setNoDelay(true);
      s.once("connect", () => { s.off("error", reject); resolve(new RawRedis(s)); });
      s.once("error", reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Everything received so far. */
  received(): Buffer {
    this.cache ??= Buffer.concat(this.chunks);
    return this.cache;
  }

  get serverClosed(): boolean {
    return this.endFlag || this.closedFlag;
  }

  /** One socket write of all the bytes (waits for the kernel to take them). */
  async write(bytes: Uint8Array): Promise<void> {
    if (!this.socket.write(bytes)) await this.drain();
  }

  /** The bytes in random-sized chunks, yielding to the event loop between chunks. */
  async writeChunked(bytes: Uint8Array, o: ChunkOptions): Promise<void> {
    let p = 0;
    while (p < bytes.length) {
      const n = Math.min(chunkSize(o), bytes.length - p);
      const ok = this.socket.write(bytes.subarray(p, p + n));
      p += n;
      if (!ok) await this.drain();
      else if (o.random() < 0.1) await sleep(1);
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /** Waits until at least `n` complete top-level RESP values arrived; returns them. */
  async waitFrames(n: number, timeoutMs = 10_000): Promise<Frame[]> {
    return this.until(() => {
      const { frames } = scanFrames(this.received());
      return frames.length >= n ? frames : undefined;
    }, timeoutMs, () => `${n} RESP values (have ${scanFrames(this.received()).frames.length}; ` +
      `${this.received().length} bytes: ${JSON.stringify(this.received().subarray(-200).toString("latin1"))})`);
  }

  /** Waits until the server closed (FIN or close); returns everything received. */
  async waitClosed(timeoutMs = 10_000): Promise<Buffer> {
    await this.until(() => (this.serverClosed ? true : undefined), timeoutMs, () => "the server to close the connection");
    return this.received();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { this.socket.off("drain", done); this.socket.off("close", done); resolve(); };
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  private async until<T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (this.closedFlag) {
        const again = check();
        if (again !== undefined) return again;
        throw new Error(`connection closed while waiting for ${what()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }
}
