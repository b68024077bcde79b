// String matchers over request metadata (Envoy StringMatcher semantics: exact, prefix, suffix,
// contains, full-match regex, present). The subject stays where the decoder captured it. Inlined
// into the engine's loops: a call per matcher (with its shadow-stack bookkeeping) would cost more
// than the comparison.
import { Field, MatchOp, StringMatcher } from "../config/policy-config";
import { MessageView } from "./view";

/** Every matcher holds (an empty list matches everything). */
// @ts-ignore: decorator
@inline export function matchesAll(matchers: Array<StringMatcher>, view: MessageView): bool {
  let ok = true;
  for (let i = 0, n = matchers.length; i < n; i++) {
    if (!matches(unchecked(matchers[i]), view)) { ok = false; break; }
  }
  return ok;
}

// @ts-ignore: decorator
@inline export function matches(m: StringMatcher, view: MessageView): bool {
  let s: usize, n: i32;
  const f = m.field;
  if (f == Field.Header) {
    n = view.header(m.headerName) ? view.len : -1;
    s = view.ptr;
  } else {
    n = unchecked(view.fieldLen[<i32>f]);
    s = unchecked(view.fieldPtr[<i32>f]);
  }
  const op = m.op;
  if (op == MatchOp.Present) return (n >= 0) == m.present;
  if (n < 0) return false;
  if (op == MatchOp.Regex) {
    const re = m.regex;
    return re != null && re.fullMatch(s, n);
  }
  const pat = m.pattern;
  const p = pat.dataStart, pn = pat.length;
  if (op == MatchOp.Exact) return n == pn && equalAt(s, p, pn, m.ignoreCase);
  if (op == MatchOp.Prefix) return n >= pn && equalAt(s, p, pn, m.ignoreCase);
  if (op == MatchOp.Suffix) return n >= pn && equalAt(s + <usize>(n - pn), p, pn, m.ignoreCase);
  return contains(s, n, p, pn, m.ignoreCase);
}

function contains(s: usize, n: i32, p: usize, pn: i32, ignoreCase: bool): bool {
  for (let i = 0; i <= n - pn; i++) if (equalAt(s + <usize>i, p, pn, ignoreCase)) return true;
  return false;
}

/** `pattern` was lower-cased at configure time when ignoreCase is set. */
// @ts-ignore: decorator
@inline function equalAt(s: usize, p: usize, n: i32, ignoreCase: bool): bool {
  let eq = true;
  if (!ignoreCase) {
    // short patterns (method names) compare faster byte by byte than through memory.compare's call
    for (let i = 0; i < n; i++) {
      if (load<u8>(s + <usize>i) != load<u8>(p + <usize>i)) { eq = false; break; }
    }
  } else {
    for (let i = 0; i < n; i++) {
      let c = <u32>load<u8>(s + <usize>i);
      if (c - 0x41 < 26) c |= 0x20;
      if (c != <u32>load<u8>(p + <usize>i)) { eq = false; break; }
    }
  }
  return eq;
}
