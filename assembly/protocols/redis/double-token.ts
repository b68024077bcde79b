// Validation of a RESP3 double (`,` line) as Envoy's codec accepts it: [+-]digits[.digits][e[+-]digits],
// also `.5` and `1.`, or the words inf / infinity / nan (any case, optional sign); at most 64 bytes.
// Fed byte by byte so the line may be split anywhere.

import { isDigit } from "./ascii";
import { align8 } from "./raw";

/** Envoy kMaxDoubleTokenLength. */
export const MAX_DOUBLE: i32 = 64;

const D_START: i32 = 0;
const D_SIGN: i32 = 1;
const D_INT: i32 = 2; // accepting
const D_DOT0: i32 = 3; // '.' with no digit before it
const D_FRAC: i32 = 4; // accepting
const D_EXP: i32 = 5;
const D_EXP_SIGN: i32 = 6;
const D_EXP_DIGITS: i32 = 7; // accepting
const D_WORD: i32 = 8; // letters

export const DOUBLE_OK: i32 = 0;
export const DOUBLE_INVALID: i32 = 1;
export const DOUBLE_TOO_LONG: i32 = 2;

/** Bytes kept of a word token: "infinity" is the longest accepted. */
const WORD_CAP: i32 = 8;

// An @unmanaged struct placed in its decoder's memory block (see request-capture.ts for why).
// @ts-ignore: decorator
@unmanaged
export class DoubleToken {
  private word: usize; // WORD_CAP bytes
  private state: i32;
  private len: i32;
  private wordLen: i32;

  static bytes(): usize {
    return align8(offsetof<DoubleToken>()) + <usize>WORD_CAP;
  }

  /** A token reader in the zeroed memory at `at` (DoubleToken.bytes(), 8-aligned). */
  static place(at: usize): DoubleToken {
    const t = changetype<DoubleToken>(at);
    t.word = at + align8(offsetof<DoubleToken>());
    t.state = D_START;
    return t;
  }

  reset(): void {
    this.state = D_START;
    this.len = 0;
    this.wordLen = 0;
  }

  /** One byte of the token (not the CR): DOUBLE_OK, DOUBLE_INVALID or DOUBLE_TOO_LONG. */
  byte(b: i32): i32 {
    if (++this.len > MAX_DOUBLE) return DOUBLE_TOO_LONG;
    const digit = isDigit(b);
    const letter = <u32>((b | 0x20) - 0x61) < 26;
    const exp = (b | 0x20) == 0x65;
    const sign = b == 0x2b || b == 0x2d;
    const s = this.state;
    let next = -1;
    if (s == D_START || s == D_SIGN) {
      if (digit) next = D_INT;
      else if (b == 0x2e) next = D_DOT0;
      else if (sign && s == D_START) next = D_SIGN;
      else if (letter) next = D_WORD;
    } else if (s == D_INT) {
      if (digit) next = D_INT;
      else if (b == 0x2e) next = D_FRAC;
      else if (exp) next = D_EXP;
    } else if (s == D_DOT0) {
      if (digit) next = D_FRAC;
    } else if (s == D_FRAC) {
      if (digit) next = D_FRAC;
      else if (exp) next = D_EXP;
    } else if (s == D_EXP) {
      if (digit) next = D_EXP_DIGITS;
      else if (sign) next = D_EXP_SIGN;
    } else if (s == D_EXP_SIGN || s == D_EXP_DIGITS) {
      if (digit) next = D_EXP_DIGITS;
    } else if (s == D_WORD) {
      if (letter) next = D_WORD;
    }
    if (next < 0) return DOUBLE_INVALID;
    if (next == D_WORD) {
      const n = this.wordLen;
      if (n >= WORD_CAP) return DOUBLE_INVALID; // longer than "infinity"
      store<u8>(this.word + <usize>n, <u8>(b | 0x20));
      this.wordLen = n + 1;
    }
    this.state = next;
    return DOUBLE_OK;
  }

  /** The token seen so far is a complete double. */
  complete(): bool {
    const s = this.state;
    if (s == D_INT || s == D_FRAC || s == D_EXP_DIGITS) return true;
    if (s != D_WORD) return false;
    const p = this.word;
    const n = this.wordLen;
    if (n == 3) {
      const w = <u32>load<u16>(p) | (<u32>load<u8>(p, 2) << 16);
      return w == 0x666e69 || w == 0x6e616e; // "inf", "nan" (little-endian)
    }
    return n == 8 && load<u64>(p) == 0x7974696e69666e69; // "infinity"
  }
}
