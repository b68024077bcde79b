// The deployment manifests, validated offline:
// - every Envoy YAML (envoy/*.yaml, examples/*/envoy.yaml) read as envoy.config.bootstrap.v3.Bootstrap
//   against Envoy's v3 protos (@grpc/grpc-js-xds + the overlays in test/fixtures/protos), failing on
//   any unknown field at any depth (Any payloads included), then encoded and decoded back;
// - every Kubernetes/Istio document (istio/*.yaml, examples/*/istio.yaml) by its model
//   (@kubernetes-models/istio, kubernetes-models) plus an unknown-field check against the model's
//   declaration; EnvoyFilter patch values against the Envoy protos; proxy.istio.io/config against
//   Istio's ProxyConfig fields;
// - every plugin configuration against schema/metawire.schema.json;
// - what ties them together: routes only with tcp_proxy early data (and its caveat written next to
//   it), routes only to clusters that exist, no weighted_clusters, access logs that print metawire's
//   filter state, one image URL and digest, the metrics kept under Istio, stats_tags.
// Mutation tests at the end show each check rejects what it should.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { convert, envoyApi, istioProxyConfigType, roundTrip } from "./envoy-proto.js";
import { checkDocument } from "./k8s.js";
import {
  envoyFiles, envoySites, istioFiles, istioSet, istioSites, loadYaml, parseIstioCluster, PATCHES, routeClusters,
  STATS_TAGS_FILE, statsTags, STRING_VALUE_TYPE, TCP_PROXY_TYPE, WASM_TYPE, type PluginSite,
} from "./manifests.js";

type Obj = Record<string, any>;
const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";
const clone = <T>(v: T): T => structuredClone(v);

const schema = JSON.parse(readFileSync("schema/metawire.schema.json", "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
const validateConfig = ajv.compile(schema);

/** Filter-state keys metawire writes (README "Metadata"); access logs may print only these. */
const METAWIRE_KEYS = /^wasm\.metawire\.(protocol|service|method|key|version|group|id|kind|response_status|response_code|cluster|requests|errors|first_method|last_method|header\.[^:)]+)$/;

const allSites = (): PluginSite[] => [...envoyFiles().flatMap(envoySites), ...istioFiles().map(istioSet).flatMap(istioSites)];

/** Every string in `v` at a key named `annotations`' `proxy.istio.io/config`, with its path. */
function proxyConfigAnnotations(v: unknown, path = "$", out: { path: string; value: string }[] = []): { path: string; value: string }[] {
  if (Array.isArray(v)) v.forEach((x, i) => proxyConfigAnnotations(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "annotations" && x && typeof x === "object" && typeof (x as Obj)["proxy.istio.io/config"] === "string") {
        out.push({ path: `${path}.annotations`, value: (x as Obj)["proxy.istio.io/config"] });
      }
      proxyConfigAnnotations(x, `${path}.${k}`, out);
    }
  }
  return out;
}

test("the manifests exist: Envoy configs for Redis, Thrift, Dubbo and the demo; Istio manifests", () => {
  for (const f of ["envoy/dubbo.yaml", "envoy/redis.yaml", "envoy/thrift.yaml"]) assert.ok(envoyFiles().includes(f), f);
  assert.ok(envoyFiles().includes("examples/thrift-split/envoy.yaml"));
  assert.ok(istioFiles().includes("examples/thrift-split/istio.yaml"));
  const protocols = new Set(envoyFiles().flatMap(envoySites).map((s) => s.config.protocol));
  assert.deepEqual([...protocols].sort(), ["dubbo", "redis", "thrift"]);
});

test("the overlay adds exactly the fields the vendored Envoy API lacks", () => {
  assert.deepEqual(envoyApi().overlaid.sort(), [
    "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.max_early_data_bytes",
    "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.upstream_connect_mode",
    "envoy.extensions.filters.network.tcp_proxy.v3.UpstreamConnectMode",
    "envoy.extensions.wasm.v3.FailurePolicy",
    "envoy.extensions.wasm.v3.PluginConfig.failure_policy",
  ]);
  const tcp = envoyApi().type("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
  assert.equal(tcp.fields.max_early_data_bytes.id, 22);
  assert.equal(tcp.fields.upstream_connect_mode.id, 21);
  assert.equal(envoyApi().type("envoy.extensions.wasm.v3.PluginConfig").fields.failure_policy.id, 7);
});

for (const file of envoyFiles()) {
  test(`${file}: a valid Envoy v3 Bootstrap, no unknown field at any depth; encodes and decodes with every Any`, () => {
    const [doc] = loadYaml(file);
    const B = envoyApi().type(BOOTSTRAP);
    const r = convert(doc, B);
    assert.deepEqual(r.errors, []);
    const decoded = roundTrip(r.value, B);
    const types = decoded.anys.map((a) => a.typeUrl);
    assert.deepEqual(types, r.anys.map((a) => a.typeUrl), "every Any decoded from the wire");
    for (const t of [WASM_TYPE, STRING_VALUE_TYPE, TCP_PROXY_TYPE]) assert.ok(types.includes(t), `${t} in ${types.join(", ")}`);
    // The plugin JSON and the failure policy survive the binary form byte for byte.
    const sites = envoySites(file);
    const wasm = decoded.anys.filter((a) => a.typeUrl === WASM_TYPE).map((a) => (a.message as any).config);
    const configs = decoded.anys.filter((a) => a.typeUrl === STRING_VALUE_TYPE).map((a) => (a.message as any).value);
    assert.equal(wasm.length, sites.length);
    assert.deepEqual(configs, sites.map((s) => s.configuration));
    const FP = envoyApi().root.lookupEnum("envoy.extensions.wasm.v3.FailurePolicy");
    assert.deepEqual(wasm.map((c) => FP.valuesById[c.failure_policy]), sites.map((s) => s.failurePolicy));
    for (const c of wasm) {
      assert.equal(c.vm_config.runtime, "envoy.wasm.runtime.v8");
      assert.match(c.vm_config.code.local.filename, /metawire\.wasm$/);
    }
  });
}

for (const file of istioFiles()) {
  test(`${file}: every document valid for its model, no unknown field`, async () => {
    const docs = loadYaml(file);
    assert.ok(docs.length > 0);
    for (const doc of docs) {
      assert.deepEqual(await checkDocument(doc, PATCHES[file]), [], `${doc.kind ?? "patch"} ${doc.metadata?.name ?? ""}`);
    }
  });
}

test("EnvoyFilter patch values are valid Envoy network filters (merge patches, strictly typed)", () => {
  const Filter = envoyApi().type("envoy.config.listener.v3.Filter");
  let n = 0;
  for (const file of istioFiles()) {
    for (const ef of istioSet(file).envoyFilters) {
      for (const p of ef.spec.configPatches) {
        assert.equal(p.applyTo, "NETWORK_FILTER", `${file} ${ef.metadata.name}`);
        const r = convert(p.patch.value, Filter, { partial: true });
        assert.deepEqual(r.errors, [], `${file} ${ef.metadata.name}`);
        roundTrip(r.value, Filter);
        n++;
      }
    }
  }
  assert.ok(n >= 2, "the Dubbo and the demo EnvoyFilters");
});

test("proxy.istio.io/config annotations are Istio ProxyConfig and keep metawire's metrics (wasmcustom)", () => {
  const PC = istioProxyConfigType();
  const tags = statsTags()?.map((t) => t.tag_name);
  let n = 0;
  for (const file of istioFiles()) {
    for (const doc of loadYaml(file)) {
      for (const a of proxyConfigAnnotations(doc)) {
        const value = parse(a.value);
        const r = convert(value, PC, { root: PC.root });
        assert.deepEqual(r.errors, [], `${file} ${a.path}`);
        assert.ok(value.proxyStatsMatcher?.inclusionPrefixes?.includes("wasmcustom"), `${file} ${a.path}: inclusionPrefixes lacks wasmcustom`);
        if (tags) assert.deepEqual(value.extraStatTags, tags, `${file} ${a.path}: extraStatTags must list ${STATS_TAGS_FILE}'s tag names`);
        n++;
      }
    }
  }
  assert.ok(n >= 2, "the demo's client and the patch file");
  // In a file that deploys workloads, each WasmPlugin's workloads carry the annotation.
  for (const file of istioFiles()) {
    const docs = loadYaml(file);
    const deployments = docs.filter((d) => d.kind === "Deployment");
    for (const wp of docs.filter((d) => d.kind === "WasmPlugin")) {
      const selected = deployments.filter((d) => Object.entries(wp.spec.selector?.matchLabels ?? {})
        .every(([k, v]) => d.spec.template.metadata.labels?.[k] === v));
      for (const d of selected) {
        assert.ok(d.spec.template.metadata.annotations?.["proxy.istio.io/config"], `${file}: Deployment ${d.metadata.name} runs ${wp.metadata.name} without the stats annotation`);
      }
    }
  }
});

test("every plugin configuration is valid against schema/metawire.schema.json", () => {
  const sites = allSites();
  assert.ok(sites.length >= 7, sites.map((s) => s.source).join("\n"));
  for (const s of sites) {
    assert.ok(validateConfig(s.config), `${s.source}: ${JSON.stringify(validateConfig.errors)}`);
  }
});

/** What is wrong with how a site routes: early data, weighted_clusters, clusters that do not exist. */
function routingProblems(s: PluginSite): string[] {
  const out: string[] = [];
  if (s.tcpProxy.weightedClusters) out.push(`${s.source}: weighted_clusters ignores the cluster metawire picks`);
  for (const c of [...routeClusters(s.config), s.tcpProxy.cluster!]) {
    if (!s.clusters.includes(c)) out.push(`${s.source}: no cluster ${c} (have ${s.clusters.join(", ")})`);
  }
  if ((s.config.routes ?? []).length === 0) return out;
  const mx = s.tcpProxy.maxEarlyDataBytes ?? 0;
  if (!(mx > 0 && mx <= 1024 * 1024)) out.push(`${s.source}: routes need max_early_data_bytes (1 … 1048576), have ${s.tcpProxy.maxEarlyDataBytes}`);
  if (s.tcpProxy.connectMode !== "ON_DOWNSTREAM_DATA") out.push(`${s.source}: routes need upstream_connect_mode ON_DOWNSTREAM_DATA, have ${s.tcpProxy.connectMode}`);
  if (s.kind === "istio") {
    for (const c of routeClusters(s.config)) {
      const parsed = parseIstioCluster(c);
      if (!parsed || parsed.direction !== "outbound") out.push(`${s.source}: ${c} is not an Istio outbound cluster name`);
      else if (!s.source.includes(`CLIENT port ${parsed.port}`)) out.push(`${s.source}: route to port ${parsed.port} from another port or mode`);
    }
  }
  return out;
}

test("routes come with tcp_proxy early data, name clusters that exist, never meet weighted_clusters", () => {
  for (const s of allSites()) assert.deepEqual(routingProblems(s), []);
  // No VirtualService turns a routed port into weighted_clusters.
  for (const file of istioFiles()) {
    for (const vs of loadYaml(file).filter((d) => d.kind === "VirtualService")) {
      const weighted = (vs.spec.tcp ?? []).some((r: Obj) => (r.route ?? []).length > 1);
      assert.ok(!weighted, `${file}: VirtualService ${vs.metadata.name} has weighted tcp routes`);
    }
  }
});

test("next to each max_early_data_bytes, a comment on tcp_proxy's default mode and the Envoy version", () => {
  for (const file of [...envoyFiles(), ...istioFiles()]) {
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!/^\s*max_early_data_bytes:/.test(line)) return;
      const above = lines.slice(Math.max(0, i - 30), i).join("\n");
      assert.match(above, /#.*default mode/i, `${file}:${i + 1}: no comment on tcp_proxy's default mode above`);
      assert.match(above, /#.*1\.37/, `${file}:${i + 1}: no Envoy version above`);
    });
  }
});

test("WasmPlugins: NETWORK type, an oci:// image with its digest, the same image everywhere", () => {
  const images = new Set<string>();
  for (const file of istioFiles()) {
    for (const wp of istioSet(file).wasmPlugins) {
      assert.equal(wp.spec.type, "NETWORK", `${file} ${wp.metadata.name}`);
      assert.match(wp.spec.url, /^oci:\/\//, `${file} ${wp.metadata.name}`);
      assert.match(wp.spec.sha256, /^[a-f0-9]{64}$/, `${file} ${wp.metadata.name}`);
      assert.ok(wp.spec.phase && Number.isInteger(wp.spec.priority) && wp.spec.failStrategy && wp.spec.match?.length, `${file} ${wp.metadata.name}`);
      images.add(`${wp.spec.url}@${wp.spec.sha256}`);
    }
  }
  assert.equal(images.size, 1, `one image (npm run package -- --pin … rewrites them together): ${[...images].join(", ")}`);
});

test("access logs print metawire's filter state, by keys metawire writes", () => {
  for (const s of envoyFiles().flatMap(envoySites)) {
    assert.ok(s.tcpProxy.accessLogFormats.length > 0, `${s.source}: no access log on tcp_proxy`);
    for (const f of s.tcpProxy.accessLogFormats) {
      assert.match(f, /%FILTER_STATE\(wasm\.metawire\.method:PLAIN\)%/, s.source);
      assert.match(f, /%FILTER_STATE\(wasm\.metawire\.protocol:PLAIN\)%/, s.source);
      assert.match(f, /%FILTER_STATE\(wasm\.metawire\.response_status:PLAIN\)%/, s.source);
      for (const m of f.matchAll(/%FILTER_STATE\(([^:)]+)(?::([A-Z_]+))?\)%/g)) {
        assert.match(m[1], METAWIRE_KEYS, `${s.source}: ${m[1]} is not a key metawire writes`);
        assert.equal(m[2], "PLAIN", `${s.source}: ${m[1]} without :PLAIN prints the serialized CelState`);
      }
      assert.ok(f.endsWith("\n"), `${s.source}: a text format without a newline runs lines together`);
    }
  }
});

test(`stats_config.stats_tags: every Envoy config carries exactly ${STATS_TAGS_FILE}`, { skip: statsTags() ? false : `${STATS_TAGS_FILE} does not exist yet` }, () => {
  const tags = statsTags()!;
  assert.ok(Array.isArray(tags) && tags.length > 0);
  for (const t of tags) assert.match(t.regex, new RegExp(`^\\(${t.tag_name}=\\\\\\.=\\(\\.\\*\\?\\);\\\\\\.;\\)$`), `Istio's form for ${t.tag_name}`);
  for (const file of envoyFiles()) {
    const [doc] = loadYaml(file);
    assert.deepEqual(doc.stats_config?.stats_tags, tags, `${file}: copy stats_config from ${STATS_TAGS_FILE}`);
  }
});

// ---- the checks reject what they should ---------------------------------------------------------------

test("mutations: unknown fields at any depth, bad enums, PGV bounds and oneofs are rejected", () => {
  const B = envoyApi().type(BOOTSTRAP);
  const [base] = loadYaml("envoy/thrift.yaml");
  const listener = (d: Obj) => d.static_resources.listeners[0].filter_chains[0].filters;
  const cases: [string, (d: Obj) => void, RegExp][] = [
    ["top level", (d) => { d.bogus = 1; }, /^\$\.bogus: unknown field of envoy\.config\.bootstrap\.v3\.Bootstrap/],
    ["a cluster", (d) => { d.static_resources.clusters[0].lb_polcy = "ROUND_ROBIN"; }, /clusters\[0\]\.lb_polcy: unknown field/],
    ["inside the wasm Any", (d) => { listener(d)[0].typed_config.config.vm_config.vmid = "x"; }, /vm_config\.vmid: unknown field of envoy\.extensions\.wasm\.v3\.VmConfig/],
    ["the Any itself", (d) => { listener(d)[0].typed_config.bogus = true; }, /typed_config\.bogus: unknown field of envoy\.extensions\.filters\.network\.wasm\.v3\.Wasm/],
    ["an Any in an Any", (d) => { listener(d)[1].typed_config.access_log[0].typed_config.log_format.text_format_sorce = {}; }, /log_format\.text_format_sorce: unknown field/],
    ["the StringValue", (d) => { listener(d)[0].typed_config.config.configuration.extra = "x"; }, /configuration\.extra: unknown field of an Any holding/],
    ["an unknown @type", (d) => { listener(d)[1].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxi"; }, /unknown type/],
    ["an enum", (d) => { listener(d)[0].typed_config.config.failure_policy = "FAIL_SOMETIMES"; }, /"FAIL_SOMETIMES" is not a value of envoy\.extensions\.wasm\.v3\.FailurePolicy/],
    ["early data over 1 MiB", (d) => { listener(d)[1].typed_config.max_early_data_bytes = 2_000_000; }, /max_early_data_bytes: must be <= 1048576/],
    ["a string for a number", (d) => { listener(d)[1].typed_config.max_early_data_bytes = "lots"; }, /max_early_data_bytes: expected an integer/],
    ["two members of a oneof", (d) => { listener(d)[1].typed_config.weighted_clusters = { clusters: [{ name: "a", weight: 1 }] }; }, /oneof cluster_specifier: only one of/],
    ["a name given twice", (d) => { listener(d)[1].typed_config.statPrefix = "x"; }, /stat_prefix given twice/],
    ["a required field", (d) => { delete listener(d)[1].typed_config.stat_prefix; }, /stat_prefix is required/],
    ["a deprecated field", (d) => {
      const lf = listener(d)[1].typed_config.access_log[0].typed_config.log_format;
      lf.text_format = lf.text_format_source.inline_string;
      delete lf.text_format_source;
    }, /log_format\.text_format: deprecated field of envoy\.config\.core\.v3\.SubstitutionFormatString/],
    ["a bad duration", (d) => { d.static_resources.clusters[0].connect_timeout = "1 second"; }, /connect_timeout: expected a duration/],
  ];
  for (const [what, mutate, expected] of cases) {
    const d = clone(base);
    mutate(d);
    const { errors } = convert(d, B);
    assert.ok(errors.some((e) => expected.test(e)), `${what}: ${JSON.stringify(errors)}`);
  }
  // The JSON names are accepted as Envoy accepts them.
  const d = clone(base);
  const tp = listener(d)[1].typed_config;
  tp.statPrefix = tp.stat_prefix;
  delete tp.stat_prefix;
  assert.deepEqual(convert(d, B).errors, []);
});

test("mutations: unknown Istio/Kubernetes fields and bad values are rejected", async () => {
  const docs = loadYaml("examples/thrift-split/istio.yaml");
  const wp = docs.find((d) => d.kind === "WasmPlugin")!;
  const ef = docs.find((d) => d.kind === "EnvoyFilter")!;
  const dep = docs.find((d) => d.kind === "Deployment")!;
  const cases: [string, Obj, (d: Obj) => void, RegExp][] = [
    ["WasmPlugin spec", wp, (d) => { d.spec.failurePolicy = "FAIL_OPEN"; }, /\$\.spec\.failurePolicy: unknown field/],
    ["WasmPlugin match port", wp, (d) => { d.spec.match[0].ports[0].protocol = "TCP"; }, /\$\.spec\.match\[0\]\.ports\[0\]\.protocol: unknown field/],
    ["WasmPlugin metadata", wp, (d) => { d.metadata.label = { a: "b" }; }, /\$\.metadata\.label: unknown field/],
    ["WasmPlugin type", wp, (d) => { d.spec.type = "TCP"; }, /spec\/type must be equal to one of the allowed values/],
    ["WasmPlugin sha256", wp, (d) => { d.spec.sha256 = "sha256:abc"; }, /spec\/sha256/],
    ["EnvoyFilter match", ef, (d) => { d.spec.configPatches[0].match.listener.port = 9090; }, /listener\.port: unknown field/],
    ["Deployment container", dep, (d) => { d.spec.template.spec.containers[0].imagePullPolicie = "Always"; }, /containers\[0\]\.imagePullPolicie: unknown field/],
  ];
  for (const [what, doc, mutate, expected] of cases) {
    const d = clone(doc);
    mutate(d);
    const problems = await checkDocument(d);
    assert.ok(problems.some((p) => expected.test(p)), `${what}: ${JSON.stringify(problems)}`);
  }
  assert.match((await checkDocument({ apiVersion: "networking.istio.io/v1", kind: "Gateway" }))[0], /no model/);
  // A patch value field Envoy does not know.
  const Filter = envoyApi().type("envoy.config.listener.v3.Filter");
  const v = clone(ef.spec.configPatches[0].patch.value);
  v.typed_config.early_data_bytes = 1;
  assert.match(convert(v, Filter, { partial: true }).errors.join("\n"), /typed_config\.early_data_bytes: unknown field/);
  // An annotation field Istio's ProxyConfig does not have.
  const PC = istioProxyConfigType();
  assert.match(convert({ proxyStatsMatcher: { inclusionPrefix: ["x"] } }, PC, { root: PC.root }).errors.join("\n"), /inclusionPrefix: unknown field/);
});

test("mutations: routes without early data, with weighted_clusters or to missing clusters are reported", () => {
  const sites = allSites().filter((x) => (x.config.routes ?? []).length > 0);
  assert.ok(sites.some((x) => x.kind === "envoy") && sites.some((x) => x.kind === "istio"));
  for (const site of sites) {
    const cases: [string, (s: PluginSite) => void, RegExp][] = [
      ["no early data", (s) => { s.tcpProxy.maxEarlyDataBytes = undefined; }, /routes need max_early_data_bytes/],
      ["immediate connect", (s) => { s.tcpProxy.connectMode = "IMMEDIATE"; }, /routes need upstream_connect_mode/],
      ["weighted_clusters", (s) => { s.tcpProxy.weightedClusters = true; }, /weighted_clusters ignores/],
      ["a missing cluster", (s) => { s.config.routes[0].cluster = "nowhere"; delete s.config.routes[0].clusters; }, /no cluster nowhere/],
    ];
    for (const [what, mutate, expected] of cases) {
      const s = clone(site);
      mutate(s);
      assert.match(routingProblems(s).join("\n"), expected, `${site.source}: ${what}`);
    }
  }
  // An Istio route to a subset no DestinationRule declares.
  const set = istioSet("istio/dubbo.yaml");
  set.destinationRules[0].spec.subsets.pop();
  assert.match(istioSites(set).flatMap(routingProblems).join("\n"), /no cluster outbound\|20880\|v2\|/);
});
