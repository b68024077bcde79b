// Builds the tiny purpose-built WAT modules the harness rule tests use. Every module imports
// only Envoy's host functions, exports memory, a growing bump malloc, the ABI marker and
// _initialize, and records each callback it exports as an info log line "name arg arg ...",
// so a test can assert the exact callback sequence Envoy's rules produce.
import { wat } from "./wat.js";
import { WasmVm, type VmOptions } from "../host/vm.js";

export const IMPORTS = `
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer_bytes (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buffer_bytes (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_status" (func $get_buffer_status (param i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue_stream (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $close_stream (param i32) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $set_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func $call_foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick_period (param i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_effective_context (param i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment_metric (param i32 i64) (result i32)))
  (import "env" "proxy_record_metric" (func $record_metric (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func $get_metric (param i32 i32) (result i32)))
`;

// Memory map: 256.. return slots (RET = 256 pointer, RET+4 length, RET+8 .. more), 448.. hex
// digits, 480.. decimal scratch, 1024.. data segments, 8192.. log line scratch, 16384.. heap.
export const RET = 256;

export interface BuildOptions {
  imports?: string;            // extra import lines (WASI, other env functions)
  omit?: ("malloc" | "_initialize" | "abi")[];  // leave these standard exports out
}

const runtime = (omit: string[]) => `
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 16384))
  (data (i32.const 448) "0123456789abcdef")
  ${omit.includes("abi") ? "" : `(func (export "proxy_abi_version_0_2_1"))`}
  ${omit.includes("_initialize") ? "" : `(func (export "_initialize"))`}
  (func $malloc ${omit.includes("malloc") ? "" : `(export "malloc")`} (param $n i32) (result i32) (local $p i32) (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.div_u (i32.sub (local.get $end) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1))))))
    (global.set $heap (local.get $end))
    (local.get $p))
  (func $itoa (param $v i32) (param $at i32) (result i32) (local $len i32) (local $i i32)
    (loop $digits
      (i32.store8 (i32.add (i32.const 480) (local.get $len)) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (loop $copy
      (i32.store8 (i32.add (local.get $at) (local.get $i))
        (i32.load8_u (i32.add (i32.const 479) (i32.sub (local.get $len) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $copy (i32.lt_u (local.get $i) (local.get $len))))
    (i32.add (local.get $at) (local.get $len)))
  (func $emit (param $tp i32) (param $tl i32) (param $n i32) (param $a i32) (param $b i32) (param $c i32) (local $p i32)
    (memory.copy (i32.const 8192) (local.get $tp) (local.get $tl))
    (local.set $p (i32.add (i32.const 8192) (local.get $tl)))
    (if (i32.ge_u (local.get $n) (i32.const 1)) (then
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (call $itoa (local.get $a) (i32.add (local.get $p) (i32.const 1))))))
    (if (i32.ge_u (local.get $n) (i32.const 2)) (then
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (call $itoa (local.get $b) (i32.add (local.get $p) (i32.const 1))))))
    (if (i32.ge_u (local.get $n) (i32.const 3)) (then
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (call $itoa (local.get $c) (i32.add (local.get $p) (i32.const 1))))))
    (drop (call $proxy_log (i32.const 2) (i32.const 8192) (i32.sub (local.get $p) (i32.const 8192)))))
  ;; logs the current DownstreamData (2) / UpstreamData (3) bytes as "<tag>=<bytes>"
  (func $log_buffer (param $type i32) (param $tp i32) (param $tl i32) (local $len i32)
    (drop (call $get_buffer_bytes (local.get $type) (i32.const 0) (i32.const 0x7fffffff) (i32.const ${RET}) (i32.const ${RET + 4})))
    (local.set $len (i32.load (i32.const ${RET + 4})))
    (memory.copy (i32.const 8192) (local.get $tp) (local.get $tl))
    (i32.store8 (i32.add (i32.const 8192) (local.get $tl)) (i32.const 61))
    (memory.copy (i32.add (i32.const 8193) (local.get $tl)) (i32.load (i32.const ${RET})) (local.get $len))
    (drop (call $proxy_log (i32.const 2) (i32.const 8192) (i32.add (i32.add (local.get $tl) (i32.const 1)) (local.get $len)))))
  ;; logs "tag rc" and, when rc is Ok, " <hex of the bytes returned at RET>"
  (func $log_result (param $tp i32) (param $tl i32) (param $rc i32) (local $p i32) (local $i i32) (local $src i32) (local $len i32) (local $b i32)
    (memory.copy (i32.const 8192) (local.get $tp) (local.get $tl))
    (local.set $p (i32.add (i32.const 8192) (local.get $tl)))
    (i32.store8 (local.get $p) (i32.const 32))
    (local.set $p (call $itoa (local.get $rc) (i32.add (local.get $p) (i32.const 1))))
    (if (i32.eqz (local.get $rc)) (then
      (i32.store8 (local.get $p) (i32.const 32))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $src (i32.load (i32.const ${RET})))
      (local.set $len (i32.load (i32.const ${RET + 4})))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (i32.store8 (local.get $p) (i32.load8_u (i32.add (i32.const 448) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (local.get $p) (i32.const 1)) (i32.load8_u (i32.add (i32.const 448) (i32.and (local.get $b) (i32.const 15)))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
    (drop (call $proxy_log (i32.const 2) (i32.const 8192) (i32.sub (local.get $p) (i32.const 8192)))))
`;

type Cb = { params: string[]; result: boolean; tag: string; ret?: string };
const CALLBACKS: Record<string, Cb> = {
  proxy_on_context_create: { params: ["$c", "$p"], result: false, tag: "create" },
  proxy_on_vm_start: { params: ["$r", "$n"], result: true, tag: "vm_start", ret: "(i32.const 1)" },
  proxy_on_configure: { params: ["$r", "$n"], result: true, tag: "configure", ret: "(i32.const 1)" },
  proxy_on_new_connection: { params: ["$c"], result: true, tag: "new" },
  proxy_on_downstream_data: { params: ["$c", "$n", "$e"], result: true, tag: "down" },
  proxy_on_upstream_data: { params: ["$c", "$n", "$e"], result: true, tag: "up" },
  proxy_on_downstream_connection_close: { params: ["$c", "$t"], result: false, tag: "down_close" },
  proxy_on_upstream_connection_close: { params: ["$c", "$t"], result: false, tag: "up_close" },
  proxy_on_done: { params: ["$c"], result: true, tag: "done", ret: "(i32.const 1)" },
  proxy_on_log: { params: ["$c"], result: false, tag: "log" },
  proxy_on_delete: { params: ["$c"], result: false, tag: "delete" },
  proxy_on_tick: { params: ["$r"], result: false, tag: "tick" },
  proxy_on_queue_ready: { params: ["$r", "$t"], result: false, tag: "queue" },
};

export class Wat {
  private readonly segments: string[] = [];
  private next = 1024;

  // A static string: the WAT operands "(i32.const ptr) (i32.const len)".
  str(s: string | Uint8Array): string {
    const bytes = typeof s === "string" ? new TextEncoder().encode(s) : s;
    const ptr = this.next;
    this.next += bytes.length + 8;
    const escaped = [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
    this.segments.push(`(data (i32.const ${ptr}) "${escaped}")`);
    return `(i32.const ${ptr}) (i32.const ${bytes.length})`;
  }

  // "(call $emit ...)" logging `tag` and up to three i32 operands.
  emit(tag: string, ...args: string[]): string {
    const a = [...args, "(i32.const 0)", "(i32.const 0)", "(i32.const 0)"].slice(0, 3);
    return `(call $emit ${this.str(tag)} (i32.const ${args.length}) ${a.join(" ")})`;
  }

  // Logs "tag rc [hex]" for a hostcall that returns bytes through (RET, RET+4); `call` is the
  // hostcall expression, which must use RET/RET+4 as its return slots (see ret()).
  result(tag: string, call: string): string {
    return `(call $log_result ${this.str(tag)} ${call})`;
  }

  // The return-slot operands "(i32.const RET) (i32.const RET+4)".
  ret(): string {
    return `(i32.const ${RET}) (i32.const ${RET + 4})`;
  }

  // Logs "tag rc [hex]" for proxy_get_property(path segments joined with NUL).
  getProperty(tag: string, ...path: string[]): string {
    return this.result(tag, `(call $get_property ${this.str(path.join("\0"))} ${this.ret()})`);
  }

  // Logs "tag rc [hex]" for proxy_call_foreign_function(name, args).
  foreign(tag: string, name: string, args: Uint8Array | string = ""): string {
    return this.result(tag, `(call $call_foreign ${this.str(name)} ${this.str(args)} ${this.ret()})`);
  }

  // Logs "tag rc" for proxy_set_property(key, value).
  setProperty(tag: string, key: string, value: string): string {
    return this.emit(tag, `(call $set_property ${this.str(key)} ${this.str(value)})`);
  }

  // "(call $log_buffer ...)" logging the buffer's bytes as "tag=<bytes>".
  logBuffer(type: number, tag: string): string {
    return `(call $log_buffer (i32.const ${type}) ${this.str(tag)})`;
  }

  // Exports every network callback, each logging "tag args"; `bodies[name]` is appended after
  // the log line and must leave the i32 result for callbacks that have one (default 0/Continue).
  // A body of null leaves that callback out of the module.
  callbacks(bodies: Record<string, string | null> = {}): string {
    return Object.entries(CALLBACKS).filter(([name]) => bodies[name] !== null).map(([name, cb]) => {
      const params = cb.params.map((p) => `(param ${p} i32)`).join(" ");
      const log = this.emit(cb.tag, ...cb.params.map((p) => `(local.get ${p})`));
      const tail = bodies[name] ?? (cb.result ? cb.ret ?? "(i32.const 0)" : "");
      return `(func (export "${name}") ${params} ${cb.result ? "(result i32)" : ""} ${log} ${tail})`;
    }).join("\n");
  }

  async build(body: string, opts: BuildOptions = {}): Promise<Uint8Array> {
    const text = `(module ${IMPORTS} ${opts.imports ?? ""} ${runtime(opts.omit ?? [])} ${body} ${this.segments.join("\n")})`;
    return wat(text);
  }
}

// Callback lines the module logged (info level), in order.
export function lines(vm: WasmVm): string[] {
  return vm.logs.filter((l) => l.level === 2).map((l) => l.msg);
}

export async function buildModule(body: (w: Wat) => string, build: BuildOptions = {}): Promise<Uint8Array> {
  const w = new Wat();
  const text = body(w);
  return w.build(text, build);
}

export async function loadVm(body: (w: Wat) => string, opts: VmOptions = {}, build: BuildOptions = {}): Promise<WasmVm> {
  return WasmVm.load(await buildModule(body, build), { timers: "manual", ...opts });
}

// "tag rc hex" lines -> { rc, hex } for one tag (the last one logged).
export function result(vm: WasmVm, tag: string): { rc: number; hex?: string } | undefined {
  const line = lines(vm).filter((l) => l === tag || l.startsWith(`${tag} `)).at(-1);
  if (!line) return undefined;
  const [, rc, hex] = line.split(" ");
  return hex === undefined ? { rc: Number(rc) } : { rc: Number(rc), hex };
}

export const u64le = (hex: string): bigint => Buffer.from(hex, "hex").readBigUInt64LE(0);
export const hexText = (hex: string): string => Buffer.from(hex, "hex").toString("utf8");

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
