#!/usr/bin/env bash
# Runs every test of Ringboard on a fresh machine: installs what is missing
# (Scripts/setup.sh: zlib, liblz4, pkg-config, and .venv with the pinned
# TensorBoard the conformance tests read our files with), builds, and runs the
# whole suite: Swift Testing unit tests, real processes for the command line and
# the ring, the real TensorBoard (its Python loader and its Rust data server),
# the ring's multi-threaded producers again under ThreadSanitizer, the Python package
# built as a wheel and tested under Keras 3 with no Swift on PATH, and each
# libFuzzer target of Tests/Fuzz briefly (Scripts/fuzz.sh runs them longer). The README's quick
# starts run as they stand: the Swift one in Scripts/test-readme.sh, the Python ones in test-python.sh.
# After the Swift suite's own output it prints "swift tests: N passed, M skipped, K failed"
# (Scripts/swift-test-counts.sh), since Swift Testing's closing line counts skipped tests as run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

Scripts/setup.sh
echo "test: building"
swift build --build-tests
# RINGBOARD_TSAN makes every Mutex critical section visible to ThreadSanitizer (Mutex.locked):
# without it, each access a Mutex orders is reported as a race.
echo "test: ThreadSanitizer on the ring's concurrent producers, the event-file writer's threads and an aggregator (separate build in .build-tsan)"
swift test --sanitize=thread --scratch-path .build-tsan -Xswiftc -DRINGBOARD_TSAN \
    --filter 'RingTests|RingboardFormatTests|RingboardAggregatorTests|RingReopeningTests' 2>&1 | tail -n 3
echo "test: the TF 2.0 reference model checks itself"
.venv/bin/python Tests/Conformance/test_keras_reference_selfcheck.py
echo "test: running the suite"
# swift test's output passes through unchanged; a copy of it gives the counts printed after it.
suite_log=$(mktemp)
trap 'rm -f "$suite_log"' EXIT
if swift test --skip-build | tee "$suite_log"; then suite_status=0; else suite_status=$?; fi
Scripts/swift-test-counts.sh "$suite_log"
if [ "$suite_status" -ne 0 ]; then
    exit "$suite_status"
fi
echo "test: the README's Swift quick start, built as a package of its own (Scripts/test-readme.sh)"
Scripts/test-readme.sh
echo "test: the Python package, from its wheel, under Keras 3 without Swift (Scripts/test-python.sh)"
Scripts/test-python.sh
echo "test: fuzzing each input the project reads from others for 6 s (Scripts/fuzz.sh, builds in .build-fuzz)"
Scripts/fuzz.sh --seconds 6
