#!/bin/bash
# run_bench.sh BUILD_DIR [N] [RUNS]: the hypercall benchmark (not a test). Each bench-guest run
# measures, guest-side, N null hypercalls (XENVER_version), N raw port exits (answered without
# dispatch) and N ioeventfd writes (the in-kernel floor), and xhv's host-side time per exit
# (KVM_RUN return -> next KVM_RUN). RUNS runs; medians are reported, since a 2-core cloud VM is
# noisy. Then timer lateness (the timer guest with bench=N: singleshots 1 ms ahead; host side
# deadline -> VIRQ_TIMER raised, guest side deadline -> upcall by pvclock), the pvclock's drift
# from Xen system time (bench/time_drift.c), and the core's dispatch alone, without KVM: ns, and
# exact instructions (callgrind).
set -eu
b=${1:-build} n=${2:-20000} runs=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "nan"}'; }

echo "== bench guest: $runs runs x $n calls per loop"
echo "   (guest ring 0 is emulated on kvm-pvm: guest-side ns measure the emulator; the"
echo "    host-side figures are xhv's own cost and hold on any KVM)"
# runs_of PREFIX CMDLINE GUEST: $runs `xhv run --stats` of build/guest/GUEST.elf into
# $tmp/PREFIX<i>; a failed run stops the benchmark.
runs_of() {
    local i
    for i in $(seq "$runs"); do
        "$b/xhv" run --stats --cmdline "$2" "$b/guest/$3.elf" >"$tmp/$1$i" 2>&1 ||
            { cat "$tmp/$1$i"; exit 1; }
    done
}
runs_of run "n=$n" bench
col() { cat "$tmp"/run* | awk -v k="$1" -v f="$2" '$0 ~ k {print $f}' | median; }
g_h=$(col 'bench: null_hypercall' 7) g_r=$(col 'bench: raw_exit' 7) g_e=$(col 'bench: ioeventfd' 7)
h_h=$(col 'xhv-stats: hypercall' 5) h_r=$(col 'xhv-stats: raw_exit' 5)
printf '%-28s %12s %12s\n' "median of $runs runs" "guest ns/call" "host ns/exit"
printf '%-28s %12s %12s\n' "null hypercall (XENVER)" "$g_h" "$h_h"
printf '%-28s %12s %12s\n' "raw exit (no dispatch)" "$g_r" "$h_r"
printf '%-28s %12s %12s\n' "ioeventfd (in-kernel floor)" "$g_e" "-"
awk -v a="$g_h" -v b="$g_r" -v c="$g_e" -v h="$h_h" -v r="$h_r" 'BEGIN {
    printf "ratios (guest-side): null_hypercall/raw_exit %.2f, raw_exit/ioeventfd %.2f\n", a/b, b/c
    printf "host-side: dispatch adds %.1f ns per null hypercall over the raw exit (goal <= 150 ns)\n", h-r }'
tn=${TIMER_N:-300}
echo "== timer lateness: $runs runs x $tn singleshot timers 1 ms ahead (medians of runs)"
runs_of timer "bench=$tn" timer
tcol() { cat "$tmp"/timer* | awk -v k="$1" -v f="$2" '$0 ~ k {print $f}' | median; }
printf '%-28s %12s %12s\n' "VIRQ_TIMER lateness (ns)" "median" "p99"
printf '%-28s %12s %12s\n' "host: deadline -> raised" "$(tcol 'xhv-stats: timer_late' 6)" \
    "$(tcol 'xhv-stats: timer_late' 9)"
printf '%-28s %12s %12s\n' "guest: deadline -> upcall" "$(tcol 'bench: timer_late_guest' 6)" \
    "$(tcol 'bench: timer_late_guest' 9)"
printf '%-28s %12s\n' "null hypercall, guest ns" "$g_h"
echo "== pvclock drift from Xen system time (host side, 5 s, recalibrated every second)"
khz=$(awk '/bench setup:/ {sub("tsc_khz=", "", $4); print $4; exit}' "$tmp/run1")
"$b/time_drift" 5 "${khz:-0}"
echo "== core dispatch without KVM (same exits through vcpu_handle_exit, warm caches)"
"$b/dispatch_bench"
if command -v valgrind >/dev/null; then
    for k in hcall raw send; do
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$k" "$b/dispatch_bench" 100000 $k \
            >/dev/null 2>"$tmp/cg.$k.log" || true
        awk -v k=$k '/Collected/ {printf "callgrind: %-5s %.0f instructions per exit (100000 exits, incl. setup)\n", k, $4/100000}' "$tmp/cg.$k.log"
    done
fi
