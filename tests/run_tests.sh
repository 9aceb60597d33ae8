#!/bin/bash
# run_tests.sh: the whole suite: unit tests and KVM integration tests, in the normal build and
# the ASan+UBSan build (unless XHV_NO_SAN=1), then the ThreadSanitizer pass over the unit tests
# and the concurrent guests if build-tsan exists (make check builds it). Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0

tally() { # parse "...: N passed, N failed[, N skipped]" from the last line of a log
    local line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    if [ -z "$line" ]; then
        echo "FAIL $2: no result line (crashed?)"
        fail=$((fail + 1))
        return
    fi
    pass=$((pass + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
    fail=$((fail + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
    if echo "$line" | grep -q skipped; then
        skip=$((skip + $(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/')))
    fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
builds="build"
[ "${XHV_NO_SAN:-0}" = 1 ] || builds="build build-san"
for b in $builds; do
    echo "== unit tests ($b)"
    ASAN_OPTIONS=detect_leaks=1 "$b/unit_tests" 2>&1 | tee "$log"
    tally "$log" "unit tests ($b)"
    echo "== integration tests ($b)"
    tests/integration/run_guests.sh "$b/xhv" build/guest 2>&1 | tee "$log"
    tally "$log" "integration tests ($b)"
    echo "== xenstore-utils against xhv's store ($b)"
    tests/integration/test_xenstore_utils.sh "$b/xs_standalone" 2>&1 | tee "$log"
    tally "$log" "xenstore-utils ($b)"
    echo "== daemon and control protocol ($b)"
    tests/integration/test_daemon.sh "$b" 2>&1 | tee "$log"
    tally "$log" "daemon ($b)"
    echo "== xl verbs through the daemon ($b)"
    tests/integration/test_cli.sh "$b" 2>&1 | tee "$log"
    tally "$log" "cli ($b)"
    echo "== ping-pong between two domains over event channels ($b)"
    tests/integration/test_pingpong.sh "$b" 2>&1 | tee "$log"
    tally "$log" "pingpong ($b)"
done
if [ "${XHV_NO_SAN:-0}" != 1 ] && [ -x build-tsan/unit_tests ]; then
    echo "== data races: ThreadSanitizer (build-tsan)"
    tests/run_tsan.sh build-tsan 2>&1 | tee "$log"
    tally "$log" "tsan"
fi
echo
[ $skip = 0 ] || echo "$skip skipped (SKIPPED tests did not run and are not counted as passed)"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
