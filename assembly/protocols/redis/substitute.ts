// Redis bytes the filter writes itself (DESIGN.md §5, in-band substitution): the PING that replaces a
// denied command, the error line that replaces PING's reply, and the AUTH a filter may inject.
// Pure builders: they append to a ByteSink and read nothing else.

import { ByteSink } from "../../policy/byte-sink";

/**
 * `*1\r\n$4\r\nPING\r\n`. The multibulk form is accepted whatever form the client used (Redis
 * decides inline vs multibulk per request by its first byte), and PING is allowed in every mode:
 * before AUTH fails it is refused with NOAUTH, in RESP2 subscribed mode answered `*2 pong ""`.
 */
/** `DISCARD`: what a rejected EXEC, or the EXEC of a transaction with a rejected command, becomes. */
export function writeRedisDiscard(out: ByteSink): void {
  out.utf8("*1\r\n$7\r\nDISCARD\r\n");
}

export function writeRedisPing(out: ByteSink): void {
  out.u32(0x2a310d0a); // *1\r\n
  out.u32(0x24340d0a); // $4\r\n
  out.u32(0x50494e47); // PING
  out.u16(0x0d0a);
}

/**
 * `-` + text + `\r\n`: a RESP2/RESP3 simple error. `text` starts with the error code
 * ("ERR denied", "NOAUTH Authentication required."). CR and LF become spaces: an error line must stay
 * one line or the client would read the rest as a further reply.
 */
export function writeRedisError(out: ByteSink, text: string, code: string = ""): void {
  out.u8(0x2d);
  if (code.length > 0) { out.utf8(code); out.u8(0x20); } // `-ERR <text>` without building the string
  writeLine(out, text);
}

/** `+` + text + `\r\n` (a simple string), with the same CR/LF rule. */
export function writeRedisSimple(out: ByteSink, text: string): void {
  out.u8(0x2b);
  writeLine(out, text);
}

/** `AUTH [username] password` as a multibulk request; both arguments are binary safe. */
export function writeRedisAuth(out: ByteSink, username: Uint8Array | null, password: Uint8Array): void {
  out.u8(0x2a);
  out.u8(username !== null ? 0x33 : 0x32); // *3 or *2
  out.u16(0x0d0a);
  out.u32(0x24340d0a); // $4\r\n
  out.u32(0x41555448); // AUTH
  out.u16(0x0d0a);
  if (username !== null) writeBulk(out, username);
  writeBulk(out, password);
}

function writeBulk(out: ByteSink, b: Uint8Array): void {
  out.u8(0x24);
  out.decimal(<i64>b.length);
  out.u16(0x0d0a);
  out.bytes(b.dataStart, b.length);
  out.u16(0x0d0a);
}

/** UTF-8 of text with CR and LF replaced by spaces, then CRLF. */
function writeLine(out: ByteSink, text: string): void {
  const start = out.length;
  out.utf8(text);
  const end = out.length;
  // CR and LF are single bytes in UTF-8 and never part of a multi-byte sequence
  for (let p = out.ptr + <usize>start, e = out.ptr + <usize>end; p < e; p++) {
    const c = load<u8>(p);
    if (c == 0x0d || c == 0x0a) store<u8>(p, 0x20);
  }
  out.u16(0x0d0a);
}
