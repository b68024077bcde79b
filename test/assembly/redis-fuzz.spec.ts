// No-trap sweep: thousands of mutations of the fixture vectors (bit flips, byte overwrites with
// protocol-significant bytes, insertions, deletions, duplications, splices) and protocol-flavoured
// random streams, fed to both decoders and a session in random splits with random skips, under
// default and tiny limits. A trap fails the test by itself; the decoders' contract is checked too.

import { RedisLimits } from "../../assembly/protocols/redis/limits";
import { RedisRequestDecoder } from "../../assembly/protocols/redis/request-decoder";
import { RedisReplyDecoder } from "../../assembly/protocols/redis/reply-decoder";
import { RedisSession } from "../../assembly/protocols/redis/session";
import { vectors, edgeCases } from "./generated/redis-vectors";
import { expand, ascii } from "./helpers";
import { Rng, Run, Tap, Tally, Feed, RANDOM, sweepSkip, drive } from "./drive";

const SPECIAL = "\r\n*$+-:_#,(!=%~>|.?;\"'\\ \t0123456789xtfe\x00\x0b";
const MAX_SEED_BYTES = 2048;

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const vs = vectors();
  for (let i = 0; i < vs.length; i++) {
    const q = expand(vs[i].request.hex, vs[i].request.times);
    const r = expand(vs[i].reply.hex, vs[i].reply.times);
    if (q.length > 0 && q.length <= MAX_SEED_BYTES) out.push(q);
    if (r.length > 0 && r.length <= MAX_SEED_BYTES) out.push(r);
  }
  const cs = edgeCases();
  for (let i = 0; i < cs.length; i++) {
    const b = expand(cs[i].data.hex, cs[i].data.times);
    if (b.length > 0 && b.length <= MAX_SEED_BYTES) out.push(b);
  }
  // pub/sub, MONITOR, streamed and attribute traffic the captures lack
  out.push(ascii("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"));
  out.push(ascii(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"));
  out.push(ascii("+OK\r\n+1700000000.1 [0 127.0.0.1:1] \"get\"\r\n|1\r\n+a\r\n*?\r\n$?\r\n;2\r\nab\r\n;0\r\n.\r\n"));
  out.push(ascii("SUBSCRIBE a b\r\nUNSUBSCRIBE\r\nCLIENT REPLY SKIP\r\nMONITOR\r\nRESET\r\nXREAD STREAMS s 0\r\n"));
  out.push(ascii("*4\r\n$4\r\nEVAL\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nk\r\n\"a\\x4\"'b\\'' \"\\\\\" \r\n"));
  return out;
}

function insert(a: u8[], at: i32, piece: u8[]): u8[] {
  const p = at > a.length ? a.length : at;
  return a.slice(0, p).concat(piece).concat(a.slice(p));
}

function mutate(src: Uint8Array, all: Uint8Array[], rng: Rng): Uint8Array {
  let out: u8[] = [];
  for (let i = 0; i < src.length; i++) out.push(src[i]);
  const edits = 1 + rng.below(4);
  for (let e = 0; e < edits; e++) {
    const n = out.length;
    const at = rng.below(n + 1);
    switch (rng.below(7)) {
      case 0: // flip a bit
        if (n > 0) out[at % n] ^= <u8>(1 << <u8>rng.below(8));
        break;
      case 1: // overwrite with a protocol byte
        if (n > 0) out[at % n] = <u8>SPECIAL.charCodeAt(rng.below(SPECIAL.length));
        break;
      case 2: // insert protocol bytes
        for (let k = rng.below(3); k >= 0; k--) out = insert(out, at, [<u8>SPECIAL.charCodeAt(rng.below(SPECIAL.length))]);
        break;
      case 3: {
        // delete a range
        const len = 1 + rng.below(8);
        if (at < n) out.splice(at, len);
        break;
      }
      case 4: {
        // duplicate a range
        const len = 1 + rng.below(16);
        const end = at + len < n ? at + len : n;
        const piece = out.slice(at, end);
        out = insert(out, end, piece);
        break;
      }
      case 5: {
        // splice in another corpus entry
        const other = all[rng.below(all.length)];
        const piece: u8[] = [];
        const from = rng.below(other.length);
        const to = from + rng.below(other.length - from + 1);
        for (let k = from; k < to; k++) piece.push(other[k]);
        out = insert(out, at, piece);
        break;
      }
      default: // a random digit run (lengths, counts)
        for (let k = rng.below(12); k >= 0; k--) out = insert(out, at, [<u8>(0x30 + rng.below(10))]);
    }
  }
  const b = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) b[i] = out[i];
  return b;
}

function randomLimits(rng: Rng): RedisLimits {
  const l = new RedisLimits();
  if (rng.below(2) == 0) return l;
  l.maxBulkBytes = <i64>rng.below(64);
  l.maxLineBytes = rng.below(40);
  l.maxElements = <i64>rng.below(8);
  l.maxTotalElements = <i64>rng.below(16);
  l.maxDepth = rng.below(6);
  l.maxConsecutiveAttributes = rng.below(3);
  l.maxRequestArgs = <i64>rng.below(6);
  l.maxKeyCapture = rng.below(12) - 2;
  return l;
}

class Stats extends Tally {
  cases: i32 = 0;
  bytes: i64 = 0;
}

/** Both sweeps go on after an error half the time, from a reset decoder (reset at odd positions). */
abstract class RedisSweep<D> extends Tap<D, bool> {
  constructor(public session: RedisSession, public rng: Rng) {
    super();
  }
  resume(d: D, run: Run<bool>): bool {
    if (this.rng.below(2) == 0) return false;
    d.reset();
    return true;
  }
}

/** What a request may hold under any limits; the session sees every request. */
class RequestSweep extends RedisSweep<RedisRequestDecoder> {
  message(d: RedisRequestDecoder, run: Run<bool>): bool {
    run.check(d.methodLen() >= 0 && d.methodLen() <= 64, "method length");
    run.check(d.keyLen() >= 0 && d.keyLen() <= 256, "key length");
    run.check(d.argc() >= 1, "argc");
    for (let i = 1; i <= 4; i++) run.check(d.argLen(i) >= 0 && d.argLen(i) <= 128, "argument length");
    this.session.onRequest(d, d.position());
    return true;
  }
}

/** What a reply may hold under any limits; the session correlates every reply. */
class ReplySweep extends RedisSweep<RedisReplyDecoder> {
  message(d: RedisReplyDecoder, run: Run<bool>): bool {
    run.check(d.headLen() >= 0 && d.headLen() <= 16, "head length");
    run.check(d.errorCodeLen() >= 0 && d.errorCodeLen() <= 32, "error code length");
    run.check(d.type() != 0x7c && d.type() != 0, "type"); // an attribute ('|') only annotates the reply after it
    const r = this.session.onReply(d);
    run.check(r >= 1 && r <= 3, "correlation");
    return true;
  }
}

/** `data` as requests, then as replies, through one session: random splits, random skips. */
function driveBoth(limits: RedisLimits, session: RedisSession, data: Uint8Array, rng: Rng, st: Stats): void {
  const feed = new Feed(RANDOM, rng, sweepSkip);
  st.add(drive<RedisRequestDecoder, bool>(new RedisRequestDecoder(limits), data, feed, new RequestSweep(session, rng)));
  st.add(drive<RedisReplyDecoder, bool>(new RedisReplyDecoder(limits), data, feed, new ReplySweep(session, rng)));
}

function sweep(cases: i32, seed: u32, random: bool): Stats {
  const st = new Stats();
  const all = corpus();
  const rng = new Rng(seed);
  for (let i = 0; i < cases; i++) {
    let data: Uint8Array;
    if (random) {
      const n = 1 + rng.below(300);
      data = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        data[k] = rng.below(4) == 0 ? <u8>rng.below(256) : <u8>SPECIAL.charCodeAt(rng.below(SPECIAL.length));
      }
    } else {
      data = mutate(all[rng.below(all.length)], all, rng);
    }
    const limits = randomLimits(rng);
    const session = new RedisSession(1 + rng.below(8));
    driveBoth(limits, session, data, rng, st);
    st.check(session.pending() >= 0 && session.pending() <= 8, "pending requests");
    st.cases++;
    st.bytes += data.length;
  }
  return st;
}

describe("no-trap sweep", () => {
  it("survives 6000 mutated vectors", () => {
    const st = sweep(6000, 0xc0ffee, false);
    expect(st.violations).toBe(0, st.first);
    expect(st.cases).toBe(6000);
    expect(st.messages).toBeGreaterThan(1000); // the mutations still reach deep states
    expect(st.errors).toBeGreaterThan(1000);
  });

  it("survives 3000 protocol-flavoured random streams", () => {
    const st = sweep(3000, 0xbadf00d, true);
    expect(st.violations).toBe(0, st.first);
    expect(st.cases).toBe(3000);
  });

  it("survives every vector truncated at every byte and then fed garbage", () => {
    const all = corpus();
    const rng = new Rng(99);
    const st = new Stats();
    for (let i = 0; i < all.length; i++) {
      const src = all[i];
      const stop = src.length < 200 ? src.length : 200;
      for (let cut = 0; cut <= stop; cut++) {
        const data = new Uint8Array(cut + 8);
        for (let k = 0; k < cut; k++) data[k] = src[k];
        for (let k = cut; k < cut + 8; k++) data[k] = <u8>SPECIAL.charCodeAt(rng.below(SPECIAL.length));
        driveBoth(new RedisLimits(), new RedisSession(4), data, rng, st);
        st.cases++;
      }
    }
    expect(st.violations).toBe(0, st.first);
    expect(st.cases).toBeGreaterThan(5000);
  });
});
