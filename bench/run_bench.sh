#!/bin/bash
# run_bench.sh BUILD_DIR [N]: the hypercall benchmark. One bench-guest run measures, guest-side,
# N null hypercalls, N raw port exits (answered without dispatch) and N ioeventfd writes (the
# in-kernel floor), and xhv's host-side time per exit (KVM_RUN return -> next KVM_RUN). Then the
# core's dispatch alone, without KVM, in ns and (if valgrind is installed) exact instructions.
set -eu
b=${1:-build} n=${2:-20000}
out=$(mktemp)
trap 'rm -f "$out" callgrind.out.bench.*' EXIT
echo "== bench guest: $n calls per loop (guest ring 0 is emulated on kvm-pvm: guest-side ns are"
echo "   the emulator's; the host-side figures hold on any KVM)"
"$b/xhv" run --stats --cmdline "n=$n" "$b/guest/bench.elf" >"$out" 2>&1 || { cat "$out"; exit 1; }
grep -E '^bench:|xhv-stats' "$out"
h=$(awk '/xhv-stats: hypercall/ {print $5}' "$out")
r=$(awk '/xhv-stats: raw_exit/ {print $5}' "$out")
echo "host-side: null hypercall $h ns/exit, raw exit $r ns/exit, dispatch adds $(echo "$h $r" | awk '{printf "%.1f", $1-$2}') ns (goal <= 150 ns)"
echo "== core dispatch without KVM"
"$b/dispatch_bench"
if command -v valgrind >/dev/null; then
    for k in hcall raw; do
        valgrind --tool=callgrind --callgrind-out-file=callgrind.out.bench.$k \
            "$b/dispatch_bench" 100000 $k >/dev/null 2>"$out.cg" || true
        ir=$(grep -E 'Collected' "$out.cg" | awk '{print $4}')
        echo "callgrind: $k: $ir instructions for 100000 exits ($(echo "$ir" | awk '{printf "%.0f", $1/100000}') per exit, incl. setup)"
    done
    rm -f "$out.cg"
fi
