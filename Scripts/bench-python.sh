#!/usr/bin/env bash
# The Python front end beside Keras's own TensorBoard callback and tensorboardX, in one run
# (Benchmarks/Tools/Python/bench_callbacks.py, one process per measurement, the kinds taking
# turns round after round; the table shows each kind's median over the rounds):
#   call  on_train_batch_end(batch, logs) with 4 float metrics, called directly: a no-op
#         callback, ringboard.keras.TensorBoard, keras.callbacks.TensorBoard, and tensorboardX's
#         4 add_scalar calls;
#   fit   model.fit of a small model, 2,000 batches of 32 in one epoch with validation data,
#         update_freq='batch', histogram_freq=1: a no-op callback, ours, no callback, Keras's,
#         all in one process (`bench_callbacks.py paired`): each round runs the four fits forward
#         and backward (A B C D D C B A), and the table shows each kind's median fit and the
#         median over the rounds of its time over the no-op callback's in the same round, with a
#         95% confidence interval. Fits on a shared VM now and then take a second longer,
#         whatever the callback; pairing within a round keeps that out of the ratio's median.
# Everything runs in .venv with Keras on the TensorFlow backend: tensorflow-cpu==2.21.0 is
# installed there on first use (Keras's own callback needs it), and so is the ringboard wheel
# (built by Scripts/build-native.sh and `pip wheel ./python`).
#
# And the SummaryWriter workloads (Benchmarks/Tools/Python/bench_writers.py, one process per
# measurement, the writers taking turns round after round): ringboard.SummaryWriter beside
# tensorboardX's and torch's (torch.utils.tensorboard; torch==2.13.0+cpu is installed into .venv
# when pip finds it, and its column says "not installed" otherwise):
#   add_scalar                 the median cost of a call over blocks of 1024, and calls/s until
#                              close() returns with everything in the event file;
#   add_histogram              1 Mi float32 values, bins='tensorflow', histograms/s until close();
#   add_image                  a 512×512 RGB float32 image (CHW, uniform noise), images/s until close();
#   4 processes × add_scalar   four processes started together, each with its own writer on one
#                              log_dir: all their calls over the time until the last close().
# Each process runs with OPENBLAS_NUM_THREADS=1 (numpy's BLAS threads would otherwise spin on
# the two cores).
#
# Usage: Scripts/bench-python.sh [--rounds N] [--fit-rounds N] [--batches N] [--writers-only]
#   --rounds N      per-call rounds, one process per measurement (default 5)
#   --fit-rounds N  rounds of the paired fits (default 20, about 25 s each)
#   --writers-only  only the SummaryWriter workloads
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
fit_rounds=20
batches=2000
writers_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --fit-rounds) fit_rounds="$2"; shift 2 ;;
        --batches) batches="$2"; shift 2 ;;
        --writers-only) writers_only=1; shift ;;
        *) echo "usage: $0 [--rounds N] [--fit-rounds N] [--batches N] [--writers-only]" >&2; exit 2 ;;
    esac
done

Scripts/setup.sh >/dev/null
PYTHON=.venv/bin/python
if ! "$PYTHON" -c 'import tensorflow' >/dev/null 2>&1; then
    echo "bench-python: installing tensorflow-cpu into .venv" >&2
    PIP_NO_INPUT=1 "$PYTHON" -m pip install --quiet --disable-pip-version-check tensorflow-cpu==2.21.0 </dev/null >&2
fi
Scripts/build-native.sh >/dev/null
wheels=.build-native/wheels
rm -rf "$wheels" python/build
PIP_NO_INPUT=1 "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps ./python -w "$wheels" </dev/null
PIP_NO_INPUT=1 "$PYTHON" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheels"/ringboard-*.whl </dev/null

if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    echo "bench-python: installing torch==2.13.0+cpu into .venv (for torch.utils.tensorboard), if pip finds it" >&2
    PIP_NO_INPUT=1 "$PYTHON" -m pip install --quiet --disable-pip-version-check torch==2.13.0+cpu </dev/null >&2 \
        || echo "bench-python: torch is not installable here; its column says so" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$work/results"
export KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3
bench() {
    "$PYTHON" Benchmarks/Tools/Python/bench_callbacks.py "$@" --ring-dir "$work/rings" \
        --log-dir "$(mktemp -d "$work/logs.XXXXXX")" 2>/dev/null | grep -E '^(result|ratio)' >>"$results"
}
writers=(ringboard tensorboardx)
"$PYTHON" -c 'import torch' >/dev/null 2>&1 && writers+=(torch)
for round in $(seq "$rounds"); do
    echo "bench-python: SummaryWriter round $round of $rounds" >&2
    for workload in scalar histogram image procs; do
        for kind in "${writers[@]}"; do
            OPENBLAS_NUM_THREADS=1 "$PYTHON" Benchmarks/Tools/Python/bench_writers.py "$workload" "$kind" --ring-dir "$work/rings" \
                --log-dir "$(mktemp -d "$work/logs.XXXXXX")" 2>/dev/null | grep -E '^result' | sed 's/^result /result writer-/' >>"$results"
        done
    done
done
[ "$writers_only" = 1 ] && rounds_for_calls=0 || rounds_for_calls="$rounds"
for round in $(seq "$rounds_for_calls"); do
    echo "bench-python: call round $round of $rounds" >&2
    for kind in noop ringboard keras tensorboardx; do bench call "$kind" --rounds 1; done
done
if [ "$writers_only" = 0 ]; then
    echo "bench-python: $fit_rounds rounds of paired fits" >&2
    bench paired noop,ringboard,none,keras --rounds "$fit_rounds" --batches "$batches"
fi

"$PYTHON" - "$results" "$rounds" "$batches" "$fit_rounds" "$writers_only" <<'PY'
import collections, os, statistics, sys
results = collections.defaultdict(list)
ratios = {}
for line in open(sys.argv[1]):
    if line.startswith("ratio"):
        _, kind, middle, low, high, count = line.split()
        ratios[kind] = (float(middle), float(low), float(high))
        continue
    _, mode, kind, value, unit = line.split()
    results[(mode, kind)].append(float(value))
median = {key: statistics.median(values) for key, values in results.items()}
fields = {}
for line in open("/proc/cpuinfo"):
    if ":" in line:
        key, value = (part.strip() for part in line.split(":", 1))
        fields.setdefault(key, value)
cpu = f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"
fits = "" if sys.argv[5] == "1" else f"; fits: {sys.argv[4]} paired rounds; Keras on the TensorFlow backend"
print(f"CPU: {cpu}, {os.cpu_count()} cores; {sys.argv[2]} rounds, medians{fits}")
print()
writer_rows = (("writer-scalar-call", "add_scalar, per call", "ns"), ("writer-scalar-e2e", "add_scalar, calls/s until on disk", "/s"),
               ("writer-histogram", "add_histogram of 1 Mi float32, histograms/s until on disk", "/s"),
               ("writer-image", "add_image of 512×512 RGB, images/s until on disk", "/s"),
               ("writer-procs", "4 processes × add_scalar into one log_dir, calls/s", "/s"))
def shown(value, unit):
    if unit == "ns":
        return f"{value / 1000:.2f} µs" if value >= 1000 else f"{value:.0f} ns"
    return f"{value / 1e6:.2f} M/s" if value >= 1e6 else (f"{value / 1e3:.1f} k/s" if value >= 1e3 else f"{value:.1f} /s")
print("| SummaryWriter | ringboard | tensorboardX (ringboard's ratio) | torch.utils.tensorboard (ratio) |")
print("|---|---|---|---|")
for mode, name, unit in writer_rows:
    ours = median.get((mode, "ringboard"))
    if ours is None:
        continue
    cells = []
    for kind in ("tensorboardx", "torch"):
        value = median.get((mode, kind))
        if value is None:
            cells.append("not installed")
            continue
        ratio = value / ours if unit == "ns" else ours / value
        cells.append(f"{shown(value, unit)} ({ratio:,.1f}×)")
    print(f"| {name} | {shown(ours, unit)} | {cells[0]} | {cells[1]} |")
print()
if sys.argv[5] == "1":
    sys.exit(0)
print("| on_train_batch_end, 4 metrics | per call | ringboard is cheaper by |")
print("|---|---|---|")
ours = median[("call", "ringboard")]
names = {"noop": "no-op callback", "ringboard": "ringboard.keras.TensorBoard", "keras": "keras.callbacks.TensorBoard",
         "tensorboardx": "tensorboardX, 4 add_scalar"}
for kind in ("noop", "ringboard", "keras", "tensorboardx"):
    value = median[("call", kind)]
    text = f"{value / 1000:.2f} µs" if value >= 1000 else f"{value:.0f} ns"
    ratio = "" if kind in ("noop", "ringboard") else f"{value / ours:,.0f}×"
    print(f"| {names[kind]} | {text} | {ratio} |")
print()
print(f"| model.fit, {sys.argv[3]} batches, update_freq='batch', histogram_freq=1 | median fit | vs no-op callback, same round (median) | 95% interval |")
print("|---|---|---|---|")
for kind, name in (("noop", "no-op callback"), ("ringboard", "ringboard.keras.TensorBoard"), ("none", "no callback"),
                   ("keras", "keras.callbacks.TensorBoard")):
    value = median[("paired", kind)]
    if kind == "noop":
        print(f"| {name} | {value:.2f} s | | |")
        continue
    middle, low, high = ratios[kind]
    interval = "too few rounds" if low != low else f"{100 * (low - 1):+.1f}% to {100 * (high - 1):+.1f}%"
    print(f"| {name} | {value:.2f} s | {100 * (middle - 1):+.1f}% | {interval} |")
PY
