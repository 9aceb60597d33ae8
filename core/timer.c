/* timer.c: per-vCPU singleshot and periodic timers firing VIRQ_TIMER (VCPUOP_*_timer,
 * set_timer_op), driven by one thread that sleeps until the earliest deadline. */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "core/hypercall.h"

/*
 * Deadlines are CLOCK_MONOTONIC ns in the vCPU (0 = not armed). Every vCPU with an armed
 * timer is in the `armed` array (v->timer_slot = index + 1), so a pass costs O(armed vCPUs),
 * whatever the number of domains. The thread takes a reference on each domain with an expired
 * timer under timer_lock (then d->lock) and raises VIRQ_TIMER after dropping it (event-channel
 * locks come after it). timer_domain_destroy() takes a dying domain's vCPUs out of the array
 * after its vCPU threads have stopped (nothing arms them any more) and before it is freed.
 */
static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vcpu **armed;
static unsigned nr_armed, cap_armed;
static pthread_cond_t timer_cond;
static pthread_once_t timer_once = PTHREAD_ONCE_INIT;
/* Bumped (under timer_lock) by every arm/stop: a change between the thread's scan and its wait
 * means the signal came while it was not waiting, so it scans again instead of sleeping. */
static uint64_t timer_gen;

#define TIMER_BATCH 64

/* Expire v's timers at now; true if VIRQ_TIMER is due, *at its deadline (1: at once).
 * Earliest pending deadline in *next. */
static bool vcpu_timer_expire(struct vcpu *v, uint64_t now, uint64_t *next, uint64_t *at)
{
    bool due = false;
    if (v->singleshot && v->singleshot <= now)
        *at = v->singleshot, v->singleshot = 0, due = true;
    if (v->periodic_period && v->periodic_next <= now) {
        if (!due || v->periodic_next < *at)
            *at = v->periodic_next;
        while (v->periodic_next <= now) /* skip missed periods, as Xen's vcpu_periodic_timer_fn */
            v->periodic_next += v->periodic_period;
        due = true;
    }
    if (v->singleshot && (!*next || v->singleshot < *next))
        *next = v->singleshot;
    if (v->periodic_period && (!*next || v->periodic_next < *next))
        *next = v->periodic_next;
    return due;
}

/* Put v in the armed array (timer_lock held); false if out of memory (logged). */
static bool armed_add(struct vcpu *v)
{
    if (v->timer_slot)
        return true;
    if (nr_armed == cap_armed) {
        unsigned cap = cap_armed ? 2 * cap_armed : 64;
        struct vcpu **a = realloc(armed, cap * sizeof(*a));
        if (!a) {
            xhv_log(LOG_ERR, "d%uv%u: out of memory: timer not armed", v->domain->domain_id,
                    v->vcpu_id);
            return false;
        }
        armed = a, cap_armed = cap;
    }
    armed[nr_armed++] = v;
    v->timer_slot = nr_armed;
    return true;
}

static void armed_del(struct vcpu *v)
{
    unsigned i = v->timer_slot - 1;
    if (!v->timer_slot)
        return;
    armed[i] = armed[--nr_armed];
    armed[i]->timer_slot = i + 1;
    v->timer_slot = 0;
}

/* Collect up to TIMER_BATCH due vCPUs (each with a domain reference) and their deadlines;
 * vCPUs left with no armed timer leave the array. timer_lock held. */
static unsigned timer_scan(uint64_t now, struct vcpu **due, uint64_t *at, uint64_t *next)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nr_armed && n < TIMER_BATCH;) {
        struct vcpu *v = armed[i];
        struct domain *d = v->domain;
        if (vcpu_timer_expire(v, now, next, &at[n]) && domain_is_running(d)) {
            domain_get(d);
            due[n++] = v;
        }
        if (!v->singleshot && !v->periodic_period)
            armed_del(v); /* armed[i] is now another vCPU */
        else
            i++;
    }
    return n;
}

/* Bench (d->stats_on): how late VIRQ_TIMER was raised; timers armed in the past (at 1) are
 * not late. */
static void timer_lateness(struct domain *d, uint64_t at)
{
    unsigned i;
    if (!d->stats_on || at <= 1)
        return;
    i = __atomic_fetch_add(&d->stats.nr_timer_late, 1, __ATOMIC_RELAXED);
    if (i < XHV_TIMER_LATE_SAMPLES) {
        uint64_t late = now_ns() - at;
        d->stats.timer_late_ns[i] = late > UINT32_MAX ? UINT32_MAX : (uint32_t)late;
    }
}

static void *timer_thread(void *arg)
{
    struct vcpu *due[TIMER_BATCH];
    uint64_t at[TIMER_BATCH];
    (void)arg;
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake at the deadline, not up to 50 us after it */
    for (;;) {
        uint64_t next = 0, gen;
        pthread_mutex_lock(&timer_lock);
        unsigned n = timer_scan(now_ns(), due, at, &next);
        gen = timer_gen;
        pthread_mutex_unlock(&timer_lock);
        for (unsigned i = 0; i < n; i++) {
            send_guest_vcpu_virq(due[i], VIRQ_TIMER);
            timer_lateness(due[i]->domain, at[i]);
            rcu_unlock_domain(due[i]->domain);
        }
        if (n == TIMER_BATCH)
            continue;
        pthread_mutex_lock(&timer_lock);
        if (gen == timer_gen) /* else armed while we were raising events: rescan */
            cond_wait_until(&timer_cond, &timer_lock, next);
        pthread_mutex_unlock(&timer_lock);
    }
    return NULL;
}

void cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *m, uint64_t deadline_ns)
{
    if (!deadline_ns) {
        pthread_cond_wait(cond, m);
        return;
    }
    struct timespec ts = {(time_t)(deadline_ns / 1000000000ull),
                          (long)(deadline_ns % 1000000000ull)};
    pthread_cond_timedwait(cond, m, &ts);
}

void deadline_thread_start(pthread_cond_t *cond, void *(*fn)(void *), const char *what)
{
    pthread_condattr_t attr;
    pthread_t t;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&t, NULL, fn, NULL) == 0)
        pthread_detach(t);
    else
        xhv_log(LOG_ERR, "cannot start the %s thread: it will not fire", what);
}

static void timer_start(void)
{
    deadline_thread_start(&timer_cond, timer_thread, "timer");
}

/*
 * Arm v's singleshot timer at Xen system time `at` (0 = stop). An expired time fires now, and
 * so does one of 2^63 ns or more (Xen's s_time_t is signed: a "negative" deadline has passed).
 */
void vcpu_set_singleshot(struct vcpu *v, uint64_t at)
{
    if (v->domain->is_control) /* tool connections have no events to receive */
        return;
    pthread_once(&timer_once, timer_start);
    pthread_mutex_lock(&timer_lock);
    timer_gen++;
    v->singleshot = at ? xen_system_time_epoch() + at : 0;
    if (at && ((int64_t)at < 0 || v->singleshot <= now_ns()))
        v->singleshot = 1; /* due: the thread fires it at once */
    if (v->singleshot && !armed_add(v))
        v->singleshot = 0;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
}

/* Periodic VIRQ_TIMER every period ns from now (0 = stop). */
void vcpu_set_periodic(struct vcpu *v, uint64_t period)
{
    if (v->domain->is_control)
        return;
    pthread_once(&timer_once, timer_start);
    pthread_mutex_lock(&timer_lock);
    timer_gen++;
    v->periodic_period = period;
    v->periodic_next = period ? now_ns() + period : 0;
    if (period && !armed_add(v))
        v->periodic_period = v->periodic_next = 0;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
}

unsigned timer_nr_armed(void)
{
    pthread_mutex_lock(&timer_lock);
    unsigned n = nr_armed;
    pthread_mutex_unlock(&timer_lock);
    return n;
}

/* Disarm d's timers and take its vCPUs out of the array before d is freed. */
void timer_domain_destroy(struct domain *d)
{
    pthread_mutex_lock(&timer_lock);
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu ? d->vcpu[i] : NULL;
        if (v) {
            v->singleshot = v->periodic_period = 0;
            armed_del(v);
        }
    }
    pthread_mutex_unlock(&timer_lock);
}

/* set_timer_op (hypercall 15): absolute system time; 0 cancels; a time in the past or more
 * than ~2^50 ns ahead is treated as now + 100 ms, as Xen's do_set_timer_op(). */
long do_set_timer_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t timeout = v->hcall_compat ? args[0] | (args[1] << 32) : args[0];
    int64_t now = (int64_t)xen_system_time(), offset = (int64_t)timeout - now;
    if (v->domain->is_control)
        return -XEN_EINVAL;
    if (timeout == 0) {
        vcpu_set_singleshot(v, 0);
        return 0;
    }
    if (offset > (1ll << 50) || offset < 0)
        timeout = (uint64_t)now + 100000000ull;
    vcpu_set_singleshot(v, timeout);
    return 0;
}
