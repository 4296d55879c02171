#!/usr/bin/env bash
# The Python front end beside Keras's own TensorBoard callback and tensorboardX, in one run
# (Benchmarks/Tools/Python/bench_callbacks.py, one process per measurement, the kinds taking
# turns round after round; the table shows each kind's median over the rounds):
#   call  on_train_batch_end(batch, logs) with 4 float metrics, called directly: a no-op
#         callback, ringboard.keras.TensorBoard, keras.callbacks.TensorBoard, and tensorboardX's
#         4 add_scalar calls;
#   fit   model.fit of a small model, 2,000 batches of 32 in one epoch with validation data,
#         update_freq='batch', histogram_freq=1: no callback, a no-op callback, ours, Keras's.
# Everything runs in .venv with Keras on the TensorFlow backend: tensorflow-cpu==2.21.0 is
# installed there on first use (Keras's own callback needs it), and so is the ringboard wheel
# (built by Scripts/build-native.sh and `pip wheel ./python`).
#
# Usage: Scripts/bench-python.sh [--rounds N] [--batches N]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
batches=2000
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --batches) batches="$2"; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--batches N]" >&2; exit 2 ;;
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
    "$PYTHON" Benchmarks/Tools/Python/bench_callbacks.py "$@" --rounds 1 --ring-dir "$work/rings" \
        --log-dir "$(mktemp -d "$work/logs.XXXXXX")" 2>/dev/null | grep '^result' >>"$results"
}
for round in $(seq "$rounds"); do
    echo "bench-python: round $round of $rounds" >&2
    for kind in noop ringboard keras tensorboardx; do bench call "$kind"; done
    for kind in none noop ringboard keras; do bench fit "$kind" --batches "$batches"; done
done

"$PYTHON" - "$results" "$rounds" "$batches" <<'PY'
import collections, statistics, sys
results = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, mode, kind, value, unit = line.split()
    results[(mode, kind)].append(float(value))
median = {key: statistics.median(values) for key, values in results.items()}
fields = {}
for line in open("/proc/cpuinfo"):
    if ":" in line:
        key, value = (part.strip() for part in line.split(":", 1))
        fields.setdefault(key, value)
cpu = f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"
print(f"CPU: {cpu}; {sys.argv[2]} rounds, medians; Keras on the TensorFlow backend")
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
print(f"| model.fit, {sys.argv[3]} batches, update_freq='batch', histogram_freq=1 | wall time | vs no-op callback |")
print("|---|---|---|")
noop = median[("fit", "noop")]
for kind, name in (("none", "no callback"), ("noop", "no-op callback"), ("ringboard", "ringboard.keras.TensorBoard"),
                   ("keras", "keras.callbacks.TensorBoard")):
    value = median[("fit", kind)]
    print(f"| {name} | {value:.2f} s | {100 * (value - noop) / noop:+.1f}% |")
PY
