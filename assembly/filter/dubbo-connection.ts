// One Dubbo connection: the same decoder type on both paths (16-byte header framing, Hessian2
// body metadata), responses matched to requests by id (out of order allowed), heartbeats and
// other events counted apart from requests. With enforcement a rejected two-way request becomes
// a heartbeat with the same id, and the server's heartbeat answer becomes an error response with
// that id and the policy's message; a rejected one-way request is dropped.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { DubboDecoder, DubboSession, MATCHED, STATUS_OK, RESPONSE_WITH_EXCEPTION, RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS } from "../protocols/dubbo";
import { writeDubboErrorResponse, writeDubboHeartbeat } from "../protocols/dubbo/substitute";
import { FilterConfig } from "../config/config";
import { Field } from "../config/policy-config";
import { VERDICT_ALLOW, VERDICT_RATE_LIMITED } from "../policy/engine";
import { MessageView } from "../policy/view";
import { ProtocolStats } from "./stats";
import { Enforcement, ProtocolConnection } from "./protocol-connection";
import { SUB_ERROR, Substitute } from "./substitutes";
import { STATUS_EXCEPTION } from "../telemetry/series";
import { PROP_GROUP, PROP_HEADER_PREFIX, PROP_ID, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS,
  PROP_SERVICE, PROP_VERSION, exposeBytes, exposeInt, exposeString } from "./expose";

/** Hessian2: the only serialization whose error body the filter can write. */
const SERIALIZATION_HESSIAN2: i32 = 2;
/** Response statuses of the error replies the filter writes. */
const STATUS_SERVICE_ERROR: i32 = 70;
const STATUS_THREADPOOL_EXHAUSTED: i32 = 100;
const PROTOCOL_BYTES = Uint8Array.wrap(String.UTF8.encode("dubbo"));

class DubboView extends MessageView {
  constructor(private req: DubboDecoder) { super(); }

  prepare(): void {
    const req = this.req;
    this.set(Field.Protocol, PROTOCOL_BYTES.dataStart, PROTOCOL_BYTES.length);
    this.set(Field.Service, req.servicePtr(), req.serviceLen());
    this.set(Field.Method, req.methodPtr(), req.methodLen());
    this.absent(Field.Key);
    if (req.hasVersion()) this.set(Field.Version, req.versionPtr(), req.versionLen()); else this.absent(Field.Version);
    if (req.hasGroup()) this.set(Field.Group, req.groupPtr(), req.groupLen()); else this.absent(Field.Group);
  }

  header(name: Uint8Array): bool {
    const req = this.req;
    const n = name.length;
    for (let i = 0, c = req.attachmentCount(); i < c; i++) {
      if (req.attachmentKeyLen(i) == n && memory.compare(req.attachmentKeyPtr(i), name.dataStart, n) == 0) {
        this.ptr = req.attachmentValuePtr(i);
        this.len = req.attachmentValueLen(i);
        return true;
      }
    }
    return false;
  }
}

export class DubboConnection extends ProtocolConnection<DubboDecoder, DubboDecoder> {
  private session: DubboSession;

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats, enforcement: Enforcement) {
    const req = new DubboDecoder(cfg.dubbo.limits);
    super(id, root, cfg, stats, "dubbo", req, new DubboDecoder(cfg.dubbo.limits), new DubboView(req), enforcement, false, cfg.dubbo.maxPending);
    this.session = new DubboSession(cfg.dubbo.maxPending);
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    if (req.isEvent()) { this.session.onRequest(req, now); this.stats.dOutOfBand++; return; }
    this.countRequest(req.servicePtr(), req.serviceLen(), req.methodPtr(), req.methodLen(), req.end() - req.start(), req.requestId(), req.isTwoWay());
    if (this.enforcing) {
      let verdict = this.routeRequest();
      if (verdict == VERDICT_ALLOW) verdict = this.applyPolicies(now);
      if (verdict != VERDICT_ALLOW) { this.substitute(verdict, now); return; }
    }
    this.session.onRequest(req, now);
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

  private substitute(verdict: i32, now: i64): void {
    const req = this.req;
    if (!this.requestEditable()) { this.closeForRejection(); return; }
    const edits = this.reqEdits;
    edits.mark();
    if (!req.isTwoWay()) { this.replaceRequest(); return; } // nobody waits for an answer
    if (req.serializationId() != SERIALIZATION_HESSIAN2) {
      this.closeForRejection("in serialization " + req.serializationId().toString() + ", for which no error body can be written (Hessian2 only)");
      return;
    }
    writeDubboHeartbeat(edits.sink, req.serializationId(), req.requestId());
    this.replaceRequest();
    this.session.onRequest(req, now);
    const sub = this.subs.add(req.requestId(), SUB_ERROR, this.rejectText);
    sub.serialization = req.serializationId();
    sub.status = verdict == VERDICT_RATE_LIMITED ? STATUS_THREADPOOL_EXHAUSTED : STATUS_SERVICE_ERROR;
  }

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onResponse(rep);
    if (this.subs.size > 0) {
      const sub = this.subs.take(rep.requestId());
      if (sub != null) { this.rewriteReply(sub, now); return; }
    }
    if (rep.isEvent()) { this.stats.dOutOfBand++; return; }
    const status = responseStatus(rep); // 0, 1, 2 are the telemetry's STATUS_OK, STATUS_ERROR, STATUS_EXCEPTION
    this.countReply(rep.requestId(), status, rep.end() - rep.start(), match == MATCHED ? (now - this.session.matchedStartNs()) / 1000 : -1);
    if (this.exposeReply()) {
      exposeString(PROP_RESPONSE_STATUS, STATUS_NAMES[status]);
      exposeString(PROP_RESPONSE_CODE, rep.status().toString());
    }
    if (this.cfg.logRequests && match == MATCHED && this.sampled()) {
      log(this.cfg.logLevel, "dubbo id=" + this.session.matchedRequestId().toString() + " " +
        String.UTF8.decodeUnsafe(this.session.matchedMethodPtr(), this.session.matchedMethodLen()) + " -> " + STATUS_NAMES[status] +
        " status=" + rep.status().toString() + " " + ((now - this.session.matchedStartNs()) / 1000).toString() + "us");
    }
  }

  /** The heartbeat answer becomes the error response the consumer raises with the message. */
  private rewriteReply(sub: Substitute, now: i64): void {
    const edits = this.repEdits;
    const mark = edits.mark();
    writeDubboErrorResponse(edits.sink, sub.serialization, sub.id, sub.status, sub.text);
    this.replaceReply();
    this.countReply(sub.id, STATUS_EXCEPTION, edits.sink.length - mark, (now - this.session.matchedStartNs()) / 1000);
  }
}

const STATUS_NAMES: StaticArray<string> = ["ok", "error", "exception"];

/** 0 ok; 1 error: the service threw (status 20, exception flag); 2 exception: the framework failed (status ≠ 20). */
function responseStatus(rep: DubboDecoder): i32 {
  if (rep.status() != STATUS_OK) return 2;
  const flag = rep.responseFlag();
  return flag == RESPONSE_WITH_EXCEPTION || flag == RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS ? 1 : 0;
}
