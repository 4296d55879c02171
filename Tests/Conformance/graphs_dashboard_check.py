#!/usr/bin/env python3
"""Open TensorBoard's Graphs dashboard in headless Chromium and check that it draws a graph.

    python graphs_dashboard_check.py --logdir DIR --nodes a,b,c [--screenshot OUT.png]
                                     [--chromium chromium] [--timeout 120]

Serves DIR with `tensorboard --load_fast=true` on a free loopback port (tensorboard_check.py's
TensorBoardServer), starts Chromium headless with `--remote-debugging-pipe` (the DevTools
protocol as NUL-separated JSON on file descriptors 3 and 4, so no websocket client is needed),
and opens `/#graphs`. The dashboard is Polymer inside shadow roots, which `--dump-dom` does not
show, so a script run in the page walks every shadow root for the drawn nodes (`g.node` elements
of the graph's SVG, by `data-name`) and the text shown.

Then every tag the dashboard offers for the first run is selected in turn, with the graph type
the dashboard picks for it (op graph, profile or Keras conceptual graph), as a user clicking
through the tag menu would; a tag that also offers a profile (run metadata with step stats) is
then shown as a profile too. Each must draw at least one node and show no error ("Graph
visualization failed", "Malformed GraphDef", "The graph is empty"), and the page must raise no
exception or failed console assertion. The first selection (what the dashboard opens on) must
draw a node for each of --nodes.

Chromium may reach nothing but 127.0.0.1: every other host name resolves to nothing.
Exits 0 with one summary line when all holds, 1 with every problem otherwise, 2 when Chromium
or TensorBoard cannot be started.
"""

import argparse
import base64
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorboard_check  # noqa: E402  (TensorBoardServer)

ERROR_TEXTS = ("Graph visualization failed", "Malformed GraphDef", "The graph is empty")

# Runs in the page: what the Graphs dashboard shows now, across shadow roots.
PAGE_STATE = r"""
(() => {
  const nodes = [], texts = [];
  let controls = null;
  const walk = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.localName === 'tf-graph-controls') controls = element;
      if (element.matches('g.node[data-name]')) nodes.push(element.getAttribute('data-name'));
      if (element.shadowRoot) walk(element.shadowRoot);
    }
    for (const child of root.childNodes) {
      if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) texts.push(child.textContent.trim());
    }
    for (const element of root.querySelectorAll('*')) {
      for (const child of element.childNodes) {
        if (child.nodeType === Node.TEXT_NODE && child.textContent.trim()) texts.push(child.textContent.trim());
      }
    }
  };
  walk(document);
  let tags = null, profiles = null, selected = null;
  if (controls && controls.datasets && controls.datasets.length) {
    const run = controls.datasets[controls._selectedRunIndex || 0];
    tags = run.tags.map(t => t.tag === null ? null : t.tag);
    profiles = run.tags.map(t => !!t.profile);
    selected = {run: run.name, tagIndex: controls._selectedTagIndex, type: controls._selectedGraphType};
  }
  return JSON.stringify({nodes, texts, tags, profiles, selected});
})()
"""

SELECT_TAG = r"""
(() => {
  const find = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.localName === 'tf-graph-controls') return element;
      if (element.shadowRoot) { const found = find(element.shadowRoot); if (found) return found; }
    }
    return null;
  };
  const controls = find(document);
  controls._selectedTagIndex = %d;
  return controls._selectedGraphType;
})()
"""

# Shows the selected tag as a profile, as the "Profile" radio button does.
SELECT_PROFILE = SELECT_TAG.replace("controls._selectedTagIndex = %d;", "controls._selectedGraphType = 'profile';")


class Chromium:
    """Headless Chromium driven through the DevTools protocol over --remote-debugging-pipe."""

    def __init__(self, executable, width=1400, height=900):
        self.profile = tempfile.mkdtemp(prefix="graphs-dashboard-chromium-")
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
            import select
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


def wait_for_drawing(browser, deadline, settle=1.5):
    """Polls the page until it shows an error, or its drawn nodes stop changing for `settle`
    seconds after at least one appeared; returns the last state."""
    previous, since = None, time.monotonic()
    while True:
        state = json.loads(browser.evaluate(PAGE_STATE))
        shown = " ".join(state["texts"])
        if any(text in shown for text in ERROR_TEXTS):
            time.sleep(0.5)  # let the message finish drawing for the screenshot
            return json.loads(browser.evaluate(PAGE_STATE))
        snapshot = (tuple(state["nodes"]), json.dumps(state["selected"]))
        now = time.monotonic()
        if snapshot != previous:
            previous, since = snapshot, now
        elif state["nodes"] and now - since >= settle:
            return state
        if now >= deadline:
            return state
        time.sleep(0.25)


def check_state(state, where, problems, want_nodes=()):
    shown = " ".join(state["texts"])
    for text in ERROR_TEXTS:
        if text in shown:
            at = shown.index(text)
            problems.append(f"{where}: the page shows {shown[at:at + 160]!r}")
    if not state["nodes"]:
        problems.append(f"{where}: no graph node is drawn")
    missing = [n for n in want_nodes if n not in state["nodes"]]
    if missing:
        problems.append(f"{where}: nodes {missing} are not drawn (drawn: {sorted(state['nodes'])[:20]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--nodes", default="", help="comma-separated node names the first graph must draw")
    parser.add_argument("--screenshot", help="write a PNG of the dashboard as it opened, and one per "
                                             "other tag next to it (OUT-<tag>.png)")
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for the whole check")
    args = parser.parse_args()
    want_nodes = [n for n in args.nodes.split(",") if n]
    deadline = time.monotonic() + args.timeout

    executable = shutil.which(args.chromium)
    if executable is None:
        print(f"graphs_dashboard_check: {args.chromium} not found (Scripts/setup.sh installs chromium)")
        return 2
    server = tensorboard_check.TensorBoardServer(args.logdir, {}, reload_interval=1)
    browser = None
    problems = []
    try:
        error = server.start(deadline)
        if error:
            print(f"graphs_dashboard_check: {error}")
            return 2
        # Wait for the data server's first load, so the dashboard finds the runs.
        while time.monotonic() < deadline:
            info = server.get_json("/data/plugin/graphs/info")
            if isinstance(info, dict) and info and "http_error" not in info:
                break
            time.sleep(0.3)
        try:
            browser = Chromium(executable)
            browser.call("Browser.getVersion", session=False, timeout=min(30, deadline - time.monotonic()))
            browser.open_page()
        except (ConnectionError, TimeoutError, RuntimeError, StopIteration) as error:
            print(f"graphs_dashboard_check: Chromium did not start: {error}")
            return 2
        browser.call("Page.navigate", {"url": f"http://127.0.0.1:{server.port}/#graphs"})

        state = wait_for_drawing(browser, deadline)
        if args.screenshot:
            browser.screenshot(args.screenshot)
        first = state["selected"] or {}
        where = f"as opened (tag {first.get('tagIndex')}, {first.get('type')})"
        check_state(state, where, problems, want_nodes)
        shown = [f"{first.get('tagIndex')}: {first.get('type')}, {len(state['nodes'])} nodes"]
        tags = state["tags"] or []
        profiles = state["profiles"] or []
        if state["tags"] is None:
            problems.append("the dashboard's controls show no run")

        def show_profile(index, name):
            browser.evaluate(SELECT_PROFILE)
            state = wait_for_drawing(browser, deadline)
            if args.screenshot:
                browser.screenshot(os.path.splitext(args.screenshot)[0] + f"-{name}-profile.png")
            check_state(state, f"tag {name} (profile)", problems)
            shown.append(f"{name}: profile, {len(state['nodes'])} nodes")

        first_index = first.get("tagIndex")
        if first_index is not None and first_index < len(profiles) and profiles[first_index] \
                and first.get("type") != "profile":
            show_profile(first_index, tags[first_index] if tags[first_index] is not None else "Default")
        for index, tag in enumerate(tags):
            if index == first_index:
                continue
            graph_type = browser.evaluate(SELECT_TAG % index)
            state = wait_for_drawing(browser, deadline)
            name = tag if tag is not None else "Default"
            if args.screenshot:
                browser.screenshot(os.path.splitext(args.screenshot)[0] + f"-{name}.png")
            check_state(state, f"tag {name} ({graph_type})", problems)
            shown.append(f"{name}: {graph_type}, {len(state['nodes'])} nodes")
            if profiles[index] and graph_type != "profile":
                show_profile(index, name)
        problems += browser.page_problems()
    finally:
        if browser is not None:
            browser.stop()
        server.stop()

    if time.monotonic() >= deadline:
        problems.append(f"the check took longer than {args.timeout} s")
    if problems:
        for line in problems:
            print(line)
        print(f"graphs_dashboard_check: FAILED, {len(problems)} problems")
        return 1
    print(f"graphs_dashboard_check: ok, tags {tags} drawn ({'; '.join(shown)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
