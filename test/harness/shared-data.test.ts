// Pins cpp-host's shared data (CAS) and shared queue rules (envoy-host.md §6).
import { test } from "node:test";
import assert from "node:assert/strict";
import { WasmResult } from "../host/envoy-abi.js";
import { SharedData } from "../host/shared-data.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b?: Uint8Array) => (b ? new TextDecoder().decode(b) : undefined);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test("get of a missing vm_id or key is NotFound", () => {
  const sd = new SharedData();
  assert.deepEqual(sd.get("vm", "k"), { result: WasmResult.NotFound });
  sd.set("vm", "other", bytes("x"), 0);
  assert.deepEqual(sd.get("vm", "k"), { result: WasmResult.NotFound });
});

test("set then get returns the value and a non-zero CAS; values are copied both ways", () => {
  const sd = new SharedData();
  const input = bytes("hello");
  assert.equal(sd.set("vm", "k", input, 0), WasmResult.Ok);
  input[0] = 0x58;
  const got = sd.get("vm", "k");
  assert.equal(got.result, WasmResult.Ok);
  assert.equal(text(got.value), "hello");
  assert.ok(got.cas! > 0);
  got.value![0] = 0x58;
  assert.equal(text(sd.get("vm", "k").value), "hello");
});

test("CAS: a stale CAS is a mismatch, the current one or 0 succeeds, each set gets a new CAS", () => {
  const sd = new SharedData();
  sd.set("vm", "k", bytes("v1"), 0);
  const cas1 = sd.get("vm", "k").cas!;
  assert.equal(sd.set("vm", "k", bytes("v2"), cas1), WasmResult.Ok);
  const cas2 = sd.get("vm", "k").cas!;
  assert.notEqual(cas2, cas1);
  assert.equal(sd.set("vm", "k", bytes("v3"), cas1), WasmResult.CasMismatch);
  assert.equal(WasmResult.CasMismatch, 8);
  assert.deepEqual(sd.get("vm", "k"), { result: WasmResult.Ok, value: bytes("v2"), cas: cas2 });
  assert.equal(sd.set("vm", "k", bytes("v4"), 0), WasmResult.Ok);
  assert.equal(text(sd.get("vm", "k").value), "v4");
});

test("CAS is ignored for a key that does not exist yet", () => {
  const sd = new SharedData();
  assert.equal(sd.set("vm", "new", bytes("x"), 12345), WasmResult.Ok);
});

test("CAS values come from one process-wide counter starting at 1", () => {
  const sd = new SharedData();
  sd.set("a", "k", bytes("1"), 0);
  sd.set("b", "k", bytes("2"), 0);
  sd.set("a", "j", bytes("3"), 0);
  assert.deepEqual([sd.get("a", "k").cas, sd.get("b", "k").cas, sd.get("a", "j").cas], [1, 2, 3]);
});

test("the CAS counter wraps around without handing out 0", () => {
  const sd = new SharedData({ firstCas: 0xffffffff });
  sd.set("vm", "a", bytes("1"), 0);
  sd.set("vm", "b", bytes("2"), 0);
  assert.equal(sd.get("vm", "a").cas, 0xffffffff);
  assert.equal(sd.get("vm", "b").cas, 1);
});

test("data is namespaced by vm_id, the empty vm_id included", () => {
  const sd = new SharedData();
  sd.set("", "k", bytes("empty"), 0);
  sd.set("vm1", "k", bytes("one"), 0);
  assert.equal(text(sd.get("", "k").value), "empty");
  assert.equal(text(sd.get("vm1", "k").value), "one");
  assert.equal(sd.get("vm2", "k").result, WasmResult.NotFound);
});

test("deleteVmId drops that vm_id's data and queues only", () => {
  const sd = new SharedData();
  sd.set("gone", "k", bytes("x"), 0);
  sd.set("kept", "k", bytes("y"), 0);
  const token = sd.register("gone", "q", { notify() {} });
  const kept = sd.register("kept", "q", { notify() {} });
  sd.deleteVmId("gone");
  assert.equal(sd.get("gone", "k").result, WasmResult.NotFound);
  assert.equal(sd.resolve("gone", "q").result, WasmResult.NotFound);
  assert.equal(sd.enqueue(token, bytes("m")), WasmResult.NotFound);
  assert.equal(sd.get("kept", "k").result, WasmResult.Ok);
  assert.equal(sd.resolve("kept", "q").token, kept);
});

test("queues: tokens are non-zero and distinct; re-registering keeps the token and the items", () => {
  const sd = new SharedData();
  const a = sd.register("vm", "a", { notify() {} });
  const b = sd.register("vm", "b", { notify() {} });
  const otherVm = sd.register("vm2", "a", { notify() {} });
  assert.ok(a > 0 && b > 0 && otherVm > 0);
  assert.equal(new Set([a, b, otherVm]).size, 3);
  sd.enqueue(a, bytes("kept"));
  assert.equal(sd.register("vm", "a", { notify() {} }), a);
  assert.equal(text(sd.dequeue(a).value), "kept");
});

test("queues: resolve finds (vm_id, name) or is NotFound", () => {
  const sd = new SharedData();
  const token = sd.register("vm", "q", { notify() {} });
  assert.deepEqual(sd.resolve("vm", "q"), { result: WasmResult.Ok, token });
  assert.deepEqual(sd.resolve("vm", "other"), { result: WasmResult.NotFound });
  assert.deepEqual(sd.resolve("other-vm", "q"), { result: WasmResult.NotFound });
});

test("queues: unknown tokens are NotFound, an empty queue is Empty (7), items come out FIFO", () => {
  const sd = new SharedData();
  assert.equal(sd.enqueue(99, bytes("x")), WasmResult.NotFound);
  assert.deepEqual(sd.dequeue(99), { result: WasmResult.NotFound });
  const token = sd.register("vm", "q", { notify() {} });
  assert.deepEqual(sd.dequeue(token), { result: WasmResult.Empty });
  assert.equal(WasmResult.Empty, 7);
  const item = bytes("first");
  assert.equal(sd.enqueue(token, item), WasmResult.Ok);
  item[0] = 0x58;   // the queue keeps its own copy
  sd.enqueue(token, bytes("second"));
  assert.equal(text(sd.dequeue(token).value), "first");
  assert.equal(text(sd.dequeue(token).value), "second");
  assert.deepEqual(sd.dequeue(token), { result: WasmResult.Empty });
});

test("queues: the owner is notified asynchronously, once per enqueue", async () => {
  const sd = new SharedData();
  const seen: number[] = [];
  const token = sd.register("vm", "q", { notify: (t) => seen.push(t) });
  sd.enqueue(token, bytes("1"));
  sd.enqueue(token, bytes("2"));
  assert.deepEqual(seen, []);
  await Promise.resolve();
  assert.deepEqual(seen, []);   // not a microtask: Envoy posts to the worker's dispatcher
  await tick();
  assert.deepEqual(seen, [token, token]);
});

test("queues: notifications go to the owner registered at enqueue time", () => {
  const posted: (() => void)[] = [];
  const sd = new SharedData({ schedule: (fn) => posted.push(fn) });
  const seen: string[] = [];
  const token = sd.register("vm", "q", { notify: () => seen.push("old") });
  sd.enqueue(token, bytes("1"));
  sd.register("vm", "q", { notify: () => seen.push("new") });
  sd.enqueue(token, bytes("2"));
  posted.forEach((fn) => fn());
  assert.deepEqual(seen, ["old", "new"]);
});

test("queue tokens wrap around without handing out 0", () => {
  const sd = new SharedData({ firstToken: 0xffffffff });
  assert.equal(sd.register("vm", "a", { notify() {} }), 0xffffffff);
  assert.equal(sd.register("vm", "b", { notify() {} }), 1);
});
