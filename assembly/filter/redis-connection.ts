// One Redis connection: request decoder on the downstream path, reply decoder on the upstream
// path, FIFO correlation in between, metadata to filter state, counts to batched metrics.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { RedisReplyDecoder, RedisRequestDecoder, RedisSession, REPLY_MATCHED, REPLY_OUT_OF_BAND } from "../protocols/redis";
import { FilterConfig } from "../config/config";
import { ProtocolStats } from "./stats";
import { ProtocolConnection } from "./protocol-connection";
import { PROP_ID, PROP_KEY, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS, exposeBytes, exposeInt, exposeString } from "./expose";

export class RedisConnection extends ProtocolConnection<RedisRequestDecoder, RedisReplyDecoder> {
  private session: RedisSession;
  /** Keys of outstanding requests, kept only when per-request logging is on. */
  private logKeys: Array<string> = [];

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats) {
    super(id, root, cfg, stats, "redis", new RedisRequestDecoder(cfg.redis.limits), new RedisReplyDecoder(cfg.redis.limits));
    this.session = new RedisSession(cfg.redis.maxPending);
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    this.session.onRequest(req, now);
    this.stats.dRequests++;
    if (this.exposeRequest()) {
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

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onReply(rep);
    if (match == REPLY_OUT_OF_BAND) { this.stats.dOutOfBand++; return; }
    if (rep.isError()) this.stats.dError++; else this.stats.dOk++;
    if (match == REPLY_MATCHED) this.stats.recordDuration((now - this.session.matchedStartNs()) / 1000);
    if (this.exposeReply()) {
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
}
