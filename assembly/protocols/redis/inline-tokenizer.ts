// Redis inline-command splitting (sdssplitargs semantics, specs/protocols.md §3.1) as a byte-at-a-time
// state machine, so a line may be split anywhere – even inside `\xHH` – between feeds.
//
//   * blanks between arguments: C isspace (space \t \n \v \f \r);
//   * an unquoted argument ends at space, \t, \r (not at \v or \f, which stay inside it);
//   * "…" understands \xHH, \n \r \t \b \a and \<c> = c; an invalid \x escape yields 'x';
//   * '…' understands only \' ;
//   * a quote may open in the middle of an argument (a"b c" is `ab c`);
//   * a closing quote must be followed by a blank or the end of the line; an unterminated quote or a
//     backslash at the very end is an error ("unbalanced quotes in request").
//
// The caller strips the line terminator (\n, or \r\n) and calls eol(); every other byte goes to
// byte(). Unescaped argument bytes go straight into the RequestCapture.

import { isSpace, hexValue } from "./ascii";
import { RequestCapture } from "./request-capture";

const T_BETWEEN: i32 = 0; // skipping blanks
const T_WORD: i32 = 1; // unquoted part of an argument
const T_DQ: i32 = 2; // inside "…"
const T_DQ_ESC: i32 = 3; // after \ inside "…"
const T_DQ_HEX1: i32 = 4; // after \x
const T_DQ_HEX2: i32 = 5; // after \x and one hex digit
const T_SQ: i32 = 6; // inside '…'
const T_SQ_ESC: i32 = 7; // after \ inside '…'
const T_CLOSED: i32 = 8; // right after a closing quote

// An @unmanaged struct placed in its decoder's memory block, like RequestCapture.
// @ts-ignore: decorator
@unmanaged
export class InlineTokenizer {
  /** Arguments started on this line. */
  argc: i64;
  private maxArgs: i64;
  private cap: RequestCapture;
  private state: i32;
  private hex1: i32;
  /** The line cannot be split (reported at the end of the line, as Redis does). */
  bad: bool;
  /** More arguments than allowed: reported at once. */
  overLimit: bool;

  static bytes(): usize {
    return offsetof<InlineTokenizer>();
  }

  /** A tokenizer in the zeroed memory at `at` (InlineTokenizer.bytes(), 8-aligned) feeding `cap`. */
  static place(at: usize, cap: RequestCapture): InlineTokenizer {
    const t = changetype<InlineTokenizer>(at);
    t.cap = cap;
    t.state = T_BETWEEN;
    return t;
  }

  reset(maxArgs: i64): void {
    this.argc = 0;
    this.bad = false;
    this.overLimit = false;
    this.state = T_BETWEEN;
    this.maxArgs = maxArgs;
  }

  byte(c: i32): void {
    if (this.bad || this.overLimit) return;
    switch (this.state) {
      case T_BETWEEN: {
        if (isSpace(c)) return;
        if (this.argc >= this.maxArgs) {
          this.overLimit = true;
          return;
        }
        this.cap.begin(this.argc, -1);
        this.argc++;
        if (c == 0x22) this.state = T_DQ;
        else if (c == 0x27) this.state = T_SQ;
        else {
          this.cap.byte(c);
          this.state = T_WORD;
        }
        return;
      }
      case T_WORD: {
        if (c == 0x20 || c == 0x09 || c == 0x0d) this.endArg();
        else if (c == 0x22) this.state = T_DQ;
        else if (c == 0x27) this.state = T_SQ;
        else this.cap.byte(c);
        return;
      }
      case T_DQ: {
        if (c == 0x5c) this.state = T_DQ_ESC;
        else if (c == 0x22) this.state = T_CLOSED;
        else this.cap.byte(c);
        return;
      }
      case T_DQ_ESC: {
        if (c == 0x78) {
          this.state = T_DQ_HEX1;
          return;
        }
        this.cap.byte(unescape(c));
        this.state = T_DQ;
        return;
      }
      case T_DQ_HEX1: {
        if (hexValue(c) >= 0) {
          this.hex1 = c;
          this.state = T_DQ_HEX2;
          return;
        }
        // "\x" without two hex digits is just 'x'; c is then an ordinary quoted byte
        this.cap.byte(0x78);
        this.state = T_DQ;
        this.byte(c);
        return;
      }
      case T_DQ_HEX2: {
        const v = hexValue(c);
        if (v >= 0) {
          this.cap.byte((hexValue(this.hex1) << 4) | v);
          this.state = T_DQ;
          return;
        }
        this.cap.byte(0x78);
        this.cap.byte(this.hex1);
        this.state = T_DQ;
        this.byte(c);
        return;
      }
      case T_SQ: {
        if (c == 0x5c) this.state = T_SQ_ESC;
        else if (c == 0x27) this.state = T_CLOSED;
        else this.cap.byte(c);
        return;
      }
      case T_SQ_ESC: {
        if (c == 0x27) {
          this.cap.byte(0x27);
          this.state = T_SQ;
          return;
        }
        this.cap.byte(0x5c);
        this.state = T_SQ;
        this.byte(c);
        return;
      }
      default: {
        // T_CLOSED
        if (isSpace(c)) this.endArg();
        else this.bad = true;
      }
    }
  }

  /** End of the line. */
  eol(): void {
    if (this.bad || this.overLimit) return;
    const s = this.state;
    if (s == T_WORD || s == T_CLOSED) this.endArg();
    else if (s != T_BETWEEN) this.bad = true;
  }

  private endArg(): void {
    this.cap.end();
    this.state = T_BETWEEN;
  }
}

function unescape(c: i32): i32 {
  switch (c) {
    case 0x6e:
      return 0x0a; // \n
    case 0x72:
      return 0x0d; // \r
    case 0x74:
      return 0x09; // \t
    case 0x62:
      return 0x08; // \b
    case 0x61:
      return 0x07; // \a
    default:
      return c;
  }
}
