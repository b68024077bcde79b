// Host callbacks → contexts (the proxy-wasm-rust-sdk "dispatcher" layer). Exported from index.ts
// under the exact names Envoy looks up. Unknown ids are ignored rather than trapping: a trap
// would fail the VM for every connection on this worker.
import { NetworkContext, RootContext } from "./context";
import { Action, PeerType } from "./types";

type RootFactory = (id: u32) => RootContext;

let rootFactory: RootFactory | null = null;
const roots = new Map<u32, RootContext>();
const connections = new Map<u32, NetworkContext>();

export function setRootContextFactory(factory: RootFactory): void {
  rootFactory = factory;
}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  if (parentId == 0) {
    const factory = rootFactory;
    if (factory) roots.set(contextId, factory(contextId));
    return;
  }
  if (roots.has(parentId)) connections.set(contextId, roots.get(parentId).newConnection(contextId));
}

export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  return roots.has(rootId) ? roots.get(rootId).onVmStart(<i32>vmConfigSize) : true;
}

export function proxy_on_configure(rootId: u32, pluginConfigSize: u32): bool {
  return roots.has(rootId) ? roots.get(rootId).onConfigure(<i32>pluginConfigSize) : false;
}

export function proxy_on_tick(rootId: u32): void {
  if (roots.has(rootId)) roots.get(rootId).onTick();
}

export function proxy_on_new_connection(contextId: u32): Action {
  return connections.has(contextId) ? connections.get(contextId).onNewConnection() : Action.Continue;
}

// Garbage collection. The module is built with AssemblyScript's minimal runtime: no shadow stack
// (under the incremental runtime every managed reference held across a call is spilled to it,
// which cost the filter more than its own work), and collection only when we call __collect().
// We do, at the end of a data callback or a connection's deletion — a point where the wasm stack
// holds no managed references — once every COLLECT_EVERY of them, so the cost of a full mark and
// sweep is spread thin and garbage (little: the hot path does not allocate) cannot pile up.
const COLLECT_EVERY: u32 = 4096;
let sinceCollect: u32 = 0;

function collectSometimes(): void {
  if (++sinceCollect >= COLLECT_EVERY) {
    sinceCollect = 0;
    __collect();
  }
}

export function proxy_on_downstream_data(contextId: u32, size: u32, endOfStream: u32): Action {
  const r = connections.has(contextId) ? connections.get(contextId).onDownstreamData(<i32>size, endOfStream != 0) : Action.Continue;
  collectSometimes();
  return r;
}

export function proxy_on_upstream_data(contextId: u32, size: u32, endOfStream: u32): Action {
  const r = connections.has(contextId) ? connections.get(contextId).onUpstreamData(<i32>size, endOfStream != 0) : Action.Continue;
  collectSometimes();
  return r;
}

export function proxy_on_downstream_connection_close(contextId: u32, peer: u32): void {
  if (connections.has(contextId)) connections.get(contextId).onDownstreamClose(<PeerType>peer);
}

export function proxy_on_upstream_connection_close(contextId: u32, peer: u32): void {
  if (connections.has(contextId)) connections.get(contextId).onUpstreamClose(<PeerType>peer);
}

export function proxy_on_done(contextId: u32): bool {
  if (connections.has(contextId)) return connections.get(contextId).onDone();
  if (roots.has(contextId)) return roots.get(contextId).onDone();
  return true;
}

export function proxy_on_log(contextId: u32): void {
  if (connections.has(contextId)) connections.get(contextId).onLog();
}

export function proxy_on_delete(contextId: u32): void {
  if (connections.has(contextId)) {
    connections.get(contextId).onDelete();
    connections.delete(contextId);
    collectSometimes();
    return;
  }
  roots.delete(contextId);
}
