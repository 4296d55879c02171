#!/usr/bin/env python3
"""What `tensorboard --load_fast=true` serves for a log_dir, against keras_reference.py's output.

    python served_check.py LOGDIR EXPECTED.json

Run with the project's .venv (TensorBoard). Starts TensorBoard's Rust data server on a loopback
port (Tests/Conformance/tensorboard_check.py's TensorBoardServer) and checks its HTTP API: the
runs; every scalar series (steps and float32 values); the histogram and image tags with their
steps. Exits 0 printing "served: N series", 1 listing the differences.
"""

import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Conformance"))
import tensorboard_check  # noqa: E402


def f32(value):
    if isinstance(value, str):
        value = float(value.replace("Infinity", "inf"))
    return struct.unpack("<f", struct.pack("<f", value))[0]


def same(a, b):
    return (a != a and b != b) or a == b


def main():
    logdir, expected = sys.argv[1], json.load(open(sys.argv[2]))["runs"]
    expected = {run: body for run, body in expected.items()
                if any(body.get(kind) for kind in ("scalars", "histograms", "images", "tensors", "graph"))}
    server = tensorboard_check.TensorBoardServer(logdir, {"scalars": 1000, "histograms": 500, "images": 100})
    failure = server.start(time.monotonic() + 60)
    if failure:
        print(failure)
        return 1
    problems, series = [], 0
    try:
        deadline = time.monotonic() + 30
        while sorted(server.get_json("/data/runs")) != sorted(expected) and time.monotonic() < deadline:
            time.sleep(0.5)
        runs = server.get_json("/data/runs")
        if sorted(runs) != sorted(expected):
            problems.append(f"runs {sorted(runs)}, expected {sorted(expected)}")
        for plugin in ("scalars", "histograms", "images"):
            tags = server.get_json(f"/data/plugin/{plugin}/tags")
            for run, body in expected.items():
                want = body.get(plugin) or {}
                got = sorted((tags.get(run) or {}).keys())
                if got != sorted(want):
                    problems.append(f"{run} {plugin}: tags {got}, expected {sorted(want)}")
                    continue
                for tag, points in want.items():
                    series += 1
                    route = {"scalars": "scalars", "histograms": "histograms", "images": "images"}[plugin]
                    data = server.get_json(f"/data/plugin/{plugin}/{route}", run=run, tag=tag)
                    if plugin == "scalars":
                        got_points = [(row[1], row[2]) for row in data]
                        want_points = [(step, f32(value)) for step, value in points]
                        if len(got_points) != len(want_points) or not all(
                                gs == ws and same(gv, wv) for (gs, gv), (ws, wv) in zip(got_points, want_points)):
                            problems.append(f"{run} {tag}: {got_points}, expected {want_points}")
                    else:
                        got_steps = [row["step"] if isinstance(row, dict) else row[1] for row in data]
                        want_steps = [point["step"] for point in points]
                        if got_steps != want_steps:
                            problems.append(f"{run} {plugin} {tag}: steps {got_steps}, expected {want_steps}")
    finally:
        server.stop()
    if problems:
        print("\n".join(problems))
        return 1
    print(f"served: {series} series")
    return 0


if __name__ == "__main__":
    sys.exit(main())
