// Byte streams the benchmark feeds through the filter and through the reference decoder, as the
// reads a proxy would see: a pipelined batch of requests, then the batch of their replies.
import { command } from "../support/resp.js";

export const DOWN = 0, UP = 1;
export type Read = [typeof DOWN | typeof UP, Buffer];

export interface Scenario {
  name: string;
  reads: Read[];
  requests: number;
}

function rounds(total: number, perRound: number, request: (i: number) => Buffer, reply: Buffer, readSize = Infinity): Read[] {
  const out: Read[] = [];
  for (let i = 0; i < total; i += perRound) {
    const k = Math.min(total, i + perRound) - i;
    const reqs = Buffer.concat(Array.from({ length: k }, (_, j) => request(i + j)));
    for (let p = 0; p < reqs.length; p += readSize) out.push([DOWN, reqs.subarray(p, p + readSize)]);
    out.push([UP, Buffer.concat(Array.from({ length: k }, () => reply))]);
  }
  return out;
}

export function scenarios(scale = 1): Scenario[] {
  const n = Math.max(1000, Math.round(64000 * scale));
  const bigN = Math.max(8, Math.round(64 * scale));
  const value100 = Buffer.alloc(100, 0x76);
  const valueMiB = Buffer.alloc(1 << 20, 0x77);
  const ok = Buffer.from("+OK\r\n");
  const get100 = Buffer.from(`$100\r\n${value100.toString()}\r\n`);
  return [
    { name: "GET 100 B, pipelined ×16", requests: n, reads: rounds(n, 16, (i) => command("GET", `key:${i % 1000}`), get100) },
    { name: "SET 100 B, pipelined ×16", requests: n, reads: rounds(n, 16, (i) => command("SET", `key:${i % 1000}`, value100), ok) },
    { name: "SET 100 B, one per read", requests: n, reads: rounds(n, 1, (i) => command("SET", `key:${i % 1000}`, value100), ok) },
    { name: "SET 1 MiB, one per read", requests: bigN, reads: rounds(bigN, 1, (i) => command("SET", `big:${i}`, valueMiB), ok) },
    { name: "SET 1 MiB, 64 KiB reads", requests: bigN, reads: rounds(bigN, 1, (i) => command("SET", `big:${i}`, valueMiB), ok, 64 * 1024) },
  ];
}
