// Request/reply correlation for one Thrift connection (specs/protocols.md §1.5, §1.8). A reply
// echoes its request's seqid; replies are normally FIFO, but servers that answer out of order exist
// (fbthrift) and some clients use one seqid for everything (Python's generated clients send 0), so a
// reply matches the oldest pending CALL with its seqid – the head in the common case. ONEWAY never
// gets a reply and is not queued.
//
// Pending requests live in a ring buffer of fixed-size entries, preallocated and doubled on demand
// up to maxPending; past that the connection's correlation is given up (overflowed()), as for Redis.

import { ThriftDecoder } from "./message-decoder";
import { MSG_CALL, MSG_REPLY, MSG_EXCEPTION } from "./types";

export const REPLY_MATCHED: i32 = 1;
export const REPLY_UNEXPECTED: i32 = 3;

/** Method bytes kept per pending request. */
export const PENDING_METHOD_CAP: i32 = 64;

// entry layout (bytes)
const E_START: i32 = 0; // i64
const E_SEQ: i32 = 8; // i32
const E_MLEN: i32 = 12; // i32
const E_METHOD: i32 = 16; // PENDING_METHOD_CAP bytes
const ENTRY: i32 = E_METHOD + PENDING_METHOD_CAP;
const INITIAL: i32 = 16;

export class ThriftSession {
  private ring: StaticArray<u8>;
  private capacity: i32;
  private head: i32 = 0;
  private count: i32 = 0;
  private readonly maxPending: i32;
  private over: bool = false;
  private lastExpects: bool = false;
  // the request the last REPLY_MATCHED answered
  private mStart: i64 = 0;
  private mSeq: i32 = 0;
  private readonly mMethod: StaticArray<u8> = new StaticArray<u8>(PENDING_METHOD_CAP);
  private mMethodLen: i32 = 0;

  constructor(maxPending: i32 = 65536) {
    const max = maxPending < 1 ? 1 : maxPending;
    const capacity = max < INITIAL ? max : INITIAL;
    this.maxPending = max;
    this.capacity = capacity;
    this.ring = new StaticArray<u8>(capacity * ENTRY);
  }

  /** After each request-side EV_MESSAGE: a CALL waits for its reply; ONEWAY (and anything else) does not. */
  onRequest(dec: ThriftDecoder, nowNs: i64): void {
    this.lastExpects = dec.messageType() == MSG_CALL;
    if (!this.lastExpects || this.over) return;
    if (this.count >= this.maxPending) {
      this.over = true; // correlation given up for this connection
      this.count = 0;
      return;
    }
    if (this.count == this.capacity) this.grow();
    const e = this.entry(this.count);
    this.count++;
    store<i64>(e, nowNs, E_START);
    store<i32>(e, dec.seqId(), E_SEQ);
    let ml = dec.methodLen();
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    store<i32>(e, ml, E_MLEN);
    memory.copy(e + E_METHOD, dec.methodPtr(), <usize>ml);
  }

  /** Whether the last request expects a reply (a CALL). */
  lastRequestExpectsReply(): bool {
    return this.lastExpects;
  }

  /** After each reply-side EV_MESSAGE: REPLY_MATCHED (see matched*()) or REPLY_UNEXPECTED. */
  onReply(dec: ThriftDecoder): i32 {
    const t = dec.messageType();
    if (this.over || (t != MSG_REPLY && t != MSG_EXCEPTION)) return REPLY_UNEXPECTED;
    const seq = dec.seqId();
    for (let k = 0; k < this.count; k++) {
      const e = this.entry(k);
      if (load<i32>(e, E_SEQ) != seq) continue;
      this.mStart = load<i64>(e, E_START);
      this.mSeq = seq;
      let ml = load<i32>(e, E_MLEN);
      if (ml < 0 || ml > PENDING_METHOD_CAP) ml = 0;
      memory.copy(changetype<usize>(this.mMethod), e + E_METHOD, <usize>ml);
      this.mMethodLen = ml;
      this.remove(k);
      return REPLY_MATCHED;
    }
    return REPLY_UNEXPECTED;
  }

  // ---- the request the last REPLY_MATCHED answered ------------------------------------------------

  matchedStartNs(): i64 {
    return this.mStart;
  }
  matchedSeqId(): i32 {
    return this.mSeq;
  }
  /** Its method (the part after a multiplexing "Service:"), at most PENDING_METHOD_CAP bytes. */
  matchedMethodPtr(): usize {
    return changetype<usize>(this.mMethod);
  }
  matchedMethodLen(): i32 {
    return this.mMethodLen;
  }

  pending(): i32 {
    return this.count;
  }
  overflowed(): bool {
    return this.over;
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** Address of the k-th pending entry (0 = oldest). */
  private entry(k: i32): usize {
    return changetype<usize>(this.ring) + <usize>(((this.head + k) % this.capacity) * ENTRY);
  }

  /** Drops the k-th entry; later ones move up one place (out-of-order replies only, so rare). */
  private remove(k: i32): void {
    if (k == 0) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      return;
    }
    for (let j = k; j < this.count - 1; j++) memory.copy(this.entry(j), this.entry(j + 1), <usize>ENTRY);
    this.count--;
  }

  private grow(): void {
    let cap = this.capacity * 2;
    if (cap > this.maxPending) cap = this.maxPending;
    if (cap <= this.capacity) return;
    const next = new StaticArray<u8>(cap * ENTRY);
    const dst = changetype<usize>(next);
    for (let k = 0; k < this.count; k++) memory.copy(dst + <usize>(k * ENTRY), this.entry(k), <usize>ENTRY);
    this.ring = next;
    this.capacity = cap;
    this.head = 0;
  }
}
