// Redis reply decoder (server → client): every RESP2 and RESP3 type, specs/protocols.md §3.2. Modelled
// on hiredis read.c: a resumable reader with an explicit, bounded stack of open aggregates, so a reply
// may be split at any byte and nested values never recurse. One EV_MESSAGE per top-level value;
// attributes (`|`) are walked and dropped – a top-level attribute belongs to the value it precedes.
//
// Limits and error texts follow Envoy's RESP3 codec (codec_impl.h): element counts per aggregate
// (a map or attribute counts 2N) and per root value, nesting depth, consecutive attributes, bulk
// length, double/big-number token lengths. Payloads are walked by length and can be skipped; only
// the error word, the first element of a top-level array/push, the head of a simple string and the
// `xxx:` prefix of verbatim strings are looked at. Extensions over Envoy: RESP3 streamed strings
// (`$?` + `;<len>` chunks ending `;0`) and streamed aggregates (`*?`, `%?`, `~?` ending `.`).

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import { RedisLimits } from "./limits";
import { CR, LF, isDigit } from "./ascii";
import { ReplyCapture, CAP_NONE, CAP_TEXT, CAP_HEAD, CAP_ERR, CAP_VERB } from "./reply-capture";
import { DoubleToken, DOUBLE_OK, DOUBLE_TOO_LONG } from "./double-token";

const R_TYPE: i32 = 0; // expecting a type byte
const R_INT: i32 = 1; // integer / length line
const R_TEXT: i32 = 2; // '+' / '-' line
const R_NULL: i32 = 3; // after '_'
const R_END: i32 = 4; // after '.' (end of a streamed aggregate)
const R_BOOL: i32 = 5;
const R_BOOL_CR: i32 = 6;
const R_DOUBLE: i32 = 7;
const R_BIGNUM: i32 = 8;
const R_LF: i32 = 9; // '\r' seen, '\n' required, then `action`
const R_BULK: i32 = 10; // payload bytes
const R_BULK_CR: i32 = 11;
const R_CHUNK: i32 = 12; // streamed string: expecting ';'
const R_ERROR: i32 = 13;

// what to do once a line's "\r\n" is complete
const A_INT: i32 = 0;
const A_LEAF: i32 = 1;
const A_END: i32 = 2;
const A_BULK: i32 = 3;

/** Envoy kMaxBigNumberTokenLength. */
const MAX_BIGNUM: i32 = 16384;
const DEPTH_CAP_MAX: i32 = 65536;

export class RedisReplyDecoder {
  event: i32 = EV_NEED_MORE;

  private state: i32 = R_TYPE;
  private action: i32 = A_LEAF;
  private reason: string = "";
  private pos: i64 = 0;
  private msgStart: i64 = 0;
  private msgEnd: i64 = 0;
  private inMsg: bool = false;
  // stack of open aggregates: kind byte, elements still due (-1: streamed), elements seen (streamed)
  private readonly kinds: StaticArray<u8>;
  private readonly rem: StaticArray<i64>;
  private readonly cnt: StaticArray<i64>;
  /** attributes seen in a row at the value position of each depth */
  private readonly attrRun: StaticArray<i32>;
  private sp: i32 = 0;
  private total: i64 = 0; // declared elements in the current root value
  // top-level metadata
  private rootType: i32 = 0;
  private rootNull: bool = false;
  private readonly cap: ReplyCapture = new ReplyCapture();
  private headPending: bool = false; // the first element of the top-level array/push is still to come
  private lastIntV: i64 = 0;
  private hasLastIntV: bool = false;
  // the value being read
  private lnType: i32 = 0;
  private lnLen: i32 = 0;
  private lnNeg: bool = false;
  private lnDigits: i32 = 0;
  private lnVal: u64 = 0;
  private lnStreamed: bool = false;
  private textLen: i64 = 0;
  private capturing: bool = false; // the text line's first bytes are still wanted
  private readonly dbl: DoubleToken = new DoubleToken();
  private bulkType: i32 = 0;
  private remaining: i64 = 0;
  private strTotal: i64 = 0; // streamed string: bytes so far

  constructor(private limits: RedisLimits) {
    let n = limits.maxDepth - 1;
    if (n < 1) n = 1;
    if (n > DEPTH_CAP_MAX) n = DEPTH_CAP_MAX;
    this.kinds = new StaticArray<u8>(n);
    this.rem = new StaticArray<i64>(n);
    this.cnt = new StaticArray<i64>(n);
    this.attrRun = new StaticArray<i32>(n + 1);
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a complete
   * top-level value (EV_MESSAGE), up to and including the offending byte (EV_ERROR), or all (EV_NEED_MORE).
   */
  feed(ptr: usize, len: i32): i32 {
    if (this.state == R_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    // Payloads, integer lines and text lines are handled a run at a time; only single-byte states
    // go through step() (per-byte calls are what costs most under the incremental runtime).
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st == R_BULK) i += this.bulk(ptr + <usize>i, len - i);
      else if (st == R_INT) i = this.intRun(ptr, i, len);
      else if (st == R_TEXT) i = this.textRun(ptr, i, len);
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

  /** Upcoming payload bytes the decoder does not need to see (not including the trailing CRLF). */
  skippable(): i64 {
    if (this.state != R_BULK || this.cap.want() > 0) return 0;
    return this.remaining;
  }

  skip(n: i64): void {
    if (this.state == R_ERROR) {
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
    this.cap.advance(n);
    this.remaining -= n;
    if (this.remaining == 0) this.state = R_BULK_CR;
  }

  reset(): void {
    this.event = EV_NEED_MORE;
    this.state = R_TYPE;
    this.reason = "";
    this.pos = 0;
    this.msgStart = 0;
    this.msgEnd = 0;
    this.inMsg = false;
    this.sp = 0;
    this.total = 0;
    this.rootType = 0;
    this.rootNull = false;
    this.cap.clear();
    this.headPending = false;
    this.lastIntV = 0;
    this.hasLastIntV = false;
    unchecked((this.attrRun[0] = 0));
  }

  // ---- metadata of the last top-level value (valid after EV_MESSAGE until the next feed/skip) ----

  /** First byte of the value: one of + - : $ * _ # , ( ! = % ~ > (never '|'). */
  type(): u8 {
    return <u8>this.rootType;
  }
  isError(): bool {
    return this.rootType == 0x2d || this.rootType == 0x21;
  }
  isPush(): bool {
    return this.rootType == 0x3e;
  }
  /** `$-1`, `*-1` or `_`. */
  isNull(): bool {
    return this.rootNull;
  }
  /** First word of a '-' or '!' reply ("ERR", "WRONGTYPE", "MOVED" …), at most 32 bytes. */
  errorCodePtr(): usize {
    return changetype<usize>(this.cap.errBuf);
  }
  errorCodeLen(): i32 {
    return this.cap.errLen;
  }
  /**
   * '*' / '>': the first element if it is a simple or bulk string, ASCII lower-cased ("message",
   * "subscribe", "pong" …); '+': the first bytes of the text as sent. At most 16 bytes.
   */
  headPtr(): usize {
    return changetype<usize>(this.cap.headBuf);
  }
  headLen(): i32 {
    return this.cap.headLen;
  }
  /** The last integer element directly inside the top-level aggregate ((un)subscribe counts). */
  lastInt(): i64 {
    return this.lastIntV;
  }
  hasLastInt(): bool {
    return this.hasLastIntV;
  }
  /** Stream offsets [start, end) of the value, a preceding attribute included. */
  start(): i64 {
    return this.msgStart;
  }
  end(): i64 {
    return this.msgEnd;
  }
  /** Between top-level values (a pending top-level attribute counts as inside one). */
  atBoundary(): bool {
    return this.state == R_TYPE && !this.inMsg;
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.pos;
  }
  errorReason(): string {
    return this.reason;
  }

  // ---- state machine ------------------------------------------------------------------------------

  private step(b: i32): void {
    switch (this.state) {
      case R_TYPE:
        this.typeByte(b);
        return;
      case R_NULL:
      case R_END:
        if (b != CR) this.fail("expected carriage return");
        else this.expectLf(this.state == R_NULL ? A_LEAF : A_END);
        return;
      case R_BOOL:
        if (b == 0x74 || b == 0x66) this.state = R_BOOL_CR;
        else this.fail("invalid boolean value");
        return;
      case R_BOOL_CR:
        if (b == CR) this.expectLf(A_LEAF);
        else this.fail("invalid boolean value");
        return;
      case R_DOUBLE:
        this.doubleByte(b);
        return;
      case R_BIGNUM:
        this.bignumByte(b);
        return;
      case R_LF:
        if (b != LF) this.fail("expected new line");
        else this.lineComplete();
        return;
      case R_BULK_CR:
        if (b != CR) this.fail("expected carriage return");
        else this.expectLf(A_BULK);
        return;
      case R_CHUNK:
        if (b != 0x3b) this.fail("invalid streamed string chunk");
        else this.intStart(0x3b);
        return;
    }
  }

  private typeByte(b: i32): void {
    if (!this.inMsg) this.startMessage();
    switch (b) {
      case 0x2b: // + simple string
      case 0x2d: // - error
        this.valueStart(b);
        this.textLen = 0;
        this.capturing = this.cap.want() > 0;
        this.state = R_TEXT;
        return;
      case 0x3a: // : integer
      case 0x24: // $ bulk
      case 0x21: // ! bulk error
      case 0x3d: // = verbatim
      case 0x2a: // * array
      case 0x25: // % map
      case 0x7e: // ~ set
      case 0x3e: // > push
        this.valueStart(b);
        this.intStart(b);
        return;
      case 0x7c: {
        // | attribute: not a value, precedes one
        const sp = this.sp;
        const run = unchecked(this.attrRun[sp]) + 1;
        unchecked((this.attrRun[sp] = run));
        if (run > this.limits.maxConsecutiveAttributes) {
          this.fail("too many consecutive RESP3 attributes");
          return;
        }
        this.intStart(b);
        return;
      }
      case 0x5f: // _ null
        this.valueStart(b);
        if (this.sp == 0) this.rootNull = true;
        this.state = R_NULL;
        return;
      case 0x23: // # boolean
        this.valueStart(b);
        this.state = R_BOOL;
        return;
      case 0x2c: // , double
        this.valueStart(b);
        this.dbl.reset();
        this.state = R_DOUBLE;
        return;
      case 0x28: // ( big number
        this.valueStart(b);
        this.lnLen = 0;
        this.lnDigits = 0;
        this.state = R_BIGNUM;
        return;
      case 0x2e: {
        // . end of a streamed aggregate
        const sp = this.sp;
        if (sp > 0 && unchecked(this.rem[sp - 1]) < 0 && unchecked(this.attrRun[sp]) == 0) this.state = R_END;
        else this.fail("invalid value type");
        return;
      }
      default:
        this.fail("invalid value type");
    }
  }

  // @ts-ignore: decorator
  @inline
  private startMessage(): void {
    this.inMsg = true;
    this.msgStart = this.pos - 1;
    this.rootType = 0;
    this.rootNull = false;
    this.cap.clear();
    this.headPending = false;
    this.lastIntV = 0;
    this.hasLastIntV = false;
    this.total = 0;
  }

  /** A value (not an attribute) starts at the current position. */
  // @ts-ignore: decorator
  @inline
  private valueStart(t: i32): void {
    const sp = this.sp;
    unchecked((this.attrRun[sp] = 0));
    let mode = CAP_NONE;
    if (sp == 0) {
      this.rootType = t;
      if (t == 0x2b) mode = CAP_TEXT;
      else if (t == 0x2d || t == 0x21) mode = CAP_ERR;
    } else if (sp == 1 && this.headPending) {
      this.headPending = false;
      if (t == 0x24 || t == 0x2b) mode = CAP_HEAD;
    }
    if (t == 0x3d) mode = CAP_VERB;
    this.cap.begin(mode);
  }

  // ---- integer and length lines ---------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private intStart(t: i32): void {
    this.lnType = t;
    this.lnLen = 0;
    this.lnNeg = false;
    this.lnDigits = 0;
    this.lnVal = 0;
    this.lnStreamed = false;
    this.state = R_INT;
  }

  /** Bytes of an integer/length line from ptr+i up to its '\r' (or an error, or the window end). */
  private intRun(ptr: usize, i: i32, len: i32): i32 {
    const from = i;
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (!this.intByte(b)) break;
    }
    this.pos += i - from;
    return i;
  }

  /** One byte of an integer line; false once the line is over (CR seen) or failed. */
  // @ts-ignore: decorator
  @inline
  private intByte(b: i32): bool {
    const t = this.lnType;
    if (b == CR) {
      if (!this.lnStreamed && this.lnDigits == 0) this.fail("integer with no digits");
      else this.expectLf(A_INT);
      return false;
    }
    const n = ++this.lnLen;
    if (n > this.limits.maxLineBytes) {
      this.fail("integer line too long");
      return false;
    }
    if (this.lnStreamed) {
      this.fail("invalid integer character");
      return false;
    }
    if (n == 1) {
      if (b == 0x3f && (t == 0x24 || t == 0x2a || t == 0x25 || t == 0x7e)) {
        this.lnStreamed = true;
        return true;
      }
      if (b == 0x2d) {
        this.lnNeg = true;
        return true;
      }
      if (b == 0x2b && t == 0x3a) return true;
    }
    if (!isDigit(b)) {
      this.fail("invalid integer character");
      return false;
    }
    this.lnDigits++;
    const v = this.lnVal;
    const d = <u64>(b - 0x30);
    if (v > 1844674407370955161 || (v == 1844674407370955161 && d > 5)) {
      this.fail("integer overflow");
      return false;
    }
    const nv = v * 10 + d;
    this.lnVal = nv;
    if (t == 0x3a && (this.lnNeg ? nv > 0x8000000000000000 : nv > 0x7fffffffffffffff)) {
      this.fail("integer out of range");
      return false;
    }
    return true;
  }

  private intLine(): void {
    const t = this.lnType;
    const v = this.lnVal;
    const neg = this.lnNeg;
    if (t == 0x3a) {
      if (this.sp == 1 && unchecked(this.kinds[0]) != 0x7c) {
        this.lastIntV = neg ? -(<i64>v) : <i64>v;
        this.hasLastIntV = true;
      }
      this.valueDone();
      return;
    }
    const maxBulk = this.limits.maxBulkBytes;
    if (t == 0x24 || t == 0x21 || t == 0x3d) {
      if (this.lnStreamed) {
        this.strTotal = 0;
        this.state = R_CHUNK;
        return;
      }
      if (neg) {
        if (t == 0x24 && v == 1) {
          if (this.sp == 0) this.rootNull = true;
          this.valueDone();
        } else this.fail("invalid negative length");
        return;
      }
      if (maxBulk < 0 || v > <u64>maxBulk) {
        this.fail("bulk string length exceeds maximum");
        return;
      }
      if (t == 0x3d && v < 4) {
        this.fail("invalid verbatim string value");
        return;
      }
      this.startBulk(t, <i64>v);
      return;
    }
    if (t == 0x3b) {
      // chunk of a streamed string; `;0` ends it
      if (neg) {
        this.fail("invalid negative length");
        return;
      }
      if (v == 0) {
        this.valueDone();
        return;
      }
      if (maxBulk < 0 || v > <u64>maxBulk || <i64>v > maxBulk - this.strTotal) {
        this.fail("bulk string length exceeds maximum");
        return;
      }
      this.strTotal += <i64>v;
      this.startBulk(t, <i64>v);
      return;
    }
    // aggregates: * % ~ > |
    if (this.lnStreamed) {
      if (this.push(t, -1)) this.state = R_TYPE;
      return;
    }
    if (neg) {
      if (t == 0x2a && v == 1) {
        if (this.sp == 0) this.rootNull = true;
        this.valueDone();
      } else this.fail("invalid negative length");
      return;
    }
    let n = v;
    if (t == 0x25 || t == 0x7c) {
      if (n > 0x7fffffffffffffff) {
        this.fail("map element count overflow");
        return;
      }
      n <<= 1;
    }
    const maxEl = this.limits.maxElements;
    if (maxEl < 0 || n > <u64>maxEl) {
      this.fail("element count exceeds maximum");
      return;
    }
    const maxTotal = this.limits.maxTotalElements;
    if (<i64>n > maxTotal - this.total) {
      this.fail("total element count exceeds maximum");
      return;
    }
    this.total += <i64>n;
    if (n == 0) {
      if (t == 0x7c) this.state = R_TYPE; // empty attribute: still before the same value
      else this.valueDone();
      return;
    }
    if (this.push(t, <i64>n)) this.state = R_TYPE;
  }

  private push(kind: i32, n: i64): bool {
    const sp = this.sp;
    let max = this.limits.maxDepth - 1;
    if (max > this.kinds.length) max = this.kinds.length;
    if (sp >= max) {
      this.fail("nesting depth exceeds maximum");
      return false;
    }
    unchecked((this.kinds[sp] = <u8>kind));
    unchecked((this.rem[sp] = n));
    unchecked((this.cnt[sp] = 0));
    this.sp = sp + 1;
    unchecked((this.attrRun[sp + 1] = 0));
    if (sp == 0 && (kind == 0x2a || kind == 0x3e)) this.headPending = true;
    return true;
  }

  // ---- completion ------------------------------------------------------------------------------

  /** The value at the current position is complete: count it in its parent, close finished parents. */
  private valueDone(): void {
    while (true) {
      const sp = this.sp;
      if (sp == 0) {
        this.msgEnd = this.pos;
        this.inMsg = false;
        this.state = R_TYPE;
        this.event = EV_MESSAGE;
        return;
      }
      const t = sp - 1;
      const r = unchecked(this.rem[t]);
      if (r < 0) {
        // streamed aggregate: count as we go
        const c = unchecked(this.cnt[t]) + 1;
        unchecked((this.cnt[t] = c));
        if (c > this.limits.maxElements) {
          this.fail("element count exceeds maximum");
          return;
        }
        if (this.total >= this.limits.maxTotalElements) {
          this.fail("total element count exceeds maximum");
          return;
        }
        this.total++;
        this.state = R_TYPE;
        return;
      }
      unchecked((this.rem[t] = r - 1));
      if (r > 1) {
        this.state = R_TYPE;
        return;
      }
      this.sp = t;
      if (unchecked(this.kinds[t]) == 0x7c) {
        this.state = R_TYPE; // an attribute is not an element: its value comes next
        return;
      }
      // the aggregate itself is a complete value of its parent
    }
  }

  private endStreamed(): void {
    const t = this.sp - 1; // typeByte checked that the top frame is streamed
    if (t < 0) {
      this.fail("invalid value type");
      return;
    }
    if (unchecked(this.kinds[t]) == 0x25 && (unchecked(this.cnt[t]) & 1) != 0) {
      this.fail("streamed map with odd element count");
      return;
    }
    this.sp = t;
    this.valueDone();
  }

  // @ts-ignore: decorator
  @inline
  private expectLf(action: i32): void {
    this.action = action;
    this.state = R_LF;
  }

  private lineComplete(): void {
    const a = this.action;
    if (a == A_INT) this.intLine();
    else if (a == A_LEAF) this.valueDone();
    else if (a == A_END) this.endStreamed();
    else if (this.bulkType == 0x3b) this.state = R_CHUNK;
    else this.valueDone();
  }

  // ---- payloads and lines -----------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private startBulk(t: i32, n: i64): void {
    this.bulkType = t;
    this.remaining = n;
    this.state = R_BULK;
  }

  private bulk(p: usize, avail: i32): i32 {
    const rem = this.remaining;
    const take = <i64>avail < rem ? avail : <i32>rem;
    const want = this.cap.want();
    const look = <i64>take < want ? take : <i32>want;
    for (let j = 0; j < look; j++) {
      if (!this.cap.byte(<i32>load<u8>(p + <usize>j))) {
        this.pos += j + 1;
        this.fail("invalid verbatim string value");
        return j + 1;
      }
    }
    if (take > look) this.cap.advance(take - look);
    this.pos += take;
    this.remaining = rem - take;
    if (this.remaining == 0) this.state = R_BULK_CR;
    return take;
  }

  /** Bytes of a '+' / '-' line from ptr+i up to its '\r' (or an error, or the window end). */
  private textRun(ptr: usize, i: i32, len: i32): i32 {
    const from = i;
    const max = this.limits.maxBulkBytes;
    let n = this.textLen;
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (b == CR) {
        this.expectLf(A_LEAF);
        break;
      }
      if (++n > max) {
        this.fail("simple string too long");
        break;
      }
      if (this.capturing) {
        this.cap.byte(b);
        this.capturing = this.cap.want() > 0;
      }
    }
    this.textLen = n;
    this.pos += i - from;
    return i;
  }

  private doubleByte(b: i32): void {
    if (b == CR) {
      if (this.dbl.complete()) this.expectLf(A_LEAF);
      else this.fail("invalid double value");
      return;
    }
    const r = this.dbl.byte(b);
    if (r == DOUBLE_TOO_LONG) this.fail("double value too long");
    else if (r != DOUBLE_OK) this.fail("invalid double value");
  }

  private bignumByte(b: i32): void {
    if (b == CR) {
      if (this.lnDigits == 0) this.fail("invalid big number value");
      else this.expectLf(A_LEAF);
      return;
    }
    const n = ++this.lnLen;
    if (n > MAX_BIGNUM) {
      this.fail("big number value too long");
      return;
    }
    if (n == 1 && (b == 0x2b || b == 0x2d)) return;
    if (!isDigit(b)) {
      this.fail("invalid big number value");
      return;
    }
    this.lnDigits++;
  }

  private fail(reason: string): void {
    this.reason = reason;
    this.state = R_ERROR;
    this.event = EV_ERROR;
  }
}
