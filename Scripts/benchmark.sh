#!/usr/bin/env bash
# Runs the ordo-one/benchmark suite in Benchmarks/ (a nested package, so the main package never
# builds the benchmark tooling). Extra arguments go to `swift package benchmark`, e.g.
#   Scripts/benchmark.sh --filter 'CRC32C.*'
#   Scripts/benchmark.sh --filter 'Scalar.*'
# (ordo-one/benchmark matches --filter against the whole benchmark name, as a regular expression.)
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
exec swift package benchmark "$@"
