// Properties (specs/envoy-host.md §3): lookup order, availability, exact serialization, and
// proxy_set_property's CelState filter state with declared prototypes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hexText, lines, loadVm, result, u64le, bytes } from "./kit.js";
import { marshalPairs, serializeValue } from "../host/properties.js";
import { encodeDeclarePropertyArguments } from "../host/protobuf.js";
import { WasmResult } from "../host/envoy-abi.js";

const CONN = { source: "10.1.2.3:5555", destination: "10.9.8.7:6379", clusters: { default: "192.168.1.5:6380" } };

test("connection attributes on a TCP stream, serialized as Envoy does", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.getProperty("src_addr", "source", "address")}
      ${w.getProperty("src_port", "source", "port")}
      ${w.getProperty("dst_addr", "destination", "address")}
      ${w.getProperty("dst_port", "destination", "port")}
      ${w.getProperty("conn_id", "connection", "id")}
      ${w.getProperty("conn_id2", "connection_id")}
      ${w.getProperty("mtls", "connection", "mtls")}
      ${w.getProperty("sni", "connection", "requested_server_name")}
      ${w.getProperty("tls_version", "connection", "tls_version")}
      ${w.getProperty("plugin_name", "plugin_name")}
      ${w.getProperty("root_id", "plugin_root_id")}
      ${w.getProperty("vm_id", "plugin_vm_id")}
      ${w.getProperty("node_id", "xds", "node", "id")}
      ${w.getProperty("node_meta", "xds", "node", "metadata", "REGION")}
      ${w.getProperty("node", "xds", "node")}
      ${w.getProperty("up_early", "upstream", "address")}
      ${w.getProperty("whole_source", "source")}
      ${w.getProperty("unknown", "no_such_thing")}
      ${w.getProperty("request", "request", "path")}
      ${w.getProperty("metadata", "metadata")}
      ${w.getProperty("empty_path", "")}
      (i32.const 0)`,
    proxy_on_downstream_data: `
      ${w.getProperty("up_addr", "upstream", "address")}
      ${w.getProperty("up_port", "upstream", "port")}
      ${w.getProperty("cluster", "xds", "cluster_name")}
      (i32.const 0)`,
  }), { pluginName: "pn", rootId: "rid", vmId: "vid", nodeInfo: { id: "sidecar~1", cluster: "c1", metadata: { REGION: "eu" } } });
  const conn = vm.newConnection(CONN);
  conn.start();
  conn.downstreamData(bytes("x"));
  const hex = (tag: string) => result(vm, tag)!.hex!;
  assert.equal(hexText(hex("src_addr")), "10.1.2.3:5555");
  assert.equal(hex("src_port"), "b315000000000000", "int64, 8 bytes little-endian");
  assert.equal(hexText(hex("dst_addr")), "10.9.8.7:6379");
  assert.equal(u64le(hex("dst_port")), 6379n);
  assert.equal(u64le(hex("conn_id")), BigInt(conn.id));
  assert.equal(u64le(hex("conn_id2")), BigInt(conn.id));
  assert.equal(hex("mtls"), "00", "bool, one byte");
  assert.equal(hex("sni"), "");
  assert.deepEqual(result(vm, "tls_version"), { rc: WasmResult.NotFound });
  assert.equal(hexText(hex("plugin_name")), "pn");
  assert.equal(hexText(hex("root_id")), "rid");
  assert.equal(hexText(hex("vm_id")), "vid");
  assert.equal(hexText(hex("node_id")), "sidecar~1");
  assert.equal(hexText(hex("node_meta")), "eu");
  assert.ok(Buffer.from(hex("node"), "hex").includes(Buffer.from("sidecar~1")), "xds.node is the serialized Node proto");
  assert.deepEqual(result(vm, "up_early"), { rc: WasmResult.NotFound }, "upstream.* only once connected");
  assert.deepEqual(result(vm, "whole_source"), { rc: WasmResult.SerializationFailure });
  assert.deepEqual(result(vm, "unknown"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "request"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "metadata"), { rc: 0, hex: "" });
  assert.deepEqual(result(vm, "empty_path"), { rc: WasmResult.SerializationFailure });
  assert.equal(hexText(hex("up_addr")), "192.168.1.5:6380");
  assert.equal(u64le(hex("up_port")), 6380n);
  assert.equal(hexText(hex("cluster")), "default");
});

test("in the root context only plugin_* and xds.* resolve", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `
      ${w.getProperty("src", "source", "address")}
      ${w.getProperty("conn_id", "connection_id")}
      ${w.getProperty("plugin_name", "plugin_name")}
      ${w.getProperty("node_id", "xds", "node", "id")}
      ${w.setProperty("set", "foo", "bar")}
      (i32.const 1)`,
  }), { pluginName: "pn", nodeInfo: { id: "n1" } });
  assert.deepEqual(result(vm, "src"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "conn_id"), { rc: WasmResult.NotFound });
  assert.equal(hexText(result(vm, "plugin_name")!.hex!), "pn");
  assert.equal(hexText(result(vm, "node_id")!.hex!), "n1");
  assert.ok(lines(vm).includes("set 1"), "set_property from the root context is NotFound");
});

test("set_property writes CelState wasm.<name>, readable by name, via filter_state and by the host", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.setProperty("set", "metawire.method", "GET")}
      ${w.getProperty("by_name", "metawire.method")}
      ${w.getProperty("by_filter_state", "filter_state", "wasm.metawire.method")}
      ${w.getProperty("prefixed", "wasm.metawire.method")}
      ${w.setProperty("set_again", "metawire.method", "PUT")}
      ${w.getProperty("after", "metawire.method")}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  assert.ok(lines(vm).includes("set 0"));
  assert.equal(hexText(result(vm, "by_name")!.hex!), "GET");
  assert.equal(hexText(result(vm, "by_filter_state")!.hex!), "GET");
  assert.deepEqual(result(vm, "prefixed"), { rc: WasmResult.NotFound }, "the name is not prefixed twice");
  assert.ok(lines(vm).includes("set_again 0"), "default prototype is writable");
  assert.equal(hexText(result(vm, "after")!.hex!), "PUT");
  const entry = conn.filterState.get("wasm.metawire.method")!;
  assert.equal(conn.filterStateText("wasm.metawire.method"), "PUT");
  assert.deepEqual({ readonly: entry.readonly, span: entry.span, type: entry.cel?.type }, { readonly: false, span: 0, type: 0 });
});

test("declare_property from the root context makes a property readonly; a stream's declaration is ignored", async () => {
  const ro = encodeDeclarePropertyArguments({ name: "ro", readonly: true, type: 1, span: 2 });
  const late = encodeDeclarePropertyArguments({ name: "late", readonly: true });
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `${w.foreign("declare", "declare_property", ro)} ${w.foreign("redeclare", "declare_property", ro)} (i32.const 1)`,
    proxy_on_new_connection: `
      ${w.foreign("declare_late", "declare_property", late)}
      ${w.setProperty("ro1", "ro", "v1")}
      ${w.setProperty("ro2", "ro", "v2")}
      ${w.setProperty("late1", "late", "a")}
      ${w.setProperty("late2", "late", "b")}
      ${w.getProperty("ro_value", "ro")}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  assert.deepEqual(result(vm, "declare"), { rc: 0, hex: "" });
  assert.deepEqual(result(vm, "redeclare"), { rc: WasmResult.BadArgument });
  assert.deepEqual(result(vm, "declare_late"), { rc: 0, hex: "" });
  for (const [l, rc] of [["ro1", 0], ["ro2", 2], ["late1", 0], ["late2", 0]] as const) assert.ok(lines(vm).includes(`${l} ${rc}`), l);
  assert.equal(hexText(result(vm, "ro_value")!.hex!), "v1");
  const entry = conn.filterState.get("wasm.ro")!;
  assert.deepEqual({ readonly: entry.readonly, span: entry.span, type: entry.cel?.type }, { readonly: true, span: 2, type: 1 });
});

test("serializeValue: ints/uints 8-byte LE, double, bool, maps and lists as proxy-wasm pairs", () => {
  const hex = (v: Parameters<typeof serializeValue>[0]) => Buffer.from(serializeValue(v)!).toString("hex");
  assert.equal(hex({ kind: "int", v: -2n }), "feffffffffffffff");
  assert.equal(hex({ kind: "uint", v: 258n }), "0201000000000000");
  assert.equal(hex({ kind: "double", v: 1.5 }), "000000000000f83f");
  assert.equal(hex({ kind: "bool", v: true }), "01");
  const pairs = marshalPairs([[bytes("k"), bytes("vv")]]);
  assert.equal(Buffer.from(pairs).toString("hex"), "01000000" + "01000000" + "02000000" + "6b00" + "767600");
  const map = { kind: "map" as const, get: () => undefined, entries: () => [[{ kind: "string" as const, v: "k" }, { kind: "string" as const, v: "vv" }]] as [never, never][] };
  assert.deepEqual(serializeValue(map), pairs);
  const list = serializeValue({ kind: "list", items: [{ kind: "string", v: "a" }] })!;
  assert.equal(Buffer.from(list).toString("hex"), "01000000" + "01000000" + "00000000" + "6100" + "00");
  assert.equal(serializeValue({ kind: "map", get: () => undefined }), undefined, "wrapper maps cannot be listed");
  assert.equal(serializeValue({ kind: "null" }), undefined);
});
