// Bounds-checked access to the module's linear memory, as cpp-host's getMemory/setWord/setMemory:
// an out-of-range access is reported (the hostcall then returns InvalidMemoryAccess or EFAULT),
// never a JS exception. Views are re-created whenever memory.grow detached the old buffer
// (a guest malloc inside a hostcall may grow it).
export class GuestMemory {
  private u8: Uint8Array;
  private dv: DataView;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.u8 = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
  }

  /** Current size of the linear memory in bytes (it only grows). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  private refresh(): void {
    if (this.u8.buffer !== this.memory.buffer) {
      this.u8 = new Uint8Array(this.memory.buffer);
      this.dv = new DataView(this.memory.buffer);
    }
  }

  get size(): number {
    this.refresh();
    return this.u8.length;
  }

  private ok(ptr: number, len: number): boolean {
    this.refresh();
    return ptr + len <= this.u8.length;
  }

  // A copy: the guest may change or free the memory after the hostcall returns.
  read(ptr: number, len: number): Uint8Array | undefined {
    return this.ok(ptr, len) ? this.u8.slice(ptr, ptr + len) : undefined;
  }

  write(ptr: number, bytes: Uint8Array): boolean {
    if (!this.ok(ptr, bytes.length)) return false;
    this.u8.set(bytes, ptr);
    return true;
  }

  setU16(ptr: number, v: number): boolean {
    if (!this.ok(ptr, 2)) return false;
    this.dv.setUint16(ptr, v, true);
    return true;
  }

  setU32(ptr: number, v: number): boolean {
    if (!this.ok(ptr, 4)) return false;
    this.dv.setUint32(ptr, v >>> 0, true);
    return true;
  }

  setU64(ptr: number, v: bigint): boolean {
    if (!this.ok(ptr, 8)) return false;
    this.dv.setBigUint64(ptr, BigInt.asUintN(64, v), true);
    return true;
  }

  getU32(ptr: number): number | undefined {
    return this.ok(ptr, 4) ? this.dv.getUint32(ptr, true) : undefined;
  }
}

const utf8 = new TextDecoder();
export const decodeUtf8 = (b: Uint8Array): string => utf8.decode(b);
const enc = new TextEncoder();
export const encodeUtf8 = (s: string): Uint8Array => enc.encode(s);
