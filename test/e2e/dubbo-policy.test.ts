// Dubbo enforcement end to end: the Java provider of test/dubbo (Apache Dubbo 2.7.23 and 3.3.6)
// behind metawire's TCP proxy with policies, called by the Java consumer of the same release in its
// policy mode (Consumer.runPolicy: every failure described in full) and by the npm apache-dubbo-js
// client. The policies match on service + method, group + method, version + method, version alone,
// an attachment (header.x-tenant), an attachment's presence on a one-way call, and a rate limit.
// Checked: each rejected call fails in the consumer with the policy's message (Java: an RpcException
// caused by the RemotingException carrying it; apache-dubbo-js: the call's error); the provider never
// ran it (its own invocation counts); the shared connection stays usable, later calls and 40
// concurrent calls with rejections among them all get their own answers; the rejected one-way call
// never arrives, the ones around it do. On the wire (split by the tests' own framer, bodies read with
// hessian.js): every rejected two-way request left as a heartbeat with its id, and came back as a
// response with that id, status 70 (rate limit: 100) and the message as the Hessian string body; the
// counters are exactly what the frames say.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { joined } from "../support/tcp-tap.js";
import { dubboPeers, dubboSkipReason, runDubboConsumer, type ConsumerRun } from "../support/dubbo-peers.js";
import { dubboDelta, dubboPolicyDelta, dubboPolicySnapshot, dubboSnapshot } from "../support/dubbo-metrics.js";
import { describeFrames, dubboFrames, isHeartbeat, replyKind, requestHead, type DubboFrame } from "../support/dubbo-wire.js";
import { filterLog, withDubboEnv, type DubboEnv } from "../support/dubbo-e2e.js";
import { closeDirectlyDubbo, dubboJsSkipReason, loadDubboJs } from "../support/dubbo-js.js";

const require = createRequire(import.meta.url);
const hessian: { decode(buf: Buffer, version: string): unknown } = require("hessian.js");

const skip = dubboSkipReason();
const SERVICE = "metawire.dubbo.api.Probe";
const STATUS_SERVICE_ERROR = 70;
const STATUS_THREADPOOL_EXHAUSTED = 100;

const MSG = {
  reverse: "reverse is denied by metawire",
  group: "count is closed in group metawire",
  version: "add 1.2.3 is retired",
  gone: "version 9.9.9 is gone ✋",
  tenant: "tenant evil refused",
  drop: "dropped one-way",
  rate: "primitives: slow down",
};
const CONFIG = {
  protocol: "dubbo",
  policies: [
    { name: "no-reverse", match: { service: { exact: SERVICE }, method: { exact: "reverse" } }, deny: { message: MSG.reverse } },
    { name: "other-service", match: { service: { exact: "org.example.Other" }, method: { exact: "echo" } }, deny: { message: "not this one" } },
    { name: "group-count", match: { group: { exact: "metawire" }, method: { exact: "count" } }, deny: { message: MSG.group } },
    { name: "version-add", match: { version: { exact: "1.2.3" }, method: { exact: "add" } }, deny: { message: MSG.version } },
    { name: "gone", match: { version: { exact: "9.9.9" } }, deny: { message: MSG.gone } },
    { name: "tenant", match: { "header.x-tenant": { exact: "evil" } }, deny: { message: MSG.tenant } },
    { name: "drop", match: { method: { exact: "record" }, "header.x-drop": { present: true } }, deny: { message: MSG.drop } },
    { name: "rl", match: { method: { exact: "primitives" } }, rate_limit: { per_second: 0.001, burst: 2, message: MSG.rate } },
  ],
};

/** What the policies must do to a request frame, judged from the frame alone (head strings and attachment bytes). */
function verdict(f: DubboFrame, primitivesSeen: number): { message: string; status: number } | "drop" | undefined {
  if (!f.request || f.event) return undefined;
  const h = requestHead(f);
  // an attachment as Hessian writes short strings: length byte, then the bytes (key, then value)
  const short = (s: string) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
  const attachment = (key: string, value?: string) =>
    f.head.includes(value === undefined ? short(key) : Buffer.concat([short(key), short(value)]));
  if (h.service === SERVICE && h.method === "reverse") return { message: MSG.reverse, status: STATUS_SERVICE_ERROR };
  if (h.method === "count" && attachment("group", "metawire")) return { message: MSG.group, status: STATUS_SERVICE_ERROR };
  if (h.method === "add" && h.version === "1.2.3") return { message: MSG.version, status: STATUS_SERVICE_ERROR };
  if (h.version === "9.9.9") return { message: MSG.gone, status: STATUS_SERVICE_ERROR };
  if (attachment("x-tenant", "evil")) return { message: MSG.tenant, status: STATUS_SERVICE_ERROR };
  if (h.method === "record" && attachment("x-drop")) return f.twoWay ? { message: MSG.drop, status: STATUS_SERVICE_ERROR } : "drop";
  if (h.method === "primitives" && primitivesSeen >= 2) return { message: MSG.rate, status: STATUS_THREADPOOL_EXHAUSTED };
  return undefined;
}

const frameBytes = (stream: Buffer, f: DubboFrame) => stream.subarray(f.offset, f.offset + 16 + f.bodyLength);

interface WireCheck { rejected: number; rateLimited: number; dropped: number; expectedDelta: Record<string, number> }

/**
 * Walks connection k: each request the client sent either reached the provider unchanged, left as
 * a heartbeat with its id (and came back as the policy's error), or vanished (a dropped one-way) —
 * exactly as verdict() predicts. Returns the counts and the traffic counters the frames imply.
 */
function checkWire(env: DubboEnv, k: number, what: string): WireCheck {
  const inUp = joined(env.tapIn.connections[k].up), outUp = joined(env.tapOut.connections[k].up);
  const inDown = joined(env.tapIn.connections[k].down), outDown = joined(env.tapOut.connections[k].down);
  const cUp = dubboFrames(inUp), pUp = dubboFrames(outUp), cDown = dubboFrames(inDown), pDown = dubboFrames(outDown);
  const frames = `${filterLog(env)}\n client requests:\n${describeFrames(cUp.slice(0, 60))}\n provider got:\n${describeFrames(pUp.slice(0, 60))}`;
  const substituted = new Map<bigint, { message: string; status: number }>();
  let dropped = 0, primitives = 0, j = 0;
  for (const f of cUp) {
    const v = verdict(f, primitives);
    if (!f.event && requestHead(f).method === "primitives") primitives++;
    if (v === "drop") { dropped++; continue; }
    const g = pUp[j++];
    assert.ok(g, `${what}: request id=${f.id} never reached the provider${frames}`);
    if (v === undefined) {
      assert.ok(frameBytes(outUp, g).equals(frameBytes(inUp, f)), `${what}: request id=${f.id} changed on its way${frames}`);
    } else {
      assert.ok(isHeartbeat(g) && g.twoWay && g.id === f.id && g.serialization === f.serialization,
        `${what}: rejected request id=${f.id} (${requestHead(f).method}) left as ${describeFrames([g])}${frames}`);
      substituted.set(f.id, v);
    }
  }
  assert.equal(j, pUp.length, `${what}: the provider got ${pUp.length - j} frames the client did not send${frames}`);

  // the answers: the policy's error for each substituted id, the provider's own bytes for the rest
  const heartbeatAnswers = new Set(pDown.filter((f) => f.event && substituted.has(f.id)).map((f) => f.id));
  assert.deepEqual([...heartbeatAnswers].sort(), [...substituted.keys()].sort(), `${what}: the provider answered each substitute heartbeat`);
  // one client frame per provider frame, in order: the provider's bytes, or at a substitute's
  // heartbeat answer the policy's error response with that id
  assert.equal(cDown.length, pDown.length, `${what}: as many answers reached the client as the provider sent`);
  let ok = 0, error = 0, samples = 0, events = cUp.filter((f) => f.event).length;
  cDown.forEach((f, i) => {
    const g = pDown[i];
    const v = g.event && !g.request ? substituted.get(g.id) : undefined;
    if (v) {
      assert.ok(!f.request && !f.event && f.id === g.id, `${what}: the provider's heartbeat answer id=${g.id} became ${describeFrames([f])}`);
      assert.equal(f.status, v.status, `${what}: status of the rejected id=${f.id}`);
      assert.equal(f.serialization, g.serialization);
      assert.equal(f.bodyLength, f.head.length);
      assert.equal(hessian.decode(Buffer.from(f.head), "2.0"), v.message, `${what}: body of the rejected id=${f.id}`);
      error++;
      samples++;   // one latency sample per answered request, the ones the filter answers included
      return;
    }
    assert.ok(frameBytes(outDown, g).equals(frameBytes(inDown, f)), `${what}: answer id=${g.id} changed on its way`);
    if (f.event) { events++; return; }
    if (replyKind(f) === "ok") ok++; else error++;
    samples++;
  });
  const requests = cUp.filter((f) => !f.event).length;
  const rateLimited = [...substituted.values()].filter((v) => v.status === STATUS_THREADPOOL_EXHAUSTED).length;
  return {
    rejected: substituted.size, rateLimited, dropped,
    expectedDelta: { cx_total: 1, requests_total: requests, replies_ok: ok, replies_error: error, out_of_band_total: events,
      decode_errors_total: 0, passthrough_total: 0, duration_samples: samples },
  };
}

type Line = Record<string, any>;
function step(run: ConsumerRun, name: string): Line {
  const line = run.lines.find((l) => l.step === name);
  assert.ok(line, `the consumer ran ${name}`);
  return line as Line;
}

/** A Java consumer's failure carrying `message`: an RpcException caused by the RemotingException the error response became. */
function assertRejected(line: Line, message: string, what: string): void {
  assert.equal(line.outcome, "exception", `${what}: ${JSON.stringify(line).slice(0, 600)}`);
  assert.equal(line.error.class, "org.apache.dubbo.rpc.RpcException", what);
  assert.ok(String(line.error.message).includes(message), `${what}: the message names the policy's: ${line.error.message}`);
  assert.ok(line.error.causes.includes(`org.apache.dubbo.remoting.RemotingException: ${message}`),
    `${what}: caused by the RemotingException of the error response: ${JSON.stringify(line.error.causes)}`);
}

/** Probe's invocation counts after the Java workload (Consumer.runPolicy): only the calls the policies let through. */
const JAVA_INVOCATIONS = { add: 1, context: 1, count: 1 + 8, delayed: 8, echo: 3 + 8, primitives: 2, record: 2, takeRecords: 1 };

async function javaCase(env: DubboEnv): Promise<void> {
  const { peer } = env;
  const what = peer.module;
  const before = dubboSnapshot(env.proxy.metrics);
  const policyBefore = dubboPolicySnapshot(env.proxy.metrics);
  const run = await runDubboConsumer(peer, env.tapIn.port, "policy");
  assert.equal(run.summary.dubbo, peer.version);
  await waitClosed(env, 0);

  assert.equal(step(run, "echo-first").result, "before");
  assertRejected(step(run, "reverse"), MSG.reverse, `${what} reverse (service + method)`);
  assert.equal(step(run, "echo-after-denied").result, "after", "the connection is still usable");
  assertRejected(step(run, "count-in-group"), MSG.group, `${what} count (group + method)`);
  assert.deepEqual(step(run, "count-plain").result, { x: 2 }, "the same method outside the group");
  assertRejected(step(run, "add-versioned"), MSG.version, `${what} add (version + method)`);
  assert.equal(step(run, "add-plain").result, 3, "the same method of the unversioned export");
  assertRejected(step(run, "missing-version"), MSG.gone, `${what} a version the provider does not export`);
  assertRejected(step(run, "context-evil"), MSG.tenant, `${what} attachment x-tenant`);
  assert.deepEqual(step(run, "context-acme").result, { "x-tenant": "acme" });
  assert.equal(step(run, "primitives-1").result, "1|2|3|4|5.0|6.0|true|k");
  assert.equal(step(run, "primitives-2").result, "2|2|3|4|5.0|6.0|true|k");
  assertRejected(step(run, "primitives-3"), MSG.rate, `${what} rate limit`);
  assert.deepEqual(step(run, "take-records").result, ["kept 1", "kept 2"], "the rejected one-way call never arrived, the ones around it did");

  const concurrent = step(run, "concurrent").calls as Line[];
  assert.equal(concurrent.length, 40);
  concurrent.forEach((c, k) => {
    const at = `${what} concurrent #${k}`;
    switch (k % 5) {
      case 0: assertRejected(c, MSG.reverse, at); break;
      case 1: assert.deepEqual(c, { outcome: "ok", result: `c${k}` }, at); break;
      case 2: assert.deepEqual(c, { outcome: "ok", result: { [`w${k}`]: 1 } }, at); break;
      case 3: assertRejected(c, MSG.group, at); break;
      case 4: assert.deepEqual(c, { outcome: "ok", result: `d${k} after ${(40 - k) * 5} ms` }, at); break;
    }
  });
  assert.equal(step(run, "echo-last").result, "last");
  assert.deepEqual(step(run, "invocations").result, JAVA_INVOCATIONS, `${what}: the provider ran exactly the calls let through`);
  assert.deepEqual({ ok: run.summary.ok, error: run.summary.error, exception: run.summary.exception, oneway: run.summary.oneway },
    { ok: 34, error: 0, exception: 22, oneway: 3 }, "the workload did what it says");

  assert.equal(env.tapIn.connections.length, 1, `${what}: every reference shared one connection, never reopened`);
  const wire = checkWire(env, 0, what);
  assert.deepEqual([wire.rejected, wire.rateLimited, wire.dropped], [22, 1, 1], `${what}: rejections on the wire`);
  assert.deepEqual(dubboDelta(before, dubboSnapshot(env.proxy.metrics)), wire.expectedDelta, `${what}: traffic counters`);
  assert.deepEqual(dubboPolicyDelta(policyBefore, dubboPolicySnapshot(env.proxy.metrics)), {
    denied_total: wire.rejected - wire.rateLimited + wire.dropped, aborted_total: 0, delayed_total: 0, rate_limited_total: wire.rateLimited,
    hold_overflow_total: 0, policy_closed_total: 0, rewrite_failures_total: 0,
  }, `${what}: policy counters`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), "no VM failed");
}

async function waitClosed(env: DubboEnv, k: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(env.tapIn.connections[k]?.closed && env.tapOut.connections[k]?.closed)) {
    if (Date.now() > deadline) throw new Error(`connection ${k} did not close`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function dubboJsCase(env: DubboEnv): Promise<void> {
  const { DirectlyDubbo, java } = loadDubboJs();
  const what = `apache-dubbo-js → ${env.peer.module}`;
  const k = env.tapIn.connections.length;
  const before = dubboSnapshot(env.proxy.metrics);
  const policyBefore = dubboPolicySnapshot(env.proxy.metrics);
  const dubbo = DirectlyDubbo.from({ dubboAddress: `127.0.0.1:${env.tapIn.port}`, dubboVersion: "2.0.2", dubboInvokeTimeout: 20 });
  const str = (s: string) => java.String(s);
  const probe = dubbo.proxyService({
    dubboInterface: SERVICE, version: "1.2.3", group: "metawire",
    methods: {
      echo: (s: string) => [str(s)],
      reverse: (items: string[]) => [java.List(items.map(str))],
      count: (words: string[]) => [java.List(words.map(str))],
      delayed: (ms: number, tag: string) => [java.int(ms), str(tag)],
      invocations: () => [],
    },
  });
  type R = { res: unknown; err: any };
  const rejectedWith = (r: R, message: string, at: string) => {
    assert.ok(r.err, `${what} ${at}: rejected, got ${JSON.stringify(r.res)}`);
    assert.ok(String(r.err.message).includes(message), `${what} ${at}: the error carries the policy's message: ${r.err.message}`);
  };
  try {
    const base = (await probe.invocations() as R).res as Record<string, number>;
    assert.deepEqual((await probe.echo("js before") as R).res, "js before");
    rejectedWith(await probe.reverse(["a"]), MSG.reverse, "reverse");
    assert.deepEqual((await probe.echo("js after") as R).res, "js after", `${what}: the connection is still usable`);
    const batch: R[] = await Promise.all([probe.delayed(200, "slow"), probe.reverse(["b"]), probe.count(["c"]), probe.echo("d"), probe.delayed(10, "fast")]);
    assert.equal(batch[0].res, "slow after 200 ms");
    rejectedWith(batch[1], MSG.reverse, "concurrent reverse");
    rejectedWith(batch[2], MSG.group, "concurrent count in group metawire");
    assert.equal(batch[3].res, "d");
    assert.equal(batch[4].res, "fast after 10 ms");
    const after = (await probe.invocations() as R).res as Record<string, number>;
    const added = Object.fromEntries(Object.entries(after).filter(([m, n]) => n !== (base[m] ?? 0)).map(([m, n]) => [m, n - (base[m] ?? 0)]));
    assert.deepEqual(added, { echo: 3, delayed: 2 }, `${what}: the provider ran exactly the calls let through`);
  } finally {
    await closeDirectlyDubbo(dubbo);
  }
  await waitClosed(env, k);
  assert.equal(env.tapIn.connections.length, k + 1, `${what}: one connection`);
  const wire = checkWire(env, k, what);
  assert.deepEqual([wire.rejected, wire.rateLimited, wire.dropped], [3, 0, 0], `${what}: rejections on the wire`);
  assert.deepEqual(dubboDelta(before, dubboSnapshot(env.proxy.metrics)), wire.expectedDelta, `${what}: traffic counters`);
  assert.deepEqual(dubboPolicyDelta(policyBefore, dubboPolicySnapshot(env.proxy.metrics)), {
    denied_total: 3, aborted_total: 0, delayed_total: 0, rate_limited_total: 0, hold_overflow_total: 0, policy_closed_total: 0, rewrite_failures_total: 0,
  }, `${what}: policy counters`);
}

test("Dubbo policies end to end: Java 2.7 / 3.3 consumers and apache-dubbo-js through metawire to the Java provider",
  { skip, timeout: 90_000 }, async (tt: TestContext) => {
    for (const peer of dubboPeers()) {
      await tt.test(`Dubbo ${peer.version} (${peer.module})`, (t: TestContext) => withDubboEnv(peer, async (env) => {
        await t.test("Java consumer", () => javaCase(env));
        await t.test("apache-dubbo-js", { skip: dubboJsSkipReason() }, () => dubboJsCase(env));
      }, CONFIG));
    }
  });
