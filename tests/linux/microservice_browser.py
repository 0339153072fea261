#!/usr/bin/env python3
"""The microservice demo's page in a real browser (issue #16, "Done when" 2).

usage: microservice_browser.py PAGE_URL API_URL SCREENSHOT.png
       microservice_browser.py --fresh PAGE_URL API_URL

Starts headless Chromium (Debian's `chromium`) and drives it through its DevTools protocol over
--remote-debugging-pipe: Chromium reads commands from fd 3 and writes replies and events to fd 4,
each a JSON message ended by a NUL byte -- so no websocket client is needed, only python3.

Opens PAGE_URL and checks that the orders table shows what API_URL/orders returns, adds an
order by typing into the form and clicking its button, deletes one with its row's button, and
after each step that the table and /orders agree; then saves a screenshot (PNG) of the page.
With --fresh, on a database without the orders table: checks that the page calls /init itself
(as the original client does when /orders fails) and shows an empty table.
Prints "ok NAME" or "FAIL NAME: why" per check, then "browser: P passed, F failed"; exit 1 on a
failure. CHROMIUM (default: chromium) names the browser."""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

# The order typed into the form: values a float32 holds exactly, so /orders prints them as typed.
NEW_ORDER = {"order_id": 6, "product_id": 42, "quantity": 3, "amount": 99.5, "shipping": 7.25,
             "tax": 4.5, "shipping_address": "7 Rue de la Paix"}
DELETE_ID = 3


class Browser:
    """Chromium with a DevTools pipe; `call` sends a command and returns its result."""

    def __init__(self, profile, log):
        to_browser = os.pipe()    # Chromium reads fd 3
        from_browser = os.pipe()  # Chromium writes fd 4
        # above 4, so that the dup2s in the child cannot overwrite each other's source
        r3 = fcntl.fcntl(to_browser[0], fcntl.F_DUPFD_CLOEXEC, 10)
        w4 = fcntl.fcntl(from_browser[1], fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser[0])
        os.close(from_browser[1])

        def child_fds():
            os.dup2(r3, 3)
            os.dup2(w4, 4)

        exe = os.environ.get("CHROMIUM", "chromium")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--hide-scrollbars", "--mute-audio", "--user-data-dir=" + profile,
             "--window-size=1280,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(r3)
        os.close(w4)
        self.out = to_browser[1]
        self.inp = from_browser[0]
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        self.log = log

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from Chromium")
            r, _, _ = select.select([self.inp], [], [], left)
            if r:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise EOFError("Chromium closed its pipe (exit %s): %s"
                                   % (self.proc.poll(), self.stderr_tail()))
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def stderr_tail(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.out, data):]
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m["method"] == method:
                    del self.events[i]
                    return m.get("params", {})
            m = self._read_message(deadline)
            if "method" in m:
                self.events.append(m)

    def eval(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("JS: %s" % r["exceptionDetails"].get("exception", {}).get(
                "description", r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait_until(self, expression, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expression)
            if v:
                return v
            if time.monotonic() > deadline:
                raise TimeoutError("still false after %d s: %s" % (timeout, expression))
            time.sleep(0.1)

    def click(self, selector):
        """A real mouse click (pressed and released) at the middle of the element."""
        box = self.eval("(() => { const e = document.querySelector(%s); e.scrollIntoView({block: "
                        "'center'}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2,"
                        " r.y + r.height / 2]; })()" % json.dumps(selector))
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                    "button": "left" if kind != "mouseMoved" else "none",
                                                    "clickCount": 1})

    def type_into(self, selector, text):
        """Focus the field and type the text as keyboard input."""
        self.eval("(() => { const e = document.querySelector(%s); e.focus(); e.select && e.select();"
                  " return true; })()" % json.dumps(selector))
        self.call("Input.insertText", {"text": text})

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)


# a row as the table shows it: amounts with two decimals
def as_row(o):
    return [str(o["order_id"]), str(o["product_id"]), str(o["quantity"]),
            "%.2f" % o["amount"], "%.2f" % o["shipping"], "%.2f" % o["tax"], o["shipping_address"]]


TABLE_ROWS = """Array.from(document.querySelectorAll('#orders tbody tr')).map(
    tr => Array.from(tr.cells).slice(0, 7).map(td => td.textContent))"""


def main():
    args = sys.argv[1:]
    fresh = args[:1] == ["--fresh"]
    if fresh:
        args = args[1:]
    if len(args) != (2 if fresh else 3):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    page, api = args[0], args[1].rstrip("/")
    shot = None if fresh else args[2]
    passed = failed = 0

    def check(name, fn):
        nonlocal passed, failed
        try:
            fn()
            print("ok " + name)
            passed += 1
            return True
        except Exception as e:  # a failed check is reported and counted, the rest still runs
            print("FAIL %s: %s" % (name, e))
            failed += 1
            return False

    def api_orders():
        with urllib.request.urlopen(api + "/orders", timeout=10) as r:
            return json.loads(r.read())

    def table_agrees():
        deadline = time.monotonic() + 10
        while True:
            want = [as_row(o) for o in api_orders()]
            got = b.eval(TABLE_ROWS)
            if got == want:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the table shows %s, /orders %s" % (got, want))
            time.sleep(0.1)

    if not shutil.which(os.environ.get("CHROMIUM", "chromium")):
        print("FAIL chromium: not installed (scripts/deps.sh installs Debian's chromium)")
        print("browser: 0 passed, 1 failed")
        return 1
    profile = tempfile.mkdtemp(prefix="wb-chromium-")
    log = tempfile.TemporaryFile()  # Chromium's own output, shown when it dies
    b = Browser(profile, log)
    try:
        def start():
            target = b.call("Target.createTarget", {"url": "about:blank"}, session=False)
            b.session = b.call("Target.attachToTarget", {"targetId": target["targetId"],
                                                          "flatten": True}, session=False)["sessionId"]
            b.call("Page.enable")
            b.call("Runtime.enable")
            b.call("Emulation.setDeviceMetricsOverride", {"width": 1100, "height": 760,
                                                         "deviceScaleFactor": 1, "mobile": False})
            b.call("Page.navigate", {"url": page})
            b.wait_event("Page.loadEventFired")

        if not check("open %s" % page, start):
            raise SystemExit
        if fresh:
            # the original client's way: /orders fails without the table, so it calls /init
            check("a fresh database: the page calls /init and shows no orders", lambda: (
                b.wait_until("document.getElementById('status').textContent === '0 orders'"),
                b.wait_until("document.querySelectorAll('#orders tbody tr').length === 0")))

            def table_made():
                got = api_orders()
                if got != []:
                    raise AssertionError("/orders answers %s" % got)

            check("a fresh database: /orders answers [] (the page made the table)", table_made)
            raise SystemExit
        before = api_orders()
        check("the table lists /orders (%d rows)" % len(before), lambda: (
            b.wait_until("document.querySelectorAll('#orders tbody tr').length > 0"),
            table_agrees()))

        def add():
            for k, v in NEW_ORDER.items():
                b.type_into("#create [name=%s]" % k, str(v))
            b.click("#create button[type=submit]")
            b.wait_until("!!document.querySelector('#orders tbody tr[data-order-id=\"%d\"]')"
                         % NEW_ORDER["order_id"])

        check("add order %d through the form" % NEW_ORDER["order_id"], add)

        def added_in_api():
            got = [o for o in api_orders() if o["order_id"] == NEW_ORDER["order_id"]]
            if got != [NEW_ORDER]:
                raise AssertionError("/orders has %s" % got)

        check("/orders has the new order as typed", added_in_api)
        check("table and /orders agree after the add", table_agrees)

        def delete():
            b.click("#orders tbody tr[data-order-id=\"%d\"] button.delete" % DELETE_ID)
            b.wait_until("!document.querySelector('#orders tbody tr[data-order-id=\"%d\"]')" % DELETE_ID)
            ids = [o["order_id"] for o in api_orders()]
            if DELETE_ID in ids:
                raise AssertionError("/orders still has order %d: %s" % (DELETE_ID, ids))

        check("delete order %d with its button" % DELETE_ID, delete)
        check("table and /orders agree after the delete", table_agrees)

        def screenshot():
            b.eval("window.scrollTo(0, 0), document.activeElement && document.activeElement.blur(), true")
            b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 0, "y": 0})  # no hover
            png = base64.b64decode(b.call("Page.captureScreenshot", {"format": "png",
                                                                      "captureBeyondViewport": False})["data"])
            if not png.startswith(b"\x89PNG\r\n\x1a\n"):
                raise AssertionError("not a PNG")
            with open(shot + ".tmp", "wb") as f:
                f.write(png)
            os.replace(shot + ".tmp", shot)

        check("screenshot saved to %s" % shot, screenshot)
    except SystemExit:
        pass
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
