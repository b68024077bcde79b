// Dubbo decoder for one direction of a connection (specs/protocols.md §2): one EV_MESSAGE per frame,
// at the frame's last byte. Used for requests and responses alike – the header says which.
//
//   DA BB | flag | status | request id (8) | body length (4) | body
//
// Frames are delimited by the header's body length only, never by where Hessian parsing stopped:
// Dubbo itself reads exactly 16 + length bytes and ignores what its Hessian reader left over. The body
// is read by BodyReader (body.ts) as far as the metadata needs (for a request: up to and including the
// attachments map); past that – and inside binary payloads – the body is skippable(), so a 1 MiB
// byte[] argument is stepped over chunk by chunk. fetchHint() says how few bytes would do between
// chunks; the filter's pump does not use it yet (measured: 4× the host calls for ~1/1000 of the
// copying, no gain through V8 — docs/benchmarks.md §5). A body the reader cannot understand is reported with
// bodyParsed() = false and bodyErrorReason(); only a broken header (magic, length) or a limit on the
// length fails the stream, because then the next frame cannot be found.
//
// Tolerance (what Envoy/Aeraki reject and Java peers send, §5.4 #8, #9): every status byte (Dubbo 3's
// 25 and 35 included), every serialization id (non-Hessian bodies are framed, not parsed), a null
// service version, a zero-length body. Non-Dubbo bytes (Dubbo's telnet fallback, DE11) fail the stream,
// as in Envoy: a proxy cannot frame them.
//
// The last byte of a frame is never skippable, so skip() never ends a message (the filter's pump
// looks at events after feed() only).
//
// Speed: as in the Redis codec, the state lives in @unmanaged structs (DecoderState, BodyReader,
// HessianWalker and its tables) in one StaticArray<u8> owned by the decoder, so the per-byte and
// per-value code never spills managed references to the shadow stack; the managed DubboDecoder is
// the API over them.

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../codec";
import { DubboLimits, limMaxBodyBytes } from "./limits";
import {
  HEADER_BYTES,
  MAGIC_HI,
  MAGIC_LO,
  FLAG_REQUEST,
  FLAG_TWO_WAY,
  FLAG_EVENT,
  SERIALIZATION_MASK,
  SERIALIZATION_HESSIAN2,
  STATUS_OK,
  readI64BE,
  readI32BE,
} from "./header";
import { ArenaBuffer, CaptureArena } from "./capture";
import { Attachments } from "./attachments";
import { HessianWalker } from "./hessian";
import { walkerBytes, placeWalker } from "./hessian-reader";
import { BodyReader, BODY_NONE, BODY_REQUEST, BODY_RESPONSE, BODY_EVENT, BODY_ERROR_MESSAGE } from "./body";
import { align8 } from "./raw";
import { R_NONE, E_MAGIC, E_LENGTH, E_BODY_LIMIT, E_SKIP, reasonText } from "./reasons";

const D_HEADER: i32 = 0;
const D_BODY: i32 = 1;
const D_ERROR: i32 = 2;


export class DubboDecoder {
  /** EV_NEED_MORE, EV_MESSAGE or EV_ERROR: the outcome of the last feed()/skip(). */
  event: i32 = EV_NEED_MORE;

  /** Memory of the state, reader, walker and tables (one GC object, made once). */
  private readonly block: StaticArray<u8>;
  private readonly buffer: ArenaBuffer;
  private readonly st: DecoderState;
  private readonly reader: BodyReader;
  private readonly arena: CaptureArena;
  private readonly att: Attachments;

  constructor(private readonly limits: DubboLimits) {
    // layout: state | header scratch (16) | body reader | walker, arena state, tables, stack
    const sz = align8(offsetof<DecoderState>());
    const hz = <usize>HEADER_BYTES;
    const rz = BodyReader.bytes();
    const block = new StaticArray<u8>(<i32>(sz + hz + rz + walkerBytes(limits)));
    const at = changetype<usize>(block);
    const wAt = at + sz + hz + rz;
    this.buffer = placeWalker(wAt, limits);
    const walker = changetype<HessianWalker>(wAt);
    const reader = BodyReader.place(at + sz + hz, walker);
    const st = changetype<DecoderState>(at);
    st.lim = changetype<usize>(limits);
    st.hdr = at + sz;
    st.reader = reader;
    this.block = block;
    this.st = st;
    this.reader = reader;
    this.arena = walker.arena;
    this.att = walker.attachments;
  }

  /**
   * Parse [ptr, ptr+len). Returns the bytes consumed: up to and including the last byte of a frame
   * (EV_MESSAGE), up to and including the offending byte (EV_ERROR), or all of them (EV_NEED_MORE).
   */
  feed(ptr: usize, len: i32): i32 {
    const st = this.st;
    const n = st.feed(ptr, len);
    this.event = st.event;
    return n;
  }

  /** Upcoming body bytes the decoder does not need to see (never the frame's last byte). */
  skippable(): i64 {
    return this.st.skippable();
  }

  /**
   * Optional fetch-size hint for a pump: > 0 when only that many bytes are needed before the decoder
   * can declare bytes skippable again (between the chunks of a large binary argument, which Java
   * writes in 8–32 KiB pieces: a 16 KiB window would copy half of them). 0: no preference.
   */
  fetchHint(): i32 {
    return this.st.fetchHint();
  }

  /** Account for n ≤ skippable() bytes the caller did not feed. */
  skip(n: i64): void {
    const st = this.st;
    st.skip(n);
    this.event = st.event;
  }

  reset(): void {
    this.st.reset();
    this.event = EV_NEED_MORE;
  }

  // ---- header (valid after EV_MESSAGE until the next feed/skip; during a body, for that frame) ----

  isRequest(): bool {
    return (this.st.flag & FLAG_REQUEST) != 0;
  }
  /** A request that expects a response (responses: false, whatever bit 6 says). */
  isTwoWay(): bool {
    return (this.st.flag & (FLAG_REQUEST | FLAG_TWO_WAY)) == (FLAG_REQUEST | FLAG_TWO_WAY);
  }
  isEvent(): bool {
    return (this.st.flag & FLAG_EVENT) != 0;
  }
  /** An event whose body is the Hessian null `N` alone (CodecSupport.isHeartBeat). */
  isHeartbeat(): bool {
    return this.isEvent() && this.st.len == 1 && this.reader.nullBody;
  }
  /** The raw flag byte. */
  flag(): i32 {
    return this.st.flag;
  }
  serializationId(): i32 {
    return this.st.flag & SERIALIZATION_MASK;
  }
  /** The status byte (responses; requests send 0). */
  status(): i32 {
    return this.st.status;
  }
  /** A response whose status is not OK (20). */
  isErrorStatus(): bool {
    return !this.isRequest() && this.st.status != STATUS_OK;
  }
  requestId(): i64 {
    return this.st.id;
  }
  bodyLength(): i32 {
    return this.st.len;
  }

  // ---- body ---------------------------------------------------------------------------------------

  /** False: the body was not read as Hessian 2 (other serialization, or a body error) – header only. */
  bodyParsed(): bool {
    return this.reader.parsed;
  }
  /** Why bodyParsed() is false (static text), "" when it is true. */
  bodyErrorReason(): string {
    return this.reader.error();
  }
  /** Request service, version, method and descriptor are readable – before EV_MESSAGE too. */
  metadataReady(): bool {
    return this.reader.metaReady;
  }
  /** Request: the dubbo protocol version string ("2.0.2"). */
  dubboVersionPtr(): usize {
    return this.arena.ptr(this.reader.dubboOff);
  }
  dubboVersionLen(): i32 {
    return this.reader.dubboLen;
  }
  /** Request: the service path (interface). */
  servicePtr(): usize {
    return this.arena.ptr(this.reader.pathOff);
  }
  serviceLen(): i32 {
    return this.reader.pathLen;
  }
  /** Request: the service version; hasVersion() is false when it was null (or not read). */
  versionPtr(): usize {
    return this.arena.ptr(this.reader.versionOff);
  }
  versionLen(): i32 {
    return this.reader.versionLen;
  }
  hasVersion(): bool {
    return this.reader.hasVersion;
  }
  methodPtr(): usize {
    return this.arena.ptr(this.reader.methodOff);
  }
  methodLen(): i32 {
    return this.reader.methodLen;
  }
  /** Request: the JVM parameter descriptor ("Ljava/lang/String;"), and the count of its parameters. */
  paramTypesPtr(): usize {
    return this.arena.ptr(this.reader.descOff);
  }
  paramTypesLen(): i32 {
    return this.reader.descLen;
  }
  parameterCount(): i32 {
    return this.reader.paramCount;
  }
  /** String attachments of the request (or OK response) in wire order; other values are not kept. */
  attachmentCount(): i32 {
    return this.att.count;
  }
  attachmentKeyPtr(i: i32): usize {
    return this.arena.ptr(this.att.keyOff(i));
  }
  attachmentKeyLen(i: i32): i32 {
    return this.att.keyLen(i);
  }
  attachmentValuePtr(i: i32): usize {
    return this.arena.ptr(this.att.valueOff(i));
  }
  attachmentValueLen(i: i32): i32 {
    return this.att.valueLen(i);
  }
  /** A string attachment was dropped for its size (maxStringBytes, maxCaptureBytes). */
  attachmentsTruncated(): bool {
    return this.att.truncated;
  }
  hasGroup(): bool {
    return this.att.group >= 0;
  }
  /** The "group" attachment ("" when absent). */
  groupPtr(): usize {
    return this.attachmentValuePtr(this.att.group);
  }
  groupLen(): i32 {
    return this.attachmentValueLen(this.att.group);
  }
  /** OK response: RESPONSE_* (0–5); RESPONSE_NONE (-1) otherwise. */
  responseFlag(): i32 {
    return this.reader.flag;
  }
  /** Response with status ≠ OK: the error message (UTF-8, at most maxStringBytes). */
  hasErrorMessage(): bool {
    return this.reader.hasMessage;
  }
  errorMessagePtr(): usize {
    return this.arena.ptr(this.reader.messageOff);
  }
  errorMessageLen(): i32 {
    return this.reader.messageLen;
  }
  errorMessageTruncated(): bool {
    return this.reader.messageTruncated;
  }

  // ---- stream -------------------------------------------------------------------------------------

  /** Stream offsets [start, end) of the last frame, header included. */
  start(): i64 {
    return this.st.msgStart;
  }
  end(): i64 {
    return this.st.msgEnd;
  }
  /** Between frames: every byte so far belongs to a complete frame. */
  atBoundary(): bool {
    const st = this.st;
    return st.state == D_HEADER && st.hdrN == 0;
  }
  /** Bytes fed or skipped since construction/reset. */
  position(): i64 {
    return this.st.pos;
  }
  /** Why the stream was rejected (static text; "" when not in error). */
  errorReason(): string {
    return reasonText(this.st.reasonCode);
  }
}

/** The decoder's framing state: an @unmanaged struct at the start of the decoder's block. */
// @ts-ignore: decorator
@unmanaged
class DecoderState {
  pos: i64; // bytes fed or skipped since construction/reset
  msgStart: i64;
  msgEnd: i64;
  bodyLeft: i64;
  // header of the current (after EV_MESSAGE: the last) frame
  id: i64;
  lim: usize; // the DubboLimits, held by the decoder
  hdr: usize; // HEADER_BYTES of scratch for a header split across windows
  reader: BodyReader;
  reasonCode: i32; // reasons.ts, R_NONE for none
  event: i32;
  state: i32;
  hdrN: i32;
  flag: i32;
  status: i32;
  len: i32;

  // ---- framing ------------------------------------------------------------------------------------

  feed(ptr: usize, len: i32): i32 {
    if (this.state == D_ERROR) {
      this.event = EV_ERROR;
      return 0;
    }
    this.event = EV_NEED_MORE;
    let i = 0;
    while (i < len) {
      i = this.state == D_HEADER ? this.header(ptr, i, len) : this.body(ptr, i, len);
      if (this.event != EV_NEED_MORE) break;
    }
    return i;
  }

  skippable(): i64 {
    if (this.state != D_BODY) return 0;
    const r = this.reader.skippable();
    const max = this.bodyLeft - 1;
    const n = r < max ? r : max;
    return n > 0 ? n : 0;
  }

  fetchHint(): i32 {
    if (this.state != D_BODY) return 0;
    const h = this.reader.fetchHint();
    return <i64>h < this.bodyLeft ? h : 0;
  }

  skip(n: i64): void {
    if (this.state == D_ERROR) {
      this.event = EV_ERROR;
      return;
    }
    this.event = EV_NEED_MORE;
    if (n <= 0) return;
    if (n > this.skippable()) {
      this.fail(E_SKIP);
      return;
    }
    this.reader.skip(n);
    this.pos += n;
    this.bodyLeft -= n;
  }

  reset(): void {
    this.event = EV_NEED_MORE;
    this.state = D_HEADER;
    this.hdrN = 0;
    this.pos = 0;
    this.msgStart = 0;
    this.msgEnd = 0;
    this.bodyLeft = 0;
    this.reasonCode = R_NONE;
    this.flag = 0;
    this.status = 0;
    this.id = 0;
    this.len = 0;
    this.reader.begin(BODY_NONE);
  }

  private header(ptr: usize, i: i32, len: i32): i32 {
    let n = this.hdrN;
    if (n == 0) {
      this.msgStart = this.pos;
      if (len - i >= HEADER_BYTES) {
        // whole header in the window: check the magic, copy, done
        const p = ptr + <usize>i;
        if (load<u8>(p) != MAGIC_HI) {
          this.pos++;
          this.fail(E_MAGIC);
          return i + 1;
        }
        if (load<u8>(p, 1) != MAGIC_LO) {
          this.pos += 2;
          this.fail(E_MAGIC);
          return i + 2;
        }
        memory.copy(this.hdr, p, <usize>HEADER_BYTES);
        this.pos += HEADER_BYTES;
        this.headerDone();
        return i + HEADER_BYTES;
      }
    }
    const h = this.hdr;
    while (i < len && n < HEADER_BYTES) {
      const b = load<u8>(ptr + <usize>i);
      i++;
      this.pos++;
      if ((n == 0 && b != MAGIC_HI) || (n == 1 && b != MAGIC_LO)) {
        this.hdrN = 0;
        this.fail(E_MAGIC);
        return i;
      }
      store<u8>(h + <usize>n, b);
      n++;
    }
    this.hdrN = n;
    if (n == HEADER_BYTES) this.headerDone();
    return i;
  }

  private headerDone(): void {
    const h = this.hdr;
    this.hdrN = 0;
    const flag = <i32>load<u8>(h, 2);
    const len = readI32BE(h + 12);
    this.flag = flag;
    this.status = <i32>load<u8>(h, 3);
    this.id = readI64BE(h + 4);
    this.len = len;
    if (len < 0) {
      this.fail(E_LENGTH);
      return;
    }
    if (<i64>len > limMaxBodyBytes(this.lim)) {
      this.fail(E_BODY_LIMIT);
      return;
    }
    let kind = BODY_NONE;
    if ((flag & SERIALIZATION_MASK) == SERIALIZATION_HESSIAN2) {
      if ((flag & FLAG_EVENT) != 0) kind = BODY_EVENT;
      else if ((flag & FLAG_REQUEST) != 0) kind = BODY_REQUEST;
      else kind = this.status == STATUS_OK ? BODY_RESPONSE : BODY_ERROR_MESSAGE;
    }
    this.reader.begin(kind);
    this.bodyLeft = <i64>len;
    this.state = D_BODY;
    if (len == 0) this.messageDone();
  }

  private body(ptr: usize, i: i32, len: i32): i32 {
    const avail = len - i;
    const left = this.bodyLeft;
    const take = <i64>avail < left ? avail : <i32>left;
    this.reader.feed(ptr + <usize>i, take);
    this.pos += take;
    this.bodyLeft = left - take;
    if (this.bodyLeft == 0) this.messageDone();
    return i + take;
  }

  private messageDone(): void {
    this.reader.finish();
    this.msgEnd = this.pos;
    this.state = D_HEADER;
    this.event = EV_MESSAGE;
  }

  private fail(reason: i32): void {
    this.reasonCode = reason;
    this.state = D_ERROR;
    this.event = EV_ERROR;
  }
}
