// The in-band substitution builders (DESIGN.md §5): ByteSink and the Redis, Dubbo and Thrift
// substitutes, byte for byte against the reference libraries. The vectors below are literals copied
// from test/fixtures/substitute-vectors.json, which test/fixtures/make-substitute-vectors.mjs writes:
// Redis from ioredis' Command#toWritable (error/simple lines parsed back with redis-parser), Dubbo
// string bodies from hessian.js 2.11 (the frames for ids 3, 6 and 7 equal protocols.md D3/D9/D10,
// produced with Java dubbo-hessian-lite), Thrift from Apache Thrift Node 0.24 (framed, buffered and
// THeader transports, strict/lax binary and compact; the one flags ≠ 0 THeader vector is the
// library's output with the flags patched in, Node always writing 0). After changing the script,
// re-run it and update the literals (`--check` tells whether the JSON is current).

import { ByteSink } from "../../assembly/policy/byte-sink";
import { writeRedisPing, writeRedisError, writeRedisSimple, writeRedisAuth } from "../../assembly/protocols/redis/substitute";
import { writeDubboHeartbeat, writeDubboErrorResponse, writeHessianString } from "../../assembly/protocols/dubbo/substitute";
import { writeThriftReservedCall, writeThriftAppException, RESERVED_METHOD } from "../../assembly/protocols/thrift/substitute";
import {
  TRANSPORT_FRAMED,
  TRANSPORT_UNFRAMED,
  TRANSPORT_HEADER,
  PROTOCOL_BINARY,
  PROTOCOL_COMPACT,
} from "../../assembly/protocols/thrift/types";
import { hexBytes, expand, hexOf, ascii } from "./helpers";

// ---- vector records -------------------------------------------------------------------------------

class AuthCase {
  name: string = "";
  user: Uint8Array | null = null;
  pass: Uint8Array = new Uint8Array(0);
  want: Uint8Array = new Uint8Array(0);
}

function auth(name: string, user: string | null, passHex: string[], passTimes: i32[], hex: string[], times: i32[]): AuthCase {
  const c = new AuthCase();
  c.name = name;
  c.user = user === null ? null : hexBytes(<string>user);
  c.pass = expand(passHex, passTimes);
  c.want = expand(hex, times);
  return c;
}

class Heartbeat {
  serialization: i32 = 0;
  id: i64 = 0;
  hex: string = "";
}

function heartbeat(serialization: i32, id: i64, hex: string): Heartbeat {
  const h = new Heartbeat();
  h.serialization = serialization;
  h.id = id;
  h.hex = hex;
  return h;
}

class DubboError {
  serialization: i32 = 0;
  id: i64 = 0;
  status: i32 = 0;
  message: string = "";
  hex: string = "";
}

function dubboError(serialization: i32, id: i64, status: i32, message: string, hex: string): DubboError {
  const e = new DubboError();
  e.serialization = serialization;
  e.id = id;
  e.status = status;
  e.message = message;
  e.hex = hex;
  return e;
}

class HString {
  name: string = "";
  text: string = "";
  want: Uint8Array = new Uint8Array(0);
}

function hstring(name: string, pieces: string[], repeat: i32[], hex: string[], times: i32[]): HString {
  const h = new HString();
  h.name = name;
  let t = "";
  for (let i = 0; i < pieces.length; i++) t += pieces[i].repeat(repeat[i]);
  h.text = t;
  h.want = expand(hex, times);
  return h;
}

class ThriftCall {
  transport: i32 = 0;
  protocol: i32 = 0;
  lax: bool = false;
  service: string = "";
  seqId: i32 = 0;
  headerSeqId: i32 = 0;
  headerFlags: i32 = 0;
  hex: string = "";
}

function thriftCall(
  transport: i32,
  protocol: i32,
  lax: bool,
  service: string,
  seqId: i32,
  headerSeqId: i32,
  headerFlags: i32,
  hex: string,
): ThriftCall {
  const c = new ThriftCall();
  c.transport = transport;
  c.protocol = protocol;
  c.lax = lax;
  c.service = service;
  c.seqId = seqId;
  c.headerSeqId = headerSeqId;
  c.headerFlags = headerFlags;
  c.hex = hex;
  return c;
}

class ThriftEx {
  transport: i32 = 0;
  protocol: i32 = 0;
  lax: bool = false;
  method: string = "";
  seqId: i32 = 0;
  headerSeqId: i32 = 0;
  headerFlags: i32 = 0;
  exType: i32 = 0;
  message: string = "";
  hex: string = "";
}

function thriftEx(
  transport: i32,
  protocol: i32,
  lax: bool,
  method: string,
  seqId: i32,
  headerSeqId: i32,
  headerFlags: i32,
  exType: i32,
  message: string,
  hex: string,
): ThriftEx {
  const e = new ThriftEx();
  e.transport = transport;
  e.protocol = protocol;
  e.lax = lax;
  e.method = method;
  e.seqId = seqId;
  e.headerSeqId = headerSeqId;
  e.headerFlags = headerFlags;
  e.exType = exType;
  e.message = message;
  e.hex = hex;
  return e;
}

// ---- vectors (literals from test/fixtures/substitute-vectors.json) --------------------------------

const REDIS_PING = "2a310d0a24340d0a50494e470d0a";
const REDIS_ERRORS: string[][] = [
  ["ERR denied", "2d4552522064656e6965640d0a"],
  ["NOAUTH Authentication required.", "2d4e4f415554482041757468656e7469636174696f6e2072657175697265642e0d0a"],
  ["WRONGPASS invalid username-password pair or user is disabled.", "2d57524f4e475041535320696e76616c696420757365726e616d652d70617373776f72642070616972206f7220757365722069732064697361626c65642e0d0a"],
  ["ERR line\r\nbreak\rand\nmore", "2d455252206c696e652020627265616b20616e64206d6f72650d0a"],
  ["ERR café 中文 😀", "2d45525220636166c3a920e4b8ade6968720f09f98800d0a"],
  ["", "2d0d0a"],
];
const REDIS_SIMPLE: string[][] = [
  ["OK", "2b4f4b0d0a"],
  ["PONG", "2b504f4e470d0a"],
  ["a\r\nb", "2b612020620d0a"],
];
const REDIS_AUTH: AuthCase[] = [
  auth("password only", null, ["733363726574"], [1], ["2a320d0a24340d0a415554480d0a24360d0a7333637265740d0a"], [1]),
  auth("username and password", "616c696365", ["776f6e6465726c616e64"], [1], ["2a330d0a24340d0a415554480d0a24350d0a616c6963650d0a2431300d0a776f6e6465726c616e640d0a"], [1]),
  auth("binary password (NUL, CR, LF, 0xff)", null, ["000d0aff8024"], [1], ["2a320d0a24340d0a415554480d0a24360d0a000d0aff80240d0a"], [1]),
  auth("binary username and empty password", "2a0d0ac3a9", [""], [1], ["2a330d0a24340d0a415554480d0a24350d0a2a0d0ac3a90d0a24300d0a0d0a"], [1]),
  auth("password of 1000 bytes", null, ["70"], [1000], ["2a320d0a24340d0a415554480d0a24313030300d0a", "70", "0d0a"], [1, 1000, 1]),
];
const DUBBO_HEARTBEATS: Heartbeat[] = [
  heartbeat(2, 3, "dabbe2000000000000000003000000014e"),
  heartbeat(2, 1, "dabbe2000000000000000001000000014e"),
  heartbeat(2, -1, "dabbe200ffffffffffffffff000000014e"),
  heartbeat(2, 9223372036854775807, "dabbe2007fffffffffffffff000000014e"),
  heartbeat(2, 72623859790382856, "dabbe2000102030405060708000000014e"),
];
const DUBBO_ERRORS: DubboError[] = [
  dubboError(2, 6, 70, "Fail to invoke service", "dabb0246000000000000000600000017164661696c20746f20696e766f6b652073657276696365"),
  dubboError(2, 7, 100, "Thread pool is EXHAUSTED!", "dabb026400000000000000070000001a1954687265616420706f6f6c2069732045584841555354454421"),
  dubboError(2, 1311768467463790320, 70, "metawire: request denied by policy no-flush", "dabb0246123456789abcdef00000002d302b6d657461776972653a20726571756573742064656e69656420627920706f6c696379206e6f2d666c757368"),
  dubboError(2, -2, 40, "", "dabb0228fffffffffffffffe0000000100"),
  dubboError(2, 9, 70, "拒绝访问 😀", "dabb024600000000000000090000001407e68b92e7bb9de8aebfe997ae20eda0bdedb880"),
];
const HESSIAN_STRINGS: HString[] = [
  hstring("empty", [""], [1], ["00"], [1]),
  hstring("ascii 22", ["Fail to invoke service"], [1], ["164661696c20746f20696e766f6b652073657276696365"], [1]),
  hstring("31 units (last short form)", ["a"], [31], ["1f61616161616161616161616161616161616161616161616161616161616161"], [1]),
  hstring("32 units (first medium form)", ["b"], [32], ["30206262626262626262626262626262626262626262626262626262626262626262"], [1]),
  hstring("é (2-byte UTF-8)", ["é"], [1], ["01c3a9"], [1]),
  hstring("CJK (3-byte UTF-8)", ["拒绝访问"], [1], ["04e68b92e7bb9de8aebfe997ae"], [1]),
  hstring("emoji: 2 units, CESU-8 surrogates", ["hi😀"], [1], ["046869eda0bdedb880"], [1]),
  hstring("emoji ×16 = 32 units (medium form)", ["😀"], [16], ["3020eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880eda0bdedb880"], [1]),
  hstring("1023 units (last medium form)", ["x"], [1023], ["33ff", "78"], [1, 1023]),
  hstring("1024 units (S form)", ["y"], [1024], ["530400", "79"], [1, 1024]),
  hstring("CJK 1500 units (S form, 4500 bytes)", ["中"], [1500], ["5305dc", "e4b8ad"], [1, 1500]),
  hstring("32768 units (largest unchunked)", ["z"], [32768], ["538000", "7a"], [1, 32768]),
  hstring("32769 units (R chunk + short form)", ["z"], [32769], ["528000", "7a", "017a"], [1, 32768, 1]),
  hstring("65535 units (R chunk + S)", ["q"], [65535], ["528000", "71", "537fff", "71"], [1, 32768, 1, 32767]),
  hstring("70000 CJK units (R, R, S)", ["中"], [70000], ["528000", "e4b8ad", "528000", "e4b8ad", "531170", "e4b8ad"], [1, 32768, 1, 32768, 1, 4464]),
  hstring("surrogate pair across the chunk edge (chunk of 32767)", ["a", "😀", "b"], [32767, 1, 40000], ["527fff", "61", "528000eda0bdedb880", "62", "531c42", "62"], [1, 32767, 1, 32766, 1, 7234]),
  hstring("pair ending exactly at the chunk edge (chunk of 32768)", ["a", "😀", "b"], [32766, 1, 100], ["528000", "61", "eda0bdedb8803064", "62"], [1, 32766, 1, 100]),
];
const THRIFT_CALLS: ThriftCall[] = [
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "", 7, 7, 0, "0000001e80010001000000115f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "Calculator", 7, 7, 0, "00000029800100010000001c43616c63756c61746f723a5f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_BINARY, true, "", 7, 7, 0, "0000001b000000115f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_BINARY, true, "Calculator", 7, 7, 0, "000000260000001c43616c63756c61746f723a5f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, "", 7, 7, 0, "00000016822107115f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, "Calculator", 7, 7, 0, "000000218221071c43616c63756c61746f723a5f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, false, "", 7, 7, 0, "80010001000000115f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, false, "Calculator", 7, 7, 0, "800100010000001c43616c63756c61746f723a5f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, true, "", 7, 7, 0, "000000115f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, true, "Calculator", 7, 7, 0, "0000001c43616c63756c61746f723a5f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT, false, "", 7, 7, 0, "822107115f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT, false, "Calculator", 7, 7, 0, "8221071c43616c63756c61746f723a5f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, false, "", 7, 7, 0, "0000002c0fff00000000000700010000000080010001000000115f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, false, "Calculator", 7, 7, 0, "000000370fff000000000007000100000000800100010000001c43616c63756c61746f723a5f5f6d657461776972655f64656e6965640000000700"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, true, "", 7, 7, 0, "000000290fff000000000007000100000000000000115f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, true, "Calculator", 7, 7, 0, "000000340fff0000000000070001000000000000001c43616c63756c61746f723a5f5f6d657461776972655f64656e696564010000000700"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_COMPACT, false, "", 7, 7, 0, "000000240fff000000000007000102000000822107115f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_COMPACT, false, "Calculator", 7, 7, 0, "0000002f0fff0000000000070001020000008221071c43616c63756c61746f723a5f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, "", -1, 0, 0, "0000001a8221ffffffff0f115f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT, false, "Svc", 300, 0, 0, "8221ac02155376633a5f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "", 2147483647, 0, 0, "0000001e80010001000000115f5f6d657461776972655f64656e6965647fffffff00"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, false, "", 5, -1, 0, "0000002c0fff0000ffffffff00010000000080010001000000115f5f6d657461776972655f64656e6965640000000500"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_COMPACT, false, "Calculator", 128, 42, 0, "000000300fff00000000002a000102000000822180011c43616c63756c61746f723a5f5f6d657461776972655f64656e69656400"),
  thriftCall(TRANSPORT_HEADER, PROTOCOL_BINARY, false, "", 11, 11, 1, "0000002c0fff00010000000b00010000000080010001000000115f5f6d657461776972655f64656e6965640000000b00"),
];
const THRIFT_EXCEPTIONS: ThriftEx[] = [
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000003f800100030000000767657455736572000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_BINARY, true, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000003c000000076765745573657203000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000002d8261010767657455736572181d6e6f20726f75746520666f72206d6574686f6420276765745573657227150200"),
  thriftEx(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "800100030000000767657455736572000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, true, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "000000076765745573657203000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "8261010767657455736572181d6e6f20726f75746520666f72206d6574686f6420276765745573657227150200"),
  thriftEx(TRANSPORT_HEADER, PROTOCOL_BINARY, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000004d0fff000000000001000100000000800100030000000767657455736572000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_HEADER, PROTOCOL_BINARY, true, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000004a0fff000000000001000100000000000000076765745573657203000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100"),
  thriftEx(TRANSPORT_HEADER, PROTOCOL_COMPACT, false, "getUser", 1, 1, 0, 1, "no route for method 'getUser'", "0000003b0fff0000000000010001020000008261010767657455736572181d6e6f20726f75746520666f72206d6574686f6420276765745573657227150200"),
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, "foo", 9, 0, 0, 1, "unknown method foo", "0000001e82610903666f6f1812756e6b6e6f776e206d6574686f6420666f6f150200"),
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "foo", 9, 0, 0, 1, "unknown method foo", "000000308001000300000003666f6f000000090b000100000012756e6b6e6f776e206d6574686f6420666f6f0800020000000100"),
  thriftEx(TRANSPORT_UNFRAMED, PROTOCOL_COMPACT, false, "add", -1, 0, 0, 6, "denied: 拒绝 😀", "8261ffffffff0f03616464181364656e6965643a20e68b92e7bb9d20f09f9880150c00"),
  thriftEx(TRANSPORT_FRAMED, PROTOCOL_BINARY, false, "", 0, 0, 0, 0, "", "0000001b8001000300000000000000000b0001000000000800020000000000"),
  thriftEx(TRANSPORT_HEADER, PROTOCOL_COMPACT, false, "get", 300, 300, 0, -3, "negative type", "000000280fff00000000012c0001020000008261ac0203676574180d6e656761746976652074797065150500"),
  thriftEx(TRANSPORT_UNFRAMED, PROTOCOL_BINARY, true, "ping", 65536, 0, 0, 10, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "0000000470696e6703000100000b0001000000c878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878780800020000000a00"),
];

// ---- helpers ----------------------------------------------------------------------------------------

/** Sink bytes [from, length) as hex. */
function sinkHex(out: ByteSink, from: i32 = 0): string {
  return hexOf(out.ptr + <usize>from, out.length - from);
}

/** Index of the first byte where [ptr, ptr+len) and want differ, or -1 when they are equal. */
function firstDiff(ptr: usize, len: i32, want: Uint8Array): i32 {
  const n = len < want.length ? len : want.length;
  for (let i = 0; i < n; i++) if (load<u8>(ptr + <usize>i) != want[i]) return i;
  return len == want.length ? -1 : n;
}

/** Big-endian hex of v (8 digits). */
function u32Hex(v: u32): string {
  const digits = "0123456789abcdef";
  let s = "";
  for (let i = 28; i >= 0; i -= 4) s += digits.charAt(<i32>((v >> <u32>i) & 15));
  return s;
}

/** UTF-8 bytes of an AS string (test side). */
function utf8Bytes(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

const PRELUDE = "0102030405"; // bytes already in the sink: builders append and patch relative offsets

// ---- ByteSink ---------------------------------------------------------------------------------------

describe("ByteSink", () => {
  it("writes integers big-endian and keeps only the low bits of u8/u16", () => {
    const out = new ByteSink();
    out.u8(0x1ff);
    out.u16(0x12345);
    out.u32(0xdeadbeef);
    out.i64(-2);
    out.i64(0x0102030405060708);
    expect(out.length).toBe(1 + 2 + 4 + 8 + 8);
    expect(sinkHex(out)).toBe("ff" + "2345" + "deadbeef" + "fffffffffffffffe" + "0102030405060708");
  });

  it("writes unsigned LEB128 varints", () => {
    const out = new ByteSink();
    const values: u64[] = [0, 1, 127, 128, 300, 16383, 16384, 0xffffffff, 0xffffffffffffffff];
    const hex: string[] = ["00", "01", "7f", "8001", "ac02", "ff7f", "808001", "ffffffff0f", "ffffffffffffffffff01"];
    for (let i = 0; i < values.length; i++) {
      out.reset();
      out.varint(values[i]);
      expect(sinkHex(out)).toBe(hex[i], "varint " + values[i].toString());
    }
  });

  it("writes ASCII decimals", () => {
    const out = new ByteSink();
    const values: i64[] = [0, 7, 10, 99, 1000, -1, 9223372036854775807, i64.MIN_VALUE];
    const text: string[] = ["0", "7", "10", "99", "1000", "-1", "9223372036854775807", "-9223372036854775808"];
    for (let i = 0; i < values.length; i++) {
      out.reset();
      out.decimal(values[i]);
      expect(sinkHex(out)).toBe(hexOf(ascii(text[i]).dataStart, text[i].length), text[i]);
    }
  });

  it("writes UTF-8, a lone surrogate as U+FFFD", () => {
    const out = new ByteSink();
    out.utf8("aé中😀");
    expect(sinkHex(out)).toBe("61" + "c3a9" + "e4b8ad" + "f09f9880");
    out.reset();
    out.utf8(String.fromCharCode(0xd800) + "x" + String.fromCharCode(0xdc00));
    expect(sinkHex(out)).toBe("efbfbd" + "78" + "efbfbd");
    out.reset();
    out.utf8("");
    expect(out.length).toBe(0);
  });

  it("copies raw bytes; a zero or negative length writes nothing", () => {
    const out = new ByteSink();
    const b = hexBytes("00ff0d0a");
    out.bytes(b.dataStart, b.length);
    out.bytes(b.dataStart, 0);
    out.bytes(b.dataStart, -3);
    expect(sinkHex(out)).toBe("00ff0d0a");
  });

  it("backpatches u32 and u16 at an offset", () => {
    const out = new ByteSink();
    out.u8(0xaa);
    out.u32(0);
    out.u16(0);
    out.u8(0xbb);
    out.setU32At(1, 0x01020304);
    out.setU16At(5, 0xfffe);
    expect(sinkHex(out)).toBe("aa" + "01020304" + "fffe" + "bb");
    out.setU32At(3, 0xcafebabe); // overlapping, last four bytes before the tail
    expect(sinkHex(out)).toBe("aa0102" + "cafebabe" + "bb");
  });

  it("grows by doubling across 1 MiB, keeps every byte, and never grows again once warm", () => {
    const out = new ByteSink(16);
    const chunk = new Uint8Array(1000);
    for (let i = 0; i < chunk.length; i++) chunk[i] = <u8>(i * 7);
    const total = (1 << 20) + 4567;
    let written = 0;
    let k = 0;
    while (written < total) {
      // mix every writer so growth happens inside each of them
      if ((k & 3) == 0) {
        out.bytes(chunk.dataStart, chunk.length);
        written += chunk.length;
      } else if ((k & 3) == 1) {
        out.u32(<u32>written);
        written += 4;
      } else if ((k & 3) == 2) {
        out.i64(<i64>written);
        written += 8;
      } else {
        out.u8(<u32>written);
        written += 1;
      }
      k++;
    }
    expect(out.length).toBe(written);
    const cap = out.capacity;
    expect(cap >= written).toBe(true);
    expect(cap & (cap - 1)).toBe(0, "16 doubled is a power of two");
    expect(cap < 2 * written).toBe(true, "grew by doubling only as far as needed");
    // the content survived every copy
    let p = out.ptr;
    written = 0;
    let bad = 0;
    for (let j = 0; j < k; j++) {
      if ((j & 3) == 0) {
        if (firstDiff(p, chunk.length, chunk) != -1) bad++;
        p += <usize>chunk.length;
        written += chunk.length;
      } else if ((j & 3) == 1) {
        if (bswap<u32>(load<u32>(p)) != <u32>written) bad++;
        p += 4;
        written += 4;
      } else if ((j & 3) == 2) {
        if (<i64>bswap<u64>(load<u64>(p)) != <i64>written) bad++;
        p += 8;
        written += 8;
      } else {
        if (load<u8>(p) != <u8>written) bad++;
        p += 1;
        written += 1;
      }
    }
    expect(bad).toBe(0, "bytes intact after growth");
    // warm: the same amount again reuses the same storage
    const ptr = out.ptr;
    out.reset();
    expect(out.length).toBe(0);
    for (let j = 0; j < written / chunk.length; j++) out.bytes(chunk.dataStart, chunk.length);
    expect(out.capacity).toBe(cap, "no growth once warm");
    expect(out.ptr).toBe(ptr, "same storage once warm");
  });

  it("toBytes is a copy", () => {
    const out = new ByteSink();
    out.u16(0x0102);
    const b = out.toBytes();
    b[0] = 9;
    expect(sinkHex(out)).toBe("0102");
    expect(b.length).toBe(2);
  });
});

// ---- Redis ------------------------------------------------------------------------------------------

describe("Redis substitutes (ioredis / redis-parser vectors)", () => {
  it("PING in the multibulk form", () => {
    const out = new ByteSink();
    writeRedisPing(out);
    expect(sinkHex(out)).toBe(REDIS_PING);
    expect(REDIS_PING).toBe(hexOf(ascii("*1\r\n$4\r\nPING\r\n").dataStart, 14));
  });

  it("error lines, CR and LF turned into spaces", () => {
    const out = new ByteSink();
    for (let i = 0; i < REDIS_ERRORS.length; i++) {
      out.reset();
      writeRedisError(out, REDIS_ERRORS[i][0]);
      expect(sinkHex(out)).toBe(REDIS_ERRORS[i][1], REDIS_ERRORS[i][0]);
    }
    out.reset();
    writeRedisError(out, "ERR a\r\n-ERR injected\r\n");
    const line = out.toBytes();
    let crlf = 0;
    for (let i = 0; i + 1 < line.length; i++) if (line[i] == 0x0d && line[i + 1] == 0x0a) crlf++;
    expect(crlf).toBe(1, "one line only");
    expect(sinkHex(out)).toBe(hexOf(ascii("-ERR a  -ERR injected  \r\n").dataStart, line.length));
  });

  it("simple strings, same CR/LF rule", () => {
    const out = new ByteSink();
    for (let i = 0; i < REDIS_SIMPLE.length; i++) {
      out.reset();
      writeRedisSimple(out, REDIS_SIMPLE[i][0]);
      expect(sinkHex(out)).toBe(REDIS_SIMPLE[i][1], REDIS_SIMPLE[i][0]);
    }
  });

  it("AUTH with and without a username, binary safe", () => {
    const out = new ByteSink();
    for (let i = 0; i < REDIS_AUTH.length; i++) {
      const c = REDIS_AUTH[i];
      out.reset();
      writeRedisAuth(out, c.user, c.pass);
      expect(out.length).toBe(c.want.length, c.name + ": length");
      expect(firstDiff(out.ptr, out.length, c.want)).toBe(-1, c.name);
    }
  });

  it("appends after what the sink holds", () => {
    const out = new ByteSink();
    const pre = hexBytes(PRELUDE);
    out.bytes(pre.dataStart, pre.length);
    writeRedisPing(out);
    writeRedisError(out, REDIS_ERRORS[0][0]);
    expect(sinkHex(out)).toBe(PRELUDE + REDIS_PING + REDIS_ERRORS[0][1]);
  });
});

// ---- Dubbo ------------------------------------------------------------------------------------------

describe("Dubbo substitutes (hessian.js / hessian-lite vectors)", () => {
  it("heartbeat requests", () => {
    const out = new ByteSink();
    for (let i = 0; i < DUBBO_HEARTBEATS.length; i++) {
      const h = DUBBO_HEARTBEATS[i];
      out.reset();
      writeDubboHeartbeat(out, h.serialization, h.id);
      expect(sinkHex(out)).toBe(h.hex, "id " + h.id.toString());
    }
  });

  it("error responses: status byte and one Hessian string", () => {
    const out = new ByteSink();
    for (let i = 0; i < DUBBO_ERRORS.length; i++) {
      const e = DUBBO_ERRORS[i];
      out.reset();
      writeDubboErrorResponse(out, e.serialization, e.id, e.status, e.message);
      expect(sinkHex(out)).toBe(e.hex, e.message);
    }
  });

  it("Hessian strings: short, medium, S, R chunks, CESU-8 surrogates, chunk edges", () => {
    const out = new ByteSink();
    for (let i = 0; i < HESSIAN_STRINGS.length; i++) {
      const h = HESSIAN_STRINGS[i];
      out.reset();
      writeHessianString(out, h.text);
      expect(out.length).toBe(h.want.length, h.name + ": length");
      expect(firstDiff(out.ptr, out.length, h.want)).toBe(-1, h.name);
    }
  });

  it("long error messages: the header's body length counts the chunked body", () => {
    const out = new ByteSink();
    for (let i = 0; i < HESSIAN_STRINGS.length; i++) {
      const h = HESSIAN_STRINGS[i];
      out.reset();
      const pre = hexBytes(PRELUDE);
      out.bytes(pre.dataStart, pre.length);
      writeDubboErrorResponse(out, 2, 0x0102030405060708, 70, h.text);
      const at = pre.length;
      expect(hexOf(out.ptr + <usize>at, 16)).toBe("dabb0246" + "0102030405060708" + u32Hex(<u32>h.want.length), h.name + ": header");
      expect(out.length - at - 16).toBe(h.want.length, h.name + ": body length");
      expect(firstDiff(out.ptr + <usize>(at + 16), out.length - at - 16, h.want)).toBe(-1, h.name + ": body");
      expect(hexOf(out.ptr, pre.length)).toBe(PRELUDE, h.name + ": prelude untouched");
    }
  });
});

// ---- Thrift -----------------------------------------------------------------------------------------

function transportName(t: i32): string {
  return t == TRANSPORT_FRAMED ? "framed" : t == TRANSPORT_UNFRAMED ? "unframed" : t == TRANSPORT_HEADER ? "header" : "?";
}

function protocolName(p: i32, lax: bool): string {
  return p == PROTOCOL_COMPACT ? "compact" : lax ? "binary lax" : "binary";
}

describe("Thrift substitutes (Apache Thrift Node 0.24 vectors)", () => {
  it("reserved CALL in every transport and protocol, multiplexed prefix kept", () => {
    const out = new ByteSink();
    for (let i = 0; i < THRIFT_CALLS.length; i++) {
      const c = THRIFT_CALLS[i];
      const svc = ascii(c.service);
      out.reset();
      writeThriftReservedCall(out, c.transport, c.protocol, c.lax, svc.dataStart, svc.length, c.seqId, c.headerSeqId, c.headerFlags);
      const label = transportName(c.transport) + " " + protocolName(c.protocol, c.lax) + " '" + c.service + "' seq " + c.seqId.toString();
      expect(sinkHex(out)).toBe(c.hex, label);
    }
  });

  it("TApplicationException in every transport and protocol", () => {
    const out = new ByteSink();
    for (let i = 0; i < THRIFT_EXCEPTIONS.length; i++) {
      const e = THRIFT_EXCEPTIONS[i];
      const m = utf8Bytes(e.method);
      out.reset();
      writeThriftAppException(out, e.transport, e.protocol, e.lax, m.dataStart, m.length, e.seqId, e.headerSeqId, e.headerFlags, e.exType, e.message);
      const label = transportName(e.transport) + " " + protocolName(e.protocol, e.lax) + " '" + e.method + "' seq " + e.seqId.toString();
      expect(sinkHex(out)).toBe(e.hex, label);
    }
  });

  it("matches protocols.md T9, T10 and T21 (Envoy's app_exception layout)", () => {
    const out = new ByteSink();
    const foo = ascii("foo");
    writeThriftAppException(out, TRANSPORT_FRAMED, PROTOCOL_BINARY, false, foo.dataStart, 3, 9, 0, 0, 1, "unknown method foo");
    expect(sinkHex(out)).toBe("000000308001000300000003666f6f000000090b000100000012756e6b6e6f776e206d6574686f6420666f6f0800020000000100");
    out.reset();
    writeThriftAppException(out, TRANSPORT_FRAMED, PROTOCOL_COMPACT, false, foo.dataStart, 3, 9, 0, 0, 1, "unknown method foo");
    expect(sinkHex(out)).toBe("0000001e82610903666f6f1812756e6b6e6f776e206d6574686f6420666f6f150200");
    out.reset();
    const getUser = ascii("getUser");
    writeThriftAppException(out, TRANSPORT_FRAMED, PROTOCOL_BINARY, false, getUser.dataStart, 7, 1, 0, 0, 1, "no route for method 'getUser'");
    expect(sinkHex(out)).toBe("0000003f800100030000000767657455736572000000010b00010000001d6e6f20726f75746520666f72206d6574686f64202767657455736572270800020000000100");
  });

  it("appends after what the sink holds; lengths patched at the frame's own offset", () => {
    const out = new ByteSink();
    const pre = hexBytes(PRELUDE);
    const svc = ascii("Calculator");
    const m = ascii("getUser");
    const transports: i32[] = [TRANSPORT_FRAMED, TRANSPORT_HEADER, TRANSPORT_UNFRAMED];
    for (let t = 0; t < transports.length; t++) {
      out.reset();
      out.bytes(pre.dataStart, pre.length);
      writeThriftReservedCall(out, transports[t], PROTOCOL_COMPACT, false, svc.dataStart, svc.length, 7, 7, 0);
      const mid = out.length;
      writeThriftAppException(out, transports[t], PROTOCOL_BINARY, false, m.dataStart, m.length, 1, 1, 0, 1, "no route for method 'getUser'");
      let wantCall = "";
      let wantEx = "";
      for (let i = 0; i < THRIFT_CALLS.length; i++) {
        const c = THRIFT_CALLS[i];
        if (c.transport == transports[t] && c.protocol == PROTOCOL_COMPACT && c.service == "Calculator" && c.seqId == 7) wantCall = c.hex;
      }
      for (let i = 0; i < THRIFT_EXCEPTIONS.length; i++) {
        const e = THRIFT_EXCEPTIONS[i];
        if (e.transport == transports[t] && e.protocol == PROTOCOL_BINARY && !e.lax && e.method == "getUser") wantEx = e.hex;
      }
      expect(wantCall.length > 0 && wantEx.length > 0).toBe(true, "vectors found");
      expect(hexOf(out.ptr, mid)).toBe(PRELUDE + wantCall, transportName(transports[t]) + " call");
      expect(sinkHex(out, mid)).toBe(wantEx, transportName(transports[t]) + " exception");
    }
  });

  it("names the reserved method", () => {
    expect(RESERVED_METHOD).toBe("__metawire_denied");
  });
});
