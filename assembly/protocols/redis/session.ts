// Request/reply correlation for one Redis connection (specs/protocols.md §3.3). Replies are FIFO,
// except:
//   * RESP3 pushes (`>`) are out of band – but in RESP3 the (un)subscribe acknowledgements are pushes
//     too, and they answer the pending (P|S)(UN)SUBSCRIBE;
//   * RESP2 pub/sub: once subscribed (acks came as arrays), `message`/`pmessage`/`smessage` arrays
//     are out of band; (P|S)SUBSCRIBE with k channels is answered by k acks, (P|S|)UNSUBSCRIBE with k
//     arguments by k, without arguments by one per subscription of its kind (at least one) – counted
//     from the acks seen, decided when that request reaches the head of the queue;
//   * MONITOR: after its +OK, simple strings starting with a digit are the monitor feed;
//   * CLIENT REPLY OFF|SKIP and the command after SKIP get no reply at all (decided per request, in
//     order, as the server does), CLIENT REPLY ON gets +OK.
// MULTI/EXEC (+QUEUED …, one array for EXEC) and blocking commands are plain FIFO.
// Known gaps: (un)subscribe inside MULTI is answered +QUEUED (handled: any non-ack reply completes
// the request) but its later effect on subscription counts is not tracked; CLIENT REPLY inside
// MULTI takes effect at EXEC, which is not modelled.
//
// Pending requests live in a ring buffer of fixed-size entries, preallocated and doubled on demand
// up to maxPending; past that the connection's correlation is given up (overflowed()).
//
// Speed: the state lives in an @unmanaged struct (SessionState) in a block owned by the session, and
// reads the decoders' @unmanaged state directly, so the per-message code never spills managed
// references to the shadow stack; only ring growth and the CLIENT REPLY argument check touch managed
// objects.

import { RedisRequestDecoder, captureOf } from "./request-decoder";
import { RedisReplyDecoder, ReplyState, replyStateOf } from "./reply-decoder";
import { RequestCapture } from "./request-capture";
import {
  psKind,
  CMD_SUBSCRIBE,
  CMD_UNSUBSCRIBE,
  CMD_MONITOR,
  CMD_CLIENT,
  CMD_RESET,
  PS_SHARD,
} from "./commands";
import { isDigit } from "./ascii";
import { align8 } from "./raw";

export const REPLY_MATCHED: i32 = 1;
export const REPLY_OUT_OF_BAND: i32 = 2;
export const REPLY_UNEXPECTED: i32 = 3;

export const PENDING_METHOD_CAP: i32 = 16;

// entry layout (bytes)
const E_ID: i32 = 0; // i64
const E_START: i32 = 8; // i64
const E_CMD: i32 = 16; // i32
const E_EXPECT: i32 = 20; // i32: replies still due; -1: unsubscribe-all, decided at the head
const E_ACK: i32 = 24; // u8: ACK_* of the replies due
const E_KIND: i32 = 25; // u8: pub/sub kind
const E_MLEN: i32 = 26; // u8
const E_FLAGS: i32 = 27; // u8
const E_METHOD: i32 = 32; // 16 bytes, 8-aligned
const ENTRY: i32 = 48;
const INITIAL: i32 = 16;

const F_MONITOR: u8 = 1;
const F_RESET: u8 = 2;

// acknowledgement words (head of an array/push), with the pub/sub kind in bits 0..1
const ACK_NONE: i32 = 0;
const ACK_SUB: i32 = 4;
const ACK_UNSUB: i32 = 8;
const ACK_MESSAGE: i32 = 16;

// CLIENT REPLY mode of a request
const CR_NONE: i32 = 0;
const CR_ON: i32 = 1;
const CR_OFF: i32 = 2;
const CR_SKIP: i32 = 3;

export class RedisSession {
  /** Pending-request entries (ENTRY bytes each); replaced by a larger one when it fills up. */
  private ring: StaticArray<u8>;
  /** Memory of the state (one GC object, made once). */
  private readonly block: StaticArray<u8>;
  private readonly st: SessionState;

  constructor(maxPending: i32 = 65536) {
    const max = maxPending < 1 ? 1 : maxPending;
    const capacity = max < INITIAL ? max : INITIAL;
    const ring = new StaticArray<u8>(capacity * ENTRY);
    this.ring = ring;
    const sz = align8(offsetof<SessionState>());
    const block = new StaticArray<u8>(<i32>sz + 8 * 3 + PENDING_METHOD_CAP);
    this.block = block;
    const at = changetype<usize>(block);
    const st = changetype<SessionState>(at);
    st.subCount = at + sz;
    st.mMethod = at + sz + 8 * 3;
    st.ring = changetype<usize>(ring);
    st.capacity = capacity;
    st.maxPending = max;
    st.mCmd = -1;
    this.st = st;
  }

  /** After each request EV_MESSAGE: assigns the next id and queues what the server will answer. */
  onRequest(req: RedisRequestDecoder, nowNs: i64): void {
    // `this` and `req` only as addresses: managed uses would spill to the shadow stack on every call
    const self = changetype<usize>(this);
    const st = sessionStateOf(self);
    const cap = captureOf(changetype<usize>(req));
    // Growing ahead of need (also for a request that will not queue) is unobservable and keeps the
    // allocation out of SessionState.
    if (st.count == st.capacity && !st.over && st.capacity < st.maxPending) growRing(self);
    let client = CR_NONE;
    if ((cap.flags & CMD_CLIENT) != 0 && cap.argc == 3) client = clientReply(changetype<usize>(req));
    st.onRequest(cap, nowNs, client);
  }

  lastRequestId(): i64 {
    return this.st.lastId;
  }
  /** Whether the server will answer the last request (false under CLIENT REPLY OFF/SKIP). */
  lastRequestExpectsReply(): bool {
    return this.st.lastExpects;
  }

  /** After each reply EV_MESSAGE: REPLY_MATCHED, REPLY_OUT_OF_BAND or REPLY_UNEXPECTED. */
  onReply(rep: RedisReplyDecoder): i32 {
    return sessionStateOf(changetype<usize>(this)).onReply(replyStateOf(changetype<usize>(rep)));
  }

  // ---- the request the last REPLY_MATCHED answered ------------------------------------------------

  matchedId(): i64 {
    return this.st.mId;
  }
  matchedStartNs(): i64 {
    return this.st.mStart;
  }
  matchedCommand(): i32 {
    return this.st.mCmd;
  }
  matchedMethodPtr(): usize {
    return this.st.mMethod;
  }
  matchedMethodLen(): i32 {
    return this.st.mMethodLen;
  }
  /** The matched reply was the last one that request gets (false for all but the last ack of a SUBSCRIBE). */
  matchedFinal(): bool {
    return this.st.mFinal;
  }

  pending(): i32 {
    return this.st.count;
  }
  overflowed(): bool {
    return this.st.over;
  }
  /** Any channel, pattern or shard-channel subscription is active (as counted from the acks). */
  subscribed(): bool {
    return this.st.subscribed();
  }
  monitorMode(): bool {
    return this.st.monitoring;
  }

  /** Doubles the ring (up to maxPending); internal, for onRequest. */
  grow(): void {
    const st = this.st;
    let cap = st.capacity * 2;
    if (cap > st.maxPending) cap = st.maxPending;
    if (cap <= st.capacity) return;
    const next = new StaticArray<u8>(cap * ENTRY);
    const src = changetype<usize>(this.ring);
    const dst = changetype<usize>(next);
    const head = st.head;
    const count = st.count;
    const first = st.capacity - head < count ? st.capacity - head : count;
    memory.copy(dst, src + <usize>(head * ENTRY), <usize>(first * ENTRY));
    memory.copy(dst + <usize>(first * ENTRY), src, <usize>((count - first) * ENTRY));
    this.ring = next;
    st.ring = dst;
    st.capacity = cap;
    st.head = 0;
  }
}

/** The state of the session at address `s` (a live RedisSession), read without a spill. */
// @ts-ignore: decorator
@inline
function sessionStateOf(s: usize): SessionState {
  return changetype<SessionState>(load<usize>(s, offsetof<RedisSession>("st")));
}

// Out of line and taking addresses, so onRequest itself handles no managed reference.
function growRing(s: usize): void {
  changetype<RedisSession>(s).grow();
}

/** CLIENT REPLY ON|OFF|SKIP of a 3-argument CLIENT request (Redis clientCommand), or CR_NONE. */
function clientReply(r: usize): i32 {
  const req = changetype<RedisRequestDecoder>(r);
  if (!req.argIs(1, "REPLY")) return CR_NONE;
  if (req.argIs(2, "ON")) return CR_ON;
  if (req.argIs(2, "OFF")) return CR_OFF;
  if (req.argIs(2, "SKIP")) return CR_SKIP;
  return CR_NONE;
}

/** The session's state: an @unmanaged struct at the start of the session's block. */
// @ts-ignore: decorator
@unmanaged
class SessionState {
  nextId: i64;
  lastId: i64;
  subTotal: i64; // channels + patterns (the count in subscribe/psubscribe acks)
  // the request the last reply answered
  mId: i64;
  mStart: i64;
  ring: usize; // data of RedisSession.ring
  subCount: usize; // i64 × 3: subscriptions per pub/sub kind
  mMethod: usize; // PENDING_METHOD_CAP bytes
  capacity: i32;
  head: i32;
  count: i32;
  maxPending: i32;
  mCmd: i32;
  mMethodLen: i32;
  over: bool;
  lastExpects: bool;
  // CLIENT REPLY state, as the server keeps it
  replyOff: bool;
  skipThis: bool;
  // pub/sub and MONITOR state, from the replies seen
  ackArrays: bool; // the last ack was a RESP2 array
  monitoring: bool;
  mFinal: bool;

  // @ts-ignore: decorator
  @inline
  private subCountAt(kind: i32): i64 {
    return load<i64>(this.subCount + (<usize>kind << 3));
  }
  // @ts-ignore: decorator
  @inline
  private setSubCount(kind: i32, n: i64): void {
    store<i64>(this.subCount + (<usize>kind << 3), n);
  }

  onRequest(cap: RequestCapture, nowNs: i64, client: i32): void {
    const id = this.nextId + 1;
    this.nextId = id;
    this.lastId = id;
    const cmd = cap.command;
    const flags = cap.flags; // commandFlags(cmd)
    const argc = cap.argc;

    // CLIENT REPLY ON|OFF|SKIP (Redis clientCommand + resetClient): ON clears OFF/SKIP before its
    // +OK is written; OFF and SKIP never answer; any other command is silent under OFF or SKIP.
    let expects = !(this.replyOff || this.skipThis);
    let skipNext = false;
    if (client == CR_ON) {
      this.replyOff = false;
      expects = true;
    } else if (client == CR_OFF) {
      this.replyOff = true;
      expects = false;
    } else if (client == CR_SKIP) {
      skipNext = !this.replyOff;
      expects = false;
    }
    if ((flags & CMD_RESET) != 0) {
      // RESET clears CLIENT REPLY OFF before writing +RESET (clearClientConnectionState)
      this.replyOff = false;
      expects = !this.skipThis;
    }
    this.skipThis = skipNext;
    this.lastExpects = expects;
    if (!expects || this.over) return;

    const count = this.count;
    if (count >= this.maxPending) {
      this.over = true; // correlation given up for this connection
      this.count = 0;
      return;
    }
    // RedisSession.onRequest grew the ring if it was full
    if (count >= this.capacity) return; // unreachable
    let slot = this.head + count;
    if (slot >= this.capacity) slot -= this.capacity;
    this.count = count + 1;
    const e = this.ring + <usize>(slot * ENTRY);
    store<i64>(e, id, E_ID);
    store<i64>(e, nowNs, E_START);
    store<i32>(e, cmd, E_CMD);
    let expect: i32 = 1;
    let ack = ACK_NONE;
    if ((flags & (CMD_SUBSCRIBE | CMD_UNSUBSCRIBE)) != 0 && argc >= 1) {
      ack = (flags & CMD_SUBSCRIBE) != 0 ? ACK_SUB : ACK_UNSUB;
      if (argc > 1) expect = argc - 1 > 0x7fffffff ? 0x7fffffff : <i32>(argc - 1);
      else if (ack == ACK_UNSUB) expect = -1;
      else ack = ACK_NONE; // SUBSCRIBE without channels: one error reply
    }
    store<i32>(e, expect, E_EXPECT);
    store<u8>(e, <u8>ack, E_ACK);
    store<u8>(e, <u8>psKind(flags), E_KIND);
    let f: u8 = 0;
    if ((flags & CMD_MONITOR) != 0) f |= F_MONITOR;
    if ((flags & CMD_RESET) != 0) f |= F_RESET;
    store<u8>(e, f, E_FLAGS);
    let ml = cap.methodLen;
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    // the method buffer holds METHOD_CAP (64) bytes: copy the whole 16-byte prefix, ml says how much counts
    const m = cap.methodBuf;
    store<u64>(e, load<u64>(m), E_METHOD);
    store<u64>(e, load<u64>(m, 8), E_METHOD + 8);
    store<u8>(e, <u8>ml, E_MLEN);
  }

  onReply(rep: ReplyState): i32 {
    const t = rep.rootType;
    const word = t == 0x2a || t == 0x3e ? ackWord(rep.cap.headBuf, rep.cap.headLen) : ACK_NONE;
    const headAck = this.count > 0 && !this.over ? this.headAckWord() : ACK_NONE;

    if (t == 0x3e) {
      // RESP3 push: only the acknowledgement the head request waits for is a reply
      if (word != ACK_NONE && word == headAck) return this.ack(rep, word, t);
      if ((word & (ACK_SUB | ACK_UNSUB)) != 0) this.countAck(rep, word, t); // e.g. sunsubscribe on slot move
      return REPLY_OUT_OF_BAND;
    }
    if (t == 0x2a && this.ackArrays && this.subscribed()) {
      // RESP2 subscribed mode: only pub/sub traffic and PING/QUIT/RESET replies can arrive
      if ((word & ACK_MESSAGE) != 0) return REPLY_OUT_OF_BAND;
      if ((word & (ACK_SUB | ACK_UNSUB)) != 0 && word != headAck) {
        this.countAck(rep, word, t);
        return REPLY_OUT_OF_BAND;
      }
    }
    if (this.monitoring && t == 0x2b && rep.cap.headLen > 0 && isDigit(<i32>load<u8>(rep.cap.headBuf))) {
      return REPLY_OUT_OF_BAND; // MONITOR feed: "+<unix time> [db addr] …"
    }
    if (this.over || this.count == 0) return REPLY_UNEXPECTED;
    if (headAck != ACK_NONE) {
      if (t == 0x2a && word == headAck) return this.ack(rep, word, t);
      // an error (or +QUEUED inside MULTI) answers the whole request
    }
    const e = this.headEntry();
    this.matchEntry(e, true);
    const f = load<u8>(e, E_FLAGS);
    this.pop();
    if ((f & F_MONITOR) != 0 && !(t == 0x2d || t == 0x21)) this.monitoring = true;
    if ((f & F_RESET) != 0 && t == 0x2b) this.resetModes();
    return REPLY_MATCHED;
  }

  subscribed(): bool {
    return this.subTotal > 0 || this.subCountAt(PS_SHARD) > 0;
  }

  // @ts-ignore: decorator
  @inline
  private headEntry(): usize {
    return this.ring + <usize>(this.head * ENTRY);
  }

  /** The acknowledgement word the head request waits for, or ACK_NONE. */
  private headAckWord(): i32 {
    const e = this.headEntry();
    const ack = <i32>load<u8>(e, E_ACK);
    if (ack == ACK_NONE) return ACK_NONE;
    const kind = <i32>load<u8>(e, E_KIND);
    if (load<i32>(e, E_EXPECT) < 0) {
      // UNSUBSCRIBE without arguments: one ack per subscription of that kind, or one if none
      const n = this.subCountAt(kind);
      store<i32>(e, n < 1 ? 1 : n > 0x7fffffff ? 0x7fffffff : <i32>n, E_EXPECT);
    }
    return ack | kind;
  }

  private ack(rep: ReplyState, word: i32, t: i32): i32 {
    this.countAck(rep, word, t);
    const e = this.headEntry();
    const left = load<i32>(e, E_EXPECT) - 1;
    store<i32>(e, left, E_EXPECT);
    this.matchEntry(e, left <= 0);
    if (left <= 0) this.pop();
    return REPLY_MATCHED;
  }

  /** Track subscription counts from an ack's count (channels+patterns, or shard channels). */
  private countAck(rep: ReplyState, word: i32, t: i32): void {
    this.ackArrays = t == 0x2a;
    if (!rep.hasLastIntV) return;
    let n = rep.lastIntV;
    if (n < 0) n = 0;
    const kind = word & 3;
    if (kind == PS_SHARD) {
      this.setSubCount(PS_SHARD, n);
      return;
    }
    const prev = this.subTotal;
    let c = this.subCountAt(kind);
    if ((word & ACK_SUB) != 0 && n > prev) c += n - prev;
    if ((word & ACK_UNSUB) != 0 && n < prev) c -= prev - n;
    this.setSubCount(kind, c < 0 ? 0 : c);
    this.subTotal = n;
  }

  // @ts-ignore: decorator
  @inline
  private matchEntry(e: usize, final: bool): void {
    this.mId = load<i64>(e, E_ID);
    this.mStart = load<i64>(e, E_START);
    this.mCmd = load<i32>(e, E_CMD);
    let ml = <i32>load<u8>(e, E_MLEN);
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    const m = this.mMethod;
    store<u64>(m, load<u64>(e, E_METHOD));
    store<u64>(m, load<u64>(e, E_METHOD + 8), 8);
    this.mMethodLen = ml;
    this.mFinal = final;
  }

  // @ts-ignore: decorator
  @inline
  private pop(): void {
    let h = this.head + 1;
    if (h >= this.capacity) h = 0;
    this.head = h;
    this.count--;
  }

  private resetModes(): void {
    this.monitoring = false;
    this.subTotal = 0;
    this.setSubCount(0, 0);
    this.setSubCount(1, 0);
    this.setSubCount(2, 0);
    this.ackArrays = false;
  }
}

/** The head word [p, p+n) of an array/push reply (lower-cased by the capture), classified. */
function ackWord(p: usize, n: i32): i32 {
  if (n < 7) return ACK_NONE;
  // the words are short; compare the exact lower-cased head
  if (
    wordIs(p, n, changetype<usize>("message"), 7) ||
    wordIs(p, n, changetype<usize>("pmessage"), 8) ||
    wordIs(p, n, changetype<usize>("smessage"), 8)
  ) {
    return ACK_MESSAGE;
  }
  const w = plainAck(p, n);
  if (w != ACK_NONE) return w; // subscribe / unsubscribe
  const c = <i32>load<u8>(p);
  const kind = c == 0x70 ? 1 : c == 0x73 ? 2 : -1; // p… pattern, s… shard
  if (kind < 0) return ACK_NONE;
  const k = plainAck(p + 1, n - 1);
  return k == ACK_NONE ? ACK_NONE : k | kind;
}

function plainAck(p: usize, n: i32): i32 {
  if (wordIs(p, n, changetype<usize>("subscribe"), 9)) return ACK_SUB;
  if (wordIs(p, n, changetype<usize>("unsubscribe"), 11)) return ACK_UNSUB;
  return ACK_NONE;
}

/** [p, p+n) equals the ASCII literal whose UTF-16 data is at `lit` (length litLen). */
// @ts-ignore: decorator
@inline
function wordIs(p: usize, n: i32, lit: usize, litLen: i32): bool {
  if (n != litLen) return false;
  for (let k = 0; k < n; k++) {
    if (<u32>load<u8>(p + <usize>k) != <u32>load<u16>(lit + (<usize>k << 1))) return false;
  }
  return true;
}
