#!/bin/bash
# bench_domains.sh [BUILD_DIR] [N] [MAX_LIVE]: domain lifecycle benchmark through xhvd (not a
# test). 1) N times: `xhv create -c` of the hello guest -> its first console line -> `xhv destroy`
# (medians of create-to-first-line and of the whole cycle); 2) beside it, in the same run, a raw
# KVM VM create -> run to OUT/HLT -> destroy (bench/rawvm_bench), and the ratio; 3) how the time of
# one create grows as live domains go from 1 to MAX_LIVE (idle guests if built, else shut-down
# hello domains kept with on_poweroff=preserve, which still hold their VM and memory), beside the
# cost of one full name scan (`xhv domid` of a missing name: libxl's O(domains) lookup, which
# xhv's name index spares `create`).
set -u
cd "$(dirname "$0")/.."
b=${1:-build} n=${2:-30} max_live=${3:-500}
xhv=$b/xhv cfg=tests/integration/cfgs/hello.cfg
tmp=$(mktemp -d)
sock=$tmp/xhvd.sock
dpid=
trap '[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid"; rm -rf "$tmp"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "nan"}'; }
now_us() { echo $((${EPOCHREALTIME/./})); } # bash 5: no fork
x() { "$xhv" --socket "$sock" "$@"; }

for f in "$b/xhvd" "$xhv" "$b/rawvm_bench" build/guest/hello.elf; do
    [ -e "$f" ] || { echo "bench_domains: $f is not built"; exit 1; }
done
[ -w /dev/kvm ] || { echo "bench_domains: no usable /dev/kvm"; exit 1; }
ulimit -n 65536 2>/dev/null
"$b/xhvd" --foreground --socket "$sock" >"$tmp/xhvd.log" 2>&1 &
dpid=$!
for i in $(seq 100); do x list >/dev/null 2>&1 && break; sleep 0.1; done

# 1) create -> first console line -> destroy, through the daemon.
: >"$tmp/first" && : >"$tmp/cycle"
for i in $(seq "$n"); do
    t0=$(now_us)
    exec 3< <(x create -q -e -c "$cfg" "name=\"bench$i\"" 2>&1)
    read -r line <&3 || { echo "bench_domains: create failed: $line"; cat "$tmp/xhvd.log" | tail; exit 1; }
    t1=$(now_us)
    x destroy "bench$i" >/dev/null 2>&1 || { echo "bench_domains: destroy failed"; exit 1; }
    t2=$(now_us)
    exec 3<&-
    echo $((t1 - t0)) >>"$tmp/first"
    echo $((t2 - t0)) >>"$tmp/cycle"
done

# the same without running guest code (the hello guest's boot is emulated ring-0 code on
# kvm-pvm), and the floor of any xhv call (process start, connect, HELLO with its buffer arena)
: >"$tmp/build" && : >"$tmp/floor"
for i in $(seq "$n"); do
    t0=$(now_us)
    x create -q -e -p "$cfg" "name=\"build$i\"" >/dev/null 2>&1 && x destroy "build$i" >/dev/null 2>&1 ||
        { echo "bench_domains: paused create/destroy failed"; exit 1; }
    t1=$(now_us)
    x list >/dev/null 2>&1
    echo $((t1 - t0)) >>"$tmp/build"
    echo $(($(now_us) - t1)) >>"$tmp/floor"
done
first=$(median <"$tmp/first") cycle=$(median <"$tmp/cycle")
build=$(median <"$tmp/build") floor=$(median <"$tmp/floor")
raw_line=$("$b/rawvm_bench" "$n") || exit 1
raw=$(awk '{for (i = 1; i <= NF; i++) if ($i == "median") print $(i + 1)}' <<<"$raw_line")
echo "== domain lifecycle through xhvd ($n runs, medians; each xhv call is a new process)"
printf '%-46s %10s us\n' "xhv create -c -> first console line" "$first"
printf '%-46s %10s us\n' "xhv create -> first console line -> destroy" "$cycle"
printf '%-46s %10s us\n' "xhv create -p -> destroy (guest never runs)" "$build"
printf '%-46s %10s us\n' "xhv list (floor of one xhv process)" "$floor"
printf '%-46s %10s us\n' "raw KVM VM create -> run to HLT -> destroy" "$raw"
awk -v c="$cycle" -v b="$build" -v r="$raw" 'BEGIN {
    printf "ratio domain cycle / raw VM cycle: %.1f (without guest code: %.1f)\n", c / r, b / r }'

# 3) create time as live domains grow.
live_cfg=$cfg
[ -e build/guest/idle.elf ] && live_cfg=tests/integration/cfgs/idle.cfg
echo "== create time vs live domains (live: $(basename "$live_cfg" .cfg) guests, 5 probes each)"
printf '%10s %14s %22s %14s\n' "live" "create (us)" "full name scan (us)" "xhvd RSS (MiB)"
live=0
for target in 1 10 50 100 200 300 400 "$max_live"; do
    [ "$target" -le "$max_live" ] || continue
    while [ $live -lt "$target" ]; do
        live=$((live + 1))
        x create -q -e "$live_cfg" "name=\"live$live\"" memory=16 >/dev/null 2>&1 ||
            { echo "bench_domains: create of live domain $live failed:"; x create -q -e "$live_cfg" "name=\"live$live\"" memory=16; break 2; }
    done
    : >"$tmp/probe"
    for p in 1 2 3 4 5; do
        t0=$(now_us)
        x create -q -e "$cfg" 'name="probe"' memory=16 >/dev/null 2>&1 || break
        echo $(($(now_us) - t0)) >>"$tmp/probe"
        x destroy probe >/dev/null 2>&1
    done
    t0=$(now_us)
    x domid no-such-domain >/dev/null 2>&1
    scan=$(($(now_us) - t0))
    rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' /proc/$dpid/status)
    printf '%10s %14s %22s %14s\n' "$live" "$(median <"$tmp/probe")" "$scan" "$rss"
done
