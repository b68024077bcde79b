// What a Redis reply decoder keeps of the values it walks over: the first word of a top-level error,
// the head of a top-level simple string, the first string element of a top-level array/push, and the
// `xxx:` prefix of verbatim strings (to validate it). Buffers are made once and overwritten per reply.

import { lowerByte } from "./ascii";
import { align8 } from "./raw";

export const HEAD_CAP: i32 = 16;
export const ERR_CAP: i32 = 32;

export const CAP_NONE: i32 = 0;
/** Top-level '+': the first HEAD_CAP bytes as sent. */
export const CAP_TEXT: i32 = 1;
/** First element of a top-level array/push: the first HEAD_CAP bytes, ASCII lower-cased. */
export const CAP_HEAD: i32 = 2;
/** Top-level '-' / '!': the first word, at most ERR_CAP bytes. */
export const CAP_ERR: i32 = 3;
/** '=': byte 3 must be ':'. */
export const CAP_VERB: i32 = 4;

// An @unmanaged struct placed in its decoder's memory block (see request-capture.ts for why).
// @ts-ignore: decorator
@unmanaged
export class ReplyCapture {
  private off: i64; // bytes of the current value seen or skipped
  /** ERR_CAP bytes: the first word of a top-level error. */
  errBuf: usize;
  /** HEAD_CAP bytes: see RedisReplyDecoder.headPtr(). */
  headBuf: usize;
  errLen: i32;
  headLen: i32;
  private mode: i32;
  private errDone: bool;

  static bytes(): usize {
    return align8(offsetof<ReplyCapture>()) + <usize>(ERR_CAP + HEAD_CAP);
  }

  /** A capture in the zeroed memory at `at` (ReplyCapture.bytes(), 8-aligned). */
  static place(at: usize): ReplyCapture {
    const c = changetype<ReplyCapture>(at);
    const p = at + align8(offsetof<ReplyCapture>());
    c.errBuf = p;
    c.headBuf = p + <usize>ERR_CAP;
    c.mode = CAP_NONE;
    return c;
  }

  /** A new top-level value starts: forget the previous one's metadata. */
  // @ts-ignore: decorator
  @inline
  clear(): void {
    this.errLen = 0;
    this.errDone = false;
    this.headLen = 0;
  }

  /** The bytes of the value starting now are kept according to `mode`. */
  // @ts-ignore: decorator
  @inline
  begin(mode: i32): void {
    this.mode = mode;
    this.off = 0;
  }

  /** How many more bytes of the current value byte() must see; the rest may be skipped. */
  // @ts-ignore: decorator
  @inline
  want(): i64 {
    const off = this.off;
    switch (this.mode) {
      case CAP_TEXT:
      case CAP_HEAD:
        return off < <i64>HEAD_CAP ? <i64>HEAD_CAP - off : 0;
      case CAP_ERR:
        return this.errDone ? 0 : <i64>ERR_CAP - off;
      case CAP_VERB:
        return off < 4 ? 4 - off : 0;
    }
    return 0;
  }

  /** Whether byte() has anything to do for the current value. */
  // @ts-ignore: decorator
  @inline
  active(): bool {
    return this.mode != CAP_NONE;
  }

  /** One byte of the current value; false when it breaks the value (a verbatim prefix without ':'). */
  byte(b: i32): bool {
    const off = this.off;
    this.off = off + 1;
    switch (this.mode) {
      case CAP_TEXT:
      case CAP_HEAD: {
        const n = this.headLen;
        if (n < HEAD_CAP) {
          store<u8>(this.headBuf + <usize>n, <u8>(this.mode == CAP_HEAD ? lowerByte(b) : b));
          this.headLen = n + 1;
        }
        return true;
      }
      case CAP_ERR: {
        if (this.errDone) return true;
        if (b == 0x20) {
          this.errDone = true;
          return true;
        }
        const n = this.errLen;
        if (n < ERR_CAP) {
          store<u8>(this.errBuf + <usize>n, <u8>b);
          this.errLen = n + 1;
        }
        if (n + 1 >= ERR_CAP) this.errDone = true;
        return true;
      }
      case CAP_VERB:
        return off != 3 || b == 0x3a;
    }
    return true;
  }

  /** `n` bytes of the current value went by unseen (only after want() reached 0). */
  // @ts-ignore: decorator
  @inline
  advance(n: i64): void {
    this.off += n;
  }
}
