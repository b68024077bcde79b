// The JSON Schema (schema/metawire.schema.json) and the filter's own validation (on_configure in the
// built wasm) must agree: every configuration in fixtures/configs/valid passes both; every one in
// fixtures/configs/invalid fails both, the filter naming the expected JSON path and reason. The few
// rules JSON Schema cannot express (unique names, which regexes the engine supports, lengths in UTF-8
// bytes, duplicate JSON members) are marked `"schema": false` in expected-errors.json: the schema
// must accept those (so the mark stays honest) and only the filter rejects them.
// Also: the schema's examples and defaults are valid on both sides, the schema is complete (closed
// objects, a description on every field), and docs/configuration.md is what the generator makes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { ConfigureError, LogLevel, type LogEntry } from "../host/vm.js";
import { loadFilter } from "../support/filter.js";

const SCHEMA_FILE = "schema/metawire.schema.json";
const DOC_FILE = "docs/configuration.md";
const FIXTURES = "test/fixtures/configs";
const LOG_PREFIX = "metawire: invalid configuration: ";

interface Expected { path: string; reason: string; schema?: boolean; why?: string }

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type SchemaNode = { [k: string]: unknown };

const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as SchemaNode;
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
ajv.addSchema(schema, "metawire");
const validate = ajv.getSchema("metawire")!;

function fixtures(kind: "valid" | "invalid"): string[] {
  return readdirSync(join(FIXTURES, kind)).filter((f) => f.endsWith(".json") && f !== "expected-errors.json").sort();
}

const expectedErrors = JSON.parse(readFileSync(join(FIXTURES, "invalid", "expected-errors.json"), "utf8")) as Record<string, Expected>;

/** A member step of a path, written as the filter writes it: `.name` or `["header.x"]`. */
function member(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** An ajv error's location as a `$…` path, pointing at the offending member where ajv names it. */
function errorPath(data: Json, e: ErrorObject): string {
  let path = "$";
  let node: Json | undefined = data;
  const steps = e.instancePath === "" ? [] : e.instancePath.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  for (const step of steps) {
    if (Array.isArray(node)) { path += `[${step}]`; node = node[Number(step)]; }
    else { path = member(path, step); node = node !== null && typeof node === "object" ? (node as Record<string, Json>)[step] : undefined; }
  }
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  if (e.keyword === "required" && params.missingProperty !== undefined) path = member(path, params.missingProperty);
  if (e.keyword === "additionalProperties" && params.additionalProperty !== undefined) path = member(path, params.additionalProperty);
  return path;
}

/** Same place, or one contains the other (ajv reports oneOf/anyOf failures at the object). */
function related(a: string, b: string): boolean {
  if (a === b) return true;
  if (a === "$" || b === "$") return false;
  return a.startsWith(b + ".") || a.startsWith(b + "[") || b.startsWith(a + ".") || b.startsWith(a + "[");
}

async function wasmAccepts(config: string): Promise<{ ok: true } | { ok: false; logs: LogEntry[] }> {
  try {
    const vm = await loadFilter(config);
    const errors = vm.logs.filter((l) => l.level >= LogLevel.error);
    vm.close();
    assert.deepEqual(errors, [], "no error logs on an accepted configuration");
    return { ok: true };
  } catch (e) {
    if (e instanceof ConfigureError) return { ok: false, logs: e.logs };
    throw e;
  }
}

function configErrors(logs: LogEntry[]): string[] {
  return logs.filter((l) => l.msg.startsWith(LOG_PREFIX)).map((l) => l.msg.slice(LOG_PREFIX.length));
}

test("the schema compiles under ajv's strict mode (draft 2020-12)", () => {
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(typeof validate, "function");
});

test("every valid fixture passes the schema and on_configure", async (t) => {
  const files = fixtures("valid");
  assert.ok(files.length >= 10, `${files.length} valid fixtures`);
  for (const f of files) {
    await t.test(f, async () => {
      const text = readFileSync(join(FIXTURES, "valid", f), "utf8");
      assert.ok(validate(JSON.parse(text)), `schema: ${ajv.errorsText(validate.errors)}`);
      const r = await wasmAccepts(text);
      assert.ok(r.ok, `wasm: ${r.ok ? "" : configErrors(r.logs).join("; ")}`);
    });
  }
});

test("every invalid fixture is listed in expected-errors.json, and every entry has its file", () => {
  const files = fixtures("invalid");
  assert.deepEqual(Object.keys(expectedErrors).sort(), files);
  assert.ok(files.length >= 25, `${files.length} invalid fixtures`);
  for (const [f, e] of Object.entries(expectedErrors)) {
    assert.ok(e.path.startsWith("$"), `${f}: path`);
    assert.ok(e.reason.length > 0, `${f}: reason`);
    if (e.schema === false) assert.ok(e.why, `${f}: say why the schema cannot catch it`);
  }
});

test("every invalid fixture fails on_configure with its JSON path and reason, and the schema agrees", async (t) => {
  for (const f of fixtures("invalid")) {
    await t.test(f, async () => {
      const exp = expectedErrors[f]!;
      const text = readFileSync(join(FIXTURES, "invalid", f), "utf8");

      const r = await wasmAccepts(text);
      assert.equal(r.ok, false, "the wasm accepted it");
      const got = r.ok ? [] : configErrors(r.logs);
      assert.equal(got.length, 1, `one configuration error line, got ${JSON.stringify(got)}`);
      assert.ok(got[0]!.startsWith(exp.path + ": "), `expected path ${exp.path}, got "${got[0]}"`);
      assert.ok(got[0]!.slice(exp.path.length + 2).includes(exp.reason), `expected reason "${exp.reason}", got "${got[0]}"`);

      const data = JSON.parse(text) as Json;
      const valid = validate(data);
      if (exp.schema === false) {
        assert.ok(valid, `marked "schema": false but the schema rejects it (${ajv.errorsText(validate.errors)}): drop the mark`);
        return;
      }
      assert.equal(valid, false, "the schema accepted it");
      const paths = (validate.errors ?? []).map((e) => errorPath(data, e));
      assert.ok(paths.some((p) => related(p, exp.path)), `schema errors at ${JSON.stringify(paths)}, none at or around ${exp.path}`);
    });
  }
});

/** The subschema a $ref points at, or the node itself. */
function deref(node: SchemaNode): SchemaNode {
  const ref = node.$ref as string | undefined;
  if (ref === undefined) return node;
  const name = /^#\/\$defs\/(.+)$/.exec(ref)![1]!;
  return (schema.$defs as Record<string, SchemaNode>)[name]!;
}

/**
 * Calls `visit` on every subschema that describes data (properties, items, definitions), not on the
 * conditions (oneOf/anyOf branches, contains, dependentSchemas), which only add constraints.
 */
function walkSchema(n: SchemaNode, where: string, visit: (n: SchemaNode, where: string) => void): void {
  visit(n, where);
  for (const k of ["properties", "patternProperties", "$defs"]) {
    for (const [name, sub] of Object.entries((n[k] ?? {}) as Record<string, SchemaNode>)) walkSchema(sub, `${where}/${k}/${name}`, visit);
  }
  if (n.items !== undefined) walkSchema(n.items as SchemaNode, `${where}/items`, visit);
}

test("the schema is complete: closed objects, a description on every field and definition", () => {
  walkSchema(schema, "#", (n, where) => {
    if (n.type === "object") {
      assert.equal(n.additionalProperties, false, `${where}: additionalProperties: false`);
    }
    for (const map of ["properties", "patternProperties"] as const) {
      const props = n[map] as Record<string, SchemaNode> | undefined;
      if (props === undefined) continue;
      for (const [k, p] of Object.entries(props)) {
        assert.ok(typeof p.description === "string" && p.description.length > 0, `${where}/${map}/${k}: description`);
      }
    }
  });
  for (const [name, d] of Object.entries(schema.$defs as Record<string, SchemaNode>)) {
    assert.ok(typeof d.description === "string" && typeof d.title === "string", `$defs/${name}: title and description`);
  }
});

/** A configuration with every default of the schema written out (objects at the top level and below). */
function withDefaults(node: SchemaNode): Json {
  const out: Record<string, Json> = {};
  for (const [k, raw] of Object.entries((node.properties ?? {}) as Record<string, SchemaNode>)) {
    const p = deref(raw);
    if (raw.default !== undefined) out[k] = raw.default as Json;
    else if (p.default !== undefined) out[k] = p.default as Json;
    else if (p.type === "object" && p.anyOf === undefined && p.oneOf === undefined && p.properties !== undefined) {
      const inner = withDefaults(p);
      if (Object.keys(inner as object).length > 0) out[k] = inner;
    }
  }
  return out;
}

test("the schema's defaults and examples are valid for the schema and the wasm", async () => {
  const defaults = withDefaults(schema);
  assert.deepEqual(Object.keys(defaults as object).sort(),
    ["expose", "log_requests", "max_hold_bytes", "on_error", "policies", "protocol", "redis", "routes", "routing", "telemetry", "thrift", "dubbo"].sort());
  const configs: [string, Json][] = [["defaults", defaults]];
  (schema.examples as Json[]).forEach((ex, i) => configs.push([`examples[${i}]`, ex]));
  for (const [name, cfg] of configs) {
    assert.ok(validate(cfg), `${name}: ${ajv.errorsText(validate.errors)}`);
    const r = await wasmAccepts(JSON.stringify(cfg));
    assert.ok(r.ok, `${name}: wasm: ${r.ok ? "" : configErrors(r.logs).join("; ")}`);
  }
  // Examples of definitions, checked against the definition, then inside a whole configuration.
  const wrap: Record<string, (ex: Json) => Json> = {
    match: (ex) => ({ routes: [{ name: "r", match: ex, cluster: "c" }] }),
    route: (ex) => ({ routes: [ex] }),
    policy: (ex) => ({ policies: [ex] }),
    redisAuth: (ex) => ({ redis: { auth: ex } }),
  };
  let checked = 0;
  for (const [name, d] of Object.entries(schema.$defs as Record<string, SchemaNode>)) {
    const sub = ajv.getSchema(`metawire#/$defs/${name}`)!;
    for (const ex of (d.examples ?? []) as Json[]) {
      assert.ok(sub(ex), `$defs/${name} example: ${ajv.errorsText(sub.errors)}`);
      const make = wrap[name];
      if (make === undefined) continue;
      const r = await wasmAccepts(JSON.stringify(make(ex)));
      assert.ok(r.ok, `$defs/${name} example in a configuration: ${r.ok ? "" : configErrors(r.logs).join("; ")}`);
      checked++;
    }
  }
  // The regex examples must be patterns the filter's engine supports.
  const matcher = (schema.$defs as Record<string, SchemaNode>).stringMatcher!.properties as Record<string, SchemaNode>;
  for (const ex of matcher.regex!.examples as string[]) {
    const r = await wasmAccepts(JSON.stringify({ policies: [{ name: "p", match: { method: { regex: ex } }, deny: {} }] }));
    assert.ok(r.ok, `regex example ${ex}: ${r.ok ? "" : configErrors(r.logs).join("; ")}`);
    checked++;
  }
  assert.ok(checked >= 6, `${checked} definition examples checked by the wasm`);
});

test("docs/configuration.md is generated from the schema (run npm run docs)", async () => {
  const gen = (await import(pathToFileURL(resolve("scripts/gen-config-docs.mjs")).href)) as { renderConfigDocs(s: unknown): string };
  const expected = gen.renderConfigDocs(schema);
  const actual = readFileSync(DOC_FILE, "utf8");
  assert.ok(actual === expected, `${DOC_FILE} is out of date: run npm run docs`);
});
