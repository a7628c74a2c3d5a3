# Shared by the e2e shell tests: counted checks with the failing output shown.
pass=0
fail=0
check() {  # check "what" command... ; passes when the command succeeds
  local what="$1" out
  shift
  if out=$("$@" 2>&1); then
    pass=$((pass + 1))
    echo "ok   $what"
  else
    fail=$((fail + 1))
    echo "FAIL $what"
    echo "$out" | sed 's/^/     /' | head -20
  fi
}
contains() {  # contains "needle" command... ; the command succeeds and prints needle
  local needle="$1" out
  shift
  out=$("$@" 2>&1) || { echo "$out"; return 1; }
  grep -q -- "$needle" <<<"$out" || { echo "expected \"$needle\" in:"; echo "$out"; return 1; }
}
summary() {  # the closing line ctest's log and CI read; non-zero on any failure
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
free_port() {  # a TCP port on loopback free at the moment of asking
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
start_sim() {  # start_sim NAME extra-args... : `nonevent sim serve` on examples/cluster.yaml, its
  # kubeconfig in $work/NAME.kubeconfig; needs $bin, $src, $work and a `pids` array the
  # caller's cleanup kills. Exits the script, showing the log, if it does not come up.
  local name="$1"
  shift
  "$bin" sim serve --cluster "$src/examples/cluster.yaml" --kubeconfig-out "$work/$name.kubeconfig" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q "listening on" "$work/$name.log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "sim did not start:"
  cat "$work/$name.log"
  exit 1
}
wait_for() {  # wait_for SECONDS command... : until the command succeeds; shows its last output if not
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && { "$@"; return 1; }
    sleep 0.5
  done
}
vnow() {  # vnow MINUTES: the embedded cluster's virtual time MINUTES from now, RFC 3339; needs
  # $epoch and $scale, the --time-epoch and --time-scale the sim was started with
  python3 -c "import time,datetime; e=$epoch; t=e+(time.time()-e)*$scale; print(datetime.datetime.fromtimestamp(t+$1*60, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))"
}
end_test() {  # the EXIT trap of a test that starts processes: kills each in `pids`, waits, and
  # removes its scratch directory `work`
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
fix_spread_trap() {  # the fix `nonevent plan` names for examples/workloads' spread trap (shop's
  # checkout spreads over zones counting cordoned nodes), so a window on a zone can proceed
  "${kubectl:-kubectl}" -n shop patch deploy checkout --type json \
    -p '[{"op":"add","path":"/spec/template/spec/topologySpreadConstraints/0/nodeTaintsPolicy","value":"Honor"}]'
}
demo_window_runs() {  # demo_window_runs NAME: the demo's window on us-east-1a (15 to 30 virtual
  # minutes from now; needs $kubectl, $work, $epoch, $scale and an operator running), checked
  # through evacuation, hold, restore and completion
  local name="$1" phase="{.status.phase}"
  cat >"$work/window.yaml" <<YAML
apiVersion: nonevent.dev/v1alpha1
kind: MaintenanceWindow
metadata: {name: $name}
spec: {zones: [us-east-1a], start: "$(vnow 15)", end: "$(vnow 30)", evacuateBefore: 10m, drain: {evictUnmanagedPods: true}}
YAML
  check "kubectl apply the window" "$kubectl" apply -f "$work/window.yaml"
  check "the window evacuates its zone (InProgress)" wait_for 90 bash -c "[ \"\$('$kubectl' get mw $name -o jsonpath='$phase')\" = InProgress ]"
  check "no pod of shop runs in us-east-1a while it is held" bash -c \
    "'$kubectl' get pods -n shop -o wide --no-headers | awk '{print \$7}' | grep -c us-east-1a | grep -qx 0"
  check "the window completes and restores the zone" wait_for 120 bash -c "[ \"\$('$kubectl' get mw $name -o jsonpath='$phase')\" = Completed ]"
  check "no node left cordoned" bash -c "! '$kubectl' get nodes --no-headers | grep -q SchedulingDisabled"
}
