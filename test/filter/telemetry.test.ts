// Request telemetry of the built module under the harness (in memory), per protocol:
//   - the connection summary written as filter state when the connection closes (for tcp_proxy's
//     access log): wasm.metawire.requests, errors, first_method, last_method;
//   - the per-request log line of `telemetry.log`: its level, and `sample_percent` 0, 100 and 50;
//   - `telemetry.series: false`: one series per protocol (service and method tags empty).
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadFilter, openConnection } from "../support/filter.js";
import type { WasmVm } from "../host/vm.js";
import type { FilterConnection } from "../host/connection.js";
import { command } from "../support/resp.js";
import { MessageType, appException, message, type WireStack } from "../support/thrift-wire.js";
import { errorResponse, heartbeat, heartbeatAnswer, okResponse, request } from "../support/dubbo-build.js";
import { metawireSeries, metricSamples, metricValue } from "../support/metawire-metrics.js";

const SUMMARY = ["requests", "errors", "first_method", "last_method"] as const;
const summary = (conn: FilterConnection) => Object.fromEntries(SUMMARY.map((k) => [k, conn.filterStateText(`wasm.metawire.${k}`)]));
const DEBUG = 1, INFO = 2, WARN = 3;   // proxy-wasm log levels

// ---- traffic of each protocol: requests, then the replies of the answered ones ----

const REDIS_REQUESTS = Buffer.concat([command("SET", "k", "v"), command("GET", "k"), command("INCR", "k"), command("PING")]);
const REDIS_REPLIES = Buffer.from("+OK\r\n$1\r\nv\r\n-ERR value is not an integer or out of range\r\n+PONG\r\n");

const FRAMED: WireStack = { transport: "framed", protocol: "binary" };
const THRIFT_REQUESTS = Buffer.concat([
  message(FRAMED, "Calc:add", MessageType.CALL, 1, [{ id: 1, i64: 2 }]),
  message(FRAMED, "Calc:div", MessageType.CALL, 2, [{ id: 1, i64: 0 }]),
  message(FRAMED, "Calc:log", MessageType.ONEWAY, 3, [{ id: 1, string: "bye" }]),
]);
const THRIFT_REPLIES = Buffer.concat([
  message(FRAMED, "add", MessageType.REPLY, 1, [{ id: 0, i64: 4 }]),
  appException(FRAMED, "div", 2, "division by zero", 6),
]);

const DUBBO_REQUESTS = Buffer.concat([request({ id: 1, method: "get" }), request({ id: 2, method: "put" }),
  request({ id: 3, method: "log", twoWay: false }), heartbeat(4)]);
const DUBBO_REPLIES = Buffer.concat([okResponse(1, "value"), errorResponse(2, 70, "boom"), heartbeatAnswer(4)]);

interface Traffic { protocol: string; requests: Buffer; replies: Buffer; config?: object }
const TRAFFIC: Traffic[] = [
  { protocol: "redis", requests: REDIS_REQUESTS, replies: REDIS_REPLIES },
  { protocol: "thrift", requests: THRIFT_REQUESTS, replies: THRIFT_REPLIES },
  { protocol: "dubbo", requests: DUBBO_REQUESTS, replies: DUBBO_REPLIES },
];

function exchange(vm: WasmVm, t: Traffic): FilterConnection {
  const conn = openConnection(vm);
  conn.downstreamData(t.requests);
  conn.upstreamData(t.replies);
  assert.ok(Buffer.from(conn.sentUpstream()).equals(t.requests), `${t.protocol}: requests untouched`);
  assert.ok(Buffer.from(conn.sentDownstream()).equals(t.replies), `${t.protocol}: replies untouched`);
  return conn;
}

// ---- the connection summary ----

test("connection summary at close: requests, error replies, first and last method (Redis, Thrift, Dubbo)", async () => {
  const want: Record<string, Record<string, string>> = {
    // INCR of "v" is an error reply
    redis: { requests: "4", errors: "1", first_method: "SET", last_method: "PING" },
    // the oneway counts as a request; the TApplicationException is the error; methods without the service prefix
    thrift: { requests: "3", errors: "1", first_method: "add", last_method: "log" },
    // the one-way request counts, the heartbeat does not; status 70 is the error
    dubbo: { requests: "3", errors: "1", first_method: "get", last_method: "log" },
  };
  for (const t of TRAFFIC) {
    const vm = await loadFilter({ protocol: t.protocol });
    const conn = exchange(vm, t);
    assert.deepEqual(summary(conn), { requests: undefined, errors: undefined, first_method: undefined, last_method: undefined },
      `${t.protocol}: written at close, not before`);
    conn.closeDownstream("remote");
    assert.deepEqual(summary(conn), want[t.protocol], t.protocol);
    assert.equal(vm.failed, undefined);
  }
});

test("connection summary: also when the server closes first; an idle connection has no methods; expose off writes none", async () => {
  const redis = TRAFFIC[0];
  const vm = await loadFilter({ protocol: "redis" });
  const conn = exchange(vm, redis);
  conn.upstreamClose();
  assert.ok(conn.closed, "tcp_proxy closed the client side after the server's close");
  assert.deepEqual(summary(conn), { requests: "4", errors: "1", first_method: "SET", last_method: "PING" });

  const idle = openConnection(vm);
  idle.closeDownstream("remote");
  assert.deepEqual(summary(idle), { requests: "0", errors: "0", first_method: undefined, last_method: undefined });
  assert.equal(idle.filterStateText("wasm.metawire.protocol"), "redis");

  const off = await loadFilter({ protocol: "redis", expose: { properties: "off" } });
  const quiet = exchange(off, redis);
  quiet.closeDownstream("remote");
  assert.deepEqual(summary(quiet), { requests: undefined, errors: undefined, first_method: undefined, last_method: undefined });
  assert.equal(metricValue(off.metrics, "metawire_requests_total", { protocol: "redis" }), 4, "metrics do not depend on expose");
});

test("connection summary: a method name is kept to 128 bytes", async () => {
  const vm = await loadFilter({ protocol: "dubbo" });
  const conn = openConnection(vm);
  const long = "m".repeat(200);
  conn.downstreamData(Buffer.concat([request({ id: 1, method: long }), request({ id: 2, method: "short" })]));
  conn.closeDownstream("remote");
  assert.deepEqual(summary(conn), { requests: "2", errors: "0", first_method: long.slice(0, 128), last_method: "short" });
});

// ---- the per-request log line ----

const requestLines = (vm: WasmVm, protocol: string) => vm.logs.filter((l) => l.msg.startsWith(`${protocol} `) && / -> /.test(l.msg));

test("telemetry.log sample_percent 100: one line per answered request, at the configured level (Redis, Thrift, Dubbo)", async () => {
  const answered: Record<string, RegExp[]> = {
    redis: [/^redis id=1 SET key=k -> ok \d+us$/, /^redis id=2 GET key=k -> ok \d+us$/, /^redis id=3 INCR key=k -> error ERR \d+us$/, /^redis id=4 PING -> ok \d+us$/],
    thrift: [/^thrift seqid=1 add -> ok \d+us$/, /^thrift seqid=2 div -> exception type=6 \d+us$/],
    dubbo: [/^dubbo id=1 get -> ok status=20 \d+us$/, /^dubbo id=2 put -> exception status=70 \d+us$/],
  };
  for (const [level, value] of [["debug", DEBUG], ["warn", WARN]] as const) {
    for (const t of TRAFFIC) {
      const vm = await loadFilter({ protocol: t.protocol, telemetry: { log: { level, sample_percent: 100 } } }, { logLevel: 0 });
      exchange(vm, t).closeDownstream("remote");
      const lines = requestLines(vm, t.protocol);
      assert.equal(lines.length, answered[t.protocol].length, `${t.protocol} ${level}: ${JSON.stringify(lines)}`);
      lines.forEach((l, i) => {
        assert.match(l.msg, answered[t.protocol][i], `${t.protocol} ${level}`);
        assert.equal(l.level, value, `${t.protocol}: logged at ${level}`);
      });
    }
  }
});

/** 400 pipelined PINGs and their PONGs on one connection; the per-request log lines it produced. */
async function pings(config: object): Promise<{ level: number; msg: string }[]> {
  const n = 400;
  const vm = await loadFilter({ protocol: "redis", ...config }, { logLevel: 0 });
  const conn = openConnection(vm);
  conn.downstreamData(Buffer.concat(Array.from({ length: n }, () => command("PING"))));
  conn.upstreamData(Buffer.from("+PONG\r\n".repeat(n)));
  conn.closeDownstream("remote");
  assert.equal(metricValue(vm.metrics, "metawire_responses_total", { protocol: "redis", response_status: "ok" }), n);
  return requestLines(vm, "redis");
}

test("telemetry.log sample_percent: 0 logs no request, 100 every one, 50 about half (30–70 % of 400); log_requests alone: info, all", async () => {
  assert.deepEqual(await pings({ telemetry: { log: { level: "debug", sample_percent: 0 } } }), []);
  const all = await pings({ telemetry: { log: { level: "debug", sample_percent: 100 } } });
  assert.deepEqual(all.map((l) => l.msg.replace(/ \d+us$/, "")), Array.from({ length: 400 }, (_, i) => `redis id=${i + 1} PING -> ok`));
  assert.ok(all.every((l) => l.level === DEBUG));
  const half = await pings({ telemetry: { log: { level: "debug", sample_percent: 50 } } });
  assert.ok(half.length >= 120 && half.length <= 280, `${half.length} of 400 sampled at 50 %`);
  // the sampled ones are a subset, in order: ids strictly increasing
  const ids = half.map((l) => Number(/^redis id=(\d+) /.exec(l.msg)![1]));
  assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]));
  const legacy = await pings({ log_requests: true });
  assert.equal(legacy.length, 400);
  assert.ok(legacy.every((l) => l.level === INFO));
  assert.deepEqual(await pings({}), [], "no telemetry.log, no log_requests: no lines");
});

// ---- telemetry.series ----

test("telemetry.series false: only the per-protocol series (service and method empty), with every request, response and sample", async () => {
  const responses: Record<string, [number, number, number]> = { redis: [3, 1, 0], thrift: [1, 0, 1], dubbo: [1, 0, 1] };
  const requests: Record<string, number> = { redis: 4, thrift: 3, dubbo: 3 };
  for (const series of [false, true]) {
    for (const t of TRAFFIC) {
      const vm = await loadFilter({ protocol: t.protocol, telemetry: { series } });
      exchange(vm, t).closeDownstream("remote");
      const tagsets = metawireSeries(vm.metrics, "metawire_requests_total").map((s) => `${s.tags.service}/${s.tags.method}`);
      if (series) {
        assert.ok(tagsets.length >= 2 && tagsets.every((k) => k !== "/"), `${t.protocol} per method: ${tagsets}`);
      } else {
        assert.deepEqual(tagsets, ["/"], `${t.protocol}: one series`);
        const only = { protocol: t.protocol, service: "", method: "" };
        assert.equal(metricValue(vm.metrics, "metawire_requests_total", only), requests[t.protocol], t.protocol);
        assert.deepEqual(["ok", "error", "exception"].map((st) => metricValue(vm.metrics, "metawire_responses_total", { ...only, response_status: st })),
          responses[t.protocol], t.protocol);
        assert.equal(metricSamples(vm.metrics, "metawire_request_duration_us", only).length, responses[t.protocol].reduce((a, b) => a + b), t.protocol);
        assert.equal(metricValue(vm.metrics, "metawire_request_bytes_total", only), t.requests.length - (t.protocol === "dubbo" ? 17 : 0),
          `${t.protocol}: request bytes (a Dubbo heartbeat is not a request)`);
      }
      assert.equal(metricValue(vm.metrics, "metawire_requests_total", { protocol: t.protocol }), requests[t.protocol]);
      assert.equal(metricValue(vm.metrics, "metawire_series_overflow_total", { protocol: t.protocol }), 0);
    }
  }
});

test("telemetry.flush_interval_ms: counters reach the host from the root's tick, not at each callback", async () => {
  const { ManualClock } = await import("../support/routing.js");
  const clock = new ManualClock();
  const vm = await loadFilter({ protocol: "redis", expose: { properties: "off" }, telemetry: { flush_interval_ms: 1000 } }, { timers: "manual", clock });
  assert.equal(vm.tickPeriod(), 1000, "the root ticks at the flush interval");
  const conn = openConnection(vm);
  conn.downstreamData(REDIS_REQUESTS);   // first use of each series defines its metrics
  conn.upstreamData(REDIS_REPLIES);
  const calls0 = vm.hostCallTotal;
  conn.downstreamData(REDIS_REQUESTS);
  conn.upstreamData(REDIS_REPLIES);
  // Per callback one buffer read and one clock read; per reply one histogram sample; no counters.
  assert.equal(vm.hostCallTotal - calls0, 2 + 2 + 4, "no counter flush inside the callbacks");
  assert.equal(metricValue(vm.metrics, "metawire_requests_total", { protocol: "redis" }), 0, "not flushed yet");
  clock.advance(1000);
  vm.tick();
  assert.equal(metricValue(vm.metrics, "metawire_requests_total", { protocol: "redis" }), 8);
  assert.equal(metricValue(vm.metrics, "metawire_responses_total", { protocol: "redis", response_status: "ok" }), 6);
  assert.equal(metricValue(vm.metrics, "metawire_responses_total", { protocol: "redis", response_status: "error" }), 2);
  assert.equal(metricSamples(vm.metrics, "metawire_request_duration_us", { protocol: "redis" }).length, 8, "histograms are recorded at once");
  assert.equal(metricValue(vm.metrics, "metawire_active_requests", { protocol: "redis" }), 0);
  // A tick before the interval has passed flushes nothing new.
  conn.downstreamData(command("PING"));
  clock.advance(500);
  vm.tick();
  assert.equal(metricValue(vm.metrics, "metawire_requests_total", { protocol: "redis" }), 8);
  clock.advance(500);
  vm.tick();
  assert.equal(metricValue(vm.metrics, "metawire_requests_total", { protocol: "redis" }), 9);
});
