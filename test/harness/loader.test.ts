// Pins the load/link rules Envoy applies to a module (envoy-host.md §1.2–1.5), each with a
// tiny module, plus the binary parser they rest on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { wat } from "./wat.js";
import { formatSig, parseModule, type ModuleInfo } from "../host/wasm-binary.js";
import {
  ALLOWED_DURING_MALLOC, ALLOWED_DURING_START, LoadError, MODULE_EXPORTS, checkModule, envoyHostFunctions,
  type WasiSet,
} from "../host/envoy-abi.js";

const MARKER = `(func (export "proxy_abi_version_0_2_1"))`;
const MEMORY = `(memory (export "memory") 1)`;
const MALLOC = `(func (export "malloc") (param i32) (result i32) (i32.const 0))`;

// WAT wants imports before definitions, hence two parts.
async function mod(imports: string, defs = `${MEMORY} ${MARKER} ${MALLOC}`): Promise<ModuleInfo> {
  return parseModule(await wat(`(module ${imports} ${defs})`));
}

function refused(info: ModuleInfo, message: string, opts?: { wasi?: WasiSet; requireNetworkCallbacks?: boolean }) {
  assert.throws(() => checkModule(info, opts), (e: unknown) => {
    assert.ok(e instanceof LoadError, `expected LoadError, got ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

const importFn = (module: string, name: string, type: string) => `(import "${module}" "${name}" (func ${type}))`;

// --- parser ---

test("parseModule reads import and export function types across the function index space", async () => {
  const info = await mod(
    `${importFn("env", "proxy_log", "(param i32 i32 i32) (result i32)")}
     ${importFn("env", "proxy_increment_metric", "(param i32 i64) (result i32)")}
     (import "env" "mem" (memory 2 10))
     (import "env" "tbl" (table 1 funcref))
     (import "env" "g" (global (mut i32)))`,
    `${MARKER} (func (export "f") (param f32 f64) (result i64) (i64.const 0)) (export "log" (func 0))
     (global (export "gg") i32 (i32.const 1))`);
  assert.deepEqual(info.imports.map((i) => [i.module, i.name, i.kind]), [
    ["env", "proxy_log", "func"], ["env", "proxy_increment_metric", "func"], ["env", "mem", "memory"],
    ["env", "tbl", "table"], ["env", "g", "global"]]);
  assert.deepEqual(info.imports[1].type, { params: ["i32", "i64"], results: ["i32"] });
  assert.deepEqual(info.imports[2].limits, { min: 2, max: 10, shared: false, is64: false });
  assert.deepEqual(info.imports[4].global, { type: "i32", mutable: true });
  const byName = new Map(info.exports.map((e) => [e.name, e]));
  assert.deepEqual(byName.get("proxy_abi_version_0_2_1")?.type, { params: [], results: [] });
  assert.deepEqual(byName.get("f")?.type, { params: ["f32", "f64"], results: ["i64"] });
  assert.deepEqual(byName.get("log")?.type, { params: ["i32", "i32", "i32"], results: ["i32"] });
  assert.equal(byName.get("gg")?.kind, "global");
  assert.equal(info.hasStartSection, false);
});

test("parseModule sees a start section", async () => {
  const info = await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func $s) (start $s)`);
  assert.equal(info.hasStartSection, true);
});

test("parseModule throws a clear error on malformed input", async () => {
  const good = await wat(`(module ${MARKER})`);
  const bad: [string, Uint8Array, RegExp][] = [
    ["short", new Uint8Array([0, 0x61]), /shorter than the 8-byte header/],
    ["magic", Uint8Array.from([1, 2, 3, 4, 1, 0, 0, 0]), /magic/],
    ["component", Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]), /not a core module/],
    ["truncated", good.subarray(0, good.length - 2), /runs past the end|unexpected end/],
    ["section past end", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 0]), /runs past the end/],
    ["LEB too long", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0]), /LEB128/],
    ["type index", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 3, 2, 1, 0]), /type index 0 out of range/],
    ["size mismatch", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 2, 0, 0]), /size does not match/],
    ["bad utf8 name", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 7, 4, 1, 1, 0xff, 0]), /UTF-8/],
    ["export index", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 7, 5, 1, 1, 0x66, 0, 3]), /refers to function 3/],
    ["value type", Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 1, 0x40]), /unsupported value type/],
  ];
  for (const [what, bytes, re] of bad) assert.throws(() => parseModule(bytes), re, what);
});

test("formatSig prints like cpp-host", () => {
  assert.equal(formatSig({ params: ["i32", "i64"], results: ["i32"] }), "i32 i64 -> i32");
  assert.equal(formatSig({ params: [], results: [] }), "void -> void");
});

// --- imports ---

test("a minimal module loads and yields its plan", async () => {
  const plan = checkModule(await mod(importFn("env", "proxy_log", "(param i32 i32 i32) (result i32)")));
  assert.deepEqual(plan, { abiVersion: "0_2_1", mallocExport: "malloc", startExport: undefined, callMain: undefined,
    warnings: ["module exports neither _initialize nor _start: no initialization will run"] });
});

test("AssemblyScript's env.abort is a missing import", async () => {
  refused(await mod(importFn("env", "abort", "(param i32 i32 i32 i32)")),
    "Failed to load Wasm module due to a missing import: env.abort");
});

test("env.proxy_log with a wrong type is refused although Node links it", async () => {
  const bytes = await wat(`(module ${importFn("env", "proxy_log", "(param i32 i32) (result i32)")} ${MEMORY} ${MARKER} ${MALLOC})`);
  await WebAssembly.instantiate(bytes, { env: { proxy_log: () => 0 } });   // Node does not mind
  refused(parseModule(bytes), "Failed to load Wasm module due to an import type mismatch: env.proxy_log, "
    + "want: i32 i32 -> i32, but host exports: i32 i32 i32 -> i32");
});

test("proxy_increment_metric needs an i64 delta", async () => {
  refused(await mod(importFn("env", "proxy_increment_metric", "(param i32 i32) (result i32)")),
    "Failed to load Wasm module due to an import type mismatch: env.proxy_increment_metric, "
    + "want: i32 i32 -> i32, but host exports: i32 i64 -> i32");
  checkModule(await mod(importFn("env", "proxy_record_metric", "(param i32 i64) (result i32)")));
});

test("proc_exit has no result, under both WASI module names", async () => {
  for (const m of ["wasi_snapshot_preview1", "wasi_unstable"]) {
    checkModule(await mod(importFn(m, "proc_exit", "(param i32)")));
    refused(await mod(importFn(m, "proc_exit", "(param i32) (result i32)")),
      `Failed to load Wasm module due to an import type mismatch: ${m}.proc_exit, want: i32 -> i32, but host exports: i32 -> void`);
  }
});

test("emscripten_notify_memory_growth has no result; pthread_equal and envoy_resolve_dns exist", async () => {
  checkModule(await mod(importFn("env", "emscripten_notify_memory_growth", "(param i32)")));
  refused(await mod(importFn("env", "emscripten_notify_memory_growth", "(param i32) (result i32)")),
    "Failed to load Wasm module due to an import type mismatch: env.emscripten_notify_memory_growth, "
    + "want: i32 -> i32, but host exports: i32 -> void");
  checkModule(await mod(importFn("env", "pthread_equal", "(param i32 i32) (result i32)")
    + importFn("env", "envoy_resolve_dns", "(param i32 i32 i32) (result i32)")));
});

test("WASI functions exist under both module names, and no other", async () => {
  const type = "(param i32 i32 i32 i32) (result i32)";
  checkModule(await mod(importFn("wasi_snapshot_preview1", "fd_write", type) + importFn("wasi_unstable", "fd_write", type)));
  refused(await mod(importFn("wasi", "fd_write", type)), "Failed to load Wasm module due to a missing import: wasi.fd_write");
  refused(await mod(importFn("env", "fd_write", type)), "Failed to load Wasm module due to a missing import: env.fd_write");
});

test("0.1.0-only imports are refused for a 0.2.1 module and linked for a 0.1.0 one", async () => {
  const imp = importFn("env", "proxy_get_configuration", "(param i32 i32) (result i32)");
  refused(await mod(imp), "Failed to load Wasm module due to a missing import: env.proxy_get_configuration");
  checkModule(await mod(imp, `${MEMORY} (func (export "proxy_abi_version_0_1_0")) ${MALLOC}`));
  refused(await mod(importFn("env", "proxy_continue_stream", "(param i32) (result i32)"),
    `${MEMORY} (func (export "proxy_abi_version_0_1_0")) ${MALLOC}`),
  "Failed to load Wasm module due to a missing import: env.proxy_continue_stream");
});

test("proxy_get_log_level exists for 0.2.1 only", async () => {
  const imp = importFn("env", "proxy_get_log_level", "(param i32) (result i32)");
  checkModule(await mod(imp));
  refused(await mod(imp, `${MEMORY} (func (export "proxy_abi_version_0_2_0")) ${MALLOC}`),
    "Failed to load Wasm module due to a missing import: env.proxy_get_log_level");
});

test("the WASI set follows the cpp-host version", async () => {
  const schedYield = await mod(importFn("wasi_snapshot_preview1", "sched_yield", "(result i32)"));
  refused(schedYield, "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.sched_yield");
  refused(schedYield, "Failed to load Wasm module due to a missing import: wasi_snapshot_preview1.sched_yield", { wasi: "conservative" });
  checkModule(schedYield, { wasi: "2024-12" });
  const clockRes = await mod(importFn("wasi_unstable", "clock_res_get", "(param i32 i32) (result i32)"));
  refused(clockRes, "Failed to load Wasm module due to a missing import: wasi_unstable.clock_res_get", { wasi: "2024-12" });
  checkModule(clockRes, { wasi: "2026-04" });
  // cpp-host declares path_symlink with 4 parameters; real WASI has 5.
  refused(await mod(importFn("wasi_snapshot_preview1", "path_symlink", "(param i32 i32 i32 i32 i32) (result i32)")),
    "Failed to load Wasm module due to an import type mismatch: wasi_snapshot_preview1.path_symlink, "
    + "want: i32 i32 i32 i32 i32 -> i32, but host exports: i32 i32 i32 i32 -> i32", { wasi: "2026-04" });
});

test("global imports are refused with the missing-import message; memory and table imports are fine", async () => {
  refused(await mod(`(import "env" "__stack_pointer" (global (mut i32)))`),
    "Failed to load Wasm module due to a missing import: env.__stack_pointer");
  checkModule(await mod(`(import "env" "memory" (memory 1)) (import "env" "table" (table 1 funcref))`, `${MARKER} ${MALLOC}`));
});

test("imports are checked in module order and before exports", async () => {
  refused(await mod(importFn("env", "abort", "(param i32 i32 i32 i32)") + importFn("env", "proxy_log", "(param i32)"),
    `${MEMORY} ${MARKER}`), "Failed to load Wasm module due to a missing import: env.abort");
});

// --- exports ---

test("a known export with the wrong type is refused", async () => {
  refused(await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func (export "proxy_on_downstream_data") (param i32 i32) (result i32) (i32.const 0))`),
    "Bad function signature for: proxy_on_downstream_data, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32");
  refused(await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func (export "proxy_on_context_create") (param i32 i32) (result i32) (i32.const 0))`),
    "Bad function signature for: proxy_on_context_create, want: i32 i32 -> void, but the module exports: i32 i32 -> i32");
  refused(await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func (export "envoy_on_resolve_dns") (param i32 i32))`),
    "Bad function signature for: envoy_on_resolve_dns, want: i32 i32 i32 -> void, but the module exports: i32 i32 -> void");
});

test("unknown exports and non-function exports with known names are ignored", async () => {
  checkModule(await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func (export "whatever") (param f64))
    (global (export "proxy_on_new_connection") i32 (i32.const 0))`));
});

test("every signature problem is collected, the first one is the message", async () => {
  const info = await mod("", `${MEMORY} ${MARKER} ${MALLOC}
    (func (export "proxy_on_tick") (param i32) (result i32) (i32.const 0))
    (func (export "proxy_on_log") (param i32 i32))`);
  assert.throws(() => checkModule(info), (e: unknown) => e instanceof LoadError && e.all.length === 2
    && e.message.startsWith("Bad function signature for: proxy_on_tick,") && e.all[1].startsWith("Bad function signature for: proxy_on_log,"));
});

test("header callbacks follow the ABI version; 0.1.0 does not look up on_foreign_function", async () => {
  const two = `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))`;
  const v010 = `${MEMORY} (func (export "proxy_abi_version_0_1_0")) ${MALLOC}`;
  checkModule(await mod("", `${v010} ${two} (func (export "proxy_on_foreign_function"))`));
  refused(await mod("", `${MEMORY} ${MARKER} ${MALLOC} ${two}`),
    "Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32");
  refused(await mod("", `${v010} (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))`),
    "Bad function signature for: proxy_on_response_headers, want: i32 i32 -> i32, but the module exports: i32 i32 i32 -> i32");
});

test("the ABI marker is required; the first function marker wins", async () => {
  refused(await mod("", `${MEMORY} ${MALLOC}`), "Missing or unknown Proxy-Wasm ABI version");
  refused(await mod("", `${MEMORY} ${MALLOC} (global (export "proxy_abi_version_0_2_1") i32 (i32.const 0))`),
    "Missing or unknown Proxy-Wasm ABI version");
  refused(await mod("", `${MEMORY} ${MALLOC} (func (export "proxy_abi_version_0_3_0")) (func (export "toString"))`),
    "Missing or unknown Proxy-Wasm ABI version");
  // Checked before imports, as cpp-host reads it from the bytes before linking.
  refused(await mod(importFn("env", "abort", "(param i32)"), `${MEMORY} ${MALLOC}`), "Missing or unknown Proxy-Wasm ABI version");
  const plan = checkModule(await mod("", `${MEMORY} ${MALLOC} (func (export "proxy_abi_version_0_2_0")) ${MARKER}`));
  assert.equal(plan.abiVersion, "0_2_0");
  assert.ok(plan.warnings.some((w) => /2 ABI markers/.test(w)));
  // The marker's own type is never checked.
  assert.equal(checkModule(await mod("", `${MEMORY} ${MALLOC} (func (export "proxy_abi_version_0_2_1") (param i32))`)).abiVersion, "0_2_1");
});

test("malloc is looked up first, proxy_on_memory_allocate only without it", async () => {
  const alloc = `(func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0))`;
  refused(await mod("", `${MEMORY} ${MARKER}`), "Wasm module is missing malloc function.");
  assert.equal(checkModule(await mod("", `${MEMORY} ${MARKER} ${alloc}`)).mallocExport, "proxy_on_memory_allocate");
  assert.equal(checkModule(await mod("", `${MEMORY} ${MARKER} ${alloc} ${MALLOC}`)).mallocExport, "malloc");
  refused(await mod("", `${MEMORY} ${MARKER} (func (export "malloc") (param i64) (result i32) (i32.const 0))`),
    "Bad function signature for: malloc, want: i32 -> i32, but the module exports: i64 -> i32");
  refused(await mod("", `${MEMORY} ${MARKER} (func (export "proxy_on_memory_allocate") (param i32))`),
    "Bad function signature for: proxy_on_memory_allocate, want: i32 -> i32, but the module exports: i32 -> void");
});

test("a module needs a memory, exported or imported", async () => {
  refused(await mod("", `${MARKER} ${MALLOC}`), "Wasm module has no memory (export one): Envoy cannot exchange data with it");
});

test("_initialize is preferred over _start, then main or __main_void", async () => {
  const base = `${MEMORY} ${MARKER} ${MALLOC}`;
  const init = `(func (export "_initialize"))`;
  const main = `(func (export "main") (param i32 i32) (result i32) (i32.const 0))`;
  const mainVoid = `(func (export "__main_void") (result i32) (i32.const 0))`;
  const start = `(func (export "_start"))`;
  let plan = checkModule(await mod("", `${base} ${init} ${start}`));
  assert.equal(plan.startExport, "_initialize");
  assert.equal(plan.callMain, undefined);
  assert.deepEqual(plan.warnings, []);
  assert.equal(checkModule(await mod("", `${base} ${start}`)).startExport, "_start");
  plan = checkModule(await mod("", `${base} ${init} ${mainVoid} ${main}`));
  assert.equal(plan.callMain, "main");
  assert.equal(checkModule(await mod("", `${base} ${init} ${mainVoid}`)).callMain, "__main_void");
  // Without _initialize, main is never looked up; with it, _start is never looked up.
  assert.equal(checkModule(await mod("", `${base} ${start} (func (export "main"))`)).startExport, "_start");
  assert.equal(checkModule(await mod("", `${base} ${init} (func (export "_start") (param i32))`)).startExport, "_initialize");
  refused(await mod("", `${base} (func (export "_start") (param i32))`),
    "Bad function signature for: _start, want: void -> void, but the module exports: i32 -> void");
  refused(await mod("", `${base} ${init} (func (export "main"))`),
    "Bad function signature for: main, want: i32 i32 -> i32, but the module exports: void -> void");
});

test("a start section loads with a warning", async () => {
  const plan = checkModule(await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func $s) (start $s) (func (export "_initialize"))`));
  assert.equal(plan.warnings.length, 1);
  assert.match(plan.warnings[0], /start section/);
});

test("requireNetworkCallbacks insists on the network callbacks", async () => {
  const info = await mod("", `${MEMORY} ${MARKER} ${MALLOC} (func (export "proxy_on_new_connection") (param i32) (result i32) (i32.const 0))`);
  checkModule(info);
  refused(info, "Wasm module is not a network filter: missing proxy_on_context_create, proxy_on_downstream_data, proxy_on_upstream_data",
    { requireNetworkCallbacks: true });
});

// --- tables ---

test("the host table has every function of §1.2 and §1.3 with the right size per WASI set", () => {
  const conservative = envoyHostFunctions();
  const env = [...conservative.keys()].filter((k) => k.startsWith("env."));
  assert.equal(env.length, 36 + 3 + 3);   // FOR_ALL_HOST_FUNCTIONS, 0.2.1 extras, pthread/emscripten/envoy
  assert.equal(conservative.size - env.length, 15 * 2);
  assert.equal(envoyHostFunctions("2024-12").size - env.length, 18 * 2);
  assert.equal(envoyHostFunctions("2026-04").size - env.length, 45 * 2);
  assert.ok(!conservative.has("env.proxy_get_configuration"));
  assert.ok(envoyHostFunctions("conservative", "0_1_0").has("env.proxy_get_configuration"));
  assert.deepEqual(conservative.get("wasi_unstable.clock_time_get"), { params: ["i32", "i64", "i32"], results: ["i32"] });
  assert.deepEqual(conservative.get("env.proxy_done"), { params: [], results: ["i32"] });
});

test("MODULE_EXPORTS and the restricted-call sets", () => {
  for (const name of ["main", "__main_void", "envoy_on_resolve_dns", "envoy_on_stats_update", "proxy_on_request_headers",
    "proxy_on_http_call_response", "proxy_on_foreign_function", "proxy_on_memory_allocate"]) assert.ok(MODULE_EXPORTS.has(name), name);
  assert.deepEqual(MODULE_EXPORTS.get("__main_void"), { params: [], results: ["i32"] });
  assert.ok(ALLOWED_DURING_START.has("env.proxy_log") && ALLOWED_DURING_START.has("wasi_unstable.random_get"));
  assert.ok(!ALLOWED_DURING_START.has("env.proxy_get_property") && !ALLOWED_DURING_START.has("env.pthread_equal"));
  assert.deepEqual([...ALLOWED_DURING_MALLOC].sort(), ["env.proxy_log", "wasi_snapshot_preview1.clock_time_get",
    "wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.poll_oneoff", "wasi_unstable.clock_time_get",
    "wasi_unstable.fd_write", "wasi_unstable.poll_oneoff"]);
});
