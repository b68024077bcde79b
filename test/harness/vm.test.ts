// VM-level rules (specs/envoy-host.md §1, §2.1, §5): what Envoy refuses to load, the restricted
// hostcalls during start and inside malloc, root context start/configure, metrics ids, WASI
// stubs and the hostcalls that do nothing useful on a TCP connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildModule, bytes, lines, loadVm, result, RET } from "./kit.js";
import { wat } from "./wat.js";
import { ConfigureError, StartError, WasmVm } from "../host/vm.js";
import { envoyHostFunctions, LoadError, WasmResult } from "../host/envoy-abi.js";
import { MetricStore } from "../host/metrics.js";

const WASI = `
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_unstable" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $get_log_level (param i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
`;

test("Envoy's load refusals: unknown import, import type mismatch, no ABI marker", async () => {
  const abort = await buildModule(() => "", { imports: `(import "env" "abort" (func (param i32 i32 i32 i32)))` });
  await assert.rejects(WasmVm.load(abort), (e: Error) => e instanceof LoadError
    && e.message === "Failed to load Wasm module due to a missing import: env.abort");
  const mismatch = await buildModule(() => "", { imports: `(import "env" "proxy_done" (func (param i32) (result i32)))` });
  await assert.rejects(WasmVm.load(mismatch), /import type mismatch: env.proxy_done/);
  const noAbi = await buildModule(() => "", { omit: ["abi"] });
  await assert.rejects(WasmVm.load(noAbi), /Missing or unknown Proxy-Wasm ABI version/);
});

test("every host function Envoy provides is linked (a module importing all of them loads)", async () => {
  const table = envoyHostFunctions("2026-04");
  const imports = [...table].map(([q, t], i) => {
    const [m, ...n] = q.split(".");
    const params = t.params.length ? `(param ${t.params.join(" ")})` : "";
    const results = t.results.length ? `(result ${t.results.join(" ")})` : "";
    return `(import "${m}" "${n.join(".")}" (func $imp${i} ${params} ${results}))`;
  }).join("\n");
  const text = `(module ${imports} (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024)))`;
  const vm = await WasmVm.load(await wat(text), { wasi: "2026-04" });
  assert.equal(vm.rootContextId, 1);
});

test("a restricted hostcall during _initialize traps and fails the load", async () => {
  const init = (w: import("./kit.js").Wat) => `(func (export "_initialize")
    (drop (call $proxy_log (i32.const 2) ${w.str("init ok")}))
    (drop (call $set_property ${w.str("a")} ${w.str("b")})))`;
  await assert.rejects(loadVm(init, {}, { omit: ["_initialize"] }), (e: Error) => e instanceof StartError
    && /Function: _initialize failed: restricted_callback/.test(e.message)
    && (e as StartError).logs.some((l) => l.msg === "init ok" && l.ctx === 0));
});

test("_initialize then main(0,0) run before the root context; _start only without _initialize", async () => {
  const vm = await loadVm((w) => `(func (export "_initialize") ${w.emit("init")})
    (func (export "main") (param i32 i32) (result i32) ${w.emit("main", "(local.get 0)", "(local.get 1)")} (i32.const 0))
    (func (export "_start") ${w.emit("start")}) ${w.callbacks()}`, {}, { omit: ["_initialize"] });
  assert.deepEqual(lines(vm).slice(0, 3), ["init", "main 0 0", "create 1 0"]);
  const vm2 = await loadVm((w) => `(func (export "_start") ${w.emit("start")}) ${w.callbacks()}`, {}, { omit: ["_initialize"] });
  assert.deepEqual(lines(vm2).slice(0, 2), ["start", "create 1 0"]);
});

test("a hostcall from a wasm start section fails the load (Envoy has no context there)", async () => {
  const mod = await buildModule((w) => `(func $s (drop (call $proxy_log (i32.const 2) ${w.str("x")}))) (start $s)`);
  await assert.rejects(WasmVm.load(mod), /start section/);
});

test("root context: id 1, on_vm_start/on_configure get the configuration sizes", async () => {
  const vm = await loadVm((w) => w.callbacks(), { pluginConfig: "{\"a\":1}", vmConfig: "vmcfg" });
  assert.deepEqual(lines(vm), ["create 1 0", "vm_start 1 5", "configure 1 7"]);
  assert.equal(vm.rootContextId, 1);
});

test("on_configure returning false is a ConfigureError carrying the filter's log lines", async () => {
  const err = await loadVm((w) => w.callbacks({
    proxy_on_configure: `(drop (call $proxy_log (i32.const 4) ${w.str("config: $.protocol: unknown protocol")})) (i32.const 0)`,
  }), { pluginName: "mw" }).catch((e) => e);
  assert.ok(err instanceof ConfigureError);
  assert.match(err.message, /Failed to configure Wasm plugin mw: proxy_on_configure returned false/);
  assert.ok(err.logs.some((l: { level: number; msg: string }) => l.level === 4 && l.msg === "config: $.protocol: unknown protocol"));
  await assert.rejects(loadVm((w) => w.callbacks({ proxy_on_configure: "(unreachable)" })),
    (e: Error) => e instanceof ConfigureError && /Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable/.test(e.message));
  await assert.rejects(loadVm((w) => w.callbacks({ proxy_on_vm_start: "(i32.const 0)" })), StartError);
});

test("metric ids per type step by 4 from the type; Envoy's counter/gauge/histogram rules", async () => {
  const store = new MetricStore();
  const define = (w: import("./kit.js").Wat, tag: string, type: number, name: string) =>
    w.emit(tag, `(call $define_metric (i32.const ${type}) ${w.str(name)} (i32.const ${RET}))`, `(i32.load (i32.const ${RET}))`);
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `
      ${define(w, "c1", 0, "reqs")} ${define(w, "c2", 0, "reqs")} ${define(w, "g", 1, "inflight")} ${define(w, "h", 2, "lat")}
      ${w.emit("bad", `(call $define_metric (i32.const 3) ${w.str("x")} (i32.const 300))`)}
      ${w.emit("inc0", "(call $increment_metric (i32.const 4) (i64.const 0))")}
      ${w.emit("inc_neg", "(call $increment_metric (i32.const 4) (i64.const -1))")}
      ${w.emit("inc", "(call $increment_metric (i32.const 4) (i64.const 5))")}
      ${w.emit("inc_same_stat", "(call $increment_metric (i32.const 8) (i64.const 1))")}
      ${w.emit("rec_counter", "(call $record_metric (i32.const 4) (i64.const 3))")}
      ${w.emit("get_counter", "(call $get_metric (i32.const 4) (i32.const 300))", "(i32.load (i32.const 300))")}
      ${w.emit("rec_gauge", "(call $record_metric (i32.const 5) (i64.const 10))")}
      ${w.emit("dec_gauge", "(call $increment_metric (i32.const 5) (i64.const -2))")}
      ${w.emit("get_gauge", "(call $get_metric (i32.const 5) (i32.const 300))", "(i32.load (i32.const 300))")}
      ${w.emit("inc_hist", "(call $increment_metric (i32.const 6) (i64.const 1))")}
      ${w.emit("rec_hist", "(call $record_metric (i32.const 6) (i64.const 42))")}
      ${w.emit("get_hist", "(call $get_metric (i32.const 6) (i32.const 300))")}
      ${w.emit("inc_unknown", "(call $increment_metric (i32.const 12) (i64.const 1))")}
      ${w.emit("rec_unknown", "(call $record_metric (i32.const 12) (i64.const 1))")}
      ${w.emit("get_unknown", "(call $get_metric (i32.const 12) (i32.const 300))")}
      (i32.const 1)`,
  }), { metrics: store });
  const expect = ["c1 0 4", "c2 0 8", "g 0 5", "h 0 6", "bad 2", "inc0 2", "inc_neg 2", "inc 0", "inc_same_stat 0",
    "rec_counter 0", "get_counter 0 9", "rec_gauge 0", "dec_gauge 0", "get_gauge 0 8", "inc_hist 2", "rec_hist 0",
    "get_hist 2", "inc_unknown 1", "rec_unknown 1", "get_unknown 1"];
  for (const l of expect) assert.ok(lines(vm).includes(l), `${l} in ${lines(vm).join(" | ")}`);
  assert.equal(store.value("reqs"), 9n);
  assert.equal(store.value("inflight"), 8n);
  assert.deepEqual(store.samples("lat"), [42n]);
  // A second VM sharing the store gets its own ids (cpp-host keeps the counters per VM).
  const vm2 = await loadVm((w) => w.callbacks({ proxy_on_configure: `${define(w, "c1", 0, "reqs")} (i32.const 1)` }), { metrics: store });
  assert.ok(lines(vm2).includes("c1 0 4"));
});

test("guest malloc runs under the malloc restriction; a trap there fails the VM, the hostcall gets InvalidMemoryAccess", async () => {
  const vm = await loadVm((w) => `
    (func (export "malloc") (param $n i32) (result i32)
      (drop (call $set_property ${w.str("k")} ${w.str("v")}))
      (i32.const 20000))
    ${w.callbacks({
      proxy_on_downstream_data: `${w.emit("get", `(call $get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 10) ${w.ret()})`)} (i32.const 0)`,
    })}`, {}, { omit: ["malloc"] });
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  assert.ok(lines(vm).includes("get 6"), "the callback went on with InvalidMemoryAccess");
  assert.match(vm.failed!.message, /Function: malloc failed: restricted_callback/);
  assert.equal(conn.closed, true, "fail-closed after the callback returned");
});

test("malloc returning 0 gives InvalidMemoryAccess; empty values are not allocated", async () => {
  const vm = await loadVm((w) => `
    (func (export "malloc") (param $n i32) (result i32) ${w.emit("malloc", "(local.get $n)")} (i32.const 0))
    ${w.callbacks({
      proxy_on_downstream_data: `
        ${w.emit("get", `(call $get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 10) ${w.ret()})`)}
        ${w.emit("get_empty", `(call $get_buffer_bytes (i32.const 2) (i32.const 10) (i32.const 10) ${w.ret()})`)}
        (i32.const 0)`,
    })}`, {}, { omit: ["malloc"] });
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  assert.ok(lines(vm).includes("malloc 3"));
  assert.ok(lines(vm).includes("get 6"));
  assert.ok(lines(vm).includes("get_empty 0"));
  assert.equal(lines(vm).filter((l) => l.startsWith("malloc")).length, 1);
  assert.equal(vm.failed, undefined);
});

test("log: level > 5 BadArgument, out-of-bounds memory InvalidMemoryAccess; hostcalls are counted", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.emit("level6", `(call $proxy_log (i32.const 6) ${w.str("x")})`)}
      ${w.emit("oob", "(call $proxy_log (i32.const 2) (i32.const 0x7fffff00) (i32.const 1000))")}
      (i32.const 0)`,
  }));
  vm.newConnection().start();
  assert.ok(lines(vm).includes("level6 2"));
  assert.ok(lines(vm).includes("oob 6"));
  assert.ok(vm.callCount.get("env.proxy_log")! >= 6);
  assert.equal(vm.hostCallTotal, [...vm.callCount.values()].reduce((a, b) => a + b, 0));
});

test("WASI: stdout/stderr become log lines, proc_exit does not trap, clocks, random_get limit, environ", async () => {
  const clock = { realtimeNs: () => 1_700_000_000_123_456_789n, monotonicNs: () => 42n };
  const iov = 300; // iovec {buf, len} at 300
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `
      (i32.store (i32.const ${iov}) (i32.const 2000)) (i32.store (i32.const ${iov + 4}) (i32.const 6))
      (memory.copy (i32.const 2000) ${w.str("hello\n")})
      ${w.emit("fd1", `(call $fd_write (i32.const 1) (i32.const ${iov}) (i32.const 1) (i32.const 320))`, "(i32.load (i32.const 320))")}
      ${w.emit("fd2", `(call $fd_write (i32.const 2) (i32.const ${iov}) (i32.const 1) (i32.const 320))`)}
      ${w.emit("fd3", `(call $fd_write (i32.const 3) (i32.const ${iov}) (i32.const 1) (i32.const 320))`)}
      (call $proc_exit (i32.const 1))
      ${w.emit("after_exit")}
      ${w.emit("rt", "(call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 320))", "(i32.load (i32.const 320))", "(i32.load (i32.const 324))")}
      ${w.emit("mono", "(call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 320))", "(i32.load (i32.const 320))")}
      ${w.emit("cpu", "(call $clock_time_get (i32.const 2) (i64.const 1) (i32.const 320))")}
      ${w.emit("rand_ok", "(call $random_get (i32.const 2000) (i32.const 16))")}
      ${w.emit("rand_big", "(call $random_get (i32.const 2000) (i32.const 65537))")}
      ${w.emit("env_sizes", "(call $environ_sizes_get (i32.const 320) (i32.const 324))", "(i32.load (i32.const 320))", "(i32.load (i32.const 324))")}
      ${w.emit("env_get", "(call $environ_get (i32.const 340) (i32.const 2100))")}
      ${w.result("env_first", `(i32.store (i32.const ${RET}) (i32.load (i32.const 340))) (i32.store (i32.const ${RET + 4}) (i32.const 10)) (i32.const 0)`)}
      ${w.emit("args", "(call $args_sizes_get (i32.const 320) (i32.const 324))", "(i32.load (i32.const 320))")}
      ${w.emit("log_level", "(call $get_log_level (i32.const 320))", "(i32.load (i32.const 320))")}
      ${w.emit("now", "(call $now (i32.const 320))", "(i32.load (i32.const 320))", "(i32.load (i32.const 324))")}
      (i32.const 1)`,
  }), { clock, env: { MODE: "prod", X: "1" }, logLevel: 1 }, { imports: WASI });
  const all = vm.logs;
  assert.ok(all.some((l) => l.level === 2 && l.msg === "hello"), "fd 1 -> info, trailing newline dropped");
  assert.ok(all.some((l) => l.level === 4 && l.msg === "hello"), "fd 2 -> error");
  assert.ok(all.some((l) => l.level === 0 && l.msg === "wasi_unstable proc_exit"), "proc_exit logs at trace");
  const L = lines(vm);
  for (const l of ["fd1 0 6", "fd2 0", "fd3 8", "after_exit", "mono 0 42", "cpu 58", "rand_ok 0", "rand_big 28",
    "env_sizes 0 2 14", "env_get 0", "args 0 0", "log_level 0 1"]) assert.ok(L.includes(l), `${l} in ${L.join(" | ")}`);
  const ns = 1_700_000_000_123_456_789n;
  assert.ok(L.includes(`rt 0 ${Number(ns & 0xffffffffn)} ${Number(ns >> 32n)}`));
  assert.ok(L.includes(`now 0 ${Number(ns & 0xffffffffn)} ${Number(ns >> 32n)}`));
  assert.equal(Buffer.from(result(vm, "env_first")!.hex!, "hex").toString(), "MODE=prod\0");
});

test("calls that need HTTP or a cluster manager answer as Envoy does on a TCP connection", async () => {
  const imports = `
    (import "env" "proxy_get_header_map_value" (func $hv (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_get_header_map_pairs" (func $hp (param i32 i32 i32) (result i32)))
    (import "env" "proxy_get_header_map_size" (func $hs (param i32 i32) (result i32)))
    (import "env" "proxy_add_header_map_value" (func $ha (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_send_local_response" (func $slr (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_http_call" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_grpc_call" (func $grpc (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_done" (func $done (result i32)))`;
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.emit("hv", `(call $hv (i32.const 0) ${w.str("host")} ${w.ret()})`)}
      ${w.result("hp", `(call $hp (i32.const 0) ${w.ret()})`)}
      ${w.emit("hp_bad", `(call $hp (i32.const 8) ${w.ret()})`)}
      ${w.emit("hs", "(call $hs (i32.const 0) (i32.const 300))")}
      ${w.emit("ha", `(call $ha (i32.const 0) ${w.str("a")} ${w.str("b")})`)}
      ${w.emit("slr", `(call $slr (i32.const 403) ${w.str("")} ${w.str("denied")} ${w.str("")} (i32.const 0))`)}
      ${w.emit("http", `(call $http ${w.str("cluster")} ${w.str("")} ${w.str("")} ${w.str("")} (i32.const 1000) (i32.const 300))`)}
      ${w.emit("grpc", `(call $grpc ${w.str("cluster")} ${w.str("svc")} ${w.str("m")} ${w.str("")} ${w.str("")} (i32.const 1000) (i32.const 300))`)}
      ${w.emit("done", "(call $done)")}
      (i32.const 0)`,
  }), {}, { imports });
  const conn = vm.newConnection();
  conn.start();
  for (const l of ["hv 2", "hp 0 ", "hp_bad 2", "hs 2", "ha 2", "slr 0", "http 2", "grpc 4", "done 1"]) {
    assert.ok(lines(vm).includes(l), `${l} in ${lines(vm).join(" | ")}`);
  }
  assert.equal(conn.closed, false, "send_local_response does nothing on TCP");
});
