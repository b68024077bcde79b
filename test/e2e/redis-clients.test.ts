// Real Redis clients through metawire (build/metawire.wasm in the TCP proxy) in front of a real
// redis-server: redis-cli (one command per run, a stdin session, -x, --pipe), ioredis (pipelines,
// MULTI, EVAL, 1 MiB values, errors, pub/sub), RESP3 pub/sub and client-tracking pushes on a raw
// socket, and the filter state a connection leaves behind. Whatever a client gets through the proxy
// must equal what it gets from a second, identical server reached directly.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { command } from "../support/resp.js";
import { frameHead, scanFrames } from "../support/resp-frames.js";
import { RawRedis, prng } from "../support/raw-redis.js";
import { redisDelta, redisSnapshot, type RedisSnapshot } from "../support/metawire-metrics.js";
import { waitFor } from "../support/wait.js";

const skip = redisAvailable();

type CloseEvent = Extract<ProxyEvent, { type: "close" }>;
type OpenEvent = Extract<ProxyEvent, { type: "open" }>;

interface Env {
  direct: RedisServer;
  behind: RedisServer;
  proxy: ProxyHandle;
  events: ProxyEvent[];
}


function snapshot(env: Env): RedisSnapshot {
  return redisSnapshot(env.proxy.metrics);
}

function assertHealthy(env: Env, d: RedisSnapshot, ctx: string): void {
  assert.equal(d.decode_errors_total, 0, `${ctx}: decode errors`);
  assert.equal(d.passthrough_total, 0, `${ctx}: passthrough`);
  assert.ok(env.proxy.vms.every((v) => !v.failed), `${ctx}: a VM failed`);
}

// ---- redis-cli ------------------------------------------------------------------------------------

interface CliResult { code: number; stdout: Buffer; stderr: Buffer }

function cli(port: number, args: string[], stdin?: Uint8Array | string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args],
      { encoding: "buffer", maxBuffer: 256 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      });
    child.stdin!.on("error", () => { /* the child may exit before reading everything */ });
    child.stdin!.end(stdin ?? "");
  });
}

const CLI_COMMANDS: string[][] = [
  ["SET", "greeting", "hello world"],
  ["GET", "greeting"],
  ["INCR", "counter"],
  ["INCR", "greeting"],                         // (error) ERR value is not an integer
  ["LPUSH", "greeting", "x"],                   // (error) WRONGTYPE
  ["NOSUCHCOMMAND", "a", "b"],                  // (error) ERR unknown command
  ["GET"],                                      // (error) ERR wrong number of arguments
  ["GET", "nokey"],                             // (nil)
  ["RPUSH", "list", "a", "b", "c"],
  ["LRANGE", "list", "0", "-1"],
  ["LRANGE", "nolist", "0", "-1"],              // (empty array)
  ["HSET", "hash", "f1", "v1", "f2", "v2"],
  ["HGETALL", "hash"],
  ["ZADD", "zset", "1", "one", "2.5", "two"],
  ["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
  ["MSET", "a", "1", "b", "2"],
  ["MGET", "a", "b", "nokey"],
  ["EVAL", "return {1, 'two', {3, 'four'}, redis.call('GET', KEYS[1])}", "1", "a"],
  ["EVAL", "return redis.error_reply('MYERR from a script')", "0"],
  ["SET", "key with spaces", "value\nwith\nnewlines"],
  ["GET", "key with spaces"],
  ["SADD", "ints", "3", "1", "2"],
  ["SMEMBERS", "ints"],
  ["TYPE", "hash"],
  ["EXISTS", "a", "b", "nokey"],
  ["PING"],
  ["ECHO", "bin\u0001\u00ff"],
];

const CLI_SESSION = [
  "SET session:1 one",
  "GET session:1",
  "INCR session:1",
  "HSET session:h a 1 b 2",
  "HGETALL session:h",
  "MULTI",
  "INCR session:n",
  "INCR session:n",
  "EXEC",
  "NOSUCH command",
  "\"GET\" \"session:1\"",
  "RPUSH session:l 'quoted value' \"double\\tquoted\"",
  "LRANGE session:l 0 -1",
  "GET",
  "DEL session:1 session:h",
  "",
].join("\n");

async function cliCase(env: Env, t: TestContext): Promise<void> {
  const before = snapshot(env);
  let commands = 0;
  const same = async (label: string, args: string[], stdin?: Buffer | string): Promise<CliResult> => {
    const a = await cli(env.direct.port, args, stdin);
    const b = await cli(env.proxy.port, args, stdin);
    assert.equal(b.code, a.code, `${label}: exit code`);
    assert.ok(b.stdout.equals(a.stdout), `${label}: stdout differs\n direct: ${JSON.stringify(a.stdout.toString("latin1").slice(0, 300))}` +
      `\n  proxy: ${JSON.stringify(b.stdout.toString("latin1").slice(0, 300))}`);
    assert.equal(b.stderr.toString(), a.stderr.toString(), `${label}: stderr`);
    return b;
  };

  await t.test("one command per redis-cli run, formatted (--no-raw) and raw", async () => {
    for (const args of CLI_COMMANDS) {
      await same(`--no-raw ${args.join(" ")}`, ["--no-raw", ...args]);
      commands++;
    }
    for (const args of [["GET", "greeting"], ["INCR", "greeting"], ["HGETALL", "hash"], ["NOSUCHCOMMAND", "x"]]) {
      await same(`raw ${args.join(" ")}`, args);
      commands++;
    }
    const err = await cli(env.proxy.port, ["--no-raw", "INCR", "greeting"]);
    assert.equal(err.stdout.toString(), "(error) ERR value is not an integer or out of range\n");
    const unknown = await cli(env.proxy.port, ["--no-raw", "NOSUCHCOMMAND", "a"]);
    assert.match(unknown.stdout.toString(), /^\(error\) ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' \n$/);
    commands += 2;
  });

  await t.test("a multi-command stdin session", async () => {
    const r = await same("stdin session", ["--no-raw"], CLI_SESSION);
    assert.match(r.stdout.toString(), /\(error\) ERR unknown command 'NOSUCH'/);
    assert.match(r.stdout.toString(), /1\) \(integer\) 1\n2\) \(integer\) 2\n/);
    commands += CLI_SESSION.split("\n").filter((l) => l.trim()).length;
  });

  await t.test("a 1 MiB value through -x from stdin", async () => {
    const random = prng(42);
    const value = Buffer.alloc(1 << 20);
    for (let i = 0; i < value.length; i++) value[i] = Math.floor(random() * 256);
    await same("-x SET", ["--no-raw", "-x", "SET", "clibig"], value);
    const len = await same("STRLEN", ["--no-raw", "STRLEN", "clibig"]);
    assert.equal(len.stdout.toString(), `(integer) ${1 << 20}\n`);
    const raw = await same("GET raw", ["GET", "clibig"]);
    assert.ok(raw.stdout.subarray(0, value.length).equals(value), "the 1 MiB value comes back intact (raw output)");
    await same("GET formatted", ["--no-raw", "GET", "clibig"]);
    await same("-x APPEND", ["--no-raw", "-x", "APPEND", "clibig"], value.subarray(0, 1000));
    commands += 5;
  });

  const d = redisDelta(before, snapshot(env));
  assertHealthy(env, d, "redis-cli");
  assert.ok(d.requests_total >= commands, `requests_total grew by ${d.requests_total}, expected at least ${commands}`);
  assert.ok(d.replies_error >= 10, `replies_error grew by ${d.replies_error}`);
}

async function cliPipeCase(env: Env): Promise<void> {
  const n = 10_000;
  const input = Buffer.concat(Array.from({ length: n }, (_, i) => command("SET", `pipe:${i}`, `value-${i}`)));
  const before = snapshot(env);
  const r = await cli(env.proxy.port, ["--pipe"], input);
  const d = redisDelta(before, snapshot(env));
  assert.equal(r.code, 0, `redis-cli --pipe exit code; stderr: ${r.stderr}`);
  assert.match(r.stdout.toString(), /errors: 0, replies: 10000\n/);
  assertHealthy(env, d, "redis-cli --pipe");
  // redis-cli --pipe appends one ECHO <random marker> to recognise the last reply.
  assert.equal(d.requests_total, n + 1, "requests_total: 10,000 SETs + redis-cli's ECHO");
  assert.equal(d.replies_ok, n + 1);
  assert.equal(d.replies_error, 0);
  assert.equal(d.duration_samples, n + 1);
  assert.equal(d.cx_total, 1);
  const check = await cli(env.proxy.port, ["GET", "pipe:9999"]);
  assert.equal(check.stdout.toString(), "value-9999\n");
}

// ---- ioredis --------------------------------------------------------------------------------------

const norm = (e: unknown): unknown => (e instanceof Error ? { error: e.message } : e);

async function ioredisWorkload(r: Redis): Promise<unknown[]> {
  const out: unknown[] = [];
  const pl = r.pipeline();
  for (let i = 0; i < 500; i++) {
    switch (i % 10) {
      case 0: pl.set(`io:${i}`, `v${i}`); break;
      case 1: pl.get(`io:${i - 1}`); break;
      case 2: pl.incr("io:ctr"); break;
      case 3: pl.lpush("io:list", String(i)); break;
      case 4: pl.hset("io:h", `f${i}`, String(i)); break;
      case 5: pl.zadd("io:z", i, `m${i}`); break;
      case 6: pl.get("io:missing"); break;
      case 7: pl.incr("io:list"); break;              // WRONGTYPE
      case 8: pl.mget(`io:${i - 8}`, "io:missing", "io:ctr"); break;
      case 9: pl.call("NOSUCHCMD", String(i)); break; // unknown command
    }
  }
  const res = await pl.exec();
  out.push(res!.map(([e, v]) => [e ? e.message : null, v]));

  out.push((await r.multi().set("io:m", "1").incr("io:m").get("io:m").lpush("io:m", "x").exec())!.map(([e, v]) => [e ? e.message : null, v]));
  out.push(await r.multi().get("io:m").call("GET").exec().catch(norm));   // EXECABORT
  out.push(await r.hset("io:hash", { a: "1", b: "two", c: "3" }));
  out.push(await r.hgetall("io:hash"));
  out.push(await r.eval("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1]), {1, {2}}}", 1, "io:ev", "arg"));
  out.push(await r.eval("return redis.call('HGET', KEYS[1], 'a')", 1, "io:hash"));
  out.push(await r.eval("return redis.error_reply('MYERR scripted')", 0).catch(norm));

  const random = prng(7);
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = Math.floor(random() * 256);
  out.push(await r.set("io:big", big));
  const back = await r.getBuffer("io:big");
  assert.ok(back && back.equals(big), "1 MiB value round trip");
  out.push(createHash("sha256").update(back!).digest("hex"));
  out.push(await r.strlen("io:big"));

  out.push(await r.incr("io:hash").catch(norm));
  out.push(await r.call("GET").catch(norm));
  out.push(await r.call("NOSUCH", "x").catch(norm));
  out.push(await r.lrange("io:list", 0, 9));
  out.push(await r.zrange("io:z", 0, 4, "WITHSCORES"));
  out.push(await r.del("io:big", "io:missing"));
  return out;
}

async function ioredisCase(env: Env): Promise<void> {
  const a = new Redis({ port: env.direct.port, host: "127.0.0.1", lazyConnect: true });
  const b = new Redis({ port: env.proxy.port, host: "127.0.0.1", lazyConnect: true });
  try {
    await a.connect();
    await b.connect();
    const before = snapshot(env);
    const expected = await ioredisWorkload(a);
    const actual = await ioredisWorkload(b);
    assert.deepEqual(actual, expected);
    // sanity: the workload really produced errors and values
    const pipeline = expected[0] as [string | null, unknown][];
    assert.equal(pipeline.length, 500);
    assert.equal(pipeline.filter(([e]) => e !== null).length, 100);
    const d = redisDelta(before, snapshot(env));
    assertHealthy(env, d, "ioredis");
    assert.ok(d.requests_total >= 500 + 20, `requests_total grew by ${d.requests_total}`);
    assert.ok(d.replies_error >= 100 + 5, `replies_error grew by ${d.replies_error}`);
    assert.equal(d.duration_samples, d.replies_ok + d.replies_error);
  } finally {
    a.disconnect();
    b.disconnect();
  }
}

async function ioredisPubSubCase(env: Env): Promise<void> {
  const sub = new Redis({ port: env.proxy.port, host: "127.0.0.1" });
  const pub = new Redis({ port: env.proxy.port, host: "127.0.0.1" });
  try {
    const got: string[] = [];
    sub.on("message", (ch: string, m: string) => got.push(`${ch} ${m}`));
    sub.on("pmessage", (pattern: string, ch: string, m: string) => got.push(`${pattern}|${ch} ${m}`));
    assert.equal(await sub.subscribe("ch1", "ch2", "ch3"), 3);
    assert.equal(await sub.psubscribe("news.*"), 4);
    assert.equal(await pub.ping(), "PONG");

    const before = snapshot(env);
    const subPing = await sub.ping();       // RESP2 subscribed mode: ["pong", ""], matched, not out of band
    const n = 400;
    const channels = ["ch1", "ch2", "ch3", "news.a", "news.b"];
    const expected: string[] = [];
    const pl = pub.pipeline();
    for (let i = 0; i < n; i++) {
      const ch = channels[i % channels.length];
      pl.publish(ch, `message ${i}`);
      expected.push(ch.startsWith("news.") ? `news.*|${ch} message ${i}` : `${ch} message ${i}`);
    }
    const results = await pl.exec();
    assert.deepEqual(results, expected.map(() => [null, 1]), "each PUBLISH reached one subscriber");
    await waitFor(() => got.length >= n, `${n} messages (have ${got.length})`);
    assert.deepEqual(got, expected, "all messages, in order");
    const d = redisDelta(before, snapshot(env));
    assert.deepEqual(subPing, ["pong", ""]);
    assertHealthy(env, d, "pub/sub");
    assert.equal(d.out_of_band_total, n, "out_of_band_total counts the messages delivered");
    assert.equal(d.requests_total, n + 1, "the PUBLISHes and the subscriber's PING");
    assert.equal(d.replies_ok, n + 1);
    assert.equal(d.replies_error, 0);
    assert.equal(d.duration_samples, n + 1);

    const before2 = snapshot(env);
    // (ioredis' argument-less unsubscribe() waits for a count of 0, which never comes while the
    // pattern is still subscribed: name the channels; the final PUNSUBSCRIBE goes without arguments)
    assert.equal(await sub.unsubscribe("ch1", "ch2", "ch3"), 1);
    assert.equal(await sub.punsubscribe(), 0);
    assert.equal(await sub.ping(), "PONG", "the connection left subscribed mode");
    assert.equal(await sub.set("after:pubsub", "ok"), "OK");
    assert.equal(await sub.get("after:pubsub"), "ok");
    const d2 = redisDelta(before2, snapshot(env));
    assertHealthy(env, d2, "after unsubscribe");
    assert.equal(d2.out_of_band_total, 0);
    assert.equal(d2.requests_total, 5);
    // UNSUBSCRIBE ch1 ch2 ch3: three acks, one response (counted on its last ack); PUNSUBSCRIBE
    // without arguments: one; PING, SET, GET
    assert.equal(d2.replies_ok, 1 + 1 + 3);
    assert.equal(d2.duration_samples, 1 + 1 + 3);
  } finally {
    sub.disconnect();
    pub.disconnect();
  }
}

// ---- RESP3 pub/sub and tracking pushes on a raw socket ---------------------------------------------

async function resp3PubSubCase(env: Env): Promise<void> {
  const before = snapshot(env);
  const sub = await RawRedis.connect(env.proxy.port);
  const pub = await RawRedis.connect(env.proxy.port);
  try {
    // subReplies: reply frames; a multi-channel (UN)SUBSCRIBE is answered by one ack per channel
    // but counts as one response (on its last ack), like every other request
    let frames = 0, subRequests = 0, subReplies = 0;
    const ask = async (bytes: Buffer, replies: number): Promise<void> => {
      await sub.write(bytes);
      subRequests++;
      subReplies += replies;
      frames += replies;
      await sub.waitFrames(frames);
    };
    await ask(command("HELLO", "3"), 1);
    assert.equal(sub.received()[0], 0x25, "HELLO 3 answers with a map");
    await ask(command("SUBSCRIBE", "c1", "c2", "c3"), 3);
    await ask(command("PSUBSCRIBE", "p.*"), 1);
    await ask(command("SSUBSCRIBE", "sc"), 1);

    // messages published through the proxy on a RESP2 connection
    const k = 60;
    const targets = ["c1", "c2", "c3", "p.x"];
    const publish: Buffer[] = [];
    for (let i = 0; i < k; i++) publish.push(command("PUBLISH", targets[i % targets.length], `m${i}`));
    publish.push(command("SPUBLISH", "sc", "shard message"));
    await pub.write(Buffer.concat(publish));
    const pubFrames = await pub.waitFrames(k + 1);
    assert.ok(pubFrames.every((f) => pub.received().subarray(f.start, f.end).toString() === ":1\r\n"), "each message reached one subscriber");
    frames += k + 1;
    await sub.waitFrames(frames);

    await ask(command("PING"), 1);                 // RESP3: +PONG even while subscribed
    await ask(command("GET", "resp3:missing"), 1); // _ (RESP3 null)
    await ask(command("CLIENT", "TRACKING", "ON"), 1);
    await ask(command("GET", "resp3:tracked"), 1);
    await pub.write(command("SET", "resp3:tracked", "changed"));
    await pub.waitFrames(k + 2);
    frames += 1;                                   // the invalidation push
    await sub.waitFrames(frames);
    await ask(command("UNSUBSCRIBE"), 3);
    await ask(command("PUNSUBSCRIBE", "p.*"), 1);
    await ask(command("SUNSUBSCRIBE"), 1);
    await ask(command("PING"), 1);
    await sub.write(command("QUIT"));
    subRequests++;
    subReplies++;
    const transcript = await sub.waitClosed();
    pub.end();
    await pub.waitClosed();

    // what the subscriber got, scanned independently
    const all = scanFrames(transcript);
    assert.equal(all.consumed, transcript.length);
    const heads = all.frames.filter((f) => f.push).map((f) => frameHead(transcript, f));
    const count = (w: string) => heads.filter((h) => h === w).length;
    assert.equal(count("message"), k - k / targets.length);
    assert.equal(count("pmessage"), k / targets.length);
    assert.equal(count("smessage"), 1);
    assert.equal(count("invalidate"), 1);
    assert.equal(count("subscribe") + count("psubscribe") + count("ssubscribe"), 5);
    assert.equal(count("unsubscribe") + count("punsubscribe") + count("sunsubscribe"), 5);
    const outOfBand = k + 1 + 1;                   // messages, the shard message, the invalidation
    assert.equal(all.frames.length, subReplies + outOfBand);

    const d = redisDelta(before, snapshot(env));
    assertHealthy(env, d, "RESP3 pub/sub");
    assert.equal(d.cx_total, 2);
    assert.equal(d.out_of_band_total, outOfBand, "pushes: messages and the invalidation, not the (un)subscribe acks");
    assert.equal(d.requests_total, subRequests + k + 2, "subscriber's requests + PUBLISH×k, SPUBLISH, SET");
    assert.equal(d.replies_ok + d.replies_error, subRequests + k + 2, "one response per request");
    assert.equal(d.replies_error, 0);
    assert.equal(d.duration_samples, subRequests + k + 2);
  } finally {
    sub.destroy();
    pub.destroy();
  }
}

// ---- MONITOR --------------------------------------------------------------------------------------

async function monitorCase(env: Env): Promise<void> {
  const before = snapshot(env);
  const mon = await RawRedis.connect(env.proxy.port);
  const other = await RawRedis.connect(env.behind.port);   // direct: only the monitor is proxied
  try {
    await mon.write(command("MONITOR"));
    await mon.waitFrames(1);
    assert.equal(mon.received().toString(), "+OK\r\n");
    const n = 25;
    const cmds: Buffer[] = [];
    for (let i = 0; i < n; i++) cmds.push(i % 5 === 4 ? Buffer.from(`incr "mon:${i}"\r\n`) : command("SET", `mon:${i}`, `${i}`));
    await other.write(Buffer.concat(cmds));
    await other.waitFrames(n);
    const feed = await mon.waitFrames(1 + n);
    const text = mon.received().toString();
    assert.equal(feed.length, 1 + n);
    assert.match(text, /^\+OK\r\n\+\d+\.\d+ \[0 127\.0\.0\.1:\d+\] "SET" "mon:0" "0"\r\n/);
    await mon.write(command("RESET"));              // leaves MONITOR mode
    await mon.write(command("PING"));
    await mon.write(command("QUIT"));
    const transcript = await mon.waitClosed();
    assert.match(transcript.toString(), /\+RESET\r\n\+PONG\r\n\+OK\r\n$/);
    const d = redisDelta(before, snapshot(env));
    assertHealthy(env, d, "MONITOR");
    assert.equal(d.out_of_band_total, n, "one out-of-band line per monitored command");
    assert.equal(d.requests_total, 4);
    assert.equal(d.replies_ok, 4);
    assert.equal(d.duration_samples, 4);
  } finally {
    mon.destroy();
    other.destroy();
  }
}

// ---- filter state at close ------------------------------------------------------------------------

async function closedState(env: Env, c: RawRedis): Promise<Record<string, string>> {
  const source = `127.0.0.1:${c.localPort}`;
  const open = await waitFor(() => [...env.events].reverse().find((e): e is OpenEvent => e.type === "open" && e.source === source), "open event");
  c.end();
  await c.waitClosed();
  const close = await waitFor(() => env.events.find((e): e is CloseEvent => e.type === "close" && e.id === open.id), "close event");
  return close.filterState;
}

async function session(port: number, commands: Buffer[]): Promise<RawRedis> {
  const c = await RawRedis.connect(port);
  for (const [i, cmd] of commands.entries()) {
    await c.write(cmd);
    await c.waitFrames(i + 1);
  }
  return c;
}

async function filterStateCase(env: Env, first: ProxyHandle, firstEvents: ProxyEvent[]): Promise<void> {
  const base = { "wasm.metawire.protocol": "redis", "wasm.metawire.kind": "request" };
  // the connection summary written at close: requests, error replies, first and last command
  const summary = (requests: number, errors: number, firstMethod: string, lastMethod: string) => ({
    "wasm.metawire.requests": String(requests), "wasm.metawire.errors": String(errors),
    "wasm.metawire.first_method": firstMethod, "wasm.metawire.last_method": lastMethod,
  });
  const get = await session(env.proxy.port, [command("SET", "k", "v"), command("GET", "k")]);
  assert.deepEqual(await closedState(env, get), {
    ...base, "wasm.metawire.method": "GET", "wasm.metawire.key": "k", "wasm.metawire.id": "2",
    "wasm.metawire.response_status": "ok", "wasm.metawire.response_code": "", ...summary(2, 0, "SET", "GET"),
  });

  const wrong = await session(env.proxy.port, [command("SET", "fs:str", "v"), command("GET", "fs:str"), command("lpush", "fs:str", "x")]);
  assert.deepEqual(await closedState(env, wrong), {
    ...base, "wasm.metawire.method": "LPUSH", "wasm.metawire.key": "fs:str", "wasm.metawire.id": "3",
    "wasm.metawire.response_status": "error", "wasm.metawire.response_code": "WRONGTYPE", ...summary(3, 1, "SET", "LPUSH"),
  });

  const inline = await session(env.proxy.port, [Buffer.from("ping\r\n"),
    command("EVAL", "return redis.call('GET', KEYS[1])", "1", "fs:evalkey"), Buffer.from('get "fs:inline key"\r\n')]);
  assert.deepEqual(await closedState(env, inline), {
    ...base, "wasm.metawire.method": "GET", "wasm.metawire.key": "fs:inline key", "wasm.metawire.id": "3",
    "wasm.metawire.response_status": "ok", "wasm.metawire.response_code": "", ...summary(3, 0, "PING", "GET"),
  });

  const script = await session(env.proxy.port, [command("EVAL", "return redis.call('GET', KEYS[1])", "2", "fs:k1", "fs:k2")]);
  const s = await closedState(env, script);
  assert.equal(s["wasm.metawire.method"], "EVAL");
  assert.equal(s["wasm.metawire.key"], "fs:k1");

  // expose: first — the first request and its reply stay
  const f = await session(first.port, [command("SET", "k", "v"), command("GET", "k"), command("INCR", "k")]);
  assert.deepEqual(await closedState({ ...env, events: firstEvents }, f), {
    ...base, "wasm.metawire.method": "SET", "wasm.metawire.key": "k", "wasm.metawire.id": "1",
    "wasm.metawire.response_status": "ok", "wasm.metawire.response_code": "", ...summary(3, 1, "SET", "INCR"),   // INCR of "v" is an error
  });
}

// ---- the test -------------------------------------------------------------------------------------

test("real Redis clients through metawire", { skip, timeout: 120_000 }, async (t) => {
  const direct = await startRedis();
  const behind = await startRedis();
  const events: ProxyEvent[] = [];
  const firstEvents: ProxyEvent[] = [];
  let proxy: ProxyHandle | undefined, first: ProxyHandle | undefined;
  try {
    proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify({ protocol: "redis", expose: { properties: "every" } }),
      clusters: { redis: `127.0.0.1:${behind.port}` },
      cluster: "redis",
      onEvent: (e) => { if (e.type !== "log") events.push(e); },
    });
    first = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify({ protocol: "redis", expose: { properties: "first" } }),
      clusters: { redis: `127.0.0.1:${behind.port}` },
      cluster: "redis",
      onEvent: (e) => { if (e.type !== "log") firstEvents.push(e); },
    });
    const env: Env = { direct, behind, proxy, events };
    const f = first;
    await t.test("redis-cli: output identical to a direct server", (tt) => cliCase(env, tt));
    await t.test("redis-cli --pipe: 10,000 SETs mass insertion", () => cliPipeCase(env));
    await t.test("ioredis: pipeline, MULTI, hashes, EVAL, 1 MiB value, errors: results equal to direct", () => ioredisCase(env));
    await t.test("ioredis pub/sub: messages in order, counted out of band; usable after unsubscribe", () => ioredisPubSubCase(env));
    await t.test("RESP3 pub/sub and client-tracking pushes on a raw socket", () => resp3PubSubCase(env));
    await t.test("MONITOR through the proxy: the feed is out of band, RESET leaves it", () => monitorCase(env));
    await t.test("filter state at close: method, key, id, status of the last request (every) or the first (first)",
      () => filterStateCase(env, f, firstEvents));
    assert.ok(proxy.vms.every((v) => !v.failed) && first.vms.every((v) => !v.failed));
  } finally {
    await proxy?.close();
    await first?.close();
    await direct.stop();
    await behind.stop();
  }
});
