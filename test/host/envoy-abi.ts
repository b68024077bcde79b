// What Envoy (proxy-wasm-cpp-host + Envoy's own additions) links and looks up, with exact wasm
// types, and the load check that reproduces its refusals and their messages. A module that
// passes here loads in Envoy as far as linking is concerned; Node alone would accept far more
// (it ignores host function signatures and has no idea which imports Envoy provides).
import { formatSig, sameSig, type FuncType, type ModuleInfo, type ValType } from "./wasm-binary.js";

export const WasmResult = {
  Ok: 0, NotFound: 1, BadArgument: 2, SerializationFailure: 3, ParseFailure: 4, InvalidMemoryAccess: 6,
  Empty: 7, CasMismatch: 8, InternalFailure: 10, Unimplemented: 12,
} as const;

export type WasiSet = "conservative" | "2024-12" | "2026-04";
export type AbiVersion = "0_2_1" | "0_2_0" | "0_1_0";

const sig = (params: ValType[], results: ValType[] = ["i32"]): FuncType => ({ params, results });
const w = (n: number): ValType[] => Array<ValType>(n).fill("i32");
const I = "i32", L = "i64";

// env.* registered for every ABI (cpp-host FOR_ALL_HOST_FUNCTIONS plus the two emscripten
// helpers, and Envoy's envoy_resolve_dns).
const ENV_COMMON: Record<string, FuncType> = {
  proxy_log: sig(w(3)), proxy_get_status: sig(w(3)),
  proxy_set_property: sig(w(4)), proxy_get_property: sig(w(4)),
  proxy_send_local_response: sig(w(8)),
  proxy_get_shared_data: sig(w(5)), proxy_set_shared_data: sig(w(5)),
  proxy_register_shared_queue: sig(w(3)), proxy_resolve_shared_queue: sig(w(5)),
  proxy_dequeue_shared_queue: sig(w(3)), proxy_enqueue_shared_queue: sig(w(3)),
  proxy_get_header_map_value: sig(w(5)), proxy_add_header_map_value: sig(w(5)),
  proxy_replace_header_map_value: sig(w(5)), proxy_remove_header_map_value: sig(w(3)),
  proxy_get_header_map_pairs: sig(w(3)), proxy_set_header_map_pairs: sig(w(3)),
  proxy_get_header_map_size: sig(w(2)),
  proxy_get_buffer_status: sig(w(3)), proxy_get_buffer_bytes: sig(w(5)), proxy_set_buffer_bytes: sig(w(5)),
  proxy_http_call: sig(w(10)), proxy_grpc_call: sig(w(12)), proxy_grpc_stream: sig(w(9)),
  proxy_grpc_close: sig(w(1)), proxy_grpc_cancel: sig(w(1)), proxy_grpc_send: sig(w(4)),
  proxy_set_tick_period_milliseconds: sig(w(1)), proxy_get_current_time_nanoseconds: sig(w(1)),
  proxy_define_metric: sig(w(4)), proxy_increment_metric: sig([I, L]), proxy_record_metric: sig([I, L]),
  proxy_get_metric: sig(w(2)),
  proxy_set_effective_context: sig(w(1)), proxy_done: sig([]), proxy_call_foreign_function: sig(w(6)),
  pthread_equal: sig(w(2)), emscripten_notify_memory_growth: sig(w(1), []),
  envoy_resolve_dns: sig(w(3)),
};

// Registered only for the ABI the module declares (cpp-host WasmBase::registerCallbacks).
const ENV_BY_ABI: Record<AbiVersion, Record<string, FuncType>> = {
  "0_1_0": {
    proxy_get_configuration: sig(w(2)), proxy_continue_request: sig([]),
    proxy_continue_response: sig([]), proxy_clear_route_cache: sig([]),
  },
  "0_2_0": { proxy_continue_stream: sig(w(1)), proxy_close_stream: sig(w(1)) },
  "0_2_1": {
    proxy_continue_stream: sig(w(1)), proxy_close_stream: sig(w(1)), proxy_get_log_level: sig(w(1)),
  },
};

// FOR_ALL_WASI_FUNCTIONS per cpp-host version. Types are cpp-host's declarations, which for
// path_link (6 params) and path_symlink (4) differ from real WASI (7 and 5).
const WASI_CONSERVATIVE: Record<string, FuncType> = {
  fd_write: sig(w(4)), fd_read: sig(w(4)), fd_seek: sig([I, L, I, I]), fd_close: sig(w(1)),
  fd_fdstat_get: sig(w(2)), environ_get: sig(w(2)), environ_sizes_get: sig(w(2)),
  args_get: sig(w(2)), args_sizes_get: sig(w(2)), clock_time_get: sig([I, L, I]),
  random_get: sig(w(2)), proc_exit: sig(w(1), []),
  path_open: sig([I, I, I, I, I, L, L, I, I]), fd_prestat_get: sig(w(2)), fd_prestat_dir_name: sig(w(3)),
};
const WASI_2024_12: Record<string, FuncType> = {
  fd_fdstat_set_flags: sig(w(2)), sched_yield: sig([]), poll_oneoff: sig(w(4)),
};
const WASI_2026_04: Record<string, FuncType> = {
  fd_fdstat_set_rights: sig([I, L, L]), clock_res_get: sig(w(2)),
  fd_advise: sig([I, L, L, I]), fd_allocate: sig([I, L, L]), fd_datasync: sig(w(1)),
  fd_filestat_get: sig(w(2)), fd_filestat_set_size: sig([I, L]), fd_filestat_set_times: sig([I, L, L, I]),
  fd_pread: sig([I, I, I, L, I]), fd_pwrite: sig([I, I, I, L, I]), fd_readdir: sig([I, I, I, L, I]),
  fd_renumber: sig(w(2)), fd_sync: sig(w(1)), fd_tell: sig(w(2)),
  path_create_directory: sig(w(3)), path_filestat_get: sig(w(5)),
  path_filestat_set_times: sig([I, I, I, I, L, L, I]), path_link: sig(w(6)), path_readlink: sig(w(6)),
  path_remove_directory: sig(w(3)), path_rename: sig(w(6)), path_symlink: sig(w(4)),
  path_unlink_file: sig(w(3)), sock_accept: sig(w(3)), sock_recv: sig(w(6)), sock_send: sig(w(5)),
  sock_shutdown: sig(w(2)),
};
const WASI_SETS: Record<WasiSet, Record<string, FuncType>[]> = {
  conservative: [WASI_CONSERVATIVE],
  "2024-12": [WASI_CONSERVATIVE, WASI_2024_12],
  "2026-04": [WASI_CONSERVATIVE, WASI_2024_12, WASI_2026_04],
};
export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

// Keys are "module.name", the form cpp-host's V8 link looks them up by.
export function envoyHostFunctions(wasi: WasiSet = "conservative", abi: AbiVersion = "0_2_1"): Map<string, FuncType> {
  const table = new Map<string, FuncType>();
  for (const [name, t] of Object.entries({ ...ENV_COMMON, ...ENV_BY_ABI[abi] })) table.set(`env.${name}`, t);
  for (const group of WASI_SETS[wasi]) {
    for (const [name, t] of Object.entries(group)) {
      for (const module of WASI_MODULES) table.set(`${module}.${name}`, t);
    }
  }
  return table;
}

// Exports Envoy looks up with getFunction(), with the type it insists on. The ABI markers are
// not here: cpp-host only scans export names for them and never checks their type.
export const MODULE_EXPORTS: Map<string, FuncType> = new Map([
  ["_initialize", sig([], [])], ["_start", sig([], [])], ["main", sig(w(2))], ["__main_void", sig([])],
  ["malloc", sig(w(1))], ["proxy_on_memory_allocate", sig(w(1))],
  ["proxy_validate_configuration", sig(w(2))], ["proxy_on_vm_start", sig(w(2))],
  ["proxy_on_configure", sig(w(2))], ["proxy_on_tick", sig(w(1), [])],
  ["proxy_on_context_create", sig(w(2), [])],
  ["proxy_on_new_connection", sig(w(1))], ["proxy_on_downstream_data", sig(w(3))],
  ["proxy_on_upstream_data", sig(w(3))],
  ["proxy_on_downstream_connection_close", sig(w(2), [])], ["proxy_on_upstream_connection_close", sig(w(2), [])],
  ["proxy_on_request_body", sig(w(3))], ["proxy_on_request_trailers", sig(w(2))],
  ["proxy_on_request_metadata", sig(w(2))], ["proxy_on_response_body", sig(w(3))],
  ["proxy_on_response_trailers", sig(w(2))], ["proxy_on_response_metadata", sig(w(2))],
  ["proxy_on_http_call_response", sig(w(5), [])],
  ["proxy_on_grpc_receive", sig(w(3), [])], ["proxy_on_grpc_close", sig(w(3), [])],
  ["proxy_on_grpc_receive_initial_metadata", sig(w(3), [])],
  ["proxy_on_grpc_receive_trailing_metadata", sig(w(3), [])],
  ["proxy_on_queue_ready", sig(w(2), [])], ["proxy_on_done", sig(w(1))],
  ["proxy_on_log", sig(w(1), [])], ["proxy_on_delete", sig(w(1), [])],
  ["proxy_on_request_headers", sig(w(3))], ["proxy_on_response_headers", sig(w(3))],
  ["proxy_on_foreign_function", sig(w(3), [])],
  ["envoy_on_resolve_dns", sig(w(3), [])], ["envoy_on_stats_update", sig(w(2), [])],
]);

// 0.1.0 modules get the two-parameter header callbacks and no foreign-function callback.
const EXPORTS_0_1_0: Record<string, FuncType | null> = {
  proxy_on_request_headers: sig(w(2)), proxy_on_response_headers: sig(w(2)), proxy_on_foreign_function: null,
};

export const ABI_VERSION_EXPORTS: Record<string, AbiVersion> = {
  proxy_abi_version_0_1_0: "0_1_0", proxy_abi_version_0_2_0: "0_2_0", proxy_abi_version_0_2_1: "0_2_1",
};

const both = (...names: string[]) => names.flatMap((n) => WASI_MODULES.map((m) => `${m}.${n}`));

// cpp-host WasmBase::startVm: everything else traps with "restricted_callback" during
// _initialize / main / __main_void / _start.
export const ALLOWED_DURING_START: Set<string> = new Set([
  "env.emscripten_notify_memory_growth", "env.proxy_log",
  ...both("fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
    "clock_time_get", "clock_res_get", "random_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags",
    "fd_advise", "fd_allocate", "fd_datasync", "fd_fdstat_set_rights", "fd_filestat_get",
    "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread", "fd_prestat_dir_name", "fd_prestat_get",
    "fd_pwrite", "fd_readdir", "fd_renumber", "fd_sync", "fd_tell", "path_create_directory",
    "path_filestat_get", "path_filestat_set_times", "path_link", "path_readlink", "path_remove_directory",
    "path_rename", "path_symlink", "path_unlink_file", "sock_accept", "sock_recv", "sock_send",
    "sock_shutdown"),
]);

// cpp-host WasmBase::allocMemory wraps every host->malloc call the same way.
export const ALLOWED_DURING_MALLOC: Set<string> = new Set([
  "env.proxy_log", ...both("fd_write", "clock_time_get", "poll_oneoff"),
]);

export class LoadError extends Error {
  override name = "LoadError";
  // Envoy keeps checking export signatures after the first failure and logs each one.
  constructor(message: string, readonly all: string[] = [message]) {
    super(message);
  }
}

export interface LoadPlan {
  abiVersion: AbiVersion;
  mallocExport: "malloc" | "proxy_on_memory_allocate";
  startExport?: "_initialize" | "_start";
  callMain?: "main" | "__main_void";
  warnings: string[];
}

const STARTUP_EXPORTS = new Set(["_initialize", "_start", "main", "__main_void", "malloc", "proxy_on_memory_allocate"]);
const NETWORK_CALLBACKS = ["proxy_on_context_create", "proxy_on_new_connection",
  "proxy_on_downstream_data", "proxy_on_upstream_data"];

function findAbiVersion(info: ModuleInfo): AbiVersion {
  for (const e of info.exports) {
    if (e.kind === "func" && Object.hasOwn(ABI_VERSION_EXPORTS, e.name)) return ABI_VERSION_EXPORTS[e.name];
  }
  throw new LoadError("Missing or unknown Proxy-Wasm ABI version");
}

// cpp-host V8::link: imports in module order, the first failure ends the load.
function checkImports(info: ModuleInfo, host: Map<string, FuncType>): void {
  for (const imp of info.imports) {
    const key = `${imp.module}.${imp.name}`;
    if (imp.kind === "global") {
      throw new LoadError(`Failed to load Wasm module due to a missing import: ${key}`);
    }
    if (imp.kind === "tag") {
      // Not an Envoy message: V8's C API has no tag externs, so cpp-host cannot link one at all.
      throw new LoadError(`Failed to load Wasm module: tag import ${key} cannot be linked by Envoy`);
    }
    if (imp.kind !== "func") continue; // memory and table imports are created by the host
    const want = host.get(key);
    if (!want) throw new LoadError(`Failed to load Wasm module due to a missing import: ${key}`);
    if (!sameSig(imp.type!, want)) {
      throw new LoadError(`Failed to load Wasm module due to an import type mismatch: ${key}, `
        + `want: ${formatSig(imp.type!)}, but host exports: ${formatSig(want)}`);
    }
  }
}

export function checkModule(info: ModuleInfo, opts: { wasi?: WasiSet; requireNetworkCallbacks?: boolean } = {}): LoadPlan {
  const abiVersion = findAbiVersion(info);
  checkImports(info, envoyHostFunctions(opts.wasi ?? "conservative", abiVersion));

  const funcs = new Map<string, FuncType>();
  for (const e of info.exports) if (e.kind === "func") funcs.set(e.name, e.type!);
  const errors: string[] = [];
  // cpp-host getModuleFunctionImpl: a present export with another type fails the VM (and is
  // then treated as absent); an absent one is simply not called.
  const lookup = (name: string, want: FuncType | undefined = MODULE_EXPORTS.get(name)): boolean => {
    const got = funcs.get(name);
    if (!got || !want) return false;
    if (sameSig(got, want)) return true;
    errors.push(`Bad function signature for: ${name}, want: ${formatSig(want)}, but the module exports: ${formatSig(got)}`);
    return false;
  };

  // Order follows WasmBase::getFunctions, then Envoy's Wasm::getFunctions; the first error is
  // the one reported.
  let startExport: LoadPlan["startExport"];
  let callMain: LoadPlan["callMain"];
  if (lookup("_initialize")) {
    startExport = "_initialize";
    const hasMain = lookup("main");
    const hasMainVoid = lookup("__main_void");
    callMain = hasMain ? "main" : hasMainVoid ? "__main_void" : undefined;
  } else if (lookup("_start")) {
    startExport = "_start";
  }
  let mallocExport: LoadPlan["mallocExport"] | undefined;
  if (lookup("malloc")) mallocExport = "malloc";
  else if (lookup("proxy_on_memory_allocate")) mallocExport = "proxy_on_memory_allocate";
  else errors.push("Wasm module is missing malloc function.");
  // The callbacks, then Envoy's envoy_on_* (both in MODULE_EXPORTS order).
  for (const name of MODULE_EXPORTS.keys()) {
    if (STARTUP_EXPORTS.has(name)) continue;
    const want = abiVersion === "0_1_0" && Object.hasOwn(EXPORTS_0_1_0, name) ? EXPORTS_0_1_0[name] : MODULE_EXPORTS.get(name);
    if (want) lookup(name, want);
  }
  if (errors.length > 0) throw new LoadError(errors[0], errors);

  // Not Envoy messages: cpp-host would dereference a null memory on the first copy.
  const hasMemory = info.exports.some((e) => e.kind === "memory") || info.imports.some((i) => i.kind === "memory");
  if (!hasMemory) throw new LoadError("Wasm module has no memory (export one): Envoy cannot exchange data with it");
  if (opts.requireNetworkCallbacks) {
    const missing = NETWORK_CALLBACKS.filter((n) => !funcs.has(n));
    if (missing.length > 0) throw new LoadError(`Wasm module is not a network filter: missing ${missing.join(", ")}`);
  }

  const warnings: string[] = [];
  if (info.hasStartSection) {
    warnings.push("module has a start section: it runs inside instantiation, before cpp-host sets a current "
      + "context (a hostcall from it would likely dereference a null context); export it as _initialize instead");
  }
  if (!startExport) warnings.push("module exports neither _initialize nor _start: no initialization will run");
  const markers = info.exports.filter((e) => e.kind === "func" && Object.hasOwn(ABI_VERSION_EXPORTS, e.name));
  if (markers.length > 1) {
    warnings.push(`module exports ${markers.length} ABI markers; Envoy uses the first, ${markers[0].name}`);
  }
  return { abiVersion, mallocExport: mallocExport!, startExport, callMain, warnings };
}
