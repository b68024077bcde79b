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

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import { RedisLimits } from "./limits";
import { CR, LF, isDigit, equalsIgnoreCase } from "./ascii";
import { RequestCapture, ARG_CAP, ARG_SLOTS } from "./request-capture";
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

export class RedisRequestDecoder {
  /** EV_NEED_MORE, EV_MESSAGE or EV_ERROR: the outcome of the last feed()/skip(). */
  event: i32 = EV_NEED_MORE;

  private readonly cap: RequestCapture;
  private readonly tok: InlineTokenizer;
  private state: i32 = S_IDLE;
  private reason: string = "";
  private pos: i64 = 0; // bytes fed or skipped since construction/reset
  private reqStart: i64 = 0;
  private reqEnd: i64 = 0;
  private inline: bool = false;
  // multibulk
  private argTotal: i64 = 0;
  private argIndex: i64 = 0;
  private remaining: i64 = 0; // payload bytes left in the current bulk argument
  // count / length line (Redis string2ll rules, checked when the line ends)
  private lnLen: i32 = 0; // bytes of the line so far, first byte ('*' or '$') included
  private lnFirst: i32 = 0;
  private lnNeg: bool = false;
  private lnDigits: i32 = 0;
  private lnZeroFirst: bool = false;
  private lnVal: u64 = 0;
  private lnBad: bool = false;
  private lnNul: bool = false;
  // inline line
  private ilLen: i32 = 0;
  private ilCr: bool = false; // a '\r' waits: stripped if '\n' follows, else an ordinary byte
  private ilNul: bool = false;

  constructor(private limits: RedisLimits) {
    const cap = new RequestCapture(limits.maxKeyCapture);
    this.cap = cap;
    this.tok = new InlineTokenizer(cap);
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a complete
   * request (event EV_MESSAGE), up to and including the offending byte (EV_ERROR), or all (EV_NEED_MORE).
   * Requests Redis ignores (`*0`, `*-N`, blank inline lines) are consumed without an event.
   */
  feed(ptr: usize, len: i32): i32 {
    if (this.state == S_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    // Runs of bytes in one state (payloads, count/length lines, inline lines) are handled by one
    // call each; only the single-byte states go through step(). Per-byte calls are what costs most
    // under the incremental runtime (shadow-stack spills around every call).
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st == S_DATA) i += this.data(ptr + <usize>i, len - i);
      else if (st == S_COUNT || st == S_LEN) i = this.lineRun(ptr, i, len);
      else if (st == S_INLINE) i = this.inlineRun(ptr, i, len);
      else {
        const b = <i32>load<u8>(ptr + <usize>i);
        i++;
        this.pos++;
        this.step(b);
      }
      if (this.event != EV_NEED_MORE) break;
    }
    return i;
  }

  /** Upcoming bytes the decoder does not need to see: the uncaptured rest of a bulk argument (not its CRLF). */
  skippable(): i64 {
    if (this.state != S_DATA || this.cap.want() > 0) return 0;
    return this.remaining;
  }

  /** Account for n ≤ skippable() bytes the caller did not feed. */
  skip(n: i64): void {
    if (this.state == S_ERROR) {
      this.event = EV_ERROR;
      return;
    }
    this.event = EV_NEED_MORE;
    if (n <= 0) return;
    if (n > this.skippable()) {
      this.fail("invalid skip");
      return;
    }
    this.pos += n;
    this.remaining -= n;
    this.cap.advance(n);
    if (this.remaining == 0) this.dataDone();
  }

  reset(): void {
    this.event = EV_NEED_MORE;
    this.state = S_IDLE;
    this.reason = "";
    this.pos = 0;
    this.reqStart = 0;
    this.reqEnd = 0;
    this.inline = false;
    this.cap.reset(this.limits.maxKeyCapture);
  }

  // ---- metadata of the last request (valid after EV_MESSAGE until the next feed/skip) ------------

  /** argv[0], ASCII upper-cased, at most METHOD_CAP (64) bytes. */
  methodPtr(): usize {
    return changetype<usize>(this.cap.methodBuf);
  }
  methodLen(): i32 {
    return this.cap.methodLen;
  }
  methodTruncated(): bool {
    return this.cap.methodFull > <i64>this.cap.methodLen;
  }
  /** Command table index (commands.ts) or -1. */
  command(): i32 {
    return this.cap.command;
  }
  hasKey(): bool {
    return this.cap.hasKey;
  }
  /** The first key as sent (inline: unescaped), at most limits.maxKeyCapture bytes. */
  keyPtr(): usize {
    return changetype<usize>(this.cap.keyBuf);
  }
  keyLen(): i32 {
    return this.cap.hasKey ? this.cap.keyLen() : 0;
  }
  keyTruncated(): bool {
    return this.cap.keyTruncated();
  }
  /** Full length of the key, also when truncated. */
  keyFullLen(): i64 {
    return this.cap.hasKey ? this.cap.keyFull : 0;
  }
  argc(): i64 {
    return this.cap.argc;
  }
  isInline(): bool {
    return this.inline;
  }
  /** argv[i] for i in 1..3: first ARG_CAP (32) bytes as sent (raw case; inline: unescaped). */
  argPtr(i: i32): usize {
    const slot = i >= 1 && i <= ARG_SLOTS ? i - 1 : 0;
    return changetype<usize>(this.cap.argBuf) + <usize>(slot * ARG_CAP);
  }
  argLen(i: i32): i32 {
    const full = this.argFullLen(i);
    return full < 0 ? 0 : full > <i64>ARG_CAP ? ARG_CAP : <i32>full;
  }
  /** Full length of argv[i] (i in 1..3), -1 if the request has no such argument. */
  argFullLen(i: i32): i64 {
    return i >= 1 && i <= ARG_SLOTS ? unchecked(this.cap.argFull[i - 1]) : -1;
  }
  /** argv[i] (i in 1..3) equals the ASCII literal `lit`, ignoring case. */
  argIs(i: i32, lit: string): bool {
    const full = this.argFullLen(i);
    return full >= 0 && full == <i64>lit.length && equalsIgnoreCase(this.argPtr(i), <i32>full, lit);
  }
  /** Stream offsets [start, end) of the last request. */
  start(): i64 {
    return this.reqStart;
  }
  end(): i64 {
    return this.reqEnd;
  }
  /** Between requests: every byte so far belongs to a complete (or ignored) request. */
  atBoundary(): bool {
    return this.state == S_IDLE;
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.pos;
  }
  /** Why the stream was rejected (static text; "" when not in error). */
  errorReason(): string {
    return this.reason;
  }

  // ---- state machine ------------------------------------------------------------------------------

  private step(b: i32): void {
    switch (this.state) {
      case S_IDLE:
        this.begin(b);
        return;
      case S_COUNT_LF:
        if (b != LF) this.fail("expected new line");
        else this.countDone();
        return;
      case S_LEN_LF:
        if (b != LF) this.fail("expected new line");
        else this.lenDone();
        return;
      case S_DATA_CR:
        if (b != CR) this.fail("expected carriage return");
        else this.state = S_DATA_LF;
        return;
      case S_DATA_LF:
        if (b != LF) this.fail("expected new line");
        else this.argDone();
        return;
    }
  }

  private begin(b: i32): void {
    this.reqStart = this.pos - 1;
    this.cap.reset(this.limits.maxKeyCapture);
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
    this.tok.reset(this.limits.maxRequestArgs);
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
    const max = this.limits.maxLineBytes;
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
        this.fail(count ? "too big mbulk count string" : "too big bulk count string");
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

  private lineEnd(count: bool): void {
    let ok = !this.lnBad && this.lnDigits > 0 && !(this.lnZeroFirst && (this.lnDigits > 1 || this.lnNeg));
    const v = this.lnVal;
    if (ok && (this.lnNeg ? v > MAG_LIMIT : v >= MAG_LIMIT)) ok = false;
    if (count) {
      const max = this.limits.maxRequestArgs;
      if (!ok || (!this.lnNeg && (max < 0 || v > <u64>max))) this.fail("invalid multibulk length");
      else this.state = S_COUNT_LF;
      return;
    }
    const first = this.lnLen == 0 ? CR : this.lnFirst;
    if (first != 0x24) {
      this.fail(dollarReason(first));
      return;
    }
    const max = this.limits.maxBulkBytes;
    if (!ok || this.lnNeg || max < 0 || v > <u64>max) this.fail("invalid bulk length");
    else this.state = S_LEN_LF;
  }

  private countDone(): void {
    if (this.lnNeg || this.lnVal == 0) {
      this.state = S_IDLE; // `*0`, `*-1`: Redis ignores the request, no reply
      return;
    }
    this.argTotal = <i64>this.lnVal;
    this.argIndex = 0;
    this.state = S_LEN;
    this.lineInit();
  }

  private lenDone(): void {
    const n = <i64>this.lnVal;
    this.remaining = n;
    this.cap.begin(this.argIndex, n);
    if (n == 0) this.dataDone();
    else this.state = S_DATA;
  }

  private data(p: usize, avail: i32): i32 {
    const rem = this.remaining;
    const take = <i64>avail < rem ? avail : <i32>rem;
    const want = this.cap.want();
    const look = <i64>take < want ? take : <i32>want;
    this.cap.chunk(p, look);
    if (take > look) this.cap.advance(take - look);
    this.pos += take;
    this.remaining = rem - take;
    if (this.remaining == 0) this.dataDone();
    return take;
  }

  // @ts-ignore: decorator
  @inline
  private dataDone(): void {
    this.cap.end();
    this.state = S_DATA_CR;
  }

  private argDone(): void {
    this.argIndex++;
    if (this.argIndex >= this.argTotal) {
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
    if (this.ilNul) {
      if (++this.ilLen > this.limits.maxLineBytes) this.fail("too big inline request");
      return;
    }
    if (b == LF) {
      this.inlineEnd();
      return;
    }
    if (++this.ilLen > this.limits.maxLineBytes) {
      this.fail("too big inline request");
      return;
    }
    if (b == 0) {
      this.ilNul = true; // strchr() stops here: this line never ends
      return;
    }
    if (this.ilCr) {
      this.ilCr = false;
      this.tok.byte(CR);
    }
    if (b == CR) this.ilCr = true;
    else this.tok.byte(b);
    if (this.tok.overLimit) this.fail("inline command element count exceeds maximum");
  }

  private inlineEnd(): void {
    this.tok.eol();
    if (this.tok.bad) {
      this.fail("unbalanced quotes in request");
      return;
    }
    if (this.tok.argc == 0) {
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

  private fail(reason: string): void {
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
