// The main job: the dev proxy (the harness's Envoy emulation running build/metawire.wasm) in
// front of a Redis server. Starts its own redis-server on a free port unless --upstream
// HOST:PORT is given. Prints one line per request; Prometheus stats on the admin port.
//   node scripts/start.mjs [--listen 127.0.0.1:16379] [--admin 127.0.0.1:9901] [--upstream host:port]
import { spawn } from "node:child_process";
import net from "node:net";
import { parseArgs } from "node:util";
import { METAWIRE_TAG_NAMES } from "../dist/test/host/metrics.js";

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: process.env.METAWIRE_LISTEN ?? "127.0.0.1:16379" },
    admin: { type: "string", default: process.env.METAWIRE_ADMIN ?? "127.0.0.1:9901" },
    upstream: { type: "string" },
    config: { type: "string", default: "config/redis.json" },
  },
});

const children = [];
function stopAll() { for (const c of children) c.kill("SIGTERM"); }
process.on("SIGINT", () => { stopAll(); process.exit(0); });
process.on("SIGTERM", () => { stopAll(); process.exit(0); });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => { const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); }); s.on("error", () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port}`);
}

let upstream = values.upstream;
if (!upstream) {
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  redis.on("error", (e) => { console.error(`cannot start redis-server (${e.message}); run scripts/install-deps.sh or pass --upstream host:port`); process.exit(1); });
  children.push(redis);
  await waitForPort(port);
  upstream = `127.0.0.1:${port}`;
  console.log(`metawire: started redis-server on ${upstream}`);
}

// --stats-tags: /stats/prometheus extracts metawire's tags into labels (envoy/stats-tags.yaml), e.g.
// metawire_requests_total{protocol="redis",service="",method="GET"}
const proxy = spawn(process.execPath, ["bin/metawire-proxy.js", "--wasm", "build/metawire.wasm", "--config", values.config,
  "--listen", values.listen, "--cluster", `default=${upstream}`, "--admin", values.admin,
  "--stats-tags", METAWIRE_TAG_NAMES.join(",")], { stdio: "inherit" });
children.push(proxy);
proxy.on("exit", (code) => { stopAll(); process.exit(code ?? 0); });
const [host, port] = values.listen.split(":");
console.log(`metawire: try  redis-cli -h ${host} -p ${port} set hello world   ·   stats: curl http://${values.admin}/stats/prometheus`);
