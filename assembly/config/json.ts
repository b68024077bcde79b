// A strict JSON reader for the plugin configuration. Written for metawire because the
// AssemblyScript JSON libraries assert (and so trap) on malformed text; here every error is a
// value: `parseJson` returns null and `jsonError` says where and why. Nesting is capped so a
// hostile config cannot exhaust the wasm stack.

export enum JsonKind { Null, Bool, Number, String, Array, Object }

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  boolValue: bool = false;
  numberValue: f64 = 0;
  stringValue: string = "";
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  /** Object member by key, or null. */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.items[i];
    return null;
  }

  isInteger(): bool {
    return this.kind == JsonKind.Number && Math.floor(this.numberValue) == this.numberValue && Math.abs(this.numberValue) <= 9007199254740991.0;
  }

  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }
}

const MAX_DEPTH = 64;

export let jsonError: string = "";

class Reader {
  pos: i32 = 0;
  constructor(public text: Uint8Array) {}
  peek(): i32 { return this.pos < this.text.length ? <i32>this.text[this.pos] : -1; }
  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }
}

function fail(r: Reader, why: string): JsonValue | null {
  if (jsonError.length == 0) jsonError = why + " at byte " + r.pos.toString();
  return null;
}

export function parseJson(text: Uint8Array): JsonValue | null {
  jsonError = "";
  const r = new Reader(text);
  r.skipSpace();
  const v = parseValue(r, 0);
  if (v == null) return null;
  r.skipSpace();
  if (r.pos != text.length) return fail(r, "unexpected trailing characters");
  return v;
}

function parseValue(r: Reader, depth: i32): JsonValue | null {
  if (depth > MAX_DEPTH) return fail(r, "nesting deeper than " + MAX_DEPTH.toString());
  const c = r.peek();
  if (c == 0x7b) return parseObject(r, depth);
  if (c == 0x5b) return parseArray(r, depth);
  if (c == 0x22) {
    const s = parseString(r);
    if (s == null) return null;
    const v = new JsonValue();
    v.kind = JsonKind.String;
    v.stringValue = s;
    return v;
  }
  if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return parseNumber(r);
  if (literal(r, "true")) { const v = new JsonValue(); v.kind = JsonKind.Bool; v.boolValue = true; return v; }
  if (literal(r, "false")) { const v = new JsonValue(); v.kind = JsonKind.Bool; return v; }
  if (literal(r, "null")) return new JsonValue();
  return fail(r, c < 0 ? "unexpected end of input" : "unexpected character");
}

function literal(r: Reader, word: string): bool {
  if (r.pos + word.length > r.text.length) return false;
  for (let i = 0; i < word.length; i++) if (<i32>r.text[r.pos + i] != word.charCodeAt(i)) return false;
  r.pos += word.length;
  return true;
}

function parseObject(r: Reader, depth: i32): JsonValue | null {
  const v = new JsonValue();
  v.kind = JsonKind.Object;
  r.pos++;
  r.skipSpace();
  if (r.peek() == 0x7d) { r.pos++; return v; }
  while (true) {
    r.skipSpace();
    if (r.peek() != 0x22) return fail(r, "expected a member name");
    const key = parseString(r);
    if (key == null) return null;
    for (let i = 0; i < v.keys.length; i++) if (v.keys[i] == key) return fail(r, "duplicate member \"" + key + "\"");
    r.skipSpace();
    if (r.peek() != 0x3a) return fail(r, "expected ':'");
    r.pos++;
    r.skipSpace();
    const item = parseValue(r, depth + 1);
    if (item == null) return null;
    v.keys.push(key);
    v.items.push(item);
    r.skipSpace();
    const c = r.peek();
    r.pos++;
    if (c == 0x7d) return v;
    if (c != 0x2c) { r.pos--; return fail(r, "expected ',' or '}'"); }
  }
}

function parseArray(r: Reader, depth: i32): JsonValue | null {
  const v = new JsonValue();
  v.kind = JsonKind.Array;
  r.pos++;
  r.skipSpace();
  if (r.peek() == 0x5d) { r.pos++; return v; }
  while (true) {
    r.skipSpace();
    const item = parseValue(r, depth + 1);
    if (item == null) return null;
    v.items.push(item);
    r.skipSpace();
    const c = r.peek();
    r.pos++;
    if (c == 0x5d) return v;
    if (c != 0x2c) { r.pos--; return fail(r, "expected ',' or ']'"); }
  }
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function readHex4(r: Reader): i32 {
  if (r.pos + 4 > r.text.length) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const d = hexDigit(r.text[r.pos + i]);
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  r.pos += 4;
  return v;
}

/** Reads a string literal (r.pos at the opening quote); escapes decoded, result as UTF-16. */
function parseString(r: Reader): string | null {
  r.pos++;
  let out = "";
  let runStart = r.pos;
  while (true) {
    if (r.pos >= r.text.length) { fail(r, "unterminated string"); return null; }
    const c = <i32>r.text[r.pos];
    if (c == 0x22) {
      out += String.UTF8.decodeUnsafe(r.text.dataStart + runStart, r.pos - runStart);
      r.pos++;
      return out;
    }
    if (c < 0x20) { fail(r, "control character in string"); return null; }
    if (c != 0x5c) { r.pos++; continue; }
    out += String.UTF8.decodeUnsafe(r.text.dataStart + runStart, r.pos - runStart);
    r.pos++;
    const e = r.peek();
    r.pos++;
    if (e == 0x22) out += "\"";
    else if (e == 0x5c) out += "\\";
    else if (e == 0x2f) out += "/";
    else if (e == 0x62) out += "\b";
    else if (e == 0x66) out += "\f";
    else if (e == 0x6e) out += "\n";
    else if (e == 0x72) out += "\r";
    else if (e == 0x74) out += "\t";
    else if (e == 0x75) {
      const u = readHex4(r);
      if (u < 0) { fail(r, "bad \\u escape"); return null; }
      out += String.fromCharCode(u);
    } else { r.pos--; fail(r, "bad escape"); return null; }
    runStart = r.pos;
  }
}

function parseNumber(r: Reader): JsonValue | null {
  const start = r.pos;
  if (r.peek() == 0x2d) r.pos++;
  if (r.peek() == 0x30) r.pos++;
  else if (!digits(r)) return fail(r, "bad number");
  if (r.peek() == 0x2e) { r.pos++; if (!digits(r)) return fail(r, "bad number"); }
  if (r.peek() == 0x65 || r.peek() == 0x45) {
    r.pos++;
    if (r.peek() == 0x2b || r.peek() == 0x2d) r.pos++;
    if (!digits(r)) return fail(r, "bad number");
  }
  const v = new JsonValue();
  v.kind = JsonKind.Number;
  v.numberValue = parseFloat(String.UTF8.decodeUnsafe(r.text.dataStart + start, r.pos - start));
  return v;
}

function digits(r: Reader): bool {
  const start = r.pos;
  while (r.peek() >= 0x30 && r.peek() <= 0x39) r.pos++;
  return r.pos > start;
}
