// Safe regular expressions for route and policy matchers (the role of Envoy's RE2 `safe_regex`).
//
// A pattern is parsed into a small tree, compiled to a flat program and run as a Pike VM: every
// thread advances in lockstep over the input, and a sparse set keeps at most one thread per
// instruction, so matching costs O(input length × program size) whatever the pattern — no
// backtracking, no pathological inputs. Only a boolean full match is needed, so there are no
// captures, and greedy and lazy quantifiers are the same thing.
//
// Config patterns are untrusted text and request bytes are untrusted data: compiling never traps
// (errors go to `regexError`), program size and nesting are capped, and matching bounds-checks every
// byte it reads and allocates nothing (all VM state is sized to the program at compile time).

/** Set by compileRegex on failure: "at offset N: <reason>" (N counts UTF-16 units of the pattern). */
export let regexError: string = "";

const MAX_INSTS = 5000;
const MAX_REPEAT = 1000;
// Parsing and compiling recurse per group; the cap keeps the wasm stack safe.
const MAX_DEPTH = 200;

// A byte that does not start a well-formed UTF-8 sequence is one character of its own, valued above
// every code point: no literal matches it, while `.` and negated classes (`[^a]`, `\D`) do.
const INVALID_BASE = 0x110000;
const MAX_VALUE = INVALID_BASE + 0xff;

// Instructions are three i32s: op, x, y.
const OP_CHAR = 0; // the character is x or y (y is x's ASCII case partner under (?i), else x)
const OP_CLASS = 1; // the character is in one of y ranges starting at range pair x
const OP_SPLIT = 2; // continue at x and at y
const OP_JMP = 3; // continue at x
const OP_BOL = 4; // only at input start
const OP_EOL = 5; // only at input end
const OP_MATCH = 6;

const N_EMPTY = 0;
const N_LIT = 1; // a: code point, b: its case partner (or a)
const N_CLASS = 2; // a: first range pair, b: pair count
const N_BOL = 3;
const N_EOL = 4;
const N_CAT = 5;
const N_ALT = 6;
const N_REPEAT = 7; // a: min, b: max (-1 = unbounded), subs[0]: what repeats

class Node {
  a: i32 = 0;
  b: i32 = 0;
  subs: Node[] = [];
  /** Instructions this node compiles to, saturated at MAX_INSTS + 1 (set by measure). */
  size: i32 = 0;
  constructor(public kind: i32) {}
}

// parseEscape results that are not code points
const ESC_CLASS = -1; // a class escape: Parser.escLetter says which
const ESC_BEGIN = -2; // \A
const ESC_END = -3; // \z
const ESC_FAIL = -4;

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
function isAlpha(c: i32): bool { return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a; }

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Appends the ranges of \d, \w or \s (lower-case letter) as sorted lo, hi pairs. */
function perlClass(letter: i32, out: Array<i32>): void {
  if (letter == 0x64) { // d
    out.push(0x30); out.push(0x39);
  } else if (letter == 0x77) { // w
    out.push(0x30); out.push(0x39); out.push(0x41); out.push(0x5a);
    out.push(0x5f); out.push(0x5f); out.push(0x61); out.push(0x7a);
  } else { // s: RE2's [\t\n\f\r ], without \v
    out.push(0x09); out.push(0x0a); out.push(0x0c); out.push(0x0d); out.push(0x20); out.push(0x20);
  }
}

/** Complement of sorted, disjoint pairs over [0, MAX_VALUE]. */
function complement(src: Array<i32>): Array<i32> {
  const out = new Array<i32>();
  let next = 0;
  for (let i = 0; i < src.length; i += 2) {
    if (src[i] > next) { out.push(next); out.push(src[i] - 1); }
    next = src[i + 1] + 1;
  }
  if (next <= MAX_VALUE) { out.push(next); out.push(MAX_VALUE); }
  return out;
}

/** Sorts pairs and merges the overlapping and adjacent ones. */
function normalize(pairs: Array<i32>): Array<i32> {
  const keys = new Array<i64>();
  for (let i = 0; i < pairs.length; i += 2) keys.push((<i64>pairs[i] << 32) | <i64>pairs[i + 1]);
  keys.sort(); // numeric for integer arrays, O(n log n): a huge class in a config must not stall
  const out = new Array<i32>();
  for (let i = 0; i < keys.length; i++) {
    const lo = <i32>(keys[i] >> 32);
    const hi = <i32>(keys[i] & 0xffffffff);
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else {
      out.push(lo);
      out.push(hi);
    }
  }
  return out;
}

class Parser {
  pos: i32 = 0;
  depth: i32 = 0;
  fold: bool = false;
  failed: bool = false;
  escLetter: i32 = 0;
  /** Range pairs of every class of the pattern, shared by the program. */
  ranges: Array<i32> = [];
  dotStart: i32 = -1;

  constructor(public src: string) {}

  fail(at: i32, why: string): Node {
    if (!this.failed) {
      this.failed = true;
      regexError = "at offset " + at.toString() + ": " + why;
    }
    return new Node(N_EMPTY);
  }

  failCode(at: i32, why: string): i32 {
    this.fail(at, why);
    return ESC_FAIL;
  }

  peekAt(i: i32): i32 { return i < this.src.length ? this.src.charCodeAt(i) : -1; }
  peek(): i32 { return this.peekAt(this.pos); }

  /** One code point of the pattern (a surrogate pair is one); ESC_FAIL on a lone surrogate. */
  readChar(): i32 {
    const at = this.pos;
    const c = this.src.charCodeAt(at);
    this.pos++;
    if (c < 0xd800 || c > 0xdfff) return c;
    const d = this.peek();
    if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      this.pos++;
      return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    return this.failCode(at, "invalid UTF-16 (lone surrogate) in pattern");
  }

  parseAlt(): Node {
    const first = this.parseConcat();
    if (this.failed || this.peek() != 0x7c) return first;
    const alt = new Node(N_ALT);
    alt.subs.push(first);
    while (!this.failed && this.peek() == 0x7c) {
      this.pos++;
      alt.subs.push(this.parseConcat());
    }
    return alt;
  }

  parseConcat(): Node {
    const cat = new Node(N_CAT);
    while (!this.failed) {
      const c = this.peek();
      if (c < 0 || c == 0x7c || c == 0x29) break; // end, |, )
      const atom = this.parseAtom();
      if (this.failed) break;
      cat.subs.push(this.parseQuantifier(atom));
    }
    return cat.subs.length == 1 ? cat.subs[0] : cat;
  }

  parseAtom(): Node {
    const at = this.pos;
    const c = this.peek();
    if (c == 0x28) return this.parseGroup();
    if (c == 0x5b) return this.parseClass();
    if (c == 0x5c) return this.parseEscapeAtom();
    if (c == 0x2e) {
      this.pos++;
      return this.dot();
    }
    if (c == 0x5e) { this.pos++; return new Node(N_BOL); }
    if (c == 0x24) { this.pos++; return new Node(N_EOL); }
    if (c == 0x2a || c == 0x2b || c == 0x3f) return this.fail(at, "nothing to repeat");
    // As in RE2, a `{` that does not spell a repetition is a literal.
    if (c == 0x7b && this.scanRepeat(at) > 0) return this.fail(at, "nothing to repeat");
    const cp = this.readChar();
    return this.failed ? new Node(N_EMPTY) : this.literal(cp);
  }

  literal(cp: i32): Node {
    const n = new Node(N_LIT);
    n.a = cp;
    n.b = this.fold && isAlpha(cp) && cp < 0x80 ? cp ^ 0x20 : cp;
    return n;
  }

  dot(): Node {
    if (this.dotStart < 0) {
      this.dotStart = this.ranges.length >> 1;
      this.ranges.push(0); this.ranges.push(0x09);
      this.ranges.push(0x0b); this.ranges.push(MAX_VALUE);
    }
    const n = new Node(N_CLASS);
    n.a = this.dotStart;
    n.b = 2;
    return n;
  }

  // Results of scanRepeat, valid when it returns > 0.
  repMin: i32 = 0;
  repMax: i32 = 0;

  /** If `{n}`, `{n,}` or `{n,m}` starts at `at`, the offset just past it (counts in repMin/repMax,
   *  saturated above MAX_REPEAT so huge digit strings cannot overflow); otherwise 0. */
  scanRepeat(at: i32): i32 {
    let i = at + 1;
    let min = 0;
    const start = i;
    while (isDigit(this.peekAt(i))) { min = min * 10 + this.peekAt(i) - 0x30; if (min > MAX_REPEAT) min = MAX_REPEAT + 1; i++; }
    if (i == start) return 0;
    let max = min;
    if (this.peekAt(i) == 0x2c) {
      i++;
      const mstart = i;
      max = 0;
      while (isDigit(this.peekAt(i))) { max = max * 10 + this.peekAt(i) - 0x30; if (max > MAX_REPEAT) max = MAX_REPEAT + 1; i++; }
      if (i == mstart) max = -1;
    }
    if (this.peekAt(i) != 0x7d) return 0;
    this.repMin = min;
    this.repMax = max;
    return i + 1;
  }

  /** Quantifier char (*, +, ?) or a well-formed {…} at `i`. */
  isQuantifierAt(i: i32): bool {
    const c = this.peekAt(i);
    return c == 0x2a || c == 0x2b || c == 0x3f || (c == 0x7b && this.scanRepeat(i) > 0);
  }

  parseQuantifier(atom: Node): Node {
    const at = this.pos;
    const c = this.peek();
    let min = 0;
    let max = -1;
    if (c == 0x2a) { this.pos++; }
    else if (c == 0x2b) { min = 1; this.pos++; }
    else if (c == 0x3f) { max = 1; this.pos++; }
    else if (c == 0x7b && this.scanRepeat(at) > 0) {
      const end = this.scanRepeat(at);
      min = this.repMin;
      max = this.repMax;
      if (min > MAX_REPEAT || max > MAX_REPEAT) return this.fail(at, "repetition count above " + MAX_REPEAT.toString());
      if (max >= 0 && min > max) return this.fail(at, "repetition minimum above maximum");
      this.pos = end;
    } else {
      return atom;
    }
    // Lazy suffix: the same language, so the same program for a full match.
    if (this.peek() == 0x3f) this.pos++;
    else if (this.peek() == 0x2b) return this.fail(this.pos, "possessive quantifiers are not supported");
    if (this.isQuantifierAt(this.pos)) return this.fail(this.pos, "repeated quantifier (wrap the repeated part in a group)");
    const n = new Node(N_REPEAT);
    n.a = min;
    n.b = max;
    n.subs.push(atom);
    return n;
  }

  parseGroup(): Node {
    const open = this.pos;
    if (this.depth >= MAX_DEPTH) return this.fail(open, "groups nested too deeply");
    this.pos++;
    if (this.peek() == 0x3f) {
      const c1 = this.peekAt(open + 2);
      const c2 = this.peekAt(open + 3);
      if (c1 == 0x3a) this.pos += 2; // (?:
      else if (c1 == 0x3d || c1 == 0x21) return this.fail(open, "lookahead is not supported");
      else if (c1 == 0x3c && (c2 == 0x3d || c2 == 0x21)) return this.fail(open, "lookbehind is not supported");
      else if (c1 == 0x3c || c1 == 0x50) return this.fail(open, "named groups are not supported");
      else if (isAlpha(c1) || c1 == 0x2d) return this.fail(open, "flags are only supported as a leading (?i)");
      else return this.fail(open, "unsupported group syntax");
    }
    this.depth++;
    const body = this.parseAlt();
    this.depth--;
    if (this.failed) return body;
    if (this.peek() != 0x29) return this.fail(open, "missing closing )");
    this.pos++;
    return body;
  }

  /** Parses `\…` at pos: a code point, ESC_CLASS, ESC_BEGIN, ESC_END or ESC_FAIL. */
  parseEscape(inClass: bool): i32 {
    const at = this.pos;
    this.pos++;
    if (this.pos >= this.src.length) return this.failCode(at, "trailing backslash");
    const c = this.src.charCodeAt(this.pos);
    this.pos++;
    const l = c | 0x20;
    if ((l == 0x64 || l == 0x77 || l == 0x73) && isAlpha(c)) { this.escLetter = c; return ESC_CLASS; }
    if (c == 0x74) return 0x09; // \t
    if (c == 0x6e) return 0x0a; // \n
    if (c == 0x72) return 0x0d; // \r
    if (c == 0x66) return 0x0c; // \f
    if (c == 0x76) return 0x0b; // \v
    if (c == 0x61) return 0x07; // \a
    if (c == 0x78) return this.parseHex(at);
    if (c == 0x41 || c == 0x7a) {
      if (inClass) return this.failCode(at, "anchors are not allowed in a class");
      return c == 0x41 ? ESC_BEGIN : ESC_END;
    }
    if (c >= 0x31 && c <= 0x39) return this.failCode(at, "backreferences are not supported");
    if (c == 0x62 || c == 0x42) return this.failCode(at, "word boundaries are not supported");
    if (c == 0x70 || c == 0x50) return this.failCode(at, "Unicode classes are not supported");
    // Any escaped ASCII punctuation stands for itself; letters and digits are reserved.
    if (c < 0x80 && !isAlpha(c) && !isDigit(c)) return c;
    return this.failCode(at, "unsupported escape");
  }

  /** After `\x`: two hex digits or `{hex…}`. */
  parseHex(at: i32): i32 {
    let v = 0;
    if (this.peek() == 0x7b) {
      this.pos++;
      let digits = 0;
      while (hexValue(this.peek()) >= 0) {
        v = v * 16 + hexValue(this.peek());
        if (v > 0x10ffff) return this.failCode(at, "hex escape above U+10FFFF");
        this.pos++;
        digits++;
      }
      if (digits == 0 || this.peek() != 0x7d) return this.failCode(at, "bad \\x escape");
      this.pos++;
      return v;
    }
    for (let k = 0; k < 2; k++) {
      const h = hexValue(this.peek());
      if (h < 0) return this.failCode(at, "bad \\x escape");
      v = v * 16 + h;
      this.pos++;
    }
    return v;
  }

  parseEscapeAtom(): Node {
    const r = this.parseEscape(false);
    if (r == ESC_FAIL) return new Node(N_EMPTY);
    if (r == ESC_BEGIN) return new Node(N_BOL);
    if (r == ESC_END) return new Node(N_EOL);
    if (r == ESC_CLASS) {
      const items = new Array<i32>();
      perlClass(this.escLetter | 0x20, items);
      return this.classNode(items, this.escLetter < 0x60);
    }
    return this.literal(r);
  }

  parseClass(): Node {
    const open = this.pos;
    this.pos++;
    let negate = false;
    if (this.peek() == 0x5e) { negate = true; this.pos++; }
    const items = new Array<i32>();
    let first = true;
    while (true) {
      const c = this.peek();
      if (c < 0) return this.fail(open, "missing closing ]");
      if (c == 0x5d && !first) break; // a leading ] is a member, as in RE2
      first = false;
      // Accepting [:alpha:] as plain members would silently change its meaning.
      if (c == 0x5b && this.peekAt(this.pos + 1) == 0x3a) return this.fail(this.pos, "POSIX classes are not supported");
      const itemAt = this.pos;
      let lo: i32;
      if (c == 0x5c) {
        lo = this.parseEscape(true);
        if (lo == ESC_FAIL) return new Node(N_EMPTY);
        if (lo == ESC_CLASS) {
          const part = new Array<i32>();
          perlClass(this.escLetter | 0x20, part);
          const add = this.escLetter < 0x60 ? complement(part) : part;
          for (let i = 0; i < add.length; i++) items.push(add[i]);
          const after = this.peekAt(this.pos + 1);
          if (this.peek() == 0x2d && after >= 0 && after != 0x5d) return this.fail(itemAt, "bad character class range");
          continue;
        }
      } else {
        lo = this.readChar();
        if (lo == ESC_FAIL) return new Node(N_EMPTY);
      }
      let hi = lo;
      const next = this.peekAt(this.pos + 1);
      if (this.peek() == 0x2d && next >= 0 && next != 0x5d) {
        this.pos++;
        hi = next == 0x5c ? this.parseEscape(true) : this.readChar();
        if (hi == ESC_FAIL) return new Node(N_EMPTY);
        if (hi < 0 || hi < lo) return this.fail(itemAt, "bad character class range");
      }
      items.push(lo);
      items.push(hi);
    }
    this.pos++;
    return this.classNode(items, negate);
  }

  /** Stores a class's ranges: case partners added before negation, as RE2 does for (?i)[^a]. */
  classNode(items: Array<i32>, negate: bool): Node {
    if (this.fold) {
      const n = items.length;
      for (let i = 0; i < n; i += 2) {
        const lo = items[i];
        const hi = items[i + 1];
        const ll = max(lo, 0x61), lh = min(hi, 0x7a);
        if (ll <= lh) { items.push(ll - 0x20); items.push(lh - 0x20); }
        const ul = max(lo, 0x41), uh = min(hi, 0x5a);
        if (ul <= uh) { items.push(ul + 0x20); items.push(uh + 0x20); }
      }
    }
    let set = normalize(items);
    if (negate) set = complement(set);
    const node = new Node(N_CLASS);
    node.a = this.ranges.length >> 1;
    node.b = set.length >> 1;
    for (let i = 0; i < set.length; i++) this.ranges.push(set[i]);
    return node;
  }
}

/** Sets node.size for the whole tree (saturating, so nested counts cannot overflow); returns it. */
function measure(n: Node): i32 {
  let s: i64 = 0;
  const k = n.kind;
  if (k == N_LIT || k == N_CLASS || k == N_BOL || k == N_EOL) {
    s = 1;
  } else if (k == N_CAT || k == N_ALT) {
    for (let i = 0; i < n.subs.length; i++) s += measure(n.subs[i]);
    if (k == N_ALT) s += 2 * (n.subs.length - 1); // a split and a jump per branch but the last
  } else if (k == N_REPEAT) {
    const c = <i64>measure(n.subs[0]);
    // A child of size 0 matches only the empty string, so its repetition compiles to nothing.
    if (c > 0) {
      if (n.b < 0) s = n.a == 0 ? c + 2 : <i64>n.a * c + 1;
      else s = <i64>n.a * c + <i64>(n.b - n.a) * (c + 1);
    }
  }
  n.size = <i32>min<i64>(s, MAX_INSTS + 1);
  return n.size;
}

class Emitter {
  code: Array<i32> = [];

  get pc(): i32 { return this.code.length / 3; }

  add(op: i32, x: i32, y: i32): i32 {
    const pc = this.pc;
    this.code.push(op);
    this.code.push(x);
    this.code.push(y);
    return pc;
  }

  patchX(pc: i32, to: i32): void { this.code[pc * 3 + 1] = to; }
  patchY(pc: i32, to: i32): void { this.code[pc * 3 + 2] = to; }

  node(n: Node): void {
    const k = n.kind;
    if (k == N_LIT) this.add(OP_CHAR, n.a, n.b);
    else if (k == N_CLASS) this.add(OP_CLASS, n.a, n.b);
    else if (k == N_BOL) this.add(OP_BOL, 0, 0);
    else if (k == N_EOL) this.add(OP_EOL, 0, 0);
    else if (k == N_CAT) {
      for (let i = 0; i < n.subs.length; i++) this.node(n.subs[i]);
    } else if (k == N_ALT) {
      const jumps = new Array<i32>();
      const last = n.subs.length - 1;
      for (let i = 0; i < last; i++) {
        const split = this.add(OP_SPLIT, this.pc + 1, 0);
        this.node(n.subs[i]);
        jumps.push(this.add(OP_JMP, 0, 0));
        this.patchY(split, this.pc);
      }
      this.node(n.subs[last]);
      for (let i = 0; i < jumps.length; i++) this.patchX(jumps[i], this.pc);
    } else if (k == N_REPEAT) {
      this.repeat(n.subs[0], n.a, n.b);
    }
  }

  repeat(sub: Node, min: i32, max: i32): void {
    if (sub.size == 0) return;
    if (max < 0) {
      if (min == 0) {
        const split = this.add(OP_SPLIT, this.pc + 1, 0);
        this.node(sub);
        this.add(OP_JMP, split, 0);
        this.patchY(split, this.pc);
        return;
      }
      for (let i = 1; i < min; i++) this.node(sub);
      const top = this.pc;
      this.node(sub);
      this.add(OP_SPLIT, top, this.pc + 1);
      return;
    }
    for (let i = 0; i < min; i++) this.node(sub);
    // Optional copies all skip to the end, so a{2,5} runs as aa(a(a(a)?)?)? does.
    const splits = new Array<i32>();
    for (let i = min; i < max; i++) {
      splits.push(this.add(OP_SPLIT, this.pc + 1, 0));
      this.node(sub);
    }
    for (let i = 0; i < splits.length; i++) this.patchY(splits[i], this.pc);
  }
}

/** A set of program counters with O(1) insert, membership and clear (Briggs–Torczon sparse set). */
class ThreadSet {
  dense: StaticArray<i32>;
  sparse: StaticArray<i32>;
  size: i32 = 0;

  constructor(n: i32) {
    this.dense = new StaticArray<i32>(n);
    this.sparse = new StaticArray<i32>(n);
  }

  has(pc: i32): bool {
    const s = unchecked(this.sparse[pc]);
    return s < this.size && unchecked(this.dense[s]) == pc;
  }

  add(pc: i32): void {
    unchecked(this.sparse[pc] = this.size);
    unchecked(this.dense[this.size] = pc);
    this.size++;
  }
}

/**
 * One character at ptr+pos (pos < len), packed as value << 3 | byte length. A well-formed UTF-8
 * sequence (no overlongs, surrogates or values above U+10FFFF) is its code point; anything else is
 * a single byte valued INVALID_BASE + byte.
 */
function decodeAt(ptr: usize, pos: i32, len: i32): i32 {
  const b0 = <i32>load<u8>(ptr + <usize>pos);
  if (b0 < 0x80) return (b0 << 3) | 1;
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  let cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1; cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2; cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0; else if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3; cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90; else if (b0 == 0xf4) hi = 0x8f;
  }
  if (need == 0 || len - pos <= need) return ((INVALID_BASE + b0) << 3) | 1;
  for (let k = 1; k <= need; k++) {
    const b = <i32>load<u8>(ptr + <usize>(pos + k));
    if (b < lo || b > hi) return ((INVALID_BASE + b0) << 3) | 1;
    cp = (cp << 6) | (b & 0x3f);
    lo = 0x80;
    hi = 0xbf;
  }
  return (cp << 3) | (need + 1);
}

export class Regex {
  private cur: ThreadSet;
  private next: ThreadSet;
  // Each instruction is added to a set once per step and pushes at most two successors.
  private stack: StaticArray<i32>;

  constructor(private prog: StaticArray<i32>, private ranges: StaticArray<i32>) {
    const count = prog.length / 3;
    this.cur = new ThreadSet(count);
    this.next = new ThreadSet(count);
    this.stack = new StaticArray<i32>(2 * count + 2);
  }

  /** True when the whole of [ptr, ptr+len) matches. Never allocates. */
  fullMatch(ptr: usize, len: i32): bool {
    if (len < 0) return false;
    let cur = this.cur;
    let next = this.next;
    cur.size = 0;
    this.follow(cur, 0, 0, len);
    let pos = 0;
    while (pos < len) {
      if (cur.size == 0) return false;
      const packed = decodeAt(ptr, pos, len);
      const c = packed >>> 3;
      const after = pos + (packed & 7);
      next.size = 0;
      const prog = this.prog;
      for (let i = 0; i < cur.size; i++) {
        const pc = unchecked(cur.dense[i]);
        const op = prog[pc * 3];
        const x = prog[pc * 3 + 1];
        const y = prog[pc * 3 + 2];
        if ((op == OP_CHAR && (c == x || c == y)) || (op == OP_CLASS && this.inClass(c, x, y))) {
          this.follow(next, pc + 1, after, len);
        }
      }
      const t = cur;
      cur = next;
      next = t;
      pos = after;
    }
    for (let i = 0; i < cur.size; i++) {
      if (this.prog[unchecked(cur.dense[i]) * 3] == OP_MATCH) return true;
    }
    return false;
  }

  /** Adds pc and everything reachable from it without consuming input at `pos`. */
  private follow(set: ThreadSet, start: i32, pos: i32, len: i32): void {
    const prog = this.prog;
    const stack = this.stack;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const pc = stack[--top];
      if (set.has(pc)) continue;
      set.add(pc);
      const op = prog[pc * 3];
      if (op == OP_JMP) {
        stack[top++] = prog[pc * 3 + 1];
      } else if (op == OP_SPLIT) {
        stack[top++] = prog[pc * 3 + 2];
        stack[top++] = prog[pc * 3 + 1];
      } else if ((op == OP_BOL && pos == 0) || (op == OP_EOL && pos == len)) {
        stack[top++] = pc + 1;
      }
    }
  }

  /** Binary search of `count` sorted, disjoint range pairs starting at pair `first`. */
  private inClass(c: i32, first: i32, count: i32): bool {
    const r = this.ranges;
    let lo = first;
    let hi = first + count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c < r[2 * mid]) hi = mid;
      else if (c > r[2 * mid + 1]) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

/** Compiles `pattern`; null with `regexError` set (naming the offset and reason) when unsupported. */
export function compileRegex(pattern: string): Regex | null {
  const p = new Parser(pattern);
  // Only a leading (?i) is supported: it is all Redis command names and header values need.
  if (pattern.startsWith("(?i)")) {
    p.fold = true;
    p.pos = 4;
  }
  const root = p.parseAlt();
  if (!p.failed && p.pos < pattern.length) p.fail(p.pos, "unmatched )");
  if (p.failed) return null;
  const size = measure(root) + 1;
  if (size > MAX_INSTS) {
    regexError = "at offset 0: pattern too large (over " + MAX_INSTS.toString() + " instructions once repetitions are expanded)";
    return null;
  }
  const e = new Emitter();
  e.node(root);
  e.add(OP_MATCH, 0, 0);
  const prog = new StaticArray<i32>(e.code.length);
  for (let i = 0; i < e.code.length; i++) prog[i] = e.code[i];
  const ranges = new StaticArray<i32>(p.ranges.length);
  for (let i = 0; i < p.ranges.length; i++) ranges[i] = p.ranges[i];
  regexError = "";
  return new Regex(prog, ranges);
}
