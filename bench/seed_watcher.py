#!/usr/bin/env python3
"""A log watcher of the seed's kind, as a benchmark baseline: one regex per line, dicts of
counters, a deque for the error-rate window, print instead of posting to Slack.

Reads whole logs (no follow), keeps the same counters and histograms as poolwatch (pools learned
from the pool header, attempts split from the upstream lists) and the seed's two rules
(failover away from ACTIVE_POOL, error rate over the last WINDOW_SIZE requests). Prints alerts
as they would have been sent, then the counters in Prometheus text format on --metrics-out.

Usage: seed_watcher.py [--metrics-out FILE] LOG...
"""
import argparse
import collections
import re
import sys

LINE = re.compile(
    r'^\S+ - \S+ \[[^\]]+\] "[^"]*" (?P<status>\d{3}) \d+ "[^"]*" "[^"]*" '
    r"pool=(?P<pool>\S+) release=(?P<release>\S+) upstream_status=(?P<ustatus>.+) "
    r"upstream_addr=(?P<uaddr>.+) request_time=(?P<rtime>[0-9.]+) "
    r"upstream_response_time=(?P<utime>.+)$")
SPLIT = re.compile(r", | : ")
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
ACTIVE_POOL, WINDOW_SIZE, THRESHOLD, MIN_REQUESTS = "blue", 200, 2.0, 20


def observe(hist, key, value):
    h = hist.get(key)
    if h is None:
        h = hist[key] = [0] * (len(BUCKETS) + 1) + [0.0]
    i = 0
    while i < len(BUCKETS) and value > BUCKETS[i]:
        i += 1
    h[i] += 1
    h[-1] += value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics-out")
    parser.add_argument("logs", nargs="+")
    args = parser.parse_args()

    requests, attempts = collections.Counter(), collections.Counter()
    req_hist, up_hist = {}, {}
    learned = {}
    lines = collections.Counter()
    window, errors = collections.deque(), 0
    serving, error_alert = None, False

    for path in args.logs:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                m = LINE.match(line.rstrip("\n"))
                if not m:
                    lines["malformed"] += 1
                    continue
                lines["parsed"] += 1
                pool, release, status = m["pool"], m["release"], m["status"]
                addrs = [] if m["uaddr"] == "-" else SPLIT.split(m["uaddr"])
                statuses = SPLIT.split(m["ustatus"])
                times = SPLIT.split(m["utime"])
                if addrs and ":" not in addrs[-1]:
                    pool = "none"  # the group's name: no server was live, nginx answered
                if addrs and pool not in ("-", "none") and statuses[-1] != "-":
                    learned[addrs[-1]] = pool
                if pool == "-":
                    pool = learned.get(addrs[-1], "none") if addrs else "none"
                release = "none" if release == "-" else release
                requests[(pool, release, status)] += 1
                observe(req_hist, (pool, release), float(m["rtime"]))
                for i, addr in enumerate(addrs):
                    s = statuses[i] if i < len(statuses) else "-"
                    if ":" not in addr:
                        apool = "none"
                    elif i == len(addrs) - 1 and s != "-" and pool not in ("-", "none"):
                        apool = pool
                    else:
                        apool = learned.get(addr, "unknown")
                    attempts[(apool, addr, "0" if s == "-" else s)] += 1
                    if i < len(times) and times[i] != "-":
                        observe(up_hist, apool, float(times[i]))

                # The seed's rules.
                if pool not in ("none", "unknown") and pool != serving:
                    if pool != ACTIVE_POOL:
                        print(f"ALERT failover {serving or ACTIVE_POOL} -> {pool}")
                    elif serving is not None:
                        print(f"RESOLVED failover {serving} -> {pool}")
                    serving = pool
                is_error = status[0] == "5"
                if len(window) == WINDOW_SIZE:
                    errors -= window.popleft()
                window.append(is_error)
                errors += is_error
                rate = 100.0 * errors / len(window)
                if len(window) >= MIN_REQUESTS and rate > THRESHOLD and not error_alert:
                    print(f"ALERT error_rate {rate:.2f}%")
                    error_alert = True
                elif error_alert and rate <= THRESHOLD / 2:
                    print(f"RESOLVED error_rate {rate:.2f}%")
                    error_alert = False

    out = open(args.metrics_out, "w") if args.metrics_out else sys.stderr
    for (pool, release, status), n in sorted(requests.items()):
        out.write(f'poolwatch_http_requests_total{{pool="{pool}",release="{release}",status="{status}"}} {n}\n')
    for (pool, addr, status), n in sorted(attempts.items()):
        out.write(f'poolwatch_upstream_attempts_total{{pool="{pool}",status="{status}",upstream="{addr}"}} {n}\n')
    for result, n in sorted(lines.items()):
        out.write(f'poolwatch_log_lines_total{{result="{result}"}} {n}\n')
    for name, hist, labels in (("poolwatch_http_request_duration_seconds", req_hist, ("pool", "release")),
                               ("poolwatch_upstream_response_duration_seconds", up_hist, ("pool",))):
        for key, h in sorted(hist.items()):
            key = key if isinstance(key, tuple) else (key,)
            lab = ",".join(f'{k}="{v}"' for k, v in zip(labels, key))
            out.write(f"{name}_count{{{lab}}} {sum(h[:-1])}\n{name}_sum{{{lab}}} {h[-1]}\n")


if __name__ == "__main__":
    main()
