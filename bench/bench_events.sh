#!/bin/bash
# bench_events.sh [BUILD_DIR] [N] [RUNS]: cross-domain event channel benchmark (not a test), on a
# private `xhvd --stats`. RUNS times: ping/pong round trips (N, guest-side ns per round trip) and
# a one-way burst (N sends back to back; pong counts what is delivered: a pending bit absorbs
# sends until pong clears it), with xhv's host-side ns per EVTCHNOP call and per hypercall exit
# (the xhv-stats lines `xhv dmesg` shows when a domain is destroyed); beside them, from the same
# run, the bench guest's null hypercall (`xhv run --stats`). Medians, since 2 cores are noisy.
set -u
cd "$(dirname "$0")/.."
b=${1:-build} n=${2:-5000} runs=${3:-3}
xhv=$b/xhv cfgs=tests/integration/cfgs
tmp=$(mktemp -d)
sock=$tmp/xhvd.sock
dpid=
trap '[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid"; rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "nan"}'; }
x() { timeout 300 "$xhv" --socket "$sock" "$@"; }
die() { echo "bench_events: $*"; tail -5 "$tmp/xhvd.log"; exit 1; }
# key=<number> from the console line "pingpong: <role> ..." of $2
field() { sed -n "s/^pingpong: $1 .*\b$3=\([0-9]*\).*/\1/p" "$2" | tail -1; }
# host-side ns of "xhv-stats: d<id> <what> <count> <unit>s <ns> ns/<unit>" in the daemon's log
stat_ns() { x dmesg | awk -v id="d$1" -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == "xhv-stats:" && $(i + 1) == id && $(i + 2) == w) v = $(i + 5) } END { print v }'; }
shut_down() { [ "$(x list "$1" 2>/dev/null | awk 'NR == 2 { print substr($5, 4, 1) }')" = s ]; }

for f in "$b/xhvd" "$xhv" build/guest/pingpong.elf build/guest/bench.elf; do
    [ -e "$f" ] || die "$f is not built"
done
[ -w /dev/kvm ] || die "no usable /dev/kvm"
"$b/xhvd" --foreground --stats --socket "$sock" >"$tmp/xhvd.log" 2>&1 &
dpid=$!
for i in $(seq 100); do x list >/dev/null 2>&1 && break; sleep 0.1; done

# One ping/pong pair: pong's and ping's command lines; consoles to $tmp/<mode>.<run>.{ping,pong},
# then both destroyed (their stats reach the log) and their host-side figures appended.
# MODE "pinned": pong's vCPU on host CPU 0, ping's on CPU 1; "samecpu": both on CPU 0 (a wake-up
# without a cross-CPU IPI, which costs a VM exit of this cloud VM); else the scheduler decides.
pair() { # MODE RUN PONG_CMDLINE PING_CMDLINE
    local o=$tmp/$1.$2 i ip ipo
    x create -q -p $cfgs/pong.cfg "cmdline=\"$3\"" >/dev/null 2>&1 || die "create pong failed"
    x create -q -p $cfgs/ping.cfg "cmdline=\"$4\"" >/dev/null 2>&1 || die "create ping failed"
    if [ "$1" = pinned ]; then
        x vcpu-pin pong 0 0 && x vcpu-pin ping 0 1 || die "vcpu-pin failed"
    elif [ "$1" = samecpu ]; then
        x vcpu-pin pong 0 0 && x vcpu-pin ping 0 0 || die "vcpu-pin failed"
    fi
    x unpause pong && x unpause ping || die "unpause failed"
    for ((i = 0; i < 3000; i++)); do shut_down ping && shut_down pong && break; sleep 0.1; done
    x console ping >"$o.ping" 2>&1
    x console pong >"$o.pong" 2>&1
    ip=$(x domid ping) ipo=$(x domid pong)
    x destroy ping && x destroy pong || die "destroy failed"
    grep -q "Test result: PASS" "$o.ping" && grep -q "Test result: PASS" "$o.pong" ||
        { cat "$o.ping" "$o.pong"; die "$1 run $2 did not pass"; }
    echo "$(stat_ns "$ip" event_channel_op)" >>"$tmp/$1.send"
    echo "$(stat_ns "$ip" hypercall)" >>"$tmp/$1.exit"
    echo "$(stat_ns "$ipo" event_channel_op)" >>"$tmp/$1.pong_send"
}

echo "== cross-domain event channels: $runs runs, N=$n, medians"
echo "   (guest ring 0 is emulated on kvm-pvm: guest-side ns measure the emulator; the host-side"
echo "    figures are xhv's own cost per exit, KVM_RUN return -> next KVM_RUN, and hold on any KVM)"
for r in $(seq "$runs"); do
    pair rtt "$r" "pong n=$n" "ping bench=rtt n=$n"
    field ping "$tmp/rtt.$r.ping" rtt_ns >>"$tmp/rtt.ns"
    if [ "$(nproc)" -ge 2 ]; then
        pair pinned "$r" "pong n=$n" "ping bench=rtt n=$n"
        field ping "$tmp/pinned.$r.ping" rtt_ns >>"$tmp/pinned.ns"
        pair samecpu "$r" "pong n=$n" "ping bench=rtt n=$n"
        field ping "$tmp/samecpu.$r.ping" rtt_ns >>"$tmp/samecpu.ns"
    fi
    pair oneway "$r" "pong oneway" "ping bench=oneway n=$n"
    field ping "$tmp/oneway.$r.ping" sent_per_s >>"$tmp/oneway.sent"
    ev=$(field pong "$tmp/oneway.$r.pong" events) span=$(field pong "$tmp/oneway.$r.pong" first_to_last_ns)
    tot=$(field ping "$tmp/oneway.$r.ping" total_ns)
    echo "$ev" >>"$tmp/oneway.events"
    awk -v e="$ev" -v t="$tot" 'BEGIN { print (t > 0 ? e * 1e9 / t : 0) }' >>"$tmp/oneway.deliv"
    echo "$span" >>"$tmp/oneway.span"
done
for r in $(seq "$runs"); do
    "$xhv" run --stats --cmdline "n=20000" build/guest/bench.elf >"$tmp/null.$r" 2>&1 || die "bench guest failed"
done
col() { cat "$tmp"/null.* | awk -v k="$1" -v f="$2" '$0 ~ k { print $f }' | median; }
m() { [ -e "$tmp/$1" ] && median <"$tmp/$1" || echo nan; }
g_rtt=$(m rtt.ns) h_send=$(m rtt.send) h_psend=$(m rtt.pong_send) h_exit=$(m rtt.exit)
o_sent=$(m oneway.sent) o_ev=$(m oneway.events) o_del=$(m oneway.deliv) o_span=$(m oneway.span)
o_send=$(m oneway.send) p_rtt=$(m pinned.ns) p_send=$(m pinned.send)
s_rtt=$(m samecpu.ns) s_send=$(m samecpu.send)
g_null=$(col 'bench: null_hypercall' 7) h_null=$(col 'xhv-stats: hypercall' 5)

printf '%-58s %14s\n' "round trip ping -> pong -> ping (guest-side)" "$g_rtt ns"
awk -v r="$g_rtt" 'BEGIN { printf "%-58s %14.0f\n", "  round trips per second", 1e9 / r }'
printf '%-58s %14s\n' "one-way: sends per second, back to back (guest-side)" "$o_sent"
printf '%-58s %14s\n' "one-way: events delivered to pong of $n sends" "$o_ev"
printf '%-58s %14.0f\n' "one-way: delivered per second (ping's first send -> ack)" "$o_del"
printf '%-58s %14s\n' "one-way: pong's first -> last delivery" "$o_span ns"
printf '%-58s %14s\n' "host-side EVTCHNOP (send) by ping, round trips" "$h_send ns/call"
printf '%-58s %14s\n' "host-side EVTCHNOP (send) by pong (echo, from its upcall)" "$h_psend ns/call"
printf '%-58s %14s\n' "host-side EVTCHNOP (send) by ping, one-way burst" "$o_send ns/call"
printf '%-58s %14s\n' "host-side hypercall exit, ping (all kinds), round trips" "$h_exit ns/exit"
printf '%-58s %14s\n' "round trip, ping and pong pinned to CPUs 1 and 0 (guest)" "$p_rtt ns"
printf '%-58s %14s\n' "host-side EVTCHNOP (send) by ping, pinned" "$p_send ns/call"
printf '%-58s %14s\n' "round trip, both pinned to CPU 0 (guest)" "$s_rtt ns"
printf '%-58s %14s\n' "host-side EVTCHNOP (send) by ping, both on CPU 0" "$s_send ns/call"
printf '%-58s %14s\n' "null hypercall (XENVER_version), bench guest, host-side" "$h_null ns/exit"
printf '%-58s %14s\n' "null hypercall (XENVER_version), bench guest, guest-side" "$g_null ns/call"
awk -v s="$h_send" -v o="$o_send" -v h="$h_null" -v r="$g_rtt" -v g="$g_null" 'BEGIN {
    printf "ratios: host send/null hypercall %.2f (round trips), %.2f (burst); guest round trip/null hypercall %.1f\n", s / h, o / h, r / g }'
echo "   a send that finds the peer idle injects its upcall with KVM_SIGNAL_MSI, which wakes the"
echo "   peer's halted vCPU in the kernel: that ioctl, not xhv's dispatch, is most of its host-side"
echo "   cost (a send to a port still pending, as in most of the burst, injects nothing)"
echo "   one-way: a send to a port whose pending bit is still set only sets it again, so pong"
echo "   sees one event per upcall however many sends it absorbed (events <= sends)"
