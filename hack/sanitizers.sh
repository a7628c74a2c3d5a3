#!/usr/bin/env bash
# The suite under the sanitizers (issue 28.3), as .ci/run runs it after the README's test command:
#  - AddressSanitizer + UndefinedBehaviorSanitizer (the `asan-ubsan` preset): every unit and
#    integration test and every fuzz corpus replay. The e2e scripts (kubectl, helm, Python
#    against the built binary) are left to the ordinary build: under ASan they measure the
#    sanitizer's slowness against their real-time waits, not the code.
#  - ThreadSanitizer (the `tsan` preset): the kube client, work queue and leader election
#    (unit_kube), and the manager in-process against the embedded cluster, started, stopped and
#    killed at random instants (the Manager tests and one of each kill test).
# A sanitizer report fails the test that made it; any failure fails the script.
#
# usage: hack/sanitizers.sh [asan|tsan]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
which=("$@")
[ ${#which[@]} -eq 0 ] && which=(asan tsan)
for w in "${which[@]}"; do
  start=$(date +%s)
  case "$w" in
    asan)
      cmake --preset asan-ubsan -DNONEVENT_BUILD_TESTS=ON -DNONEVENT_BUILD_BENCH=OFF >/dev/null
      cmake --build --preset asan-ubsan
      ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --preset asan-ubsan -j2 --timeout 600 -E '^(e2e|soak)\.'
      ;;
    tsan)
      cmake --preset tsan -DNONEVENT_BUILD_TESTS=ON >/dev/null
      cmake --build --preset tsan
      export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
      build/tsan/tests/unit_kube --gtest_brief=1
      build/tsan/tests/integration_controllers --gtest_brief=1 \
        --gtest_filter='Manager.*:MaintenanceWindow.OperatorKilledMidDrainFinishesFromTheCluster:PatchCampaign.*Killed*:Seeds/CoexistenceKills.*/1:Seeds/RolloutMoveKills.*/1'
      ;;
    *) echo "hack/sanitizers.sh: unknown sanitizer run \"$w\" (asan or tsan)" >&2; exit 2 ;;
  esac
  echo "sanitizers: $w done in $(( $(date +%s) - start )) s"
done
