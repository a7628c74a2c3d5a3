#!/usr/bin/env bash
# Builds the release preset and runs every benchmark, printing `<metric> <value> <unit>`.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release
for b in build/release/bench/*; do
  [[ -x "$b" && -f "$b" ]] || continue
  echo "== $(basename "$b")"
  "$b"
done
