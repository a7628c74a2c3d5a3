#!/usr/bin/env bash
# Builds the operator image from operator/Dockerfile with buildah, as root, with no daemon and
# no registry: the bases are made by mmdebstrap from Debian's packages and committed locally,
# and buildah never pulls (--pull=never). Writes build/image/nonevent.oci.tar, an OCI archive
# that `kind load image-archive`, `skopeo copy oci-archive:...` and `podman load` accept, and
# prints the image's size.
#
#   hack/build-image.sh                      compile inside (the Dockerfile's build stage, on a
#                                            bookworm build base made by mmdebstrap; minutes)
#   hack/build-image.sh --binary PATH        package an already-built binary (stripped) instead
#   options: --tag REF (default ghcr.io/nonevent/nonevent:<chart appVersion>)
#            --storage DIR (buildah's image store; default build/image/storage)
#
# The runtime base is a root filesystem of exactly operator/runtime-packages.txt and their
# dependencies, extracted (no shell, no package manager, no maintainer scripts), with the CA
# bundle update-ca-certificates would write and a passwd entry for user 65532. Bases are cached
# under build/image/ by the package list's hash.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

binary=""
version=$(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' charts/nonevent/Chart.yaml)
tag="ghcr.io/nonevent/nonevent:$version"
storage="$root/build/image/storage"
while (($#)); do
  case "$1" in
    --binary) binary=$(realpath "$2"); shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --storage) storage=$(realpath -m "$2"); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument \"$1\" (--binary PATH, --tag REF, --storage DIR)" >&2; exit 2 ;;
  esac
done
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (hack/install-deps.sh installs it)" >&2; exit 1; }
done
[ -z "$binary" ] || [ -x "$binary" ] || { echo "build-image: --binary $binary is not an executable" >&2; exit 1; }

out="$root/build/image"
mkdir -p "$out" "$storage"
buildah=(buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
packages() { grep -v '^#' "$1" | paste -sd, -; }

# A local base image named $1 from an mmdebstrap root filesystem (cached by the arguments' hash).
base_image() {
  local name="$1"
  shift
  local key
  key=$(echo "$*" | sha256sum | cut -c1-12)
  if "${buildah[@]}" inspect --type image "$name:$key" >/dev/null 2>&1; then
    echo "$name:$key"
    return
  fi
  echo "build-image: making $name with mmdebstrap from Debian's packages" >&2
  local tar="$out/$name-$key.tar" ctr
  mmdebstrap --quiet "$@" bookworm "$tar" >&2
  ctr=$("${buildah[@]}" from --pull=never scratch)
  "${buildah[@]}" add --quiet "$ctr" "$tar" / >/dev/null
  "${buildah[@]}" commit --quiet "$ctr" "$name:$key" >/dev/null
  "${buildah[@]}" rm "$ctr" >/dev/null
  rm -f "$tar"
  echo "$name:$key"
}

no_docs=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*'
         --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*'
         --dpkgopt='path-exclude=/usr/share/lintian/*')
# The extract variant runs no maintainer scripts and no customize hooks: its extract hooks do
# what the image needs of them (ca-certificates' bundle, a passwd for 65532, /tmp).
runtime_base=$(base_image nonevent-runtime-base --variant=extract \
  --include="$(packages operator/runtime-packages.txt)" "${no_docs[@]}" \
  --extract-hook='mkdir -p "$1/etc/ssl/certs" "$1/tmp" && chmod 1777 "$1/tmp"' \
  --extract-hook='cat "$1"/usr/share/ca-certificates/*/*.crt > "$1/etc/ssl/certs/ca-certificates.crt"' \
  --extract-hook='printf "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" > "$1/etc/passwd"' \
  --extract-hook='printf "root:x:0:\nnonroot:x:65532:\n" > "$1/etc/group"' \
  --extract-hook='rm -rf "$1/var/cache/apt" "$1/var/lib/apt" "$1/usr/share/perl5" "$1/usr/bin/debconf"*')

args=(--build-arg "RUNTIME_BASE=$runtime_base" --build-arg "VERSION=$version" --build-arg "REVISION=$revision")
if [ -n "$binary" ]; then
  strip -o "$out/nonevent" "$binary"
  args+=(--build-arg BINARY=prebuilt)
else
  build_base=$(base_image nonevent-build-base --variant=minbase \
    --include="$(packages operator/build-packages.txt)" "${no_docs[@]}")
  args+=(--build-arg BINARY=compiled --build-arg "BUILD_BASE=$build_base")
fi

echo "build-image: building $tag (runtime base $runtime_base${binary:+, binary $binary})"
"${buildah[@]}" bud --pull=never --isolation chroot --layers=false --format oci \
  -f operator/Dockerfile -t "$tag" "${args[@]}" . >&2
rm -f "$out/nonevent.oci.tar"
"${buildah[@]}" push --quiet "$tag" "oci-archive:$out/nonevent.oci.tar:$tag" >/dev/null
"${buildah[@]}" rmi --prune >/dev/null 2>&1 || true   # the binary stage's untagged image
size=$("${buildah[@]}" images --format '{{.Size}}' "$tag")
echo "build-image: $tag in $out/nonevent.oci.tar ($(du -h "$out/nonevent.oci.tar" | cut -f1) archive, $size unpacked)"
