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

// Speed: as in the request decoder, all state lives in an @unmanaged struct (ReplyState) inside one
// StaticArray<u8> owned by the decoder, together with the capture, the double reader and the
// aggregate stack, so the hot code never spills managed references to the shadow stack. Fast paths,
// each taken only when what it needs lies inside the window: a whole top-level `$` bulk string,
// `+` simple string, `-` error or `:` integer (fastValue); a whole integer/length line (fastInt); the
// "\r\n" after a payload and the '\n' after a text line. Anything else goes through the byte-at-a-
// time machine, which then sees exactly the bytes it would have seen without them.

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import {
  RedisLimits,
  limMaxBulkBytes,
  limMaxLineBytes,
  limMaxElements,
  limMaxTotalElements,
  limMaxDepth,
  limMaxConsecutiveAttributes,
} from "./limits";
import { CR, LF, isDigit } from "./ascii";
import { ReplyCapture, CAP_NONE, CAP_TEXT, CAP_HEAD, CAP_ERR, CAP_VERB, HEAD_CAP, ERR_CAP } from "./reply-capture";
import { DoubleToken, DOUBLE_OK, DOUBLE_TOO_LONG } from "./double-token";
import { align8, copySmall } from "./raw";

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


// why the stream was rejected: an index into REASONS
const E_NONE: i32 = 0;
const E_SKIP: i32 = 1;
const E_EXPECTED_CR: i32 = 2;
const E_EXPECTED_LF: i32 = 3;
const E_BOOLEAN: i32 = 4;
const E_CHUNK: i32 = 5;
const E_ATTRIBUTES: i32 = 6;
const E_TYPE: i32 = 7;
const E_NO_DIGITS: i32 = 8;
const E_INT_LONG: i32 = 9;
const E_INT_CHAR: i32 = 10;
const E_INT_OVERFLOW: i32 = 11;
const E_INT_RANGE: i32 = 12;
const E_NEGATIVE: i32 = 13;
const E_BULK_MAX: i32 = 14;
const E_VERBATIM: i32 = 15;
const E_MAP_OVERFLOW: i32 = 16;
const E_ELEMENTS: i32 = 17;
const E_TOTAL: i32 = 18;
const E_DEPTH: i32 = 19;
const E_ODD_MAP: i32 = 20;
const E_TEXT_LONG: i32 = 21;
const E_DOUBLE: i32 = 22;
const E_DOUBLE_LONG: i32 = 23;
const E_BIGNUM: i32 = 24;
const E_BIGNUM_LONG: i32 = 25;

const REASONS: StaticArray<string> = [
  "",
  "invalid skip",
  "expected carriage return",
  "expected new line",
  "invalid boolean value",
  "invalid streamed string chunk",
  "too many consecutive RESP3 attributes",
  "invalid value type",
  "integer with no digits",
  "integer line too long",
  "invalid integer character",
  "integer overflow",
  "integer out of range",
  "invalid negative length",
  "bulk string length exceeds maximum",
  "invalid verbatim string value",
  "map element count overflow",
  "element count exceeds maximum",
  "total element count exceeds maximum",
  "nesting depth exceeds maximum",
  "streamed map with odd element count",
  "simple string too long",
  "invalid double value",
  "double value too long",
  "invalid big number value",
  "big number value too long",
];

export class RedisReplyDecoder {
  event: i32 = EV_NEED_MORE;

  /** Memory of the state, capture, double reader and aggregate stack (one GC object, made once). */
  private readonly block: StaticArray<u8>;
  private readonly st: ReplyState;

  constructor(private limits: RedisLimits) {
    let n = limits.maxDepth - 1;
    if (n < 1) n = 1;
    if (n > DEPTH_CAP_MAX) n = DEPTH_CAP_MAX;
    // layout: state | capture | double reader | rem (n × i64) | cnt (n × i64) | attrRun ((n+1) × i32) | kinds (n)
    const sz = align8(offsetof<ReplyState>());
    const cz = align8(ReplyCapture.bytes());
    const dz = align8(DoubleToken.bytes());
    const stack = <usize>n * 8 * 2 + align8(<usize>(n + 1) * 4) + <usize>n;
    const block = new StaticArray<u8>(<i32>(sz + cz + dz + stack));
    this.block = block;
    const at = changetype<usize>(block);
    const st = changetype<ReplyState>(at);
    st.lim = changetype<usize>(limits);
    st.cap = ReplyCapture.place(at + sz);
    st.dbl = DoubleToken.place(at + sz + cz);
    let p = at + sz + cz + dz;
    st.rem = p;
    p += <usize>n * 8;
    st.cnt = p;
    p += <usize>n * 8;
    st.attrRun = p;
    p += align8(<usize>(n + 1) * 4);
    st.kinds = p;
    st.depthCap = n;
    st.action = A_LEAF;
    this.st = st;
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a complete
   * top-level value (EV_MESSAGE), up to and including the offending byte (EV_ERROR), or all (EV_NEED_MORE).
   */
  feed(ptr: usize, len: i32): i32 {
    // `this` only as an address: a managed `this.x` would spill to the shadow stack (see top)
    const self = changetype<usize>(this);
    const st = replyStateOf(self);
    const n = st.feed(ptr, len);
    store<i32>(self, st.event, offsetof<RedisReplyDecoder>("event"));
    return n;
  }

  /** Upcoming payload bytes the decoder does not need to see (not including the trailing CRLF). */
  skippable(): i64 {
    return replyStateOf(changetype<usize>(this)).skippable();
  }

  skip(n: i64): void {
    const self = changetype<usize>(this);
    const st = replyStateOf(self);
    st.skip(n);
    store<i32>(self, st.event, offsetof<RedisReplyDecoder>("event"));
  }

  reset(): void {
    const st = this.st;
    st.event = EV_NEED_MORE;
    st.state = R_TYPE;
    st.reason = E_NONE;
    st.pos = 0;
    st.msgStart = 0;
    st.msgEnd = 0;
    st.inMsg = false;
    st.sp = 0;
    st.total = 0;
    st.rootType = 0;
    st.rootNull = false;
    st.cap.clear();
    st.headPending = false;
    st.lastIntV = 0;
    st.hasLastIntV = false;
    store<i32>(st.attrRun, 0);
    this.event = EV_NEED_MORE;
  }

  // ---- metadata of the last top-level value (valid after EV_MESSAGE until the next feed/skip) ----

  /** First byte of the value: one of + - : $ * _ # , ( ! = % ~ > (never '|'). */
  type(): u8 {
    return <u8>this.st.rootType;
  }
  isError(): bool {
    const t = this.st.rootType;
    return t == 0x2d || t == 0x21;
  }
  isPush(): bool {
    return this.st.rootType == 0x3e;
  }
  /** `$-1`, `*-1` or `_`. */
  isNull(): bool {
    return this.st.rootNull;
  }
  /** First word of a '-' or '!' reply ("ERR", "WRONGTYPE", "MOVED" …), at most 32 bytes. */
  errorCodePtr(): usize {
    return this.st.cap.errBuf;
  }
  errorCodeLen(): i32 {
    return this.st.cap.errLen;
  }
  /**
   * '*' / '>': the first element if it is a simple or bulk string, ASCII lower-cased ("message",
   * "subscribe", "pong" …); '+': the first bytes of the text as sent. At most 16 bytes.
   */
  headPtr(): usize {
    return this.st.cap.headBuf;
  }
  headLen(): i32 {
    return this.st.cap.headLen;
  }
  /** The last integer element directly inside the top-level aggregate ((un)subscribe counts). */
  lastInt(): i64 {
    return this.st.lastIntV;
  }
  hasLastInt(): bool {
    return this.st.hasLastIntV;
  }
  /** Stream offsets [start, end) of the value, a preceding attribute included. */
  start(): i64 {
    return this.st.msgStart;
  }
  end(): i64 {
    return this.st.msgEnd;
  }
  /** Between top-level values (a pending top-level attribute counts as inside one). */
  atBoundary(): bool {
    const st = this.st;
    return st.state == R_TYPE && !st.inMsg;
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.st.pos;
  }
  errorReason(): string {
    const r = this.st.reason;
    return <u32>r < <u32>REASONS.length ? unchecked(REASONS[r]) : "";
  }
}

/** The state of the decoder at address `dec` (a live RedisReplyDecoder), read without a spill; for RedisSession too. */
// @ts-ignore: decorator
@inline
export function replyStateOf(dec: usize): ReplyState {
  return changetype<ReplyState>(load<usize>(dec, offsetof<RedisReplyDecoder>("st")));
}

/** The decoder's state: an @unmanaged struct at the start of the decoder's block. */
// @ts-ignore: decorator
@unmanaged
export class ReplyState {
  pos: i64;
  msgStart: i64;
  msgEnd: i64;
  total: i64; // declared elements in the current root value
  lastIntV: i64;
  lnVal: u64;
  textLen: i64;
  remaining: i64;
  strTotal: i64; // streamed string: bytes so far
  lim: usize; // the RedisLimits, held by the decoder
  cap: ReplyCapture;
  dbl: DoubleToken;
  // stack of open aggregates: kind byte, elements still due (-1: streamed), elements seen (streamed)
  kinds: usize; // u8 × depthCap
  rem: usize; // i64 × depthCap
  cnt: usize; // i64 × depthCap
  /** attributes seen in a row at the value position of each depth: i32 × (depthCap + 1) */
  attrRun: usize;
  depthCap: i32;
  event: i32;
  state: i32;
  action: i32;
  reason: i32;
  sp: i32;
  rootType: i32;
  lnType: i32;
  lnLen: i32;
  lnDigits: i32;
  bulkType: i32;
  inMsg: bool;
  rootNull: bool;
  headPending: bool; // the first element of the top-level array/push is still to come
  hasLastIntV: bool;
  lnNeg: bool;
  lnStreamed: bool;
  capturing: bool; // the text line's first bytes are still wanted

  // @ts-ignore: decorator
  @inline
  private kindAt(i: i32): i32 {
    return <i32>load<u8>(this.kinds + <usize>i);
  }
  // @ts-ignore: decorator
  @inline
  private remAt(i: i32): i64 {
    return load<i64>(this.rem + (<usize>i << 3));
  }
  // @ts-ignore: decorator
  @inline
  private setRem(i: i32, v: i64): void {
    store<i64>(this.rem + (<usize>i << 3), v);
  }
  // @ts-ignore: decorator
  @inline
  private cntAt(i: i32): i64 {
    return load<i64>(this.cnt + (<usize>i << 3));
  }
  // @ts-ignore: decorator
  @inline
  private attrRunAt(i: i32): i32 {
    return load<i32>(this.attrRun + (<usize>i << 2));
  }
  // @ts-ignore: decorator
  @inline
  private setAttrRun(i: i32, v: i32): void {
    store<i32>(this.attrRun + (<usize>i << 2), v);
  }

  feed(ptr: usize, len: i32): i32 {
    if (this.state == R_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    // Payloads, integer lines and text lines are handled a run at a time, with fast paths for whole
    // lines and line ends; type bytes and the single-byte states go one byte at a time.
    let i = 0;
    while (i < len) {
      const st = this.state;
      if (st == R_TYPE && !this.inMsg) {
        // a whole top-level bulk string, simple string, error or integer in the window: one step
        const j = this.fastValue(ptr, i, len);
        if (j >= 0) return j;
      }
      if (st == R_BULK) i = this.bulk(ptr, i, len);
      else if (st == R_INT) i = this.intRun(ptr, i, len);
      else if (st == R_TEXT) i = this.textRun(ptr, i, len);
      else {
        const b = <i32>load<u8>(ptr + <usize>i);
        i++;
        this.pos++;
        if (st == R_TYPE) this.typeByte(b);
        else this.step(b);
      }
      if (this.event != EV_NEED_MORE) break;
    }
    return i;
  }

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
      this.fail(E_SKIP);
      return;
    }
    this.pos += n;
    this.cap.advance(n);
    this.remaining -= n;
    if (this.remaining == 0) this.state = R_BULK_CR;
  }

  // ---- state machine ------------------------------------------------------------------------------

  private step(b: i32): void {
    switch (this.state) {
      case R_TYPE:
        this.typeByte(b);
        return;
      case R_NULL:
      case R_END:
        if (b != CR) this.fail(E_EXPECTED_CR);
        else this.expectLf(this.state == R_NULL ? A_LEAF : A_END);
        return;
      case R_BOOL:
        if (b == 0x74 || b == 0x66) this.state = R_BOOL_CR;
        else this.fail(E_BOOLEAN);
        return;
      case R_BOOL_CR:
        if (b == CR) this.expectLf(A_LEAF);
        else this.fail(E_BOOLEAN);
        return;
      case R_DOUBLE:
        this.doubleByte(b);
        return;
      case R_BIGNUM:
        this.bignumByte(b);
        return;
      case R_LF:
        if (b != LF) this.fail(E_EXPECTED_LF);
        else this.lineComplete();
        return;
      case R_BULK_CR:
        if (b != CR) this.fail(E_EXPECTED_CR);
        else this.expectLf(A_BULK);
        return;
      case R_CHUNK:
        if (b != 0x3b) this.fail(E_CHUNK);
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
        const run = this.attrRunAt(sp) + 1;
        this.setAttrRun(sp, run);
        if (run > limMaxConsecutiveAttributes(this.lim)) {
          this.fail(E_ATTRIBUTES);
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
        if (sp > 0 && this.remAt(sp - 1) < 0 && this.attrRunAt(sp) == 0) this.state = R_END;
        else this.fail(E_TYPE);
        return;
      }
      default:
        this.fail(E_TYPE);
    }
  }

  /**
   * A whole top-level `$` bulk string (or `$-1`), `+` simple string, `-` error or `:` integer at
   * ptr+i, every line plain (as fastInt takes them) and inside the window: decoded in one pass,
   * returning the index after it (event EV_MESSAGE). Otherwise -1 with nothing changed, and the
   * byte machine takes the value from its type byte. Leaves the metadata the byte machine would.
   */
  private fastValue(ptr: usize, i: i32, len: i32): i32 {
    const t = <i32>load<u8>(ptr + <usize>i);
    let j = i + 1;
    let end = 0; // index after the value
    let nul = false;
    const cap = this.cap;
    if (t == 0x24 || t == 0x3a) {
      // "$<len>\r\n<payload>\r\n", "$-1\r\n", ":[+-]<digits>\r\n"
      let neg = false;
      if (j < len) {
        const c = load<u8>(ptr + <usize>j);
        if (c == 0x2d) {
          neg = true;
          j++;
        } else if (c == 0x2b && t == 0x3a) j++;
      }
      const d0 = j;
      let lim = len - d0;
      if (lim > 19) lim = 19;
      const stop = d0 + lim;
      let v: u64 = 0;
      while (j < stop) {
        const d = <u32>load<u8>(ptr + <usize>j) - 0x30;
        if (d >= 10) break;
        v = v * 10 + <u64>d;
        j++;
      }
      const digits = j - d0;
      if (digits == 0 || digits > 18 || j + 1 >= len || load<u16>(ptr + <usize>j) != 0x0a0d) return -1;
      if (j - i - 1 > limMaxLineBytes(this.lim)) return -1;
      end = j + 2;
      if (t == 0x24) {
        if (neg) {
          if (v != 1) return -1;
          nul = true;
        } else {
          const maxBulk = limMaxBulkBytes(this.lim);
          if (maxBulk < 0 || v > <u64>maxBulk || <i64>v + 2 > <i64>(len - end)) return -1;
          end += <i32>v;
          if (load<u16>(ptr + <usize>end) != 0x0a0d) return -1;
          end += 2;
        }
      }
      cap.clear();
    } else if (t == 0x2b || t == 0x2d) {
      // "+<text>\r\n", "-<text>\r\n": the text ends at the first '\r', which '\n' must follow
      while (j < len && load<u8>(ptr + <usize>j) != CR) j++;
      if (j + 1 >= len || load<u8>(ptr + <usize>(j + 1)) != LF) return -1;
      const n = j - i - 1;
      if (<i64>n > limMaxBulkBytes(this.lim)) return -1;
      end = j + 2;
      const p = ptr + <usize>(i + 1);
      cap.clear();
      if (t == 0x2b) {
        const m = n < HEAD_CAP ? n : HEAD_CAP; // the head, as sent
        copySmall(cap.headBuf, p, <usize>m);
        cap.headLen = m;
      } else {
        let m = 0; // the first word, at most ERR_CAP bytes
        while (m < n && m < ERR_CAP && load<u8>(p + <usize>m) != 0x20) m++;
        copySmall(cap.errBuf, p, <usize>m);
        cap.errLen = m;
      }
    } else return -1;
    // what startMessage/valueStart/valueDone leave for a leaf at the top
    const start = this.pos;
    this.msgStart = start;
    this.pos = start + <i64>(end - i);
    this.msgEnd = this.pos;
    this.rootType = t;
    this.rootNull = nul;
    this.headPending = false;
    this.lastIntV = 0;
    this.hasLastIntV = false;
    this.total = 0;
    this.setAttrRun(0, 0);
    cap.begin(CAP_NONE);
    this.event = EV_MESSAGE; // state stays R_TYPE, inMsg false
    return end;
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
    this.setAttrRun(sp, 0);
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
    if (this.lnLen == 0) {
      const j = this.fastInt(ptr, i, len);
      if (j >= 0) return j;
    }
    const from = i;
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (!this.intByte(b)) break;
    }
    this.pos += i - from;
    return i;
  }

  /**
   * A fresh integer/length line at ptr+i, whole in the window and plain (an optional '-', or '+' for
   * ':'; 1–18 digits; "\r\n"; within maxLineBytes): taken in one step through its '\n', returning
   * the new i. Otherwise -1, having changed nothing: the byte machine takes the line.
   */
  // @ts-ignore: decorator
  @inline
  private fastInt(ptr: usize, i: i32, len: i32): i32 {
    let j = i;
    let neg = false;
    const c0 = <i32>load<u8>(ptr + <usize>j);
    if (c0 == 0x2d) {
      neg = true;
      j++;
    } else if (c0 == 0x2b && this.lnType == 0x3a) j++;
    const d0 = j;
    let lim = len - d0;
    if (lim > 19) lim = 19; // 18 digits fit every check below; a 19th goes to the byte machine
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
    if (j - i > limMaxLineBytes(this.lim)) return -1;
    this.lnLen = j - i;
    this.lnNeg = neg;
    this.lnDigits = digits;
    this.lnVal = v;
    this.pos += j + 2 - i;
    this.intLine();
    return j + 2;
  }

  /** One byte of an integer line; false once the line is over (CR seen) or failed. */
  // @ts-ignore: decorator
  @inline
  private intByte(b: i32): bool {
    const t = this.lnType;
    if (b == CR) {
      if (!this.lnStreamed && this.lnDigits == 0) this.fail(E_NO_DIGITS);
      else this.expectLf(A_INT);
      return false;
    }
    const n = ++this.lnLen;
    if (n > limMaxLineBytes(this.lim)) {
      this.fail(E_INT_LONG);
      return false;
    }
    if (this.lnStreamed) {
      this.fail(E_INT_CHAR);
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
      this.fail(E_INT_CHAR);
      return false;
    }
    this.lnDigits++;
    const v = this.lnVal;
    const d = <u64>(b - 0x30);
    if (v > 1844674407370955161 || (v == 1844674407370955161 && d > 5)) {
      this.fail(E_INT_OVERFLOW);
      return false;
    }
    const nv = v * 10 + d;
    this.lnVal = nv;
    if (t == 0x3a && (this.lnNeg ? nv > 0x8000000000000000 : nv > 0x7fffffffffffffff)) {
      this.fail(E_INT_RANGE);
      return false;
    }
    return true;
  }

  private intLine(): void {
    const t = this.lnType;
    const v = this.lnVal;
    const neg = this.lnNeg;
    if (t == 0x3a) {
      if (this.sp == 1 && this.kindAt(0) != 0x7c) {
        this.lastIntV = neg ? -(<i64>v) : <i64>v;
        this.hasLastIntV = true;
      }
      this.valueDone();
      return;
    }
    const maxBulk = limMaxBulkBytes(this.lim);
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
        } else this.fail(E_NEGATIVE);
        return;
      }
      if (maxBulk < 0 || v > <u64>maxBulk) {
        this.fail(E_BULK_MAX);
        return;
      }
      if (t == 0x3d && v < 4) {
        this.fail(E_VERBATIM);
        return;
      }
      this.startBulk(t, <i64>v);
      return;
    }
    if (t == 0x3b) {
      // chunk of a streamed string; `;0` ends it
      if (neg) {
        this.fail(E_NEGATIVE);
        return;
      }
      if (v == 0) {
        this.valueDone();
        return;
      }
      if (maxBulk < 0 || v > <u64>maxBulk || <i64>v > maxBulk - this.strTotal) {
        this.fail(E_BULK_MAX);
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
      } else this.fail(E_NEGATIVE);
      return;
    }
    let n = v;
    if (t == 0x25 || t == 0x7c) {
      if (n > 0x7fffffffffffffff) {
        this.fail(E_MAP_OVERFLOW);
        return;
      }
      n <<= 1;
    }
    const maxEl = limMaxElements(this.lim);
    if (maxEl < 0 || n > <u64>maxEl) {
      this.fail(E_ELEMENTS);
      return;
    }
    const maxTotal = limMaxTotalElements(this.lim);
    if (<i64>n > maxTotal - this.total) {
      this.fail(E_TOTAL);
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
    let max = limMaxDepth(this.lim) - 1;
    if (max > this.depthCap) max = this.depthCap;
    if (sp >= max) {
      this.fail(E_DEPTH);
      return false;
    }
    store<u8>(this.kinds + <usize>sp, <u8>kind);
    this.setRem(sp, n);
    store<i64>(this.cnt + (<usize>sp << 3), 0);
    this.sp = sp + 1;
    this.setAttrRun(sp + 1, 0);
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
      const r = this.remAt(t);
      if (r < 0) {
        // streamed aggregate: count as we go
        const c = this.cntAt(t) + 1;
        store<i64>(this.cnt + (<usize>t << 3), c);
        if (c > limMaxElements(this.lim)) {
          this.fail(E_ELEMENTS);
          return;
        }
        if (this.total >= limMaxTotalElements(this.lim)) {
          this.fail(E_TOTAL);
          return;
        }
        this.total++;
        this.state = R_TYPE;
        return;
      }
      this.setRem(t, r - 1);
      if (r > 1) {
        this.state = R_TYPE;
        return;
      }
      this.sp = t;
      if (this.kindAt(t) == 0x7c) {
        this.state = R_TYPE; // an attribute is not an element: its value comes next
        return;
      }
      // the aggregate itself is a complete value of its parent
    }
  }

  private endStreamed(): void {
    const t = this.sp - 1; // typeByte checked that the top frame is streamed
    if (t < 0) {
      this.fail(E_TYPE);
      return;
    }
    if (this.kindAt(t) == 0x25 && (this.cntAt(t) & 1) != 0) {
      this.fail(E_ODD_MAP);
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
    else this.bulkDone();
  }

  // ---- payloads and lines -----------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private startBulk(t: i32, n: i64): void {
    this.bulkType = t;
    this.remaining = n;
    this.state = R_BULK;
  }

  /** A payload and its "\r\n" are complete. */
  // @ts-ignore: decorator
  @inline
  private bulkDone(): void {
    if (this.bulkType == 0x3b) this.state = R_CHUNK;
    else this.valueDone();
  }

  /** Payload bytes from ptr+i; returns the new i (past the "\r\n" too when both are in the window). */
  private bulk(ptr: usize, i: i32, len: i32): i32 {
    const p = ptr + <usize>i;
    const avail = len - i;
    const rem = this.remaining;
    const take = <i64>avail < rem ? avail : <i32>rem;
    const cap = this.cap;
    const want = cap.want();
    const look = <i64>take < want ? take : <i32>want;
    for (let j = 0; j < look; j++) {
      if (!cap.byte(<i32>load<u8>(p + <usize>j))) {
        this.pos += j + 1;
        this.fail(E_VERBATIM);
        return i + j + 1;
      }
    }
    if (take > look) cap.advance(take - look);
    this.pos += take;
    this.remaining = rem - take;
    i += take;
    if (this.remaining == 0) {
      this.state = R_BULK_CR;
      if (i + 1 < len && load<u16>(ptr + <usize>i) == 0x0a0d) {
        this.pos += 2;
        this.bulkDone();
        return i + 2;
      }
    }
    return i;
  }

  /** Bytes of a '+' / '-' line from ptr+i up to its '\r' (and its '\n' when in the window). */
  private textRun(ptr: usize, i: i32, len: i32): i32 {
    const from = i;
    const max = limMaxBulkBytes(this.lim);
    let n = this.textLen;
    let cr = false;
    while (i < len) {
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (b == CR) {
        cr = true;
        break;
      }
      if (++n > max) {
        this.fail(E_TEXT_LONG);
        break;
      }
      if (this.capturing) {
        const cap = this.cap;
        cap.byte(b);
        this.capturing = cap.want() > 0;
      }
    }
    this.textLen = n;
    this.pos += i - from;
    if (cr) {
      if (i < len && load<u8>(ptr + <usize>i) == LF) {
        this.pos++;
        this.valueDone();
        return i + 1;
      }
      this.expectLf(A_LEAF);
    }
    return i;
  }

  private doubleByte(b: i32): void {
    const dbl = this.dbl;
    if (b == CR) {
      if (dbl.complete()) this.expectLf(A_LEAF);
      else this.fail(E_DOUBLE);
      return;
    }
    const r = dbl.byte(b);
    if (r == DOUBLE_TOO_LONG) this.fail(E_DOUBLE_LONG);
    else if (r != DOUBLE_OK) this.fail(E_DOUBLE);
  }

  private bignumByte(b: i32): void {
    if (b == CR) {
      if (this.lnDigits == 0) this.fail(E_BIGNUM);
      else this.expectLf(A_LEAF);
      return;
    }
    const n = ++this.lnLen;
    if (n > MAX_BIGNUM) {
      this.fail(E_BIGNUM_LONG);
      return;
    }
    if (n == 1 && (b == 0x2b || b == 0x2d)) return;
    if (!isDigit(b)) {
      this.fail(E_BIGNUM);
      return;
    }
    this.lnDigits++;
  }

  private fail(reason: i32): void {
    this.reason = reason;
    this.state = R_ERROR;
    this.event = EV_ERROR;
  }
}
