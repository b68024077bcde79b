// Bounds for the Redis codec (specs/protocols.md §3.1, §3.2). Defaults are Redis 7's own limits for
// requests and Envoy's redis codec limits for replies, so a stream Redis/Envoy accepts is accepted here.
// Fields are public and mutable; decoders read them at the moment they check, except maxDepth and
// maxKeyCapture, which size buffers allocated once in the decoder constructor (later increases are
// capped to what was allocated).

export class RedisLimits {
  /** proto-max-bulk-len: request arguments and reply `$`, `!`, `=` payloads (and a streamed `$?` total). */
  maxBulkBytes: i64 = 512 * 1024 * 1024;
  /** PROTO_INLINE_MAX_SIZE: request count/length lines and inline requests; reply integer lines. */
  maxLineBytes: i32 = 64 * 1024;
  /** Elements of one reply aggregate (a map or attribute counts 2N) – Envoy kMaxRespElements. */
  maxElements: i64 = 2000000;
  /** Declared elements of all aggregates of one root reply value – Envoy kMaxTotalElements. */
  maxTotalElements: i64 = 4194304;
  /** Nesting of reply values: at most maxDepth-1 open aggregates, i.e. a leaf may sit at depth maxDepth. */
  maxDepth: i32 = 128;
  /** Attributes (`|`) directly preceding one value – Envoy kMaxConsecutiveAttributes. */
  maxConsecutiveAttributes: i32 = 32;
  /** Arguments of one request (INT_MAX since Redis 7.0; 1048576 before). */
  maxRequestArgs: i64 = 2147483647;
  /** Bytes of the routing key kept for metadata; longer keys set keyTruncated(). */
  maxKeyCapture: i32 = 256;
}

// Raw readers for the decoders' hot paths: `lim` is changetype<usize>(limits), kept alive by the
// decoder that holds the RedisLimits. Reading through a managed reference costs a shadow-stack spill
// per access under the incremental runtime; these are plain loads.

// @ts-ignore: decorator
@inline
export function limMaxBulkBytes(lim: usize): i64 {
  return load<i64>(lim, offsetof<RedisLimits>("maxBulkBytes"));
}
// @ts-ignore: decorator
@inline
export function limMaxLineBytes(lim: usize): i32 {
  return load<i32>(lim, offsetof<RedisLimits>("maxLineBytes"));
}
// @ts-ignore: decorator
@inline
export function limMaxElements(lim: usize): i64 {
  return load<i64>(lim, offsetof<RedisLimits>("maxElements"));
}
// @ts-ignore: decorator
@inline
export function limMaxTotalElements(lim: usize): i64 {
  return load<i64>(lim, offsetof<RedisLimits>("maxTotalElements"));
}
// @ts-ignore: decorator
@inline
export function limMaxDepth(lim: usize): i32 {
  return load<i32>(lim, offsetof<RedisLimits>("maxDepth"));
}
// @ts-ignore: decorator
@inline
export function limMaxConsecutiveAttributes(lim: usize): i32 {
  return load<i32>(lim, offsetof<RedisLimits>("maxConsecutiveAttributes"));
}
// @ts-ignore: decorator
@inline
export function limMaxRequestArgs(lim: usize): i64 {
  return load<i64>(lim, offsetof<RedisLimits>("maxRequestArgs"));
}
// @ts-ignore: decorator
@inline
export function limMaxKeyCapture(lim: usize): i32 {
  return load<i32>(lim, offsetof<RedisLimits>("maxKeyCapture"));
}
