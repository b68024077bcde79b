// `npm run package` (scripts/package-oci.mjs): the OCI image layout Istio's agent pulls for
// `WasmPlugin.url: oci://…`. Checked here as the agent reads it (istio pkg/wasm/imagefetcher.go,
// "compat" variant): an OCI manifest whose last (only) layer has media type
// application/vnd.oci.image.layer.v1.tar+gzip and holds a tar entry named plugin.wasm, a valid wasm
// binary; every descriptor's digest and size match its blob; the module is byte-identical to
// build/metawire.wasm; two runs give the same bytes. WasmPlugin.sha256 for oci:// URLs is the
// manifest digest (pkg/wasm/cache.go compares the image digest), which a registry must serve
// unchanged: with Debian's skopeo and docker-registry installed, the image goes to a registry on
// loopback and back, byte-identical, and the registry's manifest digest is the one printed.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { RELEASE_WASM } from "../support/filter.js";
import { freePort } from "../support/ports.js";

const SCRIPT = "scripts/package-oci.mjs";
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const tmp = mkdtempSync(join(tmpdir(), "metawire-oci-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Printed { out: string; tag: string; manifestDigest: string; moduleSha256: string; layerDigest: string; configDigest: string }

function packageTo(dir: string, ...extra: string[]): Printed {
  const r = spawnSync(process.execPath, [SCRIPT, "--out", dir, "--json", ...extra], {
    encoding: "utf8", env: { ...process.env, SOURCE_DATE_EPOCH: "0" },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Printed;
}

/** Entries of a tar archive (ustar headers; regular files only in what we write). */
function untar(tar: Buffer): { name: string; mode: number; mtime: number; uid: number; data: Buffer }[] {
  const out = [];
  let p = 0;
  while (p + 512 <= tar.length) {
    const h = tar.subarray(p, p + 512);
    if (h.every((b) => b === 0)) break;
    const str = (o: number, n: number) => h.subarray(o, o + n).toString("latin1").replace(/\0.*$/s, "");
    const num = (o: number, n: number) => parseInt(str(o, n).trim() || "0", 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    assert.equal(num(148, 8), sum, "tar header checksum");
    const size = num(124, 12);
    out.push({ name: str(0, 100), mode: num(100, 8), mtime: num(136, 12), uid: num(108, 8), data: tar.subarray(p + 512, p + 512 + size) });
    p += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Reads an image layout as Istio's agent would and returns the module. */
function readLayout(dir: string): { wasm: Buffer; manifestDigest: string; blobs: Map<string, Buffer>; tag: string } {
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
  const blobs = new Map(readdirSync(join(dir, "blobs", "sha256")).map((f) => [f, readFileSync(join(dir, "blobs", "sha256", f))]));
  for (const [name, bytes] of blobs) assert.equal(sha256(bytes), name, `blob ${name} is named by its digest`);
  const blob = (d: { digest: string; size: number; mediaType: string }) => {
    assert.match(d.digest, /^sha256:[0-9a-f]{64}$/);
    const b = blobs.get(d.digest.slice(7));
    assert.ok(b, `no blob for ${d.digest}`);
    assert.equal(b.length, d.size, `size of ${d.mediaType}`);
    return b;
  };
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.manifests.length, 1);
  const [desc] = index.manifests;
  assert.equal(desc.mediaType, "application/vnd.oci.image.manifest.v1+json");
  const manifestBytes = blob(desc);
  const manifest = JSON.parse(manifestBytes.toString("utf8"));
  assert.equal(manifest.schemaVersion, 2);
  assert.equal(manifest.mediaType, "application/vnd.oci.image.manifest.v1+json", "not Docker's schema 2 (the agent's other branch)");
  assert.equal(manifest.config.mediaType, "application/vnd.oci.image.config.v1+json");
  const config = JSON.parse(blob(manifest.config).toString("utf8"));
  assert.equal(manifest.layers.length, 1, "compat variant: one layer (the agent reads the last)");
  const [layer] = manifest.layers;
  assert.equal(layer.mediaType, LAYER);
  const tar = gunzipSync(blob(layer));
  assert.deepEqual(config.rootfs, { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] });
  const entries = untar(tar);
  assert.deepEqual(entries.map((e) => e.name), ["plugin.wasm"]);
  assert.deepEqual([entries[0].mode, entries[0].uid], [0o644, 0]);
  assert.equal(blobs.size, 3, "no blob the manifest does not name");
  return { wasm: entries[0].data, manifestDigest: desc.digest.slice(7), blobs, tag: desc.annotations["org.opencontainers.image.ref.name"] };
}

const version = JSON.parse(readFileSync("package.json", "utf8")).version as string;
const built = readFileSync(RELEASE_WASM);

test("npm run package: an OCI image layout Istio's agent reads, holding build/metawire.wasm byte for byte", () => {
  const printed = packageTo(join(tmp, "a"));
  const image = readLayout(join(tmp, "a"));
  assert.ok(image.wasm.equals(built), "plugin.wasm differs from build/metawire.wasm");
  assert.ok(image.wasm.subarray(0, 8).equals(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])), "wasm magic and version (the agent's isValidWasmBinary)");
  assert.equal(image.tag, version);
  assert.equal(printed.tag, version);
  assert.equal(printed.manifestDigest, image.manifestDigest, "the printed WasmPlugin.sha256 for oci:// URLs");
  assert.equal(printed.moduleSha256, sha256(built), "the printed sha256 for http(s):// URLs");
  assert.notEqual(printed.manifestDigest, printed.moduleSha256);
});

test("npm run package is reproducible: two runs, identical blobs and digests; SOURCE_DATE_EPOCH sets the tar time", () => {
  const a = packageTo(join(tmp, "r1"));
  const b = packageTo(join(tmp, "r2"));
  assert.deepEqual(a.manifestDigest, b.manifestDigest);
  const la = readLayout(join(tmp, "r1")), lb = readLayout(join(tmp, "r2"));
  assert.deepEqual([...la.blobs.keys()].sort(), [...lb.blobs.keys()].sort());
  assert.ok(readFileSync(join(tmp, "r1", "index.json")).equals(readFileSync(join(tmp, "r2", "index.json"))));
  const r = spawnSync(process.execPath, [SCRIPT, "--out", join(tmp, "r3"), "--json"], { encoding: "utf8", env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" } });
  assert.equal(r.status, 0, r.stderr);
  const c = readLayout(join(tmp, "r3"));
  assert.notEqual(c.manifestDigest, la.manifestDigest);
  assert.ok(c.wasm.equals(built));
});

test("--pin rewrites the sha256 of each WasmPlugin, and nothing else", async () => {
  const { pinSha256 } = await import(pathToFileURL(resolve(SCRIPT)).href) as { pinSha256(t: string, h: string): { text: string; count: number } };
  const original = readFileSync("examples/thrift-split/istio.yaml", "utf8");
  const hex = "ab".repeat(32);
  const { text, count } = pinSha256(original, hex);
  assert.equal(count, 1);
  const diff = original.split("\n").map((l, i) => [l, text.split("\n")[i]]).filter(([x, y]) => x !== y);
  assert.deepEqual(diff.map(([, y]) => y.trim()), [`sha256: ${hex}`]);
  // Through the CLI, on a copy.
  const copy = join(tmp, "pin.yaml");
  writeFileSync(copy, original);
  const printed = packageTo(join(tmp, "p"), "--pin", copy);
  assert.match(readFileSync(copy, "utf8"), new RegExp(`sha256: ${printed.manifestDigest}\n`));
});

// ---- through a registry ---------------------------------------------------------------------------

function registrySkipReason(): string | undefined {
  for (const [cmd, pkg] of [["skopeo", "skopeo"], ["docker-registry", "docker-registry"]]) {
    if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed (Debian package ${pkg}): the registry round trip is skipped`;
  }
  return undefined;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); res(true); });
      s.once("error", () => res(false));
    });
    if (ok) return;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`docker-registry did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("pushed to a registry on loopback with skopeo and pulled back: byte-identical, same manifest digest", { skip: registrySkipReason() }, async () => {
  const printed = packageTo(join(tmp, "push"));
  const port = await freePort();
  const store = join(tmp, "registry");
  const config = join(tmp, "registry.yml");
  writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${store}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  let log = "";
  const registry = spawn("docker-registry", ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
  registry.stdout!.on("data", (d) => { log += d; });
  registry.stderr!.on("data", (d) => { log += d; });
  try {
    await listening(port, registry, () => log);
    const ref = `docker://127.0.0.1:${port}/metawire:${printed.tag}`;
    run("skopeo", ["--insecure-policy", "copy", "--dest-tls-verify=false", `oci:${join(tmp, "push")}:${printed.tag}`, ref]);
    const served = Buffer.from(run("skopeo", ["inspect", "--raw", "--tls-verify=false", ref]), "utf8");
    assert.equal(sha256(served), printed.manifestDigest, "the digest istio-agent compares with WasmPlugin.sha256");
    run("skopeo", ["--insecure-policy", "copy", "--src-tls-verify=false", ref, `oci:${join(tmp, "pulled")}:${printed.tag}`]);
    const pushed = readLayout(join(tmp, "push")), pulled = readLayout(join(tmp, "pulled"));
    assert.equal(pulled.manifestDigest, pushed.manifestDigest);
    for (const [d, b] of pushed.blobs) assert.ok(pulled.blobs.get(d)?.equals(b), `blob ${d} changed in the registry`);
    assert.ok(pulled.wasm.equals(built));
  } finally {
    if (registry.exitCode === null && registry.signalCode === null) {
      const exited = new Promise((r) => registry.once("exit", r));
      registry.kill("SIGTERM");
      await exited;
    }
  }
});
