/* domain.c: domain and vCPU lifetime, the domain table, shutdown and crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/event.h"

struct domain *domain_table[XHV_DOMID_LIMIT];
static unsigned nr_domains; /* live, under domain_table_lock */
pthread_mutex_t domain_table_lock = PTHREAD_MUTEX_INITIALIZER;

static int domid_alloc(domid_t want, domid_t *out)
{
    if (nr_domains >= XHV_MAX_DOMAINS)
        return -XEN_ENOSPC;
    if (want) {
        if (want >= XHV_DOMID_LIMIT)
            return -XEN_EINVAL;
        if (domain_table[want])
            return -XEN_EEXIST;
        *out = want;
        return 0;
    }
    for (unsigned id = 1; id < XHV_DOMID_LIMIT; id++) {
        if (!domain_table[id]) {
            *out = (domid_t)id;
            return 0;
        }
    }
    return -XEN_ENOSPC;
}

static int config_check(const struct domain_config *cfg)
{
    if (cfg->max_vcpus == 0 || cfg->max_vcpus > XHV_MAX_VCPUS)
        return -XEN_EINVAL;
    if (cfg->mem_bytes && (cfg->mem_bytes < (2ull << 20) || (cfg->mem_bytes & ~PAGE_MASK) ||
                           cfg->mem_bytes > (1ull << 40)))
        return -XEN_EINVAL;
    return 0;
}

static int vcpus_create(struct domain *d)
{
    d->vcpu = calloc(d->max_vcpus, sizeof(*d->vcpu));
    if (!d->vcpu)
        return -XEN_ENOMEM;
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = calloc(1, sizeof(*v));
        if (!v)
            return -XEN_ENOMEM;
        v->domain = d;
        v->vcpu_id = i;
        v->vcpu_info_gfn = INVALID_GFN;
        v->runstate = RUNSTATE_offline;
        v->runstate_entry = now_ns();
        d->vcpu[i] = v;
        int rc = d->accel_ops->vcpu_init ? d->accel_ops->vcpu_init(v) : 0;
        if (rc)
            return rc;
    }
    d->vcpu[0]->online = d->vcpu[0]->initialised = true; /* the boot vCPU (embedded mode) */
    return 0;
}

static void domain_free(struct domain *d)
{
    timer_domain_destroy(d); /* no-op after domain_destroy(); a failed create armed nothing */
    evtchn_destroy_final(d);
    for (unsigned i = 0; d->vcpu && i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        if (!v)
            continue;
        if (v->accel && d->accel_ops->vcpu_destroy)
            d->accel_ops->vcpu_destroy(v);
        free(v);
    }
    free(d->vcpu);
    physmap_destroy(d);
    if (d->accel && d->accel_ops->domain_destroy)
        d->accel_ops->domain_destroy(d);
    free(d->memmap);
    pthread_mutex_destroy(&d->console.lock);
    pthread_mutex_destroy(&d->memop_lock);
    pthread_mutex_destroy(&d->vcpu_init_lock);
    pthread_cond_destroy(&d->shutdown_cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static struct domain *domain_alloc(domid_t id, const struct domain_config *cfg,
                                   const struct accel_ops *ops)
{
    struct domain *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->domain_id = id;
    snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "");
    d->accel_ops = ops;
    d->max_vcpus = cfg->max_vcpus;
    d->privileged = cfg->privileged || cfg->ssidref == XHV_SSIDREF_CONTROL;
    d->stats_on = xhv_stats_default;
    d->ssidref = cfg->ssidref;
    d->cdf_flags = cfg->cdf_flags;
    d->max_evtchn_port = cfg->max_evtchn_port;
    d->max_grant_frames = cfg->max_grant_frames;
    d->max_maptrack_frames = cfg->max_maptrack_frames;
    d->pause_count = 1; /* new domains start paused, as on Xen; the first unpause starts them */
    d->shutdown_code = -1;
    d->shared_info_gfn = INVALID_GFN;
    d->vtsc_offset = xen_system_time();
    d->console.to_terminal = cfg->console_terminal;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->memop_lock, NULL);
    pthread_mutex_init(&d->vcpu_init_lock, NULL);
    pthread_cond_init(&d->shutdown_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&d->console.lock, NULL);
    d->p2m.memfd = -1;
    return d;
}

struct domain *domain_create(domid_t want, const struct domain_config *cfg,
                             const struct accel_ops *ops, int *err)
{
    struct domain *d = NULL;
    domid_t id;
    int rc = config_check(cfg);
    pthread_mutex_lock(&domain_table_lock);
    if (rc == 0)
        rc = domid_alloc(want, &id);
    if (rc == 0 && !(d = domain_alloc(id, cfg, ops)))
        rc = -XEN_ENOMEM;
    if (rc == 0 && ops->domain_init)
        rc = ops->domain_init(d);
    if (rc == 0)
        rc = physmap_init(d, cfg->mem_bytes);
    if (rc == 0)
        rc = vcpus_create(d);
    if (rc == 0)
        rc = evtchn_domain_init(d);
    if (rc == 0) {
        d->tot_pages = d->max_pages = d->p2m.ram_pages;
        domain_table[id] = d;
        nr_domains++;
    } else if (d) {
        domain_free(d);
        d = NULL;
    }
    pthread_mutex_unlock(&domain_table_lock);
    if (err)
        *err = rc;
    return d;
}

void domain_get(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    d->refcnt++;
    pthread_mutex_unlock(&d->lock);
}

struct domain *rcu_lock_domain_by_id(domid_t id)
{
    struct domain *d = NULL;
    pthread_mutex_lock(&domain_table_lock);
    if (id < XHV_DOMID_LIMIT && (d = domain_table[id]))
        domain_get(d);
    pthread_mutex_unlock(&domain_table_lock);
    return d;
}

/* The control domain has no VM, RAM or shared_info: operations aimed at it (DOMID_SELF from
 * a tool, or domid 0) find no domain, so no handler touches state it does not have. */
struct domain *rcu_lock_domain_by_any_id(struct vcpu *v, domid_t id)
{
    struct domain *d;
    if (id != DOMID_SELF) {
        d = rcu_lock_domain_by_id(id);
        if (d && d->is_control) {
            rcu_unlock_domain(d);
            d = NULL;
        }
        return d;
    }
    if (v->domain->is_control)
        return NULL;
    domain_get(v->domain);
    return v->domain;
}

void rcu_unlock_domain(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    if (--d->refcnt == 0)
        pthread_cond_broadcast(&d->shutdown_cond);
    pthread_mutex_unlock(&d->lock);
}

static void domain_kick_all(struct domain *d)
{
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpu[i];
        if (v && v->thread_started && d->accel_ops->vcpu_kick)
            d->accel_ops->vcpu_kick(v);
    }
}

/* Is every started vCPU of d out of guest code (parked, blocked or finished)? lock held */
static bool domain_quiet(const struct domain *d)
{
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        const struct vcpu *v = d->vcpu[i];
        if (v->thread_started && !v->parked && v->runstate == RUNSTATE_running)
            return false;
    }
    return true;
}

void domain_pause(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    d->pause_count++;
    pthread_cond_broadcast(&d->shutdown_cond); /* blocked vCPUs re-check and park */
    pthread_mutex_unlock(&d->lock);
    domain_kick_all(d);
    pthread_mutex_lock(&d->lock);
    while (!domain_quiet(d) && domain_is_running(d))
        pthread_cond_wait(&d->shutdown_cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
}

int domain_unpause(struct domain *d)
{
    bool start = false;
    pthread_mutex_lock(&d->lock);
    if (!d->pause_count) {
        pthread_mutex_unlock(&d->lock);
        return -XEN_EINVAL; /* domain_unpause_by_systemcontroller() */
    }
    if (--d->pause_count == 0) {
        start = !d->started && domain_is_running(d);
        d->started = true;
        pthread_cond_broadcast(&d->shutdown_cond);
    }
    int failed = -1; /* the first vCPU whose thread could not start */
    for (unsigned i = 0; start && i < d->max_vcpus; i++) /* under d->lock: see vcpu_start() */
        if (d->vcpu[i]->online && vcpu_start(d->vcpu[i]) && failed < 0)
            failed = (int)i;
    pthread_mutex_unlock(&d->lock);
    if (failed >= 0)
        domain_crash(d, NULL, "cannot start the thread of vCPU %d", failed);
    return 0;
}

/* Claim d for destruction (as destroydomain does): false if someone else already did. */
static bool domain_claim_destroy(struct domain *d)
{
    bool claimed = false;
    pthread_mutex_lock(&d->lock);
    if (!d->is_dying)
        claimed = true, __atomic_store_n(&d->is_dying, true, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&d->lock);
    return claimed;
}

void domain_destroy_all(void)
{
    for (;;) {
        struct domain *d = NULL;
        bool any = false;
        pthread_mutex_lock(&domain_table_lock);
        for (unsigned id = 1; id < XHV_DOMID_LIMIT && !d; id++) {
            if (!domain_table[id])
                continue;
            any = true;
            if (domain_claim_destroy(domain_table[id]))
                d = domain_table[id];
        }
        pthread_mutex_unlock(&domain_table_lock);
        if (d)
            domain_destroy(d);
        else if (!any)
            return;
        else
            sched_yield(); /* the rest are being destroyed by their own claimers */
    }
}

void domain_shutdown(struct domain *d, unsigned reason)
{
    pthread_mutex_lock(&d->lock);
    if (d->shutdown_code == -1)
        d->shutdown_code = (int)reason;
    bool first = !d->is_shutting_down, finalised = false;
    __atomic_store_n(&d->is_shutting_down, true, __ATOMIC_RELEASE);
    if (!d->started && !d->is_shut_down) /* never unpaused: no vCPU thread will report */
        d->is_shut_down = finalised = true;
    pthread_cond_broadcast(&d->shutdown_cond);
    pthread_mutex_unlock(&d->lock);
    if (finalised) /* __domain_finalise_shutdown() */
        send_global_virq(VIRQ_DOM_EXC);
    if (first) {
        xhv_log(LOG_INFO, "d%u: shutdown, reason %d", d->domain_id, d->shutdown_code);
        domain_kick_all(d);
    }
}

static void dump_cpu(const struct domain *d, const struct vcpu *v, const struct guest_cpu *c)
{
    static const char *const n[NR_GPRS] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                           "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    char buf[1024];
    int off = snprintf(buf, sizeof(buf), "d%uv%u registers: rip=%016llx rflags=%08llx cpl=%u%s\n",
                       d->domain_id, v->vcpu_id, (unsigned long long)c->rip,
                       (unsigned long long)c->rflags, c->cpl, c->cs_l ? " 64-bit" : "");
    for (int i = 0; i < NR_GPRS && off < (int)sizeof(buf); i++)
        off += snprintf(buf + off, sizeof(buf) - (size_t)off, "  %-3s=%016llx%s", n[i],
                        (unsigned long long)c->gpr[i], i % 4 == 3 ? "\n" : "");
    if (off < (int)sizeof(buf))
        snprintf(buf + off, sizeof(buf) - (size_t)off,
                 "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
                 (unsigned long long)c->cr0, (unsigned long long)c->cr2, (unsigned long long)c->cr3,
                 (unsigned long long)c->cr4, (unsigned long long)c->efer);
    xhv_log(LOG_ERR, "%s", buf);
}

void domain_crash(struct domain *d, struct vcpu *v, const char *why, ...)
{
    char msg[256];
    va_list ap;
    struct guest_cpu cpu;
    va_start(ap, why);
    vsnprintf(msg, sizeof(msg), why, ap);
    va_end(ap);
    xhv_log(LOG_ERR, "d%u crashed: %s", d->domain_id, msg);
    if (v && d->accel_ops->vcpu_get_cpu && d->accel_ops->vcpu_get_cpu(v, &cpu) == 0)
        dump_cpu(d, v, &cpu);
    domain_shutdown(d, SHUTDOWN_crash);
}

bool domain_is_running(const struct domain *d)
{
    /* read without d->lock by vCPU loops and waits: atomic, like the writes */
    return !__atomic_load_n(&d->is_shutting_down, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&d->is_dying, __ATOMIC_ACQUIRE);
}

int domain_wait_shutdown(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    while (!d->is_shut_down)
        pthread_cond_wait(&d->shutdown_cond, &d->lock);
    int code = d->shutdown_code;
    pthread_mutex_unlock(&d->lock);
    return code;
}

void domain_destroy(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    __atomic_store_n(&d->is_dying, true, __ATOMIC_RELEASE);
    __atomic_store_n(&d->is_shutting_down, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&d->shutdown_cond);
    pthread_mutex_unlock(&d->lock);
    domain_kick_all(d);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i])
            vcpu_join(d->vcpu[i]);
    console_flush(d);
    evtchn_destroy(d); /* domain_kill(): evtchn_destroy(), then DOMDYING_dead */
    clear_global_virq_handlers(d);
    send_global_virq(VIRQ_DOM_EXC);
    pthread_mutex_lock(&domain_table_lock);
    if (domain_table[d->domain_id] == d) {
        domain_table[d->domain_id] = NULL;
        nr_domains--;
    }
    pthread_mutex_unlock(&domain_table_lock);
    sched_domain_destroy(d);
    timer_domain_destroy(d);
    pthread_mutex_lock(&d->lock); /* wait for every rcu_lock_domain_* user to finish */
    while (d->refcnt)
        pthread_cond_wait(&d->shutdown_cond, &d->lock);
    pthread_mutex_unlock(&d->lock);
    /* after the last reference: the timer thread no longer adds lateness samples */
    if (d->stats_on && xhv_stats_default && /* xhvd --stats: the daemon's log keeps them */
        d->stats.count[EXK_HCALL] + d->stats.count[EXK_RAW_IO] + d->stats.count[EXK_OTHER]) {
        char label[16];
        snprintf(label, sizeof(label), "d%u", d->domain_id);
        domain_stats_report(d, label, NULL);
    }
    domain_free(d);
    send_global_virq(VIRQ_DOM_EXC); /* complete_domain_destroy() */
}
