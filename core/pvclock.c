/* pvclock.c: time as guests see it: vcpu_time_info in every vcpu_info, the shared_info
 * wallclock, CPUID leaf 0x40000003, and the thread that recalibrates them every second. */
#include <string.h>

#include "compat_layout.h"
#include "core/accel.h"
#include "core/time.h"

/* vcpu_time_info has one layout in both ABIs, at the same place in vcpu_info. */
_Static_assert(COMPAT_vcpu_info__time_OFF == offsetof(struct vcpu_info, time), "time offset");
_Static_assert(COMPAT_vcpu_time_info_SIZE == sizeof(struct vcpu_time_info), "vcpu_time_info");
_Static_assert(
    COMPAT_vcpu_time_info__tsc_timestamp_OFF == offsetof(struct vcpu_time_info, tsc_timestamp) &&
        COMPAT_vcpu_time_info__system_time_OFF == offsetof(struct vcpu_time_info, system_time) &&
        COMPAT_vcpu_time_info__tsc_to_system_mul_OFF ==
            offsetof(struct vcpu_time_info, tsc_to_system_mul) &&
        COMPAT_vcpu_time_info__tsc_shift_OFF == offsetof(struct vcpu_time_info, tsc_shift) &&
        COMPAT_vcpu_time_info__flags_OFF == offsetof(struct vcpu_time_info, flags),
    "vcpu_time_info fields");

/* The TSC mode Xen reports for a domain it did not have to emulate rdtsc for. */
#define XEN_TSC_MODE_DEFAULT 0
/* tsc_set_info() runs at creation with incarnation 0 and leaves incarnation + 1. */
#define XEN_TSC_INCARNATION 1

/* ---- vcpu_time_info ---- */

/*
 * collect_time_info() of an HVM vCPU whose TSC runs native (vtsc = 0): the stamp of the last
 * calibration, its TSC in the guest's domain (host TSC + the vCPU's offset), Xen's scale.
 * No XEN_PVCLOCK_TSC_STABLE_BIT: Xen sets it only when its own clocksource is the TSC
 * (clocksource=tsc), not by default; guests then keep their cross-vCPU monotonicity check.
 */
static void collect_time_info(const struct vcpu *v, const struct time_record *r,
                              struct vcpu_time_info *u)
{
    memset(u, 0, sizeof(*u));
    u->tsc_timestamp = r->tsc + (uint64_t)__atomic_load_n(&v->tsc_offset, __ATOMIC_RELAXED);
    u->system_time = r->stime;
    u->tsc_to_system_mul = r->mul_frac;
    u->tsc_shift = r->shift;
}

/* The time area may be only 4-aligned (a 32-bit guest's registered vcpu_info): store 64-bit
 * fields as two atomic halves; the version protocol makes the pair consistent. */
static void store64(void *p, uint64_t val)
{
    uint32_t *w = p;

    __atomic_store_n(&w[0], (uint32_t)val, __ATOMIC_RELAXED);
    __atomic_store_n(&w[1], (uint32_t)(val >> 32), __ATOMIC_RELAXED);
}

/* __update_vcpu_system_time(): version odd, fields, version even, each step ordered. */
static void write_time_info(uint8_t *vi, const struct vcpu_time_info *src, bool force)
{
    uint8_t *t = vi + offsetof(struct vcpu_info, time);
    uint32_t *version = (uint32_t *)(t + offsetof(struct vcpu_time_info, version));
    struct vcpu_time_info old;
    uint32_t ver;

    memcpy(&old, t, sizeof(old));
    if (!force && memcmp((uint8_t *)&old + 8, (const uint8_t *)src + 8, sizeof(old) - 8) == 0)
        return; /* unchanged (everything after version and pad0) */
    ver = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1; /* version_update_begin() */
    __atomic_store_n(version, ver, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    store64(t + offsetof(struct vcpu_time_info, tsc_timestamp), src->tsc_timestamp);
    store64(t + offsetof(struct vcpu_time_info, system_time), src->system_time);
    __atomic_store_n((uint32_t *)(t + offsetof(struct vcpu_time_info, tsc_to_system_mul)),
                     src->tsc_to_system_mul, __ATOMIC_RELAXED);
    __atomic_store_n((int8_t *)(t + offsetof(struct vcpu_time_info, tsc_shift)), src->tsc_shift,
                     __ATOMIC_RELAXED);
    __atomic_store_n(t + offsetof(struct vcpu_time_info, flags), src->flags, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(version, ver + 1, __ATOMIC_RELAXED); /* version_update_end() */
}

/* d->lock makes the writers of a domain's time areas (calibration thread, hypercalls, vCPU
 * start) one at a time, and keeps the vcpu_info registration steady while we write. */
static void __update_vcpu_system_time(struct vcpu *v, bool force)
{
    struct domain *d = v->domain;
    struct vcpu_time_info u;
    struct time_record r;
    uint8_t *vi;

    if (d->is_control)
        return;
    time_record_get(&r);
    collect_time_info(v, &r, &u);
    pthread_mutex_lock(&d->lock);
    vi = vcpu_info_hva(v);
    if (vi)
        write_time_info(vi, &u, force);
    pthread_mutex_unlock(&d->lock);
}

void update_vcpu_system_time(struct vcpu *v)
{
    __update_vcpu_system_time(v, false);
}

void force_update_vcpu_system_time(struct vcpu *v)
{
    __update_vcpu_system_time(v, true);
}

void force_update_domain_system_time(struct domain *d)
{
    for (unsigned i = 0; i < d->max_vcpus; i++)
        force_update_vcpu_system_time(d->vcpu[i]);
}

void vcpu_time_refresh(struct vcpu *v, bool force)
{
    const struct accel_ops *ops = v->domain->accel_ops;
    int64_t off;

    if (ops->vcpu_tsc_offset && ops->vcpu_tsc_offset(v, &off) == 0)
        __atomic_store_n(&v->tsc_offset, off, __ATOMIC_RELAXED);
    if (force)
        force_update_vcpu_system_time(v);
    else
        update_vcpu_system_time(v);
}

/* ---- wallclock ---- */

static pthread_mutex_t wc_lock = PTHREAD_MUTEX_INITIALIZER; /* Xen's wc_lock */

static void wallclock_write(uint8_t *si, bool compat, uint64_t sec, uint32_t nsec)
{
    size_t ver =
        compat ? COMPAT_shared_info__wc_version_OFF : offsetof(struct shared_info, wc_version);
    size_t s = compat ? COMPAT_shared_info__wc_sec_OFF : offsetof(struct shared_info, wc_sec);
    size_t ns = compat ? COMPAT_shared_info__wc_nsec_OFF : offsetof(struct shared_info, wc_nsec);
    /* compat: wc_sec_hi is the last field of the i386 arch_shared_info */
    size_t hi = compat ? COMPAT_shared_info__arch_OFF + COMPAT_shared_info__arch_SIZE - 4
                       : offsetof(struct shared_info, wc_sec_hi);
    uint32_t *version = (uint32_t *)(si + ver);
    uint32_t v = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1;

    __atomic_store_n(version, v, __ATOMIC_RELAXED); /* version_update_begin(): odd */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n((uint32_t *)(si + s), (uint32_t)sec, __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(si + ns), nsec, __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(si + hi), (uint32_t)(sec >> 32), __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(version, v + 1, __ATOMIC_RELAXED); /* version_update_end(): even */
}
_Static_assert(COMPAT_shared_info__arch_SIZE == 28, "i386 arch_shared_info ends in wc_sec_hi");

/* update_domain_wallclock_time(): the UTC of system time 0 plus the domain's offset, so that
 * wallclock + a pvclock's system time is the time of day. */
void shared_info_update_wallclock(struct domain *d)
{
    uint64_t sec;
    uint32_t nsec;

    wallclock_base(&sec, &nsec, NULL);
    sec += (uint64_t)(int64_t)d->time_offset;
    pthread_mutex_lock(&wc_lock);
    wallclock_write(physmap_owned_page(d, XHV_PG_SHARED_INFO), shared_info_is_compat(d), sec, nsec);
    pthread_mutex_unlock(&wc_lock);
}

/* hvm_latch_shinfo_size(): under wc_lock, so the calibration thread never writes the wallclock
 * in a layout that is being replaced (the 32-bit one would land on 64-bit pending bits). */
void shared_info_latch_layout(struct domain *d, bool compat)
{
    pthread_mutex_lock(&wc_lock);
    __atomic_store_n(&d->has_32bit_shinfo, compat, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&wc_lock);
    shared_info_update_wallclock(d);
}

/* ---- CPUID ---- */

/*
 * cpuid_hypervisor_leaves(), leaf 3, for an HVM domain in the default TSC mode: xhv never
 * emulates rdtsc (vtsc = 0), the guest TSC runs at xhv_tsc_khz (the host's: KVM does not
 * scale it), and the offset is the domain's creation time in system-time ns, as Xen's
 * vtsc_offset. The pvclock's own mul/shift come from the calibrated host rate (Xen's
 * per-CPU tsc_scale); these are the nominal ones (Xen's vtsc_to_ns).
 */
void cpuid_time_leaf(const struct domain *d, uint32_t subleaf, uint32_t out[4])
{
    uint32_t mul;
    int8_t shift;

    switch (subleaf) {
    case 0:
        out[0] = ((uint32_t)host_tsc_is_safe() << 1) | ((uint32_t)host_has_rdtscp() << 2);
        out[1] = XEN_TSC_MODE_DEFAULT;
        out[2] = xhv_tsc_khz;
        out[3] = XEN_TSC_INCARNATION;
        break;
    case 1:
        time_scale((uint64_t)xhv_tsc_khz * 1000, &mul, &shift);
        out[0] = (uint32_t)d->vtsc_offset;
        out[1] = (uint32_t)(d->vtsc_offset >> 32);
        out[2] = mul;
        out[3] = (uint32_t)(int32_t)shift;
        break;
    case 2:
        out[0] = xhv_tsc_khz; /* cpu_khz: the host's, which the guest TSC runs at */
        break;
    }
}

/* ---- the calibration thread ---- */

uint64_t time_calibration_epoch;

/* On v's own thread, once per epoch: KVM may have moved v's TSC offset (a guest write to
 * IA32_TSC or IA32_TSC_ADJUST is handled in the kernel), so re-read it, as Xen rebuilds each
 * stamp from the current offset. */
void vcpu_time_resync(struct vcpu *v)
{
    v->tsc_epoch = __atomic_load_n(&time_calibration_epoch, __ATOMIC_ACQUIRE);
    vcpu_time_refresh(v, false); /* the calibration thread has written this epoch's stamp:
                                  * rewrite it only if the offset moved */
}

static pthread_mutex_t calib_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t calib_cond;
static pthread_once_t calib_once = PTHREAD_ONCE_INIT;
static uint64_t calib_wc_gen; /* wallclock generation the domains have, under calib_lock */

#define CALIB_BATCH 32

/* Running domains from *id on (a reference on each), at most CALIB_BATCH. */
static unsigned domains_collect(unsigned *id, struct domain **out)
{
    unsigned n = 0;

    pthread_mutex_lock(&domain_table_lock);
    for (; *id < XHV_DOMID_LIMIT && n < CALIB_BATCH; (*id)++) {
        struct domain *d = domain_table[*id];
        if (!d || d->is_control || !domain_is_running(d))
            continue;
        domain_get(d);
        out[n++] = d;
    }
    pthread_mutex_unlock(&domain_table_lock);
    return n;
}

/* local_time_calibration() for every domain: a new record, every vCPU's time area rewritten
 * (Xen's update_vcpu_system_time() at the next context switch), wallclocks on a clock step. */
void time_calibration(void)
{
    struct domain *batch[CALIB_BATCH];
    struct time_record r;
    uint64_t sec, gen;
    uint32_t nsec;
    unsigned id = 0, n;
    bool wc;

    pthread_mutex_lock(&calib_lock);
    time_calibrate(&r);
    __atomic_fetch_add(&time_calibration_epoch, 1, __ATOMIC_RELEASE);
    wallclock_base(&sec, &nsec, &gen);
    wc = gen != calib_wc_gen;
    calib_wc_gen = gen;
    while ((n = domains_collect(&id, batch)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            for (unsigned k = 0; k < batch[i]->max_vcpus; k++)
                update_vcpu_system_time(batch[i]->vcpu[k]);
            if (wc)
                shared_info_update_wallclock(batch[i]);
            rcu_unlock_domain(batch[i]);
        }
    }
    pthread_mutex_unlock(&calib_lock);
}

/* One thread for all domains, apart from the timer thread so a calibration never delays a
 * VIRQ_TIMER; it sleeps a whole epoch between calibrations. */
static void *calibration_thread(void *arg)
{
    (void)arg;
    for (;;) {
        time_calibration();
        uint64_t next = now_ns() + TIME_EPOCH_NS;
        pthread_mutex_lock(&calib_lock);
        cond_wait_until(&calib_cond, &calib_lock, next);
        pthread_mutex_unlock(&calib_lock);
    }
    return NULL;
}

static void calibration_start(void)
{
    deadline_thread_start(&calib_cond, calibration_thread, "time calibration");
}

void vcpu_time_start(struct vcpu *v)
{
    pthread_once(&calib_once, calibration_start);
    v->tsc_epoch = __atomic_load_n(&time_calibration_epoch, __ATOMIC_ACQUIRE);
    vcpu_time_refresh(v, true);
}
