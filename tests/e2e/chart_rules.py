#!/usr/bin/env python3
"""Reads `helm template` output on stdin and writes the PrometheusRule's spec (its rule
groups) as a plain Prometheus rule file to argv[1], for promtool and a real Prometheus."""
import json
import sys

import yaml

docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d.get("kind") == "PrometheusRule"]
if len(docs) != 1:
    sys.exit(f"expected one PrometheusRule in the rendered chart, found {len(docs)}")
with open(sys.argv[1], "w") as f:
    yaml.safe_dump({"groups": docs[0]["spec"]["groups"]}, f, sort_keys=False, width=1000)
print(json.dumps([r["alert"] for g in docs[0]["spec"]["groups"] for r in g["rules"]]))
