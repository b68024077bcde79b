// Thrift and Dubbo through the built filter: the reference-implementation vectors of the
// fixtures, concatenated, mutated and cut at random points. The filter must never trap, and
// whether it keeps parsing or falls back to passthrough, the bytes out equal the bytes in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { loadFilter, openConnection } from "../support/filter.js";
import { chunks, cuts, edits, mutate } from "../support/fuzz-bytes.js";
import type { WasmVm } from "../host/vm.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function seeds(file: string, list: string): Buffer[] {
  return (JSON.parse(readFileSync(file, "utf8"))[list] as { hex?: string }[])
    .filter((v) => typeof v.hex === "string").map((v) => Buffer.from(v.hex!, "hex"));
}
const thrift = seeds("test/fixtures/thrift-vectors.json", "vectors");
const dubbo = seeds("test/fixtures/dubbo-vectors.json", "frames");

const stream = (pool: Buffer[]) => fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 4 }).map((xs) => Buffer.concat(xs));

function drive(vm: WasmVm, req: Buffer, rc: number[], rep: Buffer, pc: number[]): void {
  const conn = openConnection(vm);
  for (const c of chunks(req, rc)) conn.downstreamData(c);
  for (const c of chunks(rep, pc)) conn.upstreamData(c);
  assert.equal(vm.failed, undefined, `trap: ${JSON.stringify(vm.failed)}`);
  assert.ok(Buffer.from(conn.sentUpstream()).equals(req), "request bytes changed");
  assert.ok(Buffer.from(conn.sentDownstream()).equals(rep), "reply bytes changed");
  conn.closeDownstream("remote");
}

for (const [name, pool, config] of [
  ["thrift", thrift, { protocol: "thrift", expose: { properties: "every" }, thrift: { max_depth: 8 } }],
  ["dubbo", dubbo, { protocol: "dubbo", expose: { properties: "every" }, dubbo: { max_depth: 8 } }],
] as const) {
  test(`${name}: mutated reference streams in random segmentation: no trap, bytes unchanged`, async () => {
    assert.ok(pool.length >= 10, `${name}: only ${pool.length} seed vectors`);
    const vm = await loadFilter(config);
    fc.assert(fc.property(stream(pool), edits, cuts, stream(pool), edits, cuts, (req, re, rc, rep, pe, pc) =>
      drive(vm, mutate(req, re), rc, mutate(rep, pe), pc)), { numRuns: RUNS });
  });

  test(`${name}: arbitrary bytes: no trap, bytes unchanged`, async () => {
    const vm = await loadFilter(config);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), cuts, fc.uint8Array({ maxLength: 300 }), cuts, (req, rc, rep, pc) =>
      drive(vm, Buffer.from(req), rc, Buffer.from(rep), pc)), { numRuns: RUNS });
  });
}
