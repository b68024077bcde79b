// Foreign functions (specs/envoy-host.md §3.5, §4): set_envoy_filter_state and tcp_proxy
// routing, declare_property, compress/uncompress, unknown names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, hexText, lines, loadVm, result, RET } from "./kit.js";
import { encodeSetEnvoyFilterStateArguments } from "../host/protobuf.js";
import { WasmResult } from "../host/envoy-abi.js";

const setState = (path: string, value: string, span = 0) => encodeSetEnvoyFilterStateArguments({ path, value, span });
const CLUSTERS = { default: "10.0.0.1:7000", b: "10.0.0.2:7000" };

test("set_envoy_filter_state(envoy.tcp_proxy.cluster) in on_new_connection routes the connection", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `${w.foreign("route", "set_envoy_filter_state", setState("envoy.tcp_proxy.cluster", "b", 2))} (i32.const 0)`,
    proxy_on_downstream_data: `${w.getProperty("state", "filter_state", "envoy.tcp_proxy.cluster")} (i32.const 0)`,
  }));
  const conn = vm.newConnection({ clusters: CLUSTERS });
  conn.start();
  conn.downstreamData(bytes("hi"));
  assert.deepEqual(result(vm, "route"), { rc: 0, hex: "" });
  assert.equal(conn.tcpProxy.route, "b");
  assert.equal(conn.upstream!.address, "10.0.0.2:7000");
  assert.equal(hexText(result(vm, "state")!.hex!), "b", "readable as filter_state.<key> (serializeAsString)");
  assert.deepEqual({ ...conn.filterState.get("envoy.tcp_proxy.cluster"), value: undefined }, { value: undefined, readonly: false, span: 2 });
});

test("set_envoy_filter_state: unknown key NotFound, bad value or bad protobuf BadArgument, root context NotFound", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_configure: `${w.foreign("root", "set_envoy_filter_state", setState("envoy.tcp_proxy.cluster", "b"))} (i32.const 1)`,
    proxy_on_new_connection: `
      ${w.foreign("unknown_key", "set_envoy_filter_state", setState("metawire.anything", "x"))}
      ${w.foreign("bad_port", "set_envoy_filter_state", setState("envoy.upstream.dynamic_port", "http"))}
      ${w.foreign("good_port", "set_envoy_filter_state", setState("envoy.upstream.dynamic_port", "8080"))}
      ${w.foreign("bad_addr", "set_envoy_filter_state", setState("envoy.network.transport_socket.original_dst_address", "nope"))}
      ${w.foreign("bad_proto", "set_envoy_filter_state", Uint8Array.of(0x0a, 0x05, 0x61))}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  assert.deepEqual(result(vm, "root"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "unknown_key"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "bad_port"), { rc: WasmResult.BadArgument });
  assert.deepEqual(result(vm, "good_port"), { rc: 0, hex: "" });
  assert.deepEqual(result(vm, "bad_addr"), { rc: WasmResult.BadArgument });
  assert.deepEqual(result(vm, "bad_proto"), { rc: WasmResult.BadArgument });
  assert.equal(conn.filterStateText("envoy.upstream.dynamic_port"), "8080");
  assert.equal(conn.filterState.has("metawire.anything"), false);
});

test("a cluster set after tcp_proxy picked its route is too late (default mode)", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: `${w.foreign("route", "set_envoy_filter_state", setState("envoy.tcp_proxy.cluster", "b"))} (i32.const 0)`,
  }));
  const conn = vm.newConnection({ clusters: CLUSTERS });
  conn.start();
  conn.downstreamData(bytes("GET"));
  assert.deepEqual(result(vm, "route"), { rc: 0, hex: "" });
  assert.equal(conn.filterStateText("envoy.tcp_proxy.cluster"), "b");
  assert.equal(conn.tcpProxy.route, "default");
  assert.equal(conn.upstream!.address, CLUSTERS.default);
});

test("an unknown cluster name makes tcp_proxy close the connection", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `${w.foreign("route", "set_envoy_filter_state", setState("envoy.tcp_proxy.cluster", "nowhere"))} (i32.const 0)`,
  }));
  const conn = vm.newConnection({ clusters: CLUSTERS });
  conn.start();
  assert.equal(conn.closed, true);
  assert.equal(conn.closeEvent, "LocalClose");
  assert.match(conn.closeReason!, /no cluster nowhere/);
  assert.ok(lines(vm).includes("down_close 2 1"));
});

test("compress/uncompress round-trip through zlib; garbage fails to uncompress", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.foreign("compress", "compress", "hello hello hello hello")}
      ${w.result("uncompress", `(call $call_foreign ${w.str("uncompress")} (i32.load (i32.const ${RET})) (i32.load (i32.const ${RET + 4})) ${w.ret()})`)}
      ${w.foreign("garbage", "uncompress", "not zlib")}
      (i32.const 0)`,
  }));
  vm.newConnection().start();
  const compressed = Buffer.from(result(vm, "compress")!.hex!, "hex");
  assert.equal(compressed[0], 0x78, "zlib stream header");
  assert.equal(hexText(result(vm, "uncompress")!.hex!), "hello hello hello hello");
  assert.deepEqual(result(vm, "garbage"), { rc: WasmResult.SerializationFailure });
});

test("clear_route_cache is an Ok no-op; unregistered names (expr_*, verify_signature, typos) are NotFound", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.foreign("clear", "clear_route_cache")}
      ${w.foreign("expr", "expr_create", "1 + 1")}
      ${w.foreign("typo", "set_envoy_filterstate")}
      (i32.const 0)`,
  }));
  vm.newConnection().start();
  assert.deepEqual(result(vm, "clear"), { rc: 0, hex: "" });
  assert.deepEqual(result(vm, "expr"), { rc: WasmResult.NotFound });
  assert.deepEqual(result(vm, "typo"), { rc: WasmResult.NotFound });
});

// From on_tick the current context is the root; set_effective_context does not change what
// set_envoy_filter_state acts on in the foreign.cc the spec read (newer Envoy: it does).
for (const mode of ["current", "effective"] as const) {
  test(`set_envoy_filter_state from on_tick with an effective connection context (foreignContext=${mode})`, async () => {
    const vm = await loadVm((w) => w.callbacks({
      proxy_on_configure: "(drop (call $set_tick_period (i32.const 10))) (i32.const 1)",
      proxy_on_tick: `
        ${w.emit("effective", "(call $set_effective_context (i32.const 2))")}
        ${w.foreign("route", "set_envoy_filter_state", setState("envoy.tcp_proxy.cluster", "b"))}`,
    }), { foreignContext: mode });
    const conn = vm.newConnection();
    conn.start();
    vm.tick();
    assert.ok(lines(vm).includes("effective 0"));
    assert.deepEqual(result(vm, "route"), mode === "current" ? { rc: WasmResult.NotFound } : { rc: 0, hex: "" });
    assert.equal(conn.filterState.has("envoy.tcp_proxy.cluster"), mode === "effective");
  });
}
