#!/usr/bin/env python3
"""Writes a synthetic nginx access log in poolwatch's default format (kDefaultLogFormat).

Deterministic: the same --seed gives the same bytes, and a shorter log is a prefix of a longer
one with the same seed. Only random.Random.random() is used (stable across Python versions).

The log tells the story of a blue/green pair behind nginx as configured in nginx/: blue
(127.0.0.1:8081) is the primary, green (127.0.0.1:8082) the backup, proxy_next_upstream on
errors and 5xx with at most two tries, max_fails=1 fail_timeout=5s. It has
  - normal traffic on blue with rare single errors,
  - 5xx bursts on blue that nginx hides by retrying on green ("500, 200"), some requests where
    both fail ("500, 500"),
  - failover stretches: blue refuses connections ("502, 200", response time "0.000, ...") then
    is skipped (straight to green) and probed every 5 s of log time,
  - short stretches with no live upstream (the group name as address, pool=-),
  - lines nginx answers itself (stub status, TLS handshakes to the plain port, 404s),
  - clients closing before the upstream answered (499, upstream_status=-),
  - several releases per pool (deploys), long browser user agents, \\x22-escaped quotes.

Usage: gen_log.py --lines 1000000 [--seed 1] [--out FILE]   (stdout without --out)
"""
import argparse
import datetime
import math
import random
import sys

BLUE, GREEN = "127.0.0.1:8081", "127.0.0.1:8082"
GROUP = "app_pools"
START = datetime.datetime(2026, 11, 26, 7, 0, 0)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

BLUE_RELEASES = ["v1.4.2", "v1.4.3", "v1.5.0", "v1.5.1-rc.2"]
GREEN_RELEASES = ["v2.0.0", "v2.0.1", "v2.1.0"]

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.104 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; \\x22ShopMonitor\\x22/3.2; +https://status.example.com/\\x22about\\x22)",
    "curl/7.88.1",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Prometheus/2.42.0",
    "ShopApp/5.3.1 (iPhone; iOS 18.1.1; Scale/3.00)",
    "ShopApp/5.3.0 (Android 14; SM-S918B)",
]
AGENT_WEIGHTS = [11, 6, 4, 7, 6, 2, 1, 6, 4, 14, 1, 22, 16]

PATHS = [
    ("GET", "/api/v1/products?page={n}&sort=price", 0.35),
    ("GET", "/api/v1/products/{id}", 0.2),
    ("GET", "/api/v1/cart", 0.1),
    ("POST", "/api/v1/cart/items", 0.07),
    ("GET", "/api/v1/search?q=%22usb+c+hub%22&cat={n}", 0.08),
    ("GET", "/version", 0.05),
    ("GET", "/static/js/app.{id}.min.js", 0.08),
    ("GET", "/api/v1/orders/{id}/status", 0.05),
    ("PUT", "/api/v1/users/{id}/preferences", 0.02),
]
REFERERS = ["-", "https://shop.example.com/", "https://shop.example.com/products?page=2",
            "https://www.google.com/", "https://shop.example.com/cart"]
REFERER_WEIGHTS = [78, 6, 5, 5, 6]


class Rng:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def u(self):
        return self.r.random()

    def below(self, n):
        return min(int(self.r.random() * n), n - 1)

    def pick(self, items, weights=None):
        if weights is None:
            return items[self.below(len(items))]
        x = self.u() * sum(weights)
        for item, w in zip(items, weights):
            x -= w
            if x < 0:
                return item
        return items[-1]

    def seconds(self, median):
        # log-normal-ish service time: most near the median, a long tail
        return median * math.exp(0.9 * (self.u() + self.u() + self.u() - 1.5) * 2)


def stamp(t):
    return f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"


class Story:
    """Phases drawn from the RNG; yields one line at a time."""

    def __init__(self, seed):
        self.rng = Rng(seed)
        self.t = START
        self.millis = 0
        self.phase = "normal"
        self.left = 0
        self.blue_release = 0
        self.green_release = 0
        self.blue_down_until = -1  # ms of log time: blue out of rotation (max_fails)
        self.lines = 0

    def next_phase(self):
        rng = self.rng
        x = rng.u()
        if x < 0.70:
            self.phase, self.left = "normal", 2000 + rng.below(30000)
        elif x < 0.82:
            self.phase, self.left = "burst", 200 + rng.below(2000)
        elif x < 0.92:
            self.phase, self.left = "failover", 2000 + rng.below(20000)
        elif x < 0.95:
            self.phase, self.left = "no_upstream", 20 + rng.below(300)
        else:
            self.phase, self.left = "deploy", 1
        if self.phase == "deploy":
            if rng.u() < 0.5:
                self.blue_release = (self.blue_release + 1) % len(BLUE_RELEASES)
            else:
                self.green_release = (self.green_release + 1) % len(GREEN_RELEASES)
            self.phase, self.left = "normal", 1000 + rng.below(5000)

    def request(self):
        rng = self.rng
        method, path, _ = rng.pick(PATHS, [p[2] for p in PATHS])
        path = path.replace("{n}", str(1 + rng.below(40))).replace("{id}", str(10000 + rng.below(90000)))
        if rng.u() < 0.002:
            path += "&ref=%22promo%22&q=\\x22sale\\x22"
        return f"{method} {path} HTTP/1.1"

    def line(self):
        rng = self.rng
        if self.left <= 0:
            self.next_phase()
        self.left -= 1
        self.lines += 1
        # ~400 requests/s of log time, with jitter
        self.millis += 1 + rng.below(4)
        t = START + datetime.timedelta(milliseconds=self.millis)

        client = f"10.{rng.below(4)}.{rng.below(256)}.{1 + rng.below(254)}"
        user = "-" if rng.u() < 0.98 else "alice"
        agent = rng.pick(AGENTS, AGENT_WEIGHTS)
        referer = rng.pick(REFERERS, REFERER_WEIGHTS)
        request = self.request()
        blue_rel = BLUE_RELEASES[self.blue_release]
        green_rel = GREEN_RELEASES[self.green_release]
        fast = rng.seconds(0.012)
        slow = rng.seconds(0.030)

        def up(status, pool, release, ustatus, uaddr, utime, rtime, size=None):
            body = size if size is not None else (180 + rng.below(9000) if status < 300 else 150 + rng.below(40))
            return (f'{client} - {user} [{stamp(t)}] "{request}" {status} {body} "{referer}" "{agent}" '
                    f"pool={pool} release={release} upstream_status={ustatus} upstream_addr={uaddr} "
                    f"request_time={rtime:.3f} upstream_response_time={utime}")

        x = rng.u()
        # nginx answered itself, in every phase
        if x < 0.004:
            return up(200, "-", "-", "-", "-", "-", 0.0, size=97).replace(
                f'"{request}"', '"GET /nginx_status HTTP/1.1"')
        if x < 0.005:
            return (f'{client} - - [{stamp(t)}] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03" '
                    f'400 157 "-" "-" pool=- release=- upstream_status=- upstream_addr=- '
                    f"request_time=0.{rng.below(100):03d} upstream_response_time=-")
        if x < 0.006:
            r = fast * 40
            return up(499, "-", "-", "-", BLUE, f"{r:.3f}", r, size=0)

        phase = self.phase
        if phase == "no_upstream":
            return up(502, "-", "-", "502", GROUP, "0.000", 0.0, size=157)
        if phase == "failover":
            if self.millis >= self.blue_down_until:
                # blue is probed (or fails for the first time): connection refused, retried on green
                self.blue_down_until = self.millis + 5000
                return up(200, "green", green_rel, "502, 200", f"{BLUE}, {GREEN}",
                          f"0.000, {fast:.3f}", fast + 0.001)
            if rng.u() < 0.001:
                return up(500, "green", green_rel, "500", GREEN, f"{slow:.3f}", slow + 0.001)
            return up(200, "green", green_rel, "200", GREEN, f"{fast:.3f}", fast + 0.001)
        if phase == "burst":
            y = rng.u()
            if y < 0.25:
                return up(200, "green", green_rel, "500, 200", f"{BLUE}, {GREEN}",
                          f"{slow:.3f}, {fast:.3f}", slow + fast + 0.001)
            if y < 0.30:
                return up(500, "green", green_rel, "500, 500", f"{BLUE}, {GREEN}",
                          f"{slow:.3f}, {fast:.3f}", slow + fast + 0.001)
            if y < 0.32:
                return up(504, "green", green_rel, "504, 504", f"{BLUE}, {GREEN}",
                          f"2.001, {rng.seconds(1.0):.3f}", 3.5)
        # normal blue traffic; rare single errors
        y = rng.u()
        if y < 0.001:
            return up(200, "green", green_rel, "502, 200", f"{BLUE}, {GREEN}",
                      f"0.000, {fast:.3f}", fast + 0.001)
        if y < 0.0015:
            return up(404, "blue", blue_rel, "404", BLUE, f"{fast:.3f}", fast + 0.001)
        if y < 0.002:
            return up(500, "blue", blue_rel, "500", BLUE, f"{slow:.3f}", slow)
        return up(200, "blue", blue_rel, "200", BLUE, f"{fast:.3f}", fast + 0.001)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="\n")
    story = Story(args.seed)
    chunk = []
    for _ in range(args.lines):
        chunk.append(story.line())
        if len(chunk) == 10000:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
