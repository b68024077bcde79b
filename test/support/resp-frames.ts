// A small, independent RESP2/RESP3 scanner for end-to-end tests: splits what a server sent into
// top-level values (a RESP3 attribute belongs to the value it follows it into) without building
// them, so tests can count replies and pushes and wait for "N values received". It is the tests'
// oracle, deliberately unrelated to the filter's decoder.

export interface Frame {
  type: string;      // first byte of the value (never '|': an attribute is folded into its value)
  start: number;     // offset of the first byte (of the attribute, when one precedes the value)
  end: number;       // offset after the last byte
  push: boolean;     // RESP3 push ('>')
  attribute: boolean; // preceded by a RESP3 attribute
}

const INCOMPLETE = -1;

function lineEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 0x0d && buf[i + 1] === 0x0a) return i;
  return INCOMPLETE;
}

function lineText(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString("latin1");
}

// Returns the offset after the value starting at `pos`, or INCOMPLETE. Throws on bytes that are
// no RESP value (the test then fails with the offset).
function valueEnd(buf: Uint8Array, pos: number): number {
  if (pos >= buf.length) return INCOMPLETE;
  const t = String.fromCharCode(buf[pos]);
  const eol = lineEnd(buf, pos + 1);
  if (eol === INCOMPLETE) return INCOMPLETE;
  const head = lineText(buf, pos + 1, eol);
  const next = eol + 2;
  switch (t) {
    case "+": case "-": case ":": case "_": case "#": case ",": case "(":
      return next;
    case "$": case "!": case "=": {
      const n = Number(head);
      if (!Number.isInteger(n)) throw new Error(`bad length line ${JSON.stringify(head)} at ${pos}`);
      if (n < 0) return next;
      return next + n + 2 <= buf.length ? next + n + 2 : INCOMPLETE;
    }
    case "*": case "~": case ">": case "%": case "|": {
      const n = Number(head);
      if (!Number.isInteger(n)) throw new Error(`bad count line ${JSON.stringify(head)} at ${pos}`);
      let p = next;
      const elements = t === "%" || t === "|" ? 2 * n : n;
      for (let i = 0; i < elements; i++) {
        p = valueEnd(buf, p);
        if (p === INCOMPLETE) return INCOMPLETE;
      }
      // An attribute is no value: the value it annotates follows.
      return t === "|" ? valueEnd(buf, p) : p;
    }
    default:
      throw new Error(`not a RESP type byte 0x${buf[pos].toString(16)} at offset ${pos}`);
  }
}

/** The complete top-level values in `buf` from `from` on, and where the incomplete rest starts. */
export function scanFrames(buf: Uint8Array, from = 0): { frames: Frame[]; consumed: number } {
  const frames: Frame[] = [];
  let pos = from;
  while (pos < buf.length) {
    const end = valueEnd(buf, pos);
    if (end === INCOMPLETE) break;
    let typePos = pos;
    // skip attributes to find the annotated value's type
    while (buf[typePos] === 0x7c) {
      const eol = lineEnd(buf, typePos + 1);
      let p = eol + 2;
      const n = Number(lineText(buf, typePos + 1, eol));
      for (let i = 0; i < 2 * n; i++) p = valueEnd(buf, p);
      typePos = p;
    }
    const type = String.fromCharCode(buf[typePos]);
    frames.push({ type, start: pos, end, push: type === ">", attribute: typePos !== pos });
    pos = end;
  }
  return { frames, consumed: pos };
}

/** First element of an array/push frame as text (e.g. "message", "subscribe"), if it is a string. */
export function frameHead(buf: Uint8Array, f: Frame): string | undefined {
  let p = f.start;
  if (f.attribute) return undefined;
  const eol = lineEnd(buf, p + 1);
  if (eol === INCOMPLETE) return undefined;
  p = eol + 2;
  const t = buf[p];
  const eol2 = lineEnd(buf, p + 1);
  if (t === 0x2b) return lineText(buf, p + 1, eol2);
  if (t !== 0x24) return undefined;
  const n = Number(lineText(buf, p + 1, eol2));
  return lineText(buf, eol2 + 2, eol2 + 2 + n);
}
