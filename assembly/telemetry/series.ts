// Per (protocol, service, method) request metrics. Each series' metrics are defined with the host
// once, the first time a request of that service and method is seen on this VM; after that a
// request costs a hash of its service and method bytes and a few additions (flushed once per host
// callback) — no allocation. Beyond `max_series` new series fold into service/method "other", so a
// client inventing method names cannot grow Envoy's stats without bound. The per-request methods are
// @inline: a call that holds managed references pays a shadow-stack frame (zero-filled, every
// reference spilled) which cost more than the bookkeeping itself.
import { defineMetric, incrementMetric, recordMetric } from "../abi/hostcalls";
import { MetricType } from "../abi/types";
import { TAG_METHOD, TAG_PROTOCOL, TAG_RESPONSE_STATUS, TAG_SERVICE, tag, tagBytes } from "./names";

export const STATUS_OK: i32 = 0;
export const STATUS_ERROR: i32 = 1;
export const STATUS_EXCEPTION: i32 = 2;
export const STATUS_NAMES: StaticArray<string> = ["ok", "error", "exception"];

export class Series {
  requests: u32 = 0;
  responses: StaticArray<u32> = new StaticArray<u32>(3);
  requestBytes: u32 = 0;
  responseBytes: u32 = 0;
  duration: u32 = 0;
  // batched deltas
  dRequests: i64 = 0;
  dResponses: StaticArray<i64> = new StaticArray<i64>(3);
  dRequestBytes: i64 = 0;
  dResponseBytes: i64 = 0;
  dirty: bool = false;
  /** Position in its table (what pending requests remember: an integer, not a reference). */
  index: i32 = -1;

  constructor(readonly hash: u32, readonly key: Uint8Array, readonly serviceLen: i32) {}

  define(prefix: string): void {
    this.requests = defineMetric(MetricType.Counter, prefix + "metawire_requests_total");
    for (let s = 0; s < 3; s++) {
      unchecked(this.responses[s] = defineMetric(MetricType.Counter, prefix + tag(TAG_RESPONSE_STATUS, STATUS_NAMES[s]) + "metawire_responses_total"));
    }
    this.requestBytes = defineMetric(MetricType.Counter, prefix + "metawire_request_bytes_total");
    this.responseBytes = defineMetric(MetricType.Counter, prefix + "metawire_response_bytes_total");
    this.duration = defineMetric(MetricType.Histogram, prefix + "metawire_request_duration_us");
  }

  flush(): void {
    this.dirty = false;
    if (this.dRequests != 0) { incrementMetric(this.requests, this.dRequests); this.dRequests = 0; }
    if (this.dRequestBytes != 0) { incrementMetric(this.requestBytes, this.dRequestBytes); this.dRequestBytes = 0; }
    if (this.dResponseBytes != 0) { incrementMetric(this.responseBytes, this.dResponseBytes); this.dResponseBytes = 0; }
    for (let s = 0; s < 3; s++) {
      const d = unchecked(this.dResponses[s]);
      if (d != 0) { incrementMetric(unchecked(this.responses[s]), d); unchecked(this.dResponses[s] = 0); }
    }
  }

  recordDuration(us: i64): void {
    recordMetric(this.duration, <u64>(us < 0 ? 0 : us));
  }

  matches(hash: u32, sp: usize, sl: i32, mp: usize, ml: i32): bool {
    return this.hash == hash && this.sameKey(sp, sl, mp, ml);
  }

  // @ts-ignore: decorator
  @inline sameKey(sp: usize, sl: i32, mp: usize, ml: i32): bool {
    const key = this.key;
    if (this.serviceLen != sl || key.length != sl + ml) return false;
    const k = key.dataStart;
    for (let i = 0; i < sl; i++) if (load<u8>(k + <usize>i) != load<u8>(sp + <usize>i)) return false;
    for (let i = 0; i < ml; i++) if (load<u8>(k + <usize>(sl + i)) != load<u8>(mp + <usize>i)) return false;
    return true;
  }
}

/** The series of one protocol on one VM. */
export class SeriesTable {
  private slots: StaticArray<Series | null> = new StaticArray<Series | null>(64);
  private count: i32 = 0;
  private last: Series | null = null;
  private other: Series | null = null;
  private dirtyList: Array<Series> = [];
  private all: Array<Series> = [];
  /** New series folded into "other" since the last flush. */
  overflowed: i64 = 0;

  constructor(private protocol: string, private perMethod: bool, private maxSeries: i32) {}

  /** The series of a request with this service and method (empty = absent). */
  // @ts-ignore: decorator
  @inline lookup(sp: usize, sl: i32, mp: usize, ml: i32): Series {
    if (!this.perMethod) { sl = 0; ml = 0; }
    const last = this.last;
    if (last != null && last.sameKey(sp, sl, mp, ml)) return last; // pipelines repeat methods: no hash
    const h = hashKey(sp, sl, mp, ml);
    const mask = this.slots.length - 1;
    let i = <i32>h & mask;
    while (true) {
      const s = unchecked(this.slots[i]);
      if (s == null) break;
      if (s.matches(h, sp, sl, mp, ml)) { this.last = s; return s; }
      i = (i + 1) & mask;
    }
    if (this.count >= this.maxSeries && this.perMethod) {
      this.overflowed++;
      return this.otherSeries();
    }
    const created = this.create(h, sp, sl, mp, ml);
    this.insert(created);
    this.last = created;
    return created;
  }

  /** The series with this index (from Series.index). */
  // @ts-ignore: decorator
  @inline at(index: i32): Series {
    return unchecked(this.all[index]);
  }

  /** Marks a series as changed in this callback (flushed by flush()). */
  // @ts-ignore: decorator
  @inline touch(s: Series): void {
    if (!s.dirty) { s.dirty = true; this.dirtyList.push(s); }
  }

  flush(): void {
    const list = this.dirtyList;
    for (let i = 0, n = list.length; i < n; i++) unchecked(list[i]).flush();
    list.length = 0;
  }

  private create(h: u32, sp: usize, sl: i32, mp: usize, ml: i32): Series {
    const key = new Uint8Array(sl + ml);
    memory.copy(key.dataStart, sp, sl);
    memory.copy(key.dataStart + <usize>sl, mp, ml);
    const s = new Series(h, key, sl);
    s.define(tag(TAG_PROTOCOL, this.protocol) + tagBytes(TAG_SERVICE, sp, sl) + tagBytes(TAG_METHOD, mp, ml));
    this.register(s);
    return s;
  }

  private otherSeries(): Series {
    let o = this.other;
    if (o == null) {
      o = new Series(0, new Uint8Array(0), -1); // serviceLen −1: never equal to a looked-up key
      o.define(tag(TAG_PROTOCOL, this.protocol) + tag(TAG_SERVICE, "other") + tag(TAG_METHOD, "other"));
      this.register(o);
      this.other = o;
    }
    return o;
  }

  private register(s: Series): void {
    s.index = this.all.length;
    this.all.push(s);
  }

  private insert(s: Series): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    let i = <i32>s.hash & mask;
    while (unchecked(this.slots[i]) != null) i = (i + 1) & mask;
    unchecked(this.slots[i] = s);
    this.count++;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new StaticArray<Series | null>(old.length * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i++) {
      const s = unchecked(old[i]);
      if (s != null) this.insert(s);
    }
  }
}

/** FNV-1a over the service, a separator, then the method. */
function hashKey(sp: usize, sl: i32, mp: usize, ml: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < sl; i++) h = (h ^ <u32>load<u8>(sp + <usize>i)) * 0x01000193;
  h = (h ^ 0xff) * 0x01000193;
  for (let i = 0; i < ml; i++) h = (h ^ <u32>load<u8>(mp + <usize>i)) * 0x01000193;
  return h;
}

/**
 * Which series each outstanding request belongs to, by the id replies are correlated with.
 * `fifo` (Redis): replies come in request order, and a request the server will not answer is
 * passed over when a later one is answered.
 */
export class PendingSeries {
  private ids: StaticArray<i64> = new StaticArray<i64>(16);
  /** Series.index of each entry: plain integers, so keeping them costs no GC write barrier. */
  private series: StaticArray<i32> = new StaticArray<i32>(16);
  private head: i32 = 0;
  private size: i32 = 0;
  /** Entries passed over by FIFO takes since the last read (requests that got no reply). */
  dropped: i32 = 0;

  constructor(private fifo: bool, private max: i32) {}

  get length(): i32 { return this.size; }

  // @ts-ignore: decorator
  @inline push(id: i64, series: i32): void {
    if (this.size == this.ids.length) {
      if (this.size >= this.max) return; // beyond the tracked window the reply falls back to the protocol-wide series
      this.grow();
    }
    const at = (this.head + this.size) & (this.ids.length - 1);
    unchecked(this.ids[at] = id);
    unchecked(this.series[at] = series);
    this.size++;
  }

  /** Removes request `id` and returns its series index, or −1 when it is not tracked. */
  // @ts-ignore: decorator
  @inline take(id: i64): i32 {
    const mask = this.ids.length - 1;
    for (let k = 0; k < this.size; k++) {
      const at = (this.head + k) & mask;
      const got = unchecked(this.ids[at]);
      if (got != id) {
        if (this.fifo && got > id) return -1; // replies come in order: a later request means id was never tracked
        continue;
      }
      const s = unchecked(this.series[at]);
      if (this.fifo) {
        this.dropped += k; // earlier requests the server did not answer
        this.head = (at + 1) & mask;
        this.size -= k + 1;
      } else {
        // close the gap toward the head (out-of-order replies are rarely deep)
        for (let j = k; j < this.size - 1; j++) {
          const a = (this.head + j) & mask, b = (this.head + j + 1) & mask;
          unchecked(this.ids[a] = this.ids[b]);
          unchecked(this.series[a] = this.series[b]);
        }
        this.size--;
      }
      return s;
    }
    return -1;
  }

  clear(): i32 {
    const n = this.size;
    this.size = 0;
    this.head = 0;
    return n;
  }

  private grow(): void {
    const cap = this.ids.length;
    const ids = new StaticArray<i64>(cap * 2);
    const series = new StaticArray<i32>(cap * 2);
    for (let k = 0; k < this.size; k++) {
      const at = (this.head + k) & (cap - 1);
      unchecked(ids[k] = this.ids[at]);
      unchecked(series[k] = this.series[at]);
    }
    this.ids = ids;
    this.series = series;
    this.head = 0;
  }
}
