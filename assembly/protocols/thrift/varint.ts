// ULEB128 accumulator for compact-protocol and THeader varints, fed one byte at a time so a varint
// may be split between windows. Bits past 64 are dropped; the byte cap is the caller's (5 for i32
// values, 10 for i64), as in Apache's and Envoy's readers.

export const VARINT_MORE: i32 = 0;
export const VARINT_DONE: i32 = 1;
export const VARINT_TOO_LONG: i32 = 2;

@final
export class Varint {
  value: u64 = 0;
  private n: i32 = 0;
  private max: i32 = 5;

  // @ts-ignore: decorator
  @inline
  begin(maxBytes: i32): void {
    this.value = 0;
    this.n = 0;
    this.max = maxBytes;
  }

  /** Adds one byte: VARINT_DONE when it ended the varint, VARINT_TOO_LONG past the byte cap. */
  // @ts-ignore: decorator
  @inline
  push(b: i32): i32 {
    const n = this.n;
    if (n < 10) this.value |= <u64>(b & 0x7f) << <u64>(7 * n);
    this.n = n + 1;
    if ((b & 0x80) == 0) return VARINT_DONE;
    return n + 1 >= this.max ? VARINT_TOO_LONG : VARINT_MORE;
  }
}
