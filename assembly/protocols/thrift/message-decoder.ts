// Thrift decoder for one direction of a connection (specs/protocols.md §1): recognises transport and
// protocol on the first bytes (detect.ts), then reports one EV_MESSAGE per message, at its last byte,
// with its metadata. Used for requests and replies alike.
//
//   framed      LEN | message                      LEN read, message header read, rest skipped by length
//   header      LEN | 0FFF flags seq hs | info | message   (same, header data streamed, §1.4)
//   unframed    message                            every field walked to find the end (§1.7)
//
// A THeader connection is not THeader message by message: Apache C++ THeaderTransport decides the
// client type per frame (§1.1, §1.4), and Apache's Node THeader server answers a call whose handler
// completes asynchronously with a bare unframed message between THeader frames. So on a connection
// detected as THeader every message is recognised by its first bytes, as C++ does:
//   `80 …` / `82 …`            bare strict binary / compact message, walked like an unframed one
//   LEN | `0F FF`               THeader frame
//   LEN | `80 01` / `82 v`      framed binary / compact message (framed limits and error texts)
// transport() keeps reporting THeader for such a connection. Connections detected as framed or
// unframed stay what they are: a message of another transport there is an error.
//
// Framed/header bodies are never walked, except as far as classification needs: a REPLY's first
// field header (success vs declared exception) and an EXCEPTION's TApplicationException (its type);
// everything after that is skippable(). Bytes are never kept beyond the name prefix and THeader info
// headers, so a window may split the stream at any byte and a 16 MB body costs a few small fetches.
//
// The last byte of every skippable run is left to feed(), so skip() never ends a message or a token
// (the filter's pump and the test drivers only look at events after feed()).

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import { ThriftLimits } from "./limits";
import {
  TRANSPORT_UNKNOWN,
  TRANSPORT_FRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_UNKNOWN,
  PROTOCOL_BINARY,
  PROTOCOL_COMPACT,
  MSG_REPLY,
  MSG_EXCEPTION,
  REPLY_STATUS_SUCCESS,
  REPLY_STATUS_ERROR,
  REPLY_STATUS_EXCEPTION,
} from "./types";
import { detectStart, detectedTransport, detectedProtocol, DETECT_MORE, DETECT_ERROR, DETECT_MAX_BYTES } from "./detect";
import { MessageHead } from "./message-head";
import { StructWalker } from "./struct-walker";
import { HeaderInfo, HEADER_PROTO_COMPACT } from "./header-info";

const D_DETECT: i32 = 0; // first bytes of the connection
const D_FRAME_LEN: i32 = 1; // framed/header: 4-byte length
const D_HDR_FIXED: i32 = 2; // header: magic, flags, sequence, header size
const D_HDR_INFO: i32 = 3; // header: header data
const D_HEAD: i32 = 4; // message header
const D_BODY: i32 = 5; // struct walk (unframed; framed only to classify replies)
const D_REST: i32 = 6; // framed/header: rest of the frame, not looked at
const D_ERROR: i32 = 7;
const D_FRAME_KIND: i32 = 8; // header connection: the 2 bytes after LEN say THeader or framed

/** THeader LENGTH bound of the format (HeaderFormat.md: slightly less than HTTP's magic). */
const HEADER_FRAME_MAX: i64 = 0x3fffffff;
/** magic(2) + flags(2) + sequence(4) + header size(2) + the smallest header data (4). */
const HEADER_FRAME_MIN: i64 = 14;

const OVER_FRAME: string = "thrift message exceeds frame";
const OVER_UNFRAMED: string = "thrift unframed message exceeds limit";

export class ThriftDecoder {
  /** EV_NEED_MORE, EV_MESSAGE or EV_ERROR: the outcome of the last feed()/skip(). */
  event: i32 = EV_NEED_MORE;

  private state: i32 = D_DETECT;
  private transportV: i32 = TRANSPORT_UNKNOWN;
  private protocolV: i32 = PROTOCOL_UNKNOWN;
  private lax: bool = false; // unframed binary: non-strict messages accepted
  private reason: string = "";
  private pos: i64 = 0; // bytes fed or skipped since construction/reset
  private msgStart: i64 = 0;
  private msgEnd: i64 = 0;
  private inMsg: bool = false;
  private bounded: bool = false; // inside a frame: frameLeft bytes of it remain
  private frameLeft: i64 = 0;
  private acc: u32 = 0;
  private accN: i32 = 0;
  private hdrFlags: i32 = 0;
  private hdrSeq: i32 = 0;
  private hdrSize: i32 = 0;
  private frameSize: i64 = 0; // header connection: LEN, until the bytes after it decide
  private readonly scratch: StaticArray<u8> = new StaticArray<u8>(DETECT_MAX_BYTES);
  private readonly kindBytes: StaticArray<u8> = new StaticArray<u8>(2); // framed in THeader: replayed to the head
  private scratchLen: i32 = 0;
  private readonly head: MessageHead;
  private readonly walker: StructWalker;
  private readonly info: HeaderInfo;
  private ready: bool = false;
  private status: i32 = REPLY_STATUS_SUCCESS;
  private appType: i32 = 0;

  constructor(private limits: ThriftLimits) {
    this.head = new MessageHead(limits.maxNameBytes);
    this.walker = new StructWalker(limits.maxDepth);
    this.info = new HeaderInfo(limits.maxHeaders, limits.maxHeaderBytes);
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a complete
   * message (EV_MESSAGE), up to the offending byte (EV_ERROR), or all of them (EV_NEED_MORE).
   */
  feed(ptr: usize, len: i32): i32 {
    if (this.state == D_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    if (len <= 0) return 0;
    let i = 0;
    if (this.state == D_DETECT) {
      i = this.detect(ptr, len);
      if (this.state == D_DETECT || this.event != EV_NEED_MORE) return i;
    }
    return i + this.run(ptr + <usize>i, len - i);
  }

  /** Upcoming bytes the decoder does not need to see (never the last byte of a message). */
  skippable(): i64 {
    let n: i64 = 0;
    switch (this.state) {
      case D_HDR_INFO:
        n = this.info.skippable();
        break;
      case D_HEAD:
        n = this.head.skippable();
        break;
      case D_BODY:
        n = this.walker.skippable();
        break;
      case D_REST:
        n = this.frameLeft - 1;
        break;
    }
    return n > 0 ? n : 0;
  }

  /** Account for n ≤ skippable() bytes the caller did not feed. */
  skip(n: i64): void {
    if (this.state == D_ERROR) {
      this.event = EV_ERROR;
      return;
    }
    this.event = EV_NEED_MORE;
    if (n <= 0) return;
    if (n > this.skippable()) {
      this.fail("invalid skip");
      return;
    }
    switch (this.state) {
      case D_HDR_INFO:
        this.info.skip(n);
        break;
      case D_HEAD:
        this.head.skip(n);
        break;
      case D_BODY:
        this.walker.skip(n);
        break;
    }
    this.pos += n;
    if (this.bounded) this.frameLeft -= n;
  }

  reset(): void {
    this.event = EV_NEED_MORE;
    this.state = D_DETECT;
    this.transportV = TRANSPORT_UNKNOWN;
    this.protocolV = PROTOCOL_UNKNOWN;
    this.lax = false;
    this.reason = "";
    this.pos = 0;
    this.msgStart = 0;
    this.msgEnd = 0;
    this.inMsg = false;
    this.bounded = false;
    this.frameLeft = 0;
    this.frameSize = 0;
    this.scratchLen = 0;
    this.clearMessage();
  }

  // ---- connection ---------------------------------------------------------------------------------

  /**
   * TRANSPORT_* once recognised (fixed for the connection), TRANSPORT_UNKNOWN before. On a THeader
   * connection individual messages may still come framed or bare (unframed), as Apache's peers
   * send and read them; their headerSeqId()/headerFlags() are 0 and they carry no info headers.
   */
  transport(): i32 {
    return this.transportV;
  }
  /** PROTOCOL_* of the last message header (THeader frames name theirs; other messages show theirs). */
  protocol(): i32 {
    return this.protocolV;
  }

  // ---- metadata of the last message (valid after EV_MESSAGE until the next feed/skip) ------------

  /**
   * The message in progress has its header (type, name, seqid, THeader info) readable already –
   * before EV_MESSAGE, e.g. to route on a large framed request; replyStatus() needs the end.
   */
  metadataReady(): bool {
    return this.ready;
  }
  /** MSG_CALL, MSG_REPLY, MSG_EXCEPTION or MSG_ONEWAY. */
  messageType(): i32 {
    return this.head.type;
  }
  /** The message name as sent (e.g. "Calculator:add"), at most limits.maxNameBytes bytes. */
  namePtr(): usize {
    return changetype<usize>(this.head.nameBuf);
  }
  nameLen(): i32 {
    return this.head.nameLen;
  }
  nameTruncated(): bool {
    return this.head.nameFull > <i64>this.head.nameLen;
  }
  /** TMultiplexedProtocol service: the name before the first ':' ("" without one). */
  servicePtr(): usize {
    return changetype<usize>(this.head.nameBuf);
  }
  serviceLen(): i32 {
    return this.head.colon < 0 ? 0 : this.head.colon;
  }
  /** The name after the first ':' (the whole name without one). */
  methodPtr(): usize {
    return changetype<usize>(this.head.nameBuf) + <usize>(this.head.colon + 1);
  }
  methodLen(): i32 {
    return this.head.nameLen - (this.head.colon + 1);
  }
  seqId(): i32 {
    return this.head.seqId;
  }
  /** The message came from a non-strict binary writer (only with limits.laxBinaryUnframed). */
  isLax(): bool {
    return this.head.lax;
  }
  /** REPLY_STATUS_SUCCESS / _ERROR for a REPLY, REPLY_STATUS_EXCEPTION for an EXCEPTION, else 0. */
  replyStatus(): i32 {
    return this.status;
  }
  /** TApplicationException type of an EXCEPTION; 0 (UNKNOWN) when the field is absent. */
  appExceptionType(): i32 {
    return this.appType;
  }
  /** THeader info headers kept (KEYVALUE blocks, as sent), at most limits.maxHeaders. */
  headerCount(): i32 {
    return this.info.count;
  }
  /** More THeader info headers were sent than headerCount() reports. */
  headersTruncated(): bool {
    return this.info.truncated;
  }
  headerKeyPtr(i: i32): usize {
    return this.info.keyPtr(i);
  }
  headerKeyLen(i: i32): i32 {
    return this.info.keyLen(i);
  }
  headerValuePtr(i: i32): usize {
    return this.info.valuePtr(i);
  }
  headerValueLen(i: i32): i32 {
    return this.info.valueLen(i);
  }
  /** THeader sequence number and flags (replies should echo them); 0 for other transports. */
  headerSeqId(): i32 {
    return this.hdrSeq;
  }
  headerFlags(): i32 {
    return this.hdrFlags;
  }
  /** Stream offsets [start, end) of the last message, its framing included. */
  start(): i64 {
    return this.msgStart;
  }
  end(): i64 {
    return this.msgEnd;
  }
  /** Between messages: every byte so far belongs to a complete message. */
  atBoundary(): bool {
    return !this.inMsg && this.state != D_ERROR && (this.state != D_DETECT || this.scratchLen == 0);
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.pos + (this.state == D_DETECT ? <i64>this.scratchLen : 0);
  }
  /** Why the stream was rejected (static text; "" when not in error). */
  errorReason(): string {
    return this.reason;
  }

  // ---- detection ----------------------------------------------------------------------------------

  /** Collects the first bytes; once they decide, replays them through the transport reader. */
  private detect(ptr: usize, len: i32): i32 {
    const s = changetype<usize>(this.scratch);
    let i = 0;
    while (i < len && this.scratchLen < DETECT_MAX_BYTES) {
      store<u8>(s + <usize>this.scratchLen, load<u8>(ptr + <usize>i));
      this.scratchLen++;
      i++;
      const code = detectStart(s, this.scratchLen, this.limits.laxBinaryUnframed);
      if (code == DETECT_MORE) continue;
      if (code == DETECT_ERROR) {
        this.pos += this.scratchLen;
        this.scratchLen = 0;
        this.fail("unknown thrift auto transport frame start");
        return i;
      }
      this.transportV = detectedTransport(code);
      this.protocolV = detectedProtocol(code);
      this.lax = this.transportV != TRANSPORT_FRAMED && this.transportV != TRANSPORT_HEADER && this.limits.laxBinaryUnframed;
      this.state = this.transportV == TRANSPORT_FRAMED || this.transportV == TRANSPORT_HEADER ? D_FRAME_LEN : D_HEAD;
      const n = this.scratchLen;
      this.scratchLen = 0;
      // never ends a message: the shortest message is longer than the bytes detection needs
      const before = this.pos;
      this.run(s, n);
      // feed reports every collected byte consumed, so position() must count them all, also when
      // the replay failed part way (a frame length over the limit, say)
      if (this.state == D_ERROR) this.pos = before + <i64>n;
      return i;
    }
    return i;
  }

  // ---- transport and message ----------------------------------------------------------------------

  private run(ptr: usize, len: i32): i32 {
    let i = 0;
    while (i < len) {
      if (!this.inMsg) this.beginMessage(<i32>load<u8>(ptr + <usize>i));
      let avail = len - i;
      if (this.bounded) {
        if (this.frameLeft <= 0) {
          this.fail(OVER_FRAME);
          break;
        }
        if (<i64>avail > this.frameLeft) avail = <i32>this.frameLeft;
      }
      const p = ptr + <usize>i;
      const st = this.state;
      let n = 1;
      if (st == D_HEAD) {
        // fast path: the whole header in the window, read in one pass (0: feed it byte by byte)
        n = this.head.fresh ? this.head.parseWhole(p, avail) : 0;
        if (n == 0) n = this.head.feed(p, avail);
      } else if (st == D_BODY) {
        // fast path: a REPLY's whole first field header (0: not a peek at its start, or cut)
        n = this.bounded ? this.walker.peekWhole(p, avail) : 0;
        if (n == 0) n = this.walker.feed(p, avail);
      }
      else if (st == D_HDR_INFO) n = this.info.feed(p, avail);
      else if (st == D_REST) n = avail;
      else if (st == D_FRAME_LEN) {
        // fast path: the whole length (a THeader connection's byte with the top bit set is left to
        // the byte path, which rejects it at that byte)
        if (this.accN == 0 && avail >= 4 && (this.transportV != TRANSPORT_HEADER || load<u8>(p) < 0x80)) n = 4;
      } else if (st == D_FRAME_KIND) {
        if (this.accN == 0 && avail >= 2) n = 2;
      } else if (st == D_HDR_FIXED) {
        if (this.accN == 2 && avail >= 8) n = 8;
      }
      i += n;
      this.pos += n;
      if (this.bounded) this.frameLeft -= n;
      switch (st) {
        case D_FRAME_LEN:
          if (n == 4) this.frameLenDone(bswap<u32>(load<u32>(p)));
          else this.frameLenByte(<i32>load<u8>(p));
          break;
        case D_FRAME_KIND:
          if (n == 2) this.frameKindDone(<i32>bswap<u16>(load<u16>(p)));
          else this.frameKindByte(<i32>load<u8>(p));
          break;
        case D_HDR_FIXED:
          if (n == 8) {
            this.hdrFlags = <i32>bswap<u16>(load<u16>(p));
            this.hdrSeq = <i32>bswap<u32>(load<u32>(p, 2));
            this.headerSizeDone(<i32>bswap<u16>(load<u16>(p, 6)) << 2);
          } else this.headerFixedByte(<i32>load<u8>(p));
          break;
        case D_HDR_INFO:
          if (this.info.failed) this.fail(this.info.reason);
          else if (this.info.done) this.headerDone();
          break;
        case D_HEAD:
          if (this.head.failed) this.fail(this.head.reason);
          else if (this.head.done) this.headDone();
          break;
        case D_BODY:
          if (this.walker.failed) this.fail(this.walker.reason);
          else if (this.walker.done) this.bodyDone();
          break;
        case D_REST:
          if (this.frameLeft == 0) this.message();
          break;
      }
      if (this.event != EV_NEED_MORE) break;
    }
    return i;
  }

  /** b0: the message's first byte, not consumed yet. */
  private beginMessage(b0: i32): void {
    this.inMsg = true;
    this.msgStart = this.pos;
    this.clearMessage();
    if (this.state == D_FRAME_LEN && this.transportV == TRANSPORT_HEADER && (b0 == 0x80 || b0 == 0x82)) {
      // a length never has the top bit set: a bare message between THeader frames (the head checks
      // the rest of its version); other such bytes are rejected by frameLenByte
      this.protocolV = b0 == 0x82 ? PROTOCOL_COMPACT : PROTOCOL_BINARY;
      this.state = D_HEAD;
    }
    if (this.state == D_HEAD) {
      this.head.begin(this.protocolV == PROTOCOL_COMPACT, this.lax, this.limits.maxUnframedBytes, OVER_UNFRAMED);
    }
  }

  private clearMessage(): void {
    this.ready = false;
    this.status = REPLY_STATUS_SUCCESS;
    this.appType = 0;
    this.hdrFlags = 0;
    this.hdrSeq = 0;
    this.acc = 0;
    this.accN = 0;
    this.info.clear();
  }

  private frameLenByte(b: i32): void {
    const header = this.transportV == TRANSPORT_HEADER;
    if (header && this.accN == 0 && (b & 0x80) != 0) {
      this.fail("invalid thrift header transport frame size"); // negative, and not a bare message
      return;
    }
    this.acc = (this.acc << 8) | <u32>b;
    if (++this.accN < 4) return;
    this.frameLenDone(this.acc);
  }

  /** The 4-byte length, read (acc/accN are cleared). */
  private frameLenDone(word: u32): void {
    const header = this.transportV == TRANSPORT_HEADER;
    const size = <i64>(<i32>word);
    this.acc = 0;
    this.accN = 0;
    if (header) {
      // THeader frame or framed message: the next two bytes tell
      this.frameSize = size;
      this.state = D_FRAME_KIND;
      return;
    }
    if (size <= 0 || size > this.limits.maxFrameBytes) {
      this.fail("invalid thrift framed transport frame size");
      return;
    }
    this.bounded = true;
    this.frameLeft = size;
    this.beginHead();
  }

  /** Header connection, the 2 bytes after LEN: `0F FF` THeader, `80 01` / `82 v` a framed message. */
  private frameKindByte(b: i32): void {
    this.acc = (this.acc << 8) | <u32>b;
    if (++this.accN < 2) return;
    this.frameKindDone(<i32>(this.acc & 0xffff));
  }

  /** The 2 bytes after LEN, read (accN is 2 when they were fed byte by byte, 0 otherwise). */
  private frameKindDone(w: i32): void {
    const size = this.frameSize;
    if (w == 0x0fff) {
      const max = this.limits.maxFrameBytes < HEADER_FRAME_MAX ? this.limits.maxFrameBytes : HEADER_FRAME_MAX;
      if (size < HEADER_FRAME_MIN || size > max) {
        this.fail("invalid thrift header transport frame size");
        return;
      }
      this.bounded = true;
      this.frameLeft = size - 2; // the magic is read
      this.accN = 2; // the fast path reads the 2 bytes at once, from accN = 0
      this.state = D_HDR_FIXED; // continues with the flags (accN = 2)
      return;
    }
    const compact = (w & 0xff1f) == 0x8201;
    if (w != 0x8001 && !compact) {
      this.fail("invalid thrift header transport magic");
      return;
    }
    this.acc = 0;
    this.accN = 0;
    if (size <= 0 || size > this.limits.maxFrameBytes) {
      this.fail("invalid thrift framed transport frame size");
      return;
    }
    if (size < 2) {
      this.fail(OVER_FRAME); // the two bytes read are already past the frame
      return;
    }
    this.protocolV = compact ? PROTOCOL_COMPACT : PROTOCOL_BINARY;
    this.bounded = true;
    this.frameLeft = size;
    this.beginHead();
    // the two bytes read are the message's first: hand them to the head
    const k = changetype<usize>(this.kindBytes);
    store<u8>(k, <u8>(w >> 8));
    store<u8>(k, <u8>w, 1);
    this.head.feed(k, 2);
    this.frameLeft -= 2;
    if (this.head.failed) this.fail(this.head.reason);
  }

  /** flags(2) sequence(4) header size in 4-byte words(2), after LEN and the magic (accN starts at 2). */
  private headerFixedByte(b: i32): void {
    const k = this.accN++;
    this.acc = (this.acc << 8) | <u32>b;
    if (k == 3) {
      this.hdrFlags = <i32>(this.acc & 0xffff);
    } else if (k == 7) {
      this.hdrSeq = <i32>this.acc;
    } else if (k == 9) {
      // HeaderFormat.md's diagram says /32; it is 32-bit words (Envoy notes the same)
      this.headerSizeDone(<i32>(this.acc & 0xffff) << 2);
    }
  }

  /** The header size of a THeader frame, in bytes; flags and sequence are read. */
  private headerSizeDone(bytes: i32): void {
    this.acc = 0;
    this.accN = 0;
    if (bytes == 0) this.fail("thrift header transport has no header data");
    else if (bytes > this.limits.maxHeaderBytes || <i64>bytes > this.frameLeft) {
      this.fail("invalid thrift header transport header size");
    } else {
      this.hdrSize = bytes;
      this.info.begin(bytes, this.limits.maxHeaders);
      this.state = D_HDR_INFO;
    }
  }

  private headerDone(): void {
    this.protocolV = this.info.protocolId == HEADER_PROTO_COMPACT ? PROTOCOL_COMPACT : PROTOCOL_BINARY;
    this.beginHead();
  }

  private beginHead(): void {
    if (this.frameLeft <= 0) {
      this.fail(OVER_FRAME); // a header frame with no message
      return;
    }
    this.head.begin(this.protocolV == PROTOCOL_COMPACT, false, this.frameLeft, OVER_FRAME);
    this.state = D_HEAD;
  }

  private headDone(): void {
    this.ready = true;
    const t = this.head.type;
    const compact = this.protocolV == PROTOCOL_COMPACT;
    const depth = this.limits.maxDepth;
    if (t == MSG_EXCEPTION) this.status = REPLY_STATUS_EXCEPTION;
    if (!this.bounded) {
      const left = this.limits.maxUnframedBytes - (this.pos - this.msgStart);
      if (left <= 0) {
        this.fail(OVER_UNFRAMED);
        return;
      }
      this.walker.begin(compact, depth, left, OVER_UNFRAMED, false, t == MSG_EXCEPTION);
      this.state = D_BODY;
      return;
    }
    if (t != MSG_REPLY && t != MSG_EXCEPTION) {
      this.rest(); // requests: the body is not needed
      return;
    }
    if (this.frameLeft <= 0) {
      this.fail(OVER_FRAME);
      return;
    }
    // a REPLY needs only its first field header; an EXCEPTION is walked for its type field
    this.walker.begin(compact, depth, this.frameLeft, OVER_FRAME, t == MSG_REPLY, t == MSG_EXCEPTION);
    this.state = D_BODY;
  }

  private bodyDone(): void {
    const w = this.walker;
    if (this.head.type == MSG_REPLY) {
      // Envoy peekReplyPayload: STOP or field 0 → success, a field id > 0 → declared exception
      this.status = !w.firstStop && w.firstId > 0 ? REPLY_STATUS_ERROR : REPLY_STATUS_SUCCESS;
    } else if (this.head.type == MSG_EXCEPTION) {
      this.appType = w.appType;
    }
    if (this.bounded) this.rest();
    else this.message();
  }

  private rest(): void {
    this.state = D_REST;
    if (this.frameLeft == 0) this.message();
  }

  private message(): void {
    this.msgEnd = this.pos;
    this.inMsg = false;
    this.bounded = false;
    this.frameLeft = 0;
    this.state = this.transportV == TRANSPORT_FRAMED || this.transportV == TRANSPORT_HEADER ? D_FRAME_LEN : D_HEAD;
    this.event = EV_MESSAGE;
  }

  private fail(reason: string): void {
    this.reason = reason;
    this.state = D_ERROR;
    this.event = EV_ERROR;
  }
}
