// Generates the AssemblyScript vector modules the as-pect specs import (test/assembly/generated/,
// git-ignored) from the JSON fixtures in test/fixtures/: one generator per protocol.
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

for (const protocol of ["redis", "thrift", "dubbo"]) {
  const script = `scripts/gen-${protocol}-vectors.mjs`;
  if (existsSync(script)) execFileSync(process.execPath, [script], { stdio: "inherit" });
}
