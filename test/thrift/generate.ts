// Generates the Node.js code of test/thrift/metawire_test.thrift with the Apache Thrift compiler
// (Debian's `thrift`, `--gen js:node`) into test/.generated/thrift/<hash>/, where <hash> covers the
// IDL and the compiler's version: a fresh clone generates once, later runs reuse the output, and
// test files running in parallel never see a half-written directory (each generates into a private
// directory and renames it into place; whoever renames first wins).
//
//   node dist/test/thrift/generate.js        prints the output directory
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const IDL_RELATIVE = "test/thrift/metawire_test.thrift";
/**
 * Files `--gen js:node` writes for the IDL, plus a package.json marking them CommonJS (the project is
 * "type": "module"); their presence marks a complete output.
 */
export const GENERATED_FILES = ["Catalog.js", "CatalogNext.js", "Admin.js", "metawire_test_types.js", "package.json"];

/** The project root: the nearest directory above this file (source or compiled) holding the IDL. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, IDL_RELATIVE))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The compiler's version line, or undefined when `thrift` is not on the PATH. */
export function thriftCompilerVersion(): string | undefined {
  const r = spawnSync("thrift", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Why the Thrift tests cannot run here, or undefined when they can. */
export function thriftSkipReason(): string | undefined {
  return thriftCompilerVersion() === undefined
    ? "the Apache Thrift compiler (`thrift`, Debian package thrift-compiler) is not installed (run scripts/install-deps.sh)"
    : undefined;
}

/** Generates (or reuses) the code and returns the directory holding GENERATED_FILES. */
export function generateThrift(root = projectRoot()): string {
  const version = thriftCompilerVersion();
  if (version === undefined) throw new Error(thriftSkipReason());
  const idl = join(root, IDL_RELATIVE);
  const hash = createHash("sha256").update(version).update("\0js:node\0").update(readFileSync(idl)).digest("hex").slice(0, 16);
  const base = join(root, "test/.generated/thrift");
  const out = join(base, hash);
  if (GENERATED_FILES.every((f) => existsSync(join(out, f)))) return out;
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    execFileSync("thrift", ["--gen", "js:node", "-out", tmp, idl], { stdio: ["ignore", "pipe", "pipe"] });
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
    const missing = GENERATED_FILES.filter((f) => !existsSync(join(tmp, f)));
    if (missing.length) throw new Error(`thrift --gen js:node did not write ${missing.join(", ")}`);
    try {
      renameSync(tmp, out);
    } catch (e) {
      // another process renamed its copy first: use that one
      if (!GENERATED_FILES.every((f) => existsSync(join(out, f)))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(generateThrift());
}
