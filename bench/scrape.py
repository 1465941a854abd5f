#!/usr/bin/env python3
"""/metrics at the cardinality caps, on loopback only: how long a scrape takes, plain and gzip'd.

poolwatch follows a log that fills every cap of the default configuration: 20 pools x 20
releases x 25 statuses (10,000 request counters and 400 request histograms), 64 upstreams x 25
statuses (1,600 attempt counters) and the 20 pools' upstream histograms: about 17,600 samples.
Then --scrapes scrapes, alternating "Accept-Encoding: gzip" and none (so both see the same
load), each timed from connect to the last byte, on a new connection as Prometheus's are.
Prints one JSON object per binary: samples, bytes, p50/p90/p99/max in ms per mode, and
poolwatch's CPU time per scrape (from /proc, the steadier figure on a busy machine) and its
peak RSS.

Usage: bench/scrape.py [--poolwatch BIN] [--before BIN] [--scrapes 400]
"""
import argparse
import gzip
import http.client
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import (REPO, Procs, cpu_seconds, line, peak_rss_kib, percentile,  # noqa: E402
                  start_poolwatch, wait_until)

POOLS, RELEASES, STATUSES, UPSTREAMS = 20, 20, 25, 64


def fill_log(path):
    """Every (pool, release, status), and every (upstream, status); returns the line count."""
    upstreams = [f"10.0.{u // 16}.{u % 16}:8080" for u in range(UPSTREAMS)]
    pool_of = {u: f"pool-{i % POOLS:02d}" for i, u in enumerate(upstreams)}
    by_pool = {}
    for u, p in pool_of.items():
        by_pool.setdefault(p, []).append(u)
    n = 0
    with open(path, "a") as f:
        for p in range(POOLS):
            pool = f"pool-{p:02d}"
            for r in range(RELEASES):
                for s in range(STATUSES):
                    addr = by_pool[pool][(r + s) % len(by_pool[pool])]
                    f.write(line(pool, f"v1.{r}.0", addr, 200 + s))
                    n += 1
        for u in upstreams:
            for s in range(STATUSES):
                f.write(line(pool_of[u], "v1.0.0", u, 200 + s))
                n += 1
    return n


def scrape(port, gzip_wanted):
    """(milliseconds, body as sent, Content-Encoding) of one GET /metrics."""
    headers = {"Accept-Encoding": "gzip"} if gzip_wanted else {}
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - t0) * 1000
    conn.close()
    if response.status != 200:
        raise SystemExit(f"/metrics answered {response.status}")
    return elapsed, body, response.getheader("Content-Encoding", "identity")


def without_process_lines(text):
    # process_* values (CPU, memory) move between two scrapes; everything else must not.
    return [row for row in text.splitlines() if not row.startswith(("process_", "# HELP process_",
                                                                      "# TYPE process_"))]


def measure(binary, scrapes, workdir, name):
    procs = Procs()
    try:
        log_path = os.path.join(workdir, name + ".log")
        open(log_path, "w").close()
        rules = "    - name: error_rate\n      kind: error_rate\n"
        proc, base = start_poolwatch(procs, binary, workdir, name, log_path, None, rules)
        port = int(base.rsplit(":", 1)[1])
        lines = fill_log(log_path)

        def settled():
            text = scrape(port, False)[1].decode()
            return f'poolwatch_log_lines_total{{result="parsed"}} {lines}\n' in text
        wait_until(settled, 60, f"{lines} lines counted")
        for _ in range(5):  # warm-up: buffers grown, pages touched
            scrape(port, False)
            scrape(port, True)

        plain_body = scrape(port, False)[1]
        zipped = scrape(port, True)
        samples = sum(1 for row in plain_body.decode().splitlines() if row and row[0] != "#")
        same = None
        if zipped[2] == "gzip":
            same = without_process_lines(gzip.decompress(zipped[1]).decode()) == \
                without_process_lines(plain_body.decode())

        times = {"identity": [], "gzip": []}
        encodings = set()
        cpu_before = cpu_seconds(proc.pid)
        for i in range(scrapes):
            ms, _, encoding = scrape(port, i % 2 == 1)
            times["gzip" if i % 2 == 1 else "identity"].append(ms)
            if i % 2 == 1:
                encodings.add(encoding)
        cpu_per_scrape_ms = (cpu_seconds(proc.pid) - cpu_before) * 1000 / scrapes
        result = {"binary": name, "samples": samples, "bytes_identity": len(plain_body),
                  "bytes_gzip": len(zipped[1]) if zipped[2] == "gzip" else None,
                  "gzip_served": sorted(encodings), "same_exposition_after_gunzip": same,
                  "cpu_ms_per_scrape_both_modes": round(cpu_per_scrape_ms, 2),
                  "peak_rss_mib": round(peak_rss_kib(proc.pid) / 1024, 1)}
        for mode, values in times.items():
            result[mode] = {"scrapes": len(values),
                            "p50_ms": round(percentile(values, 50), 2),
                            "p90_ms": round(percentile(values, 90), 2),
                            "p99_ms": round(percentile(values, 99), 2),
                            "max_ms": round(max(values), 2)}
        return result
    finally:
        procs.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poolwatch", default=os.path.join(REPO, "build-bench", "app", "poolwatch"))
    ap.add_argument("--before", help="a second poolwatch binary, measured first as 'before'")
    ap.add_argument("--scrapes", type=int, default=400, help="half plain, half gzip")
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(json.dumps({"cores": os.cpu_count(), "load": f.read().split()[:3]}), flush=True)
    workdir = tempfile.mkdtemp(prefix="poolwatch-scrape-")
    try:
        runs = ([("before", args.before)] if args.before else []) + [("after", args.poolwatch)]
        for name, binary in runs:
            print(json.dumps(measure(binary, args.scrapes, workdir, name)), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
