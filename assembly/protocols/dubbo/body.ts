// What a Dubbo body holds, value by value, and what of it is kept (specs/protocols.md §2.2–§2.4).
// The decoder hands this reader exactly the body's bytes (never more: frames are delimited by the
// header), and calls finish() at the body's last byte. A Hessian failure, a value of the wrong kind
// or a body that ends early makes the body "not parsed" with a reason – never a stream error: the
// header framed the message, so the next one is still found. Fields completed before the failure
// keep their values.
//
// Request (hessian2, not an event):
//   dubbo version, service path, service version (string or null), method, parameter descriptor,
//   one value per parameter the descriptor names, then the attachments map.
// Arguments are counted from the descriptor (DescriptorCounter), as Dubbo's DecodeableRpcInvocation
// and Envoy do. Walking values "until the first map" would stop inside a call whose argument is a
// map (vector D12), so the count is the only sound way to find the attachments. If the body ends
// right after the arguments there are no attachments (Envoy: empty map); a last value that is not a
// map is walked and means no attachments (Envoy, vector DE20); bytes after the map are ignored, as
// Dubbo skips them (testMessageLengthGreaterThanMessageActualLength, vector DE13).
//
// Response, status OK: a response flag (int 0–5), then the value or exception (flags 0, 1, 3, 4),
// then the attachments map (flags 3, 4, 5). Flag 2 (null value) carries nothing: more bytes are a
// body error, as in Envoy (vector DE14). Response, other status: one string, the error message.
// Event: one value; `N` alone is a heartbeat (CodecSupport.isHeartBeat).

import { align8 } from "./raw";
import {
  R_NONE,
  H_NOT_STRING,
  H_NOT_INT,
  B_NOT_HESSIAN,
  B_META_NOT_STRING,
  B_META_MISSING,
  B_ARGS_MISSING,
  B_TRUNCATED,
  B_FLAG_NOT_INT,
  B_FLAG,
  B_FLAG_MISSING,
  B_RESULT_MISSING,
  B_TRAILING,
  B_MESSAGE_MISSING,
  B_MESSAGE_NOT_STRING,
  B_EVENT_EMPTY,
  reasonText,
} from "./reasons";
import { HessianWalker, W_DONE, W_FAIL, X_ANY, X_STRING, X_INT, K_STRING, K_NULL, CAP_NONE, CAP_STRING, CAP_STRICT, CAP_ATTACHMENTS } from "./hessian";
import { RESPONSE_NONE, RESPONSE_NULL_VALUE, RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS, RESPONSE_NULL_VALUE_WITH_ATTACHMENTS } from "./header";

export const BODY_NONE: i32 = 0; // not Hessian 2: framed only
export const BODY_REQUEST: i32 = 1;
export const BODY_RESPONSE: i32 = 2; // status OK
export const BODY_ERROR_MESSAGE: i32 = 3; // status ≠ OK
export const BODY_EVENT: i32 = 4;

// steps
const S_DUBBO: i32 = 0;
const S_PATH: i32 = 1;
const S_VERSION: i32 = 2;
const S_METHOD: i32 = 3;
const S_DESC: i32 = 4;
const S_ARGS: i32 = 5;
const S_ATTACH: i32 = 6;
const S_REST: i32 = 7; // nothing more is read; the rest of the body is skippable
const S_FLAG: i32 = 8;
const S_RESULT: i32 = 9;
const S_NOTHING: i32 = 10; // no further byte is allowed
const S_MESSAGE: i32 = 11;
const S_EVENT: i32 = 12;

// @ts-ignore: decorator
@unmanaged
export class BodyReader {
  walker: HessianWalker;
  errorCode: i32; // reasons.ts, R_NONE for none
  kindV: i32;
  step: i32;
  // request
  dubboOff: i32;
  dubboLen: i32;
  pathOff: i32;
  pathLen: i32;
  versionOff: i32;
  versionLen: i32;
  methodOff: i32;
  methodLen: i32;
  descOff: i32;
  descLen: i32;
  paramCount: i32;
  argsLeft: i32;
  // response
  flag: i32;
  messageOff: i32;
  messageLen: i32;
  walking: bool;
  done: bool;
  parsed: bool;
  hasVersion: bool;
  /** Service, version, method and descriptor are read (routing can start before the body ends). */
  metaReady: bool;
  messageTruncated: bool;
  hasMessage: bool;
  // event
  nullBody: bool;

  static bytes(): usize {
    return align8(offsetof<BodyReader>());
  }

  static place(at: usize, walker: HessianWalker): BodyReader {
    const r = changetype<BodyReader>(at);
    r.walker = walker;
    r.done = true;
    r.flag = RESPONSE_NONE;
    return r;
  }

  error(): string {
    return reasonText(this.errorCode);
  }

  begin(kind: i32): void {
    const w = this.walker;
    w.arena.clear();
    w.classes.clear();
    w.attachments.clear();
    this.kindV = kind;
    this.walking = false;
    this.parsed = kind != BODY_NONE;
    this.errorCode = kind == BODY_NONE ? B_NOT_HESSIAN : R_NONE;
    this.done = kind == BODY_NONE;
    this.step =
      kind == BODY_REQUEST ? S_DUBBO : kind == BODY_RESPONSE ? S_FLAG : kind == BODY_ERROR_MESSAGE ? S_MESSAGE : kind == BODY_EVENT ? S_EVENT : S_REST;
    this.dubboLen = 0;
    this.pathLen = 0;
    this.versionLen = 0;
    this.hasVersion = false;
    this.methodLen = 0;
    this.descLen = 0;
    this.paramCount = 0;
    this.argsLeft = 0;
    this.metaReady = false;
    this.flag = RESPONSE_NONE;
    this.messageLen = 0;
    this.messageTruncated = false;
    this.hasMessage = false;
    this.nullBody = false;
  }

  kind(): i32 {
    return this.kindV;
  }

  /** Reads body bytes [ptr, ptr+len); always takes them all (what is not needed is passed over). */
  feed(ptr: usize, len: i32): i32 {
    const w = this.walker;
    let i = 0;
    while (i < len && !this.done) {
      if (!this.walking) {
        this.next();
        continue;
      }
      i += w.feed(ptr + <usize>i, len - i);
      this.afterWalk();
    }
    return len;
  }

  /** Bytes that need not be fed: the rest of the body once nothing more is read, or binary payload. */
  skippable(): i64 {
    if (this.done) return i64.MAX_VALUE;
    return this.walking ? this.walker.skippable() : 0;
  }

  /** See HessianWalker.fetchHint(). */
  fetchHint(): i32 {
    return this.done || !this.walking ? 0 : this.walker.fetchHint();
  }

  skip(n: i64): void {
    if (this.done || !this.walking) return;
    this.walker.skip(n);
    this.afterWalk();
  }

  /** The body's last byte has been read or skipped. */
  finish(): void {
    if (this.done) return;
    const step = this.step;
    if (this.walking) {
      this.fail(step <= S_DESC ? B_META_MISSING : step == S_ARGS ? B_ARGS_MISSING : B_TRUNCATED);
      return;
    }
    if (step <= S_DESC) this.fail(B_META_MISSING);
    else if (step == S_ARGS && this.argsLeft > 0) this.fail(B_ARGS_MISSING);
    else if (step == S_FLAG) this.fail(B_FLAG_MISSING);
    else if (step == S_RESULT) this.fail(B_RESULT_MISSING);
    else if (step == S_MESSAGE) this.fail(B_MESSAGE_MISSING);
    else if (step == S_EVENT) this.fail(B_EVENT_EMPTY);
    this.done = true;
  }

  private afterWalk(): void {
    const s = this.walker.status();
    if (s == W_DONE) {
      this.walking = false;
      this.valueDone();
    } else if (s == W_FAIL) {
      // a top-level value of the wrong kind says more in the body's terms than in Hessian's
      const r = this.walker.reasonCode;
      const step = this.step;
      if (r == H_NOT_STRING && step <= S_DESC) this.fail(B_META_NOT_STRING);
      else if (r == H_NOT_STRING && step == S_MESSAGE) this.fail(B_MESSAGE_NOT_STRING);
      else if (r == H_NOT_INT && step == S_FLAG) this.fail(B_FLAG_NOT_INT);
      else this.fail(r);
    }
  }

  /** Starts the next value the plan expects (there is at least one more body byte). */
  private next(): void {
    const w = this.walker;
    switch (this.step) {
      case S_DUBBO:
      case S_PATH:
      case S_VERSION:
      case S_METHOD:
        w.begin(X_STRING, CAP_STRICT, false);
        break;
      case S_DESC:
        w.begin(X_STRING, CAP_STRICT, true);
        break;
      case S_ARGS:
        if (this.argsLeft == 0) {
          this.step = S_ATTACH;
          return;
        }
        w.begin(X_ANY, CAP_NONE, false);
        break;
      case S_ATTACH:
        w.begin(X_ANY, CAP_ATTACHMENTS, false);
        break;
      case S_FLAG:
        w.begin(X_INT, CAP_NONE, false);
        break;
      case S_RESULT:
      case S_EVENT:
        w.begin(X_ANY, CAP_NONE, false);
        break;
      case S_MESSAGE:
        w.begin(X_STRING, CAP_STRING, false);
        break;
      case S_NOTHING:
        this.fail(B_TRAILING);
        return;
      default:
        this.done = true; // S_REST
        return;
    }
    this.walking = true;
  }

  private valueDone(): void {
    const w = this.walker;
    const k = w.kind();
    const step = this.step;
    if (step <= S_DESC) {
      if (k == K_NULL && step == S_VERSION) {
        this.hasVersion = false; // Java peers accept an unset version (§5.4 #9); Envoy fails here
        this.step = S_METHOD;
        return;
      }
      if (k != K_STRING) {
        this.fail(B_META_NOT_STRING);
        return;
      }
      const off = w.capturedOff();
      const len = w.capturedLen();
      if (step == S_DUBBO) {
        this.dubboOff = off;
        this.dubboLen = len;
      } else if (step == S_PATH) {
        this.pathOff = off;
        this.pathLen = len;
      } else if (step == S_VERSION) {
        this.versionOff = off;
        this.versionLen = len;
        this.hasVersion = true;
      } else if (step == S_METHOD) {
        this.methodOff = off;
        this.methodLen = len;
      } else {
        this.descOff = off;
        this.descLen = len;
        this.paramCount = w.desc.count;
        this.argsLeft = w.desc.count;
        this.metaReady = true;
      }
      this.step = step + 1;
      return;
    }
    switch (step) {
      case S_ARGS:
        this.argsLeft--;
        return;
      case S_ATTACH:
        // not a map (K_OTHER, a string …): no attachments, nothing was captured
        this.step = S_REST;
        return;
      case S_FLAG: {
        const v = w.intValue();
        if (v < 0 || v > 5) {
          this.fail(B_FLAG);
          return;
        }
        const f = <i32>v;
        this.flag = f;
        this.step =
          f == RESPONSE_NULL_VALUE ? S_NOTHING : f == RESPONSE_NULL_VALUE_WITH_ATTACHMENTS ? S_ATTACH : S_RESULT;
        return;
      }
      case S_RESULT:
        this.step = this.flag >= RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS ? S_ATTACH : S_REST;
        return;
      case S_MESSAGE:
        if (k == K_STRING) {
          this.hasMessage = true;
          this.messageOff = w.capturedOff();
          this.messageLen = w.capturedLen();
          this.messageTruncated = w.capturedOver();
        } else if (k != K_NULL) {
          this.fail(B_MESSAGE_NOT_STRING);
          return;
        }
        this.step = S_REST;
        return;
      case S_EVENT:
        this.nullBody = k == K_NULL;
        this.step = S_REST;
        return;
    }
  }

  private fail(reason: i32): void {
    this.parsed = false;
    this.errorCode = reason;
    this.walking = false;
    this.done = true;
  }
}
