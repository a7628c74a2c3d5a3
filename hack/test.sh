#!/usr/bin/env bash
# The README's test command: installs what is missing, configures, builds (-j2) and runs
# every test with ctest, ending with ctest's summary. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

hack/install-deps.sh
hack/install-tools.sh

preset="${NONEVENT_TEST_PRESET:-dev}"
cmake --preset "$preset" -DNONEVENT_BUILD_TESTS=ON -DNONEVENT_BUILD_BENCH=ON
cmake --build --preset "$preset"
ctest --preset "$preset" -j2 --timeout 300
