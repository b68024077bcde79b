// What a Redis request decoder keeps of the arguments it walks over: argv[0] (upper-cased, for the
// command lookup), the first bytes of argv[1..4] (for CLIENT REPLY, numkeys, …) and the first key,
// located by the command's key rule as the arguments go by. Bytes arrive one argument at a time,
// from a bulk payload or from the inline tokenizer (already unescaped); nothing is allocated per
// request – the buffers are made once and overwritten by the next request.
//
// The capture is an @unmanaged struct placed inside its decoder's one StaticArray<u8> block (the
// decoder owns the memory; the GC frees it with the decoder). Its `this` is a plain pointer, so the
// per-byte and per-argument code below never spills managed references to the shadow stack.

import { upperByte, upper8, parseStrictI64 } from "./ascii";
import { align8, copySmall, tailMask } from "./raw";
import {
  ensureCommands,
  lookupUpperWord,
  ruleOf,
  flagsOf,
  ruleKind,
  ruleArg,
  ruleKeyword,
  RULE_INDEX,
  RULE_KEYNUM,
  RULE_KEYWORD,
} from "./commands";

/** argv[0] bytes kept (upper-cased); longer names are reported truncated and match no command. */
export const METHOD_CAP: i32 = 64;
/** Bytes kept of each of argv[1] to argv[4] (raw, as sent). */
export const ARG_CAP: i32 = 128;
export const ARG_SLOTS: i32 = 4;
/** Upper bound for RedisLimits.maxKeyCapture (the key buffer is sized once). */
export const KEY_CAP_MAX: i32 = 65536;

// @ts-ignore: decorator
@unmanaged
export class RequestCapture {
  /** Full length of argv[0]. */
  methodFull: i64;
  keyFull: i64;
  /** Arguments completed so far (= argc once the request is complete). */
  argc: i64;
  private keyArg: i64; // index of the key argument once known
  private keynumArg: i64; // RULE_KEYNUM: index holding the key count
  private kwFrom: i64; // RULE_KEYWORD: search start
  private cur: i64; // argument being received
  private curLen: i64; // its bytes seen (or skipped) so far
  /** METHOD_CAP bytes: argv[0], upper-cased. */
  methodBuf: usize;
  /** ARG_SLOTS × ARG_CAP bytes: prefixes of argv[1..4]. */
  argBuf: usize;
  /** ARG_SLOTS × i64: full length of argv[1..4], -1 while not (yet) seen. */
  argFull: usize;
  keyBuf: usize;
  private kwPtr: usize; // RULE_KEYWORD: the keyword (a static string's UTF-16 data)
  keyBufLen: i32;
  methodLen: i32;
  command: i32;
  /** commandFlags(command), looked up with it. */
  flags: i32;
  private keyCap: i32;
  private kwLen: i32;
  hasKey: bool;
  private kwCand: bool; // the current argument may still be the keyword

  /** Bytes needed by place() for a key buffer of `keyBufLen` bytes. */
  static bytes(keyBufLen: i32): usize {
    return align8(offsetof<RequestCapture>()) + <usize>(8 * ARG_SLOTS + METHOD_CAP + ARG_CAP * ARG_SLOTS) + <usize>keyBufLen;
  }

  /** A capture in the zeroed memory at `at` (RequestCapture.bytes(keyBufLen) bytes, 8-aligned). */
  static place(at: usize, keyBufLen: i32): RequestCapture {
    ensureCommands(); // the one-time table build, so end()/whole() look up without checking
    const c = changetype<RequestCapture>(at);
    let p = at + align8(offsetof<RequestCapture>());
    c.argFull = p;
    p += <usize>(8 * ARG_SLOTS);
    c.methodBuf = p;
    p += <usize>METHOD_CAP;
    c.argBuf = p;
    p += <usize>(ARG_CAP * ARG_SLOTS);
    c.keyBuf = p;
    c.keyBufLen = keyBufLen;
    // before the first request: nothing seen (argFull stays 0, as a fresh StaticArray<i64> was)
    c.command = -1;
    c.keyArg = -1;
    c.keynumArg = -1;
    c.kwFrom = -1;
    c.cur = -1;
    return c;
  }

  /** Key buffer size for a RedisLimits.maxKeyCapture at construction. */
  static keyBufFor(maxKeyCapture: i32): i32 {
    return maxKeyCapture < 0 ? 0 : maxKeyCapture > KEY_CAP_MAX ? KEY_CAP_MAX : maxKeyCapture;
  }

  /** Start a new request; `maxKeyCapture` is read again so limit changes apply (up to the buffer). */
  reset(maxKeyCapture: i32): void {
    const n = this.keyBufLen;
    this.keyCap = maxKeyCapture < 0 ? 0 : maxKeyCapture > n ? n : maxKeyCapture;
    this.methodLen = 0;
    this.methodFull = 0;
    const af = this.argFull;
    store<i64>(af, -1, 0);
    store<i64>(af, -1, 8);
    store<i64>(af, -1, 16);
    store<i64>(af, -1, 24);
    this.keyFull = 0;
    this.hasKey = false;
    this.command = -1;
    this.flags = 0;
    this.argc = 0;
    this.keyArg = -1;
    this.keynumArg = -1;
    this.kwFrom = -1;
    this.kwPtr = 0;
    this.kwLen = 0;
    this.cur = -1;
    this.curLen = 0;
    this.kwCand = false;
  }

  /** Full length of argv[slot + 1] (slot 0..3), -1 when not seen. */
  // @ts-ignore: decorator
  @inline
  argFullAt(slot: i32): i64 {
    return load<i64>(this.argFull + (<usize>slot << 3));
  }

  /** Argument `index` starts; `declaredLen` is its bulk length, or -1 when unknown (inline). */
  begin(index: i64, declaredLen: i64): void {
    this.cur = index;
    this.curLen = 0;
    this.kwCand =
      this.kwFrom >= 0 &&
      this.keyArg < 0 &&
      index >= this.kwFrom &&
      (declaredLen < 0 || declaredLen == <i64>this.kwLen);
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
      const k = <i64>this.kwLen - n;
      if (k > w) w = k;
    }
    return w > 0 ? w : 0;
  }

  byte(b: i32): void {
    const n = this.curLen;
    const cur = this.cur;
    if (cur == 0) {
      if (n < <i64>METHOD_CAP) store<u8>(this.methodBuf + <usize>n, <u8>upperByte(b));
    } else if (cur >= 1 && cur <= ARG_SLOTS && n < <i64>ARG_CAP) {
      store<u8>(this.argBuf + <usize>((<i32>cur - 1) * ARG_CAP) + <usize>n, <u8>b);
    }
    if (cur == this.keyArg && n < <i64>this.keyCap) store<u8>(this.keyBuf + <usize>n, <u8>b);
    if (this.kwCand) {
      if (n >= <i64>this.kwLen || upperByte(b) != <i32>load<u16>(this.kwPtr + (<usize>n << 1))) this.kwCand = false;
    }
    this.curLen = n + 1;
  }

  /** n ≤ want() bytes of the current argument at p, in one go (bulk payloads). */
  chunk(p: usize, n: i32): void {
    if (n <= 0) return;
    const cur = this.cur;
    const off = this.curLen;
    if (cur == 0) {
      if (off < <i64>METHOD_CAP) {
        const m = min<i32>(n, METHOD_CAP - <i32>off);
        const dst = this.methodBuf + <usize>off;
        for (let k = 0; k < m; k++) store<u8>(dst + <usize>k, <u8>upperByte(<i32>load<u8>(p + <usize>k)));
      }
    } else if (cur >= 1 && cur <= ARG_SLOTS && off < <i64>ARG_CAP) {
      const m = min<i64>(<i64>n, <i64>ARG_CAP - off);
      copySmall(this.argBuf + <usize>((<i32>cur - 1) * ARG_CAP) + <usize>off, p, <usize>m);
    }
    if (cur == this.keyArg && off < <i64>this.keyCap) {
      const m = min<i64>(<i64>n, <i64>this.keyCap - off);
      copySmall(this.keyBuf + <usize>off, p, <usize>m);
    }
    if (this.kwCand) {
      const wl = <i64>this.kwLen;
      if (off + <i64>n > wl) this.kwCand = false;
      else {
        const w = this.kwPtr;
        for (let k: i64 = 0; k < <i64>n; k++) {
          if (upperByte(<i32>load<u8>(p + <usize>k)) != <i32>load<u16>(w + (<usize>(off + k) << 1))) {
            this.kwCand = false;
            break;
          }
        }
      }
    }
    this.curLen = off + <i64>n;
  }

  /**
   * A whole argument: `index` of n bytes at p, all in memory, with `readable` ≥ n bytes readable
   * from p. Same effect as begin(index, n), chunk of what want() asks for, advance over the rest and
   * end(), in one straight pass.
   */
  whole(index: i64, p: usize, n: i64, readable: i64): void {
    this.cur = index;
    this.curLen = n;
    this.kwCand = false;
    if (index == 0) {
      const m = n < <i64>METHOD_CAP ? <i32>n : METHOD_CAP;
      const dst = this.methodBuf;
      // upper-case into the buffer, keeping the first 8 bytes in a register for the lookup
      let w0: u64 = 0;
      let k = 0;
      if (m <= 8 && readable >= 8) {
        // one word: read 8 (the bytes past m are in the window), keep m, store 8 (the buffer has 64)
        w0 = upper8(load<u64>(p) & tailMask(m));
        store<u64>(dst, w0);
        k = m;
      } else {
        const m8 = m < 8 ? m : 8;
        for (; k < m8; k++) {
          const u = <u64>upperByte(<i32>load<u8>(p + <usize>k));
          store<u8>(dst + <usize>k, <u8>u);
          w0 |= u << (<u64>k << 3);
        }
      }
      for (; k < m; k++) store<u8>(dst + <usize>k, <u8>upperByte(<i32>load<u8>(p + <usize>k)));
      this.methodFull = n;
      this.methodLen = m;
      if (n <= <i64>METHOD_CAP) {
        const cmd = lookupUpperWord(w0, dst, m); // upper-cased, 64 bytes readable
        this.command = cmd;
        this.flags = flagsOf(cmd);
        const rule = ruleOf(cmd);
        if (ruleKind(rule) == RULE_INDEX) this.keyArg = <i64>ruleArg(rule); // the usual rule, inline
        else this.applyRule(rule);
      }
      // as end() has it (no rule in the table names argv[0], so this never holds)
      if (this.keyArg == 0) {
        this.hasKey = true;
        this.keyFull = n;
      }
      this.argc = 1;
      return; // argv[0] is never the key count (index ≥ 1) nor after the keyword (search from ≥ 1)
    }
    // the keyword candidate as begin() would judge it, before this argument updates keyArg
    const kwCand = this.kwFrom >= 0 && this.keyArg < 0 && index >= this.kwFrom && n == <i64>this.kwLen;
    if (index <= <i64>ARG_SLOTS) {
      const slot = <i32>index - 1;
      copySmall(this.argBuf + <usize>(slot * ARG_CAP), p, <usize>(n < <i64>ARG_CAP ? <i32>n : ARG_CAP));
      store<i64>(this.argFull + (<usize>slot << 3), n);
    }
    if (index == this.keyArg) {
      const kc = this.keyCap;
      copySmall(this.keyBuf, p, <usize>(n < <i64>kc ? <i32>n : kc));
      this.hasKey = true;
      this.keyFull = n;
    }
    if (index == this.keynumArg && index <= <i64>ARG_SLOTS && n <= <i64>ARG_CAP) {
      if (parseStrictI64(p, <i32>n, -1) >= 1) this.keyArg = index + 1;
    }
    if (kwCand) {
      const w = this.kwPtr;
      let k = 0;
      while (k < <i32>n && upperByte(<i32>load<u8>(p + <usize>k)) == <i32>load<u16>(w + (<usize>k << 1))) k++;
      if (k == <i32>n) {
        this.keyArg = index + 1;
        this.kwFrom = -1;
      }
    }
    this.argc = index + 1;
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
        const dst = this.methodBuf; // upper-cased, 64 bytes readable
        const cmd = lookupUpperWord(load<u64>(dst), dst, this.methodLen);
        this.command = cmd;
        this.flags = flagsOf(cmd);
        this.applyRule(ruleOf(cmd));
      }
    } else if (cur >= 1 && cur <= ARG_SLOTS) {
      store<i64>(this.argFull + (<usize>(cur - 1) << 3), len);
    }
    if (cur == this.keyArg) {
      this.hasKey = true;
      this.keyFull = len;
    }
    if (cur == this.keynumArg && cur >= 1 && cur <= ARG_SLOTS && len <= <i64>ARG_CAP) {
      const p = this.argBuf + <usize>((<i32>cur - 1) * ARG_CAP);
      if (parseStrictI64(p, <i32>len, -1) >= 1) this.keyArg = cur + 1;
    }
    if (this.kwCand && len == <i64>this.kwLen) {
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
      this.kwPtr = keywordPtr(rule);
      this.kwLen = keywordLen(rule);
    }
  }
}

// The keyword of a RULE_KEYWORD rule as raw UTF-16 data: the command table's KEYWORDS array holds
// the string for the life of the module, so the pointer stays valid. Kept out of line so only these
// two touch a managed String.
function keywordPtr(rule: i32): usize {
  return changetype<usize>(ruleKeyword(rule));
}

function keywordLen(rule: i32): i32 {
  return ruleKeyword(rule).length;
}
