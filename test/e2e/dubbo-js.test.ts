// apache-dubbo-js (npm, a JavaScript Dubbo consumer independent of Apache Dubbo's Java one) calling the
// Java provider of test/dubbo (metawire.dubbo.api.Probe, version 1.2.3, group metawire) through
// metawire (protocol dubbo, expose every), for each Dubbo release of test/dubbo. No registry: the
// consumer is the package's DirectlyDubbo, connected to the provider's address. The calls: a string,
// numbers, a list and a map, a Java-typed object built with js-to-java (Person with a nested Address,
// an enum, a list, a Map<String, Long>, a BigDecimal and a Date), a Person returned by the provider, a
// declared exception, an undeclared one, a null result, and a batch of concurrent calls. They run once
// straight to the provider and once through the proxy. Checked: the results are equal; the bytes on
// both sides of the proxy are equal; the counters and the latency histogram count exactly what the
// frames on the wire (split by the test's own framer) say, with no decode error; the filter state at
// close names the last request and its reply.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { joined } from "../support/tcp-tap.js";
import { dubboPeers, dubboSkipReason } from "../support/dubbo-peers.js";
import { dubboDelta, dubboSnapshot, framesSnapshot } from "../support/dubbo-metrics.js";
import { describeFrames, isHeartbeat, dubboFrames, replyKind, requestHead } from "../support/dubbo-wire.js";
import { assertBytesUntouched, closedState, decodeErrorBytes, filterLog, withDubboEnv, type DubboEnv } from "../support/dubbo-e2e.js";
import { closeDirectlyDubbo, dubboJsSkipReason, loadDubboJs } from "../support/dubbo-js.js";

const skip = dubboSkipReason() ?? dubboJsSkipReason();

const SERVICE = "metawire.dubbo.api.Probe";
const PERSON = "metawire.dubbo.api.Person";
const ADDRESS = "metawire.dubbo.api.Address";
const LEVEL = "metawire.dubbo.api.Level";
/** The Dubbo protocol version the consumer writes in each request. */
const DUBBO_PROTOCOL_VERSION = "2.0.2";
const HESSIAN2 = 2;

/** One call's outcome, comparable between runs: the value, or the exception's class and first message line. */
type Outcome = { step: string; value: unknown } | { step: string; error: { name: string; message: string } };

/** The calls, in order; `batch` is sent all at once. */
const CALLS = { sequential: 10, batch: 4 };
/** Calls answered with an exception (a reply with status OK and an exception body): find("ghost") and boom. */
const EXCEPTIONS = 2;

async function consumerRun(address: string): Promise<Outcome[]> {
  const { DirectlyDubbo, java } = loadDubboJs();
  const dubbo = DirectlyDubbo.from({ dubboAddress: address, dubboVersion: DUBBO_PROTOCOL_VERSION, dubboInvokeTimeout: 20 });
  const str = (s: string) => java.String(s);
  const probe = dubbo.proxyService({
    dubboInterface: SERVICE,
    version: "1.2.3",
    group: "metawire",
    methods: {
      echo: (s: string) => [str(s)],
      add: (a: number, b: number) => [java.int(a), java.long(b)],
      reverse: (items: string[]) => [java.List(items.map(str))],
      count: (words: string[]) => [java.List(words.map(str))],
      promote: (person: unknown, to: string) => [person, java.enum(LEVEL, to)],
      find: (name: string) => [str(name)],
      boom: (why: string) => [str(why)],
      nothing: (why: string) => [str(why)],
      delayed: (ms: number, tag: string) => [java.int(ms), str(tag)],
    },
  });
  const outcomes: Outcome[] = [];
  const record = (step: string, r: { res: unknown; err: any }) => {
    outcomes.push(r.err
      ? { step, error: { name: String(r.err.name), message: String(r.err.message).split("\n")[0] } }
      : { step, value: r.res });
  };
  try {
    const person = java.combine(PERSON, {
      name: str("Grace ✓"),
      age: java.int(41),
      level: java.enum(LEVEL, "JUNIOR"),
      home: java.combine(ADDRESS, { city: str("Bern"), zip: str("3011"), geo: java.array.double([46.948, 7.4474]) }),
      past: java.List([java.combine(ADDRESS, { city: str("Basel"), zip: str("4001"), geo: java.array.double([47.5596, 7.5886]) })]),
      tags: java.List([str("compilers"), str("navy")]),
      scores: java.Map({ talks: java.Long(12), papers: java.Long(2 ** 40) }),
      salary: java.BigDecimal("98765.4321"),
      since: new Date(1_500_000_000_000),   // hessian.js writes a Date as a hessian date
      manager: null,
    });
    record("echo", await probe.echo("héllo, metawire ✓"));
    record("add", await probe.add(2_000_000_000, 2 ** 40));
    record("reverse", await probe.reverse(["a", "b", "c", "ü"]));
    record("count", await probe.count(["x", "y", "x", "z", "x"]));
    record("promote", await probe.promote(person, "SENIOR"));
    record("find", await probe.find("ada"));
    record("find-ghost", await probe.find("ghost"));
    record("boom", await probe.boom("on purpose"));
    record("nothing", await probe.nothing("null please"));
    // concurrent calls on the one connection; the longest first, so replies leave out of order
    const batch = await Promise.all([probe.delayed(300, "a"), probe.delayed(10, "b"), probe.echo("c"), probe.delayed(150, "d")]);
    batch.forEach((r: any, i: number) => record(`batch-${i}`, r));
    record("echo-last", await probe.echo("bye"));
  } finally {
    await closeDirectlyDubbo(dubbo);
  }
  return outcomes;
}

async function versionCase(env: DubboEnv): Promise<void> {
  const { peer } = env;
  assert.equal(env.provider.dubboVersion, peer.version, "the provider runs the Dubbo release of its module");

  const direct = await consumerRun(`127.0.0.1:${env.provider.port}`);
  const before = dubboSnapshot(env.proxy.metrics);
  const proxied = await consumerRun(`127.0.0.1:${env.tapIn.port}`);
  const state = await closedState(env, 0);
  const delta = dubboDelta(before, dubboSnapshot(env.proxy.metrics));

  assert.equal(env.tapIn.connections.length, 1, `${peer.module}: one connection`);
  const wire = env.tapOut.connections[0];
  const up = dubboFrames(joined(wire.up));
  const down = dubboFrames(joined(wire.down));
  const frames = `${filterLog(env)}${decodeErrorBytes(env, 0)}\n requests:\n${describeFrames(up.slice(0, 40))}\n replies:\n${describeFrames(down.slice(0, 40))}`;

  // the consumer: the same results either way, and the results the provider is written to give
  assert.deepEqual(proxied, direct, `${peer.module}: results through the proxy differ from direct ones`);
  const byStep = Object.fromEntries(proxied.map((o) => [o.step, o])) as Record<string, any>;
  assert.equal(proxied.length, CALLS.sequential + CALLS.batch);
  assert.equal(byStep.echo.value, "héllo, metawire ✓");
  assert.equal(byStep.add.value, 2_000_000_000 + 2 ** 40);
  assert.deepEqual(byStep.reverse.value, ["ü", "c", "b", "a"]);
  assert.deepEqual(byStep.count.value, { x: 3, y: 1, z: 1 });
  const promoted = byStep.promote.value;
  assert.equal(promoted.name, "Grace ✓");
  assert.equal(promoted.age, 42);
  assert.deepEqual(promoted.level, { name: "SENIOR" });
  assert.deepEqual(promoted.home, { city: "Bern", zip: "3011", geo: [46.948, 7.4474] });
  assert.deepEqual(promoted.past.map((a: any) => a.city), ["Basel", "Promotion City"]);
  assert.deepEqual(promoted.tags, ["compilers", "navy", "promoted:senior"]);
  assert.deepEqual(promoted.scores, { talks: 12, papers: 2 ** 40, promotions: 1 });
  assert.deepEqual(promoted.salary, { value: "108641.975310" }, "BigDecimal 98765.4321 × 1.10, scale 4 + 2");
  assert.equal(new Date(promoted.since).getTime(), 1_500_000_000_000);
  assert.equal(byStep.find.value.name, "ada");
  assert.equal(byStep.find.value.age, 21);
  assert.deepEqual(byStep["find-ghost"].error, { name: "metawire.dubbo.api.NotFoundException", message: "no such person: ghost" },
    `${peer.module}: the declared exception, as its own class`);
  assert.ok("error" in byStep.boom && /boom: on purpose/.test(byStep.boom.error.message),
    `${peer.module}: the undeclared exception: ${JSON.stringify(byStep.boom)}`);
  assert.deepEqual(byStep.nothing, { step: "nothing", value: null });
  assert.deepEqual([0, 1, 2, 3].map((i) => byStep[`batch-${i}`].value), ["a after 300 ms", "b after 10 ms", "c", "d after 150 ms"]);
  assert.equal(byStep["echo-last"].value, "bye");

  // the wire, split at the Dubbo headers by the test's own framer
  assertBytesUntouched(env, 0);
  assert.deepEqual([...new Set([...up, ...down].map((f) => f.serialization))], [HESSIAN2], `${peer.module}: hessian2 on every frame${frames}`);
  assert.ok(up.every((f) => f.request) && down.every((f) => !f.request), `${peer.module}: requests one way, replies the other${frames}`);
  const requests = up.filter((f) => !f.event);
  const replies = down.filter((f) => !f.event);
  const events = [...up, ...down].filter((f) => f.event);
  assert.equal(requests.length, CALLS.sequential + CALLS.batch, `${peer.module}: one request frame per call${frames}`);
  assert.ok(requests.every((f) => f.twoWay), `${peer.module}: every call two-way`);
  const heads = requests.map(requestHead);
  assert.ok(heads.every((h) => h.service === SERVICE && h.version === "1.2.3" && h.dubboVersion === DUBBO_PROTOCOL_VERSION),
    `${peer.module}: request heads ${JSON.stringify(heads)}`);
  const kinds = { ok: 0, error: 0, exception: 0 };
  for (const r of replies) kinds[replyKind(r)]++;
  assert.deepEqual(kinds, { ok: CALLS.sequential + CALLS.batch - EXCEPTIONS, error: EXCEPTIONS, exception: 0 }, `${peer.module}: reply frames by kind${frames}`);
  assert.deepEqual(new Set(replies.map((f) => f.id)), new Set(requests.map((f) => f.id)), `${peer.module}: one reply per request`);
  assert.notDeepEqual(replies.map((f) => f.id), requests.map((f) => f.id), `${peer.module}: the batch was meant to be answered out of order`);
  assert.equal(events.length, events.filter(isHeartbeat).length, `${peer.module}: every event is a heartbeat${frames}`);

  // the metrics: exactly what the frames say
  assert.deepEqual(delta, framesSnapshot(requests.length, replies.length, events.length, kinds), `${peer.module}: metrics${frames}`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), "no VM failed");

  // the filter state at close: the last request (echo "bye") and its reply
  const last = requests[requests.length - 1];
  const expected: Record<string, string> = {
    "wasm.metawire.protocol": "dubbo",
    "wasm.metawire.service": SERVICE,
    "wasm.metawire.method": "echo",
    "wasm.metawire.version": "1.2.3",
    "wasm.metawire.group": "metawire",
    "wasm.metawire.id": String(last.id),
    "wasm.metawire.kind": "request",
    "wasm.metawire.header.interface": SERVICE,
    "wasm.metawire.response_status": "ok",
    "wasm.metawire.response_code": "20",
  };
  const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, state[k]]));
  assert.deepEqual(actual, expected, `${peer.module}: filter state at close\n${JSON.stringify(state, null, 1)}`);
}

test("apache-dubbo-js calling the Apache Dubbo Java provider through metawire, results equal to direct ones, metrics exact",
  { skip, timeout: 150_000 }, async (tt: TestContext) => {
    for (const peer of dubboPeers()) {
      await tt.test(`apache-dubbo-js → Dubbo ${peer.version} (${peer.module})`, () => withDubboEnv(peer, versionCase));
    }
  });
