// Metric names with tags, in the form Istio's bootstrap extracts (`<tag>=.=<value>;.;`, one regex per
// tag `(<tag>=\.=(.*?);\.;)`, also shipped as stats_tags in envoy/): Envoy wasm metrics have no
// labels, so the labels travel in the name and Envoy's tag extraction turns them back into labels.
// Tags come first, the metric name last: what is left after extraction is the metric name.

export const TAG_PROTOCOL = "protocol";
export const TAG_SERVICE = "service";
export const TAG_METHOD = "method";
export const TAG_RESPONSE_STATUS = "response_status";
export const TAG_POLICY = "policy";
export const TAG_ROUTE = "route";
export const TAG_CLUSTER = "cluster";

/** Every tag metawire emits, in the order it writes them (the stats_tags to configure). */
export const TAG_NAMES: StaticArray<string> = [TAG_PROTOCOL, TAG_SERVICE, TAG_METHOD, TAG_RESPONSE_STATUS, TAG_POLICY, TAG_ROUTE, TAG_CLUSTER];

/** Longest tag value kept; longer values are cut. */
export const MAX_TAG_VALUE: i32 = 128;

/** `<name>=.=<value>;.;` with the value made safe for extraction. */
export function tag(name: string, value: string): string {
  const b = String.UTF8.encode(value);
  return tagBytes(name, changetype<usize>(b), b.byteLength);
}

/**
 * Bytes outside printable ASCII and the separators `;` and `=` become `_`, so a value can never
 * end its tag early or smuggle in another one; at most MAX_TAG_VALUE bytes are kept.
 */
export function tagBytes(name: string, ptr: usize, len: i32): string {
  const n = min(len, MAX_TAG_VALUE);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = load<u8>(ptr + <usize>i);
    out[i] = c < 0x20 || c > 0x7e || c == 0x3b || c == 0x3d ? 0x5f : c;
  }
  return name + "=.=" + String.UTF8.decode(out.buffer) + ";.;";
}
