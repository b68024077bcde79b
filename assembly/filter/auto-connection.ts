// protocol: auto — picks the codec from the first byte the client sends, then hands every callback
// to that protocol's connection. One byte is enough for the three protocols (all client-first):
// Dubbo frames start with the magic 0xDA, Thrift with 0x80 / 0x82 (unframed binary / compact) or
// with the high byte of a frame length (0x00 for frames < 16 MiB, framed or THeader); Redis with
// `*` or the printable first letter of an inline command.
import { NetworkContext, RootContext } from "../abi/context";
import { bufferLen, bufferPtr, continueStream, getBufferBytes, log, logEnabled, setEffectiveContext } from "../abi/hostcalls";
import { releaseHostMemory } from "../abi/memory";
import { Action, BufferType, LogLevel, PeerType, StreamType, WasmResult } from "../abi/types";
import { Protocol } from "../config/config";
import { ProtocolStats } from "./stats";
import { ConnectionTimers } from "./timers";
import { ROUTE_TOO_LATE, ROUTE_WAITING, RoutedConnection } from "./protocol-connection";
import { monotonicNs } from "../abi/hostcalls";

/** The protocol a stream starting with `first` speaks. */
export function detectProtocol(first: u8): Protocol {
  if (first == 0xda) return Protocol.Dubbo;
  if (first == 0x80 || first == 0x82 || first < 0x20 && first != 0x0a && first != 0x0d && first != 0x09) return Protocol.Thrift;
  return Protocol.Redis;
}

/**
 * M makes the protocol connection: `connectionFor(protocol, id)` returning a ProtocolConnection
 * (the root context). With routes, the wait for the first request starts here, before the
 * protocol is known, and is handed over to the protocol connection once it is.
 */
export class AutoConnection<M> extends NetworkContext {
  private inner: NetworkContext | null = null;
  private routeState: i32 = 0;
  private deadlineNs: i64 = 0;

  constructor(id: u32, root: RootContext, private maker: M, private detected: StaticArray<ProtocolStats>,
    private routes: bool, private waitMs: u32, private timers: ConnectionTimers) {
    super(id, root);
  }

  onNewConnection(): Action {
    if (!this.routes) return Action.Continue;
    this.routeState = ROUTE_WAITING;
    this.deadlineNs = monotonicNs() + <i64>this.waitMs * 1000000;
    this.timers.arm(this);
    return Action.Pause;
  }

  onTimer(nowNs: i64): bool {
    const inner = this.inner;
    if (inner != null) return inner.onTimer(nowNs);
    if (this.routeState != ROUTE_WAITING || nowNs < this.deadlineNs) return this.routeState == ROUTE_WAITING;
    // Nothing arrived in time: let tcp_proxy start; the protocol connection will count it too late.
    this.routeState = ROUTE_TOO_LATE;
    if (setEffectiveContext(this.id) == WasmResult.Ok) continueStream(StreamType.Downstream);
    return false;
  }

  onDownstreamData(size: i32, endOfStream: bool): Action {
    let inner = this.inner;
    if (inner == null) {
      if (size == 0) return Action.Continue;
      if (getBufferBytes(BufferType.DownstreamData, 0, 1) != WasmResult.Ok || bufferLen < 1) {
        releaseHostMemory(bufferPtr);
        return Action.Continue;
      }
      const protocol = detectProtocol(load<u8>(bufferPtr));
      releaseHostMemory(bufferPtr);
      const conn = this.maker.connectionFor(protocol, this.id);
      inner = conn;
      this.inner = inner;
      if (this.routeState == ROUTE_WAITING) conn.waitForRoute(this.deadlineNs, null); // the tick keeps coming here
      else if (this.routeState == ROUTE_TOO_LATE) conn.routeState = ROUTE_TOO_LATE;
      const stats = this.detected[<i32>protocol];
      stats.dDetected++;
      stats.flush();
      if (logEnabled(LogLevel.Debug)) log(LogLevel.Debug, "metawire auto: connection " + this.id.toString() + " speaks " + PROTOCOL_NAMES[<i32>protocol]);
      inner.onNewConnection();
    }
    return inner.onDownstreamData(size, endOfStream);
  }

  /** Bytes from the server before the client spoke: no protocol known yet, passed through. */
  onUpstreamData(size: i32, endOfStream: bool): Action {
    const inner = this.inner;
    return inner == null ? Action.Continue : inner.onUpstreamData(size, endOfStream);
  }

  onDownstreamClose(peer: PeerType): void { const i = this.inner; if (i != null) i.onDownstreamClose(peer); }
  onUpstreamClose(peer: PeerType): void { const i = this.inner; if (i != null) i.onUpstreamClose(peer); }
  onDone(): bool { const i = this.inner; return i == null ? true : i.onDone(); }
  onLog(): void { const i = this.inner; if (i != null) i.onLog(); }
  onDelete(): void {
    this.timers.disarm(this);
    const i = this.inner;
    if (i != null) i.onDelete();
  }
}

export const PROTOCOL_NAMES: StaticArray<string> = ["redis", "thrift", "dubbo"];
