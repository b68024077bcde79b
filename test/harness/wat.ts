// Compiles WebAssembly text to a binary for the harness rule tests: each rule is pinned
// with a tiny purpose-built module, so a failure points at the host, not at the filter.
import wabtInit from "wabt";

let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined;

export async function wat(text: string): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const mod = wabt.parseWat("test.wat", text, { mutable_globals: true, sign_extension: true, bulk_memory: true });
  try {
    mod.resolveNames();
    mod.validate();
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}
