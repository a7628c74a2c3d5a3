#!/usr/bin/env bash
# Builds the release preset and runs every benchmark, printing `<metric> <value> <unit>`.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release
echo "== informer_decode"
build/release/bench/informer_decode
# sim_scale's and evacuation's defaults are the goal scale (5,000 nodes / 150,000 pods), which
# takes the embedded cluster far longer than the 60 s goal (see issue 3's note); run them at a
# scale that finishes in a couple of minutes. Pass SIM_SCALE_ARGS / EVACUATION_ARGS to change it.
echo "== sim_scale"
build/release/bench/sim_scale ${SIM_SCALE_ARGS:---nodes 600 --pods 12000}
echo "== preflight"
build/release/bench/preflight ${PREFLIGHT_ARGS:---nodes 1500 --pods 45000}
echo "== evacuation"
build/release/bench/evacuation ${EVACUATION_ARGS:---nodes 600 --pods 12000} 2>/dev/null
# campaign's defaults are the seed scenario (3,000 nodes, ~9.5 min wall here with tcmalloc); the default
# here is 300 nodes (about a minute).
echo "== campaign"
build/release/bench/campaign ${CAMPAIGN_ARGS:---nodes 300 --pods-per-node 10} 2>/dev/null
echo "== kubectl_drain_vs_operator (real time, real kubectl)"
cmake --build --preset release --target nonevent >/dev/null
bench/kubectl_drain_vs_operator.sh build/release/operator/nonevent
