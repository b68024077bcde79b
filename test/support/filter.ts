// Loads the built metawire module into the harness (our Envoy) and opens in-memory connections.
import { readFileSync } from "node:fs";
import { WasmVm, type VmOptions } from "../host/vm.js";
import { FilterConnection } from "../host/connection.js";
import { legacyCounter } from "./metawire-metrics.js";

export const RELEASE_WASM = "build/metawire.wasm";
export const DEBUG_WASM = "build/metawire.debug.wasm";

let cached: Uint8Array | undefined;
export function metawireWasm(): Uint8Array {
  cached ??= new Uint8Array(readFileSync(RELEASE_WASM));
  return cached;
}

export async function loadFilter(config: object | string = {}, opts: VmOptions = {}): Promise<WasmVm> {
  const pluginConfig = typeof config === "string" ? config : JSON.stringify(config);
  return WasmVm.load(metawireWasm(), { pluginConfig, logLevel: 3, ...opts });
}

/** A started in-memory connection through the filter and tcp_proxy to an in-memory upstream. */
export function openConnection(vm: WasmVm): FilterConnection {
  const conn = new FilterConnection({ vm });
  conn.start();
  return conn;
}

/** A Redis counter by its older name (metawire-metrics.ts legacyCounter). */
export function counter(vm: WasmVm, name: string): number {
  return legacyCounter(vm.metrics, "redis", name);
}
