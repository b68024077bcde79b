// The setting of the Thrift end-to-end tests: for one stack, a direct Node Thrift server (the
// reference), a second one behind metawire's TCP proxy (protocol thrift, expose every), and a
// recording tap on each side of the proxy — client → tapIn → proxy → tapOut → server — so a test
// can compare results with the direct ones, compare the bytes on both sides of the proxy, read the
// metrics and the filter state each connection left at close.
import assert from "node:assert/strict";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "./filter.js";
import { joined, startTap, type Tap } from "./tcp-tap.js";
import { startThriftServer, type Stack, type ThriftCode, type ThriftServer, type ThriftSession } from "./thrift-peers.js";
import { waitFor } from "./wait.js";
export { waitFor };

type CloseEvent = Extract<ProxyEvent, { type: "close" }>;
type OpenEvent = Extract<ProxyEvent, { type: "open" }>;

export interface ThriftEnv {
  t: ThriftCode;
  stack: Stack;
  direct: ThriftServer;
  behind: ThriftServer;
  proxy: ProxyHandle;
  /** open/close events of the proxy, in order */
  events: ProxyEvent[];
  /** the filter's log lines */
  logs: string[];
  tapIn: Tap;
  tapOut: Tap;
}


/** The proxy's plugin configuration unless a test passes its own. */
export const THRIFT_PLUGIN_CONFIG: Record<string, unknown> = { protocol: "thrift", expose: { properties: "every" } };

/** Runs `run` with the servers, taps and proxy of `stack`, and tears them down. */
export async function withThriftEnv(t: ThriftCode, stack: Stack, multiplexed: boolean, run: (env: ThriftEnv) => Promise<void>,
  pluginConfig: Record<string, unknown> = THRIFT_PLUGIN_CONFIG): Promise<void> {
  const direct = await startThriftServer(t, stack, multiplexed);
  const behind = await startThriftServer(t, stack, multiplexed);
  const events: ProxyEvent[] = [];
  const logs: string[] = [];
  let tapOut: Tap | undefined, proxy: ProxyHandle | undefined, tapIn: Tap | undefined;
  try {
    tapOut = await startTap(behind.port);
    proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify(pluginConfig),
      clusters: { thrift: `127.0.0.1:${tapOut.port}` },
      cluster: "thrift",
      onEvent: (e) => { if (e.type === "log") logs.push(e.msg); else events.push(e); },
    });
    tapIn = await startTap(proxy.port);
    await run({ t, stack, direct, behind, proxy, events, logs, tapIn, tapOut });
  } finally {
    await tapIn?.close();
    await proxy?.close();
    await tapOut?.close();
    await direct.close();
    await behind.close();
  }
}

/** The wasm.metawire.* filter state the proxy reported when the k-th connection through tapIn closed. */
export async function closedState(env: ThriftEnv, k: number): Promise<Record<string, string>> {
  const port = await waitFor(() => env.tapIn.connections[k]?.upstreamLocalPort, `connection ${k} through the tap`);
  const source = `127.0.0.1:${port}`;
  const open = await waitFor(() => env.events.find((e): e is OpenEvent => e.type === "open" && e.source === source), `open event of ${source}`);
  const close = await waitFor(() => env.events.find((e): e is CloseEvent => e.type === "close" && e.id === open.id), `close event of ${source}`);
  return Object.fromEntries(Object.entries(close.filterState).filter(([key]) => key.startsWith("wasm.metawire.")));
}

/** The filter state a session's last request and the given last reply should leave. */
export function expectedState(s: ThriftSession, reply: { status: string; code: string }): Record<string, string> {
  const last = s.last;
  assert.ok(last, "the session sent something");
  const state: Record<string, string> = {
    "wasm.metawire.protocol": "thrift",
    "wasm.metawire.service": last.service,
    "wasm.metawire.method": last.method,
    "wasm.metawire.id": String(last.seqid),
    "wasm.metawire.kind": last.kind,
    "wasm.metawire.response_status": reply.status,
    "wasm.metawire.response_code": reply.code,
    // the connection summary, written at close
    "wasm.metawire.requests": String(s.tally.messages),
    "wasm.metawire.errors": String(s.tally.declared + s.tally.app),
    "wasm.metawire.first_method": s.first!.method,
    "wasm.metawire.last_method": last.method,
  };
  for (const [k, v] of Object.entries(last.headers)) state[`wasm.metawire.header.${k}`] = v;
  return state;
}

/** For failure messages: the filter's log and the first bytes of connection k in each direction, hex. */
export function dump(env: ThriftEnv, k: number, bytes = 96): string {
  const c = env.tapOut.connections[k];
  const log = env.logs.filter((l) => !l.startsWith("metawire: configured")).slice(-3).map((l) => `\n  log:  ${l}`).join("");
  return log + (c && bytes > 0 ? `\n  up:   ${joined(c.up).subarray(0, bytes).toString("hex")}\n  down: ${joined(c.down).subarray(0, bytes).toString("hex")}` : "");
}

/** What the client sent is what the server got, and the other way round, byte for byte. */
export function assertBytesUntouched(env: ThriftEnv, k: number): void {
  const a = env.tapIn.connections[k], b = env.tapOut.connections[k];
  assert.ok(a && b, `connection ${k} went through both taps`);
  assert.ok(joined(a.up).equals(joined(b.up)), `${env.stack.name} #${k}: the server got other bytes than the client sent`);
  assert.ok(joined(a.down).equals(joined(b.down)), `${env.stack.name} #${k}: the client got other bytes than the server sent`);
}
