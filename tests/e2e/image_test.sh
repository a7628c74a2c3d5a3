#!/usr/bin/env bash
# The operator image (issue 29.1), built here with buildah and no registry by
# hack/build-image.sh from this build's binary, then: its configuration (user, entrypoint,
# labels carrying the chart's appVersion), the OCI archive's index, `nonevent version` run
# inside it as user 65532, no shell in it, and the image's operator (run in the image's root
# filesystem by buildah, sharing the host's loopback network) completing the demo's window
# against `sim serve --tls`.
#
# usage: image_test.sh NONEVENT_BINARY SOURCE_DIR
set -uo pipefail
bin=$(realpath "$1")
src="$2"
source "$src/tests/e2e/lib.sh"
work=$(mktemp -d)
pids=()
ctr=""
storage="$src/build/image/storage"
buildah=(buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs)
cleanup() {
  # buildah run's child outlives a killed buildah; the operator is found by its arguments.
  pkill -f "nonevent operator --kubeconfig /config/kubeconfig" 2>/dev/null
  end_test
  [ -n "$ctr" ] && "${buildah[@]}" rm "$ctr" >/dev/null 2>&1
}
trap cleanup EXIT
kubectl="$src/.tools/kubectl-1.35/kubectl"
[ -x "$kubectl" ] || kubectl=kubectl
command -v buildah >/dev/null && command -v mmdebstrap >/dev/null ||
  { echo "FAIL buildah and mmdebstrap are needed (hack/install-deps.sh installs them)"; exit 1; }

version=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$src/charts/nonevent/Chart.yaml")
tag="ghcr.io/nonevent/nonevent:$version"
if ! (cd "$src" && hack/build-image.sh --binary "$bin") >"$work/build.log" 2>&1; then
  echo "FAIL hack/build-image.sh --binary $bin"
  tail -30 "$work/build.log"
  exit 1
fi
tail -1 "$work/build.log"
inspect() { "${buildah[@]}" inspect --type image --format "$1" "$tag"; }
names_source_and_revision() {
  local labels
  labels=$(inspect '{{.OCIv1.Config.Labels}}') || return 1
  echo "$labels"
  grep -q 'org.opencontainers.image.source:https://' <<<"$labels" &&
    grep -qE 'org.opencontainers.image.revision:[0-9a-f]{40}' <<<"$labels"
}
archive_names_tag() {
  tar -xOf "$src/build/image/nonevent.oci.tar" index.json | python3 -c '
import json, sys
m = json.load(sys.stdin)["manifests"]
assert any(x.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[1] for x in m), m' "$tag"
}
check "the image runs as user 65532" contains "65532:65532" inspect '{{.OCIv1.Config.User}}'
check "its entrypoint is the binary" contains "/usr/local/bin/nonevent" inspect '{{.OCIv1.Config.Entrypoint}}'
check "its default command runs the operator with leader election" contains "operator --leader-elect" inspect '{{.OCIv1.Config.Cmd}}'
version_label_is_the_charts() { [ "$(inspect '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}')" = "$version" ]; }
check "its version label is the chart's appVersion ($version)" version_label_is_the_charts
check "it names its source and revision" names_source_and_revision
check "the OCI archive holds an index naming the tag" archive_names_tag

ctr=$("${buildah[@]}" from --pull=never "$tag")
run() { "${buildah[@]}" run --isolation chroot "$@"; }
in_rootfs() {  # in_rootfs command...: runs the command with $mnt, the container's root filesystem
  local rc
  mnt=$("${buildah[@]}" mount "$ctr") || return 1
  "$@"
  rc=$?
  "${buildah[@]}" umount "$ctr" >/dev/null
  return $rc
}
has_ca_bundle_and_zones() { [ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] && [ -f "$mnt/usr/share/zoneinfo/Europe/Berlin" ]; }
# Small: the binary and its libraries. The runtime packages' root filesystem was 35 MB when
# this was written; 40 MB besides the binary is the ceiling.
is_small() {
  local size bin
  size=$(du -sb "$mnt" | cut -f1)
  bin=$(stat -c %s "$mnt/usr/local/bin/nonevent")
  echo "root filesystem $size bytes, of which the binary $bin"
  [ $((size - bin)) -lt 40000000 ]
}
check "nonevent version runs inside the image (every shared library found)" contains "nonevent $version" run "$ctr" -- /usr/local/bin/nonevent version
check "a container of it runs as 65532" contains "65532:65532" "${buildah[@]}" inspect --type container --format '{{.OCIv1.Config.User}}' "$ctr"
has_no_shell() { ! run "$ctr" -- /bin/sh -c true; }
check "the image has no shell" has_no_shell
check "it carries the CA bundle and time zones" in_rootfs has_ca_bundle_and_zones
check "the image is small (the binary and under 40 MB)" in_rootfs is_small

# The demo's window, with the image's operator: the embedded cluster over TLS on the host.
scale=60
epoch=$(date +%s)
"$bin" sim serve --tls --cluster "$src/examples/cluster.yaml" --manifests "$src/examples/workloads" --time-scale $scale \
  --time-epoch "$epoch" --kubeconfig-out "$work/kubeconfig" >"$work/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$work/sim.log" && break; sleep 0.05; done
chmod 0755 "$work" && chmod 0644 "$work/kubeconfig"   # readable by the image's user 65532
export KUBECONFIG="$work/kubeconfig"
k() { "$kubectl" "$@"; }
k apply -f "$src/crds/" >/dev/null
k wait --for=condition=Established crd/maintenancewindows.nonevent.dev --timeout=20s >/dev/null
wait_for 60 "$kubectl" wait --for=condition=Available deploy --all -n shop --timeout=5s
fix_spread_trap >/dev/null
run --network host --volume "$work:/config:ro" "$ctr" -- /usr/local/bin/nonevent operator \
  --kubeconfig /config/kubeconfig --metrics-bind-address 127.0.0.1:0 --time-scale $scale --time-epoch "$epoch" \
  >"$work/operator.log" 2>&1 &
pids+=($!)
demo_window_runs image-demo
check "the operator in the image logged its leader and the window's phases" bash -c \
  "grep -q 'image-demo' '$work/operator.log' && grep -qi 'completed' '$work/operator.log'"
[ "$fail" -eq 0 ] || { echo "--- operator log (tail)"; tail -20 "$work/operator.log"; }
summary
