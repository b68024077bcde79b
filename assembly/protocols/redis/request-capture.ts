// What a Redis request decoder keeps of the arguments it walks over: argv[0] (upper-cased, for the
// command lookup), the first bytes of argv[1..3] (for CLIENT REPLY, numkeys, …) and the first key,
// located by the command's key rule as the arguments go by. Bytes arrive one argument at a time,
// from a bulk payload or from the inline tokenizer (already unescaped); nothing is allocated per
// request – the buffers are made once here and overwritten by the next request.

import { upperByte, parseStrictI64 } from "./ascii";
import {
  lookupCommand,
  commandRule,
  ruleKind,
  ruleArg,
  ruleKeyword,
  RULE_INDEX,
  RULE_KEYNUM,
  RULE_KEYWORD,
} from "./commands";

/** argv[0] bytes kept (upper-cased); longer names are reported truncated and match no command. */
export const METHOD_CAP: i32 = 64;
/** Bytes kept of each of argv[1], argv[2], argv[3] (raw, as sent). */
export const ARG_CAP: i32 = 32;
export const ARG_SLOTS: i32 = 3;
/** Upper bound for RedisLimits.maxKeyCapture (the key buffer is sized once). */
export const KEY_CAP_MAX: i32 = 65536;

export class RequestCapture {
  readonly methodBuf: StaticArray<u8> = new StaticArray<u8>(METHOD_CAP);
  methodLen: i32 = 0;
  methodFull: i64 = 0;
  readonly argBuf: StaticArray<u8> = new StaticArray<u8>(ARG_CAP * ARG_SLOTS);
  /** Full length of argv[1..3], -1 while not (yet) seen. */
  readonly argFull: StaticArray<i64> = new StaticArray<i64>(ARG_SLOTS);
  readonly keyBuf: StaticArray<u8>;
  keyFull: i64 = 0;
  hasKey: bool = false;
  command: i32 = -1;
  /** Arguments completed so far (= argc once the request is complete). */
  argc: i64 = 0;

  private keyCap: i32 = 0;
  private keyArg: i64 = -1; // index of the key argument once known
  private keynumArg: i64 = -1; // RULE_KEYNUM: index holding the key count
  private kwFrom: i64 = -1; // RULE_KEYWORD: search start
  private kwWord: string = "";
  private cur: i64 = -1; // argument being received
  private curLen: i64 = 0; // its bytes seen (or skipped) so far
  private kwCand: bool = false; // the current argument may still be the keyword

  constructor(maxKeyCapture: i32) {
    const n = maxKeyCapture < 0 ? 0 : maxKeyCapture > KEY_CAP_MAX ? KEY_CAP_MAX : maxKeyCapture;
    this.keyBuf = new StaticArray<u8>(n);
  }

  /** Start a new request; `maxKeyCapture` is read again so limit changes apply (up to the buffer). */
  reset(maxKeyCapture: i32): void {
    const n = this.keyBuf.length;
    this.keyCap = maxKeyCapture < 0 ? 0 : maxKeyCapture > n ? n : maxKeyCapture;
    this.methodLen = 0;
    this.methodFull = 0;
    for (let i = 0; i < ARG_SLOTS; i++) unchecked((this.argFull[i] = -1));
    this.keyFull = 0;
    this.hasKey = false;
    this.command = -1;
    this.argc = 0;
    this.keyArg = -1;
    this.keynumArg = -1;
    this.kwFrom = -1;
    this.kwWord = "";
    this.cur = -1;
    this.curLen = 0;
    this.kwCand = false;
  }

  /** Argument `index` starts; `declaredLen` is its bulk length, or -1 when unknown (inline). */
  begin(index: i64, declaredLen: i64): void {
    this.cur = index;
    this.curLen = 0;
    this.kwCand =
      this.kwFrom >= 0 &&
      this.keyArg < 0 &&
      index >= this.kwFrom &&
      (declaredLen < 0 || declaredLen == <i64>this.kwWord.length);
  }

  /** How many more bytes of the current argument must be passed to byte(); the rest may be skipped. */
  // @ts-ignore: decorator
  @inline
  want(): i64 {
    const cur = this.cur;
    const n = this.curLen;
    let w: i64 = 0;
    if (cur == 0) w = <i64>METHOD_CAP - n;
    else if (cur >= 1 && cur <= ARG_SLOTS) w = <i64>ARG_CAP - n;
    if (cur == this.keyArg) {
      const k = <i64>this.keyCap - n;
      if (k > w) w = k;
    }
    if (this.kwCand) {
      const k = <i64>this.kwWord.length - n;
      if (k > w) w = k;
    }
    return w > 0 ? w : 0;
  }

  byte(b: i32): void {
    const n = this.curLen;
    const cur = this.cur;
    if (cur == 0) {
      if (n < <i64>METHOD_CAP) unchecked((this.methodBuf[<i32>n] = <u8>upperByte(b)));
    } else if (cur >= 1 && cur <= ARG_SLOTS && n < <i64>ARG_CAP) {
      unchecked((this.argBuf[<i32>(cur - 1) * ARG_CAP + <i32>n] = <u8>b));
    }
    if (cur == this.keyArg && n < <i64>this.keyCap) unchecked((this.keyBuf[<i32>n] = <u8>b));
    if (this.kwCand) {
      const w = this.kwWord;
      if (n >= <i64>w.length || upperByte(b) != <i32>w.charCodeAt(<i32>n)) this.kwCand = false;
    }
    this.curLen = n + 1;
  }

  /** n ≤ want() bytes of the current argument at p, in one go (bulk payloads). */
  chunk(p: usize, n: i32): void {
    if (n <= 0) return;
    const cur = this.cur;
    const off = this.curLen;
    if (cur == 0) {
      const end = min<i64>(off + <i64>n, <i64>METHOD_CAP);
      const dst = changetype<usize>(this.methodBuf);
      for (let k = off; k < end; k++) store<u8>(dst + <usize>k, <u8>upperByte(<i32>load<u8>(p + <usize>(k - off))));
    } else if (cur >= 1 && cur <= ARG_SLOTS && off < <i64>ARG_CAP) {
      const m = min<i64>(<i64>n, <i64>ARG_CAP - off);
      const dst = changetype<usize>(this.argBuf) + <usize>((<i32>cur - 1) * ARG_CAP) + <usize>off;
      memory.copy(dst, p, <usize>m);
    }
    if (cur == this.keyArg && off < <i64>this.keyCap) {
      const m = min<i64>(<i64>n, <i64>this.keyCap - off);
      memory.copy(changetype<usize>(this.keyBuf) + <usize>off, p, <usize>m);
    }
    if (this.kwCand) {
      const w = this.kwWord;
      const wl = <i64>w.length;
      if (off + <i64>n > wl) this.kwCand = false;
      else {
        for (let k: i64 = 0; k < <i64>n; k++) {
          if (upperByte(<i32>load<u8>(p + <usize>k)) != <i32>w.charCodeAt(<i32>(off + k))) {
            this.kwCand = false;
            break;
          }
        }
      }
    }
    this.curLen = off + <i64>n;
  }

  /** `n` bytes of the current argument went by unseen (only after want() reached 0). */
  // @ts-ignore: decorator
  @inline
  advance(n: i64): void {
    this.curLen += n;
  }

  /** The current argument is complete. */
  end(): void {
    const cur = this.cur;
    const len = this.curLen;
    if (cur == 0) {
      this.methodFull = len;
      this.methodLen = len > <i64>METHOD_CAP ? METHOD_CAP : <i32>len;
      if (len <= <i64>METHOD_CAP) {
        this.command = lookupCommand(changetype<usize>(this.methodBuf), this.methodLen);
        this.applyRule(commandRule(this.command));
      }
    } else if (cur >= 1 && cur <= ARG_SLOTS) {
      unchecked((this.argFull[<i32>cur - 1] = len));
    }
    if (cur == this.keyArg) {
      this.hasKey = true;
      this.keyFull = len;
    }
    if (cur == this.keynumArg && cur >= 1 && cur <= ARG_SLOTS && len <= <i64>ARG_CAP) {
      const p = changetype<usize>(this.argBuf) + <usize>((<i32>cur - 1) * ARG_CAP);
      if (parseStrictI64(p, <i32>len, -1) >= 1) this.keyArg = cur + 1;
    }
    if (this.kwCand && len == <i64>this.kwWord.length) {
      this.keyArg = cur + 1;
      this.kwFrom = -1;
    }
    this.kwCand = false;
    this.argc = cur + 1;
  }

  keyLen(): i32 {
    return this.keyFull > <i64>this.keyCap ? this.keyCap : <i32>this.keyFull;
  }

  keyTruncated(): bool {
    return this.hasKey && this.keyFull > <i64>this.keyCap;
  }

  private applyRule(rule: i32): void {
    const kind = ruleKind(rule);
    const arg = <i64>ruleArg(rule);
    if (kind == RULE_INDEX) this.keyArg = arg;
    else if (kind == RULE_KEYNUM) this.keynumArg = arg;
    else if (kind == RULE_KEYWORD) {
      this.kwFrom = arg;
      this.kwWord = ruleKeyword(rule);
    }
  }
}
