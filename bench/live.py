#!/usr/bin/env python3
"""Live-mode figures for poolwatch, on loopback only, every loop bounded in count and time.

  1. Alert latency: poolwatch follows a log; a line off the primary pool is appended (the
     failover fires), then a line back on it (the alert resolves). Latency = arrival time at
     the Slack stand-in (tests/support/slack_standin.py) minus the time the line was written.
     --trials pairs, p50/p99/max.
  2. CPU share and RSS at a steady request rate: real nginx (nginx/render.sh) in front of two
     demo apps (blue, green), driven by wrk for --seconds at about --rate requests/s; poolwatch's
     user+sys CPU over that time from /proc, and its peak RSS.
  3. /metrics response time with about 10,000 series (20 pools x 20 releases x 25 statuses).

Usage: bench/live.py [--poolwatch BIN] [--demo-app BIN] [--trials 100] [--rate 2000]
                     [--seconds 20] [--skip nginx]
Needs: nginx, wrk (apt-get install -y nginx-light wrk).
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STAMP_FORMAT = "%d/%b/%Y:%H:%M:%S +0000"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_until(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def line(pool, release, addr, status=200):
    stamp = time.strftime(STAMP_FORMAT, time.gmtime())
    upstream_status, upstream_time = (status, "0.001") if addr != "-" else ("-", "-")
    return (f'127.0.0.1 - - [{stamp}] "GET /version HTTP/1.1" {status} 51 "-" "curl/7.88.1" '
            f"pool={pool} release={release} upstream_status={upstream_status} upstream_addr={addr} "
            f"request_time=0.001 upstream_response_time={upstream_time}\n")


def percentile(values, p):
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def start_poolwatch(procs, binary, workdir, name, log_path, slack_url, rules, extra=""):
    port = free_port()
    cfg = os.path.join(workdir, name + ".yml")
    notify = f"notify:\n  slack_webhook_url: {slack_url}\n  slack_min_interval: 0s\n" if slack_url else ""
    with open(cfg, "w") as f:
        f.write(f"log:\n  path: {log_path}\n  start_at: end\n"
                f"web:\n  listen_address: 127.0.0.1:{port}\n"
                f"alerting:\n  active_pool: blue\n  rules:\n{rules}\n{notify}{extra}log_level: warn\n")
    out = open(os.path.join(workdir, name + ".out"), "w")
    p = procs.start([binary, "--config.file", cfg], stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: get(base + "/-/ready")[0] == 200, 15, name + " ready")
    return p, base


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for row in f:
            if row.startswith("VmHWM:"):
                return int(row.split()[1])
    return 0


def latency(args, procs, workdir, slack_base):
    log_path = os.path.join(workdir, "latency.log")
    open(log_path, "w").close()
    rules = "    - name: failover\n      kind: failover\n      cooldown: 0s\n"
    _, base = start_poolwatch(procs, args.poolwatch, workdir, "latency", log_path,
                              slack_base + "/hook", rules)
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, line("blue", "v1.0.0", "127.0.0.1:8081").encode())
    time.sleep(0.5)
    urllib.request.urlopen(urllib.request.Request(slack_base + "/_reset", data=b"{}"), timeout=5)
    firing, resolved = [], []
    received = 0
    for trial in range(args.trials):
        for pool, samples in (("green", firing), ("blue", resolved)):
            data = line(pool, "v2.0.0" if pool == "green" else "v1.0.0",
                        "127.0.0.1:8082" if pool == "green" else "127.0.0.1:8081").encode()
            t0 = time.time()
            os.write(fd, data)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                deliveries = json.loads(get(slack_base + "/_received")[1])
                if len(deliveries) > received:
                    break
                time.sleep(0.002)
            else:
                raise SystemExit(f"trial {trial}: no Slack message within 5 s")
            received = len(deliveries)
            samples.append((deliveries[-1]["time"] - t0) * 1000)
        time.sleep(0.02)
    os.close(fd)
    both = firing + resolved
    return {
        "trials": args.trials,
        "messages": len(both),
        "p50_ms": percentile(both, 50), "p99_ms": percentile(both, 99), "max_ms": max(both),
        "firing_p50_ms": percentile(firing, 50), "firing_p99_ms": percentile(firing, 99),
        "resolved_p50_ms": percentile(resolved, 50), "resolved_p99_ms": percentile(resolved, 99),
    }


def metrics_response(args, procs, workdir):
    log_path = os.path.join(workdir, "series.log")
    open(log_path, "w").close()
    # Client-scope error rate only: no 5xx below, and no failover rule to page for 20 pools.
    rules = "    - name: error_rate\n      kind: error_rate\n"
    _, base = start_poolwatch(procs, args.poolwatch, workdir, "series", log_path, None, rules)
    with open(log_path, "a") as f:
        for p in range(20):
            for r in range(20):
                for s in range(25):
                    f.write(line(f"p{p:02d}", f"r{r:02d}", "-", 200 + s))
    def settled():
        body = get(base + "/metrics")[1].decode()
        return 'pool="p19",release="r19",status="224"' in body
    wait_until(settled, 30, "10,000 request series in /metrics")
    body = get(base + "/metrics")[1].decode()
    series = sum(1 for row in body.splitlines() if row and not row.startswith("#"))
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        status, payload = get(base + "/metrics", timeout=10)
        times.append((time.perf_counter() - t0) * 1000)
    return {"series": series, "bytes": len(payload), "requests": len(times),
            "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99)}


def steady_rate(args, procs, workdir, slack_base):
    if shutil.which("nginx") is None or shutil.which("wrk") is None:
        return {"skipped": "needs nginx and wrk (apt-get install -y nginx-light wrk)"}
    run_dir = os.path.join(workdir, "nginx")
    os.makedirs(run_dir)
    os.chmod(workdir, 0o755)
    blue, green, port = free_port(), free_port(), free_port()
    for pool, p, release in (("blue", blue, "v1.0.0"), ("green", green, "v2.0.0")):
        procs.start([args.demo_app, "--port", str(p), "--pool", pool, "--release", release],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, BLUE_UPSTREAM=f"127.0.0.1:{blue}", GREEN_UPSTREAM=f"127.0.0.1:{green}",
               NGINX_PORT=str(port), NGINX_RUN_DIR=run_dir, NGINX_WORKER_PROCESSES="1")
    conf = os.path.join(run_dir, "nginx.conf")
    subprocess.run([os.path.join(REPO, "nginx", "render.sh"), conf], env=env, check=True)
    procs.start(["nginx", "-p", run_dir, "-c", conf, "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    access_log = os.path.join(run_dir, "logs", "access.log")
    wait_until(lambda: get(f"http://127.0.0.1:{port}/version")[0] == 200, 15, "nginx")
    pw, base = start_poolwatch(procs, args.poolwatch, workdir, "steady", access_log,
                               slack_base + "/hook",
                               "    - name: failover\n      kind: failover\n"
                               "    - name: error_rate\n      kind: error_rate\n")
    # wrk has no rate option: each of `connections` waits `delay` ms between requests.
    connections = 4
    delay_ms = max(1, int(1000 * connections / args.rate) - 1)
    script = os.path.join(workdir, "pace.lua")
    with open(script, "w") as f:
        f.write(f"function delay()\n  return {delay_ms}\nend\n")
    size_before = os.path.getsize(access_log)
    cpu_before, t0 = cpu_seconds(pw.pid), time.monotonic()
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{args.seconds}s", "-s", script,
                          f"http://127.0.0.1:{port}/version"],
                         capture_output=True, text=True, check=True, timeout=args.seconds + 30).stdout
    time.sleep(0.5)  # let poolwatch read the last lines
    cpu_after, t1 = cpu_seconds(pw.pid), time.monotonic()
    requests = 0
    for row in out.splitlines():
        if "requests in" in row:
            requests = int(row.split()[0])
    body = get(base + "/metrics")[1].decode()
    parsed = next((float(r.split()[-1]) for r in body.splitlines()
                   if r.startswith('poolwatch_log_lines_total{result="parsed"}')), 0)
    rate = requests / args.seconds
    cpu = cpu_after - cpu_before
    return {"seconds": round(t1 - t0, 2), "requests": requests, "rate_per_s": round(rate),
            "lines_parsed": int(parsed), "log_bytes": os.path.getsize(access_log) - size_before,
            "poolwatch_cpu_s": round(cpu, 3), "cpu_share_percent": round(100 * cpu / (t1 - t0), 2),
            "cpu_us_per_line": round(1e6 * cpu / max(parsed, 1), 1),
            "peak_rss_mib": round(peak_rss_kib(pw.pid) / 1024, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poolwatch", default=os.path.join(REPO, "build-bench", "app", "poolwatch"))
    ap.add_argument("--demo-app", default=os.path.join(REPO, "build-bench", "demo", "poolwatch-demo-app"))
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--skip", default="", help="comma-separated: latency,metrics,nginx")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    workdir = tempfile.mkdtemp(prefix="poolwatch-live-")
    procs = Procs()
    try:
        standin = procs.start([sys.executable, os.path.join(REPO, "tests", "support", "slack_standin.py"), "0"],
                              stdout=subprocess.PIPE, text=True)
        slack_base = "http://127.0.0.1:" + standin.stdout.readline().split()[1]
        results = {}
        if "latency" not in skip:
            results["alert_latency"] = latency(args, procs, workdir, slack_base)
            print(json.dumps({"alert_latency": results["alert_latency"]}), flush=True)
        if "metrics" not in skip:
            results["metrics_endpoint"] = metrics_response(args, procs, workdir)
            print(json.dumps({"metrics_endpoint": results["metrics_endpoint"]}), flush=True)
        if "nginx" not in skip:
            results["steady_rate"] = steady_rate(args, procs, workdir, slack_base)
            print(json.dumps({"steady_rate": results["steady_rate"]}), flush=True)
    finally:
        procs.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
