#!/usr/bin/env bash
# The crash matrix at scale, round after round, until --minutes have passed (10 by default):
#   - the aggregator killed (kill -9) 50 times within one long run and restarted, for each rank
#     policy, and with 64 KiB rings that spill while it is down;
#   - trainers killed at random points (20 per round), another rank training beside them;
#   - the aggregator stopped (SIGSTOP) for 10 s under load;
#   - the log root's disk full, the log root removed, the ring directory's disk full
#     (these three need root, to mount a small tmpfs);
#   - `ringboard stress` with a consumer that starts 2 s late (1 M records from each of 2
#     producer processes, through spill segments).
# Each fault family's events are compared with an uninterrupted run of the same trainers.
# Prints a table of faults injected, events sent, written, lost and duplicated, and exits
# non-zero when anything was lost or duplicated or a check failed.
#
#   Scripts/soak.sh [--minutes M]
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --minutes=*) minutes="${1#*=}"; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "soak: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$minutes" in
    ''|*[!0-9.]*) echo "soak: --minutes takes a number, not '$minutes'" >&2; exit 2 ;;
esac

Scripts/setup.sh >/dev/null
echo "soak: building"
swift build --build-tests 2>&1 | grep -E "error|warning: unre" || true
bin="$(swift build --show-bin-path)"

work="$(mktemp -d /tmp/ringboard-soak.XXXXXX)"
trap 'rm -rf "$work"' EXIT
report="$work/report"
: >"$report"
export RINGBOARD_SOAK_REPORT="$report"
export RINGBOARD_AGGREGATOR_KILLS=50 RINGBOARD_TRAINER_KILLS=20 RINGBOARD_STOP_SECONDS=10

deadline=$(( SECONDS + ${minutes%.*} * 60 ))
failures=0
round=0
while [ "$SECONDS" -lt "$deadline" ] || [ "$round" -eq 0 ]; do
    round=$((round + 1))
    echo "soak: round $round ($(( (deadline - SECONDS + 59) / 60 )) min left)"
    if ! swift test --skip-build --filter 'AggregatorRestartTests|CrashMatrixTests|DiskFaultTests' >"$work/tests.log" 2>&1; then
        failures=$((failures + 1))
        echo "soak: round $round: a check failed:"
        grep -E "✘" "$work/tests.log" | head -20 | cut -c1-400
    fi
    if "$bin/ringboard" stress --producers 2 --records 1000000 --consumer-pause-ms 2000 >"$work/stress.log" 2>&1; then
        stress_ok=1
    else
        stress_ok=0
        failures=$((failures + 1))
        echo "soak: round $round: stress failed:"
        tail -5 "$work/stress.log"
    fi
    # "received R of S records (...)": lost is S - R; the verifier fails on any repeat.
    read -r received sent < <(sed -n 's/^received \([0-9]*\) of \([0-9]*\) records.*/\1 \2/p' "$work/stress.log")
    echo "ring-stress 1 ${sent:-0} ${received:-0} $(( ${sent:-0} - ${received:-0} )) $(( 1 - stress_ok ))" >>"$report"
done

echo
echo "Soak: $round rounds in $(( SECONDS / 60 )) min $(( SECONDS % 60 )) s on $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
awk -v failures="$failures" '
    { rounds[$1]++; faults[$1] += $2; sent[$1] += $3; written[$1] += $4; lost[$1] += $5; duplicated[$1] += $6 }
    END {
        printf "%-30s %7s %8s %12s %12s %6s %11s\n", "fault family", "rounds", "faults", "sent", "written", "lost", "duplicated"
        n = 0
        for (family in rounds) names[++n] = family
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (names[j] < names[i]) { t = names[i]; names[i] = names[j]; names[j] = t }
        for (i = 1; i <= n; i++) {
            f = names[i]
            printf "%-30s %7d %8d %12d %12d %6d %11d\n", f, rounds[f], faults[f], sent[f], written[f], lost[f], duplicated[f]
            tf += faults[f]; ts += sent[f]; tw += written[f]; tl += lost[f]; td += duplicated[f]
        }
        printf "%-30s %7s %8d %12d %12d %6d %11d\n", "total", "", tf, ts, tw, tl, td
        printf "failed checks: %d\n", failures
        exit (tl > 0 || td > 0 || failures > 0) ? 1 : 0
    }' "$report"
