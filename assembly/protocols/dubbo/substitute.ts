// Dubbo bytes the filter writes itself (DESIGN.md §5, in-band substitution): the heartbeat that
// replaces a denied request (same request id) and the error response that replaces the heartbeat's
// reply. Pure builders: they append to a ByteSink and read nothing else.
//
// Bodies are Hessian2 only (serialization id 2). For any other serialization the header would be
// right but the body unreadable: the caller checks the id and must not substitute otherwise.

import { ByteSink } from "../../policy/byte-sink";
import { HEADER_BYTES, MAGIC_HI, MAGIC_LO, FLAG_REQUEST, FLAG_TWO_WAY, FLAG_EVENT, SERIALIZATION_MASK } from "./header";

/** Hessian2 `N` (null): the body of a heartbeat (CodecSupport.isHeartBeat). */
const HESSIAN_NULL: u32 = 0x4e;

/** Longest string chunk Java's Hessian2Output and hessian.js write (specs §2.5). */
const CHUNK_UNITS: i32 = 0x8000;

/**
 * A heartbeat request as Java Dubbo sends it: flag 0xE0|serialization (request, two-way, event),
 * status 0, the given id, body `N`. The server answers flag 0x20|serialization, status 20, same id,
 * body `N` (specs §2.1, vectors D3/D4).
 */
export function writeDubboHeartbeat(out: ByteSink, serializationId: i32, requestId: i64): void {
  writeHeader(out, FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | (serializationId & SERIALIZATION_MASK), 0, requestId, 1);
  out.u8(HESSIAN_NULL);
}

/**
 * A response with a non-OK status as ExchangeCodec.encodeResponse writes it: flag = serialization
 * only (not request, not event), the status byte (70 SERVICE_ERROR, 100 SERVER_THREADPOOL_EXHAUSTED,
 * …), the request's id, body = `message` as one Hessian2 string (`out.writeUTF(errorMessage)`; the
 * consumer reads it with readUTF and throws a RemotingException carrying it). Vectors D9/D10.
 */
export function writeDubboErrorResponse(
  out: ByteSink,
  serializationId: i32,
  requestId: i64,
  status: i32,
  message: string,
): void {
  const start = out.length;
  writeHeader(out, serializationId & SERIALIZATION_MASK, status, requestId, 0);
  writeHessianString(out, message);
  out.setU32At(start + 12, <u32>(out.length - start - HEADER_BYTES));
}

function writeHeader(out: ByteSink, flag: i32, status: i32, requestId: i64, bodyLength: i32): void {
  out.u8(MAGIC_HI);
  out.u8(MAGIC_LO);
  out.u8(<u32>flag & 0xff);
  out.u8(<u32>status & 0xff);
  out.i64(requestId);
  out.u32(<u32>bodyLength);
}

/**
 * One Hessian2 string, written the way Java's Hessian2Output.writeString and hessian.js do
 * (specs §2.5): lengths count UTF-16 code units; each unit is written on its own as 1–3 bytes
 * (CESU-8: a supplementary character is two 3-byte surrogate sequences, 2 units), so Java's
 * readString accepts it. Up to 31 units `00`–`1F`, up to 1023 `30`–`33` + 1 byte, else `S` + u16.
 * Longer than 0x8000 units: `R` chunks of 0x8000 units (0x7FFF when the chunk would end on a high
 * surrogate, so no chunk splits a pair), the remainder in one of the final forms above.
 */
export function writeHessianString(out: ByteSink, s: string): void {
  const base = changetype<usize>(s);
  let at = 0;
  let left = s.length;
  while (left > CHUNK_UNITS) {
    let n = CHUNK_UNITS;
    const tail = <i32>load<u16>(base + (<usize>(at + n - 1) << 1));
    if (tail >= 0xd800 && tail <= 0xdbff) n--;
    out.u8(0x52); // R
    out.u16(<u32>n);
    writeUnits(out, base + (<usize>at << 1), n);
    at += n;
    left -= n;
  }
  if (left <= 31) {
    out.u8(<u32>left);
  } else if (left <= 1023) {
    out.u8(0x30 + (<u32>left >> 8));
    out.u8(<u32>left & 0xff);
  } else {
    out.u8(0x53); // S
    out.u16(<u32>left);
  }
  writeUnits(out, base + (<usize>at << 1), left);
}

/** n UTF-16 units from p, each as 1, 2 or 3 bytes. */
function writeUnits(out: ByteSink, p: usize, n: i32): void {
  const end = p + (<usize>n << 1);
  for (; p < end; p += 2) {
    const c = <u32>load<u16>(p);
    if (c < 0x80) {
      out.u8(c);
    } else if (c < 0x800) {
      out.u8(0xc0 | (c >> 6));
      out.u8(0x80 | (c & 0x3f));
    } else {
      out.u8(0xe0 | (c >> 12));
      out.u8(0x80 | ((c >> 6) & 0x3f));
      out.u8(0x80 | (c & 0x3f));
    }
  }
}
