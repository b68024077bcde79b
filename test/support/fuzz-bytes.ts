// Byte-stream mutations and segmentations shared by the fast-check fuzz tests: a few flipped,
// inserted or deleted bytes, and random cut points.
import fc from "fast-check";

/** Flips, inserts and deletes a few bytes ([kind 0/1/2, position, byte] per edit). */
export function mutate(buf: Buffer, edits: [number, number, number][]): Buffer {
  let b = Buffer.from(buf);
  for (const [kind, at, byte] of edits) {
    if (b.length === 0) break;
    const i = at % b.length;
    if (kind === 0) b[i] = byte;
    else if (kind === 1) b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
    else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
  }
  return b;
}

/** The buffer cut at the given points (taken modulo its length, duplicates and 0 ignored). */
export function chunks(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((c) => (buf.length ? c % buf.length : 0)))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) { out.push(buf.subarray(prev, p)); prev = p; }
  out.push(buf.subarray(prev));
  return out;
}

export const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });
export const cuts = fc.array(fc.nat(), { maxLength: 8 });
