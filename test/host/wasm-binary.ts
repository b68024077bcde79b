// Reads the parts of a wasm binary that decide whether Envoy can link it: Node's
// WebAssembly.Module.imports() reports no function types, and V8-in-Envoy refuses a module
// whose import types differ from its host table, so the harness must see the real types.
// Only the type, import, function, export and start sections are decoded; the rest are skipped.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
export interface FuncType { params: ValType[]; results: ValType[] }
export type ExternKind = "func" | "table" | "memory" | "global" | "tag";
export interface Limits { min: number; max?: number; shared: boolean; is64: boolean }
export interface WasmImport {
  module: string;
  name: string;
  kind: ExternKind;
  type?: FuncType;                               // func and tag imports
  limits?: Limits;                               // memory and table imports (the host must create them)
  global?: { type: ValType; mutable: boolean };  // global imports (Envoy refuses them)
}
export interface WasmExport { name: string; kind: ExternKind; type?: FuncType }
export interface ModuleInfo { imports: WasmImport[]; exports: WasmExport[]; hasStartSection: boolean }

const VALTYPES: Record<number, ValType> = {
  0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref",
};
const KINDS: ExternKind[] = ["func", "table", "memory", "global", "tag"];
const SECTION = { type: 1, import: 2, function: 3, export: 7, start: 8 } as const;

class Reader {
  pos: number;
  constructor(private readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new Error(`malformed wasm binary at offset ${this.pos}: ${what}`);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos++];
  }

  // LEB128 u32: at most 5 bytes, and the 5th may only carry the top 4 bits.
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      if (shift === 28 && (b & 0x70) !== 0) this.fail("u32 LEB128 overflows 32 bits");
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
    }
    this.fail("u32 LEB128 longer than 5 bytes");
  }

  u64(): number {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      if (shift === 63n && (b & 0x7e) !== 0) this.fail("u64 LEB128 overflows 64 bits");
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number(result);
    }
    this.fail("u64 LEB128 longer than 10 bytes");
  }

  take(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  // V8 rejects names that are not valid UTF-8, so a lenient decode would hide a load failure.
  name(): string {
    const raw = this.take(this.u32());
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      this.fail("name is not valid UTF-8");
    }
  }

  valType(): ValType {
    const code = this.byte();
    const t = VALTYPES[code];
    if (!t) this.fail(`unsupported value type 0x${code.toString(16)}`);
    return t;
  }

  limits(): Limits {
    const flags = this.u32();
    if (flags > 7) this.fail(`unknown limits flags 0x${flags.toString(16)}`);
    const is64 = (flags & 4) !== 0;
    const read = () => (is64 ? this.u64() : this.u32());
    const min = read();
    const limits: Limits = { min, shared: (flags & 2) !== 0, is64 };
    if (flags & 1) limits.max = read();
    return limits;
  }

  expectEnd(section: string): void {
    if (this.pos !== this.end) this.fail(`${section} section size does not match its contents`);
  }
}

function typeAt(types: FuncType[], index: number, r: Reader): FuncType {
  const t = types[index];
  if (!t) r.fail(`type index ${index} out of range (${types.length} types)`);
  return t;
}

export function parseModule(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8) throw new Error("malformed wasm binary: shorter than the 8-byte header");
  const magic = bytes[0] === 0x00 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
  if (!magic) throw new Error("malformed wasm binary: missing \\0asm magic");
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  if (version !== 1) throw new Error(`malformed wasm binary: not a core module (version 0x${(version >>> 0).toString(16)})`);

  const types: FuncType[] = [];
  const imports: WasmImport[] = [];
  const importedFuncTypes: FuncType[] = [];
  const definedFuncTypes: FuncType[] = [];
  const rawExports: { name: string; kind: ExternKind; index: number }[] = [];
  const seen = new Set<number>();
  let hasStartSection = false;

  const top = new Reader(bytes, 8, bytes.length);
  while (top.pos < top.end) {
    const id = top.byte();
    const size = top.u32();
    if (size > top.end - top.pos) top.fail(`section ${id} size ${size} runs past the end`);
    const r = new Reader(bytes, top.pos, top.pos + size);
    top.pos += size;
    if (id !== 0 && seen.has(id)) r.fail(`duplicate section ${id}`);
    seen.add(id);

    switch (id) {
      case SECTION.type:
        for (let n = r.u32(); n > 0; n--) {
          const form = r.byte();
          if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)}`);
          const params: ValType[] = [];
          for (let k = r.u32(); k > 0; k--) params.push(r.valType());
          const results: ValType[] = [];
          for (let k = r.u32(); k > 0; k--) results.push(r.valType());
          types.push({ params, results });
        }
        r.expectEnd("type");
        break;
      case SECTION.import:
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kindCode = r.byte();
          const kind = KINDS[kindCode];
          if (!kind) r.fail(`unknown import kind ${kindCode}`);
          const imp: WasmImport = { module, name, kind };
          if (kind === "func") {
            imp.type = typeAt(types, r.u32(), r);
            importedFuncTypes.push(imp.type);
          } else if (kind === "table") {
            r.valType();
            imp.limits = r.limits();
          } else if (kind === "memory") {
            imp.limits = r.limits();
          } else if (kind === "global") {
            const type = r.valType();
            const mut = r.byte();
            if (mut > 1) r.fail(`bad global mutability ${mut}`);
            imp.global = { type, mutable: mut === 1 };
          } else {
            if (r.byte() !== 0) r.fail("bad tag attribute");
            imp.type = typeAt(types, r.u32(), r);
          }
          imports.push(imp);
        }
        r.expectEnd("import");
        break;
      case SECTION.function:
        for (let n = r.u32(); n > 0; n--) definedFuncTypes.push(typeAt(types, r.u32(), r));
        r.expectEnd("function");
        break;
      case SECTION.export:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name();
          const kindCode = r.byte();
          const kind = KINDS[kindCode];
          if (!kind) r.fail(`unknown export kind ${kindCode}`);
          rawExports.push({ name, kind, index: r.u32() });
        }
        r.expectEnd("export");
        break;
      case SECTION.start:
        r.u32();
        r.expectEnd("start");
        hasStartSection = true;
        break;
      default:
        break; // custom, table, memory, global, element, code, data, datacount, tag: not needed
    }
  }

  // Export types resolve only after the whole module is read: the function index space is
  // the imported functions followed by the defined ones.
  const funcTypes = [...importedFuncTypes, ...definedFuncTypes];
  const exports: WasmExport[] = rawExports.map(({ name, kind, index }) => {
    if (kind !== "func") return { name, kind };
    const type = funcTypes[index];
    if (!type) throw new Error(`malformed wasm binary: export ${name} refers to function ${index} of ${funcTypes.length}`);
    return { name, kind, type };
  });
  return { imports, exports, hasStartSection };
}

// cpp-host's printValTypes: space-separated kinds, "void" when empty; V8's C API has no
// name for v128 and prints "unknown".
function printValTypes(types: ValType[]): string {
  if (types.length === 0) return "void";
  return types.map((t) => (t === "v128" ? "unknown" : t)).join(" ");
}

export function formatSig(t: FuncType): string {
  return `${printValTypes(t.params)} -> ${printValTypes(t.results)}`;
}

export function sameSig(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length
    && a.params.every((p, i) => p === b.params[i]) && a.results.every((p, i) => p === b.results[i]);
}
