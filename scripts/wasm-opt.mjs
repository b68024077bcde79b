// Optimises the release module in place with binaryen's wasm-opt (npm `binaryen`) and prints the
// size before and after. AssemblyScript 0.27 output uses bulk memory and sign extension, which
// wasm-opt must be told about or it fails validation.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const file = process.argv[2] ?? "build/metawire.wasm";
const wasmOpt = fileURLToPath(new URL("../node_modules/binaryen/bin/wasm-opt", import.meta.url));
const before = statSync(file).size;
execFileSync(process.execPath, [wasmOpt, "-O3", "--enable-bulk-memory", "--enable-sign-ext",
  "--enable-nontrapping-float-to-int", "--enable-mutable-globals", file, "-o", file], { stdio: "inherit" });
const after = statSync(file).size;
console.log(`wasm-opt: ${file} ${before} -> ${after} bytes (${(after / 1024).toFixed(1)} KiB)`);
