#!/usr/bin/env bash
# Ringboard beside the Python writers users would pick, on the same workloads, in the same run:
#   tensorboardX      tensorboardX.SummaryWriter
#   TB writer         tensorboard.summary.writer.EventFileWriter, fed as torch.utils.tensorboard
#                     feeds it (torch itself is not needed)
#   tf.summary        TensorFlow 2's tf.summary, with --with-tf (installs tensorflow-cpu into .venv)
#
# Workloads (Benchmarks/Tools/PeersSideBySide for Ringboard, Benchmarks/Tools/Peers/peers.py for
# the peers):
#   W1  one process, batch-end hooks of 4 metrics, update_freq='batch': the cost of one batch-end
#       call in the trainer, and the scalar rate until every event is in the files. Ringboard runs
#       1 M batches, once with the default 16 MiB ring and once with a 128 MiB ring that holds the
#       whole burst.
#   W2  K = 2 and 4 processes into one log_dir. Ringboard: one aggregator, rank policies .mean and
#       .chief (and .mean again with 128 MiB rings that hold the burst); the peers: one writer per
#       process, each in its own directory. The rate counts the scalars the trainers hand in.
#   W3  8 layers of 1 Mi Float32 weights, a histogram of each per epoch (histogram_freq=1).
#   W4  a 512×512 weight with write_images: its histogram and its image per epoch (Keras writes a
#       weight's image at the epochs it writes its histogram).
#   and the ceilings: single-core memcpy of 64 KiB, and a bare ring (append, drain, commit on one
#   thread) of 64 KiB records and of empty records.
# Every run reads its event files back and counts the events. The peers are slow, so they run
# fewer batches and epochs than Ringboard and the table compares rates. The sides alternate, ROUNDS
# rounds, and the table shows each side's median.
#
# Usage: Scripts/bench-peers.sh [--rounds N] [--with-tf] [--quick] [--results FILE]
#   --rounds N      rounds (default 3; 1 with --quick)
#   --with-tf       also tf.summary (installs tensorflow-cpu==2.21.0 into .venv on first use)
#   --quick         small sizes, one round: a sanity run of about a minute
#   --results FILE  keep the raw result lines there
#   --table FILE    print the table of result lines kept with --results, running nothing
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=""
with_tf=0
quick=0
results_file=""
table_only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --with-tf) with_tf=1; shift ;;
        --quick) quick=1; shift ;;
        --results) results_file="$2"; shift 2 ;;
        --table) table_only="$2"; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--with-tf] [--quick] [--results FILE | --table FILE]" >&2; exit 2 ;;
    esac
done
if [ -z "$rounds" ]; then rounds=$([ "$quick" = 1 ] && echo 1 || echo 3); fi

if [ "$quick" = 1 ]; then
    rb_w1=100000; rb_w2=50000; rb_epochs=4
    px_w1=2000; px_w2=1000; px_w3=2; px_w4=4; tf_w1=500; tf_w2=300; tf_w3=1; tf_w4=4
else
    rb_w1=1000000; rb_w2=500000; rb_epochs=20
    px_w1=20000; px_w2=5000; px_w3=5; px_w4=20; tf_w1=2000; tf_w2=1000; tf_w3=2; tf_w4=10
fi

PYTHON=.venv/bin/python

# The CPU as lscpu names it, with its family and model numbers (a VM may show a bare "AMD EPYC"
# or "Intel Xeon": the numbers tell the generation) and its widest vector unit.
cpu_model() {
    lscpu | awk -F': *' '
        $1 == "Model name" && name == "" { name = $2 }
        $1 == "CPU family" && family == "" { family = $2 }
        $1 == "Model" && model == "" { model = $2 }
        $1 == "Flags" { vector = ($2 ~ /avx512f/) ? "AVX-512" : ($2 ~ /avx2/) ? "AVX2" : "no AVX2" }
        END { printf "%s (family %s, model %s, %s)\n", name, family, model, vector }'
}
echo "Machine: $(cpu_model), $(nproc) cores" >&2
Scripts/setup.sh >&2  # installs what is missing (zlib, liblz4, .venv); fast when all is there

if [ -z "$table_only" ]; then
    peers="tbx tb"
    if [ "$with_tf" = 1 ]; then
        if ! "$PYTHON" -c 'import tensorflow' >/dev/null 2>&1; then
            echo "Installing tensorflow-cpu into .venv…" >&2
            PIP_NO_INPUT=1 "$PYTHON" -m pip install --quiet --disable-pip-version-check tensorflow-cpu==2.21.0 </dev/null >&2
        fi
        peers="tbx tb tf"
    fi

    echo "Building ringboard and PeersSideBySide (release)…" >&2
    swift build -c release --product ringboard >&2
    ringboard="$(swift build -c release --show-bin-path)/ringboard"
    (cd Benchmarks && swift build -c release --product PeersSideBySide >&2)
    side_by_side="$(cd Benchmarks && swift build -c release --show-bin-path)/PeersSideBySide"

    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    results="${results_file:-$work/results}"
    : >"$results"
    started=$(date +%s)

    ringboard_run() {  # ringboard_run ROUND ARGS…
        local round="$1"; shift
        "$side_by_side" "$@" --ringboard "$ringboard" --work "$work" 2>>"$work/aggregator.log" | sed "s/^result /result round=$round /" >>"$results"
    }
    peer_run() {  # peer_run ROUND ARGS…
        local round="$1"; shift
        "$PYTHON" Benchmarks/Tools/Peers/peers.py "$@" --work "$work" | sed "s/^result /result round=$round /" >>"$results"
    }
    peer_size() {  # peer_size PEER SIZE TF_SIZE: tf.summary is slower still, so it gets less work
        if [ "$1" = tf ]; then echo "$3"; else echo "$2"; fi
    }

    for round in $(seq 1 "$rounds"); do
        echo "Round $round of $rounds: reference…" >&2
        ringboard_run "$round" reference
        echo "Round $round of $rounds: W1…" >&2
        ringboard_run "$round" w1 --batches "$rb_w1"
        for peer in $peers; do peer_run "$round" w1 --peer "$peer" --batches "$(peer_size "$peer" "$px_w1" "$tf_w1")"; done
        ringboard_run "$round" w1 --batches "$rb_w1" --ring-mib 128 --workload W1-ring128
        echo "Round $round of $rounds: W2…" >&2
        for procs in 2 4; do
            ringboard_run "$round" w2 --procs "$procs" --policy mean --batches "$rb_w2"
            for peer in $peers; do
                peer_run "$round" w2 --peer "$peer" --procs "$procs" --batches "$(peer_size "$peer" "$px_w2" "$tf_w2")"
            done
            ringboard_run "$round" w2 --procs "$procs" --policy chief --batches "$rb_w2"
            ringboard_run "$round" w2 --procs "$procs" --policy mean --batches "$rb_w2" --ring-mib 128 \
                --workload "W2-mean-K$procs-ring128"
        done
        echo "Round $round of $rounds: W3…" >&2
        ringboard_run "$round" w3 --epochs "$rb_epochs"
        for peer in $peers; do peer_run "$round" w3 --peer "$peer" --epochs "$(peer_size "$peer" "$px_w3" "$tf_w3")"; done
        echo "Round $round of $rounds: W4…" >&2
        ringboard_run "$round" w4 --epochs "$rb_epochs"
        for peer in $peers; do peer_run "$round" w4 --peer "$peer" --epochs "$(peer_size "$peer" "$px_w4" "$tf_w4")"; done
    done

    # What the table needs besides the results: the machine, the date, the sizes, the command.
    {
        echo "meta cpu=$(cpu_model | tr ' ' _)"
        echo "meta cores=$(nproc) memory_gib=$(free -g | awk '/^Mem:/ {print $2}') date=$(date -u +%Y-%m-%d)"
        echo "meta seconds=$(( $(date +%s) - started )) rounds=$rounds peers=${peers// /,}"
        echo "meta rb_w1=$rb_w1 rb_w2=$rb_w2 rb_epochs=$rb_epochs px_w1=$px_w1 px_w2=$px_w2 px_w3=$px_w3 px_w4=$px_w4"
        echo "meta tf_w1=$tf_w1 tf_w2=$tf_w2 tf_w3=$tf_w3 tf_w4=$tf_w4"
        echo "meta command=Scripts/bench-peers.sh$([ "$with_tf" = 1 ] && echo '_--with-tf')$([ "$quick" = 1 ] && echo '_--quick')_--rounds_$rounds"
    } >>"$results"
else
    results="$table_only"
fi

"$PYTHON" - "$results" <<'PYTHON'
import statistics
import sys

path = sys.argv[1]
meta = {}
values = {}  # (workload, side, key) -> [value per round]
for line in open(path):
    kind, *fields = line.split()
    fields = dict(field.split("=", 1) for field in fields)
    if kind == "meta":
        meta.update({key: value.replace("_", " ") for key, value in fields.items()})
    elif kind == "result":
        values.setdefault((fields["workload"], fields["side"], fields["key"]), []).append(float(fields["value"]))
peers = meta["peers"].split(",")
rounds, command = meta["rounds"], meta["command"]
rb_w1, rb_w2, rb_epochs = (int(meta[k]) for k in ("rb_w1", "rb_w2", "rb_epochs"))
px_w1, px_w2, px_w3, px_w4, tf_w1, tf_w2, tf_w3, tf_w4 = (
    int(meta[k]) for k in ("px_w1", "px_w2", "px_w3", "px_w4", "tf_w1", "tf_w2", "tf_w3", "tf_w4"))


def median(workload, side, key):
    found = values.get((workload, side, key))
    return statistics.median(found) if found else None


names = {"tbx": "tensorboardX", "tb": "TB EventFileWriter", "tf": "tf.summary"}


def rate(value):
    if value is None:
        return "—"
    for limit, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.3g} {unit}/s"
    return f"{value:.3g} /s"


def nanoseconds(value):
    if value is None:
        return "—"
    if value >= 1e6:
        return f"{value / 1e6:.3g} ms"
    if value >= 1e3:
        return f"{value / 1e3:.3g} µs"
    return f"{value:.3g} ns"


def ratio(ours, theirs, lower_is_better):
    if ours is None or theirs is None or ours == 0 or theirs == 0:
        return ""
    r = theirs / ours if lower_is_better else ours / theirs
    return f"{r:,.0f}×" if r >= 100 else f"{r:.3g}×"


rows = []
memcpy = median("reference", "ringboard", "memcpy_gbps")
ring64 = median("reference", "ringboard", "ring64k_gbps")
empty = median("reference", "ringboard", "ring_empty_mrps")
empty_ns = 1e3 / empty if empty else None


def row(workload, measure, key, peer_workload, fmt, lower_is_better, ceiling):
    ours = median(workload, "ringboard", key)
    cells = [workload, measure, fmt(ours)]
    for peer in peers:
        theirs = median(peer_workload, peer, key)
        cells.append(f"{fmt(theirs)} ({names[peer]} {ratio(ours, theirs, lower_is_better)})" if theirs is not None else "—")
    cells.append(ceiling)
    rows.append(cells)


scalars_ceiling = f"bare ring: {rate(empty * 1e6)} empty records" if empty else ""
row("W1", "batch-end call, 4 metrics (16 MiB ring, median)", "call_ns", "W1", nanoseconds, True,
    f"bare ring: {nanoseconds(empty_ns)} per empty record" if empty_ns else "")
row("W1", "scalars/s until all are on disk (16 MiB ring)", "scalars_per_second", "W1", rate, False, scalars_ceiling)
row("W1-ring128", "batch-end call, 4 metrics (128 MiB ring, median)", "call_ns", "W1", nanoseconds, True,
    f"bare ring: {nanoseconds(empty_ns)} per empty record" if empty_ns else "")
row("W1-ring128", "scalars/s until all are on disk (128 MiB ring)", "scalars_per_second", "W1", rate, False, scalars_ceiling)
for procs in (2, 4):
    for policy in ("mean", "chief"):
        row(f"W2-{policy}-K{procs}", f"{procs} processes, .{policy}: trainer scalars/s until all are on disk",
            "scalars_per_second", f"W2-K{procs}", rate, False, scalars_ceiling)
    row(f"W2-mean-K{procs}-ring128", f"{procs} processes, .mean, 128 MiB rings: trainer scalars/s until all are on disk",
        "scalars_per_second", f"W2-K{procs}", rate, False, scalars_ceiling)
weights_ceiling = (memcpy * 1e9 / (4 << 20)) if memcpy else None
row("W3", "8 × 1 Mi Float32 histograms/s (TF buckets), until on disk", "histograms_per_second", "W3", rate, False,
    f"memcpy of 4 MiB: {rate(weights_ceiling)}" if weights_ceiling else "")
row("W4", "512×512 weight: image + histogram per epoch, images/s", "images_per_second", "W4", rate, False,
    f"memcpy of 1 MiB: {rate(memcpy * 1e9 / (1 << 20))}" if memcpy else "")

header = ["workload", "measure", "Ringboard"] + [names[p] + " (ratio)" for p in peers] + ["ceiling, same run"]
print(f"Ringboard beside Python's TensorBoard writers: median of {rounds} round(s)")
seconds = int(meta["seconds"])
print(f"machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gib']} GiB; date: {meta['date']}; took {seconds // 60} min {seconds % 60} s")
print(f"command: {command}")
print()
print("| " + " | ".join(header) + " |")
print("|" + "|".join("---" for _ in header) + "|")
for cells in rows:
    print("| " + " | ".join(cells) + " |")
print()
if memcpy:
    print(f"Ceilings: memcpy of 64 KiB on one core {memcpy:.1f} GB/s; bare ring, 64 KiB records (append + drain + commit,"
          f" one thread) {ring64:.1f} GB/s = {memcpy / ring64:.2f}× below memcpy; bare ring, empty records {empty:.0f} M/s.")
spilled = [(name, median(workload, "ringboard", "spilled_share"))
           for name, workload in (("16 MiB ring", "W1"), ("128 MiB ring", "W1-ring128"))]
if any(share is not None for _, share in spilled):
    print("W1 records spilled (ring full, so the call wrote them to a spill segment instead): "
          + ", ".join(f"{share:.1%} with the {name}" for name, share in spilled if share is not None) + ".")
print(f"Sizes: Ringboard W1 {int(rb_w1):,} batches, W2 {int(rb_w2):,} batches per process, W3/W4 {rb_epochs} epochs;"
      f" tensorboardX and TB writer W1 {int(px_w1):,}, W2 {int(px_w2):,} per process, W3 {px_w3} epochs, W4 {px_w4} epochs"
      + (f"; tf.summary W1 {int(tf_w1):,}, W2 {int(tf_w2):,} per process, W3 {tf_w3} epochs, W4 {tf_w4} epochs" if "tf" in peers else "") + ".")
print("Ratios: Ringboard's rate over the peer's (for call costs: the peer's cost over Ringboard's). W1 and W2 rates count")
print("4 scalars per batch; W2 counts the scalars every process hands in (.mean writes one merged step per batch,")
print(".chief rank 0's). Peers' W3 histograms: tensorboardX add_histogram(bins='tensorflow'), tf.summary.histogram (30 buckets).")
PYTHON
