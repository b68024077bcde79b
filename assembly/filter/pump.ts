// Walks one host buffer (DownstreamData or UpstreamData) through a decoder, copying only the
// bytes the decoder must look at: windows of at most `chunk` bytes are fetched with
// get_buffer_bytes, and whatever the decoder declares skippable (a payload it does not capture)
// is stepped over by length without being copied. A 1 MiB value costs two small fetches.
//
// D is any decoder with the codec contract (feed/event/skippable/skip); AssemblyScript
// monomorphises the generic, so the calls are direct.
import { EV_ERROR, EV_MESSAGE, EV_NEED_MORE } from "../protocols/codec";
import { bufferLen, bufferPtr, getBufferBytes } from "../abi/hostcalls";
import { releaseHostMemory } from "../abi/memory";
import { BufferType, WasmResult } from "../abi/types";

export const DEFAULT_CHUNK: i32 = 16 * 1024;

export class BufferPump<D> {
  private type: BufferType = BufferType.DownstreamData;
  /** Offset in the host buffer of the first byte not yet handed to the decoder (or skipped). */
  private pos: i32 = 0;
  private size: i32 = 0;
  private winPtr: usize = 0;
  private winLen: i32 = 0;
  private winOff: i32 = 0;
  failure: string = "";

  constructor(public chunk: i32 = DEFAULT_CHUNK) {}

  begin(type: BufferType, start: i32, size: i32): void {
    this.type = type;
    this.pos = start;
    this.size = size;
    this.winLen = 0;
    this.winOff = 0;
    this.failure = "";
  }

  /**
   * Feeds the decoder until it completes a message (EV_MESSAGE: call again for the next one),
   * fails (EV_ERROR) or the buffer is exhausted (EV_NEED_MORE).
   */
  next(dec: D): i32 {
    while (true) {
      if (this.winOff < this.winLen) {
        const consumed = dec.feed(this.winPtr + <usize>this.winOff, this.winLen - this.winOff);
        this.winOff += consumed;
        const ev = dec.event;
        if (ev == EV_MESSAGE) return ev;
        if (ev == EV_ERROR) { this.end(); return ev; }
        if (consumed == 0) { this.failure = "decoder made no progress"; this.end(); return EV_ERROR; }
        continue;
      }
      this.pos += this.winLen;
      this.winLen = 0;
      this.winOff = 0;
      releaseHostMemory(this.winPtr);
      this.winPtr = 0;
      if (this.pos >= this.size) return EV_NEED_MORE;
      const skippable = dec.skippable();
      if (skippable > 0) {
        const n = <i32>min<i64>(skippable, <i64>(this.size - this.pos));
        dec.skip(n);
        this.pos += n;
        continue;
      }
      const r = getBufferBytes(this.type, this.pos, min(this.size - this.pos, this.chunk));
      if (r != WasmResult.Ok || bufferLen <= 0) {
        releaseHostMemory(bufferPtr);
        this.failure = "host returned no bytes";
        return EV_NEED_MORE;
      }
      this.winPtr = bufferPtr;
      this.winLen = bufferLen;
    }
  }

  /** Releases the current window (after an error, or when abandoning the buffer). */
  end(): void {
    releaseHostMemory(this.winPtr);
    this.winPtr = 0;
    this.pos += this.winOff;
    this.winLen = 0;
    this.winOff = 0;
  }
}
