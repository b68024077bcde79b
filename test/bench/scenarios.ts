// Byte streams the benchmark feeds through the filter and through the reference decoder.
import { command } from "../support/resp.js";

export interface Scenario {
  name: string;
  /** Request bytes, already cut into the reads the proxy would see. */
  requestReads: Buffer[];
  /** Reply bytes, cut likewise. */
  replyReads: Buffer[];
  requests: number;
}

function batches(make: (i: number) => Buffer, total: number, perRead: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < total; i += perRead) {
    const parts: Buffer[] = [];
    for (let k = i; k < Math.min(total, i + perRead); k++) parts.push(make(k));
    out.push(Buffer.concat(parts));
  }
  return out;
}

function cut(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < buf.length; p += size) out.push(buf.subarray(p, p + size));
  return out;
}

export function scenarios(scale = 1): Scenario[] {
  const n = Math.max(1000, Math.round(64000 * scale));
  const value100 = Buffer.alloc(100, 0x76);
  const valueMiB = Buffer.alloc(1 << 20, 0x77);
  const bigN = Math.max(8, Math.round(64 * scale));
  const getReply = Buffer.from("$100\r\n" + value100.toString() + "\r\n");
  return [
    { name: "GET, pipelined ×16", requests: n, requestReads: batches((i) => command("GET", `key:${i % 1000}`), n, 16),
      replyReads: batches(() => getReply, n, 16) },
    { name: "SET 100 B, pipelined ×16", requests: n, requestReads: batches((i) => command("SET", `key:${i % 1000}`, value100), n, 16),
      replyReads: batches(() => Buffer.from("+OK\r\n"), n, 16) },
    { name: "SET 100 B, one per read", requests: n, requestReads: batches((i) => command("SET", `key:${i % 1000}`, value100), n, 1),
      replyReads: batches(() => Buffer.from("+OK\r\n"), n, 1) },
    { name: "SET 1 MiB, one per read", requests: bigN, requestReads: batches((i) => command("SET", `big:${i}`, valueMiB), bigN, 1),
      replyReads: batches(() => Buffer.from("+OK\r\n"), bigN, 1) },
    { name: "SET 1 MiB, 64 KiB reads", requests: bigN,
      requestReads: batches((i) => command("SET", `big:${i}`, valueMiB), bigN, 1).flatMap((b) => cut(b, 64 * 1024)),
      replyReads: batches(() => Buffer.from("+OK\r\n"), bigN, 1) },
  ];
}
