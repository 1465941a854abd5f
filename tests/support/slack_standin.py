#!/usr/bin/env python3
"""A local stand-in for a Slack incoming webhook, for integration and end-to-end tests.

Usage: slack_standin.py [PORT]     (PORT 0 or absent: pick a free port)

Listens on 127.0.0.1 and prints "PORT <n>" as its first stdout line (flushed), so a test
can start it with port 0 and read the real port back.

Any POST (other than the control endpoints below) is a webhook delivery. It is recorded,
whatever the answer, with its arrival time, and answered according to the current mode:
  ok     200 "ok" (text/html), as Slack does
  429    429 "rate_limited" with a Retry-After header (seconds, from "retry_after")
  500    500 "internal_error"
  400    400 with the configured body (default "invalid_payload"), as Slack's plain-text errors
  hang   answers nothing for "hang_seconds" (default 30), longer than any client timeout

Control endpoints:
  GET  /_received  JSON list of every delivery attempt in arrival order:
                   {"seq", "path", "time" (unix seconds, float), "body" (text),
                    "json" (parsed body or null), "content_type", "mode", "status"}
                   "status" is the HTTP status given (0 for "hang": nothing was answered).
  POST /_mode      JSON {"mode": "ok"|"429"|"500"|"400"|"hang", "retry_after": s,
                         "count": n, "body": "...", "hang_seconds": s}
                   "count": how many deliveries get this mode before it reverts to "ok";
                   absent or null: until changed.
  POST /_reset     forget the recorded deliveries and go back to "ok".

Python 3 standard library only.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_received = []
_mode = {}


def _default_mode():
    return {"mode": "ok", "retry_after": 1, "count": None, "body": "invalid_payload",
            "hang_seconds": 30}


def _take_mode():
    """The behaviour for one delivery; consumes one use of a counted mode."""
    global _mode
    with _lock:
        current = dict(_mode)
        if current["count"] is not None:
            _mode["count"] -= 1
            if _mode["count"] <= 0:
                _mode = _default_mode()
        return current


class Handler(BaseHTTPRequestHandler):
    # Keep test output readable: one line per request is noise here.
    def log_message(self, format, *args):
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status, body, content_type="text/html", headers=None):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_received":
            with _lock:
                payload = json.dumps(_received)
            self._answer(200, payload, "application/json")
        else:
            self._answer(404, "not_found")

    def do_POST(self):
        global _mode
        arrived = time.time()
        raw = self._read_body()
        if self.path == "/_mode":
            try:
                wanted = json.loads(raw or b"{}")
                mode = _default_mode()
                mode.update({k: v for k, v in wanted.items() if v is not None or k == "count"})
                if mode["mode"] not in ("ok", "429", "500", "400", "hang"):
                    raise ValueError("unknown mode " + str(mode["mode"]))
            except (ValueError, AttributeError) as e:
                self._answer(400, str(e))
                return
            with _lock:
                _mode = mode
            self._answer(200, json.dumps({"ok": True}), "application/json")
            return
        if self.path == "/_reset":
            with _lock:
                _received.clear()
                _mode = _default_mode()
            self._answer(200, json.dumps({"ok": True}), "application/json")
            return

        mode = _take_mode()
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        status = {"ok": 200, "429": 429, "500": 500, "400": 400, "hang": 0}[mode["mode"]]
        with _lock:
            _received.append({"seq": len(_received), "path": self.path, "time": arrived,
                              "body": text, "json": parsed,
                              "content_type": self.headers.get("Content-Type", ""),
                              "mode": mode["mode"], "status": status})
        if mode["mode"] == "ok":
            self._answer(200, "ok")
        elif mode["mode"] == "429":
            self._answer(429, "rate_limited", headers={"Retry-After": str(mode["retry_after"])})
        elif mode["mode"] == "500":
            self._answer(500, "internal_error")
        elif mode["mode"] == "400":
            self._answer(400, str(mode["body"]))
        else:
            # The client gives up first; answering afterwards (if the socket is still there)
            # keeps the server thread from lingering forever.
            time.sleep(float(mode["hang_seconds"]))
            try:
                self._answer(200, "ok")
            except OSError:
                pass


def main():
    global _mode
    _mode = _default_mode()
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True  # a hanging handler must not block exit
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
