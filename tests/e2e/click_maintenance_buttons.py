#!/usr/bin/env python3
"""Clicks the status page's maintenance buttons in headless Chromium, as a person would.

Usage: click_maintenance_buttons.py CHROMIUM PAGE_URL PROFILE_DIR

Talks the DevTools protocol over --remote-debugging-pipe (JSON messages ended by a NUL byte,
commands on the browser's fd 3, answers on its fd 4), so it needs nothing beyond Python's
standard library: no WebSocket client, no node. Waits for the first render, clicks
"On for 1 h" (accepting the confirm dialog), then "Off", and prints what the page said as
{"on": ..., "off": ...}. Exits non-zero with the reason on stderr when any step times out.
"""

import fcntl
import json
import os
import select
import subprocess
import sys
import time

DEADLINE = time.monotonic() + 60


class DevTools:
    def __init__(self, chromium, profile):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes():
            # Chromium reads commands on fd 3 and writes answers on fd 4. Both ends are first
            # copied above 4, so placing one cannot overwrite the other.
            command_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            answer_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(command_end, 3)
            os.dup2(answer_end, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--user-data-dir=" + os.path.join(profile, "profile"),
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(profile, "chromium.err"), "wb"),
            env=dict(os.environ, HOME=profile, XDG_CONFIG_HOME=os.path.join(profile, "config"),
                     XDG_CACHE_HOME=os.path.join(profile, "cache")),
            preexec_fn=wire_pipes, pass_fds=(3, 4))
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._last_id = 0
        self.session = None

    def close(self):
        self.process.kill()
        self.process.wait()

    def _read_message(self):
        while b"\0" not in self._buffer:
            left = DEADLINE - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium's DevTools did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, **params):
        self._last_id += 1
        command = {"id": self._last_id, "method": method, "params": params}
        if self.session is not None:
            command["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        while True:
            message = self._read_message()
            if message.get("id") != self._last_id:
                continue  # an event, or the answer to nothing we wait for
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message["result"]

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, what):
        while not self.evaluate(expression):
            if time.monotonic() > DEADLINE:
                raise TimeoutError("timed out waiting for " + what)
            time.sleep(0.1)


def by_id(element_id):
    return f"document.getElementById({json.dumps(element_id)})"


def click(tools, selector, expect_enabled):
    result = by_id("maintenance-result")
    tools.evaluate(f'{result}.textContent = ""; window.confirm = () => true; '
                   f"document.querySelector({json.dumps(selector)}).click(); true")
    tools.wait_for(f'{result}.textContent !== ""', selector + "'s answer")
    said = tools.evaluate(f"{result}.textContent")
    state = "true" if expect_enabled else "false"
    tools.wait_for(f'{by_id("maintenance")}.dataset.enabled === "{state}" || '
                   f'{result}.className === "bad"', "the page to show maintenance " + state)
    return said


def main():
    chromium, page_url, profile = sys.argv[1:4]
    tools = DevTools(chromium, profile)
    try:
        target = tools.send("Target.createTarget", url="about:blank")["targetId"]
        tools.session = tools.send("Target.attachToTarget", targetId=target,
                                   flatten=True)["sessionId"]
        tools.send("Page.navigate", url=page_url)
        tools.wait_for('document.body !== null && document.body.dataset.loaded === "true" && '
                       f'!{by_id("maintenance-buttons")}.hidden',
                       "the first render with the buttons")
        on = click(tools, "#maintenance-buttons button[data-hours='1']", True)
        off = click(tools, "#maintenance-buttons button[data-off]", False)
        print(json.dumps({"on": on, "off": off}, separators=(",", ":")))
    finally:
        tools.close()


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, TimeoutError) as e:
        print(f"click_maintenance_buttons: {e}", file=sys.stderr)
        sys.exit(1)
