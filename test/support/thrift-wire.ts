// Thrift messages written and read back by the npm `thrift` library (Apache Thrift's Node
// implementation), independently of metawire's codec: the bytes a policy test feeds the filter and
// the oracle its output is checked against. Every transport (framed, unframed, THeader) × protocol
// (strict binary, lax binary, compact) the filter enforces on.
//
// Reading checks the framing: a framed message must end exactly at its frame length, a THeader
// message exactly at its THeader length (the library reads the info headers and the message; the
// test compares where the message ended with the LENGTH field), an unframed stream must be a whole
// number of messages.
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const thrift: any = require("thrift");
const { TFramedTransport, TBufferedTransport, TBinaryProtocol, TCompactProtocol, THeaderProtocol } = thrift;

export const MessageType = thrift.Thrift.MessageType as { CALL: 1; REPLY: 2; EXCEPTION: 3; ONEWAY: 4 };
export const Type = thrift.Thrift.Type;
/** The method a denied call becomes (assembly/protocols/thrift/substitute.ts). */
export const RESERVED_METHOD = "__metawire_denied";
/** TApplicationException types. */
export const UNKNOWN_METHOD = 1;
export const INTERNAL_ERROR = 6;

export type WireTransport = "framed" | "unframed" | "header";
export type WireProtocol = "binary" | "lax" | "compact";
export interface WireStack { transport: WireTransport; protocol: WireProtocol }

/**
 * The stacks metawire decodes: strict binary and compact on each transport, and non-strict ("lax")
 * binary unframed (with `thrift.lax_binary_unframed`; a lax message cannot be told from a frame
 * length otherwise, and framed/THeader lax binary is not accepted: README, configuration).
 */
export const WIRE_STACKS: WireStack[] = [
  ...(["framed", "unframed", "header"] as WireTransport[]).flatMap((transport) =>
    (["binary", "compact"] as WireProtocol[]).map((protocol) => ({ transport, protocol }))),
  { transport: "unframed", protocol: "lax" },
];
export const stackName = (s: WireStack): string => `${s.transport}/${s.protocol}`;

export interface WriteOptions {
  /** THeader: info headers of the frame. */
  headers?: Record<string, string>;
  /** THeader: the frame's sequence number. */
  headerSeqId?: number;
}

/** The bytes the library flushes after `write(protocol)` on a fresh transport of the stack. */
export function viaLibrary(stack: WireStack, write: (p: any) => void, opts: WriteOptions = {}): Buffer {
  let out: Buffer | undefined;
  const onFlush = (b: Buffer) => { out = Buffer.from(b); };
  const trans = stack.transport === "framed" ? new TFramedTransport(null, onFlush) : new TBufferedTransport(null, onFlush);
  const Proto = stack.protocol === "compact" ? TCompactProtocol : TBinaryProtocol;
  const inner = (t: unknown) => (stack.protocol === "lax" ? new Proto(t, false, false) : new Proto(t));
  let proto: any;
  if (stack.transport === "header") {
    trans.setProtocolId(stack.protocol === "compact" ? 2 : 0);
    trans.setSeqId(opts.headerSeqId ?? 0);
    for (const [k, v] of Object.entries(opts.headers ?? {})) trans.setWriteHeader(k, v);
    proto = new THeaderProtocol(trans);
    proto.protocol = inner(trans);   // lax binary inside THeader (THeaderProtocol picks strict by id otherwise)
  } else {
    proto = inner(trans);
  }
  write(proto);
  proto.flush();
  assert.ok(out, "the library flushed");
  return out;
}

/** Argument/result struct fields a test message carries. */
export type Field = { id: number; string: string } | { id: number; i64: number } | { id: number; binary: Buffer };

function writeStruct(p: any, fields: Field[]): void {
  p.writeStructBegin("s");
  for (const f of fields) {
    if ("string" in f) { p.writeFieldBegin("f", Type.STRING, f.id); p.writeString(f.string); }
    else if ("binary" in f) { p.writeFieldBegin("f", Type.STRING, f.id); p.writeBinary(f.binary); }
    else { p.writeFieldBegin("f", Type.I64, f.id); p.writeI64(f.i64); }
    p.writeFieldEnd();
  }
  p.writeFieldStop();
  p.writeStructEnd();
}

/** A CALL/ONEWAY/REPLY whose struct holds `fields`; `name` as it goes on the wire ("Svc:method" multiplexed). */
export function message(stack: WireStack, name: string, type: number, seqid: number, fields: Field[] = [], opts: WriteOptions = {}): Buffer {
  return viaLibrary(stack, (p) => {
    p.writeMessageBegin(name, type, seqid);
    writeStruct(p, fields);
    p.writeMessageEnd();
  }, opts);
}

/** An EXCEPTION message whose body is TApplicationException{message, type}, written field by field. */
export function appException(stack: WireStack, name: string, seqid: number, text: string, exType: number, opts: WriteOptions = {}): Buffer {
  return viaLibrary(stack, (p) => {
    p.writeMessageBegin(name, MessageType.EXCEPTION, seqid);
    p.writeStructBegin("TApplicationException");
    p.writeFieldBegin("message", Type.STRING, 1);
    p.writeString(text);
    p.writeFieldEnd();
    p.writeFieldBegin("type", Type.I32, 2);
    p.writeI32(exType);
    p.writeFieldEnd();
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  }, opts);
}

/** What a policy turns a denied CALL into: the reserved method, same seqid, empty arguments, THeader seqid kept, no info headers. */
export function reservedCall(stack: WireStack, service: string, seqid: number, headerSeqId = 0): Buffer {
  return message(stack, service ? `${service}:${RESERVED_METHOD}` : RESERVED_METHOD, MessageType.CALL, seqid, [], { headerSeqId });
}

export interface ReadMessage {
  name: string;
  type: number;
  seqid: number;
  /** EXCEPTION: the TApplicationException read by the library. */
  ex?: { message: string; type: number };
  /** THeader: info headers and the frame's sequence number. */
  headers?: Record<string, string>;
  headerSeqId?: number;
  /** Offset of the message's first and past-last byte in the stream. */
  start: number;
  end: number;
}

/** A transport the library reads `bytes` from. */
function readerOf(bytes: Buffer): any {
  const t = new TBufferedTransport();
  t.inBuf = bytes;
  t.readCursor = 0;
  t.writeCursor = bytes.length;
  return t;
}

function protoOf(stack: WireStack, t: unknown): any {
  const Proto = stack.protocol === "compact" ? TCompactProtocol : TBinaryProtocol;
  return stack.protocol === "lax" ? new Proto(t, false, false) : new Proto(t);
}

function readBody(p: any): Omit<ReadMessage, "start" | "end"> {
  const m = p.readMessageBegin();
  const out: Omit<ReadMessage, "start" | "end"> = { name: String(m.fname), type: m.mtype, seqid: m.rseqid | 0 };
  if (m.mtype === MessageType.EXCEPTION) {
    const e = new thrift.Thrift.TApplicationException();
    e.read(p);
    out.ex = { message: e.message, type: e.type };
  } else {
    p.skip(Type.STRUCT);
  }
  p.readMessageEnd();
  return out;
}

/**
 * Every message of a stream written in `stack`; throws when the stream is not a whole number of
 * messages or a frame's length disagrees with where its message ends.
 */
export function readStream(stack: WireStack, bytes: Buffer): ReadMessage[] {
  const out: ReadMessage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (stack.transport === "unframed") {
      const t = readerOf(bytes.subarray(at));
      const m = readBody(protoOf(stack, t));
      out.push({ ...m, start: at, end: at + t.readCursor });
      at += t.readCursor;
      continue;
    }
    assert.ok(bytes.length - at >= 4, `a partial frame length at ${at}`);
    const len = bytes.readInt32BE(at);
    assert.ok(len > 0 && at + 4 + len <= bytes.length, `frame length ${len} at ${at} runs past the stream's end (${bytes.length})`);
    const frame = bytes.subarray(at, at + 4 + len);
    if (stack.transport === "framed") {
      const t = readerOf(frame.subarray(4));
      const m = readBody(protoOf(stack, t));
      assert.equal(t.readCursor, len, `the message at ${at} ends at its frame length (${len})`);
      out.push({ ...m, start: at, end: at + 4 + len });
    } else {
      assert.equal(frame.readUInt16BE(4), 0x0fff, `THeader magic at ${at}`);
      const t = readerOf(frame);
      const hp = new THeaderProtocol(t);
      hp.readMessageBegin = function (this: any) {
        this.trans.readHeaders();
        this.protocol = protoOf(stack, this.trans);   // the id says binary or compact; lax needs its own reader
        assert.equal(this.trans.getProtocolId(), stack.protocol === "compact" ? 2 : 0, "THeader protocol id");
        return this.protocol.readMessageBegin();
      };
      const m = readBody(hp);
      assert.equal(t.readCursor, len + 4, `the message at ${at} ends at its THeader length (${len})`);
      out.push({ ...m, headers: { ...t.getReadHeaders() }, headerSeqId: t.getSeqId(), start: at, end: at + 4 + len });
    }
    at += 4 + len;
  }
  return out;
}

/** Splits `bytes` in pieces: whole, one byte at a time, `size` bytes each, or 1–23 bytes drawn from a seeded generator. */
export function segments(bytes: Buffer, how: "whole" | "bytes" | number | { size: number }): Buffer[] {
  if (how === "whole") return [bytes];
  if (how === "bytes") return [...bytes].map((b) => Buffer.from([b]));
  if (typeof how === "object") {
    const out: Buffer[] = [];
    for (let p = 0; p < bytes.length; p += how.size) out.push(bytes.subarray(p, p + how.size));
    return out;
  }
  let x = how | 1;
  const out: Buffer[] = [];
  for (let p = 0; p < bytes.length;) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const n = 1 + ((x >>> 0) % 23);
    out.push(bytes.subarray(p, p + n));
    p += n;
  }
  return out;
}
