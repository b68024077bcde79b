// Pins the wire format of the set_envoy_filter_state / declare_property arguments (§3.5) and
// the C++-parser behaviour the host relies on to answer BadArgument.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LifeSpan, ProtoWriter, ProtobufError, WasmType, decodeDeclarePropertyArguments,
  decodeSetEnvoyFilterStateArguments, encodeDeclarePropertyArguments, encodeSetEnvoyFilterStateArguments,
} from "../host/protobuf.js";

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

test("SetEnvoyFilterStateArguments has the exact wire bytes protoc would produce", () => {
  const bytes = encodeSetEnvoyFilterStateArguments({ path: "envoy.tcp_proxy.cluster", value: "svc_a", span: LifeSpan.DownstreamConnection });
  assert.deepEqual([...bytes], [0x0a, 23, ...ascii("envoy.tcp_proxy.cluster"), 0x12, 5, ...ascii("svc_a"), 0x18, 2]);
  assert.deepEqual(decodeSetEnvoyFilterStateArguments(bytes), { path: "envoy.tcp_proxy.cluster", value: "svc_a", span: 2 });
});

test("DeclarePropertyArguments round-trips, defaults stay off the wire", () => {
  const args = { name: "route", readonly: true, type: WasmType.Protobuf, schema: Uint8Array.from([0, 0xff, 7]), span: LifeSpan.DownstreamRequest };
  const bytes = encodeDeclarePropertyArguments(args);
  assert.deepEqual([...bytes], [0x0a, 5, ...ascii("route"), 0x10, 1, 0x18, 3, 0x22, 3, 0, 0xff, 7, 0x28, 1]);
  assert.deepEqual(decodeDeclarePropertyArguments(bytes), args);
  assert.equal(encodeDeclarePropertyArguments({ name: "", readonly: false, type: 0, span: 0 }).length, 0);
  assert.deepEqual(decodeDeclarePropertyArguments(new Uint8Array(0)),
    { name: "", readonly: false, type: WasmType.Bytes, schema: new Uint8Array(0), span: LifeSpan.FilterChain });
  assert.deepEqual(decodeSetEnvoyFilterStateArguments(new Uint8Array(0)), { path: "", value: "", span: 0 });
});

test("unknown fields of every wire type are skipped, groups whole", () => {
  const w = new ProtoWriter()
    .varint(99, 123456789n).string(1, "p")
    .fixed64(100, 1n).fixed32(101, 7).bytes(102, Uint8Array.from([1, 2, 3]))
    .string(2, "v").varint(536870911, 1);
  const groupStart = [0xa3, 0x06], groupEnd = [0xa4, 0x06];            // field 100, wire types 3 and 4
  const inner = [0xab, 0x06, 0x08, 0x01, 0xac, 0x06];                  // nested group 101 holding field 1 = 1
  const bytes = Uint8Array.from([...w.finish(), ...groupStart, ...inner, 0x08, 0x05, ...groupEnd, 0x18, 1]);
  assert.deepEqual(decodeSetEnvoyFilterStateArguments(bytes), { path: "p", value: "v", span: 1 });
});

test("a known field number with another wire type is treated as unknown", () => {
  const bytes = new ProtoWriter().string(1, "real").varint(1, 5).bytes(3, Uint8Array.from([9])).finish();
  assert.deepEqual(decodeSetEnvoyFilterStateArguments(bytes), { path: "real", value: "", span: 0 });
});

test("the last occurrence of a field wins", () => {
  const bytes = new ProtoWriter().string(1, "first").varint(3, 1).string(1, "second").varint(3, 2).finish();
  assert.deepEqual(decodeSetEnvoyFilterStateArguments(bytes), { path: "second", value: "", span: 2 });
});

test("enums are open int32 and bools are any non-zero varint", () => {
  const bytes = new ProtoWriter().varint(2, 2).varint(3, -1).varint(5, 7).finish();
  assert.equal(bytes.length, 2 + 11 + 2);   // a negative enum takes a 10-byte varint
  const args = decodeDeclarePropertyArguments(bytes);
  assert.equal(args.readonly, true);
  assert.equal(args.type, -1);
  assert.equal(args.span, 7);
  assert.equal(decodeSetEnvoyFilterStateArguments(new ProtoWriter().varint(3, (1n << 32n) + 2n).finish()).span, 2);
});

test("malformed input throws ProtobufError", () => {
  const cases: [string, number[]][] = [
    ["truncated varint", [0x18, 0x80]],
    ["length past end", [0x0a, 5, 0x61]],
    ["wire type 6", [0x0e]],
    ["wire type 7", [0x0f]],
    ["field number 0", [0x00, 0x01]],
    ["unterminated group", [0xa3, 0x06, 0x08, 0x01]],
    ["mismatched end group", [0xa3, 0x06, 0xac, 0x06]],
    ["stray end group", [0x0c]],
    ["varint over 10 bytes", [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ["tag over 32 bits", [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ["invalid UTF-8 in a string", [0x0a, 2, 0xc3, 0x28]],
    ["truncated fixed64", [0x09, 1, 2, 3]],
    ["truncated fixed32", [0x0d, 1]],
  ];
  for (const [what, raw] of cases) {
    assert.throws(() => decodeSetEnvoyFilterStateArguments(Uint8Array.from(raw)), ProtobufError, what);
  }
  // bytes fields carry anything
  assert.deepEqual([...decodeDeclarePropertyArguments(Uint8Array.from([0x22, 2, 0xc3, 0x28])).schema], [0xc3, 0x28]);
  assert.throws(() => decodeDeclarePropertyArguments(Uint8Array.from([0x0a, 1, 0xff])), ProtobufError);
});

test("property: encode then decode is the identity", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme" }), fc.string(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    (path, value, span) => {
      const args = { path, value, span };
      assert.deepEqual(decodeSetEnvoyFilterStateArguments(encodeSetEnvoyFilterStateArguments(args)), args);
    }));
  fc.assert(fc.property(fc.string(), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.uint8Array(), fc.integer({ min: 0, max: 2 }),
    (name, readonly, type, schema, span) => {
      const args = { name, readonly, type, schema, span };
      assert.deepEqual(decodeDeclarePropertyArguments(encodeDeclarePropertyArguments(args)), args);
    }));
});
