#!/bin/bash
# run_tsan.sh BUILD_DIR: the ThreadSanitizer pass (make check-tsan): unit tests, then the guests
# with concurrent vCPUs and event channels. Any TSan report fails its case. Ends with
# "tsan: N passed, N failed, N skipped".
set -u
b=${1:-build-tsan}
# Guest memory is shared with the guest and with other vCPUs: copy_{from,to}_guest (xfer) races
# with atomic bit updates by design, as in Xen. Nothing else is suppressed.
printf 'race:xfer\n' >"${TMPDIR:-/tmp}/xhv-tsan.supp"
export TSAN_OPTIONS="report_thread_leaks=0 halt_on_error=0 exitcode=66 suppressions=${TMPDIR:-/tmp}/xhv-tsan.supp"
pass=0 fail=0 skip=0
run() { # NAME COMMAND...
    local name=$1 out
    shift
    out=$("$@" 2>&1)
    local st=$?
    if [ $st = 0 ] && ! grep -q "WARNING: ThreadSanitizer" <<<"$out"; then
        echo "PASS $name"; pass=$((pass + 1))
    else
        echo "FAIL $name: exit $st"; grep -A12 "WARNING: ThreadSanitizer" <<<"$out" | head -40
        fail=$((fail + 1))
    fi
}
XHV_SKIP_TESTS=domain_limit_enospc run unit "$b/unit_tests"
if [ -c /dev/kvm ]; then
    run smp "$b/xhv" run --vcpus 4 build/guest/smp.elf
    run evtchn "$b/xhv" run build/guest/evtchn.elf
    run privileged "$b/xhv" run --privileged build/guest/privileged.elf
    run virq "$b/xhv" run --privileged build/guest/virq.elf
    run timer "$b/xhv" run build/guest/timer.elf
else
    echo "SKIPPED tsan guests (no usable /dev/kvm: the concurrent guests do not run)"
    skip=$((skip + 5))
fi
echo "tsan: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
