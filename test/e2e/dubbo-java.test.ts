// Real Apache Dubbo Java peers through metawire (build/metawire.wasm in the TCP proxy, protocol dubbo,
// expose every, log_requests): for each Dubbo release of test/dubbo (2.7 and 3.3), a Java provider exporting
// metawire.dubbo.api.Probe (version 1.2.3, group metawire, hessian2, no registry) and a Java consumer
// that runs a fixed workload over one connection — strings, numbers, every primitive, lists, maps, a
// Java object with nested objects, an enum, BigDecimal, Date and a back-reference, a declared and an
// undeclared exception, a null result, $echo, a generic $invoke, a call to a service that is not
// exported (a reply status other than OK), one-way calls, 1 MiB byte[] and String round trips, a batch
// of concurrent calls answered out of order, attachments both ways, an idle phase with heartbeats. The
// consumer runs once straight to the provider and once through the proxy. Checked: the results are
// identical; the bytes on both sides of the proxy are identical; the counters and the latency
// histogram count exactly what the frames on the wire (split by an independent framer) say; the
// request log names, for every reply in order, the id and method of its request and the reply's kind
// and status as the frames do; the filter state at close names the last request (service, method,
// version, group, id, an RpcContext attachment) and its reply.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { joined } from "../support/tcp-tap.js";
import { comparable, dubboPeers, dubboSkipReason, runDubboConsumer, type ConsumerRun, type DubboPeer } from "../support/dubbo-peers.js";
import { dubboDelta, dubboSnapshot, framesSnapshot } from "../support/dubbo-metrics.js";
import { describeFrames, dubboFrames, isHeartbeat, replyKind, requestHead, type DubboFrame } from "../support/dubbo-wire.js";
import { assertBytesUntouched, closedState, decodeErrorBytes, filterLog, withDubboEnv, type DubboEnv } from "../support/dubbo-e2e.js";

const skip = dubboSkipReason();

/** How long the consumer keeps its connection idle before the last call; its heartbeat interval is 1 s. */
const IDLE_MS = 2500;
/** What the consumer's workload does (test/dubbo/src/main/java/metawire/dubbo/Consumer.java). */
const WORKLOAD = { ok: 54, error: 5, exception: 1, oneway: 7 };
const SERVICE = "metawire.dubbo.api.Probe";
/** metawire's log_requests line for a Dubbo reply. */
const LOG_LINE = /^dubbo id=(-?\d+) (\S+) -> (ok|error|exception) status=(\d+) \d+us$/;
const HESSIAN2 = 2;

function step(run: ConsumerRun, name: string): Record<string, any> {
  const line = run.lines.find((l) => l.step === name);
  assert.ok(line, `the consumer ran ${name}`);
  return line as Record<string, any>;
}

async function versionCase(env: DubboEnv): Promise<void> {
  const { peer } = env;
  assert.equal(env.provider.dubboVersion, peer.version, "the provider runs the Dubbo release of its module");

  // the reference: the same workload straight to the provider
  const direct = await runDubboConsumer(peer, env.provider.port, IDLE_MS);

  const before = dubboSnapshot(env.proxy.metrics);
  const proxied = await runDubboConsumer(peer, env.tapIn.port, IDLE_MS);
  const state = await closedState(env, 0);
  const delta = dubboDelta(before, dubboSnapshot(env.proxy.metrics));

  const wire = env.tapOut.connections[0];
  assert.equal(env.tapIn.connections.length, 1, `${peer.module}: every reference shares one connection`);
  const up = dubboFrames(joined(wire.up));
  const down = dubboFrames(joined(wire.down));
  const frames = `${filterLog(env)}${decodeErrorBytes(env, 0)}\n requests:\n${describeFrames(up.slice(0, 40))}\n replies:\n${describeFrames(down.slice(0, 40))}`;

  // the consumer: the same results either way, and the workload it says
  assert.equal(proxied.summary.dubbo, peer.version);
  assert.deepEqual(comparable(proxied), comparable(direct), `${peer.module}: results through the proxy differ from direct ones`);
  const tally = (r: ConsumerRun) => ({ ok: r.summary.ok, error: r.summary.error, exception: r.summary.exception, oneway: r.summary.oneway });
  assert.deepEqual(tally(proxied), tally(direct));
  assert.deepEqual(tally(proxied), WORKLOAD, `${peer.module}: the workload did what it says`);
  for (const big of ["echo-bytes-1MiB", "echo-text-1MiB"]) assert.equal(step(proxied, big).result?.intact, true, `${peer.module}: ${big} came back intact`);
  assert.deepEqual(step(proxied, "context-after-idle").result?.received, { "x-tenant": "globex" }, "the provider got the attachment");

  // the wire, split at the Dubbo headers by the test's own framer
  assertBytesUntouched(env, 0);
  assert.deepEqual([...new Set([...up, ...down].map((f) => f.serialization))], [HESSIAN2], `${peer.module}: hessian2 on every frame${frames}`);
  const requests = up.filter((f) => f.request && !f.event);
  const replies = down.filter((f) => !f.request && !f.event);
  const events = [...up, ...down].filter((f) => f.event);
  assert.ok(down.every((f) => !f.request) && up.every((f) => f.request), `${peer.module}: requests one way, replies the other${frames}`);
  assert.equal(requests.length, proxied.summary.ok + proxied.summary.error + proxied.summary.exception + proxied.summary.oneway,
    `${peer.module}: one request frame per call${frames}`);
  assert.equal(requests.filter((f) => !f.twoWay).length, proxied.summary.oneway, `${peer.module}: one-way frames`);
  const kinds = { ok: 0, error: 0, exception: 0 };
  for (const r of replies) kinds[replyKind(r)]++;
  assert.deepEqual(kinds, { ok: proxied.summary.ok, error: proxied.summary.error, exception: proxied.summary.exception },
    `${peer.module}: reply frames by kind${frames}`);
  const heartbeats = up.filter((f) => isHeartbeat(f) && f.twoWay);
  assert.ok(heartbeats.length >= 1, `${peer.module}: the idle phase of ${IDLE_MS} ms carried a heartbeat${frames}`);
  assert.equal(events.length, events.filter(isHeartbeat).length, `${peer.module}: every event is a heartbeat${frames}`);
  const twoWayIds = (fs: DubboFrame[]) => fs.map((f) => f.id);
  assert.deepEqual(new Set(twoWayIds(replies)), new Set(twoWayIds(requests.filter((f) => f.twoWay))), `${peer.module}: one reply per two-way request`);
  assert.notDeepEqual(twoWayIds(replies), twoWayIds(requests.filter((f) => f.twoWay)),
    `${peer.module}: the replies came in request order; the delayed() batch was meant to be answered out of order`);

  // one log line per reply, in reply order: the id, the method of the request with that id, the kind and status
  const methods = new Map(requests.map((f) => [f.id, requestHead(f).method]));
  assert.ok(["$echo", "$invoke", "echoBytes", "echoText", "delayed", "record", "context"].every((m) => [...methods.values()].includes(m)),
    `${peer.module}: the request frames name the methods called: ${[...new Set(methods.values())]}`);
  const logged = env.logs.filter((l) => l.startsWith("dubbo id=")).map((l) => {
    const m = LOG_LINE.exec(l);
    assert.ok(m, `unexpected log line ${JSON.stringify(l)}`);
    return `${m[1]} ${m[2]} -> ${m[3]} ${m[4]}`;
  });
  assert.deepEqual(logged, replies.map((r) => `${r.id} ${methods.get(r.id)} -> ${replyKind(r)} ${r.status}`),
    `${peer.module}: log_requests lines against the frames`);

  // the metrics: exactly what the frames say
  assert.deepEqual(delta, framesSnapshot(requests.length, replies.length, events.length, kinds), `${peer.module}: metrics${frames}`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), "no VM failed");

  // the filter state at close: the last request (context-after-idle, attachment x-tenant=globex) and its reply
  const last = requests[requests.length - 1];
  const expected: Record<string, string> = {
    "wasm.metawire.protocol": "dubbo",
    "wasm.metawire.service": SERVICE,
    "wasm.metawire.method": "context",
    "wasm.metawire.version": "1.2.3",
    "wasm.metawire.group": "metawire",
    "wasm.metawire.id": String(last.id),
    "wasm.metawire.kind": "request",
    "wasm.metawire.header.x-tenant": "globex",
    "wasm.metawire.header.interface": SERVICE,
    "wasm.metawire.response_status": "ok",
    "wasm.metawire.response_code": "20",
  };
  const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, state[k]]));
  assert.deepEqual(actual, expected, `${peer.module}: filter state at close\n${JSON.stringify(state, null, 1)}`);
}

test("Apache Dubbo Java peers through metawire, results equal to direct ones, metrics and filter state exact",
  { skip, timeout: 150_000 }, async (tt: TestContext) => {
    for (const peer of dubboPeers()) {
      await tt.test(`Dubbo ${peer.version} (${peer.module})`, () => withDubboEnv(peer, versionCase));
    }
  });
