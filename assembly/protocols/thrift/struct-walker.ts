// Walks one Thrift struct (a message body) without recursion and without keeping it
// (specs/protocols.md §1.7): an explicit stack of open structs/lists/sets/maps, bounded by the depth
// limit, and a byte budget (`left`: what is left of the frame, or of the unframed message budget).
// Every token may be split between windows; string/binary payloads are walked by length and may be
// skipped. Binary and compact share the stack; per-struct compact `last_id` lives on it.
//
// Because every element costs at least one byte on the wire, a declared count or length larger than
// the budget is rejected when its header is read, so a hostile `n = 0x7FFFFFFF` costs nothing.
//
// Besides finding the end, the walker sees what the decoder classifies replies with: the first field
// header of the outer struct (Envoy peekReplyPayload) and, for EXCEPTION bodies, field 2 (i32 type)
// of the TApplicationException. In peek mode it stops right after that first field header.
//
// Accepted beyond Envoy (§5.4): negative field ids (the IDL compiler generates them), UUID (binary 16,
// compact 13, 16 raw bytes), any byte as a compact bool element (2 = false), 0xF0 as compact STOP.

import { Varint, VARINT_DONE, VARINT_TOO_LONG } from "./varint";
import {
  T_STOP,
  T_BOOL,
  T_BYTE,
  T_DOUBLE,
  T_I16,
  T_I32,
  T_I64,
  T_STRING,
  T_STRUCT,
  T_MAP,
  T_SET,
  T_LIST,
  T_UUID,
  C_BOOL_TRUE,
  C_BOOL_FALSE,
  C_BYTE,
  C_I16,
  C_I32,
  C_I64,
  C_DOUBLE,
  C_BINARY,
  C_LIST,
  C_SET,
  C_MAP,
  C_STRUCT,
  C_UUID,
  isBinaryType,
  isCompactType,
  zigzag32,
} from "./types";

const W_FIELD: i32 = 0; // field header: type byte (or STOP)
const W_FIELD_ID: i32 = 1; // binary: 2-byte field id
const W_CFIELD_ID: i32 = 2; // compact long form: zigzag varint id
const W_FIXED: i32 = 3; // fixed-width scalar
const W_VARINT: i32 = 4; // compact integer
const W_LEN: i32 = 5; // binary string length
const W_CLEN: i32 = 6; // compact string length
const W_BYTES: i32 = 7; // string payload
const W_LIST: i32 = 8; // binary list/set header (5 bytes)
const W_CLIST: i32 = 9; // compact list/set header byte
const W_CLIST_N: i32 = 10; // compact long list size
const W_MAP: i32 = 11; // binary map header (6 bytes)
const W_CMAP_N: i32 = 12; // compact map size
const W_CMAP_T: i32 = 13; // compact map key/value types
const W_DONE: i32 = 14;
const W_ERROR: i32 = 15;

const K_STRUCT: u8 = 0;
const K_LIST: u8 = 1;
const K_MAP: u8 = 2;

/** Upper bound for the stack, whatever maxDepth says. */
export const DEPTH_CAP_MAX: i32 = 4096;

export class StructWalker {
  reason: string = "";
  /** The outer struct's first field header has been read. */
  firstSeen: bool = false;
  /** ... and it was STOP (an empty struct: a void reply). */
  firstStop: bool = false;
  firstId: i32 = 0;
  /** TApplicationException field 2 (i32), 0 when absent (Node 0.24 omits it, §1.8). */
  appType: i32 = 0;

  private state: i32 = W_DONE;
  private compact: bool = false;
  private peek: bool = false;
  private wantAppType: bool = false;
  private maxDepth: i32 = 0;
  private left: i64 = 0;
  private overrun: string = "";
  // stack of open containers
  private readonly kinds: StaticArray<u8>;
  private readonly rems: StaticArray<i64>; // elements still due (a map counts keys and values)
  private readonly etypes: StaticArray<u8>; // list element / map key type
  private readonly vtypes: StaticArray<u8>; // map value type
  private readonly lastIds: StaticArray<i32>; // compact: last field id of each open struct
  private sp: i32 = 0;
  // the token being read
  private acc: u64 = 0;
  private accN: i32 = 0;
  private need: i32 = 0;
  private fieldType: i32 = 0;
  private hdrType: i32 = 0;
  private hdrType2: i32 = 0;
  private mapN: i32 = 0;
  private capInt: bool = false;
  private remaining: i64 = 0;
  private readonly vi: Varint = new Varint();

  constructor(maxDepth: i32) {
    let n = maxDepth < 1 ? 1 : maxDepth;
    if (n > DEPTH_CAP_MAX) n = DEPTH_CAP_MAX;
    this.kinds = new StaticArray<u8>(n);
    this.rems = new StaticArray<i64>(n);
    this.etypes = new StaticArray<u8>(n);
    this.vtypes = new StaticArray<u8>(n);
    this.lastIds = new StaticArray<i32>(n);
  }

  /**
   * Starts at the first field header of a message's struct. `left` bounds the bytes the walk may
   * take (running out is reported as `overrun`); peek: stop after the first field header;
   * wantAppType: capture field 2 (i32) of the outer struct.
   */
  begin(compact: bool, maxDepth: i32, left: i64, overrun: string, peek: bool, wantAppType: bool): void {
    this.compact = compact;
    this.maxDepth = maxDepth < this.kinds.length ? maxDepth : this.kinds.length;
    this.left = left;
    this.overrun = overrun;
    this.peek = peek;
    this.wantAppType = wantAppType;
    this.reason = "";
    this.firstSeen = false;
    this.firstStop = false;
    this.firstId = 0;
    this.appType = 0;
    this.capInt = false;
    this.sp = 0;
    this.pushStruct();
  }

  get done(): bool {
    return this.state == W_DONE;
  }
  get failed(): bool {
    return this.state == W_ERROR;
  }

  /** Consumes up to len bytes; stops at the end of the struct (or the first field in peek mode). */
  feed(ptr: usize, len: i32): i32 {
    let i = 0;
    const lim = <i64>len < this.left ? len : <i32>this.left;
    while (i < lim && this.state < W_DONE) {
      if (this.state == W_BYTES) {
        i += this.bytesRun(lim - i);
        continue;
      }
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      this.left--;
      this.step(b);
    }
    if (this.state < W_DONE && this.left <= 0) this.fail(this.overrun);
    return i;
  }

  /**
   * Fast path of a peek walk (a REPLY's first field header), before any byte was fed: when
   * [ptr, ptr+len) holds the whole field header, a valid one within the bytes the walk may use,
   * reads it in one pass and returns its length, leaving the walker exactly as feed() would (done).
   * Otherwise returns 0 and changes nothing: the caller feeds the bytes.
   */
  peekWhole(ptr: usize, len: i32): i32 {
    if (!this.peek || this.state != W_FIELD || this.sp != 1 || this.firstSeen) return 0;
    const avail: i64 = <i64>len < this.left ? <i64>len : this.left;
    if (avail < 1) return 0;
    const b = <i32>load<u8>(ptr);
    let n: i32 = 1;
    let id: i32 = 0;
    let stop = false;
    if (!this.compact) {
      if (b == T_STOP) stop = true;
      else {
        if (!isBinaryType(b) || avail < 3) return 0;
        id = <i32>(<i16>bswap<u16>(load<u16>(ptr, 1)));
        n = 3;
      }
    } else {
      const t = b & 15;
      if (t == 0) stop = true;
      else {
        if (!isCompactType(t)) return 0;
        const delta = b >> 4;
        if (delta != 0) id = <i32>(<i16>(unchecked(this.lastIds[0]) + delta));
        else {
          // long form: zigzag varint id (≤ 5 bytes)
          let v: u64 = 0;
          let k: i32 = 0;
          while (true) {
            if (k == 5 || <i64>n >= avail) return 0;
            const c = <i32>load<u8>(ptr + <usize>n);
            v |= <u64>(c & 0x7f) << <u64>(7 * k);
            n++;
            k++;
            if ((c & 0x80) == 0) break;
          }
          id = zigzag32(<u32>v);
          if (id < -32768 || id > 32767) return 0;
        }
        unchecked((this.lastIds[0] = id));
      }
    }
    this.firstSeen = true;
    if (stop) {
      this.firstStop = true;
      this.sp = 0;
    } else this.firstId = id;
    this.left -= n;
    this.state = W_DONE;
    return n;
  }

  /** Payload bytes of the current string; the last one is always fed so values end in feed(). */
  skippable(): i64 {
    return this.state == W_BYTES ? this.remaining - 1 : 0;
  }

  /** Accounts for n ≤ skippable() bytes not fed. */
  skip(n: i64): void {
    this.remaining -= n;
    this.left -= n;
  }

  private step(b: i32): void {
    switch (this.state) {
      case W_FIELD:
        this.fieldByte(b);
        return;
      case W_FIELD_ID:
        this.acc = (this.acc << 8) | <u64>b;
        if (++this.accN == 2) this.fieldBegin(this.fieldType, <i32>(<i16>this.acc));
        return;
      case W_CFIELD_ID: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) this.fail("invalid compact protocol zig-zag i32");
        else if (r == VARINT_DONE) {
          const id = zigzag32(<u32>this.vi.value);
          if (id < -32768 || id > 32767) this.fail("invalid compact protocol field id");
          else this.fieldBegin(this.fieldType, id);
        }
        return;
      }
      case W_FIXED:
        this.acc = (this.acc << 8) | <u64>b;
        if (++this.accN < this.need) return;
        if (this.capInt) this.appType = <i32>this.acc; // binary i32, big-endian
        this.next();
        return;
      case W_VARINT: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) {
          this.fail(this.need == 10 ? "invalid compact protocol varint i64" : "invalid compact protocol varint i32");
        } else if (r == VARINT_DONE) {
          if (this.capInt) this.appType = zigzag32(<u32>this.vi.value);
          this.next();
        }
        return;
      }
      case W_LEN:
        this.acc = (this.acc << 8) | <u64>b;
        if (++this.accN == 4) this.beginBytes(<i32>this.acc, "negative binary protocol string/binary length");
        return;
      case W_CLEN: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) this.fail("invalid compact protocol varint i32");
        else if (r == VARINT_DONE) this.beginBytes(<i32>this.vi.value, "negative compact protocol string/binary length");
        return;
      }
      case W_LIST:
        if (this.accN++ == 0) {
          this.hdrType = b;
          return;
        }
        this.acc = (this.acc << 8) | <u64>b;
        if (this.accN == 5) this.listBegin(this.hdrType, <i32>this.acc, "negative binary protocol list/set size");
        return;
      case W_CLIST: {
        const size = b >> 4;
        if (size != 15) {
          this.listBegin(b & 15, size, "");
          return;
        }
        this.hdrType = b & 15; // long form: the size follows as a varint
        this.vi.begin(5);
        this.state = W_CLIST_N;
        return;
      }
      case W_CLIST_N: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) this.fail("invalid compact protocol varint i32");
        else if (r == VARINT_DONE) this.listBegin(this.hdrType, <i32>this.vi.value, "negative compact protocol list/set size");
        return;
      }
      case W_MAP: {
        const k = this.accN++;
        if (k == 0) this.hdrType = b;
        else if (k == 1) this.hdrType2 = b;
        else {
          this.acc = (this.acc << 8) | <u64>b;
          if (k == 5) this.mapBegin(this.hdrType, this.hdrType2, <i32>this.acc, "negative binary protocol map size");
        }
        return;
      }
      case W_CMAP_N: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) {
          this.fail("invalid compact protocol varint i32");
          return;
        }
        if (r != VARINT_DONE) return;
        const n = <i32>this.vi.value;
        if (n <= 0) {
          // an empty map is the single byte 0x00, without a type byte
          this.mapBegin(0, 0, n, "negative compact protocol map size");
          return;
        }
        this.mapN = n;
        this.state = W_CMAP_T;
        return;
      }
      case W_CMAP_T:
        this.mapBegin(b >> 4, b & 15, this.mapN, "");
        return;
    }
  }

  private fieldByte(b: i32): void {
    if (!this.compact) {
      if (b == T_STOP) {
        this.structEnd();
        return;
      }
      if (!isBinaryType(b)) {
        this.fail("unknown field type");
        return;
      }
      this.fieldType = b;
      this.acc = 0;
      this.accN = 0;
      this.state = W_FIELD_ID;
      return;
    }
    const t = b & 15;
    if (t == 0) {
      this.structEnd(); // any byte with a zero type nibble is STOP (Envoy and Apache agree)
      return;
    }
    if (!isCompactType(t)) {
      this.fail("unknown compact protocol field type");
      return;
    }
    const delta = b >> 4;
    if (delta != 0) {
      // short form: id = last id of this struct + delta (16-bit arithmetic, like the writers)
      this.fieldBegin(t, <i32>(<i16>(unchecked(this.lastIds[this.sp - 1]) + delta)));
      return;
    }
    this.fieldType = t;
    this.vi.begin(5);
    this.state = W_CFIELD_ID;
  }

  private fieldBegin(t: i32, id: i32): void {
    const top = this.sp - 1;
    if (this.compact) unchecked((this.lastIds[top] = id));
    if (top == 0 && !this.firstSeen) {
      this.firstSeen = true;
      this.firstId = id;
      if (this.peek) {
        this.state = W_DONE;
        return;
      }
    }
    this.capInt = this.wantAppType && top == 0 && id == 2 && t == (this.compact ? C_I32 : T_I32);
    if (this.startValue(t, false)) this.next();
  }

  private structEnd(): void {
    if (this.sp == 1 && !this.firstSeen) {
      this.firstSeen = true;
      this.firstStop = true;
      if (this.peek) {
        this.sp = 0;
        this.state = W_DONE;
        return;
      }
    }
    this.sp--;
    this.next();
  }

  /**
   * Sets up the reading of one value of type t (already validated). Returns true when the value
   * has no bytes (a compact bool field), i.e. it is complete already.
   */
  private startValue(t: i32, element: bool): bool {
    this.capInt = this.capInt && !element;
    if (this.compact) {
      switch (t) {
        case C_BOOL_TRUE:
        case C_BOOL_FALSE:
          if (!element) return true; // the value is the field type itself
          this.fixed(1); // 1 = true, anything else false (2 as written)
          return false;
        case C_BYTE:
          this.fixed(1);
          return false;
        case C_DOUBLE:
          this.fixed(8); // little-endian on the wire (§5.4 #1); the walker does not need the value
          return false;
        case C_UUID:
          this.fixed(16);
          return false;
        case C_I16:
        case C_I32:
          this.varint(5);
          return false;
        case C_I64:
          this.varint(10);
          return false;
        case C_BINARY:
          this.vi.begin(5);
          this.state = W_CLEN;
          return false;
        case C_LIST:
        case C_SET:
          this.state = W_CLIST;
          return false;
        case C_MAP:
          this.vi.begin(5);
          this.state = W_CMAP_N;
          return false;
        default:
          this.pushStruct(); // C_STRUCT
          return false;
      }
    }
    switch (t) {
      case T_BOOL:
      case T_BYTE:
        this.fixed(1);
        return false;
      case T_I16:
        this.fixed(2);
        return false;
      case T_I32:
        this.fixed(4);
        return false;
      case T_DOUBLE:
      case T_I64:
        this.fixed(8);
        return false;
      case T_UUID:
        this.fixed(16);
        return false;
      case T_STRING:
        this.acc = 0;
        this.accN = 0;
        this.state = W_LEN;
        return false;
      case T_MAP:
        this.acc = 0;
        this.accN = 0;
        this.state = W_MAP;
        return false;
      case T_SET:
      case T_LIST:
        this.acc = 0;
        this.accN = 0;
        this.state = W_LIST;
        return false;
      default:
        this.pushStruct(); // T_STRUCT
        return false;
    }
  }

  // @ts-ignore: decorator
  @inline
  private fixed(n: i32): void {
    this.need = n;
    this.acc = 0;
    this.accN = 0;
    this.state = W_FIXED;
  }

  // @ts-ignore: decorator
  @inline
  private varint(maxBytes: i32): void {
    this.need = maxBytes;
    this.vi.begin(maxBytes);
    this.state = W_VARINT;
  }

  private pushStruct(): void {
    const sp = this.sp;
    if (sp >= this.maxDepth) {
      this.fail("thrift nesting exceeds limit");
      return;
    }
    unchecked((this.kinds[sp] = K_STRUCT));
    unchecked((this.lastIds[sp] = 0));
    this.sp = sp + 1;
    this.state = W_FIELD;
  }

  private beginBytes(n: i32, negative: string): void {
    if (n < 0) this.fail(negative);
    else if (<i64>n > this.left) this.fail(this.overrun);
    else if (n == 0) this.next();
    else {
      this.remaining = n;
      this.state = W_BYTES;
    }
  }

  private bytesRun(avail: i32): i32 {
    const take = <i64>avail < this.remaining ? avail : <i32>this.remaining;
    this.remaining -= take;
    this.left -= take;
    if (this.remaining == 0) this.next();
    return take;
  }

  private isElementType(t: i32): bool {
    return this.compact ? isCompactType(t) : isBinaryType(t);
  }

  private listBegin(et: i32, n: i32, negative: string): void {
    if (n < 0) {
      this.fail(negative);
      return;
    }
    if (<i64>n > this.left) {
      this.fail(this.overrun); // every element takes at least one byte
      return;
    }
    if (n == 0) {
      this.next(); // no element is read, so the element type is not judged
      return;
    }
    if (!this.isElementType(et)) {
      this.fail(this.compact ? "unknown compact protocol field type" : "unknown field type");
      return;
    }
    if (this.push(K_LIST, n, et, 0) && this.startValue(et, true)) this.next();
  }

  private mapBegin(kt: i32, vt: i32, n: i32, negative: string): void {
    if (n < 0) {
      this.fail(negative);
      return;
    }
    if (n == 0) {
      this.next();
      return;
    }
    if (2 * <i64>n > this.left) {
      this.fail(this.overrun); // every key and every value takes at least one byte
      return;
    }
    if (!this.isElementType(kt) || !this.isElementType(vt)) {
      this.fail(this.compact ? "unknown compact protocol field type" : "unknown field type");
      return;
    }
    if (this.push(K_MAP, 2 * <i64>n, kt, vt) && this.startValue(kt, true)) this.next();
  }

  private push(kind: u8, n: i64, et: i32, vt: i32): bool {
    const sp = this.sp;
    if (sp >= this.maxDepth) {
      this.fail("thrift nesting exceeds limit");
      return false;
    }
    unchecked((this.kinds[sp] = kind));
    unchecked((this.rems[sp] = n));
    unchecked((this.etypes[sp] = <u8>et));
    unchecked((this.vtypes[sp] = <u8>vt));
    this.sp = sp + 1;
    return true;
  }

  /** A value ended: continue with the enclosing container (closing those that are complete). */
  private next(): void {
    while (true) {
      const sp = this.sp;
      if (sp == 0) {
        this.state = W_DONE;
        return;
      }
      const top = sp - 1;
      const kind = unchecked(this.kinds[top]);
      if (kind == K_STRUCT) {
        this.state = W_FIELD;
        return;
      }
      const rem = unchecked(this.rems[top]) - 1;
      unchecked((this.rems[top] = rem));
      if (rem <= 0) {
        this.sp = top;
        continue;
      }
      // a map alternates key, value: with 2n-k left after k elements, an even count means a key
      const t = kind == K_LIST || (rem & 1) == 0 ? <i32>unchecked(this.etypes[top]) : <i32>unchecked(this.vtypes[top]);
      if (!this.startValue(t, true)) return;
    }
  }

  private fail(reason: string): void {
    this.reason = reason;
    this.state = W_ERROR;
  }
}
