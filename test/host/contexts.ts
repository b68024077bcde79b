// The host side of proxy-wasm contexts: what a hostcall needs from the context it runs in
// (cpp-host ContextBase / Envoy Context), and the buffer objects getBuffer hands out.
import { WasmResult } from "./envoy-abi.js";
import type { ByteBuffer } from "./byte-buffer.js";

export const BufferType = {
  HttpRequestBody: 0, HttpResponseBody: 1, DownstreamData: 2, UpstreamData: 3, HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5, VmConfiguration: 6, PluginConfiguration: 7, CallData: 8,
} as const;
export const BUFFER_TYPE_MAX = 8;
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;
export const STREAM_TYPE_MAX = 3;
export const HEADER_MAP_TYPE_MAX = 7;

// Envoy filter-state LifeSpan values (FilterChain, Request, Connection).
export const LifeSpan = { FilterChain: 0, Request: 1, Connection: 2 } as const;
// declare_property WasmType values, kept on CelState entries.
export const CelType = { Bytes: 0, String: 1, FlatBuffers: 2, Protobuf: 3 } as const;

export interface FilterStateEntry {
  value: Uint8Array;
  readonly: boolean;
  span: number;
  // Present for CelState objects (proxy_set_property); absent for registered Envoy objects.
  cel?: { type: number; initialized: boolean };
}
export type FilterState = Map<string, FilterStateEntry>;

export interface CelPrototype { readonly: boolean; type: number; schema: Uint8Array; span: number }

// The connection's StreamInfo as far as properties and foreign functions can see it.
export interface StreamInfo {
  connectionId: number;
  sourceAddress: string;
  destinationAddress: string;
  filterState: FilterState;
  // Set by tcp_proxy: cluster when the route is established, addresses once connected.
  upstream: { cluster?: string; address?: string; localAddress?: string };
  terminationDetails?: string;
}

// One proxy-wasm buffer as cpp-host sees it through getBuffer().
export interface BufferAccess {
  size(): number;
  bytes(start: number, length: number): Uint8Array;
  set(start: number, length: number, data: Uint8Array): number;
}

// Envoy's Buffer wrapper around a null Buffer::Instance: size 0, reads Ok+empty, writes refused.
export const NO_BUFFER: BufferAccess = {
  size: () => 0,
  bytes: () => new Uint8Array(0),
  set: () => WasmResult.BadArgument,
};

// Configuration and other string-backed buffers are immutable (BufferBase::copyFrom).
export function constBuffer(data: Uint8Array): BufferAccess {
  return {
    size: () => data.length,
    bytes: (start, length) => data.subarray(start, start + length),
    set: () => WasmResult.BadArgument,
  };
}

// Envoy Buffer::copyFrom on a mutable Buffer::Instance: only prefix replace/prepend or append.
export function mutableBuffer(buf: ByteBuffer): BufferAccess {
  return {
    size: () => buf.length,
    bytes: (start, length) => buf.slice(start, length),
    set: (start, length, data) => {
      if (start === 0) {
        if (length !== 0) buf.drain(length);
        buf.prepend(data);
        return WasmResult.Ok;
      }
      if (start >= buf.length) {
        buf.add(data);
        return WasmResult.Ok;
      }
      return WasmResult.BadArgument;
    },
  };
}

export interface HostContext {
  readonly id: number;
  readonly isRoot: boolean;
  // The root context that owns this one (a root context and the VM context return themselves).
  readonly rootContext: RootContextLike;
  readonly stream: StreamInfo | undefined;
  // Prototypes declared through declare_property while this context was current.
  readonly prototypes: Map<string, CelPrototype>;
  // undefined = NotFound (cpp-host getBuffer returned nullptr).
  getBuffer(type: number): BufferAccess | undefined;
  continueStream(type: number): number;
  closeStream(type: number): number;
}

export interface RootContextLike extends HostContext {
  // Whether the plugin configuration buffer is readable right now (Envoy's temp_plugin_).
  pluginConfigActive: boolean;
}

// The buffers every context answers the same way (Envoy Context::getBuffer); only the network
// data buffers differ between a root and a connection context.
export function commonBuffer(type: number, vmConfig: Uint8Array, pluginConfig: Uint8Array | undefined,
  callData: BufferAccess | undefined): BufferAccess | undefined {
  switch (type) {
    case BufferType.VmConfiguration: return constBuffer(vmConfig);
    case BufferType.PluginConfiguration: return pluginConfig ? constBuffer(pluginConfig) : undefined;
    case BufferType.CallData: return callData ?? NO_BUFFER;
    case BufferType.HttpCallResponseBody: return undefined;
    default: return NO_BUFFER; // HTTP bodies, gRPC receive buffer, network data: a null instance
  }
}

// Root contexts and the VM context (id 0, current during _initialize and guest malloc calls).
export class RootContext implements RootContextLike {
  readonly isRoot = true;
  readonly stream = undefined;
  readonly prototypes = new Map<string, CelPrototype>();
  pluginConfigActive = false;
  // The CallData buffer (envoy_on_resolve_dns results), set only for the duration of that call.
  callData: BufferAccess | undefined;

  constructor(readonly id: number, readonly vmConfig: Uint8Array, private readonly pluginConfig: Uint8Array) {}

  get rootContext(): RootContext {
    return this;
  }

  getBuffer(type: number): BufferAccess | undefined {
    return commonBuffer(type, this.vmConfig, this.pluginConfigActive ? this.pluginConfig : undefined, this.callData);
  }

  // Envoy Context::continueStream/closeStream with no decoder/encoder/network callbacks.
  continueStream(type: number): number {
    return type === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
  }

  closeStream(_type: number): number {
    return WasmResult.Ok;
  }
}
