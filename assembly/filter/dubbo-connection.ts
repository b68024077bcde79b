// One Dubbo connection: the same decoder type on both paths (16-byte header framing, Hessian2
// body metadata), responses matched to requests by id (out of order allowed), heartbeats and
// other events counted apart from requests.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { DubboDecoder, DubboSession, MATCHED, STATUS_OK, RESPONSE_WITH_EXCEPTION, RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS } from "../protocols/dubbo";
import { FilterConfig } from "../config/config";
import { ProtocolStats } from "./stats";
import { ProtocolConnection } from "./protocol-connection";
import { PROP_GROUP, PROP_HEADER_PREFIX, PROP_ID, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS,
  PROP_SERVICE, PROP_VERSION, exposeBytes, exposeInt, exposeString } from "./expose";

export class DubboConnection extends ProtocolConnection<DubboDecoder, DubboDecoder> {
  private session: DubboSession;

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats) {
    super(id, root, cfg, stats, "dubbo", new DubboDecoder(cfg.dubbo.limits), new DubboDecoder(cfg.dubbo.limits));
    this.session = new DubboSession(cfg.dubbo.maxPending);
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    this.session.onRequest(req, now);
    if (req.isEvent()) { this.stats.dOutOfBand++; return; }
    this.stats.dRequests++;
    if (this.exposeRequest()) {
      exposeBytes(PROP_SERVICE, req.servicePtr(), req.serviceLen());
      exposeBytes(PROP_METHOD, req.methodPtr(), req.methodLen());
      exposeBytes(PROP_VERSION, req.versionPtr(), req.hasVersion() ? req.versionLen() : 0);
      exposeBytes(PROP_GROUP, req.groupPtr(), req.groupLen());
      exposeInt(PROP_ID, req.requestId());
      exposeString(PROP_KIND, req.isTwoWay() ? "request" : "oneway");
      for (let i = 0, n = req.attachmentCount(); i < n; i++) {
        exposeBytes(PROP_HEADER_PREFIX + String.UTF8.decodeUnsafe(req.attachmentKeyPtr(i), req.attachmentKeyLen(i)),
          req.attachmentValuePtr(i), req.attachmentValueLen(i));
      }
    }
  }

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onResponse(rep);
    if (rep.isEvent()) { this.stats.dOutOfBand++; return; }
    const status = responseStatus(rep);
    if (status == 0) this.stats.dOk++; else this.stats.dError++;
    if (match == MATCHED) this.stats.recordDuration((now - this.session.matchedStartNs()) / 1000);
    if (this.exposeReply()) {
      exposeString(PROP_RESPONSE_STATUS, STATUS_NAMES[status]);
      exposeString(PROP_RESPONSE_CODE, rep.status().toString());
    }
    if (this.cfg.logRequests && match == MATCHED) {
      log(LogLevel.Info, "dubbo id=" + this.session.matchedRequestId().toString() + " " +
        String.UTF8.decodeUnsafe(this.session.matchedMethodPtr(), this.session.matchedMethodLen()) + " -> " + STATUS_NAMES[status] +
        " status=" + rep.status().toString() + " " + ((now - this.session.matchedStartNs()) / 1000).toString() + "us");
    }
  }
}

const STATUS_NAMES: StaticArray<string> = ["ok", "error", "exception"];

/** 0 ok; 1 error: the service threw (status 20, exception flag); 2 exception: the framework failed (status ≠ 20). */
function responseStatus(rep: DubboDecoder): i32 {
  if (rep.status() != STATUS_OK) return 2;
  const flag = rep.responseFlag();
  return flag == RESPONSE_WITH_EXCEPTION || flag == RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS ? 1 : 0;
}
