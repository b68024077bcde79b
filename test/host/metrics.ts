// Envoy's handling of proxy_define_metric / increment / record / get (source/extensions/
// common/wasm/context.cc) and of how those stats appear on /stats/prometheus.
// Stats live in the process (Envoy's stats store), but metric ids are handed out per VM
// (cpp-host keeps the id counters in WasmBase), so a MetricStore holds the stats and each VM
// should use its own id table from forVm(); the store's own define/... use a default table.
import { WasmResult } from "./envoy-abi.js";

export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
const TYPE_MASK = 3;    // cpp-host kMetricTypeMask
const ID_STEP = 4;      // cpp-host kMetricIdIncrement
const NAMESPACE = "wasmcustom";   // the custom stat namespace the wasm filter registers
const TYPE_NAMES = ["counter", "gauge", "histogram"] as const;

// Envoy's default histogram buckets (HistogramStatisticsImpl::supportedBuckets).
export const DEFAULT_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
  60000, 300000, 600000, 1800000, 3600000];

export interface Stat { type: number; name: string; value: bigint; samples: bigint[] }

export interface StatsTag { tagName: string; regex: string }
export interface PrometheusOptions {
  statsTags?: StatsTag[];
  // stats_matcher.inclusion_list prefixes, matched against the full name "wasmcustom.<name>"
  // (Istio only keeps the stats its inclusion list names).
  inclusionPrefixes?: string[];
}

export class MetricIds {
  private readonly byId = new Map<number, Stat>();
  private readonly next = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram].map(Number);

  constructor(private readonly store: MetricStore) {}

  define(type: number, name: string): { result: number; id: number } {
    if (!Number.isInteger(type) || type < 0 || type > 2) return { result: WasmResult.BadArgument, id: 0 };
    this.next[type] = (this.next[type] + ID_STEP) >>> 0;
    const id = this.next[type];
    this.byId.set(id, this.store.stat(type, name));
    return { result: WasmResult.Ok, id };
  }

  increment(id: number, delta: bigint): number {
    const type = id & TYPE_MASK;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const stat = this.byId.get(id);
    if (!stat) return WasmResult.NotFound;
    const d = BigInt.asIntN(64, delta);
    if (type === MetricType.Counter && d <= 0n) return WasmResult.BadArgument;
    stat.value = BigInt.asUintN(64, stat.value + d);   // Envoy's uint64 gauge wraps below 0
    return WasmResult.Ok;
  }

  // Counters ADD the value (not set); gauges set; histograms take a sample.
  record(id: number, value: bigint): number {
    const stat = this.byId.get(id);
    if (!stat) return WasmResult.NotFound;
    const v = BigInt.asUintN(64, value);
    if (stat.type === MetricType.Counter) stat.value = BigInt.asUintN(64, stat.value + v);
    else if (stat.type === MetricType.Gauge) stat.value = v;
    else stat.samples.push(v);
    return WasmResult.Ok;
  }

  get(id: number): { result: number; value?: bigint } {
    const type = id & TYPE_MASK;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return { result: WasmResult.BadArgument };
    const stat = this.byId.get(id);
    return stat ? { result: WasmResult.Ok, value: stat.value } : { result: WasmResult.NotFound };
  }
}

export class MetricStore {
  private readonly stats = new Map<string, Stat>();
  private readonly defaultIds = new MetricIds(this);

  forVm(): MetricIds {
    return new MetricIds(this);
  }

  // Counters, gauges and histograms are separate namespaces in an Envoy scope.
  stat(type: number, name: string): Stat {
    const key = `${type}\0${name}`;
    let stat = this.stats.get(key);
    if (!stat) this.stats.set(key, (stat = { type, name, value: 0n, samples: [] }));
    return stat;
  }

  define(type: number, name: string) { return this.defaultIds.define(type, name); }
  increment(id: number, delta: bigint) { return this.defaultIds.increment(id, delta); }
  record(id: number, value: bigint) { return this.defaultIds.record(id, value); }
  get(id: number) { return this.defaultIds.get(id); }

  private find(name: string, type?: number): Stat | undefined {
    for (const s of this.stats.values()) if (s.name === name && (type === undefined || s.type === type)) return s;
    return undefined;
  }

  // Counter or gauge value by the name the module defined (without "wasmcustom.").
  value(name: string, type?: number): bigint | undefined {
    const s = this.find(name, type);
    return s && s.type !== MetricType.Histogram ? s.value : undefined;
  }

  samples(name: string): bigint[] {
    return [...(this.find(name, MetricType.Histogram)?.samples ?? [])];
  }

  names(): string[] {
    return [...new Set([...this.stats.values()].map((s) => s.name))];
  }

  /** Every stat (live objects: read, do not modify), in definition order. */
  all(): Stat[] {
    return [...this.stats.values()];
  }

  toPrometheus(opts: PrometheusOptions = {}): string {
    const groups = new Map<string, { type: number; name: string; members: { stat: Stat; full: string; tags: Tag[] }[] }>();
    for (const stat of this.stats.values()) {
      const full = `${NAMESPACE}.${stat.name}`;
      if (opts.inclusionPrefixes && !opts.inclusionPrefixes.some((p) => full.startsWith(p))) continue;
      const { extracted, tags } = extractTags(full, opts.statsTags ?? []);
      const key = `${stat.type}\0${extracted}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { type: stat.type, name: extracted, members: [] }));
      group.members.push({ stat, full, tags });
    }
    let out = "";
    for (const type of [MetricType.Counter, MetricType.Gauge, MetricType.Histogram]) {
      const ofType = [...groups.values()].filter((g) => g.type === type).sort((a, b) => statNameCompare(a.name, b.name));
      for (const group of ofType) {
        const promName = metricName(group.name);
        if (promName === undefined) continue;
        out += `# TYPE ${promName} ${TYPE_NAMES[type]}\n`;
        group.members.sort((a, b) => statNameCompare(a.full, b.full));
        for (const { stat, tags } of group.members) {
          out += type === MetricType.Histogram ? histogramLines(promName, tags, stat.samples)
            : `${promName}{${formatTags(tags)}} ${stat.value}\n`;
        }
      }
    }
    return out;
  }
}

// Istio's bootstrap turns each extraStatTags entry T into this regex.
export function istioStatsTags(names: string[]): StatsTag[] {
  return names.map((t) => ({ tagName: t, regex: `(${t}=\\.=(.*?);\\.;)` }));
}

// The tags metawire writes into its metric names (assembly/telemetry/names.ts TAG_NAMES, in that
// order); envoy/stats-tags.yaml holds the same list as Envoy stats_tags.
export const METAWIRE_TAG_NAMES = ["protocol", "service", "method", "response_status", "policy", "route", "cluster"] as const;
export const METAWIRE_STATS_TAGS: StatsTag[] = istioStatsTags([...METAWIRE_TAG_NAMES]);

// --- tag extraction (Envoy TagProducerImpl / TagExtractorStdRegexImpl) ---

export interface Tag { name: string; value: string }

// TagExtractorImplBase::extractRegexPrefix: "^word\." regexes only run on names whose first
// token is that word, after all prefix-less extractors; this decides the tag order.
function regexPrefix(regex: string): string {
  if (!regex.startsWith("^")) return "";
  for (let i = 1; i < regex.length; i++) {
    if (/[A-Za-z0-9_]/.test(regex[i])) continue;
    if (i === 1) return "";
    const last = i === regex.length - 1;
    const rest = regex.slice(i);
    const ok = last ? regex[i] === "$" : rest.startsWith("\\.") || rest.startsWith("(?=\\.)");
    return ok ? regex.slice(1, i) : "";
  }
  return "";
}

/**
 * Envoy's tag extraction over a full stat name ("wasmcustom.<defined name>"): the tags found, in
 * extraction order, and the name with every tag's first group cut out.
 */
export function extractTags(full: string, specs: StatsTag[]): { extracted: string; tags: Tag[] } {
  const dot = full.indexOf(".");
  const firstToken = dot >= 0 ? full.slice(0, dot) : undefined;
  const withPrefix = specs.map((s) => ({ ...s, prefix: regexPrefix(s.regex) }));
  const ordered = [...withPrefix.filter((s) => s.prefix === ""),
    ...withPrefix.filter((s) => s.prefix !== "" && s.prefix === firstToken)];
  const tags: Tag[] = [];
  const remove = new Array<boolean>(full.length).fill(false);
  for (const spec of ordered) {
    if (tags.some((t) => t.name === spec.tagName)) continue;   // first match of a name wins
    const m = new RegExp(spec.regex, "d").exec(full);
    if (!m || m.length < 2) continue;
    // Group 1 is cut out of the name; group 2 (or group 1 when there is no second) is the value.
    const span = m.indices![1];
    tags.push({ name: spec.tagName, value: (m.length > 2 ? m[2] : m[1]) ?? "" });
    if (span) for (let i = span[0]; i < span[1]; i++) remove[i] = true;
  }
  let extracted = "";
  for (let i = 0; i < full.length; i++) if (!remove[i]) extracted += full[i];   // regex indices are UTF-16 units
  return { extracted, tags };
}

// --- Prometheus text (source/server/admin/prometheus_stats.cc) ---

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, "_");
}

// A registered custom namespace is stripped and no "envoy_" is added; a result that is empty
// or starts with a digit is not exported at all.
function metricName(extracted: string): string | undefined {
  const dot = extracted.indexOf(".");
  if (dot >= 0 && extracted.slice(0, dot) === NAMESPACE) {
    const name = sanitize(extracted.slice(dot + 1));
    return name === "" || /^[0-9]/.test(name) ? undefined : name;
  }
  return `envoy_${sanitize(extracted)}`;
}

function formatTags(tags: Tag[]): string {
  return tags.map((t) => `${sanitize(t.name)}="${t.value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",");
}

// Symbol-table order: token by token (split on '.'), bytewise within a token.
function statNameCompare(a: string, b: string): number {
  const at = a.split("."), bt = b.split(".");
  for (let i = 0; i < Math.min(at.length, bt.length); i++) {
    const c = Buffer.compare(Buffer.from(at[i]), Buffer.from(bt[i]));
    if (c !== 0) return c;
  }
  return at.length - bt.length;
}

// fmt's "{:.32g}": 32 significant digits, trailing zeros dropped, exponent form outside [-4, 32).
export function formatG32(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const [mant, expText] = x.toExponential(31).split("e");
  const exp = Number(expText);
  const sign = mant.startsWith("-") ? "-" : "";
  const digits = mant.replace(/^-/, "").replace(".", "");
  const trim = (s: string) => s.replace(/0+$/, "");
  if (exp < -4 || exp >= 32) {
    const frac = trim(digits.slice(1));
    const e = Math.abs(exp).toString().padStart(2, "0");
    return `${sign}${digits[0]}${frac ? `.${frac}` : ""}e${exp < 0 ? "-" : "+"}${e}`;
  }
  const int = exp >= 0 ? digits.slice(0, exp + 1) : "0";
  const frac = trim(exp >= 0 ? digits.slice(exp + 1) : "0".repeat(-exp - 1) + digits);
  return `${sign}${int}${frac ? `.${frac}` : ""}`;
}

// --- circllhist, which Envoy histograms are built on: samples fall into bins of two
// significant decimal digits, bucket counts and the sum are computed from the bins. ---

interface Bin { val: number; exp: number }

const pow10 = (e: number) => Number(`1e${e}`);   // same doubles as circllhist's power_of_ten table

// int_scale_to_hist_bucket(value, 0): Envoy records uint64 samples through an int64 parameter.
function intBin(sample: bigint): Bin {
  let v = BigInt.asIntN(64, sample);
  if (v === 0n) return { val: 0, exp: 0 };
  let sign = 1;
  if (v < 0n) {
    v = v === -(1n << 63n) ? (1n << 63n) - 1n : -v;
    sign = -1;
  }
  let scale = 1;
  if (v < 10n) {
    v *= 10n;
    scale -= 1;
  }
  while (v >= 100n) {
    v /= 10n;
    scale++;
  }
  return { val: sign * Number(v), exp: scale };
}

// double_to_hist_bucket, for the bucket bounds.
function doubleBin(d: number): Bin {
  if (d === 0) return { val: 0, exp: 0 };
  const sign = d < 0 ? -1 : 1;
  const a = Math.abs(d);
  const exp = Math.floor(Math.log10(a));
  let val = sign * Math.floor((a / pow10(exp)) * 10 + 1e-13);
  let e = exp;
  if (val === 100 || val === -100) {
    val /= 10;
    e++;
  }
  return { val, exp: e };
}

// hist_bucket_cmp turned into an ascending comparator.
function binCompare(a: Bin, b: Bin): number {
  if (a.val === b.val && a.exp === b.exp) return 0;
  if (a.val === 0) return b.val > 0 ? -1 : 1;
  if (b.val === 0) return a.val < 0 ? -1 : 1;
  if (a.val < 0 && b.val > 0) return -1;
  if (a.val > 0 && b.val < 0) return 1;
  if (a.exp === b.exp) return a.val < b.val ? -1 : 1;
  if (a.exp > b.exp) return a.val < 0 ? -1 : 1;
  return a.val < 0 ? 1 : -1;
}

function binMidpoint(b: Bin): number {
  if (b.val === 0) return 0;
  const bottom = (b.val / 10.0) * pow10(b.exp);
  let interval = pow10(b.exp) / 10.0;
  if (bottom < 0) interval *= -1.0;
  const top = bottom + interval;
  return bottom + interval * (bottom / (bottom + top));
}

function histogramLines(name: string, tags: Tag[], samples: bigint[]): string {
  const counts = new Map<string, { bin: Bin; count: number }>();
  for (const s of samples) {
    const bin = intBin(s);
    const key = `${bin.val}e${bin.exp}`;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { bin, count: 1 });
  }
  const bins = [...counts.values()].sort((a, b) => binCompare(a.bin, b.bin));
  // hist_approx_sum: bin midpoints, summed in bin order.
  let sum = 0;
  for (const { bin, count } of bins) sum += binMidpoint(bin) * count;
  const tagText = formatTags(tags);
  const prefix = tags.length > 0 ? `${tagText},` : "";
  let out = "";
  for (const bound of DEFAULT_BUCKETS) {
    // hist_approx_count_below: samples whose bin is at or below the bin holding the bound.
    const target = doubleBin(bound);
    const below = bins.reduce((n, b) => (binCompare(b.bin, target) <= 0 ? n + b.count : n), 0);
    out += `${name}_bucket{${prefix}le="${formatG32(bound)}"} ${below}\n`;
  }
  out += `${name}_bucket{${prefix}le="+Inf"} ${samples.length}\n`;
  out += `${name}_sum{${tagText}} ${formatG32(sum)}\n`;
  out += `${name}_count{${tagText}} ${samples.length}\n`;
  return out;
}
