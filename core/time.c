/* time.c: Xen system time (ns since xhv started, as Xen's NOW()), the host TSC calibrated
 * against it, and the UTC of system time 0 (the wallclock base). */
#include <cpuid.h>
#include <time.h>

#include "core/time.h"

static uint64_t system_time_epoch;
/* The first (host TSC, CLOCK_MONOTONIC) sample: the baseline of the frequency estimate. */
static uint64_t base_tsc, base_mono;

static pthread_mutex_t time_lock = PTHREAD_MUTEX_INITIALIZER;
static struct time_record cur; /* under time_lock */
static uint64_t wc_ns, wc_gen; /* UTC ns at system time 0; generation; under time_lock */

#define NSEC 1000000000ull
#define WC_STEP_NS 1000000ull       /* a wallclock base moving more than this was a clock step */
#define CALIBRATE_MIN_NS 1000000ull /* shortest baseline a frequency is measured over */

uint64_t host_rdtsc(void)
{
    uint32_t lo, hi;

    asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

/* A (host TSC, CLOCK_MONOTONIC) pair: the tightest bracket of a few tries, so the pair is
 * good to the cost of one clock_gettime (tens of ns). */
static void time_sample(uint64_t *tsc, uint64_t *mono)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 5; i++) {
        uint64_t t0 = host_rdtsc(), m = now_ns(), t1 = host_rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *mono = m;
        }
    }
}

/* Taken before main(): every domain of this host shares one epoch, as under Xen. */
__attribute__((constructor)) static void system_time_init(void)
{
    time_sample(&base_tsc, &base_mono);
    system_time_epoch = base_mono;
}

uint64_t xen_system_time(void)
{
    return now_ns() - system_time_epoch;
}

uint64_t xen_system_time_epoch(void)
{
    return system_time_epoch;
}

uint64_t scale_delta(uint64_t delta, uint32_t mul_frac, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (uint64_t)(((unsigned __int128)delta * mul_frac) >> 32);
}

/*
 * Host TSC Hz at sample (tsc, mono): measured over the whole run once that is a second long
 * (good to well under a ppm); before, KVM's frequency (the kernel's tsc_khz, to 1 kHz); with
 * neither (the unit tests' fake backend), measured over at least CALIBRATE_MIN_NS.
 */
static uint64_t tsc_hz_at(uint64_t *tsc, uint64_t *mono)
{
    if (*mono - base_mono < NSEC && xhv_tsc_khz)
        return (uint64_t)xhv_tsc_khz * 1000;
    if (*mono - base_mono < CALIBRATE_MIN_NS) {
        struct timespec ts = {0, (long)(CALIBRATE_MIN_NS - (*mono - base_mono))};
        nanosleep(&ts, NULL);
        time_sample(tsc, mono);
    }
    return (uint64_t)((unsigned __int128)(*tsc - base_tsc) * NSEC / (*mono - base_mono));
}

uint64_t host_tsc_hz(void)
{
    uint64_t tsc, mono;

    time_sample(&tsc, &mono);
    return tsc_hz_at(&tsc, &mono);
}

/* The UTC of system time 0, re-measured; kept unless it moved by more than WC_STEP_NS. */
static void wallclock_measure(void)
{
    uint64_t best = UINT64_MAX, base = 0;

    for (int i = 0; i < 3; i++) {
        struct timespec r;
        uint64_t m0 = now_ns();
        clock_gettime(CLOCK_REALTIME, &r);
        uint64_t m1 = now_ns();
        if (m1 - m0 < best) {
            best = m1 - m0;
            base = (uint64_t)r.tv_sec * NSEC + (uint64_t)r.tv_nsec -
                   (m0 + (m1 - m0) / 2 - system_time_epoch);
        }
    }
    if (!wc_gen || (base > wc_ns ? base - wc_ns : wc_ns - base) > WC_STEP_NS) {
        wc_ns = base;
        wc_gen++;
    }
}

/* The next record at host TSC tsc / system time stime, from prev (seq 0: none). */
static void record_next(struct time_record *r, uint64_t tsc, uint64_t stime, uint64_t hz)
{
    struct time_record prev = *r;
    uint64_t predicted;

    time_scale(hz, &r->mul_frac, &r->shift);
    r->tsc = tsc;
    r->stime = stime;
    r->seq = prev.seq + 1;
    if (!prev.seq)
        return;
    predicted = prev.stime;
    if (tsc > prev.tsc)
        predicted += scale_delta(tsc - prev.tsc, prev.mul_frac, prev.shift);
    if (predicted <= stime)
        return; /* behind: the guest's clock steps forward, as Xen's warps */
    /* Ahead: never step back; run slower so the lead is gone by the next epoch. */
    uint64_t ahead = predicted - stime;
    if (ahead > TIME_EPOCH_NS / 2)
        ahead = TIME_EPOCH_NS / 2;
    r->stime = predicted;
    r->mul_frac = (uint32_t)((uint64_t)r->mul_frac * (TIME_EPOCH_NS - ahead) / TIME_EPOCH_NS);
}

void time_calibrate(struct time_record *r)
{
    uint64_t tsc, mono, hz;

    pthread_mutex_lock(&time_lock);
    time_sample(&tsc, &mono);
    hz = tsc_hz_at(&tsc, &mono);
    record_next(&cur, tsc, mono - system_time_epoch, hz);
    wallclock_measure();
    *r = cur;
    pthread_mutex_unlock(&time_lock);
}

void time_record_get(struct time_record *r)
{
    pthread_mutex_lock(&time_lock);
    *r = cur;
    pthread_mutex_unlock(&time_lock);
    if (!r->seq)
        time_calibrate(r);
}

void wallclock_base(uint64_t *sec, uint32_t *nsec, uint64_t *generation)
{
    pthread_mutex_lock(&time_lock);
    if (!wc_gen)
        wallclock_measure();
    *sec = wc_ns / NSEC;
    *nsec = (uint32_t)(wc_ns % NSEC);
    if (generation)
        *generation = wc_gen;
    pthread_mutex_unlock(&time_lock);
}

/* X86_FEATURE_ITSC (CPUID 0x80000007 EDX bit 8): Xen then sets TSC_RELIABLE. */
bool host_tsc_is_safe(void)
{
    unsigned a, b, c, d;

    return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

bool host_has_rdtscp(void)
{
    unsigned a, b, c, d;

    return __get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27));
}
