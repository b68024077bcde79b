// Random and mutated RESP streams in random segmentation through the built filter: it must
// never trap (a trap kills the VM for every connection of the worker) and, whether it keeps
// parsing or falls back to passthrough, the bytes that come out are exactly the bytes that went in.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { loadFilter, openConnection } from "../support/filter.js";
import { chunks, cuts, edits, mutate } from "../support/fuzz-bytes.js";
import { command } from "../support/resp.js";
import type { WasmVm } from "../host/vm.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const arg = fc.oneof(
  fc.constantFrom("GET", "SET", "EVAL", "XREAD", "STREAMS", "SUBSCRIBE", "MULTI", "EXEC", "CLIENT", "REPLY", "OFF", "SKIP", "MONITOR", "1", "0", "-1"),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("latin1")),
);
const resp = fc.array(arg, { minLength: 1, maxLength: 6 }).map((args) => command(...args.map((a) => Buffer.from(a, "latin1"))));
const inline = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"a b"', "'c'", '"\\x41"', '"', "'")), { minLength: 1, maxLength: 4 })
  .map((words) => Buffer.from(words.join(" ") + "\r\n", "latin1"));
const requestStream = fc.array(fc.oneof(resp, inline), { minLength: 1, maxLength: 12 }).map((parts) => Buffer.concat(parts));

const scalar = fc.oneof(
  fc.constantFrom("+OK\r\n", "-ERR x\r\n", ":42\r\n", "$-1\r\n", "_\r\n", "#t\r\n", ",3.14\r\n", "(123\r\n", "*-1\r\n", "!3\r\nbad\r\n", "=7\r\ntxt:abc\r\n", "$?\r\n;2\r\nab\r\n;0\r\n"),
  fc.uint8Array({ maxLength: 30 }).map((b) => `$${b.length}\r\n${Buffer.from(b).toString("latin1")}\r\n`),
);
const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true },
    scalar,
    fc.tuple(fc.constantFrom("*", "~", ">"), fc.array(tie("v"), { maxLength: 4 })).map(([t, xs]) => `${t}${xs.length}\r\n${xs.join("")}`),
    fc.array(fc.tuple(tie("v"), tie("v")), { maxLength: 3 }).map((kv) => `%${kv.length}\r\n${kv.map(([k, v]) => k + v).join("")}`),
    fc.tuple(tie("v"), tie("v"), tie("v")).map(([k, v, x]) => `|1\r\n${k}${v}${x}`),
  ),
})).v;
const replyStream = fc.array(value, { minLength: 1, maxLength: 10 }).map((vs) => Buffer.from(vs.join(""), "latin1"));

function drive(vm: WasmVm, req: Buffer, reqCuts: number[], rep: Buffer, repCuts: number[]): void {
  const conn = openConnection(vm);
  for (const c of chunks(req, reqCuts)) conn.downstreamData(c);
  for (const c of chunks(rep, repCuts)) conn.upstreamData(c);
  assert.equal(vm.failed, undefined, `trap: ${JSON.stringify(vm.failed)}`);
  assert.ok(Buffer.from(conn.sentUpstream()).equals(req), "request bytes changed");
  assert.ok(Buffer.from(conn.sentDownstream()).equals(rep), "reply bytes changed");
  conn.closeDownstream("remote");
}

test("valid random streams in random segmentation: no trap, bytes unchanged", async () => {
  const vm = await loadFilter({ expose: { properties: "every" }, redis: { max_depth: 8 } });
  fc.assert(fc.property(requestStream, cuts, replyStream, cuts, (req, rc, rep, pc) => drive(vm, req, rc, rep, pc)), { numRuns: RUNS });
});

test("mutated streams: no trap, bytes unchanged (parse or passthrough)", async () => {
  const vm = await loadFilter({ redis: { max_depth: 8, max_line_bytes: 64 } });
  fc.assert(fc.property(requestStream, edits, cuts, replyStream, edits, cuts, (req, re, rc, rep, pe, pc) =>
    drive(vm, mutate(req, re), rc, mutate(rep, pe), pc)), { numRuns: RUNS });
});

test("arbitrary bytes: no trap, bytes unchanged", async () => {
  const vm = await loadFilter();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), cuts, fc.uint8Array({ maxLength: 300 }), cuts, (req, rc, rep, pc) =>
    drive(vm, Buffer.from(req), rc, Buffer.from(rep), pc)), { numRuns: RUNS });
});
