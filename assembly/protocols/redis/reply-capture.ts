// What a Redis reply decoder keeps of the values it walks over: the first word of a top-level error,
// the head of a top-level simple string, the first string element of a top-level array/push, and the
// `xxx:` prefix of verbatim strings (to validate it). Buffers are made once and overwritten per reply.

import { lowerByte } from "./ascii";

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

export class ReplyCapture {
  readonly errBuf: StaticArray<u8> = new StaticArray<u8>(ERR_CAP);
  errLen: i32 = 0;
  readonly headBuf: StaticArray<u8> = new StaticArray<u8>(HEAD_CAP);
  headLen: i32 = 0;
  private errDone: bool = false;
  private mode: i32 = CAP_NONE;
  private off: i64 = 0; // bytes of the current value seen or skipped

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
          unchecked((this.headBuf[n] = <u8>(this.mode == CAP_HEAD ? lowerByte(b) : b)));
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
          unchecked((this.errBuf[n] = <u8>b));
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
