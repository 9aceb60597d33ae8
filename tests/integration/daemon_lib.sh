# daemon_lib.sh: shared harness of the test suites that drive a private xhvd with `xhv`
# (sourced after setting b, xhv and xhvd): a temporary directory and socket, cleanup that stops
# the daemon, PASS/FAIL/SKIPPED counters, and helpers to run xhv and poll for states.
tmp=$(mktemp -d)
sock=$tmp/xhvd.sock
dpid=
pass=0 fail=0 skip=0
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() {
    echo "FAIL $1: $2"
    fail=$((fail + 1))
    [ -n "${out:-}" ] && printf '%s\n' "$out" | tail -15 | sed 's/^/    | /'
    return 0
}
skipped() { echo "SKIPPED $1 ($2)"; skip=$((skip + 1)); }
# xhv against our daemon; output in $out, status in $st.
x() {
    out=$(timeout "${xto:-60}" "$xhv" --socket "$sock" "$@" 2>&1)
    st=$?
}
expect() { # expect NAME STATUS TEXT: the last x call
    if [ "$st" = "$2" ] && grep -qF -- "$3" <<<"$out"; then ok "$1"; else ko "$1" "exit $st (expected $2), wanted '$3'"; fi
}
# Poll (up to $2 tenths of a second) until the command $1 succeeds.
wait_until() {
    local i
    for ((i = 0; i < $2; i++)); do
        eval "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
state_of() { timeout 30 "$xhv" --socket "$sock" list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
domid_of() { timeout 30 "$xhv" --socket "$sock" domid "$1" 2>/dev/null; }
# Start our xhvd in the foreground (extra xhvd arguments, e.g. --stats) and wait until it
# answers; 1, with a FAIL line, if it does not.
start_daemon() {
    "$xhvd" --foreground --socket "$sock" "$@" >"$tmp/xhvd.log" 2>&1 &
    dpid=$!
    if ! wait_until "[ -S $sock ] && timeout 5 $xhv --socket $sock list" 100; then
        out=$(cat "$tmp/xhvd.log")
        ko daemon-start "xhvd did not come up at $sock"
        return 1
    fi
}
