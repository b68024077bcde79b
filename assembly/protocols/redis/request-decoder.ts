// Redis request decoder (client → server), specs/protocols.md §3.1. A resumable byte-level state
// machine in the spirit of hiredis read.c: feed() may be called with windows split at any byte; bulk
// arguments are walked by length and may be skipped (skippable()/skip()) once the few bytes we keep
// (argv[0], argv[1..3] prefixes, the key) are seen.
//
// Grammar and error texts are Redis 7's (processInputBuffer / processMultibulkBuffer /
// processInlineBuffer): first byte '*' → multibulk, anything else → inline line. Deliberate
// differences, all stricter, all following Envoy's codec:
//   * the two bytes after bulk data must be "\r\n" (Redis skips them blindly, `PINGxx` works there):
//     "expected carriage return" / "expected new line";
//   * the byte after the '\r' of a count or length line must be '\n' (Redis skips it blindly):
//     "expected new line".
// A NUL byte makes Redis' strchr()-based line search stop, so such a line never ends and Redis fails
// it once 64 KiB are buffered ("too big … count string" / "too big inline request"); we do the same.
// Auth-dependent limits (unauthenticated multibulk/bulk length) need server state and are not checked.
//
// Speed (DESIGN §8): the state lives in an @unmanaged struct (RequestState) inside one StaticArray<u8>
// owned by the decoder, together with the capture and the inline tokenizer, so the hot code works on
// plain pointers – under the incremental runtime every use of a managed reference as a call operand
// (each field access included) is spilled to the shadow stack, and a function with such a use pays
// a shadow-stack frame on every call. The public methods touch `this` only as an address for that
// reason. Fast paths, each taken only when what it needs lies inside the window:
//   * a multibulk request from the idle state, for as far as the window holds whole arguments
//     (fastRequest: one pass, no per-line states; the byte machine goes on from where it stops);
//   * a whole count/length line ("<digits>\r\n", fastLine);
//   * the "\r\n" after a payload.
// Anything unusual (a split, a sign, a leading zero, a limit, an error) is left to the byte-at-a-time
// machine, which then sees exactly the bytes it would have seen without the fast paths, so verdicts,
// error texts and offsets do not depend on them (test/assembly/redis-fastpath.spec.ts cuts every
// stream at every position to check this).

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import { RedisLimits, limMaxBulkBytes, limMaxLineBytes, limMaxRequestArgs, limMaxKeyCapture } from "./limits";
import { CR, LF, isDigit, equalsIgnoreCase } from "./ascii";
import { RequestCapture, ARG_CAP, ARG_SLOTS } from "./request-capture";
import { align8 } from "./raw";
import { InlineTokenizer } from "./inline-tokenizer";

const S_IDLE: i32 = 0; // before the first byte of a request
const S_COUNT: i32 = 1; // "*<n>" line, up to '\r'
const S_COUNT_LF: i32 = 2;
const S_LEN: i32 = 3; // "$<len>" line, up to '\r'
const S_LEN_LF: i32 = 4;
const S_DATA: i32 = 5; // bulk payload
const S_DATA_CR: i32 = 6;
const S_DATA_LF: i32 = 7;
const S_INLINE: i32 = 8;
const S_ERROR: i32 = 9;

/** Magnitude above which a count/length line is no int64 (string2ll fails). */
const MAG_LIMIT: u64 = 0x8000000000000000;

// why the stream was rejected (errorReason() maps these to Redis' texts)
const E_NONE: i32 = 0;
const E_EXPECTED_LF: i32 = 1;
const E_EXPECTED_CR: i32 = 2;
const E_BIG_MBULK: i32 = 3;
const E_BIG_BULK: i32 = 4;
const E_MBULK_LEN: i32 = 5;
const E_BULK_LEN: i32 = 6;
const E_DOLLAR: i32 = 7; // "expected '$', got 'X'", X in reasonByte
const E_SKIP: i32 = 8;
const E_BIG_INLINE: i32 = 9;
const E_INLINE_ARGS: i32 = 10;
const E_QUOTES: i32 = 11;

export class RedisRequestDecoder {
  /** EV_NEED_MORE, EV_MESSAGE or EV_ERROR: the outcome of the last feed()/skip(). */
  event: i32 = EV_NEED_MORE;

  /** Memory of the state, the capture and the tokenizer (one GC object, made once). */
  private readonly block: StaticArray<u8>;
  private readonly st: RequestState;

  constructor(private limits: RedisLimits) {
    const keyBuf = RequestCapture.keyBufFor(limits.maxKeyCapture);
    const sz = align8(offsetof<RequestState>());
    const tz = align8(InlineTokenizer.bytes());
    const block = new StaticArray<u8>(<i32>(sz + tz + RequestCapture.bytes(keyBuf)));
    this.block = block;
    const at = changetype<usize>(block);
    const cap = RequestCapture.place(at + sz + tz, keyBuf);
    const st = changetype<RequestState>(at);
    st.lim = changetype<usize>(limits);
    st.cap = cap;
    st.tok = InlineTokenizer.place(at + sz, cap);
    this.st = st;
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a complete
   * request (event EV_MESSAGE), up to and including the offending byte (EV_ERROR), or all (EV_NEED_MORE).
   * Requests Redis ignores (`*0`, `*-N`, blank inline lines) are consumed without an event.
   */
  feed(ptr: usize, len: i32): i32 {
    // `this` only as an address: a managed `this.x` would spill to the shadow stack (see top)
    const self = changetype<usize>(this);
    const st = stateOf(self);
    const n = st.feed(ptr, len);
    store<i32>(self, st.event, offsetof<RedisRequestDecoder>("event"));
    return n;
  }

  /** Upcoming bytes the decoder does not need to see: the uncaptured rest of a bulk argument (not its CRLF). */
  skippable(): i64 {
    return stateOf(changetype<usize>(this)).skippable();
  }

  /** Account for n ≤ skippable() bytes the caller did not feed. */
  skip(n: i64): void {
    const self = changetype<usize>(this);
    const st = stateOf(self);
    st.skip(n);
    store<i32>(self, st.event, offsetof<RedisRequestDecoder>("event"));
  }

  reset(): void {
    const st = this.st;
    st.event = EV_NEED_MORE;
    st.state = S_IDLE;
    st.reason = E_NONE;
    st.pos = 0;
    st.reqStart = 0;
    st.reqEnd = 0;
    st.inline = false;
    st.cap.reset(limMaxKeyCapture(st.lim));
    this.event = EV_NEED_MORE;
  }

  // ---- metadata of the last request (valid after EV_MESSAGE until the next feed/skip) ------------

  /** argv[0], ASCII upper-cased, at most METHOD_CAP (64) bytes. */
  methodPtr(): usize {
    return this.st.cap.methodBuf;
  }
  methodLen(): i32 {
    return this.st.cap.methodLen;
  }
  methodTruncated(): bool {
    const cap = this.st.cap;
    return cap.methodFull > <i64>cap.methodLen;
  }
  /** Command table index (commands.ts) or -1. */
  command(): i32 {
    return this.st.cap.command;
  }
  hasKey(): bool {
    return this.st.cap.hasKey;
  }
  /** The first key as sent (inline: unescaped), at most limits.maxKeyCapture bytes. */
  keyPtr(): usize {
    return this.st.cap.keyBuf;
  }
  keyLen(): i32 {
    const cap = this.st.cap;
    return cap.hasKey ? cap.keyLen() : 0;
  }
  keyTruncated(): bool {
    return this.st.cap.keyTruncated();
  }
  /** Full length of the key, also when truncated. */
  keyFullLen(): i64 {
    const cap = this.st.cap;
    return cap.hasKey ? cap.keyFull : 0;
  }
  argc(): i64 {
    return this.st.cap.argc;
  }
  isInline(): bool {
    return this.st.inline;
  }
  /** argv[i] for i in 1..4: first ARG_CAP (128) bytes as sent (raw case; inline: unescaped). */
  argPtr(i: i32): usize {
    const slot = i >= 1 && i <= ARG_SLOTS ? i - 1 : 0;
    return this.st.cap.argBuf + <usize>(slot * ARG_CAP);
  }
  argLen(i: i32): i32 {
    const full = this.argFullLen(i);
    return full < 0 ? 0 : full > <i64>ARG_CAP ? ARG_CAP : <i32>full;
  }
  /** Full length of argv[i] (i in 1..4), -1 if the request has no such argument. */
  argFullLen(i: i32): i64 {
    return i >= 1 && i <= ARG_SLOTS ? this.st.cap.argFullAt(i - 1) : -1;
  }
  /** argv[i] (i in 1..4) equals the ASCII literal `lit`, ignoring case. */
  argIs(i: i32, lit: string): bool {
    const full = this.argFullLen(i);
    return full >= 0 && full == <i64>lit.length && equalsIgnoreCase(this.argPtr(i), <i32>full, lit);
  }
  /** Stream offsets [start, end) of the last request. */
  start(): i64 {
    return this.st.reqStart;
  }
  end(): i64 {
    return this.st.reqEnd;
  }
  /** Between requests: every byte so far belongs to a complete (or ignored) request. */
  atBoundary(): bool {
    return this.st.state == S_IDLE;
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.st.pos;
  }
  /** Why the stream was rejected (static text; "" when not in error). */
  errorReason(): string {
    const st = this.st;
    switch (st.reason) {
      case E_EXPECTED_LF:
        return "expected new line";
      case E_EXPECTED_CR:
        return "expected carriage return";
      case E_BIG_MBULK:
        return "too big mbulk count string";
      case E_BIG_BULK:
        return "too big bulk count string";
      case E_MBULK_LEN:
        return "invalid multibulk length";
      case E_BULK_LEN:
        return "invalid bulk length";
      case E_DOLLAR:
        return dollarReason(st.reasonByte);
      case E_SKIP:
        return "invalid skip";
      case E_BIG_INLINE:
        return "too big inline request";
      case E_INLINE_ARGS:
        return "inline command element count exceeds maximum";
      case E_QUOTES:
        return "unbalanced quotes in request";
    }
    return "";
  }

}

/** The state of the decoder at address `dec` (a live RedisRequestDecoder), read without a spill. */
// @ts-ignore: decorator
@inline
function stateOf(dec: usize): RequestState {
  return changetype<RequestState>(load<usize>(dec, offsetof<RedisRequestDecoder>("st")));
}

/** The capture of the decoder at address `dec` (a live RedisRequestDecoder), for RedisSession. */
// @ts-ignore: decorator
@inline
export function captureOf(dec: usize): RequestCapture {
  return stateOf(dec).cap;
}

/** The decoder's state: an @unmanaged struct at the start of the decoder's block. */
// @ts-ignore: decorator
@unmanaged
class RequestState {
  pos: i64; // bytes fed or skipped since construction/reset
  reqStart: i64;
  reqEnd: i64;
  // multibulk
  argTotal: i64;
  argIndex: i64;
  remaining: i64; // payload bytes left in the current bulk argument
  // count / length line (Redis string2ll rules, checked when the line ends)
  lnVal: u64;
  lim: usize; // the RedisLimits, held by the decoder
  cap: RequestCapture;
  tok: InlineTokenizer;
  event: i32;
  state: i32;
  reason: i32;
  reasonByte: i32;
  lnLen: i32; // bytes of the line so far, first byte ('*' or '$') included
  lnFirst: i32;
  lnDigits: i32;
  ilLen: i32; // inline line
  inline: bool;
  lnNeg: bool;
  lnZeroFirst: bool;
  lnBad: bool;
  lnNul: bool;
  ilCr: bool; // a '\r' waits: stripped if '\n' follows, else an ordinary byte
  ilNul: bool;

  feed(ptr: usize, len: i32): i32 {
    if (this.state == S_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    // Runs of bytes in one state (payloads, count/length lines, inline lines) are handled by one
    // call each, with the fast paths above; only the single-byte states of a line or payload end
    // split across windows go through step().
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st == S_IDLE && load<u8>(ptr + <usize>i) == 0x2a) {
        // a multibulk request is taken in one go for as far as the window holds it
        const j = this.fastRequest(ptr, i, len);
        if (j >= 0) {
          i = j;
          if (this.event != EV_NEED_MORE) break;
          continue;
        }
      }
      if (st == S_DATA) i = this.data(ptr, i, len);
      else if (st == S_LEN || st == S_COUNT) i = this.lineRun(ptr, i, len);
      else if (st == S_INLINE) i = this.inlineRun(ptr, i, len);
      else if (st == S_DATA_CR && i + 1 < len && load<u16>(ptr + <usize>i) == 0x0a0d) {
        i += 2; // "\r\n" after a payload, both in the window
        this.pos += 2;
        this.argDone();
      } else {
        const b = <i32>load<u8>(ptr + <usize>i);
        i++;
        this.pos++;
        this.step(b);
      }
      if (this.event != EV_NEED_MORE) break;
    }
    return i;
  }

  skippable(): i64 {
    if (this.state != S_DATA || this.cap.want() > 0) return 0;
    return this.remaining;
  }

  skip(n: i64): void {
    if (this.state == S_ERROR) {
      this.event = EV_ERROR;
      return;
    }
    this.event = EV_NEED_MORE;
    if (n <= 0) return;
    if (n > this.skippable()) {
      this.fail(E_SKIP);
      return;
    }
    this.pos += n;
    this.remaining -= n;
    this.cap.advance(n);
    if (this.remaining == 0) this.dataDone();
  }

  private step(b: i32): void {
    switch (this.state) {
      case S_IDLE:
        this.begin(b);
        return;
      case S_COUNT_LF:
        if (b != LF) this.fail(E_EXPECTED_LF);
        else this.countDone(this.lnNeg, this.lnVal);
        return;
      case S_LEN_LF:
        if (b != LF) this.fail(E_EXPECTED_LF);
        else this.lenDone(<i64>this.lnVal);
        return;
      case S_DATA_CR:
        if (b != CR) this.fail(E_EXPECTED_CR);
        else this.state = S_DATA_LF;
        return;
      case S_DATA_LF:
        if (b != LF) this.fail(E_EXPECTED_LF);
        else this.argDone();
        return;
    }
  }

  private begin(b: i32): void {
    this.reqStart = this.pos - 1;
    this.cap.reset(limMaxKeyCapture(this.lim));
    if (b == 0x2a) {
      this.inline = false;
      this.state = S_COUNT;
      this.lineInit();
      this.lnLen = 1;
      this.lnFirst = b;
      return;
    }
    this.inline = true;
    this.state = S_INLINE;
    this.tok.reset(limMaxRequestArgs(this.lim));
    this.ilLen = 0;
    this.ilCr = false;
    this.ilNul = false;
    this.inlineByte(b);
  }

  // "*<n>" and "$<len>" lines: Redis finds the '\r' first, then parses the text before it.
  // @ts-ignore: decorator
  @inline
  private lineInit(): void {
    this.lnLen = 0;
    this.lnFirst = -1;
    this.lnNeg = false;
    this.lnDigits = 0;
    this.lnZeroFirst = false;
    this.lnVal = 0;
    this.lnBad = false;
    this.lnNul = false;
  }

  /** Bytes of a count/length line from ptr+i up to its '\r' (or the window end); returns the new i. */
  private lineRun(ptr: usize, i: i32, len: i32): i32 {
    const count = this.state == S_COUNT;
    // Fast path: a whole, plain line ("$" for a length line, 1–18 digits without a leading zero,
    // "\r\n") inside the window and within the limits is taken in one step.
    if (this.lnLen == (count ? 1 : 0)) {
      const j = this.fastLine(ptr, i, len, count);
      if (j >= 0) return j;
    }
    const max = limMaxLineBytes(this.lim);
    const from = i;
    let n = this.lnLen;
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (b == CR && !this.lnNul) {
        this.lnLen = n;
        this.pos += i - from;
        this.lineEnd(count);
        return i;
      }
      if (++n > max) {
        this.lnLen = n;
        this.pos += i - from;
        this.fail(count ? E_BIG_MBULK : E_BIG_BULK);
        return i;
      }
      if (this.lnNul) continue;
      if (b == 0) {
        this.lnNul = true; // strchr() stops here: this line never ends
        continue;
      }
      if (n == 1) {
        this.lnFirst = b; // '$' expected; Redis checks it once the line is complete
        continue;
      }
      if (n == 2 && b == 0x2d) {
        this.lnNeg = true;
        continue;
      }
      if (!isDigit(b)) {
        this.lnBad = true;
        continue;
      }
      if (this.lnDigits == 0 && b == 0x30) this.lnZeroFirst = true;
      this.lnDigits++;
      if (this.lnBad) continue;
      const v = this.lnVal;
      if (v > 922337203685477580) {
        this.lnBad = true; // ≥ 2^63 after this digit
        continue;
      }
      this.lnVal = v * 10 + <u64>(b - 0x30);
    }
    this.lnLen = n;
    this.pos += i - from;
    return i;
  }

  /**
   * A fresh count line (after its '*') or length line at ptr+i, whole in the window and valid:
   * consumes it through its '\n' and returns the new i. Otherwise -1, having changed nothing, and
   * the byte machine takes the line (and reports any error exactly where it always has).
   */
  // @ts-ignore: decorator
  @inline
  private fastLine(ptr: usize, i: i32, len: i32, count: bool): i32 {
    let j = i;
    if (!count) {
      if (j >= len || load<u8>(ptr + <usize>j) != 0x24) return -1;
      j++;
    }
    const d0 = j;
    let lim = len - d0;
    if (lim > 19) lim = 19; // 18 digits cannot overflow i64; a 19th sends the line to the byte machine
    const stop = d0 + lim;
    let v: u64 = 0;
    while (j < stop) {
      const d = <u32>load<u8>(ptr + <usize>j) - 0x30;
      if (d >= 10) break;
      v = v * 10 + <u64>d;
      j++;
    }
    const digits = j - d0;
    if (digits == 0 || digits > 18 || j + 1 >= len) return -1;
    if (load<u16>(ptr + <usize>j) != 0x0a0d) return -1;
    if (digits > 1 && load<u8>(ptr + <usize>d0) == 0x30) return -1; // leading zero: invalid
    // bytes before the '\r', the '*' or '$' included, as the byte machine counts them
    if ((count ? 1 : 0) + (j - i) > limMaxLineBytes(this.lim)) return -1;
    if (count) {
      const max = limMaxRequestArgs(this.lim);
      if (max < 0 || v > <u64>max) return -1;
      this.pos += j + 2 - i;
      this.countDone(false, v);
    } else {
      const max = limMaxBulkBytes(this.lim);
      if (max < 0 || v > <u64>max) return -1;
      this.pos += j + 2 - i;
      this.lenDone(<i64>v);
    }
    return j + 2;
  }

  /**
   * A multibulk request at ptr+i ('*' there), taken in one pass for as far as the window holds it:
   * every whole argument whose length line is plain (as fastLine takes it) and whose payload and
   * "\r\n" lie in the window is captured at once. If all are, the request is consumed (event
   * EV_MESSAGE) and the index after it returned. Otherwise the decoder is left exactly as the byte
   * machine would stand at that point – before the next length line, or after it with the payload to
   * come – and that index is returned, for the byte machine to go on from. -1 when the count line
   * itself is not plain and whole: nothing changed (but the capture, which begin() resets), and the
   * byte machine takes the request from its first byte.
   */
  private fastRequest(ptr: usize, i: i32, len: i32): i32 {
    const lim = this.lim;
    const maxLine = limMaxLineBytes(lim);
    const maxBulk = limMaxBulkBytes(lim);
    const maxArgs = limMaxRequestArgs(lim);
    // "*<count>\r\n"
    let j = i + 1;
    let lim19 = len - j;
    if (lim19 > 19) lim19 = 19;
    let stop = j + lim19;
    let count: u64 = 0;
    while (j < stop) {
      const d = <u32>load<u8>(ptr + <usize>j) - 0x30;
      if (d >= 10) break;
      count = count * 10 + <u64>d;
      j++;
    }
    let digits = j - i - 1;
    if (digits == 0 || digits > 18 || j + 1 >= len || load<u16>(ptr + <usize>j) != 0x0a0d) return -1;
    if ((digits > 1 && load<u8>(ptr + <usize>(i + 1)) == 0x30) || count == 0) return -1;
    if (1 + digits > maxLine || maxArgs < 0 || count > <u64>maxArgs) return -1;
    j += 2;
    const cap = this.cap;
    cap.reset(limMaxKeyCapture(lim));
    for (let k: u64 = 0; k < count; k++) {
      // "$<len>\r\n"
      const l0 = j;
      if (j >= len || load<u8>(ptr + <usize>j) != 0x24) return this.handOver(i, l0, count, k, -1);
      j++;
      lim19 = len - j;
      if (lim19 > 19) lim19 = 19;
      stop = j + lim19;
      let n: u64 = 0;
      while (j < stop) {
        const d = <u32>load<u8>(ptr + <usize>j) - 0x30;
        if (d >= 10) break;
        n = n * 10 + <u64>d;
        j++;
      }
      digits = j - l0 - 1;
      if (digits == 0 || digits > 18 || j + 1 >= len || load<u16>(ptr + <usize>j) != 0x0a0d) return this.handOver(i, l0, count, k, -1);
      if (digits > 1 && load<u8>(ptr + <usize>(l0 + 1)) == 0x30) return this.handOver(i, l0, count, k, -1);
      if (1 + digits > maxLine || maxBulk < 0 || n > <u64>maxBulk) return this.handOver(i, l0, count, k, -1);
      j += 2;
      // payload and its "\r\n"
      if (<i64>n + 2 > <i64>(len - j)) return this.handOver(i, j, count, k, <i64>n);
      const end = j + <i32>n;
      if (load<u16>(ptr + <usize>end) != 0x0a0d) return this.handOver(i, j, count, k, <i64>n);
      cap.whole(<i64>k, ptr + <usize>j, <i64>n, <i64>(len - j));
      j = end + 2;
    }
    const start = this.pos;
    this.reqStart = start;
    this.pos = start + <i64>(j - i);
    this.reqEnd = this.pos;
    this.inline = false;
    this.event = EV_MESSAGE; // state stays S_IDLE
    return j;
  }

  /**
   * fastRequest stops at ptr+at in argument k of `count` (the request began at ptr+i): with n < 0
   * before its length line, else right after the line of its n-byte payload. The decoder is set as
   * the byte machine leaves it there (begin(), countDone()/argDone(), lenDone()); returns `at`.
   */
  private handOver(i: i32, at: i32, count: u64, k: u64, n: i64): i32 {
    const start = this.pos;
    this.reqStart = start;
    this.pos = start + <i64>(at - i);
    this.inline = false;
    this.argTotal = <i64>count;
    this.argIndex = <i64>k;
    this.remaining = 0;
    this.lineInit();
    this.state = S_LEN;
    if (n >= 0) this.lenDone(n);
    return at;
  }

  private lineEnd(count: bool): void {
    let ok = !this.lnBad && this.lnDigits > 0 && !(this.lnZeroFirst && (this.lnDigits > 1 || this.lnNeg));
    const v = this.lnVal;
    if (ok && (this.lnNeg ? v > MAG_LIMIT : v >= MAG_LIMIT)) ok = false;
    if (count) {
      const max = limMaxRequestArgs(this.lim);
      if (!ok || (!this.lnNeg && (max < 0 || v > <u64>max))) this.fail(E_MBULK_LEN);
      else this.state = S_COUNT_LF;
      return;
    }
    const first = this.lnLen == 0 ? CR : this.lnFirst;
    if (first != 0x24) {
      this.reasonByte = first & 0xff;
      this.fail(E_DOLLAR);
      return;
    }
    const max = limMaxBulkBytes(this.lim);
    if (!ok || this.lnNeg || max < 0 || v > <u64>max) this.fail(E_BULK_LEN);
    else this.state = S_LEN_LF;
  }

  // @ts-ignore: decorator
  @inline
  private countDone(neg: bool, v: u64): void {
    if (neg || v == 0) {
      this.state = S_IDLE; // `*0`, `*-1`: Redis ignores the request, no reply
      return;
    }
    this.argTotal = <i64>v;
    this.argIndex = 0;
    this.state = S_LEN;
    this.lineInit();
  }

  // @ts-ignore: decorator
  @inline
  private lenDone(n: i64): void {
    this.remaining = n;
    this.cap.begin(this.argIndex, n);
    if (n == 0) this.dataDone();
    else this.state = S_DATA;
  }

  /** Payload bytes from ptr+i; returns the new i (past the "\r\n" too when both are in the window). */
  private data(ptr: usize, i: i32, len: i32): i32 {
    const p = ptr + <usize>i;
    const avail = len - i;
    const rem = this.remaining;
    const take = <i64>avail < rem ? avail : <i32>rem;
    const cap = this.cap;
    const want = cap.want();
    const look = <i64>take < want ? take : <i32>want;
    cap.chunk(p, look);
    if (take > look) cap.advance(take - look);
    this.pos += take;
    this.remaining = rem - take;
    i += take;
    if (this.remaining == 0) {
      this.dataDone();
      if (i + 1 < len && load<u16>(ptr + <usize>i) == 0x0a0d) {
        this.pos += 2;
        this.argDone();
        return i + 2;
      }
    }
    return i;
  }

  // @ts-ignore: decorator
  @inline
  private dataDone(): void {
    this.cap.end();
    this.state = S_DATA_CR;
  }

  private argDone(): void {
    const k = this.argIndex + 1;
    this.argIndex = k;
    if (k >= this.argTotal) {
      this.message();
      return;
    }
    this.state = S_LEN;
    this.lineInit();
  }

  // Inline: the line ends at '\n'; one '\r' right before it is stripped. Everything else goes to the
  // tokenizer, whose "unbalanced quotes" verdict is reported at the end of the line like Redis does.
  /** Bytes of an inline line from ptr+i up to its end (or an error, or the window end). */
  private inlineRun(ptr: usize, i: i32, len: i32): i32 {
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      this.pos++;
      this.inlineByte(b);
      if (this.state != S_INLINE) break;
    }
    return i;
  }

  private inlineByte(b: i32): void {
    const max = limMaxLineBytes(this.lim);
    if (this.ilNul) {
      if (++this.ilLen > max) this.fail(E_BIG_INLINE);
      return;
    }
    if (b == LF) {
      this.inlineEnd();
      return;
    }
    if (++this.ilLen > max) {
      this.fail(E_BIG_INLINE);
      return;
    }
    if (b == 0) {
      this.ilNul = true; // strchr() stops here: this line never ends
      return;
    }
    const tok = this.tok;
    if (this.ilCr) {
      this.ilCr = false;
      tok.byte(CR);
    }
    if (b == CR) this.ilCr = true;
    else tok.byte(b);
    if (tok.overLimit) this.fail(E_INLINE_ARGS);
  }

  private inlineEnd(): void {
    const tok = this.tok;
    tok.eol();
    if (tok.bad) {
      this.fail(E_QUOTES);
      return;
    }
    if (tok.argc == 0) {
      this.state = S_IDLE; // blank line: ignored
      return;
    }
    this.message();
  }

  // @ts-ignore: decorator
  @inline
  private message(): void {
    this.reqEnd = this.pos;
    this.state = S_IDLE;
    this.event = EV_MESSAGE;
  }

  private fail(reason: i32): void {
    this.reason = reason;
    this.state = S_ERROR;
    this.event = EV_ERROR;
  }
}

// "expected '$', got 'X'": one string per byte value, made the first time that byte is reported and
// kept, so error reporting never allocates twice and the hot path never does.
const DOLLAR_REASONS = new StaticArray<string | null>(256);

function dollarReason(b: i32): string {
  const i = b & 0xff;
  let s = unchecked(DOLLAR_REASONS[i]);
  if (s === null) {
    s = "expected '$', got '" + String.fromCharCode(i) + "'";
    unchecked((DOLLAR_REASONS[i] = s));
  }
  return s;
}
