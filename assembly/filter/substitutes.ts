// Requests the filter rewrote in-band and whose reply it must therefore rewrite too, keyed by the
// id the protocol's session correlates replies with (Redis: the session's request id; Thrift:
// seqid; Dubbo: request id). Only denied requests land here, so a short list scanned linearly is
// the right structure; entries are recycled.

/** The reply becomes a protocol-native error carrying `text`. */
export const SUB_ERROR: i32 = 0;
/** The reply becomes a success (Redis `+OK` for an AUTH the filter answered itself). */
export const SUB_OK: i32 = 1;
/** The reply disappears (the upstream AUTH the filter injected). */
export const SUB_SWALLOW: i32 = 2;
/** As SUB_ERROR, with the protocol's generic error code before `text` (Redis `ERR`). */
export const SUB_ERROR_CODED: i32 = 3;

export class Substitute {
  id: i64 = 0;
  kind: i32 = SUB_ERROR;
  text: string = "";
  /** Protocol details the error reply must repeat (Thrift: method name, transport, protocol…). */
  method: Uint8Array = new Uint8Array(0);
  transport: i32 = 0;
  protocol: i32 = 0;
  lax: bool = false;
  headerSeqId: i32 = 0;
  headerFlags: i32 = 0;
  serialization: i32 = 0;
  status: i32 = 0;
}

export class SubstituteTable {
  private live: Array<Substitute> = [];
  private free: Array<Substitute> = [];

  get size(): i32 { return this.live.length; }

  add(id: i64, kind: i32, text: string): Substitute {
    const s = this.free.length > 0 ? this.free.pop() : new Substitute();
    s.id = id;
    s.kind = kind;
    s.text = text;
    this.live.push(s);
    return s;
  }

  /** Removes and returns the entry for `id` (oldest first), or null. Recycled on the next add. */
  take(id: i64): Substitute | null {
    const live = this.live;
    for (let i = 0, n = live.length; i < n; i++) {
      const s = unchecked(live[i]);
      if (s.id == id) {
        live.splice(i, 1);
        this.free.push(s);
        return s;
      }
    }
    return null;
  }
}
