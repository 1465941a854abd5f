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

Slack app mode (the Web API): a POST whose path ends in /chat.postMessage or /chat.update is a
Web API call. It must carry "Authorization: Bearer <token>" (the token: "xoxb-standin-token"
unless set with POST /_token); otherwise it is answered {"ok": false, "error": "invalid_auth"}.
chat.postMessage records a message (a reply when it has "thread_ts") and answers
{"ok": true, "channel", "ts"}: a channel given by name ("#ops") is answered as the ID
"C0STANDIN". chat.update replaces a message's body and answers the same, or message_not_found
for a ts it does not know. The mode applies to these calls too ("ok" is the normal answer),
and besides the modes above:
  ratelimited        200 {"ok": false, "error": "ratelimited"} with Retry-After
  message_not_found  200 {"ok": false, "error": "message_not_found"}
  invalid_auth       200 {"ok": false, "error": "invalid_auth"}
  missing_scope      200 {"ok": false, "error": "missing_scope", "needed": "chat:write.public"}
A mode may name "methods" (e.g. ["chat.update"]): other calls are answered normally and do not
use up its "count". Webhook posts ignore the app-only modes (answered "ok").

Control endpoints:
  GET  /_received  JSON list of every delivery attempt in arrival order:
                   {"seq", "path", "time" (unix seconds, float), "body" (text),
                    "json" (parsed body or null), "content_type", "mode", "status"}
                   "status" is the HTTP status given (0 for "hang": nothing was answered).
  POST /_mode      JSON {"mode": "ok"|"429"|"500"|"400"|"hang", "retry_after": s,
                         "count": n, "body": "...", "hang_seconds": s}
                   "count": how many deliveries get this mode before it reverts to "ok";
                   absent or null: until changed.
  GET  /_messages  JSON list of the Web API's top-level messages in posting order:
                   {"channel", "ts", "body" (the last chat.postMessage/chat.update JSON),
                    "updates" (how many chat.update calls changed it),
                    "replies" (list of the thread's reply bodies, in order)}
  POST /_token     JSON {"token": "..."}: the bearer token the Web API accepts from now on.
  POST /_reset     forget the recorded deliveries and messages and go back to "ok".

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
_messages = []  # top-level messages of the Web API, in posting order
_token = "xoxb-standin-token"
_APP_ONLY_MODES = ("ratelimited", "message_not_found", "invalid_auth", "missing_scope")
_MODES = ("ok", "429", "500", "400", "hang") + _APP_ONLY_MODES


def _default_mode():
    return {"mode": "ok", "retry_after": 1, "count": None, "body": "invalid_payload",
            "hang_seconds": 30, "methods": None}


def _take_mode(method=None):
    """The behaviour for one delivery; consumes one use of a counted mode."""
    global _mode
    with _lock:
        current = dict(_mode)
        if current["methods"] is not None and method not in current["methods"]:
            return _default_mode()
        if method is None and current["mode"] in _APP_ONLY_MODES:
            return _default_mode()
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
        elif self.path == "/_messages":
            with _lock:
                payload = json.dumps(_messages)
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
                if mode["mode"] not in _MODES:
                    raise ValueError("unknown mode " + str(mode["mode"]))
            except (ValueError, AttributeError) as e:
                self._answer(400, str(e))
                return
            with _lock:
                _mode = mode
            self._answer(200, json.dumps({"ok": True}), "application/json")
            return
        if self.path == "/_token":
            global _token
            with _lock:
                _token = json.loads(raw or b"{}").get("token", "")
            self._answer(200, json.dumps({"ok": True}), "application/json")
            return
        if self.path == "/_reset":
            with _lock:
                _received.clear()
                _messages.clear()
                _mode = _default_mode()
            self._answer(200, json.dumps({"ok": True}), "application/json")
            return

        method = self.path.rsplit("/", 1)[-1]
        if method in ("chat.postMessage", "chat.update"):
            self._web_api(method, raw, arrived)
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


    def _web_api(self, method, raw, arrived):
        mode = _take_mode(method)
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        with _lock:
            authorized = self.headers.get("Authorization", "") == "Bearer " + _token
        status = {"429": 429, "500": 500, "400": 400, "hang": 0}.get(mode["mode"], 200)
        answer = {"ok": True}
        headers = {}
        if not authorized:
            answer = {"ok": False, "error": "invalid_auth"}
        elif mode["mode"] == "hang":
            pass
        elif mode["mode"] in ("429", "ratelimited"):
            answer = {"ok": False, "error": "ratelimited"}
            headers = {"Retry-After": str(mode["retry_after"])}
        elif mode["mode"] == "500":
            answer = {"ok": False, "error": "internal_error"}
        elif mode["mode"] == "400":
            answer = {"ok": False, "error": str(mode["body"])}
        elif mode["mode"] in ("message_not_found", "invalid_auth"):
            answer = {"ok": False, "error": mode["mode"]}
        elif mode["mode"] == "missing_scope":
            answer = {"ok": False, "error": "missing_scope", "needed": "chat:write.public"}
        elif not isinstance(parsed, dict) or "channel" not in parsed:
            answer = {"ok": False, "error": "channel_not_found"}
        else:
            answer = self._apply(method, parsed)
        with _lock:
            _received.append({"seq": len(_received), "path": self.path, "time": arrived,
                              "body": text, "json": parsed, "method": method,
                              "content_type": self.headers.get("Content-Type", ""),
                              "authorized": authorized, "mode": mode["mode"], "status": status,
                              "answer": answer})
        if mode["mode"] == "hang" and authorized:
            time.sleep(float(mode["hang_seconds"]))
            try:
                self._answer(200, json.dumps({"ok": False, "error": "request_timeout"}),
                             "application/json")
            except OSError:
                pass
            return
        self._answer(status, json.dumps(answer), "application/json; charset=utf-8", headers)

    @staticmethod
    def _apply(method, body):
        """Carries out an accepted call on the recorded messages; returns Slack's answer."""
        channel = body["channel"]
        if channel.startswith("#"):
            channel = "C0STANDIN"
        with _lock:
            if method == "chat.postMessage":
                seq = len(_messages) + sum(len(m["replies"]) for m in _messages)
                ts = "%d.%06d" % (1700000000 + seq, seq)
                thread_ts = body.get("thread_ts")
                if thread_ts:
                    for m in _messages:
                        if m["channel"] == channel and m["ts"] == thread_ts:
                            m["replies"].append(body)
                            return {"ok": True, "channel": channel, "ts": ts}
                    return {"ok": False, "error": "thread_not_found"}
                _messages.append({"channel": channel, "ts": ts, "body": body, "updates": 0,
                                  "replies": []})
                return {"ok": True, "channel": channel, "ts": ts}
            for m in _messages:
                if m["channel"] == channel and m["ts"] == body.get("ts"):
                    m["body"] = body
                    m["updates"] += 1
                    return {"ok": True, "channel": channel, "ts": m["ts"]}
            return {"ok": False, "error": "message_not_found"}


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
