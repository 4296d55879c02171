"""Headless Chromium driven through the DevTools protocol over `--remote-debugging-pipe`: the
protocol as NUL-separated JSON on file descriptors 3 and 4, so no websocket client is needed.
Chromium may reach nothing but 127.0.0.1: every other host name resolves to nothing.

Used by graphs_dashboard_check.py and dashboard_check.py to look at TensorBoard's UI.
"""

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

# Runs in the page: every text shown, across shadow roots (TensorBoard's dashboards are Polymer
# and Angular components, whose text `--dump-dom` does not show).
PAGE_TEXTS = r"""
(() => {
  const texts = [];
  const walk = (root) => {
    for (const element of root.querySelectorAll('*')) {
      for (const child of element.childNodes) {
        if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) texts.push(child.textContent.trim());
      }
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  walk(document);
  return JSON.stringify(texts);
})()
"""


class Chromium:
    """Headless Chromium driven through the DevTools protocol over --remote-debugging-pipe."""

    def __init__(self, executable, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="ringboard-chromium-")
        to_chromium_read, to_chromium_write = os.pipe()
        from_chromium_read, from_chromium_write = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4: move the ends it keeps out
        # of the way first, so that placing them on 3 and 4 in the child cannot clobber either.
        keep_read = fcntl.fcntl(to_chromium_read, fcntl.F_DUPFD_CLOEXEC, 10)
        keep_write = fcntl.fcntl(from_chromium_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chromium_read)
        os.close(from_chromium_write)

        def place_pipes():
            os.dup2(keep_read, 3)
            os.dup2(keep_write, 4)

        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--mute-audio",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            close_fds=False, preexec_fn=place_pipes, start_new_session=True)
        os.close(keep_read)
        os.close(keep_write)
        self.commands = os.fdopen(to_chromium_write, "wb", buffering=0)
        self.replies = from_chromium_read
        self.pending = b""
        self.next_id = 0
        self.session = None
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.replies], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.replies, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe\n" + self.log_tail())
            self.pending += chunk
        message, self.pending = self.pending.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        request = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            request["sessionId"] = self.session
        self.commands.write(json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def open_page(self):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.call("Runtime.enable")
        self.call("Page.enable")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def page_problems(self):
        """Exceptions and failed console assertions the page reported so far."""
        problems = []
        for event in self.events:
            if event["method"] == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                problems.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
            elif event["method"] == "Runtime.consoleAPICalled" and event["params"]["type"] == "assert":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in event["params"]["args"])
                problems.append(f"console assertion failed: {args}")
        return problems

    def texts(self):
        """Every text the page shows, across shadow roots."""
        return json.loads(self.evaluate(PAGE_TEXTS))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def log_tail(self, lines=15):
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return "\n".join("    " + line for line in text[-lines:])

    def stop(self):
        try:
            self.commands.close()
        except OSError:
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=5)
        os.close(self.replies)
        shutil.rmtree(self.profile, ignore_errors=True)


class Unavailable(Exception):
    """TensorBoard or Chromium could not be started: the check cannot run (its exit status 2)."""


@contextlib.contextmanager
def tensorboard_in_chromium(logdir, deadline, loaded, size_guidance=None, chromium="chromium", width=1400, height=900):
    """Serves `logdir` with `tensorboard --load_fast=true` on a free loopback port
    (tensorboard_check.TensorBoardServer), waits until `loaded(server)` says the data server has
    read what the check needs, and starts headless Chromium on a blank page. Yields
    `(server, browser, url)`; stops both on leaving. Raises `Unavailable` saying which did not
    start."""
    import tensorboard_check  # beside this file; imported here, as it imports TensorBoard

    executable = shutil.which(chromium)
    if executable is None:
        raise Unavailable(f"{chromium} not found (Scripts/setup.sh installs Debian's chromium)")
    server = tensorboard_check.TensorBoardServer(logdir, size_guidance or {}, reload_interval=1)
    browser = None
    try:
        error = server.start(deadline)
        if error:
            raise Unavailable(error)
        while time.monotonic() < deadline and not loaded(server):
            time.sleep(0.3)
        try:
            browser = Chromium(executable, width=width, height=height)
            browser.call("Browser.getVersion", session=False, timeout=min(30, deadline - time.monotonic()))
            browser.open_page()
        except (ConnectionError, TimeoutError, RuntimeError, StopIteration) as error:
            raise Unavailable(f"Chromium did not start: {error}") from None
        yield server, browser, f"http://127.0.0.1:{server.port}/"
    finally:
        if browser is not None:
            browser.stop()
        server.stop()


def verdict(name, problems, deadline, timeout, success):
    """Prints every problem and `<name>: FAILED, n problems` and returns 1, or prints
    `<name>: ok, <success>` and returns 0. Running past `deadline` is a problem too."""
    if time.monotonic() >= deadline:
        problems.append(f"the check took longer than {timeout} s")
    if problems:
        for line in problems:
            print(line)
        print(f"{name}: FAILED, {len(problems)} problems")
        return 1
    print(f"{name}: ok, {success}")
    return 0
