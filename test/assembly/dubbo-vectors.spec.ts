// Every Dubbo frame and error vector of protocols.md §4.2 and every §5.2/§5.4 edge case (carried in
// test/fixtures/dubbo-vectors.json): the decoder reports the same messages, metadata, body errors
// and stream errors whether fed whole, byte by byte or in random splits (several seeds, with and
// without skipping what skippable() allows, and skipping all of it whenever it is offered).

import { DubboDecoder } from "../../assembly/protocols/dubbo/message-decoder";
import { DubboLimits } from "../../assembly/protocols/dubbo/limits";
import { DVector, frames, errorVectors, edgeCases } from "./generated/dubbo-vectors";
import { hexBytes } from "./helpers";
import { runVector, runDubbo, vectorBytes } from "./dubbo-helpers";
import { Rng, WHOLE, BYTEWISE, RANDOM } from "./drive";

function allModes(vs: DVector[]): void {
  for (let i = 0; i < vs.length; i++) {
    runVector(vs[i], WHOLE, 1, false);
    runVector(vs[i], WHOLE, 1, true, true); // skip() whenever skippable() > 0
    runVector(vs[i], BYTEWISE, 1, false);
    runVector(vs[i], BYTEWISE, 2, true, true);
    for (let seed: u32 = 1; seed <= 6; seed++) {
      runVector(vs[i], RANDOM, seed * 7919 + <u32>i, false);
      runVector(vs[i], RANDOM, seed * 104729 + <u32>i, true);
      runVector(vs[i], RANDOM, seed * 15485863 + <u32>i, true, true);
    }
  }
}

describe("Dubbo §4.2 frames D1–D16", () => {
  it("decode whole, byte by byte and in random splits, with and without skip", () => {
    allModes(frames());
  });

  it("the fixture carries every §4.2 frame", () => {
    const vs = frames();
    for (let n = 1; n <= 16; n++) {
      let found = false;
      const tag = "D" + n.toString() + " ";
      for (let i = 0; i < vs.length; i++) if (vs[i].name.startsWith(tag)) found = true;
      expect(found).toBe(true, tag);
    }
  });

  it("D1 split after byte 10, 16 and 60 reports nothing until complete, then the same metadata", () => {
    const vs = frames();
    const d1 = vectorBytes(vs[0]);
    const cuts: i32[] = [10, 16, 60];
    for (let k = 0; k < cuts.length; k++) {
      const d = new DubboDecoder(new DubboLimits());
      const cut = cuts[k];
      expect(d.feed(d1.dataStart, cut)).toBe(cut);
      expect(d.event).toBe(0, "nothing before the end");
      expect(d.feed(d1.dataStart + <usize>cut, d1.length - cut)).toBe(d1.length - cut);
      expect(d.event).toBe(1);
      expect(d.methodLen()).toBe(8);
      expect(d.groupLen()).toBe(2);
    }
  });

  it("metadata is readable as soon as the descriptor is read, before the frame ends", () => {
    const d1 = vectorBytes(frames()[0]);
    const d = new DubboDecoder(new DubboLimits());
    d.feed(d1.dataStart, 91); // through the descriptor, before the argument and attachments
    expect(d.event).toBe(0);
    expect(d.metadataReady()).toBe(true);
    expect(d.methodLen()).toBe(8);
    expect(d.serviceLen()).toBe(33);
    expect(d.attachmentCount()).toBe(0);
  });
});

describe("Dubbo §4.2 error vectors DE1–DE20", () => {
  it("decode whole, byte by byte and in random splits, with and without skip", () => {
    allModes(errorVectors());
  });

  it("the fixture carries every error vector", () => {
    const vs = errorVectors();
    for (let n = 1; n <= 20; n++) {
      let found = false;
      const tag = "DE" + n.toString() + " ";
      for (let i = 0; i < vs.length; i++) if (vs[i].name.startsWith(tag)) found = true;
      expect(found).toBe(true, tag);
    }
  });

  it("an error is sticky until reset(), and reset() starts a new stream", () => {
    const d = new DubboDecoder(new DubboLimits());
    const bad = hexBytes("00000000");
    expect(d.feed(bad.dataStart, bad.length)).toBe(1);
    expect(d.event).toBe(2);
    const d3 = hexBytes("dabbe2000000000000000003000000014e");
    expect(d.feed(d3.dataStart, d3.length)).toBe(0);
    expect(d.event).toBe(2);
    d.skip(1);
    expect(d.event).toBe(2);
    d.reset();
    expect(d.errorReason()).toBe("");
    expect(d.feed(d3.dataStart, d3.length)).toBe(d3.length);
    expect(d.event).toBe(1);
    expect(d.isHeartbeat()).toBe(true);
    expect(d.start()).toBe(0);
  });
});

describe("Dubbo §5.2 / §5.4 edge cases", () => {
  it("decode whole, byte by byte and in random splits, with and without skip", () => {
    allModes(edgeCases());
  });

  it("every vector again, concatenated into one stream per direction", () => {
    // frames that end cleanly (no stream error, not incomplete), all requests then all responses
    const groups: DVector[][] = [frames(), errorVectors(), edgeCases()];
    for (let dir = 0; dir < 2; dir++) {
      let total = 0;
      const parts: Uint8Array[] = [];
      let expected = 0;
      for (let g = 0; g < groups.length; g++) {
        const vs = groups[g];
        for (let i = 0; i < vs.length; i++) {
          const v = vs[i];
          if (v.isRequest != (dir == 0) || v.error.length > 0 || v.incomplete || v.messages.length == 0) continue;
          const b = vectorBytes(v);
          parts.push(b);
          total += b.length;
          expected += v.messages.length;
        }
      }
      const all = new Uint8Array(total);
      let off = 0;
      for (let k = 0; k < parts.length; k++) {
        all.set(parts[k], off);
        off += parts[k].length;
      }
      for (let seed: u32 = 1; seed <= 3; seed++) {
        const run = runDubbo(new DubboDecoder(new DubboLimits()), all, RANDOM, new Rng(seed), seed != 1);
        expect(run.violations).toBe(0);
        expect(run.error).toBe("");
        expect(run.msgs.length).toBe(expected);
        expect(run.boundary).toBe(true);
      }
    }
  });
});
