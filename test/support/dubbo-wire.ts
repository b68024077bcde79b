// Dubbo framing for end-to-end assertions on recorded bytes (a tcp-tap's up/down streams): splits a
// stream at the 16-byte headers (specs/protocols.md §2.1) and reads only what sits at fixed places:
// the one byte that tells a status-20 reply's kind (§2.3) and the four leading strings of a request
// body (§2.2). An oracle independent of metawire's codec.

export const MAGIC = 0xdabb;
export const STATUS_OK = 20;
/** The hessian2 null: the body of a heartbeat. */
const HESSIAN_NULL = 0x4e;
const HEAD_BYTES = 1024;

export interface DubboFrame {
  offset: number;
  request: boolean;
  twoWay: boolean;
  event: boolean;
  serialization: number;
  status: number;
  id: bigint;
  bodyLength: number;
  /** The first bytes of the body (at most HEAD_BYTES). */
  head: Buffer;
}

/** Every frame of a stream; throws when the stream is not a sequence of whole Dubbo frames. */
export function dubboFrames(stream: Buffer): DubboFrame[] {
  const frames: DubboFrame[] = [];
  let p = 0;
  while (p < stream.length) {
    if (stream.length - p < 16) throw new Error(`a partial header at offset ${p}: ${stream.subarray(p).toString("hex")}`);
    const magic = stream.readUInt16BE(p);
    if (magic !== MAGIC) throw new Error(`no Dubbo magic at offset ${p}: ${stream.subarray(p, p + 32).toString("hex")}`);
    const flag = stream[p + 2];
    const bodyLength = stream.readInt32BE(p + 12);
    if (bodyLength < 0 || p + 16 + bodyLength > stream.length) throw new Error(`a frame of ${bodyLength} body bytes at offset ${p} runs past the stream's end (${stream.length})`);
    frames.push({
      offset: p,
      request: (flag & 0x80) !== 0,
      twoWay: (flag & 0x40) !== 0,
      event: (flag & 0x20) !== 0,
      serialization: flag & 0x1f,
      status: stream[p + 3],
      id: stream.readBigInt64BE(p + 4),
      bodyLength,
      head: Buffer.from(stream.subarray(p + 16, p + 16 + Math.min(HEAD_BYTES, bodyLength))),
    });
    p += 16 + bodyLength;
  }
  return frames;
}

export const isHeartbeat = (f: DubboFrame): boolean => f.event && f.bodyLength === 1 && f.head[0] === HESSIAN_NULL;

/**
 * A reply's kind as metawire names it (response_status): "exception" for a status other than OK,
 * "error" when the status-20 body starts with a RESPONSE_WITH_EXCEPTION flag (hessian int 0 or 3),
 * else "ok".
 */
export function replyKind(f: DubboFrame): "ok" | "error" | "exception" {
  if (f.status !== STATUS_OK) return "exception";
  return f.head[0] === 0x90 || f.head[0] === 0x93 ? "error" : "ok";
}

export interface RequestHead {
  dubboVersion: string;
  service: string;
  version: string | null;
  method: string;
}

/**
 * The four strings a request body starts with: protocol version, service path, service version (or
 * null), method. Hessian strings in the forms Java writes for short values (0x00–0x1f, 0x30–0x33, S);
 * their length counts UTF-16 units, walked here over UTF-8 lead bytes.
 */
export function requestHead(f: DubboFrame): RequestHead {
  const b = f.head;
  let p = 0;
  const str = (): string | null => {
    const tag = b[p++];
    let units: number;
    if (tag === HESSIAN_NULL) return null;
    if (tag <= 0x1f) units = tag;
    else if (tag >= 0x30 && tag <= 0x33) units = ((tag - 0x30) << 8) | b[p++];
    else if (tag === 0x53) { units = b.readUInt16BE(p); p += 2; }
    else throw new Error(`request id=${f.id}: no short Hessian string at body offset ${p - 1} (0x${tag?.toString(16)})`);
    const start = p;
    for (let u = 0; u < units; u++) {
      if (p >= b.length) throw new Error(`request id=${f.id}: string past the first ${b.length} body bytes`);
      const lead = b[p];
      const n = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
      if (n === 4) u++;
      p += n;
    }
    return b.subarray(start, p).toString("utf8");
  };
  const dubboVersion = str(), service = str(), version = str(), method = str();
  if (dubboVersion === null || service === null || method === null) throw new Error(`request id=${f.id}: null where a string belongs`);
  return { dubboVersion, service, version, method };
}

/** For failure messages: one line per frame. */
export function describeFrames(frames: DubboFrame[]): string {
  return frames.map((f) => `  @${f.offset} ${f.request ? (f.event ? "event" : f.twoWay ? "request" : "oneway") : f.event ? "event-reply" : "reply"}` +
    ` id=${f.id} ser=${f.serialization} status=${f.status} len=${f.bodyLength} ${f.head.subarray(0, 24).toString("hex")}`).join("\n");
}
