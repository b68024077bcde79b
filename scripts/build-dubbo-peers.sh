#!/usr/bin/env bash
# Builds the real Apache Dubbo peers of the Dubbo end-to-end tests (test/dubbo, a Maven project: one
# provider and one consumer main compiled against Dubbo 2.7 and 3.3, dependencies from Maven Central)
# into test/dubbo/dubbo-*/target/{classes,lib}. Needs a JDK (17) and Maven (3.8). The Node tests never
# run Maven: without this build they skip, naming this script.
#
# Safe to re-run: it records a hash of the poms and sources in test/dubbo/target/peers.stamp and does
# nothing while they are unchanged and the output is there (test/support/dubbo-peers.ts computes the
# same hash to tell a stale build). Arguments go to Maven, e.g. -Dmaven.repo.local=/tmp/m2 (default
# ~/.m2). A cold build downloads ~70 MB from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=test/dubbo
modules=(dubbo-2.7 dubbo-3.3)

# The stamp: sha256 of the `sha256sum` listing of the build inputs, paths relative to test/dubbo, sorted.
inputs_hash() {
  (cd "$dir" && find . -path '*/target' -prune -o -type f \( -name pom.xml -o -name '*.java' \) -print \
    | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -d' ' -f1)
}

built() {
  for m in "${modules[@]}"; do
    [ -f "$dir/$m/target/classes/metawire/dubbo/Provider.class" ] || return 1
    [ -f "$dir/$m/target/classes/metawire/dubbo/Consumer.class" ] || return 1
    compgen -G "$dir/$m/target/lib/dubbo-*.jar" >/dev/null || return 1
  done
}

hash=$(inputs_hash)
stamp=$dir/target/peers.stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && built; then
  echo "build-dubbo-peers: up to date ($dir)"
  exit 0
fi

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-dubbo-peers: '$tool' is not installed (needs a JDK 17 and Maven 3.8, e.g. Debian's openjdk-17-jdk-headless and maven)" >&2
    exit 1
  fi
done

start=$(date +%s)
rm -f "$stamp"
for m in "${modules[@]}"; do rm -rf "$dir/$m/target"; done
# -q: errors only (Debian's Maven 3.8 still writes bare colour resets, dropped here)
mvn -B -q -f "$dir/pom.xml" compile "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g'

built || { echo "build-dubbo-peers: Maven finished but the peers are incomplete" >&2; exit 1; }
mkdir -p "$dir/target"
echo "$hash" > "$stamp"
echo "build-dubbo-peers: built ${modules[*]} in $(( $(date +%s) - start )) s"
