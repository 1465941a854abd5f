#!/usr/bin/env python3
"""Writes the checked-in access logs under tests/testdata/ (deterministic; rerun to refresh).

Each log tells one story in the project's nginx log format, one request per 100 ms of log
time, blue (127.0.0.1:8081) the primary and green (127.0.0.1:8082) the backup.
"""
import datetime
import os

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime.datetime(2026, 11, 26, 7, 0, 0, tzinfo=datetime.timezone.utc)
BLUE, GREEN = "127.0.0.1:8081", "127.0.0.1:8082"
RELEASE = {"blue": "v1.0.0", "green": "v2.0.0"}


def line(t, status, pool, upstream_status, upstream_addr, times, agent="curl/7.88.1"):
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    release = RELEASE.get(pool, "-")
    return (f'127.0.0.1 - - [{stamp}] "GET /version HTTP/1.1" {status} 51 "-" "{agent}" '
            f"pool={pool} release={release} upstream_status={upstream_status} "
            f"upstream_addr={upstream_addr} request_time=0.012 upstream_response_time={times}\n")


def ok(t, pool):
    return line(t, 200, pool, "200", BLUE if pool == "blue" else GREEN, "0.010")


def retried(t):
    """Blue answered 500, nginx retried on green, the client got green's 200."""
    return line(t, 200, "green", "500, 200", f"{BLUE}, {GREEN}", "0.002, 0.010")


def both_failing(t):
    """Blue and green both answered 500: the client got 500 from green."""
    return line(t, 500, "green", "500, 500", f"{BLUE}, {GREEN}", "0.002, 0.003")


def write(name, kinds):
    path = os.path.join(HERE, name)
    with open(path, "w") as out:
        for i, kind in enumerate(kinds):
            t = START + datetime.timedelta(milliseconds=100 * i)
            out.write(kind(t))


def repeat(kind, n):
    return [kind] * n


blue = lambda t: ok(t, "blue")
green = lambda t: ok(t, "green")

# Steady traffic on the primary: no alert.
write("replay/steady.log", repeat(blue, 600))
# Blue fails (nginx retries on green, then keeps green), later recovers.
write("replay/failover.log",
      repeat(blue, 100) + [retried] + repeat(green, 99) + repeat(blue, 200))
# Both pools fail for 30 s of traffic, then recover and stay healthy for 6 minutes of log time.
write("replay/both_failing.log",
      repeat(blue, 100) + repeat(both_failing, 60) + repeat(blue, 3600))
# Traffic flips between pools every 2 s for 10 minutes: bounded messages, not one per flip.
flapping = []
for cycle in range(150):
    flapping += repeat(blue, 20) + [retried] + repeat(green, 19)
write("replay/flapping.log", flapping)
# Golden test input: a bit of everything, including lines poolwatch must skip.
golden = (repeat(blue, 5) + [retried] + repeat(green, 3) + [both_failing] + repeat(blue, 2))
write("golden/access.log", golden)
with open(os.path.join(HERE, "golden/access.log"), "a") as out:
    t = START + datetime.timedelta(seconds=60)
    out.write(line(t, 404, "-", "-", "-", "-"))                      # nginx answered itself
    out.write(line(t, 502, "-", "502", BLUE, "0.001"))              # refused, no pool header
    out.write(line(t, 200, "blue", "200", BLUE, "0.004", agent='say \\x22hi\\x22'))
    out.write(line(t, 200, "blue", "200", BLUE, "0.004")[:90] + "\n")  # truncated
    out.write("this is not an access log line at all " * 6 + "\n")                 # garbage
    out.write(line(t, 200, "blue", "200", BLUE, "0.004").replace("[26/Nov", "[99/Nov"))
