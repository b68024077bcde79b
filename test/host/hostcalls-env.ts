// The env.* host functions as cpp-host's exports.cc + Envoy's Context implement them for a
// network filter. Every i32 argument is a wasm32 Word (unsigned); i64 ones arrive as BigInt.
// Calls Envoy only serves on HTTP streams or with a cluster manager answer what Envoy answers
// on a TCP connection (header maps BadArgument, pairs Ok+empty, local reply Ok no-op, ...).
import { WasmResult } from "./envoy-abi.js";
import { BUFFER_TYPE_MAX, HEADER_MAP_TYPE_MAX, STREAM_TYPE_MAX } from "./contexts.js";
import { decodeUtf8 } from "./guest-memory.js";
import { getProperty, setProperty } from "./properties.js";
import { FOREIGN_FUNCTIONS } from "./foreign.js";
import type { WasmVm } from "./vm.js";

const R = WasmResult;
const u = (x: number): number => x >>> 0;

export function envHostcalls(vm: WasmVm): Record<string, (...a: any[]) => number | void> {
  const mem = () => vm.mem;
  const read = (p: number, n: number) => vm.mem.read(u(p), u(n));
  // Header-map calls: type checked first, then memory, then "no such map on a TCP stream".
  const noMap = (type: number, ...ranges: [number, number][]): number => {
    if (u(type) > HEADER_MAP_TYPE_MAX) return R.BadArgument;
    for (const [p, n] of ranges) if (!read(p, n)) return R.InvalidMemoryAccess;
    return R.BadArgument;
  };

  return {
    "env.proxy_log": (level: number, ptr: number, len: number) => {
      if (u(level) > 5) return R.BadArgument;
      const msg = read(ptr, len);
      if (!msg) return R.InvalidMemoryAccess;
      vm.log(u(level), decodeUtf8(msg), vm.context().id);
      return R.Ok;
    },
    "env.proxy_get_log_level": (ret: number) => (mem().setU32(u(ret), vm.logLevel) ? R.Ok : R.InvalidMemoryAccess),
    "env.proxy_get_current_time_nanoseconds": (ret: number) =>
      (mem().setU64(u(ret), vm.clock.realtimeNs()) ? R.Ok : R.InvalidMemoryAccess),
    "env.proxy_set_tick_period_milliseconds": (ms: number) => {
      vm.setTickPeriod(vm.context().rootContext.id, u(ms));
      return R.Ok;
    },

    "env.proxy_get_property": (pathPtr: number, pathLen: number, retPtr: number, retLen: number) => {
      const path = read(pathPtr, pathLen);
      if (!path) return R.InvalidMemoryAccess;
      const { result, value } = getProperty(vm.context(), path, vm.plugin);
      if (result !== R.Ok) return result;
      return vm.copyOut(value!, u(retPtr), u(retLen)) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_set_property": (kp: number, kl: number, vp: number, vl: number) => {
      const key = read(kp, kl), value = read(vp, vl);
      if (!key || !value) return R.InvalidMemoryAccess;
      return setProperty(vm.context(), key, value);
    },

    "env.proxy_get_buffer_bytes": (type: number, start: number, maxLen: number, retPtr: number, retLen: number) => {
      if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
      const buf = vm.context().getBuffer(u(type));
      if (!buf) return R.NotFound;
      const size = buf.size();
      let s = u(start), len = u(maxLen);
      if (s > size) len = 0;
      else if (s + len > size) len = size - s;
      if (len === 0) return mem().setU32(u(retPtr), 0) && mem().setU32(u(retLen), 0) ? R.Ok : R.InvalidMemoryAccess;
      // A view is safe: the malloc restriction keeps the guest from touching host buffers.
      const bytes = buf.bytes(s, len);
      const ptr = vm.alloc(len);
      if (ptr === 0 || !mem().write(ptr, bytes)) return R.InvalidMemoryAccess;
      return mem().setU32(u(retPtr), ptr) && mem().setU32(u(retLen), len) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_get_buffer_status": (type: number, lenPtr: number, flagsPtr: number) => {
      if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
      const buf = vm.context().getBuffer(u(type));
      if (!buf) return R.NotFound;
      return mem().setU32(u(lenPtr), buf.size()) && mem().setU32(u(flagsPtr), 0) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_set_buffer_bytes": (type: number, start: number, len: number, dataPtr: number, dataLen: number) => {
      if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
      const buf = vm.context().getBuffer(u(type));
      if (!buf) return R.NotFound;
      const data = read(dataPtr, dataLen);
      if (!data) return R.InvalidMemoryAccess;
      return buf.set(u(start), u(len), data);
    },

    "env.proxy_continue_stream": (type: number) =>
      (u(type) > STREAM_TYPE_MAX ? R.BadArgument : vm.context().continueStream(u(type))),
    "env.proxy_close_stream": (type: number) =>
      (u(type) > STREAM_TYPE_MAX ? R.BadArgument : vm.context().closeStream(u(type))),
    // Envoy acts only with HTTP decoder callbacks; cpp-host's stop-iteration flag it sets is
    // never consulted on the network paths.
    "env.proxy_send_local_response": (_code: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number) =>
      (read(dp, dl) && read(bp, bl) && read(hp, hl) ? R.Ok : R.InvalidMemoryAccess),

    "env.proxy_get_header_map_value": (type: number, kp: number, kl: number) => noMap(type, [kp, kl]),
    "env.proxy_add_header_map_value": (type: number, kp: number, kl: number, vp: number, vl: number) => noMap(type, [kp, kl], [vp, vl]),
    "env.proxy_replace_header_map_value": (type: number, kp: number, kl: number, vp: number, vl: number) => noMap(type, [kp, kl], [vp, vl]),
    "env.proxy_remove_header_map_value": (type: number, kp: number, kl: number) => noMap(type, [kp, kl]),
    "env.proxy_set_header_map_pairs": (type: number, p: number, n: number) => noMap(type, [p, n]),
    "env.proxy_get_header_map_size": (type: number) => noMap(type),
    "env.proxy_get_header_map_pairs": (type: number, retPtr: number, retLen: number) => {
      if (u(type) > HEADER_MAP_TYPE_MAX) return R.BadArgument;
      return mem().setU32(u(retPtr), 0) && mem().setU32(u(retLen), 0) ? R.Ok : R.InvalidMemoryAccess;
    },

    "env.proxy_get_shared_data": (kp: number, kl: number, retPtr: number, retLen: number, casPtr: number) => {
      const key = read(kp, kl);
      if (!key) return R.InvalidMemoryAccess;
      const { result, value, cas } = vm.sharedData.get(vm.vmId, decodeUtf8(key));
      if (result !== R.Ok) return result;
      if (!vm.copyOut(value!, u(retPtr), u(retLen))) return R.InvalidMemoryAccess;
      return mem().setU32(u(casPtr), cas!) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_set_shared_data": (kp: number, kl: number, vp: number, vl: number, cas: number) => {
      const key = read(kp, kl), value = read(vp, vl);
      if (!key || !value) return R.InvalidMemoryAccess;
      return vm.sharedData.set(vm.vmId, decodeUtf8(key), value, u(cas));
    },
    "env.proxy_register_shared_queue": (np: number, nl: number, tokenPtr: number) => {
      const name = read(np, nl);
      if (!name) return R.InvalidMemoryAccess;
      const token = vm.registerQueue(decodeUtf8(name), vm.context().rootContext.id);
      return mem().setU32(u(tokenPtr), token) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_resolve_shared_queue": (vp: number, vl: number, np: number, nl: number, tokenPtr: number) => {
      const vmId = read(vp, vl), name = read(np, nl);
      if (!vmId || !name) return R.InvalidMemoryAccess;
      const { result, token } = vm.sharedData.resolve(decodeUtf8(vmId), decodeUtf8(name));
      if (result !== R.Ok) return result;
      return mem().setU32(u(tokenPtr), token!) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_enqueue_shared_queue": (token: number, p: number, n: number) => {
      const data = read(p, n);
      if (!data) return R.InvalidMemoryAccess;
      return vm.sharedData.enqueue(u(token), data);
    },
    "env.proxy_dequeue_shared_queue": (token: number, retPtr: number, retLen: number) => {
      const { result, value } = vm.sharedData.dequeue(u(token));
      if (result !== R.Ok) return result;
      return vm.copyOut(value!, u(retPtr), u(retLen)) ? R.Ok : R.InvalidMemoryAccess;
    },

    // The harness has no cluster manager for callouts: every cluster is unknown to it, which
    // Envoy answers with BadArgument (http) / ParseFailure (grpc, name not a GrpcService).
    "env.proxy_http_call": (up: number, ul: number, hp: number, hl: number, bp: number, bl: number, tp: number, tl: number,
      _timeout: number, tokenPtr: number) => {
      if (!read(up, ul) || !read(bp, bl) || !read(hp, hl) || !read(tp, tl)) return R.InvalidMemoryAccess;
      if (!mem().setU32(u(tokenPtr), 0)) return R.InvalidMemoryAccess;
      return R.BadArgument;
    },
    "env.proxy_grpc_call": (sp: number, sl: number, np: number, nl: number, mp: number, ml: number, ip: number, il: number,
      rp: number, rl: number) =>
      (read(sp, sl) && read(np, nl) && read(mp, ml) && read(ip, il) && read(rp, rl) ? R.ParseFailure : R.InvalidMemoryAccess),
    "env.proxy_grpc_stream": (sp: number, sl: number, np: number, nl: number, mp: number, ml: number, ip: number, il: number) =>
      (read(sp, sl) && read(np, nl) && read(mp, ml) && read(ip, il) ? R.ParseFailure : R.InvalidMemoryAccess),
    "env.proxy_grpc_send": (_t: number, p: number, n: number) => (read(p, n) ? R.NotFound : R.InvalidMemoryAccess),
    "env.proxy_grpc_cancel": () => R.NotFound,
    "env.proxy_grpc_close": () => R.NotFound,
    "env.proxy_get_status": (codePtr: number, retPtr: number, retLen: number) =>
      (mem().setU32(u(codePtr), 0) && vm.copyOut(new Uint8Array(0), u(retPtr), u(retLen)) ? R.Ok : R.InvalidMemoryAccess),

    "env.proxy_define_metric": (type: number, np: number, nl: number, idPtr: number) => {
      const name = read(np, nl);
      if (!name) return R.InvalidMemoryAccess;
      const { result, id } = vm.metricIds.define(u(type), decodeUtf8(name));
      if (result !== R.Ok) return result;
      return mem().setU32(u(idPtr), id) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_increment_metric": (id: number, delta: bigint) => vm.metricIds.increment(u(id), BigInt.asIntN(64, delta)),
    "env.proxy_record_metric": (id: number, value: bigint) => vm.metricIds.record(u(id), BigInt.asUintN(64, value)),
    "env.proxy_get_metric": (id: number, retPtr: number) => {
      const { result, value } = vm.metricIds.get(u(id));
      if (result !== R.Ok) return result;
      return mem().setU64(u(retPtr), value!) ? R.Ok : R.InvalidMemoryAccess;
    },

    "env.proxy_set_effective_context": (id: number) => vm.setEffectiveContext(u(id)),
    // Only a root context that returned false from on_done can be done; the harness never
    // shuts a root context down, so there is nothing pending.
    "env.proxy_done": () => R.NotFound,
    "env.proxy_call_foreign_function": (np: number, nl: number, ap: number, al: number, resPtr: number, resLen: number) => {
      const name = read(np, nl);
      if (!name) return R.InvalidMemoryAccess;
      const args = read(ap, al);
      if (!args) return R.InvalidMemoryAccess;
      const f = FOREIGN_FUNCTIONS[decodeUtf8(name)];
      if (!f) return R.NotFound;
      const { result, data } = f(args, vm.foreignContext());
      let address = 0;
      if (data && u(resPtr) !== 0) {
        address = vm.alloc(data.length);
        if (address === 0 || !mem().write(address, data)) return R.InvalidMemoryAccess;
      }
      if (u(resPtr) !== 0 && !mem().setU32(u(resPtr), address)) return R.InvalidMemoryAccess;
      if (u(resLen) !== 0 && !mem().setU32(u(resLen), data?.length ?? 0)) return R.InvalidMemoryAccess;
      return result;
    },

    "env.pthread_equal": (a: number, b: number) => (u(a) === u(b) ? 1 : 0),
    "env.emscripten_notify_memory_growth": () => undefined,
    "env.envoy_resolve_dns": (ap: number, al: number, tokenPtr: number) => {
      const address = read(ap, al);
      if (!address) return R.InvalidMemoryAccess;
      const token = vm.resolveDns(decodeUtf8(address));
      return mem().setU32(u(tokenPtr), token) ? R.Ok : R.InvalidMemoryAccess;
    },

    // ABI 0.1.0 only (a 0.2.x module importing them fails the load before linking).
    "env.proxy_get_configuration": (retPtr: number, retLen: number) => {
      const buf = vm.context().getBuffer(7) ?? vm.context().getBuffer(6)!;
      return vm.copyOut(buf.bytes(0, buf.size()).slice(), u(retPtr), u(retLen)) ? R.Ok : R.InvalidMemoryAccess;
    },
    "env.proxy_continue_request": () => vm.context().continueStream(0),
    "env.proxy_continue_response": () => vm.context().continueStream(1),
    "env.proxy_clear_route_cache": () => R.Ok,
  };
}
