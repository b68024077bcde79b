// The nesting matrix of Envoy's decoder_test.cc (specs/protocols.md §5.1): every {struct, list, map,
// set} of {struct, list, map, set} of {bool, byte, double, i16, i32, i64, string}, in binary and
// compact, pipelined unframed (walked to find each end) and as framed EXCEPTION bodies (walked to
// find the type field after them), in random splits with and without skipping.

import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { ThriftLimits } from "../../assembly/protocols/thrift/limits";
import { W, framedOf, runThrift } from "./thrift-helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

const STRUCT: i32 = 0;
const LIST: i32 = 1;
const MAP: i32 = 2;
const SET: i32 = 3;
const BOOL: i32 = 10;
const BYTE: i32 = 11;
const DOUBLE: i32 = 12;
const I16: i32 = 13;
const I32: i32 = 14;
const I64: i32 = 15;
const STRING: i32 = 16;

function typeId(compact: bool, k: i32): i32 {
  switch (k) {
    case STRUCT: return 12;
    case LIST: return compact ? 9 : 15;
    case MAP: return compact ? 11 : 13;
    case SET: return compact ? 10 : 14;
    case BOOL: return compact ? 1 : 2;
    case BYTE: return 3;
    case DOUBLE: return compact ? 7 : 4;
    case I16: return compact ? 4 : 6;
    case I32: return compact ? 5 : 8;
    case I64: return compact ? 6 : 10;
    default: return compact ? 8 : 11; // STRING
  }
}

/** Field header with id = previous id + 1 (compact short form). A compact bool field carries `true`. */
function field(w: W, compact: bool, k: i32, id: i32): void {
  if (compact) w.u8((1 << 4) | typeId(true, k));
  else w.u8(typeId(false, k)).i16(id);
}

function leaf(w: W, compact: bool, k: i32, asField: bool): void {
  switch (k) {
    case BOOL:
      if (!(compact && asField)) w.u8(compact ? 2 : 0); // compact element: 2 = false
      return;
    case BYTE:
      w.u8(0xff);
      return;
    case DOUBLE:
      if (compact) w.hex("000000000000f83f");
      else w.hex("3ff8000000000000");
      return;
    case I16:
      if (compact) w.zz32(-2);
      else w.i16(-2);
      return;
    case I32:
      if (compact) w.zz32(-70000);
      else w.i32(-70000);
      return;
    case I64:
      if (compact) w.zz64(-5000000000);
      else w.i64(-5000000000);
      return;
    default:
      if (compact) w.varint(3).ascii("abc");
      else w.i32(3).ascii("abc");
  }
}

/** The value path[level] (with two children per container) as a field (true) or an element. */
function value(w: W, compact: bool, path: i32[], level: i32, asField: bool): void {
  const k = path[level];
  if (k >= BOOL) {
    leaf(w, compact, k, asField);
    return;
  }
  const child = path[level + 1];
  if (k == STRUCT) {
    for (let id = 1; id <= 2; id++) {
      field(w, compact, child, id);
      value(w, compact, path, level + 1, true);
    }
    w.u8(0);
    return;
  }
  if (k == LIST || k == SET) {
    if (compact) w.cList(typeId(true, child), 2);
    else w.u8(typeId(false, child)).i32(2);
    for (let i = 0; i < 2; i++) value(w, compact, path, level + 1, false);
    return;
  }
  // map<byte, child> (map<leaf, leaf> at the bottom)
  const key = child >= BOOL ? child : BYTE;
  if (compact) w.varint(2).u8((typeId(true, key) << 4) | typeId(true, child));
  else w.u8(typeId(false, key)).u8(typeId(false, child)).i32(2);
  for (let i = 0; i < 2; i++) {
    leaf(w, compact, key, false);
    value(w, compact, path, level + 1, false);
  }
}

function matrix(compact: bool, framedException: bool): Uint8Array {
  const all = new W();
  let seq = 0;
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      for (let c = BOOL; c <= STRING; c++) {
        const path: i32[] = [a, b, c];
        const m = new W();
        if (framedException) {
          if (compact) m.cMsg(3, "x", seq);
          else m.bMsg(3, "x", seq);
          field(m, compact, a, 1); // field 1 (compact delta 1)
          value(m, compact, path, 0, true);
          if (compact) m.u8(0x15).zz32(seq); // field 2, i32: the exception type
          else m.u8(8).i16(2).i32(seq);
          m.u8(0);
          all.append(framedOf(m));
        } else {
          if (compact) m.cMsg(1, "x", seq);
          else m.bMsg(1, "x", seq);
          field(m, compact, a, 1);
          value(m, compact, path, 0, true);
          m.u8(0);
          all.append(m);
        }
        seq++;
      }
    }
  }
  return all.bytes();
}

function check(data: Uint8Array, framedException: bool, label: string): void {
  const modes: i32[] = [WHOLE, BYTEWISE, RANDOM, RANDOM, RANDOM];
  for (let i = 0; i < modes.length; i++) {
    const d = new ThriftDecoder(new ThriftLimits());
    const run = runThrift(d, data, modes[i], new Rng(<u32>(i + 1) * 31), i % 2 == 1);
    const l = label + " mode " + i.toString();
    expect(run.violations).toBe(0, l);
    expect(run.error).toBe("", l);
    expect(run.msgs.length).toBe(112, l);
    let bad = -1;
    for (let k = 0; k < run.msgs.length; k++) {
      const m = run.msgs[k];
      if (m.seqId != k || (framedException && m.appType != k) || (k > 0 && m.start != run.msgs[k - 1].end)) {
        bad = k;
        break;
      }
    }
    expect(bad).toBe(-1, l + " first wrong message");
    expect(run.boundary).toBe(true, l);
    expect(run.consumed).toBe(<i64>data.length, l);
  }
}

describe("Thrift nesting matrix (4 × 4 × 7)", () => {
  it("binary, unframed: every message walked to its end", () => {
    check(matrix(false, false), false, "binary unframed");
  });
  it("compact, unframed: every message walked to its end", () => {
    check(matrix(true, false), false, "compact unframed");
  });
  it("binary, framed EXCEPTION: the type field after the nested value is found", () => {
    check(matrix(false, true), true, "binary framed exception");
  });
  it("compact, framed EXCEPTION: the type field after the nested value is found", () => {
    check(matrix(true, true), true, "compact framed exception");
  });
});
