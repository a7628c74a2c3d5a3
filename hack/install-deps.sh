#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on a fresh Debian bookworm
# machine (run as root). Idempotent: packages already present are not fetched again.
set -euo pipefail

cd "$(dirname "$0")/.."
packages=(
  $(grep -v '^#' operator/build-packages.txt)   # the compile (shared with the image's build stage)
  ccache git
  libgtest-dev libgmock-dev googletest
  python3-kubernetes curl ca-certificates
  prometheus tzdata
  clang libclang-rt-14-dev   # the libFuzzer targets (hack/fuzz.sh)
  buildah mmdebstrap         # the operator image, built with no daemon or registry (hack/build-image.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi
