#!/usr/bin/env python3
"""Many access logs on one parsing thread (issue 17): poolwatch follows --files logs through one
glob with a path label while they are written, as nginx writes them (one line per write, in
append mode), at --rate lines a second in total, spread evenly; its user+system CPU is read from
/proc before and after. Then a burst: --burst lines written to the first file in one go, and,
right after, one line to another file every 10 ms; each one's delay is the time until /metrics
counts it. Rules are evaluated in the same run-loop iteration as the read that counts a line, so
this delay bounds how late another file's line can start an alert. Local files only.

  bench/many_logs.py --poolwatch build/app/poolwatch --files 50 --rate 2000 --seconds 20
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests(port, site):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for m in re.finditer(r'^poolwatch_http_requests_total\{([^}]*)\} (\S+)$', text, re.M):
        if f'site="{site}"' in m.group(1):
            total += float(m.group(2))
    return total


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poolwatch", default=os.path.join(HERE, "..", "build-bench", "app", "poolwatch"))
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--burst", type=int, default=200000)
    ap.add_argument("--probes", type=int, default=100)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="poolwatch-many-logs-bench-")
    logs = os.path.join(work, "logs")
    os.mkdir(logs)
    source = os.path.join(work, "lines.log")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_log.py"), "--lines",
                    str(max(args.rate * args.seconds, args.burst)), "--out", source], check=True)
    lines = [l.encode() for l in open(source)]
    names = [f"site{i:02d}" for i in range(args.files)]
    files = [open(os.path.join(logs, f"{n}.access.log"), "ab", buffering=0) for n in names]
    config = os.path.join(work, "poolwatch.yml")
    with open(config, "w") as f:
        f.write(f"log:\n  path: {logs}/*.access.log\n"
                f"  path_label: {{name: site, regex: '.*/(\\w+)\\.access\\.log'}}\n")
    pw = subprocess.Popen([args.poolwatch, "-c", config, "--web.listen-address", "127.0.0.1:0"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    web = None
    while web is None:
        m = re.search(r'msg="listening" address=127\.0\.0\.1:(\d+)', pw.stderr.readline())
        if m:
            web = int(m.group(1))
    time.sleep(1)

    # Steady: one line per write, round robin over the files.
    total = args.rate * args.seconds
    cpu_before = cpu_seconds(pw.pid)
    start = time.monotonic()
    for i in range(total):
        delay = start + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        files[i % args.files].write(lines[i])
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 10
    while sum(requests(web, n) for n in names[:1]) < total // args.files and time.monotonic() < deadline:
        time.sleep(0.05)
    cpu = cpu_seconds(pw.pid) - cpu_before
    counted = sum(requests(web, n) for n in names)

    # Burst in the first file; probes in the second, one every 10 ms, each timed until counted.
    burst = b"".join(lines[:args.burst])
    probe_site = names[1]
    base = requests(web, probe_site)
    delays = []
    files[0].write(burst)
    for k in range(args.probes):
        files[1].write(lines[k])
        written = time.monotonic()
        while requests(web, probe_site) < base + k + 1:
            if time.monotonic() - written > 5:
                break
        delays.append(time.monotonic() - written)
        time.sleep(max(0.0, 0.01 - (time.monotonic() - written)))
    burst_done = time.monotonic()
    while requests(web, names[0]) < total // args.files + args.burst and time.monotonic() - burst_done < 30:
        time.sleep(0.05)
    pw.terminate()
    pw.wait()
    shutil.rmtree(work)
    print(f"steady: {args.files} files, {total} lines in {elapsed:.1f} s ({total / elapsed:,.0f}/s), "
          f"{counted:.0f} counted; poolwatch CPU {cpu:.2f} s = {100 * cpu / elapsed:.2f} % of one core")
    print(f"burst: {args.burst} lines ({len(burst) / 1e6:.0f} MB) in one file; {len(delays)} lines "
          f"in another counted after p50 {1000 * percentile(delays, 50):.1f} ms, "
          f"p99 {1000 * percentile(delays, 99):.1f} ms, max {1000 * max(delays):.1f} ms")


if __name__ == "__main__":
    main()
