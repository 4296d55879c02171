#!/usr/bin/env bash
# Side-by-side PNG encoding: RingboardSummaries' `PNGEncoder` against Python writers over the
# same zlib, on the same 1024×1024 grayscale image.
#
# The image is a smooth, weight-like float field with a little noise, converted to 8 bits by
# `ImageSummary` (TensorFlow's rule); Benchmarks/Tools/PNGSideBySide makes it and writes it out,
# so both sides encode exactly the same pixels. Two like-for-like pairs, each at zlib's default
# level (6, what TensorFlow asks for) and memLevel 9:
#
#   filter=adaptive  ours: libpng's per-row choice among the five filters, Z_FILTERED.
#                    Python: the same heuristic vectorised with numpy (all five filters over the
#                    whole image, per-row sums, first minimum), then zlib with Z_FILTERED.
#   filter=none      ours: `.only(.none)`, Z_DEFAULT_STRATEGY.
#                    Python: the minimal writer: a 0 byte before each row, zlib, Z_DEFAULT_STRATEGY.
#
# Both sides write IDAT chunks of 8192 bytes as libpng does, so when their zlib is the same build
# the files must be identical byte for byte; the table says whether they are. Each side encodes
# back to back for at least SECONDS_PER_RUN per filter, alternating for ROUNDS rounds so that
# both see the same machine load; the table shows the best round of each. MB/s is 10^6 raw pixel
# bytes per second, the whole encode (filtering, deflate, chunks) included.
#
# Usage: Scripts/bench-png.sh            (environment: ROUNDS=3, SECONDS_PER_RUN=1.5)
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-3}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-1.5}"
PYTHON=.venv/bin/python

Scripts/setup.sh >&2  # installs what is missing (zlib, liblz4, .venv); fast when all is there
if ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    echo "error: numpy is missing from $PYTHON (the adaptive Python writer needs it)" >&2
    exit 1
fi

echo "Building PNGSideBySide (release)…" >&2
(cd Benchmarks && swift build -c release --product PNGSideBySide >&2)
side_by_side="$(cd Benchmarks && swift build -c release --show-bin-path)/PNGSideBySide"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$work/results.txt"

# The Python side: the same image (pixels.raw from PNGSideBySide), the same output lines.
measure_python() {
    "$PYTHON" - "$SECONDS_PER_RUN" "$work" <<'PYTHON'
import struct
import sys
import time
import zlib

import numpy as np

seconds_per_run = float(sys.argv[1])
directory = sys.argv[2]
width = height = 1024
pixels = open(f"{directory}/pixels.raw", "rb").read()
assert len(pixels) == width * height


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_file(filtered, strategy):
    """Signature, IHDR, IDATs of 8192 bytes (libpng's split), IEND."""
    compressor = zlib.compressobj(-1, zlib.DEFLATED, 15, 9, strategy)
    stream = compressor.compress(filtered) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idats = b"".join(chunk(b"IDAT", stream[i : i + 8192]) for i in range(0, len(stream), 8192))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idats + chunk(b"IEND", b"")


def encode_none(raw):
    rows = (raw[y * width : (y + 1) * width] for y in range(height))
    return png_file(b"".join(b"\x00" + row for row in rows), zlib.Z_DEFAULT_STRATEGY)


def encode_adaptive(raw):
    """libpng's heuristic: per row, the filter whose bytes (as signed) have the smallest sum of
    magnitudes; ties to the earliest of None, Sub, Up, Average, Paeth."""
    x = np.frombuffer(raw, np.uint8).reshape(height, width).astype(np.int16)
    a = np.zeros_like(x)
    a[:, 1:] = x[:, :-1]
    b = np.zeros_like(x)
    b[1:, :] = x[:-1, :]
    c = np.zeros_like(x)
    c[1:, 1:] = x[:-1, :-1]
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    candidates = (np.stack([x, x - a, x - b, x - (a + b) // 2, x - paeth]) & 0xFF).astype(np.int16)
    sums = np.minimum(candidates, 256 - candidates).sum(axis=2)
    choice = sums.argmin(axis=0)
    filtered = np.empty((height, width + 1), np.uint8)
    filtered[:, 0] = choice
    filtered[:, 1:] = candidates[choice, np.arange(height)]
    return png_file(filtered.tobytes(), zlib.Z_FILTERED)


for name, encode, implementation in (
    ("adaptive", encode_adaptive, "numpy+zlib"),
    ("none", encode_none, "python+zlib"),
):
    png = encode(pixels)  # warm up
    open(f"{directory}/python-{name}.png", "wb").write(png)
    calls = 0
    start = time.perf_counter()
    while True:
        png = encode(pixels)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds_per_run:
            break
    print(
        f"png implementation={implementation} filter={name} level=-1 width={width} height={height}",
        f"raw_bytes={len(pixels)} png_bytes={len(png)} calls={calls} seconds={elapsed:.3f}",
        f"mbps={len(pixels) * calls / elapsed / 1e6:.2f}",
    )
PYTHON
}

for round in $(seq 1 "$ROUNDS"); do
    echo "Round $round of $ROUNDS…" >&2
    "$side_by_side" "$SECONDS_PER_RUN" "$work" | sed "s/^png /ringboard round=$round /" >>"$results"
    measure_python | sed "s/^png /python round=$round /" >>"$results"
done

"$PYTHON" - "$results" "$work" "$ROUNDS" "$SECONDS_PER_RUN" <<'PYTHON'
import sys
import zlib

path, directory, rounds, seconds_per_run = sys.argv[1:5]
best = {}         # (side, filter) -> best MB/s over the rounds
sizes = {}        # (side, filter) -> PNG bytes
names = {}        # (side, filter) -> implementation
for line in open(path):
    side, *fields = line.split()
    record = dict(field.split("=", 1) for field in fields)
    key = (side, record["filter"])
    best[key] = max(best.get(key, 0.0), float(record["mbps"]))
    sizes[key] = int(record["png_bytes"])
    names[key] = record["implementation"]

print("PNG encoding of one 1024×1024 grayscale image (1 MiB of pixels) at zlib level 6 (its default, as TensorFlow")
print(f"asks), memLevel 9; best of {rounds} rounds of {seconds_per_run} s per writer. Python's zlib: {zlib.ZLIB_RUNTIME_VERSION}.")
print()
print(f"{'filter':>8}  {'Ringboard MB/s':>14}  {'Python MB/s':>11}  {'ratio':>6}  {'Ringboard bytes':>15}  {'Python bytes':>12}  {'identical':>9}  Python writer")
for filter_name in ("adaptive", "none"):
    ours, theirs = best["ringboard", filter_name], best["python", filter_name]
    same = open(f"{directory}/ringboard-{filter_name}.png", "rb").read() == open(f"{directory}/python-{filter_name}.png", "rb").read()
    print(
        f"{filter_name:>8}  {ours:14.2f}  {theirs:11.2f}  {ours / theirs:5.2f}x  {sizes['ringboard', filter_name]:15d}"
        f"  {sizes['python', filter_name]:12d}  {'yes' if same else 'NO':>9}  {names['python', filter_name]}"
    )
print()
print("Both sides spend most of their time in zlib's deflate, which is the same code; the ratio measures")
print("what each adds around it (filtering, copying, chunking). 'identical' compares the two PNG files.")
PYTHON
