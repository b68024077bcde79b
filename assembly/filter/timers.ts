// Connections waiting for time to pass (the first request's routing deadline, a delay fault).
// proxy-wasm has one timer per root context, so the root ticks while anyone waits and hands
// each tick to the waiting connections; the tick is switched off when nobody waits.
import { NetworkContext } from "../abi/context";
import { setTickPeriodMilliseconds } from "../abi/hostcalls";

/** Resolution of delay faults and routing deadlines. */
export const TICK_MS: u32 = 5;

export class ConnectionTimers {
  private waiting: Array<NetworkContext> = [];
  private ticking: bool = false;

  arm(c: NetworkContext): void {
    if (!this.waiting.includes(c)) this.waiting.push(c);
    if (!this.ticking) {
      setTickPeriodMilliseconds(TICK_MS);
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
      setTickPeriodMilliseconds(0);
      this.ticking = false;
    }
  }
}
