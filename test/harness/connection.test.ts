// Per-connection rules of specs/envoy-host.md §2.2-§2.5, each pinned with a tiny WAT module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, hexText, lines, loadVm, result, text } from "./kit.js";
import { FilterStatus } from "../host/connection.js";
import type { WasmVm } from "../host/vm.js";

const streamLines = (vm: WasmVm) => lines(vm).filter((l) => !/^(create 1 0|vm_start|configure)/.test(l));

test("call order: client FIN first, then the upstream's", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const conn = vm.newConnection();
  assert.equal(conn.start(), "continue");
  conn.downstreamData(bytes("abc"));
  conn.upstreamData(bytes("xy"));
  conn.downstreamData(new Uint8Array(0), true);
  assert.equal(conn.upstream!.finReceived, true, "client FIN forwarded upstream");
  conn.upstreamData(new Uint8Array(0), true);
  assert.deepEqual(lines(vm).slice(0, 3), ["create 1 0", "vm_start 1 0", "configure 1 0"]);
  assert.deepEqual(streamLines(vm), [
    "create 2 1", "new 2", "down 2 3 0", "up 2 2 0", "down 2 0 1", "up 2 0 1", "up_close 2 0",
    "down_close 2 1", "done 2", "log 2", "delete 2",
  ]);
  assert.equal(conn.closeEvent, "LocalClose", "our FIN went out last");
  assert.equal(text(conn.sentUpstream()), "abc");
  assert.equal(text(conn.sentDownstream()), "xy");
});

test("call order: upstream FIN first; the client's FIN last closes as RemoteClose", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const conn = vm.newConnection();
  conn.start();
  conn.upstreamData(bytes("bye"), true);
  const memory = conn.transport as import("../host/connection.js").MemoryTransport;
  assert.equal(memory.finReceived, true, "upstream FIN forwarded to the client");
  assert.equal(conn.closed, false, "half-closed only");
  conn.downstreamData(new Uint8Array(0), true);
  assert.deepEqual(streamLines(vm), [
    "create 2 1", "new 2", "up 2 3 1", "up_close 2 0", "down 2 0 1", "down_close 2 2", "done 2", "log 2", "delete 2",
  ]);
  assert.equal(conn.closeEvent, "RemoteClose");
});

test("a client reset: RemoteClose, then done/log/delete exactly once; the upstream is flushed and closed", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const conn = vm.newConnection();
  conn.start();
  conn.closeDownstream("remote");
  conn.closeDownstream("remote");
  assert.deepEqual(streamLines(vm), ["create 2 1", "new 2", "down_close 2 2", "done 2", "log 2", "delete 2"]);
  assert.equal(conn.upstream!.closed, true);
  assert.equal(conn.upstream!.closedWithFlush, true);
});

test("nothing reaches the VM for a connection whose context was never created", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const stopper = { initializeReadFilterCallbacks() {}, onNewConnection: () => FilterStatus.StopIteration, onData: () => FilterStatus.StopIteration };
  const conn = vm.newConnection({ filtersBefore: [stopper] });
  conn.start();
  conn.downstreamData(bytes("x"));
  conn.closeDownstream("remote");
  assert.deepEqual(streamLines(vm), []);
});

test("Pause on downstream data keeps the bytes; each read re-runs the chain with the whole buffer", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: "(if (result i32) (i32.lt_u (local.get $n) (i32.const 12)) (then (i32.const 1)) (else (i32.const 0)))",
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  conn.downstreamData(bytes("defg"));
  assert.equal(conn.sentUpstream().length, 0);
  conn.downstreamData(bytes("hijkl"));
  assert.deepEqual(streamLines(vm).filter((l) => l.startsWith("down ")), ["down 2 3 0", "down 2 7 0", "down 2 12 0"]);
  assert.equal(text(conn.sentUpstream()), "abcdefghijkl");
  assert.equal(conn.tcpProxy.dataCalls, 1, "the terminal got all 12 bytes once");
});

test("any non-zero return is Pause", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_downstream_data: "(i32.const 7)" }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  assert.equal(conn.sentUpstream().length, 0);
  assert.equal(conn.bufferedBytes, 3);
});

test("Pause on upstream data keeps the bytes and re-offers them accumulated (no resume)", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_upstream_data: "(if (result i32) (i32.lt_u (local.get $n) (i32.const 5)) (then (i32.const 1)) (else (i32.const 0)))",
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.upstreamData(bytes("ab"));
  assert.equal(conn.sentDownstream().length, 0);
  conn.upstreamData(bytes("cde"));
  assert.deepEqual(streamLines(vm).filter((l) => l.startsWith("up ")), ["up 2 2 0", "up 2 5 0"]);
  assert.equal(text(conn.sentDownstream()), "abcde");
});

test("set_buffer_bytes: start 0 drains+prepends, start >= size appends, in between is BadArgument", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: `
      ${w.emit("prepend", `(call $set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${w.str("AB")})`)}
      ${w.emit("replace", `(call $set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 2) ${w.str("X")})`)}
      ${w.emit("append", `(call $set_buffer_bytes (i32.const 2) (i32.const 12) (i32.const 0) ${w.str("!")})`)}
      ${w.emit("append_far", `(call $set_buffer_bytes (i32.const 2) (i32.const 1000) (i32.const 5) ${w.str("?")})`)}
      ${w.emit("middle", `(call $set_buffer_bytes (i32.const 2) (i32.const 3) (i32.const 1) ${w.str("Z")})`)}
      ${w.logBuffer(2, "now")}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("hello world"));
  assert.deepEqual(streamLines(vm).slice(3, 9), ["prepend 0", "replace 0", "append 0", "append_far 0", "middle 2", "now=Xhello world!?"]);
  assert.equal(text(conn.sentUpstream()), "Xhello world!?");
});

test("set_buffer_bytes on UpstreamData changes what the client receives", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_upstream_data: `(drop (call $set_buffer_bytes (i32.const 3) (i32.const 0) (i32.const 3) ${w.str("-ERR")})) (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.upstreamData(bytes("+OK\r\n"));
  assert.equal(text(conn.sentDownstream()), "-ERR\r\n");
});

test("draining to empty and returning Continue: the terminal gets no onData unless end_stream", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: `(drop (call $set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 1000) ${w.str("")})) (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("swallowed"));
  assert.equal(conn.tcpProxy.dataCalls, 0);
  conn.downstreamData(bytes("also"), true);
  assert.equal(conn.tcpProxy.dataCalls, 1, "end_stream still reaches the terminal");
  assert.equal(conn.sentUpstream().length, 0);
  assert.equal(conn.upstream!.finReceived, true);
});

test("buffers without a current instance: get Ok+empty, status 0, set BadArgument; config buffers", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.result("get_down", `(call $get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      ${w.emit("status_down", `(call $get_buffer_status (i32.const 2) (i32.const 300) (i32.const 304))`, "(i32.load (i32.const 300))")}
      ${w.emit("set_down", `(call $set_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 0) ${w.str("x")})`)}
      ${w.emit("get_plugin_config", `(call $get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      ${w.result("get_vm_config", `(call $get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      ${w.emit("set_vm_config", `(call $set_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 0) ${w.str("x")})`)}
      ${w.emit("get_type9", `(call $get_buffer_bytes (i32.const 9) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      ${w.result("get_http_body", `(call $get_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      ${w.emit("get_call_response", `(call $get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) ${w.ret()})`)}
      (i32.const 0)`,
    proxy_on_configure: `${w.result("cfg", `(call $get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) ${w.ret()})`)} (i32.const 1)`,
  }), { pluginConfig: "{}", vmConfig: "vm" });
  vm.newConnection().start();
  assert.deepEqual(result(vm, "cfg"), { rc: 0, hex: Buffer.from("{}").toString("hex") });
  assert.deepEqual(result(vm, "get_down"), { rc: 0, hex: "" });
  assert.ok(lines(vm).includes("status_down 0 0"));
  assert.ok(lines(vm).includes("set_down 2"));
  assert.ok(lines(vm).includes("get_plugin_config 1"), "PluginConfiguration only during on_configure");
  assert.deepEqual(result(vm, "get_vm_config"), { rc: 0, hex: Buffer.from("vm").toString("hex") });
  assert.ok(lines(vm).includes("set_vm_config 2"), "configuration buffers are immutable");
  assert.ok(lines(vm).includes("get_type9 2"));
  assert.deepEqual(result(vm, "get_http_body"), { rc: 0, hex: "" });
  assert.ok(lines(vm).includes("get_call_response 1"));
});

test("get_buffer_bytes clamps start/length to the buffer", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: `
      ${w.result("mid", `(call $get_buffer_bytes (i32.const 2) (i32.const 2) (i32.const 100) ${w.ret()})`)}
      ${w.result("past", `(call $get_buffer_bytes (i32.const 2) (i32.const 50) (i32.const 1) ${w.ret()})`)}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abcdef"));
  assert.equal(hexText(result(vm, "mid")!.hex!), "cdef");
  assert.deepEqual(result(vm, "past"), { rc: 0, hex: "" });
});

test("the DownstreamData buffer stays reachable only while the filter is paused on it", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: "(if (result i32) (i32.lt_u (local.get $n) (i32.const 5)) (then (i32.const 1)) (else (i32.const 0)))",
    proxy_on_upstream_data: `${w.logBuffer(2, "seen_down")} (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  conn.upstreamData(bytes("1"));
  conn.downstreamData(bytes("de"));
  conn.upstreamData(bytes("2"));
  assert.deepEqual(lines(vm).filter((l) => l.startsWith("seen_down")), ["seen_down=abc", "seen_down="]);
});

test("continue_stream(Downstream) is deferred until the callback returns and resumes at the next filter", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.emit("continue", "(call $continue_stream (i32.const 2))")}
      ${w.getProperty("cluster_during_call", "xds", "cluster_name")}
      (i32.const 1)`,
    proxy_on_downstream_data: `${w.getProperty("cluster_later", "xds", "cluster_name")} (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  assert.equal(conn.start(), "pause");
  assert.ok(lines(vm).includes("continue 0"));
  assert.deepEqual(result(vm, "cluster_during_call"), { rc: 1 }, "tcp_proxy not initialised inside the call");
  conn.downstreamData(bytes("ping"));
  assert.equal(hexText(result(vm, "cluster_later")!.hex!), "default");
  assert.equal(text(conn.sentUpstream()), "ping");
  assert.equal(lines(vm).filter((l) => l.startsWith("new ")).length, 1, "the wasm filter is not re-called");
});

test("continue_stream inside a paused on_downstream_data hands the buffer on (net effect ~ Continue)", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_downstream_data: `(drop (call $continue_stream (i32.const 2))) (i32.const 1)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("abc"));
  assert.equal(text(conn.sentUpstream()), "abc");
  assert.equal(lines(vm).filter((l) => l.startsWith("down ")).length, 1);
});

test("continue_stream: Upstream is Unimplemented, HTTP types are Ok no-ops, > 3 is BadArgument", async () => {
  const vm = await loadVm((w) => w.callbacks({
    proxy_on_new_connection: `
      ${w.emit("up", "(call $continue_stream (i32.const 3))")}
      ${w.emit("req", "(call $continue_stream (i32.const 0))")}
      ${w.emit("resp", "(call $continue_stream (i32.const 1))")}
      ${w.emit("bad", "(call $continue_stream (i32.const 4))")}
      ${w.emit("close_bad", "(call $close_stream (i32.const 4))")}
      ${w.emit("close_req", "(call $close_stream (i32.const 0))")}
      (i32.const 0)`,
  }));
  const conn = vm.newConnection();
  conn.start();
  for (const l of ["up 12", "req 0", "resp 0", "bad 2", "close_bad 2", "close_req 0"]) assert.ok(lines(vm).includes(l), l);
  assert.equal(conn.closed, false);
});

for (const [type, reason] of [[2, "wasm_downstream_close"], [3, "wasm_upstream_close"]] as const) {
  test(`close_stream(${type}) closes the downstream connection (FlushWrite) after the call returns`, async () => {
    const vm = await loadVm((w) => w.callbacks({
      proxy_on_downstream_data: `${w.emit("close", `(call $close_stream (i32.const ${type}))`)} ${w.emit("after_close")} (i32.const 0)`,
    }));
    const conn = vm.newConnection();
    conn.start();
    conn.downstreamData(bytes("x"));
    assert.deepEqual(streamLines(vm).slice(2), ["down 2 1 0", "close 0", "after_close", "down_close 2 1", "done 2", "log 2", "delete 2"]);
    assert.equal(conn.closeEvent, "LocalClose");
    assert.equal(conn.closeReason, reason);
    assert.equal(text(conn.sentUpstream()), "", "the Continue after the close is not acted on");
  });
}

test("Pause in on_new_connection with default tcp_proxy hangs the connection until continueReading", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_new_connection: "(i32.const 1)" }));
  const conn = vm.newConnection();
  assert.equal(conn.start(), "pause");
  assert.equal(conn.readDisabled, true, "tcp_proxy disabled reads when the chain was built");
  conn.downstreamData(bytes("hello"));
  assert.equal(lines(vm).filter((l) => l.startsWith("down ")).length, 0, "no payload reaches the filter");
  conn.continueReading();
  assert.deepEqual(lines(vm).filter((l) => l.startsWith("down ")), ["down 2 5 0"]);
  assert.equal(text(conn.sentUpstream()), "hello");
});

test("per_connection_buffer_limit_bytes: a filter that pauses forever stalls the connection", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_downstream_data: "(i32.const 1)" }));
  const conn = vm.newConnection({ bufferLimit: 1024 });
  conn.start();
  for (let i = 0; i < 16; i++) conn.downstreamData(new Uint8Array(512).fill(97));
  assert.equal(conn.readDisabled, true);
  assert.ok(conn.bufferedBytes > 1024 && conn.bufferedBytes < 8192, `buffered ${conn.bufferedBytes}`);
  const calls = lines(vm).filter((l) => l.startsWith("down ")).length;
  conn.downstreamData(new Uint8Array(512));
  assert.equal(lines(vm).filter((l) => l.startsWith("down ")).length, calls, "no more reads while above the limit");
  assert.equal(conn.sentUpstream().length, 0);
});

test("context ids come from a per-VM counter and are never reused", async () => {
  const vm = await loadVm((w) => w.callbacks());
  for (let i = 0; i < 3; i++) {
    const c = vm.newConnection();
    c.start();
    c.closeDownstream("remote");
  }
  assert.deepEqual(lines(vm).filter((l) => l.startsWith("create")), ["create 1 0", "create 2 1", "create 3 1", "create 4 1"]);
});

test("early data: reads stay enabled, tcp_proxy buffers up to max_early_data_bytes until connected", async () => {
  // Pauses until it has seen 6 bytes once (a routing decision), then lets everything through.
  const vm = await loadVm((w) => `(global $decided (mut i32) (i32.const 0)) ${w.callbacks({
    proxy_on_new_connection: "(i32.const 1)",
    proxy_on_downstream_data: `(if (result i32) (i32.and (i32.eqz (global.get $decided)) (i32.lt_u (local.get $n) (i32.const 6)))
      (then (i32.const 1)) (else (global.set $decided (i32.const 1)) (i32.const 0)))`,
  })}`);
  const conn = vm.newConnection({ maxEarlyDataBytes: 4, autoConnect: false });
  assert.equal(conn.start(), "pause");
  assert.equal(conn.readDisabled, false);
  conn.downstreamData(bytes("abc"));
  conn.downstreamData(bytes("def"));
  assert.equal(conn.tcpProxy.route, "default", "tcp_proxy initialised when iteration reached it");
  assert.equal(conn.readDisabled, true, "early-data buffer at its limit");
  conn.downstreamData(bytes("gh"));
  assert.equal(conn.sentUpstream().length, 0);
  conn.connectUpstream();
  assert.equal(text(conn.sentUpstream()), "abcdefgh");
  assert.deepEqual(streamLines(vm).filter((l) => l.startsWith("down ")), ["down 2 3 0", "down 2 6 0", "down 2 2 0"]);
});

test("connect mode on-downstream-data: the upstream connection starts with the first payload", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const conn = vm.newConnection({ maxEarlyDataBytes: 1024, connectMode: "on-downstream-data" });
  conn.start();
  assert.equal(conn.upstream, undefined);
  assert.equal(conn.tcpProxy.route, "default", "the route is still picked in onNewConnection");
  conn.downstreamData(bytes("first"));
  assert.equal(text(conn.sentUpstream()), "first");
});

test("a failed upstream connect closes the downstream connection without flushing", async () => {
  const vm = await loadVm((w) => w.callbacks());
  const conn = vm.newConnection({ autoConnect: false });
  conn.start();
  conn.connectUpstream(false);
  assert.equal(conn.closed, true);
  assert.match(conn.closeReason!, /upstream connect failed/);
  assert.ok(lines(vm).includes("down_close 2 1"));
});
