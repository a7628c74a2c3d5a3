# Sourced by scripts that start background processes (hack/demo.sh, bench scripts): a scratch
# directory ($work) and the processes to stop however the script ends (append PIDs to $pids).
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
