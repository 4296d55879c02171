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
# Usage: Scripts/bench-python.sh [--rounds N] [--fit-rounds N] [--batches N]
#   --rounds N      per-call rounds, one process per measurement (default 5)
#   --fit-rounds N  rounds of the paired fits (default 20, about 25 s each)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
fit_rounds=20
batches=2000
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --fit-rounds) fit_rounds="$2"; shift 2 ;;
        --batches) batches="$2"; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--fit-rounds N] [--batches N]" >&2; exit 2 ;;
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

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$work/results"
export KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=3
bench() {
    "$PYTHON" Benchmarks/Tools/Python/bench_callbacks.py "$@" --ring-dir "$work/rings" \
        --log-dir "$(mktemp -d "$work/logs.XXXXXX")" 2>/dev/null | grep -E '^(result|ratio)' >>"$results"
}
for round in $(seq "$rounds"); do
    echo "bench-python: call round $round of $rounds" >&2
    for kind in noop ringboard keras tensorboardx; do bench call "$kind" --rounds 1; done
done
echo "bench-python: $fit_rounds rounds of paired fits" >&2
bench paired noop,ringboard,none,keras --rounds "$fit_rounds" --batches "$batches"

"$PYTHON" - "$results" "$rounds" "$batches" "$fit_rounds" <<'PY'
import collections, statistics, sys
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
print(f"CPU: {cpu}; calls: {sys.argv[2]} rounds, medians; fits: {sys.argv[4]} paired rounds; Keras on the TensorFlow backend")
print()
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
