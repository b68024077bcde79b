// The one driver behind the codec specs and no-trap sweeps: it feeds any decoder that follows the
// codec contract (feed/event/skippable/skip/position/start/end/errorReason/atBoundary, see
// assembly/protocols/codec.ts) a byte stream in windows – whole, byte by byte, random splits or fixed
// cuts – skipping some or all of what skippable() offers, and checks the contract on every call.
// What a message means (its snapshot, its session) is left to a per-protocol Tap, so the loop and its
// checks exist once. The decoder type is a generic: calls are direct, as in the filter.

import { EV_MESSAGE, EV_ERROR, EV_NEED_MORE } from "../../assembly/protocols/codec";

// ---- PRNG (xorshift32; deterministic per seed) ----------------------------------------------------

export class Rng {
  constructor(public state: u32) {
    if (this.state == 0) this.state = 0x9e3779b9;
  }
  next(): u32 {
    let x = this.state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.state = x;
    return x;
  }
  /** Uniform in [0, n) for n ≥ 1. */
  below(n: i32): i32 {
    return n <= 1 ? 0 : <i32>(this.next() % <u32>n);
  }
}

// ---- where windows end --------------------------------------------------------------------------

export const WHOLE: i32 = 0;
export const BYTEWISE: i32 = 1;
export const RANDOM: i32 = 2;
/** Windows end at Feed.cuts (ascending, inside the data), then at the end. */
export const CUTS: i32 = 3;

/** RANDOM window caps for Redis and Thrift: windows of up to 1, 7, 64 bytes or the rest, equally often. */
export const SMALL_CAPS: i32[] = [1, 7, 64];

/** Length of the next window in `mode` (not CUTS); RANDOM picks one of `caps` or the rest, then a length up to it. */
export function chunkLen(mode: i32, rng: Rng, remaining: i32, caps: i32[] = SMALL_CAPS): i32 {
  if (mode == WHOLE) return remaining;
  if (mode == BYTEWISE) return 1;
  const pick = rng.below(caps.length + 1);
  const cap = pick < caps.length ? caps[pick] : remaining;
  return 1 + rng.below(cap < remaining ? cap : remaining);
}

// ---- what is skipped ------------------------------------------------------------------------------

/**
 * How many of the `offered` (> 0) skippable bytes to skip, at most `room` (the rest of the window);
 * 0 feeds them instead. Each protocol's specs keep their own habit (and so their seeds' meaning).
 */
export type SkipFn = (offered: i64, room: i32, rng: Rng) => i64;

/** All that is offered and lies in the window, as the filter's pump does. */
export function skipAll(offered: i64, room: i32, rng: Rng): i64 {
  return offered < <i64>room ? offered : <i64>room;
}

/** The no-trap sweeps' skip habit: half the time; then a random part (at least a byte) or all, equally often. */
export function sweepSkip(offered: i64, room: i32, rng: Rng): i64 {
  if (rng.below(2) == 0) return 0;
  const k = skipAll(offered, room, rng);
  return rng.below(2) == 0 ? 1 + <i64>rng.below(<i32>k) : k;
}

/** How a run cuts the stream into windows, and which skippable bytes it skips (none when `skip` is null). */
export class Feed {
  private next: i32 = 0;
  constructor(
    public mode: i32,
    public rng: Rng,
    public skip: SkipFn | null = null,
    public caps: i32[] = SMALL_CAPS,
    public cuts: i32[] = [],
  ) {}

  /** Where the window that starts at `off` ends (`n`: the stream's length). */
  windowEnd(off: i32, n: i32): i32 {
    if (this.mode != CUTS) return off + chunkLen(this.mode, this.rng, n - off, this.caps);
    if (this.next >= this.cuts.length) return n;
    const cut = this.cuts[this.next++];
    return cut < n ? cut : n;
  }
}

// ---- what a run observed ----------------------------------------------------------------------------

export class Run<T> {
  msgs: T[] = [];
  /** The (last) error's reason. */
  error: string = "";
  errors: i32 = 0;
  /** The decoder ended between messages. */
  boundary: bool = false;
  /** Bytes fed or skipped (the decoder's position at the end or at the error). */
  consumed: i64 = 0;
  /** Bytes skipped instead of fed, and in how many skip() calls. */
  skipped: i64 = 0;
  skips: i32 = 0;
  /** Broken contract rules (a NEED_MORE that did not consume everything, …); the first one's name. */
  violations: i32 = 0;
  violation: string = "";

  fail(why: string): void {
    if (this.violations++ == 0) this.violation = why;
  }
  check(ok: bool, why: string): void {
    if (!ok) this.fail(why);
  }
}

/** What a no-trap sweep adds up over its many runs. */
export class Tally {
  runs: i32 = 0;
  messages: i32 = 0;
  errors: i32 = 0;
  skips: i32 = 0;
  violations: i32 = 0;
  /** The first broken rule, for the failure message. */
  first: string = "";

  add<M>(run: Run<M>): void {
    this.runs++;
    this.messages += run.msgs.length;
    this.errors += run.errors;
    this.skips += run.skips;
    this.violations += run.violations;
    if (this.first.length == 0) this.first = run.violation;
  }
  check(ok: bool, why: string): void {
    if (ok) return;
    if (this.violations++ == 0) this.first = why;
  }
}

/** What a run makes of each message, per protocol (and per spec: a sweep only checks and counts). */
export abstract class Tap<D, M> {
  /** position() is checked after a failing feed too (Thrift opts out: see ThriftTap). */
  positionAtError: bool = true;

  /** `d` has just ended a message; `run` holds those before it. Returns what the run records. */
  abstract message(d: D, run: Run<M>): M;
  /** `d` has just failed (recorded in `run`): true once `d` is reset, to go on with the rest. */
  resume(d: D, run: Run<M>): bool {
    return false;
  }
}

/**
 * Feeds `data` to `d` window by window as `feed` says and returns what `tap` made of the messages.
 * Any broken contract rule counts in run.violations; a feed that reports an impossible length, or a
 * NEED_MORE that left bytes of its window, ends the run.
 */
export function drive<D, M>(d: D, data: Uint8Array, feed: Feed, tap: Tap<D, M>): Run<M> {
  const run = new Run<M>();
  const base = data.dataStart;
  const n = data.length;
  const skip = feed.skip;
  // position() counts from construction or reset, not from this run
  let origin = d.position();
  let lastEnd: i64 = 0;
  let off = 0;
  while (off < n) {
    const end = feed.windowEnd(off, n);
    while (off < end) {
      const room = end - off;
      if (skip !== null) {
        const s = d.skippable();
        if (s < 0) run.fail("negative skippable");
        const k = s > 0 ? skip(s, room, feed.rng) : 0;
        if (k > 0) {
          d.skip(k);
          off += <i32>k;
          run.skipped += k;
          run.skips++;
          if (d.event != EV_NEED_MORE) run.fail("skip produced an event"); // skip() never ends a message
          continue;
        }
      }
      const c = d.feed(base + <usize>off, room);
      if (c < 0 || c > room) {
        run.fail("consumed out of range");
        return run;
      }
      off += c;
      const ev = d.event;
      if (ev != EV_ERROR || tap.positionAtError) {
        run.check(d.position() == origin + <i64>off, "position is not the bytes fed and skipped");
      }
      if (ev == EV_MESSAGE) {
        // a message ends where feed stopped, after the one before it
        run.check(d.end() == d.position() && d.start() < d.end() && d.start() >= lastEnd, "message offsets");
        lastEnd = d.end();
        run.msgs.push(tap.message(d, run));
      } else if (ev == EV_ERROR) {
        run.errors++;
        run.error = d.errorReason();
        run.consumed = d.position();
        run.check(run.error.length > 0, "error without a reason");
        // the decoder stays in error until reset, whatever it is given
        run.check(d.feed(base + <usize>off, n - off) == 0 && d.event == EV_ERROR, "error not sticky on feed");
        d.skip(1);
        run.check(d.event == EV_ERROR, "error not sticky on skip");
        if (!tap.resume(d, run)) return run;
        if (c == 0) off++; // the offending byte was not consumed: step over it
        origin = d.position() - <i64>off;
        lastEnd = 0;
      } else if (ev != EV_NEED_MORE || off != end) {
        run.fail("NEED_MORE left bytes of its window (or an unknown event)");
        return run;
      }
    }
  }
  run.consumed = d.position();
  run.boundary = d.atBoundary();
  return run;
}
