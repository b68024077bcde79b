// Timers, effective context and shared state (specs/envoy-host.md §6).
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { bytes, hexText, lines, loadVm, result, text } from "./kit.js";
import { WasmResult } from "../host/envoy-abi.js";
import { SharedData } from "../host/shared-data.js";

const SHARED = `
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register_queue (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func $resolve_queue (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func $dequeue (param i32 i32 i32) (result i32)))`;

test("tick period belongs to the root context; tick() fires proxy_on_tick(root); 0 disables", async () => {
  const vm = await loadVm((w) => `(global $n (mut i32) (i32.const 0)) ${w.callbacks({
    proxy_on_configure: "(drop (call $set_tick_period (i32.const 50))) (i32.const 1)",
    proxy_on_tick: "(global.set $n (i32.add (global.get $n) (i32.const 1))) (if (i32.eq (global.get $n) (i32.const 2)) (then (drop (call $set_tick_period (i32.const 0)))))",
  })}`);
  assert.equal(vm.tickPeriod(), 50);
  assert.equal(vm.tick(), true);
  assert.equal(vm.tick(), true);
  assert.equal(vm.tickPeriod(), 0);
  assert.equal(vm.tick(), false);
  assert.deepEqual(lines(vm).filter((l) => l.startsWith("tick")), ["tick 1", "tick 1"]);
});

test("a stream context's set_tick_period sets its root's timer", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_new_connection: "(drop (call $set_tick_period (i32.const 7))) (i32.const 0)" }));
  vm.newConnection().start();
  assert.equal(vm.tickPeriod(1), 7);
});

test("real timers re-arm after each tick with the current period", async () => {
  const vm = await loadVm((w) => `(global $n (mut i32) (i32.const 0)) ${w.callbacks({
    proxy_on_configure: "(drop (call $set_tick_period (i32.const 5))) (i32.const 1)",
    proxy_on_tick: "(global.set $n (i32.add (global.get $n) (i32.const 1))) (if (i32.eq (global.get $n) (i32.const 3)) (then (drop (call $set_tick_period (i32.const 0)))))",
  })}`, { timers: "real" });
  await sleep(150);
  assert.equal(lines(vm).filter((l) => l.startsWith("tick")).length, 3);
  vm.close();
});

test("on_tick + set_effective_context + continue_stream resumes a connection paused in on_new_connection", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: "(drop (call $set_tick_period (i32.const 10))) (i32.const 1)",
    proxy_on_new_connection: "(i32.const 1)",
    proxy_on_tick: `${w.emit("eff", "(call $set_effective_context (i32.const 2))")} ${w.emit("cont", "(call $continue_stream (i32.const 2))")}`,
  }));
  const conn = vm.newConnection();
  assert.equal(conn.start(), "pause");
  conn.downstreamData(bytes("hello"));
  assert.equal(conn.sentUpstream().length, 0, "hung: tcp_proxy not initialised, reads disabled");
  vm.tick();
  assert.deepEqual(lines(vm).slice(-4), ["tick 1", "eff 0", "cont 0", "down 2 5 0"]);
  assert.equal(text(conn.sentUpstream()), "hello");
});

test("on_tick can read and forward a paused connection's DownstreamData through the effective context", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: "(drop (call $set_tick_period (i32.const 10))) (i32.const 1)",
    proxy_on_downstream_data: "(i32.const 1)",
    proxy_on_tick: `(drop (call $set_effective_context (i32.const 2))) ${w.logBuffer(2, "paused")}
      (drop (call $continue_stream (i32.const 2)))`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  assert.equal(conn.sentUpstream().length, 0);
  vm.tick();
  assert.ok(lines(vm).includes("paused=abc"));
  assert.equal(text(conn.sentUpstream()), "abc");
});

test("effective context: unknown id BadArgument; reset when the host->VM call returns; gone with the connection", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: "(drop (call $set_tick_period (i32.const 10))) (i32.const 1)",
    proxy_on_tick: `
      ${w.getProperty("before", "connection_id")}
      ${w.emit("unknown", "(call $set_effective_context (i32.const 99))")}
      ${w.emit("eff", "(call $set_effective_context (i32.const 2))")}
      ${w.getProperty("after", "connection_id")}`,
  }));
  const conn = vm.newConnection();
  conn.start();
  vm.tick();
  vm.tick();
  const L = lines(vm);
  assert.deepEqual(L.filter((l) => l.startsWith("before")), ["before 1", "before 1"], "reset after each call");
  assert.deepEqual(L.filter((l) => l.startsWith("unknown")), ["unknown 2", "unknown 2"]);
  assert.equal(result(vm, "after")!.rc, 0);
  conn.closeDownstream("remote");
  vm.tick();
  assert.equal(lines(vm).filter((l) => l.startsWith("eff")).at(-1), "eff 2", "a deleted context is unknown");
});

test("shared data: NotFound, CAS on set, shared by vm_id across VMs, separate for another vm_id", async () => {
  const shared = new SharedData();
  const body = (w: import("./kit.js").Wat) => w.callbacks({
    proxy_on_configure: `${w.result("at_configure", `(call $get_shared ${w.str("k")} ${w.ret()} (i32.const 300))`)} (i32.const 1)`,
    proxy_on_new_connection: `
      ${w.emit("set1", `(call $set_shared ${w.str("k")} ${w.str("v1")} (i32.const 0))`)}
      ${w.emit("get1", `(call $get_shared ${w.str("k")} ${w.ret()} (i32.const 300))`, "(i32.load (i32.const 300))")}
      ${w.emit("set_stale", `(call $set_shared ${w.str("k")} ${w.str("v2")} (i32.const 12345))`)}
      ${w.emit("set_cas", `(call $set_shared ${w.str("k")} ${w.str("v3")} (i32.load (i32.const 300)))`)}
      ${w.emit("set_cas_again", `(call $set_shared ${w.str("k")} ${w.str("v4")} (i32.load (i32.const 300)))`)}
      ${w.result("get2", `(call $get_shared ${w.str("k")} ${w.ret()} (i32.const 300))`)}
      (i32.const 0)`,
  });
  const a = await loadVm(body, { vmId: "mw", sharedData: shared }, { imports: SHARED });
  assert.deepEqual(result(a, "at_configure"), { rc: WasmResult.NotFound });
  a.newConnection().start();
  const L = lines(a);
  assert.ok(L.some((l) => /^get1 0 [1-9]\d*$/.test(l)), "a non-zero CAS");
  for (const l of ["set1 0", `set_stale ${WasmResult.CasMismatch}`, "set_cas 0", `set_cas_again ${WasmResult.CasMismatch}`]) {
    assert.ok(L.includes(l), l);
  }
  assert.equal(hexText(result(a, "get2")!.hex!), "v3");
  const b = await loadVm(body, { vmId: "mw", sharedData: shared }, { imports: SHARED });
  assert.equal(hexText(result(b, "at_configure")!.hex!), "v3", "same vm_id: shared");
  const other = await loadVm(body, { vmId: "other", sharedData: shared }, { imports: SHARED });
  assert.deepEqual(result(other, "at_configure"), { rc: WasmResult.NotFound }, "another vm_id: its own namespace");
});

test("shared queue: enqueue posts proxy_on_queue_ready(root, token) asynchronously; dequeue, Empty", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `${w.emit("register", `(call $register_queue ${w.str("jobs")} (i32.const 300))`, "(i32.load (i32.const 300))")} (i32.const 1)`,
    proxy_on_new_connection: `
      ${w.emit("resolve", `(call $resolve_queue ${w.str("mw")} ${w.str("jobs")} (i32.const 304))`, "(i32.load (i32.const 304))")}
      ${w.emit("resolve_missing", `(call $resolve_queue ${w.str("mw")} ${w.str("nope")} (i32.const 308))`)}
      ${w.emit("enqueue", `(call $enqueue (i32.load (i32.const 304)) ${w.str("job-1")})`)}
      ${w.emit("enqueue_bad", `(call $enqueue (i32.const 777) ${w.str("x")})`)}
      (i32.const 0)`,
    proxy_on_queue_ready: `
      ${w.result("dequeue", `(call $dequeue (local.get $t) ${w.ret()})`)}
      ${w.emit("dequeue_empty", `(call $dequeue (local.get $t) ${w.ret()})`)}`,
  }), { vmId: "mw" }, { imports: SHARED });
  vm.newConnection().start();
  const token = Number(lines(vm).find((l) => l.startsWith("register"))!.split(" ")[2]);
  assert.ok(lines(vm).includes(`resolve 0 ${token}`));
  assert.ok(lines(vm).includes("resolve_missing 1") && lines(vm).includes("enqueue 0") && lines(vm).includes("enqueue_bad 1"));
  assert.equal(lines(vm).some((l) => l.startsWith("queue")), false, "not delivered synchronously");
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.ok(lines(vm).includes(`queue 1 ${token}`));
  assert.equal(hexText(result(vm, "dequeue")!.hex!), "job-1");
  assert.ok(lines(vm).includes(`dequeue_empty ${WasmResult.Empty}`));
});
