// One Redis connection: request decoder on the downstream path, reply decoder on the upstream
// path, FIFO correlation in between, metadata to filter state, counts to batched metrics.
// The filter never holds bytes back: every callback returns Continue, so Envoy's buffers never
// grow because of us and the bytes on the wire are exactly the client's and the server's.
import { NetworkContext, RootContext } from "../abi/context";
import { closeStream, log, logEnabled, monotonicNs } from "../abi/hostcalls";
import { Action, BufferType, LogLevel, PeerType, StreamType } from "../abi/types";
import { EV_ERROR, EV_MESSAGE } from "../protocols/codec";
import { RedisReplyDecoder, RedisRequestDecoder, RedisSession, REPLY_MATCHED, REPLY_OUT_OF_BAND } from "../protocols/redis";
import { Expose, FilterConfig, OnError } from "../config/config";
import { BufferPump } from "./pump";
import { ProtocolStats } from "./stats";
import { PROP_ID, PROP_KEY, PROP_KIND, PROP_METHOD, PROP_PROTOCOL, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS, exposeBytes, exposeInt, exposeString } from "./expose";
import { RedisRuntime } from "./redis-runtime";

export class RedisConnection extends NetworkContext {
  private req: RedisRequestDecoder;
  private rep: RedisReplyDecoder;
  private session: RedisSession;
  private reqPump: BufferPump<RedisRequestDecoder> = new BufferPump<RedisRequestDecoder>();
  private repPump: BufferPump<RedisReplyDecoder> = new BufferPump<RedisReplyDecoder>();
  private cfg: FilterConfig;
  private stats: ProtocolStats;
  private passthrough: bool = false;
  private requestsSeen: i64 = 0;
  private repliesSeen: i64 = 0;
  /** Keys of outstanding requests, kept only when per-request logging is on. */
  private logKeys: Array<string> = [];

  constructor(id: u32, root: RootContext, runtime: RedisRuntime) {
    super(id, root);
    this.cfg = runtime.config;
    this.stats = runtime.stats;
    this.req = new RedisRequestDecoder(runtime.limits);
    this.rep = new RedisReplyDecoder(runtime.limits);
    this.session = new RedisSession(runtime.config.redis.maxPending);
  }

  onNewConnection(): Action {
    this.stats.dCx++;
    if (this.cfg.expose != Expose.Off) exposeString(PROP_PROTOCOL, "redis");
    this.stats.flush();
    return Action.Continue;
  }

  onDownstreamData(size: i32, endOfStream: bool): Action {
    if (this.passthrough || size == 0) return Action.Continue;
    let now: i64 = -1;
    const pump = this.reqPump;
    pump.begin(BufferType.DownstreamData, 0, size);
    while (true) {
      const ev = pump.next(this.req);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();
        this.onRequest(now);
      } else if (ev == EV_ERROR) {
        return this.protocolError("request", pump.failure.length > 0 ? pump.failure : this.req.errorReason(), this.req.start());
      } else break;
    }
    this.stats.flush();
    return Action.Continue;
  }

  onUpstreamData(size: i32, endOfStream: bool): Action {
    if (this.passthrough || size == 0) return Action.Continue;
    let now: i64 = -1;
    const pump = this.repPump;
    pump.begin(BufferType.UpstreamData, 0, size);
    while (true) {
      const ev = pump.next(this.rep);
      if (ev == EV_MESSAGE) {
        if (now < 0) now = monotonicNs();
        this.onReply(now);
      } else if (ev == EV_ERROR) {
        return this.protocolError("reply", pump.failure.length > 0 ? pump.failure : this.rep.errorReason(), this.rep.start());
      } else break;
    }
    this.stats.flush();
    return Action.Continue;
  }

  private onRequest(now: i64): void {
    const req = this.req;
    this.session.onRequest(req, now);
    this.requestsSeen++;
    this.stats.dRequests++;
    const expose = this.cfg.expose;
    if (expose == Expose.Every || (expose == Expose.First && this.requestsSeen == 1)) {
      exposeBytes(PROP_METHOD, req.methodPtr(), req.methodLen());
      exposeBytes(PROP_KEY, req.hasKey() ? req.keyPtr() : 0, req.hasKey() ? req.keyLen() : 0);
      exposeInt(PROP_ID, this.session.lastRequestId());
      exposeString(PROP_KIND, "request");
    }
    // One key per reply that will come: requests the server will not answer (CLIENT REPLY OFF/SKIP)
    // must not shift the keys of later ones.
    if (this.cfg.logRequests && this.session.lastRequestExpectsReply() && !this.session.overflowed()) {
      this.logKeys.push(req.hasKey() ? String.UTF8.decodeUnsafe(req.keyPtr(), req.keyLen()) : "");
    }
  }

  private onReply(now: i64): void {
    const rep = this.rep;
    const match = this.session.onReply(rep);
    if (match == REPLY_OUT_OF_BAND) { this.stats.dOutOfBand++; return; }
    this.repliesSeen++;
    if (rep.isError()) this.stats.dError++; else this.stats.dOk++;
    if (match == REPLY_MATCHED) this.stats.recordDuration((now - this.session.matchedStartNs()) / 1000);
    const expose = this.cfg.expose;
    if (expose == Expose.Every || (expose == Expose.First && this.repliesSeen == 1)) {
      exposeString(PROP_RESPONSE_STATUS, rep.isError() ? "error" : "ok");
      exposeBytes(PROP_RESPONSE_CODE, rep.isError() ? rep.errorCodePtr() : 0, rep.isError() ? rep.errorCodeLen() : 0);
    }
    // A multi-channel (UN)SUBSCRIBE is answered once per channel: log it once, on the last.
    if (this.cfg.logRequests && match == REPLY_MATCHED && this.session.matchedFinal()) this.logReply(now);
  }

  private logReply(now: i64): void {
    const key = this.logKeys.length > 0 ? this.logKeys.shift() : "";
    const s = this.session;
    const rep = this.rep;
    let line = "redis id=" + s.matchedId().toString() + " " + String.UTF8.decodeUnsafe(s.matchedMethodPtr(), s.matchedMethodLen());
    if (key.length > 0) line += " key=" + key;
    line += rep.isError() ? " -> error " + String.UTF8.decodeUnsafe(rep.errorCodePtr(), rep.errorCodeLen()) : " -> ok";
    line += " " + ((now - s.matchedStartNs()) / 1000).toString() + "us";
    log(LogLevel.Info, line);
  }

  private protocolError(direction: string, reason: string, at: i64): Action {
    this.passthrough = true;
    this.stats.dDecodeErrors++;
    this.stats.dPassthrough++;
    this.stats.flush();
    const close = this.cfg.onError == OnError.Close;
    if (logEnabled(LogLevel.Warn)) {
      log(LogLevel.Warn, "metawire redis: connection " + this.id.toString() + ": " + direction + " decode error \"" + reason +
        "\" near stream offset " + at.toString() + (close ? "; closing the connection" : "; passing bytes through unparsed from here"));
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
