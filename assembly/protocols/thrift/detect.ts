// Recognises transport and protocol from the first bytes of a connection (specs/protocols.md §1.1),
// in the order Envoy's auto transport/protocol and Apache's THeaderTransport use:
//   * a first byte with the top bit set cannot start a valid frame length, so it must be an unframed
//     message: `80 01` strict binary, `82 v` compact (version 1 in the low 5 bits of v) – decided
//     after 2 bytes, so even a 5-byte compact message is recognised;
//   * otherwise bytes 0..3 are a length and bytes 4..5 say what follows: 0x0FFF → THeader,
//     0x8001 / 0x82?1 → framed binary / compact – decided after 8 bytes;
//   * anything else is non-strict binary when the configuration allows it (its first word is the
//     name length, indistinguishable from a frame length), else an error.
// Length values are not judged here: the transport reader re-reads them with its own error texts.

import {
  TRANSPORT_FRAMED,
  TRANSPORT_HEADER,
  TRANSPORT_UNFRAMED,
  PROTOCOL_BINARY,
  PROTOCOL_COMPACT,
  PROTOCOL_UNKNOWN,
} from "./types";

/** Not enough bytes yet. */
export const DETECT_MORE: i32 = 0;
/** Not a Thrift stream. */
export const DETECT_ERROR: i32 = -1;
/** Bytes that must be seen before every start is decided. */
export const DETECT_MAX_BYTES: i32 = 8;

/** Packs a decision: transport (never 0) in bits 4.., protocol in bits 0..3, so a code is > 0. */
// @ts-ignore: decorator
@inline
function decided(transport: i32, protocol: i32): i32 {
  return (transport << 4) | protocol;
}

export function detectedTransport(code: i32): i32 {
  return code >> 4;
}

export function detectedProtocol(code: i32): i32 {
  return code & 15;
}

/** Decides on the n ≥ 1 bytes at p: DETECT_MORE, DETECT_ERROR or a code for detected*(). */
export function detectStart(p: usize, n: i32, lax: bool): i32 {
  const b0 = <i32>load<u8>(p);
  if ((b0 & 0x80) != 0) {
    if (b0 != 0x80 && b0 != 0x82) return DETECT_ERROR;
    if (n < 2) return DETECT_MORE;
    const b1 = <i32>load<u8>(p, 1);
    if (b0 == 0x80) return b1 == 0x01 ? decided(TRANSPORT_UNFRAMED, PROTOCOL_BINARY) : DETECT_ERROR;
    return (b1 & 0x1f) == 0x01 ? decided(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT) : DETECT_ERROR;
  }
  if (n < DETECT_MAX_BYTES) return DETECT_MORE;
  const w = (<i32>load<u8>(p, 4) << 8) | <i32>load<u8>(p, 5);
  if (w == 0x0fff) return decided(TRANSPORT_HEADER, PROTOCOL_UNKNOWN);
  if (w == 0x8001) return decided(TRANSPORT_FRAMED, PROTOCOL_BINARY);
  if ((w & 0xff1f) == 0x8201) return decided(TRANSPORT_FRAMED, PROTOCOL_COMPACT);
  if (lax) return decided(TRANSPORT_UNFRAMED, PROTOCOL_BINARY);
  return DETECT_ERROR;
}
