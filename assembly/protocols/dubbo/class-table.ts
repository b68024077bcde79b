// Hessian class definitions seen in one Dubbo body (specs §2.5). A `C` definition registers a field
// count; objects (`O n`, `0x60+n`) name the definition by index and carry that many values, so a
// skipper must remember every count – a class defined in argument 1 may be used in argument 5 or in
// the attachments (vector D12). One Hessian2Output writes a whole body, so the table is per body.
// Bounded and preallocated (in the decoder's block): one definition more than the limit is an
// error, not a reallocation.

import { align8 } from "./raw";

export const CLASS_CAP_MAX: i32 = 65536;

// @ts-ignore: decorator
@unmanaged
export class ClassTable {
  fields: usize; // i32 × capacity
  capacity: i32;
  count: i32;

  static bytes(capacity: i32): usize {
    return align8(offsetof<ClassTable>()) + align8(<usize>capacity * 4);
  }

  static place(at: usize, capacity: i32): ClassTable {
    const t = changetype<ClassTable>(at);
    t.fields = at + align8(offsetof<ClassTable>());
    t.capacity = capacity;
    return t;
  }

  clear(): void {
    this.count = 0;
  }

  /** Registers the next definition; false when `limit` (≤ capacity) definitions are registered. */
  add(nfields: i32, limit: i32): bool {
    const n = this.count;
    if (n >= this.capacity || n >= limit) return false;
    store<i32>(this.fields + (<usize>n << 2), nfields);
    this.count = n + 1;
    return true;
  }

  /** Field count of definition `idx`, or -1 if no such definition was seen. */
  fieldsOf(idx: i64): i32 {
    return idx >= 0 && idx < <i64>this.count ? load<i32>(this.fields + (<usize>idx << 2)) : -1;
  }
}
