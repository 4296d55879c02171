#!/usr/bin/env bash
# Scaling curves, measured here and drawn as PNG charts in Benchmarks/charts/ (with the numbers
# beside them in Benchmarks/charts/scaling.txt):
#   hook-cost-vs-metrics.png         trainer cost of one batch-end call as metrics per hook grow
#                                    1 → 64 (a ring that holds every record, no aggregator)
#   aggregator-throughput-vs-producers.png
#                                    hooks/s through one `ringboard aggregate` (4 metrics each,
#                                    until every event is on disk) as producer processes grow
#                                    1 → 8, with the rank policies .perRank and .mean
#   memory-vs-runs.png               trainer RSS growth and the aggregator's RSS (after draining,
#                                    and its peak) as runs (callbacks) in one trainer grow 1 → 64
# Each point is the median of ROUNDS runs (memory: one run). The sweeps are
# Benchmarks/Tools/PeersSideBySide's hook-cost, w2 and runs commands.
#
# Usage: Scripts/bench-plot.sh        (environment: ROUNDS=3; QUICK=1 for small sizes)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
QUICK="${QUICK:-0}"
PYTHON=.venv/bin/python
charts=Benchmarks/charts

Scripts/setup.sh >&2  # installs what is missing (zlib, liblz4, .venv with matplotlib); fast when all is there

echo "Building ringboard and PeersSideBySide (release)…" >&2
swift build -c release --product ringboard >&2
ringboard="$(swift build -c release --show-bin-path)/ringboard"
(cd Benchmarks && swift build -c release --product PeersSideBySide >&2)
side_by_side="$(cd Benchmarks && swift build -c release --show-bin-path)/PeersSideBySide"

if [ "$QUICK" = 1 ]; then hook_batches=20000; total_hooks=40000; run_batches=200; else hook_batches=100000; total_hooks=400000; run_batches=2000; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$work/results"
: >"$results"
run() {  # run ROUND ARGS…
    local round="$1"; shift
    "$side_by_side" "$@" 2>>"$work/aggregator.log" | sed "s/^result /result round=$round /" >>"$results"
}

for round in $(seq 1 "$ROUNDS"); do
    echo "Round $round of $ROUNDS: cost per hook, 1 → 64 metrics…" >&2
    for metrics in 1 2 4 8 16 32 64; do
        run "$round" hook-cost --metrics "$metrics" --batches "$hook_batches"
    done
    echo "Round $round of $ROUNDS: aggregator throughput, 1 → 8 producers…" >&2
    for procs in 1 2 4 8; do
        for policy in per-rank mean; do
            run "$round" w2 --procs "$procs" --policy "$policy" --batches $((total_hooks / procs)) \
                --ringboard "$ringboard" --work "$work" --workload "producers-$policy-$procs"
        done
    done
done
echo "Memory, 1 → 64 runs…" >&2
for runs in 1 2 4 8 16 32 64; do
    run 1 runs --runs "$runs" --batches "$run_batches" --ringboard "$ringboard" --work "$work"
done

mkdir -p "$charts"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
"$PYTHON" - "$results" "$charts" "$cpu, $(nproc) cores, $(date -u +%Y-%m-%d)" "$ROUNDS" "$hook_batches" "$total_hooks" "$run_batches" <<'PYTHON'
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

path, charts, machine, rounds, hook_batches, total_hooks, run_batches = sys.argv[1:]
values = {}
for line in open(path):
    fields = dict(field.split("=", 1) for field in line.split()[1:])
    values.setdefault((fields["workload"], fields["key"]), []).append(float(fields["value"]))


def median(workload, key):
    return statistics.median(values[workload, key])


lines = [f"Scaling curves, {machine}; Scripts/bench-plot.sh (median of {rounds} rounds; memory: one run)", ""]

metrics = [1, 2, 4, 8, 16, 32, 64]
cost = [median(f"hook-cost-{m}", "call_ns") for m in metrics]
p99 = [median(f"hook-cost-{m}", "call_p99_ns") for m in metrics]
lines.append(f"cost of one batch-end call ({int(hook_batches):,} calls, medians of 1024-call blocks)")
lines.append(f"{'metrics':>8} {'median ns':>10} {'p99 ns':>10}")
lines += [f"{m:>8} {c:>10.1f} {p:>10.1f}" for m, c, p in zip(metrics, cost, p99)]
lines.append("")
figure, axes = plt.subplots(figsize=(6.4, 4))
axes.plot(metrics, cost, "o-", label="median")
axes.plot(metrics, p99, "s--", label="99th percentile (1024-call blocks)", alpha=0.7)
axes.set_xscale("log", base=2)
axes.set_yscale("log")
axes.set_xticks(metrics, [str(m) for m in metrics])
axes.set_xlabel("metrics per batch-end hook")
axes.set_ylabel("ns per onTrainBatchEnd call")
axes.set_title("Trainer cost per hook")
axes.grid(True, which="both", alpha=0.3)
axes.legend()
figure.text(0.01, 0.01, machine, fontsize=7, alpha=0.7)
figure.tight_layout()
figure.savefig(f"{charts}/hook-cost-vs-metrics.png", dpi=110)

producers = [1, 2, 4, 8]
lines.append(f"hooks/s through one aggregator, until every event is on disk ({int(total_hooks):,} hooks of 4 metrics in all)")
lines.append(f"{'producers':>9} {'per-rank':>10} {'mean':>10}")
figure, axes = plt.subplots(figsize=(6.4, 4))
series = {}
for policy in ("per-rank", "mean"):
    series[policy] = [median(f"producers-{policy}-{p}", "hooks_per_second") for p in producers]
    axes.plot(producers, [r / 1e3 for r in series[policy]], "o-", label=f".{'perRank' if policy == 'per-rank' else policy}")
lines += [f"{p:>9} {a:>10.0f} {b:>10.0f}" for p, a, b in zip(producers, series["per-rank"], series["mean"])]
lines.append("")
axes.set_xscale("log", base=2)
axes.set_xticks(producers, [str(p) for p in producers])
axes.set_ylim(bottom=0)
axes.set_xlabel("producer processes")
axes.set_ylabel("thousand batch-end hooks/s")
axes.set_title("Aggregator throughput (4 metrics per hook)")
axes.grid(True, alpha=0.3)
axes.legend()
figure.text(0.01, 0.01, machine, fontsize=7, alpha=0.7)
figure.tight_layout()
figure.savefig(f"{charts}/aggregator-throughput-vs-producers.png", dpi=110)

runs = [1, 2, 4, 8, 16, 32, 64]
trainer = [median(f"runs-{r}", "trainer_rss_mib") for r in runs]
resident = [median(f"runs-{r}", "aggregator_rss_mib") for r in runs]
peak = [median(f"runs-{r}", "aggregator_peak_mib") for r in runs]
lines.append(f"memory, MiB ({int(run_batches):,} batch-end hooks of 4 metrics per run; RSS counts the 16 MiB ring both map)")
lines.append(f"{'runs':>5} {'trainer +RSS':>12} {'aggr. RSS':>10} {'aggr. peak':>10}")
lines += [f"{r:>5} {t:>12.1f} {a:>10.1f} {p:>10.1f}" for r, t, a, p in zip(runs, trainer, resident, peak)]
figure, axes = plt.subplots(figsize=(6.4, 4))
axes.plot(runs, trainer, "o-", label="trainer: RSS growth from its callbacks")
axes.plot(runs, resident, "s-", label="aggregator: RSS after draining")
axes.plot(runs, peak, "^--", label="aggregator: peak RSS", alpha=0.7)
axes.set_xscale("log", base=2)
axes.set_xticks(runs, [str(r) for r in runs])
axes.set_ylim(bottom=0)
axes.set_xlabel("runs (TensorBoard callbacks) in one trainer")
axes.set_ylabel("MiB")
axes.set_title("Memory as runs grow (16 MiB ring included)")
axes.grid(True, alpha=0.3)
axes.legend(fontsize=8)
figure.text(0.01, 0.01, machine, fontsize=7, alpha=0.7)
figure.tight_layout()
figure.savefig(f"{charts}/memory-vs-runs.png", dpi=110)

text = "\n".join(lines) + "\n"
open(f"{charts}/scaling.txt", "w").write(text)
print(text, end="")
print(f"charts: {charts}/hook-cost-vs-metrics.png, {charts}/aggregator-throughput-vs-producers.png, {charts}/memory-vs-runs.png")
PYTHON
