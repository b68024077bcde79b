// as-pect runs the pure AssemblyScript units (codecs, config) under test/assembly.
// Codec specs never touch the proxy-wasm ABI, so no host imports are provided here.
export default {
  entries: ["test/assembly/**/*.spec.ts"],
  include: ["test/assembly/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
