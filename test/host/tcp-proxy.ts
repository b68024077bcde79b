// A real TCP proxy on the harness: a listener whose connections run through
// [wasm filter, tcp_proxy] exactly as FilterConnection models them, with "worker" VMs that
// share one MetricStore and SharedData (connections round-robin over them like Envoy workers)
// and an optional admin endpoint (/stats, /stats/prometheus, /ready).
import net from "node:net";
import { FilterConnection } from "./connection.js";
import { MetricStore, type StatsTag } from "./metrics.js";
import { SharedData } from "./shared-data.js";
import { SocketTransport, socketConnector } from "./socket-io.js";
import { decodeUtf8 } from "./guest-memory.js";
import { startAdmin, type AdminServer } from "./admin.js";
import { WasmVm, type FailurePolicy, type VmOptions } from "./vm.js";
import type { ConnectMode } from "./tcp-proxy-filter.js";

export type ProxyEvent =
  | { type: "open"; id: number; source: string; worker: number; context?: number }
  | { type: "close"; id: number; cluster?: string; event?: string; reason?: string; bytesIn: number; bytesOut: number;
      filterState: Record<string, string> }
  | { type: "log"; worker: number; level: number; msg: string; context: number };

export interface ProxyOptions {
  wasm?: Uint8Array | null;              // null: plain passthrough, same code path minus the filter
  pluginConfig?: string | Uint8Array;
  listen?: { host?: string; port?: number };  // port 0 = any free port
  clusters: Record<string, string>;      // name -> "host:port"
  cluster: string;                       // tcp_proxy's configured cluster
  connectMode?: ConnectMode;
  maxEarlyDataBytes?: number;            // set: receive before connect (Envoy >= 1.37 API)
  workers?: number;
  failurePolicy?: FailurePolicy;
  vmId?: string;
  rootId?: string;
  pluginName?: string;
  logLevel?: number;
  bufferLimit?: number;                  // per_connection_buffer_limit_bytes
  vm?: Omit<VmOptions, "pluginConfig" | "vmId" | "failurePolicy" | "metrics" | "sharedData" | "onLog">;
  onLog?: (level: number, msg: string, contextId: number, worker: number) => void;
  onEvent?: (e: ProxyEvent) => void;
  admin?: { host?: string; port: number };
  /**
   * The bootstrap's stats_tags: tag extraction for /stats/prometheus (e.g. METAWIRE_STATS_TAGS, or
   * istioStatsTags([...])). None by default, as in an Envoy without stats_tags: the tags stay in
   * the metric names.
   */
  statsTags?: StatsTag[];
}

export interface ProxyHandle {
  port: number;
  adminPort?: number;
  vms: WasmVm[];
  metrics: MetricStore;
  sharedData: SharedData;
  stats: { downstreamCxTotal: number; downstreamCxActive: number; noRoute: number };
  connections(): number;
  close(): Promise<void>;
}

// Filter-state values worth reporting when a connection closes.
function reportedState(conn: FilterConnection): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, entry] of conn.filterState) {
    if (key.startsWith("wasm.") || key.startsWith("envoy.")) out[key] = decodeUtf8(entry.value);
  }
  return out;
}

export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  if (!(opts.cluster in opts.clusters)) throw new Error(`default cluster ${opts.cluster} is not in clusters`);
  const metrics = new MetricStore();
  const sharedData = new SharedData();
  const vms: WasmVm[] = [];
  if (opts.wasm) {
    for (let w = 0; w < Math.max(1, opts.workers ?? 1); w++) {
      vms.push(await WasmVm.load(opts.wasm, {
        timers: "real",
        ...opts.vm,
        pluginConfig: opts.pluginConfig,
        vmId: opts.vmId,
        rootId: opts.rootId,
        pluginName: opts.pluginName,
        logLevel: opts.logLevel,
        failurePolicy: opts.failurePolicy,
        metrics,
        sharedData,
        onLog: (level, msg, context) => {
          opts.onLog?.(level, msg, context, w);
          opts.onEvent?.({ type: "log", worker: w, level, msg, context });
        },
      }));
    }
  }

  const stats = { downstreamCxTotal: 0, downstreamCxActive: 0, noRoute: 0 };
  const sockets = new Set<net.Socket>();
  let next = 0;
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const worker = vms.length ? next++ % vms.length : 0;
    const transport = new SocketTransport(socket);
    const conn = new FilterConnection({
      vm: vms[worker] ?? null,
      source: transport.remoteAddress,
      destination: transport.localAddress,
      bufferLimit: opts.bufferLimit,
      clusters: opts.clusters,
      cluster: opts.cluster,
      maxEarlyDataBytes: opts.maxEarlyDataBytes,
      connectMode: opts.connectMode,
      connector: socketConnector,
      transport,
    });
    let bytesIn = 0;
    socket.on("data", (c: Buffer) => { bytesIn += c.length; });
    stats.downstreamCxTotal++;
    stats.downstreamCxActive++;
    opts.onEvent?.({ type: "open", id: conn.id, source: transport.remoteAddress, worker, context: conn.wasm?.id });
    // Registered after start() so the report runs after the filter's on_done/on_log.
    const report = (event: string | undefined) => {
      stats.downstreamCxActive--;
      if (conn.closeReason?.startsWith("tcp_proxy: no cluster")) stats.noRoute++;
      opts.onEvent?.({ type: "close", id: conn.id, cluster: conn.tcpProxy.route, event, reason: conn.closeReason,
        bytesIn, bytesOut: transport.bytesOut, filterState: reportedState(conn) });
    };
    socket.on("close", () => sockets.delete(socket));
    transport.attach(conn);
    conn.start();
    if (conn.closed) report(conn.closeEvent);
    else conn.addConnectionCallbacks({ onEvent: report });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.listen?.port ?? 0, opts.listen?.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  let admin: AdminServer | undefined;
  const prometheus = { statsTags: opts.statsTags ?? [] };
  if (opts.admin) admin = await startAdmin(opts.admin, () => ({ metrics, stats, prometheus }));

  return {
    port,
    adminPort: admin?.port,
    vms,
    metrics,
    sharedData,
    stats,
    connections: () => stats.downstreamCxActive,
    close: async () => {
      for (const vm of vms) vm.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await admin?.close();
    },
  };
}
