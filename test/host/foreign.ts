// Foreign functions Envoy registers for proxy_call_foreign_function (source/extensions/common/
// wasm/foreign.cc). Envoy builds without WASM_USE_CEL_PARSER have no expr_*; verify_signature
// and sign exist only in the newest releases — all of those answer NotFound here, like any
// name Envoy does not register.
import { isIP } from "node:net";
import { deflateSync, inflateSync } from "node:zlib";
import { WasmResult } from "./envoy-abi.js";
import { LifeSpan, type HostContext } from "./contexts.js";
import { encodeUtf8 } from "./guest-memory.js";
import { decodeDeclarePropertyArguments, decodeSetEnvoyFilterStateArguments } from "./protobuf.js";

export interface ForeignResult { result: number; data?: Uint8Array }
// ctx is the context Envoy's implementation uses (see WasmVm's foreignContext option).
export type ForeignFunction = (args: Uint8Array, ctx: HostContext) => ForeignResult;

// foreign.cc toFilterStateLifeSpan: unknown spans fall back to FilterChain.
function lifeSpan(span: number): number {
  return span === 1 ? LifeSpan.Request : span === 2 ? LifeSpan.Connection : LifeSpan.FilterChain;
}

const isUint = (s: string, max: bigint): boolean => /^\+?\d+$/.test(s) && BigInt(s) <= max;
function isIpPort(s: string): boolean {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m !== null && isIP(m[1]) !== 0 && Number(m[2]) <= 65535;
}

// Filter-state keys that have an ObjectFactory (well_known_filter_state.rst), each with the
// check its createFromBytes makes; false = the factory returns nullptr (BadArgument).
export const OBJECT_FACTORIES: Record<string, (value: string) => boolean> = {
  "envoy.tcp_proxy.cluster": () => true,
  "envoy.tcp_proxy.per_connection_idle_timeout_ms": (v) => isUint(v, 0xffffffffffffffffn),
  "envoy.tcp_proxy.disable_tunneling": () => true,
  "envoy.network.upstream_server_name": () => true,
  "envoy.network.application_protocols": () => true,
  "envoy.network.upstream_subject_alt_names": () => true,
  "envoy.network.transport_socket.original_dst_address": isIpPort,
  "envoy.upstream.dynamic_host": () => true,
  "envoy.upstream.dynamic_port": (v) => isUint(v, 0xffffffffn),
  "envoy.network.ip": (v) => isIP(v) !== 0,
};

const setEnvoyFilterState: ForeignFunction = (args, ctx) => {
  let parsed;
  try {
    parsed = decodeSetEnvoyFilterStateArguments(args);
  } catch {
    return { result: WasmResult.BadArgument };
  }
  const factory = OBJECT_FACTORIES[parsed.path];
  if (!factory) return { result: WasmResult.NotFound };
  if (!factory(parsed.value)) return { result: WasmResult.BadArgument };
  if (!ctx.stream) return { result: WasmResult.NotFound };
  ctx.stream.filterState.set(parsed.path, { value: encodeUtf8(parsed.value), readonly: false, span: lifeSpan(parsed.span) });
  return { result: WasmResult.Ok };
};

// Stored on the calling context; setProperty only ever consults the root context's table.
const declareProperty: ForeignFunction = (args, ctx) => {
  let parsed;
  try {
    parsed = decodeDeclarePropertyArguments(args);
  } catch {
    return { result: WasmResult.BadArgument };
  }
  if (ctx.prototypes.has(parsed.name)) return { result: WasmResult.BadArgument };
  const type = parsed.type >= 0 && parsed.type <= 3 ? parsed.type : 0;
  ctx.prototypes.set(parsed.name, { readonly: parsed.readonly, type, schema: parsed.schema, span: lifeSpan(parsed.span) });
  return { result: WasmResult.Ok };
};

export const FOREIGN_FUNCTIONS: Record<string, ForeignFunction> = {
  set_envoy_filter_state: setEnvoyFilterState,
  declare_property: declareProperty,
  clear_route_cache: () => ({ result: WasmResult.Ok }), // route cache is HTTP-only
  compress: (args) => {
    try {
      return { result: WasmResult.Ok, data: new Uint8Array(deflateSync(args)) };
    } catch {
      return { result: WasmResult.SerializationFailure };
    }
  },
  // Envoy's loop retries forever on Z_BUF_ERROR, which truncated input also yields; we fail it.
  uncompress: (args) => {
    try {
      return { result: WasmResult.Ok, data: new Uint8Array(inflateSync(args)) };
    } catch {
      return { result: WasmResult.SerializationFailure };
    }
  },
};
