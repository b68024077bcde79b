#!/usr/bin/env node
// Packages build/metawire.wasm as an OCI image layout (build/oci/: oci-layout, index.json,
// blobs/sha256/…) in the Wasm image format Istio's agent pulls for `WasmPlugin.url: oci://…`.
//
// Format: the "compat" variant of the Wasm image spec, which istio-agent (pkg/wasm/imagefetcher.go)
// tries first for OCI manifests: one layer, media type application/vnd.oci.image.layer.v1.tar+gzip,
// a tar holding the module as `plugin.wasm`. (The agent also reads the "oci" artifact variant,
// application/vnd.module.wasm.content.layer.v1+wasm, but only from an image of exactly two layers;
// the compat image is a plain OCI image any registry and tool handles.)
//
// Reproducible: the tar entry has mode 0644, uid/gid 0, no user names and mtime SOURCE_DATE_EPOCH
// (default 0); gzip carries no name and mtime 0; the config and manifest have no timestamps and
// their JSON keys come in a fixed order. Same module + same Node (zlib) → same digests.
//
// Which digest WasmPlugin.sha256 takes depends on the URL scheme (pkg/wasm/cache.go): for oci:// the
// agent compares it with the image's *manifest* digest; for http(s):// with the module's sha256.
// Both are printed.
//
// usage: node scripts/package-oci.mjs [--wasm FILE] [--out DIR] [--tag TAG] [--json]
//                                     [--pin FILE...]   rewrite `sha256:` of WasmPlugins in FILEs
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { gzipSync, constants } from "node:zlib";

export const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
};
export const WASM_FILE = "plugin.wasm";

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/** One ustar header block (POSIX.1-1988 fields; numbers as NUL-terminated octal). */
function tarHeader(name, size, mtime) {
  const h = Buffer.alloc(512, 0);
  const put = (s, off, len) => h.write(s, off, len, "ascii");
  const oct = (n, len) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);           // uid
  put(oct(0, 8), 116, 8);           // gid
  put(oct(size, 12), 124, 12);
  put(oct(mtime, 12), 136, 12);
  put("        ", 148, 8);          // checksum field counts as spaces
  put("0", 156, 1);                 // regular file
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

/** A tar archive holding `data` as `name`, with two zero blocks at the end. */
export function tarOne(name, data, mtime = 0) {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([tarHeader(name, data.length, mtime), data, Buffer.alloc(pad), Buffer.alloc(1024)]);
}

/**
 * The image of `wasm` as blobs: { blobs: Map<hex, Buffer>, manifest digest, … }. Pure: no I/O.
 */
export function buildImage(wasm, { tag = "latest", version = tag, mtime = 0 } = {}) {
  const tar = tarOne(WASM_FILE, wasm, mtime);
  const layer = gzipSync(tar, { level: constants.Z_BEST_COMPRESSION });
  // Platform as Go names WASI preview 1 (GOOS wasip1, GOARCH wasm); informational: the agent reads
  // only the layer.
  const config = Buffer.from(JSON.stringify({
    architecture: "wasm",
    os: "wasip1",
    config: {},
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: `sha256:${sha256(config)}`, size: config.length },
    layers: [{
      mediaType: MEDIA.layer, digest: `sha256:${sha256(layer)}`, size: layer.length,
      annotations: { "org.opencontainers.image.title": WASM_FILE },
    }],
    annotations: { "org.opencontainers.image.title": "metawire", "org.opencontainers.image.version": version },
  }));
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{
      mediaType: MEDIA.manifest, digest: `sha256:${sha256(manifest)}`, size: manifest.length,
      annotations: { "org.opencontainers.image.ref.name": tag },
    }],
  }));
  const blobs = new Map([[sha256(config), config], [sha256(layer), layer], [sha256(manifest), manifest]]);
  return {
    blobs, index, tag,
    manifestDigest: sha256(manifest),
    moduleSha256: sha256(wasm),
    layerDigest: sha256(layer),
    configDigest: sha256(config),
  };
}

/** Writes the image as an OCI image layout directory (replacing `dir`). */
export function writeLayout(dir, image) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(dir, "index.json"), image.index);
  for (const [hex, bytes] of image.blobs) writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
}

/**
 * Rewrites the `sha256:` line of every WasmPlugin document in `text` to `hex` (the value Istio
 * compares for oci:// URLs). Returns the new text and how many were replaced.
 */
export function pinSha256(text, hex) {
  let count = 0;
  const docs = text.split(/^---$/m).map((doc) => {
    if (!/^kind:\s*WasmPlugin\s*$/m.test(doc)) return doc;
    return doc.replace(/^(\s+sha256:\s*)"?[0-9a-f]{64}"?\s*$/m, (_m, head) => { count++; return `${head}${hex}`; });
  });
  return { text: docs.join("---"), count };
}

function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      wasm: { type: "string", default: "build/metawire.wasm" },
      out: { type: "string", default: "build/oci" },
      tag: { type: "string" },
      json: { type: "boolean", default: false },
      pin: { type: "boolean", default: false },
    },
  });
  const version = JSON.parse(readFileSync("package.json", "utf8")).version;
  const tag = values.tag ?? version;
  const mtime = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  if (!Number.isInteger(mtime) || mtime < 0) throw new Error("SOURCE_DATE_EPOCH must be a non-negative integer");
  let wasm;
  try {
    wasm = readFileSync(values.wasm);
  } catch {
    throw new Error(`${values.wasm} not found: run \`npm run build:wasm\` first (\`npm run package\` does)`);
  }
  const image = buildImage(wasm, { tag, version, mtime });
  writeLayout(values.out, image);
  const pinned = [];
  if (values.pin) {
    for (const file of positionals) {
      const { text, count } = pinSha256(readFileSync(file, "utf8"), image.manifestDigest);
      writeFileSync(file, text);
      pinned.push({ file, count });
    }
  }
  if (values.json) {
    console.log(JSON.stringify({ out: values.out, tag, manifestDigest: image.manifestDigest, moduleSha256: image.moduleSha256,
      layerDigest: image.layerDigest, configDigest: image.configDigest, pinned }));
    return;
  }
  console.log(`OCI image layout: ${values.out} (tag ${tag}; ${WASM_FILE} in one ${MEDIA.layer} layer)`);
  console.log(`  manifest  sha256:${image.manifestDigest}`);
  console.log(`  module    sha256:${image.moduleSha256}  (${wasm.length} bytes)`);
  console.log("");
  console.log("WasmPlugin.sha256:");
  console.log(`  url: oci://…         sha256: ${image.manifestDigest}   (istio-agent compares the image manifest digest)`);
  console.log(`  url: http(s)://…     sha256: ${image.moduleSha256}   (the module itself)`);
  console.log("");
  console.log(`push:  skopeo copy oci:${values.out}:${tag} docker://REGISTRY/metawire:${tag}`);
  for (const p of pinned) console.log(`pinned ${p.count} WasmPlugin sha256 in ${p.file}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`package-oci: ${e.message}`);
    process.exit(1);
  }
}
