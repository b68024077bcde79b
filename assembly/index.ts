// metawire: a proxy-wasm network filter for Redis, Thrift and Dubbo. This file only wires the
// module's exports (the names Envoy looks up) to the dispatcher and the filter.
import { setRootContextFactory } from "./abi/dispatcher";
import { MetawireRoot } from "./filter/root";
import { RootContext } from "./abi/context";
// Compiled in for `--use abort=assembly/abi/abort/proxyAbort` (asconfig.json).
import "./abi/abort";

export { malloc, proxy_on_memory_allocate } from "./abi/memory";
export {
  proxy_on_context_create, proxy_on_vm_start, proxy_on_configure, proxy_on_tick,
  proxy_on_new_connection, proxy_on_downstream_data, proxy_on_upstream_data,
  proxy_on_downstream_connection_close, proxy_on_upstream_connection_close,
  proxy_on_done, proxy_on_log, proxy_on_delete,
} from "./abi/dispatcher";

/** Envoy finds the ABI version by this export's name. */
export function proxy_abi_version_0_2_1(): void {}

setRootContextFactory((id: u32): RootContext => new MetawireRoot(id));
