#!/usr/bin/env python3
"""Checks that the benchmark's programs counted the same thing before their times are compared.

Each argument is NAME=FILE, FILE holding Prometheus text (poolwatch's --metrics-out, mtail's
one-shot output, seed_watcher.py's --metrics-out). Compared: requests per pool and status (summed
over releases), upstream attempts per pool, address and status, and the number of observations
of both histograms per pool. Exits 1 and prints the differences when any program disagrees with
the first one.
"""
import collections
import re
import sys

SAMPLE = re.compile(r'^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def load(path):
    totals = collections.Counter()
    for line in open(path, encoding="utf-8"):
        m = SAMPLE.match(line.strip())
        if not m:
            continue
        name, value = m["name"], float(m["value"])
        labels = dict(LABEL.findall(m["labels"] or ""))
        if name == "poolwatch_http_requests_total":
            totals[("requests", labels["pool"], labels["status"])] += value
        elif name == "poolwatch_upstream_attempts_total":
            totals[("attempts", labels["pool"], labels["upstream"], labels["status"])] += value
        elif name == "poolwatch_http_request_duration_seconds_count":
            totals[("request_durations", labels["pool"])] += value
        elif name == "poolwatch_upstream_response_duration_seconds_count":
            totals[("upstream_durations", labels["pool"])] += value
    return {k: v for k, v in totals.items() if v}


def main():
    named = [arg.split("=", 1) for arg in sys.argv[1:]]
    if len(named) < 2:
        sys.exit("usage: check_totals.py NAME=FILE NAME=FILE...")
    (ref_name, ref_path), others = named[0], named[1:]
    ref = load(ref_path)
    if not ref:
        sys.exit(f"{ref_name}: no samples in {ref_path}")
    ok = True
    for name, path in others:
        got = load(path)
        diff = sorted(k for k in ref.keys() | got.keys() if ref.get(k, 0) != got.get(k, 0))
        if diff:
            ok = False
            print(f"{name} disagrees with {ref_name} on {len(diff)} series:")
            for k in diff[:20]:
                print(f"  {k}: {ref_name}={ref.get(k, 0):g} {name}={got.get(k, 0):g}")
    requests = sum(v for k, v in ref.items() if k[0] == "requests")
    attempts = sum(v for k, v in ref.items() if k[0] == "attempts")
    if ok:
        print(f"totals agree ({', '.join(n for n, _ in named)}): {requests:g} requests, "
              f"{attempts:g} attempts in {len(ref)} series")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
