// Writes docs/configuration.md from schema/metawire.schema.json: one section per object of the
// configuration (top level, inline objects, and each $defs object once, with every path it is used
// at), a table row per field (path, type, default, allowed values, description), the object's own
// rules (exactly one of, at least one of, …) and the schema's examples.
// `renderConfigDocs(schema)` is pure so the tests can check that the committed doc is up to date.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const SCHEMA_PATH = "schema/metawire.schema.json";
const DOC_PATH = "docs/configuration.md";

function slug(heading) {
  return heading.toLowerCase().replace(/[^a-z0-9 _-]/g, "").replace(/ /g, "-");
}

function code(s) {
  return "`" + s + "`";
}

function cell(s) {
  return String(s).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function refName(ref) {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  if (!m) throw new Error(`unsupported $ref ${ref}`);
  return m[1];
}

function isObjectSchema(s) {
  return s.type === "object" || s.properties !== undefined || s.patternProperties !== undefined;
}

function joinPath(base, key) {
  return base === "" ? key : `${base}.${key}`;
}

function memberPath(base, key) {
  if (key === "[]") return base + key;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || /^<.*>$/.test(key) ? joinPath(base, key) : `${base}[${JSON.stringify(key)}]`;
}

function fmtNumber(n) {
  return String(n);
}

export function renderConfigDocs(schema) {
  const defs = schema.$defs ?? {};
  /** A property schema with a $ref to a non-object def merged in (the property's own keywords win). */
  function resolve(s) {
    if (s.$ref === undefined) return s;
    const target = defs[refName(s.$ref)];
    if (isObjectSchema(target)) return s;
    const { $ref, ...own } = s;
    const { title, ...inherited } = target;
    return { ...inherited, ...own };
  }

  // Pass 1: find every object section and every path it is used at, in depth-first order.
  const sections = new Map(); // key → { key, title, schema, usages: [[parentPath, key]] }
  function section(key, title, s) {
    if (!sections.has(key)) sections.set(key, { key, title, schema: s, usages: [] });
    return sections.get(key);
  }
  function fieldsOf(s) {
    const out = [];
    for (const [k, v] of Object.entries(s.properties ?? {})) out.push([k, v]);
    for (const [pattern, v] of Object.entries(s.patternProperties ?? {})) out.push([v.title ?? pattern, v]);
    return out;
  }
  function walk(s, parentPath, key) {
    const path = key === null ? "" : memberPath(parentPath, key);
    let target = s;
    let sec;
    if (s.$ref !== undefined && isObjectSchema(defs[refName(s.$ref)])) {
      const name = refName(s.$ref);
      target = defs[name];
      sec = section(`#${name}`, target.title ?? name, target);
    } else if (isObjectSchema(s)) {
      sec = section(path === "" ? "$" : path, path === "" ? "Top level" : path, s);
    } else if (s.type === "array" && s.items) {
      walk(s.items, path, "[]");
      return;
    } else {
      return;
    }
    sec.usages.push([parentPath, key]);
    for (const [k, v] of fieldsOf(target)) walk(v, path, k);
  }
  walk(schema, "", null);

  /** Paths a section is used at; several fields of one parent sharing it show as `<field>`. */
  function usagePaths(sec) {
    const byParent = new Map();
    for (const [parent, key] of sec.usages) {
      if (key === null) continue;
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent).push(key);
    }
    const out = [];
    for (const [parent, keys] of byParent) out.push(keys.length > 1 ? joinPath(parent, "<field>") : memberPath(parent, keys[0]));
    return out;
  }

  function typeOf(s) {
    if (s.$ref !== undefined) {
      const name = refName(s.$ref);
      const t = defs[name].title ?? name;
      return `[${t}](#${slug(t)})`;
    }
    if (s.type === "array") return `array of ${s.items ? typeOf(resolve(s.items)) : "any"}`;
    if (isObjectSchema(s)) return "object";
    return Array.isArray(s.type) ? s.type.join(" or ") : (s.type ?? "any");
  }

  function allowed(s) {
    const parts = [];
    if (s.enum) parts.push(s.enum.map((v) => code(typeof v === "string" ? v : JSON.stringify(v))).join(", "));
    if (s.const !== undefined) parts.push(code(JSON.stringify(s.const)));
    const lo = s.exclusiveMinimum !== undefined ? `> ${fmtNumber(s.exclusiveMinimum)}` : s.minimum !== undefined ? fmtNumber(s.minimum) : undefined;
    const hi = s.exclusiveMaximum !== undefined ? `< ${fmtNumber(s.exclusiveMaximum)}` : s.maximum !== undefined ? fmtNumber(s.maximum) : undefined;
    if (lo !== undefined && hi !== undefined) parts.push(s.exclusiveMinimum !== undefined ? `${lo}, ≤ ${hi}` : `${lo} … ${hi}`);
    else if (lo !== undefined) parts.push(s.exclusiveMinimum !== undefined ? lo : `≥ ${lo}`);
    else if (hi !== undefined) parts.push(`≤ ${hi}`);
    const len = (min, max, unit) => {
      if (min !== undefined && max !== undefined) return `${min} … ${max} ${unit}`;
      if (min !== undefined) return `≥ ${min} ${unit}`;
      if (max !== undefined) return `≤ ${max} ${unit}`;
      return undefined;
    };
    const l = len(s.minLength, s.maxLength, "characters");
    if (l) parts.push(l === "≥ 1 characters" ? "non-empty" : l);
    const n = len(s.minItems, s.maxItems, "items");
    if (n) parts.push(n);
    if (s.pattern !== undefined) parts.push(s.pattern === "^[^\\r\\n]*$" ? "no CR or LF" : `pattern ${code(s.pattern)}`);
    if (s.contains?.properties) {
      for (const [k, v] of Object.entries(s.contains.properties)) {
        if (v.minimum !== undefined) parts.push(`at least one item with ${code(k)} ≥ ${fmtNumber(v.minimum)}`);
      }
    }
    return parts.join("; ");
  }

  function branchText(b) {
    const names = (b.required ?? []).map(code).join(" and ");
    const nonEmpty = Object.values(b.properties ?? {}).some((p) => (p.minItems ?? 0) >= 1 || (p.minLength ?? 0) >= 1);
    return names + (nonEmpty ? " (non-empty)" : "");
  }

  function rules(s) {
    const out = [];
    if (s.oneOf) out.push(`Exactly one of ${s.oneOf.map(branchText).join(", ")}.`);
    if (s.anyOf) out.push(`At least one of ${s.anyOf.map(branchText).join(", ")}.`);
    for (const [k, dep] of Object.entries(s.dependentSchemas ?? {})) {
      const alts = dep.anyOf ?? dep.oneOf;
      if (alts) out.push(`${code(k)} only together with one of ${alts.map(branchText).join(", ")}.`);
    }
    if (s.additionalProperties === false) out.push("No other fields.");
    return out;
  }

  const lines = [];
  lines.push("# Configuration reference");
  lines.push("");
  lines.push("<!-- Generated from schema/metawire.schema.json by scripts/gen-config-docs.mjs: edit the schema and run `npm run docs`. -->");
  lines.push("");
  lines.push(schema.description);
  lines.push("");
  lines.push("The JSON Schema ([`schema/metawire.schema.json`](../schema/metawire.schema.json), draft 2020-12) describes the same rules, so an editor or a CI step can check a configuration before Envoy sees it. A few rules are checked by the filter only: names unique among routes and among policies, regex patterns the filter supports, and lengths counted in UTF-8 bytes (the schema counts characters).");
  lines.push("");
  lines.push("Paths below use `[]` for \"every item of the array\"; the filter's error messages name the item (`$.routes[2].match.method`).");
  lines.push("");
  lines.push("## Contents");
  lines.push("");
  for (const sec of sections.values()) lines.push(`- [${sec.title}](#${slug(sec.title)})`);
  if (schema.examples?.length) lines.push("- [Examples](#examples)");
  lines.push("");

  for (const sec of sections.values()) {
    const s = sec.schema;
    const paths = usagePaths(sec);
    const base = paths[0] ?? "";
    lines.push(`## ${sec.title}`);
    lines.push("");
    if (paths.length > 0) lines.push(`At ${paths.map(code).join(", ")}.`);
    else lines.push("The whole configuration.");
    lines.push("");
    if (sec.key !== "$" && s.description) {
      lines.push(s.description);
      lines.push("");
    }
    lines.push("| Field | Type | Default | Allowed | Description |");
    lines.push("|---|---|---|---|---|");
    const required = new Set(s.required ?? []);
    for (const [k, raw] of fieldsOf(s)) {
      const f = resolve(raw);
      const path = memberPath(base, k);
      const name = code(path) + (required.has(k) ? " (required)" : "");
      const dflt = f.default !== undefined ? code(JSON.stringify(f.default)) : "";
      let desc = f.description ?? "";
      if (f.examples?.length) desc += ` Examples: ${f.examples.map((e) => code(JSON.stringify(e))).join(", ")}.`;
      lines.push(`| ${cell(name)} | ${cell(typeOf(f))} | ${cell(dflt)} | ${cell(allowed(f))} | ${cell(desc)} |`);
    }
    lines.push("");
    const r = rules(s);
    if (r.length) {
      lines.push(r.join(" "));
      lines.push("");
    }
    for (const ex of sec.key === "$" ? [] : s.examples ?? []) {
      lines.push("```json");
      lines.push(JSON.stringify(ex));
      lines.push("```");
      lines.push("");
    }
  }

  if (schema.examples?.length) {
    lines.push("## Examples");
    lines.push("");
    schema.examples.forEach((ex) => {
      lines.push("```json");
      lines.push(JSON.stringify(ex, null, 2));
      lines.push("```");
      lines.push("");
    });
  }
  return lines.join("\n").replace(/\n+$/, "\n");
}

function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const schema = JSON.parse(readFileSync(join(root, SCHEMA_PATH), "utf8"));
  writeFileSync(join(root, DOC_PATH), renderConfigDocs(schema));
  console.log(`wrote ${DOC_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
