// Thrift streams for the benchmark, written by Apache Thrift's own Node library (npm `thrift` 0.24:
// TBinaryProtocol / TCompactProtocol over TFramedTransport / TBufferedTransport, flushed to memory),
// and the same library reading them back as the reference decoder.
//
// A CALL stream and its REPLY stream per scenario, as a proxy sees them: a batch of requests in one
// read (pipelined ×16) or one per read, then the batch of their replies.
//   small     update(1: string key, 2: i64 version, 3: binary payload (100 B), 4: list<string> tags,
//             5: map<string,i32> counters) → Ack {1: bool ok, 2: i64 version, 3: string etag}
//   1 MiB     upload(1: string key, 2: binary data (1 MiB)) → bool
// Framed messages are read by the filter up to the message header and skipped by length (a REPLY
// also up to its first field header); unframed ones are walked field by field to find their end.
//
// Reference: what an Apache Thrift Node server or client does with the bytes – the transport's
// receiver (TFramedTransport: one frame at a time; TBufferedTransport: accumulate, read messages
// until InputBufferUnderrunError, commitPosition after each) and, per message, readMessageBegin +
// skip(Thrift.Type.STRUCT) + readMessageEnd on the protocol (the generated code reads fields instead
// of skipping them; skip is the same walk without building objects).
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { DOWN, UP, type Read, type Scenario } from "./scenarios.js";

const require = createRequire(import.meta.url);

// ---- the parts of npm `thrift` used here (it ships no typings for its Node lib) -------------------

interface TProtocol {
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeString(s: string): void;
  writeBinary(b: Buffer): void;
  writeBool(b: boolean): void;
  writeI32(n: number): void;
  writeI64(n: number): void;
  writeListBegin(etype: number, size: number): void;
  writeListEnd(): void;
  writeMapBegin(ktype: number, vtype: number, size: number): void;
  writeMapEnd(): void;
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readMessageEnd(): void;
  skip(type: number): void;
}
interface TTransport {
  flush(): void;
  commitPosition(): void;
  rollbackPosition(): void;
}
type TransportCtor = {
  new (buffer: Buffer | undefined, onFlush: (msg: Buffer) => void): TTransport;
  receiver(callback: (trans: TTransport) => void): (data: Buffer) => void;
};
interface ThriftLib {
  Thrift: { Type: Record<string, number>; MessageType: Record<string, number> };
  TFramedTransport: TransportCtor;
  TBufferedTransport: TransportCtor;
  TBinaryProtocol: new (trans: TTransport) => TProtocol;
  TCompactProtocol: new (trans: TTransport) => TProtocol;
  InputBufferUnderrunError: new () => Error;
}

const thrift = require("thrift") as ThriftLib;
const { Type, MessageType } = thrift.Thrift;

// ---- streams ----------------------------------------------------------------------------------------

export interface ThriftWire {
  framed: boolean;
  compact: boolean;
}

export interface ThriftScenario extends Scenario, ThriftWire {}

/** One stream of a codec-only row: `pairs` CALLs in one buffer, their REPLYs in another. */
export interface ThriftCodecStream extends ThriftWire {
  name: string;
  requests: Buffer;
  replies: Buffer;
  pairs: number;
  skip: boolean;
}

export function wireName(w: ThriftWire): string {
  return `${w.framed ? "framed" : "unframed"} ${w.compact ? "compact" : "binary"}`;
}

/** One message, written by the library exactly as a client or server would flush it. */
function message(w: ThriftWire, write: (p: TProtocol) => void): Buffer {
  let out: Buffer | undefined;
  const Transport = w.framed ? thrift.TFramedTransport : thrift.TBufferedTransport;
  const trans = new Transport(undefined, (msg) => { out = Buffer.from(msg); });
  const Protocol = w.compact ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
  write(new Protocol(trans));
  trans.flush();
  if (!out) throw new Error("thrift transport flushed nothing");
  return out;
}

function field(p: TProtocol, name: string, type: number, id: number, value: () => void): void {
  p.writeFieldBegin(name, type, id);
  value();
  p.writeFieldEnd();
}

const PAYLOAD_100 = Buffer.alloc(100, 0x76);
const TAGS = ["alpha", "beta", "gamma"];
const COUNTERS: [string, number][] = [["reads", 17], ["writes", 3]];

function smallCall(w: ThriftWire, seqid: number): Buffer {
  return message(w, (p) => {
    p.writeMessageBegin("update", MessageType.CALL, seqid);
    p.writeStructBegin("update_args");
    field(p, "key", Type.STRING, 1, () => p.writeString(`user:${seqid}`));
    field(p, "version", Type.I64, 2, () => p.writeI64(1_000_000 + seqid));
    field(p, "payload", Type.STRING, 3, () => p.writeBinary(PAYLOAD_100));
    field(p, "tags", Type.LIST, 4, () => {
      p.writeListBegin(Type.STRING, TAGS.length);
      for (const t of TAGS) p.writeString(t);
      p.writeListEnd();
    });
    field(p, "counters", Type.MAP, 5, () => {
      p.writeMapBegin(Type.STRING, Type.I32, COUNTERS.length);
      for (const [k, v] of COUNTERS) { p.writeString(k); p.writeI32(v); }
      p.writeMapEnd();
    });
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

function smallReply(w: ThriftWire, seqid: number): Buffer {
  return message(w, (p) => {
    p.writeMessageBegin("update", MessageType.REPLY, seqid);
    p.writeStructBegin("update_result");
    field(p, "success", Type.STRUCT, 0, () => {
      p.writeStructBegin("Ack");
      field(p, "ok", Type.BOOL, 1, () => p.writeBool(true));
      field(p, "version", Type.I64, 2, () => p.writeI64(1_000_001 + seqid));
      field(p, "etag", Type.STRING, 3, () => p.writeString(`"v-${(seqid * 2654435761) >>> 0}"`));
      p.writeFieldStop();
      p.writeStructEnd();
    });
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

let dataMiB: Buffer | undefined;

function bigCall(w: ThriftWire, seqid: number): Buffer {
  dataMiB ??= Buffer.alloc(1 << 20, 0x77);
  const data = dataMiB;
  return message(w, (p) => {
    p.writeMessageBegin("upload", MessageType.CALL, seqid);
    p.writeStructBegin("upload_args");
    field(p, "key", Type.STRING, 1, () => p.writeString(`blob:${seqid}`));
    field(p, "data", Type.STRING, 2, () => p.writeBinary(data));
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

function bigReply(w: ThriftWire, seqid: number): Buffer {
  return message(w, (p) => {
    p.writeMessageBegin("upload", MessageType.REPLY, seqid);
    p.writeStructBegin("upload_result");
    field(p, "success", Type.BOOL, 0, () => p.writeBool(true));
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

/** Distinct seqids per stream; messages repeat after this many (a batch never repeats one). */
const DISTINCT = 1024;

/** `count` CALL/REPLY pairs, seqids 1…count. */
function pairs(w: ThriftWire, big: boolean, count: number): { calls: Buffer[]; replies: Buffer[] } {
  const calls: Buffer[] = [], replies: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    calls.push(big ? bigCall(w, i + 1) : smallCall(w, i + 1));
    replies.push(big ? bigReply(w, i + 1) : smallReply(w, i + 1));
  }
  return { calls, replies };
}

/** Reads of `total` pairs: a read of `perRound` calls, then a read of their replies, and so on. */
function rounds(total: number, perRound: number, call: (i: number) => Buffer, reply: (i: number) => Buffer): Read[] {
  const out: Read[] = [];
  const read = (k: number, f: (j: number) => Buffer) => (k === 1 ? f(0) : Buffer.concat(Array.from({ length: k }, (_, j) => f(j))));
  for (let i = 0; i < total; i += perRound) {
    const k = Math.min(total, i + perRound) - i;
    out.push([DOWN, read(k, (j) => call(i + j))]);
    out.push([UP, read(k, (j) => reply(i + j))]);
  }
  return out;
}

const WIRES: ThriftWire[] = [
  { framed: true, compact: false },
  { framed: true, compact: true },
  { framed: false, compact: false },
  { framed: false, compact: true },
];

/** Scenarios of the in-memory harness table: every wire × (small ×16, small ×1, 1 MiB ×1). */
export function thriftScenarios(scale = 1): ThriftScenario[] {
  const n = Math.max(1000, Math.round(16000 * scale));
  const bigN = Math.max(8, Math.round(64 * scale));
  const out: ThriftScenario[] = [];
  for (const w of WIRES) {
    const small = pairs(w, false, DISTINCT);
    const big = pairs(w, true, 1);
    const s = (i: number) => small.calls[i % DISTINCT], r = (i: number) => small.replies[i % DISTINCT];
    // one 1 MiB call (seqid 1) read again and again: with one call in flight at a time a fresh
    // seqid would change nothing, and it saves building 64 MiB per wire
    out.push({ ...w, name: `${wireName(w)}, small, pipelined ×16`, requests: n, reads: rounds(n, 16, s, r) });
    out.push({ ...w, name: `${wireName(w)}, small, one per read`, requests: n, reads: rounds(n, 1, s, r) });
    out.push({ ...w, name: `${wireName(w)}, 1 MiB arg, one per read`, requests: bigN,
      reads: rounds(bigN, 1, () => big.calls[0], () => big.replies[0]) });
  }
  return out;
}

/** Streams of the codec-only table: every wire × (small ×16, 1 MiB skipped by length). */
export function thriftCodecStreams(): ThriftCodecStream[] {
  const out: ThriftCodecStream[] = [];
  for (const w of WIRES) {
    const small = pairs(w, false, 16);
    const big = pairs(w, true, 1);
    out.push({ ...w, name: `${wireName(w)}, small, pipelined ×16`, pairs: 16, skip: false,
      requests: Buffer.concat(small.calls), replies: Buffer.concat(small.replies) });
    out.push({ ...w, name: `${wireName(w)}, 1 MiB arg, skipped`, pairs: 1, skip: true,
      requests: big.calls[0], replies: big.replies[0] });
  }
  return out;
}

// ---- reference: the library reading the same bytes -------------------------------------------------

/**
 * A receiver as an Apache Thrift Node server/client installs it on its socket: returns the function
 * to call with each read; `onMessage` runs after each complete message.
 */
export function libraryReader(w: ThriftWire, onMessage: (name: string, type: number, seqid: number) => void): (data: Buffer) => void {
  const Protocol = w.compact ? thrift.TCompactProtocol : thrift.TBinaryProtocol;
  const read = (p: TProtocol) => {
    const h = p.readMessageBegin();
    p.skip(Type.STRUCT);
    p.readMessageEnd();
    onMessage(h.fname, h.mtype, h.rseqid);
  };
  if (w.framed) {
    // TFramedTransport.receiver hands over one complete frame at a time
    return thrift.TFramedTransport.receiver((trans) => read(new Protocol(trans)));
  }
  // TBufferedTransport.receiver accumulates; messages are read until the buffer runs dry (server.js)
  return thrift.TBufferedTransport.receiver((trans) => {
    const p = new Protocol(trans);
    try {
      for (;;) {
        read(p);
        trans.commitPosition();
      }
    } catch (e) {
      if (!(e instanceof thrift.InputBufferUnderrunError)) throw e;
      trans.rollbackPosition();
    }
  });
}

/** ns per request + reply for the library reading a scenario's reads (one receiver per direction). */
export function throughThriftLibrary(s: ThriftScenario): number {
  let seen = 0;
  const count = () => { seen++; };
  const once = () => {
    const req = libraryReader(s, count), rep = libraryReader(s, count);
    const t0 = performance.now();
    for (const [dir, bytes] of s.reads) (dir === DOWN ? req : rep)(bytes);
    return performance.now() - t0;
  };
  once(); // warm-up
  seen = 0;
  // best of 3, as the harness rows (of 1 when one run takes more than ~0.3 s)
  let ms = once(), runs = 1;
  for (; runs < 3 && ms < 300; runs++) ms = Math.min(ms, once());
  if (seen !== runs * 2 * s.requests) throw new Error(`${s.name}: thrift library read ${seen / runs} messages per run, expected ${2 * s.requests}`);
  return (ms * 1e6) / s.requests;
}

/** `iters` rounds of the library reading a codec stream (each direction's buffer in one call). */
export function thriftLibraryRound(s: ThriftCodecStream): (iters: number) => void {
  let seen = 0;
  const count = () => { seen++; };
  const req = libraryReader(s, count), rep = libraryReader(s, count);
  return (iters) => {
    seen = 0;
    for (let i = 0; i < iters; i++) {
      req(s.requests);
      rep(s.replies);
    }
    if (seen !== 2 * s.pairs * iters) throw new Error(`${s.name}: thrift library read ${seen} messages, expected ${2 * s.pairs * iters}`);
  };
}

/** Sanity check of a built stream: the library reads back `want` messages of the given type. */
export function checkThriftStream(w: ThriftWire, bytes: Buffer, type: "call" | "reply", want: number, what: string): void {
  const mtype = type === "call" ? MessageType.CALL : MessageType.REPLY;
  let got = 0;
  libraryReader(w, (_n, t) => { if (t === mtype) got++; })(bytes);
  if (got !== want) throw new Error(`${what}: the thrift library reads ${got} ${type}s, expected ${want}`);
}
