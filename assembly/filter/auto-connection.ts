// protocol: auto — picks the codec from the first byte the client sends, then hands every callback
// to that protocol's connection. One byte is enough for the three protocols (all client-first):
// Dubbo frames start with the magic 0xDA, Thrift with 0x80 / 0x82 (unframed binary / compact) or
// with the high byte of a frame length (0x00 for frames < 16 MiB, framed or THeader); Redis with
// `*` or the printable first letter of an inline command.
import { NetworkContext, RootContext } from "../abi/context";
import { bufferLen, bufferPtr, getBufferBytes, log, logEnabled } from "../abi/hostcalls";
import { releaseHostMemory } from "../abi/memory";
import { Action, BufferType, LogLevel, PeerType, WasmResult } from "../abi/types";
import { Protocol } from "../config/config";
import { ProtocolStats } from "./stats";

/** The protocol a stream starting with `first` speaks. */
export function detectProtocol(first: u8): Protocol {
  if (first == 0xda) return Protocol.Dubbo;
  if (first == 0x80 || first == 0x82 || first < 0x20 && first != 0x0a && first != 0x0d && first != 0x09) return Protocol.Thrift;
  return Protocol.Redis;
}

/** M makes the protocol connection: `connectionFor(protocol, id): NetworkContext` (the root context). */
export class AutoConnection<M> extends NetworkContext {
  private inner: NetworkContext | null = null;

  constructor(id: u32, root: RootContext, private maker: M, private detected: StaticArray<ProtocolStats>) {
    super(id, root);
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
      inner = this.maker.connectionFor(protocol, this.id);
      this.inner = inner;
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
  onDelete(): void { const i = this.inner; if (i != null) i.onDelete(); }
}

export const PROTOCOL_NAMES: StaticArray<string> = ["redis", "thrift", "dubbo"];
