#!/usr/bin/env python3
"""Summarises bench/run.sh's results.tsv (program, lines, bytes, wall, user, sys, rss_kb per
run) as a Markdown table: medians over the runs, and ratios to poolwatch at the same size."""
import collections
import statistics
import sys


def main():
    runs = collections.defaultdict(list)
    order = []
    for row in open(sys.argv[1]):
        name, lines, size, wall, user, sys_s, rss = row.rstrip("\n").split("\t")
        key = (int(lines), name)
        if key not in runs:
            order.append(key)
        runs[key].append((int(size), float(wall), float(user) + float(sys_s), int(rss)))

    summary = {}
    for key in order:
        r = runs[key]
        size = r[0][0]
        wall = statistics.median(x[1] for x in r)
        cpu = statistics.median(x[2] for x in r)
        rss = max(x[3] for x in r)
        summary[key] = (size, wall, cpu, rss, len(r))

    print("| program | lines | runs | wall s (median) | lines/s | MB/s | CPU s | peak RSS MiB "
          "| poolwatch is N× faster (wall) | N× less CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (lines, name) in order:
        size, wall, cpu, rss, n = summary[(lines, name)]
        pw = summary.get((lines, "poolwatch"))
        wall_ratio = cpu_ratio = "—"
        if pw and name != "poolwatch":
            wall_ratio = f"{wall / pw[1]:.2f}" if pw[1] > 0 else "—"
            cpu_ratio = f"{cpu / pw[2]:.2f}" if pw[2] > 0 else "—"
        lps = lines / wall if wall > 0 else float("inf")
        mbs = size / 1e6 / wall if wall > 0 else float("inf")
        print(f"| {name} | {lines:,} | {n} | {wall:.3f} | {lps:,.0f} | {mbs:,.0f} | {cpu:.3f} "
              f"| {rss / 1024:.1f} | {wall_ratio} | {cpu_ratio} |")


if __name__ == "__main__":
    main()
