// The module is built with AssemblyScript's minimal runtime and collects garbage itself, every few
// thousand data callbacks or connection deletions (assembly/abi/dispatcher.ts). Pin that the
// collection happens and is safe: many short connections, each allocating its decoders, sessions
// and enforcement state, leave the linear memory as big as a few thousand of them did, and every
// connection still sees exactly its own traffic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadFilter, openConnection } from "../support/filter.js";
import { command } from "../support/resp.js";
import { legacyCounter } from "../support/metawire-metrics.js";

const CONFIG = {
  protocol: "redis",
  policies: [{ name: "no-flush", match: { method: { exact: "FLUSHALL" } }, deny: { message: "forbidden" } }],
};

function churn(vm: Awaited<ReturnType<typeof loadFilter>>, connections: number): void {
  const requests = Buffer.concat([command("SET", "k", "v".repeat(200)), command("FLUSHALL"), command("GET", "k")]);
  const replies = Buffer.from("+OK\r\n+PONG\r\n$3\r\nvvv\r\n");
  for (let i = 0; i < connections; i++) {
    const conn = openConnection(vm);
    conn.downstreamData(requests);
    conn.upstreamData(replies);
    assert.equal(Buffer.from(conn.sentDownstream()).toString("latin1"), "+OK\r\n-ERR forbidden\r\n$3\r\nvvv\r\n");
    conn.closeDownstream("remote");
  }
}

test("garbage of closed connections is collected: memory stays flat over 30,000 connections", async () => {
  const vm = await loadFilter(CONFIG);
  churn(vm, 5000);
  const settled = vm.memoryBytes;
  churn(vm, 25000);
  const grown = vm.memoryBytes - settled;
  // Without collection each connection would keep its decoders and sessions (kilobytes): ~25,000 of
  // them would need tens of MiB more. One collection interval of garbage fits in a few MiB.
  assert.ok(grown <= 4 * 1024 * 1024, `linear memory grew by ${grown} bytes over 25,000 more connections`);
  assert.equal(legacyCounter(vm.metrics, "redis", "requests_total"), 90000);
  assert.equal(legacyCounter(vm.metrics, "redis", "denied_total"), 30000);
  assert.equal(vm.failed, undefined);
});
