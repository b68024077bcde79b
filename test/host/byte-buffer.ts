// Envoy's Buffer::Instance reduced to what the network path uses: the connection read buffer,
// tcp_proxy's upstream read buffer and early-data buffer. Filters see and edit the same object,
// so a Pause can leave bytes in it and a set_buffer_bytes edits what later filters receive.
export class ByteBuffer {
  private data: Uint8Array;
  private start = 0;
  private end = 0;

  constructor(initial?: Uint8Array) {
    this.data = new Uint8Array(Math.max(256, initial?.length ?? 0));
    if (initial) this.add(initial);
  }

  get length(): number {
    return this.end - this.start;
  }

  // A view, valid until the next mutation.
  view(): Uint8Array {
    return this.data.subarray(this.start, this.end);
  }

  slice(start: number, length: number): Uint8Array {
    return this.data.subarray(this.start + start, this.start + start + length);
  }

  add(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.reserveTail(bytes.length);
    this.data.set(bytes, this.end);
    this.end += bytes.length;
  }

  prepend(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.start >= bytes.length) {
      this.start -= bytes.length;
      this.data.set(bytes, this.start);
      return;
    }
    const old = this.view().slice();
    this.start = 0;
    this.end = 0;
    this.reserveTail(old.length + bytes.length);
    this.data.set(bytes, 0);
    this.data.set(old, bytes.length);
    this.end = bytes.length + old.length;
  }

  // Like Envoy in release builds, draining more than is there empties the buffer.
  drain(n: number): void {
    this.start += Math.min(n, this.length);
    if (this.start === this.end) this.start = this.end = 0;
  }

  // Moves everything out (Buffer::move): returns the bytes and leaves this empty.
  take(): Uint8Array {
    const out = this.view().slice();
    this.start = this.end = 0;
    return out;
  }

  moveFrom(other: ByteBuffer): void {
    this.add(other.view());
    other.drain(other.length);
  }

  private reserveTail(n: number): void {
    if (this.end + n <= this.data.length) return;
    const len = this.length;
    if (len + n <= this.data.length && this.start > 0) {
      this.data.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(this.data.length * 2, len + n));
      grown.set(this.data.subarray(this.start, this.end));
      this.data = grown;
    }
    this.start = 0;
    this.end = len;
  }
}
