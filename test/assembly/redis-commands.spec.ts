// The command table: name lookup (any case, no allocation), the first-key rule of every command in
// protocols.md §3.4 (Redis 7.0.15 COMMAND INFO, carried here), and the correlation flags.

import {
  lookupCommand,
  commandName,
  commandRule,
  commandFlags,
  commandCount,
  ruleKind,
  ruleArg,
  ruleKeyword,
  psKind,
  RULE_INDEX,
  RULE_KEYNUM,
  RULE_KEYWORD,
  KEY_NONE,
  CMD_SUBSCRIBE,
  CMD_UNSUBSCRIBE,
  CMD_MONITOR,
  CMD_CLIENT,
  CMD_RESET,
  CMD_QUIT,
  CMD_MULTI,
  CMD_EXEC,
  CMD_BLOCKING,
  PS_CHANNEL,
  PS_PATTERN,
  PS_SHARD,
} from "../../assembly/protocols/redis/commands";
import { ascii } from "./helpers";

function find(name: string): i32 {
  const b = ascii(name);
  return lookupCommand(b.dataStart, b.length);
}

/** "index N", "keynum N", "keyword N" or "none", from the table. */
function ruleText(index: i32): string {
  const r = commandRule(index);
  const k = ruleKind(r);
  if (k == RULE_INDEX) return "index " + ruleArg(r).toString();
  if (k == RULE_KEYNUM) return "keynum " + ruleArg(r).toString();
  if (k == RULE_KEYWORD) return "keyword " + ruleArg(r).toString();
  return "none";
}

// protocols.md §3.4: command, then how its first key is found (begin_search of the first key-spec)
const TABLE_3_4: string[] = [
  "get index 1", "set index 1", "setnx index 1", "setex index 1", "psetex index 1",
  "getset index 1", "getdel index 1", "getex index 1", "append index 1", "strlen index 1",
  "incr index 1", "incrby index 1", "incrbyfloat index 1", "decr index 1", "decrby index 1",
  "getrange index 1", "setrange index 1", "mget index 1", "mset index 1", "msetnx index 1",
  "del index 1", "unlink index 1", "exists index 1", "touch index 1", "expire index 1",
  "pexpire index 1", "expireat index 1", "pexpireat index 1", "persist index 1", "ttl index 1",
  "pttl index 1", "type index 1", "rename index 1", "renamenx index 1", "hget index 1",
  "hset index 1", "hsetnx index 1", "hmset index 1", "hmget index 1", "hgetall index 1",
  "hdel index 1", "hexists index 1", "hincrby index 1", "hincrbyfloat index 1", "hkeys index 1",
  "hvals index 1", "hlen index 1", "hstrlen index 1", "hscan index 1", "lpush index 1",
  "rpush index 1", "lpushx index 1", "rpushx index 1", "lpop index 1", "rpop index 1",
  "llen index 1", "lrange index 1", "lindex index 1", "lset index 1", "lrem index 1",
  "ltrim index 1", "linsert index 1", "lmove index 1", "blpop index 1", "brpop index 1",
  "blmove index 1", "rpoplpush index 1", "sadd index 1", "srem index 1", "smembers index 1",
  "sismember index 1", "smismember index 1", "scard index 1", "spop index 1", "srandmember index 1",
  "sscan index 1", "sinter index 1", "sunion index 1", "sdiff index 1", "sinterstore index 1",
  "smove index 1", "zadd index 1", "zrem index 1", "zscore index 1", "zincrby index 1",
  "zcard index 1", "zcount index 1", "zrange index 1", "zrangebyscore index 1", "zrevrange index 1",
  "zrank index 1", "zrevrank index 1", "zremrangebyscore index 1", "zscan index 1", "zpopmin index 1",
  "bzpopmin index 1", "zunionstore index 1", "pfadd index 1", "pfcount index 1", "pfmerge index 1",
  "setbit index 1", "getbit index 1", "bitcount index 1", "bitpos index 1", "bitop index 2",
  "bitfield index 1", "geoadd index 1", "geodist index 1", "geopos index 1", "georadius index 1",
  "xadd index 1", "xlen index 1", "xrange index 1", "xread keyword 1", "xreadgroup keyword 4",
  "xack index 1", "xgroup none", "eval keynum 2", "evalsha keynum 2", "eval_ro keynum 2",
  "fcall keynum 2", "publish none", "subscribe none", "ping none", "auth none",
  "select none", "hello none", "multi none", "exec none", "watch index 1",
  "scan none", "keys none", "info none", "client none", "command none",
  "object none", "dump index 1", "restore index 1", "sort index 1", "copy index 1",
  "lmpop keynum 1", "zmpop keynum 1",
];

// Deliberate departures from the container-level 7.0.15 entry: the key-taking subcommands of these
// containers (OBJECT ENCODING k, XGROUP CREATE k …) name the key at argv[2].
const SUBCOMMAND_KEYS: string[] = ["xgroup index 2", "object index 2"];

describe("command table", () => {
  it("finds every entry by its name, in any case", () => {
    const n = commandCount();
    expect(n).toBeGreaterThan(240);
    for (let i = 0; i < n; i++) {
      const name = commandName(i);
      expect(find(name)).toBe(i, name);
      expect(find(name.toLowerCase())).toBe(i, name);
    }
  });

  it("misses unknown, empty and over-long names", () => {
    expect(find("FOO")).toBe(-1);
    expect(find("")).toBe(-1);
    expect(find("GETX")).toBe(-1);
    expect(find("GE")).toBe(-1);
    expect(find("G".repeat(1000))).toBe(-1);
    expect(commandName(-1)).toBe("");
    expect(commandName(100000)).toBe("");
    expect(commandRule(-1)).toBe(KEY_NONE);
    expect(commandFlags(-1)).toBe(0);
  });

  it("has the first-key rule of every command in protocols.md §3.4", () => {
    for (let i = 0; i < TABLE_3_4.length; i++) {
      const row = TABLE_3_4[i];
      const sp = row.indexOf(" ");
      const name = row.substring(0, sp);
      let want = row.substring(sp + 1);
      for (let j = 0; j < SUBCOMMAND_KEYS.length; j++) {
        if (SUBCOMMAND_KEYS[j].startsWith(name + " ")) want = SUBCOMMAND_KEYS[j].substring(name.length + 1);
      }
      const index = find(name);
      expect(index >= 0).toBe(true, name);
      expect(ruleText(index)).toBe(want, name);
    }
  });

  it("knows Redis 7 commands beyond the table", () => {
    expect(ruleText(find("lpos"))).toBe("index 1");
    expect(ruleText(find("zunion"))).toBe("keynum 1");
    expect(ruleText(find("zinter"))).toBe("keynum 1");
    expect(ruleText(find("zdiff"))).toBe("keynum 1");
    expect(ruleText(find("sintercard"))).toBe("keynum 1");
    expect(ruleText(find("blmpop"))).toBe("keynum 2");
    expect(ruleText(find("bzmpop"))).toBe("keynum 2");
    expect(ruleText(find("evalsha_ro"))).toBe("keynum 2");
    expect(ruleText(find("fcall_ro"))).toBe("keynum 2");
    expect(ruleText(find("spublish"))).toBe("index 1");
    expect(ruleKeyword(commandRule(find("xread")))).toBe("STREAMS");
    const keyless = ["discard", "quit", "reset", "monitor", "wait", "unsubscribe", "psubscribe", "punsubscribe"];
    for (let i = 0; i < keyless.length; i++) {
      expect(find(keyless[i]) >= 0).toBe(true, keyless[i]);
      expect(ruleText(find(keyless[i]))).toBe("none", keyless[i]);
    }
  });

  it("flags what correlation needs", () => {
    const sub = commandFlags(find("subscribe"));
    expect(sub & CMD_SUBSCRIBE).toBe(CMD_SUBSCRIBE);
    expect(psKind(sub)).toBe(PS_CHANNEL);
    expect(psKind(commandFlags(find("psubscribe")))).toBe(PS_PATTERN);
    expect(psKind(commandFlags(find("ssubscribe")))).toBe(PS_SHARD);
    const unsub = commandFlags(find("sunsubscribe"));
    expect(unsub & CMD_UNSUBSCRIBE).toBe(CMD_UNSUBSCRIBE);
    expect(psKind(unsub)).toBe(PS_SHARD);
    expect(psKind(commandFlags(find("punsubscribe")))).toBe(PS_PATTERN);
    expect(commandFlags(find("monitor")) & CMD_MONITOR).toBe(CMD_MONITOR);
    expect(commandFlags(find("client")) & CMD_CLIENT).toBe(CMD_CLIENT);
    expect(commandFlags(find("reset")) & CMD_RESET).toBe(CMD_RESET);
    expect(commandFlags(find("quit")) & CMD_QUIT).toBe(CMD_QUIT);
    expect(commandFlags(find("multi")) & CMD_MULTI).toBe(CMD_MULTI);
    expect(commandFlags(find("exec")) & CMD_EXEC).toBe(CMD_EXEC);
    expect(commandFlags(find("blpop")) & CMD_BLOCKING).toBe(CMD_BLOCKING);
    expect(commandFlags(find("get"))).toBe(0);
  });
});
