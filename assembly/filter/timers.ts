// Connections waiting for time to pass (the first request's routing deadline, a delay fault).
// proxy-wasm has one timer per root context, so the root ticks fast while anyone waits and hands
// each tick to the waiting connections; when nobody waits it falls back to the root's own period
// (the metric flush interval) or off.
import { NetworkContext } from "../abi/context";
import { setTickPeriodMilliseconds } from "../abi/hostcalls";

/** Resolution of delay faults and routing deadlines. */
export const TICK_MS: u32 = 5;

export class ConnectionTimers {
  private waiting: Array<NetworkContext> = [];
  private ticking: bool = false;
  /** The root's own tick period while nobody waits (the metric flush interval; 0 = none). */
  private idlePeriodMs: u32 = 0;

  /** Sets the period the root ticks at while no connection waits. */
  setIdlePeriod(ms: u32): void {
    this.idlePeriodMs = ms;
    if (!this.ticking) setTickPeriodMilliseconds(ms);
  }

  arm(c: NetworkContext): void {
    if (!this.waiting.includes(c)) this.waiting.push(c);
    if (!this.ticking) {
      setTickPeriodMilliseconds(this.idlePeriodMs > 0 && this.idlePeriodMs < TICK_MS ? this.idlePeriodMs : TICK_MS);
      this.ticking = true;
    }
  }

  disarm(c: NetworkContext): void {
    const i = this.waiting.indexOf(c);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  tick(nowNs: i64): void {
    const w = this.waiting;
    for (let i = 0; i < w.length; ) {
      if (w[i].onTimer(nowNs)) i++;
      else w.splice(i, 1);
    }
    if (w.length == 0 && this.ticking) {
      setTickPeriodMilliseconds(this.idlePeriodMs);
      this.ticking = false;
    }
  }
}
