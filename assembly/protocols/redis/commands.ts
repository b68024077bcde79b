// Redis command table: where the first key of a command is (specs/protocols.md §3.4, Redis 7 key-specs)
// and the few properties request/reply correlation needs (pub/sub, MONITOR, CLIENT, RESET, …).
// The table is built once, on first use (a request decoder's construction counts); lookups hash the
// request's name bytes in place (no String is made per request) and confirm the hit by comparing
// bytes. The per-request functions read flat tables through raw pointers taken once at build time:
// touching a managed Array/String there would cost shadow-stack spills on every call.

import { tailMask } from "./raw";

// ---- key rules: how to find the first key ------------------------------------------------------
// A rule is one i32: kind in bits 0..3, argument index in bits 8..15, keyword id in bits 16..23.

export const KEY_NONE: i32 = 0;
/** The first key is argv[i]. */
export const RULE_INDEX: i32 = 1;
/** argv[k] holds a key count n; if n ≥ 1 the first key is argv[k+1] (EVAL, FCALL, LMPOP, ZUNION, …). */
export const RULE_KEYNUM: i32 = 2;
/** The first key is the argument after a keyword, searched from argv[from] on (XREAD … STREAMS k). */
export const RULE_KEYWORD: i32 = 3;

export function KEY_INDEX(i: i32): i32 {
  return RULE_INDEX | ((i & 0xff) << 8);
}
export function KEY_KEYNUM(k: i32): i32 {
  return RULE_KEYNUM | ((k & 0xff) << 8);
}
/** `from` is where the keyword search starts (Redis key-spec `startfrom`). */
export function KEY_KEYWORD(word: string, from: i32): i32 {
  return RULE_KEYWORD | ((from & 0xff) << 8) | (keywordId(word) << 16);
}
// @ts-ignore: decorator
@inline
export function ruleKind(rule: i32): i32 {
  return rule & 0xf;
}
/** Index for RULE_INDEX / RULE_KEYNUM, search start for RULE_KEYWORD. */
// @ts-ignore: decorator
@inline
export function ruleArg(rule: i32): i32 {
  return (rule >> 8) & 0xff;
}
/** The keyword of a RULE_KEYWORD rule, upper-case ASCII. */
export function ruleKeyword(rule: i32): string {
  const id = (rule >> 16) & 0xff;
  return id < KEYWORDS.length ? unchecked(KEYWORDS[id]) : "";
}

const KEYWORDS: string[] = ["STREAMS"];

function keywordId(word: string): i32 {
  for (let i = 0; i < KEYWORDS.length; i++) if (unchecked(KEYWORDS[i]) == word) return i;
  KEYWORDS.push(word); // only at table build time
  return KEYWORDS.length - 1;
}

// ---- flags for correlation ---------------------------------------------------------------------

/** Acknowledged once per channel argument: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE. */
export const CMD_SUBSCRIBE: i32 = 1 << 0;
/** Acknowledged once per argument, or once per subscription of its kind without arguments. */
export const CMD_UNSUBSCRIBE: i32 = 1 << 1;
/** Pub/sub kind (bits 2..3): which subscriptions a (un)subscribe is about. */
export const PS_SHIFT: i32 = 2;
export const PS_CHANNEL: i32 = 0;
export const PS_PATTERN: i32 = 1;
export const PS_SHARD: i32 = 2;
export const CMD_MONITOR: i32 = 1 << 4;
/** CLIENT: the session looks for CLIENT REPLY ON|OFF|SKIP. */
export const CMD_CLIENT: i32 = 1 << 5;
/** RESET leaves pub/sub and MONITOR modes and turns CLIENT REPLY back on. */
export const CMD_RESET: i32 = 1 << 6;
export const CMD_QUIT: i32 = 1 << 7;
export const CMD_MULTI: i32 = 1 << 8;
export const CMD_EXEC: i32 = 1 << 9;
export const CMD_DISCARD: i32 = 1 << 10;
/** May block before replying (informational: FIFO still holds). */
export const CMD_BLOCKING: i32 = 1 << 11;
export const CMD_PING: i32 = 1 << 12;
export const CMD_HELLO: i32 = 1 << 13;
export const CMD_PUBLISH: i32 = 1 << 14;

export function psKind(flags: i32): i32 {
  return (flags >> PS_SHIFT) & 3;
}

// ---- the table ---------------------------------------------------------------------------------

const NAMES: string[] = [];
const RULES: i32[] = [];
const FLAGS: i32[] = [];
/** Longest name in the table; longer request names cannot match. */
let maxNameLen: i32 = 0;
let built = false;

// Flat copies for the hot path, made at the end of build():
//  * NAME_BYTES: upper-case names, each at an 8-aligned offset, zero-padded to whole 8-byte words;
//  * NAME_AT: per command, (offset << 8 | length) into NAME_BYTES;
//  * ENTRIES: open-addressing hash table of SLOTS × 16 bytes – the name's first word (zero-padded),
//    its length (0: empty slot) and its index – keyed by slotOf(first word, length), so a name of up
//    to 8 bytes is found with one probe and no other memory touched;
//  * the data of RULES/FLAGS (never pushed to after build).
const SLOTS: i32 = 1024; // power of two, ≥ 4 × command count
const SLOT_BITS: u64 = 10;
let NAME_BYTES: StaticArray<u8> = new StaticArray<u8>(0);
let NAME_AT: StaticArray<i32> = new StaticArray<i32>(0);
const ENTRIES = new StaticArray<u8>(SLOTS * 16);
let namesPtr: usize = 0;
let nameAtPtr: usize = 0;
let rulesPtr: usize = 0;
let flagsPtr: usize = 0;
const entriesPtr = changetype<usize>(ENTRIES);
let count: i32 = 0;
/** lookupCommand's upper-cased copy of a name (≤ maxNameLen bytes, padded to whole words). */
const SCRATCH = new StaticArray<u8>(64);
const scratchPtr = changetype<usize>(SCRATCH);

function def(names: string, rule: i32 = KEY_NONE, flags: i32 = 0): void {
  // `names` is a space-separated list sharing one rule (keeps the table readable)
  let start = 0;
  for (let i = 0; i <= names.length; i++) {
    if (i == names.length || names.charCodeAt(i) == 0x20) {
      if (i > start) add(names.substring(start, i), rule, flags);
      start = i + 1;
    }
  }
}

function add(name: string, rule: i32, flags: i32): void {
  NAMES.push(name);
  RULES.push(rule);
  FLAGS.push(flags);
  if (name.length > maxNameLen) maxNameLen = name.length;
}

// @ts-ignore: decorator
@inline
function upper(c: u32): u32 {
  return c - 0x61 < 26 ? c - 0x20 : c;
}

function build(): void {
  built = true;
  const k1 = KEY_INDEX(1);
  // strings
  def("GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND STRLEN INCR INCRBY INCRBYFLOAT DECR DECRBY", k1);
  def("GETRANGE SETRANGE SUBSTR MGET MSET MSETNX LCS", k1);
  // generic keyspace
  def("DEL UNLINK EXISTS TOUCH EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME PERSIST TTL PTTL", k1);
  def("TYPE RENAME RENAMENX DUMP RESTORE RESTORE-ASKING SORT SORT_RO COPY MOVE", k1);
  // hashes
  def("HSET HSETNX HGET HMSET HMGET HGETALL HDEL HEXISTS HINCRBY HINCRBYFLOAT HKEYS HVALS HLEN HSTRLEN", k1);
  def("HSCAN HRANDFIELD HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST", k1);
  // lists
  def("LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LREM LTRIM LINSERT LMOVE LPOS RPOPLPUSH", k1);
  def("BLPOP BRPOP BLMOVE BRPOPLPUSH", k1, CMD_BLOCKING);
  // sets
  def("SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SSCAN SINTER SUNION SDIFF", k1);
  def("SINTERSTORE SUNIONSTORE SDIFFSTORE SMOVE", k1);
  // sorted sets
  def("ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZRANGEBYSCORE", k1);
  def("ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX ZRANK ZREVRANK ZREMRANGEBYSCORE", k1);
  def("ZREMRANGEBYRANK ZREMRANGEBYLEX ZSCAN ZPOPMIN ZPOPMAX ZRANDMEMBER ZUNIONSTORE ZINTERSTORE ZDIFFSTORE", k1);
  def("BZPOPMIN BZPOPMAX", k1, CMD_BLOCKING);
  // hyperloglog, bitmaps, geo, streams
  def("PFADD PFCOUNT PFMERGE SETBIT GETBIT BITCOUNT BITPOS BITFIELD BITFIELD_RO", k1);
  def("GEOADD GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUSBYMEMBER GEORADIUS_RO GEORADIUSBYMEMBER_RO", k1);
  def("GEOSEARCH GEOSEARCHSTORE", k1);
  def("XADD XLEN XRANGE XREVRANGE XDEL XTRIM XACK XPENDING XCLAIM XAUTOCLAIM XSETID", k1);
  def("WATCH", k1);
  // BITOP op destkey key…: the destination argv[2] is the first key; container commands whose
  // key-taking subcommands (OBJECT ENCODING k, XINFO STREAM k, MEMORY USAGE k …) name it at argv[2].
  def("BITOP OBJECT XGROUP XINFO MEMORY PFDEBUG", KEY_INDEX(2));
  def("MIGRATE", KEY_INDEX(3)); // MIGRATE host port key|"" … (the KEYS form leaves argv[3] empty)
  // numkeys forms
  def("LMPOP ZMPOP SINTERCARD ZUNION ZINTER ZDIFF ZINTERCARD", KEY_KEYNUM(1));
  def("EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO", KEY_KEYNUM(2));
  def("BLMPOP BZMPOP", KEY_KEYNUM(2), CMD_BLOCKING);
  // streams by keyword
  def("XREAD", KEY_KEYWORD("STREAMS", 1), CMD_BLOCKING);
  def("XREADGROUP", KEY_KEYWORD("STREAMS", 4), CMD_BLOCKING);
  // pub/sub: shard channels are keys in Redis 7 key-specs (they route by slot), classic ones are not
  def("SUBSCRIBE", KEY_NONE, CMD_SUBSCRIBE | (PS_CHANNEL << PS_SHIFT));
  def("PSUBSCRIBE", KEY_NONE, CMD_SUBSCRIBE | (PS_PATTERN << PS_SHIFT));
  def("SSUBSCRIBE", k1, CMD_SUBSCRIBE | (PS_SHARD << PS_SHIFT));
  def("UNSUBSCRIBE", KEY_NONE, CMD_UNSUBSCRIBE | (PS_CHANNEL << PS_SHIFT));
  def("PUNSUBSCRIBE", KEY_NONE, CMD_UNSUBSCRIBE | (PS_PATTERN << PS_SHIFT));
  def("SUNSUBSCRIBE", k1, CMD_UNSUBSCRIBE | (PS_SHARD << PS_SHIFT));
  def("PUBLISH", KEY_NONE, CMD_PUBLISH);
  def("SPUBLISH", k1, CMD_PUBLISH);
  def("PUBSUB");
  // connection and transactions
  def("PING", KEY_NONE, CMD_PING);
  def("HELLO", KEY_NONE, CMD_HELLO);
  def("QUIT", KEY_NONE, CMD_QUIT);
  def("RESET", KEY_NONE, CMD_RESET);
  def("MONITOR", KEY_NONE, CMD_MONITOR);
  def("CLIENT", KEY_NONE, CMD_CLIENT);
  def("MULTI", KEY_NONE, CMD_MULTI);
  def("EXEC", KEY_NONE, CMD_EXEC);
  def("DISCARD", KEY_NONE, CMD_DISCARD);
  def("WAIT WAITAOF", KEY_NONE, CMD_BLOCKING);
  // keyless server / admin commands (classification only)
  def("ECHO AUTH SELECT UNWATCH SCAN KEYS RANDOMKEY DBSIZE FLUSHDB FLUSHALL SWAPDB INFO CONFIG DEBUG");
  def("SAVE BGSAVE BGREWRITEAOF LASTSAVE SHUTDOWN SLOWLOG TIME ROLE REPLICAOF SLAVEOF COMMAND MODULE");
  def("LATENCY LOLWUT FAILOVER PSYNC SYNC REPLCONF CLUSTER READONLY READWRITE ASKING ACL SCRIPT FUNCTION");
  flatten();
}

function flatten(): void {
  const n = NAMES.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += (unchecked(NAMES[i]).length + 7) & ~7;
  const bytes = new StaticArray<u8>(total);
  const at = new StaticArray<i32>(n);
  namesPtr = changetype<usize>(bytes);
  nameAtPtr = changetype<usize>(at);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const name = unchecked(NAMES[i]);
    const len = name.length; // the longest name is 20 bytes, well inside the 8-bit length field
    const p = namesPtr + <usize>off;
    for (let k = 0; k < len; k++) store<u8>(p + <usize>k, <u8>upper(<u32>name.charCodeAt(k)));
    unchecked((at[i] = (off << 8) | (len & 0xff)));
    // in index order, so a name listed twice resolves to its first entry
    const first = load<u64>(p);
    let slot = slotOf(first, len);
    while (load<i32>(entriesPtr + (<usize>slot << 4), 8) != 0) slot = (slot + 1) & (SLOTS - 1);
    const e = entriesPtr + (<usize>slot << 4);
    store<u64>(e, first);
    store<i32>(e, len, 8);
    store<i32>(e, i, 12);
    off += (len + 7) & ~7;
  }
  NAME_BYTES = bytes;
  NAME_AT = at;
  rulesPtr = RULES.dataStart;
  flagsPtr = FLAGS.dataStart;
  count = n;
}

/** Hash slot of a name by its first word (zero-padded past the name) and length. */
// @ts-ignore: decorator
@inline
function slotOf(first: u64, len: i32): i32 {
  return <i32>(((first ^ <u64>len) * 0x9e3779b97f4a7c15) >> (64 - SLOT_BITS));
}

/** Builds the table if no one has yet (decoders call this once, when they are constructed). */
export function ensureCommands(): void {
  if (!built) build();
}

/** Table index of the command named by [ptr, ptr+len) (ASCII, any case), or -1. Never allocates. */
export function lookupCommand(ptr: usize, len: i32): i32 {
  if (!built) build();
  if (len <= 0 || len > maxNameLen) return -1;
  // upper-cased into a word-padded scratch, so any caller's bytes take the word-wise lookup
  const s = scratchPtr;
  for (let i = 0; i < len; i++) store<u8>(s + <usize>i, <u8>upper(<u32>load<u8>(ptr + <usize>i)));
  return lookupUpperWord(load<u64>(s), s, len);
}

/**
 * lookupCommand for a name already upper-cased at `ptr`, with its first 8 bytes also in `w0` (bytes
 * past `len` ignored) and `ptr` readable for `len` rounded up to whole words (the request capture's
 * 64-byte method buffer). Only after ensureCommands(): the hot path skips the build check.
 */
export function lookupUpperWord(w0: u64, ptr: usize, len: i32): i32 {
  if (len <= 0 || len > maxNameLen) return -1;
  const first = w0 & tailMask(len);
  let slot = slotOf(first, len);
  while (true) {
    const e = entriesPtr + (<usize>slot << 4);
    const l = load<i32>(e, 8);
    if (l == 0) return -1;
    if (l == len && load<u64>(e) == first) {
      const index = load<i32>(e, 12);
      if (len <= 8) return index;
      // the rest of a longer name, a word at a time
      const name = namesPtr + <usize>(load<i32>(nameAtPtr + (<usize>index << 2)) >>> 8);
      let k = 8;
      while (k + 8 <= len && load<u64>(ptr + <usize>k) == load<u64>(name + <usize>k)) k += 8;
      if (k >= len || (load<u64>(ptr + <usize>k) & tailMask(len - k)) == load<u64>(name + <usize>k)) return index;
    }
    slot = (slot + 1) & (SLOTS - 1);
  }
  return -1;
}

export function commandCount(): i32 {
  if (!built) build();
  return count;
}

/** Upper-case name of a table entry ("" for -1 or out of range). Static: never allocates. */
export function commandName(index: i32): string {
  if (!built) build();
  return index >= 0 && index < NAMES.length ? unchecked(NAMES[index]) : "";
}

export function commandRule(index: i32): i32 {
  if (!built) build();
  return <u32>index < <u32>count ? load<i32>(rulesPtr + (<usize>index << 2)) : KEY_NONE;
}

export function commandFlags(index: i32): i32 {
  if (!built) build();
  return <u32>index < <u32>count ? load<i32>(flagsPtr + (<usize>index << 2)) : 0;
}

/** commandRule without the build check: only after ensureCommands(). */
// @ts-ignore: decorator
@inline
export function ruleOf(index: i32): i32 {
  return <u32>index < <u32>count ? load<i32>(rulesPtr + (<usize>index << 2)) : KEY_NONE;
}

/** commandFlags without the build check: only after ensureCommands(). */
// @ts-ignore: decorator
@inline
export function flagsOf(index: i32): i32 {
  return <u32>index < <u32>count ? load<i32>(flagsPtr + (<usize>index << 2)) : 0;
}
