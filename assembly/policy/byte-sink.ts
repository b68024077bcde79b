// A reusable output buffer in wasm memory for the bytes the filter writes itself: substitute
// requests and protocol-native error replies (DESIGN.md §5). One sink per connection (or per
// worker) is reset before each message; it grows by doubling when a message needs more than any
// before and never shrinks, so once warm, writing a message allocates nothing.
//
// All multi-byte integers are big-endian (network order), as every wire format here uses.
// The bytes live in a StaticArray<u8> held by the sink (managed, traced by the GC); `ptr` is only
// valid until the next write that grows the sink.

const INITIAL: i32 = 256;

@final
export class ByteSink {
  private buf: StaticArray<u8>;
  private cap: i32;
  private used: i32 = 0;

  constructor(initial: i32 = INITIAL) {
    const n = initial < 16 ? 16 : initial;
    this.buf = new StaticArray<u8>(n);
    this.cap = n;
  }

  /** Forgets the bytes written; keeps the capacity. */
  reset(): void {
    this.used = 0;
  }

  /** Bytes written since the last reset. */
  get length(): i32 {
    return this.used;
  }

  /** Current capacity (for tests: shows the sink does not grow in the steady state). */
  get capacity(): i32 {
    return this.cap;
  }

  /** Start of the bytes; valid until the next growing write. */
  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  /** Room for n more bytes; returns the address to write them at and counts them as written. */
  // @ts-ignore: decorator
  @inline
  private take(n: i32): usize {
    const at = this.used;
    if (n > this.cap - at) this.grow(at + n);
    this.used = at + n;
    return changetype<usize>(this.buf) + <usize>at;
  }

  /** Rare: a message longer than any before. Doubles until `need` fits. */
  private grow(need: i32): void {
    let size = this.cap;
    while (size < need) {
      // doubling past 1 GiB would overflow i32; a sink never needs that much (frames are capped far below)
      assert(size <= 0x3fffffff, "ByteSink: too large");
      size <<= 1;
    }
    const next = new StaticArray<u8>(size);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.used);
    this.buf = next;
    this.cap = size;
  }

  u8(v: u32): void {
    store<u8>(this.take(1), <u8>v);
  }

  u16(v: u32): void {
    store<u16>(this.take(2), bswap<u16>(<u16>v));
  }

  u32(v: u32): void {
    store<u32>(this.take(4), bswap<u32>(v));
  }

  i64(v: i64): void {
    store<u64>(this.take(8), bswap<u64>(<u64>v));
  }

  /** Copies [ptr, ptr+len); len ≤ 0 writes nothing. */
  bytes(ptr: usize, len: i32): void {
    if (len <= 0) return;
    memory.copy(this.take(len), ptr, <usize>len);
  }

  /** The UTF-8 of `s`, a lone surrogate as U+FFFD (3 bytes, like Node's Buffer and Java). */
  utf8(s: string): void {
    const n = String.UTF8.byteLength(s);
    if (n == 0) return;
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.take(n), false, String.UTF8.ErrorMode.REPLACE);
  }

  /** Unsigned LEB128 (Thrift compact varints, THeader varints): 7 bits a byte, low group first. */
  varint(v: u64): void {
    while (v >= 0x80) {
      this.u8(<u32>(v & 0x7f) | 0x80);
      v >>= 7;
    }
    this.u8(<u32>v);
  }

  /** ASCII decimal of v (RESP lengths and counts). */
  decimal(v: i64): void {
    if (v < 0) {
      this.u8(0x2d);
      // -(i64.MIN) overflows; its magnitude as u64 is still right
      this.udecimal(<u64>(-v));
      return;
    }
    this.udecimal(<u64>v);
  }

  private udecimal(v: u64): void {
    let digits = 1;
    for (let t = v; t >= 10; t /= 10) digits++;
    const at = this.take(digits);
    for (let i = digits - 1; i >= 0; i--) {
      store<u8>(at + <usize>i, <u8>(0x30 + <i32>(v % 10)));
      v /= 10;
    }
  }

  /** Big-endian u32 over bytes already written at [offset, offset+4) (a length known only later). */
  setU32At(offset: i32, v: u32): void {
    assert(offset >= 0 && offset <= this.used - 4, "ByteSink.setU32At out of range");
    store<u32>(changetype<usize>(this.buf) + <usize>offset, bswap<u32>(v));
  }

  /** Big-endian u16 over bytes already written at [offset, offset+2). */
  setU16At(offset: i32, v: u32): void {
    assert(offset >= 0 && offset <= this.used - 2, "ByteSink.setU16At out of range");
    store<u16>(changetype<usize>(this.buf) + <usize>offset, bswap<u16>(<u16>v));
  }

  /** A copy of the bytes written (tests only: allocates). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.used);
    memory.copy(out.dataStart, changetype<usize>(this.buf), <usize>this.used);
    return out;
  }
}
