// Kubernetes and Istio manifests, offline: each document is checked by its model from
// @kubernetes-models/istio or kubernetes-models (the CRDs' / API's OpenAPI schemas compiled to
// validators: types, enums, patterns, required fields), and then, because those validators accept
// unknown fields (the CRD schemas do not close their objects; the API server prunes instead), every
// member is looked up in the model's TypeScript declaration, at any depth. Objects declared as `{}`
// (x-kubernetes-preserve-unknown-fields: WasmPlugin.pluginConfig, EnvoyFilter patch values) are free
// form here and are checked by their own validators (the JSON Schema, the Envoy protos).
import ts from "typescript";
import { resolve } from "node:path";

interface Kind { module: string; dts: string; iface: string }

const ISTIO = "@kubernetes-models/istio";
const K8S = "kubernetes-models";
const KINDS: Record<string, Kind> = {
  "extensions.istio.io/v1alpha1/WasmPlugin": { module: `${ISTIO}/extensions.istio.io/v1alpha1/WasmPlugin`, dts: `${ISTIO}/extensions.istio.io/v1alpha1/WasmPlugin.d.ts`, iface: "IWasmPlugin" },
  "networking.istio.io/v1alpha3/EnvoyFilter": { module: `${ISTIO}/networking.istio.io/v1alpha3/EnvoyFilter`, dts: `${ISTIO}/networking.istio.io/v1alpha3/EnvoyFilter.d.ts`, iface: "IEnvoyFilter" },
  "networking.istio.io/v1/DestinationRule": { module: `${ISTIO}/networking.istio.io/v1/DestinationRule`, dts: `${ISTIO}/networking.istio.io/v1/DestinationRule.d.ts`, iface: "IDestinationRule" },
  "apps/v1/Deployment": { module: `${K8S}/apps/v1/Deployment`, dts: `${K8S}/apps/v1/Deployment.d.ts`, iface: "IDeployment" },
  "v1/Service": { module: `${K8S}/v1/Service`, dts: `${K8S}/v1/Service.d.ts`, iface: "IService" },
  "v1/Namespace": { module: `${K8S}/v1/Namespace`, dts: `${K8S}/v1/Namespace.d.ts`, iface: "INamespace" },
};

export const kindKey = (doc: { apiVersion?: unknown; kind?: unknown }): string => `${String(doc.apiVersion)}/${String(doc.kind)}`;
export const knownKinds = (): string[] => Object.keys(KINDS);

let program: { checker: ts.TypeChecker; types: Map<string, ts.Type> } | undefined;

/** One TypeScript program over the models' declarations (built once per process). */
function models(): { checker: ts.TypeChecker; types: Map<string, ts.Type> } {
  if (program) return program;
  const files = Object.values(KINDS).map((k) => resolve("node_modules", k.dts));
  const p = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: [],
  });
  const checker = p.getTypeChecker();
  const types = new Map<string, ts.Type>();
  for (const [key, k] of Object.entries(KINDS)) {
    const sf = p.getSourceFile(resolve("node_modules", k.dts));
    if (!sf) throw new Error(`cannot load ${k.dts}`);
    const decl = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === k.iface);
    if (!decl) throw new Error(`${k.dts}: no interface ${k.iface}`);
    types.set(key, checker.getTypeAtLocation(decl.name));
  }
  program = { checker, types };
  return program;
}

const isObjectType = (t: ts.Type) => (t.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0;

/** Members of `value` that `type` does not declare, as "$.spec.foo" paths. */
function unknownMembers(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  if (value === null || typeof value !== "object") return;   // scalars: the model's validator
  const t = checker.getNonNullableType(type);
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  if (t.isUnion()) {
    const candidates = t.types.filter(isObjectType);
    let first: string[] | undefined;
    for (const c of candidates) {
      const errs: string[] = [];
      unknownMembers(checker, value, c, path, errs);
      if (errs.length === 0) return;
      first ??= errs;
    }
    if (first) out.push(...first);
    return;
  }
  if (Array.isArray(value)) {
    if (checker.isArrayType(t)) {
      const elem = checker.getTypeArguments(t as ts.TypeReference)[0];
      value.forEach((x, i) => unknownMembers(checker, x, elem, `${path}[${i}]`, out));
    } else {
      out.push(`${path}: a list where the model declares ${checker.typeToString(t)}`);
    }
    return;
  }
  const props = checker.getPropertiesOfType(t);
  const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
  if (props.length === 0 && !index) return;   // `{}`: free form
  for (const [k, x] of Object.entries(value as Record<string, unknown>)) {
    const p = t.getProperty(k);
    if (p) unknownMembers(checker, x, checker.getTypeOfSymbol(p), `${path}.${k}`, out);
    else if (index) unknownMembers(checker, x, index.type, `${path}.${k}`, out);
    else out.push(`${path}.${k}: unknown field`);
  }
}

/**
 * Problems of one manifest document: its kind unknown here, the model's validation errors, unknown
 * fields. `asPatchOf` checks a partial document (a strategic-merge patch) against a kind's
 * declaration only.
 */
export async function checkDocument(doc: Record<string, unknown>, asPatchOf?: string): Promise<string[]> {
  const key = asPatchOf ?? kindKey(doc);
  const kind = KINDS[key];
  if (!kind) return [`no model for ${key} (known: ${knownKinds().join(", ")})`];
  const problems: string[] = [];
  if (!asPatchOf) {
    const mod = await import(kind.module) as Record<string, new (d: unknown) => { validate(): void }>;
    const Model = mod[key.split("/").pop()!];
    try {
      new Model(doc).validate();
    } catch (e) {
      problems.push(`${key}: ${(e as Error).message}`);
    }
  }
  const { checker, types } = models();
  unknownMembers(checker, doc, types.get(key)!, "$", problems);
  return problems;
}
