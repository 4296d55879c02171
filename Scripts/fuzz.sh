#!/usr/bin/env bash
# Fuzzes what Ringboard reads from others: hook records, ring files (header, data area and spill
# segments; and headers as `ringboard status` reads them), event files and replay traces, the
# aggregator fed a stream of arbitrary records, and the aggregator's checkpoint files. Builds the libFuzzer targets of Tests/Fuzz (a package of their own, so
# the root package never builds with the fuzzer) into .build-fuzz with -sanitize=fuzzer,address,
# then runs each target for a bounded time, starting from its committed seed corpus
# (Tests/Fuzz/Corpus/<target>) and the inputs earlier runs found (.build-fuzz/corpus/<target>).
#
#   Scripts/fuzz.sh [--seconds N] [--target NAME]...
#
#   --seconds N    run each target for N seconds (default 60)
#   --target NAME  run only this target (repeatable): FuzzHookRecord, FuzzRingFile,
#                  FuzzRingStatus, FuzzEventFile, FuzzReplayTrace, FuzzAggregator,
#                  FuzzAggregatorState
#
# Exits 1 when a target crashed, trapped, hung or ran out of memory; the input that did it is
# kept in .build-fuzz/artifacts and the script prints how to run it again. A fixed crash becomes
# a regression test, and its input goes into the seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

all_targets=(FuzzHookRecord FuzzRingFile FuzzRingStatus FuzzEventFile FuzzReplayTrace FuzzAggregator FuzzAggregatorState)
seconds=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds)
            [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds needs a positive whole number" >&2; exit 2; }
            seconds=$2
            shift 2
            ;;
        --target)
            [ $# -ge 2 ] && [[ " ${all_targets[*]} " == *" $2 "* ]] \
                || { echo "fuzz: --target must be one of: ${all_targets[*]}" >&2; exit 2; }
            targets+=("$2")
            shift 2
            ;;
        -h | --help)
            sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "fuzz: unknown argument '$1' (see --help)" >&2
            exit 2
            ;;
    esac
done
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")

scratch=.build-fuzz
build_flags=(--package-path Tests/Fuzz --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
echo "fuzz: building ${targets[*]} (in $scratch, with libFuzzer and AddressSanitizer)"
swift build "${build_flags[@]}" 2>&1 | grep -E "error|warning: |Compiling|Build complete" | grep -v "^\[" || true
swift build "${build_flags[@]}" >/dev/null
bin=$(swift build "${build_flags[@]}" --show-bin-path)

# The targets write each input to a ring or event file: on tmpfs (/dev/shm) that is about four
# times faster than on disk. A private directory, removed whatever happens.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    RINGBOARD_FUZZ_SCRATCH=$(mktemp -d /dev/shm/ringboard-fuzz.XXXXXX)
else
    mkdir -p "$scratch"
    RINGBOARD_FUZZ_SCRATCH=$(mktemp -d "$PWD/$scratch/scratch.XXXXXX")
fi
export RINGBOARD_FUZZ_SCRATCH
export SWIFT_BACKTRACE=enable=no   # libFuzzer reports the crash, with the input
trap 'rm -rf "$RINGBOARD_FUZZ_SCRATCH"' EXIT
mkdir -p "$scratch/artifacts" "$scratch/logs"

failed=0
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    log="$scratch/logs/$target.log"
    mkdir -p "$corpus"
    # The longest input: 4 KiB, and for ring files 12 KiB (an 8 KiB ring file, then a spill
    # segment).
    case "$target" in
        FuzzRingFile | FuzzRingStatus) max_len=12288 ;;
        FuzzAggregatorState) max_len=16384 ;;
        *) max_len=4096 ;;
    esac
    status=0
    "$bin/$target" "$corpus" "Tests/Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$scratch/artifacts/$target-" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    if [ "$status" -eq 0 ]; then
        echo "fuzz: $target: ${runs:-?} inputs in ${took:-$seconds} s, no failure ($(ls "$corpus" | wc -l) inputs in its working corpus)"
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz: $target FAILED after ${runs:-?} inputs (status $status); the end of $log:"
        grep -v '^#[0-9]\|NEW_FUNC' "$log" | tail -n 40 | sed 's/^/    /'
        if [ -n "$artifact" ]; then
            echo "fuzz: the input is $artifact; run it again with: RINGBOARD_FUZZ_SCRATCH=/tmp/fuzz-scratch $bin/$target $artifact"
        fi
    fi
done
exit "$failed"
