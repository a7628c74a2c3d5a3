#!/usr/bin/env python3
"""Checks that objects the embedded API server returns for built-in kinds have the shape of the
Kubernetes 1.32 OpenAPI document (tests/fixtures/openapi-1.32-subset.json): every required field
present, every field known to the schema, every value of the declared type.

usage: openapi_conformance.py KUBECONFIG"""
import json
import sys
import urllib.request
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "openapi-1.32-subset.json"
DEFS = json.loads(FIXTURE.read_text())["definitions"]

# (list path, definition of the items)
COLLECTIONS = [
    ("/api/v1/nodes", "io.k8s.api.core.v1.Node"),
    ("/api/v1/namespaces", "io.k8s.api.core.v1.Namespace"),
    ("/api/v1/pods", "io.k8s.api.core.v1.Pod"),
    ("/api/v1/events", "io.k8s.api.core.v1.Event"),
    ("/apis/apps/v1/deployments", "io.k8s.api.apps.v1.Deployment"),
    ("/apis/apps/v1/replicasets", "io.k8s.api.apps.v1.ReplicaSet"),
    ("/apis/apps/v1/statefulsets", "io.k8s.api.apps.v1.StatefulSet"),
    ("/apis/apps/v1/daemonsets", "io.k8s.api.apps.v1.DaemonSet"),
    ("/apis/policy/v1/poddisruptionbudgets", "io.k8s.api.policy.v1.PodDisruptionBudget"),
    ("/apis/coordination.k8s.io/v1/leases", "io.k8s.api.coordination.v1.Lease"),
    ("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
     "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"),
]


def check(value, schema, path, errors):
    if "$ref" in schema and isinstance(schema["$ref"], str):
        name = schema["$ref"].split("/")[-1]
        return check(value, DEFS[name], path, errors)
    fmt = schema.get("format")
    if fmt == "int-or-string":
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            errors.append(f"{path}: want int or string, got {value!r}")
        return
    t = schema.get("type")
    if t is None and "properties" not in schema:
        return  # RawExtension, JSON, JSONSchemaProps parts: anything goes
    if t == "object" or "properties" in schema:
        if not isinstance(value, dict):
            errors.append(f"{path}: want object, got {type(value).__name__}")
            return
        props = schema.get("properties")
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}.{req}: required field missing")
        for k, v in value.items():
            if props is not None:
                if k not in props:
                    errors.append(f"{path}.{k}: field not in the 1.32 schema")
                    continue
                # An optional metav1.Time Go left zero is null on a real server too
                # (PodScheduled's lastProbeTime, a template's creationTimestamp).
                if v is None and k not in schema.get("required", []) and \
                        props[k].get("$ref", "").endswith("io.k8s.apimachinery.pkg.apis.meta.v1.Time"):
                    continue
                check(v, props[k], f"{path}.{k}", errors)
            elif isinstance(schema.get("additionalProperties"), dict):
                check(v, schema["additionalProperties"], f"{path}.{k}", errors)
    elif t == "array":
        if not isinstance(value, list):
            errors.append(f"{path}: want array, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, schema.get("items", {}), f"{path}[{i}]", errors)
    elif t == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: want string, got {value!r}")
    elif t == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: want integer, got {value!r}")
    elif t == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.append(f"{path}: want number, got {value!r}")
    elif t == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: want boolean, got {value!r}")


def server_from(kubeconfig):
    for line in Path(kubeconfig).read_text().splitlines():
        line = line.strip()
        if line.startswith("server:"):
            return line.split(":", 1)[1].strip()
    sys.exit("no server in kubeconfig")


def main():
    server = server_from(sys.argv[1])
    checked, errors = 0, []
    for path, definition in COLLECTIONS:
        with urllib.request.urlopen(server + path) as r:
            items = json.load(r)["items"]
        for obj in items:
            name = obj.get("metadata", {}).get("name", "?")
            check(obj, DEFS[definition], f"{definition.split('.')[-1]}/{name}", errors)
            checked += 1
    for e in errors[:50]:
        print("not conformant:", e)
    print(f"checked {checked} objects against the 1.32 schemas: {len(errors)} problems")
    sys.exit(1 if errors or checked == 0 else 0)


if __name__ == "__main__":
    main()
