// Every Thrift vector of protocols.md §4.1 (carried in test/fixtures/thrift-vectors.json) and every
// edge case (E1–E24, §5.1, §5.4, §1.9 limits, THeader connections mixing THeader frames with bare and
// framed messages as Apache's Node server sends them): transport, protocol, name/service/method,
// seqid, type, THeader headers, reply status, message offsets or the error – fed whole, byte by byte
// and in random splits (several seeds, with and without skipping), always with identical results.

import { ThriftDecoder } from "../../assembly/protocols/thrift/message-decoder";
import { EV_MESSAGE, EV_NEED_MORE } from "../../assembly/protocols/codec";
import { TCase, vectors, edgeCases } from "./generated/thrift-vectors";
import { hexBytes, expand } from "./helpers";
import { checkCase, makeLimits, runThrift } from "./thrift-helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

function all(cs: TCase[], mode: i32, seeds: u32, skip: bool, always: bool = false): void {
  for (let seed: u32 = 1; seed <= seeds; seed++) {
    for (let i = 0; i < cs.length; i++) checkCase(cs[i], mode, seed * 7919 + <u32>i, skip, always);
  }
}

/** Bytes skipped when every skippable run is skipped, fed byte by byte otherwise. */
function skippedBytes(c: TCase): i64 {
  const d = new ThriftDecoder(makeLimits(c.limits));
  return runThrift(d, expand(c.data.hex, c.data.times), BYTEWISE, new Rng(1), true, null, true, true).skipped;
}

describe("Thrift §4.1 vectors", () => {
  it("the fixture carries every §4.1 vector (T1–T24 and T9b)", () => {
    expect(vectors().length).toBe(25);
  });
  it("decode when fed whole", () => {
    all(vectors(), WHOLE, 1, false);
  });
  it("decode when fed byte by byte", () => {
    all(vectors(), BYTEWISE, 1, false);
  });
  it("decode in random splits (12 seeds)", () => {
    all(vectors(), RANDOM, 12, false);
  });
  it("decode in random splits, skipping some skippable bytes (12 seeds)", () => {
    all(vectors(), BYTEWISE, 1, true);
    all(vectors(), RANDOM, 12, true);
  });
  it("decode with skip() used whenever skippable() > 0 (byte by byte and 12 random seeds)", () => {
    all(vectors(), BYTEWISE, 1, true, true);
    all(vectors(), RANDOM, 12, true, true);
  });
  it("framed bodies and long strings are skippable: T1 skips its args, T9 its message string", () => {
    const vs = vectors();
    let checked = 0;
    for (let i = 0; i < vs.length; i++) {
      const n = vs[i].name;
      if (n.startsWith("T1 ")) {
        expect(skippedBytes(vs[i])).toBe(11); // 12 bytes of args, the last one fed
        checked++;
      } else if (n.startsWith("T9 ")) {
        expect(skippedBytes(vs[i])).toBe(17); // "unknown method foo" but its last byte
        checked++;
      }
    }
    expect(checked).toBe(2);
  });
});

describe("Thrift edge cases (E1–E24, §5.1, §5.4, limits, mixed THeader streams)", () => {
  it("decode when fed whole", () => {
    all(edgeCases(), WHOLE, 1, false);
  });
  it("decode when fed byte by byte", () => {
    all(edgeCases(), BYTEWISE, 1, false);
  });
  it("decode in random splits (8 seeds, with and without skip)", () => {
    all(edgeCases(), RANDOM, 8, false);
    all(edgeCases(), RANDOM, 8, true);
    all(edgeCases(), RANDOM, 4, true, true);
    all(edgeCases(), BYTEWISE, 1, true, true);
  });
  it("E24: T1 in three reads reports nothing until the last", () => {
    const cs = edgeCases();
    let found = 0;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i];
      if (c.writes.length == 0) continue;
      found++;
      const d = new ThriftDecoder(makeLimits(c.limits));
      let messages = 0;
      for (let w = 0; w < c.writes.length; w++) {
        const b = hexBytes(c.writes[w]);
        const n = d.feed(b.dataStart, b.length);
        expect(n).toBe(b.length, c.name + " write " + w.toString() + " consumed");
        if (d.event == EV_MESSAGE) messages++;
        else expect(d.event).toBe(EV_NEED_MORE);
        expect(messages).toBe(w == c.writes.length - 1 ? 1 : 0, c.name + " write " + w.toString());
      }
    }
    expect(found).toBeGreaterThan(0);
  });
});
