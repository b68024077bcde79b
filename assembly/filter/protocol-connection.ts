// What every protocol's connection shares: walking each host buffer through the direction's
// decoder, the switch to passthrough (or close) on a protocol error, the metric flush at the end
// of each callback and the "first or every" metadata rule. Subclasses say what a decoded request
// or reply means. Q and P are the request and reply decoder types (the generic is monomorphised,
// so calls into the decoders are direct).
//
// The filter never holds bytes back: every data callback returns Continue, so Envoy's buffers
// never grow because of us and the bytes on the wire are exactly the client's and the server's.
import { NetworkContext, RootContext } from "../abi/context";
import { closeStream, log, logEnabled, monotonicNs } from "../abi/hostcalls";
import { Action, BufferType, LogLevel, PeerType, StreamType } from "../abi/types";
import { EV_ERROR, EV_MESSAGE } from "../protocols/codec";
import { Expose, FilterConfig, OnError } from "../config/config";
import { PROP_PROTOCOL, exposeString } from "./expose";
import { BufferPump } from "./pump";
import { ProtocolStats } from "./stats";

export abstract class ProtocolConnection<Q, P> extends NetworkContext {
  protected passthrough: bool = false;
  private reqPump: BufferPump<Q> = new BufferPump<Q>();
  private repPump: BufferPump<P> = new BufferPump<P>();
  private requestsSeen: i64 = 0;
  private repliesSeen: i64 = 0;

  constructor(id: u32, root: RootContext, protected cfg: FilterConfig, protected stats: ProtocolStats,
    private protocolName: string, protected req: Q, protected rep: P) {
    super(id, root);
  }

  onNewConnection(): Action {
    this.stats.dCx++;
    if (this.cfg.expose != Expose.Off) exposeString(PROP_PROTOCOL, this.protocolName);
    this.stats.flush();
    return Action.Continue;
  }

  onDownstreamData(size: i32, endOfStream: bool): Action {
    return this.drain<Q>(this.reqPump, this.req, BufferType.DownstreamData, size);
  }

  onUpstreamData(size: i32, endOfStream: bool): Action {
    return this.drain<P>(this.repPump, this.rep, BufferType.UpstreamData, size);
  }

  /** Counts a request; true when its metadata goes to filter state (expose first/every). */
  protected exposeRequest(): bool {
    this.requestsSeen++;
    const e = this.cfg.expose;
    return e == Expose.Every || (e == Expose.First && this.requestsSeen == 1);
  }

  /** Counts a reply; true when its status goes to filter state. */
  protected exposeReply(): bool {
    this.repliesSeen++;
    const e = this.cfg.expose;
    return e == Expose.Every || (e == Expose.First && this.repliesSeen == 1);
  }

  /** A complete request was decoded; `now` is the monotonic time of this callback. */
  protected abstract onRequestMessage(now: i64): void;
  /** A complete reply was decoded. */
  protected abstract onReplyMessage(now: i64): void;

  /** Feeds [0, size) of the direction's host buffer to `dec`. */
  private drain<D>(pump: BufferPump<D>, dec: D, type: BufferType, size: i32): Action {
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
