// The TCP proxy on real sockets (specs/envoy-host.md §4): routing from filter state, early data
// vs immediate connect, half-close both ways, byte-identical bulk transfer, admin, CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildModule, lines } from "./kit.js";
import type { Wat } from "./kit.js";
import { startProxy, type ProxyEvent, type ProxyOptions } from "../host/tcp-proxy.js";
import { encodeSetEnvoyFilterStateArguments } from "../host/protobuf.js";
import { main } from "../host/cli.js";
import { METAWIRE_STATS_TAGS } from "../host/metrics.js";

interface Server { port: number; address: string; received: () => Buffer; ended: () => boolean; close(): Promise<void> }

// Echoes everything, prefixed once with "<name>:"; answers a FIN with a FIN (half-close aware).
async function echoServer(name = ""): Promise<Server> {
  const chunks: Buffer[] = [];
  let ended = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    let first = true;
    s.on("data", (d) => {
      chunks.push(d);
      if (first && name) s.write(`${name}:`);
      first = false;
      s.write(d);
    });
    s.on("end", () => { ended = true; s.end(); });
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, address: `127.0.0.1:${port}`, received: () => Buffer.concat(chunks), ended: () => ended,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

// Sends `payload` (then FIN when `end`), collects the reply until the proxy closes or FINs.
function exchange(port: number, payload: Uint8Array | string, opts: { end?: boolean; timeoutMs?: number } = {}):
  Promise<{ data: Buffer; gotFin: boolean; timedOut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let gotFin = false;
    const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const done = (timedOut: boolean) => { clearTimeout(timer); s.destroy(); resolve({ data: Buffer.concat(chunks), gotFin, timedOut }); };
    const timer = setTimeout(() => done(true), opts.timeoutMs ?? 5000);
    s.on("connect", () => { s.write(payload); if (opts.end ?? true) s.end(); });
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => { gotFin = true; done(false); });
    s.on("error", () => done(false));
    s.on("close", () => done(false));
  });
}

const routeIfB = (w: Wat) => `(drop (call $get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 256) (i32.const 260)))
  (if (i32.eq (i32.load8_u (i32.load (i32.const 256))) (i32.const 98)) (then
    ${w.foreign("route", "set_envoy_filter_state", encodeSetEnvoyFilterStateArguments({ path: "envoy.tcp_proxy.cluster", value: "b" }))}))`;

async function withServers(fn: (a: Server, b: Server) => Promise<void>): Promise<void> {
  const a = await echoServer("A"), b = await echoServer("B");
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

async function withProxy(opts: ProxyOptions, fn: (p: Awaited<ReturnType<typeof startProxy>>) => Promise<void>): Promise<void> {
  const proxy = await startProxy(opts);
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}

test("set_envoy_filter_state in on_new_connection routes to one of two echo servers", async () => {
  const wasm = await buildModule((w) => w.callbacks({
    proxy_on_new_connection: `${w.foreign("route", "set_envoy_filter_state",
      encodeSetEnvoyFilterStateArguments({ path: "envoy.tcp_proxy.cluster", value: "b" }))} (i32.const 0)`,
  }));
  await withServers(async (a, b) => {
    const events: ProxyEvent[] = [];
    await withProxy({ wasm, clusters: { default: a.address, b: b.address }, cluster: "default", onEvent: (e) => events.push(e) }, async (p) => {
      const r = await exchange(p.port, "hello");
      assert.equal(r.data.toString(), "B:hello");
      assert.equal(r.gotFin, true);
      await sleep(20);
      const close = events.find((e) => e.type === "close");
      assert.ok(close && close.type === "close" && close.cluster === "b" && close.filterState["envoy.tcp_proxy.cluster"] === "b");
    });
    await withProxy({ wasm: null, clusters: { default: a.address, b: b.address }, cluster: "default" }, async (p) => {
      assert.equal((await exchange(p.port, "hello")).data.toString(), "A:hello", "no filter: the configured cluster");
    });
  });
});

test("payload routing works only with early data: Pause in on_new_connection, decide in on_downstream_data", async () => {
  const wasm = await buildModule((w) => w.callbacks({
    proxy_on_new_connection: "(i32.const 1)",
    proxy_on_downstream_data: `${routeIfB(w)} (i32.const 0)`,
  }));
  await withServers(async (a, b) => {
    const clusters = { default: a.address, b: b.address };
    await withProxy({ wasm, clusters, cluster: "default", maxEarlyDataBytes: 65536 }, async (p) => {
      assert.equal((await exchange(p.port, "bee")).data.toString(), "B:bee");
      assert.equal((await exchange(p.port, "ant")).data.toString(), "A:ant");
    });
    await withProxy({ wasm, clusters, cluster: "default", maxEarlyDataBytes: 65536, connectMode: "on-downstream-data" }, async (p) => {
      assert.equal((await exchange(p.port, "bee")).data.toString(), "B:bee");
    });
    // Default tcp_proxy: reads are disabled until connected, and the Pause keeps tcp_proxy from
    // ever connecting: the connection hangs, as in Envoy.
    await withProxy({ wasm, clusters, cluster: "default" }, async (p) => {
      const r = await exchange(p.port, "bee", { end: false, timeoutMs: 300 });
      assert.equal(r.timedOut, true);
      assert.equal(r.data.length, 0);
    });
  });
});

test("without the Pause the route is fixed at connection start, even in early-data mode", async () => {
  const wasm = await buildModule((w) => w.callbacks({ proxy_on_downstream_data: `${routeIfB(w)} (i32.const 0)` }));
  await withServers(async (a, b) => {
    for (const maxEarlyDataBytes of [undefined, 65536]) {
      await withProxy({ wasm, clusters: { default: a.address, b: b.address }, cluster: "default", maxEarlyDataBytes }, async (p) => {
        assert.equal((await exchange(p.port, "bee")).data.toString(), "A:bee", `maxEarlyDataBytes=${maxEarlyDataBytes}`);
      });
    }
  });
});

test("half-close both ways: client FIN first, and upstream FIN first with the client still sending", async () => {
  const wasm = await buildModule((w) => w.callbacks());
  await withServers(async (a) => {
    await withProxy({ wasm, clusters: { default: a.address }, cluster: "default" }, async (p) => {
      const r = await exchange(p.port, "ping");
      assert.equal(r.data.toString(), "A:ping");
      assert.equal(r.gotFin, true);
      await sleep(50);
      const L = lines(p.vms[0]).filter((l) => / 2( |$)/.test(l));
      // Reply chunking varies; the order of the half-close events does not.
      assert.deepEqual(L.slice(0, 3), ["create 2 1", "new 2", "down 2 4 0"]);
      assert.deepEqual(L.slice(-5), ["up_close 2 0", "down_close 2 1", "done 2", "log 2", "delete 2"]);
      assert.ok(L.includes("up 2 0 1") || L.some((l) => /^up 2 \d+ 1$/.test(l)), L.join(" | "));
      assert.ok(L.indexOf("down 2 0 1") < L.indexOf("up_close 2 0") && L.indexOf("up_close 2 0") < L.indexOf("down_close 2 1"), L.join(" | "));
    });
  });

  // A server that greets and FINs at once, then keeps reading until the client's FIN.
  let serverGot = "";
  let serverSawEnd = false;
  const greeter = net.createServer({ allowHalfOpen: true }, (s) => {
    s.end("hello");
    s.on("data", (d) => { serverGot += d; });
    s.on("end", () => { serverSawEnd = true; });
  });
  await new Promise<void>((r) => greeter.listen(0, "127.0.0.1", () => r()));
  const gport = (greeter.address() as net.AddressInfo).port;
  try {
    await withProxy({ wasm, clusters: { default: `127.0.0.1:${gport}` }, cluster: "default" }, async (p) => {
      const client = net.connect({ port: p.port, host: "127.0.0.1", allowHalfOpen: true });
      const got = await new Promise<string>((resolve) => {
        let data = "";
        client.on("data", (d) => { data += d; });
        client.on("end", () => resolve(data));
      });
      assert.equal(got, "hello");
      client.end("late");
      await new Promise((r) => client.on("close", r));
      await sleep(50);
      assert.equal(serverGot, "late", "the other direction stays open after the upstream FIN");
      assert.equal(serverSawEnd, true);
      const L = lines(p.vms[0]);
      // Node reports the bytes and the FIN as two reads.
      const order = ["up 2 5 0", "up 2 0 1", "up_close 2 0", "down 2 4 0", "down 2 0 1", "down_close 2 2", "done 2"];
      assert.deepEqual(L.filter((l) => order.includes(l)), order, L.join(" | "));
    });
  } finally {
    await new Promise((r) => greeter.close(r));
  }
});

test("1 MiB through the proxy is byte-identical both ways, with and without the filter", async () => {
  const payload = new Uint8Array(1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 9)) & 0xff;
  const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const wasm = await buildModule((w) => w.callbacks({
    // touches every buffer like a parsing filter would
    proxy_on_downstream_data: "(drop (call $get_buffer_bytes (i32.const 2) (i32.const 0) (local.get $n) (i32.const 256) (i32.const 260))) (i32.const 0)",
  }));
  const echo = await echoServer();
  try {
    for (const module of [wasm, null]) {
      await withProxy({ wasm: module, clusters: { default: echo.address }, cluster: "default" }, async (p) => {
        const r = await exchange(p.port, payload, { timeoutMs: 20000 });
        assert.equal(r.data.length, payload.length);
        assert.equal(digest(r.data), digest(payload));
      });
    }
  } finally {
    await echo.close();
  }
});

test("backpressure: a slow client pauses the upstream; nothing is lost or reordered", async () => {
  const size = 8 * 1024 * 1024;
  const blob = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) blob.writeUInt32LE(i, i);
  const firehose = net.createServer({ allowHalfOpen: true }, (s) => { s.end(blob); s.on("error", () => {}); });
  await new Promise<void>((r) => firehose.listen(0, "127.0.0.1", () => r()));
  const wasm = await buildModule((w) => w.callbacks());
  try {
    await withProxy({ wasm, clusters: { default: `127.0.0.1:${(firehose.address() as net.AddressInfo).port}` }, cluster: "default" }, async (p) => {
      const client = net.connect({ port: p.port, host: "127.0.0.1", allowHalfOpen: true });
      client.pause();
      await sleep(300);
      const chunks: Buffer[] = [];
      const done = new Promise<void>((r) => client.on("end", () => r()));
      client.on("data", (d) => chunks.push(d));
      client.resume();
      await done;
      client.destroy();
      const got = Buffer.concat(chunks);
      assert.equal(got.length, size);
      assert.ok(got.equals(blob));
    });
  } finally {
    await new Promise((r) => firehose.close(r));
  }
});

test("a client reset closes the upstream connection too", async () => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => { upstreamClosed = r; });
  // Not half-open: the FIN from tcp_proxy's flush-close ends the server's socket as well.
  const server = net.createServer((s) => { s.resume(); s.on("error", () => {}); s.on("close", () => upstreamClosed()); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const wasm = await buildModule((w) => w.callbacks());
  try {
    await withProxy({ wasm, clusters: { default: `127.0.0.1:${(server.address() as net.AddressInfo).port}` }, cluster: "default" }, async (p) => {
      const client = net.connect({ port: p.port, host: "127.0.0.1" });
      await new Promise((r) => client.on("connect", r));
      client.write("x");
      await sleep(50);
      client.resetAndDestroy();
      await closed;
      await sleep(20);
      assert.equal(p.connections(), 0);
      assert.ok(lines(p.vms[0]).includes("down_close 2 2"));
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test("unknown cluster closes the client connection; admin serves /stats, /stats/prometheus and /ready", async () => {
  const wasm = await buildModule((w) => w.callbacks({
    proxy_on_configure: `(drop (call $define_metric (i32.const 0) ${w.str("conns")} (i32.const 300))) (i32.const 1)`,
    proxy_on_new_connection: `(drop (call $increment_metric (i32.load (i32.const 300)) (i64.const 1)))
      ${w.foreign("route", "set_envoy_filter_state", encodeSetEnvoyFilterStateArguments({ path: "envoy.tcp_proxy.cluster", value: "gone" }))}
      (i32.const 0)`,
  }));
  await withServers(async (a) => {
    await withProxy({ wasm, clusters: { default: a.address }, cluster: "default", admin: { port: 0 } }, async (p) => {
      const r = await exchange(p.port, "x", { end: false });
      assert.equal(r.data.length, 0);
      assert.equal(r.timedOut, false, "closed by the proxy");
      const get = async (path: string) => (await fetch(`http://127.0.0.1:${p.adminPort}${path}`)).text();
      assert.match(await get("/stats/prometheus"), /# TYPE conns counter\nconns\{\} 1\n/);
      const stats = await get("/stats");
      assert.match(stats, /^wasmcustom\.conns: 1$/m);
      assert.match(stats, /^tcp\.downstream_cx_no_route: 1$/m);
      assert.equal(await get("/ready"), "LIVE\n");
    });
  });
});

test("workers: connections round-robin over VMs that share one MetricStore", async () => {
  const wasm = await buildModule((w) => w.callbacks({
    proxy_on_configure: `(drop (call $define_metric (i32.const 0) ${w.str("conns")} (i32.const 300))) (i32.const 1)`,
    proxy_on_new_connection: "(drop (call $increment_metric (i32.load (i32.const 300)) (i64.const 1))) (i32.const 0)",
  }));
  await withServers(async (a) => {
    await withProxy({ wasm, clusters: { default: a.address }, cluster: "default", workers: 2 }, async (p) => {
      for (const m of ["1", "2", "3"]) await exchange(p.port, m);
      assert.deepEqual(p.vms.map((vm) => lines(vm).filter((l) => l.startsWith("new ")).length), [2, 1]);
      assert.equal(p.metrics.value("conns"), 3n);
    });
  });
});

test("CLI: --help, refusing a module Envoy would refuse, and proxying with per-connection lines", async () => {
  const out: string[] = [], err: string[] = [];
  assert.equal((await main(["--help"], (l) => out.push(l))).code, 0);
  assert.match(out.join("\n"), /--early-data BYTES/);

  const dir = mkdtempSync(join(tmpdir(), "mw-cli-"));
  const bad = join(dir, "bad.wasm");
  writeFileSync(bad, await buildModule(() => "", { imports: `(import "env" "abort" (func (param i32 i32 i32 i32)))` }));
  const refused = await main(["--wasm", bad, "--listen", "127.0.0.1:0", "--cluster", "default=127.0.0.1:1"], () => {}, (l) => err.push(l));
  assert.equal(refused.code, 1);
  assert.match(err.join("\n"), /Envoy would refuse this module:\n {2}Failed to load Wasm module due to a missing import: env.abort/);

  const badConfig = join(dir, "badcfg.wasm");
  writeFileSync(badConfig, await buildModule((w) => w.callbacks({
    proxy_on_configure: `(drop (call $proxy_log (i32.const 4) ${w.str("bad protocol")})) (i32.const 0)`,
  })));
  err.length = 0;
  assert.equal((await main(["--wasm", badConfig, "--listen", "127.0.0.1:0", "--cluster", "default=127.0.0.1:1"], () => {}, (l) => err.push(l))).code, 1);
  assert.match(err.join("\n"), /error: bad protocol[\s\S]*Failed to configure Wasm plugin/);

  const good = join(dir, "good.wasm");
  writeFileSync(good, await buildModule((w) => w.callbacks({
    proxy_on_downstream_data: `(drop (call $set_property ${w.str("metawire.cmd")} ${w.str("PING")})) (i32.const 0)`,
  })));
  writeFileSync(join(dir, "cfg.json"), "{}");
  await withServers(async (a) => {
    out.length = 0;
    const started = await main(["--wasm", good, "--config", join(dir, "cfg.json"), "--listen", "127.0.0.1:0",
      "--cluster", `default=${a.address}`], (l) => out.push(l), (l) => err.push(l));
    assert.equal(started.code, 0);
    try {
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out.join("\n"))![1]);
      assert.equal((await exchange(port, "ping")).data.toString(), "A:ping");
      await sleep(50);
      const text = out.join("\n");
      assert.match(text, /\[conn \d+\] open from 127\.0\.0\.1:\d+/);
      assert.match(text, /\[conn \d+\] info: new \d+/);
      assert.match(text, /\[conn \d+\] close \w+ .*cluster=default in=4 out=6 wasm\.metawire\.cmd="PING"/);
    } finally {
      await started.close!();
    }
  });
});

test("stats tags: startProxy's statsTags and the CLI's --stats-tags (default metawire's) label /stats/prometheus", async () => {
  const name = "protocol=.=redis;.;service=.=;.;method=.=GET;.;metawire_requests_total";
  const wasm = await buildModule((w) => w.callbacks({
    proxy_on_configure: `(drop (call $define_metric (i32.const 0) ${w.str(name)} (i32.const 300))) (i32.const 1)`,
    proxy_on_new_connection: "(drop (call $increment_metric (i32.load (i32.const 300)) (i64.const 1))) (i32.const 0)",
  }));
  const labelled = /^# TYPE metawire_requests_total counter\nmetawire_requests_total\{protocol="redis",service="",method="GET"\} 1$/m;
  const unlabelled = /^protocol___redis___service______method___GET___metawire_requests_total\{\} 1$/m;
  const scrape = async (adminPort: number | undefined) => (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
  await withServers(async (a) => {
    for (const [statsTags, want] of [[METAWIRE_STATS_TAGS, labelled], [undefined, unlabelled]] as const) {
      await withProxy({ wasm, clusters: { default: a.address }, cluster: "default", admin: { port: 0 }, statsTags }, async (p) => {
        await exchange(p.port, "x");
        assert.match(await scrape(p.adminPort), want);
        // /stats keeps the full names, as Envoy's does
        assert.match(await (await fetch(`http://127.0.0.1:${p.adminPort}/stats`)).text(), new RegExp(`^wasmcustom\\.${name.replace(/[.;=]/g, (c) => `\\${c}`)}: 1$`, "m"));
      });
    }

    const dir = mkdtempSync(join(tmpdir(), "mw-cli-tags-"));
    const file = join(dir, "m.wasm");
    writeFileSync(file, wasm);
    for (const [flags, want] of [[[], labelled], [["--stats-tags", "none"], unlabelled],
      [["--stats-tags", "protocol"], /^service______method___GET___metawire_requests_total\{protocol="redis"\} 1$/m]] as const) {
      const out: string[] = [];
      const started = await main(["--wasm", file, "--listen", "127.0.0.1:0", "--cluster", `default=${a.address}`,
        "--admin", "127.0.0.1:0", ...flags], (l) => out.push(l), () => {});
      assert.equal(started.code, 0);
      try {
        const text = out.join("\n");
        const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)![1]);
        const adminPort = Number(/admin 127\.0\.0\.1:(\d+)/.exec(text)![1]);
        await exchange(port, "x");
        assert.match(await scrape(adminPort), want, flags.join(" "));
      } finally {
        await started.close!();
      }
    }
  });
  const err: string[] = [];
  assert.equal((await main(["--wasm", "x.wasm", "--listen", "127.0.0.1:0", "--cluster", "default=127.0.0.1:1", "--stats-tags", "a(b"],
    () => {}, (l) => err.push(l))).code, 2);
  assert.match(err.join("\n"), /--stats-tags takes tag names/);
  const help: string[] = [];
  await main(["--help"], (l) => help.push(l));
  assert.match(help.join("\n"), /--stats-tags T1,T2,\.\.\.[\s\S]*protocol,service,method,response_status,policy,route,cluster/);
});
