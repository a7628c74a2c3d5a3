#!/usr/bin/env python3
"""Copies the Kubernetes 1.32 OpenAPI definitions the embedded cluster serves (and everything
they reference) into tests/fixtures, with descriptions stripped, so the conformance test runs on
a fresh clone without ../shared/reference. Run again if the served kinds change."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT.parent / "shared" / "reference" / "kubernetes-1.32-openapi-v2.json"
DST = ROOT / "tests" / "fixtures" / "openapi-1.32-subset.json"
KINDS = {
    "io.k8s.api.core.v1.Node", "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.Event", "io.k8s.api.core.v1.ConfigMap", "io.k8s.api.core.v1.Service",
    "io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.ReplicaSet", "io.k8s.api.apps.v1.StatefulSet",
    "io.k8s.api.apps.v1.DaemonSet", "io.k8s.api.batch.v1.Job", "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.coordination.v1.Lease",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
}


def strip(x, property_map=False):
    """Drops documentation, but never a property that happens to be called "description"."""
    if isinstance(x, dict):
        return {k: strip(v, k == "properties" and not property_map)
                for k, v in x.items() if property_map or k != "description"}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def refs(x, out):
    if isinstance(x, dict):
        r = x.get("$ref")
        if isinstance(r, str):
            out.add(r.split("/")[-1])
        for v in x.values():
            refs(v, out)
    elif isinstance(x, list):
        for v in x:
            refs(v, out)


def main():
    if not SRC.exists():
        sys.exit(f"{SRC} not found")
    defs = json.loads(SRC.read_text())["definitions"]
    keep, todo = set(), list(KINDS)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        found = set()
        refs(defs[name], found)
        todo.extend(found - keep)
    DST.write_text(json.dumps({"definitions": {k: strip(defs[k]) for k in sorted(keep)}}, indent=None, separators=(",", ":")))
    print(f"wrote {DST} with {len(keep)} definitions")


if __name__ == "__main__":
    main()
