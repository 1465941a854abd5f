#!/usr/bin/env python3
"""Peak RSS of `poolwatch replay` with slo rules over a 3-day log, against the same replay
without them: the slo rules' windows must stay bounded (per-minute buckets for the long
windows, not per request) whatever the traffic and the number of pools and releases.

The log: 3 days at --rate requests/s of log time (default 5: 1.3M lines), spread evenly over
20 pools x 20 releases (each pool its own upstream address), 0.05 % of requests a 5xx, one
10-minute outage on day two, request times of 5-400 ms. Deterministic for a --seed.

Usage: bench/slo_rss.py --poolwatch build/app/poolwatch [--rate 5] [--days 3] [--dir DIR]
"""
import argparse
import datetime
import os
import random
import re
import subprocess
import tempfile

START = datetime.datetime(2026, 11, 26, 7, 0, 0)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# No failover rule: with traffic round-robin over 20 pools the serving pool changes every line.
WITHOUT = """alerting:
  active_pool: p00
  rules:
    - {name: error_rate, kind: error_rate}
"""
WITH_SLO = WITHOUT + """    - {name: availability_slo, kind: slo, objective: 99.9}
    - {name: upstream_slo, kind: slo, objective: 99.9, scope: upstream}
    - {name: latency_slo, kind: slo, objective: 99, threshold: 300ms, period: 30d}
    - {name: p07_slo, kind: slo, objective: 99.5, pool: p07}
"""


def write_log(path, rate, days, seed):
    rng = random.Random(seed)
    seconds = days * 86400
    outage = (int(1.4 * 86400), int(1.4 * 86400) + 600)
    n = 0
    with open(path, "w") as out:
        for s in range(seconds):
            t = START + datetime.timedelta(seconds=s)
            stamp = f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"
            for _ in range(rate):
                pool = n % 20
                release = (n // 20) % 20
                n += 1
                bad = outage[0] <= s < outage[1] or rng.random() < 0.0005
                status = 503 if bad else 200
                took = 0.005 + rng.random() * 0.395
                out.write(
                    f'10.1.0.{n % 250} - - [{stamp}] "GET /api/v1/items HTTP/1.1" {status} 51 "-" '
                    f'"curl/7.88.1" pool=p{pool:02d} release=v1.{release}.0 '
                    f"upstream_status={status} upstream_addr=10.0.{pool}.1:8080 "
                    f"request_time={took:.3f} upstream_response_time={took - 0.001:.3f}\n")
    return n


def peak_rss_kib(argv):
    proc = subprocess.run(["/usr/bin/time", "-v"] + argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr)
    firing = sum(1 for line in proc.stdout.splitlines() if '"status":"firing"' in line)
    return int(rss.group(1)), wall.group(1), firing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--poolwatch", required=True)
    parser.add_argument("--rate", type=int, default=5)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    work = args.dir or tempfile.mkdtemp(prefix="poolwatch-slo-rss-")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "access.log")
    lines = write_log(log, args.rate, args.days, args.seed)
    print(f"{lines} lines, {os.path.getsize(log) / 2**20:.0f} MiB, {args.days} days at "
          f"{args.rate}/s, 20 pools x 20 releases")
    for name, config in (("without slo rules", WITHOUT), ("with 4 slo rules", WITH_SLO)):
        path = os.path.join(work, name.replace(" ", "_") + ".yml")
        with open(path, "w") as f:
            f.write(config)
        rss, wall, firing = peak_rss_kib([args.poolwatch, "replay", "--config", path, log])
        print(f"{name}: peak RSS {rss / 1024:.1f} MiB, wall {wall}, {firing} firing messages")


if __name__ == "__main__":
    main()
