// Request/response correlation for one Dubbo connection (specs/protocols.md §2.1): a response echoes
// its request's 8-byte id and responses may come in any order (Dubbo multiplexes concurrent calls on
// one connection), so pending requests are kept in a hash table by id, not a FIFO.
//
// Only two-way requests are pending: a one-way request (0x82) and a one-way event (0xA2, READONLY) get
// no response. A heartbeat request (0xE2) is two-way and its response (0x22) echoes the id, so it is
// tracked like a call.
//
// The table (open addressing, linear probing, backward-shift deletion, so no tombstones) starts small
// and doubles on demand, keeping the load at most 1/2; at most maxPending requests are pending. One
// more gives correlation up for the connection (overflowed()), as the Redis and Thrift sessions do:
// a peer that never answers must not grow memory without bound. A request whose id is already
// pending replaces the older entry (ids are per-connection counters; a repeat means the old call was
// abandoned).

import { DubboDecoder } from "./message-decoder";

export const MATCHED: i32 = 1;
export const UNEXPECTED: i32 = 3;

/** Method bytes kept per pending request. */
export const PENDING_METHOD_CAP: i32 = 64;

// entry layout (bytes)
const E_ID: i32 = 0; // i64
const E_START: i32 = 8; // i64
const E_USED: i32 = 16; // u8
const E_HEARTBEAT: i32 = 17; // u8
const E_MLEN: i32 = 18; // u8
const E_METHOD: i32 = 24; // PENDING_METHOD_CAP bytes
const ENTRY: i32 = E_METHOD + PENDING_METHOD_CAP;
const INITIAL: i32 = 16;
/** Keeps the table (2 entries per pending request) addressable with i32 offsets. */
const MAX_PENDING_CAP: i32 = 1 << 22;

export class DubboSession {
  private table: StaticArray<u8>;
  private capacity: i32; // a power of two
  private count: i32 = 0;
  private readonly maxPending: i32;
  private over: bool = false;
  private lastExpects: bool = false;
  // the request the last MATCHED response answered
  private mId: i64 = 0;
  private mStart: i64 = 0;
  private mHeartbeat: bool = false;
  private readonly mMethod: StaticArray<u8> = new StaticArray<u8>(PENDING_METHOD_CAP);
  private mMethodLen: i32 = 0;

  constructor(maxPending: i32 = 65536) {
    const max = maxPending < 1 ? 1 : maxPending > MAX_PENDING_CAP ? MAX_PENDING_CAP : maxPending;
    this.maxPending = max;
    this.capacity = INITIAL;
    this.table = new StaticArray<u8>(INITIAL * ENTRY);
  }

  /** After each request-side EV_MESSAGE: a two-way request (heartbeats included) waits for its response. */
  onRequest(dec: DubboDecoder, nowNs: i64): void {
    this.lastExpects = dec.isTwoWay();
    if (!this.lastExpects || this.over) return;
    const id = dec.requestId();
    let e = this.find(id);
    if (e == 0) {
      if (this.count >= this.maxPending) {
        this.over = true; // correlation given up for this connection
        this.clear();
        return;
      }
      if ((this.count + 1) * 2 > this.capacity) this.grow();
      e = this.slotFor(id);
      this.count++;
    }
    store<i64>(e, id, E_ID);
    store<i64>(e, nowNs, E_START);
    store<u8>(e, 1, E_USED);
    store<u8>(e, dec.isHeartbeat() ? 1 : 0, E_HEARTBEAT);
    let ml = dec.methodLen();
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    store<u8>(e, <u8>ml, E_MLEN);
    memory.copy(e + E_METHOD, dec.methodPtr(), <usize>ml);
  }

  /** Whether the last request expects a response. */
  lastRequestExpectsResponse(): bool {
    return this.lastExpects;
  }

  /** After each response-side EV_MESSAGE: MATCHED (see matched*()) or UNEXPECTED. */
  onResponse(dec: DubboDecoder): i32 {
    if (dec.isRequest() || this.over) return UNEXPECTED;
    const e = this.find(dec.requestId());
    if (e == 0) return UNEXPECTED;
    this.mId = load<i64>(e, E_ID);
    this.mStart = load<i64>(e, E_START);
    this.mHeartbeat = load<u8>(e, E_HEARTBEAT) != 0;
    const ml = <i32>load<u8>(e, E_MLEN);
    memory.copy(changetype<usize>(this.mMethod), e + E_METHOD, <usize>ml);
    this.mMethodLen = ml;
    this.remove(e);
    return MATCHED;
  }

  matchedRequestId(): i64 {
    return this.mId;
  }
  matchedStartNs(): i64 {
    return this.mStart;
  }
  matchedIsHeartbeat(): bool {
    return this.mHeartbeat;
  }
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

  // ---- table --------------------------------------------------------------------------------------

  // @ts-ignore: decorator
  @inline
  private entry(i: i32): usize {
    return changetype<usize>(this.table) + <usize>(i * ENTRY);
  }

  // @ts-ignore: decorator
  @inline
  private home(id: i64): i32 {
    // Fibonacci hashing: ids are sequential counters, the multiply spreads them
    return <i32>((<u64>id * 0x9e3779b97f4a7c15) >> 32) & (this.capacity - 1);
  }

  /** The entry holding id, or 0. */
  private find(id: i64): usize {
    const mask = this.capacity - 1;
    let i = this.home(id);
    while (true) {
      const e = this.entry(i);
      if (load<u8>(e, E_USED) == 0) return 0;
      if (load<i64>(e, E_ID) == id) return e;
      i = (i + 1) & mask;
    }
    return 0;
  }

  /** The free entry where id goes (the table is never full: load ≤ 1/2). */
  private slotFor(id: i64): usize {
    const mask = this.capacity - 1;
    let i = this.home(id);
    while (load<u8>(this.entry(i), E_USED) != 0) i = (i + 1) & mask;
    return this.entry(i);
  }

  private remove(e: usize): void {
    const mask = this.capacity - 1;
    let hole = <i32>((e - changetype<usize>(this.table)) / <usize>ENTRY);
    let j = hole;
    while (true) {
      j = (j + 1) & mask;
      const ej = this.entry(j);
      if (load<u8>(ej, E_USED) == 0) break;
      const k = this.home(load<i64>(ej, E_ID));
      // the entry at j may stay if its home lies cyclically in (hole, j]
      const stays = hole <= j ? hole < k && k <= j : hole < k || k <= j;
      if (stays) continue;
      memory.copy(this.entry(hole), ej, <usize>ENTRY);
      hole = j;
    }
    store<u8>(this.entry(hole), 0, E_USED);
    this.count--;
  }

  private clear(): void {
    memory.fill(changetype<usize>(this.table), 0, <usize>(this.capacity * ENTRY));
    this.count = 0;
  }

  private grow(): void {
    const old = this.table;
    const oldCap = this.capacity;
    const cap = oldCap << 1;
    this.table = new StaticArray<u8>(cap * ENTRY);
    this.capacity = cap;
    const base = changetype<usize>(old);
    for (let i = 0; i < oldCap; i++) {
      const e = base + <usize>(i * ENTRY);
      if (load<u8>(e, E_USED) == 0) continue;
      memory.copy(this.slotFor(load<i64>(e, E_ID)), e, <usize>ENTRY);
    }
  }
}
