// Raw-memory helpers for the codec's @unmanaged state structs (see request-decoder.ts, "Speed").

// @ts-ignore: decorator
@inline
export function align8(n: usize): usize {
  return (n + 7) & ~(<usize>7);
}

/**
 * Copies n ≥ 0 bytes from src to dst (distinct buffers). Up to 32 bytes – argument prefixes, keys,
 * reply heads – go as a few overlapping word moves that never touch a byte outside either range;
 * longer runs use memory.copy.
 */
// @ts-ignore: decorator
@inline
export function copySmall(dst: usize, src: usize, n: usize): void {
  if (n >= 8) {
    if (n > 32) {
      memory.copy(dst, src, n);
      return;
    }
    store<u64>(dst, load<u64>(src));
    if (n >= 16) store<u64>(dst, load<u64>(src, 8), 8);
    if (n >= 24) store<u64>(dst, load<u64>(src, 16), 16);
    store<u64>(dst + n - 8, load<u64>(src + n - 8));
  } else if (n >= 4) {
    store<u32>(dst, load<u32>(src));
    store<u32>(dst + n - 4, load<u32>(src + n - 4));
  } else if (n >= 2) {
    store<u16>(dst, load<u16>(src));
    store<u16>(dst + n - 2, load<u16>(src + n - 2));
  } else if (n == 1) {
    store<u8>(dst, load<u8>(src));
  }
}

/** Bytes [0, r) of a little-endian word, r in 1..8 (8 and more: the whole word). */
// @ts-ignore: decorator
@inline
export function tailMask(r: i32): u64 {
  return r >= 8 ? <u64>-1 : (<u64>1 << (<u64>r << 3)) - 1;
}
