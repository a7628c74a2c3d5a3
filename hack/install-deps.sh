#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on a fresh Debian bookworm
# machine (run as root). Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.74-dev libboost-system1.74-dev libssl-dev
  libcpprest-dev libyaml-cpp-dev prometheus-cpp-dev libsimdjson-dev
  libgoogle-perftools-dev libcli11-dev libspdlog-dev
  protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev googletest
  python3-kubernetes curl ca-certificates
  prometheus tzdata
  clang libclang-rt-14-dev   # the libFuzzer targets (hack/fuzz.sh)
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
