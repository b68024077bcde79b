// Protobuf wire format for the argument messages of Envoy's set_envoy_filter_state and
// declare_property foreign functions (source/extensions/common/wasm/ext/*.proto). Decoding
// follows what C++ ParseFromArray accepts: unknown fields (and known field numbers with an
// unexpected wire type) are skipped, the last value of a field wins, proto3 strings must be
// valid UTF-8; anything else malformed throws, which the host maps to BadArgument.

export const LifeSpan = { FilterChain: 0, DownstreamRequest: 1, DownstreamConnection: 2 } as const;
export const WasmType = { Bytes: 0, String: 1, FlatBuffers: 2, Protobuf: 3 } as const;

export interface SetEnvoyFilterStateArguments { path: string; value: string; span: number }
export interface DeclarePropertyArguments {
  name: string; readonly: boolean; type: number; schema: Uint8Array; span: number;
}

export class ProtobufError extends Error {
  override name = "ProtobufError";
}

const WIRE = { varint: 0, fixed64: 1, len: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

export interface Field { number: number; wireType: number; varint?: bigint; bytes?: Uint8Array }

export class ProtoReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private fail(what: string): never {
    throw new ProtobufError(`malformed protobuf at offset ${this.pos}: ${what}`);
  }

  private varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail("truncated varint");
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    this.fail("varint longer than 10 bytes");
  }

  private take(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) this.fail(`length ${n} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private tag(): { number: number; wireType: number } {
    const tag = this.varint();
    if (tag > 0xffffffffn) this.fail("tag does not fit in 32 bits");
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (number === 0) this.fail("field number 0");
    return { number, wireType };
  }

  // Unknown groups are skipped whole, nested groups included.
  private skipGroup(number: number): void {
    for (;;) {
      if (this.pos >= this.buf.length) this.fail(`unterminated group ${number}`);
      const t = this.tag();
      if (t.wireType === WIRE.endGroup) {
        if (t.number !== number) this.fail(`end group ${t.number} closes group ${number}`);
        return;
      }
      this.value(t.number, t.wireType);
    }
  }

  private value(number: number, wireType: number): Field {
    switch (wireType) {
      case WIRE.varint: return { number, wireType, varint: this.varint() };
      case WIRE.fixed64: return { number, wireType, bytes: this.take(8) };
      case WIRE.len: {
        const n = this.varint();
        if (n > 0x7fffffffn) this.fail("length too large");
        return { number, wireType, bytes: this.take(Number(n)) };
      }
      case WIRE.startGroup: this.skipGroup(number); return { number, wireType };
      case WIRE.fixed32: return { number, wireType, bytes: this.take(4) };
      case WIRE.endGroup: this.fail(`unexpected end group ${number}`);
      default: this.fail(`invalid wire type ${wireType}`);
    }
  }

  *fields(): Generator<Field> {
    while (this.pos < this.buf.length) {
      const { number, wireType } = this.tag();
      yield this.value(number, wireType);
    }
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function str(f: Field): string {
  try {
    return utf8.decode(f.bytes!);
  } catch {
    throw new ProtobufError(`field ${f.number}: string is not valid UTF-8`);
  }
}
// enum and int32 values keep their low 32 bits, signed (proto3 enums are open).
const int32 = (f: Field) => Number(BigInt.asIntN(32, f.varint!));

export function decodeSetEnvoyFilterStateArguments(bytes: Uint8Array): SetEnvoyFilterStateArguments {
  const out: SetEnvoyFilterStateArguments = { path: "", value: "", span: 0 };
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.number === 1 && f.wireType === WIRE.len) out.path = str(f);
    else if (f.number === 2 && f.wireType === WIRE.len) out.value = str(f);
    else if (f.number === 3 && f.wireType === WIRE.varint) out.span = int32(f);
  }
  return out;
}

export function decodeDeclarePropertyArguments(bytes: Uint8Array): DeclarePropertyArguments {
  const out: DeclarePropertyArguments = { name: "", readonly: false, type: 0, schema: new Uint8Array(0), span: 0 };
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.number === 1 && f.wireType === WIRE.len) out.name = str(f);
    else if (f.number === 2 && f.wireType === WIRE.varint) out.readonly = f.varint !== 0n;
    else if (f.number === 3 && f.wireType === WIRE.varint) out.type = int32(f);
    else if (f.number === 4 && f.wireType === WIRE.len) out.schema = f.bytes!.slice();
    else if (f.number === 5 && f.wireType === WIRE.varint) out.span = int32(f);
  }
  return out;
}

export class ProtoWriter {
  private readonly parts: number[] = [];

  private key(field: number, wireType: number): void {
    this.raw((BigInt(field) << 3n) | BigInt(wireType));
  }

  private raw(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      this.parts.push(x > 0n ? b | 0x80 : b);
    } while (x > 0n);
  }

  // Negative int32/enum values go out as 10-byte varints, as protobuf does.
  varint(field: number, value: number | bigint | boolean): this {
    this.key(field, WIRE.varint);
    this.raw(typeof value === "boolean" ? (value ? 1n : 0n) : BigInt(value));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE.len);
    this.raw(BigInt(value.length));
    for (const b of value) this.parts.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  fixed32(field: number, value: number): this {
    this.key(field, WIRE.fixed32);
    for (let i = 0; i < 4; i++) this.parts.push((value >>> (8 * i)) & 0xff);
    return this;
  }

  fixed64(field: number, value: bigint): this {
    this.key(field, WIRE.fixed64);
    for (let i = 0n; i < 8n; i++) this.parts.push(Number((BigInt.asUintN(64, value) >> (8n * i)) & 0xffn));
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

// proto3 leaves default values off the wire.
export function encodeSetEnvoyFilterStateArguments(args: Partial<SetEnvoyFilterStateArguments>): Uint8Array {
  const w = new ProtoWriter();
  if (args.path) w.string(1, args.path);
  if (args.value) w.string(2, args.value);
  if (args.span) w.varint(3, args.span);
  return w.finish();
}

export function encodeDeclarePropertyArguments(args: Partial<DeclarePropertyArguments>): Uint8Array {
  const w = new ProtoWriter();
  if (args.name) w.string(1, args.name);
  if (args.readonly) w.varint(2, true);
  if (args.type) w.varint(3, args.type);
  if (args.schema && args.schema.length > 0) w.bytes(4, args.schema);
  if (args.span) w.varint(5, args.span);
  return w.finish();
}
