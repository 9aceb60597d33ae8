#!/bin/bash
# test_pingpong.sh [BUILD_DIR] [N]: two domains over interdomain event channels that the domain
# builder connects (xhv_evtchn in ping.cfg) on a private xhvd: N round trips (default 10000) with
# equal checksums on both sides; a missing peer; the peer destroyed mid-run. Prints
# PASS/FAIL/SKIPPED per case and "pingpong: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.."
b=${1:-build} n=${2:-10000}
xhv=$b/xhv xhvd=$b/xhvd cfgs=tests/integration/cfgs
. tests/integration/daemon_lib.sh
is_shut_down() { [ "$(state_of "$1" | cut -c4)" = s ]; }
# The value of key=<v> in a console line starting with "pingpong: <role>".
field() { sed -n "s/^pingpong: $1 .*\b$2=\([0-9a-f]*\).*/\1/p" <<<"$3" | tail -1; }
finish() {
    echo "pingpong: $pass passed, $fail failed, $skip skipped"
    [ $fail = 0 ]
    exit
}

if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIPPED: /dev/kvm is missing or not accessible: the ping-pong tests do not run"
    skipped pingpong "no usable /dev/kvm"
    finish
fi
for f in "$xhvd" "$xhv" build/guest/pingpong.elf; do
    [ -e "$f" ] || { skipped pingpong "$f is not built"; finish; }
done
start_daemon || finish

# N round trips; both sides fold the channel sequence into one checksum.
t0=$(date +%s.%N)
x create -q $cfgs/pong.cfg "cmdline=\"pong n=$n\""
[ "$st" = 0 ] && x create -q $cfgs/ping.cfg "cmdline=\"ping n=$n\""
[ "$st" = 0 ] && ok create-pong-then-ping || ko create-pong-then-ping "exit $st"
if wait_until 'is_shut_down ping && is_shut_down pong' 3000; then # liveness bound: 300 s
    echo "    $n round trips: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s from create to both shut down"
    ok both-finish
else
    x list
    ko both-finish "ping and pong are not both shut down after 300 s"
fi
x console ping
ping_out=$out
x console pong
pong_out=$out
out="$ping_out"
grep -q "Test result: PASS" <<<"$out" && ok ping-pass || ko ping-pass "no PASS verdict"
rt=$(field ping round_trips "$out") mm=$(field ping mismatches "$out") cp=$(field ping checksum "$out")
[ "$rt" = "$n" ] && [ "$mm" = 0 ] && ok ping-round-trips || ko ping-round-trips "round_trips '$rt' (want $n), mismatches '$mm'"
grep -m1 "rtt_ns" <<<"$out" | sed 's/^/    /'
out="$pong_out"
grep -q "Test result: PASS" <<<"$out" && ok pong-pass || ko pong-pass "no PASS verdict"
ev=$(field pong events "$out") co=$(field pong checksum "$out")
[ "$ev" = "$n" ] && ok pong-events || ko pong-events "events '$ev' (want $n)"
[ -n "$cp" ] && [ "$cp" = "$co" ] && ok checksums-equal || ko checksums-equal "ping '$cp', pong '$co'"
x destroy ping
x destroy pong
x list
! grep -Eq '^(ping|pong) ' <<<"$out" && ok destroy-both || ko destroy-both "still listed"

# The peer named in xhv_evtchn must exist.
x create $cfgs/ping.cfg 'xhv_evtchn=["nosuch"]'
if [ "$st" = 1 ] && grep -q "nosuch" <<<"$out"; then ok missing-peer; else ko missing-peer "exit $st (want 1 and an error naming 'nosuch')"; fi
x list
! grep -q '^ping ' <<<"$out" && ok missing-peer-leaves-nothing || ko missing-peer-leaves-nothing "ping is listed"

# pong destroyed while ping runs: ping's ports fall back to unbound and its echoes never come;
# the daemon keeps answering and ping (halted, waiting) is destroyed.
x create -q $cfgs/pong.cfg 'cmdline="pong n=100000000"'
x create -q $cfgs/ping.cfg 'cmdline="ping n=100000000"'
if wait_until "timeout 2 $xhv --socket $sock console ping | grep -q 'close it again'" 300; then
    sleep 1
    x destroy pong
    [ "$st" = 0 ] && ok destroy-peer-mid-run || ko destroy-peer-mid-run "exit $st"
    sleep 1
    x list
    if [ "$st" = 0 ] && grep -q '^ping ' <<<"$out" && ! grep -q '^pong ' <<<"$out"; then
        ok daemon-answers
    else
        ko daemon-answers "exit $st"
    fi
    xto=20 x destroy ping
    [ "$st" = 0 ] && ok destroy-waiting-ping || ko destroy-waiting-ping "exit $st"
    x list
    [ "$st" = 0 ] && ! grep -q '^ping ' <<<"$out" && ok daemon-alive || ko daemon-alive "exit $st"
else
    x console ping
    ko destroy-peer-mid-run "ping never got to its round trips"
fi
kill -0 "$dpid" 2>/dev/null && ok daemon-survives || ko daemon-survives "xhvd exited"
kill "$dpid" && wait "$dpid" # leaks are reported at exit
dpid=
out=$(grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$tmp/xhvd.log")
[ -z "$out" ] && ok no-sanitizer-reports || ko no-sanitizer-reports "in xhvd's log"
finish
