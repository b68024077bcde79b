// String matchers over request metadata (Envoy StringMatcher semantics: exact, prefix, suffix,
// contains, full-match regex, present). The subject stays where the decoder captured it.
import { MatchOp, StringMatcher } from "../config/policy-config";
import { MessageView } from "./view";

/** Every matcher holds (an empty list matches everything). */
export function matchesAll(matchers: Array<StringMatcher>, view: MessageView): bool {
  for (let i = 0, n = matchers.length; i < n; i++) {
    if (!matches(unchecked(matchers[i]), view)) return false;
  }
  return true;
}

export function matches(m: StringMatcher, view: MessageView): bool {
  const present = view.load(m.field, m.headerName);
  if (m.op == MatchOp.Present) return present == m.present;
  if (!present) return false;
  const s = view.ptr, n = view.len;
  const p = m.pattern.dataStart, pn = m.pattern.length;
  switch (m.op) {
    case MatchOp.Exact: return n == pn && equalAt(s, p, pn, m.ignoreCase);
    case MatchOp.Prefix: return n >= pn && equalAt(s, p, pn, m.ignoreCase);
    case MatchOp.Suffix: return n >= pn && equalAt(s + <usize>(n - pn), p, pn, m.ignoreCase);
    case MatchOp.Contains: {
      for (let i = 0; i <= n - pn; i++) if (equalAt(s + <usize>i, p, pn, m.ignoreCase)) return true;
      return false;
    }
    case MatchOp.Regex: {
      const re = m.regex;
      return re != null && re.fullMatch(s, n);
    }
  }
  return false;
}

/** `pattern` was lower-cased at configure time when ignoreCase is set. */
// @ts-ignore: decorator
@inline function equalAt(s: usize, p: usize, n: i32, ignoreCase: bool): bool {
  if (!ignoreCase) return memory.compare(s, p, n) == 0;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(s + <usize>i);
    if (c - 0x41 < 26) c |= 0x20;
    if (c != <u32>load<u8>(p + <usize>i)) return false;
  }
  return true;
}
