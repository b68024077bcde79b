#!/usr/bin/env bash
# Installs everything metawire's build, dev proxy and tests need on a fresh Debian machine:
# the real peers from Debian (redis-server, redis-cli, redis-benchmark, thrift-compiler) and the
# npm packages pinned in package-lock.json. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v thrift >/dev/null 2>&1 || need+=(thrift-compiler)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts a system redis on 6379 after install; metawire's tests start their own servers
# on free ports and never depend on it.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
