// Dubbo frames for filter tests, built the way Dubbo writes them: the 16-byte header per
// ExchangeCodec, Hessian 2 bodies written by hessian.js (DubboCodec.encodeRequestData's order).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const hessian: { encode(v: unknown, version: string): Buffer; decode(b: Buffer, version: string): unknown } = require("hessian.js");

export const HESSIAN2 = 2;

export function header(flag: number, status: number, id: number, bodyLength: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0xdabb, 0);
  h[2] = flag;
  h[3] = status;
  h.writeBigInt64BE(BigInt(id), 4);
  h.writeInt32BE(bodyLength, 12);
  return h;
}

export const enc = (v: unknown) => hessian.encode(v, "2.0");

export interface Call {
  id: number;
  service?: string;
  version?: string | null;
  method?: string;
  /** Java descriptor of the arguments and the arguments (strings only here). */
  args?: string[];
  attachments?: Record<string, string>;
  twoWay?: boolean;
  serialization?: number;
}

/** A request as DubboCodec.encodeRequestData writes it: version, path, version, method, descriptor, arguments, attachments. */
export function request(c: Call): Buffer {
  const args = c.args ?? ["hello"];
  const service = c.service ?? "org.shop.Cart";
  const attachments = { path: service, interface: service, ...(c.version ? { version: c.version } : {}), ...c.attachments };
  const body = Buffer.concat([enc("2.0.2"), enc(service), c.version === null ? enc(null) : enc(c.version ?? "1.0.0"), enc(c.method ?? "get"),
    enc("Ljava/lang/String;".repeat(args.length)), ...args.map(enc), enc(attachments)]);
  const flag = 0x80 | (c.twoWay === false ? 0 : 0x40) | (c.serialization ?? HESSIAN2);
  return Buffer.concat([header(flag, 0, c.id, body.length), body]);
}
export const heartbeat = (id: number) => Buffer.concat([header(0x80 | 0x40 | 0x20 | HESSIAN2, 0, id, 1), Buffer.from([0x4e])]);
export const heartbeatAnswer = (id: number) => Buffer.concat([header(0x20 | HESSIAN2, 20, id, 1), Buffer.from([0x4e])]);
/** RESPONSE_VALUE (1) + the value. */
export function okResponse(id: number, value: unknown): Buffer {
  const body = Buffer.concat([enc(1), enc(value)]);
  return Buffer.concat([header(HESSIAN2, 20, id, body.length), body]);
}
/** What a rejection's answer must be: status and the message as a Hessian string. */
export function errorResponse(id: number, status: number, message: string): Buffer {
  const body = enc(message);
  return Buffer.concat([header(HESSIAN2, status, id, body.length), body]);
}
