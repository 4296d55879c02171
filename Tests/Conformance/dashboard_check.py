#!/usr/bin/env python3
"""Open TensorBoard's UI over a log directory in headless Chromium and check what a user sees.

    python dashboard_check.py --logdir DIR [--runs a,b] [--tags x,y] [--image-tag SUBSTRING]
                              [--screenshots OUTDIR [--dashboards scalars,images,...]]
                              [--chromium chromium] [--timeout 240]

Serves DIR with `tensorboard --load_fast=true` on a free loopback port, opens it in headless
Chromium (chromium.py), and reads the page's DOM across shadow roots:

- the scalars dashboard (`/#scalars`) must list every run of --runs and show a card for every
  tag of --tags;
- with --image-tag, the images dashboard (`/#images`) must show a card whose title holds it, with
  an image loaded (a PNG the browser decoded, of non-zero width);
- no page may say that no dashboard is active or that data could not be loaded, or raise an
  exception.

With --screenshots, each dashboard of --dashboards is opened once its text has settled and
captured as OUTDIR/<dashboard>.png. Exits 0 with one summary line when all holds, 1 with every
problem otherwise, 2 when Chromium or TensorBoard cannot be started.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xplane  # noqa: E402  (XProf's trace viewer)
from chromium import Unavailable, tensorboard_in_chromium, verdict  # noqa: E402

ERROR_TEXTS = ("No dashboards are active", "Data could not be loaded", "Failed to fetch")

# Runs in the page: the images the page shows (across shadow roots), with their card's title.
PAGE_IMAGES = r"""
(() => {
  const images = [];
  const walk = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.localName === 'img' && (element.src || '').includes('individualImage')) {
        images.push({src: element.src, width: element.naturalWidth, loaded: element.complete});
      }
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  walk(document);
  return JSON.stringify(images);
})()
"""


def settle(browser, deadline, done=lambda texts: True, quiet=2.0):
    """Polls the page's texts until `done(texts)` holds and they stop changing for `quiet` seconds,
    or the deadline passes; returns the last texts."""
    previous, since = None, time.monotonic()
    while True:
        texts = browser.texts()
        now = time.monotonic()
        if texts != previous:
            previous, since = texts, now
        elif done(texts) and now - since >= quiet:
            return texts
        if now >= deadline:
            return texts
        time.sleep(0.3)


def shown_errors(texts, where):
    shown = " ".join(texts)
    return [f"{where}: the page says {shown[shown.index(t):shown.index(t) + 120]!r}" for t in ERROR_TEXTS if t in shown]


def open_trace_viewer(server, browser, url, deadline, problems):
    """The profile dashboard (XProf, when TensorBoard has it) on its trace viewer of the first
    session of the first run, as a user opens it from the dashboard's Tools menu. Returns the
    page's texts once settled."""
    sessions = server.get_json("/data/plugin/profile/runs")
    if not isinstance(sessions, list) or not sessions:
        problems.append(f"profile: no session listed ({sessions!r}); is the profile plugin installed?")
        return []
    query = xplane.trace_viewer_query(server, sorted(sessions)[0])
    browser.call("Page.navigate", {"url": url + "data/plugin/profile/index.html?" + query})
    texts = settle(browser, min(deadline, time.monotonic() + 60), lambda texts: any(t.startswith("Sessions") for t in texts))
    if "Trace Viewer" not in texts:
        problems.append(f"profile: the trace viewer is not the tool shown (texts {texts[:12]})")
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", required=True)
    parser.add_argument("--runs", default="", help="comma-separated runs the scalars dashboard must list")
    parser.add_argument("--tags", default="", help="comma-separated tags the scalars dashboard must show")
    parser.add_argument("--image-tag", help="a substring of the title of an image card that must show an image")
    parser.add_argument("--screenshots", help="a directory for a PNG of each dashboard")
    parser.add_argument("--dashboards", default="scalars,histograms,distributions,images,graphs,projector",
                        help="the dashboards to capture with --screenshots (profile: XProf's trace viewer of the first "
                             "session, when TensorBoard has the profile plugin)")
    parser.add_argument("--chromium", default="chromium")
    parser.add_argument("--timeout", type=float, default=240, help="seconds for the whole check")
    args = parser.parse_args()
    runs = [r for r in args.runs.split(",") if r]
    tags = [t for t in args.tags.split(",") if t]
    deadline = time.monotonic() + args.timeout

    problems, summary = [], []

    def loaded(server):  # the data server's first load, so that the dashboards find the runs
        listed = server.get_json("/data/runs")
        return isinstance(listed, list) and len(listed) >= len(runs) and bool(listed)

    try:
        with tensorboard_in_chromium(args.logdir, deadline, loaded, {"images": 10}, args.chromium, 1600, 1000) as (server, browser, url):

            def open_dashboard(name, done=lambda texts: True):
                browser.call("Page.navigate", {"url": url + "#" + name})
                return settle(browser, min(deadline, time.monotonic() + 60), done)

            if runs or tags:
                texts = open_dashboard("scalars", lambda texts: all(x in texts for x in runs + tags))
                missing_runs = [r for r in runs if r not in texts]
                missing_tags = [t for t in tags if t not in texts]
                if missing_runs:
                    problems.append(f"scalars: runs {missing_runs} are not listed")
                if missing_tags:
                    problems.append(f"scalars: tags {missing_tags} have no card")
                problems += shown_errors(texts, "scalars")
                summary.append(f"scalars lists {len(runs)} runs and {len(tags)} tags")
            if args.image_tag:
                def images_shown(texts):
                    images = json.loads(browser.evaluate(PAGE_IMAGES))
                    return any(args.image_tag in t for t in texts) and any(i["loaded"] and i["width"] > 0 for i in images)
                texts = open_dashboard("images", images_shown)
                images = json.loads(browser.evaluate(PAGE_IMAGES))
                titles = [t for t in texts if args.image_tag in t]
                drawn = [i for i in images if i["loaded"] and i["width"] > 0]
                if not titles:
                    problems.append(f"images: no card titled with {args.image_tag!r}")
                if not drawn:
                    problems.append(f"images: no image drawn ({len(images)} img elements)")
                problems += shown_errors(texts, "images")
                summary.append(f"images shows {len(drawn)} images, {titles[0] if titles else '-'} among them")
            if args.screenshots:
                os.makedirs(args.screenshots, exist_ok=True)
                for name in [d for d in args.dashboards.split(",") if d]:
                    if name == "profile":
                        texts = open_trace_viewer(server, browser, url, deadline, problems)
                    else:
                        texts = open_dashboard(name)
                    problems += shown_errors(texts, name)
                    browser.screenshot(os.path.join(args.screenshots, f"{name}.png"))
                summary.append(f"{len(args.dashboards.split(','))} screenshots in {args.screenshots}")
            problems += browser.page_problems()
    except Unavailable as error:
        print(f"dashboard_check: {error}")
        return 2
    return verdict("dashboard_check", problems, deadline, args.timeout, '; '.join(summary))


if __name__ == "__main__":
    sys.exit(main())
