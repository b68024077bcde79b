// Failure policy after a trap (specs/envoy-host.md §1.5.9, §2.7): the whole VM is failed;
// FAIL_CLOSED closes every connection that reaches it, FAIL_OPEN lets bytes through untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, lines, loadVm, text } from "./kit.js";
import type { Wat } from "./kit.js";

const trapOnBoom = (w: Wat) => w.callbacks({
  proxy_on_configure: "(drop (call $set_tick_period (i32.const 10))) (i32.const 1)",
  // traps when the first byte is 'b'
  proxy_on_downstream_data: `(drop (call $get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 256) (i32.const 260)))
    (if (i32.eq (i32.load8_u (i32.load (i32.const 256))) (i32.const 98)) (then (unreachable))) (i32.const 0)`,
});

test("FAIL_CLOSED: a trap in on_downstream_data closes this and every later connection of that VM", async () => {
  const vm = await loadVm(trapOnBoom);
  const healthy = vm.newConnection();
  healthy.start();
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("ok"));
  assert.equal(text(conn.sentUpstream()), "ok");
  conn.downstreamData(bytes("boom"));
  assert.match(vm.failed!.message, /^Function: proxy_on_downstream_data failed: Uncaught RuntimeError: unreachable/);
  assert.ok(vm.logs.some((l) => l.level === 4 && l.msg.startsWith("Function: proxy_on_downstream_data failed")));
  assert.equal(conn.closed, true);
  assert.equal(conn.closeEvent, "LocalClose");
  assert.equal(conn.closeReason, "wasm_fail_stream");
  assert.equal(text(conn.sentUpstream()), "ok", "the trapping data is not forwarded");
  const after = lines(vm).slice(lines(vm).indexOf("down 3 4 0") + 1);
  assert.deepEqual(after, [], "no close/done/log/delete callbacks into a failed VM");

  healthy.downstreamData(bytes("more"));
  assert.equal(healthy.closed, true, "an existing connection fails closed on its next callback");
  const later = vm.newConnection();
  assert.equal(later.start(), "pause");
  assert.equal(later.closed, true, "a new connection is closed in on_new_connection");
  assert.equal(lines(vm).some((l) => l.startsWith("create 4")), false);
  assert.equal(vm.tick(), false, "no ticks on a failed VM");
});

test("FAIL_OPEN: the trapping connection and later ones pass bytes through without the filter", async () => {
  const vm = await loadVm(trapOnBoom, { failurePolicy: "FAIL_OPEN" });
  const conn = vm.newConnection();
  conn.start();
  conn.downstreamData(bytes("boom"));
  assert.ok(vm.failed);
  assert.equal(conn.closed, false);
  assert.equal(text(conn.sentUpstream()), "boom", "Continue after the trap");
  conn.downstreamData(bytes("!"));
  conn.upstreamData(bytes("reply"));
  assert.equal(text(conn.sentUpstream()), "boom!");
  assert.equal(text(conn.sentDownstream()), "reply");
  const before = lines(vm).length;
  const later = vm.newConnection();
  assert.equal(later.start(), "continue");
  later.downstreamData(bytes("b2"));
  assert.equal(text(later.sentUpstream()), "b2");
  later.closeDownstream("remote");
  assert.equal(lines(vm).length, before, "the failed VM is not called again");
});

test("FAIL_CLOSED: a trap in on_upstream_data closes the connection; the reply is not delivered", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_upstream_data: "(unreachable)" }));
  const conn = vm.newConnection();
  conn.start();
  conn.upstreamData(bytes("secret"));
  assert.equal(conn.closed, true);
  assert.equal(text(conn.sentDownstream()), "");
});

test("a trap in on_new_connection fails the connection before tcp_proxy is initialised", async () => {
  const vm = await loadVm((w) => w.callbacks({ proxy_on_new_connection: "(unreachable)" }));
  const conn = vm.newConnection();
  assert.equal(conn.start(), "pause");
  assert.equal(conn.closed, true);
  assert.equal(conn.tcpProxy.route, undefined);
});
