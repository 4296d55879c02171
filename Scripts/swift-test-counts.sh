#!/usr/bin/env bash
# Prints one line counting the tests of a Swift Testing run from its console output (a file, or
# standard input): "swift tests: N passed, M skipped, K failed (Swift Testing ran T tests)".
# Swift Testing's own closing line ("Test run with T tests in S suites passed after …") counts a
# skipped test with the passed ones; this line tells them apart. A skipped test is one whose trait
# turned it off (`.enabled(if:)`, `.privileged`): it did not run, so it proved nothing here.
set -euo pipefail

sed 's/\x1b\[[0-9;]*m//g' "${1:-/dev/stdin}" | awk '
    # One line per test: "✔ Test f() passed after 0.1 seconds." (or "… with 1 known issue."),
    # "✘ Test f() failed after …", "➜ Test f() skipped." or "skipped: \"reason\"". A test whose trait
    # threw (`.privileged` under RINGBOARD_REQUIRE_PRIVILEGED=1) never runs: it only has
    # "✘ Test f() recorded an issue …". Suites are not counted.
    function name(line) {
        sub(/^[^ ]+ Test /, "", line)
        sub(/ (recorded an issue|failed after |passed after |with [0-9]+ test cases? ).*$/, "", line)
        return line
    }
    $2 == "Test" && $3 == "run" && $4 == "with" { total = $5; closing = 1; next }
    $2 != "Test" { next }
    # Counted by line, not by name: two suites may each have a test of the same name.
    / passed after [0-9.]+ seconds/ { passedCount++; next }
    / failed after [0-9.]+ seconds/ { failedCount++; ended[name($0)] = 1; next }
    / recorded an issue/ { issue[name($0)] = 1; next }
    / skipped(\.$|: ")/ { skipped++; next }
    / cancelled/ { cancelled++ }
    END {
        if (!closing) { print "swift tests: no closing \"Test run with …\" line in the output; counts unknown"; exit 0 }
        for (test in issue) if (!(test in ended)) failedCount++
        line = sprintf("swift tests: %d passed, %d skipped, %d failed", passedCount, skipped, failedCount)
        if (cancelled) line = line sprintf(", %d cancelled", cancelled)
        print line sprintf(" (Swift Testing'"'"'s closing line counts %s tests)", total)
    }'
