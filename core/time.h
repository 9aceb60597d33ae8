/* time.h: host TSC calibration, Xen system time records and the guest pvclock/wallclock. */
#ifndef XHV_TIME_H
#define XHV_TIME_H

#include "core/core.h"

/* Xen recalibrates every EPOCH (xen/arch/x86/time.c); so does xhv's calibration thread. */
#define TIME_EPOCH_NS 1000000000ull

/*
 * One calibration of the host TSC against Xen system time (CLOCK_MONOTONIC based): at host
 * TSC `tsc` system time was `stime`, and it advances by scale_delta(tsc delta, mul_frac,
 * shift) until the next record. Successive records never go back: a record predicting later
 * than the clock is kept and the next interval runs slower (as Xen's error_factor).
 */
struct time_record {
    uint64_t tsc;
    uint64_t stime;
    uint32_t mul_frac;
    int8_t shift;
    uint64_t seq; /* 1, 2, ... (0: none yet) */
};

/* ((delta << shift) * mul_frac) >> 32 (shift < 0: right shift), as the guest computes it. */
uint64_t scale_delta(uint64_t delta, uint32_t mul_frac, int8_t shift);
uint64_t host_rdtsc(void); /* ordered */
/* The current record; makes the first one if there is none. */
void time_record_get(struct time_record *r);
/* Start a new record now (the calibration thread, every TIME_EPOCH_NS); returns it. */
void time_calibrate(struct time_record *r);
/* Host TSC frequency estimate (Hz) against CLOCK_MONOTONIC. */
uint64_t host_tsc_hz(void);
/* Host TSC invariant (Xen's host_tsc_is_safe()) / RDTSCP available. */
bool host_tsc_is_safe(void);
bool host_has_rdtscp(void);
/* UTC of system time 0 (Xen's wc_sec/wc_nsec before the domain's offset). Re-measured at each
 * calibration; it changes only when the host clock steps by more than a millisecond. */
void wallclock_base(uint64_t *sec, uint32_t *nsec, uint64_t *generation);

/* ---- guest side (core/pvclock.c) ---- */
/* Rewrite v's vcpu_time_info from the current record (force: even if unchanged). */
void update_vcpu_system_time(struct vcpu *v);
void force_update_vcpu_system_time(struct vcpu *v);
void force_update_domain_system_time(struct domain *d);
/* Re-read v's TSC offset from the backend, then rewrite its pvclock (force: even if its
 * contents did not change). v must not be running on another thread (its own thread, or not
 * started / offline). */
void vcpu_time_refresh(struct vcpu *v, bool force);
/* v is about to run guest code (its own thread): read its TSC offset, force its pvclock,
 * make sure the calibration thread runs. */
void vcpu_time_start(struct vcpu *v);
/* Bumped by every calibration; a vCPU thread that sees it move re-reads its TSC offset. */
extern uint64_t time_calibration_epoch;
void vcpu_time_resync(struct vcpu *v); /* v's own thread */
static inline void vcpu_time_poll(struct vcpu *v)
{
    if (__atomic_load_n(&time_calibration_epoch, __ATOMIC_RELAXED) != v->tsc_epoch)
        vcpu_time_resync(v);
}
/* One epoch: new record, every running domain's pvclocks (and wallclocks if the host clock
 * stepped). The calibration thread calls it; tests may too. */
void time_calibration(void);
/* CPUID 0x40000003 subleaf (cpuid_hypervisor_leaves() of an HVM guest, tsc_mode default). */
void cpuid_time_leaf(const struct domain *d, uint32_t subleaf, uint32_t out[4]);

#endif
