// Bounds for the Thrift codec (specs/protocols.md §1.9). Defaults are Apache Thrift's TConfiguration
// (frame 16,384,000 bytes, recursion depth 64) and Envoy's THeader bound (64 KiB of header data), so a
// stream those accept is accepted here. Fields are public and mutable; the decoder reads them when it
// checks, except maxDepth, maxNameBytes and maxHeaders, which size buffers allocated once in the
// decoder constructor (later increases are capped to what was allocated).

export class ThriftLimits {
  /** Framed LEN and THeader LENGTH (both exclude the 4 length bytes); THeader is also capped at 0x3FFFFFFF. */
  maxFrameBytes: i64 = 16384000;
  /** Open structs/lists/sets/maps while walking a body; the message's own struct is depth 1. */
  maxDepth: i32 = 64;
  /** Bytes of one unframed message, header included: the walk budget where no length is given. */
  maxUnframedBytes: i64 = 16 * 1024 * 1024;
  /** Bytes of the message name kept for metadata; longer names are walked and set nameTruncated(). */
  maxNameBytes: i32 = 256;
  /** THeader info headers kept per message; further ones are walked and set headersTruncated(). */
  maxHeaders: i32 = 64;
  /** THeader header data (header size × 4); larger is an error (Envoy: 65536). */
  maxHeaderBytes: i32 = 64 * 1024;
  /**
   * Accept non-strict ("old") binary messages on an unframed connection (§1.2). Their first bytes
   * look like a small frame length, so they can only be recognised when allowed here.
   */
  laxBinaryUnframed: bool = false;
}
