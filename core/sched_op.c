/* sched_op.c: sched_op (29) as Xen 4.17's do_sched_op(); vCPU block/wake; watchdogs. */
#include <sched.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/event.h"
#include "core/hvm.h"
#include "core/hypercall.h"

/* ---- blocking ---- */

/*
 * A blocked vCPU thread sleeps on its domain's shutdown_cond (CLOCK_MONOTONIC) under d->lock:
 * domain_shutdown() and domain_destroy() broadcast it, so a domain that stops always wakes
 * its blocked vCPUs. vcpu_wake() broadcasts it only when its vCPU sleeps there; otherwise
 * (running, or halted inside KVM) it just records the wake, so events cost no thread
 * wake-ups besides the one they are for.
 */
static bool wake_test_and_clear(struct vcpu *v)
{
    bool was = v->wake_pending;

    v->wake_pending = false;
    return was;
}

void vcpu_block_prepare(struct vcpu *v)
{
    pthread_mutex_lock(&v->domain->lock);
    v->wake_pending = false;
    pthread_mutex_unlock(&v->domain->lock);
}

void vcpu_block_until(struct vcpu *v, uint64_t deadline_ns)
{
    struct domain *d = v->domain;

    pthread_mutex_lock(&d->lock);
    int prev = v->runstate;
    vcpu_runstate_change_locked(v, RUNSTATE_blocked);
    v->blocked = true;
    /* a controller pause must reach a running vCPU thread: return so that it parks */
    while (!wake_test_and_clear(v) && domain_is_running(d) &&
           !(d->pause_count && v->thread_started)) {
        if (deadline_ns && now_ns() >= deadline_ns)
            break;
        cond_wait_until(&d->shutdown_cond, &d->lock, deadline_ns);
    }
    v->blocked = false;
    vcpu_runstate_change_locked(v, prev);
    pthread_mutex_unlock(&d->lock);
}

void vcpu_wake(struct vcpu *v)
{
    struct domain *d = v->domain;

    pthread_mutex_lock(&d->lock);
    v->wake_pending = true;
    if (v->blocked)
        pthread_cond_broadcast(&d->shutdown_cond);
    pthread_mutex_unlock(&d->lock);
}

/* ---- watchdogs (domain_watchdog(), NR_DOMAIN_WATCHDOG_TIMERS = 2) ---- */

/*
 * Deadlines live in the domain (d->watchdog[], CLOCK_MONOTONIC ns; 0 = slot free,
 * UINT64_MAX = fired and still allocated). One thread sleeps until the earliest deadline;
 * it scans the domain table under domain_table_lock, which keeps every domain it sees alive
 * (domain_destroy() unlinks under that lock before freeing).
 */
static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_cond;
static pthread_once_t watchdog_once = PTHREAD_ONCE_INIT;

/* Fire what expired; return the earliest pending deadline (0 if none). Both locks held. */
static uint64_t watchdog_scan(uint64_t now)
{
    uint64_t next = 0;
    for (unsigned id = 1; id < XHV_DOMID_LIMIT; id++) {
        struct domain *d = domain_table[id];
        for (unsigned t = 0; d && t < NR_DOMAIN_WATCHDOG_TIMERS; t++) {
            uint64_t dl = d->watchdog[t];
            if (!dl || dl == UINT64_MAX)
                continue;
            if (dl <= now) {
                d->watchdog[t] = UINT64_MAX; /* domain_watchdog_timeout() */
                if (domain_is_running(d)) {
                    xhv_log(LOG_WARN, "Watchdog timer fired for domain %u", id);
                    domain_shutdown(d, SHUTDOWN_watchdog);
                }
            } else if (!next || dl < next) {
                next = dl;
            }
        }
    }
    return next;
}

static void *watchdog_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&domain_table_lock);
        pthread_mutex_lock(&watchdog_lock);
        uint64_t next = watchdog_scan(now_ns());
        pthread_mutex_unlock(&domain_table_lock);
        cond_wait_until(&watchdog_cond, &watchdog_lock, next);
        pthread_mutex_unlock(&watchdog_lock);
    }
    return NULL;
}

static void watchdog_start(void)
{
    deadline_thread_start(&watchdog_cond, watchdog_thread, "watchdog");
}

/* SCHEDOP_watchdog: id 0 allocates (returns id >= 1, -ENOSPC), id n re-arms (timeout > 0)
 * or frees (timeout 0); unknown id -EINVAL. Allocating with timeout 0 fires at once, as
 * Xen's set_timer(NOW() + 0). */
static long domain_watchdog(struct domain *d, uint32_t id, uint32_t timeout)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout * 1000000000ull;
    long rc = 0;

    if (id > NR_DOMAIN_WATCHDOG_TIMERS)
        return -XEN_EINVAL;
    pthread_once(&watchdog_once, watchdog_start);
    pthread_mutex_lock(&watchdog_lock);
    if (id == 0) {
        for (id = 0; id < NR_DOMAIN_WATCHDOG_TIMERS && d->watchdog[id]; id++)
            ;
        if (id < NR_DOMAIN_WATCHDOG_TIMERS)
            d->watchdog[id] = deadline;
        rc = id == NR_DOMAIN_WATCHDOG_TIMERS ? -XEN_ENOSPC : (long)id + 1;
    } else if (!d->watchdog[id - 1]) {
        rc = -XEN_EINVAL;
    } else {
        d->watchdog[id - 1] = timeout ? deadline : 0;
    }
    pthread_cond_signal(&watchdog_cond);
    pthread_mutex_unlock(&watchdog_lock);
    return rc;
}

void sched_domain_destroy(struct domain *d)
{
    pthread_mutex_lock(&watchdog_lock);
    memset(d->watchdog, 0, sizeof(d->watchdog));
    pthread_mutex_unlock(&watchdog_lock);
}

/* ---- sub-ops ---- */

/* SCHEDOP_block (vcpu_block_enable_events()): clear the upcall mask, sleep until woken. */
static long sched_block(struct vcpu *v)
{
    uint8_t *vi = vcpu_info_hva(v);

    vcpu_block_prepare(v);
    if (vi)
        __atomic_store_n(&vi[offsetof(struct vcpu_info, evtchn_upcall_mask)], 0, __ATOMIC_SEQ_CST);
    /* local_events_need_delivery(): an upcall already pending ends the block at once */
    if (vi &&
        __atomic_load_n(&vi[offsetof(struct vcpu_info, evtchn_upcall_pending)], __ATOMIC_SEQ_CST))
        return 0;
    vcpu_block_until(v, 0);
    return 0;
}

/* SCHEDOP_shutdown: the reason is truncated to u8 (Xen: domain_shutdown(d, (u8)reason),
 * no SHUTDOWN_MAX check); the first recorded code wins. */
static long sched_shutdown(struct vcpu *v, uint64_t arg)
{
    struct sched_shutdown s;

    if (copy_from_guest(v, &s, arg, sizeof(s)))
        return -XEN_EFAULT;
    domain_shutdown(v->domain, (uint8_t)s.reason);
    return 0;
}

/* SCHEDOP_shutdown_code: only records the code, if none is recorded yet. */
static long sched_shutdown_code(struct vcpu *v, uint64_t arg)
{
    struct domain *d = v->domain;
    struct sched_shutdown s;

    if (copy_from_guest(v, &s, arg, sizeof(s)))
        return -XEN_EFAULT;
    pthread_mutex_lock(&d->lock);
    if (d->shutdown_code == -1)
        d->shutdown_code = (uint8_t)s.reason;
    pthread_mutex_unlock(&d->lock);
    return 0;
}

/* SCHEDOP_remote_shutdown: rcu_lock_domain_by_id() (no DOMID_SELF: -ESRCH) before
 * xsm_schedop_shutdown(XSM_DM_PRIV) (-EPERM unless the control domain). */
static long sched_remote_shutdown(struct vcpu *v, uint64_t arg)
{
    struct sched_remote_shutdown s;
    struct domain *t;

    if (copy_from_guest(v, &s, arg, sizeof(s)))
        return -XEN_EFAULT;
    t = rcu_lock_domain_by_id(s.domain_id);
    if (!t)
        return -XEN_ESRCH;
    long rc = -XEN_EPERM;
    if (t->is_control) /* domain 0 is the host side: it never shuts down from a hypercall */
        rc = -XEN_EINVAL;
    else if (v->domain->privileged) {
        domain_shutdown(t, (uint8_t)s.reason);
        rc = 0;
    }
    rcu_unlock_domain(t);
    return rc;
}
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "same layout in both ABIs");
_Static_assert(sizeof(struct sched_watchdog) == 8, "same layout in both ABIs");

static int sched_poll_copy_in(struct vcpu *v, uint64_t arg, uint64_t *ports, uint32_t *nr,
                              uint64_t *timeout)
{
    struct sched_poll p;

    if (copy_struct_from_guest(v, &p, arg, &xlat_sched_poll))
        return -XEN_EFAULT;
    *ports = guest_handle_addr(p.ports), *nr = p.nr_ports, *timeout = p.timeout;
    return 0;
}

/* hvm_local_events_need_delivery(), as far as xhv sees it: an upcall is pending and the
 * caller takes interrupts (EFLAGS.IF of the hypercall). */
static bool local_events_need_delivery(struct vcpu *v)
{
    uint8_t *vi = vcpu_info_hva(v);
    return vi && (v->paging.rflags & X86_EFLAGS_IF) &&
           __atomic_load_n(&vi[offsetof(struct vcpu_info, evtchn_upcall_pending)],
                           __ATOMIC_SEQ_CST);
}

/* The ports: each read (-EFAULT) and checked (-EINVAL if not an event channel, as
 * evtchn_port_poll()); 1 if one is pending, 0 if none; *one = the port when nr == 1. */
static int sched_poll_ports(struct vcpu *v, uint64_t ports, uint32_t nr, uint32_t *one)
{
    uint32_t port = 0;
    for (uint32_t i = 0; i < nr; i++) {
        uint64_t at = ports + (uint64_t)i * sizeof(port);
        if (copy_from_guest(v, &port, v->hcall_compat ? (uint32_t)at : at, sizeof(port)))
            return -XEN_EFAULT;
        if (!evtchn_port_is_valid(v->domain, port)) {
            gprintk(v, "SCHEDOP_poll: port %u is not an event channel", port);
            return -XEN_EINVAL;
        }
        if (evtchn_port_is_pending(v->domain, port))
            return 1;
    }
    *one = nr == 1 && port ? port : XHV_POLL_ANY; /* Xen: poll_evtchn <= 0 is any port */
    return 0;
}

/*
 * SCHEDOP_poll (do_poll()): more than 128 ports -EINVAL. The vCPU registers as a poller
 * first (so an event from now on wakes it: evtchn_check_pollers()), then returns at once if
 * an upcall is deliverable or a port is pending; else it sleeps until one of its ports (any
 * port of the domain with 0 or several) becomes pending, the absolute system-time timeout
 * (0 = none), another wake, or the domain stopping.
 */
static long sched_poll(struct vcpu *v, uint64_t arg)
{
    uint64_t ports, timeout;
    uint32_t nr, one = XHV_POLL_ANY;
    int rc = sched_poll_copy_in(v, arg, &ports, &nr, &timeout);

    if (rc)
        return rc;
    if (nr > 128)
        return -XEN_EINVAL;
    vcpu_block_prepare(v);
    __atomic_store_n(&v->poll_port, XHV_POLL_ANY, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&v->domain->nr_pollers, 1, __ATOMIC_SEQ_CST);
    rc = local_events_need_delivery(v) ? 1 : sched_poll_ports(v, ports, nr, &one);
    if (rc == 0) {
        __atomic_store_n(&v->poll_port, one, __ATOMIC_SEQ_CST);
        /* s_time_t is signed: a "negative" timeout has expired, as with Xen's set_timer() */
        if (timeout)
            timeout = (int64_t)timeout < 0 ? 1 : xen_system_time_epoch() + timeout;
        vcpu_block_until(v, timeout);
    }
    __atomic_store_n(&v->poll_port, 0, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&v->domain->nr_pollers, 1, __ATOMIC_SEQ_CST);
    return rc < 0 ? rc : 0;
}

void evtchn_check_pollers(struct domain *d, unsigned port)
{
    if (!__atomic_load_n(&d->nr_pollers, __ATOMIC_SEQ_CST))
        return;
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        uint32_t p = __atomic_load_n(&d->vcpu[i]->poll_port, __ATOMIC_SEQ_CST);
        if (p == XHV_POLL_ANY || (p && p == port))
            vcpu_wake(d->vcpu[i]);
    }
}

static long sched_watchdog(struct vcpu *v, uint64_t arg)
{
    struct sched_watchdog w;

    if (copy_from_guest(v, &w, arg, sizeof(w)))
        return -XEN_EFAULT;
    return domain_watchdog(v->domain, w.id, w.timeout);
}

long do_sched_op(struct vcpu *v, const uint64_t args[5])
{
    int cmd = (int)args[0]; /* Xen: int cmd */
    uint64_t arg = args[1];

    /* A tool connection has no vCPU to block, shut down or watch: only the remote ops. */
    if (v->domain->is_control && cmd != SCHEDOP_yield && cmd != SCHEDOP_remote_shutdown)
        return -XEN_EINVAL;
    switch (cmd) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;
    case SCHEDOP_block:
        return sched_block(v);
    case SCHEDOP_shutdown:
        return sched_shutdown(v, arg);
    case SCHEDOP_shutdown_code:
        return sched_shutdown_code(v, arg);
    case SCHEDOP_poll:
        return sched_poll(v, arg);
    case SCHEDOP_remote_shutdown:
        return sched_remote_shutdown(v, arg);
    case SCHEDOP_watchdog:
        return sched_watchdog(v, arg);
    case SCHEDOP_pin_override: /* hardware domain only; xhv has none */
        return -XEN_EPERM;
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_sched_op, (unsigned)cmd);
    }
}
