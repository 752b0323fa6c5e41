#!/usr/bin/env python3
"""A client behind a load balancer: one HTTP GET every INTERVAL seconds,
each on a new connection (as the platform's clients do), for as long as it
runs; on SIGTERM it writes what it saw to OUT as JSON: requests sent,
failed (no answer within the timeout, a refused or cut connection, or a
status other than 200), and each failure's time and reason.

Usage: lb-load.py URL INTERVAL OUT"""
import http.client
import json
import signal
import sys
import time
import urllib.parse


def main():
    url, interval, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    u = urllib.parse.urlsplit(url)
    sent = failed = 0
    failures = []
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    next_at = time.monotonic()
    while running:
        t = time.time()
        sent += 1
        try:
            c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=2)
            c.request("GET", u.path or "/")
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status != 200:
                raise OSError(f"status {r.status}: {body[:80]!r}")
        except (OSError, http.client.HTTPException) as e:
            failed += 1
            failures.append({"time": round(t, 3), "reason": str(e) or type(e).__name__})
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()  # late (a slow answer): the cadence starts again
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"sent": sent, "failed": failed, "failures": failures[:100]}, f)


if __name__ == "__main__":
    main()
