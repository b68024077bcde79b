// metawire-proxy: put a proxy-wasm network filter in front of a real server in one command,
// hosted the way Envoy hosts it (load checks, on_configure, tcp_proxy routing), and watch
// its log lines, the cluster each connection took and the filter state it left behind.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkModule, LoadError } from "./envoy-abi.js";
import { parseModule } from "./wasm-binary.js";
import { ConfigureError, LogLevel, StartError } from "./vm.js";
import { startProxy, type ProxyEvent } from "./tcp-proxy.js";
import { METAWIRE_TAG_NAMES, istioStatsTags } from "./metrics.js";

export const USAGE = `usage: metawire-proxy --wasm FILE --listen HOST:PORT --cluster NAME=HOST:PORT [options]

  --wasm FILE               the proxy-wasm network filter (.wasm); omit with --no-wasm
  --no-wasm                 plain tcp_proxy, no filter (same code path minus the filter)
  --config FILE             plugin configuration handed to proxy_on_configure (e.g. JSON)
  --listen HOST:PORT        where to accept connections (port 0 = any free port)
  --cluster NAME=HOST:PORT  an upstream cluster; repeat for more. The filter may pick one by
                            setting filter state envoy.tcp_proxy.cluster
  --default-cluster NAME    tcp_proxy's configured cluster (default: "default", else the first)
  --early-data BYTES        tcp_proxy max_early_data_bytes: the filter sees payload before the
                            cluster is chosen (Envoy >= 1.37)
  --connect-mode MODE       immediate (default) | on-downstream-data (needs --early-data)
  --workers N               worker VMs sharing stats and shared data (default 1)
  --admin HOST:PORT         admin endpoint: /stats, /stats/prometheus, /ready
  --stats-tags T1,T2,...    stats_tags for /stats/prometheus: each tag T is extracted from
                            stat names with Istio's regex (T=\\.=(.*?);\\.;) and becomes a
                            label. "none": no extraction. Default: metawire's tags
                            ${METAWIRE_TAG_NAMES.join(",")}
  --fail-open               failure_policy FAIL_OPEN (default FAIL_CLOSED)
  --log-level LEVEL         trace|debug|info|warn|error|critical (default info)
  --vm-id ID --root-id ID --plugin-name NAME   plugin identity (properties, shared data)
  --help                    this text
`;

const LEVEL_NAMES = Object.keys(LogLevel) as (keyof typeof LogLevel)[];

function hostPort(s: string, what: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
  if (!m) throw new UsageError(`${what} must be HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

class UsageError extends Error {}

/** --stats-tags: comma-separated tag names; "none" for no extraction; absent: metawire's tags. */
function parseStatsTags(text: string | undefined): string[] {
  if (text === undefined) return [...METAWIRE_TAG_NAMES];
  if (text.trim() === "none") return [];
  const names = text.split(",").map((t) => t.trim());
  for (const n of names) {
    // Envoy's tag names are free-form, but a name that is not a plain word would be read as regex syntax here
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) throw new UsageError(`--stats-tags takes tag names like protocol,method (letters, digits, _), got ${JSON.stringify(n)}`);
  }
  if (new Set(names).size !== names.length) throw new UsageError("--stats-tags names a tag twice");
  return names;
}

export async function main(argv: string[], out: (line: string) => void = console.log,
  err: (line: string) => void = console.error): Promise<{ code: number; close?: () => Promise<void> }> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        wasm: { type: "string" }, "no-wasm": { type: "boolean" }, config: { type: "string" },
        listen: { type: "string" }, cluster: { type: "string", multiple: true }, "default-cluster": { type: "string" },
        "early-data": { type: "string" }, "connect-mode": { type: "string" }, workers: { type: "string" },
        admin: { type: "string" }, "stats-tags": { type: "string" }, "fail-open": { type: "boolean" }, "log-level": { type: "string" },
        "vm-id": { type: "string" }, "root-id": { type: "string" }, "plugin-name": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (e) {
    err(`metawire-proxy: ${(e as Error).message}\n\n${USAGE}`);
    return { code: 2 };
  }
  if (values.help) {
    out(USAGE);
    return { code: 0 };
  }

  try {
    if (!values.wasm && !values["no-wasm"]) throw new UsageError("--wasm FILE is required (or --no-wasm)");
    if (!values.listen) throw new UsageError("--listen HOST:PORT is required");
    if (!values.cluster?.length) throw new UsageError("at least one --cluster NAME=HOST:PORT is required");
    const clusters: Record<string, string> = {};
    for (const c of values.cluster) {
      const eq = c.indexOf("=");
      if (eq <= 0) throw new UsageError(`--cluster must be NAME=HOST:PORT, got ${JSON.stringify(c)}`);
      hostPort(c.slice(eq + 1), "--cluster");
      clusters[c.slice(0, eq)] = c.slice(eq + 1);
    }
    const cluster = values["default-cluster"] ?? ("default" in clusters ? "default" : Object.keys(clusters)[0]);
    if (!(cluster in clusters)) throw new UsageError(`--default-cluster ${cluster} is not a --cluster`);
    const levelName = values["log-level"] ?? "info";
    if (!(LEVEL_NAMES as string[]).includes(levelName)) throw new UsageError(`--log-level must be one of ${LEVEL_NAMES.join("|")}`);
    const logLevel = LogLevel[levelName as keyof typeof LogLevel];
    const connectMode = values["connect-mode"] ?? "immediate";
    if (connectMode !== "immediate" && connectMode !== "on-downstream-data") {
      throw new UsageError("--connect-mode must be immediate or on-downstream-data");
    }
    const earlyData = values["early-data"] !== undefined ? Number(values["early-data"]) : undefined;
    if (earlyData !== undefined && !(Number.isInteger(earlyData) && earlyData >= 0 && earlyData <= 1024 * 1024)) {
      throw new UsageError("--early-data must be an integer number of bytes, at most 1048576");
    }
    if (connectMode === "on-downstream-data" && earlyData === undefined) {
      throw new UsageError("--connect-mode on-downstream-data requires --early-data (as in Envoy)");
    }
    const workers = Number(values.workers ?? "1");
    if (!Number.isInteger(workers) || workers < 1) throw new UsageError("--workers must be a positive integer");
    const listen = hostPort(values.listen, "--listen");
    const admin = values.admin ? hostPort(values.admin, "--admin") : undefined;
    const statsTags = istioStatsTags(parseStatsTags(values["stats-tags"]));

    const wasm = values["no-wasm"] ? null : new Uint8Array(readFileSync(values.wasm!));
    if (wasm) {
      const info = parseModule(wasm);
      const plan = checkModule(info);
      for (const w of plan.warnings) err(`warning: ${w}`);
      try {
        checkModule(info, { requireNetworkCallbacks: true });
      } catch (e) {
        err(`warning: ${(e as Error).message} (Envoy loads it, but it will not see connection data)`);
      }
    }
    const pluginConfig = values.config ? new Uint8Array(readFileSync(values.config)) : undefined;

    // Context id -> connection id per worker, to label filter log lines by connection.
    const connOf = new Map<string, number>();
    const label = (worker: number, ctx: number) => {
      const id = connOf.get(`${worker}:${ctx}`);
      return id !== undefined ? `[conn ${id}]` : ctx === 0 ? `[vm ${worker}]` : `[root ${worker}]`;
    };
    const onEvent = (e: ProxyEvent) => {
      if (e.type === "open") {
        if (e.context !== undefined) connOf.set(`${e.worker}:${e.context}`, e.id);
        out(`[conn ${e.id}] open from ${e.source} (worker ${e.worker})`);
      } else if (e.type === "close") {
        const state = Object.entries(e.filterState).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join("");
        out(`[conn ${e.id}] close ${e.event ?? ""} (${e.reason ?? ""}) cluster=${e.cluster ?? "-"} `
          + `in=${e.bytesIn} out=${e.bytesOut}${state}`);
      } else {
        out(`${label(e.worker, e.context)} ${LEVEL_NAMES[e.level] ?? e.level}: ${e.msg}`);
      }
    };
    const proxy = await startProxy({
      wasm, pluginConfig, clusters, cluster, connectMode, maxEarlyDataBytes: earlyData, workers, logLevel,
      failurePolicy: values["fail-open"] ? "FAIL_OPEN" : "FAIL_CLOSED",
      vmId: values["vm-id"], rootId: values["root-id"], pluginName: values["plugin-name"],
      listen, admin, statsTags, onEvent,
    });
    out(`metawire-proxy listening on ${listen.host}:${proxy.port} -> ${Object.entries(clusters).map(([n, a]) => `${n}=${a}`).join(" ")}`
      + ` (default ${cluster}, ${earlyData !== undefined ? `early data ${earlyData} B, ${connectMode}` : "no early data"}`
      + `, ${wasm ? `${workers} worker VM${workers > 1 ? "s" : ""}` : "no filter"}`
      + `${proxy.adminPort !== undefined ? `, admin ${admin!.host}:${proxy.adminPort}` : ""})`);
    return { code: 0, close: proxy.close };
  } catch (e) {
    if (e instanceof UsageError) err(`metawire-proxy: ${e.message}\n\n${USAGE}`);
    else if (e instanceof LoadError) {
      err(`metawire-proxy: Envoy would refuse this module:`);
      for (const m of e.all) err(`  ${m}`);
    } else if (e instanceof ConfigureError || e instanceof StartError) {
      for (const l of e.logs) err(`  ${LEVEL_NAMES[l.level] ?? l.level}: ${l.msg}`);
      err(`metawire-proxy: ${e.message}`);
    } else err(`metawire-proxy: ${(e as Error).message}`);
    return { code: e instanceof UsageError ? 2 : 1 };
  }
}

// Entry point used by bin/metawire-proxy.js.
export async function run(argv = process.argv.slice(2)): Promise<void> {
  const { code, close } = await main(argv);
  if (!close) {
    process.exitCode = code;
    return;
  }
  const stop = () => { void close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
