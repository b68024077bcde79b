// Dubbo streams for the benchmark: 16-byte Dubbo headers around Hessian 2 bodies written by npm
// `hessian.js` 2.11 (EncoderV2, reset per body as Dubbo uses one Hessian2Output per message) in the
// order DubboCodec writes them (specs/protocols.md §2.2, §2.3):
//   request   "2.0.2", service path, service version, method, parameter descriptor, the arguments,
//             the attachments map (path, interface, version, timeout, group, remote.application)
//   response  status 20, flag 4 (RESPONSE_VALUE_WITH_ATTACHMENTS, for 2.0.2 callers), the value,
//             attachments {dubbo: "2.0.2"}
// Calls:
//   small     sayHello(String) → String
//   objects   placeOrder(Order, List<OrderLine> (8), Map<String,Object>) → OrderResult (typed objects
//             with class definitions reused by `O`/0x60 refs, a typed list, a Date, longs, doubles)
//   1 MiB     upload(String, byte[] 1 MiB) → boolean   (hessian.js writes `A` chunks of 4093 bytes)
//   1 MiB str store(String 1 MiB, ASCII) → String      (`R` chunks of 32768 chars)
// Every request has a fresh id; its response echoes it.
//
// Reference: what a Node Dubbo client does with the bytes – read the header, take the body by its
// length, and decode its values one after another with hessian.js (DecoderV2, one per body).
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { DOWN, UP, type Read, type Scenario } from "./scenarios.js";

const require = createRequire(import.meta.url);

// ---- the parts of hessian.js used here (it ships no typings) ----------------------------------------

interface HessianEncoder {
  reset(): HessianEncoder;
  write(value: unknown): HessianEncoder;
  get(): Buffer;
}
interface HessianDecoder {
  read(withType?: boolean): unknown;
  position(): number;
}
interface HessianLib {
  EncoderV2: new (options?: { size?: number }) => HessianEncoder;
  DecoderV2: new (buf: Buffer) => HessianDecoder;
}
const hessian = require("hessian.js") as HessianLib;

// ---- streams ----------------------------------------------------------------------------------------

export type DubboScenario = Scenario;

export interface DubboCodecStream {
  name: string;
  requests: Buffer;
  replies: Buffer;
  pairs: number;
  skip: boolean;
}

const HEADER = 16;
const FLAG_TWO_WAY_REQUEST_HESSIAN2 = 0xc2;
const FLAG_RESPONSE_HESSIAN2 = 0x02;
const STATUS_OK = 20;

function frame(flag: number, status: number, id: number, body: Buffer): Buffer {
  const h = Buffer.alloc(HEADER);
  h[0] = 0xda;
  h[1] = 0xbb;
  h[2] = flag;
  h[3] = status;
  h.writeBigInt64BE(BigInt(id), 4);
  h.writeInt32BE(body.length, 12);
  return Buffer.concat([h, body]);
}

const encoder = new hessian.EncoderV2({ size: 1 << 16 });

/** One Dubbo body: the values in order, one Hessian2 output (class and type tables) for all of them. */
function body(values: unknown[]): Buffer {
  encoder.reset();
  for (const v of values) encoder.write(v);
  return Buffer.from(encoder.get());
}

const SERVICE = "org.apache.dubbo.demo.DemoService";
const ORDERS = "com.example.order.OrderService";

/** Request attachments in the order Dubbo puts them (a Map keeps it; a plain object would be sorted). */
function attachments(service: string): Map<string, string> {
  return new Map([
    ["path", service],
    ["remote.application", "demo-consumer"],
    ["interface", service],
    ["version", "1.0.0"],
    ["timeout", "3000"],
    ["group", "g1"],
  ]);
}

function request(service: string, method: string, descriptor: string, args: unknown[]): Buffer {
  return body(["2.0.2", service, "1.0.0", method, descriptor, ...args, attachments(service)]);
}

function response(value: unknown): Buffer {
  return body([4, value, new Map([["dubbo", "2.0.2"]])]);
}

const long = (n: number) => ({ $class: "long", $: n });

function orderLine(i: number) {
  return { $class: "com.example.order.OrderLine", $: { sku: `SKU-${10000 + i * 37}`, quantity: 1 + (i % 4), price: 4.75 + i, discount: i % 3 === 0 ? 0.5 : 0 } };
}

const LINES = Array.from({ length: 8 }, (_, i) => orderLine(i));

function placeOrder(): Buffer {
  const order = {
    $class: "com.example.order.Order",
    $: {
      id: long(9_000_000_123),
      customer: { $class: "com.example.order.Customer", $: { id: long(42), name: "Ann Example", email: "ann@example.com", vip: true } },
      amount: 199.95,
      currency: "EUR",
      createdAt: new Date(1_764_000_000_000),
      status: "NEW",
      shipping: { $class: "com.example.order.Address", $: { street: "1 Main Street", city: "Springfield", zip: "12345", country: "US" } },
    },
  };
  const options = { channel: "web", coupon: "SPRING25", priority: 3, gift: false, note: "leave at the door", retries: long(2) };
  return request(ORDERS, "placeOrder", "Lcom/example/order/Order;Ljava/util/List;Ljava/util/Map;", [order, LINES, options]);
}

function orderResult(): Buffer {
  return response({
    $class: "com.example.order.OrderResult",
    $: { orderId: long(9_000_000_123), status: "ACCEPTED", total: 187.45, lines: LINES, eta: new Date(1_764_086_400_000), warnings: ["coupon applied"] },
  });
}

interface Call {
  name: string;
  request: Buffer;
  response: Buffer;
}

let calls: Record<"small" | "objects" | "bytes" | "string", Call> | undefined;

function callBodies() {
  calls ??= {
    small: { name: "small", request: request(SERVICE, "sayHello", "Ljava/lang/String;", ["world"]),
      response: response("Hello world, response from provider: 10.0.0.7:20880") },
    objects: { name: "objects", request: placeOrder(), response: orderResult() },
    bytes: { name: "1 MiB byte[]", request: request(SERVICE, "upload", "Ljava/lang/String;[B", ["blob-1", Buffer.alloc(1 << 20, 0x77)]),
      response: response(true) },
    string: { name: "1 MiB String", request: request(SERVICE, "store", "Ljava/lang/String;", ["x".repeat(1 << 20)]),
      response: response("stored") },
  };
  return calls;
}

function requestFrame(c: Call, id: number): Buffer {
  return frame(FLAG_TWO_WAY_REQUEST_HESSIAN2, 0, id, c.request);
}
function responseFrame(c: Call, id: number): Buffer {
  return frame(FLAG_RESPONSE_HESSIAN2, STATUS_OK, id, c.response);
}

/** Reads of `total` calls (ids 1…total): a read of `perRound` requests, then one of their responses, … */
function rounds(total: number, perRound: number, c: Call): Read[] {
  const out: Read[] = [];
  const read = (k: number, f: (j: number) => Buffer) => (k === 1 ? f(0) : Buffer.concat(Array.from({ length: k }, (_, j) => f(j))));
  for (let i = 0; i < total; i += perRound) {
    const k = Math.min(total, i + perRound) - i;
    out.push([DOWN, read(k, (j) => requestFrame(c, i + j + 1))]);
    out.push([UP, read(k, (j) => responseFrame(c, i + j + 1))]);
  }
  return out;
}

/** Scenarios of the in-memory harness table. */
export function dubboScenarios(scale = 1): DubboScenario[] {
  const n = Math.max(1000, Math.round(16000 * scale));
  const bigN = Math.max(8, Math.round(64 * scale));
  const c = callBodies();
  return [
    { name: "small call, pipelined ×16", requests: n, reads: rounds(n, 16, c.small) },
    { name: "small call, one per read", requests: n, reads: rounds(n, 1, c.small) },
    { name: "objects call, pipelined ×16", requests: n, reads: rounds(n, 16, c.objects) },
    { name: "objects call, one per read", requests: n, reads: rounds(n, 1, c.objects) },
    { name: "1 MiB byte[] arg, one per read", requests: bigN, reads: rounds(bigN, 1, c.bytes) },
    { name: "1 MiB String arg, one per read", requests: bigN, reads: rounds(bigN, 1, c.string) },
  ];
}

/** Streams of the codec-only table. */
export function dubboCodecStreams(): DubboCodecStream[] {
  const c = callBodies();
  const batch = (k: number, call: Call, f: typeof requestFrame) => Buffer.concat(Array.from({ length: k }, (_, i) => f(call, i + 1)));
  const stream = (name: string, k: number, call: Call, skip: boolean): DubboCodecStream =>
    ({ name, pairs: k, skip, requests: batch(k, call, requestFrame), replies: batch(k, call, responseFrame) });
  return [
    stream("small call, pipelined ×16", 16, c.small, false),
    stream("objects call, pipelined ×16", 16, c.objects, false),
    stream("1 MiB byte[] arg, skipped", 1, c.bytes, true),
    stream("1 MiB String arg (scanned)", 1, c.string, true),
  ];
}

// ---- reference: hessian.js reading the same bytes ---------------------------------------------------

/**
 * Reads Dubbo frames from a byte stream given read by read (a frame may span reads): header, then
 * the body's Hessian values one after another. `onMessage` gets each frame's id and value count.
 */
export function hessianReader(onMessage: (request: boolean, id: bigint, values: number) => void): (data: Buffer) => void {
  let pending: Buffer | undefined;
  return (data) => {
    const buf = pending ? Buffer.concat([pending, data]) : data;
    let off = 0;
    while (buf.length - off >= HEADER) {
      if (buf[off] !== 0xda || buf[off + 1] !== 0xbb) throw new Error(`bad Dubbo magic at ${off}`);
      const len = buf.readInt32BE(off + 12);
      if (buf.length - off - HEADER < len) break;
      const flag = buf[off + 2];
      const id = buf.readBigInt64BE(off + 4);
      const b = buf.subarray(off + HEADER, off + HEADER + len);
      const d = new hessian.DecoderV2(b);
      let values = 0;
      while (d.position() < len) {
        d.read();
        values++;
      }
      onMessage((flag & 0x80) !== 0, id, values);
      off += HEADER + len;
    }
    pending = off < buf.length ? buf.subarray(off) : undefined;
  };
}

/** ns per request + response for hessian.js reading a scenario's reads (one reader per direction). */
export function throughHessian(s: DubboScenario): number {
  let seen = 0;
  const count = () => { seen++; };
  const once = () => {
    const req = hessianReader(count), rep = hessianReader(count);
    const t0 = performance.now();
    for (const [dir, bytes] of s.reads) (dir === DOWN ? req : rep)(bytes);
    return performance.now() - t0;
  };
  once(); // warm-up
  seen = 0;
  // best of 3, as the harness rows (of 1 when one run takes more than ~0.3 s)
  let ms = once(), runs = 1;
  for (; runs < 3 && ms < 300; runs++) ms = Math.min(ms, once());
  if (seen !== runs * 2 * s.requests) throw new Error(`${s.name}: hessian.js read ${seen / runs} frames per run, expected ${2 * s.requests}`);
  return (ms * 1e6) / s.requests;
}

/** `iters` rounds of hessian.js reading a codec stream (each direction's buffer in one call). */
export function hessianRound(s: DubboCodecStream): (iters: number) => void {
  let seen = 0;
  const count = () => { seen++; };
  const req = hessianReader(count), rep = hessianReader(count);
  return (iters) => {
    seen = 0;
    for (let i = 0; i < iters; i++) {
      req(s.requests);
      rep(s.replies);
    }
    if (seen !== 2 * s.pairs * iters) throw new Error(`${s.name}: hessian.js read ${seen} frames, expected ${2 * s.pairs * iters}`);
  };
}

/**
 * Sanity check of a built stream: hessian.js reads `want` frames of the given direction, each with
 * the values DubboCodec wrote (requests: 5 + arguments + attachments; responses: flag, value, attachments).
 */
export function checkDubboStream(bytes: Buffer, request: boolean, want: number, what: string): void {
  let got = 0;
  hessianReader((isRequest, _id, values) => {
    if (isRequest !== request || values < (request ? 7 : 3)) throw new Error(`${what}: unexpected frame (${values} values)`);
    got++;
  })(bytes);
  if (got !== want) throw new Error(`${what}: hessian.js reads ${got} frames, expected ${want}`);
}
