// Reads the header data of a THeader frame (specs/protocols.md §1.4): varint protocol id, varint
// transform count (+ ids), then info blocks until the end of the header data – KEYVALUE (1) blocks
// are captured, padding (0) or an unknown id ends the reading (Envoy and Apache C++ do the same).
// The data is streamed: every varint and string may be split between windows. Whatever follows the
// last block is padding, whose length differs between writers (Apache C++/Envoy 1–4 bytes, Node 0–3,
// §5.4 #6), so the caller locates the payload by the header size, never by where the blocks end.
//
// Keys and values are kept as sent (no case folding) in one byte store, up to maxHeaders pairs;
// the store starts small and doubles when a frame carries more (bounded by the header data size,
// so at most maxHeaderBytes), so steady traffic allocates nothing.

import { Varint, VARINT_DONE, VARINT_TOO_LONG } from "./varint";

const HI_PROTO: i32 = 0;
const HI_NTRANS: i32 = 1;
const HI_INFO: i32 = 2;
const HI_KV_COUNT: i32 = 3;
const HI_KLEN: i32 = 4;
const HI_VLEN: i32 = 5;
const HI_STR: i32 = 6;
const HI_PAD: i32 = 7;
const HI_DONE: i32 = 8;
const HI_ERROR: i32 = 9;

/** THeader protocol ids (HeaderFormat.md); JSON (1) is not supported, like Envoy. */
export const HEADER_PROTO_BINARY: i32 = 0;
export const HEADER_PROTO_COMPACT: i32 = 2;

/** Upper bound for the header table, whatever maxHeaders says. */
export const HEADERS_CAP_MAX: i32 = 4096;
const STORE_INITIAL: i32 = 1024;

export class HeaderInfo {
  protocolId: i32 = 0;
  /** Pairs kept. */
  count: i32 = 0;
  /** More pairs were sent than kept. */
  truncated: bool = false;
  reason: string = "";

  private state: i32 = HI_DONE;
  private left: i32 = 0; // header data bytes not yet read
  private kvLeft: i32 = 0;
  private strLeft: i32 = 0;
  private isKey: bool = false;
  private keeping: bool = false;
  private maxKeep: i32 = 0;
  // per kept pair: key offset, key length, value offset, value length (into store)
  private readonly entries: StaticArray<i32>;
  private store: StaticArray<u8>;
  private used: i32 = 0;
  private readonly vi: Varint = new Varint();

  constructor(maxHeaders: i32, maxHeaderBytes: i32) {
    let n = maxHeaders < 0 ? 0 : maxHeaders;
    if (n > HEADERS_CAP_MAX) n = HEADERS_CAP_MAX;
    this.entries = new StaticArray<i32>(n * 4);
    const initial = maxHeaderBytes < STORE_INITIAL ? (maxHeaderBytes < 0 ? 0 : maxHeaderBytes) : STORE_INITIAL;
    this.store = new StaticArray<u8>(n == 0 ? 0 : initial);
  }

  /** Forgets the pairs of the previous frame (a framed message reports none). */
  clear(): void {
    this.count = 0;
    this.truncated = false;
    this.used = 0;
    this.protocolId = 0;
  }

  /** Starts reading `size` (> 0) bytes of header data, keeping at most maxHeaders pairs. */
  begin(size: i32, maxHeaders: i32): void {
    this.clear();
    this.left = size;
    this.maxKeep = maxHeaders < this.entries.length >> 2 ? maxHeaders : this.entries.length >> 2;
    this.reason = "";
    this.state = HI_PROTO;
    this.vi.begin(5);
  }

  get done(): bool {
    return this.state == HI_DONE;
  }
  get failed(): bool {
    return this.state == HI_ERROR;
  }

  keyPtr(i: i32): usize {
    return this.at(i, 0);
  }
  keyLen(i: i32): i32 {
    return this.lenAt(i, 1);
  }
  valuePtr(i: i32): usize {
    return this.at(i, 2);
  }
  valueLen(i: i32): i32 {
    return this.lenAt(i, 3);
  }

  /** Consumes up to len bytes of header data; done when all of it is read. */
  feed(ptr: usize, len: i32): i32 {
    let i = 0;
    const lim = len < this.left ? len : this.left;
    while (i < lim && this.state < HI_DONE) {
      const st = this.state;
      if (st == HI_STR) {
        i += this.strRun(ptr + <usize>i, lim - i);
        continue;
      }
      if (st == HI_PAD) {
        this.left -= lim - i; // padding or an unknown info block: not read
        i = lim;
        continue;
      }
      const b = <i32>load<u8>(ptr + <usize>i);
      i++;
      this.left--;
      this.step(b);
    }
    if (this.state < HI_DONE && this.left == 0) {
      if (this.state == HI_INFO || this.state == HI_PAD) this.state = HI_DONE;
      else this.fail("thrift header transport header too small");
    }
    return i;
  }

  /** Uninteresting bytes ahead (padding, pairs not kept); the last one is always fed. */
  skippable(): i64 {
    if (this.state == HI_PAD) return <i64>this.left - 1;
    if (this.state == HI_STR && !this.keeping) return <i64>this.strLeft - 1;
    return 0;
  }

  /** Accounts for n ≤ skippable() bytes not fed. */
  skip(n: i64): void {
    if (this.state == HI_STR) this.strLeft -= <i32>n;
    this.left -= <i32>n;
  }

  private step(b: i32): void {
    const r = this.vi.push(b);
    if (r == VARINT_TOO_LONG) {
      this.fail("invalid thrift header transport varint");
      return;
    }
    if (r != VARINT_DONE) return;
    const v = <i32>this.vi.value;
    this.vi.begin(5);
    switch (this.state) {
      case HI_PROTO:
        this.protocolId = v;
        if (v != HEADER_PROTO_BINARY && v != HEADER_PROTO_COMPACT) this.fail("unknown thrift header transport protocol");
        else this.state = HI_NTRANS;
        return;
      case HI_NTRANS:
        // zlib/snappy/hmac payloads cannot be read without undoing them; Envoy answers them with
        // an exception, a passive decoder can only give up
        if (v < 0) this.fail("negative thrift header transport transform count");
        else if (v > 0) this.fail("unsupported thrift header transport transform");
        else this.state = HI_INFO;
        return;
      case HI_INFO:
        this.state = v == 1 ? HI_KV_COUNT : HI_PAD; // 0: padding; unknown ids end the info blocks
        return;
      case HI_KV_COUNT:
        if (v < 0) this.fail("negative thrift header transport header count");
        else {
          this.kvLeft = v;
          this.state = v == 0 ? HI_INFO : HI_KLEN;
        }
        return;
      case HI_KLEN:
      case HI_VLEN:
        this.beginString(v, this.state == HI_KLEN);
        return;
    }
  }

  private beginString(n: i32, isKey: bool): void {
    if (n < 0) {
      this.fail("negative thrift header transport string length");
      return;
    }
    if (n > this.left) {
      this.fail("thrift header transport string exceeds header");
      return;
    }
    this.isKey = isKey;
    if (isKey) {
      this.keeping = this.count < this.maxKeep;
      if (!this.keeping) this.truncated = true;
    }
    if (this.keeping) {
      this.reserve(n);
      const e = changetype<usize>(this.entries) + <usize>(this.count << 4) + (isKey ? 0 : 8);
      store<i32>(e, this.used);
      store<i32>(e, n, 4);
    }
    this.strLeft = n;
    if (n == 0) this.stringDone();
    else this.state = HI_STR;
  }

  private strRun(p: usize, avail: i32): i32 {
    const take = avail < this.strLeft ? avail : this.strLeft;
    if (this.keeping) {
      memory.copy(changetype<usize>(this.store) + <usize>this.used, p, <usize>take);
      this.used += take;
    }
    this.strLeft -= take;
    this.left -= take;
    if (this.strLeft == 0) this.stringDone();
    return take;
  }

  private stringDone(): void {
    if (this.isKey) {
      this.state = HI_VLEN;
      return;
    }
    if (this.keeping) this.count++;
    this.kvLeft--;
    this.state = this.kvLeft == 0 ? HI_INFO : HI_KLEN;
  }

  /** Room for n more bytes; grows rarely (doubling), never past what one header can hold. */
  private reserve(n: i32): void {
    const need = this.used + n;
    const cap = this.store.length;
    if (need <= cap) return;
    let next = cap < 64 ? 64 : cap * 2;
    if (next < need) next = need;
    const grown = new StaticArray<u8>(next);
    memory.copy(changetype<usize>(grown), changetype<usize>(this.store), <usize>this.used);
    this.store = grown;
  }

  private at(i: i32, slot: i32): usize {
    if (i < 0 || i >= this.count) return changetype<usize>(this.store);
    return changetype<usize>(this.store) + <usize>load<i32>(changetype<usize>(this.entries) + <usize>((i << 4) + (slot << 2)));
  }

  private lenAt(i: i32, slot: i32): i32 {
    if (i < 0 || i >= this.count) return 0;
    return load<i32>(changetype<usize>(this.entries) + <usize>((i << 4) + (slot << 2)));
  }

  private fail(reason: string): void {
    this.reason = reason;
    this.state = HI_ERROR;
  }
}
