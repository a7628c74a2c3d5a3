#!/usr/bin/env python3
"""Writes third_party/kubernetes-openapi/definitions-1.32.json: the `definitions` of the
Kubernetes 1.32 OpenAPI v2 document with descriptions stripped (253 KB instead of 3.3 MB).
The embedded cluster reads it for the structure of built-in kinds (list types and keys for
strategic merge and server-side apply, patch merge keys) and serves it at /openapi/v2.

usage: hack/gen-openapi-definitions.py [SWAGGER_JSON]
  (default ../shared/reference/kubernetes-1.32-openapi-v2.json, the upstream
   api/openapi-spec/swagger.json of release-1.32, Apache-2.0)"""
import json
import os
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference",
                                                          "kubernetes-1.32-openapi-v2.json")
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in sorted(x.items()) if k != "description"}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


doc = json.load(open(src))
out = {"swagger": doc.get("swagger", "2.0"), "info": doc.get("info", {}), "definitions": strip(doc["definitions"])}
path = os.path.join(root, "third_party", "kubernetes-openapi", "definitions-1.32.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"{path}: {len(out['definitions'])} definitions, {os.path.getsize(path)} bytes")
