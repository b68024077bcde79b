// Real Apache Dubbo peers for end-to-end tests: the Java provider and consumer of test/dubbo (a Maven
// project, one module per Dubbo release), built by scripts/build-dubbo-peers.sh into
// test/dubbo/<module>/target/{classes,lib}. The tests never run Maven: when the build is missing or
// older than its sources (the script's stamp, recomputed here), they skip and name the script.
//
// Provider: `metawire.dubbo.Provider HOST PORT` exports metawire.dubbo.api.Probe (version 1.2.3,
// group metawire) on dubbo://HOST:PORT and prints "READY <dubbo version>". Consumer:
// `metawire.dubbo.Consumer HOST:PORT IDLE_MS` runs a fixed workload, one JSON line per call on stdout,
// then a summary line, and exits (`HOST:PORT policy`: the policy tests' workload, failures in full).
//
// HOST is LOOPBACK_NAME, which the JVMs resolve to 127.0.0.1 from a hosts file of ours
// (-Djdk.net.hosts.file): Dubbo replaces 127.0.0.1 or localhost, wherever it binds or connects, with
// the machine's first non-loopback address (NetUtils.filterLocalHost), and everything here must stay
// on the loopback interface (the taps and the proxy listen on 127.0.0.1 only).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { freePort } from "./ports.js";

export const DUBBO_DIR = "test/dubbo";
export const BUILD_SCRIPT = "scripts/build-dubbo-peers.sh";
/** The name the Java peers use for 127.0.0.1 (see above). */
export const LOOPBACK_NAME = "metawire-loopback";

let hostsFile: string | undefined;
/** A hosts file (created once per process, removed at its exit) naming 127.0.0.1 LOOPBACK_NAME. */
function loopbackHostsFile(): string {
  if (!hostsFile) {
    const dir = mkdtempSync(join(tmpdir(), "metawire-dubbo-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    hostsFile = join(dir, "hosts");
    writeFileSync(hostsFile, `127.0.0.1 ${LOOPBACK_NAME}\n`);
  }
  return hostsFile;
}

export interface DubboPeer {
  /** Maven module, e.g. "dubbo-2.7". */
  module: string;
  /** The Dubbo release the module depends on. */
  version: string;
}

/** The modules of test/dubbo/pom.xml and the Dubbo release each depends on (read from its pom). */
export function dubboPeers(): DubboPeer[] {
  const parent = readFileSync(join(DUBBO_DIR, "pom.xml"), "utf8");
  const modules = [...parent.matchAll(/<module>([^<]+)<\/module>/g)].map((m) => m[1]);
  return modules.map((module) => {
    const pom = readFileSync(join(DUBBO_DIR, module, "pom.xml"), "utf8");
    const dep = /<artifactId>dubbo<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom);
    if (!dep) throw new Error(`${DUBBO_DIR}/${module}/pom.xml: no org.apache.dubbo:dubbo dependency`);
    return { module, version: dep[1] };
  });
}

/** The build inputs' hash, as scripts/build-dubbo-peers.sh writes it to test/dubbo/target/peers.stamp. */
export function dubboInputsHash(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) { if (name !== "target") walk(p); }
      else if (name === "pom.xml" || name.endsWith(".java")) files.push("./" + relative(DUBBO_DIR, p).split(sep).join("/"));
    }
  };
  walk(DUBBO_DIR);
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));   // byte order for ASCII paths, as LC_ALL=C sort
  const listing = files.map((f) => `${createHash("sha256").update(readFileSync(join(DUBBO_DIR, f))).digest("hex")}  ${f}\n`).join("");
  return createHash("sha256").update(listing).digest("hex");
}

const classesDir = (p: DubboPeer) => join(DUBBO_DIR, p.module, "target", "classes");
const libDir = (p: DubboPeer) => join(DUBBO_DIR, p.module, "target", "lib");

/** Why the Dubbo Java tests cannot run here, or undefined when they can. */
export function dubboSkipReason(): string | undefined {
  if (spawnSync("java", ["-version"], { encoding: "utf8" }).status !== 0) {
    return `java is not installed (the Dubbo peers need a JDK 17 and Maven; then run ${BUILD_SCRIPT})`;
  }
  const stamp = join(DUBBO_DIR, "target", "peers.stamp");
  if (!existsSync(stamp)) return `the Dubbo Java peers are not built (run ${BUILD_SCRIPT})`;
  if (readFileSync(stamp, "utf8").trim() !== dubboInputsHash()) return `the Dubbo Java peers are older than test/dubbo's sources (run ${BUILD_SCRIPT})`;
  for (const p of dubboPeers()) {
    const complete = ["Provider.class", "Consumer.class"].every((c) => existsSync(join(classesDir(p), "metawire", "dubbo", c))) &&
      existsSync(libDir(p)) && readdirSync(libDir(p)).some((f) => f.startsWith("dubbo-") && f.endsWith(".jar"));
    if (!complete) return `the Dubbo Java peers of ${p.module} are incomplete (run ${BUILD_SCRIPT})`;
  }
  return undefined;
}

// Java 17 closes the JDK's internals; Dubbo 2.7's javassist proxies and Hessian's reflective
// serializers (exceptions, BigDecimal, …) reach into them, as they do in any Dubbo 2.7 on Java 17.
const ADD_OPENS = ["java.lang", "java.lang.reflect", "java.util", "java.util.concurrent", "java.math", "java.net", "java.nio",
  "java.io", "java.text", "java.time", "sun.nio.ch"].map((p) => `--add-opens=java.base/${p}=ALL-UNNAMED`);

function javaArgs(p: DubboPeer, main: string, args: string[]): string[] {
  // C1 only and the serial GC: these JVMs live seconds, startup dominates
  return ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m", `-Djdk.net.hosts.file=${loopbackHostsFile()}`, ...ADD_OPENS,
    "-cp", `${classesDir(p)}:${libDir(p)}/*`, `metawire.dubbo.${main}`, ...args];
}

export interface DubboProvider {
  port: number;
  /** What the provider printed after READY (its Dubbo version). */
  dubboVersion: string;
  /** stderr so far (Dubbo's warnings and errors). */
  log(): string;
  stop(): Promise<void>;
}

export async function startDubboProvider(p: DubboPeer, timeoutMs = 60_000): Promise<DubboProvider> {
  const port = await freePort();
  // stdin is a pipe the provider watches: it exits when this process does, whatever the way
  const child: ChildProcess = spawn("java", javaArgs(p, "Provider", [LOOPBACK_NAME, String(port)]), { stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr!.on("data", (d) => { err += d; });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const dubboVersion = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`${p.module} provider: no READY within ${timeoutMs} ms\n${err}`)); }, timeoutMs);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^READY (\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once("exit", (code, signal) => { clearTimeout(timer); reject(new Error(`${p.module} provider exited (${code ?? signal}) before READY\n${err}`)); });
  });
  return {
    port,
    dubboVersion,
    log: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** One result line of the consumer. */
export type ConsumerLine = Record<string, unknown> & { step?: string; outcome?: string };

export interface ConsumerSummary {
  summary: true;
  dubbo: string;
  ok: number;
  error: number;
  exception: number;
  oneway: number;
  /** Fields of any line whose values legitimately differ between two runs. */
  volatile: string[];
  elapsed_ms: number;
}

export interface ConsumerRun {
  lines: ConsumerLine[];
  summary: ConsumerSummary;
  stderr: string;
}

/**
 * Runs the consumer against host:port until it exits; rejects when it fails or prints no summary.
 * `idleMs`: the main workload's idle phase, or "policy" for the policy tests' workload (Consumer.runPolicy).
 */
export async function runDubboConsumer(p: DubboPeer, port: number, idleMs: number | "policy", timeoutMs = 60_000): Promise<ConsumerRun> {
  const child = spawn("java", javaArgs(p, "Consumer", [`${LOOPBACK_NAME}:${port}`, String(idleMs)]), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
  child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d; });
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (c, s) => { clearTimeout(timer); resolve(c ?? s ?? "?"); });
  });
  const all = out.split("\n").filter((l) => l.trim() !== "").map((l) => {
    try { return JSON.parse(l) as ConsumerLine; } catch { throw new Error(`${p.module} consumer printed a non-JSON line: ${l}\n${err}`); }
  });
  const at = all.findIndex((l) => l.summary === true);
  if (code !== 0 || at < 0) throw new Error(`${p.module} consumer exited with ${code}${at < 0 ? " without a summary" : ""}\n${out}\n${err}`);
  return { lines: all.filter((_, i) => i !== at), summary: all[at] as unknown as ConsumerSummary, stderr: err };
}

/** The lines without their volatile fields, for comparing two runs. */
export function comparable(run: ConsumerRun): ConsumerLine[] {
  const drop = new Set(run.summary.volatile);
  return run.lines.map((l) => Object.fromEntries(Object.entries(l).filter(([k]) => !drop.has(k))));
}
