// Per-request draws (fault percentages, log sampling) from a xorshift64* generator seeded once per
// VM from WASI random_get: statistically uniform, and no host call per request. Choices that are
// made once per connection (a weighted route) draw from random_get directly.
import { randomU32 } from "../abi/hostcalls";

let state: u64 = 0;

export function fastRandomU32(): u32 {
  let x = state;
  if (x == 0) {
    x = (<u64>randomU32() << 32) | <u64>randomU32();
    if (x == 0) x = 0x9e3779b97f4a7c15;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  state = x;
  return <u32>((x * 0x2545f4914f6cdd1d) >> 32);
}

/** True with probability ppm / 1,000,000. */
export function chance(ppm: u32): bool {
  if (ppm >= 1000000) return true;
  if (ppm == 0) return false;
  return <u32>((<u64>fastRandomU32() * 1000000) >> 32) < ppm;
}
