// Redis enforcement under the harness, in memory, byte exact: what the server receives (upstream)
// and what the client receives (downstream) when policies deny, fault or rate-limit a command, and
// when the filter enforces or injects AUTH. The security cases try to slip a denied command past
// the filter: any segmentation, pipelining, case, inline forms, RESP3, MULTI, oversize requests,
// subscribed mode, and bytes the filter's decoder refuses but Redis executes.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { WasmVm } from "../host/vm.js";
import type { FilterConnection } from "../host/connection.js";
import { loadFilter, openConnection } from "../support/filter.js";
import { command, splitAt } from "../support/resp.js";
import { ManualClock, NOAUTH, PING_SUBSTITUTE, WRONGPASS, denyPolicy, latin1, redisCounter } from "../support/redis-policy.js";

const NO_FLUSH = denyPolicy("no-flush", { method: { exact: "FLUSHALL" } });
const PING = PING_SUBSTITUTE;
const cat = (...parts: (Buffer | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)));

async function open(config: object, opts = {}): Promise<{ vm: WasmVm; conn: FilterConnection }> {
  const vm = await loadFilter(config, opts);
  return { vm, conn: openConnection(vm) };
}

const counter = (vm: WasmVm, name: string, where: Record<string, string> = {}): number => redisCounter(vm.metrics, name, where);

function counters(vm: WasmVm, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, counter(vm, n)]));
}

const up = (conn: FilterConnection): string => latin1(conn.sentUpstream());
const down = (conn: FilterConnection): string => latin1(conn.sentDownstream());

// ---- deny -----------------------------------------------------------------------------------------

const SET_A = command("SET", "a", "1");
const GET_A = command("GET", "a");
const FLUSH = command("FLUSHALL");
const BATCH = cat(SET_A, FLUSH, GET_A);
const BATCH_UP = latin1(cat(SET_A, PING, GET_A));
const BATCH_REPLIES = cat("+OK\r\n+PONG\r\n$1\r\n1\r\n");
const BATCH_DOWN = "+OK\r\n-ERR forbidden\r\n$1\r\n1\r\n";

test("deny: the command becomes PING upstream, its reply -ERR <message>; neighbours untouched; counters exact", async () => {
  const { vm, conn } = await open({ policies: [NO_FLUSH] });
  conn.downstreamData(BATCH);
  assert.equal(up(conn), BATCH_UP);
  conn.upstreamData(BATCH_REPLIES);
  assert.equal(down(conn), BATCH_DOWN);
  assert.deepEqual(counters(vm, ["requests_total", "replies_ok", "replies_error", "denied_total", "decode_errors_total"]),
    { requests_total: 3, replies_ok: 2, replies_error: 1, denied_total: 1, decode_errors_total: 0 });
  // The connection goes on: a second denied command, then an allowed one.
  conn.downstreamData(cat(FLUSH, command("DBSIZE")));
  conn.upstreamData(cat("+PONG\r\n:1\r\n"));
  assert.equal(down(conn), BATCH_DOWN + "-ERR forbidden\r\n:1\r\n");
  assert.equal(counter(vm, "denied_total"), 2);
  assert.equal(conn.closed, false);
});

test("deny: no segmentation lets FLUSHALL through (every cut, every pair of cuts, byte by byte; replies likewise)", async () => {
  const vm = await loadFilter({ policies: [NO_FLUSH] });
  const cutsList: number[][] = [];
  for (let i = 1; i < BATCH.length; i++) {
    cutsList.push([i]);
    for (let j = i + 1; j < BATCH.length; j++) cutsList.push([i, j]);
  }
  cutsList.push(Array.from({ length: BATCH.length }, (_, i) => i)); // one byte per read
  for (const cuts of cutsList) {
    const conn = openConnection(vm);
    for (const part of splitAt(BATCH, cuts)) conn.downstreamData(part);
    assert.equal(up(conn), BATCH_UP, `request cuts ${cuts.length > 2 ? "byte by byte" : cuts}`);
    const replyCuts = cuts.length > 2 ? Array.from({ length: BATCH_REPLIES.length }, (_, i) => i) : cuts;
    for (const part of splitAt(BATCH_REPLIES, replyCuts)) conn.upstreamData(part);
    assert.equal(down(conn), BATCH_DOWN, `reply cuts ${replyCuts}`);
  }
  assert.equal(counter(vm, "denied_total"), cutsList.length);
  assert.equal(counter(vm, "decode_errors_total"), 0);
  assert.equal(vm.failed, undefined);
});

test("deny: command case and inline forms are all the same FLUSHALL", async () => {
  const vm = await loadFilter({ policies: [NO_FLUSH] });
  // [client bytes, bytes the server must get]: inline forms per Redis's sdssplitargs (quotes, \x
  // escapes, any whitespace around, bare LF); empty inline lines before it are kept as they are.
  const cases: [string, string][] = [
    ["*1\r\n$8\r\nflushall\r\n", latin1(PING)],
    ["*1\r\n$8\r\nFlushAll\r\n", latin1(PING)],
    ["FLUSHALL\r\n", latin1(PING)],
    ["flushall\n", latin1(PING)],
    ["   FlUsHaLl   \r\n", latin1(PING)],
    ["\t\x0b\fFLUSHALL\t\r\r\n", latin1(PING)],
    ['"FLUSHALL"\r\n', latin1(PING)],
    ["'flushall'\r\n", latin1(PING)],
    ['"flush\\x61ll"\r\n', latin1(PING)],
    ['"\\x46\\x4c\\x55\\x53\\x48\\x41\\x4c\\x4c"\r\n', latin1(PING)],
    ["\r\n\r\nFLUSHALL\r\n", "\r\n\r\n" + latin1(PING)],
    ["*0\r\n*1\r\n$8\r\nFLUSHALL\r\n", "*0\r\n" + latin1(PING)],
    ["*-1\r\n*1\r\n$8\r\nFLUSHALL\r\n", "*-1\r\n" + latin1(PING)],
    ["*1\r\n$8\r\nFLUSHALL\r\nFLUSHALL ASYNC\r\n", latin1(PING) + latin1(PING)],
  ];
  for (const [sent, expected] of cases) {
    const conn = openConnection(vm);
    conn.downstreamData(Buffer.from(sent, "latin1"));
    assert.equal(up(conn), expected, JSON.stringify(sent));
    const pongs = expected.split("PING").length - 1;
    conn.upstreamData(Buffer.from("+PONG\r\n".repeat(pongs)));
    assert.equal(down(conn), "-ERR forbidden\r\n".repeat(pongs), JSON.stringify(sent));
  }
  assert.equal(counter(vm, "decode_errors_total"), 0);
});

test("fail closed: with policies, bytes the decoder refuses close the connection (Redis would run *1 $8 FLUSHALLxx)", async () => {
  // Redis reads a bulk string's length and skips the next two bytes without checking they are
  // CRLF, so it executes FLUSHALL from the first two; a filter that went on in passthrough would
  // forward them unchecked. Redis refuses the last two too, but closing is right for any of them.
  // Nothing of the read may reach the server.
  const refused = ["*1\r\n$8\r\nFLUSHALLxx", "*1\r\n$8\r\nFLUSHALL\n\n", "*1 \r\n$8\r\nFLUSHALL\r\n", '"FLUSH"ALL\r\n'];
  const vm = await loadFilter({ policies: [NO_FLUSH] });
  for (const bytes of refused) {
    const conn = openConnection(vm);
    conn.downstreamData(cat(SET_A, bytes, GET_A));
    assert.equal(up(conn), "", JSON.stringify(bytes));
    assert.equal(conn.closed, true, JSON.stringify(bytes));
  }
  // Arriving later, after allowed traffic: what came before was forwarded, the rest is not.
  const conn = openConnection(vm);
  conn.downstreamData(SET_A);
  for (const part of splitAt(Buffer.from("*1\r\n$8\r\nFLUSHALLxx"), [5, 12, 18])) conn.downstreamData(part);
  assert.equal(up(conn), latin1(SET_A));
  assert.equal(conn.closed, true);
  assert.equal(counter(vm, "decode_errors_total"), refused.length + 1);
  assert.equal(counter(vm, "policy_closed_total"), refused.length + 1);
  assert.ok(vm.logs.some((l) => l.msg.includes("policies and auth fail closed")), JSON.stringify(vm.logs.slice(-3)));

  // A reply the decoder refuses (here: more elements than redis.max_elements) ends enforcement
  // of later requests too, so it closes as well.
  const { vm: vm2, conn: c2 } = await open({ policies: [NO_FLUSH], redis: { max_elements: 2 } });
  c2.downstreamData(command("LRANGE", "l", "0", "-1"));
  c2.upstreamData(Buffer.from("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"));
  c2.downstreamData(FLUSH);
  assert.equal(c2.closed, true);
  assert.equal(up(c2), latin1(command("LRANGE", "l", "0", "-1")));
  assert.equal(counter(vm2, "policy_closed_total"), 1);

  // Without policies or auth nothing is enforced and on_error passthrough keeps its meaning.
  const { conn: c3 } = await open({});
  c3.downstreamData(Buffer.from("*1\r\n$8\r\nFLUSHALLxx"));
  assert.equal(up(c3), "*1\r\n$8\r\nFLUSHALLxx");
  assert.equal(c3.closed, false);
});

test("deny: RESP3 (HELLO 3 first): the map and a push pass untouched, the denied command's reply is -ERR", async () => {
  const { vm, conn } = await open({ policies: [NO_FLUSH] });
  const hello = command("HELLO", "3");
  const helloReply = "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n";
  conn.downstreamData(cat(hello, FLUSH, command("GET", "a")));
  assert.equal(up(conn), latin1(cat(hello, PING, command("GET", "a"))));
  const push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n";
  const replies = Buffer.from(helloReply + push + "+PONG\r\n_\r\n", "latin1");
  for (const part of splitAt(replies, [7, 40, 60, 80])) conn.upstreamData(part);
  assert.equal(down(conn), helloReply + push + "-ERR forbidden\r\n_\r\n");
  assert.deepEqual(counters(vm, ["replies_ok", "replies_error", "out_of_band_total", "denied_total"]),
    { replies_ok: 2, replies_error: 1, out_of_band_total: 1, denied_total: 1 });
});

test("deny inside MULTI: -ERR for the command, and EXEC fails with EXECABORT as Redis would (sent upstream as DISCARD)", async () => {
  // Redis refuses a transaction whose command it rejected at queue time: EXEC answers EXECABORT and
  // nothing runs. The filter gets the same result by sending DISCARD in EXEC's place (the server
  // queued a PING for the denied command) and answering EXEC's slot with EXECABORT.
  const { vm, conn } = await open({ policies: [NO_FLUSH] });
  conn.downstreamData(cat(command("MULTI"), command("SET", "k", "v"), FLUSH, command("EXEC"), command("MULTI"), command("SET", "k", "w"), command("EXEC")));
  assert.equal(up(conn), latin1(cat(command("MULTI"), command("SET", "k", "v"), PING, command("DISCARD"), command("MULTI"), command("SET", "k", "w"), command("EXEC"))));
  conn.upstreamData(Buffer.from("+OK\r\n+QUEUED\r\n+QUEUED\r\n+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"));
  assert.equal(down(conn), "+OK\r\n+QUEUED\r\n-ERR forbidden\r\n-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
  assert.deepEqual(counters(vm, ["denied_total"]), { denied_total: 1 });
});

test("a denied EXEC inside MULTI goes upstream as DISCARD, so the server leaves the transaction", async () => {
  const { conn } = await open({ policies: [{ name: "no-exec", match: { method: { exact: "EXEC" } }, deny: { message: "no transactions" } }] });
  conn.downstreamData(cat(command("MULTI"), command("SET", "k", "v"), command("EXEC"), command("GET", "k")));
  assert.equal(up(conn), latin1(cat(command("MULTI"), command("SET", "k", "v"), command("DISCARD"), command("GET", "k"))));
  conn.upstreamData(Buffer.from("+OK\r\n+QUEUED\r\n+OK\r\n$-1\r\n"));
  assert.equal(down(conn), "+OK\r\n+QUEUED\r\n-ERR no transactions\r\n$-1\r\n");
});

test("deny: the client's own PINGs keep their PONG, in any order around substituted ones", async () => {
  const { vm, conn } = await open({ policies: [NO_FLUSH] });
  conn.downstreamData(cat(command("PING"), FLUSH, command("PING", "hello"), FLUSH, "PING\r\n"));
  assert.equal(up(conn), latin1(cat(command("PING"), PING, command("PING", "hello"), PING, "PING\r\n")));
  const replies = Buffer.from("+PONG\r\n+PONG\r\n$5\r\nhello\r\n+PONG\r\n+PONG\r\n");
  for (let i = 0; i < replies.length; i++) conn.upstreamData(replies.subarray(i, i + 1));
  assert.equal(down(conn), "+PONG\r\n-ERR forbidden\r\n$5\r\nhello\r\n-ERR forbidden\r\n+PONG\r\n");
  assert.deepEqual(counters(vm, ["requests_total", "replies_ok", "replies_error", "denied_total"]),
    { requests_total: 5, replies_ok: 3, replies_error: 2, denied_total: 2 });
});

test("deny with CLIENT REPLY SKIP/OFF: the PING the server does not answer leaves later replies in place", async () => {
  const { conn } = await open({ policies: [NO_FLUSH] });
  const reply = (mode: string): Buffer => command("CLIENT", "REPLY", mode);
  conn.downstreamData(cat(reply("SKIP"), FLUSH, GET_A, reply("OFF"), FLUSH, reply("ON"), FLUSH, command("GET", "b")));
  assert.equal(up(conn), latin1(cat(reply("SKIP"), PING, GET_A, reply("OFF"), PING, reply("ON"), PING, command("GET", "b"))));
  // what Redis answers: nothing for SKIP and the PING it skips, nothing while OFF
  conn.upstreamData(Buffer.from("$-1\r\n+OK\r\n+PONG\r\n$1\r\nb\r\n"));
  assert.equal(down(conn), "$-1\r\n+OK\r\n-ERR forbidden\r\n$1\r\nb\r\n");
});

// ---- oversize requests ----------------------------------------------------------------------------

const HOLD = 1024;
const SECRET_SET = command("SET", "secret:1", "x".repeat(4000));
const PUBLIC_SET = command("SET", "public:1", Buffer.alloc(4000, 0x79));
const NO_SECRET = denyPolicy("no-secret", { key: { prefix: "secret:" } });

test("oversize: a denied request larger than max_hold_bytes closes the connection before its last byte goes upstream", async () => {
  for (const chunk of [1, 100, 700, 1500]) {
    const { vm, conn } = await open({ policies: [NO_SECRET], max_hold_bytes: HOLD });
    for (let p = 0; p < SECRET_SET.length && !conn.closed; p += chunk) conn.downstreamData(SECRET_SET.subarray(p, p + chunk));
    const got = conn.sentUpstream();
    assert.equal(conn.closed, true, `chunk ${chunk}`);
    assert.ok(got.length < SECRET_SET.length, `chunk ${chunk}: the server got ${got.length} of ${SECRET_SET.length} bytes`);
    assert.deepEqual(Buffer.from(got), SECRET_SET.subarray(0, got.length), `chunk ${chunk}: forwarded bytes are a prefix`);
    assert.ok(got.length > HOLD, `chunk ${chunk}: it streamed past the hold limit (${got.length})`);
    assert.deepEqual(counters(vm, ["hold_overflow_total", "policy_closed_total", "denied_total"]),
      { hold_overflow_total: 1, policy_closed_total: 1, denied_total: 1 }, `chunk ${chunk}`);
    assert.ok(vm.logs.some((l) => l.msg.includes("larger than max_hold_bytes (1024)")), `chunk ${chunk}`);
  }
  // Within one read it is whole, so it is substituted like any other.
  const { vm, conn } = await open({ policies: [NO_SECRET], max_hold_bytes: HOLD });
  conn.downstreamData(SECRET_SET);
  assert.equal(up(conn), latin1(PING));
  assert.equal(conn.closed, false);
  assert.equal(counter(vm, "hold_overflow_total"), 0);
});

test("oversize: an allowed request larger than max_hold_bytes streams through intact, and enforcement goes on", async () => {
  for (const chunk of [1, 333, 1024, 1025]) {
    const { vm, conn } = await open({ policies: [NO_SECRET, NO_FLUSH], max_hold_bytes: HOLD });
    const stream = cat(PUBLIC_SET, FLUSH, GET_A);
    for (let p = 0; p < stream.length; p += chunk) conn.downstreamData(stream.subarray(p, p + chunk));
    assert.equal(up(conn), latin1(cat(PUBLIC_SET, PING, GET_A)), `chunk ${chunk}`);
    conn.upstreamData(Buffer.from("+OK\r\n+PONG\r\n$-1\r\n"));
    assert.equal(down(conn), "+OK\r\n-ERR forbidden\r\n$-1\r\n", `chunk ${chunk}`);
    assert.deepEqual(counters(vm, ["hold_overflow_total", "policy_closed_total", "denied_total", "requests_total"]),
      { hold_overflow_total: chunk < stream.length ? 1 : 0, policy_closed_total: 0, denied_total: 1, requests_total: 3 }, `chunk ${chunk}`);
  }
});

// ---- subscribed mode ------------------------------------------------------------------------------

test("subscribe: a denied SUBSCRIBE gets -ERR, also in RESP2 subscribed mode (the PING's pong array is replaced)", async () => {
  const { vm, conn } = await open({ policies: [denyPolicy("no-secret-sub", { method: { exact: "SUBSCRIBE" }, key: { present: false } }),
    denyPolicy("no-secret-ssub", { key: { prefix: "secret" } })] });
  // Not subscribed yet: plain PONG.
  conn.downstreamData(command("SUBSCRIBE", "secret.news"));
  assert.equal(up(conn), latin1(PING));
  conn.upstreamData(Buffer.from("+PONG\r\n"));
  assert.equal(down(conn), "-ERR forbidden\r\n");
  // PSUBSCRIBE is another command: allowed; then SUBSCRIBE in subscribed mode → PING answered
  // `*2 pong ""` (RESP2), replaced; a message published meanwhile passes.
  const before = down(conn).length;
  conn.downstreamData(command("PSUBSCRIBE", "pub*"));
  conn.upstreamData(Buffer.from("*3\r\n$10\r\npsubscribe\r\n$4\r\npub*\r\n:1\r\n"));
  conn.downstreamData(command("SUBSCRIBE", "secret.news", "other"));
  assert.equal(up(conn), latin1(cat(PING, command("PSUBSCRIBE", "pub*"), PING)));
  const msg = "*4\r\n$8\r\npmessage\r\n$4\r\npub*\r\n$5\r\npub.x\r\n$2\r\nhi\r\n";
  conn.upstreamData(Buffer.from(msg + "*2\r\n$4\r\npong\r\n$0\r\n\r\n" + msg));
  assert.equal(down(conn).slice(before), "*3\r\n$10\r\npsubscribe\r\n$4\r\npub*\r\n:1\r\n" + msg + "-ERR forbidden\r\n" + msg);
  // SSUBSCRIBE's channel is a key (Redis key specs): a key matcher sees it. SUBSCRIBE's are not keys.
  conn.downstreamData(command("SSUBSCRIBE", "secret.shard"));
  assert.equal(up(conn).endsWith(latin1(PING)), true);
  assert.equal(counter(vm, "denied_total"), 3);
});

test("subscribe: channels of SUBSCRIBE are not keys, so a key matcher does not see them (deny by method instead)", async () => {
  const { conn } = await open({ policies: [NO_SECRET], expose: { properties: "every" } });
  conn.downstreamData(command("SUBSCRIBE", "secret:news"));
  assert.equal(up(conn), latin1(command("SUBSCRIBE", "secret:news")));
  assert.equal(conn.filterStateText("wasm.metawire.key"), "");
});

// ---- matchers on the key --------------------------------------------------------------------------

test("key matchers: regex is a full match and case-sensitive unless (?i); ignore_case folds ASCII", async () => {
  const cases: [object, string[], string[]][] = [
    [{ regex: "secret:.*" }, ["secret:1", "secret:", "secret:a:b"], ["SECRET:1", "xsecret:1", "secret", "public:1"]],
    [{ regex: "(?i)secret:[0-9]+" }, ["secret:1", "SeCrEt:42"], ["secret:x", "secret:1x", "my-secret:1"]],
    [{ prefix: "secret:", ignore_case: true }, ["secret:1", "SECRET:x", "Secret:"], ["secre:1", "xsecret:1"]],
    [{ exact: "Admin", ignore_case: true }, ["admin", "ADMIN"], ["admins", "admi"]],
    [{ suffix: ":pw" }, ["user:pw"], ["user:PW", "pw:user"]],
    [{ contains: "token" }, ["a:token:b", "token"], ["tok:en", "TOKEN"]],
  ];
  for (const [op, denied, allowed] of cases) {
    const vm = await loadFilter({ policies: [denyPolicy("k", { key: op })] });
    for (const key of [...denied, ...allowed]) {
      for (const bytes of [command("GET", key), Buffer.from(`get ${key}\r\n`)]) {
        const conn = openConnection(vm);
        conn.downstreamData(bytes);
        const wasDenied = up(conn) === latin1(PING);
        assert.equal(wasDenied, denied.includes(key), `${JSON.stringify(op)} key ${key}: ${JSON.stringify(up(conn))}`);
      }
    }
    assert.equal(counter(vm, "denied_total"), denied.length * 2, JSON.stringify(op));
  }
});

test("key matchers see the first key per Redis key specs (EVAL after numkeys, XREAD after STREAMS, MSET's first key)", async () => {
  const vm = await loadFilter({ policies: [denyPolicy("k", { key: { regex: "secret:.*" } })] });
  const cases: [Buffer, boolean][] = [
    [command("EVAL", "return 1", "1", "secret:1"), true],
    [command("EVAL", "return 1", "0", "secret:1"), false],       // an argument, not a key
    [command("XREAD", "COUNT", "1", "STREAMS", "secret:s", "0"), true],
    [command("MSET", "secret:1", "v", "public:1", "v"), true],
    // Only the first key is matched: a second key does not make the command match.
    [command("MSET", "public:1", "v", "secret:1", "v"), false],
    [command("DEL", "public:1", "secret:1"), false],
  ];
  for (const [bytes, denied] of cases) {
    const conn = openConnection(vm);
    conn.downstreamData(bytes);
    assert.equal(up(conn) === latin1(PING), denied, latin1(bytes));
  }
});

test("policies apply in order: the first one that rejects gives the message", async () => {
  const { vm, conn } = await open({ policies: [
    denyPolicy("flush", { method: { exact: "FLUSHALL" } }, "no flush"),
    denyPolicy("any-admin", { method: { regex: "FLUSH.*|CONFIG|DEBUG" } }, "admin command"),
  ] });
  conn.downstreamData(cat(FLUSH, command("FLUSHDB"), command("config", "get", "x"), GET_A));
  assert.equal(up(conn), latin1(cat(PING, PING, PING, GET_A)));
  conn.upstreamData(Buffer.from("+PONG\r\n+PONG\r\n+PONG\r\n$-1\r\n"));
  assert.equal(down(conn), "-ERR no flush\r\n-ERR admin command\r\n-ERR admin command\r\n$-1\r\n");
  // counted against the policy that rejected
  assert.equal(counter(vm, "denied_total", { policy: "flush" }), 1);
  assert.equal(counter(vm, "denied_total", { policy: "any-admin" }), 2);
});

// ---- faults ---------------------------------------------------------------------------------------

test("fault abort 100 %: every matching command gets -ERR <abort message>; 0 %: never", async () => {
  const { vm, conn } = await open({ policies: [{ name: "chaos", match: { method: { exact: "GET" } },
    fault: { abort: { percent: 100, message: "injected" } } }] });
  conn.downstreamData(cat(GET_A, SET_A, GET_A));
  assert.equal(up(conn), latin1(cat(PING, SET_A, PING)));
  conn.upstreamData(Buffer.from("+PONG\r\n+OK\r\n+PONG\r\n"));
  assert.equal(down(conn), "-ERR injected\r\n+OK\r\n-ERR injected\r\n");
  assert.deepEqual(counters(vm, ["aborted_total", "denied_total", "replies_error"]), { aborted_total: 2, denied_total: 0, replies_error: 2 });
  // without a message, the error names the policy
  const { conn: cd } = await open({ policies: [{ name: "chaos", fault: { abort: { percent: 100 } } }] });
  cd.downstreamData(GET_A);
  cd.upstreamData(Buffer.from("+PONG\r\n"));
  assert.equal(down(cd), "-ERR fault injected by policy chaos\r\n");

  const { vm: vm0, conn: c0 } = await open({ policies: [{ name: "chaos", match: { method: { exact: "GET" } },
    fault: { abort: { percent: 0, message: "injected" } } }] });
  const many = Buffer.concat(Array.from({ length: 2000 }, () => GET_A));
  c0.downstreamData(many);
  assert.deepEqual(Buffer.from(c0.sentUpstream()), many);
  assert.equal(counter(vm0, "aborted_total"), 0);
});

test("fault abort with a fraction: the share aborted is near the percentage (random_get draws)", async () => {
  const { vm, conn } = await open({ policies: [{ name: "chaos", match: {}, fault: { abort: { percent: 25 } } }] });
  const n = 4000;
  conn.downstreamData(Buffer.concat(Array.from({ length: n }, () => GET_A)));
  const aborted = counter(vm, "aborted_total");
  // Binomial(4000, 0.25): σ ≈ 27, so ±150 is over 5σ.
  assert.ok(Math.abs(aborted - n * 0.25) < 150, `aborted ${aborted} of ${n}`);
  assert.equal(up(conn).split("PING").length - 1, aborted);
});

test("fault delay 100 % (300 ms): the request and everything behind it wait exactly until the delay ends, in order", async () => {
  const clock = new ManualClock();
  const { vm, conn } = await open({ policies: [{ name: "slow", match: { key: { exact: "slow" } },
    fault: { delay: { percent: 100, ms: 300 } } }] }, { timers: "manual", clock });
  conn.downstreamData(SET_A);
  assert.equal(up(conn), latin1(SET_A));                 // not matching: not held
  const held = cat(command("GET", "slow"), SET_A, GET_A);
  conn.downstreamData(held);
  assert.equal(up(conn), latin1(SET_A));
  assert.equal(counter(vm, "delayed_total"), 1);
  clock.advanceMs(100);
  conn.downstreamData(command("GET", "b"));              // arrives while held: queued behind
  for (const ms of [100, 99.9]) {
    clock.advanceMs(ms);
    vm.tick();
    assert.equal(up(conn), latin1(SET_A), `at +${ms}`);
  }
  assert.equal(vm.tickPeriod(), 5);                       // the root ticks while a connection waits
  clock.advanceMs(0.1);
  vm.tick();
  assert.equal(up(conn), latin1(cat(SET_A, held, command("GET", "b"))));
  assert.equal(vm.tickPeriod(), 0);                       // nobody waits any more: the tick stops
  // replies come back in order, untouched
  conn.upstreamData(Buffer.from("+OK\r\n$-1\r\n+OK\r\n$1\r\n1\r\n$-1\r\n"));
  assert.equal(down(conn), "+OK\r\n$-1\r\n+OK\r\n$1\r\n1\r\n$-1\r\n");
  // usable afterwards, and a second delayed request waits again
  conn.downstreamData(cat(command("GET", "slow"), GET_A));
  assert.equal(up(conn), latin1(cat(SET_A, held, command("GET", "b"))));
  clock.advanceMs(300);
  vm.tick();
  assert.equal(up(conn), latin1(cat(SET_A, held, command("GET", "b"), command("GET", "slow"), GET_A)));
  assert.equal(counter(vm, "delayed_total"), 2);
});

test("fault delay and a denied command behind it: the denied one is still substituted when the held bytes go", async () => {
  const clock = new ManualClock();
  const { conn, vm } = await open({ policies: [NO_FLUSH, { name: "slow", match: { method: { exact: "GET" } },
    fault: { delay: { percent: 100, ms: 50 } } }] }, { timers: "manual", clock });
  // split inside the FLUSHALL so the held buffer grows across reads
  const bytes = cat(GET_A, FLUSH, SET_A);
  for (const part of splitAt(bytes, [GET_A.length + 5])) conn.downstreamData(part);
  assert.equal(up(conn), "");
  clock.advanceMs(50);
  vm.tick();
  assert.equal(up(conn), latin1(cat(GET_A, PING, SET_A)));
});

// ---- rate limit -----------------------------------------------------------------------------------

test("rate limit (worker): burst then per_second refill, exact with a hand-driven clock", async () => {
  const clock = new ManualClock();
  const { vm, conn } = await open({ policies: [{ name: "rl", match: { method: { exact: "GET" } },
    rate_limit: { per_second: 50, burst: 2, message: "slow down" } }] }, { timers: "manual", clock });
  const send = (n: number): void => conn.downstreamData(Buffer.concat(Array.from({ length: n }, () => GET_A)));
  send(5);                   // 2 admitted (burst), 3 rejected
  clock.advanceMs(19.9);
  send(1);                   // 0.995 tokens: rejected
  clock.advanceMs(0.1);
  send(2);                   // 1 token: one admitted
  clock.advanceMs(1000);
  send(4);                   // refilled to the burst (2), not 50
  conn.downstreamData(SET_A); // not matching: never limited
  const admitted = (up(conn).match(/\$3\r\nGET/g) ?? []).length;
  assert.equal(admitted, 2 + 0 + 1 + 2);
  assert.equal(counter(vm, "rate_limited_total"), 3 + 1 + 1 + 2);
  assert.equal(up(conn).endsWith(latin1(SET_A)), true);
  conn.upstreamData(Buffer.from("$-1\r\n$-1\r\n+PONG\r\n"));
  assert.equal(down(conn), "$-1\r\n$-1\r\n-ERR slow down\r\n");
});

test("rate limit (shared): one bucket for all VMs of the process", async () => {
  const clock = new ManualClock();
  const cfg = { policies: [{ name: "rl", rate_limit: { per_second: 1, burst: 3, scope: "shared" } }] };
  const a = await loadFilter(cfg, { timers: "manual", clock, vmId: "p" });
  const b = await loadFilter(cfg, { timers: "manual", clock, vmId: "p", sharedData: a.sharedData, metrics: a.metrics });
  const ca = openConnection(a);
  const cb = openConnection(b);
  ca.downstreamData(cat(GET_A, GET_A));
  cb.downstreamData(cat(GET_A, GET_A));
  assert.equal(up(ca), latin1(cat(GET_A, GET_A)));
  assert.equal(up(cb), latin1(cat(GET_A, PING)));
  cb.upstreamData(Buffer.from("$-1\r\n+PONG\r\n"));
  assert.equal(down(cb), "$-1\r\n-ERR rate limited by policy rl\r\n");
  assert.equal(counter(a, "rate_limited_total"), 1);
});

// ---- auth -----------------------------------------------------------------------------------------

const AUTH_CFG = { redis: { auth: { password: "s3cret", users: [{ username: "alice", password: "pw" }] } } };

test("auth: NOAUTH before AUTH; AUTH is answered by the filter and never reaches the server", async () => {
  const { vm, conn } = await open(AUTH_CFG);
  const script = cat(GET_A, command("AUTH", "wrong"), command("AUTH", "s3cret"), GET_A);
  for (let i = 0; i < script.length; i++) conn.downstreamData(script.subarray(i, i + 1));
  assert.equal(up(conn), latin1(cat(PING, PING, PING, GET_A)));
  assert.ok(!up(conn).includes("s3cret") && !up(conn).includes("AUTH"));
  conn.upstreamData(Buffer.from("+PONG\r\n+PONG\r\n+PONG\r\n$-1\r\n"));
  assert.equal(down(conn), `-${NOAUTH}\r\n-${WRONGPASS}\r\n+OK\r\n$-1\r\n`);
  assert.deepEqual(counters(vm, ["auth_failures_total", "replies_ok", "replies_error", "requests_total"]),
    { auth_failures_total: 1, replies_ok: 2, replies_error: 2, requests_total: 4 });
});

test("auth: every credential form (AUTH pw, AUTH user pw, default user, HELLO AUTH, inline), and the wrong ones", async () => {
  const vm = await loadFilter(AUTH_CFG);
  const ARITY = "ERR wrong number of arguments for 'auth' command";
  const cases: [Buffer, string][] = [
    [command("AUTH", "s3cret"), "OK"],
    [command("AUTH", "alice", "pw"), "OK"],
    [command("AUTH", "default", "s3cret"), "OK"],
    [Buffer.from("auth s3cret\r\n"), "OK"],
    [Buffer.from('AUTH alice "pw"\r\n'), "OK"],
    [command("AUTH", "pw"), WRONGPASS],
    [command("AUTH", "alice", "s3cret"), WRONGPASS],
    [command("AUTH", "bob", "pw"), WRONGPASS],
    [command("AUTH", "s3cret "), WRONGPASS],
    [command("AUTH", "S3CRET"), WRONGPASS],
    [command("AUTH", "alice", "pw", "x"), ARITY],
    [command("AUTH"), ARITY],
  ];
  for (const [a, answer] of cases) {
    const conn = openConnection(vm);
    conn.downstreamData(cat(a, GET_A));
    const ok = answer === "OK";
    assert.equal(up(conn), latin1(cat(PING, ok ? GET_A : PING)), latin1(a));
    conn.upstreamData(Buffer.from(ok ? "+PONG\r\n$-1\r\n" : "+PONG\r\n+PONG\r\n"));
    assert.equal(down(conn), ok ? "+OK\r\n$-1\r\n" : `-${answer}\r\n-${NOAUTH}\r\n`, latin1(a));
  }
  assert.equal(counter(vm, "auth_failures_total"), 5);
});

test("auth: HELLO 3 AUTH user pw SETNAME n is checked and forwarded as HELLO 3; HELLO without AUTH before auth is refused", async () => {
  const { conn } = await open(AUTH_CFG);
  conn.downstreamData(cat(command("HELLO", "3"), command("HELLO", "3", "AUTH", "alice", "nope"),
    command("HELLO", "3", "AUTH", "alice", "pw", "SETNAME", "app"), command("HELLO", "2")));
  assert.equal(up(conn), latin1(cat(PING, PING, command("HELLO", "3"), command("HELLO", "2"))));
  const map3 = "%1\r\n$5\r\nproto\r\n:3\r\n";
  const map2 = "*2\r\n$5\r\nproto\r\n:2\r\n";
  conn.upstreamData(Buffer.from(`+PONG\r\n+PONG\r\n${map3}${map2}`));
  const lines = down(conn);
  assert.ok(lines.startsWith("-NOAUTH HELLO must be called with the client already authenticated"), lines);
  assert.ok(lines.endsWith(`-${WRONGPASS}\r\n${map3}${map2}`), lines);
});

test("auth: the password never reaches the server whatever the segmentation; an oversize AUTH closes", async () => {
  const auth = command("AUTH", "alice", "pw");
  const stream = cat(auth, GET_A);
  const vm = await loadFilter(AUTH_CFG);
  for (let i = 1; i < stream.length; i++) {
    const conn = openConnection(vm);
    for (const part of splitAt(stream, [i])) conn.downstreamData(part);
    assert.equal(up(conn), latin1(cat(PING, GET_A)), `cut ${i}`);
  }
  // larger than max_hold_bytes and cut: it cannot be answered without forwarding part of it
  const big = await loadFilter({ ...AUTH_CFG, max_hold_bytes: 64 });
  const conn = openConnection(big);
  const long = command("AUTH", "x".repeat(200));
  for (const part of splitAt(long, [50, 100, 150])) conn.downstreamData(part);
  assert.equal(conn.closed, true);
  assert.ok(conn.sentUpstream().length < long.length);
  assert.equal(counter(big, "policy_closed_total"), 1);
});

test("auth upstream: AUTH [user] pw goes first, its +OK never reaches the client, whatever the segmentation", async () => {
  for (const upstream of [{ password: "pw2" }, { username: "svc", password: "pw2" }]) {
    const injected = upstream.username ? command("AUTH", "svc", "pw2") : command("AUTH", "pw2");
    const vm = await loadFilter({ redis: { auth: { upstream } } });
    const replies = Buffer.from("+OK\r\n+OK\r\n$1\r\n1\r\n");
    for (let cut = 1; cut < replies.length; cut++) {
      const conn = openConnection(vm);
      conn.downstreamData(SET_A.subarray(0, 3));
      conn.downstreamData(cat(SET_A.subarray(3), GET_A));
      assert.equal(up(conn), latin1(cat(injected, SET_A, GET_A)), JSON.stringify(upstream));
      for (const part of splitAt(replies, [cut])) conn.upstreamData(part);
      assert.equal(down(conn), "+OK\r\n$1\r\n1\r\n", `${JSON.stringify(upstream)} cut ${cut}`);
      conn.downstreamData(GET_A);                  // later reads: nothing injected again
      assert.equal(up(conn), latin1(cat(injected, SET_A, GET_A, GET_A)));
    }
    assert.equal(counter(vm, "auth_failures_total"), 0);
    assert.equal(counter(vm, "requests_total"), 3 * (replies.length - 1));
  }
});

test("auth upstream refused: the client sees the server's NOAUTH, auth_failures_total and one warn line", async () => {
  const { vm, conn } = await open({ redis: { auth: { upstream: { password: "bad" } } } });
  conn.downstreamData(GET_A);
  conn.upstreamData(Buffer.from(`-${WRONGPASS}\r\n-${NOAUTH}\r\n`));
  assert.equal(down(conn), `-${NOAUTH}\r\n`);
  assert.equal(counter(vm, "auth_failures_total"), 1);
  const warns = vm.logs.filter((l) => l.level === 3 && l.msg.includes("refused the configured upstream credentials"));
  assert.equal(warns.length, 1, JSON.stringify(vm.logs));
  assert.ok(warns[0].msg.includes("WRONGPASS"));
});

test("auth both ways: the client's AUTH is checked here, the server gets the configured one", async () => {
  const { conn } = await open({ policies: [NO_FLUSH], redis: { auth: { password: "s3cret", upstream: { username: "svc", password: "pw2" } } } });
  conn.downstreamData(cat(GET_A, command("AUTH", "s3cret"), FLUSH, GET_A));
  assert.equal(up(conn), latin1(cat(command("AUTH", "svc", "pw2"), PING, PING, PING, GET_A)));
  conn.upstreamData(Buffer.from("+OK\r\n+PONG\r\n+PONG\r\n+PONG\r\n$-1\r\n"));
  assert.equal(down(conn), `-${NOAUTH}\r\n+OK\r\n-ERR forbidden\r\n$-1\r\n`);
});
