/* test_time.c: pvclock (vcpu_time_info), calibration records, wallclock, CPUID leaf 3. */
#include <string.h>
#include <time.h>

#include "compat_layout.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "core/time.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define VO __HYPERVISOR_vcpu_op
#define ARG 0x10000ull
#define TIME_OFF (offsetof(struct vcpu_info, time))

static struct vcpu_time_info time_at(const uint8_t *vi)
{
    struct vcpu_time_info t;
    memcpy(&t, vi + TIME_OFF, sizeof(t));
    return t;
}

static struct vcpu_time_info legacy_time(struct domain *d, unsigned id)
{
    return time_at(physmap_owned_page(d, XHV_PG_SHARED_INFO) +
                   offsetof(struct shared_info, vcpu_info) + id * sizeof(struct vcpu_info));
}

TEST(time_scale_delta)
{
    static const uint64_t hz[] = {300000000ull, 1000000000ull, 2445432000ull, 3999999999ull};
    for (unsigned i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
        uint32_t mul;
        int8_t shift;
        time_scale(hz[i], &mul, &shift);
        uint64_t ns = scale_delta(hz[i], mul, shift); /* one second of ticks */
        CHECK(ns <= 1000000000ull && ns > 1000000000ull - 16);
        CHECK(mul >= 0x80000000u); /* normalised as Xen's set_time_scale() */
    }
    CHECK_EQ(scale_delta(1ull << 40, 0x80000000u, 0), 1ull << 39);
    CHECK_EQ(scale_delta(1ull << 40, 0x80000000u, -2), 1ull << 37);
    CHECK_EQ(scale_delta(1ull << 20, 0x80000000u, 3), 1ull << 22);
}

/* A new record never starts before what the previous one predicts for that TSC. */
TEST(time_records_monotonic)
{
    struct time_record a, b;
    uint64_t s0 = xen_system_time();
    time_calibrate(&a);
    CHECK(a.seq > 0 && a.stime >= s0 && a.mul_frac != 0);
    for (int i = 0; i < 50; i++) {
        time_calibrate(&b);
        CHECK(b.seq == a.seq + 1 && b.tsc >= a.tsc);
        CHECK(b.stime >= a.stime + scale_delta(b.tsc - a.tsc, a.mul_frac, a.shift));
        a = b;
    }
    time_record_get(&b);
    CHECK_EQ(b.seq, a.seq);
    CHECK(host_tsc_hz() > 0);
}

static void check_time_info(struct vcpu_time_info t, const struct time_record *r, int64_t off)
{
    CHECK(t.version != 0 && (t.version & 1) == 0);
    CHECK_EQ(t.tsc_timestamp, r->tsc + (uint64_t)off);
    CHECK_EQ(t.system_time, r->stime);
    CHECK_EQ(t.tsc_to_system_mul, r->mul_frac);
    CHECK_EQ(t.tsc_shift, r->shift);
    CHECK_EQ(t.flags, 0); /* no XEN_PVCLOCK_TSC_STABLE_BIT */
}

/* The legacy slot: guest TSC domain (host + backend offset), version protocol, force/no force. */
TEST(pvclock_legacy_slot)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu *v = d->vcpu[1];
    struct time_record r;
    fake_vcpu_of(v)->tsc_offset = -123456789;
    vcpu_time_refresh(v, true);
    CHECK_EQ(fake_vcpu_of(v)->tsc_offset_reads, 1);
    time_record_get(&r);
    struct vcpu_time_info t = legacy_time(d, 1);
    check_time_info(t, &r, -123456789);
    update_vcpu_system_time(v); /* unchanged: not rewritten */
    CHECK_EQ(legacy_time(d, 1).version, t.version);
    force_update_vcpu_system_time(v);
    CHECK_EQ(legacy_time(d, 1).version, t.version + 2);
    /* the periodic calibration moves every vCPU to the new record */
    time_calibration();
    time_record_get(&r);
    check_time_info(legacy_time(d, 1), &r, -123456789);
    check_time_info(legacy_time(d, 0), &r, 0);
    CHECK(legacy_time(d, 1).version >= t.version + 4);
    domain_destroy(d);
}

/* vcpu_time_info has one layout for 32-bit guests: the compat offsets read the same record. */
TEST(pvclock_compat_layout)
{
    struct domain *d = fake_domain(16, 1, false);
    uint8_t *si = physmap_owned_page(d, XHV_PG_SHARED_INFO);
    struct time_record r;
    uint64_t st;
    uint32_t ver;
    d->has_32bit_shinfo = true;
    force_update_vcpu_system_time(d->vcpu[0]);
    time_record_get(&r);
    uint8_t *t = si + COMPAT_shared_info__vcpu_info_OFF + COMPAT_vcpu_info__time_OFF;
    memcpy(&st, t + COMPAT_vcpu_time_info__system_time_OFF, 8);
    memcpy(&ver, t + COMPAT_vcpu_time_info__version_OFF, 4);
    CHECK_EQ(st, r.stime);
    CHECK(ver && !(ver & 1));
    domain_destroy(d);
}

/* A registered vcpu_info is the one kept up to date (also 4-aligned, 32-bit guests). */
TEST(pvclock_registered_vcpu_info)
{
    struct domain *d = fake_domain(16, 2, false);
    struct vcpu_register_vcpu_info info = {.mfn = 0x300, .offset = 64};
    struct time_record r;
    uint8_t area[sizeof(struct vcpu_info)];
    gpa_write(d, ARG, &info, sizeof(info));
    CHECK_EQ(hc64(d->vcpu[0], VO, VCPUOP_register_vcpu_info, 0, ARG), 0);
    uint32_t legacy_ver = legacy_time(d, 0).version;
    time_calibration();
    time_record_get(&r);
    gpa_read(d, 0x300000 + 64, area, sizeof(area));
    check_time_info(time_at(area), &r, 0);
    CHECK_EQ(legacy_time(d, 0).version, legacy_ver); /* the old slot is left alone */
    d->has_32bit_shinfo = true;
    info = (struct vcpu_register_vcpu_info){.mfn = 0x301, .offset = 4};
    gpa_write(d, ARG, &info, sizeof(info));
    CHECK_EQ(hc32(d->vcpu[0], VO, VCPUOP_register_vcpu_info, 1, ARG), 0);
    time_record_get(&r);
    gpa_read(d, 0x301000 + 4, area, sizeof(area));
    check_time_info(time_at(area), &r, 0);
    domain_destroy(d);
}

static void read_wallclock(struct domain *d, bool compat, uint64_t *sec, uint32_t *nsec)
{
    uint8_t *si = physmap_owned_page(d, XHV_PG_SHARED_INFO);
    uint32_t lo, hi, ver;
    memcpy(&ver,
           si + (compat ? COMPAT_shared_info__wc_version_OFF
                        : offsetof(struct shared_info, wc_version)),
           4);
    CHECK(ver && !(ver & 1));
    memcpy(&lo,
           si + (compat ? COMPAT_shared_info__wc_sec_OFF : offsetof(struct shared_info, wc_sec)),
           4);
    memcpy(nsec,
           si + (compat ? COMPAT_shared_info__wc_nsec_OFF : offsetof(struct shared_info, wc_nsec)),
           4);
    memcpy(&hi,
           si + (compat ? COMPAT_shared_info__arch_OFF + COMPAT_shared_info__arch_SIZE - 4
                        : offsetof(struct shared_info, wc_sec_hi)),
           4);
    *sec = lo | ((uint64_t)hi << 32);
}

/* wallclock + system time = the time of day (to the 1 ms the base may lag a host clock step),
 * plus the domain's offset; both layouts. */
TEST(wallclock_consistent)
{
    struct domain *d = fake_domain(16, 1, false);
    for (int compat = 0; compat < 2; compat++) {
        struct timespec t0, t1;
        uint64_t sec, sec2;
        uint32_t nsec, nsec2;
        d->has_32bit_shinfo = compat;
        d->time_offset = 0;
        shared_info_update_wallclock(d);
        read_wallclock(d, compat, &sec, &nsec);
        clock_gettime(CLOCK_REALTIME, &t0);
        uint64_t now = sec * 1000000000ull + nsec + xen_system_time();
        clock_gettime(CLOCK_REALTIME, &t1);
        uint64_t lo = (uint64_t)t0.tv_sec * 1000000000ull + (uint64_t)t0.tv_nsec - 1000000;
        uint64_t hi = (uint64_t)t1.tv_sec * 1000000000ull + (uint64_t)t1.tv_nsec + 1000000;
        CHECK(nsec < 1000000000u && now >= lo && now <= hi);
        d->time_offset = -3600;
        shared_info_update_wallclock(d);
        read_wallclock(d, compat, &sec2, &nsec2);
        CHECK_EQ(sec2, sec - 3600);
        CHECK_EQ(nsec2, nsec);
    }
    domain_destroy(d);
}

TEST(cpuid_leaf3_time)
{
    struct domain *d = fake_domain(16, 1, false);
    uint32_t saved = xhv_tsc_khz, out[4], mul;
    int8_t shift;
    xhv_tsc_khz = 2000000;
    xen_cpuid_leaf(d->vcpu[0], XEN_CPUID_BASE + 3, 0, out);
    CHECK_EQ(out[0] & 1, 0); /* rdtsc never emulated */
    CHECK_EQ((out[0] >> 1) & 1, host_tsc_is_safe());
    CHECK_EQ((out[0] >> 2) & 1, host_has_rdtscp());
    CHECK_EQ(out[1], 0); /* TSC_MODE_DEFAULT */
    CHECK_EQ(out[2], 2000000);
    CHECK_EQ(out[3], 1); /* incarnation after tsc_set_info() */
    xen_cpuid_leaf(d->vcpu[0], XEN_CPUID_BASE + 3, 1, out);
    time_scale(2000000000ull, &mul, &shift);
    CHECK_EQ(out[0] | ((uint64_t)out[1] << 32), d->vtsc_offset);
    CHECK_EQ(out[2], mul);
    CHECK_EQ(out[3], (uint32_t)(int32_t)shift);
    xen_cpuid_leaf(d->vcpu[0], XEN_CPUID_BASE + 3, 2, out);
    CHECK_EQ(out[0], 2000000);
    CHECK(out[1] == 0 && out[2] == 0 && out[3] == 0);
    xen_cpuid_leaf(d->vcpu[0], XEN_CPUID_BASE + 3, 3, out);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0);
    xhv_tsc_khz = saved;
    domain_destroy(d);
}

/* Poll (at most 2 s; no upper bound is asserted) until the timer thread has n armed vCPUs. */
static bool armed_becomes(unsigned n)
{
    for (int i = 0; i < 200 && timer_nr_armed() != n; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return timer_nr_armed() == n;
}

/* The timer thread keeps only vCPUs with an armed timer: destroy takes a domain's vCPUs out,
 * a stopped or fired timer leaves, a deadline of 2^63 or more fires at once. */
TEST(timer_armed_vcpus_only)
{
    struct domain *a = fake_domain(16, 2, false), *b = fake_domain(16, 1, false);
    uint64_t later = xen_system_time() + 3600000000000ull;
    CHECK(armed_becomes(0));
    vcpu_set_singleshot(a->vcpu[0], later);
    vcpu_set_periodic(a->vcpu[1], 1000000000ull);
    vcpu_set_singleshot(b->vcpu[0], later);
    CHECK_EQ(timer_nr_armed(), 3);
    domain_destroy(b);
    CHECK_EQ(timer_nr_armed(), 2);
    vcpu_set_singleshot(a->vcpu[0], 0); /* stopped: leaves at the next pass */
    CHECK(armed_becomes(1));
    vcpu_set_singleshot(a->vcpu[0], 1ull << 63); /* "negative": due now, fires, leaves */
    CHECK(armed_becomes(1));                     /* it fired: the only way back to one armed vCPU */
    domain_destroy(a);
    CHECK_EQ(timer_nr_armed(), 0);
}

/* Once per calibration epoch a vCPU's own thread re-reads its TSC offset (KVM may have moved
 * it: a guest write to IA32_TSC), and its pvclock stamps follow. */
TEST(pvclock_tsc_offset_follows_kvm)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct fake_vcpu *f = fake_vcpu_of(v);
    vcpu_time_start(v);
    unsigned reads = f->tsc_offset_reads;
    vcpu_time_poll(v); /* same epoch: nothing to do */
    CHECK_EQ(f->tsc_offset_reads, reads);
    f->tsc_offset = 123456789;
    time_calibration();
    vcpu_time_poll(v);
    CHECK_EQ(f->tsc_offset_reads, reads + 1);
    CHECK_EQ(v->tsc_offset, 123456789);
    domain_destroy(d);
}
