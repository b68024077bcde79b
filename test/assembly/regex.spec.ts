// The safe regex engine: full-match results against a table whose expectations came from JavaScript's
// RegExp (`^(?:p)$` with the u flag; rows where JS and RE2 disagree are left out or moved to the
// RE2 table below), invalid UTF-8 input, every rejection with its offset, the size and nesting caps,
// inputs that make backtracking engines explode, and a pseudo-random sweep that must never trap.

import { compileRegex, regexError, Regex } from "../../assembly/policy/regex";
import { hexBytes } from "./helpers";

class Row {
  constructor(public pattern: string, public input: string, public want: bool) {}
}

function row(pattern: string, input: string, want: bool): Row {
  return new Row(pattern, input, want);
}

function matches(re: Regex, input: string): bool {
  const buf = String.UTF8.encode(input);
  return re.fullMatch(changetype<usize>(buf), buf.byteLength);
}

function matchesHex(re: Regex, hex: string): bool {
  const b = hexBytes(hex);
  return re.fullMatch(b.dataStart, b.length);
}

function compiled(pattern: string): Regex {
  const re = compileRegex(pattern);
  expect(re).not.toBeNull(pattern + " → " + regexError);
  return re!;
}

function checkRows(rows: Row[]): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const re = compileRegex(r.pattern);
    expect(re).not.toBeNull(r.pattern + " → " + regexError);
    if (re == null) continue;
    expect(regexError).toBe("", r.pattern);
    expect(matches(re, r.input)).toBe(r.want, "/" + r.pattern + "/ on \"" + r.input + "\"");
  }
}

// Expectations computed with `new RegExp('^(?:' + p + ')$', 'u')` ('iu' and the rest of the pattern
// for the (?i) rows).
const JS_ROWS: Row[] = [
  row("", "", true),
  row("", "a", false),
  row("a", "a", true),
  row("a", "", false),
  row("a", "b", false),
  row("a", "aa", false),
  row("abc", "abc", true),
  row("abc", "abd", false),
  row("abc", "ab", false),
  row("hello world", "hello world", true),
  row("GET", "GET", true),
  row("GET", "get", false),
  row("é", "é", true),
  row("é", "e", false),
  row("日本", "日本", true),
  row("日本", "日", false),
  row("😀", "😀", true),
  row("😀x", "😀x", true),
  row("a😀b", "a😀b", true),
  row(".", "a", true),
  row(".", "", false),
  row(".", "ab", false),
  row(".", "\n", false),
  row(".", "é", true),
  row(".", "日", true),
  row(".", "😀", true),
  row("..", "😀", false),
  row("...", "日本", false),
  row("..", "日本", true),
  row("a.c", "abc", true),
  row("a.c", "a\nc", false),
  row(".*", "", true),
  row(".*", "anything at all", true),
  row(".*", "a\nb", false),
  row("a.*z", "a日本z", true),
  row("[abc]", "a", true),
  row("[abc]", "c", true),
  row("[abc]", "d", false),
  row("[abc]+", "abccba", true),
  row("[a-z0-9_]+", "key_01", true),
  row("[a-z0-9_]+", "Key", false),
  row("[^abc]", "d", true),
  row("[^abc]", "a", false),
  row("[^abc]", "\n", true),
  row("[^abc]", "日", true),
  row("[^abc]", "😀", true),
  row("[^a-z]+", "ABC123", true),
  row("[^a-z]+", "ABcD", false),
  row("[a\\-z]", "-", true),
  row("[a\\-z]", "b", false),
  row("[a-]", "-", true),
  row("[-a]", "-", true),
  row("[a\\]]", "]", true),
  row("[\\[a]", "[", true),
  row("[\\^a]", "^", true),
  row("[a^]", "^", true),
  row("[\\d]+", "123", true),
  row("[\\d]+", "12a", false),
  row("[\\w.]+", "a.b_c", true),
  row("[\\s,]+", " ,\t", true),
  row("[\\D]", "a", true),
  row("[\\D]", "5", false),
  row("[^\\d]", "x", true),
  row("[^\\d]", "7", false),
  row("[^\\W]", "a", true),
  row("[^\\W]", "-", false),
  row("[\\W\\d]", "5", true),
  row("[\\W\\d]", "-", true),
  row("[\\W\\d]", "a", false),
  row("[é-ë]", "ê", true),
  row("[é-ë]", "e", false),
  row("[日本]", "本", true),
  row("[日本]", "人", false),
  row("[😀-😂]", "😁", true),
  row("[😀-😂]", "😃", false),
  row("[^😀]", "😀", false),
  row("[^😀]", "x", true),
  row("[a-cx-z]+", "abxyz", true),
  row("[a-cx-z]+", "abd", false),
  row("[.]", ".", true),
  row("[.]", "a", false),
  row("[*+?]+", "*+?", true),
  row("[\\t]", "\t", true),
  row("\\d+", "0123456789", true),
  row("\\d", "a", false),
  row("\\D+", "abc", true),
  row("\\D", "1", false),
  row("\\w+", "abc_XYZ_09", true),
  row("\\w", "-", false),
  row("\\W", "-", true),
  row("\\W", "a", false),
  row("\\s", " ", true),
  row("\\s", "\t", true),
  row("\\s", "\n", true),
  row("\\s", "\r", true),
  row("\\s", "a", false),
  row("\\S+", "abc", true),
  row("\\S", " ", false),
  row("\\.", ".", true),
  row("\\.", "a", false),
  row("\\\\", "\\", true),
  row("\\]", "]", true),
  row("\\[", "[", true),
  row("\\(\\)", "()", true),
  row("\\*\\+\\?", "*+?", true),
  row("\\{\\}", "{}", true),
  row("\\|", "|", true),
  row("\\^", "^", true),
  row("\\$", "$", true),
  row("\\/", "/", true),
  row("a\\tb", "a\tb", true),
  row("a\\nb", "a\nb", true),
  row("a\\rb", "a\rb", true),
  row("\\x41", "A", true),
  row("^abc$", "abc", true),
  row("^abc", "abc", true),
  row("abc$", "abc", true),
  row("^$", "", true),
  row("^$", "a", false),
  row("a^b", "ab", false),
  row("a$b", "ab", false),
  row("(^a|b)", "a", true),
  row("(^a|b)", "b", true),
  row("(a|^)b", "b", true),
  row("(a|^)b", "ab", true),
  row("a($|b)", "a", true),
  row("a($|b)", "ab", true),
  row("x*^a", "a", true),
  row("x*^a", "xa", false),
  row("a$x*", "a", true),
  row("a$x*", "ax", false),
  row("a|b", "a", true),
  row("a|b", "b", true),
  row("a|b", "ab", false),
  row("ab|cd", "ab", true),
  row("ab|cd", "cd", true),
  row("ab|cd", "ad", false),
  row("ab|cd", "abcd", false),
  row("a|b|c|d", "c", true),
  row("GET|SET|DEL", "SET", true),
  row("GET|SET|DEL", "GETSET", false),
  row("^GET|SET$", "SET", true),
  row("a(b|c)d", "acd", true),
  row("a(b|c)d", "abcd", false),
  row("(a|)", "", true),
  row("(a|)", "a", true),
  row("(|a)b", "b", true),
  row("(|a)b", "ab", true),
  row("a||b", "", true),
  row("a||b", "b", true),
  row("|", "", true),
  row("|", "a", false),
  row("(a|)+", "aaa", true),
  row("(a|)+", "", true),
  row("(ab)+", "ababab", true),
  row("(ab)+", "aba", false),
  row("(?:ab)+", "abab", true),
  row("((a)(b))", "ab", true),
  row("(a(b(c(d))))", "abcd", true),
  row("((a|b)(c|d))+", "acbdad", true),
  row("((a|b)(c|d))+", "acb", false),
  row("()", "", true),
  row("(?:)", "", true),
  row("()a", "a", true),
  row("(?:a|b)(?:c|d)", "bc", true),
  row("(a*)*b", "aaab", true),
  row("(a*)*b", "aaa", false),
  row("a*", "", true),
  row("a*", "aaaa", true),
  row("a*", "aab", false),
  row("a+", "", false),
  row("a+", "aaa", true),
  row("a?", "", true),
  row("a?", "a", true),
  row("a?", "aa", false),
  row("ab*c", "ac", true),
  row("ab*c", "abbbc", true),
  row("ab+c", "ac", false),
  row("ab+c", "abbc", true),
  row("ab?c", "abc", true),
  row("ab?c", "abbc", false),
  row("a*?", "aaa", true),
  row("a+?b", "aab", true),
  row("a??", "a", true),
  row("a{2,3}?", "aa", true),
  row("a{3}", "aaa", true),
  row("a{3}", "aa", false),
  row("a{3}", "aaaa", false),
  row("a{2,}", "a", false),
  row("a{2,}", "aa", true),
  row("a{2,}", "aaaaaaa", true),
  row("a{2,4}", "a", false),
  row("a{2,4}", "aa", true),
  row("a{2,4}", "aaaa", true),
  row("a{2,4}", "aaaaa", false),
  row("a{0}", "", true),
  row("a{0}", "a", false),
  row("a{0,1}", "a", true),
  row("a{0,}", "aaa", true),
  row("(ab){2}", "abab", true),
  row("(ab){2}", "ab", false),
  row("(a|bc){2,3}", "abc", true),
  row("(a|bc){2,3}", "bcbcbc", true),
  row("(a|bc){2,3}", "a", false),
  row("(a|bc){2,3}", "abcabc", false),
  row("[0-9]{3}-[0-9]{4}", "555-1234", true),
  row("[0-9]{3}-[0-9]{4}", "55-1234", false),
  row("x{1000}", "x".repeat(1000), true),
  row("x{1000}", "x".repeat(999), false),
  row("(?:a{2}){3}", "aaaaaa", true),
  row("(?:a{2}){3}", "aaaaa", false),
  row(".{3}", "日本語", true),
  row(".{3}", "日本", false),
  row("(日本)+", "日本日本", true),
  row("é+", "ééé", true),
  row("😀{2}", "😀😀", true),
  row("😀{2}", "😀", false),
  row("(a|b)*c(a|b)*", "abcab", true),
  row("(a+|b+)*", "aabba", true),
  row("user:[0-9]+", "user:42", true),
  row("user:[0-9]+", "user:", false),
  row("session:[a-f0-9]{8}", "session:deadbeef", true),
  row("session:[a-f0-9]{8}", "session:deadbee", false),
  row("com\\.example\\..*Service", "com.example.foo.BarService", true),
  row("com\\.example\\..*Service", "com.example.Bar", false),
  row("(get|set|del)_[a-z]+", "get_user", true),
  row("/api/v[12]/.*", "/api/v2/users", true),
  row("/api/v[12]/.*", "/api/v3/users", false),
  row("(?i)get", "GET", true),
  row("(?i)get", "gEt", true),
  row("(?i)get", "got", false),
  row("(?i)GET|SET", "set", true),
  row("(?i)[a-c]+", "AbC", true),
  row("(?i)[a-c]+", "abd", false),
  row("(?i)[^a]", "A", false),
  row("(?i)[^a]", "b", true),
  row("(?i)[X-Z]", "y", true),
  row("(?i)h(e|a)llo", "HALLO", true),
  row("(?i)\\w+", "AbC_1", true),
  row("(?i)é", "é", true),
  row("(?i)a{2}", "aA", true),
  row("(?i)[0-9]+", "123", true),
  row("(?i)", "", true),
  row("(?i)x.y", "X-Y", true),
  row("(?i)hello world", "HELLO WORLD", true),
  row("(?i)\\x41", "a", true),
];

// Where RE2 (and this engine) differ from JS, or JS rejects the syntax: expectations by RE2's rules.
const RE2_ROWS: Row[] = [
  row("\\-", "-", true),
  row("\\_", "_", true),
  row("\\x{1F600}", "😀", true),
  row("\\x{65e5}+", "日日", true),
  row("[\\x41-\\x43]+", "ABC", true),
  row("[\\x41-\\x43]+", "ABD", false),
  row("\\v\\f\\a", "\x0B\x0C\x07", true),
  row("a{,3}", "a{,3}", true), // not a repetition, so literal
  row("a{,3}", "aaa", false),
  row("a{", "a{", true),
  row("a{x}", "a{x}", true),
  row("a{1", "a{1", true),
  row("x}", "x}", true),
  row("]", "]", true),
  row("[]a]+", "]a]", true),
  row("[^]a]", "b", true),
  row("[^]a]", "]", false),
  row("[a-b-c]+", "a-c", true),
  row("\\Aab\\z", "ab", true),
  row("a\\Ab", "ab", false),
  row("^*a", "a", true),
  row("(?:$)*", "", true),
  row("\\s", "\x0B", false), // RE2's \s has no \v
  row(".", "\r", true), // RE2's . excludes only \n
  row(".", "\u2028", true),
  row("[^\\n]", "\r", true),
  row("(?i)k", "\u212A", false), // (?i) folds ASCII only
  row("(?i)s", "ſ", false),
  row("(?i)é", "É", false),
  row("(?i)[k]", "K", true),
  row("(){1000}", "", true),
  row("((){1000}){1000}", "", true),
  row("(?:a{0}){1000}b", "b", true),
  row("(?i)(get|set|mget|hgetall)", "HGetAll", true),
  row("(?i)(get|set|mget|hgetall)", "HGETALLX", false),
];

describe("regex: matching", () => {
  it("agrees with JavaScript's RegExp on full matches", () => {
    expect(JS_ROWS.length).toBeGreaterThanOrEqual(120);
    checkRows(JS_ROWS);
  });

  it("follows RE2 where JavaScript differs", () => {
    checkRows(RE2_ROWS);
  });

  it("treats each byte of invalid UTF-8 as one character", () => {
    expect(matchesHex(compiled("."), "ff")).toBe(true);
    expect(matchesHex(compiled(".."), "ff")).toBe(false);
    expect(matchesHex(compiled("."), "c3")).toBe(true); // truncated sequence
    expect(matchesHex(compiled(".."), "c328")).toBe(true); // lead byte, then "("
    expect(matchesHex(compiled(".\\("), "c328")).toBe(true);
    expect(matchesHex(compiled("."), "c328")).toBe(false);
    expect(matchesHex(compiled("é"), "c3a9")).toBe(true);
    expect(matchesHex(compiled("é"), "c3")).toBe(false);
    expect(matchesHex(compiled("..."), "eda080")).toBe(true); // an encoded surrogate is three bad bytes
    expect(matchesHex(compiled("."), "eda080")).toBe(false);
    expect(matchesHex(compiled(".."), "c0af")).toBe(true); // overlong "/"
    expect(matchesHex(compiled("/"), "c0af")).toBe(false);
    expect(matchesHex(compiled("...."), "f4908080")).toBe(true); // above U+10FFFF
    expect(matchesHex(compiled("."), "f09f9880")).toBe(true); // U+1F600
    expect(matchesHex(compiled("."), "f09f98")).toBe(false);
    expect(matchesHex(compiled("..."), "f09f98")).toBe(true);
    expect(matchesHex(compiled("[^a]"), "80")).toBe(true);
    expect(matchesHex(compiled("[a-z\\x{80}-\\x{10FFFF}]"), "80")).toBe(false);
    expect(matchesHex(compiled("\\D\\W\\S"), "fffefd")).toBe(true);
    expect(matchesHex(compiled("\\w"), "ff")).toBe(false);
    expect(matchesHex(compiled("a.*b"), "61fffe0a62")).toBe(false); // . still stops at \n
    expect(matchesHex(compiled("a.*b"), "61fffe80c262")).toBe(true);
    expect(matchesHex(compiled("a\\x00b"), "610062")).toBe(true);
    expect(matchesHex(compiled("[\\x00-\\x7f]+"), "00017f")).toBe(true);
    expect(matchesHex(compiled("[^\\x00-\\x{10FFFF}]"), "80")).toBe(true);
  });

  it("reuses its state across calls and takes any pointer with a zero length", () => {
    const re = compiled("(a|b)*c");
    expect(matches(re, "abac")).toBe(true);
    expect(matches(re, "abab")).toBe(false);
    expect(matches(re, "c")).toBe(true);
    expect(re.fullMatch(0, 0)).toBe(false);
    expect(compiled("a*").fullMatch(0, 0)).toBe(true);
    expect(compiled("").fullMatch(0, 0)).toBe(true);
    expect(compiled("a*").fullMatch(0, -1)).toBe(false);
  });
});

class Rejection {
  constructor(public pattern: string, public error: string) {}
}

function rej(pattern: string, error: string): Rejection {
  return new Rejection(pattern, error);
}

const REJECTIONS: Rejection[] = [
  rej("(a)\\1", "at offset 3: backreferences are not supported"),
  rej("a(?=b)", "at offset 1: lookahead is not supported"),
  rej("a(?!b)", "at offset 1: lookahead is not supported"),
  rej("(?<=a)b", "at offset 0: lookbehind is not supported"),
  rej("x(?<!a)b", "at offset 1: lookbehind is not supported"),
  rej("(?<name>a)", "at offset 0: named groups are not supported"),
  rej("(?P<name>a)", "at offset 0: named groups are not supported"),
  rej("(?#note)", "at offset 0: unsupported group syntax"),
  rej("a(?", "at offset 1: unsupported group syntax"),
  rej("a++", "at offset 2: possessive quantifiers are not supported"),
  rej("a*+", "at offset 2: possessive quantifiers are not supported"),
  rej("a?+", "at offset 2: possessive quantifiers are not supported"),
  rej("a{2,3}+", "at offset 6: possessive quantifiers are not supported"),
  rej("a**", "at offset 2: repeated quantifier (wrap the repeated part in a group)"),
  rej("a*?*", "at offset 3: repeated quantifier (wrap the repeated part in a group)"),
  rej("a{2}{3}", "at offset 4: repeated quantifier (wrap the repeated part in a group)"),
  rej("a???", "at offset 3: repeated quantifier (wrap the repeated part in a group)"),
  rej("(ab", "at offset 0: missing closing )"),
  rej("a(b(c)", "at offset 1: missing closing )"),
  rej("ab)", "at offset 2: unmatched )"),
  rej("(a))b", "at offset 3: unmatched )"),
  rej(")", "at offset 0: unmatched )"),
  rej("[ab", "at offset 0: missing closing ]"),
  rej("x[^", "at offset 1: missing closing ]"),
  rej("[]", "at offset 0: missing closing ]"),
  rej("[a-", "at offset 0: missing closing ]"),
  rej("[a\\]", "at offset 0: missing closing ]"),
  rej("*a", "at offset 0: nothing to repeat"),
  rej("a|+b", "at offset 2: nothing to repeat"),
  rej("(?:?)", "at offset 3: nothing to repeat"),
  rej("{2}", "at offset 0: nothing to repeat"),
  rej("(*)", "at offset 1: nothing to repeat"),
  rej("(?i)*", "at offset 4: nothing to repeat"),
  rej("a{3,2}", "at offset 1: repetition minimum above maximum"),
  rej("a{1001}", "at offset 1: repetition count above 1000"),
  rej("a{1,1001}", "at offset 1: repetition count above 1000"),
  rej("a{99999999999999999999}", "at offset 1: repetition count above 1000"),
  rej("a{0,99999999999999999999}", "at offset 1: repetition count above 1000"),
  rej("[z-a]", "at offset 1: bad character class range"),
  rej("[\\d-z]", "at offset 1: bad character class range"),
  rej("[a-\\d]", "at offset 1: bad character class range"),
  rej("[[:alpha:]]", "at offset 1: POSIX classes are not supported"),
  rej("[\\A]", "at offset 1: anchors are not allowed in a class"),
  rej("\\bfoo", "at offset 0: word boundaries are not supported"),
  rej("a\\B", "at offset 1: word boundaries are not supported"),
  rej("\\pL", "at offset 0: Unicode classes are not supported"),
  rej("[\\p{Greek}]", "at offset 1: Unicode classes are not supported"),
  rej("\\Qa.b\\E", "at offset 0: unsupported escape"),
  rej("\\0", "at offset 0: unsupported escape"),
  rej("\\é", "at offset 0: unsupported escape"),
  rej("a\\", "at offset 1: trailing backslash"),
  rej("[a\\", "at offset 2: trailing backslash"),
  rej("\\xZZ", "at offset 0: bad \\x escape"),
  rej("\\x4", "at offset 0: bad \\x escape"),
  rej("\\x{}", "at offset 0: bad \\x escape"),
  rej("\\x{41", "at offset 0: bad \\x escape"),
  rej("\\x{110000}", "at offset 0: hex escape above U+10FFFF"),
  rej("(?i)a(?i)b", "at offset 5: flags are only supported as a leading (?i)"),
  rej("(?s).", "at offset 0: flags are only supported as a leading (?i)"),
  rej("(?i:a)", "at offset 0: flags are only supported as a leading (?i)"),
  rej("(?-i)a", "at offset 0: flags are only supported as a leading (?i)"),
  rej("a\uD800", "at offset 1: invalid UTF-16 (lone surrogate) in pattern"),
  rej("[\uDC00]", "at offset 1: invalid UTF-16 (lone surrogate) in pattern"),
];

const TOO_LARGE = "at offset 0: pattern too large (over 5000 instructions once repetitions are expanded)";

describe("regex: rejections", () => {
  it("returns null and names the offset and reason of every unsupported construct", () => {
    for (let i = 0; i < REJECTIONS.length; i++) {
      const r = REJECTIONS[i];
      expect(compileRegex(r.pattern)).toBeNull(r.pattern);
      expect(regexError).toBe(r.error, r.pattern);
    }
  });

  it("clears the error on the next successful compile", () => {
    expect(compileRegex("(")).toBeNull();
    expect(regexError).not.toBe("");
    expect(compileRegex("a")).not.toBeNull();
    expect(regexError).toBe("");
  });

  it("caps the program size after counted repetition is expanded", () => {
    expect(compileRegex("(a{100}){49}")).not.toBeNull(); // 4900 + MATCH
    expect(compileRegex("(a{1000}){6}")).toBeNull();
    expect(regexError).toBe(TOO_LARGE);
    expect(compileRegex("((a{1000}){1000}){1000}")).toBeNull();
    expect(regexError).toBe(TOO_LARGE);
    expect(compileRegex("a".repeat(4999))).not.toBeNull();
    expect(compileRegex("a".repeat(5000))).toBeNull();
    expect(regexError).toBe(TOO_LARGE);
    expect(compileRegex("[a-z]{1000}[0-9]{1000}(x|y){999}")).toBeNull();
    const big = compiled("[a-z]{0,1000}x{1000}");
    expect(matches(big, "x".repeat(1000))).toBe(true);
    expect(matches(big, "q".repeat(1000) + "x".repeat(1000))).toBe(true);
    expect(matches(big, "q".repeat(1001) + "x".repeat(1000))).toBe(false);
  });

  it("caps group nesting instead of exhausting the stack", () => {
    expect(matches(compiled("(".repeat(200) + "a" + ")".repeat(200)), "a")).toBe(true);
    expect(compileRegex("(".repeat(201) + "a" + ")".repeat(201))).toBeNull();
    expect(regexError).toBe("at offset 200: groups nested too deeply");
    expect(compileRegex("(".repeat(100000))).toBeNull();
    expect(regexError).toBe("at offset 200: groups nested too deeply");
    expect(compileRegex("(?:".repeat(50000))).toBeNull();
    expect(compileRegex("[".repeat(100000))).toBeNull();
    expect(compileRegex("\\".repeat(100001))).toBeNull();
  });
});

describe("regex: linear time", () => {
  it("answers patterns that make backtracking engines explode", () => {
    const a = "a".repeat(20000);
    expect(matches(compiled("(a*)*b"), a)).toBe(false);
    expect(matches(compiled("(a|a)*b"), a)).toBe(false);
    expect(matches(compiled("(a+)+$x"), a)).toBe(false);
    expect(matches(compiled("(a|aa)*c"), a)).toBe(false);
    expect(matches(compiled("(a*)*"), a)).toBe(true);
    expect(matches(compiled("(a?){30}a{30}"), "a".repeat(30))).toBe(true);
    expect(matches(compiled("(.*)*a(.*)*b(.*)*c"), a)).toBe(false);
    expect(matches(compiled("(x+x+)+y"), "x".repeat(20000))).toBe(false);
    expect(matches(compiled("(?:a{0,500}){4}"), a)).toBe(false);
    expect(matches(compiled("(?:a{0,500}){4}"), "a".repeat(2000))).toBe(true);
  });
});

// Deterministic LCG, so a failure reproduces.
let seed: u32 = 0x2545f491;
function nextRand(n: i32): i32 {
  seed = seed * 1664525 + 1013904223;
  return <i32>((seed >>> 8) % <u32>n);
}

const PATTERN_TOKENS: string[] = [
  "a", "b", "é", "日", ".", "|", "(", ")", "(?:", "*", "+", "?", "{", "}", "{2}", "{1,3}", "{0,}", ",", "[", "]",
  "^", "$", "\\", "\\d", "\\w", "\\s", "\\W", "-", "[^", "a-z", "\\x", "1", "0", "(?i)", "(?", ":", "<", "=", "\uD800",
];
const INPUT_BYTES: u8[] = [0x61, 0x62, 0x0a, 0x2d, 0x31, 0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xff, 0x80, 0x00, 0x20];

describe("regex: pseudo-random patterns", () => {
  it("never traps compiling or matching", () => {
    let compiledCount = 0;
    const input = new Uint8Array(64);
    for (let round = 0; round < 4000; round++) {
      let p = "";
      const parts = 1 + nextRand(10);
      for (let k = 0; k < parts; k++) p += PATTERN_TOKENS[nextRand(PATTERN_TOKENS.length)];
      const re = compileRegex(p);
      if (re == null) {
        expect(regexError.startsWith("at offset ")).toBe(true, p);
        continue;
      }
      compiledCount++;
      for (let t = 0; t < 4; t++) {
        const n = nextRand(input.length + 1);
        for (let i = 0; i < n; i++) input[i] = INPUT_BYTES[nextRand(INPUT_BYTES.length)];
        const once = re.fullMatch(input.dataStart, n);
        expect(re.fullMatch(input.dataStart, n)).toBe(once, p);
      }
    }
    expect(compiledCount).toBeGreaterThan(500);
  });
});
