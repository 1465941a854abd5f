#!/usr/bin/env python3
"""CPU of poolwatch receiving nginx's access log over syslog (log.syslog.listen, UDP) at a
steady rate: starts poolwatch with only syslog, sends lines of bench/gen_log.py as nginx does
(`<190>Mmm dd hh:mm:ss HOST nginx: LINE`, one datagram each) for --seconds at --rate, and
reads poolwatch's user+system CPU from /proc before and after. Loopback only.

  bench/syslog_rate.py --poolwatch build/app/poolwatch --rate 2000 --seconds 20
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port, name, labels=""):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poolwatch", default=os.path.join(HERE, "..", "build-bench", "app", "poolwatch"))
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--port", type=int, default=45514)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="poolwatch-syslog-bench-")
    log = os.path.join(work, "lines.log")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_log.py"), "--lines",
                    str(args.rate * args.seconds), "--out", log], check=True)
    lines = [l.rstrip("\n").encode() for l in open(log)]
    config = os.path.join(work, "poolwatch.yml")
    with open(config, "w") as f:
        f.write(f"log:\n  syslog:\n    listen: udp://127.0.0.1:{args.port}\n")
    pw = subprocess.Popen([args.poolwatch, "-c", config, "--web.listen-address", "127.0.0.1:0"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    web = None
    while web is None:
        line = pw.stderr.readline()
        m = re.search(r'msg="listening" address=127\.0\.0\.1:(\d+)', line)
        if m:
            web = int(m.group(1))
    time.sleep(1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    header = time.strftime("<190>%b %e %H:%M:%S web-1 nginx: ").encode()
    cpu_before = cpu_seconds(pw.pid)
    start = time.monotonic()
    for i, line in enumerate(lines):
        due = start + i / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.sendto(header + line, ("127.0.0.1", args.port))
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 10
    while metric(web, "poolwatch_syslog_datagrams_total", '{result="received"}') + metric(
            web, "poolwatch_syslog_datagrams_total", '{result="dropped"}') < len(lines):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    cpu = cpu_seconds(pw.pid) - cpu_before
    received = metric(web, "poolwatch_syslog_datagrams_total", '{result="received"}')
    dropped = metric(web, "poolwatch_syslog_datagrams_total", '{result="dropped"}')
    parsed = metric(web, "poolwatch_log_lines_total", '{result="parsed"}')
    pw.terminate()
    pw.wait()
    shutil.rmtree(work)
    rate = len(lines) / elapsed
    print(f"sent {len(lines)} datagrams in {elapsed:.1f} s ({rate:,.0f}/s); received {received:.0f}, "
          f"dropped {dropped:.0f}, parsed {parsed:.0f}; poolwatch CPU {cpu:.2f} s = "
          f"{100 * cpu / elapsed:.2f} % of one core, {1e6 * cpu / max(1, received):.1f} µs a line")


if __name__ == "__main__":
    main()
