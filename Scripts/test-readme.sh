#!/usr/bin/env bash
# Runs the README's Swift quick start as a reader would: its Package.swift and main.swift,
# taken from the README as they stand, are built as a package of their own beside this
# checkout (linked in as ../ringboard), and run with `ringboard` on PATH, so the first callback
# starts the aggregator itself; then TensorBoard's loader checks that the logs hold what the
# README says (Tests/Conformance/readme_quickstart.py). The run gets a ring directory of its own
# (RINGBOARD_RING_DIR), and the aggregator it started is stopped afterwards. The Python quick
# starts run from the wheel in python/tests/test_readme.py. Needs `swift build` and
# Scripts/setup.sh done (Scripts/test.sh runs this after both).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
bin="$(swift build --show-bin-path)"
if [ ! -x "$bin/ringboard" ] || [ ! -x .venv/bin/python ]; then
    echo "test-readme: run \`swift build\` and Scripts/setup.sh first ($bin/ringboard or .venv missing)" >&2
    exit 1
fi

work="$(mktemp -d /tmp/ringboard-readme.XXXXXX)"
rings="$(mktemp -d /dev/shm/ringboard-readme.XXXXXX)"
cleanup() {
    # The aggregator the quick start started would exit 60 s after its last ring; stop it now.
    if [ -f "$rings/aggregator.info" ]; then
        pid="$(tr '\0' '\n' <"$rings/aggregator.info" | sed -n 's/^pid=\([0-9]*\)$/\1/p')"
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    fi
    rm -rf "$work" "$rings"
}
trap cleanup EXIT
ln -s "$root" "$work/ringboard"
.venv/bin/python Tests/Conformance/readme_quickstart.py extract README.md swift "$work/quickstart" >/dev/null
echo "test-readme: building the README's Swift quick start as a package of its own"
if ! (cd "$work/quickstart" && swift build) >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    echo "test-readme: the README's Swift quick start does not build (above)" >&2
    exit 1
fi
echo "test-readme: running it"
(cd "$work/quickstart" && PATH="$bin:$PATH" RINGBOARD_RING_DIR="$rings" \
    .build/debug/quickstart)
.venv/bin/python Tests/Conformance/readme_quickstart.py check swift "$work/quickstart/logs/quickstart"
