// Reads one message header (specs/protocols.md §1.2, §1.3): strict binary `80 01 00 t | len | name |
// seqid`, non-strict binary `len | name | t | seqid` and compact `82 t|1 | varint seqid | varint len |
// name`. Fed any split of bytes; keeps the first `cap` bytes of the name in a buffer made once and
// walks the rest (skippable). Every length is checked against the bytes the message may still use
// (frame or unframed budget) before it is trusted, and negative name lengths are rejected (Envoy's
// strict reader reads them unsigned and waits for 4 GiB, §5.4 #3).

import { Varint, VARINT_DONE, VARINT_TOO_LONG } from "./varint";
import { isMessageType } from "./types";

const MH_B_WORD: i32 = 0; // binary: version word (strict) or name length (non-strict)
const MH_B_NLEN: i32 = 1; // binary strict: name length
const MH_NAME: i32 = 2;
const MH_L_TYPE: i32 = 3; // non-strict: type byte after the name
const MH_B_SEQ: i32 = 4; // binary: seqid
const MH_C_ID: i32 = 5; // compact: protocol id 0x82
const MH_C_VT: i32 = 6; // compact: type<<5 | version
const MH_C_SEQ: i32 = 7;
const MH_C_NLEN: i32 = 8;
const MH_DONE: i32 = 9;
const MH_ERROR: i32 = 10;

export class MessageHead {
  type: i32 = 0;
  seqId: i32 = 0;
  /** The message was written by a non-strict binary writer. */
  lax: bool = false;
  readonly nameBuf: StaticArray<u8>;
  /** Name bytes kept (≤ capacity). */
  nameLen: i32 = 0;
  /** Name length on the wire. */
  nameFull: i64 = 0;
  /** Index of the first ':' in the kept name, -1 if none. */
  colon: i32 = -1;
  reason: string = "";

  private state: i32 = MH_DONE;
  private compact: bool = false;
  private laxOk: bool = false;
  private left: i64 = 0; // bytes the message may still use
  private overrun: string = "";
  private acc: u32 = 0;
  private accN: i32 = 0;
  private laxWord: bool = false;
  private nameLeft: i64 = 0;
  /** begin() was called and no byte was fed since: parseWhole() may read the header in one pass. */
  fresh: bool = false;
  private readonly vi: Varint = new Varint();

  constructor(nameCap: i32) {
    this.nameBuf = new StaticArray<u8>(nameCap < 0 ? 0 : nameCap);
  }

  /**
   * Starts a header. `left` bounds the bytes it may take (and the name length); running out is
   * reported with `overrun`. laxOk: a word with the top bit clear starts a non-strict message.
   */
  begin(compact: bool, laxOk: bool, left: i64, overrun: string): void {
    this.compact = compact;
    this.laxOk = laxOk;
    this.left = left;
    this.overrun = overrun;
    this.state = compact ? MH_C_ID : MH_B_WORD;
    this.acc = 0;
    this.accN = 0;
    this.type = 0;
    this.seqId = 0;
    this.lax = false;
    this.nameLen = 0;
    this.nameFull = 0;
    this.nameLeft = 0;
    this.colon = -1;
    this.reason = "";
    this.fresh = true;
  }

  get done(): bool {
    return this.state == MH_DONE;
  }
  get failed(): bool {
    return this.state == MH_ERROR;
  }

  /** Consumes up to len bytes; stops at the end of the header. Returns the bytes taken. */
  feed(ptr: usize, len: i32): i32 {
    this.fresh = false;
    let i = 0;
    const lim = <i64>len < this.left ? len : <i32>this.left;
    while (i < lim && this.state < MH_DONE) {
      if (this.state == MH_NAME) {
        i += this.nameRun(ptr + <usize>i, lim - i);
        continue;
      }
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      this.left--;
      this.step(b);
    }
    if (this.state < MH_DONE && this.left <= 0) this.fail(this.overrun);
    return i;
  }

  /** Name bytes past the kept prefix; the last one is always fed so the header ends in feed(). */
  skippable(): i64 {
    if (this.state != MH_NAME || this.nameLen < this.nameBuf.length) return 0;
    return this.nameLeft - 1;
  }

  /** Accounts for n ≤ skippable() bytes not fed. */
  skip(n: i64): void {
    this.fresh = false;
    this.nameLeft -= n;
    this.left -= n;
  }

  /**
   * Fast path, right after begin(): when [ptr, ptr+len) holds the whole header, a valid one, within
   * the bytes the message may use and with a name that fits the kept buffer, reads it in one pass and
   * returns its length, leaving the head exactly as feed() would (done). Otherwise returns 0 and
   * changes nothing: the caller feeds the bytes to the state machine, which reaches the same result
   * or error byte by byte.
   */
  parseWhole(ptr: usize, len: i32): i32 {
    const avail: i64 = <i64>len < this.left ? <i64>len : this.left;
    const cap = this.nameBuf.length;
    let n: i32 = 0; // name length
    let at: i32 = 0; // name offset
    let total: i32 = 0;
    let type: i32 = 0;
    let seq: i32 = 0;
    let lax = false;
    if (this.compact) {
      if (avail < 4) return 0;
      const b0 = <i32>load<u8>(ptr);
      const b1 = <i32>load<u8>(ptr, 1);
      if (b0 != 0x82 || (b1 & 0x1f) != 1) return 0;
      type = b1 >> 5;
      if (!isMessageType(type)) return 0;
      // seqid varint (≤ 5 bytes), then name length varint (≤ 5 bytes)
      let i: i32 = 2;
      let v: u64 = 0;
      let k: i32 = 0;
      while (true) {
        if (k == 5 || <i64>i >= avail) return 0;
        const b = <i32>load<u8>(ptr + <usize>i);
        v |= <u64>(b & 0x7f) << <u64>(7 * k);
        i++;
        k++;
        if ((b & 0x80) == 0) break;
      }
      seq = <i32>v;
      v = 0;
      k = 0;
      while (true) {
        if (k == 5 || <i64>i >= avail) return 0;
        const b = <i32>load<u8>(ptr + <usize>i);
        v |= <u64>(b & 0x7f) << <u64>(7 * k);
        i++;
        k++;
        if ((b & 0x80) == 0) break;
      }
      n = <i32>v;
      if (n < 0 || n > cap) return 0;
      at = i;
      total = i + n;
      if (<i64>total > avail) return 0;
    } else {
      if (avail < 8) return 0;
      const w = bswap<u32>(load<u32>(ptr));
      if (this.laxOk && (w & 0x80000000) == 0) {
        // non-strict: len | name | type | seqid
        n = <i32>w;
        if (n > cap) return 0;
        at = 4;
        total = 9 + n;
        if (<i64>total > avail) return 0;
        type = <i32>load<u8>(ptr + <usize>(4 + n));
        if (!isMessageType(type)) return 0;
        seq = <i32>bswap<u32>(load<u32>(ptr + <usize>(5 + n)));
        lax = true;
      } else {
        if (w >>> 16 != 0x8001) return 0;
        type = <i32>(w & 0xff);
        if (!isMessageType(type)) return 0;
        n = <i32>bswap<u32>(load<u32>(ptr, 4));
        if (n < 0 || n > cap) return 0;
        at = 8;
        total = 12 + n;
        if (<i64>total > avail) return 0;
        seq = <i32>bswap<u32>(load<u32>(ptr + <usize>(8 + n)));
      }
    }
    const buf = changetype<usize>(this.nameBuf);
    if (n > 0) memory.copy(buf, ptr + <usize>at, <usize>n);
    this.type = type;
    this.seqId = seq;
    this.lax = lax;
    this.nameLen = n;
    this.nameFull = n;
    this.nameLeft = 0;
    let colon = -1;
    for (let i = 0; i < n; i++) {
      if (load<u8>(buf + <usize>i) == 0x3a) {
        colon = i;
        break;
      }
    }
    this.colon = colon;
    this.left -= total;
    this.acc = 0;
    this.accN = 0;
    this.fresh = false;
    this.state = MH_DONE;
    return total;
  }

  private step(b: i32): void {
    switch (this.state) {
      case MH_B_WORD: {
        if (this.accN == 0) this.laxWord = this.laxOk && (b & 0x80) == 0;
        if (!this.word(b)) return;
        const w = this.acc;
        if (this.laxWord) {
          this.lax = true;
          this.beginName(<i32>w, ""); // top bit clear: never negative
        } else if (w >>> 16 != 0x8001) {
          this.fail("invalid binary protocol version");
        } else {
          this.type = <i32>(w & 0xff);
          if (!isMessageType(this.type)) this.fail("invalid binary protocol message type");
          else this.next(MH_B_NLEN);
        }
        return;
      }
      case MH_B_NLEN:
        if (this.word(b)) this.beginName(<i32>this.acc, "negative binary protocol message name length");
        return;
      case MH_L_TYPE:
        this.type = b;
        if (!isMessageType(b)) this.fail("invalid binary protocol message type");
        else this.next(MH_B_SEQ);
        return;
      case MH_B_SEQ:
        if (this.word(b)) {
          this.seqId = <i32>this.acc;
          this.state = MH_DONE;
        }
        return;
      case MH_C_ID:
        if (b != 0x82) this.fail("invalid compact protocol version");
        else this.state = MH_C_VT;
        return;
      case MH_C_VT:
        if ((b & 0x1f) != 1) {
          this.fail("invalid compact protocol version");
          return;
        }
        this.type = b >> 5;
        if (!isMessageType(this.type)) {
          this.fail("invalid compact protocol message type");
          return;
        }
        this.state = MH_C_SEQ;
        this.vi.begin(5);
        return;
      case MH_C_SEQ: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) this.fail("invalid compact protocol varint i32");
        else if (r == VARINT_DONE) {
          this.seqId = <i32>this.vi.value; // varint, not zigzag: -1 is ff ff ff ff 0f
          this.state = MH_C_NLEN;
          this.vi.begin(5);
        }
        return;
      }
      case MH_C_NLEN: {
        const r = this.vi.push(b);
        if (r == VARINT_TOO_LONG) this.fail("invalid compact protocol varint i32");
        else if (r == VARINT_DONE) this.beginName(<i32>this.vi.value, "negative compact protocol message name length");
        return;
      }
    }
  }

  /** Adds a byte to the 4-byte big-endian word; true when it is complete. */
  // @ts-ignore: decorator
  @inline
  private word(b: i32): bool {
    this.acc = (this.acc << 8) | <u32>b;
    return ++this.accN == 4;
  }

  // @ts-ignore: decorator
  @inline
  private next(state: i32): void {
    this.state = state;
    this.acc = 0;
    this.accN = 0;
  }

  private beginName(n: i32, negative: string): void {
    if (n < 0) {
      this.fail(negative);
      return;
    }
    if (<i64>n > this.left) {
      this.fail(this.overrun);
      return;
    }
    this.nameFull = n;
    this.nameLeft = n;
    if (n == 0) this.nameDone();
    else this.state = MH_NAME;
  }

  private nameRun(p: usize, avail: i32): i32 {
    const take = <i64>avail < this.nameLeft ? avail : <i32>this.nameLeft;
    const room = this.nameBuf.length - this.nameLen;
    const keep = take < room ? take : room;
    if (keep > 0) {
      memory.copy(changetype<usize>(this.nameBuf) + <usize>this.nameLen, p, <usize>keep);
      this.nameLen += keep;
    }
    this.nameLeft -= take;
    this.left -= take;
    if (this.nameLeft == 0) this.nameDone();
    return take;
  }

  private nameDone(): void {
    const p = changetype<usize>(this.nameBuf);
    for (let i = 0; i < this.nameLen; i++) {
      if (load<u8>(p + <usize>i) == 0x3a) {
        this.colon = i; // TMultiplexedProtocol: "Service:method", split on the first ':'
        break;
      }
    }
    if (this.compact) this.state = MH_DONE;
    else this.next(this.lax ? MH_L_TYPE : MH_B_SEQ);
  }

  private fail(reason: string): void {
    this.reason = reason;
    this.state = MH_ERROR;
  }
}
