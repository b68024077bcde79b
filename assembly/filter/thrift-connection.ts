// One Thrift connection: the same decoder type on both paths (transport and protocol detected
// from each direction's first bytes), seqid correlation, metadata to filter state. With
// enforcement a rejected CALL becomes a CALL of a reserved unknown method (same seqid, empty
// args, service prefix kept for multiplexed servers) and the server's "unknown method" reply
// becomes a TApplicationException carrying the policy's message; a rejected ONEWAY is dropped.
import { RootContext } from "../abi/context";
import { log } from "../abi/hostcalls";
import { LogLevel } from "../abi/types";
import { ThriftDecoder, ThriftSession, REPLY_MATCHED, MSG_ONEWAY, REPLY_STATUS_SUCCESS, REPLY_STATUS_EXCEPTION } from "../protocols/thrift";
import { RESERVED_METHOD, writeThriftAppException, writeThriftReservedCall } from "../protocols/thrift/substitute";
import { FilterConfig } from "../config/config";
import { Field } from "../config/policy-config";
import { VERDICT_ALLOW } from "../policy/engine";
import { MessageView } from "../policy/view";
import { ProtocolStats } from "./stats";
import { Enforcement, ProtocolConnection } from "./protocol-connection";
import { SUB_ERROR, Substitute } from "./substitutes";
import { STATUS_EXCEPTION } from "../telemetry/series";
import { PROP_HEADER_PREFIX, PROP_ID, PROP_KIND, PROP_METHOD, PROP_RESPONSE_CODE, PROP_RESPONSE_STATUS, PROP_SERVICE,
  exposeBytes, exposeInt, exposeString } from "./expose";

/** TApplicationException type of the replies the filter writes (INTERNAL_ERROR). */
const APP_EXCEPTION_TYPE: i32 = 6;
const PROTOCOL_BYTES = Uint8Array.wrap(String.UTF8.encode("thrift"));
/** Correlation id of a reply that matched no call (seqids are i32, so this is never one). */
const NOT_TRACKED: i64 = -1 - <i64>0x80000000;

class ThriftView extends MessageView {
  constructor(private req: ThriftDecoder) { super(); }

  prepare(): void {
    const req = this.req;
    this.set(Field.Protocol, PROTOCOL_BYTES.dataStart, PROTOCOL_BYTES.length);
    if (req.serviceLen() > 0) this.set(Field.Service, req.servicePtr(), req.serviceLen()); else this.absent(Field.Service);
    this.set(Field.Method, req.methodPtr(), req.methodLen());
    this.absent(Field.Key);
    this.absent(Field.Version);
    this.absent(Field.Group);
  }

  header(name: Uint8Array): bool {
    const req = this.req;
    const n = name.length;
    for (let i = 0, c = req.headerCount(); i < c; i++) {
      if (req.headerKeyLen(i) == n && memory.compare(req.headerKeyPtr(i), name.dataStart, n) == 0) {
        this.ptr = req.headerValuePtr(i);
        this.len = req.headerValueLen(i);
        return true;
      }
    }
    return false;
  }
}

export class ThriftConnection extends ProtocolConnection<ThriftDecoder, ThriftDecoder> {
  private session: ThriftSession;

  constructor(id: u32, root: RootContext, cfg: FilterConfig, stats: ProtocolStats, enforcement: Enforcement) {
    const req = new ThriftDecoder(cfg.thrift.limits);
    super(id, root, cfg, stats, "thrift", req, new ThriftDecoder(cfg.thrift.limits), new ThriftView(req), enforcement, false, cfg.thrift.maxPending);
    this.session = new ThriftSession(cfg.thrift.maxPending);
  }

  protected onRequestMessage(now: i64): void {
    const req = this.req;
    this.countRequest(req.servicePtr(), req.serviceLen(), req.methodPtr(), req.methodLen(), req.end() - req.start(), req.seqId(),
      req.messageType() != MSG_ONEWAY);
    if (this.enforcing) {
      let verdict = this.routeRequest();
      if (verdict == VERDICT_ALLOW) verdict = this.applyPolicies(now);
      if (verdict != VERDICT_ALLOW) { this.substitute(now); return; }
    }
    this.session.onRequest(req, now);
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

  private substitute(now: i64): void {
    const req = this.req;
    if (!this.requestEditable()) { this.closeForRejection(); return; }
    const edits = this.reqEdits;
    edits.mark();
    if (req.messageType() == MSG_ONEWAY) { this.replaceRequest(); return; } // nobody waits for an answer
    writeThriftReservedCall(edits.sink, req.transport(), req.protocol(), req.isLax(), req.servicePtr(), req.serviceLen(),
      req.seqId(), req.headerSeqId(), req.headerFlags());
    this.replaceRequest();
    this.session.onRequest(req, now);
    const sub = this.subs.add(req.seqId(), SUB_ERROR, this.rejectText);
    const method = new Uint8Array(req.methodLen());
    memory.copy(method.dataStart, req.methodPtr(), method.length);
    sub.method = method;
    sub.transport = req.transport();
    sub.protocol = req.protocol();
    sub.lax = req.isLax();
    sub.headerSeqId = req.headerSeqId();
    sub.headerFlags = req.headerFlags();
  }

  protected onReplyMessage(now: i64): void {
    const rep = this.rep;
    const match = this.session.onReply(rep);
    if (match == REPLY_MATCHED && this.subs.size > 0 && answersReserved(rep)) {
      const sub = this.subs.take(this.session.matchedSeqId());
      if (sub != null) { this.rewriteReply(sub, now); return; }
    }
    const status = rep.replyStatus(); // REPLY_STATUS_* are the telemetry's STATUS_* (ok, error, exception)
    if (match == REPLY_MATCHED) {
      this.countReply(this.session.matchedSeqId(), status, rep.end() - rep.start(), (now - this.session.matchedStartNs()) / 1000);
    } else this.countReply(NOT_TRACKED, status, rep.end() - rep.start(), -1);
    if (this.exposeReply()) {
      exposeString(PROP_RESPONSE_STATUS, statusName(status));
      exposeString(PROP_RESPONSE_CODE, status == REPLY_STATUS_EXCEPTION ? rep.appExceptionType().toString() : "");
    }
    if (this.cfg.logRequests && match == REPLY_MATCHED && this.sampled()) {
      log(this.cfg.logLevel, "thrift seqid=" + this.session.matchedSeqId().toString() + " " +
        String.UTF8.decodeUnsafe(this.session.matchedMethodPtr(), this.session.matchedMethodLen()) + " -> " + statusName(status) +
        (status == REPLY_STATUS_EXCEPTION ? " type=" + rep.appExceptionType().toString() : "") +
        " " + ((now - this.session.matchedStartNs()) / 1000).toString() + "us");
    }
  }

  /** The server's answer to the reserved method becomes the policy's TApplicationException. */
  private rewriteReply(sub: Substitute, now: i64): void {
    const edits = this.repEdits;
    const mark = edits.mark();
    writeThriftAppException(edits.sink, sub.transport, sub.protocol, sub.lax, sub.method.dataStart, sub.method.length,
      <i32>sub.id, sub.headerSeqId, sub.headerFlags, APP_EXCEPTION_TYPE, sub.text);
    this.replaceReply();
    this.countReply(sub.id, STATUS_EXCEPTION, edits.sink.length - mark, (now - this.session.matchedStartNs()) / 1000);
  }
}

const RESERVED_BYTES = Uint8Array.wrap(String.UTF8.encode(RESERVED_METHOD));

/**
 * The reply answers a reserved call (servers echo the name they got; a multiplexed one without its
 * "Service:"). Seqids alone may repeat on one connection (clients of different multiplexed services
 * number their calls independently), so the reply of an allowed call with the seqid of a denied
 * one must not be taken for the denied one's. A name cut at thrift.max_name_bytes compares as kept.
 */
function answersReserved(rep: ThriftDecoder): bool {
  const n = rep.methodLen();
  if (n > RESERVED_BYTES.length || (n < RESERVED_BYTES.length && !rep.nameTruncated())) return false;
  return memory.compare(rep.methodPtr(), RESERVED_BYTES.dataStart, n) == 0;
}

/** ok: a result; error: an exception declared in the IDL; exception: a TApplicationException. */
function statusName(status: i32): string {
  return status == REPLY_STATUS_SUCCESS ? "ok" : status == REPLY_STATUS_EXCEPTION ? "exception" : "error";
}
