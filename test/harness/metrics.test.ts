// Pins Envoy's metric hostcalls (envoy-host.md §5) and their /stats/prometheus rendering.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WasmResult } from "../host/envoy-abi.js";
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { METAWIRE_STATS_TAGS, METAWIRE_TAG_NAMES, MetricStore, MetricType, formatG32, istioStatsTags } from "../host/metrics.js";
import { parsePrometheus, sampleValue } from "../host/prometheus-parse.js";

const { Counter, Gauge, Histogram } = MetricType;

test("ids start at the type value plus 4 and step by 4 per type", () => {
  const m = new MetricStore();
  assert.deepEqual([m.define(Counter, "a"), m.define(Counter, "b")], [{ result: 0, id: 4 }, { result: 0, id: 8 }]);
  assert.deepEqual([m.define(Gauge, "a"), m.define(Gauge, "b")], [{ result: 0, id: 5 }, { result: 0, id: 9 }]);
  assert.deepEqual([m.define(Histogram, "a"), m.define(Histogram, "b")], [{ result: 0, id: 6 }, { result: 0, id: 10 }]);
});

test("defining a name again gives a new id for the same stat", () => {
  const m = new MetricStore();
  const a = m.define(Counter, "requests").id;
  const b = m.define(Counter, "requests").id;
  assert.notEqual(a, b);
  m.increment(a, 2n);
  m.increment(b, 3n);
  assert.deepEqual(m.get(a), { result: WasmResult.Ok, value: 5n });
  assert.deepEqual(m.get(b), { result: WasmResult.Ok, value: 5n });
  assert.deepEqual(m.names(), ["requests"]);
});

test("a type above 2 is a bad argument", () => {
  const m = new MetricStore();
  assert.equal(m.define(3, "x").result, WasmResult.BadArgument);
  assert.equal(m.define(0xffffffff, "x").result, WasmResult.BadArgument);
  assert.deepEqual(m.names(), []);
});

test("ids are per VM while the stats are shared by the process", () => {
  const m = new MetricStore();
  const vm1 = m.forVm(), vm2 = m.forVm();
  const id1 = vm1.define(Counter, "shared").id;
  const id2 = vm2.define(Counter, "shared").id;
  assert.equal(id1, 4);
  assert.equal(id2, 4);
  vm1.increment(id1, 1n);
  vm2.increment(id2, 1n);
  assert.equal(m.value("shared"), 2n);
  assert.equal(vm2.get(vm1.define(Gauge, "only-vm1").id).result, WasmResult.NotFound);
});

test("increment: counters take only positive deltas, gauges both signs, histograms none", () => {
  const m = new MetricStore();
  const c = m.define(Counter, "c").id, g = m.define(Gauge, "g").id, h = m.define(Histogram, "h").id;
  assert.equal(m.increment(c, 5n), WasmResult.Ok);
  assert.equal(m.increment(c, 0n), WasmResult.BadArgument);
  assert.equal(m.increment(c, -1n), WasmResult.BadArgument);
  assert.equal(m.increment(c, (1n << 64n) - 1n), WasmResult.BadArgument);   // the i64 -1 as it may arrive
  assert.equal(m.value("c"), 5n);
  assert.equal(m.increment(g, 10n), WasmResult.Ok);
  assert.equal(m.increment(g, -4n), WasmResult.Ok);
  assert.equal(m.increment(g, 0n), WasmResult.Ok);
  assert.equal(m.value("g"), 6n);
  assert.equal(m.increment(h, 1n), WasmResult.BadArgument);
  assert.equal(m.increment(100, 1n), WasmResult.NotFound);   // counter-typed id never defined
  assert.equal(m.increment(101, 1n), WasmResult.NotFound);   // gauge-typed
  assert.equal(m.increment(7, 1n), WasmResult.BadArgument);  // type bits 3
});

test("a gauge below zero wraps like Envoy's uint64 (release build)", () => {
  const m = new MetricStore();
  const g = m.define(Gauge, "g").id;
  m.increment(g, -1n);
  assert.equal(m.value("g"), (1n << 64n) - 1n);
});

test("record: counters add, gauges set, histograms sample; unknown ids are not found", () => {
  const m = new MetricStore();
  const c = m.define(Counter, "c").id, g = m.define(Gauge, "g").id, h = m.define(Histogram, "h").id;
  assert.equal(m.record(c, 3n), WasmResult.Ok);
  assert.equal(m.record(c, 4n), WasmResult.Ok);
  assert.equal(m.value("c"), 7n);
  m.record(g, 3n);
  m.record(g, 4n);
  assert.equal(m.value("g"), 4n);
  m.record(h, 12n);
  m.record(h, 0n);
  assert.deepEqual(m.samples("h"), [12n, 0n]);
  assert.equal(m.value("h"), undefined);
  for (const id of [100, 101, 102, 7]) assert.equal(m.record(id, 1n), WasmResult.NotFound);
});

test("get: counters and gauges only", () => {
  const m = new MetricStore();
  const c = m.define(Counter, "c").id, h = m.define(Histogram, "h").id;
  assert.deepEqual(m.get(c), { result: WasmResult.Ok, value: 0n });
  assert.deepEqual(m.get(h), { result: WasmResult.BadArgument });
  assert.deepEqual(m.get(100), { result: WasmResult.NotFound });
  assert.deepEqual(m.get(101), { result: WasmResult.NotFound });
  assert.deepEqual(m.get(7), { result: WasmResult.BadArgument });
});

test("prometheus: namespace stripped, no envoy_ prefix, sanitized, counters then gauges, sorted", () => {
  const m = new MetricStore();
  m.increment(m.define(Gauge, "mw.open-conns").id, 2n);
  m.increment(m.define(Counter, "mw.requests").id, 3n);
  m.define(Counter, "mw.errors");
  m.define(Counter, "9lives");   // starts with a digit once the namespace is gone: not exported
  assert.equal(m.toPrometheus(),
    "# TYPE mw_errors counter\nmw_errors{} 0\n"
    + "# TYPE mw_requests counter\nmw_requests{} 3\n"
    + "# TYPE mw_open_conns gauge\nmw_open_conns{} 2\n");
});

test("prometheus: Istio-style tags are cut out of the name and become labels", () => {
  const m = new MetricStore();
  m.increment(m.define(Counter, "protocol=.=redis;.;mw_requests_total").id, 2n);
  m.increment(m.define(Counter, "protocol=.=dubbo;.;cluster=.=svc_a;.;mw_requests_total").id, 5n);
  m.increment(m.define(Counter, "protocol=.=dubbo;.;mw_requests_total").id, 1n);
  const text = m.toPrometheus({ statsTags: istioStatsTags(["protocol", "cluster"]) });
  assert.equal(text, "# TYPE mw_requests_total counter\n"
    + 'mw_requests_total{protocol="dubbo",cluster="svc_a"} 5\n'
    + 'mw_requests_total{protocol="dubbo"} 1\n'
    + 'mw_requests_total{protocol="redis"} 2\n');
  const parsed = parsePrometheus(text);
  assert.equal(parsed.types.get("mw_requests_total"), "counter");
  assert.equal(sampleValue(parsed, "mw_requests_total", { protocol: "redis" }), 2);
});

test("prometheus: tag regexes follow Envoy's extraction rules", () => {
  assert.deepEqual(istioStatsTags(["reporter"]), [{ tagName: "reporter", regex: "(reporter=\\.=(.*?);\\.;)" }]);
  const m = new MetricStore();
  m.define(Counter, 'k=.=a"b\\c;.;x');
  m.define(Counter, "pool.blue.size");
  const text = m.toPrometheus({
    statsTags: [
      ...istioStatsTags(["k"]),
      { tagName: "pool-name", regex: "wasmcustom\\.pool(\\.\\w+)" },        // one group: it is also the value
      { tagName: "k", regex: "(x)" },                                        // a name already taken: skipped
    ],
  });
  assert.equal(text, '# TYPE pool_size counter\npool_size{pool_name=".blue"} 0\n'
    + '# TYPE x counter\nx{k="a\\"b\\\\c"} 0\n');
});

test("prometheus: a tag regex that eats the namespace makes an envoy_ stat", () => {
  const m = new MetricStore();
  m.define(Counter, "plain");
  assert.equal(m.toPrometheus({ statsTags: [{ tagName: "ns", regex: "^((wasmcustom)\\.)" }] }),
    '# TYPE envoy_plain counter\nenvoy_plain{ns="wasmcustom"} 0\n');
});

test("prometheus: inclusion prefixes select stats like Istio's stats matcher", () => {
  const m = new MetricStore();
  m.define(Counter, "a");
  m.define(Counter, "b");
  assert.equal(m.toPrometheus({ inclusionPrefixes: ["wasmcustom.b"] }), "# TYPE b counter\nb{} 0\n");
});

test("prometheus: histograms use Envoy's default buckets over circllhist bins", () => {
  const m = new MetricStore();
  const h = m.define(Histogram, "protocol=.=redis;.;mw_latency").id;
  for (const v of [0n, 1n, 5n, 7n, 12n, 251n, 4000000n]) m.record(h, v);
  // Bins have two significant digits: 251 lands in [250, 260) and counts at le="250".
  const counts = [1, 2, 3, 4, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6];
  const bounds = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
    "30000", "60000", "300000", "600000", "1800000", "3600000"];
  // hist_approx_sum: each sample counts as its bin's error-minimising midpoint b + w·b/(2b + w).
  const mid = (b: number, w: number) => b + w * (b / (b + b + w));
  const sum = 0 + mid(1, 0.1) + mid(5, 0.1) + mid(7, 0.1) + mid(12, 1) + mid(250, 10) + mid(4000000, 100000);
  const tags = 'protocol="redis"';
  const expected = "# TYPE mw_latency histogram\n"
    + bounds.map((b, i) => `mw_latency_bucket{${tags},le="${b}"} ${counts[i]}\n`).join("")
    + `mw_latency_bucket{${tags},le="+Inf"} 7\nmw_latency_sum{${tags}} ${formatG32(sum)}\nmw_latency_count{${tags}} 7\n`;
  assert.equal(m.toPrometheus({ statsTags: istioStatsTags(["protocol"]) }), expected);
});

test("prometheus: a single sample's sum is printed with 32 significant digits", () => {
  const m = new MetricStore();
  m.record(m.define(Histogram, "one").id, 5n);
  const text = m.toPrometheus();
  assert.match(text, /^one_sum\{\} 5\.049504950495049548919723747531$/m);
  assert.match(text, /^one_bucket\{le="5"\} 1$/m);
  assert.match(text, /^one_bucket\{le="1"\} 0$/m);
  const empty = new MetricStore();
  empty.define(Histogram, "none");
  assert.match(empty.toPrometheus(), /^none_sum\{\} 0\nnone_count\{\} 0\n$/m);
});

test("formatG32 behaves like fmt's {:.32g}", () => {
  assert.equal(formatG32(0.5), "0.5");
  assert.equal(formatG32(3600000), "3600000");
  assert.equal(formatG32(0.0001), "0.00010000000000000000479217360238593");
  assert.equal(formatG32(0.00001), "1.0000000000000000818030539140313e-05");
  assert.equal(formatG32(1e40), "1.0000000000000000303786028427004e+40");
  assert.equal(formatG32(0), "0");
});

test("one store can be shared: stats from several VMs render once", () => {
  const m = new MetricStore();
  for (const vm of [m.forVm(), m.forVm()]) vm.increment(vm.define(Counter, "conns").id, 1n);
  assert.equal(m.toPrometheus(), "# TYPE conns counter\nconns{} 2\n");
});

// ---- metawire's tags (envoy/stats-tags.yaml) ----

test("stats_tags: envoy/stats-tags.yaml is Istio's regex for each tag the filter writes, in its order", () => {
  const file = YAML.parse(readFileSync("envoy/stats-tags.yaml", "utf8")) as { stats_config: { stats_tags: { tag_name: string; regex: string }[] } };
  assert.deepEqual(file.stats_config.stats_tags.map((t) => ({ tagName: t.tag_name, regex: t.regex })), METAWIRE_STATS_TAGS);
  assert.deepEqual(METAWIRE_STATS_TAGS.map((t) => t.regex.replace(/\\/g, "")), METAWIRE_TAG_NAMES.map((t) => `(${t}=.=(.*?);.;)`));
  // the filter's own list (assembly/telemetry/names.ts TAG_NAMES, written in this order)
  const names = readFileSync("assembly/telemetry/names.ts", "utf8");
  const consts = new Map([...names.matchAll(/export const (TAG_\w+) = "(\w+)";/g)].map((m) => [m[1], m[2]]));
  const list = /TAG_NAMES: StaticArray<string> = \[([^\]]*)\]/.exec(names);
  assert.ok(list, "TAG_NAMES in names.ts");
  assert.deepEqual(list[1].split(",").map((s) => consts.get(s.trim())), [...METAWIRE_TAG_NAMES]);
});

test("prometheus: metawire's names lose every tag and wasmcustom., as Envoy extracts them; values keep dots, quotes are escaped", () => {
  const m = new MetricStore();
  const c = (name: string, n: bigint) => m.increment(m.define(Counter, name).id, n);
  c("protocol=.=redis;.;service=.=;.;method=.=GET;.;metawire_requests_total", 7n);
  c("protocol=.=dubbo;.;service=.=org.shop.Cart;.;method=.=get;.;response_status=.=exception;.;metawire_responses_total", 2n);
  c("protocol=.=thrift;.;service=.=Calc;.;method=.=a\"b\\c;.;response_status=.=ok;.;metawire_responses_total", 1n);
  c("protocol=.=redis;.;policy=.=routing.on_mismatch;.;metawire_denied_total", 3n);
  c("protocol=.=thrift;.;route=.=split;.;cluster=.=v2;.;metawire_routed_total", 4n);
  m.increment(m.define(Gauge, "protocol=.=redis;.;metawire_active_requests").id, 1n);
  m.record(m.define(Histogram, "protocol=.=redis;.;service=.=;.;method=.=GET;.;metawire_request_duration_us").id, 12n);
  const text = m.toPrometheus({ statsTags: METAWIRE_STATS_TAGS });
  for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
    assert.match(line, /^metawire_[a-z_]+\{/, line);   // no tag left in a name, no namespace, no envoy_ prefix
  }
  const p = parsePrometheus(text);
  assert.equal(sampleValue(p, "metawire_requests_total", { protocol: "redis", service: "", method: "GET" }), 7);
  assert.deepEqual(p.samples.find((s) => s.name === "metawire_requests_total")!.labels, { protocol: "redis", service: "", method: "GET" });
  assert.equal(sampleValue(p, "metawire_responses_total", { protocol: "dubbo", service: "org.shop.Cart", method: "get", response_status: "exception" }), 2);
  assert.match(text, /^metawire_responses_total\{protocol="thrift",service="Calc",method="a\\"b\\\\c",response_status="ok"\} 1$/m);
  assert.equal(sampleValue(p, "metawire_denied_total", { protocol: "redis", policy: "routing.on_mismatch" }), 3);
  assert.equal(sampleValue(p, "metawire_routed_total", { protocol: "thrift", route: "split", cluster: "v2" }), 4);
  assert.equal(p.types.get("metawire_active_requests"), "gauge");
  assert.equal(sampleValue(p, "metawire_request_duration_us_count", { protocol: "redis", method: "GET" }), 1);
  assert.equal(sampleValue(p, "metawire_request_duration_us_bucket", { protocol: "redis", method: "GET", le: "25" }), 1);
  assert.equal(sampleValue(p, "metawire_request_duration_us_bucket", { protocol: "redis", method: "GET", le: "10" }), 0);
  // one # TYPE per extracted name, whatever the number of series
  assert.equal(text.split("\n").filter((l) => l === "# TYPE metawire_responses_total counter").length, 1);
});

test("prometheus: without stats_tags the tags stay in the (sanitised) name, as in an Envoy without them", () => {
  const m = new MetricStore();
  m.increment(m.define(Counter, "protocol=.=redis;.;service=.=;.;method=.=GET;.;metawire_requests_total").id, 7n);
  assert.equal(m.toPrometheus(), "# TYPE protocol___redis___service______method___GET___metawire_requests_total counter\n"
    + "protocol___redis___service______method___GET___metawire_requests_total{} 7\n");
});
