// metawire in front of a real redis-server is invisible: the same byte script, sent over a raw
// socket in random-sized chunks, gets a byte-identical reply transcript whether it goes straight to
// one fresh server or through the proxy (running build/metawire.wasm) to an identical second one.
// After each script the proxy's metrics must say exactly what the script did: one request per
// command, one reply (and one latency sample) per value the server answered, pushes out of band,
// no decode error. Expected counts are declared while the script is built, and cross-checked
// against the direct transcript with an independent RESP scanner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type ProxyEvent, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { command } from "../support/resp.js";
import { scanFrames } from "../support/resp-frames.js";
import { RawRedis, prng } from "../support/raw-redis.js";
import { redisDelta, redisSnapshot } from "../support/metawire-metrics.js";
import { waitFor } from "../support/wait.js";

const skip = redisAvailable();
const SEED = Number(process.env.METAWIRE_E2E_SEED ?? Date.now() % 1_000_000);

type Step =
  | { kind: "send"; bytes: Buffer; oneWrite: boolean }
  | { kind: "wait"; frames: number }
  | { kind: "side"; run: (serverPort: number) => Promise<void> };

// A byte script with the counts it must produce, declared command by command.
class Script {
  readonly steps: Step[] = [];
  requests = 0;     // commands the server executes (what requests_total must grow by)
  replies = 0;      // values the server answers with, pushes excluded
  pushes = 0;       // RESP3 out-of-band pushes
  private pending: Buffer[] = [];

  constructor(readonly name: string) {}

  /** A command answered by one reply (and `pushes` out-of-band pushes before it). */
  cmd(...args: (string | Buffer)[]): this {
    return this.add(command(...args), 1, 1);
  }
  /** A command the server executes without answering (CLIENT REPLY OFF/SKIP). */
  silent(...args: (string | Buffer)[]): this {
    return this.add(command(...args), 1, 0);
  }
  /** An inline command line (CRLF appended). */
  inline(line: string, replies = 1): this {
    return this.add(Buffer.from(`${line}\r\n`, "latin1"), 1, replies);
  }
  raw(bytes: Buffer | string, requests: number, replies: number, pushes = 0): this {
    return this.add(Buffer.from(bytes as string, "latin1"), requests, replies, pushes);
  }
  add(bytes: Buffer, requests: number, replies: number, pushes = 0): this {
    this.pending.push(bytes);
    this.requests += requests;
    this.replies += replies;
    this.pushes += pushes;
    return this;
  }
  /** What was added so far goes out as one step: chunked, or in a single write. */
  flush(oneWrite = false): this {
    if (this.pending.length) this.steps.push({ kind: "send", bytes: Buffer.concat(this.pending), oneWrite });
    this.pending = [];
    return this;
  }
  /** Waits until every value answered so far arrived. */
  wait(): this {
    this.flush();
    this.steps.push({ kind: "wait", frames: this.replies + this.pushes });
    return this;
  }
  /** After every reply so far arrived, runs `run` against the same server on a second connection. */
  side(run: (serverPort: number) => Promise<void>): this {
    this.wait();
    this.steps.push({ kind: "side", run });
    return this;
  }
  quit(): this {
    return this.cmd("QUIT").flush();
  }
}

// One command on a separate direct connection to a server, waiting for its reply.
async function sideCommand(port: number, ...args: string[]): Promise<void> {
  const c = await RawRedis.connect(port);
  try {
    await c.write(command(...args));
    const [f] = await c.waitFrames(1);
    assert.notEqual(c.received()[f.start], 0x2d, `side command ${args.join(" ")} failed: ${c.received().toString()}`);
  } finally {
    c.destroy();
  }
}

function bytesOf(seed: number, n: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

// ---- the scripts ----------------------------------------------------------------------------------

function mixedScript(): Script {
  const s = new Script("mixed commands, inline quoting, errors, EVAL, MSET/MGET, hashes, lists, zsets");
  const binary = Buffer.from("a\r\nb\0c*1\r\n$3\r\n\xff", "latin1");
  s.cmd("SET", "s", "hello").cmd("GET", "s")
    .inline(`SET "inline key" "with \\"escapes\\" \\x41\\x42 and\\ttab\\r\\n"`)
    .inline(`GET "inline key"`)
    .inline(`set 'single quoted' 'it\\'s'`)
    .inline(`   ECHO    spaced   `)
    .raw("\r\n", 0, 0)          // an empty inline line: Redis ignores it, no request
    .raw("*0\r\n", 0, 0)        // an empty multibulk: ignored as well
    .inline(`GET 'single quoted'`)
    .raw("\n", 0, 0)            // a bare LF line: ignored too
    .inline("PING")
    .cmd("LPUSH", "s", "x")                       // -WRONGTYPE
    .cmd("NOSUCHCOMMAND", "a", "b")               // -ERR unknown command
    .cmd("GET")                                   // -ERR wrong number of arguments
    .inline("get")                                // the same, inline
    .inline("nosuch 'x y'")                       // unknown, inline
    .cmd("INCR", "s")                             // -ERR not an integer
    .cmd("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "evk", "val")
    .cmd("EVAL", "return {KEYS[1], ARGV[1], 42, redis.call('GET', KEYS[1]), {1, {2, 'deep'}}}", "1", "evk", "x")
    .cmd("EVAL", "return redis.error_reply('MYERR custom failure')", "0")
    .cmd("EVAL", "return redis.call('INCR', KEYS[1])", "1", "s")   // error raised inside the script
    .cmd("EVALSHA", "0000000000000000000000000000000000000000", "0")  // -NOSCRIPT
    .cmd("MSET", "k1", "v1", "k2", "v2", "k3", "v3")
    .cmd("MGET", "k1", "k2", "nokey", "k3")
    .cmd("MSET", "k1")                            // arity error
    .cmd("HSET", "h", "f1", "1", "f2", "2", "f3", "3")
    .cmd("HGETALL", "h")
    .cmd("HINCRBY", "h", "f1", "10")
    .cmd("HMGET", "h", "f1", "nofield", "f3")
    .cmd("HGET", "h", "nofield")
    .cmd("OBJECT", "ENCODING", "h")
    .cmd("RPUSH", "l", "a", "b", "c", "d", "e")
    .cmd("LRANGE", "l", "0", "-1")
    .cmd("LPOP", "l", "2")
    .cmd("LLEN", "l")
    .cmd("LINDEX", "l", "99")
    .cmd("ZADD", "z", "1", "one", "2", "two", "3.5", "three", "-1", "neg")
    .cmd("ZRANGE", "z", "0", "-1", "WITHSCORES")
    .cmd("ZRANGEBYSCORE", "z", "(1", "+inf", "WITHSCORES")
    .cmd("ZREVRANGE", "z", "0", "1", "WITHSCORES")
    .cmd("ZSCORE", "z", "three")
    .cmd("ZINCRBY", "z", "0.25", "one")
    .cmd("ZADD", "z", "notanumber", "x")          // -ERR not a float
    .cmd("SADD", "set", "30", "10", "20")         // an intset: SMEMBERS order is deterministic
    .cmd("SMEMBERS", "set")
    .cmd("SISMEMBER", "set", "20")
    .cmd("DEL", "k1", "k2", "nokey")
    .cmd("EXISTS", "k1", "k3")
    .cmd("TYPE", "h")
    .cmd("SET", "bin", binary)
    .cmd("GET", "bin")
    .cmd("STRLEN", "bin")
    .cmd("INCRBYFLOAT", "f", "1.5")
    .cmd("ECHO", "")
    .cmd("PING", "hi")
    .cmd("GETRANGE", "s", "1", "3")
    .cmd("SET", "s", "v", "NX")                   // nil: the key exists
    .cmd("SET", "s", "v2", "XX", "GET");
  return s.flush().quit();
}

function pipelineScript(): Script {
  const s = new Script("1,000 pipelined commands in one write");
  for (let i = 0; i < 1000; i++) {
    switch (i % 10) {
      case 0: s.cmd("SET", `key:${i}`, `value-${i}`); break;
      case 1: s.cmd("GET", `key:${i - 1}`); break;
      case 2: s.cmd("INCR", "counter"); break;
      case 3: s.cmd("LPUSH", "list", String(i)); break;
      case 4: s.cmd("HSET", "hash", `f${i}`, String(i)); break;
      case 5: s.cmd("SADD", "ints", String(i)); break;
      case 6: s.cmd("ZADD", "zset", String(i), `m${i}`); break;
      case 7: s.cmd("GET", "missing"); break;
      case 8: s.cmd("HGET", "list", "x"); break;   // -WRONGTYPE
      case 9: s.cmd("MGET", `key:${i - 9}`, "missing", "counter"); break;
    }
  }
  s.flush(true);
  return s.quit();
}

function transactionScript(): Script {
  const s = new Script("MULTI/EXEC, DISCARD, EXECABORT, WATCH-aborted EXEC");
  s.cmd("SET", "w", "1")
    .cmd("MULTI").cmd("INCR", "w").cmd("GET", "w").cmd("LPUSH", "w", "x").cmd("EXEC")   // EXEC: [2, "2", -WRONGTYPE]
    .cmd("MULTI").cmd("SET", "d", "1").cmd("DISCARD").cmd("GET", "d")
    .cmd("DISCARD")                                       // -ERR DISCARD without MULTI
    .cmd("EXEC")                                          // -ERR EXEC without MULTI
    .cmd("MULTI").cmd("GET").cmd("SET", "a", "b").cmd("EXEC")   // queued arity error: -EXECABORT
    .cmd("MULTI").cmd("MULTI").cmd("WATCH", "w").cmd("DISCARD")  // nested MULTI, WATCH inside MULTI: errors
    .cmd("MULTI").cmd("EXEC")                            // empty transaction: *0
    .cmd("WATCH", "w");
  s.side((port) => sideCommand(port, "SET", "w", "100"));
  s.cmd("MULTI").cmd("INCR", "w").cmd("EXEC")             // aborted: null array
    .cmd("GET", "w")
    .cmd("WATCH", "w").cmd("MULTI").cmd("INCR", "w").cmd("EXEC")   // not touched: [101]
    .cmd("WATCH", "w").cmd("UNWATCH");
  s.side((port) => sideCommand(port, "SET", "w", "5"));
  s.cmd("MULTI").cmd("INCR", "w").cmd("EXEC")             // unwatched: [6]
    .inline("MULTI").inline("incr w").inline(`hset th "a b" 1`).inline("EXEC")
    .cmd("MULTI").cmd("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", "1", "w", "10")
    .cmd("HGETALL", "th").cmd("EXEC");
  return s.flush().quit();
}

const DEBUG_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
  "verbatim", "true", "false"];

function resp3Script(): Script {
  const s = new Script("RESP3: HELLO 3 (reply skipped), DEBUG PROTOCOL of every type, maps and sets");
  // CLIENT REPLY SKIP hides HELLO's reply (it holds the connection id, which differs per server).
  s.silent("CLIENT", "REPLY", "SKIP").silent("HELLO", "3");
  for (const t of DEBUG_TYPES) {
    if (t === "push") s.add(command("DEBUG", "PROTOCOL", t), 1, 1, 1);   // a push, then a real reply
    else s.cmd("DEBUG", "PROTOCOL", t);
  }
  s.cmd("HSET", "h3", "a", "1", "b", "2", "c", "3").cmd("HGETALL", "h3")
    .cmd("SADD", "s3", "5", "1", "3").cmd("SMEMBERS", "s3")
    .cmd("GET", "missing")                               // RESP3 null
    .cmd("ZADD", "z3", "1.5", "a", "2", "b").cmd("ZRANGE", "z3", "0", "-1", "WITHSCORES").cmd("ZSCORE", "z3", "a")
    .cmd("HGET", "h3")                                   // error in RESP3
    .cmd("EVAL", "return {1, 'two', {3}}", "0")
    .cmd("CONFIG", "GET", "maxmemory-policy")            // a map in RESP3
    .inline("DEBUG PROTOCOL map");
  // back to RESP2 (reply skipped again): attributes are gone, pushes are refused
  s.silent("CLIENT", "REPLY", "SKIP").silent("HELLO", "2");
  s.cmd("DEBUG", "PROTOCOL", "attrib").cmd("DEBUG", "PROTOCOL", "push").cmd("DEBUG", "PROTOCOL", "map")
    .cmd("HGETALL", "h3");
  return s.flush().quit();
}

function bigValueScript(): Script {
  const s = new Script("values of 1 MiB and more: SET/GET 1 MiB and 5 MiB, APPEND");
  const mib = 1 << 20;
  const one = bytesOf(1, mib), five = bytesOf(5, 5 * mib), more = bytesOf(2, mib);
  s.cmd("SET", "big1", one).cmd("GET", "big1")
    .cmd("SET", "big5", five).cmd("STRLEN", "big5").cmd("GET", "big5")
    .cmd("APPEND", "big1", more).cmd("STRLEN", "big1")
    .cmd("GETRANGE", "big1", String(mib - 8), String(mib + 7))
    .cmd("GET", "big1")
    .cmd("RPUSH", "bl", one, "small", more).cmd("LRANGE", "bl", "0", "-1")
    .cmd("MSET", "m1", more, "m2", "x").cmd("MGET", "m1", "m2")
    .cmd("DEL", "big5", "bl");
  return s.flush().quit();
}

function replyOffScript(): Script {
  const s = new Script("CLIENT REPLY OFF … ON, and SKIP");
  s.cmd("SET", "r", "1")
    .silent("CLIENT", "REPLY", "OFF")
    .silent("SET", "r", "2").silent("INCR", "r").silent("GET", "r").silent("NOSUCH", "x").silent("GET")
    .inline("GET r", 0)
    .cmd("CLIENT", "REPLY", "ON")                          // +OK
    .cmd("GET", "r")                                       // "3"
    .silent("CLIENT", "REPLY", "SKIP").silent("INCR", "r").cmd("GET", "r")
    .silent("CLIENT", "REPLY", "SKIP").silent("CLIENT", "REPLY", "SKIP").silent("INCR", "r").cmd("GET", "r")
    .silent("CLIENT", "REPLY", "OFF").silent("CLIENT", "REPLY", "SKIP").silent("INCR", "r")
    .cmd("CLIENT", "REPLY", "ON").cmd("GET", "r")
    .inline("client reply off", 0).inline("incr r", 0).inline("client reply on").cmd("GET", "r");
  return s.flush().quit();
}

// ---- running a script -----------------------------------------------------------------------------

async function runScript(script: Script, port: number, serverPort: number, seed: number): Promise<{ transcript: Buffer; localPort: number }> {
  const random = prng(seed);
  const c = await RawRedis.connect(port);
  try {
    for (const step of script.steps) {
      if (step.kind === "send") {
        if (step.oneWrite) await c.write(step.bytes);
        else await c.writeChunked(step.bytes, { random });
      } else if (step.kind === "wait") {
        await c.waitFrames(step.frames, 30_000);
      } else {
        await step.run(serverPort);
      }
    }
    return { transcript: await c.waitClosed(30_000), localPort: c.localPort };
  } finally {
    c.destroy();
  }
}

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const show = (x: Buffer) => JSON.stringify(x.subarray(Math.max(0, i - 40), i + 80).toString("latin1"));
  return `lengths ${a.length} vs ${b.length}, first difference at ${i}:\n direct: ${show(a)}\n  proxy: ${show(b)}`;
}


test("redis through metawire: reply transcripts byte-identical to a direct connection, metrics exact", { skip, timeout: 120_000 }, async (t) => {
  const args = ["--enable-debug-command", "yes"];
  const direct: RedisServer = await startRedis(args);
  const behind: RedisServer = await startRedis(args);
  const events: ProxyEvent[] = [];
  let proxy: ProxyHandle | undefined;
  try {
    proxy = await startProxy({
      wasm: metawireWasm(),
      pluginConfig: JSON.stringify({ protocol: "redis", expose: { properties: "every" } }),
      clusters: { redis: `127.0.0.1:${behind.port}` },
      cluster: "redis",
      onEvent: (e) => { if (e.type !== "log") events.push(e); },
    });
    const p = proxy;
    const scripts = [mixedScript, pipelineScript, transactionScript, resp3Script, bigValueScript, replyOffScript];
    for (const [i, build] of scripts.entries()) {
      const script = build();
      await t.test(script.name, async () => {
        const seed = SEED + i;
        const a = await runScript(script, direct.port, direct.port, seed);
        const before = redisSnapshot(p.metrics);
        const b = await runScript(script, p.port, behind.port, seed);
        const d = redisDelta(before, redisSnapshot(p.metrics));
        const ctx = `${script.name} (seed ${seed}; rerun with METAWIRE_E2E_SEED=${SEED})`;

        // The oracle: what the server really answered, scanned independently of the filter.
        const { frames, consumed } = scanFrames(a.transcript);
        assert.equal(consumed, a.transcript.length, `${ctx}: direct transcript ends inside a value`);
        assert.equal(frames.filter((f) => !f.push).length, script.replies, `${ctx}: replies declared vs sent by the server`);
        assert.equal(frames.filter((f) => f.push).length, script.pushes, `${ctx}: pushes declared vs sent by the server`);
        assert.ok(a.transcript.length > 40 && script.replies > 5, `${ctx}: trivial transcript`);
        assert.equal(a.transcript.subarray(-5).toString(), "+OK\r\n", `${ctx}: QUIT answered last`);

        assert.ok(a.transcript.equals(b.transcript), `${ctx}: transcripts differ, ${firstDifference(a.transcript, b.transcript)}`);

        assert.deepEqual(d, {
          cx_total: 1,
          requests_total: script.requests,
          replies_ok: d.replies_ok,
          replies_error: d.replies_error,
          out_of_band_total: script.pushes,
          decode_errors_total: 0,
          passthrough_total: 0,
          duration_samples: script.replies,
        }, ctx);
        assert.equal(d.replies_ok + d.replies_error, script.replies, `${ctx}: replies_ok + replies_error`);
        const errors = frames.filter((f) => !f.push && (a.transcript[f.start] === 0x2d || a.transcript[f.start] === 0x21)).length;
        assert.equal(d.replies_error, errors, `${ctx}: replies_error vs top-level error replies`);

        // expose: every — the connection's filter state names its last request, QUIT, by number.
        const open = [...events].reverse().find((e): e is Extract<ProxyEvent, { type: "open" }> =>
          e.type === "open" && e.source === `127.0.0.1:${b.localPort}`);
        assert.ok(open, `${ctx}: no open event for the proxied connection`);
        const close = await waitFor(() => events.find((e): e is Extract<ProxyEvent, { type: "close" }> =>
          e.type === "close" && e.id === open.id), "the close event");
        assert.equal(close.filterState["wasm.metawire.method"], "QUIT", ctx);
        assert.equal(close.filterState["wasm.metawire.id"], String(script.requests), ctx);
        assert.equal(close.filterState["wasm.metawire.response_status"], "ok", ctx);
        assert.equal(close.filterState["wasm.metawire.protocol"], "redis", ctx);
        assert.ok(p.vms.every((v) => !v.failed), `${ctx}: a VM failed`);
      });
    }
  } finally {
    await proxy?.close();
    await direct.stop();
    await behind.stop();
  }
});
