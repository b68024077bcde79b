// The capture arena of one decoder: every string the metadata needs (request strings, attachments,
// an error message) is written here as UTF-8, and metadata is (offset, length) into it, so nothing is
// allocated per message. Offsets, not pointers, are kept because the arena may grow.
//
// Hessian strings arrive as code points decoded by the walker (hessian.ts), or as runs of ASCII
// bytes. Java writes characters outside the BMP as two 3-byte surrogate sequences (CESU-8, specs
// §2.5); they are joined here into one 4-byte UTF-8 sequence, so "😀" is captured the same whether a
// peer wrote it Java's way or as genuine 4-byte UTF-8, and the captured bytes are valid UTF-8 that
// config strings can match. A lone surrogate becomes U+FFFD (same 3-byte length).
//
// Bounds: a string keeps at most `limit` bytes, the arena at most `max`; a string that does not fit
// is cut at a code-point boundary and `over` is set (the caller decides: error, drop or keep).
// The bytes live in a StaticArray held by an ArenaBuffer (managed, owned by the decoder); it starts
// at INITIAL bytes and doubles on demand up to `max`, so growth happens only when a message needs
// more than any before on this connection, never in the steady state.
//
// Speed: CaptureArena is an @unmanaged struct inside the decoder's block (see raw.ts), so the
// per-character code never spills managed references to the shadow stack.

import { align8 } from "./raw";

const INITIAL: i32 = 512;

/** Holds the arena's bytes for the GC; the decoder keeps it alive. */
export class ArenaBuffer {
  buf: StaticArray<u8>;
  constructor(size: i32) {
    this.buf = new StaticArray<u8>(size);
  }
}

// @ts-ignore: decorator
@unmanaged
export class CaptureArena {
  /** Data of owner.buf. */
  buf: usize;
  /** The ArenaBuffer (managed; kept alive by the decoder). */
  owner: usize;
  size: i32;
  /** Hard cap on the arena (DubboLimits.maxCaptureBytes). */
  max: i32;
  /** Bytes in use. */
  used: i32;
  // the string being captured
  start: i32;
  limit: i32;
  high: i32; // a high surrogate waiting for its low half
  /** The string being (or last) captured did not fit. */
  over: bool;

  static bytes(): usize {
    return align8(offsetof<CaptureArena>());
  }

  /** Lays an arena out at `at` (zeroed memory), with a new buffer held by the returned owner. */
  static place(at: usize, max: i32): ArenaBuffer {
    const a = changetype<CaptureArena>(at);
    const m = max < 16 ? 16 : max;
    const size = m < INITIAL ? m : INITIAL;
    const owner = new ArenaBuffer(size);
    a.owner = changetype<usize>(owner);
    a.buf = changetype<usize>(owner.buf);
    a.size = size;
    a.max = m;
    return owner;
  }

  /** Address of arena offset `off` (valid until the next capture). */
  // @ts-ignore: decorator
  @inline
  ptr(off: i32): usize {
    return this.buf + <usize>off;
  }

  clear(): void {
    this.used = 0;
    this.over = false;
    this.high = 0;
  }

  /** Drops everything captured from `off` on (an attachment pair that is not kept). */
  rewind(off: i32): void {
    if (off >= 0 && off < this.used) this.used = off;
  }

  /** Starts a string of at most `limit` bytes; returns its offset. */
  begin(limit: i32): i32 {
    this.start = this.used;
    this.limit = limit < 0 ? 0 : limit;
    this.high = 0;
    this.over = false;
    return this.used;
  }

  /** One UTF-16 unit or (from a 4-byte sequence) code point of the string. */
  cp(c: i32): void {
    if (c >= 0xd800 && c <= 0xdbff) {
      if (this.high != 0) this.put(0xfffd);
      this.high = c;
      return;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      if (this.high != 0) {
        c = 0x10000 + ((this.high - 0xd800) << 10) + (c - 0xdc00);
        this.high = 0;
      } else c = 0xfffd;
    } else if (this.high != 0) {
      this.high = 0;
      this.put(0xfffd);
    }
    this.put(c);
  }

  /**
   * Copies the run of ASCII bytes at [src, src+n) (the common case: service, method, descriptor,
   * attachments) up to the first byte ≥ 0x80; returns the run's length. A run that does not fit is
   * cut (and `over` set) but still measured, so the caller advances past it either way.
   */
  asciiRun(src: usize, n: i32): i32 {
    if (this.high != 0) {
      this.high = 0;
      this.put(0xfffd);
    }
    let room = 0;
    if (!this.over) {
      const at = this.used;
      room = this.limit - (at - this.start);
      const arenaRoom = this.max - at;
      if (arenaRoom < room) room = arenaRoom;
      if (room > n) room = n;
      if (room < 0) room = 0;
      if (at + room > this.size) this.grow(at + room);
    }
    // copy while scanning, within the room; then only scan
    const dst = this.buf + <usize>this.used;
    let j = 0;
    while (j < room) {
      const b = load<u8>(src + <usize>j);
      if (b >= 0x80) break;
      store<u8>(dst + <usize>j, b);
      j++;
    }
    this.used += j;
    if (j == room && j < n) {
      while (j < n && load<u8>(src + <usize>j) < 0x80) j++;
      if (j > room) this.over = true;
    }
    return j;
  }

  /** Ends the string; returns its captured length. */
  end(): i32 {
    if (this.high != 0) {
      this.high = 0;
      this.put(0xfffd);
    }
    return this.used - this.start;
  }

  private put(c: i32): void {
    if (this.over) return; // keep a prefix: nothing after the first code point that did not fit
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    const at = this.used;
    if (at + n - this.start > this.limit || at + n > this.max) {
      this.over = true;
      return;
    }
    if (at + n > this.size) this.grow(at + n);
    const p = this.buf + <usize>at;
    if (n == 1) {
      store<u8>(p, <u8>c);
    } else if (n == 2) {
      store<u8>(p, <u8>(0xc0 | (c >> 6)));
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 1);
    } else if (n == 3) {
      store<u8>(p, <u8>(0xe0 | (c >> 12)));
      store<u8>(p, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 2);
    } else {
      store<u8>(p, <u8>(0xf0 | ((c >> 18) & 0x07)));
      store<u8>(p, <u8>(0x80 | ((c >> 12) & 0x3f)), 1);
      store<u8>(p, <u8>(0x80 | ((c >> 6) & 0x3f)), 2);
      store<u8>(p, <u8>(0x80 | (c & 0x3f)), 3);
    }
    this.used = at + n;
  }

  /** Rare (a message larger than any before): a new buffer in the managed owner. */
  private grow(need: i32): void {
    let size = this.size;
    while (size < need) size = size > (this.max >> 1) ? this.max : size << 1;
    const next = new StaticArray<u8>(size);
    memory.copy(changetype<usize>(next), this.buf, <usize>this.used);
    changetype<ArenaBuffer>(this.owner).buf = next;
    this.buf = changetype<usize>(next);
    this.size = size;
  }

  /** [ptr(off), +len) equals the ASCII literal `lit`. */
  equalsAscii(off: i32, len: i32, lit: string): bool {
    if (len != lit.length) return false;
    const p = this.buf + <usize>off;
    const l = changetype<usize>(lit);
    for (let k = 0; k < len; k++) {
      if (<u32>load<u8>(p + <usize>k) != <u32>load<u16>(l + (<usize>k << 1))) return false;
    }
    return true;
  }
}
