#!/usr/bin/env bash
# The README's first command. The zone-evacuation demo on the embedded cluster arrives
# with the MaintenanceWindow controller (issue 4); until then this builds the binary and
# shows what exists today, and says so plainly.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target nonevent
echo
build/release/operator/nonevent version
echo
echo "The demo (a zone cordoned, drained, held, restored and rebalanced on the embedded"
echo "cluster) does not exist yet: it needs the embedded cluster (issue 3) and the"
echo "MaintenanceWindow controller (issue 4). Today the binary offers:"
build/release/operator/nonevent --help || true
