// Request telemetry as an operator sees it: real clients and servers of each protocol talk through
// the harness TCP proxy (admin enabled, metawire's stats_tags), then the test GETs
// /stats/prometheus over HTTP and checks every metawire series against what went over the wire.
//
// The oracle is the wire itself: a recording tap between the client and the proxy keeps every byte;
// the test splits it into messages with its own framers (RESP frames, Thrift frames, Dubbo headers),
// independent of the filter's codecs, and derives per (service, method): requests, responses by
// status, request and response bytes. The counts the workload means to produce are also asserted
// directly, so an oracle that saw nothing cannot pass.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startProxy, type ProxyHandle } from "../host/tcp-proxy.js";
import { METAWIRE_STATS_TAGS } from "../host/metrics.js";
import { parsePrometheus, sampleValue, type PromText } from "../host/prometheus-parse.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis } from "../support/redis-server.js";
import { joined, startTap, type Tap } from "../support/tcp-tap.js";
import { frameHead, scanFrames } from "../support/resp-frames.js";
import { command } from "../support/resp.js";
import { RawRedis } from "../support/raw-redis.js";
import { ThriftSession, i64, loadThriftCode, startThriftServer, thriftStacks } from "../support/thrift-peers.js";
import { thriftSkipReason } from "../thrift/generate.js";
import { dubboPeers, dubboSkipReason, runDubboConsumer, startDubboProvider } from "../support/dubbo-peers.js";
import { dubboFrames, replyKind, requestHead } from "../support/dubbo-wire.js";
import { waitFor as until } from "../support/wait.js";

type Status = "ok" | "error" | "exception";
const STATUSES: Status[] = ["ok", "error", "exception"];

/** What the wire says about one (service, method). */
interface SeriesExpectation { requests: number; requestBytes: number; responseBytes: number; responses: Record<Status, number> }
type Expected = Map<string, SeriesExpectation>;   // key: service + "\0" + method

/** The filter's tag rule (assembly/telemetry/names.ts): non-printable bytes, ';' and '=' become '_', at most 128 bytes. */
function tagValue(v: string): string {
  const b = Buffer.from(v, "utf8").subarray(0, 128);
  return Buffer.from(b.map((c) => (c < 0x20 || c > 0x7e || c === 0x3b || c === 0x3d ? 0x5f : c))).toString("latin1");
}

function entry(e: Expected, service: string, method: string): SeriesExpectation {
  const key = `${tagValue(service)}\0${tagValue(method)}`;
  let s = e.get(key);
  if (!s) e.set(key, (s = { requests: 0, requestBytes: 0, responseBytes: 0, responses: { ok: 0, error: 0, exception: 0 } }));
  return s;
}


/** client → tapIn → proxy (admin, metawire's stats_tags) → server */
async function withScrapedProxy(serverPort: number, config: object, run: (p: ProxyHandle, tap: Tap) => Promise<void>): Promise<void> {
  let proxy: ProxyHandle | undefined, tap: Tap | undefined;
  try {
    proxy = await startProxy({ wasm: metawireWasm(), pluginConfig: JSON.stringify(config), clusters: { default: `127.0.0.1:${serverPort}` },
      cluster: "default", admin: { port: 0 }, statsTags: METAWIRE_STATS_TAGS });
    tap = await startTap(proxy.port);
    await run(proxy, tap);
  } finally {
    await tap?.close();
    await proxy?.close();
  }
}

/** GET /stats/prometheus once every connection through the proxy is closed (the summary and the gauge settle at close). */
async function scrape(p: ProxyHandle): Promise<{ text: string; prom: PromText }> {
  await until(() => p.connections() === 0, "every proxied connection closed");
  const res = await fetch(`http://127.0.0.1:${p.adminPort}/stats/prometheus`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, prom: parsePrometheus(text) };
}

/**
 * Every (service, method) series of `protocol` in the scrape is one the wire expects and the other
 * way round, each with exactly the wire's requests, responses by status, bytes, and as many latency
 * samples (histogram count and +Inf bucket, cumulative buckets) as answered requests.
 */
function assertSeries(prom: PromText, protocol: string, expected: Expected, what: string): void {
  const scraped = prom.samples.filter((s) => s.name === "metawire_requests_total" && s.labels.protocol === protocol)
    .map((s) => `${s.labels.service}\0${s.labels.method}`).sort();
  assert.deepEqual(scraped, [...expected.keys()].sort(), `${what}: the (service, method) series`);
  for (const [key, want] of expected) {
    const [service, method] = key.split("\0");
    const l = { protocol, service, method };
    const at = `${what} ${service}:${method}`;
    assert.equal(sampleValue(prom, "metawire_requests_total", l), want.requests, `${at}: requests`);
    for (const st of STATUSES) {
      assert.equal(sampleValue(prom, "metawire_responses_total", { ...l, response_status: st }), want.responses[st], `${at}: ${st} responses`);
    }
    assert.equal(sampleValue(prom, "metawire_request_bytes_total", l), want.requestBytes, `${at}: request bytes`);
    assert.equal(sampleValue(prom, "metawire_response_bytes_total", l), want.responseBytes, `${at}: response bytes`);
    const answered = STATUSES.reduce((n, st) => n + want.responses[st], 0);
    assert.equal(sampleValue(prom, "metawire_request_duration_us_count", l), answered, `${at}: latency samples`);
    const buckets = prom.samples.filter((s) => s.name === "metawire_request_duration_us_bucket" && s.labels.protocol === protocol
      && s.labels.service === service && s.labels.method === method);
    assert.equal(buckets.length, 20, `${at}: Envoy's 19 bucket bounds and +Inf`);
    assert.equal(buckets.find((b) => b.labels.le === "+Inf")?.value, answered, `${at}: +Inf bucket`);
    assert.ok(buckets.every((b, i) => i === 0 || buckets[i - 1].value <= b.value), `${at}: cumulative buckets`);
  }
}

/** Gauge back to 0, one connection counted per tapped connection, no decode error. */
function assertConnections(prom: PromText, protocol: string, tap: Tap, what: string): void {
  assert.equal(prom.types.get("metawire_active_requests"), "gauge");
  assert.equal(sampleValue(prom, "metawire_active_requests", { protocol }), 0, `${what}: active requests after close`);
  assert.equal(sampleValue(prom, "metawire_connections_total", { protocol }), tap.connections.length, `${what}: connections`);
  assert.equal(sampleValue(prom, "metawire_decode_errors_total", { protocol }), 0, `${what}: decode errors`);
}

const sum = (e: Expected, f: (s: SeriesExpectation) => number) => [...e.values()].reduce((n, s) => n + f(s), 0);

// ---- Redis ------------------------------------------------------------------------------------------

/** Requests (method, bytes) and replies (status, bytes) of a tapped RESP connection, paired in order. */
function redisWire(tap: Tap, expected: Expected): void {
  for (const c of tap.connections) {
    const up = joined(c.up), down = joined(c.down);
    const reqs = scanFrames(up), reps = scanFrames(down);
    assert.equal(reqs.consumed, up.length, "the client's bytes are whole RESP frames");
    assert.equal(reps.consumed, down.length, "the server's bytes are whole RESP frames");
    assert.equal(reps.frames.length, reqs.frames.length, "one reply per request");
    reqs.frames.forEach((f, i) => {
      const s = entry(expected, "", frameHead(up, f)!.toUpperCase());
      const r = reps.frames[i];
      s.requests++;
      s.requestBytes += f.end - f.start;
      s.responses[r.type === "-" ? "error" : "ok"]++;
      s.responseBytes += r.end - r.start;
    });
  }
}

const redisSkip = redisAvailable();

test("scrape after Redis traffic (ioredis): per-method requests, statuses, bytes and latency equal the wire; the policy's own counter",
  { skip: redisSkip, timeout: 60_000 }, async () => {
    const server = await startRedis();
    const config = { protocol: "redis", policies: [{ name: "no-flush", match: { method: { exact: "FLUSHALL" } }, deny: { message: "no flushing here" } }] };
    try {
      await withScrapedProxy(server.port, config, async (proxy, tap) => {
        const r = new Redis({ port: tap.port, host: "127.0.0.1", lazyConnect: true });
        await r.connect();
        const pl = r.pipeline();
        for (let i = 0; i < 7; i++) pl.set(`k${i}`, `value ${i}`);
        for (let i = 0; i < 5; i++) pl.get(`k${i}`);
        pl.set("text", "not a number");
        for (let i = 0; i < 3; i++) pl.incr("text");
        pl.flushall();
        pl.flushall();
        const results = (await pl.exec())!;
        assert.deepEqual(results.slice(7, 12).map(([, v]) => v), ["value 0", "value 1", "value 2", "value 3", "value 4"]);
        assert.ok(results.slice(13, 16).every(([e]) => e instanceof Error && /not an integer/.test(e.message)));
        assert.ok(results.slice(16).every(([e]) => e instanceof Error && e.message === "ERR no flushing here"), "FLUSHALL denied");
        await r.quit();
        r.disconnect();

        const { text, prom } = await scrape(proxy);
        const expected: Expected = new Map();
        redisWire(tap, expected);
        // what the workload means (on top of whatever ioredis sends when it connects)
        const mine = (m: string) => expected.get(`\0${m}`)!;
        assert.deepEqual([mine("SET").requests, mine("SET").responses.ok], [8, 8]);
        assert.deepEqual([mine("GET").requests, mine("GET").responses.ok], [5, 5]);
        assert.deepEqual([mine("INCR").requests, mine("INCR").responses.error], [3, 3]);
        assert.deepEqual([mine("FLUSHALL").requests, mine("FLUSHALL").responses.error], [2, 2]);

        assertSeries(prom, "redis", expected, "redis");
        assert.match(text, /^metawire_requests_total\{protocol="redis",service="",method="GET"\} 5$/m);
        assert.match(text, /^metawire_responses_total\{protocol="redis",service="",method="INCR",response_status="error"\} 3$/m);
        assert.match(text, /^# TYPE metawire_request_duration_us histogram$/m);
        assert.equal(sum(expected, (s) => s.requestBytes), joined(tap.connections[0].up).length, "every request byte is counted");
        assert.equal(sum(expected, (s) => s.responseBytes), joined(tap.connections[0].down).length, "every response byte is counted");
        assertConnections(prom, "redis", tap, "redis");
        assert.match(text, /^metawire_denied_total\{protocol="redis",policy="no-flush"\} 2$/m);
        assert.equal(sampleValue(prom, "metawire_denied_total", { protocol: "redis", policy: "routing.on_mismatch" }), 0);
        assert.equal(sampleValue(prom, "metawire_series_overflow_total", { protocol: "redis" }), 0);
        assert.ok(proxy.vms.every((vm) => !vm.failed));
      });
    } finally {
      await server.stop();
    }
  });

test("cardinality cap: telemetry.max_series 2 and 5 distinct commands → 2 series, then service and method \"other\", counted",
  { skip: redisSkip, timeout: 60_000 }, async () => {
    const server = await startRedis();
    try {
      await withScrapedProxy(server.port, { protocol: "redis", telemetry: { max_series: 2 } }, async (proxy, tap) => {
        const c = await RawRedis.connect(tap.port);
        const cmds = [command("SET", "a", "1"), command("GET", "a"), command("INCR", "n"), command("DEL", "a"), command("EXISTS", "a")];
        for (const [i, cmd] of cmds.entries()) {
          await c.write(cmd);
          await c.waitFrames(i + 1);
        }
        c.end();
        await c.waitClosed();
        const { text, prom } = await scrape(proxy);
        const series = prom.samples.filter((s) => s.name === "metawire_requests_total" && s.labels.protocol === "redis")
          .map((s) => [s.labels.service, s.labels.method, s.value]);
        assert.deepEqual(series.sort(), [["", "GET", 1], ["", "SET", 1], ["other", "other", 3]], text);
        assert.equal(sampleValue(prom, "metawire_responses_total", { protocol: "redis", service: "other", method: "other", response_status: "ok" }), 3,
          "the replies of folded requests count in the other series");
        assert.equal(sampleValue(prom, "metawire_request_duration_us_count", { protocol: "redis", service: "other", method: "other" }), 3);
        const overflow = sampleValue(prom, "metawire_series_overflow_total", { protocol: "redis" });
        assert.ok(overflow !== undefined && overflow > 0, `series_overflow_total ${overflow}`);
        assertConnections(prom, "redis", tap, "cap");
      });
    } finally {
      await server.stop();
    }
  });

// ---- Thrift (framed binary, multiplexed: the service tag) -------------------------------------------

/** Messages of a framed, strict-binary Thrift stream: name, type, seqid, bytes on the wire and a reply's status. */
function thriftFramed(stream: Buffer): { name: string; type: number; seqid: number; bytes: number; status?: Status }[] {
  const out: { name: string; type: number; seqid: number; bytes: number; status?: Status }[] = [];
  for (let p = 0; p < stream.length;) {
    const n = stream.readInt32BE(p);
    const m = stream.subarray(p + 4, p + 4 + n);
    assert.equal(m.readUInt16BE(0), 0x8001, `strict binary at ${p}`);
    const type = m[3], nameLen = m.readInt32BE(4);
    const name = m.toString("utf8", 8, 8 + nameLen);
    const seqid = m.readInt32BE(8 + nameLen);
    let status: Status | undefined;
    if (type === 3) status = "exception";
    else if (type === 2) {
      // the result struct: field 0 is the success value (STOP first: void); any other field a declared exception
      const b = 12 + nameLen;
      status = m[b] === 0 || m.readInt16BE(b + 1) === 0 ? "ok" : "error";
    }
    out.push({ name, type, seqid, bytes: n + 4, status });
    p += 4 + n;
  }
  return out;
}

const thriftSkip = thriftSkipReason();

test("scrape after Apache Thrift traffic (npm thrift, multiplexed): per service and method, statuses ok/error/exception, bytes, oneway",
  { skip: thriftSkip, timeout: 60_000 }, async () => {
    const t = loadThriftCode();
    const stack = thriftStacks().find((s) => s.name === "framed/binary")!;
    const server = await startThriftServer(t, stack, true);
    try {
      await withScrapedProxy(server.port, { protocol: "thrift" }, async (proxy, tap) => {
        const s = await ThriftSession.open(t, stack, tap.port, true);
        for (let i = 0; i < 3; i++) assert.deepEqual(await s.call("ping", [], "Catalog"), { ok: undefined });
        for (let i = 0; i < 2; i++) assert.ok("declared" in (await s.call("find", [i64(404)], "Catalog")));
        assert.ok("app" in (await s.call("crash", ["boom"], "Catalog")));
        for (let i = 0; i < 2; i++) assert.deepEqual(await s.call("version", [], "Admin"), { ok: "metawire-test 1.0" });
        s.oneway("record", ["e", i64(1)], "Catalog");
        assert.deepEqual(await s.call("recorded", [], "Catalog"), { ok: 1 });
        await s.close();

        const { text, prom } = await scrape(proxy);
        const expected: Expected = new Map();
        const c = tap.connections[0];
        const requests = thriftFramed(joined(c.up)), replies = thriftFramed(joined(c.down));
        const bySeqid = new Map(requests.map((r) => [r.seqid, r]));
        for (const r of requests) {
          const [service, method] = r.name.split(":");
          const e = entry(expected, service, method);
          e.requests++;
          e.requestBytes += r.bytes;
        }
        for (const r of replies) {
          const q = bySeqid.get(r.seqid)!;
          const [service, method] = q.name.split(":");
          const e = entry(expected, service, method);
          e.responses[r.status!]++;
          e.responseBytes += r.bytes;
        }
        const mine = (svc: string, m: string) => expected.get(`${svc}\0${m}`)!;
        assert.deepEqual(mine("Catalog", "ping").responses, { ok: 3, error: 0, exception: 0 });
        assert.deepEqual(mine("Catalog", "find").responses, { ok: 0, error: 2, exception: 0 });
        assert.deepEqual(mine("Catalog", "crash").responses, { ok: 0, error: 0, exception: 1 });
        assert.deepEqual(mine("Admin", "version").responses, { ok: 2, error: 0, exception: 0 });
        assert.deepEqual([mine("Catalog", "record").requests, mine("Catalog", "record").responses], [1, { ok: 0, error: 0, exception: 0 }]);
        assert.equal(expected.size, 6);

        assertSeries(prom, "thrift", expected, "thrift");
        assert.match(text, /^metawire_requests_total\{protocol="thrift",service="Admin",method="version"\} 2$/m);
        assert.match(text, /^metawire_responses_total\{protocol="thrift",service="Catalog",method="crash",response_status="exception"\} 1$/m);
        assert.equal(sum(expected, (e) => e.requestBytes), joined(c.up).length, "every request byte is counted");
        assert.equal(sum(expected, (e) => e.responseBytes), joined(c.down).length, "every response byte is counted");
        assertConnections(prom, "thrift", tap, "thrift");
        assert.ok(proxy.vms.every((vm) => !vm.failed));
      });
    } finally {
      await server.close();
    }
  });

// ---- Dubbo (the Java consumer's workload against the Java provider) ---------------------------------

test("scrape after Apache Dubbo traffic (Java consumer and provider): per interface and method, statuses and bytes from the frames",
  { skip: dubboSkipReason(), timeout: 120_000 }, async (tt: TestContext) => {
    const peer = dubboPeers()[dubboPeers().length - 1];
    tt.diagnostic(`Dubbo ${peer.version}`);
    const provider = await startDubboProvider(peer);
    try {
      await withScrapedProxy(provider.port, { protocol: "dubbo" }, async (proxy, tap) => {
        const run = await runDubboConsumer(peer, tap.port, 0);
        const { text, prom } = await scrape(proxy);
        const expected: Expected = new Map();
        let requestBytes = 0, responseBytes = 0, events = 0;
        for (const c of tap.connections) {
          const up = dubboFrames(joined(c.up)), down = dubboFrames(joined(c.down));
          const head = new Map<bigint, { service: string; method: string }>();
          for (const f of up) {
            if (f.event) { events++; continue; }
            const h = requestHead(f);
            head.set(f.id, h);
            const e = entry(expected, h.service, h.method);
            e.requests++;
            e.requestBytes += 16 + f.bodyLength;
            requestBytes += 16 + f.bodyLength;
          }
          for (const f of down) {
            if (f.event) { events++; continue; }
            const h = head.get(f.id)!;
            const e = entry(expected, h.service, h.method);
            e.responses[replyKind(f)]++;
            e.responseBytes += 16 + f.bodyLength;
            responseBytes += 16 + f.bodyLength;
          }
        }
        const s = run.summary;
        assert.equal(sum(expected, (e) => e.requests), s.ok + s.error + s.exception + s.oneway, "one request frame per call");
        assert.deepEqual(STATUSES.map((st) => sum(expected, (e) => e.responses[st])), [s.ok, s.error, s.exception], "replies by kind");
        assert.ok(s.ok > 0 && s.error > 0 && s.exception > 0, JSON.stringify(s));

        assertSeries(prom, "dubbo", expected, "dubbo");
        const echo = expected.get(`metawire.dubbo.api.Probe\0echoText`);
        assert.ok(echo, [...expected.keys()].join(", "));
        assert.match(text, new RegExp(`^metawire_requests_total\\{protocol="dubbo",service="metawire\\.dubbo\\.api\\.Probe",method="echoText"\\} ${echo.requests}$`, "m"));
        assert.equal(sum(expected, (e) => e.requestBytes), requestBytes);
        assert.equal(sum(expected, (e) => e.responseBytes), responseBytes);
        assert.equal(sampleValue(prom, "metawire_out_of_band_total", { protocol: "dubbo" }), events, "heartbeats are out of band, not requests");
        assertConnections(prom, "dubbo", tap, "dubbo");
        assert.ok(proxy.vms.every((vm) => !vm.failed));
      });
    } finally {
      await provider.stop();
    }
  });
