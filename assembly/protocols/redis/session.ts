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

import { RedisRequestDecoder } from "./request-decoder";
import { RedisReplyDecoder } from "./reply-decoder";
import {
  commandFlags,
  psKind,
  CMD_SUBSCRIBE,
  CMD_UNSUBSCRIBE,
  CMD_MONITOR,
  CMD_CLIENT,
  CMD_RESET,
  PS_SHARD,
} from "./commands";
import { isDigit, equalsBytes } from "./ascii";

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
const E_METHOD: i32 = 28; // 16 bytes
const ENTRY: i32 = 48;
const INITIAL: i32 = 16;

const F_MONITOR: u8 = 1;
const F_RESET: u8 = 2;

// acknowledgement words (head of an array/push), with the pub/sub kind in bits 0..1
const ACK_NONE: i32 = 0;
const ACK_SUB: i32 = 4;
const ACK_UNSUB: i32 = 8;
const ACK_MESSAGE: i32 = 16;

export class RedisSession {
  private ring: StaticArray<u8>;
  private capacity: i32;
  private head: i32 = 0;
  private count: i32 = 0;
  private readonly maxPending: i32;
  private over: bool = false;
  private nextId: i64 = 0;
  private lastId: i64 = 0;
  private lastExpects: bool = false;
  // CLIENT REPLY state, as the server keeps it
  private replyOff: bool = false;
  private skipThis: bool = false;
  // pub/sub and MONITOR state, from the replies seen
  private subTotal: i64 = 0; // channels + patterns (the count in subscribe/psubscribe acks)
  private readonly subCount: StaticArray<i64> = new StaticArray<i64>(3); // per kind
  private ackArrays: bool = false; // the last ack was a RESP2 array
  private monitoring: bool = false;
  // the request the last reply answered
  private mId: i64 = 0;
  private mStart: i64 = 0;
  private mCmd: i32 = -1;
  private mFinal: bool = false;
  private readonly mMethod: StaticArray<u8> = new StaticArray<u8>(PENDING_METHOD_CAP);
  private mMethodLen: i32 = 0;

  constructor(maxPending: i32 = 65536) {
    const max = maxPending < 1 ? 1 : maxPending;
    const capacity = max < INITIAL ? max : INITIAL;
    this.maxPending = max;
    this.capacity = capacity;
    this.ring = new StaticArray<u8>(capacity * ENTRY);
  }

  /** After each request EV_MESSAGE: assigns the next id and queues what the server will answer. */
  onRequest(req: RedisRequestDecoder, nowNs: i64): void {
    const id = ++this.nextId;
    this.lastId = id;
    const cmd = req.command();
    const flags = commandFlags(cmd);
    const argc = req.argc();

    // CLIENT REPLY ON|OFF|SKIP (Redis clientCommand + resetClient): ON clears OFF/SKIP before its
    // +OK is written; OFF and SKIP never answer; any other command is silent under OFF or SKIP.
    let expects = !(this.replyOff || this.skipThis);
    let skipNext = false;
    if ((flags & CMD_CLIENT) != 0 && argc == 3 && req.argIs(1, "REPLY")) {
      if (req.argIs(2, "ON")) {
        this.replyOff = false;
        expects = true;
      } else if (req.argIs(2, "OFF")) {
        this.replyOff = true;
        expects = false;
      } else if (req.argIs(2, "SKIP")) {
        skipNext = !this.replyOff;
        expects = false;
      }
    }
    if ((flags & CMD_RESET) != 0) {
      // RESET clears CLIENT REPLY OFF before writing +RESET (clearClientConnectionState)
      this.replyOff = false;
      expects = !this.skipThis;
    }
    this.skipThis = skipNext;
    this.lastExpects = expects;
    if (!expects || this.over) return;

    if (this.count >= this.maxPending) {
      this.over = true; // correlation given up for this connection
      this.count = 0;
      return;
    }
    if (this.count == this.capacity) this.grow();
    const slot = (this.head + this.count) % this.capacity;
    this.count++;
    const e = changetype<usize>(this.ring) + <usize>(slot * ENTRY);
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
    let ml = req.methodLen();
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    memory.copy(e + E_METHOD, req.methodPtr(), <usize>ml);
    store<u8>(e, <u8>ml, E_MLEN);
  }

  lastRequestId(): i64 {
    return this.lastId;
  }
  /** Whether the server will answer the last request (false under CLIENT REPLY OFF/SKIP). */
  lastRequestExpectsReply(): bool {
    return this.lastExpects;
  }

  /** After each reply EV_MESSAGE: REPLY_MATCHED, REPLY_OUT_OF_BAND or REPLY_UNEXPECTED. */
  onReply(rep: RedisReplyDecoder): i32 {
    const t = <i32>rep.type();
    const word = t == 0x2a || t == 0x3e ? ackWord(rep) : ACK_NONE;
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
    if (this.monitoring && t == 0x2b && rep.headLen() > 0 && isDigit(<i32>load<u8>(rep.headPtr()))) {
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
    if ((f & F_MONITOR) != 0 && !rep.isError()) this.monitoring = true;
    if ((f & F_RESET) != 0 && t == 0x2b) this.resetModes();
    return REPLY_MATCHED;
  }

  // ---- the request the last REPLY_MATCHED answered ------------------------------------------------

  matchedId(): i64 {
    return this.mId;
  }
  matchedStartNs(): i64 {
    return this.mStart;
  }
  matchedCommand(): i32 {
    return this.mCmd;
  }
  matchedMethodPtr(): usize {
    return changetype<usize>(this.mMethod);
  }
  matchedMethodLen(): i32 {
    return this.mMethodLen;
  }
  /** The matched reply was the last one that request gets (false for all but the last ack of a SUBSCRIBE). */
  matchedFinal(): bool {
    return this.mFinal;
  }

  pending(): i32 {
    return this.count;
  }
  overflowed(): bool {
    return this.over;
  }
  /** Any channel, pattern or shard-channel subscription is active (as counted from the acks). */
  subscribed(): bool {
    return this.subTotal > 0 || unchecked(this.subCount[PS_SHARD]) > 0;
  }
  monitorMode(): bool {
    return this.monitoring;
  }

  // ---- internals -----------------------------------------------------------------------------------

  private headEntry(): usize {
    return changetype<usize>(this.ring) + <usize>(this.head * ENTRY);
  }

  /** The acknowledgement word the head request waits for, or ACK_NONE. */
  private headAckWord(): i32 {
    const e = this.headEntry();
    const ack = <i32>load<u8>(e, E_ACK);
    if (ack == ACK_NONE) return ACK_NONE;
    const kind = <i32>load<u8>(e, E_KIND);
    if (load<i32>(e, E_EXPECT) < 0) {
      // UNSUBSCRIBE without arguments: one ack per subscription of that kind, or one if none
      const n = unchecked(this.subCount[kind]);
      store<i32>(e, n < 1 ? 1 : n > 0x7fffffff ? 0x7fffffff : <i32>n, E_EXPECT);
    }
    return ack | kind;
  }

  private ack(rep: RedisReplyDecoder, word: i32, t: i32): i32 {
    this.countAck(rep, word, t);
    const e = this.headEntry();
    const left = load<i32>(e, E_EXPECT) - 1;
    store<i32>(e, left, E_EXPECT);
    this.matchEntry(e, left <= 0);
    if (left <= 0) this.pop();
    return REPLY_MATCHED;
  }

  /** Track subscription counts from an ack's count (channels+patterns, or shard channels). */
  private countAck(rep: RedisReplyDecoder, word: i32, t: i32): void {
    this.ackArrays = t == 0x2a;
    if (!rep.hasLastInt()) return;
    let n = rep.lastInt();
    if (n < 0) n = 0;
    const kind = word & 3;
    if (kind == PS_SHARD) {
      unchecked((this.subCount[PS_SHARD] = n));
      return;
    }
    const prev = this.subTotal;
    let c = unchecked(this.subCount[kind]);
    if ((word & ACK_SUB) != 0 && n > prev) c += n - prev;
    if ((word & ACK_UNSUB) != 0 && n < prev) c -= prev - n;
    unchecked((this.subCount[kind] = c < 0 ? 0 : c));
    this.subTotal = n;
  }

  private matchEntry(e: usize, final: bool): void {
    this.mId = load<i64>(e, E_ID);
    this.mStart = load<i64>(e, E_START);
    this.mCmd = load<i32>(e, E_CMD);
    let ml = <i32>load<u8>(e, E_MLEN);
    if (ml > PENDING_METHOD_CAP) ml = PENDING_METHOD_CAP;
    memory.copy(changetype<usize>(this.mMethod), e + E_METHOD, <usize>ml);
    this.mMethodLen = ml;
    this.mFinal = final;
  }

  private pop(): void {
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  private grow(): void {
    let cap = this.capacity * 2;
    if (cap > this.maxPending) cap = this.maxPending;
    if (cap <= this.capacity) return;
    const next = new StaticArray<u8>(cap * ENTRY);
    const src = changetype<usize>(this.ring);
    const dst = changetype<usize>(next);
    const first = this.capacity - this.head < this.count ? this.capacity - this.head : this.count;
    memory.copy(dst, src + <usize>(this.head * ENTRY), <usize>(first * ENTRY));
    memory.copy(dst + <usize>(first * ENTRY), src, <usize>((this.count - first) * ENTRY));
    this.ring = next;
    this.capacity = cap;
    this.head = 0;
  }

  private resetModes(): void {
    this.monitoring = false;
    this.subTotal = 0;
    for (let i = 0; i < 3; i++) unchecked((this.subCount[i] = 0));
    this.ackArrays = false;
  }
}

/** Classify the head word of an array/push reply. */
function ackWord(rep: RedisReplyDecoder): i32 {
  const p = rep.headPtr();
  const n = rep.headLen();
  if (n < 7) return ACK_NONE;
  // the words are short; compare the exact lower-cased head
  if (equalsBytes(p, n, "message") || equalsBytes(p, n, "pmessage") || equalsBytes(p, n, "smessage")) {
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
  if (equalsBytes(p, n, "subscribe")) return ACK_SUB;
  if (equalsBytes(p, n, "unsubscribe")) return ACK_UNSUB;
  return ACK_NONE;
}
