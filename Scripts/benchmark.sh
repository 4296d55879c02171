#!/usr/bin/env bash
# Runs the ordo-one/benchmark suite in Benchmarks/ (a nested package, so the main package never
# builds the benchmark tooling). Extra arguments go to `swift package benchmark`, e.g.
#   Scripts/benchmark.sh --filter 'CRC32C.*'
#   Scripts/benchmark.sh --filter 'Scalar.*'
# (ordo-one/benchmark matches --filter against the whole benchmark name, as a regular expression.)
#
#   Scripts/benchmark.sh --check               runs every benchmark and fails (exit 2) when one
#                                              regressed past the p90 thresholds committed in
#                                              Benchmarks/Thresholds by more than the tolerances
#                                              in the suites (wall clock 2×, mallocs +0);
#                                              improvements pass
#   Scripts/benchmark.sh --update-thresholds   measures anew and rewrites Benchmarks/Thresholds
#                                              (wall clock and malloc counts)
# Both take the same extra arguments (e.g. --filter). Run them on demand, on a quiet machine; the
# committed thresholds come from a shared 2-core VM.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"

case "${1:-}" in
    --check)
        shift
        # ordo-one/benchmark 1.38.1 writes a threshold file under the benchmark's name with spaces
        # made underscores, but looks it up under the name as it is; our names have no underscores
        # or slashes of their own, so a copy with the spaces back is what the check can find.
        lookup="$(mktemp -d)"
        trap 'rm -rf "$lookup"' EXIT
        for file in Thresholds/*.p90.json; do
            name="$(basename "$file")"
            target="${name%%.*}"
            cp "$file" "$lookup/$target.$(printf '%s' "${name#*.}" | tr '_' ' ')"
        done
        status=0
        swift package benchmark thresholds check --path "$lookup" "$@" 2>&1 | tee "$lookup/output" || status=$?
        # The plugin exits non-zero both for regressions and for improvements only; its verdict
        # line tells them apart.
        if [ "$status" -eq 0 ] || { ! grep -q "is WORSE than" "$lookup/output" && grep -q "is BETTER than" "$lookup/output"; }; then
            echo "benchmark.sh: no regression past the thresholds in Benchmarks/Thresholds"
            exit 0
        fi
        echo "benchmark.sh: regression past the thresholds in Benchmarks/Thresholds, or the check failed (exit $status)" >&2
        exit 2
        ;;
    --update-thresholds)
        shift
        swift package --allow-writing-to-package-directory benchmark thresholds update --path "$PWD/Thresholds" "$@"
        # Keep wall clock and malloc counts: throughput repeats wall clock, and the custom metrics
        # (sizes, rates) are reported for reading, not checked.
        for file in Thresholds/*.p90.json; do
            ../.venv/bin/python - "$file" <<'PYTHON'
import json
import sys

path = sys.argv[1]
kept = {key: value for key, value in json.load(open(path)).items() if key in ("wallClock", "mallocCountTotal")}
with open(path, "w") as file:
    json.dump(kept, file, indent=2, sort_keys=True)
    file.write("\n")
PYTHON
        done
        ;;
    *)
        exec swift package benchmark "$@"
        ;;
esac
