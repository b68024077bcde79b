// The setting of the Dubbo end-to-end tests: a real Java provider, metawire's TCP proxy in front of
// it (protocol dubbo, expose every) and a recording tap on each side of the proxy — consumer → tapIn →
// proxy → tapOut → provider — so a test can compare a proxied run with a direct one, compare the bytes
// on both sides of the proxy, read the metrics and the filter state each connection left at close.
import assert from "node:assert/strict";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "./filter.js";
import { joined, startTap, type Tap } from "./tcp-tap.js";
import { startDubboProvider, type DubboPeer, type DubboProvider } from "./dubbo-peers.js";
import { waitFor } from "./wait.js";
export { waitFor };

type CloseEvent = Extract<ProxyEvent, { type: "close" }>;
type OpenEvent = Extract<ProxyEvent, { type: "open" }>;

/** expose every: filter state for each request; log_requests: one info line per answered request. */
export const DUBBO_PLUGIN_CONFIG: Record<string, unknown> = { protocol: "dubbo", expose: { properties: "every" }, log_requests: true };

export interface DubboEnv {
  peer: DubboPeer;
  provider: DubboProvider;
  proxy: ProxyHandle;
  /** open/close events of the proxy, in order */
  events: ProxyEvent[];
  /** the filter's log lines */
  logs: string[];
  tapIn: Tap;
  tapOut: Tap;
}


/** Runs `run` with a provider of `peer`, the taps and the proxy (`pluginConfig`), and tears them down. */
export async function withDubboEnv(peer: DubboPeer, run: (env: DubboEnv) => Promise<void>,
  pluginConfig: Record<string, unknown> = DUBBO_PLUGIN_CONFIG): Promise<void> {
  const provider = await startDubboProvider(peer);
  const events: ProxyEvent[] = [];
  const logs: string[] = [];
  let tapOut: Tap | undefined, proxy: ProxyHandle | undefined, tapIn: Tap | undefined;
  try {
    tapOut = await startTap(provider.port);
    proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify(pluginConfig),
      clusters: { dubbo: `127.0.0.1:${tapOut.port}` },
      cluster: "dubbo",
      onEvent: (e) => { if (e.type === "log") logs.push(e.msg); else events.push(e); },
    });
    tapIn = await startTap(proxy.port);
    await run({ peer, provider, proxy, events, logs, tapIn, tapOut });
  } finally {
    await tapIn?.close();
    await proxy?.close();
    await tapOut?.close();
    await provider.stop();
  }
}

/** The wasm.metawire.* filter state the proxy reported when the k-th connection through tapIn closed. */
export async function closedState(env: DubboEnv, k: number): Promise<Record<string, string>> {
  const port = await waitFor(() => env.tapIn.connections[k]?.upstreamLocalPort, `connection ${k} through the tap`);
  const source = `127.0.0.1:${port}`;
  const open = await waitFor(() => env.events.find((e): e is OpenEvent => e.type === "open" && e.source === source), `open event of ${source}`);
  const close = await waitFor(() => env.events.find((e): e is CloseEvent => e.type === "close" && e.id === open.id), `close event of ${source}`);
  return Object.fromEntries(Object.entries(close.filterState).filter(([key]) => key.startsWith("wasm.metawire.")));
}

/** What the client sent is what the server got, and the other way round, byte for byte. */
export function assertBytesUntouched(env: DubboEnv, k: number): void {
  const a = env.tapIn.connections[k], b = env.tapOut.connections[k];
  assert.ok(a && b, `connection ${k} went through both taps`);
  assert.ok(joined(a.up).equals(joined(b.up)), `${env.peer.module} #${k}: the provider got other bytes than the consumer sent`);
  assert.ok(joined(a.down).equals(joined(b.down)), `${env.peer.module} #${k}: the consumer got other bytes than the provider sent`);
}

/** For failure messages: the filter's last log lines other than request lines (decode errors name the reason and offset). */
export function filterLog(env: DubboEnv): string {
  return env.logs.filter((l) => !l.startsWith("metawire: configured") && !l.startsWith("dubbo id=")).slice(-5).map((l) => `\n  log:  ${l}`).join("");
}

/**
 * For failure messages: each decode error the filter logged ("<request|reply> decode error "<reason>"
 * near stream offset N"), with the bytes of connection k's stream in that direction from 32 before the
 * offset to 96 after it, hex.
 */
export function decodeErrorBytes(env: DubboEnv, k: number): string {
  const c = env.tapOut.connections[k];
  if (!c) return "";
  return env.logs.flatMap((l) => {
    const m = /: (request|reply) decode error "(.*)" near stream offset (\d+)/.exec(l);
    if (!m) return [];
    const stream = joined(m[1] === "request" ? c.up : c.down);
    const at = Number(m[3]);
    const from = Math.max(0, at - 32);
    return [`\n  ${m[1]} decode error "${m[2]}" at offset ${at} of ${stream.length}: bytes ${from}..${Math.min(stream.length, at + 96)}:` +
      `\n    ${stream.subarray(from, at).toString("hex")} | ${stream.subarray(at, at + 96).toString("hex")}`];
  }).join("");
}
