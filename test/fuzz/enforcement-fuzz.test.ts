// Property-based tests of the ENFORCING path (policies configured), in memory through the built
// module: random pipelines of allowed and denied requests (Redis with FLUSHALL denied, Thrift on
// every transport × protocol with one method denied, Dubbo with one method denied), in random
// segmentation (random cut points, sometimes byte by byte); the server answers what it got after
// the client is done or interleaved with the client's reads, in random segmentation (Thrift and
// Dubbo: in random order). The properties:
//   - the filter never traps (vm.failed stays undefined);
//   - no byte is lost, added or reordered: upstream is exactly the requests with each denied one
//     replaced by the protocol's harmless substitute (or dropped, for one-way messages), downstream
//     exactly the answers with each substitute's answer replaced by the protocol's error; the
//     counters agree;
//   - a rejected request never reaches upstream whole: with a small max_hold_bytes, a denied
//     request that had to stream closes the connection before its last byte (an exact model of
//     the hold rule predicts what went up); with garbage inserted into a Redis stream, the bytes
//     that went upstream — read the way redis-server reads them (processInputBuffer /
//     processMultibulkBuffer / processInlineBuffer / sdssplitargs, re-implemented below as an
//     independent oracle) — never hold a FLUSHALL, and the connection is either handled exactly
//     or closed (fail closed).
// Fixed seeds (FUZZ_SEED overrides, FUZZ_RUNS scales) keep CI deterministic; a failure prints
// the seed and fast-check's shrunk counterexample. Two filter bugs found here are pinned as todo
// tests ("filter bug: …").
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { WasmVm } from "../host/vm.js";
import type { FilterConnection } from "../host/connection.js";
import { loadFilter, openConnection } from "../support/filter.js";
import { command } from "../support/resp.js";
import { PING_SUBSTITUTE, denyPolicy } from "../support/redis-policy.js";
import { legacyCounter } from "../support/metawire-metrics.js";
import {
  INTERNAL_ERROR, MessageType, RESERVED_METHOD, UNKNOWN_METHOD, WIRE_STACKS, appException, message, readStream, reservedCall,
  stackName, type Field,
} from "../support/thrift-wire.js";
import { errorResponse, heartbeat, heartbeatAnswer, okResponse, request } from "../support/dubbo-build.js";
import { dubboFrames, isHeartbeat, requestHead } from "../support/dubbo-wire.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED_OVERRIDE = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** fc.assert with a fixed seed; a failure names the seed and how to replay it. */
function check<T extends [unknown, ...unknown[]]>(name: string, seed: number, prop: fc.IPropertyWithHooks<T>, runs = RUNS): void {
  const s = SEED_OVERRIDE ?? seed;
  try {
    fc.assert(prop, { seed: s, numRuns: runs, includeErrorInReport: true });
  } catch (e) {
    if (e instanceof Error) e.message = `${name}: seed ${s} (replay: FUZZ_SEED=${s})\n${e.message}`;
    throw e;
  }
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString("latin1");
const cat = (parts: (Buffer | string)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)));

// ---- segmentation ------------------------------------------------------------------------------

/** Random cut points (taken modulo the length), or fixed-size pieces of 1–5 bytes (1: byte by byte). */
type Cuts = { points: number[] } | { every: number };
const cutsArb: fc.Arbitrary<Cuts> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.nat(), { maxLength: 12 }).map((points) => ({ points })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((every) => ({ every })) },
);

function pieces(buf: Buffer, cuts: Cuts): Buffer[] {
  if (buf.length === 0) return [];
  if ("every" in cuts) {
    const out: Buffer[] = [];
    for (let p = 0; p < buf.length; p += cuts.every) out.push(buf.subarray(p, p + cuts.every));
    return out;
  }
  const points = [...new Set(cuts.points.map((c) => c % buf.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) { out.push(buf.subarray(prev, p)); prev = p; }
  out.push(buf.subarray(prev));
  return out;
}

/** Ends of the reads, cumulative (the last one is buf.length). */
function readEnds(parts: Buffer[]): number[] {
  let at = 0;
  return parts.map((p) => (at += p.length));
}

/**
 * Feeds `parts` from the client (or the server) until the connection closes. When `want` is
 * given, what came out on the other side is checked to be a prefix of it after every read (only
 * for up to 64 reads: the check copies the whole output each time).
 */
function feed(conn: FilterConnection, parts: Buffer[], fromServer: boolean, want?: Buffer): void {
  const checkEach = want !== undefined && parts.length <= 64;
  for (const [i, part] of parts.entries()) {
    if (conn.closed) return;
    if (fromServer) conn.upstreamData(part); else conn.downstreamData(part);
    if (checkEach) {
      const out = Buffer.from(fromServer ? conn.sentDownstream() : conn.sentUpstream());
      assert.ok(want.subarray(0, out.length).equals(out),
        `after read ${i + 1}/${parts.length}: ${fromServer ? "downstream" : "upstream"} is no prefix of the expected bytes\n got  ${JSON.stringify(latin1(out))}\n want ${JSON.stringify(latin1(want))}`);
    }
  }
}

/** Counter deltas of one protocol around `fn` (VMs are shared between runs). */
function deltas(vm: WasmVm, protocol: string, names: string[], fn: () => void): Record<string, number> {
  const before = names.map((n) => legacyCounter(vm.metrics, protocol, n));
  fn();
  return Object.fromEntries(names.map((n, i) => [n, legacyCounter(vm.metrics, protocol, n) - before[i]]));
}

const noTrap = (vm: WasmVm, what: string): void => assert.equal(vm.failed, undefined, `${what}: trap ${JSON.stringify(vm.failed)}`);

/** Distinct values drawn from `arb`, `n` of them (the ids/seqids of a run). */
const distinct = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T[]> => fc.uniqueArray(arb, { minLength: n, maxLength: n });
/** Random sort keys of `n` items (the order a server answers in). */
const orderKeys = (n: number) => fc.array(fc.nat(), { minLength: n, maxLength: n });

/** A request as the hold model sees it: its bytes, what goes up for it when decided, whether it is rejected. */
interface HeldRequest { bytes: Buffer; up: Buffer; denied: boolean }

/**
 * What goes upstream with max_hold_bytes `hold` (assembly/filter/protocol-connection.ts
 * enforceRequests): at the end of each read, the request in progress is held (Pause: the whole
 * read buffer waits) if its bytes so far fit `hold`, else it streams on (hold_overflow, once per
 * request). A streaming request that turns out rejected closes the connection, and the read that
 * completes it is not forwarded: the server got only the start of it. `ends`: where the reads end.
 */
function holdModel(reqs: HeldRequest[], ends: number[], hold: number): { overflows: boolean[]; closer: number; wantUp: Buffer } {
  const starts: number[] = [];
  let at = 0;
  for (const r of reqs) { starts.push(at); at += r.bytes.length; }
  const overflows = reqs.map((r, j) => ends.some((c) => c > starts[j] && c < starts[j] + r.bytes.length && c - starts[j] > hold));
  const closer = reqs.findIndex((r, j) => r.denied && overflows[j]);
  let wantUp = Buffer.concat(reqs.slice(0, closer < 0 ? reqs.length : closer).map((r) => r.up));
  if (closer >= 0) {
    const lastRead = Math.max(...ends.filter((c) => c < starts[closer] + reqs[closer].bytes.length));
    wantUp = Buffer.concat([wantUp, reqs[closer].bytes.subarray(0, lastRead - starts[closer])]);
  }
  return { overflows, closer, wantUp };
}

/** When the server answers: all after the client is done, or also between the client's reads. */
interface Schedule { serveAfter: boolean[]; split: number }
const scheduleArb: fc.Arbitrary<Schedule | undefined> = fc.option(
  fc.record({ serveAfter: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), split: fc.nat() }), { nil: undefined, freq: 2 });

interface Exchange {
  /** What the server must get for each request (empty: nothing, e.g. a dropped one-way). */
  up: Buffer[];
  /** The server's answer to what it got for request i (null: none). */
  answer: (i: number) => Buffer | null;
  /** What the client must get instead of that answer. */
  back: (i: number) => Buffer;
  /** The order in which the server answers what it has (lower key first); null: arrival order. */
  keys: number[] | null;
}

/**
 * Plays one connection: the client's reads go in one by one; the server answers every request it
 * has whole and has not answered yet — with a schedule also between the client's reads (in one or
 * two reads), and at the end the rest (cut at `pc`). Checks that upstream is x.up (a prefix of it
 * after every read) and downstream x.back(i) in the order answered; returns that order.
 */
function exchange(vm: WasmVm, conn: FilterConnection, what: string, reqParts: Buffer[], x: Exchange, pc: Cuts, schedule: Schedule | undefined): number[] {
  const wantUp = Buffer.concat(x.up);
  const ends: number[] = [];
  let at = 0;
  for (const u of x.up) ends.push(at += u.length);
  const answered: number[] = [];
  const byKey = (a: number, b: number): number => (x.keys ? x.keys[a] - x.keys[b] : 0) || a - b;
  const serve = (cuts: Cuts): void => {
    const got = conn.sentUpstream().length;
    const ready = x.up.map((_, i) => i).filter((i) => ends[i] <= got && !answered.includes(i) && x.answer(i) !== null).sort(byKey);
    answered.push(...ready);
    for (const part of pieces(Buffer.concat(ready.map((i) => x.answer(i)!)), cuts)) conn.upstreamData(part);
  };
  const checkEach = reqParts.length <= 64;
  reqParts.forEach((part, n) => {
    conn.downstreamData(part);
    if (checkEach) {
      const out = Buffer.from(conn.sentUpstream());
      assert.ok(wantUp.subarray(0, out.length).equals(out), `${what}: after read ${n + 1}/${reqParts.length}: upstream is no prefix of the expected bytes\n got  ${out.toString("hex")}\n want ${wantUp.toString("hex")}`);
    }
    if (schedule?.serveAfter[n % schedule.serveAfter.length]) serve({ points: [schedule.split] });
  });
  noTrap(vm, what);
  const up = Buffer.from(conn.sentUpstream());
  assert.ok(up.equals(wantUp), `${what}: upstream\n got  ${up.toString("hex")}\n want ${wantUp.toString("hex")}`);
  serve(pc);
  noTrap(vm, what);
  const down = Buffer.from(conn.sentDownstream());
  const wantDown = Buffer.concat(answered.map(x.back));
  assert.ok(down.equals(wantDown), `${what}: downstream (answered ${answered})\n got  ${down.toString("hex")}\n want ${wantDown.toString("hex")}`);
  assert.equal(conn.closed, false, `${what}: closed`);
  return answered;
}

// ================================================================================================
// Redis
// ================================================================================================

const NO_FLUSH = denyPolicy("no-flush", { method: { exact: "FLUSHALL" } });
const PING = PING_SUBSTITUTE;
const FORBIDDEN = "-ERR forbidden\r\n";

// ---- the oracle: how redis-server (7.x, networking.c) splits a query buffer into commands --------

const INLINE_MAX = 64 * 1024;            // PROTO_INLINE_MAX_SIZE
const BULK_MAX = 512n * 1024n * 1024n;   // proto-max-bulk-len default
const isSpaceC = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);
const isHex = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const hexVal = (b: number): number => (b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10);

/** sds.c sdssplitargs over one line (which holds no NUL: the line search stops at one). null: unbalanced quotes. */
function sdssplitargs(line: Buffer): Buffer[] | null {
  const at = (i: number): number => (i < line.length ? line[i] : 0);
  const out: Buffer[] = [];
  let p = 0;
  for (;;) {
    while (at(p) && isSpaceC(at(p))) p++;
    if (!at(p)) return out;
    let inq = false, insq = false, done = false;
    const cur: number[] = [];
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && isHex(at(p + 2)) && isHex(at(p + 3))) { cur.push(hexVal(at(p + 2)) * 16 + hexVal(at(p + 3))); p += 3; }
        else if (c === 0x5c && at(p + 1)) {
          p++;
          const e = at(p);
          cur.push(e === 0x6e ? 10 : e === 0x72 ? 13 : e === 0x74 ? 9 : e === 0x62 ? 8 : e === 0x61 ? 7 : e);
        } else if (c === 0x22) { if (at(p + 1) && !isSpaceC(at(p + 1))) return null; done = true; }
        else if (!c) return null;
        else cur.push(c);
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) { p++; cur.push(0x27); }
        else if (c === 0x27) { if (at(p + 1) && !isSpaceC(at(p + 1))) return null; done = true; }
        else if (!c) return null;
        else cur.push(c);
      } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) done = true;
      else if (c === 0x22) inq = true;
      else if (c === 0x27) insq = true;
      else cur.push(c);
      if (at(p)) p++;
    }
    out.push(Buffer.from(cur));
  }
}

/** util.c string2ll: strict (no sign but '-', no leading zero, no blanks), int64 range. */
function string2ll(b: Buffer): bigint | null {
  const s = b.toString("latin1");
  if (s === "0") return 0n;
  if (!/^-?[1-9][0-9]*$/.test(s)) return null;
  const v = BigInt(s);
  return v > 2n ** 63n - 1n || v < -(2n ** 63n) ? null : v;
}

/** strchr from `from`: the query buffer is a C string to it, so the search stops at a NUL. */
function strchr(buf: Buffer, from: number, ch: number): number {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] === ch) return i;
    if (buf[i] === 0) return -1;
  }
  return -1;
}

/** One request unit: a command (argv), or bytes Redis consumes without running anything (argv null: empty line, *0, *-1). */
interface RedisUnit { start: number; end: number; argv: Buffer[] | null }
interface RedisParse { units: RedisUnit[]; end: number; stop: "complete" | "incomplete" | "error" }

/**
 * processInputBuffer over the whole buffer: '*' → multibulk, anything else → an inline line.
 * Redis runs every unit before the first protocol error, then closes; nothing after it runs.
 * (Redis does not check the byte after a count/length line's '\r' nor the two after a bulk.)
 */
function redisParse(buf: Buffer): RedisParse {
  const units: RedisUnit[] = [];
  let pos = 0;
  const stop = (s: RedisParse["stop"]): RedisParse => ({ units, end: pos, stop: s });
  const waitOrTooBig = (from: number): RedisParse => stop(buf.length - from > INLINE_MAX ? "error" : "incomplete");
  while (pos < buf.length) {
    if (buf[pos] === 0x2a) {
      const nl = strchr(buf, pos, 0x0d);
      if (nl < 0) return waitOrTooBig(pos);
      if (nl - pos > buf.length - pos - 2) return stop("incomplete");
      const n = string2ll(buf.subarray(pos + 1, nl));
      if (n === null || n > 2147483647n) return stop("error");
      let p = nl + 2;
      if (n <= 0n) { units.push({ start: pos, end: p, argv: null }); pos = p; continue; }
      const argv: Buffer[] = [];
      for (let i = 0n; i < n; i++) {
        const l = strchr(buf, p, 0x0d);
        if (l < 0) return waitOrTooBig(p);
        if (l - p > buf.length - p - 2) return stop("incomplete");
        if (buf[p] !== 0x24) return stop("error");
        const len = string2ll(buf.subarray(p + 1, l));
        if (len === null || len < 0n || len > BULK_MAX) return stop("error");
        p = l + 2;
        if (buf.length - p < Number(len) + 2) return stop("incomplete");
        argv.push(buf.subarray(p, p + Number(len)));
        p += Number(len) + 2;
      }
      units.push({ start: pos, end: p, argv });
      pos = p;
    } else {
      const nl = strchr(buf, pos, 0x0a);
      if (nl < 0) return waitOrTooBig(pos);
      const e = nl !== pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      const argv = sdssplitargs(buf.subarray(pos, e));
      if (argv === null) return stop("error");
      units.push({ start: pos, end: nl + 1, argv: argv.length > 0 ? argv : null });
      pos = nl + 1;
    }
  }
  return stop("complete");
}

const upper = (b: Buffer): string => latin1(b).replace(/[a-z]/g, (c) => c.toUpperCase());
/** The command the filter must deny (its name, ASCII case-folded). */
const isFlushall = (u: RedisUnit): boolean => u.argv !== null && upper(u.argv[0]) === "FLUSHALL";
/**
 * Whether Redis might run it as FLUSHALL: its command table compares names with strcasecmp, which
 * stops at a NUL (the hash covers the whole name, so a longer name only matches on a bucket
 * collision — counted here all the same).
 */
const mayRunFlushall = (u: RedisUnit): boolean => {
  if (u.argv === null) return false;
  const name = u.argv[0];
  const nul = name.indexOf(0);
  return upper(nul < 0 ? name : name.subarray(0, nul)) === "FLUSHALL";
};
/** A name FLUSHALL<NUL>…: the filter sees another command, Redis may run FLUSHALL. */
const nulFlushall = (u: RedisUnit): boolean => mayRunFlushall(u) && !isFlushall(u);
const isPingCmd = (u: RedisUnit): boolean => u.argv !== null && u.argv.length === 1 && upper(u.argv[0]) === "PING";

// ---- generators -------------------------------------------------------------------------------

/** A request, what the fake server answers to what it receives for it, and whether it is denied. */
interface RedisReq { bytes: Buffer; reply: Buffer; denied: boolean; label: string }

const bulk = (v: Uint8Array): Buffer => cat([`$${v.length}\r\n`, Buffer.from(v), "\r\n"]);
const TRICKY = ["FLUSHALL", "flushall\r\n", "*1\r\n$8\r\nFLUSHALL\r\n", "\r\n", "\n", "*", "$", "\"", "'", " ", "\\x46", "PING\r\n", "\0"];
const smallBytes = fc.uint8Array({ maxLength: 24 });
const value = (big: boolean): fc.Arbitrary<Uint8Array> => fc.oneof(
  { weight: 5, arbitrary: smallBytes },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...TRICKY), { maxLength: 12 }).map((xs) => Buffer.from(xs.join(""), "latin1")) },
  { weight: big ? 2 : 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 3072 }) },
);
const keyArb = fc.oneof(fc.constantFrom("k", "user:1", "secret:1"), fc.string({ maxLength: 10 }));

function redisRequest(big: boolean): fc.Arbitrary<RedisReq> {
  const denied = (bytes: Buffer, label: string): RedisReq => ({ bytes, reply: Buffer.from("+PONG\r\n"), denied: true, label });
  const kinds: fc.WeightedArbitrary<RedisReq>[] = [
    { weight: 3, arbitrary: fc.tuple(keyArb, fc.option(value(big), { nil: undefined }))
      .map(([k, v]) => ({ bytes: command("GET", k), reply: v === undefined ? Buffer.from("$-1\r\n") : bulk(v), denied: false, label: "GET" })) },
    { weight: 3, arbitrary: fc.tuple(keyArb, value(big))
      .map(([k, v]) => ({ bytes: command("SET", k, v), reply: Buffer.from("+OK\r\n"), denied: false, label: `SET(${v.length})` })) },
    { weight: 1, arbitrary: fc.constant(null).map(() => denied(command("FLUSHALL"), "FLUSHALL")) },
    { weight: 1, arbitrary: fc.constantFrom("flushall", "FlushAll").map((n) => denied(command(n), n)) },
    { weight: 1, arbitrary: fc.constantFrom("FLUSHALL\r\n", "flushall\r\n", "FLUSHALL ASYNC\r\n").map((l) => denied(Buffer.from(l), "inline")) },
    { weight: 1, arbitrary: fc.constant(null).map(() => ({ bytes: command("PING"), reply: Buffer.from("+PONG\r\n"), denied: false, label: "PING" })) },
    { weight: 1, arbitrary: value(false).map((x) => ({ bytes: command("ECHO", x), reply: bulk(x), denied: false, label: "ECHO" })) },
  ];
  if (big) {
    // Denied requests that do not fit max_hold_bytes: FLUSHALL with a large argument, multibulk and inline.
    kinds.push({ weight: 2, arbitrary: fc.uint8Array({ minLength: 60, maxLength: 3072 }).map((v) => denied(command("FLUSHALL", v), `FLUSHALL+${v.length}`)) });
    kinds.push({ weight: 1, arbitrary: fc.integer({ min: 60, max: 2000 }).map((n) => denied(Buffer.from(`FLUSHALL ${"a".repeat(n)}\r\n`), `inline FLUSHALL+${n}`)) });
  }
  return fc.oneof(...kinds);
}
const pipeline = (big: boolean, max = 14) => fc.array(redisRequest(big), { minLength: 1, maxLength: max });

const REDIS_COUNTERS = ["requests_total", "denied_total", "hold_overflow_total", "policy_closed_total", "decode_errors_total"];

const labels = (reqs: RedisReq[]): string => reqs.map((r) => r.label).join(" ");

// ---- 1. pipelines of allowed and denied commands ----------------------------------------------

test("redis: random pipelines with FLUSHALL denied, any segmentation: FLUSHALL → PING upstream, its reply → -ERR, nothing else moves", async () => {
  const vm = await loadFilter({ policies: [NO_FLUSH] });
  check("redis pipelines", 0x5eed01, fc.property(pipeline(false), cutsArb, cutsArb, scheduleArb, (reqs, rc, pc, schedule) => {
    const what = `${labels(reqs)}${schedule ? " (interleaved)" : ""}`;
    const conn = openConnection(vm);
    const d = deltas(vm, "redis", REDIS_COUNTERS, () => {
      exchange(vm, conn, what, pieces(cat(reqs.map((r) => r.bytes)), rc), {
        up: reqs.map((r) => (r.denied ? PING : r.bytes)), answer: (i) => reqs[i].reply,
        back: (i) => (reqs[i].denied ? Buffer.from(FORBIDDEN) : reqs[i].reply), keys: null,
      }, pc, schedule);
    });
    assert.deepEqual(d, { requests_total: reqs.length, denied_total: reqs.filter((r) => r.denied).length,
      hold_overflow_total: 0, policy_closed_total: 0, decode_errors_total: 0 }, `${what}: counters`);
    conn.closeDownstream("remote");
  }));
});

test("redis: max_hold_bytes 64 with large requests: allowed ones stream, a denied one that overflowed closes the connection before its last byte", async () => {
  const HOLD = 64;
  const vm = await loadFilter({ policies: [NO_FLUSH], max_hold_bytes: HOLD });
  let closedRuns = 0, overflowRuns = 0;
  check("redis max_hold_bytes", 0x5eed02, fc.property(pipeline(true, 8), cutsArb, cutsArb, (reqs, rc, pc) => {
    const what = labels(reqs);
    const sent = cat(reqs.map((r) => r.bytes));
    const parts = pieces(sent, rc);
    const { overflows, closer, wantUp } = holdModel(reqs.map((r) => ({ bytes: r.bytes, up: r.denied ? PING : r.bytes, denied: r.denied })), readEnds(parts), HOLD);
    const conn = openConnection(vm);
    const d = deltas(vm, "redis", REDIS_COUNTERS, () => {
      feed(conn, parts, false, wantUp);
      noTrap(vm, what);
      const up = Buffer.from(conn.sentUpstream());
      assert.equal(latin1(up), latin1(wantUp), `${what}: upstream (closer ${closer})`);
      assert.equal(conn.closed, closer >= 0, `${what}: closed`);
      // Read as Redis reads it, nothing that went up is a FLUSHALL.
      const p = redisParse(up);
      assert.ok(!p.units.some(mayRunFlushall), `${what}: a whole FLUSHALL reached upstream`);
      if (closer < 0) {
        const wantDown = cat(reqs.map((r) => (r.denied ? FORBIDDEN : r.reply)));
        feed(conn, pieces(cat(reqs.map((r) => r.reply)), pc), true, wantDown);
        noTrap(vm, what);
        assert.equal(latin1(conn.sentDownstream()), latin1(wantDown), `${what}: downstream`);
      }
    });
    const processed = reqs.slice(0, closer < 0 ? reqs.length : closer + 1);
    // Redis does not count the request that closes the connection in requests_total (it does count
    // it in denied_total; Thrift and Dubbo count it in both): the todo test below pins the fix, this
    // property takes either.
    if (closer >= 0 && d.requests_total === closer + 1) d.requests_total = closer;
    assert.deepEqual(d, {
      requests_total: closer < 0 ? reqs.length : closer, denied_total: processed.filter((r) => r.denied).length,
      hold_overflow_total: overflows.slice(0, processed.length).filter(Boolean).length,
      policy_closed_total: closer >= 0 ? 1 : 0, decode_errors_total: 0,
    }, `${what}: counters`);
    if (closer >= 0) closedRuns++;
    if (overflows.some(Boolean)) overflowRuns++;
    if (!conn.closed) conn.closeDownstream("remote");
  }));
  // the generator reaches both outcomes
  assert.ok(closedRuns > 10 && overflowRuns > closedRuns, `closed in ${closedRuns} runs, overflow in ${overflowRuns}`);
});

// Found by the max_hold_bytes properties: the request that closes the connection is counted in
// denied_total, and by Thrift and Dubbo in requests_total too (every denied request is a request);
// Redis used to leave it out of requests_total (denied_total > requests_total).
test("redis: a denied request that overflowed max_hold_bytes and closed the connection counts in requests_total, as Thrift and Dubbo count it",
  async () => {
    const vm = await loadFilter({ policies: [NO_FLUSH], max_hold_bytes: 64 });
    const conn = openConnection(vm);
    const big = command("FLUSHALL", "x".repeat(100));
    conn.downstreamData(big.subarray(0, 80));
    conn.downstreamData(big.subarray(80));
    assert.equal(conn.closed, true);
    assert.equal(latin1(conn.sentUpstream()), latin1(big.subarray(0, 80)));
    const count = (n: string) => legacyCounter(vm.metrics, "redis", n);
    assert.deepEqual([count("denied_total"), count("policy_closed_total"), count("requests_total")], [1, 1, 1]);
  });

// ---- 2. garbage inserted or appended ----------------------------------------------------------

/** Edits applied to a pipeline: insert garbage at a position, overwrite a byte, delete a byte; then maybe append garbage. */
type Edit = { kind: "insert"; at: number; bytes: Buffer } | { kind: "set"; at: number; byte: number } | { kind: "delete"; at: number };
const GARBAGE_TOKENS = ["\r\n", "\n", "\r", "\r\r\n", "*", "*1\r\n", "*2\r\n", "*-1\r\n", "*0\r\n", "$8\r\n", "$-1\r\n", "$0\r\n\r\n", "$",
  "FLUSHALL", "flushall", "FLUSHALL\r\n", "*1\r\n$8\r\nFLUSHALL\r\n", "\0", "\"", "'", "\\", " ", "\t", "\x0b", "0", "1", "9", "-", "+", "x"];
const garbage: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.array(fc.constantFrom(...GARBAGE_TOKENS), { minLength: 1, maxLength: 4 }).map((xs) => Buffer.from(xs.join(""), "latin1")),
);
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.nat(), garbage).map(([at, bytes]) => ({ kind: "insert" as const, at, bytes })) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0d, 0x0a, 0x30, 0x31, 0x38, 0x39, 0x24, 0x2a)))
    .map(([at, byte]) => ({ kind: "set" as const, at, byte })) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: "delete" as const, at })) },
);

/**
 * Whole extra requests, many of them valid, in the spellings Redis accepts and the odd ones it
 * refuses: inline lines of words (quoted, \x-escaped, a quote opening inside a word) separated by
 * any C blank (\v and \f end no unquoted word), empty lines, *0 / *-1, multibulk with odd numbers.
 */
const INLINE_WORDS = ["FLUSHALL", "flushall", "FlushAll", '"flush\\x61ll"', "'FLUSHALL'", 'F"LUSHALL"', '"FLUSH"ALL', "FLUSH'ALL'", "PING", "GET", "k",
  '"\\x46LUSHALL"', '"\\xZZ"', "'a\\'b'", '"', "'", "a\\", "\x00", "FLUSHALL\x0b"];
const INLINE_BLANKS = [" ", "  ", "\t", "\x0b", "\x0c", "\r"];
const extraUnit: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("", ...INLINE_BLANKS), fc.array(fc.tuple(fc.constantFrom(...INLINE_WORDS), fc.constantFrom(...INLINE_BLANKS)), { minLength: 1, maxLength: 3 }),
    fc.constantFrom("\r\n", "\n", "\r\r\n"))
    .map(([lead, words, eol]) => Buffer.from(lead + words.map(([w, b], i) => (i < words.length - 1 ? w + b : w)).join("") + eol, "latin1")) },
  { weight: 2, arbitrary: fc.constantFrom("\r\n", "\n", " \r\n", "*0\r\n", "*-1\r\n", "*-7\r\n").map((x) => Buffer.from(x, "latin1")) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("*1", "*1", "*1", "*01", "*+1", "*1 ", "*2"), fc.constantFrom("$8", "$8", "$8", "$08", "$+8", "$8 ", "$9"),
    fc.constantFrom("FLUSHALL", "flushall", "FLUSHALL\0"), fc.constantFrom("\r\n", "\r\n", "\r\n", "\rX", "\n\n", "xx"), fc.constantFrom("", "$1\r\nx\r\n"))
    .map(([n, len, name, crlf, more]) => Buffer.from(`${n}\r\n${len}\r\n${name}${crlf}${more}`, "latin1")) },
);

/** Inserts each extra unit at a request boundary (index modulo the number of boundaries). */
function insertUnits(reqs: Buffer[], extra: [number, Buffer][]): Buffer {
  const parts = reqs.map((r) => [r]);
  parts.push([]);
  for (const [at, unit] of extra) parts[at % parts.length].unshift(unit);
  return Buffer.concat(parts.flat());
}

function applyEdits(buf: Buffer, edits: Edit[], tail: Buffer | undefined): Buffer {
  let b = Buffer.from(buf);
  for (const e of edits) {
    const i = e.at % (b.length + (e.kind === "insert" ? 1 : 0) || 1);
    if (e.kind === "insert") b = Buffer.concat([b.subarray(0, i), e.bytes, b.subarray(i)]);
    else if (b.length === 0) continue;
    else if (e.kind === "set") b[i] = e.byte;
    else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
  }
  return tail ? Buffer.concat([b, tail]) : b;
}

test("redis: garbage inserted or appended, any segmentation: no trap; handled exactly or closed, and no whole FLUSHALL ever reaches upstream", async () => {
  const vm = await loadFilter({ policies: [NO_FLUSH] });
  let closedRuns = 0, handledRuns = 0;
  check("redis garbage", 0x5eed03, fc.property(pipeline(false, 10), fc.array(fc.tuple(fc.nat(), extraUnit), { maxLength: 3 }),
    fc.array(editArb, { maxLength: 2 }), fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: garbage }), cutsArb, cutsArb, (reqs, extra, edits, tail, rc, pc) => {
      const sent = applyEdits(insertUnits(reqs.map((r) => r.bytes), extra), edits, tail);
      const what = JSON.stringify(latin1(sent));
      const parsed = redisParse(sent);
      // what the filter must make of each unit Redis reads: FLUSHALL → PING, the rest as it is (a
      // name with a NUL after FLUSHALL: either — see the todo test "a command name with a NUL")
      const want = parsed.units.map((u) => (isFlushall(u) ? [PING] : nulFlushall(u) ? [sent.subarray(u.start, u.end), PING] : [sent.subarray(u.start, u.end)]));
      const parts = pieces(sent, rc);
      // A read that ends inside a request is held whole (Pause), the whole requests before it
      // included, until a read ends between requests: what goes up are the units that end by then.
      const unitEnds = new Set(parsed.units.map((u) => u.end));
      const lastFree = Math.max(0, ...readEnds(parts).filter((c) => unitEnds.has(c)));
      const forwardable = parsed.units.filter((u) => u.end <= lastFree).length;
      const conn = openConnection(vm);
      const d = deltas(vm, "redis", REDIS_COUNTERS, () => {
        feed(conn, parts, false);
        noTrap(vm, what);
        const up = Buffer.from(conn.sentUpstream());
        // 1. Redis, reading what went up, never runs a FLUSHALL (but for the known NUL-name bug, pinned by its todo test).
        const upParsed = redisParse(up);
        const ran = upParsed.units.find((u) => mayRunFlushall(u) && !nulFlushall(u));
        assert.equal(ran, undefined, `${what}: a FLUSHALL reached upstream: ${JSON.stringify(latin1(up))}`);
        // 2. What went up is whole units of the input, in order, rewritten (nothing lost, added or reordered).
        let off = 0, k = 0;
        const substituted: boolean[] = [];
        for (; k < want.length; k++) {
          const alt = want[k].find((w) => up.subarray(off, off + w.length).equals(w));
          if (!alt) break;
          substituted.push(alt === PING && !isPingCmd(parsed.units[k]));
          off += alt.length;
        }
        assert.equal(off, up.length, `${what}: upstream is not the input's units in order, rewritten\n got ${JSON.stringify(latin1(up))}\n matched ${k} units`);
        if (conn.closed) { closedRuns++; return; }
        // 3. Not closed: Redis finds no error, and every unit not held went up.
        assert.notEqual(parsed.stop, "error", `${what}: Redis refuses these bytes, the filter let the connection on`);
        assert.equal(k, forwardable, `${what}: ${k} units went up, ${forwardable} expected (of ${want.length})`);
        handledRuns++;
        // The server answers each command it got (PING → PONG, anything else +OK); the substitutes' answers become -ERR.
        const cmds = parsed.units.slice(0, k).map((u, i) => ({ u, sub: substituted[i] })).filter(({ u }) => u.argv !== null);
        const replies = cat(cmds.map(({ u, sub }) => (sub || isPingCmd(u) ? "+PONG\r\n" : "+OK\r\n")));
        const wantDown = cat(cmds.map(({ u, sub }) => (sub ? FORBIDDEN : isPingCmd(u) ? "+PONG\r\n" : "+OK\r\n")));
        feed(conn, pieces(replies, pc), true, wantDown);
        noTrap(vm, what);
        assert.equal(latin1(conn.sentDownstream()), latin1(wantDown), `${what}: downstream`);
        assert.equal(conn.closed, false, `${what}: closed on the replies`);
      });
      if (!conn.closed) {
        // decided (and counted) once whole, held or not
        const denied = d.denied_total, exact = parsed.units.filter(isFlushall).length;
        assert.ok(denied >= exact && denied <= exact + parsed.units.filter(nulFlushall).length, `${what}: denied_total ${denied}, FLUSHALLs ${exact}`);
        assert.equal(d.policy_closed_total, 0, `${what}: policy_closed_total`);
        conn.closeDownstream("remote");
      } else {
        assert.equal(d.policy_closed_total, 1, `${what}: closed, policy_closed_total`);
      }
    }), 2 * RUNS);
  assert.ok(closedRuns > 20 && handledRuns > 20, `closed ${closedRuns}, handled ${handledRuns}`);
});

// Found by the garbage property (shrunk): redis-server looks command names up in a dict hashed over
// the whole name but compared with strcasecmp, which stops at a NUL. So `FLUSHALL\0<suffix>` runs
// FLUSHALL whenever its hash lands in FLUSHALL's bucket: against redis-server 7.0.15, 16 of 4,000
// suffixes ("\0" + "0".."3999") answered +OK and emptied the database (the hash seed is random per
// process, so which suffixes hit changes, their share ~1/256 does not). The filter used to compare
// the whole name, see an unknown command and forward it; it now refuses any command name holding a
// NUL by closing the connection before the request goes up (denying it would also do).
test("redis: a command name with a NUL after FLUSHALL is denied or closed (Redis may run it as FLUSHALL)",
  async () => {
    const vm = await loadFilter({ policies: [NO_FLUSH] });
    for (const name of ["FLUSHALL\0", "FLUSHALL\x000", "flushall\0x", "FlushAll\0\0\0"]) {
      const conn = openConnection(vm);
      conn.downstreamData(cat([command("GET", "k"), command(Buffer.from(name, "latin1"))]));
      const up = latin1(conn.sentUpstream());
      assert.ok(conn.closed ? !up.includes("FLUSHALL") && !up.includes("flushall") && !up.includes("FlushAll") : up === latin1(cat([command("GET", "k"), PING])),
        `${JSON.stringify(name)}: upstream ${JSON.stringify(up)}, closed ${conn.closed}`);
      noTrap(vm, name);
    }
  });

test("redis oracle: reads like redis-server (inline quoting, blind CRLF skips, NUL, empty units)", () => {
  const names = (s: string) => redisParse(Buffer.from(s, "latin1")).units.map((u) => (u.argv ? u.argv.map(latin1).join(" ") : null));
  assert.deepEqual(names("*1\r\n$8\r\nFLUSHALLxx*0\r\n\r\n"), ["FLUSHALL", null, null]);
  assert.deepEqual(names("*1\rX$4\r\nPING\r\n"), ["PING"]);
  assert.deepEqual(names("  \"flush\\x61ll\" 'a\\'b'\r\n"), ["flushall a'b"]);
  assert.deepEqual(names("a\"b c\" d\n"), ["ab c d"]);
  assert.deepEqual(redisParse(Buffer.from("\"FLUSH\"ALL\r\n")).stop, "error");
  assert.deepEqual(redisParse(Buffer.from("*1\r\n$08\r\nFLUSHALL\r\n")).stop, "error");
  assert.deepEqual(redisParse(Buffer.from("PING\0\r\nFLUSHALL\r\n")), { units: [], end: 0, stop: "incomplete" });
  assert.deepEqual(names("*-3\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nFLUSHALL\r\n\r\n"), [null, "SET k FLUSHALL\r\n"]);
  // the count of a SET lowered by one: its value is read as the next (inline) request
  assert.deepEqual(names("*2\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nFLUSHALL\r\n\r\n"), ["SET k", "$10", "FLUSHALL", null]);
});

// ================================================================================================
// Thrift
// ================================================================================================

const DENY_FIND = { name: "no-find", match: { method: { exact: "find" } }, deny: { message: "find is not allowed here ✋" } };

interface ThriftCall { method: string; oneway: boolean; fields: Field[]; headers: Record<string, string>; exception: boolean; answer: string }

const fieldArb: fc.Arbitrary<Field> = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.string({ maxLength: 16, unit: "grapheme" })).map(([id, s]) => ({ id, string: s })),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer()).map(([id, n]) => ({ id, i64: n })),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.oneof(smallBytes, fc.uint8Array({ maxLength: 2048 }))).map(([id, b]) => ({ id, binary: Buffer.from(b) })),
);
const thriftCall: fc.Arbitrary<ThriftCall> = fc.record({
  method: fc.constantFrom("ping", "find", "echoText", "record", "find"),
  oneway: fc.constantFrom(false, false, false, true),
  fields: fc.array(fieldArb, { maxLength: 3 }),
  headers: fc.dictionary(fc.constantFrom("x-tenant", "x-seq", "x-trace"), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
  exception: fc.constantFrom(false, false, false, true),
  answer: fc.string({ maxLength: 24, unit: "grapheme" }),
});
const MAX_CALLS = 10;
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

test("thrift: random calls (denied, allowed, oneway) on every stack, any segmentation, replies in any order: substitutes up, policy exceptions down", async () => {
  const vms = new Map<boolean, WasmVm>();
  for (const lax of [false, true]) vms.set(lax, await loadFilter({ protocol: "thrift", thrift: { lax_binary_unframed: lax }, policies: [DENY_FIND] }));
  check("thrift", 0x5eed04, fc.property(
    fc.constantFrom(...WIRE_STACKS), fc.constantFrom("", "Catalog"), fc.array(thriftCall, { minLength: 1, maxLength: MAX_CALLS }),
    distinct(int32, MAX_CALLS), fc.array(fc.nat({ max: 2 ** 31 - 1 }), { minLength: MAX_CALLS, maxLength: MAX_CALLS }), orderKeys(MAX_CALLS), cutsArb, cutsArb,
    scheduleArb, (stack, service, calls, seqids, headerSeqs, keys, rc, pc, schedule) => {
      const header = stack.transport === "header";
      const what = `${stackName(stack)} ${service || "plain"} ${calls.map((c) => `${c.method}${c.oneway ? "(oneway)" : ""}`).join(" ")}${schedule ? " (interleaved)" : ""}`;
      const vm = vms.get(stack.protocol === "lax")!;
      const wire = (m: string) => (service ? `${service}:${m}` : m);
      const hs = (i: number) => (header ? headerSeqs[i] : 0);
      const sentMsgs = calls.map((c, i) => message(stack, wire(c.method), c.oneway ? MessageType.ONEWAY : MessageType.CALL, seqids[i], c.fields,
        header ? { headerSeqId: headerSeqs[i], headers: c.headers } : {}));
      const denied = calls.map((c) => c.method === "find");
      // the server answers every CALL it got, in a random order: its own reply, or an unknown-method exception for the reserved name
      const serverReply = (i: number): Buffer | null => {
        const c = calls[i];
        if (c.oneway) return null;
        if (denied[i]) return appException(stack, RESERVED_METHOD, seqids[i], `Unknown function ${RESERVED_METHOD}`, UNKNOWN_METHOD, { headerSeqId: hs(i) });
        if (c.exception) return appException(stack, c.method, seqids[i], c.answer, UNKNOWN_METHOD, { headerSeqId: hs(i) });
        return message(stack, c.method, MessageType.REPLY, seqids[i], [{ id: 0, string: c.answer }], { headerSeqId: hs(i) });
      };
      const conn = openConnection(vm);
      const d = deltas(vm, "thrift", ["requests_total", "denied_total", "policy_closed_total", "decode_errors_total", "rewrite_failures_total"], () => {
        const answered = exchange(vm, conn, what, pieces(Buffer.concat(sentMsgs), rc), {
          up: calls.map((c, i) => (!denied[i] ? sentMsgs[i] : c.oneway ? Buffer.alloc(0) : reservedCall(stack, service, seqids[i], hs(i)))),
          answer: serverReply,
          back: (i) => (denied[i] ? appException(stack, calls[i].method, seqids[i], DENY_FIND.deny.message, INTERNAL_ERROR, { headerSeqId: hs(i) }) : serverReply(i)!),
          keys,
        }, pc, schedule);
        assert.deepEqual(readStream(stack, Buffer.from(conn.sentUpstream())).map((m) => [m.name, m.type, m.seqid]),
          calls.flatMap((c, i) => (denied[i] ? (c.oneway ? [] : [[wire(RESERVED_METHOD), MessageType.CALL, seqids[i]]])
            : [[wire(c.method), c.oneway ? MessageType.ONEWAY : MessageType.CALL, seqids[i]]])), `${what}: upstream decoded`);
        const got = readStream(stack, Buffer.from(conn.sentDownstream()));
        assert.deepEqual(got.map((m, j) => [m.name, m.seqid, denied[answered[j]] ? m.ex : undefined]),
          answered.map((i) => [calls[i].method, seqids[i], denied[i] ? { message: DENY_FIND.deny.message, type: INTERNAL_ERROR } : undefined]), `${what}: downstream decoded`);
        assert.equal(answered.length, calls.filter((c) => !c.oneway).length, `${what}: every call answered`);
      });
      assert.deepEqual(d, { requests_total: calls.length, denied_total: denied.filter(Boolean).length, policy_closed_total: 0,
        decode_errors_total: 0, rewrite_failures_total: 0 }, `${what}: counters`);
      conn.closeDownstream("remote");
    }));
});

test("thrift: max_hold_bytes 256 with large calls: allowed ones stream, a denied call or oneway that overflowed closes the connection before its last byte", async () => {
  const HOLD = 256;
  const vms = new Map<boolean, WasmVm>();
  for (const lax of [false, true]) vms.set(lax, await loadFilter({ protocol: "thrift", thrift: { lax_binary_unframed: lax }, policies: [DENY_FIND], max_hold_bytes: HOLD }));
  let closedRuns = 0;
  const bigCall = fc.record({ method: fc.constantFrom("ping", "find", "record"), oneway: fc.boolean(),
    fields: fc.array(fc.oneof(fieldArb, fc.uint8Array({ minLength: 200, maxLength: 3072 }).map((b): Field => ({ id: 7, binary: Buffer.from(b) }))), { maxLength: 3 }) });
  check("thrift max_hold_bytes", 0x5eed06, fc.property(fc.constantFrom(...WIRE_STACKS), fc.constantFrom("", "Catalog"), fc.array(bigCall, { minLength: 1, maxLength: 6 }),
    distinct(int32, MAX_CALLS), cutsArb, (stack, service, calls, seqids, rc) => {
      const what = `${stackName(stack)} ${service || "plain"} ${calls.map((c) => `${c.method}${c.oneway ? "(oneway)" : ""}`).join(" ")}`;
      const vm = vms.get(stack.protocol === "lax")!;
      const wire = (m: string) => (service ? `${service}:${m}` : m);
      const hs = (i: number) => (stack.transport === "header" ? 100 + i : 0);
      const reqs: HeldRequest[] = calls.map((c, i) => {
        const bytes = message(stack, wire(c.method), c.oneway ? MessageType.ONEWAY : MessageType.CALL, seqids[i], c.fields, { headerSeqId: hs(i) });
        const denied = c.method === "find";
        return { bytes, denied, up: !denied ? bytes : c.oneway ? Buffer.alloc(0) : reservedCall(stack, service, seqids[i], hs(i)) };
      });
      const parts = pieces(Buffer.concat(reqs.map((r) => r.bytes)), rc);
      const { overflows, closer, wantUp } = holdModel(reqs, readEnds(parts), HOLD);
      const conn = openConnection(vm);
      const d = deltas(vm, "thrift", ["requests_total", "denied_total", "hold_overflow_total", "policy_closed_total", "decode_errors_total"], () => {
        feed(conn, parts, false, wantUp);
        noTrap(vm, what);
        const up = Buffer.from(conn.sentUpstream());
        assert.ok(up.equals(wantUp), `${what}: upstream (closer ${closer})\n got  ${up.toString("hex")}\n want ${wantUp.toString("hex")}`);
        assert.equal(conn.closed, closer >= 0, `${what}: closed`);
        if (closer < 0) readStream(stack, up);   // whole messages, framing consistent
      });
      const processed = reqs.slice(0, closer < 0 ? reqs.length : closer + 1);
      assert.deepEqual(d, { requests_total: processed.length, denied_total: processed.filter((r) => r.denied).length,
        hold_overflow_total: overflows.slice(0, processed.length).filter(Boolean).length, policy_closed_total: closer >= 0 ? 1 : 0,
        decode_errors_total: 0 }, `${what}: counters`);
      if (closer >= 0) closedRuns++;
      if (!conn.closed) conn.closeDownstream("remote");
    }));
  assert.ok(closedRuns > 10, `closed in ${closedRuns} runs`);
});

// ================================================================================================
// Dubbo
// ================================================================================================

const DENY_DELETE = { name: "no-delete", match: { method: { exact: "delete" } }, deny: { message: "delete is denied ✋ 😀" } };

interface DubboItem { kind: "call" | "oneway" | "heartbeat"; method: string; service: string; args: string[]; attachments: Record<string, string>; answer: string }

const dubboItem: fc.Arbitrary<DubboItem> = fc.record({
  kind: fc.constantFrom("call", "call", "call", "oneway", "heartbeat"),
  method: fc.constantFrom("get", "put", "delete"),
  service: fc.constantFrom("org.shop.Cart", "org.shop.Admin"),
  args: fc.array(fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 20, unit: "grapheme" }) }, { weight: 1, arbitrary: fc.string({ minLength: 100, maxLength: 2000 }) }), { maxLength: 3 }),
  attachments: fc.dictionary(fc.constantFrom("x-tenant", "group", "timeout"), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
  answer: fc.string({ maxLength: 30, unit: "grapheme" }),
});
const dubboId = fc.oneof(fc.nat(), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }));

test("dubbo: random two-way, one-way and heartbeat frames, any segmentation, answers in any order: denied → heartbeat up, status 70 down", async () => {
  const vm = await loadFilter({ protocol: "dubbo", policies: [DENY_DELETE] });
  check("dubbo", 0x5eed05, fc.property(fc.array(dubboItem, { minLength: 1, maxLength: MAX_CALLS }), distinct(dubboId, MAX_CALLS), orderKeys(MAX_CALLS), cutsArb, cutsArb,
    scheduleArb, (items, ids, keys, rc, pc, schedule) => {
      const what = `${items.map((x, i) => `${x.kind}:${x.kind === "heartbeat" ? "" : x.method}#${ids[i]}`).join(" ")}${schedule ? " (interleaved)" : ""}`;
      const frames = items.map((x, i) => (x.kind === "heartbeat" ? heartbeat(ids[i])
        : request({ id: ids[i], service: x.service, method: x.method, args: x.args, attachments: x.attachments, twoWay: x.kind === "call" })));
      const denied = items.map((x) => x.kind !== "heartbeat" && x.method === "delete");
      // the provider answers every two-way frame it got (requests and heartbeats), in a random order
      const providerAnswer = (i: number): Buffer | null => (items[i].kind === "oneway" ? null
        : items[i].kind === "heartbeat" || denied[i] ? heartbeatAnswer(ids[i]) : okResponse(ids[i], items[i].answer));
      const conn = openConnection(vm);
      const d = deltas(vm, "dubbo", ["requests_total", "denied_total", "policy_closed_total", "decode_errors_total", "rewrite_failures_total"], () => {
        const answered = exchange(vm, conn, what, pieces(Buffer.concat(frames), rc), {
          up: items.map((x, i) => (!denied[i] ? frames[i] : x.kind === "call" ? heartbeat(ids[i]) : Buffer.alloc(0))),
          answer: providerAnswer,
          back: (i) => (denied[i] ? errorResponse(ids[i], 70, DENY_DELETE.deny.message) : providerAnswer(i)!),
          keys,
        }, pc, schedule);
        assert.deepEqual(dubboFrames(Buffer.from(conn.sentUpstream())).map((f) => [f.id, isHeartbeat(f) ? "heartbeat" : requestHead(f).method]),
          items.flatMap((x, i) => (denied[i] ? (x.kind === "call" ? [[BigInt(ids[i]), "heartbeat"]] : [])
            : [[BigInt(ids[i]), x.kind === "heartbeat" ? "heartbeat" : x.method]])), `${what}: upstream decoded`);
        assert.deepEqual(dubboFrames(Buffer.from(conn.sentDownstream())).map((f) => [f.id, f.status]),
          answered.map((i) => [BigInt(ids[i]), denied[i] ? 70 : 20]), `${what}: downstream decoded`);
        assert.equal(answered.length, items.filter((x) => x.kind !== "oneway").length, `${what}: every two-way frame answered`);
      });
      assert.deepEqual(d, { requests_total: items.filter((x) => x.kind !== "heartbeat").length, denied_total: denied.filter(Boolean).length,
        policy_closed_total: 0, decode_errors_total: 0, rewrite_failures_total: 0 }, `${what}: counters`);
      conn.closeDownstream("remote");
    }));
});

test("dubbo: max_hold_bytes 256 with large requests: allowed ones stream, a denied one that overflowed closes the connection before its last byte", async () => {
  const HOLD = 256;
  const vm = await loadFilter({ protocol: "dubbo", policies: [DENY_DELETE], max_hold_bytes: HOLD });
  let closedRuns = 0;
  const bigItem = fc.record({ kind: fc.constantFrom("call", "call", "oneway", "heartbeat"), method: fc.constantFrom("get", "delete"),
    args: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 200, maxLength: 3000 })), { maxLength: 2 }) });
  check("dubbo max_hold_bytes", 0x5eed07, fc.property(fc.array(bigItem, { minLength: 1, maxLength: 6 }), distinct(dubboId, MAX_CALLS), cutsArb, (items, ids, rc) => {
    const what = items.map((x, i) => `${x.kind}:${x.kind === "heartbeat" ? "" : x.method}#${ids[i]}`).join(" ");
    const reqs: HeldRequest[] = items.map((x, i) => {
      if (x.kind === "heartbeat") { const hb = heartbeat(ids[i]); return { bytes: hb, up: hb, denied: false }; }
      const bytes = request({ id: ids[i], method: x.method, args: x.args, twoWay: x.kind === "call" });
      const denied = x.method === "delete";
      return { bytes, denied, up: !denied ? bytes : x.kind === "call" ? heartbeat(ids[i]) : Buffer.alloc(0) };
    });
    const parts = pieces(Buffer.concat(reqs.map((r) => r.bytes)), rc);
    const { overflows, closer, wantUp } = holdModel(reqs, readEnds(parts), HOLD);
    const conn = openConnection(vm);
    const d = deltas(vm, "dubbo", ["requests_total", "denied_total", "hold_overflow_total", "policy_closed_total", "decode_errors_total"], () => {
      feed(conn, parts, false, wantUp);
      noTrap(vm, what);
      const up = Buffer.from(conn.sentUpstream());
      assert.ok(up.equals(wantUp), `${what}: upstream (closer ${closer})\n got  ${up.toString("hex")}\n want ${wantUp.toString("hex")}`);
      assert.equal(conn.closed, closer >= 0, `${what}: closed`);
    });
    const processed = items.slice(0, closer < 0 ? items.length : closer + 1);
    assert.deepEqual(d, { requests_total: processed.filter((x) => x.kind !== "heartbeat").length,
      denied_total: reqs.slice(0, processed.length).filter((r) => r.denied).length,
      hold_overflow_total: overflows.slice(0, processed.length).filter(Boolean).length, policy_closed_total: closer >= 0 ? 1 : 0,
      decode_errors_total: 0 }, `${what}: counters`);
    if (closer >= 0) closedRuns++;
    if (!conn.closed) conn.closeDownstream("remote");
  }));
  assert.ok(closedRuns > 10, `closed in ${closedRuns} runs`);
});
