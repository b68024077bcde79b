// Real Apache Thrift peers for end-to-end tests: the Node code generated from
// test/thrift/metawire_test.thrift (Debian's compiler, see test/thrift/generate.ts), served and
// called with the npm `thrift` library over each transport × protocol stack that library offers.
// Also: handlers with deterministic answers, a client session that counts what it sends (calls,
// oneways, seqids, THeader info headers) and normalises every outcome so that the results of a
// proxied connection can be compared with deepEqual to those of a direct one.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { generateThrift, projectRoot, thriftCompilerVersion, thriftSkipReason } from "../thrift/generate.js";

const require = createRequire(import.meta.url);
// The npm library is CommonJS without types; the tests only touch a few of its entry points.
export const thrift: any = require("thrift");
// The library logs a warning for every reply a THeader server writes (it reuses the request's
// protocol object, whose seqid is set); keep the test output readable, pass anything else on.
thrift.setLogFunc((line: string) => { if (!line.includes("SeqId already set")) console.log(line); });

export interface ThriftCode {
  Catalog: any;
  CatalogNext: any;
  Admin: any;
  types: any;
}

/**
 * A service declaring the method name metawire gives denied calls (`__metawire_denied`), next to
 * two methods of Catalog with the same signatures: its generated client calls the reserved name
 * directly, as any client of an IDL that happens to declare it would. Generated once per process
 * by the same compiler into test/.generated/thrift-reserved/<hash>/ (beside the main IDL's code, so
 * the generated modules resolve the npm `thrift` package).
 */
export const RESERVED_IDL = `namespace js metawire.reserved

service Reserved {
  void __metawire_denied(),
  string echoText(1: string text),
  void ping(),
}
`;

let reserved: any;
export function reservedService(): any {
  if (reserved) return reserved;
  const version = thriftCompilerVersion();
  if (version === undefined) throw new Error(thriftSkipReason());
  const base = join(projectRoot(), "test/.generated/thrift-reserved");
  const out = join(base, createHash("sha256").update(version).update("\0").update(RESERVED_IDL).digest("hex").slice(0, 16));
  if (!existsSync(join(out, "Reserved.js"))) {
    const tmp = join(base, `.tmp-${process.pid}-${Date.now()}`);
    mkdirSync(tmp, { recursive: true });
    try {
      writeFileSync(join(tmp, "reserved.thrift"), RESERVED_IDL);
      execFileSync("thrift", ["--gen", "js:node", "-out", tmp, join(tmp, "reserved.thrift")], { stdio: ["ignore", "pipe", "pipe"] });
      writeFileSync(join(tmp, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
      try {
        renameSync(tmp, out);
      } catch (e) {
        if (!existsSync(join(out, "Reserved.js"))) throw e;   // another process renamed its copy first
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  reserved = require(join(out, "Reserved.js"));
  return reserved;
}

let code: ThriftCode | undefined;
/** Generates (once per process) and loads the generated CommonJS modules. */
export function loadThriftCode(): ThriftCode {
  if (code) return code;
  const dir = generateThrift();
  const load = (f: string) => require(join(dir, f));
  code = { Catalog: load("Catalog.js"), CatalogNext: load("CatalogNext.js"), Admin: load("Admin.js"), types: load("metawire_test_types.js") };
  return code;
}

// ---- stacks -----------------------------------------------------------------------------------------

export type TransportName = "framed" | "buffered" | "header";
export type ProtocolName = "binary" | "compact";

/** THeader sub-protocol ids (HeaderFormat.md; THeaderTransport.SubprotocolId in the Node library). */
export const HEADER_PROTOCOL_ID: Record<ProtocolName, number> = { binary: 0, compact: 2 };

export interface Stack {
  name: string;
  transport: TransportName;
  protocol: ProtocolName;
  /** What createServer/createMultiplexServer take. */
  server: { transport: any; protocol: any };
  /** What createConnection takes. */
  client: { transport: any; protocol: any };
  /** THeader: the sub-protocol is chosen on the client's transport (setProtocolId), the server echoes it. */
  headerProtocolId?: number;
}

/**
 * The client transport of the header stacks. The Node library implements THeader in
 * THeaderTransport (the base of TBufferedTransport and TFramedTransport) and THeaderProtocol, whose
 * flush() writes the THeader frame (`writeHeaders`) before flushing the transport. But code
 * generated for Node (`--gen js:node`, any compiler version) flushes the client's *transport*
 * (`this.output.flush()`), so a stock Node client never writes a THeader frame: with
 * THeaderProtocol it sends plain unframed binary/compact (the server then answers unframed too).
 * This transport does what THeaderProtocol.flush does, so every request leaves as the library's
 * own THeader frame (info headers, sub-protocol id, its 0–3 padding bytes, header seqid 0).
 */
export function headerClientTransport(): any {
  const Base = thrift.TBufferedTransport;
  function THeaderClientTransport(this: any, buffer: unknown, callback: unknown) {
    Base.call(this, buffer, callback);
  }
  Object.setPrototypeOf(THeaderClientTransport.prototype, Base.prototype);
  Object.setPrototypeOf(THeaderClientTransport, Base);   // inherits the static receiver (replies)
  THeaderClientTransport.prototype.flush = function (this: any) {
    if (this.outCount > 0) this.writeHeaders();
    return Base.prototype.flush.call(this);
  };
  return THeaderClientTransport;
}

/**
 * Every transport × protocol pair of the Node library, as its peers put them on the wire:
 * framed = TFramedTransport, buffered (unframed) = TBufferedTransport, header = THeaderProtocol
 * wrapping binary or compact over TBufferedTransport (the server side only understands THeader over
 * TBufferedTransport: TFramedTransport's receiver would take the THeader LENGTH for its own frame
 * length and hand THeaderProtocol a frame that starts at the magic), with the client transport of
 * headerClientTransport().
 */
export function thriftStacks(): Stack[] {
  const out: Stack[] = [];
  for (const transport of ["framed", "buffered", "header"] as TransportName[]) {
    for (const protocol of ["binary", "compact"] as ProtocolName[]) {
      const wire = protocol === "binary" ? thrift.TBinaryProtocol : thrift.TCompactProtocol;
      if (transport === "header") {
        out.push({ name: `header/${protocol}`, transport, protocol,
          server: { transport: thrift.TBufferedTransport, protocol: thrift.THeaderProtocol },
          client: { transport: headerClientTransport(), protocol: thrift.THeaderProtocol },
          headerProtocolId: HEADER_PROTOCOL_ID[protocol] });
      } else {
        const options = { transport: transport === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport, protocol: wire };
        out.push({ name: `${transport}/${protocol}`, transport, protocol, server: options, client: options });
      }
    }
  }
  return out;
}

/** What the first bytes of a Thrift stream say (specs/protocols.md §1.1), read independently of the codec. */
export function classifyStream(b: Buffer): string {
  if (b.length < 8) return `short(${b.toString("hex")})`;
  const unframed = (o: number): ProtocolName | undefined =>
    b[o] === 0x80 && b[o + 1] === 0x01 ? "binary" : b[o] === 0x82 && (b[o + 1] & 0x1f) === 0x01 ? "compact" : undefined;
  const direct = unframed(0);
  if (direct) return `buffered/${direct}`;
  if (b.readUInt16BE(4) === 0x0fff) {
    const id = b[14];
    return `header/${id === 0 ? "binary" : id === 2 ? "compact" : `protocol-id-${id}`}`;
  }
  const framed = unframed(4);
  if (framed) return `framed/${framed}`;
  return `unknown(${b.subarray(0, 8).toString("hex")})`;
}

// ---- servers ----------------------------------------------------------------------------------------

const Int64 = (): any => thrift.Int64;
export const i64 = (n: number): any => new (Int64())(n);
const num = (v: any): number => (typeof v === "number" ? v : v.toNumber(true));

/**
 * Replies a server holds back: "slow:" texts are answered only after the server has handled a
 * later oneway (record or audit), so a batch sent back to back gets them out of order whatever
 * the timing; the oneway releases them on the next turn of the event loop, after its own batch.
 */
export class HeldReplies {
  private readonly held: (() => void)[] = [];
  hold(reply: () => void): void {
    this.held.push(reply);
  }
  release(): void {
    const due = this.held.splice(0);
    if (due.length) setImmediate(() => { for (const reply of due) reply(); });
  }
}

/** Catalog, answered deterministically; `records` is what the oneway `record` delivered. */
export class CatalogHandler {
  readonly records: string[] = [];
  constructor(private readonly t: ThriftCode, private readonly held = new HeldReplies()) {}

  summarize(items: any[], label: string, done: (err: unknown, r?: unknown) => void): void {
    const T = this.t.types;
    const byTag: Record<string, number[]> = {};
    let total = 0, largest: any = null;
    for (const it of items) {
      total += num(it.id);
      for (const tag of it.tags ?? []) (byTag[tag] ??= []).push(it.price);
      if (!largest || (it.blob?.length ?? 0) > (largest.blob?.length ?? 0)) largest = it;
    }
    const digest = createHash("sha256");
    for (const it of items) digest.update(it.name).update(it.blob ?? Buffer.alloc(0));
    done(null, new T.Summary({
      count: items.length, total: i64(total), mean: items.length ? items.reduce((s, it) => s + it.price, 0) / items.length : 0,
      byTag, ids: items.map((it) => it.id), anyActive: items.some((it) => it.active), digest: digest.digest(),
      largest, label: `summary of ${label}`,
    }));
  }

  echoBlob(data: Buffer, done: (err: unknown, r?: unknown) => void): void {
    done(null, data);
  }

  /**
   * Answered asynchronously: "slow:" texts after the next oneway the server handles (HeldReplies),
   * "later:" texts after 20 ms; anything else at once.
   */
  echoText(text: string, done: (err: unknown, r?: unknown) => void): void {
    if (text.startsWith("slow:")) this.held.hold(() => done(null, text.toUpperCase()));
    else if (text.startsWith("later:")) setTimeout(() => done(null, text.toUpperCase()), 20);
    else done(null, text);
  }

  record(event: string, _at: unknown): void {
    this.records.push(event);
    this.held.release();
  }

  recorded(done: (err: unknown, r?: unknown) => void): void {
    done(null, this.records.length);
  }

  find(id: any, done: (err: unknown, r?: unknown) => void): void {
    const T = this.t.types;
    const n = num(id);
    if (n === 404) return done(new T.NotFound({ what: `item ${n}`, code: 404 }));
    if (n < 0) return done(new T.Invalid({ reason: `negative id ${n}`, fields: ["id", "sign"] }));
    done(null, makeItem(this.t, n, 3));
  }

  crash(why: string, done: (err: unknown, r?: unknown) => void): void {
    done(new Error(`handler failed: ${why}`));   // not declared: the server answers a TApplicationException
  }

  ping(done: (err: unknown, r?: unknown) => void): void {
    done(null);
  }
}

export class AdminHandler {
  readonly audits: string[] = [];
  constructor(private readonly t: ThriftCode, private readonly held = new HeldReplies()) {}
  version(done: (err: unknown, r?: unknown) => void): void {
    done(null, "metawire-test 1.0");
  }
  stats(names: string[], done: (err: unknown, r?: unknown) => void): void {
    done(null, Object.fromEntries(names.map((n, i) => [n, n.length * 100 + i])));
  }
  audit(line: string): void {
    this.audits.push(line);
    this.held.release();
  }
  fail(why: string, done: (err: unknown, r?: unknown) => void): void {
    done(new this.t.types.Invalid({ reason: why, fields: [] }));
  }
}

/** A deterministic Item with every field kind (containers, nested structs, a long-form field id). */
export function makeItem(t: ThriftCode, n: number, children = 0, blobBytes = 32): any {
  const T = t.types;
  const blob = Buffer.alloc(blobBytes);
  for (let i = 0; i < blob.length; i++) blob[i] = (n * 31 + i * 7) & 0xff;
  return new T.Item({
    name: `item-${n} ✓`, id: i64(n * 1_000_003 - 17), price: n * 1.25 + 0.1, active: n % 2 === 0, blob,
    counts: [n, -n, 0, 2 ** 31 - 1, -(2 ** 31)], attrs: { weight: i64(n * 10), big: i64(-(2 ** 40) - n) },
    tags: [`t${n % 3}`, "common"], color: (n % 3) + 1,
    children: children > 0 ? Array.from({ length: children }, (_, k) => makeItem(t, n * 10 + k, children - 1, 4)) : [],
    small: -(n % 300), tiny: (n % 200) - 100,
    where: new T.Point({ x: n / 3, y: -n }),
    nested: { [n]: [[`a${n}`, `b${n}`], []], [-1]: [] },
  });
}

export interface ThriftServer {
  port: number;
  catalog: CatalogHandler;
  admin: AdminHandler;
  /** How many times each handler method ran ("Catalog.find", "Admin.audit"), oneways included. */
  invocations: Map<string, number>;
  errors: unknown[];
  close(): Promise<void>;
}

/**
 * The handler as its processor sees it, counting each method's invocations into `counts`. The
 * generated processors pick the callback or the promise style by the method's arity, so the
 * wrapper keeps it.
 */
function countingHandler<T extends object>(handler: T, service: string, counts: Map<string, number>): T {
  return new Proxy(handler, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function" || typeof prop !== "string") return v;
      const wrapped = function (this: unknown, ...args: unknown[]) {
        const key = `${service}.${prop}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return v.apply(target, args);
      };
      Object.defineProperty(wrapped, "length", { value: v.length });
      return wrapped;
    },
  });
}

/** A Catalog server, or (multiplexed) a server of "Catalog" and "Admin" behind a TMultiplexedProcessor. */
export async function startThriftServer(t: ThriftCode, stack: Stack, multiplexed = false): Promise<ThriftServer> {
  const held = new HeldReplies();
  const catalog = new CatalogHandler(t, held);
  const admin = new AdminHandler(t, held);
  const invocations = new Map<string, number>();
  let server: net.Server;
  if (multiplexed) {
    const processor = new thrift.MultiplexedProcessor();
    processor.registerProcessor("Catalog", new t.Catalog.Processor(countingHandler(catalog, "Catalog", invocations)));
    processor.registerProcessor("Admin", new t.Admin.Processor(countingHandler(admin, "Admin", invocations)));
    server = thrift.createMultiplexServer(processor, stack.server);
  } else {
    server = thrift.createServer(t.Catalog, countingHandler(catalog, "Catalog", invocations), stack.server);
  }
  const errors: unknown[] = [];
  server.on("error", (e: unknown) => errors.push(e));
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => { server.off("error", reject); resolve(); });
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    catalog, admin, invocations, errors,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// ---- clients ----------------------------------------------------------------------------------------

export type Outcome = { ok: unknown } | { declared: string; fields: Record<string, unknown> } | { app: { message: string; type: number } };

/** A value with Int64s as hex strings and large buffers as length + digest, for deepEqual and readable diffs. */
export function normalize(v: unknown): unknown {
  if (v === null || v === undefined || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return v.length > 256 ? { bytes: v.length, sha256: createHash("sha256").update(v).digest("hex") } : `0x${v.toString("hex")}`;
  if (v instanceof Int64()) return `i64:${(v as any).toOctetString()}`;
  if (Array.isArray(v)) return v.map(normalize);
  const out: Record<string, unknown> = {};
  const name = (v as object).constructor?.name;
  if (name && name !== "Object") out.$type = name;
  for (const [k, x] of Object.entries(v)) if (k !== "stack") out[k] = normalize(x);
  return out;
}

function outcome(t: ThriftCode, err: unknown, value: unknown): Outcome {
  if (err === null || err === undefined) return { ok: normalize(value) };
  if (err instanceof thrift.Thrift.TApplicationException) {
    const e = err as any;
    return { app: { message: e.message, type: e.type } };
  }
  for (const name of ["NotFound", "Invalid"]) {
    if (err instanceof t.types[name]) {
      const { stack: _s, name: _n, message: _m, ...fields } = err as any;
      return { declared: name, fields: normalize(fields) as Record<string, unknown> };
    }
  }
  throw new Error(`unexpected client error: ${err instanceof Error ? err.stack : JSON.stringify(err)}`);
}

export interface Tally {
  /** Messages sent: calls and oneways. */
  messages: number;
  oneway: number;
  ok: number;
  declared: number;
  app: number;
}

export interface LastRequest {
  service: string;
  method: string;
  seqid: number;
  kind: "call" | "oneway";
  headers: Record<string, string>;
}

/**
 * One client connection (optionally multiplexed: one client per service on the same connection),
 * counting what it sends. The seqid of a request is predicted here (1, 2, … per connection; the
 * Node library numbers per client, the Multiplexer per connection) and checked by the caller
 * against the filter state.
 */
export class ThriftSession {
  readonly tally: Tally = { messages: 0, oneway: 0, ok: 0, declared: 0, app: 0 };
  last: LastRequest | undefined;
  /** The first request sent (the connection summary's first_method). */
  first: LastRequest | undefined;
  private readonly seq = new Map<string, number>();
  /** Info headers sent with every request (THeader only); x-request-id changes per request. */
  headers: Record<string, string> = {};

  private constructor(readonly t: ThriftCode, readonly stack: Stack, readonly conn: any,
    private readonly clients: Map<string, any>, readonly multiplexed: boolean, readonly errors: unknown[]) {}

  /**
   * `catalogService`: the generated service whose client talks to the Catalog processor (default
   * CatalogNext; e.g. reservedService() for a client that calls `__metawire_denied`).
   */
  static async open(t: ThriftCode, stack: Stack, port: number, multiplexed = false, catalogService: any = t.CatalogNext): Promise<ThriftSession> {
    const conn = thrift.createConnection("127.0.0.1", port, { ...stack.client, connect_timeout: 5000 });
    const errors: unknown[] = [];
    conn.on("error", (e: unknown) => errors.push(e));
    await new Promise<void>((resolve, reject) => {
      conn.once("connect", resolve);
      conn.connection.once("error", reject);
    });
    const clients = new Map<string, any>();
    if (multiplexed) {
      const mux = new thrift.Multiplexer();
      clients.set("Catalog", mux.createClient("Catalog", catalogService, conn));
      clients.set("Admin", mux.createClient("Admin", t.Admin, conn));
    } else {
      clients.set("", thrift.createClient(catalogService, conn));
    }
    if (stack.headerProtocolId !== undefined) for (const c of clients.values()) c.output.setProtocolId(stack.headerProtocolId);
    return new ThriftSession(t, stack, conn, clients, multiplexed, errors);
  }

  get localPort(): number {
    return this.conn.connection.localPort;
  }

  private client(service: string): any {
    const c = this.clients.get(this.multiplexed ? service || "Catalog" : "");
    if (!c) throw new Error(`no client for service ${service}`);
    return c;
  }

  private begin(service: string, method: string, kind: "call" | "oneway"): any {
    const client = this.client(service);
    const key = this.multiplexed ? "mux" : "";
    const seqid = (this.seq.get(key) ?? 0) + 1;
    this.seq.set(key, seqid);
    const headers = { ...this.headers };
    if (this.stack.transport === "header") {
      headers["x-request-id"] = `${this.stack.name}#${seqid}`;
      for (const [k, v] of Object.entries(headers)) client.output.setWriteHeader(k, v);
    }
    this.tally.messages++;
    this.last = { service: this.multiplexed ? service || "Catalog" : "", method, seqid, kind, headers };
    this.first ??= this.last;
    return client;
  }

  /** A two-way call; `service` picks the client of a multiplexed connection ("" = Catalog). */
  call(method: string, args: unknown[], service = ""): Promise<Outcome> {
    const client = this.begin(service, method, "call");
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.stack.name}: no answer to ${service}:${method} after 20 s`)), 20_000);
      client[method](...args, (err: unknown, value: unknown) => {
        clearTimeout(timer);
        try {
          const o = outcome(this.t, err, value);
          if ("ok" in o) this.tally.ok++; else if ("declared" in o) this.tally.declared++; else this.tally.app++;
          resolve(o);
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /** A oneway call: sent, never answered. */
  oneway(method: string, args: unknown[], service = ""): void {
    const client = this.begin(service, method, "oneway");
    this.tally.oneway++;
    client[method](...args, (err: unknown) => { if (err) this.errors.push(err); });
  }

  /** Closes the connection (FIN) and waits until the socket is gone. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      const s: net.Socket = this.conn.connection;
      if (s.destroyed) return resolve();
      s.once("close", () => resolve());
      this.conn.end();
    });
  }
}

/** `n` bytes of a seeded xorshift stream (deterministic, incompressible). */
export function pseudoRandomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
