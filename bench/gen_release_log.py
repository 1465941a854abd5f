#!/usr/bin/env python3
"""Writes an access log in poolwatch's default format where POOLS pools each serve RELEASES
releases at once, for the memory bound of the per-(pool, release) windows (release_regression
and the rollout verdict): every (pool, release) pair gets requests every second, 1 % of them 5xx.

Deterministic (no randomness). Usage:
  gen_release_log.py --pools 20 --releases 20 --seconds 1200 --per-second 2000 --out FILE
"""
import argparse
import datetime

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=1200)
    parser.add_argument("--per-second", type=int, default=2000)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    start = datetime.datetime(2026, 11, 26, 7, 0, 0)
    pairs = [(p, r) for p in range(args.pools) for r in range(args.releases)]
    n = 0
    with open(args.out, "w") as out:
        for s in range(args.seconds):
            t = start + datetime.timedelta(seconds=s)
            stamp = "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
                t.day, MONTHS[t.month - 1], t.year, t.hour, t.minute, t.second)
            lines = []
            for i in range(args.per_second):
                pool, release = pairs[(n + i) % len(pairs)]
                status = 503 if (n + i) % 100 == 0 else 200
                lines.append(
                    '10.0.0.1 - - [%s] "GET /api/items HTTP/1.1" %d 51 "-" "curl/7.88.1" '
                    "pool=p%d release=v%d.0.0 upstream_status=%d upstream_addr=10.1.%d.1:8080 "
                    "request_time=0.0%02d upstream_response_time=0.0%02d\n"
                    % (stamp, status, pool, release, status, pool, 10 + i % 80, 10 + i % 80))
            n += args.per_second
            out.write("".join(lines))


if __name__ == "__main__":
    main()
