// The 16-byte Dubbo header (specs/protocols.md §2.1, ExchangeCodec.java):
//
//   0  magic DA BB | 2 flag | 3 status | 4 request id (int64) | 12 body length (int32), all big-endian
//
// flag: 0x80 request, 0x40 two-way (requests only: Java never sets it on responses, old Envoy tests
// did, so it is ignored there), 0x20 event, 0x1F serialization id.

export const HEADER_BYTES: i32 = 16;
export const MAGIC_HI: u8 = 0xda;
export const MAGIC_LO: u8 = 0xbb;

export const FLAG_REQUEST: i32 = 0x80;
export const FLAG_TWO_WAY: i32 = 0x40;
export const FLAG_EVENT: i32 = 0x20;
export const SERIALIZATION_MASK: i32 = 0x1f;

/** The only serialization whose bodies are parsed (Dubbo's default); others are framed only. */
export const SERIALIZATION_HESSIAN2: i32 = 2;

// Response status byte (Response.java). Any value is accepted (Dubbo 3 sends 25 and 35, which
// Envoy/Aeraki reject); only OK changes how the body is read.
export const STATUS_OK: i32 = 20;
export const STATUS_SERIALIZATION_ERROR: i32 = 25;
export const STATUS_CLIENT_TIMEOUT: i32 = 30;
export const STATUS_SERVER_TIMEOUT: i32 = 31;
export const STATUS_CHANNEL_INACTIVE: i32 = 35;
export const STATUS_BAD_REQUEST: i32 = 40;
export const STATUS_BAD_RESPONSE: i32 = 50;
export const STATUS_SERVICE_NOT_FOUND: i32 = 60;
export const STATUS_SERVICE_ERROR: i32 = 70;
export const STATUS_SERVER_ERROR: i32 = 80;
export const STATUS_CLIENT_ERROR: i32 = 90;
export const STATUS_SERVER_THREADPOOL_EXHAUSTED_ERROR: i32 = 100;

// First value of an OK response body (DubboCodec.encodeResponseData), a Hessian int.
export const RESPONSE_WITH_EXCEPTION: i32 = 0;
export const RESPONSE_VALUE: i32 = 1;
export const RESPONSE_NULL_VALUE: i32 = 2;
export const RESPONSE_WITH_EXCEPTION_WITH_ATTACHMENTS: i32 = 3;
export const RESPONSE_VALUE_WITH_ATTACHMENTS: i32 = 4;
export const RESPONSE_NULL_VALUE_WITH_ATTACHMENTS: i32 = 5;
/** responseFlag() when there is none (requests, events, status ≠ 20, unreadable body). */
export const RESPONSE_NONE: i32 = -1;

// @ts-ignore: decorator
@inline
export function readI64BE(p: usize): i64 {
  return <i64>bswap<u64>(load<u64>(p));
}

// @ts-ignore: decorator
@inline
export function readI32BE(p: usize): i32 {
  return <i32>bswap<u32>(load<u32>(p));
}
