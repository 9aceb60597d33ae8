/* time_drift.c: how far a pvclock (the calibration records) strays from Xen system time.
 * Every 10 ms it compares the record's extrapolation at the host TSC with xen_system_time();
 * every second it recalibrates as xhv's thread does and records the step the guest sees. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/time.h"

static int64_t pv_minus_sys(void)
{
    struct time_record r;
    time_record_get(&r);
    uint64_t t0 = host_rdtsc(), s = xen_system_time(), t1 = host_rdtsc();
    uint64_t tsc = t0 + (t1 - t0) / 2;
    uint64_t pv = r.stime + (tsc > r.tsc ? scale_delta(tsc - r.tsc, r.mul_frac, r.shift) : 0);
    return (int64_t)(pv - s);
}

int main(int argc, char **argv)
{
    unsigned secs = argc > 1 ? (unsigned)atoi(argv[1]) : 10;
    xhv_tsc_khz = argc > 2 ? (uint32_t)atoi(argv[2]) : 0; /* KVM's, as xhv would have it */
    struct timespec tick = {0, 10000000};
    struct time_record prev, cur;

    time_calibration();
    for (unsigned s = 1; s <= secs; s++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (int i = 0; i < 100; i++) {
            nanosleep(&tick, NULL);
            int64_t d = pv_minus_sys();
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        time_record_get(&prev);
        time_calibration();
        time_record_get(&cur);
        int64_t step =
            (int64_t)cur.stime -
            (int64_t)(prev.stime + scale_delta(cur.tsc - prev.tsc, prev.mul_frac, prev.shift));
        printf("drift: second %2u pvclock-systime min %6lld max %6lld ns; re-stamp step %+lld ns; "
               "host %llu Hz\n",
               s, (long long)lo, (long long)hi, (long long)step, (unsigned long long)host_tsc_hz());
    }
    return 0;
}
