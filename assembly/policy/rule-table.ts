// The matchers of every route (or every policy) compiled into one flat table of integers and one
// pool of pattern bytes, so evaluating a rule is a walk over plain memory: no managed objects, no
// calls, no bounds checks on the request path (only regex and header lookups call out). A request
// tested against 100 non-matching rules costs 100 short loops, not 100 object graphs.
import { Field, MatchOp, StringMatcher } from "../config/policy-config";
import { Regex } from "./regex";
import { MessageView } from "./view";

// One matcher = WORDS i32: field, op, flags, pattern offset, pattern length, header and regex index.
const WORDS: i32 = 6;
const F_FIELD: i32 = 0;
const F_OP: i32 = 1;
const F_FLAGS: i32 = 2;
const F_PAT: i32 = 3;
const F_LEN: i32 = 4;
const F_AUX: i32 = 5;
const FLAG_IGNORE_CASE: i32 = 1;
const FLAG_PRESENT: i32 = 2;
/** F_AUX holds (header index << 16) | regex index; this regex index means "none". */
const NO_REGEX: i32 = 0xffff;

export class RuleTable {
  private code: StaticArray<i32>;
  /** Per rule: index of its first matcher in `code` (in matchers), and the next rule's. */
  private bounds: StaticArray<i32>;
  private pool: Uint8Array;
  private regexes: Array<Regex> = [];
  private headers: Array<Uint8Array> = [];

  constructor(rules: Array<Array<StringMatcher>>) {
    let matchers = 0, bytes = 0;
    for (let r = 0; r < rules.length; r++) {
      matchers += rules[r].length;
      for (let k = 0; k < rules[r].length; k++) bytes += rules[r][k].pattern.length;
    }
    this.code = new StaticArray<i32>(matchers * WORDS);
    this.bounds = new StaticArray<i32>(rules.length + 1);
    this.pool = new Uint8Array(bytes);
    let m = 0, off = 0;
    for (let r = 0; r < rules.length; r++) {
      this.bounds[r] = m;
      for (let k = 0; k < rules[r].length; k++) {
        const s = rules[r][k];
        const at = m * WORDS;
        this.code[at + F_FIELD] = <i32>s.field;
        this.code[at + F_OP] = <i32>s.op;
        this.code[at + F_FLAGS] = (s.ignoreCase ? FLAG_IGNORE_CASE : 0) | (s.present ? FLAG_PRESENT : 0);
        this.code[at + F_PAT] = off;
        this.code[at + F_LEN] = s.pattern.length;
        memory.copy(this.pool.dataStart + <usize>off, s.pattern.dataStart, s.pattern.length);
        off += s.pattern.length;
        const re = s.regex;
        const regexIndex = s.op == MatchOp.Regex && re != null ? this.regexes.push(re) - 1 : NO_REGEX;
        const headerIndex = s.field == Field.Header ? this.headers.push(s.headerName) - 1 : 0;
        this.code[at + F_AUX] = (headerIndex << 16) | regexIndex;
        m++;
      }
    }
    this.bounds[rules.length] = m;
  }

  /** Every matcher of rule `r` holds for the request in `view` (a rule without matchers always does). */
  matches(r: i32, view: MessageView): bool {
    const code = changetype<usize>(this.code);
    const pool = this.pool.dataStart;
    const fieldPtr = changetype<usize>(view.fieldPtr);
    const fieldLen = changetype<usize>(view.fieldLen);
    const end = unchecked(this.bounds[r + 1]);
    for (let m = unchecked(this.bounds[r]); m < end; m++) {
      const w = code + <usize>(m * WORDS * 4);
      const field = load<i32>(w, F_FIELD * 4);
      const op = load<i32>(w, F_OP * 4);
      const flags = load<i32>(w, F_FLAGS * 4);
      let s: usize, n: i32;
      if (field == <i32>Field.Header) {
        const name = unchecked(this.headers[load<i32>(w, F_AUX * 4) >>> 16]);
        n = view.header(name) ? view.len : -1;
        s = view.ptr;
      } else {
        n = load<i32>(fieldLen + (<usize>field << 2));
        s = load<usize>(fieldPtr + (<usize>field << alignof<usize>()));
      }
      if (op == <i32>MatchOp.Present) {
        if ((n >= 0) != ((flags & FLAG_PRESENT) != 0)) return false;
        continue;
      }
      if (n < 0) return false;
      if (op == <i32>MatchOp.Regex) {
        const aux = load<i32>(w, F_AUX * 4) & 0xffff;
        if (aux == NO_REGEX || !unchecked(this.regexes[aux]).fullMatch(s, n)) return false;
        continue;
      }
      const p = pool + <usize>load<i32>(w, F_PAT * 4);
      const pn = load<i32>(w, F_LEN * 4);
      const fold = (flags & FLAG_IGNORE_CASE) != 0;
      let ok: bool;
      if (op == <i32>MatchOp.Exact) ok = n == pn && equalAt(s, p, pn, fold);
      else if (op == <i32>MatchOp.Prefix) ok = n >= pn && equalAt(s, p, pn, fold);
      else if (op == <i32>MatchOp.Suffix) ok = n >= pn && equalAt(s + <usize>(n - pn), p, pn, fold);
      else ok = contains(s, n, p, pn, fold);
      if (!ok) return false;
    }
    return true;
  }
}

function contains(s: usize, n: i32, p: usize, pn: i32, fold: bool): bool {
  for (let i = 0; i <= n - pn; i++) if (equalAt(s + <usize>i, p, pn, fold)) return true;
  return false;
}

/** The pattern was lower-cased at configure time when folding. */
// @ts-ignore: decorator
@inline function equalAt(s: usize, p: usize, n: i32, fold: bool): bool {
  let eq = true;
  if (!fold) {
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
