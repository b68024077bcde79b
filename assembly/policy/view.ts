// What routes and policies look at: one request's metadata, read in place from the decoder that
// produced it. Each protocol connection supplies a view over its request decoder; `load` points
// ptr/len at a field's bytes without copying.
import { Field } from "../config/policy-config";

export abstract class MessageView {
  ptr: usize = 0;
  len: i32 = 0;

  /** Points ptr/len at the field (Field.Header: the named header); false when the request has none. */
  abstract load(field: Field, headerName: Uint8Array): bool;
}
