// apache-dubbo-js (npm) as a second, independent Dubbo consumer of the Java provider of test/dubbo.
//
// It is an optional package, not one of the project's dependencies: it is loaded at run time, and
// the tests that need it skip, naming the install command, when it is missing. Version 3.0.0-rc6
// (the only one published) connects without a registry through its DirectlyDubbo class
// (es7/directly-dubbo.js): one SocketWorker (es7/socket-worker.js) on a single TCP connection to a
// "host:port", hessian2 requests that name the service, version and group, and `go`-style results
// ({ res, err }) for each call.
//
// DirectlyDubbo has no way to be closed: its SocketWorker reconnects 20 times after a close, and
// keeps a heartbeat interval. closeDirectlyDubbo reaches into those private fields (named in the
// package's es7/typings/socket-worker.d.ts) to close the connection for good.
import { createRequire } from "node:module";

export const DUBBO_JS_PACKAGE = "apache-dubbo-js";
export const DUBBO_JS_VERSION = "3.0.0-rc6";

const require = createRequire(import.meta.url);

/** The package's exports (DirectlyDubbo, java = js-to-java, …), or undefined when it is not installed. */
export function loadDubboJs(): any | undefined {
  try {
    return require(DUBBO_JS_PACKAGE);
  } catch {
    return undefined;
  }
}

/** Why the apache-dubbo-js tests cannot run here, or undefined when they can. */
export function dubboJsSkipReason(): string | undefined {
  const mod = loadDubboJs();
  if (!mod) return `${DUBBO_JS_PACKAGE} is not installed (a devDependency: run npm ci)`;
  if (typeof mod.DirectlyDubbo?.from !== "function") return `${DUBBO_JS_PACKAGE} has no DirectlyDubbo.from (expected ${DUBBO_JS_VERSION})`;
  return undefined;
}

/** Ends a DirectlyDubbo's connection without the SocketWorker's reconnects, and its heartbeat timer. */
export function closeDirectlyDubbo(dubbo: any): Promise<void> {
  const worker = dubbo._socketWorker;
  const socket = worker?._socket;
  if (!worker || !socket) throw new Error(`${DUBBO_JS_PACKAGE}: DirectlyDubbo has no _socketWorker._socket (not ${DUBBO_JS_VERSION}?)`);
  worker._retry = 0;   // _onClose then marks it CLOSED instead of scheduling a reconnect
  return new Promise((resolve) => {
    if (socket.destroyed && socket.closed) { clearInterval(worker._heartBeatTimer); resolve(); return; }
    socket.once("close", () => { clearInterval(worker._heartBeatTimer); resolve(); });
    socket.destroy();
  });
}
