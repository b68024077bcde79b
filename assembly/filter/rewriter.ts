// Rewrites of one host buffer, collected while a callback walks it and applied once at its end.
//
// Envoy's set_buffer_bytes on a network buffer can only drain-and-prepend at offset 0 or append
// (specs: no replace in the middle). So every edit of a callback becomes one host call: the prefix
// [0, end of the last edit) is replaced by the untouched gaps (fetched from the host only when
// there are any) interleaved with the replacements. Offsets are in the current host buffer.
//
// The carry is the upstream answer to "a reply we may have to replace ends in the next read": its
// first bytes are cut from this buffer (forwarding them would be irrevocable, and the write path
// cannot Pause), kept here, and put back in front of the next buffer.
import { bufferLen, bufferPtr, getBufferBytes, setBufferBytes } from "../abi/hostcalls";
import { releaseHostMemory } from "../abi/memory";
import { BufferType, WasmResult } from "../abi/types";
import { ByteSink } from "../policy/byte-sink";

export class Rewriter {
  /** Replacement bytes of all edits, back to back; builders write here via `sink`. */
  readonly sink: ByteSink = new ByteSink();
  private starts: Array<i32> = [];
  private ends: Array<i32> = [];
  /** Offset in `sink` where each edit's replacement ends. */
  private dataEnds: Array<i32> = [];
  private out: ByteSink = new ByteSink();
  /** Bytes cut from the tail of the last buffer, to be put back in front of the next one. */
  readonly carry: ByteSink = new ByteSink();
  private carryFrom: i32 = -1;

  get pending(): bool { return this.starts.length > 0 || this.carryFrom >= 0; }

  /** Where the replacement of the next edit begins in `sink` (write it, then call replace). */
  mark(): i32 { return this.sink.length; }

  /** [start, end) of the buffer becomes sink[mark, sink.length). Edits come in buffer order. */
  replace(start: i32, end: i32): void {
    this.starts.push(start);
    this.ends.push(end);
    this.dataEnds.push(this.sink.length);
  }

  /** Cut [from, end of buffer) into the carry (applied with the edits). */
  cutTail(from: i32): void {
    this.carryFrom = from;
  }

  /**
   * Applies the edits (and the tail cut) to the host buffer of `size` bytes. Returns how much the
   * bytes after the last edit moved (new offset − old offset), or i32.MIN_VALUE if the host
   * refused (the buffer is then unchanged).
   */
  apply(type: BufferType, size: i32): i32 {
    const n = this.starts.length;
    const cut = this.carryFrom;
    if (n == 0 && cut < 0) return 0;
    const editEnd = n > 0 ? this.ends[n - 1] : 0;
    const end = cut >= 0 ? size : editEnd;
    // What must be fetched: every gap before the last edit, and the carried tail.
    let fetchTo = cut >= 0 ? size : 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      if (this.starts[i] > prev) fetchTo = max(fetchTo, this.starts[i]);
      prev = this.ends[i];
    }
    if (cut >= 0 && cut > editEnd) fetchTo = size;
    let src: usize = 0;
    if (fetchTo > 0) {
      if (getBufferBytes(type, 0, fetchTo) != WasmResult.Ok || bufferLen != fetchTo) {
        releaseHostMemory(bufferPtr);
        this.reset();
        return i32.MIN_VALUE;
      }
      src = bufferPtr;
    }
    const out = this.out;
    out.reset();
    prev = 0;
    let dataStart = 0;
    for (let i = 0; i < n; i++) {
      const s = this.starts[i];
      if (s > prev) out.bytes(src + <usize>prev, s - prev);
      const de = this.dataEnds[i];
      out.bytes(this.sink.ptr + <usize>dataStart, de - dataStart);
      dataStart = de;
      prev = this.ends[i];
    }
    if (cut >= 0) {
      if (cut > prev) out.bytes(src + <usize>prev, cut - prev);
      this.carry.reset();
      const from = max(cut, prev);
      this.carry.bytes(src + <usize>from, size - from);
    }
    releaseHostMemory(src);
    const r = setBufferBytes(type, 0, end, out.ptr, out.length);
    const delta = out.length - end;
    this.reset();
    if (r != WasmResult.Ok) { this.carry.reset(); return i32.MIN_VALUE; }
    return delta;
  }

  /** Puts the carry back in front of the buffer; its length (0: none), or −1 if the host refused. */
  restoreCarry(type: BufferType): i32 {
    const c = this.carry;
    const n = c.length;
    if (n == 0) return 0;
    const r = setBufferBytes(type, 0, 0, c.ptr, n);
    c.reset();
    return r == WasmResult.Ok ? n : -1;
  }

  reset(): void {
    this.starts.length = 0;
    this.ends.length = 0;
    this.dataEnds.length = 0;
    this.sink.reset();
    this.carryFrom = -1;
  }
}
