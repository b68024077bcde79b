// Thrift bytes the filter writes itself (DESIGN.md §5, in-band substitution): the CALL of a reserved
// unknown method that replaces a denied CALL (the server answers it with an EXCEPTION carrying the
// same seqid), and the TApplicationException that replaces that answer. Both are written in the
// request's protocol and transport (specs/protocols.md §1.2–§1.4, §1.8). Pure builders: they append
// to a ByteSink and read nothing else.

import { ByteSink } from "../../policy/byte-sink";
import {
  TRANSPORT_FRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_COMPACT,
  MSG_CALL,
  MSG_EXCEPTION,
  T_STOP,
  T_STRING,
  T_I32,
  C_BINARY,
  C_I32,
} from "./types";

/** The method of the substitute CALL: no service defines it, so the server answers UNKNOWN_METHOD. */
export const RESERVED_METHOD = "__metawire_denied";

const HEADER_MAGIC: u32 = 0x0fff;
// THeader protocol ids (HeaderFormat.md): 0 binary, 2 compact
const HEADER_PROTO_BINARY: u64 = 0;
const HEADER_PROTO_COMPACT: u64 = 2;

/**
 * A CALL named `<service>:__metawire_denied` (serviceLen > 0: a multiplexed server dispatches on
 * the prefix, and Apache's Node multiplexed server crashes on an unknown service, so the prefix is
 * kept) or `__metawire_denied`, with the given seqid and an empty args struct (STOP).
 * `lax` selects non-strict binary (no version word); it is ignored for compact.
 * THeader: `headerSeqId` and `headerFlags` are echoed in the frame header.
 */
export function writeThriftReservedCall(
  out: ByteSink,
  transport: i32,
  protocol: i32,
  lax: bool,
  servicePtr: usize,
  serviceLen: i32,
  seqId: i32,
  headerSeqId: i32,
  headerFlags: i32,
): void {
  const start = beginFrame(out, transport, protocol, headerSeqId, headerFlags);
  const reservedLen = RESERVED_METHOD.length; // ASCII: bytes == units
  const prefix = serviceLen > 0 ? serviceLen + 1 : 0;
  const compact = protocol == PROTOCOL_COMPACT;
  beginMessage(out, compact, lax, MSG_CALL, prefix + reservedLen, seqId);
  if (serviceLen > 0) {
    out.bytes(servicePtr, serviceLen);
    out.u8(0x3a); // ':'
  }
  out.utf8(RESERVED_METHOD);
  if (!compact) endBinaryName(out, lax, MSG_CALL, seqId);
  out.u8(T_STOP); // empty args struct
  endFrame(out, transport, start);
}

/**
 * An EXCEPTION message with the given (bare) method name and seqid whose struct is a
 * TApplicationException {1: string message, 2: i32 type} — the layout Envoy's app_exception_impl
 * writes (Apache Node 0.24 omits field 2). exType: 1 UNKNOWN_METHOD, 6 INTERNAL_ERROR, … (§1.8).
 */
export function writeThriftAppException(
  out: ByteSink,
  transport: i32,
  protocol: i32,
  lax: bool,
  methodPtr: usize,
  methodLen: i32,
  seqId: i32,
  headerSeqId: i32,
  headerFlags: i32,
  exType: i32,
  message: string,
): void {
  const start = beginFrame(out, transport, protocol, headerSeqId, headerFlags);
  const compact = protocol == PROTOCOL_COMPACT;
  const nameLen = methodLen > 0 ? methodLen : 0;
  beginMessage(out, compact, lax, MSG_EXCEPTION, nameLen, seqId);
  out.bytes(methodPtr, nameLen);
  if (!compact) endBinaryName(out, lax, MSG_EXCEPTION, seqId);
  const msgLen = String.UTF8.byteLength(message);
  if (compact) {
    out.u8((1 << 4) | <u32>C_BINARY); // field 1 (delta 1), binary/string
    out.varint(<u64>msgLen);
    out.utf8(message);
    out.u8((1 << 4) | <u32>C_I32); // field 2 (delta 1), i32
    out.varint(<u64>(<u32>((exType << 1) ^ (exType >> 31)))); // zigzag
  } else {
    out.u8(<u32>T_STRING);
    out.u16(1);
    out.u32(<u32>msgLen);
    out.utf8(message);
    out.u8(<u32>T_I32);
    out.u16(2);
    out.u32(<u32>exType);
  }
  out.u8(T_STOP);
  endFrame(out, transport, start);
}

/**
 * Writes what precedes the message: nothing (unframed), a length placeholder (framed), or a THeader
 * frame header with a length placeholder. Returns the frame's start (for endFrame).
 */
function beginFrame(out: ByteSink, transport: i32, protocol: i32, headerSeqId: i32, headerFlags: i32): i32 {
  const start = out.length;
  if (transport == TRANSPORT_FRAMED) {
    out.u32(0);
  } else if (transport == TRANSPORT_HEADER) {
    out.u32(0); // LENGTH, patched in endFrame
    out.u16(HEADER_MAGIC);
    out.u16(<u32>headerFlags & 0xffff);
    out.u32(<u32>headerSeqId);
    const sizeAt = out.length;
    out.u16(0); // header size in 4-byte words, patched below
    const dataAt = out.length;
    out.varint(protocol == PROTOCOL_COMPACT ? HEADER_PROTO_COMPACT : HEADER_PROTO_BINARY);
    out.varint(0); // no transforms; no info blocks
    // Zero padding to a multiple of 4. Apache Node pads 0–3 bytes, Apache C++ and Envoy 1–4
    // (specs §1.4); with this 2-byte header both give the same 2 bytes.
    while (((out.length - dataAt) & 3) != 0) out.u8(0);
    out.setU16At(sizeAt, <u32>((out.length - dataAt) >> 2));
  }
  return start;
}

/** Patches the frame length (everything after the 4-byte length itself). */
function endFrame(out: ByteSink, transport: i32, start: i32): void {
  if (transport == TRANSPORT_FRAMED || transport == TRANSPORT_HEADER) {
    out.setU32At(start, <u32>(out.length - start - 4));
  }
}

/**
 * The message header up to the name bytes: binary strict `80 01 00 type, i32 len`, binary lax
 * `i32 len`, compact `82, type<<5|1, varint seqid, varint len`. The caller writes the name, then
 * (binary) endBinaryName.
 */
function beginMessage(out: ByteSink, compact: bool, lax: bool, type: i32, nameLen: i32, seqId: i32): void {
  if (compact) {
    out.u8(0x82);
    out.u8((<u32>type << 5) | 1);
    out.varint(<u64>(<u32>seqId)); // seqid is a plain varint, not zigzag (§1.3)
    out.varint(<u64>nameLen);
  } else {
    if (!lax) out.u32(0x80010000 | <u32>type);
    out.u32(<u32>nameLen);
  }
}

/** After the name: binary lax `i8 type, i32 seqid`, strict `i32 seqid`. */
function endBinaryName(out: ByteSink, lax: bool, type: i32, seqId: i32): void {
  if (lax) out.u8(<u32>type);
  out.u32(<u32>seqId);
}
