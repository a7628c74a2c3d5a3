#!/usr/bin/env bash
# The soak (issue 28.1): real processes on loopback — `nonevent sim serve` restarted over its
# kept storage, with API faults, dropped watches and compaction; two leader-elected operators
# killed with -9 at random instants — under recurring MaintenanceWindows and PatchCampaigns,
# watched by an independent checker (tests/soak/checker.py, the Python client) that evaluates
# design section 7's invariants at every event. Prints `<metric> <value> <unit>` lines and
# exits non-zero on any violation.
#
# usage: hack/soak.sh [--minutes N] [--time-scale X] [--seed N] [--binary PATH] [driver flags]
#        (CI: --minutes 3; by hand: --minutes 25 --time-scale 60 for 25 virtual hours)
# Logs of every process stay in build/soak/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=build/dev/operator/nonevent
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -x "$binary" ] || { echo "hack/soak.sh: no binary at $binary (build first: hack/test.sh, or pass --binary)" >&2; exit 2; }
work="build/soak/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work"
exec /usr/bin/python3 tests/soak/driver.py --binary "$binary" --source "$PWD" --work "$work" "${args[@]}"
