/* vcpu.c: the vCPU exit loop: run, handle the exit (hypercall, I/O, MSR, fault), repeat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/event.h"
#include "core/hypercall.h"
#include "core/time.h"
#include "core/xhv_ports.h"

const char *exit_reason_name(unsigned reason)
{
    static const char *const names[VMEXIT_NR] = {
        "none", "hypercall", "io", "mmio", "rdmsr", "wrmsr", "triple-fault", "fault", "intr",
    };
    return reason < VMEXIT_NR ? names[reason] : "?";
}

void vcpu_runstate_change_locked(struct vcpu *v, int state)
{
    uint64_t now = now_ns();
    v->runstate_time[v->runstate] += now - v->runstate_entry;
    v->runstate = state;
    v->runstate_entry = now;
    update_runstate_area(v); /* every caller is v's own thread (Xen: at context switch) */
}

static void runstate_change(struct vcpu *v, int state)
{
    pthread_mutex_lock(&v->domain->lock);
    vcpu_runstate_change_locked(v, state);
    pthread_mutex_unlock(&v->domain->lock);
}

void vcpu_runstate_get_locked(const struct vcpu *v, struct vcpu_runstate_info *r)
{
    uint64_t now = now_ns();
    r->state = v->runstate;
    r->state_entry_time = v->runstate_entry - xen_system_time_epoch(); /* Xen system time */
    for (int i = 0; i < 4; i++)
        r->time[i] = v->runstate_time[i];
    r->time[v->runstate] += now - v->runstate_entry;
}

void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *r)
{
    pthread_mutex_lock(&v->domain->lock);
    vcpu_runstate_get_locked(v, r);
    pthread_mutex_unlock(&v->domain->lock);
}

/* Port I/O other than the hypercall port. */
static void handle_pio(struct vcpu *v, struct vm_exit *ex)
{
    struct domain *d = v->domain;
    size_t n = (size_t)ex->io.size * ex->io.count;
    if (ex->io.port == XHV_RAW_PORT)
        return; /* bench: the bare exit, answered without dispatch */
    if (ex->io.port == XHV_DEBUGCON_PORT && ex->io.size == 1) {
        if (ex->io.out)
            console_write(d, (const char *)ex->io.data, n);
        else
            memset(ex->io.data, XHV_DEBUGCON_PORT, n);
        return;
    }
    if (!ex->io.out)
        memset(ex->io.data, 0xff, n);
    gprintk(v, "unhandled I/O port %s 0x%x size %u", ex->io.out ? "write" : "read", ex->io.port,
            ex->io.size);
}

/*
 * An access KVM found no memory slot for. If the p2m maps the GPA after all, another vCPU was
 * changing the memory slots (a split deletes and re-adds a slot): the p2m lock waits out the
 * change and the access is done on the page itself. Otherwise it is a hole: reads see
 * all-ones, writes are dropped, as on Xen.
 */
static void handle_mmio(struct vcpu *v, struct vm_exit *ex)
{
    struct p2m_entry e;
    bool ram = true;

    for (unsigned i = 0; i < ex->mmio.size && ram; i++) {
        uint64_t gpa = ex->mmio.gpa + i;
        /* not a foreign page: it may be unmapped (and freed) once the lock is dropped */
        ram = p2m_lookup(v->domain, gpa >> PAGE_SHIFT, &e) == 0 && e.type != p2m_foreign;
        if (ram && ex->mmio.write)
            e.hva[gpa & ~PAGE_MASK] = ex->mmio.data[i];
        else if (ram)
            ex->mmio.data[i] = e.hva[gpa & ~PAGE_MASK];
    }
    if (ram)
        return;
    if (!ex->mmio.write)
        memset(ex->mmio.data, 0xff, ex->mmio.size);
    gprintk(v, "access to unmapped GPA 0x%llx (%s, %u bytes)", (unsigned long long)ex->mmio.gpa,
            ex->mmio.write ? "write" : "read", ex->mmio.size);
}

static void handle_msr(struct vcpu *v, struct vm_exit *ex, bool write)
{
    if (ex->msr.index != XEN_HYPERCALL_MSR) {
        ex->inject_gp = true;
        return;
    }
    if (!write) {
        ex->msr.data = 0; /* Xen: reading the page MSR gives 0 */
        return;
    }
    v->hcall_compat = ex->cpu_valid ? !vcpu_is_64bit(&ex->cpu) : false;
    if (hypercall_page_write(v, ex->msr.data) != 0)
        ex->inject_gp = true;
}

bool vcpu_handle_exit(struct vcpu *v, struct vm_exit *ex)
{
    struct domain *d = v->domain;
    switch (ex->reason) {
    case VMEXIT_HCALL:
        hvm_hypercall(v, ex);
        break;
    case VMEXIT_IO:
        handle_pio(v, ex);
        break;
    case VMEXIT_MMIO:
        handle_mmio(v, ex);
        break;
    case VMEXIT_MSR_READ:
    case VMEXIT_MSR_WRITE:
        handle_msr(v, ex, ex->reason == VMEXIT_MSR_WRITE);
        break;
    case VMEXIT_SHUTDOWN:
        domain_crash(d, v, "triple fault on vCPU %u", v->vcpu_id);
        return false;
    case VMEXIT_FAULT:
        domain_crash(d, v, "vCPU %u cannot continue: %s", v->vcpu_id, ex->fault.why);
        return false;
    case VMEXIT_INTR:
    case VMEXIT_NONE:
    case VMEXIT_NR:
        break;
    }
    return domain_is_running(d);
}

static unsigned exit_kind(const struct vm_exit *ex)
{
    if (ex->reason == VMEXIT_HCALL)
        return EXK_HCALL;
    if (ex->reason == VMEXIT_IO && ex->io.port == XHV_RAW_PORT)
        return EXK_RAW_IO;
    return EXK_OTHER;
}

/* Host-side cost: from KVM_RUN returning (ex->t_exit) to the next vcpu_run call. */
static void stats_account(struct domain *d, const struct vm_exit *ex)
{
    if (!ex->t_exit)
        return;
    unsigned k = exit_kind(ex);
    uint64_t dt = now_ns() - ex->t_exit;
    __atomic_fetch_add(&d->stats.count[k], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&d->stats.ns[k], dt, __ATOMIC_RELAXED);
    uint32_t nr = (uint32_t)ex->cpu.gpr[R_AX]; /* the number (the result goes via ex->ret) */
    if (k == EXK_HCALL && nr < XHV_STATS_NR_HCALLS) {
        __atomic_fetch_add(&d->stats.hc_count[nr], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&d->stats.hc_ns[nr], dt, __ATOMIC_RELAXED);
    }
}

bool xhv_stats_default;

static void stats_line(FILE *f, const char *label, const char *what, uint64_t n, uint64_t ns,
                       const char *unit)
{
    double avg = n ? (double)ns / (double)n : 0.0;
    if (f)
        fprintf(f, "xhv-stats: %s%s%-9s %10llu %ss %8.1f ns/%s host-side\n", label ? label : "",
                label ? " " : "", what, (unsigned long long)n, unit, avg, unit);
    else
        xhv_log(LOG_INFO, "xhv-stats: %s%s%s %llu %ss %.1f ns/%s host-side", label ? label : "",
                label ? " " : "", what, (unsigned long long)n, unit, avg, unit);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* VIRQ_TIMER lateness (deadline -> event raised, host-side): median, p99, max. */
static void timer_lateness_line(struct domain *d, const char *label, FILE *f)
{
    unsigned n = __atomic_load_n(&d->stats.nr_timer_late, __ATOMIC_ACQUIRE);
    uint32_t *s = d->stats.timer_late_ns;
    char line[160];
    if (n > XHV_TIMER_LATE_SAMPLES)
        n = XHV_TIMER_LATE_SAMPLES;
    if (!n)
        return;
    qsort(s, n, sizeof(*s), cmp_u32);
    snprintf(line, sizeof(line),
             "xhv-stats: %s%stimer_late %8u timers median %u ns p99 %u ns max %u ns host-side",
             label ? label : "", label ? " " : "", n, s[n / 2], s[(n * 99) / 100], s[n - 1]);
    if (f)
        fprintf(f, "%s\n", line);
    else
        xhv_log(LOG_INFO, "%s", line);
}

void domain_stats_report(struct domain *d, const char *label, FILE *f)
{
    static const char *const kind[EXK_NR] = {"hypercall", "raw_exit", "other"};
    for (int k = 0; k < EXK_NR; k++)
        stats_line(f, label, kind[k], d->stats.count[k], d->stats.ns[k], "exit");
    for (unsigned nr = 0; nr < XHV_STATS_NR_HCALLS; nr++)
        if (d->stats.hc_count[nr] && hypercall_table[nr].name)
            stats_line(f, label, hypercall_table[nr].name, d->stats.hc_count[nr],
                       d->stats.hc_ns[nr], "call");
    timer_lateness_line(d, label, f);
}

static void vcpu_stopped(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    bool all = true;
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i]->thread_started && d->vcpu[i]->runstate != RUNSTATE_offline)
            all = false;
    bool finalised = all && !d->is_shut_down && !d->is_dying; /* a kill sends its own */
    if (all) {
        d->is_shut_down = true;
        pthread_cond_broadcast(&d->shutdown_cond);
    }
    pthread_mutex_unlock(&d->lock);
    if (finalised) /* __domain_finalise_shutdown() */
        send_global_virq(VIRQ_DOM_EXC);
}

/* While the controller has d paused: park (runnable, not running). Returns with the
 * domain unpaused or stopping. */
static void vcpu_park_while_paused(struct vcpu *v)
{
    struct domain *d = v->domain;
    pthread_mutex_lock(&d->lock);
    if (d->pause_count && domain_is_running(d)) {
        vcpu_runstate_change_locked(v, RUNSTATE_runnable);
        v->parked = true;
        pthread_cond_broadcast(&d->shutdown_cond);
        while (d->pause_count && domain_is_running(d))
            pthread_cond_wait(&d->shutdown_cond, &d->lock);
        v->parked = false;
        vcpu_runstate_change_locked(v, RUNSTATE_running);
    }
    pthread_mutex_unlock(&d->lock);
}

static void vcpu_apply_affinity(struct vcpu *v)
{
    if (CPU_COUNT(&v->affinity) &&
        pthread_setaffinity_np(pthread_self(), sizeof(v->affinity), &v->affinity) != 0)
        xhv_log(LOG_WARN, "d%uv%u: cannot pin the vCPU thread", v->domain->domain_id, v->vcpu_id);
}

int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set)
{
    cpu_set_t avail, use;
    if (sched_getaffinity(getpid(), sizeof(avail), &avail) != 0) /* the process's CPUs */
        CPU_ZERO(&avail);
    CPU_AND(&use, set, &avail);
    if (!CPU_COUNT(&use))
        return -XEN_EINVAL;
    pthread_mutex_lock(&v->domain->lock);
    v->affinity = use;
    if (v->thread_started && pthread_setaffinity_np(v->thread, sizeof(use), &use) != 0) {
        pthread_mutex_unlock(&v->domain->lock);
        return -XEN_EINVAL;
    }
    pthread_mutex_unlock(&v->domain->lock);
    return 0;
}

/* While v is down (VCPUOP_down, or not brought up yet): offline, out of guest code. */
static void vcpu_wait_online(struct vcpu *v)
{
    struct domain *d = v->domain;
    pthread_mutex_lock(&d->lock);
    if (!v->online && domain_is_running(d)) {
        vcpu_runstate_change_locked(v, RUNSTATE_offline);
        pthread_cond_broadcast(&d->shutdown_cond); /* domain_pause() sees it quiet */
        while (!v->online && domain_is_running(d))
            pthread_cond_wait(&d->shutdown_cond, &d->lock);
        vcpu_runstate_change_locked(v, RUNSTATE_running);
    }
    pthread_mutex_unlock(&d->lock);
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct domain *d = v->domain;
    struct vm_exit ex;
    unsigned gen = __atomic_load_n(&v->state_gen, __ATOMIC_ACQUIRE);
    memset(&ex, 0, sizeof(ex));
    vcpu_apply_affinity(v);
    runstate_change(v, RUNSTATE_running);
    vcpu_time_start(v); /* its TSC offset and pvclock, on its own thread */
    while (domain_is_running(d)) {
        if (__atomic_load_n(&d->pause_count, __ATOMIC_RELAXED)) {
            vcpu_park_while_paused(v);
            continue;
        }
        if (!__atomic_load_n(&v->online, __ATOMIC_ACQUIRE)) {
            vcpu_wait_online(v);
            continue;
        }
        if (__atomic_load_n(&v->state_gen, __ATOMIC_ACQUIRE) != gen) {
            gen = __atomic_load_n(&v->state_gen, __ATOMIC_ACQUIRE);
            memset(&ex, 0, sizeof(ex)); /* a new state replaced the one that exited */
        }
        vcpu_time_poll(v); /* once per calibration epoch: the TSC offset, on this thread */
        if (d->stats_on)
            stats_account(d, &ex);
        int rc = d->accel_ops->vcpu_run(v, &ex);
        if (rc < 0) {
            domain_crash(d, v, "backend failed to run vCPU %u (%d)", v->vcpu_id, rc);
            break;
        }
        if (!vcpu_handle_exit(v, &ex))
            break;
    }
    runstate_change(v, RUNSTATE_offline);
    vcpu_stopped(d);
    return NULL;
}

/* d->lock held: domain_destroy() marks the domain dying under it, then joins every started
 * thread, so a thread is never half-created when it is joined. */
int vcpu_start(struct vcpu *v)
{
    v->thread_started = true;
    if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
        v->thread_started = false;
        return -XEN_ENOMEM;
    }
    return 0;
}

int vcpu_load_state(struct vcpu *v, const struct vcpu_init_state *s)
{
    struct domain *d = v->domain;
    if (!d->accel_ops->vcpu_set_state || d->accel_ops->vcpu_set_state(v, s) < 0)
        return -XEN_EINVAL;
    pthread_mutex_lock(&d->lock);
    v->initialised = true;
    __atomic_fetch_add(&v->state_gen, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

int vcpu_set_online(struct vcpu *v, bool online)
{
    struct domain *d = v->domain;
    int rc = 0;
    pthread_mutex_lock(&d->lock);
    bool start = online && d->started && !v->thread_started && domain_is_running(d);
    bool stop = !online && v->online && v->thread_started;
    __atomic_store_n(&v->online, online, __ATOMIC_RELEASE);
    if (start && (rc = vcpu_start(v)) != 0)
        __atomic_store_n(&v->online, false, __ATOMIC_RELEASE); /* no thread: still down */
    pthread_cond_broadcast(&d->shutdown_cond);
    pthread_mutex_unlock(&d->lock);
    if (stop && d->accel_ops->vcpu_kick)
        d->accel_ops->vcpu_kick(v); /* leave guest code now */
    return rc;
}

void vcpu_join(struct vcpu *v)
{
    if (v->thread_started)
        pthread_join(v->thread, NULL);
    v->thread_started = false;
}
