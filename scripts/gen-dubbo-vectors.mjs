#!/usr/bin/env node
// Turns test/fixtures/dubbo-vectors.json (the single source of the Dubbo codec vectors) into an
// AssemblyScript module for the as-pect specs: test/assembly/generated/dubbo-vectors.ts.
// as-pect specs cannot read files at run time, so the data is compiled in. Run before `asp`.
// Expected strings are turned into the hex of their UTF-8 bytes here, so the specs compare bytes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'test/fixtures/dubbo-vectors.json');
const outDir = path.join(root, 'test/assembly/generated');
const out = path.join(outDir, 'dubbo-vectors.ts');

const data = JSON.parse(fs.readFileSync(src, 'utf8'));

// field codes of DStr (see the generated module)
const FIELDS = { dubbo_version: 0, service: 1, version: 2, method: 3, param_types: 4, group: 5, error_message: 6 };
const KINDS = { int: 3, string: 1, null: 2, map: 4, other: 5 }; // the walker's K_* codes

function fail(where, msg) {
  throw new Error(`${path.relative(root, src)}: ${where}: ${msg}`);
}
const str = (s) => JSON.stringify(s); // JSON string escapes are valid AssemblyScript escapes
const utf8Hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const list = (type, items) => (items.length ? `[\n      ${items.join(',\n      ')}]` : `new Array<${type}>(0)`);
const strArray = (a) => (a.length ? `[${a.map(str).join(', ')}]` : 'new Array<string>(0)');

function hexOk(where, h) {
  if (typeof h !== 'string' || !/^([0-9a-f]{2})*$/i.test(h)) fail(where, `not a hex string: ${h}`);
  return h.toLowerCase();
}

/** A byte string given as `hex` or `parts` ([[hex, times], …]). */
function bytes(where, obj, hexKey = 'hex', partsKey = 'parts') {
  if (obj[hexKey] !== undefined) return `new Bytes([${str(hexOk(where, obj[hexKey]))}], [1])`;
  const parts = obj[partsKey];
  if (!Array.isArray(parts)) fail(where, `needs ${hexKey} or ${partsKey}`);
  const hex = parts.map(([h]) => str(hexOk(where, h)));
  const times = parts.map(([, n]) => {
    if (!Number.isInteger(n) || n < 0) fail(where, `bad repeat count ${n}`);
    return String(n);
  });
  return `new Bytes([${hex.join(', ')}], [${times.join(', ')}])`;
}

const int = (where, v, what) => {
  if (!Number.isInteger(v)) fail(where, `${what} must be an integer`);
  return String(v);
};

function msg(where, m) {
  for (const k of ['request', 'two_way', 'event', 'heartbeat', 'body_parsed']) {
    if (typeof m[k] !== 'boolean') fail(where, `message needs boolean ${k}`);
  }
  const strs = [];
  for (const [key, code] of Object.entries(FIELDS)) {
    if (!(key in m)) continue;
    const v = m[key];
    if (v !== null && typeof v !== 'string') fail(where, `${key} must be a string or null`);
    strs.push(`new DStr(${code}, ${v !== null}, ${str(v === null ? '' : utf8Hex(v))})`);
  }
  const att = m.attachments;
  if (att !== undefined && !Array.isArray(att)) fail(where, 'attachments must be a list of pairs');
  const attHex = (att ?? []).flatMap((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) fail(where, 'attachment must be [key, value]');
    return pair.map(utf8Hex);
  });
  return (
    `new DMsg(${m.request}, ${m.two_way}, ${m.event}, ${m.heartbeat}, ${int(where, m.serialization, 'serialization')}, ` +
    `${int(where, m.status, 'status')}, ${int(where, m.id, 'id')}, ${int(where, m.body_length, 'body_length')}, ${m.body_parsed}, ` +
    `${str(m.body_error ?? '')}, ${int(where, m.start, 'start')}, ${int(where, m.end, 'end')}, ` +
    `${m.param_count === undefined ? -1 : int(where, m.param_count, 'param_count')}, ` +
    `${m.response_flag === undefined ? -2 : int(where, m.response_flag, 'response_flag')}, ` +
    `${att !== undefined}, ${strArray(attHex)}, ${list('DStr', strs)})`
  );
}

function vector(group, v, i) {
  const w = `${group}[${i}] ${v.name}`;
  if (v.direction !== 'request' && v.direction !== 'response') fail(w, `bad direction ${v.direction}`);
  const e = v.expect ?? fail(w, 'no expect');
  const msgs = (e.messages ?? []).map((m, k) => msg(`${w} message ${k}`, m));
  return (
    `new DVector(${str(v.name)}, ${v.direction === 'request'}, ${bytes(w, v)}, ${list('DMsg', msgs)}, ` +
    `${str(e.error ?? '')}, ${e.consumed === undefined ? -1 : int(w, e.consumed, 'consumed')}, ${!!e.incomplete})`
  );
}

function hvalue(group, v, i) {
  const w = `${group}[${i}] ${v.name}`;
  const kind = KINDS[v.kind];
  if (kind === undefined) fail(w, `bad kind ${v.kind}`);
  if (v.int !== undefined && !/^-?\d+$/.test(v.int)) fail(w, 'int must be decimal text');
  let s = 'new Bytes(new Array<string>(0), new Array<i32>(0))';
  const checkString = v.string !== undefined || v.string_parts !== undefined;
  if (v.string !== undefined) s = `new Bytes([${str(utf8Hex(v.string))}], [1])`;
  else if (v.string_parts !== undefined) s = bytes(w, v, 'string_hex', 'string_parts');
  return (
    `new HValue(${str(v.name)}, ${bytes(w, v)}, ${kind}, ${int(w, v.count ?? 1, 'count')}, ${v.int !== undefined}, ` +
    `${v.int !== undefined ? `<i64>${v.int}` : '0'}, ${checkString}, ${s}, ${!!v.incomplete})`
  );
}

const frames = data.frames.map((v, i) => vector('frames', v, i));
const errors = data.errors.map((v, i) => vector('errors', v, i));
const edges = data.edge_cases.map((v, i) => vector('edge_cases', v, i));
const values = data.hessian_values.map((v, i) => hvalue('hessian_values', v, i));
const fixtures = data.hessian_fixtures.map((v, i) => hvalue('hessian_fixtures', v, i));
const invalid = data.hessian_invalid.map((v, i) => {
  const w = `hessian_invalid[${i}] ${v.name}`;
  if (typeof v.reason !== 'string' || v.reason === '') fail(w, 'needs a reason');
  return `new HInvalid(${str(v.name)}, ${str(hexOk(w, v.hex))}, ${str(v.reason)})`;
});
const descriptors = data.descriptors.map((d, i) => {
  const w = `descriptors[${i}]`;
  if (typeof d.desc !== 'string' || !/^[\x20-\x7e]*$/.test(d.desc)) fail(w, 'desc must be printable ASCII');
  return `new Descriptor(${str(d.desc)}, ${int(w, d.count, 'count')})`;
});

const ts = `// GENERATED by scripts/gen-dubbo-vectors.mjs from test/fixtures/dubbo-vectors.json – do not edit.
// ${frames.length} frames, ${errors.length} error vectors, ${edges.length} edge cases, ${values.length} Hessian values,
// ${fixtures.length} Hessian fixtures, ${invalid.length} invalid Hessian values, ${descriptors.length} descriptors.

/** Concatenation of hex[i] repeated times[i] times. */
export class Bytes {
  constructor(public hex: string[], public times: i32[]) {}
}

export const F_DUBBO_VERSION: i32 = 0;
export const F_SERVICE: i32 = 1;
export const F_VERSION: i32 = 2;
export const F_METHOD: i32 = 3;
export const F_PARAM_TYPES: i32 = 4;
export const F_GROUP: i32 = 5;
export const F_ERROR_MESSAGE: i32 = 6;

/** An expected string field: present = has*() (version, group, error message; else length > 0 allowed), hex = UTF-8. */
export class DStr {
  constructor(public field: i32, public present: bool, public hex: string) {}
}

/** paramCount -1 and responseFlag -2: not checked. attachments: key/value UTF-8 hex, alternating. */
export class DMsg {
  constructor(
    public request: bool,
    public twoWay: bool,
    public event: bool,
    public heartbeat: bool,
    public serialization: i32,
    public status: i32,
    public id: i64,
    public bodyLength: i32,
    public bodyParsed: bool,
    public bodyError: string,
    public start: i64,
    public end: i64,
    public paramCount: i32,
    public responseFlag: i32,
    public checkAttachments: bool,
    public attachments: string[],
    public strings: DStr[],
  ) {}
}

/** error: errorReason() at the end ("" none); consumed: position() at the error (-1 unchecked). */
export class DVector {
  constructor(
    public name: string,
    public isRequest: bool,
    public data: Bytes,
    public messages: DMsg[],
    public error: string,
    public consumed: i64,
    public incomplete: bool,
  ) {}
}

/** kind: the walker's K_* code of the first value; count: top-level values in data. */
export class HValue {
  constructor(
    public name: string,
    public data: Bytes,
    public kind: i32,
    public count: i32,
    public checkInt: bool,
    public int: i64,
    public checkString: bool,
    public str: Bytes,
    public incomplete: bool,
  ) {}
}

export class HInvalid {
  constructor(public name: string, public hex: string, public reason: string) {}
}

export class Descriptor {
  constructor(public desc: string, public count: i32) {}
}

export function frames(): DVector[] {
  return [
    ${frames.join(',\n    ')},
  ];
}

export function errorVectors(): DVector[] {
  return [
    ${errors.join(',\n    ')},
  ];
}

export function edgeCases(): DVector[] {
  return [
    ${edges.join(',\n    ')},
  ];
}

export function hessianValues(): HValue[] {
  return [
    ${values.join(',\n    ')},
  ];
}

export function hessianFixtures(): HValue[] {
  return [
    ${fixtures.join(',\n    ')},
  ];
}

export function hessianInvalid(): HInvalid[] {
  return [
    ${invalid.join(',\n    ')},
  ];
}

export function descriptors(): Descriptor[] {
  return [
    ${descriptors.join(',\n    ')},
  ];
}
`;

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(out, ts);
console.log(
  `gen-dubbo-vectors: ${path.relative(root, out)} (${frames.length} frames, ${errors.length} errors, ${edges.length} edge cases, ` +
    `${values.length + fixtures.length} Hessian values, ${invalid.length} invalid, ${descriptors.length} descriptors)`,
);
