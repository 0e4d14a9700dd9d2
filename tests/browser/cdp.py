"""cdp.py - headless Chromium driven over the DevTools protocol, with no
package beyond Python's own: Chromium is started with
--remote-debugging-pipe, reads commands on its fd 3 and writes replies and
events on its fd 4, one JSON message each, ended by a NUL byte.

    b = Browser(profile_dir)        start Chromium, open one page
    b.viewport(1366, 768)           the page's size (mobile=True: a phone)
    b.goto(url)
    b.js(expr)                      evaluate (promises awaited), the value
    b.wait(expr, secs, what)        until expr is truthy, or AssertionError
    b.screenshot(path)              PNG
    b.close()

Every script exception and console error on the page is kept in
b.errors; a test may require it empty.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, profile, binary=None):
        binary = binary or find_chromium()
        # Chromium's end of the two pipes must be its fds 3 and 4.
        cmd_r, self._cmd_w = os.pipe()
        self._ev_r, ev_w = os.pipe()
        # Above 4 (and closed at exec), so that the dup2()s cannot clash.
        cmd_r = self._high(cmd_r)
        ev_w = self._high(ev_w)

        def child_fds():
            os.dup2(cmd_r, 3)
            os.dup2(ev_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync",
             "--password-store=basic", "--use-mock-keychain",
             "--user-data-dir=" + profile, "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(profile, "chromium.log"), "wb"),
            preexec_fn=child_fds, close_fds=False)
        os.close(cmd_r)
        os.close(ev_w)
        self._next = 0
        self._replies = {}
        self._cv = threading.Condition()
        self.errors = []
        self.log = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", {"url": "about:blank"})
        self.session = self.call("Target.attachToTarget", {
            "targetId": target["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(domain + ".enable")

    @staticmethod
    def _high(fd):
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return new

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self._ev_r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self._dispatch(json.loads(raw))
        with self._cv:
            self._replies["eof"] = True
            self._cv.notify_all()

    def _dispatch(self, m):
        method = m.get("method")
        if method == "Runtime.exceptionThrown":
            d = m["params"]["exceptionDetails"]
            self.errors.append("exception: " + d.get("exception", {}).get(
                "description", d.get("text", "?")))
        elif method == "Runtime.consoleAPICalled" and \
                m["params"]["type"] == "error":
            self.errors.append("console.error: " + " ".join(
                str(a.get("value", a.get("description", "")))
                for a in m["params"]["args"]))
        elif method == "Log.entryAdded":
            e = m["params"]["entry"]
            self.log.append("%s %s: %s %s" % (e["level"], e["source"],
                                              e["text"], e.get("url", "")))
        if "id" in m:
            with self._cv:
                self._replies[m["id"]] = m
                self._cv.notify_all()

    def call(self, method, params=None, session=None, timeout=30):
        self._next += 1
        mid = self._next
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cv:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or "eof" in self._replies:
                    raise AssertionError("chromium: no reply to " + method)
                self._cv.wait(left)
            m = self._replies.pop(mid)
        if "error" in m:
            raise AssertionError("chromium: %s: %s" % (method, m["error"]))
        return m.get("result", {})

    def send(self, method, params=None, timeout=30):
        return self.call(method, params, self.session, timeout)

    def viewport(self, width, height, mobile=False):
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height,
            "deviceScaleFactor": 3 if mobile else 1, "mobile": mobile})
        self.send("Emulation.setTouchEmulationEnabled", {"enabled": mobile})

    def goto(self, url):
        self.send("Page.navigate", {"url": url})

    def js(self, expr):
        r = self.send("Runtime.evaluate", {
            "expression": expr, "awaitPromise": True,
            "returnByValue": True})
        if "exceptionDetails" in r:
            raise AssertionError("page: %s: %s" % (
                expr, r["exceptionDetails"].get("exception", {}).get(
                    "description", r["exceptionDetails"].get("text"))))
        return r["result"].get("value")

    def wait(self, expr, secs, what):
        """Until `expr` is truthy: its value.  Polls, with a deadline."""
        deadline = time.monotonic() + secs
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.js(expr)
            except AssertionError as e:
                # A navigation in flight destroys the context.
                last = str(e)
            else:
                if last:
                    return last
            time.sleep(0.1)
        raise AssertionError("timed out after %ss waiting for %s (last: %r)"
                             % (secs, what, last))

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except AssertionError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
