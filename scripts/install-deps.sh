#!/usr/bin/env bash
# Installs everything metawire's build, dev proxy and tests need on a fresh Debian machine:
# the real peers from Debian (redis-server, redis-cli, redis-benchmark, thrift-compiler, a JDK and
# Maven; skopeo and docker-registry for the OCI image round trip), the npm packages pinned in
# package-lock.json, and Apache Dubbo's Java peers (Maven Central) built from test/dubbo. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v thrift >/dev/null 2>&1 || need+=(thrift-compiler)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
# Optional: the OCI image round trip (npm run package → a loopback registry → back); its test
# skips, saying why, when these are missing, so a failed install must not stop the rest.
optional=()
command -v skopeo >/dev/null 2>&1 || optional+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || optional+=(docker-registry)
if [ ${#need[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ${#optional[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${optional[@]}" >/dev/null ||
      echo "install-deps: could not install ${optional[*]}; the OCI registry round trip will be skipped" >&2
  fi
fi
# Debian starts a system redis on 6379 after install; metawire's tests start their own servers
# on free ports and never depend on it.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi

# Apache Dubbo 2.7 and 3.3 provider/consumer used by test/e2e/dubbo-java.test.ts (no-op when current).
bash scripts/build-dubbo-peers.sh
