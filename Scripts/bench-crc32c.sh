#!/usr/bin/env bash
# Side-by-side CRC32C throughput: RingboardFormat's `CRC32C.checksum` against the Python
# `google-crc32c` package (its C extension over google/crc32c, which uses SSE4.2 on x86_64).
#
# Both sides checksum the same buffer contents at 64 B, 4 KiB and 1 MiB, back to back for at least
# SECONDS_PER_SIZE per size, alternating for ROUNDS rounds so that both see the same machine load;
# the table shows the best round of each. The two sides also have to agree on every CRC.
#
# Usage: Scripts/bench-crc32c.sh            (environment: ROUNDS=3, SECONDS_PER_SIZE=0.3)
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
SECONDS_PER_SIZE="${SECONDS_PER_SIZE:-0.3}"
SIZES=(64 4096 1048576)
PYTHON=.venv/bin/python

Scripts/setup.sh >&2  # installs what is missing (zlib, liblz4, .venv); fast when all is there

implementation="$("$PYTHON" -c 'import google_crc32c; print(google_crc32c.implementation)')"
if [[ "$implementation" != "c" ]]; then
    echo "error: google-crc32c runs its pure-Python fallback (implementation == \"$implementation\")," >&2
    echo "       so there is no hardware path to compare with; reinstall it with its C extension" >&2
    exit 1
fi

echo "Building CRC32CSideBySide (release)…" >&2
(cd Benchmarks && swift build -c release --product CRC32CSideBySide >&2)
side_by_side="$(cd Benchmarks && swift build -c release --show-bin-path)/CRC32CSideBySide"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT

# google-crc32c side: the same buffers and the same output lines as CRC32CSideBySide, plus the time
# of an empty call, which is what a Python call costs before any byte is checksummed.
measure_python() {
    "$PYTHON" - "$SECONDS_PER_SIZE" "$@" <<'PYTHON'
import sys
import time

import google_crc32c

seconds_per_size = float(sys.argv[1])
sizes = [int(argument) for argument in sys.argv[2:]]
value = google_crc32c.value


def rate(data):
    """Calls per second of value(data), over at least seconds_per_size."""
    batch = max(1, 100_000 // (len(data) // 32 + 8))
    for _ in range(batch):
        value(data)
    calls = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            value(data)
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds_per_size:
            return calls, elapsed


calls, elapsed = rate(b"")
print(f"crc32c empty_call_ns={elapsed / calls * 1e9:.1f}")
for size in sizes:
    data = bytes(((i * 2654435761) >> 13) & 0xFF for i in range(size))
    crc = value(data)
    assert google_crc32c.extend(value(data[: size // 3]), data[size // 3 :]) == crc
    calls, elapsed = rate(data)
    print(
        f"crc32c implementation={google_crc32c.implementation} size={size} crc={crc} calls={calls}",
        f"seconds={elapsed:.3f} gbps={size * calls / elapsed / 1e9:.2f}",
    )
PYTHON
}

for round in $(seq 1 "$ROUNDS"); do
    echo "Round $round of $ROUNDS…" >&2
    "$side_by_side" "$SECONDS_PER_SIZE" "${SIZES[@]}" | sed "s/^crc32c /ringboard round=$round /" >>"$results"
    measure_python "${SIZES[@]}" | sed "s/^crc32c /google round=$round /" >>"$results"
done

"$PYTHON" - "$results" "$ROUNDS" "$SECONDS_PER_SIZE" <<'PYTHON'
import sys

path, rounds, seconds_per_size = sys.argv[1], sys.argv[2], sys.argv[3]
best = {}        # (side, size) -> best GB/s over the rounds
crcs = {}        # (side, size) -> CRC
ringboard_path = "?"
empty_call_ns = []
for line in open(path):
    side, *fields = line.split()
    record = dict(field.split("=", 1) for field in fields)
    if "empty_call_ns" in record:
        empty_call_ns.append(float(record["empty_call_ns"]))
        continue
    size = int(record["size"])
    best[side, size] = max(best.get((side, size), 0.0), float(record["gbps"]))
    crcs.setdefault((side, size), set()).add(record["crc"])
    if side == "ringboard":
        ringboard_path = record["implementation"]

sizes = sorted({size for _, size in best})
for size in sizes:
    if crcs[("ringboard", size)] != crcs[("google", size)]:
        sys.exit(f"error: CRCs differ at {size} bytes: {crcs[('ringboard', size)]} vs {crcs[('google', size)]}")

call_ns = min(empty_call_ns)


def label(size):
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB" if size >= 1 << 10 else f"{size} B"


print(f"CRC32C throughput, GB/s (10^9 bytes/s), best of {rounds} rounds of {seconds_per_size} s per size")
print(f"Ringboard: CRC32C.checksum ({ringboard_path} path); google-crc32c: google_crc32c.value (C extension)")
print()
print(f"{'size':>7}  {'Ringboard':>9}  {'google-crc32c':>13}  {'ratio':>6}  {'google ns/call':>14}  {'google minus call':>17}")
for size in sizes:
    ours, theirs = best["ringboard", size], best["google", size]
    per_call_ns = size / theirs
    kernel = f"{size / (per_call_ns - call_ns):.2f}" if per_call_ns > call_ns * 1.05 else "n/a"
    print(f"{label(size):>7}  {ours:9.2f}  {theirs:13.2f}  {ours / theirs:5.2f}x  {per_call_ns:14.1f}  {kernel:>17}")
print()
print(f"A Python call that checksums nothing already takes {call_ns:.0f} ns. At small sizes that call")
print("overhead, not the CRC code, sets google-crc32c's number, so the small-size ratios compare a Swift")
print("call with a Python call. 'google minus call' subtracts it: a rough estimate of google/crc32c's own")
print("speed. At 1 MiB the call is negligible and the ratio compares the CRC code itself.")
PYTHON
