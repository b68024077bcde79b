// Wire constants of Thrift (specs/protocols.md §1.1–§1.3) and the enums the decoder reports.

/** Transport of a connection, fixed once the first bytes are recognised (§1.1, §1.4). */
export const TRANSPORT_UNKNOWN: i32 = 0;
export const TRANSPORT_FRAMED: i32 = 1;
export const TRANSPORT_UNFRAMED: i32 = 2;
export const TRANSPORT_HEADER: i32 = 3;

/** Protocol of the messages (THeader frames name theirs per frame). */
export const PROTOCOL_UNKNOWN: i32 = 0;
export const PROTOCOL_BINARY: i32 = 1;
export const PROTOCOL_COMPACT: i32 = 2;

/** Message types, identical in every protocol. */
export const MSG_CALL: i32 = 1;
export const MSG_REPLY: i32 = 2;
export const MSG_EXCEPTION: i32 = 3;
export const MSG_ONEWAY: i32 = 4;

/** replyStatus(): how a REPLY/EXCEPTION ended (Envoy peekReplyPayload, §1.5). */
export const REPLY_STATUS_SUCCESS: i32 = 0; // REPLY whose first field is id 0 (or void: STOP)
export const REPLY_STATUS_ERROR: i32 = 1; // REPLY whose first field id is > 0: a declared IDL exception
export const REPLY_STATUS_EXCEPTION: i32 = 2; // EXCEPTION: a TApplicationException

// Binary protocol type ids (§1.2). VOID (1) never appears on the wire.
export const T_STOP: i32 = 0;
export const T_BOOL: i32 = 2;
export const T_BYTE: i32 = 3;
export const T_DOUBLE: i32 = 4;
export const T_I16: i32 = 6;
export const T_I32: i32 = 8;
export const T_I64: i32 = 10;
export const T_STRING: i32 = 11;
export const T_STRUCT: i32 = 12;
export const T_MAP: i32 = 13;
export const T_SET: i32 = 14;
export const T_LIST: i32 = 15;
export const T_UUID: i32 = 16;

// Compact protocol type ids (§1.3). In a field header BOOL carries its value in the type.
export const C_BOOL_TRUE: i32 = 1;
export const C_BOOL_FALSE: i32 = 2;
export const C_BYTE: i32 = 3;
export const C_I16: i32 = 4;
export const C_I32: i32 = 5;
export const C_I64: i32 = 6;
export const C_DOUBLE: i32 = 7;
export const C_BINARY: i32 = 8;
export const C_LIST: i32 = 9;
export const C_SET: i32 = 10;
export const C_MAP: i32 = 11;
export const C_STRUCT: i32 = 12;
export const C_UUID: i32 = 13;

/** A binary type id that may stand in a field header or a container header. */
// @ts-ignore: decorator
@inline
export function isBinaryType(t: i32): bool {
  return t == T_BOOL || t == T_BYTE || t == T_DOUBLE || (t >= T_I16 && t <= T_UUID && t != 7 && t != 9);
}

/** A compact type id that may stand in a field header or a container header (UUID included). */
// @ts-ignore: decorator
@inline
export function isCompactType(t: i32): bool {
  return t >= C_BOOL_TRUE && t <= C_UUID;
}

/** CALL, REPLY, EXCEPTION or ONEWAY. */
// @ts-ignore: decorator
@inline
export function isMessageType(t: i32): bool {
  return t >= MSG_CALL && t <= MSG_ONEWAY;
}

/** Decodes a 32-bit zigzag value: (z >>> 1) ^ -(z & 1). */
// @ts-ignore: decorator
@inline
export function zigzag32(z: u32): i32 {
  return <i32>(z >>> 1) ^ -<i32>(z & 1);
}
