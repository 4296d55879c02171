#!/usr/bin/env python3
"""Open TensorBoard's Graphs dashboard in headless Chromium and check that it draws a graph.

    python graphs_dashboard_check.py --logdir DIR --nodes a,b,c [--screenshot OUT.png]
                                     [--chromium chromium] [--timeout 120]

Serves DIR with `tensorboard --load_fast=true` on a free loopback port (tensorboard_check.py's
TensorBoardServer), starts Chromium headless (chromium.py) and opens `/#graphs`. The dashboard is Polymer inside shadow roots, which `--dump-dom` does not
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
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium import Unavailable, tensorboard_in_chromium, verdict  # noqa: E402

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

    problems, shown, tags = [], [], []

    def loaded(server):  # the data server's first load, so the dashboard finds the runs
        info = server.get_json("/data/plugin/graphs/info")
        return isinstance(info, dict) and bool(info) and "http_error" not in info

    try:
        with tensorboard_in_chromium(args.logdir, deadline, loaded, {}, args.chromium) as (server, browser, url):
            browser.call("Page.navigate", {"url": url + "#graphs"})

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
    except Unavailable as error:
        print(f"graphs_dashboard_check: {error}")
        return 2
    return verdict("graphs_dashboard_check", problems, deadline, args.timeout, f"tags {tags} drawn ({'; '.join(shown)})")


if __name__ == "__main__":
    sys.exit(main())
