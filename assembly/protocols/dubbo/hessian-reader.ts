// Layout of a HessianWalker with its arena state, class table, attachment slots, descriptor counter
// and container stack in one block of memory, and HessianReader: the managed owner of such a block
// for standalone use (tests, tools). DubboDecoder embeds the same layout in its own block.

import { CaptureArena, ArenaBuffer } from "./capture";
import { ClassTable, CLASS_CAP_MAX } from "./class-table";
import { Attachments, ATTACHMENT_CAP_MAX } from "./attachments";
import { DescriptorCounter } from "./descriptor";
import { DubboLimits, capacityOf } from "./limits";
import { HessianWalker, DEPTH_CAP_MAX, FRAME, P_DONE } from "./hessian";
import { align8 } from "./raw";

/** Bytes placeWalker() lays out for these limits. */
export function walkerBytes(limits: DubboLimits): usize {
  const depth = capacityOf(limits.maxDepth, DEPTH_CAP_MAX);
  return (
    align8(offsetof<HessianWalker>()) +
    CaptureArena.bytes() +
    ClassTable.bytes(capacityOf(limits.maxClassDefs, CLASS_CAP_MAX)) +
    Attachments.bytes(capacityOf(limits.maxAttachments, ATTACHMENT_CAP_MAX)) +
    align8(offsetof<DescriptorCounter>()) +
    <usize>depth * FRAME
  );
}

/**
 * Lays a walker out at `at` (zeroed memory, walkerBytes(limits) long) with its arena, tables and
 * stack after it. Returns the arena's buffer owner, which the caller must keep alive with `limits`.
 */
export function placeWalker(at: usize, limits: DubboLimits): ArenaBuffer {
  const w = changetype<HessianWalker>(at);
  let p = at + align8(offsetof<HessianWalker>());
  const owner = CaptureArena.place(p, limits.maxCaptureBytes);
  w.arena = changetype<CaptureArena>(p);
  p += CaptureArena.bytes();
  const classCap = capacityOf(limits.maxClassDefs, CLASS_CAP_MAX);
  w.classes = ClassTable.place(p, classCap);
  p += ClassTable.bytes(classCap);
  const attCap = capacityOf(limits.maxAttachments, ATTACHMENT_CAP_MAX);
  w.attachments = Attachments.place(p, attCap);
  p += Attachments.bytes(attCap);
  w.desc = changetype<DescriptorCounter>(p);
  p += align8(offsetof<DescriptorCounter>());
  w.stack = p;
  w.depthCap = capacityOf(limits.maxDepth, DEPTH_CAP_MAX);
  w.lim = changetype<usize>(limits);
  w.phase = P_DONE;
  return owner;
}

/**
 * A standalone Hessian reader: walks one value at a time of one body (the class table is shared by
 * the values until resetBody()), capturing a top-level string or the string pairs of a top-level map.
 */
export class HessianReader {
  private readonly block: StaticArray<u8>;
  private readonly buffer: ArenaBuffer;
  private readonly w: HessianWalker;

  constructor(private readonly limits: DubboLimits) {
    const block = new StaticArray<u8>(<i32>walkerBytes(limits));
    this.buffer = placeWalker(changetype<usize>(block), limits);
    this.w = changetype<HessianWalker>(changetype<usize>(block));
    this.block = block;
  }

  /** A new body: forgets class definitions, captured strings and attachments. */
  resetBody(): void {
    const w = this.w;
    w.arena.clear();
    w.classes.clear();
    w.attachments.clear();
  }
  begin(expect: i32, capMode: i32, countDesc: bool): void {
    this.w.begin(expect, capMode, countDesc);
  }
  feed(ptr: usize, len: i32): i32 {
    return this.w.feed(ptr, len);
  }
  skippable(): i64 {
    return this.w.skippable();
  }
  skip(n: i64): void {
    this.w.skip(n);
  }
  fetchHint(): i32 {
    return this.w.fetchHint();
  }
  status(): i32 {
    return this.w.status();
  }
  busy(): bool {
    return this.w.busy();
  }
  reason(): string {
    return this.w.reason();
  }
  kind(): i32 {
    return this.w.kind();
  }
  intValue(): i64 {
    return this.w.intValue();
  }
  capturedPtr(): usize {
    const w = this.w;
    return w.arena.ptr(w.capturedOff());
  }
  capturedLen(): i32 {
    return this.w.capturedLen();
  }
  capturedOver(): bool {
    return this.w.capturedOver();
  }
  /** Parameters counted in the last descriptor read with countDesc. */
  descriptorCount(): i32 {
    return this.w.desc.count;
  }
  attachmentCount(): i32 {
    return this.w.attachments.count;
  }
}
