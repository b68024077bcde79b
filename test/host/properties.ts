// proxy_get_property / proxy_set_property as Envoy's Context::getProperty/findValue/setProperty
// answer them on a TCP connection: CEL activation words first (connection, source, upstream,
// xds, filter_state, ...), then the Wasm words (plugin_*, connection_id), then the CelState
// "wasm.<name>" filter state; values serialized as Envoy's serializeValue does.
import { WasmResult } from "./envoy-abi.js";
import { CelType, LifeSpan, type FilterStateEntry, type HostContext } from "./contexts.js";
import { decodeUtf8, encodeUtf8 } from "./guest-memory.js";

export interface NodeInfo { id?: string; cluster?: string; metadata?: Record<string, string> }
export interface PluginInfo { pluginName: string; rootId: string; vmId: string; node: NodeInfo }

export type Value =
  | { kind: "string"; v: string }
  | { kind: "bytes"; v: Uint8Array }
  | { kind: "int"; v: bigint }
  | { kind: "uint"; v: bigint }
  | { kind: "double"; v: number }
  | { kind: "bool"; v: boolean }
  | { kind: "null" }
  // Envoy's wrapper maps (source, connection, xds, filter_state...) cannot list their keys, so
  // reading one whole fails to serialize; proto-backed maps can (entries present).
  | { kind: "map"; get(key: string): Value | undefined; entries?: () => [Value, Value][] }
  | { kind: "list"; items: Value[] }
  | { kind: "message"; bytes: Uint8Array; field(name: string): Value | undefined };

const str = (v: string): Value => ({ kind: "string", v });
const int = (v: number | bigint): Value => ({ kind: "int", v: BigInt(v) });
const uint = (v: number | bigint): Value => ({ kind: "uint", v: BigInt(v) });
const wrapper = (get: (key: string) => Value | undefined): Value => ({ kind: "map", get });

// ---- serialization (Envoy serializeValue + proxy-wasm pairs format) ----

export function serializeValue(value: Value): Uint8Array | undefined {
  switch (value.kind) {
    case "string": return encodeUtf8(value.v);
    case "bytes": return value.v;
    case "int": case "uint": {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value.v), true);
      return out;
    }
    case "double": {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, value.v, true);
      return out;
    }
    case "bool": return Uint8Array.of(value.v ? 1 : 0);
    case "message": return value.bytes;
    case "map": {
      if (!value.entries) return undefined;
      const pairs: [Uint8Array, Uint8Array][] = [];
      for (const [k, v] of value.entries()) {
        const ks = serializeValue(k), vs = serializeValue(v);
        if (!ks || !vs) return undefined;
        pairs.push([ks, vs]);
      }
      return marshalPairs(pairs);
    }
    case "list": {
      const pairs: [Uint8Array, Uint8Array][] = [];
      for (const item of value.items) {
        const s = serializeValue(item);
        if (!s) return undefined;
        pairs.push([s, new Uint8Array(0)]);
      }
      return marshalPairs(pairs);
    }
    default: return undefined;
  }
}

// u32 count, (u32 key_len, u32 value_len) x count, then each key and value followed by NUL.
export function marshalPairs(pairs: [Uint8Array, Uint8Array][]): Uint8Array {
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, pairs.length, true);
  let p = 4;
  for (const [k, v] of pairs) {
    dv.setUint32(p, k.length, true);
    dv.setUint32(p + 4, v.length, true);
    p += 8;
  }
  for (const [k, v] of pairs) {
    out.set(k, p); p += k.length + 1;
    out.set(v, p); p += v.length + 1;
  }
  return out;
}

// ---- a few protobuf messages Envoy hands out as values (Node, Metadata) ----

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return out;
}
function lenField(field: number, bytes: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

// google.protobuf.Struct with string values; CEL turns a Struct field into a map.
function structValue(fields: Record<string, string>): { bytes: Uint8Array; value: Value } {
  const out: number[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const val = Uint8Array.from(lenField(3, encodeUtf8(v))); // Value.string_value = 3
    const entry = Uint8Array.from([...lenField(1, encodeUtf8(k)), ...lenField(2, val)]);
    out.push(...lenField(1, entry)); // Struct.fields = 1 (map entry)
  }
  const entries = Object.entries(fields).map(([k, v]) => [str(k), str(v)] as [Value, Value]);
  return {
    bytes: Uint8Array.from(out),
    value: { kind: "map", get: (key) => (key in fields ? str(fields[key]) : undefined), entries: () => entries },
  };
}

// envoy.config.core.v3.Node: id=1, cluster=2, metadata=3, user_agent_name=6.
function nodeMessage(node: NodeInfo): Value {
  const id = node.id ?? "", cluster = node.cluster ?? "", agent = "envoy";
  const meta = structValue(node.metadata ?? {});
  const out: number[] = [];
  if (id) out.push(...lenField(1, encodeUtf8(id)));
  if (cluster) out.push(...lenField(2, encodeUtf8(cluster)));
  if (meta.bytes.length) out.push(...lenField(3, meta.bytes));
  out.push(...lenField(6, encodeUtf8(agent)));
  const fields: Record<string, Value> = { id: str(id), cluster: str(cluster), metadata: meta.value, user_agent_name: str(agent) };
  return { kind: "message", bytes: Uint8Array.from(out), field: (name) => fields[name] };
}

// Dynamic metadata: a wasm filter cannot write it, so it is always the empty Metadata message.
const EMPTY_METADATA: Value = {
  kind: "message", bytes: new Uint8Array(0),
  field: (name) => (name === "filter_metadata" || name === "typed_filter_metadata"
    ? { kind: "map", get: () => undefined, entries: () => [] } : undefined),
};

// ---- lookup ----

function splitHostPort(addr: string): { host: string; port: number | undefined } {
  const i = addr.lastIndexOf(":");
  if (i < 0) return { host: addr, port: undefined };
  const port = Number(addr.slice(i + 1));
  return { host: addr.slice(0, i), port: Number.isInteger(port) ? port : undefined };
}

// A CelState's value as CEL sees it (CelState::exprValue); schemas are not interpreted.
export function celValue(entry: FilterStateEntry): Value {
  if (!entry.cel) return { kind: "bytes", v: entry.value };
  if (!entry.cel.initialized) return { kind: "null" };
  return entry.cel.type === CelType.String ? str(decodeUtf8(entry.value)) : { kind: "bytes", v: entry.value };
}

function filterStateWrapper(ctx: HostContext): Value {
  return wrapper((key) => {
    const entry = ctx.stream!.filterState.get(key);
    // Registered objects without field reflection answer with serializeAsString() as bytes.
    return entry ? celValue(entry) : undefined;
  });
}

function activationValue(ctx: HostContext, name: string, plugin: PluginInfo): Value | undefined {
  const info = ctx.stream;
  switch (name) {
    case "xds": return wrapper((key) => {
      if (key === "node") return nodeMessage(plugin.node);
      if (key === "cluster_name" && info?.upstream.cluster !== undefined) return str(info.upstream.cluster);
      return undefined;
    });
    case "request": case "response": return undefined; // HTTP only
  }
  if (!info) return undefined;
  switch (name) {
    case "source": case "destination": {
      const addr = name === "source" ? info.sourceAddress : info.destinationAddress;
      return wrapper((key) => {
        if (key === "address") return str(addr);
        const { port } = splitHostPort(addr);
        return key === "port" && port !== undefined ? int(port) : undefined;
      });
    }
    case "connection": return wrapper((key) => {
      switch (key) {
        case "id": return uint(info.connectionId);
        case "mtls": return { kind: "bool", v: false };
        case "requested_server_name": return str("");
        case "termination_details":
          return info.terminationDetails !== undefined ? str(info.terminationDetails) : undefined;
        default: return undefined; // TLS-derived attributes are absent on plaintext
      }
    });
    case "upstream": return wrapper((key) => {
      const up = info.upstream;
      if (up.address === undefined) return undefined;
      switch (key) {
        case "address": return str(up.address);
        case "port": { const { port } = splitHostPort(up.address); return port !== undefined ? int(port) : undefined; }
        case "local_address": return up.localAddress !== undefined ? str(up.localAddress) : undefined;
        default: return undefined;
      }
    });
    case "metadata": return EMPTY_METADATA;
    case "filter_state": return filterStateWrapper(ctx);
    case "upstream_filter_state": return undefined; // tcp_proxy's upstream sets none
    default: return undefined;
  }
}

function findValue(ctx: HostContext, name: string, plugin: PluginInfo): Value | undefined {
  const fromActivation = activationValue(ctx, name, plugin);
  if (fromActivation) return fromActivation;
  switch (name) {
    case "connection_id": return ctx.stream ? uint(ctx.stream.connectionId) : undefined;
    case "plugin_name": return str(plugin.pluginName);
    case "plugin_root_id": return str(plugin.rootId);
    case "plugin_vm_id": return str(plugin.vmId);
  }
  const entry = ctx.stream?.filterState.get(`wasm.${name}`);
  return entry?.cel ? celValue(entry) : undefined;
}

export function getProperty(ctx: HostContext, path: Uint8Array, plugin: PluginInfo): { result: number; value?: Uint8Array } {
  let value: Value = { kind: "null" };
  let first = true;
  let start = 0;
  while (start < path.length) {
    let end = path.indexOf(0, start);
    if (end < 0) end = path.length;
    const part = decodeUtf8(path.subarray(start, end));
    start = end + 1;
    let next: Value | undefined;
    if (first) {
      first = false;
      next = findValue(ctx, part, plugin);
    } else if (value.kind === "map") {
      next = value.get(part);
    } else if (value.kind === "message") {
      next = value.field(part);
    } else if (value.kind === "list") {
      const idx = /^-?\d+$/.test(part) ? Number(part) : -1;
      next = idx >= 0 && idx < value.items.length ? value.items[idx] : undefined;
    }
    if (!next) return { result: WasmResult.NotFound };
    value = next;
  }
  const bytes = serializeValue(value);
  return bytes ? { result: WasmResult.Ok, value: bytes } : { result: WasmResult.SerializationFailure };
}

const DEFAULT_PROTOTYPE = { readonly: false, type: CelType.Bytes, span: LifeSpan.FilterChain };

// Envoy Context::setProperty: a CelState under "wasm.<path>" in the connection filter state,
// created from the ROOT context's declared prototype (or the default) on first write.
export function setProperty(ctx: HostContext, key: Uint8Array, value: Uint8Array): number {
  const info = ctx.stream;
  if (!info) return WasmResult.NotFound;
  const path = decodeUtf8(key);
  const name = `wasm.${path}`;
  let entry = info.filterState.get(name);
  if (!entry?.cel) {
    const proto = ctx.rootContext.prototypes.get(path) ?? DEFAULT_PROTOTYPE;
    entry = { value: new Uint8Array(0), readonly: proto.readonly, span: proto.span, cel: { type: proto.type, initialized: false } };
    info.filterState.set(name, entry);
  }
  if (entry.cel!.initialized && entry.readonly) return WasmResult.BadArgument;
  entry.value = value.slice();
  entry.cel!.initialized = true;
  return WasmResult.Ok;
}
