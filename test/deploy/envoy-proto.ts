// Envoy's v3 API, offline: the .proto files vendored by @grpc/grpc-js-xds loaded with protobufjs,
// plus the project's overlays (test/fixtures/protos: fields newer than that copy), and a strict
// reader of Envoy's YAML/JSON form (proto3 JSON mapping, as Envoy's MessageUtil::loadFromYaml reads
// it: proto field names or their lowerCamelCase JSON names; `@type` Any; the well-known types'
// JSON forms). protobufjs' own fromObject drops what it does not know, so every member is checked
// here against the message's fields, at any depth, Any payloads included; a small subset of the
// protoc-gen-validate rules Envoy enforces is checked too (required messages and oneofs, string
// lengths, numeric bounds, item counts), and deprecated fields are refused.
// The result is encoded to the binary wire format and decoded back, each Any payload by its type.
import { createRequire } from "node:module";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type * as PB from "protobufjs";

const require = createRequire(import.meta.url);
const protobuf = require("protobufjs") as typeof PB;

const DEPS = resolve("node_modules/@grpc/grpc-js-xds/deps");
const INCLUDE = [
  join(DEPS, "envoy-api"), join(DEPS, "xds"), join(DEPS, "googleapis"), join(DEPS, "protoc-gen-validate"),
  resolve("node_modules/protobufjs"),   // google/protobuf/descriptor.proto
  resolve("test/fixtures/protos"),
];
export const OVERLAYS = ["envoy-wasm-overlay.proto", "envoy-tcp-proxy-overlay.proto"];
export const ISTIO_MESH_FRAGMENT = "istio-mesh-proxy-config.proto";

function resolver(_origin: string, target: string): string {
  if (target.startsWith("/")) return target;
  for (const dir of INCLUDE) {
    const p = join(dir, target);
    if (existsSync(p)) return p;
  }
  return target;   // protobufjs' bundled google/protobuf/*.proto
}

function newRoot(): PB.Root {
  const root = new protobuf.Root();
  root.resolvePath = resolver;
  return root;
}

const LOAD = { keepCase: true } as const;

/**
 * Adds each overlay message's fields (and the enums the overlays declare) to the vendored API.
 * Fails when the vendored API already has a field of that name or number: an overlay may only fill
 * gaps, never shadow what @grpc/grpc-js-xds ships.
 */
function mergeOverlay(root: PB.Root, overlay: PB.Root, files: Set<string>): string[] {
  const added: string[] = [];
  const visit = (ns: PB.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      const own = obj.filename !== null && files.has(obj.filename);
      if (obj instanceof protobuf.Type) {
        if (own) {
          const target = root.lookup(obj.fullName);
          if (!(target instanceof protobuf.Type)) throw new Error(`overlay ${obj.fullName}: no such message in the vendored API`);
          for (const f of obj.fieldsArray) {
            if (target.fields[f.name]) throw new Error(`overlay field ${obj.fullName}.${f.name} is already in the vendored API: remove it from the overlay`);
            const clash = target.fieldsArray.find((g) => g.id === f.id);
            if (clash) throw new Error(`overlay field ${obj.fullName}.${f.name} = ${f.id}: the vendored API uses ${f.id} for ${clash.name}`);
            target.add(new protobuf.Field(f.name, f.id, f.type, f.repeated ? "repeated" : undefined, undefined, f.options));
            added.push(`${obj.fullName.slice(1)}.${f.name}`);
          }
        }
      } else if (obj instanceof protobuf.Enum) {
        if (own) {
          if (root.lookup(obj.fullName)) throw new Error(`overlay enum ${obj.fullName} is already in the vendored API`);
          const parent = root.lookup(ns.fullName || ".");
          if (!(parent instanceof protobuf.Namespace)) throw new Error(`overlay enum ${obj.fullName}: no parent ${ns.fullName}`);
          parent.add(new protobuf.Enum(obj.name, obj.values, obj.options));
          added.push(obj.fullName.slice(1));
        }
      } else if (obj instanceof protobuf.Namespace) {
        visit(obj);
      }
    }
  };
  visit(overlay);
  return added;
}

export interface EnvoyApi {
  root: PB.Root;
  /** What the overlays added to the vendored API ("envoy.extensions.wasm.v3.PluginConfig.failure_policy", …). */
  overlaid: string[];
  type(name: string): PB.Type;
}

let api: EnvoyApi | undefined;

/** The vendored Envoy API with the bootstrap, the filters metawire's configs use, and the overlays. */
export function envoyApi(): EnvoyApi {
  if (api) return api;
  const root = newRoot();
  root.loadSync([
    "envoy/config/bootstrap/v3/bootstrap.proto",
    "envoy/extensions/filters/network/wasm/v3/wasm.proto",
    "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
    "google/protobuf/wrappers.proto",
  ], LOAD);
  const overlay = newRoot();
  const files = OVERLAYS.map((f) => resolver("", f));
  overlay.loadSync(files, LOAD);
  const overlaid = mergeOverlay(root, overlay, new Set(files));
  root.resolveAll();
  // resolveAll skips types it resolved before the merge: resolve the added fields themselves.
  for (const name of overlaid) {
    const obj = root.lookup(name);
    if (obj instanceof protobuf.Field) obj.resolve();
  }
  api = { root, overlaid, type: (name) => root.lookupType(name) };
  return api;
}

/** Istio's mesh ProxyConfig, as far as the fragment declares it. */
export function istioProxyConfigType(): PB.Type {
  const root = newRoot();
  root.loadSync(resolver("", ISTIO_MESH_FRAGMENT), LOAD);
  root.resolveAll();
  return root.lookupType("istio.mesh.v1alpha1.ProxyConfig");
}

/**
 * The message type an Any's `@type` names, loading the .proto files of its package on demand (the
 * vendored tree keeps one package per directory: envoy.extensions.access_loggers.stream.v3 →
 * envoy/extensions/access_loggers/stream/v3/*.proto).
 */
export function anyType(root: PB.Root, typeUrl: string): PB.Type | undefined {
  const slash = typeUrl.lastIndexOf("/");
  if (slash < 0) return undefined;
  const name = typeUrl.slice(slash + 1);
  const found = () => {
    try { return root.lookupType(name); } catch { return undefined; }
  };
  let t = found();
  if (t) return t;
  const pkg = name.split(".").slice(0, -1);
  for (const dir of INCLUDE) {
    const d = join(dir, ...pkg);
    if (!existsSync(d)) continue;
    const files = readdirSync(d).filter((f) => f.endsWith(".proto")).map((f) => join(d, f));
    if (files.length) {
      root.loadSync(files, LOAD);
      root.resolveAll();
      t = found();
      if (t) return t;
    }
  }
  return undefined;
}

// ---- proto3 JSON (Envoy YAML) → protobufjs plain object, strictly ------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ConvertResult {
  /** protobufjs plain object (field names as in the .proto, enums as numbers, Anys packed). */
  value: Record<string, unknown>;
  errors: string[];
  /** Every Any met: where, and the type it named. */
  anys: { path: string; typeUrl: string }[];
}

const WRAPPERS: Record<string, string> = {
  ".google.protobuf.DoubleValue": "double", ".google.protobuf.FloatValue": "float",
  ".google.protobuf.Int64Value": "int64", ".google.protobuf.UInt64Value": "uint64",
  ".google.protobuf.Int32Value": "int32", ".google.protobuf.UInt32Value": "uint32",
  ".google.protobuf.BoolValue": "bool", ".google.protobuf.StringValue": "string", ".google.protobuf.BytesValue": "bytes",
};
/** Types whose JSON form is not an object of their fields (in an Any they sit under "value"). */
const SPECIAL_JSON = new Set([...Object.keys(WRAPPERS), ".google.protobuf.Duration", ".google.protobuf.Timestamp",
  ".google.protobuf.Struct", ".google.protobuf.Value", ".google.protobuf.ListValue", ".google.protobuf.FieldMask"]);

/** protoc's JSON name: underscores dropped, the letter after each one upper-cased. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/_/g, "");
}

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);
const describe = (v: unknown) => (Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`);

class Converter {
  readonly errors: string[] = [];
  readonly anys: { path: string; typeUrl: string }[] = [];
  /** partial: a merge patch; fields it leaves out are not checked for being required. */
  constructor(private readonly root: PB.Root, private readonly partial = false) {}

  private err(path: string, msg: string): void {
    this.errors.push(`${path || "$"}: ${msg}`);
  }

  message(v: Json, type: PB.Type, path: string): unknown {
    const wkt = type.fullName;
    if (WRAPPERS[wkt]) return { value: this.scalar(v, WRAPPERS[wkt], path) };
    switch (wkt) {
      case ".google.protobuf.Any": return this.any(v, path);
      case ".google.protobuf.Duration": return this.duration(v, path);
      case ".google.protobuf.Timestamp": return this.timestamp(v, path);
      case ".google.protobuf.Struct": return this.struct(v, path);
      case ".google.protobuf.Value": return this.value(v, path);
      case ".google.protobuf.ListValue":
        if (!Array.isArray(v)) { this.err(path, `expected a list, got ${describe(v)}`); return {}; }
        return { values: v.map((x, i) => this.value(x, `${path}[${i}]`)) };
      case ".google.protobuf.FieldMask":
        if (typeof v !== "string") { this.err(path, `expected a field mask string, got ${describe(v)}`); return {}; }
        return { paths: v === "" ? [] : v.split(",") };
      case ".google.protobuf.Empty":
        if (!isObject(v) || Object.keys(v).length) this.err(path, "expected {}");
        return {};
    }
    if (!isObject(v)) {
      this.err(path, `expected a ${type.fullName.slice(1)} object, got ${describe(v)}`);
      return {};
    }
    return this.fields(v, type, path, new Set());
  }

  private fields(v: Record<string, Json>, type: PB.Type, path: string, skip: Set<string>): Record<string, unknown> {
    const byName = new Map<string, PB.Field>();
    for (const f of type.fieldsArray) {
      byName.set(f.name, f);
      byName.set((f.options?.json_name as string | undefined) ?? jsonName(f.name), f);
    }
    const out: Record<string, unknown> = {};
    const seen = new Map<string, string>();
    for (const [key, raw] of Object.entries(v)) {
      if (skip.has(key)) continue;
      const p = `${path}.${key}`;
      const f = byName.get(key);
      if (!f) {
        this.err(p, `unknown field of ${type.fullName.slice(1)}`);
        continue;
      }
      if (seen.has(f.name)) { this.err(p, `${f.name} given twice (as ${seen.get(f.name)} and ${key})`); continue; }
      seen.set(f.name, key);
      if (f.options?.deprecated === true) this.err(p, `deprecated field of ${type.fullName.slice(1)}`);
      if (raw === null) { this.err(p, "null value"); continue; }
      f.resolve();
      out[f.name] = this.field(raw, f, p);
    }
    // Oneofs: at most one member; (validate.required) oneofs exactly one.
    for (const o of type.oneofsArray) {
      const set = o.oneof.filter((n) => seen.has(n));
      if (set.length > 1) this.err(path, `oneof ${o.name}: only one of ${set.join(", ")}`);
      if (set.length === 0 && !this.partial && o.options?.["(validate.required)"] === true) this.err(path, `oneof ${o.name}: one of ${o.oneof.join(", ")} is required`);
    }
    // Rules on fields that are absent (proto3 default values).
    for (const f of type.fieldsArray) {
      if (seen.has(f.name) || f.partOf || this.partial) continue;
      const o = f.options ?? {};
      if (o["(validate.rules).message.required"] === true) this.err(path, `${f.name} is required`);
      if (typeof o["(validate.rules).string.min_len"] === "number" && (o["(validate.rules).string.min_len"] as number) > 0) this.err(path, `${f.name} is required (min_len ${o["(validate.rules).string.min_len"]})`);
      if (typeof o["(validate.rules).string.min_bytes"] === "number" && (o["(validate.rules).string.min_bytes"] as number) > 0) this.err(path, `${f.name} is required`);
      if (typeof o["(validate.rules).repeated.min_items"] === "number" && (o["(validate.rules).repeated.min_items"] as number) > 0) this.err(path, `${f.name} needs at least ${o["(validate.rules).repeated.min_items"]} item(s)`);
    }
    return out;
  }

  private field(v: Json, f: PB.Field, path: string): unknown {
    const rules = f.options ?? {};
    if (f instanceof protobuf.MapField) {
      if (!isObject(v)) { this.err(path, `expected a map, got ${describe(v)}`); return {}; }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (f.keyType !== "string" && !/^-?\d+$/.test(k)) this.err(`${path}.${k}`, `map key must be an integer (${f.keyType})`);
        out[k] = this.single(x, f, `${path}.${k}`);
      }
      return out;
    }
    if (f.repeated) {
      if (!Array.isArray(v)) { this.err(path, `expected a list, got ${describe(v)}`); return []; }
      const min = rules["(validate.rules).repeated.min_items"], max = rules["(validate.rules).repeated.max_items"];
      if (typeof min === "number" && v.length < min) this.err(path, `at least ${min} item(s) required`);
      if (typeof max === "number" && v.length > max) this.err(path, `at most ${max} item(s) allowed`);
      return v.map((x, i) => this.single(x, f, `${path}[${i}]`));
    }
    return this.single(v, f, path);
  }

  private single(v: Json, f: PB.Field, path: string): unknown {
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Enum) return this.enumValue(v, rt, path);
    if (rt instanceof protobuf.Type) {
      const out = this.message(v, rt, path);
      const inner = WRAPPERS[rt.fullName];
      if (inner) this.bounds((out as { value: unknown }).value, f, inner, path);
      return out;
    }
    const out = this.scalar(v, f.type, path);
    this.bounds(out, f, f.type, path);
    if (typeof out === "string") {
      const o = f.options ?? {};
      const min = o["(validate.rules).string.min_len"], max = o["(validate.rules).string.max_len"];
      const len = [...out].length;
      if (typeof min === "number" && len < min) this.err(path, `at least ${min} character(s)`);
      if (typeof max === "number" && len > max) this.err(path, `at most ${max} character(s)`);
    }
    return out;
  }

  /** PGV numeric rules (`(validate.rules).uint32 = {lte: …}` etc.), also on wrapper fields. */
  private bounds(value: unknown, f: PB.Field, kind: string, path: string): void {
    if (typeof value !== "number") return;
    const o = f.options ?? {};
    const rule = (r: string) => o[`(validate.rules).${kind}.${r}`] as number | undefined;
    const [lt, lte, gt, gte] = [rule("lt"), rule("lte"), rule("gt"), rule("gte")];
    if (lt !== undefined && !(value < lt)) this.err(path, `must be < ${lt}`);
    if (lte !== undefined && !(value <= lte)) this.err(path, `must be <= ${lte}`);
    if (gt !== undefined && !(value > gt)) this.err(path, `must be > ${gt}`);
    if (gte !== undefined && !(value >= gte)) this.err(path, `must be >= ${gte}`);
  }

  private enumValue(v: Json, e: PB.Enum, path: string): unknown {
    if (typeof v === "string") {
      if (!(v in e.values)) { this.err(path, `${JSON.stringify(v)} is not a value of ${e.fullName.slice(1)} (${Object.keys(e.values).join(", ")})`); return 0; }
      return e.values[v];
    }
    if (typeof v === "number" && Number.isInteger(v)) {
      if (!(v in e.valuesById)) this.err(path, `${v} is not a value of ${e.fullName.slice(1)}`);
      return v;
    }
    this.err(path, `expected an enum name, got ${describe(v)}`);
    return 0;
  }

  private scalar(v: Json, kind: string, path: string): unknown {
    switch (kind) {
      case "string":
        if (typeof v !== "string") { this.err(path, `expected a string, got ${describe(v)}`); return ""; }
        return v;
      case "bytes":
        if (typeof v !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) { this.err(path, `expected base64 bytes, got ${describe(v)}`); return new Uint8Array(0); }
        return Buffer.from(v, "base64");
      case "bool":
        if (typeof v !== "boolean") { this.err(path, `expected true or false, got ${describe(v)}`); return false; }
        return v;
      case "double": case "float":
        if (typeof v === "number") return v;
        if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
        this.err(path, `expected a number, got ${describe(v)}`);
        return 0;
      case "int32": case "sint32": case "sfixed32": case "uint32": case "fixed32":
      case "int64": case "sint64": case "sfixed64": case "uint64": case "fixed64": {
        const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n)) { this.err(path, `expected an integer (${kind}), got ${describe(v)}`); return 0; }
        const unsigned = kind.startsWith("u") || kind.startsWith("fixed");
        const bits = kind.endsWith("32") ? 32 : 64;
        const lo = unsigned ? 0 : -(2 ** (bits - 1)), hi = unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1;
        if (n < lo || n > hi) this.err(path, `${n} is out of range for ${kind}`);
        return n;
      }
    }
    this.err(path, `unsupported scalar type ${kind}`);
    return undefined;
  }

  private any(v: Json, path: string): unknown {
    if (!isObject(v)) { this.err(path, `expected an Any object with "@type", got ${describe(v)}`); return {}; }
    const url = v["@type"];
    if (typeof url !== "string") { this.err(path, `Any without "@type"`); return {}; }
    const t = anyType(this.root, url);
    if (!t) { this.err(`${path}.@type`, `unknown type ${url}`); return {}; }
    this.anys.push({ path, typeUrl: url });
    let inner: unknown;
    if (SPECIAL_JSON.has(t.fullName)) {
      for (const k of Object.keys(v)) if (k !== "@type" && k !== "value") this.err(`${path}.${k}`, `unknown field of an Any holding ${url}`);
      if (!("value" in v)) { this.err(path, `an Any holding ${url} needs "value"`); return {}; }
      inner = this.message(v.value, t, `${path}.value`);
    } else {
      inner = this.fields(v, t, path, new Set(["@type"]));
    }
    let bytes: Uint8Array = new Uint8Array(0);
    try {
      bytes = t.encode(t.fromObject(inner as Record<string, unknown>)).finish();
    } catch (e) {
      this.err(path, `cannot encode ${url}: ${(e as Error).message}`);
    }
    return { type_url: url, value: bytes };
  }

  private duration(v: Json, path: string): unknown {
    const m = typeof v === "string" ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
    if (!m) { this.err(path, `expected a duration like "1.5s", got ${describe(v)}`); return {}; }
    const sign = m[1] ? -1 : 1;
    return { seconds: sign * Number(m[2]), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) };
  }

  private timestamp(v: Json, path: string): unknown {
    const ms = typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) { this.err(path, `expected an RFC 3339 timestamp, got ${describe(v)}`); return {}; }
    return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
  }

  private struct(v: Json, path: string): unknown {
    if (!isObject(v)) { this.err(path, `expected an object, got ${describe(v)}`); return {}; }
    const fields: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) fields[k] = this.value(x, `${path}.${k}`);
    return { fields };
  }

  private value(v: Json, path: string): unknown {
    if (v === null) return { null_value: 0 };
    if (typeof v === "number") return { number_value: v };
    if (typeof v === "string") return { string_value: v };
    if (typeof v === "boolean") return { bool_value: v };
    if (Array.isArray(v)) return { list_value: { values: v.map((x, i) => this.value(x, `${path}[${i}]`)) } };
    return { struct_value: this.struct(v, path) };
  }
}

/**
 * Reads `json` (YAML already parsed) as a `type` message, strictly. `partial`: the value is a merge
 * patch (e.g. an Istio EnvoyFilter MERGE), so required fields may be missing.
 */
export function convert(json: unknown, type: PB.Type, opts: { root?: PB.Root; partial?: boolean } = {}): ConvertResult {
  const c = new Converter(opts.root ?? envoyApi().root, opts.partial);
  const value = c.message(json as Json, type, "$") as Record<string, unknown>;
  return { value, errors: c.errors, anys: c.anys };
}

export interface Decoded {
  bytes: number;
  /** Every Any of the decoded message, depth first, with its payload decoded. */
  anys: { typeUrl: string; message: PB.Message }[];
}

/**
 * Encodes the converted object to Envoy's wire format and decodes it back, then decodes every Any
 * payload by the type its URL names (recursively). Throws when a step fails.
 */
export function roundTrip(value: Record<string, unknown>, type: PB.Type, root: PB.Root = envoyApi().root): Decoded {
  const problem = type.verify(value);
  if (problem) throw new Error(`${type.fullName}: ${problem}`);
  const bytes = type.encode(type.fromObject(value)).finish();
  const decoded = type.decode(bytes);
  const anys: Decoded["anys"] = [];
  const walk = (m: unknown, t: PB.Type) => {
    for (const f of t.fieldsArray) {
      const v = (m as Record<string, unknown>)[f.name];
      if (v === undefined || v === null || !(f.resolvedType instanceof protobuf.Type)) continue;
      const items = f.map ? Object.values(v as object) : f.repeated ? (v as unknown[]) : [v];
      for (const item of items) {
        if (f.resolvedType.fullName === ".google.protobuf.Any") {
          const a = item as { type_url: string; value: Uint8Array };
          const at = anyType(root, a.type_url);
          if (!at) throw new Error(`cannot resolve ${a.type_url}`);
          const inner = at.decode(a.value);
          anys.push({ typeUrl: a.type_url, message: inner });
          walk(inner, at);
        } else {
          walk(item, f.resolvedType);
        }
      }
    }
  };
  walk(decoded, type);
  return { bytes: bytes.length, anys };
}
