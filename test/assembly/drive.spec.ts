// The shared driver (drive.ts) itself: every spec and sweep trusts it to notice a decoder that breaks
// the codec contract, so each rule is shown to fire on a decoder broken in exactly that way (a real
// RedisRequestDecoder behind a wrapper that bends one answer), and to stay quiet on the real one.

import { EV_NEED_MORE, EV_MESSAGE, EV_ERROR } from "../../assembly/protocols/codec";
import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { ascii } from "./helpers";
import { Rng, Run, Tap, Feed, WHOLE, BYTEWISE, RANDOM, CUTS, SMALL_CAPS, skipAll, drive } from "./drive";

const OK: i32 = 0;
const OVERREACH: i32 = 1; // feed() claims one byte more than its window
const SHORT: i32 = 2; // NEED_MORE, yet one byte of the window left unconsumed
const POSITION: i32 = 3; // position() one ahead, from the sixth byte on
const END: i32 = 4; // end() one short of where the message ended
const NOT_STICKY: i32 = 5; // after an error, feed() starts afresh
const NO_REASON: i32 = 6; // errorReason() empty
const SKIP_EVENT: i32 = 7; // skip() reports a message
const NEGATIVE: i32 = 8; // skippable() below zero
const SKIP_CLEARS: i32 = 9; // after an error, skip() reports NEED_MORE

/** A RedisRequestDecoder with one contract rule broken (`fault`), otherwise passed through. */
class Bent {
  event: i32 = EV_NEED_MORE;
  inner: RedisRequestDecoder = new RedisRequestDecoder(new RedisLimits());
  /** Bytes the wrapper claimed not to consume (SHORT): position() leaves them out, to break one rule only. */
  held: i64 = 0;
  failed: bool = false;
  constructor(public fault: i32) {}

  feed(ptr: usize, len: i32): i32 {
    if (this.fault == NOT_STICKY && this.failed) {
      this.event = EV_NEED_MORE;
      return len;
    }
    let c = this.inner.feed(ptr, len);
    this.event = this.inner.event;
    if (this.event == EV_ERROR) this.failed = true;
    if (this.fault == OVERREACH) c = len + 1;
    if (this.fault == SHORT && this.event == EV_NEED_MORE && c > 0) {
      // hand the last byte back without unfeeding it: a decoder that lost a byte
      this.held++;
      c--;
    }
    return c;
  }
  skippable(): i64 {
    const s = this.inner.skippable();
    return this.fault == NEGATIVE && s == 0 ? -1 : s;
  }
  skip(n: i64): void {
    this.inner.skip(n);
    this.event = this.fault == SKIP_EVENT ? EV_MESSAGE : this.inner.event;
    if (this.fault == SKIP_CLEARS && this.failed) this.event = EV_NEED_MORE;
  }
  position(): i64 {
    const p = this.inner.position() - this.held;
    return this.fault == POSITION && p > 5 ? p + 1 : p;
  }
  start(): i64 {
    return this.inner.start();
  }
  end(): i64 {
    return this.inner.end() - (this.fault == END ? 1 : 0);
  }
  errorReason(): string {
    return this.fault == NO_REASON ? "" : this.inner.errorReason();
  }
  atBoundary(): bool {
    return this.inner.atBoundary();
  }
  reset(): void {
    this.inner.reset();
    this.event = EV_NEED_MORE;
    this.held = 0;
    this.failed = false;
  }
}

class Count extends Tap<Bent, i64> {
  message(d: Bent, run: Run<i64>): i64 {
    return d.end();
  }
}

/** Resets after an error and goes on, as the Redis sweep does half the time. */
class Resume extends Count {
  resume(d: Bent, run: Run<i64>): bool {
    d.reset();
    return true;
  }
}

/** Two requests, the second with a 200-byte value the decoder offers to skip. */
function stream(): Uint8Array {
  let big = "";
  for (let i = 0; i < 200; i++) big += "v";
  return ascii("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200\r\n" + big + "\r\n");
}

/** A request, then a broken one. */
function failing(): Uint8Array {
  return ascii("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*x\r\n*1\r\n$4\r\nPING\r\n");
}

function run(fault: i32, data: Uint8Array, mode: i32 = BYTEWISE, skip: bool = false): Run<i64> {
  return drive<Bent, i64>(new Bent(fault), data, new Feed(mode, new Rng(3), skip ? skipAll : null), new Count());
}

describe("drive: a sound decoder", () => {
  it("passes whole, byte by byte, in random splits, at cuts, with skips", () => {
    const modes: i32[] = [WHOLE, BYTEWISE, RANDOM];
    for (let m = 0; m < modes.length; m++) {
      for (let k = 0; k < 2; k++) {
        const r = run(OK, stream(), modes[m], k == 1);
        const label = "mode " + modes[m].toString() + (k == 1 ? " skip" : "");
        expect(r.violations).toBe(0, label + ": " + r.violation);
        expect(r.msgs.length).toBe(2, label);
        expect(r.boundary).toBe(true, label);
        expect(r.consumed).toBe(<i64>stream().length, label);
        // whole, the request is taken in one go; in small windows the value is offered for skipping
        if (k == 1 && modes[m] == BYTEWISE) expect(r.skipped).toBeGreaterThan(0, label);
      }
    }
    const cut = drive<Bent, i64>(new Bent(OK), stream(), new Feed(CUTS, new Rng(1), skipAll, SMALL_CAPS, [5, 40, 41]), new Count());
    expect(cut.violations).toBe(0, cut.violation);
    expect(cut.msgs.length).toBe(2);
  });

  it("stops at an error and reports it, with where it stopped", () => {
    const r = run(OK, failing());
    expect(r.violations).toBe(0, r.violation);
    expect(r.msgs.length).toBe(1);
    expect(r.errors).toBe(1);
    expect(r.error.length).toBeGreaterThan(0);
    // past the first request (20 bytes), not past the broken count line
    expect(r.consumed).toBeGreaterThan(20);
    expect(r.consumed).toBeLessThanOrEqual(24);
  });

  it("goes on after an error when the tap resets the decoder", () => {
    const r = drive<Bent, i64>(new Bent(OK), failing(), new Feed(BYTEWISE, new Rng(1)), new Resume());
    expect(r.violations).toBe(0, r.violation);
    expect(r.errors).toBe(1);
    expect(r.msgs.length).toBe(2); // GET, then PING after the reset
  });
});

describe("drive: each broken rule is caught", () => {
  it("feed() consuming more than its window", () => {
    expect(run(OVERREACH, stream()).violation).toBe("consumed out of range");
  });
  it("NEED_MORE that leaves bytes of its window", () => {
    expect(run(SHORT, stream(), RANDOM).violation).toBe("NEED_MORE left bytes of its window (or an unknown event)");
  });
  it("position() that is not the bytes fed and skipped", () => {
    expect(run(POSITION, stream()).violation).toBe("position is not the bytes fed and skipped");
  });
  it("a message that does not end where feed() stopped", () => {
    expect(run(END, stream()).violation).toBe("message offsets");
  });
  it("an error the decoder forgets", () => {
    expect(run(NOT_STICKY, failing()).violation).toBe("error not sticky on feed");
  });
  it("an error that skip() forgets", () => {
    expect(run(SKIP_CLEARS, failing()).violation).toBe("error not sticky on skip");
  });
  it("an error without a reason", () => {
    expect(run(NO_REASON, failing()).violation).toBe("error without a reason");
  });
  it("skip() that ends a message", () => {
    expect(run(SKIP_EVENT, stream(), BYTEWISE, true).violation).toBe("skip produced an event");
  });
  it("a negative skippable()", () => {
    expect(run(NEGATIVE, stream(), BYTEWISE, true).violation).toBe("negative skippable");
  });
});
