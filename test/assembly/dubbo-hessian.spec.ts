// The Hessian 2.0 walker alone (assembly/protocols/dubbo/hessian.ts) on every single-value vector of
// protocols.md §4.2, every Java-generated hessian.js fixture and the §5.2 string/binary/truncation
// cases (test/fixtures/dubbo-vectors.json): the skipper consumes exactly each value's bytes, the
// string reader yields the expected UTF-8 (chunked strings, Java surrogate pairs and genuine 4-byte
// UTF-8 alike), ints read back, truncated values ask for more, bad ones fail with their reason –
// whole, byte by byte and in random splits, with binary payloads skipped instead of fed.

import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { W_MORE, W_DONE, W_FAIL, X_ANY, X_STRING, X_INT, K_STRING, CAP_NONE, CAP_STRING, CAP_STRICT } from "../../assembly/protocols/dubbo/hessian";
import { DescriptorCounter } from "../../assembly/protocols/dubbo/descriptor";
import { CaptureArena } from "../../assembly/protocols/dubbo/capture";
import { HValue, hessianValues, hessianFixtures, hessianInvalid, descriptors } from "./generated/dubbo-vectors";
import { expand, hexBytes, hexOf } from "./helpers";
import { newWalker, walkValues, bigLimits, hexOfBytes } from "./dubbo-helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

function checkValue(v: HValue, mode: i32, seed: u32, useSkip: bool): void {
  const label = v.name + " mode " + mode.toString() + " seed " + seed.toString() + (useSkip ? " skip" : "");
  const data = expand(v.data.hex, v.data.times);
  const w = newWalker(bigLimits());
  const r = walkValues(w, data, mode, new Rng(seed), useSkip, X_ANY, CAP_STRING);
  expect(r.violations).toBe(0, label + ": driver invariants");
  if (v.incomplete) {
    expect(r.status).toBe(W_MORE, label + ": asks for more");
    expect(r.values).toBe(0, label + ": no value");
    expect(r.consumed).toBe(data.length, label + ": takes every byte");
    return;
  }
  expect(r.reason).toBe("", label + ": no failure");
  expect(r.status).toBe(W_DONE, label + ": complete");
  expect(r.values).toBe(v.count, label + ": values");
  expect(r.consumed).toBe(data.length, label + ": consumes exactly its bytes");
  expect(r.firstKind).toBe(v.kind, label + ": kind");
  if (v.checkInt) expect(r.firstInt).toBe(v.int, label + ": int value");
  if (v.checkString) {
    expect(r.firstString).toBe(hexOfBytes(expand(v.str.hex, v.str.times)), label + ": string value");
    expect(r.firstOver).toBe(false, label + ": not cut");
  }
}

function allModes(vs: HValue[]): void {
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i];
    const big = expand(v.data.hex, v.data.times).length > 4096;
    checkValue(v, WHOLE, 1, false);
    checkValue(v, WHOLE, 2, true);
    if (!big) checkValue(v, BYTEWISE, 1, false);
    const seeds: u32 = big ? 2 : 6;
    for (let seed: u32 = 1; seed <= seeds; seed++) {
      checkValue(v, RANDOM, seed * 31 + <u32>i, false);
      checkValue(v, RANDOM, seed * 977 + <u32>i, true);
    }
  }
}

describe("Hessian single values (§4.2) and §5.2 string/binary/truncation cases", () => {
  it("are walked exactly, read back, in every split", () => {
    allModes(hessianValues());
  });

  it("the fixture carries every §4.2 single-value vector", () => {
    const vs = hessianValues();
    let n = 0;
    for (let i = 0; i < vs.length; i++) if (!vs[i].name.startsWith("truncated ")) n++;
    expect(n).toBeGreaterThanOrEqual(37 + 40);
  });
});

describe("hessian.js Java-generated fixtures", () => {
  it("are walked exactly, read back, in every split", () => {
    allModes(hessianFixtures());
  });

  it("the fixture carries all 50", () => {
    expect(hessianFixtures().length).toBe(50);
  });
});

describe("invalid Hessian values", () => {
  it("fail with their reason, whole and byte by byte", () => {
    const vs = hessianInvalid();
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      const data = hexBytes(v.hex);
      for (let mode = WHOLE; mode <= BYTEWISE; mode++) {
        const r = walkValues(newWalker(new DubboLimits()), data, mode, new Rng(1), false, X_ANY, CAP_NONE);
        expect(r.status).toBe(W_FAIL, v.name);
        expect(r.reason).toBe(v.reason, v.name);
        expect(r.consumed).toBeLessThanOrEqual(data.length, v.name);
      }
    }
  });

  it("a top-level expectation rejects other kinds at the first byte", () => {
    const w = newWalker(new DubboLimits());
    let r = walkValues(w, hexBytes("90"), WHOLE, new Rng(1), false, X_STRING, CAP_STRICT);
    expect(r.reason).toBe("hessian: expected a string");
    expect(r.consumed).toBe(1);
    r = walkValues(w, hexBytes("4e"), WHOLE, new Rng(1), false, X_STRING, CAP_STRICT);
    expect(r.status).toBe(W_DONE);
    r = walkValues(w, hexBytes("0161"), WHOLE, new Rng(1), false, X_INT, CAP_NONE);
    expect(r.reason).toBe("hessian: expected an int");
    r = walkValues(w, hexBytes("4300"), WHOLE, new Rng(1), false, X_STRING, CAP_NONE);
    expect(r.reason).toBe("hessian: expected a string");
    r = walkValues(w, hexBytes("f810"), WHOLE, new Rng(1), false, X_INT, CAP_NONE);
    expect(r.firstInt).toBe(16);
  });
});

describe("string capture bounds", () => {
  it("a string over maxStringBytes is cut at a code point (CAP_STRING) or fails early (CAP_STRICT)", () => {
    const l = new DubboLimits();
    l.maxStringBytes = 5;
    // "ab中文xyz" = 2 + 3 + 3 + 3 bytes: the cut keeps "ab中" (5 bytes), never half of "文"
    const data = hexBytes("07" + "6162" + "e4b8ad" + "e69687" + "78797a");
    let r = walkValues(newWalker(l), data, WHOLE, new Rng(1), false, X_ANY, CAP_STRING);
    expect(r.status).toBe(W_DONE);
    expect(r.firstString).toBe("6162e4b8ad");
    expect(r.firstOver).toBe(true);
    r = walkValues(newWalker(l), data, BYTEWISE, new Rng(1), false, X_ANY, CAP_STRICT);
    expect(r.status).toBe(W_FAIL);
    expect(r.reason).toBe("hessian: string exceeds maxStringBytes");
    expect(r.consumed).toBeLessThan(data.length); // does not read the rest
    l.maxStringBytes = 11;
    r = walkValues(newWalker(l), data, WHOLE, new Rng(1), false, X_ANY, CAP_STRICT);
    expect(r.status).toBe(W_DONE);
    expect(r.firstString).toBe("6162e4b8ade6968778797a");
  });

  it("the arena grows on demand up to maxCaptureBytes and no further", () => {
    const block = new StaticArray<u8>(<i32>CaptureArena.bytes());
    const owner = CaptureArena.place(changetype<usize>(block), 2000);
    const a = changetype<CaptureArena>(changetype<usize>(block));
    const off = a.begin(1 << 20);
    for (let i = 0; i < 1999; i++) a.cp(0x41);
    a.cp(0x20ac); // 3 bytes: does not fit the last byte
    expect(a.end()).toBe(1999);
    expect(a.over).toBe(true);
    expect(load<u8>(a.ptr(off) + 1998)).toBe(0x41);
    a.clear();
    expect(a.begin(10)).toBe(0);
    expect(owner.buf.length).toBe(2000); // grew 512 → 1024 → 2000 (capped), never past max
  });

  it("surrogates: pairs join, lone halves become U+FFFD, also across begin/end", () => {
    const block = new StaticArray<u8>(<i32>CaptureArena.bytes());
    const owner = CaptureArena.place(changetype<usize>(block), 64);
    const a = changetype<CaptureArena>(changetype<usize>(block));
    let off = a.begin(64);
    a.cp(0xd83d);
    a.cp(0xde00);
    a.cp(0xdc00); // lone low
    a.cp(0xd800); // high, then end
    const len = a.end();
    expect(hexOf(a.ptr(off), len)).toBe("f09f9880" + "efbfbd" + "efbfbd");
    off = a.begin(64);
    a.cp(0xd800);
    a.cp(0x41); // high followed by a BMP char
    expect(hexOf(a.ptr(off), a.end())).toBe("efbfbd41");
    expect(owner.buf.length).toBe(64);
  });
});

describe("parameter descriptors (Envoy getParametersNumber)", () => {
  it("count as Envoy does", () => {
    const ds = descriptors();
    for (let i = 0; i < ds.length; i++) {
      const block = new StaticArray<u8>(16);
      const c = changetype<DescriptorCounter>(changetype<usize>(block));
      const s = ds[i].desc;
      for (let k = 0; k < s.length; k++) c.char(s.charCodeAt(k));
      expect(c.count).toBe(ds[i].count, s);
    }
  });

  it("count while the descriptor streams through the walker", () => {
    const w = newWalker(new DubboLimits());
    const data = hexBytes("0b" + "5b4c613b4c623b4a5a5b49"); // "[La;Lb;JZ[I" → 5
    w.resetBody();
    w.begin(X_STRING, CAP_STRICT, true);
    for (let i = 0; i < data.length; i++) w.feed(data.dataStart + <usize>i, 1);
    expect(w.status()).toBe(W_DONE);
    expect(w.kind()).toBe(K_STRING);
    expect(w.descriptorCount()).toBe(5);
    // and again in one window (the ASCII run path)
    w.resetBody();
    w.begin(X_STRING, CAP_STRICT, true);
    expect(w.feed(data.dataStart, data.length)).toBe(data.length);
    expect(w.descriptorCount()).toBe(5);
  });
});
