#!/usr/bin/env bash
# Side-by-side histogram throughput on 1 Mi Float32 values (4 MiB, 0.05 × standard normal, like a
# layer's weights): RingboardSummaries' TensorFlow-bucket histogram (`Histogram.tensorFlow`, on each
# vector path this CPU runs) against `numpy.histogram(values, bins=30)` on the same values, in the
# same run. Also shown: our TensorBoard 2.x histogram (`Histogram.tensorBoard`, 30 equal-width
# buckets, the same work numpy.histogram does), TensorBoard's own NumPy version of it
# (`summary_v2.histogram_pb`), the sums/min/max alone, the scalar reference, and memcpy of the 4 MiB
# as the memory bandwidth the values stream at.
#
# The two sides alternate for ROUNDS rounds so that both see the same machine load; the table
# shows the best round of each.
#
# Usage: Scripts/bench-histogram.sh        (environment: ROUNDS=3, SECONDS_PER_MEASUREMENT=0.5)
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
SECONDS_PER_MEASUREMENT="${SECONDS_PER_MEASUREMENT:-0.5}"
PYTHON=.venv/bin/python

Scripts/setup.sh >&2  # installs what is missing (zlib, liblz4, .venv); fast when all is there

echo "Building HistogramSideBySide (release)…" >&2
(cd Benchmarks && swift build -c release --product HistogramSideBySide >&2)
side_by_side="$(cd Benchmarks && swift build -c release --show-bin-path)/HistogramSideBySide"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
values="$work/values.f32"
results="$work/results"

# NumPy side: the same values (written by HistogramSideBySide) and the same line format.
measure_python() {
    "$PYTHON" - "$SECONDS_PER_MEASUREMENT" "$values" <<'PYTHON'
import sys
import time
import warnings

import numpy as np

seconds, path = float(sys.argv[1]), sys.argv[2]
values = np.fromfile(path, dtype="<f4")

warnings.filterwarnings("ignore")
from tensorboard.plugins.histogram import summary_v2  # noqa: E402


def measure(kind, function):
    function()
    calls, start = 0, time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    print(f"histogram kind={kind} path=numpy values={values.size} calls={calls}",
          f"seconds={int(elapsed * 1000)}e-3 values_per_second={int(values.size * calls / elapsed)}")


measure("numpy-histogram-30", lambda: np.histogram(values, bins=30))
measure("tensorboard-histogram-pb-30", lambda: summary_v2.histogram_pb("w", values))
PYTHON
}

"$side_by_side" 0.01 --values "$values" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
    echo "Round $round of $ROUNDS…" >&2
    "$side_by_side" "$SECONDS_PER_MEASUREMENT" | sed "s/^histogram /ringboard round=$round /" >>"$results"
    measure_python | sed "s/^histogram /python round=$round /" >>"$results"
done

"$PYTHON" - "$results" "$ROUNDS" "$SECONDS_PER_MEASUREMENT" <<'PYTHON'
import sys

path, rounds, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
best = {}  # (kind, path) -> best values/s over the rounds
order = []
for line in open(path):
    side, *fields = line.split()
    record = dict(field.split("=", 1) for field in fields)
    key = (record["kind"], record["path"])
    if key not in best:
        order.append(key)
    best[key] = max(best.get(key, 0.0), float(record["values_per_second"]))

labels = {
    "tf-buckets": "Ringboard Histogram.tensorFlow, TF default buckets",
    "tf-buckets-f64": "Ringboard Histogram.tensorFlow on the values as Float64",
    "tf-reductions": "Ringboard sums, min and max only",
    "tf-reference": "Ringboard scalar reference (binary search)",
    "tensorboard-30": "Ringboard Histogram.tensorBoard, 30 buckets",
    "memcpy": "memcpy of the 4 MiB",
    "numpy-histogram-30": "numpy.histogram(values, bins=30)",
    "tensorboard-histogram-pb-30": "TensorBoard summary_v2.histogram_pb, 30 buckets",
}
numpy = best["numpy-histogram-30", "numpy"]
print(f"Histograms of 1 Mi Float32 values (0.05 x N(0, 1)), best of {rounds} rounds of {seconds} s each")
print()
print(f"{'':58}  {'path':>8}  {'M values/s':>10}  {'vs numpy':>8}")
for kind, path_name in order:
    rate = best[kind, path_name]
    print(f"{labels.get(kind, kind):58}  {path_name:>8}  {rate / 1e6:10.0f}  {rate / numpy:7.2f}x")
print()
print("'vs numpy' divides by numpy.histogram(values, bins=30). The TF-bucket histogram does other work")
print("(1551 geometric buckets, sums, min and max, TensorFlow's encoding) than numpy's 30 equal-width")
print("bins; Histogram.tensorBoard is the like-for-like line.")
PYTHON
