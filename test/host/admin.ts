// The slice of Envoy's admin endpoint a user of the proxy looks at: /stats/prometheus (the
// filter's wasmcustom.* stats as Envoy exports them), /stats (plain "name: value" lines), /ready.
import http from "node:http";
import type net from "node:net";
import { MetricType, type MetricStore, type PrometheusOptions } from "./metrics.js";

export interface AdminServer { port: number; close(): Promise<void> }
export interface AdminSource {
  metrics: MetricStore;
  stats: { downstreamCxTotal: number; downstreamCxActive: number; noRoute: number };
  /** How /stats/prometheus names the stats: the bootstrap's stats_tags (tag extraction). */
  prometheus?: PrometheusOptions;
}

function statsText({ metrics, stats }: AdminSource): string {
  const lines: string[] = [
    `tcp.downstream_cx_total: ${stats.downstreamCxTotal}`,
    `tcp.downstream_cx_active: ${stats.downstreamCxActive}`,
    `tcp.downstream_cx_no_route: ${stats.noRoute}`,
  ];
  for (const name of [...metrics.names()].sort()) {
    for (const type of [MetricType.Counter, MetricType.Gauge]) {
      const v = metrics.value(name, type);
      if (v !== undefined) lines.push(`wasmcustom.${name}: ${v}`);
    }
    const samples = metrics.samples(name);
    if (samples.length) {
      const sum = samples.reduce((a, b) => a + b, 0n);
      lines.push(`wasmcustom.${name}: count=${samples.length} sum=${sum}`);
    }
  }
  return lines.join("\n") + "\n";
}

export async function startAdmin(where: { host?: string; port: number }, source: () => AdminSource): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: string, type = "text/plain; charset=UTF-8") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, "method not allowed\n");
    if (path === "/stats/prometheus") {
      const { metrics, prometheus } = source();
      return send(200, metrics.toPrometheus(prometheus), "text/plain; version=0.0.4");
    }
    if (path === "/stats") return send(200, statsText(source()));
    if (path === "/ready") return send(200, "LIVE\n");
    send(404, "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(where.port, where.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
