// One Thrift connection: the same decoder type on both paths (transport and protocol detected
// from each direction's first bytes), seqid correlation, metadata to filter state.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { ThriftDecoder, ThriftSession, REPLY_MATCHED, MSG_ONEWAY, REPLY_STATUS_SUCCESS, REPLY_STATUS_EXCEPTION } from "../protocols/thrift";
import { FilterConfig } from "../config/config";
import { ProtocolStats } from "./stats";
import { ProtocolConnection } from "./protocol-connection";
import { PROP_HEADER_PREFIX, PROP_ID, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS, PROP_SERVICE,
  exposeBytes, exposeInt, exposeString } from "./expose";

export class ThriftConnection extends ProtocolConnection<ThriftDecoder, ThriftDecoder> {
  private session: ThriftSession;

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats) {
    super(id, root, cfg, stats, "thrift", new ThriftDecoder(cfg.thrift.limits), new ThriftDecoder(cfg.thrift.limits));
    this.session = new ThriftSession(cfg.thrift.maxPending);
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    this.session.onRequest(req, now);
    this.stats.dRequests++;
    if (this.exposeRequest()) {
      exposeBytes(PROP_SERVICE, req.servicePtr(), req.serviceLen());
      exposeBytes(PROP_METHOD, req.methodPtr(), req.methodLen());
      exposeInt(PROP_ID, req.seqId());
      exposeString(PROP_KIND, req.messageType() == MSG_ONEWAY ? "oneway" : "call");
      for (let i = 0, n = req.headerCount(); i < n; i++) {
        exposeBytes(PROP_HEADER_PREFIX + String.UTF8.decodeUnsafe(req.headerKeyPtr(i), req.headerKeyLen(i)),
          req.headerValuePtr(i), req.headerValueLen(i));
      }
    }
  }

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onReply(rep);
    const status = rep.replyStatus();
    if (status == REPLY_STATUS_SUCCESS) this.stats.dOk++; else this.stats.dError++;
    if (match == REPLY_MATCHED) this.stats.recordDuration((now - this.session.matchedStartNs()) / 1000);
    if (this.exposeReply()) {
      exposeString(PROP_RESPONSE_STATUS, statusName(status));
      exposeString(PROP_RESPONSE_CODE, status == REPLY_STATUS_EXCEPTION ? rep.appExceptionType().toString() : "");
    }
    if (this.cfg.logRequests && match == REPLY_MATCHED) {
      log(LogLevel.Info, "thrift seqid=" + this.session.matchedSeqId().toString() + " " +
        String.UTF8.decodeUnsafe(this.session.matchedMethodPtr(), this.session.matchedMethodLen()) + " -> " + statusName(status) +
        (status == REPLY_STATUS_EXCEPTION ? " type=" + rep.appExceptionType().toString() : "") +
        " " + ((now - this.session.matchedStartNs()) / 1000).toString() + "us");
    }
  }
}

/** ok: a result; error: an exception declared in the IDL; exception: a TApplicationException. */
function statusName(status: i32): string {
  return status == REPLY_STATUS_SUCCESS ? "ok" : status == REPLY_STATUS_EXCEPTION ? "exception" : "error";
}
