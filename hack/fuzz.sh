#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz; the `fuzz` preset: clang, ASan + UBSan) and runs
# each for a while from a copy of its seed corpus. A crash, leak, sanitizer report or timeout
# fails the run and leaves the input in build/fuzz/findings/<target>/: add it to
# tests/fuzz/corpus/<target>/ with the fix, so the ordinary suite replays it from then on.
#
# usage: hack/fuzz.sh [--seconds N] [TARGET...]   (default 20 s each, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20
if [ "${1:-}" = "--seconds" ]; then seconds="$2"; shift 2; fi
cmake --preset fuzz >/dev/null
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(watch_event kubeconfig resource_specs cron_timezone patch_engine cel_rules protobuf_body selectors)
cmake --build build/fuzz -j2 --target "${targets[@]/#/fuzz_}"
failed=()
for t in "${targets[@]}"; do
  work="build/fuzz/corpus/$t" findings="build/fuzz/findings/$t"
  rm -rf "$work" && mkdir -p "$work" "$findings"
  cp tests/fuzz/corpus/"$t"/* "$work"/
  start=$(date +%s)
  if build/fuzz/tests/fuzz/fuzz_"$t" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$findings/" -print_final_stats=1 >"build/fuzz/$t.log" 2>&1; then
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "build/fuzz/$t.log")
    cov=$(grep -oE 'cov: [0-9]+' "build/fuzz/$t.log" | tail -1 | awk '{print $2}')
    echo "fuzz $t: ok, $execs runs in $(( $(date +%s) - start )) s, coverage $cov edges, corpus $(ls "$work" | wc -l) inputs"
  else
    echo "fuzz $t: FAILED (log build/fuzz/$t.log, input in $findings/)"
    grep -E "ERROR|SUMMARY|runtime error" "build/fuzz/$t.log" | head -5
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz failures: ${failed[*]}"; exit 1; }
