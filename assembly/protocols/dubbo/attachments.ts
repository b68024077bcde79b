// The string attachments of one message: (key, value) pairs as offsets into the capture arena,
// preallocated (in the decoder's block) for maxAttachments entries. Non-string keys or values are
// walked and not kept (real attachment maps carry e.g. integers), nor are strings that do not fit
// the arena.

import { CaptureArena } from "./capture";
import { align8 } from "./raw";

export const ATTACHMENT_CAP_MAX: i32 = 65536;

// @ts-ignore: decorator
@unmanaged
export class Attachments {
  slots: usize; // i32 × 4 per entry: key offset, key length, value offset, value length
  capacity: i32;
  count: i32;
  /** Index of the entry whose key is "group", or -1. */
  group: i32;
  /** A string entry was dropped because it did not fit (maxStringBytes or the arena). */
  truncated: bool;

  static bytes(capacity: i32): usize {
    return align8(offsetof<Attachments>()) + <usize>capacity * 16;
  }

  static place(at: usize, capacity: i32): Attachments {
    const a = changetype<Attachments>(at);
    a.slots = at + align8(offsetof<Attachments>());
    a.capacity = capacity;
    a.group = -1;
    return a;
  }

  clear(): void {
    this.count = 0;
    this.group = -1;
    this.truncated = false;
  }

  /** Keeps a pair; false when `limit` (≤ capacity) entries are already kept. */
  add(arena: CaptureArena, keyOff: i32, keyLen: i32, valOff: i32, valLen: i32, limit: i32): bool {
    const n = this.count;
    if (n >= this.capacity || n >= limit) return false;
    const s = this.slots + (<usize>n << 4);
    store<i32>(s, keyOff);
    store<i32>(s, keyLen, 4);
    store<i32>(s, valOff, 8);
    store<i32>(s, valLen, 12);
    this.count = n + 1;
    // the last "group" wins, as in a Java HashMap built from the same stream
    if (keyLen == 5 && arena.equalsAscii(keyOff, keyLen, "group")) this.group = n;
    return true;
  }

  // @ts-ignore: decorator
  @inline
  private at(i: i32, k: usize): i32 {
    return i >= 0 && i < this.count ? load<i32>(this.slots + (<usize>i << 4) + k) : 0;
  }
  keyOff(i: i32): i32 {
    return this.at(i, 0);
  }
  keyLen(i: i32): i32 {
    return this.at(i, 4);
  }
  valueOff(i: i32): i32 {
    return this.at(i, 8);
  }
  valueLen(i: i32): i32 {
    return this.at(i, 12);
  }
}
