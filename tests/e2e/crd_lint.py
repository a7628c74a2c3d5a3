#!/usr/bin/env python3
"""Checks the CRDs in crds/ the way kube-apiserver would before serving them: a structural
schema (every node typed, or int-or-string, or preserve-unknown-fields), defaults only where
allowed, CEL rules present for the cross-field constraints, and the names the design asks for.

usage: crd_lint.py CRD_DIR"""
import json
import sys
from pathlib import Path

problems = []


def walk(schema, path):
    if not isinstance(schema, dict):
        problems.append(f"{path}: schema is not an object")
        return
    typed = "type" in schema or schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-preserve-unknown-fields")
    if not typed:
        problems.append(f"{path}: no type (a structural schema types every node)")
    if "properties" in schema and "additionalProperties" in schema:
        problems.append(f"{path}: properties and additionalProperties together")
    for k, sub in schema.get("properties", {}).items():
        walk(sub, f"{path}.{k}")
    if isinstance(schema.get("additionalProperties"), dict):
        walk(schema["additionalProperties"], f"{path}.*")
    if "items" in schema:
        walk(schema["items"], f"{path}[]")
    for rule in schema.get("x-kubernetes-validations", []):
        if "rule" not in rule or "message" not in rule:
            problems.append(f"{path}: a validation without rule and message")


def main():
    expected = {"maintenancewindows": ("mw", "MaintenanceWindow"), "patchcampaigns": ("pcamp", "PatchCampaign")}
    for f in sorted(Path(sys.argv[1]).glob("*.yaml")):
        crd = json.loads("".join(l for l in f.read_text().splitlines(True) if not l.startswith("#")))
        spec = crd["spec"]
        plural = spec["names"]["plural"]
        short, kind = expected.pop(plural)
        if spec["names"]["shortNames"] != [short] or spec["names"]["kind"] != kind:
            problems.append(f"{f.name}: names")
        if "nonevent" not in spec["names"].get("categories", []):
            problems.append(f"{f.name}: not in category nonevent")
        if spec["scope"] != "Cluster":
            problems.append(f"{f.name}: must be cluster-scoped")
        for v in spec["versions"]:
            if "status" not in v.get("subresources", {}):
                problems.append(f"{f.name}: no status subresource")
            if not v.get("additionalPrinterColumns"):
                problems.append(f"{f.name}: no printer columns")
            schema = v["schema"]["openAPIV3Schema"]
            walk(schema, f"{f.name}:{v['name']}")
            if not schema["properties"]["spec"].get("x-kubernetes-validations"):
                problems.append(f"{f.name}: spec has no CEL validations")
    if expected:
        problems.append(f"missing CRDs: {sorted(expected)}")
    for p in problems:
        print("problem:", p)
    print(f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
