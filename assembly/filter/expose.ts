// Request metadata → Envoy filter state. set_property("metawire.method") creates the CelState
// `wasm.metawire.method`, readable by access logs (%FILTER_STATE(wasm.metawire.method:PLAIN)%),
// RBAC filter_state matchers, CEL and other wasm filters.
import { setPropertyBytes, setPropertyString } from "../abi/hostcalls";

export const PROP_PROTOCOL = "metawire.protocol";
export const PROP_SERVICE = "metawire.service";
export const PROP_METHOD = "metawire.method";
export const PROP_KEY = "metawire.key";
export const PROP_VERSION = "metawire.version";
export const PROP_GROUP = "metawire.group";
export const PROP_ID = "metawire.id";
export const PROP_KIND = "metawire.kind";
export const PROP_RESPONSE_STATUS = "metawire.response_status";
export const PROP_RESPONSE_CODE = "metawire.response_code";
/** The cluster the connection was routed to. */
export const PROP_CLUSTER = "metawire.cluster";
/** Connection summary, written when the downstream closes (for tcp_proxy access logs). */
export const PROP_REQUESTS = "metawire.requests";
export const PROP_ERRORS = "metawire.errors";
export const PROP_FIRST_METHOD = "metawire.first_method";
export const PROP_LAST_METHOD = "metawire.last_method";
/** THeader info headers (Thrift) and attachments (Dubbo): metawire.header.<name>. */
export const PROP_HEADER_PREFIX = "metawire.header.";

export function exposeBytes(name: string, ptr: usize, len: i32): void {
  setPropertyBytes(name, ptr, len);
}

export function exposeString(name: string, value: string): void {
  setPropertyString(name, value);
}

export function exposeInt(name: string, value: i64): void {
  setPropertyString(name, value.toString());
}
