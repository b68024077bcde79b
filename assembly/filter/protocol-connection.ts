// What every protocol's connection shares: walking each host buffer through the direction's
// decoder, the switch to passthrough (or close) on a protocol error, and the metric flush at the
// end of each callback. Subclasses say what a decoded request or reply means.
//
// The filter never holds bytes back: every data callback returns Continue, so Envoy's buffers
// never grow because of us and the bytes on the wire are exactly the client's and the server's.
import { NetworkContext, RootContext } from "../abi/context";
import { closeStream, log, logEnabled, monotonicNs } from "../abi/hostcalls";
import { Action, BufferType, LogLevel, PeerType, StreamType } from "../abi/types";
import { EV_ERROR, EV_MESSAGE } from "../protocols/codec";
import { FilterConfig, OnError } from "../config/config";
import { BufferPump } from "./pump";
import { ProtocolStats } from "./stats";

export abstract class ProtocolConnection extends NetworkContext {
  protected passthrough: bool = false;

  constructor(id: u32, root: RootContext, protected cfg: FilterConfig, protected stats: ProtocolStats,
    private protocolName: string) {
    super(id, root);
  }

  /** A complete request was decoded; `now` is the monotonic time of this callback. */
  protected abstract onRequestMessage(now: i64): void;
  /** A complete reply was decoded. */
  protected abstract onReplyMessage(now: i64): void;

  /**
   * Feeds [0, size) of the direction's host buffer to `dec`. D is the protocol's decoder type
   * (feed/event/skippable/skip/errorReason/start); the generic is monomorphised.
   */
  protected drain<D>(pump: BufferPump<D>, dec: D, type: BufferType, size: i32): Action {
    if (this.passthrough || size == 0) return Action.Continue;
    const request = type == BufferType.DownstreamData;
    let now: i64 = -1;
    pump.begin(type, 0, size);
    while (true) {
      const ev = pump.next(dec);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();   // one clock read per callback, shared by its messages
        if (request) this.onRequestMessage(now); else this.onReplyMessage(now);
      } else if (ev == EV_ERROR) {
        return this.protocolError(request ? "request" : "reply", pump.failure.length > 0 ? pump.failure : dec.errorReason(), dec.start());
      } else break;
    }
    this.stats.flush();
    return Action.Continue;
  }

  private protocolError(direction: string, reason: string, at: i64): Action {
    this.passthrough = true;
    this.stats.dDecodeErrors++;
    this.stats.dPassthrough++;
    this.stats.flush();
    const close = this.cfg.onError == OnError.Close;
    if (logEnabled(LogLevel.Warn)) {
      log(LogLevel.Warn, "metawire " + this.protocolName + ": connection " + this.id.toString() + ": " + direction +
        " decode error \"" + reason + "\" near stream offset " + at.toString() +
        (close ? "; closing the connection" : "; passing bytes through unparsed from here"));
    }
    if (close) {
      closeStream(StreamType.Downstream);
      return Action.Pause;
    }
    return Action.Continue;
  }

  onDownstreamClose(peer: PeerType): void {
    this.stats.flush();
  }
}
