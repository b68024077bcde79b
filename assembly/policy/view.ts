// What routes and policies look at: one request's metadata, read in place from the decoder that
// produced it. `prepare` points every field at the decoder's captured bytes once per request, so
// evaluating N matchers costs N array loads, not N virtual calls; headers (THeader info headers,
// Dubbo attachments) are looked up by name only when a matcher asks.
import { Field } from "../config/policy-config";

/** Fields prepared up front: every Field but Header. */
export const PREPARED_FIELDS: i32 = Field.Header;

export abstract class MessageView {
  /** Per field: start of its bytes, and its length (−1 when the request has no such field). */
  readonly fieldPtr: StaticArray<usize> = new StaticArray<usize>(PREPARED_FIELDS);
  readonly fieldLen: StaticArray<i32> = new StaticArray<i32>(PREPARED_FIELDS);
  /** Result of the last `header` lookup. */
  ptr: usize = 0;
  len: i32 = 0;

  /** Points every prepared field at the current request's metadata. */
  abstract prepare(): void;

  /** Points ptr/len at the named header; false when the request has none. */
  header(name: Uint8Array): bool { return false; }

  protected set(field: Field, ptr: usize, len: i32): void {
    unchecked(this.fieldPtr[<i32>field] = ptr);
    unchecked(this.fieldLen[<i32>field] = len);
  }

  protected absent(field: Field): void {
    unchecked(this.fieldLen[<i32>field] = -1);
  }
}
