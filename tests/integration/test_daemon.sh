#!/bin/bash
# test_daemon.sh [BUILD_DIR]: xhvd's control socket: permissions, refusals, malformed messages
# (proto_fuzz), descriptor hygiene, daemon mode and SIGTERM. Needs BUILD_DIR/xhvd and
# BUILD_DIR/proto_fuzz (default: build). Prints PASS/FAIL/SKIPPED per case and
# "daemon: N passed, N failed, N skipped".
set -u
b=${1:-build}
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -f "$tmp/d.pid" ] && kill -TERM "$(cat "$tmp/d.pid")" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0 skip=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); [ -f "$tmp/log" ] && tail -20 "$tmp/log" | sed 's/^/    | /'; }
skipped() { echo "SKIPPED $1 ($2)"; skip=$((skip + 1)); }
finish() {
    echo "daemon: $pass passed, $fail failed, $skip skipped"
    [ $fail = 0 ]
    exit
}

cases="start socket-mode second-refused nonroot-refused proto-fuzz fd-baseline sigterm daemon-mode"
if ! { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
    echo "SKIPPED: /dev/kvm is missing or not accessible: xhvd cannot start, daemon tests do not run"
    for c in $cases; do skipped "$c" "no usable /dev/kvm"; done
    finish
fi
if [ ! -x "$b/xhvd" ] || [ ! -x "$b/proto_fuzz" ]; then
    for c in $cases; do ko "$c" "$b/xhvd or $b/proto_fuzz is not built"; done
    finish
fi
s=$tmp/s
fuzz() { timeout 600 "$b/proto_fuzz" "$@"; }
good() { fuzz "$s" good-calls >/dev/null 2>&1; }
nfds() { ls "/proc/$pid/fd" | wc -l; }

# start: foreground in the background; the socket appears once it listens
"$b/xhvd" --foreground --socket "$s" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -S "$s" ] || ! kill -0 $pid 2>/dev/null && break; sleep 0.1; done
if [ -S "$s" ] && good; then ok start; else
    ko start "xhvd did not come up at $s"
    pid=
    finish
fi

mode=$(stat -c %a "$s")
[ "$mode" = 600 ] && ok socket-mode || ko socket-mode "socket mode $mode, expected 600"

out=$("$b/xhvd" --foreground --socket "$s" 2>&1)
st=$?
if [ $st = 1 ] && echo "$out" | grep -q "already running at $s" && good; then
    ok second-refused
else
    ko second-refused "status $st, output '$out'"
fi

# a user other than root and the daemon's: the mode refuses it, and so does the peer check
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
    ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$b/proto_fuzz"; then
    skipped nonroot-refused "needs root, setpriv and a proto_fuzz user nobody can run"
else
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$b/proto_fuzz" "$s" good-calls; }
    chmod 711 "$tmp"
    nobody >"$tmp/nobody1" 2>&1
    st1=$?
    chmod 666 "$s" # let it reach the daemon: SO_PEERCRED must refuse it
    nobody >"$tmp/nobody2" 2>&1
    st2=$?
    chmod 600 "$s"
    chmod 700 "$tmp"
    if [ $st1 != 0 ] && [ $st2 != 0 ] && grep -q "refused a connection from uid 65534" "$tmp/log" &&
        good; then
        ok nonroot-refused
    else
        ko nonroot-refused "nobody got through (status $st1 / $st2) or no refusal in the log"
    fi
fi

# malformed messages: one line per abuse case, each followed by a good call
fuzz "$s" >"$tmp/fuzz" 2>&1
while read -r verdict rest; do
    case $verdict in
    PASS) ok "$rest" ;;
    FAIL) ko "${rest%%:*}" "${rest#*: }" ;;
    SKIPPED) skipped "${rest%% *}" "$(echo "$rest" | sed 's/^[^(]*(//;s/)$//')" ;;
    esac
done <"$tmp/fuzz"
if kill -0 $pid 2>/dev/null && good; then ok proto-fuzz; else
    ko proto-fuzz "the daemon died: $(tail -3 "$tmp/fuzz")"
fi

# descriptors (and tool buffer mappings) return to their baseline after 100 connect / call /
# disconnect cycles
fuzz "$s" cycles 1 >/dev/null 2>&1
before=$(nfds)
fuzz "$s" cycles 100 >"$tmp/cycles" 2>&1
after=$(nfds)
bufmaps=$(grep -c xencall-buffers "/proc/$pid/maps")
if grep -q "100 cycles ok" "$tmp/cycles" && [ "$before" = "$after" ] && [ "$bufmaps" = 0 ]; then
    ok fd-baseline
else
    ko fd-baseline "fds $before before, $after after; $bufmaps tool buffers still mapped: $(cat "$tmp/cycles")"
fi

# SIGTERM with a live domain: destroyed, exit 0, the socket files gone
left=$(fuzz "$s" leave-domain 2>&1)
kill -TERM $pid
wait $pid
st=$?
pid=
if [ $st = 0 ] && [ ! -e "$s" ] && [ ! -e "$s.xs" ] && [ ! -e "$s.pid" ]; then
    case $left in
    "domain left") ok sigterm ;;
    SKIP:*) ok sigterm; skipped sigterm-with-domain "${left#SKIP: }" ;;
    *) ko sigterm "could not leave a domain behind: $left" ;;
    esac
else
    ko sigterm "exit status $st; left: $(ls "$tmp")"
fi

# daemon mode: returns once the socket listens; the pid file names the daemon
if "$b/xhvd" --socket "$tmp/d" 2>"$tmp/dlog" && [ -S "$tmp/d" ] &&
    fuzz "$tmp/d" good-calls >/dev/null 2>&1; then
    dpid=$(cat "$tmp/d.pid")
    kill -TERM "$dpid"
    for _ in $(seq 600); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$dpid" 2>/dev/null || [ -e "$tmp/d" ]; then
        ko daemon-mode "the daemon did not stop on SIGTERM"
    else
        ok daemon-mode
    fi
else
    ko daemon-mode "$(cat "$tmp/dlog")"
fi

if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/log" "$tmp/dlog" 2>/dev/null; then
    ko sanitizers "$(grep -E -m3 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/log")"
fi
finish
