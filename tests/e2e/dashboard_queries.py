#!/usr/bin/env python3
"""Runs every query of the Grafana dashboard against a live Prometheus.

usage: dashboard_queries.py DASHBOARD.json PROMETHEUS_URL [RATE_INTERVAL]

The dashboard's variables are given what "All" gives them in Grafana ($campaign and $window
match every value; $__rate_interval is RATE_INTERVAL, default 5m). Every panel's every target
must answer without error and with at least one series that has a number (not NaN); every
variable's label_values() must list at least one value. Prints one line per query and exits 1
naming each one that failed.
"""
import json
import math
import re
import sys
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def main():
    dashboard_path, prom = sys.argv[1], sys.argv[2].rstrip("/")
    rate_interval = sys.argv[3] if len(sys.argv) > 3 else "5m"
    dashboard = json.load(open(dashboard_path))
    failures = []
    checked = 0

    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", var["definition"])
        if not m:
            failures.append(f"variable {var['name']}: cannot read {var['definition']!r}")
            continue
        metric, label = m.groups()
        q = urllib.parse.urlencode({"match[]": metric})
        values = get(f"{prom}/api/v1/label/{label}/values?{q}")["data"]
        print(f"variable ${var['name']}: {values}")
        checked += 1
        if not values:
            failures.append(f"variable {var['name']}: label_values({metric}, {label}) lists nothing")

    def panels(ps):
        for p in ps:
            if p.get("type") == "row":
                yield from panels(p.get("panels", []))
            else:
                yield p

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            expr = (target["expr"].replace("$__rate_interval", rate_interval)
                    .replace("$campaign", ".*").replace("$window", ".*"))
            what = f"{panel['title']} [{target['refId']}]"
            checked += 1
            try:
                answer = get(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
            except Exception as e:  # a 400 from Prometheus: the query does not parse
                failures.append(f"{what}: {expr}: {e}")
                continue
            if answer.get("status") != "success":
                failures.append(f"{what}: {expr}: {answer}")
                continue
            result = answer["data"]["result"]
            numbers = [float(s["value"][1]) for s in result if not math.isnan(float(s["value"][1]))]
            print(f"{what}: {len(result)} series, {len(numbers)} with a number")
            if not numbers:
                failures.append(f"{what}: {expr}: no series with a number")

    if checked == 0:
        failures.append("the dashboard has no queries")
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
