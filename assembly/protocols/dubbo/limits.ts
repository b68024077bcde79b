// Bounds for the Dubbo codec (specs/protocols.md §2.1, §2.5). The body limit is Dubbo's own default
// payload (8 MiB, remoting/Constants.DEFAULT_PAYLOAD), so what a stock Dubbo peer sends is accepted;
// Envoy/Aeraki allow 16 MiB. Hessian itself has no depth or table limits (no reference implementation
// bounds them), so the caps below are ours.
//
// Fields are public and mutable and are read when checked (maxBodyBytes at each header, the others
// inside a body), except that maxDepth, maxAttachments and maxClassDefs also size tables allocated
// once in the decoder constructor and maxCaptureBytes caps its arena: later increases are capped to
// what was allocated.

export class DubboLimits {
  /** Header body length; larger (or negative) fails the stream – framing can no longer be trusted. */
  maxBodyBytes: i64 = 8 * 1024 * 1024;
  /** Open Hessian containers (maps, lists, objects, class definitions, refs) while walking one value. */
  maxDepth: i32 = 64;
  /** Captured bytes (UTF-8) of one string: a longer request metadata string is a body error, a longer attachment is dropped. */
  maxStringBytes: i32 = 4096;
  /** String attachments kept per message; one more is a body error. */
  maxAttachments: i32 = 64;
  /** Hessian class definitions (`C`) per body; one more is a body error. */
  maxClassDefs: i32 = 256;
  /**
   * All captured bytes of one message (metadata strings + attachments). The arena starts small and
   * doubles on demand up to this, so a connection pays for what its traffic needs, once.
   */
  maxCaptureBytes: i32 = 16 * 1024;
}

// Raw readers for the hot paths: `lim` is changetype<usize>(limits), kept alive by the decoder that
// holds the DubboLimits. Reading through a managed reference costs a shadow-stack spill per access
// under the incremental runtime; these are plain loads.

// @ts-ignore: decorator
@inline
export function limMaxBodyBytes(lim: usize): i64 {
  return load<i64>(lim, offsetof<DubboLimits>("maxBodyBytes"));
}
// @ts-ignore: decorator
@inline
export function limMaxDepth(lim: usize): i32 {
  return load<i32>(lim, offsetof<DubboLimits>("maxDepth"));
}
// @ts-ignore: decorator
@inline
export function limMaxStringBytes(lim: usize): i32 {
  return load<i32>(lim, offsetof<DubboLimits>("maxStringBytes"));
}
// @ts-ignore: decorator
@inline
export function limMaxAttachments(lim: usize): i32 {
  return load<i32>(lim, offsetof<DubboLimits>("maxAttachments"));
}
// @ts-ignore: decorator
@inline
export function limMaxClassDefs(lim: usize): i32 {
  return load<i32>(lim, offsetof<DubboLimits>("maxClassDefs"));
}

/** Table sizes fixed at construction: the limit, clamped to [1, max]. */
export function capacityOf(limit: i32, max: i32): i32 {
  return limit < 1 ? 1 : limit > max ? max : limit;
}
