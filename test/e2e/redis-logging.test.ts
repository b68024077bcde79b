// log_requests through the proxy in front of a real redis-server: "one info log line per answered
// request" (README), `redis id=<n> <METHOD> [key=<key>] -> ok|error <CODE> <µs>us`, where the key
// is the first key of request <n> itself.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { startProxy, type ProxyHandle } from "../host/tcp-proxy.js";
import { metawireWasm } from "../support/filter.js";
import { redisAvailable, startRedis, type RedisServer } from "../support/redis-server.js";
import { command } from "../support/resp.js";
import { RawRedis } from "../support/raw-redis.js";

const skip = redisAvailable();

interface Line { id: number; method: string; key: string; result: string }

const LINE = /^redis id=(\d+) (\S+)(?: key=(.*?))? -> (ok|error(?: \S+)?) \d+us$/;

function parse(msg: string): Line {
  const m = LINE.exec(msg);
  assert.ok(m, `unexpected log line ${JSON.stringify(msg)}`);
  return { id: Number(m[1]), method: m[2], key: m[3] ?? "", result: m[4] };
}

let server: RedisServer | undefined;
let proxy: ProxyHandle | undefined;
const logs: { msg: string; context: number }[] = [];

async function setup(): Promise<ProxyHandle> {
  server ??= await startRedis();
  proxy ??= await startProxy({
    wasm: metawireWasm(),
    pluginConfig: JSON.stringify({ protocol: "redis", log_requests: true, expose: { properties: "off" } }),
    clusters: { redis: `127.0.0.1:${server.port}` },
    cluster: "redis",
    onLog: (level, msg, context) => { if (level === 2 && msg.startsWith("redis ")) logs.push({ msg, context }); },
  });
  return proxy;
}

// Sends the whole pipeline, waits for `replies` values and QUIT's, returns this connection's lines.
async function logged(bytes: Buffer[], replies: number): Promise<Line[]> {
  const p = await setup();
  logs.length = 0;
  const c = await RawRedis.connect(p.port);
  try {
    await c.write(Buffer.concat([...bytes, command("QUIT")]));
    await c.waitFrames(replies + 1);
    await c.waitClosed();
  } finally {
    c.destroy();
  }
  const lines = logs.map((l) => parse(l.msg));
  assert.equal(new Set(logs.map((l) => l.context)).size, 1, "lines of one connection");
  return lines.filter((l) => l.method !== "QUIT");
}

after(async () => {
  await proxy?.close();
  await server?.stop();
});

test("log_requests: one line per pipelined request, with its own key and result", { skip, timeout: 30_000 }, async () => {
  const lines = await logged([
    command("SET", "a", "1"), command("GET", "a"), command("INCR", "ctr"), command("GET", "missing"),
    command("LPUSH", "a", "x"), command("EVAL", "return 1", "1", "ek"), command("PING"), Buffer.from('get "spaced key"\r\n'),
  ], 8);
  assert.deepEqual(lines, [
    { id: 1, method: "SET", key: "a", result: "ok" },
    { id: 2, method: "GET", key: "a", result: "ok" },
    { id: 3, method: "INCR", key: "ctr", result: "ok" },
    { id: 4, method: "GET", key: "missing", result: "ok" },
    { id: 5, method: "LPUSH", key: "a", result: "error WRONGTYPE" },
    { id: 6, method: "EVAL", key: "ek", result: "ok" },
    { id: 7, method: "PING", key: "", result: "ok" },
    { id: 8, method: "GET", key: "spaced key", result: "ok" },
  ]);
});

test("log_requests: requests silenced by CLIENT REPLY SKIP/OFF do not shift the keys of later lines", {
  skip,
  timeout: 30_000,
}, async () => {
  const lines = await logged([
    command("SET", "x", "1"),
    command("CLIENT", "REPLY", "SKIP"), command("SET", "a", "1"),          // no replies
    command("GET", "b"),
    command("CLIENT", "REPLY", "OFF"), command("SET", "c", "1"),           // no replies
    command("CLIENT", "REPLY", "ON"),
    command("GET", "d"),
  ], 4);
  assert.deepEqual(lines, [
    { id: 1, method: "SET", key: "x", result: "ok" },
    { id: 4, method: "GET", key: "b", result: "ok" },
    { id: 7, method: "CLIENT", key: "", result: "ok" },
    { id: 8, method: "GET", key: "d", result: "ok" },
  ]);
});

test("log_requests: a SUBSCRIBE answered by several acks is one line and does not shift later keys", {
  skip,
  timeout: 30_000,
}, async () => {
  const lines = await logged([
    command("HELLO", "3"), command("SUBSCRIBE", "ch1", "ch2"), command("GET", "k1"), command("GET", "k2"),
  ], 1 + 2 + 2);
  assert.deepEqual(lines, [
    { id: 1, method: "HELLO", key: "", result: "ok" },
    { id: 2, method: "SUBSCRIBE", key: "", result: "ok" },
    { id: 3, method: "GET", key: "k1", result: "ok" },
    { id: 4, method: "GET", key: "k2", result: "ok" },
  ]);
});
