// The project's deployment manifests as the tests see them: which files, their YAML documents, and
// for every place metawire is configured (a wasm filter of an Envoy listener, an Istio WasmPlugin)
// what Envoy would run: the plugin JSON, the plugin identity, failure policy, tcp_proxy's cluster and
// early-data settings, and the clusters that exist. The Istio side follows what istiod generates
// (spec: PluginConfig.name = "<namespace>.<name>", root_id = pluginName, no vm_id, the pluginConfig
// Struct as JSON in a StringValue; outbound clusters "outbound|<port>|<subset>|<host>").
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

export const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";
export const TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
export const STRING_VALUE_TYPE = "type.googleapis.com/google.protobuf.StringValue";
export const STATS_TAGS_FILE = "envoy/stats-tags.yaml";

type Obj = Record<string, any>;

function yamlFiles(dir: string, pred: (f: string) => boolean = () => true): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".yaml") && pred(f)).sort().map((f) => join(dir, f));
}

function exampleFiles(name: string): string[] {
  if (!existsSync("examples")) return [];
  return readdirSync("examples").sort().map((d) => join("examples", d, name)).filter((p) => existsSync(p));
}

/** Envoy bootstrap files: envoy/*.yaml (but the stats-tags list) and examples/<demo>/envoy.yaml. */
export const envoyFiles = (): string[] => [...yamlFiles("envoy", (f) => join("envoy", f) !== STATS_TAGS_FILE), ...exampleFiles("envoy.yaml")];
/** Kubernetes/Istio files: istio/*.yaml and examples/<demo>/istio.yaml. */
export const istioFiles = (): string[] => [...yamlFiles("istio"), ...exampleFiles("istio.yaml")];

/** Every document of a YAML file; throws on a YAML error or warning (duplicate keys included). */
export function loadYaml(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true, prettyErrors: true });
  const out: Obj[] = [];
  for (const d of docs) {
    const problems = [...d.errors, ...d.warnings];
    if (problems.length) throw new Error(`${file}: ${problems.map((e) => e.message).join("; ")}`);
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v as Obj);
  }
  return out;
}

/** A strategic-merge patch file (no apiVersion/kind) and the kind it patches. */
export const PATCHES: Record<string, string> = { "istio/stats-patch.yaml": "apps/v1/Deployment" };

export interface TcpProxyInfo {
  cluster?: string;
  weightedClusters: boolean;
  maxEarlyDataBytes?: number;
  connectMode?: string;
  accessLogFormats: string[];
}

/** One place metawire runs, as Envoy would configure it. */
export interface PluginSite {
  source: string;                    // "envoy/thrift.yaml listener thrift_in", "istio/dubbo.yaml WasmPlugin demo/metawire-dubbo"
  file: string;
  kind: "envoy" | "istio";
  /** The on_configure buffer. */
  configuration: string;
  config: Obj;
  pluginName: string;
  rootId: string;
  vmId: string;
  failurePolicy: string;             // FAIL_CLOSED | FAIL_OPEN | FAIL_RELOAD
  tcpProxy: TcpProxyInfo;
  /** Clusters a connection may be sent to (static clusters / Istio clusters the manifests create). */
  clusters: string[];
}

const routeClusters = (config: Obj): string[] =>
  (config.routes ?? []).flatMap((r: Obj) => (r.cluster !== undefined ? [r.cluster] : (r.clusters ?? []).map((c: Obj) => c.name)));
export { routeClusters };

function tcpProxyInfo(tc: Obj): TcpProxyInfo {
  const mx = tc.max_early_data_bytes ?? tc.maxEarlyDataBytes;
  return {
    cluster: tc.cluster,
    weightedClusters: tc.weighted_clusters !== undefined || tc.weightedClusters !== undefined,
    maxEarlyDataBytes: mx === undefined ? undefined : Number(mx),
    connectMode: tc.upstream_connect_mode ?? tc.upstreamConnectMode,
    accessLogFormats: (tc.access_log ?? []).map((a: Obj) => a.typed_config?.log_format?.text_format_source?.inline_string).filter((s: unknown) => typeof s === "string"),
  };
}

/** The metawire filters of an Envoy bootstrap, each with the tcp_proxy that follows it. */
export function envoySites(file: string): PluginSite[] {
  const [boot] = loadYaml(file);
  const clusters: string[] = (boot.static_resources?.clusters ?? []).map((c: Obj) => c.name);
  const sites: PluginSite[] = [];
  for (const l of boot.static_resources?.listeners ?? []) {
    for (const chain of l.filter_chains ?? []) {
      const filters: Obj[] = chain.filters ?? [];
      filters.forEach((f, i) => {
        if (f.typed_config?.["@type"] !== WASM_TYPE) return;
        const pc = f.typed_config.config;
        const next = filters.slice(i + 1).find((g) => g.typed_config?.["@type"] === TCP_PROXY_TYPE);
        const configuration: string = pc.configuration?.value ?? "";
        sites.push({
          source: `${file} listener ${l.name}`, file, kind: "envoy",
          configuration, config: JSON.parse(configuration || "{}"),
          pluginName: pc.name ?? "", rootId: pc.root_id ?? "", vmId: pc.vm_config?.vm_id ?? "",
          failurePolicy: pc.failure_policy ?? "FAIL_CLOSED",
          tcpProxy: next ? tcpProxyInfo(next.typed_config) : { weightedClusters: false, accessLogFormats: [] },
          clusters,
        });
      });
    }
  }
  return sites;
}

export interface IstioSet {
  file: string;
  docs: Obj[];
  wasmPlugins: Obj[];
  envoyFilters: Obj[];
  destinationRules: Obj[];
}

export function istioSet(file: string): IstioSet {
  const docs = loadYaml(file);
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  return { file, docs, wasmPlugins: of("WasmPlugin"), envoyFilters: of("EnvoyFilter"), destinationRules: of("DestinationRule") };
}

const FAIL: Record<string, string> = { FAIL_CLOSE: "FAIL_CLOSED", FAIL_OPEN: "FAIL_OPEN", FAIL_RELOAD: "FAIL_RELOAD" };
const CONTEXT: Record<string, string> = { CLIENT: "SIDECAR_OUTBOUND", SERVER: "SIDECAR_INBOUND" };

const labelsMatch = (selector: Obj | undefined, labels: Obj | undefined): boolean =>
  JSON.stringify(Object.entries(selector ?? {}).sort()) === JSON.stringify(Object.entries(labels ?? {}).sort());

/** The tcp_proxy patches of `set`'s EnvoyFilters that apply to a WasmPlugin's workloads, mode and port. */
export function earlyDataPatches(set: IstioSet, wp: Obj, mode: string, port: number): Obj[] {
  return set.envoyFilters.flatMap((ef) => {
    if (ef.metadata?.namespace !== wp.metadata?.namespace) return [];
    if (!labelsMatch(ef.spec?.workloadSelector?.labels, wp.spec?.selector?.matchLabels)) return [];
    return (ef.spec?.configPatches ?? []).filter((p: Obj) =>
      p.applyTo === "NETWORK_FILTER" && p.match?.context === CONTEXT[mode] && p.match?.listener?.portNumber === port
      && p.match?.listener?.filterChain?.filter?.name === "envoy.filters.network.tcp_proxy"
      && p.patch?.operation === "MERGE" && p.patch?.value?.typed_config?.["@type"] === TCP_PROXY_TYPE);
  });
}

/** Istio outbound cluster name parts. */
export function parseIstioCluster(name: string): { direction: string; port: number; subset: string; host: string } | undefined {
  const m = /^(outbound|inbound)\|(\d+)\|([^|]*)\|([^|]*)$/.exec(name);
  return m ? { direction: m[1], port: Number(m[2]), subset: m[3], host: m[4] } : undefined;
}

/** One site per WasmPlugin × match × port, as istiod would configure that listener. */
export function istioSites(set: IstioSet): PluginSite[] {
  const sites: PluginSite[] = [];
  for (const wp of set.wasmPlugins) {
    const ns = wp.metadata?.namespace ?? "default";
    const config: Obj = wp.spec?.pluginConfig ?? {};
    const targets = routeClusters(config);
    // Clusters istiod creates for the hosts the routes name: the service and each DestinationRule subset.
    const hosts = new Set(targets.map((c) => parseIstioCluster(c)?.host).filter((h): h is string => !!h));
    for (const m of wp.spec?.match ?? [{}]) {
      for (const { number: port } of m.ports ?? []) {
        const mode = m.mode ?? "CLIENT_AND_SERVER";
        const clusters: string[] = [];
        for (const host of hosts) {
          clusters.push(`outbound|${port}||${host}`);
          for (const dr of set.destinationRules.filter((d) => d.spec?.host === host)) {
            for (const s of dr.spec?.subsets ?? []) clusters.push(`outbound|${port}|${s.name}|${host}`);
          }
        }
        const [host] = [...hosts];
        const cluster = mode === "SERVER" ? `inbound|${port}||` : host ? `outbound|${port}||${host}` : `outbound|${port}||`;
        if (!clusters.includes(cluster)) clusters.push(cluster);
        const patch = earlyDataPatches(set, wp, mode, port)[0];
        sites.push({
          source: `${set.file} WasmPlugin ${ns}/${wp.metadata?.name} ${mode} port ${port}`, file: set.file, kind: "istio",
          configuration: JSON.stringify(config), config,
          pluginName: `${ns}.${wp.metadata?.name}`, rootId: wp.spec?.pluginName ?? "", vmId: "",
          failurePolicy: FAIL[wp.spec?.failStrategy ?? "FAIL_CLOSE"],
          tcpProxy: { ...(patch ? tcpProxyInfo(patch.patch.value.typed_config) : { weightedClusters: false, accessLogFormats: [] }), cluster },
          clusters,
        });
      }
    }
  }
  return sites;
}

/**
 * The stats_tags of envoy/stats-tags.yaml (metawire's metric tags, kept with the metrics), when the
 * file exists: a `stats_config: {stats_tags: […]}` fragment or a bare list.
 */
export function statsTags(): { tag_name: string; regex: string }[] | undefined {
  if (!existsSync(STATS_TAGS_FILE)) return undefined;
  const [doc] = loadYaml(STATS_TAGS_FILE) as unknown[];
  const list = Array.isArray(doc) ? doc : (doc as Obj | undefined)?.stats_config?.stats_tags;
  if (!Array.isArray(list)) throw new Error(`${STATS_TAGS_FILE}: no stats_config.stats_tags list`);
  return list as { tag_name: string; regex: string }[];
}
