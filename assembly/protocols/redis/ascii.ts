// Byte-level ASCII helpers for the Redis codec. Everything works on raw bytes or static literals:
// String#toUpperCase pulls in Unicode tables and allocates (TOOLCHAIN §6), so we fold case by hand.

export const CR: i32 = 0x0d;
export const LF: i32 = 0x0a;

// @ts-ignore: decorator
@inline
export function isDigit(c: i32): bool {
  return <u32>(c - 0x30) < 10;
}

/** C `isspace` in the "C" locale, which Redis' sdssplitargs uses to skip blanks. */
// @ts-ignore: decorator
@inline
export function isSpace(c: i32): bool {
  return c == 0x20 || <u32>(c - 0x09) < 5; // \t \n \v \f \r
}

// @ts-ignore: decorator
@inline
export function upperByte(c: i32): i32 {
  return <u32>(c - 0x61) < 26 ? c - 0x20 : c;
}

/** upperByte on each of 8 bytes at once (bytes ≥ 0x80 unchanged). */
// @ts-ignore: decorator
@inline
export function upper8(x: u64): u64 {
  const h = x & 0x7f7f7f7f7f7f7f7f;
  const ge = h + 0x1f1f1f1f1f1f1f1f; // bit 7 set where the byte ≥ 'a'
  const gt = h + 0x0505050505050505; // bit 7 set where the byte > 'z'
  const m = ge & ~gt & ~x & 0x8080808080808080; // 'a'..'z' (ASCII only)
  return x - (m >> 2); // - 0x20 in those bytes
}

// @ts-ignore: decorator
@inline
export function lowerByte(c: i32): i32 {
  return <u32>(c - 0x41) < 26 ? c + 0x20 : c;
}

/** Value of a hex digit, or -1. */
export function hexValue(c: i32): i32 {
  if (<u32>(c - 0x30) < 10) return c - 0x30;
  const l = c | 0x20;
  if (<u32>(l - 0x61) < 6) return l - 0x61 + 10;
  return -1;
}

/** [ptr, ptr+len) equals `lit` ignoring ASCII case (`lit` is ASCII). */
export function equalsIgnoreCase(ptr: usize, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  for (let i = 0; i < len; i++) {
    if (upperByte(<i32>load<u8>(ptr + i)) != upperByte(<i32>lit.charCodeAt(i))) return false;
  }
  return true;
}

/** [ptr, ptr+len) equals `lit` exactly (`lit` is ASCII). */
export function equalsBytes(ptr: usize, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  for (let i = 0; i < len; i++) {
    if (<i32>load<u8>(ptr + i) != <i32>lit.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Redis `string2ll` on [ptr, ptr+len): optional '-', digits, no leading zero (except "0" itself),
 * no '+', no spaces, within int64. Returns the value, or `invalid` when the text is not such a number.
 */
export function parseStrictI64(ptr: usize, len: i32, invalid: i64): i64 {
  if (len <= 0 || len > 20) return invalid;
  let i = 0;
  let neg = false;
  if (load<u8>(ptr) == 0x2d) {
    neg = true;
    i = 1;
    if (len == 1) return invalid;
  }
  const first = <i32>load<u8>(ptr + i);
  if (first == 0x30) return !neg && len == 1 ? 0 : invalid;
  let v: u64 = 0;
  for (; i < len; i++) {
    const c = <i32>load<u8>(ptr + i);
    if (!isDigit(c)) return invalid;
    if (v > 922337203685477580) return invalid; // next step would pass 2^63
    v = v * 10 + <u64>(c - 0x30);
  }
  if (neg) return v > 0x8000000000000000 ? invalid : -(<i64>v);
  return v > <u64>i64.MAX_VALUE ? invalid : <i64>v;
}
