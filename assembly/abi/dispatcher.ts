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

export function proxy_on_downstream_data(contextId: u32, size: u32, endOfStream: u32): Action {
  return connections.has(contextId) ? connections.get(contextId).onDownstreamData(<i32>size, endOfStream != 0) : Action.Continue;
}

export function proxy_on_upstream_data(contextId: u32, size: u32, endOfStream: u32): Action {
  return connections.has(contextId) ? connections.get(contextId).onUpstreamData(<i32>size, endOfStream != 0) : Action.Continue;
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
    return;
  }
  roots.delete(contextId);
}
