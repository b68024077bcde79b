// Thin, typed wrappers over the raw imports (the proxy-wasm-rust-sdk "hostcalls" layer).
// Hot-path calls return results through module globals instead of allocating result objects.
import * as raw from "./imports";
import { releaseHostMemory } from "./memory";
import { BufferType, LogLevel, MetricType, StreamType, WasmResult } from "./types";

// Scratch slots the host writes results into (pointer, length, cas, u64 values).
const slots = memory.data(32);
const SLOT_PTR: usize = 0, SLOT_LEN: usize = 4, SLOT_CAS: usize = 8, SLOT_U64: usize = 16;

function slotU32(offset: usize): u32 { return load<u32>(slots + offset); }

// ---- logging -------------------------------------------------------------------------------

let hostLogLevel: i32 = LogLevel.Info;

/** Reads Envoy's wasm log level once (on configure) so disabled levels cost no formatting. */
export function refreshLogLevel(): void {
  if (raw.proxy_get_log_level(slots + SLOT_PTR) == WasmResult.Ok) hostLogLevel = <i32>slotU32(SLOT_PTR);
}

export function logEnabled(level: LogLevel): bool { return <i32>level >= hostLogLevel; }

export function log(level: LogLevel, message: string): void {
  if (<i32>level < hostLogLevel) return;
  const buf = String.UTF8.encode(message);
  raw.proxy_log(level, changetype<usize>(buf), buf.byteLength);
}

// ---- buffers -------------------------------------------------------------------------------

/** Result of the last getBufferBytes: a host-allocated block the caller must release. */
export let bufferPtr: usize = 0;
export let bufferLen: i32 = 0;

/** Copies up to `max` bytes at `start` of a buffer into guest memory (bufferPtr/bufferLen). */
export function getBufferBytes(type: BufferType, start: i32, max: i32): WasmResult {
  store<u32>(slots + SLOT_PTR, 0);
  store<u32>(slots + SLOT_LEN, 0);
  const r = raw.proxy_get_buffer_bytes(type, <u32>start, <u32>max, slots + SLOT_PTR, slots + SLOT_LEN);
  bufferPtr = <usize>slotU32(SLOT_PTR);
  bufferLen = <i32>slotU32(SLOT_LEN);
  return <WasmResult>r;
}

export function releaseBuffer(): void {
  releaseHostMemory(bufferPtr);
  bufferPtr = 0;
  bufferLen = 0;
}

/** The whole buffer as a managed copy (configuration; not for the data path). */
export function getBufferCopy(type: BufferType, size: i32): Uint8Array {
  const out = new Uint8Array(size > 0 ? size : 0);
  if (size <= 0) return out;
  if (getBufferBytes(type, 0, size) == WasmResult.Ok && bufferLen > 0) {
    memory.copy(out.dataStart, bufferPtr, <usize>min(bufferLen, size));
  }
  releaseBuffer();
  return out;
}

/** Envoy semantics: start 0 → drain `length` then prepend; start ≥ size → append. */
export function setBufferBytes(type: BufferType, start: i32, length: i32, data: usize, size: i32): WasmResult {
  return <WasmResult>raw.proxy_set_buffer_bytes(type, <u32>start, <u32>length, data, <usize>size);
}

// ---- streams -------------------------------------------------------------------------------

export function continueStream(stream: StreamType): WasmResult { return <WasmResult>raw.proxy_continue_stream(stream); }
export function closeStream(stream: StreamType): WasmResult { return <WasmResult>raw.proxy_close_stream(stream); }
export function setEffectiveContext(id: u32): WasmResult { return <WasmResult>raw.proxy_set_effective_context(id); }
export function setTickPeriodMilliseconds(ms: u32): WasmResult { return <WasmResult>raw.proxy_set_tick_period_milliseconds(ms); }

// ---- properties (filter state) ---------------------------------------------------------------

/** Writes filter state `wasm.<name>`; the value is raw bytes (readable with :PLAIN in access logs). */
export function setPropertyBytes(name: string, value: usize, valueLen: i32): WasmResult {
  const path = String.UTF8.encode(name);
  return <WasmResult>raw.proxy_set_property(changetype<usize>(path), path.byteLength, value, <usize>valueLen);
}

export function setPropertyString(name: string, value: string): WasmResult {
  const v = String.UTF8.encode(value);
  return setPropertyBytes(name, changetype<usize>(v), v.byteLength);
}

/** Reads a property (path segments joined with \0); null when absent. */
export function getProperty(path: string): Uint8Array | null {
  const p = String.UTF8.encode(path);
  store<u32>(slots + SLOT_PTR, 0);
  store<u32>(slots + SLOT_LEN, 0);
  const r = raw.proxy_get_property(changetype<usize>(p), p.byteLength, slots + SLOT_PTR, slots + SLOT_LEN);
  if (r != WasmResult.Ok) return null;
  const ptr = <usize>slotU32(SLOT_PTR), len = <i32>slotU32(SLOT_LEN);
  const out = new Uint8Array(len);
  if (len > 0) memory.copy(out.dataStart, ptr, len);
  releaseHostMemory(ptr);
  return out;
}

// ---- foreign functions -----------------------------------------------------------------------

export function callForeignFunction(name: string, args: Uint8Array): WasmResult {
  const n = String.UTF8.encode(name);
  store<u32>(slots + SLOT_PTR, 0);
  store<u32>(slots + SLOT_LEN, 0);
  const r = raw.proxy_call_foreign_function(changetype<usize>(n), n.byteLength, args.dataStart, args.byteLength,
    slots + SLOT_PTR, slots + SLOT_LEN);
  releaseHostMemory(<usize>slotU32(SLOT_PTR));
  return <WasmResult>r;
}

// ---- metrics ---------------------------------------------------------------------------------

/** Defines a metric; returns its id, or 0 when the host refused (ids are never 0 in Envoy). */
export function defineMetric(type: MetricType, name: string): u32 {
  const n = String.UTF8.encode(name);
  store<u32>(slots + SLOT_PTR, 0);
  if (raw.proxy_define_metric(type, changetype<usize>(n), n.byteLength, slots + SLOT_PTR) != WasmResult.Ok) return 0;
  return slotU32(SLOT_PTR);
}

/** Counters reject a zero delta in Envoy, so zero is never sent. */
export function incrementMetric(id: u32, delta: i64): void {
  if (id != 0 && delta != 0) raw.proxy_increment_metric(id, delta);
}

export function recordMetric(id: u32, value: u64): void {
  if (id != 0) raw.proxy_record_metric(id, value);
}

export function getMetric(id: u32): u64 {
  store<u64>(slots + SLOT_U64, 0);
  raw.proxy_get_metric(id, slots + SLOT_U64);
  return load<u64>(slots + SLOT_U64);
}

// ---- time and entropy ------------------------------------------------------------------------

/** Monotonic nanoseconds (WASI clock id 1): durations must not jump with wall-clock changes. */
export function monotonicNs(): i64 {
  store<u64>(slots + SLOT_U64, 0);
  raw.wasi_clock_time_get(1, 1, slots + SLOT_U64);
  return load<i64>(slots + SLOT_U64);
}

export function wallClockNs(): i64 {
  store<u64>(slots + SLOT_U64, 0);
  raw.proxy_get_current_time_nanoseconds(slots + SLOT_U64);
  return load<i64>(slots + SLOT_U64);
}

export function randomU32(): u32 {
  store<u32>(slots + SLOT_U64, 0);
  raw.wasi_random_get(slots + SLOT_U64, 4);
  return load<u32>(slots + SLOT_U64);
}

// ---- shared data -----------------------------------------------------------------------------

export let sharedCas: u32 = 0;

/**
 * Reads shared data (vm_id namespace) into [into, into+max) without allocating; returns the
 * value's full length, or −1 when absent. Sets sharedCas. The key is UTF-8 at [keyPtr, keyPtr+keyLen).
 */
export function readSharedData(keyPtr: usize, keyLen: i32, into: usize, max: i32): i32 {
  store<u32>(slots + SLOT_PTR, 0);
  store<u32>(slots + SLOT_LEN, 0);
  store<u32>(slots + SLOT_CAS, 0);
  const r = raw.proxy_get_shared_data(keyPtr, keyLen, slots + SLOT_PTR, slots + SLOT_LEN, slots + SLOT_CAS);
  sharedCas = slotU32(SLOT_CAS);
  const ptr = <usize>slotU32(SLOT_PTR), len = <i32>slotU32(SLOT_LEN);
  if (r != WasmResult.Ok) { releaseHostMemory(ptr); return -1; }
  if (len > 0 && max > 0) memory.copy(into, ptr, min(len, max));
  releaseHostMemory(ptr);
  return len;
}

/** Compare-and-swap write (key and value as raw bytes): cas 0 writes unconditionally; a stale cas → CasMismatch. */
export function writeSharedData(keyPtr: usize, keyLen: i32, value: usize, valueLen: i32, cas: u32): WasmResult {
  return <WasmResult>raw.proxy_set_shared_data(keyPtr, keyLen, value, valueLen, cas);
}
