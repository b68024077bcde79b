// A resumable Hessian 2.0 walker (specs/protocols.md §2.5): steps over exactly one value, fed in
// windows that may split it at any byte, and reads the few things a Dubbo body needs – a top-level
// string (captured as UTF-8), a top-level int, and the string pairs of a top-level map. Modelled on
// hiredis read.c: an explicit, bounded stack of open containers instead of recursion, so a hostile
// nesting costs a body error, never the VM.
//
// What it must know to skip correctly, and nothing more:
//   * string lengths count UTF-16 units, not bytes: lead bytes are scanned to find a string's end
//     (Java's surrogate pairs are 2 units of 3 bytes; a genuine 4-byte sequence counts 1 unit, as
//     hessian2-codec reads it – Java and hessian.js reject it, we accept it, §5.4 #13);
//   * chunked strings (`R`…) and binaries (`A`…) continue with another chunk of the same kind;
//   * `C` registers a class's field count (ClassTable) and is a prefix of the value that follows;
//     objects `O n` / `0x60+n` then carry that many values;
//   * typed lists/maps carry a type first (a string, or an int naming an earlier type); fixed lists a
//     count; variable lists and maps run to `Z`;
//   * `Q n` (a back-reference) is just its int: nothing is resolved.
// Binary payloads are known by length and are skippable(); nothing else is.
// `5F` is an int32 of milli-units in Java/hessian.js and a float32 in the Hessian spec text (§5.4
// #12); both are 4 bytes, which is all a walker needs.
//
// Speed: the walker is an @unmanaged struct in its owner's block (raw.ts), with its stack, class
// table, attachment slots and arena state next to it (hessian-reader.ts lays them out; its
// HessianReader is the managed wrapper for standalone use, DubboDecoder embeds the same layout).

import { CaptureArena } from "./capture";
import { ClassTable } from "./class-table";
import { Attachments } from "./attachments";
import { DescriptorCounter } from "./descriptor";
import { limMaxDepth, limMaxStringBytes, limMaxAttachments, limMaxClassDefs } from "./limits";
import {
  R_NONE,
  H_RESERVED,
  H_UTF8,
  H_STR_CHUNK,
  H_BIN_CHUNK,
  H_END,
  H_ODD_MAP,
  H_NOT_STRING,
  H_NOT_INT,
  H_NOT_TYPE,
  H_LENGTH,
  H_CLASS,
  H_CLASSDEFS,
  H_DEPTH,
  H_STRING_LONG,
  H_ATTACHMENTS,
  reasonText,
} from "./reasons";

// status()
export const W_MORE: i32 = 0;
export const W_DONE: i32 = 1;
export const W_FAIL: i32 = 2;

// what the top-level value must be
export const X_ANY: i32 = 0;
export const X_STRING: i32 = 1; // a string or null
export const X_INT: i32 = 2; // an int or long

// what the top-level value was (kind())
export const K_NONE: i32 = 0;
export const K_STRING: i32 = 1;
export const K_NULL: i32 = 2;
export const K_INT: i32 = 3; // int or long forms
export const K_MAP: i32 = 4; // `H` or `M`
export const K_OTHER: i32 = 5;

// what is captured
export const CAP_NONE: i32 = 0;
/** A top-level string: kept truncated when too long. */
export const CAP_STRING: i32 = 1;
/** A top-level string that must fit: too long is a failure (request metadata). */
export const CAP_STRICT: i32 = 2;
/** The string (key, value) pairs of a top-level map, into an Attachments table. */
export const CAP_ATTACHMENTS: i32 = 3;

const P_VALUE: i32 = 0; // first byte of a value or production
const P_FIXED: i32 = 1; // `need` more bytes of a fixed-size token
const P_CHARS: i32 = 2; // characters of a string chunk
const P_BYTES: i32 = 3; // bytes of a binary chunk
export const P_DONE: i32 = 4;
const P_FAIL: i32 = 5;

// what a position takes
const SL_VALUE: i32 = 0;
const SL_INT: i32 = 1; // counts and indices: int (or long) forms
const SL_TYPE: i32 = 2; // a type: string, or int reference
const SL_STRING: i32 = 3; // class and field names

// open containers (stack frames: kind u8 @0, step u8 @1, left i64 @8)
const FK_MAP: u8 = 1; // H, or M after its type: key value … Z (step: 0 key next, 1 value next)
const FK_MAP_T: u8 = 2; // M: type first
const FK_VLIST: u8 = 3; // W, or U after its type: values … Z
const FK_VLIST_T: u8 = 4; // U: type first
const FK_LIST: u8 = 5; // `left` values (fixed lists, object fields)
const FK_V: u8 = 6; // V: type (step 0), then count (step 1)
const FK_LIST_T: u8 = 7; // 0x70–0x77: type, then `left` values
const FK_X: u8 = 8; // X: count
const FK_OBJ: u8 = 9; // O: class index
const FK_CDEF: u8 = 10; // C: name (step 0), field count (step 1), `left` field names (step 2)
const FK_REF: u8 = 11; // Q: index
export const FRAME: i32 = 16;
export const DEPTH_CAP_MAX: i32 = 4096;

// fixed-size tokens
const T_SKIP: i32 = 0; // doubles, dates: value not needed
const T_INT_C: i32 = 1; // C0–CF + 1
const T_INT_D: i32 = 2; // D0–D7 + 2
const T_INT32: i32 = 3; // I, Y + 4
const T_LONG_F: i32 = 4; // F0–FF + 1
const T_LONG_3: i32 = 5; // 38–3F + 2
const T_LONG64: i32 = 6; // L + 8
const T_STRLEN1: i32 = 7; // 30–33 + 1
const T_STRLEN2: i32 = 8; // R, S + 2
const T_BINLEN1: i32 = 9; // 34–37 + 1
const T_BINLEN2: i32 = 10; // A, B + 2

// a chunk of this kind must follow
const CONT_NONE: i32 = 0;
const CONT_STR: i32 = 1;
const CONT_BIN: i32 = 2;

// @ts-ignore: decorator
@inline
function isStr(b: i32): bool {
  return b <= 0x1f || (b >= 0x30 && b <= 0x33) || b == 0x52 || b == 0x53;
}
// @ts-ignore: decorator
@inline
function isInt(b: i32): bool {
  return (b >= 0x80 && b <= 0xd7) || b == 0x49;
}
// @ts-ignore: decorator
@inline
function isLong(b: i32): bool {
  return b >= 0xd8 || (b >= 0x38 && b <= 0x3f) || b == 0x59 || b == 0x4c;
}

// @ts-ignore: decorator
@unmanaged
export class HessianWalker {
  // wiring (set by placeWalker)
  lim: usize; // the DubboLimits, held by the owner
  arena: CaptureArena;
  classes: ClassTable;
  attachments: Attachments;
  desc: DescriptorCounter;
  stack: usize; // FRAME bytes × depthCap
  depthCap: i32;
  // top-level value
  intV: i64;
  acc: u64;
  binLeft: i64;
  reasonCode: i32; // reasons.ts, R_NONE for none
  phase: i32;
  expect: i32;
  capMode: i32;
  kindV: i32;
  sp: i32;
  // token in progress
  tok: i32;
  tokFirst: i32;
  need: i32;
  cont: i32;
  units: i32; // characters left in the string chunk
  charNeed: i32; // continuation bytes left in the character
  cpV: i32;
  // capture
  capOff: i32;
  capLen: i32;
  // attachments: the pair being read at depth 1 of the top-level map
  pairStart: i32;
  keyOff: i32;
  keyLen: i32;
  countDesc: bool;
  strFinal: bool;
  binFinal: bool;
  capturing: bool;
  capOver: bool;
  childStr: bool;
  keyOk: bool;
  keyOver: bool;

  /** Starts one top-level value. */
  begin(expect: i32, capMode: i32, countDesc: bool): void {
    this.phase = P_VALUE;
    this.reasonCode = R_NONE;
    this.expect = expect;
    this.capMode = capMode;
    this.countDesc = countDesc;
    this.kindV = K_NONE;
    this.intV = 0;
    this.sp = 0;
    this.cont = CONT_NONE;
    this.capturing = false;
    this.capOff = 0;
    this.capLen = 0;
    this.capOver = false;
    this.childStr = false;
    this.keyOk = false;
    this.keyOver = false;
  }

  /** Consumes bytes of the value from [ptr, ptr+len); stops after its last byte or a failure. */
  feed(ptr: usize, len: i32): i32 {
    let i = 0;
    while (i < len) {
      const ph = this.phase;
      if (ph == P_VALUE) {
        const b = <i32>load<u8>(ptr + <usize>i);
        i++;
        this.first(b);
      } else if (ph == P_CHARS) {
        i = this.capturing ? this.charsCaptured(ptr, i, len) : this.chars(ptr, i, len);
      } else if (ph == P_BYTES) {
        const left = this.binLeft;
        const take = <i64>(len - i) < left ? len - i : <i32>left;
        i += take;
        this.binLeft = left - take;
        if (this.binLeft == 0) this.binEnd();
      } else if (ph == P_FIXED) {
        i = this.fixed(ptr, i, len);
      } else break;
    }
    return i;
  }

  /** Binary payload bytes that may be stepped over without being fed. */
  skippable(): i64 {
    return this.phase == P_BYTES ? this.binLeft : 0;
  }

  /** Steps over n ≤ skippable() bytes. */
  skip(n: i64): void {
    if (this.phase != P_BYTES || n <= 0 || n > this.binLeft) return;
    this.binLeft -= n;
    if (this.binLeft == 0) this.binEnd();
  }

  /**
   * Bytes worth fetching before something skippable may follow: the rest of a binary chunk header
   * (a 3-byte `A`/`B` header between Java's 8–32 KiB chunks), else 0 (no preference).
   */
  fetchHint(): i32 {
    const ph = this.phase;
    if (ph == P_VALUE && this.cont == CONT_BIN) return 3;
    if (ph == P_FIXED && (this.tok == T_BINLEN1 || this.tok == T_BINLEN2)) return this.need;
    return 0;
  }

  status(): i32 {
    const ph = this.phase;
    return ph == P_DONE ? W_DONE : ph == P_FAIL ? W_FAIL : W_MORE;
  }
  /** Inside a value (started and neither complete nor failed). */
  busy(): bool {
    return this.phase < P_DONE;
  }
  reason(): string {
    return reasonText(this.reasonCode);
  }
  kind(): i32 {
    return this.kindV;
  }
  /** The top-level int (K_INT). */
  intValue(): i64 {
    return this.intV;
  }
  /** The captured top-level string: arena offset, length, and whether it was cut. */
  capturedOff(): i32 {
    return this.capOff;
  }
  capturedLen(): i32 {
    return this.capLen;
  }
  capturedOver(): bool {
    return this.capOver;
  }

  // ---- stack ------------------------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private frame(t: i32): usize {
    return this.stack + <usize>(t * FRAME);
  }
  // @ts-ignore: decorator
  @inline
  private kindAt(t: i32): u8 {
    return load<u8>(this.frame(t));
  }
  // @ts-ignore: decorator
  @inline
  private stepAt(t: i32): u8 {
    return load<u8>(this.frame(t), 1);
  }
  // @ts-ignore: decorator
  @inline
  private leftAt(t: i32): i64 {
    return load<i64>(this.frame(t), 8);
  }
  // @ts-ignore: decorator
  @inline
  private set(t: i32, kind: u8, step: u8, left: i64): void {
    const f = this.frame(t);
    store<u8>(f, kind);
    store<u8>(f, step, 1);
    store<i64>(f, left, 8);
  }

  private push(kind: u8, left: i64): void {
    const sp = this.sp;
    let cap = limMaxDepth(this.lim);
    if (cap > this.depthCap) cap = this.depthCap;
    if (sp >= cap) {
      this.fail(H_DEPTH);
      return;
    }
    this.set(sp, kind, 0, left);
    this.sp = sp + 1;
    this.phase = P_VALUE;
  }

  /** What the next item of the innermost container is. */
  // @ts-ignore: decorator
  @inline
  private slot(): i32 {
    const sp = this.sp;
    if (sp == 0) return SL_VALUE;
    const t = sp - 1;
    switch (this.kindAt(t)) {
      case FK_MAP_T:
      case FK_VLIST_T:
      case FK_LIST_T:
        return SL_TYPE;
      case FK_V:
        return this.stepAt(t) == 0 ? SL_TYPE : SL_INT;
      case FK_X:
      case FK_OBJ:
      case FK_REF:
        return SL_INT;
      case FK_CDEF:
        return this.stepAt(t) == 1 ? SL_INT : SL_STRING;
    }
    return SL_VALUE;
  }

  // ---- first byte ---------------------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private first(b: i32): void {
    const cont = this.cont;
    if (cont != CONT_NONE) {
      this.cont = CONT_NONE;
      if (cont == CONT_STR) this.strChunkStart(b);
      else this.binChunkStart(b);
      return;
    }
    const sp = this.sp;
    let capture = false;
    if (sp == 0) {
      const x = this.expect;
      if (x == X_STRING && !(isStr(b) || b == 0x4e)) {
        this.fail(H_NOT_STRING);
        return;
      }
      if (x == X_INT && !(isInt(b) || isLong(b))) {
        this.fail(H_NOT_INT);
        return;
      }
      if (b != 0x43) this.kindV = topKind(b);
      const m = this.capMode;
      capture = m == CAP_STRING || m == CAP_STRICT;
    } else {
      const slot = this.slot();
      if (slot == SL_STRING) {
        if (!isStr(b)) {
          this.fail(H_NOT_STRING);
          return;
        }
      } else if (slot == SL_INT) {
        if (!isInt(b) && !isLong(b)) {
          this.fail(H_NOT_INT);
          return;
        }
      } else if (slot == SL_TYPE) {
        if (!isStr(b) && !isInt(b)) {
          this.fail(H_NOT_TYPE);
          return;
        }
      } else if (sp == 1 && this.capMode == CAP_ATTACHMENTS && this.kindAt(0) == FK_MAP) {
        // a key or value of the attachments map
        const str = isStr(b);
        this.childStr = str;
        if (this.stepAt(0) == 0) this.pairStart = this.arena.used;
        capture = str;
      }
    }
    this.dispatch(b, capture);
  }

  // @ts-ignore: decorator
  @inline
  private dispatch(b: i32, capture: bool): void {
    if (b <= 0x1f) {
      this.strBegin(capture);
      this.strChunk(b, true);
      return;
    }
    if (b <= 0x2f) {
      this.binChunk(b - 0x20, true);
      return;
    }
    if (b <= 0x33) {
      this.strBegin(capture);
      this.fixedStart(T_STRLEN1, 1, b);
      return;
    }
    if (b <= 0x37) {
      this.fixedStart(T_BINLEN1, 1, b);
      return;
    }
    if (b <= 0x3f) {
      this.fixedStart(T_LONG_3, 2, b);
      return;
    }
    if (b <= 0x5f) {
      switch (b) {
        case 0x41: // A binary chunk
        case 0x42: // B final binary chunk
          this.fixedStart(T_BINLEN2, 2, b);
          return;
        case 0x43: // C class definition: a prefix of the value that follows
          this.push(FK_CDEF, 0);
          return;
        case 0x44: // D double
        case 0x4a: // J date (ms)
          this.fixedStart(T_SKIP, 8, b);
          return;
        case 0x4b: // K date (minutes)
        case 0x5f: // double, int32 milli-units (Java) / float32 (spec)
          this.fixedStart(T_SKIP, 4, b);
          return;
        case 0x5d: // double from int8
          this.fixedStart(T_SKIP, 1, b);
          return;
        case 0x5e: // double from int16
          this.fixedStart(T_SKIP, 2, b);
          return;
        case 0x46: // F
        case 0x54: // T
        case 0x4e: // N
        case 0x5b: // double 0.0
        case 0x5c: // double 1.0
          this.valueDone();
          return;
        case 0x48: // H untyped map
          this.push(FK_MAP, 0);
          return;
        case 0x49: // I int32
        case 0x59: // Y long as int32
          this.fixedStart(T_INT32, 4, b);
          return;
        case 0x4c: // L int64
          this.fixedStart(T_LONG64, 8, b);
          return;
        case 0x4d: // M typed map
          this.push(FK_MAP_T, 0);
          return;
        case 0x4f: // O object, class index follows
          this.push(FK_OBJ, 0);
          return;
        case 0x51: // Q back-reference
          this.push(FK_REF, 0);
          return;
        case 0x52: // R string chunk
        case 0x53: // S final string chunk
          this.strBegin(capture);
          this.fixedStart(T_STRLEN2, 2, b);
          return;
        case 0x55: // U variable typed list
          this.push(FK_VLIST_T, 0);
          return;
        case 0x56: // V fixed typed list
          this.push(FK_V, 0);
          return;
        case 0x57: // W variable untyped list
          this.push(FK_VLIST, 0);
          return;
        case 0x58: // X fixed untyped list
          this.push(FK_X, 0);
          return;
        case 0x5a: // Z
          this.endMarker();
          return;
      }
      this.fail(H_RESERVED); // 40, 45 E, 47 G, 50 P
      return;
    }
    if (b <= 0x6f) {
      this.object(<i64>(b - 0x60));
      return;
    }
    if (b <= 0x77) {
      this.push(FK_LIST_T, <i64>(b - 0x70));
      return;
    }
    if (b <= 0x7f) {
      const n = b - 0x78;
      if (n == 0) this.valueDone();
      else this.push(FK_LIST, <i64>n);
      return;
    }
    if (b <= 0xbf) {
      this.intDone(<i64>(b - 0x90));
      return;
    }
    if (b <= 0xcf) {
      this.fixedStart(T_INT_C, 1, b);
      return;
    }
    if (b <= 0xd7) {
      this.fixedStart(T_INT_D, 2, b);
      return;
    }
    if (b <= 0xef) {
      this.intDone(<i64>(b - 0xe0));
      return;
    }
    this.fixedStart(T_LONG_F, 1, b);
  }

  private endMarker(): void {
    const sp = this.sp;
    if (sp == 0) {
      this.fail(H_END);
      return;
    }
    const t = sp - 1;
    const k = this.kindAt(t);
    if (k == FK_MAP && this.stepAt(t) != 0) {
      this.fail(H_ODD_MAP);
      return;
    }
    if (k != FK_MAP && k != FK_VLIST) {
      this.fail(H_END);
      return;
    }
    this.sp = t;
    this.valueDone();
  }

  private object(idx: i64): void {
    const nf = this.classes.fieldsOf(idx);
    if (nf < 0) {
      this.fail(H_CLASS);
      return;
    }
    if (nf == 0) this.valueDone();
    else this.push(FK_LIST, <i64>nf);
  }

  // ---- fixed-size tokens --------------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private fixedStart(tok: i32, need: i32, first: i32): void {
    this.tok = tok;
    this.need = need;
    this.tokFirst = first;
    this.acc = 0;
    this.phase = P_FIXED;
  }

  private fixed(ptr: usize, i: i32, len: i32): i32 {
    let need = this.need;
    let acc = this.acc;
    while (need > 0 && i < len) {
      acc = (acc << 8) | <u64>load<u8>(ptr + <usize>i);
      i++;
      need--;
    }
    this.need = need;
    this.acc = acc;
    if (need == 0) this.fixedDone(acc);
    return i;
  }

  private fixedDone(acc: u64): void {
    const f = <i64>this.tokFirst;
    const a = <i64>acc;
    switch (this.tok) {
      case T_SKIP:
        this.valueDone();
        return;
      case T_INT_C:
        this.intDone(((f - 0xc8) << 8) + a);
        return;
      case T_INT_D:
        this.intDone(((f - 0xd4) << 16) + a);
        return;
      case T_INT32:
        this.intDone(<i64>(<i32>(<u32>acc)));
        return;
      case T_LONG_F:
        this.intDone(((f - 0xf8) << 8) + a);
        return;
      case T_LONG_3:
        this.intDone(((f - 0x3c) << 16) + a);
        return;
      case T_LONG64:
        this.intDone(a);
        return;
      case T_STRLEN1:
        this.strChunk(<i32>(((f - 0x30) << 8) + a), true);
        return;
      case T_STRLEN2:
        this.strChunk(<i32>a, f == 0x53);
        return;
      case T_BINLEN1:
        this.binChunk(<i32>(((f - 0x34) << 8) + a), true);
        return;
      case T_BINLEN2:
        this.binChunk(<i32>a, f == 0x42);
        return;
    }
  }

  // ---- ints: values, counts, indices ----------------------------------------------------------------

  private intDone(v: i64): void {
    const sp = this.sp;
    if (sp == 0) {
      this.intV = v;
      this.valueDone();
      return;
    }
    if (this.slot() != SL_INT) {
      this.valueDone(); // an int value, or a type given by reference
      return;
    }
    const t = sp - 1;
    const k = this.kindAt(t);
    if (k == FK_REF) {
      this.sp = t;
      this.valueDone();
      return;
    }
    if (v < 0 || v > 0x7fffffff) {
      this.fail(k == FK_OBJ ? H_CLASS : H_LENGTH);
      return;
    }
    if (k == FK_CDEF) {
      const limit = limMaxClassDefs(this.lim);
      if (!this.classes.add(<i32>v, limit)) {
        this.fail(H_CLASSDEFS);
        return;
      }
      if (v == 0) {
        this.sp = t; // the definition is complete; its value comes next
        this.phase = P_VALUE;
      } else {
        this.set(t, FK_CDEF, 2, v);
        this.phase = P_VALUE;
      }
      return;
    }
    let n = v;
    if (k == FK_OBJ) {
      const nf = this.classes.fieldsOf(v);
      if (nf < 0) {
        this.fail(H_CLASS);
        return;
      }
      n = <i64>nf;
    }
    // FK_V (count), FK_X, FK_OBJ: that many values follow
    if (n == 0) {
      this.sp = t;
      this.valueDone();
      return;
    }
    this.set(t, FK_LIST, 0, n);
    this.phase = P_VALUE;
  }

  // ---- completion -----------------------------------------------------------------------------------

  /** The item at the current position is complete: advance its container, close finished ones. */
  private valueDone(): void {
    this.phase = P_VALUE;
    while (true) {
      const sp = this.sp;
      if (sp == 0) {
        this.phase = P_DONE;
        return;
      }
      const t = sp - 1;
      switch (this.kindAt(t)) {
        case FK_MAP: {
          const step = this.stepAt(t);
          if (t == 0 && this.capMode == CAP_ATTACHMENTS) this.pairItem(step == 0);
          store<u8>(this.frame(t), step ^ 1, 1);
          return;
        }
        case FK_VLIST:
          return;
        case FK_LIST: {
          const left = this.leftAt(t) - 1;
          if (left > 0) {
            store<i64>(this.frame(t), left, 8);
            return;
          }
          this.sp = t; // the list (or object) is a complete value of its parent
          continue;
        }
        case FK_MAP_T:
          this.set(t, FK_MAP, 0, 0);
          return;
        case FK_VLIST_T:
          this.set(t, FK_VLIST, 0, 0);
          return;
        case FK_LIST_T: {
          const n = this.leftAt(t);
          if (n == 0) {
            this.sp = t;
            continue;
          }
          this.set(t, FK_LIST, 0, n);
          return;
        }
        case FK_V:
          store<u8>(this.frame(t), 1, 1); // type read, count next
          return;
        case FK_CDEF: {
          if (this.stepAt(t) == 0) {
            store<u8>(this.frame(t), 1, 1); // name read, field count next
            return;
          }
          const left = this.leftAt(t) - 1;
          if (left > 0) {
            store<i64>(this.frame(t), left, 8);
            return;
          }
          this.sp = t; // definition complete: not a value, the parent still expects one
          return;
        }
      }
      this.fail(H_NOT_INT); // counts and indices end in intDone(), never here
      return;
    }
  }

  /** A key (isKey) or value of the attachments map is complete. */
  private pairItem(isKey: bool): void {
    const arena = this.arena;
    const str = this.childStr;
    this.childStr = false;
    if (isKey) {
      this.keyOk = str && !this.capOver;
      this.keyOver = str && this.capOver;
      this.keyOff = this.capOff;
      this.keyLen = this.capLen;
      return;
    }
    const att = this.attachments;
    if (this.keyOk && str && !this.capOver) {
      if (!att.add(arena, this.keyOff, this.keyLen, this.capOff, this.capLen, limMaxAttachments(this.lim))) {
        this.fail(H_ATTACHMENTS);
      }
      return;
    }
    if (this.keyOver || (str && this.capOver)) att.truncated = true;
    arena.rewind(this.pairStart);
  }

  // ---- strings --------------------------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private strBegin(capture: bool): void {
    this.capturing = capture;
    if (capture) {
      const limit = limMaxStringBytes(this.lim);
      this.capOff = this.arena.begin(limit);
      this.capLen = 0;
      this.capOver = false;
      if (this.countDesc) this.desc.reset();
    }
  }

  private strChunkStart(b: i32): void {
    if (b <= 0x1f) this.strChunk(b, true);
    else if (b >= 0x30 && b <= 0x33) this.fixedStart(T_STRLEN1, 1, b);
    else if (b == 0x52 || b == 0x53) this.fixedStart(T_STRLEN2, 2, b);
    else this.fail(H_STR_CHUNK);
  }

  // @ts-ignore: decorator
  @inline
  private strChunk(units: i32, final: bool): void {
    this.units = units;
    this.strFinal = final;
    this.charNeed = 0;
    if (units == 0) this.chunkEnd();
    else this.phase = P_CHARS;
  }

  private chunkEnd(): void {
    if (!this.strFinal) {
      this.cont = CONT_STR;
      this.phase = P_VALUE;
      return;
    }
    if (this.capturing) {
      this.capturing = false;
      this.capLen = this.arena.end();
      this.capOver = this.arena.over;
      if (this.capOver && this.capMode == CAP_STRICT && this.sp == 0) {
        this.fail(H_STRING_LONG);
        return;
      }
    }
    this.valueDone();
  }

  /** Characters of a chunk that is not kept: only lead bytes matter. */
  private chars(ptr: usize, i: i32, len: i32): i32 {
    let units = this.units;
    let need = this.charNeed;
    while (i < len) {
      if (need > 0) {
        const avail = len - i;
        if (avail < need) {
          need -= avail;
          i = len;
          break;
        }
        i += need;
        need = 0;
        if (--units == 0) break;
        continue;
      }
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (b < 0x80) {
        if (--units == 0) break;
        continue;
      }
      if ((b & 0xe0) == 0xc0) need = 1;
      else if ((b & 0xf0) == 0xe0) need = 2;
      else if ((b & 0xf8) == 0xf0) need = 3;
      else {
        this.fail(H_UTF8);
        return i;
      }
    }
    this.units = units;
    this.charNeed = need;
    if (units == 0) this.chunkEnd();
    return i;
  }

  /** Characters of a kept chunk: decoded to code points for the arena (and the descriptor count). */
  private charsCaptured(ptr: usize, i: i32, len: i32): i32 {
    let units = this.units;
    let need = this.charNeed;
    let cp = this.cpV;
    const arena = this.arena;
    const desc = this.countDesc && this.sp == 0;
    while (i < len) {
      if (need == 0 && load<u8>(ptr + <usize>i) < 0x80) {
        // a run of ASCII characters is copied while it is scanned
        const n = arena.asciiRun(ptr + <usize>i, len - i < units ? len - i : units);
        if (desc) this.desc.run(ptr + <usize>i, n);
        units -= n;
        i += n;
        if (units == 0) break;
        continue;
      }
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      if (need > 0) {
        cp = (cp << 6) | (b & 0x3f);
        if (--need > 0) continue;
      } else if (b < 0x80) {
        cp = b;
      } else if ((b & 0xe0) == 0xc0) {
        cp = b & 0x1f;
        need = 1;
        continue;
      } else if ((b & 0xf0) == 0xe0) {
        cp = b & 0x0f;
        need = 2;
        continue;
      } else if ((b & 0xf8) == 0xf0) {
        cp = b & 0x07;
        need = 3;
        continue;
      } else {
        this.fail(H_UTF8);
        return i;
      }
      arena.cp(cp);
      if (desc) this.desc.char(cp);
      if (--units == 0) break;
    }
    this.units = units;
    this.charNeed = need;
    this.cpV = cp;
    if (arena.over && this.capMode == CAP_STRICT && this.sp == 0) {
      this.fail(H_STRING_LONG); // no need to read the rest of a string we will not keep
      return i;
    }
    if (units == 0) this.chunkEnd();
    return i;
  }

  // ---- binaries -------------------------------------------------------------------------------------

  private binChunkStart(b: i32): void {
    if (b >= 0x20 && b <= 0x2f) this.binChunk(b - 0x20, true);
    else if (b >= 0x34 && b <= 0x37) this.fixedStart(T_BINLEN1, 1, b);
    else if (b == 0x41 || b == 0x42) this.fixedStart(T_BINLEN2, 2, b);
    else this.fail(H_BIN_CHUNK);
  }

  // @ts-ignore: decorator
  @inline
  private binChunk(n: i32, final: bool): void {
    this.binLeft = <i64>n;
    this.binFinal = final;
    if (n == 0) this.binEnd();
    else this.phase = P_BYTES;
  }

  private binEnd(): void {
    if (this.binFinal) {
      this.valueDone();
      return;
    }
    this.cont = CONT_BIN;
    this.phase = P_VALUE;
  }

  private fail(reason: i32): void {
    this.reasonCode = reason;
    this.phase = P_FAIL;
    if (this.capturing) {
      this.capturing = false;
      this.arena.end();
    }
  }
}

/** Kind of a top-level value from its first byte (not `C`, which is a prefix). */
function topKind(b: i32): i32 {
  if (isStr(b)) return K_STRING;
  if (b == 0x4e) return K_NULL;
  if (isInt(b) || isLong(b)) return K_INT;
  if (b == 0x48 || b == 0x4d) return K_MAP;
  return K_OTHER;
}
