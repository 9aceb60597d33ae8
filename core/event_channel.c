/* event_channel.c: event channels (EVTCHNOP_*) as Xen 4.17's common/event_channel.c, 2-level. */
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/hypercall.h"
#include "core/xsm.h"

#ifndef EVTCHNOP_reset_cont
#define EVTCHNOP_reset_cont                                                                        \
    14 /* public/event_channel.h hides it behind __XEN__; guests reach it                          \
        */
#endif

/* Channel states (xen/include/xen/sched.h ECS_*). */
enum { ECS_FREE, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ, ECS_VIRQ, ECS_IPI };

struct evtchn {
    uint8_t state;
    uint32_t notify_vcpu_id; /* atomic: a peer's send reads it under the peer's lock only */
    union {
        domid_t unbound_remote; /* ECS_UNBOUND: who may bind */
        struct {
            struct domain *dom;
            uint32_t port;
        } interdomain;
        uint32_t pirq, virq;
    } u;
};

struct evtchn_domain {
    pthread_mutex_t lock;
    struct evtchn *bucket[EVTCHN_NR_BUCKETS]; /* written under lock, read atomically */
    unsigned valid;                           /* atomic: ports [0, valid) have a bucket */
    uint32_t (*virq_to_evtchn)[NR_VIRQS];     /* [vcpu][virq], 0 = not bound */
    uint32_t pirq_to_evtchn[XHV_NR_PIRQS];
    bool dying;     /* evtchn_destroy() started: no new ports */
    bool resetting; /* an EVTCHNOP_reset runs (another one gets -EBUSY) */
};

/* Taken before two tables are held at once; see core/event.h. */
static pthread_mutex_t evtchn_pair_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the port table ---- */

static struct evtchn *port_chn(struct evtchn_domain *e, unsigned port)
{
    if (!e || port >= __atomic_load_n(&e->valid, __ATOMIC_ACQUIRE))
        return NULL;
    struct evtchn *b = __atomic_load_n(&e->bucket[port / EVTCHNS_PER_BUCKET], __ATOMIC_ACQUIRE);
    return &b[port % EVTCHNS_PER_BUCKET];
}

static struct vcpu *notify_vcpu(struct domain *d, const struct evtchn *c)
{
    return d->vcpu[__atomic_load_n(&c->notify_vcpu_id, __ATOMIC_RELAXED)];
}

static void set_notify_vcpu(struct evtchn *c, uint32_t vcpu_id)
{
    __atomic_store_n(&c->notify_vcpu_id, vcpu_id, __ATOMIC_RELAXED);
}

bool evtchn_port_is_valid(struct domain *d, unsigned port)
{
    return port_chn(d->evtchn, port) != NULL;
}

bool evtchn_port_is_pending(struct domain *d, unsigned port)
{
    return evtchn_port_is_valid(d, port) && evtchn_2l_is_pending(d, port);
}

/* Xen's d->max_evtchn_port (createdomain); xhv: 0 means the ABI limit. */
static uint32_t max_evtchn_port(const struct domain *d)
{
    return d->max_evtchn_port ? d->max_evtchn_port : UINT32_MAX;
}

static int alloc_bucket(struct evtchn_domain *e, unsigned port)
{
    struct evtchn *b = calloc(EVTCHNS_PER_BUCKET, sizeof(*b));
    if (!b)
        return -XEN_ENOMEM;
    __atomic_store_n(&e->bucket[port / EVTCHNS_PER_BUCKET], b, __ATOMIC_RELEASE);
    __atomic_store_n(&e->valid, e->valid + EVTCHNS_PER_BUCKET, __ATOMIC_RELEASE);
    return 0;
}

/* get_free_port() + evtchn_allocate_port(): the lowest free port; table locked. */
static int get_free_port(struct domain *d)
{
    struct evtchn_domain *e = d->evtchn;
    unsigned limit = evtchn_2l_max_channels(d);

    if (e->dying || __atomic_load_n(&d->is_dying, __ATOMIC_ACQUIRE))
        return -XEN_EINVAL;
    for (uint64_t port = 0; port <= max_evtchn_port(d); port++) {
        if (port >= limit)
            return -XEN_ENOSPC;
        struct evtchn *c = port_chn(e, (unsigned)port);
        if (c && c->state != ECS_FREE)
            continue;
        int rc = c ? 0 : alloc_bucket(e, (unsigned)port);
        return rc ? rc : (int)port;
    }
    return -XEN_ENOSPC;
}

/* evtchn_free(): the pending bit goes (no stale event on re-bind), vCPU 0 notified. */
static void evtchn_free(struct domain *d, unsigned port, struct evtchn *c)
{
    evtchn_2l_clear_pending(d, port);
    c->state = ECS_FREE;
    set_notify_vcpu(c, 0);
}

/* Two tables in domain-pointer order; the caller holds evtchn_pair_lock. */
static void lock_two(struct domain *a, struct domain *b)
{
    if (a > b) {
        struct domain *t = a;
        a = b, b = t;
    }
    pthread_mutex_lock(&a->evtchn->lock);
    if (b != a)
        pthread_mutex_lock(&b->evtchn->lock);
}

static void unlock_two(struct domain *a, struct domain *b)
{
    pthread_mutex_unlock(&a->evtchn->lock);
    if (b != a)
        pthread_mutex_unlock(&b->evtchn->lock);
}

/* ---- binding ---- */

static long evtchn_alloc_unbound(struct vcpu *v, struct evtchn_alloc_unbound *a)
{
    struct domain *d = rcu_lock_domain_by_any_id(v, a->dom);
    long rc;

    if (!d)
        return -XEN_ESRCH;
    pthread_mutex_lock(&d->evtchn->lock);
    int port = get_free_port(d);
    rc = port < 0 ? port : xsm_target(v, d); /* xsm_evtchn_unbound(XSM_TARGET) */
    if (rc == 0) {
        struct evtchn *c = port_chn(d->evtchn, (unsigned)port);
        c->state = ECS_UNBOUND;
        c->u.unbound_remote = a->remote_dom == DOMID_SELF ? v->domain->domain_id : a->remote_dom;
        a->port = (uint32_t)port;
    }
    pthread_mutex_unlock(&d->evtchn->lock);
    rcu_unlock_domain(d);
    return rc;
}

/* Both tables locked: connect a new local port to rd's unbound port waiting for ld. */
static long bind_interdomain_locked(struct domain *ld, struct domain *rd, uint32_t rport)
{
    int lport = get_free_port(ld);
    if (lport < 0)
        return lport;
    struct evtchn *lchn = port_chn(ld->evtchn, (unsigned)lport),
                  *rchn = port_chn(rd->evtchn, rport);
    if (!rchn || rchn->state != ECS_UNBOUND || rchn->u.unbound_remote != ld->domain_id ||
        rd->evtchn->dying || __atomic_load_n(&rd->is_dying, __ATOMIC_ACQUIRE))
        return -XEN_EINVAL; /* a dying domain's ports are (being) closed */
    lchn->state = ECS_INTERDOMAIN;
    lchn->u.interdomain.dom = rd;
    lchn->u.interdomain.port = rport;
    rchn->state = ECS_INTERDOMAIN;
    rchn->u.interdomain.dom = ld;
    rchn->u.interdomain.port = (uint32_t)lport;
    /* notifications sent while rport was unbound were dropped: always flag the new port */
    evtchn_2l_set_pending(notify_vcpu(ld, lchn), (unsigned)lport);
    return lport;
}

static long evtchn_bind_interdomain(struct vcpu *v, struct evtchn_bind_interdomain *b)
{
    struct domain *ld = v->domain, *rd = rcu_lock_domain_by_any_id(v, b->remote_dom);
    long rc;

    if (!rd)
        return -XEN_ESRCH;
    pthread_mutex_lock(&evtchn_pair_lock);
    lock_two(ld, rd);
    rc = bind_interdomain_locked(ld, rd, b->remote_port);
    unlock_two(ld, rd);
    pthread_mutex_unlock(&evtchn_pair_lock);
    rcu_unlock_domain(rd);
    if (rc < 0)
        return rc;
    b->local_port = (uint32_t)rc;
    return 0;
}

/* A new port in d's own table, bound to vcpu_id; its number or a negative errno. */
static int bind_local(struct domain *d, uint8_t state, uint32_t vcpu_id, uint32_t what)
{
    int port = get_free_port(d);
    if (port < 0)
        return port;
    struct evtchn *c = port_chn(d->evtchn, (unsigned)port);
    c->state = state;
    set_notify_vcpu(c, vcpu_id);
    c->u.virq = what; /* u.virq / u.pirq; ignored for ECS_IPI */
    return port;
}

static long evtchn_bind_virq(struct vcpu *v, struct evtchn_bind_virq *b)
{
    struct domain *d = v->domain;
    struct evtchn_domain *e = d->evtchn;
    int port;

    if (b->virq >= NR_VIRQS)
        return -XEN_EINVAL;
    if (virq_is_global(b->virq) && b->vcpu != 0)
        return -XEN_EINVAL;
    if (b->vcpu >= d->max_vcpus || !d->vcpu[b->vcpu])
        return -XEN_ENOENT;
    pthread_mutex_lock(&e->lock);
    if (e->virq_to_evtchn[b->vcpu][b->virq])
        port = -XEN_EEXIST;
    else
        port = bind_local(d, ECS_VIRQ, b->vcpu, b->virq);
    if (port > 0)
        e->virq_to_evtchn[b->vcpu][b->virq] = b->port = (uint32_t)port;
    pthread_mutex_unlock(&e->lock);
    return port < 0 ? port : 0;
}

static long evtchn_bind_ipi(struct vcpu *v, struct evtchn_bind_ipi *b)
{
    struct domain *d = v->domain;
    int port;

    if (b->vcpu >= d->max_vcpus || !d->vcpu[b->vcpu])
        return -XEN_ENOENT;
    pthread_mutex_lock(&d->evtchn->lock);
    port = bind_local(d, ECS_IPI, b->vcpu, 0);
    pthread_mutex_unlock(&d->evtchn->lock);
    if (port < 0)
        return port;
    b->port = (uint32_t)port;
    return 0;
}

/*
 * A PVH domU has d->nr_pirqs = 48 and binds without any permission check (is_hvm_domain());
 * the port is bound on vCPU 0 and never fires: no PIRQ is ever mapped to an IRQ here.
 */
static long evtchn_bind_pirq(struct vcpu *v, struct evtchn_bind_pirq *b)
{
    struct domain *d = v->domain;
    struct evtchn_domain *e = d->evtchn;
    int port;

    if (b->pirq >= XHV_NR_PIRQS)
        return -XEN_EINVAL;
    pthread_mutex_lock(&e->lock);
    if (e->pirq_to_evtchn[b->pirq])
        port = -XEN_EEXIST;
    else
        port = bind_local(d, ECS_PIRQ, 0, b->pirq);
    if (port > 0)
        e->pirq_to_evtchn[b->pirq] = b->port = (uint32_t)port;
    pthread_mutex_unlock(&e->lock);
    return port < 0 ? port : 0;
}

/* ---- closing ---- */

/* The state-specific part of evtchn_close(); the table(s) involved are locked. */
static void close_locked(struct domain *d1, unsigned port1, struct evtchn *c)
{
    struct evtchn_domain *e = d1->evtchn;

    switch (c->state) {
    case ECS_PIRQ:
        e->pirq_to_evtchn[c->u.pirq] = 0;
        break;
    case ECS_VIRQ:
        for (unsigned i = 0; i < d1->max_vcpus; i++)
            if (e->virq_to_evtchn[i][c->u.virq] == port1)
                e->virq_to_evtchn[i][c->u.virq] = 0;
        break;
    case ECS_INTERDOMAIN: {
        struct domain *d2 = c->u.interdomain.dom;
        struct evtchn *c2 = port_chn(d2->evtchn, c->u.interdomain.port);
        c2->state = ECS_UNBOUND; /* the peer may be re-bound by us (or our successor id) */
        c2->u.unbound_remote = d1->domain_id;
        break;
    }
    default:
        break;
    }
    evtchn_free(d1, port1, c);
}

/* evtchn_close(): -XEN_EINVAL for a port that is not valid, free or reserved. */
static int evtchn_close(struct domain *d1, unsigned port1)
{
    struct domain *d2 = d1;
    struct evtchn *c;
    int rc = 0;

    pthread_mutex_lock(&evtchn_pair_lock);
    pthread_mutex_lock(&d1->evtchn->lock);
    c = port_chn(d1->evtchn, port1);
    if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED) {
        rc = -XEN_EINVAL;
    } else if (c->state == ECS_INTERDOMAIN && c->u.interdomain.dom != d1) {
        /* stable: interdomain channels change only under evtchn_pair_lock */
        d2 = c->u.interdomain.dom;
        pthread_mutex_unlock(&d1->evtchn->lock);
        lock_two(d1, d2);
    }
    if (rc == 0)
        close_locked(d1, port1, c);
    unlock_two(d1, d2);
    pthread_mutex_unlock(&evtchn_pair_lock);
    return rc;
}

/* ---- sending ---- */

int evtchn_send(struct domain *ld, unsigned lport)
{
    struct evtchn_domain *e = ld->evtchn;
    struct evtchn *c;
    int rc = 0;

    if (!e)
        return -XEN_EINVAL;
    pthread_mutex_lock(&e->lock);
    c = port_chn(e, lport);
    switch (c ? c->state : ECS_FREE) {
    case ECS_INTERDOMAIN: {
        /* the peer's table lives on: closing either end needs our lock too */
        struct domain *rd = c->u.interdomain.dom;
        unsigned rport = c->u.interdomain.port;
        evtchn_2l_set_pending(notify_vcpu(rd, port_chn(rd->evtchn, rport)), rport);
        break;
    }
    case ECS_IPI:
        evtchn_2l_set_pending(notify_vcpu(ld, c), lport);
        break;
    case ECS_UNBOUND:
        break; /* silently dropped */
    default:
        rc = -XEN_EINVAL;
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

void send_guest_global_virq(struct domain *d, unsigned virq)
{
    struct evtchn_domain *e = d->evtchn;

    if (!e || virq >= NR_VIRQS || !virq_is_global(virq))
        return;
    pthread_mutex_lock(&e->lock);
    uint32_t port = e->virq_to_evtchn[0][virq];
    if (port)
        evtchn_2l_set_pending(notify_vcpu(d, port_chn(e, port)), port);
    pthread_mutex_unlock(&e->lock);
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned virq)
{
    struct domain *d = v->domain;
    struct evtchn_domain *e = d->evtchn;

    if (!e || virq >= NR_VIRQS)
        return;
    if (virq_is_global(virq)) {
        send_guest_global_virq(d, virq);
        return;
    }
    pthread_mutex_lock(&e->lock);
    uint32_t port = e->virq_to_evtchn[v->vcpu_id][virq];
    if (port)
        evtchn_2l_set_pending(v, port);
    pthread_mutex_unlock(&e->lock);
}

uint32_t evtchn_virq_port(struct vcpu *v, unsigned virq)
{
    struct evtchn_domain *e = v->domain->evtchn;
    uint32_t port = 0;

    if (e && virq < NR_VIRQS) {
        pthread_mutex_lock(&e->lock);
        port = e->virq_to_evtchn[v->vcpu_id][virq];
        pthread_mutex_unlock(&e->lock);
    }
    return port;
}

/* ---- status, vCPU binding, unmask ---- */

static long evtchn_status(struct vcpu *v, struct evtchn_status *s)
{
    struct domain *d = rcu_lock_domain_by_any_id(v, s->dom);
    struct evtchn *c;
    long rc;

    if (!d)
        return -XEN_ESRCH;
    pthread_mutex_lock(&d->evtchn->lock);
    c = port_chn(d->evtchn, s->port);
    rc = !c ? -XEN_EINVAL : xsm_target(v, d); /* xsm_evtchn_status(XSM_TARGET) */
    if (rc == 0) { /* as Xen, the parts of u a state does not use keep the caller's bytes */
        static const uint32_t stat[] = {
            [ECS_FREE] = EVTCHNSTAT_closed,     [ECS_RESERVED] = EVTCHNSTAT_closed,
            [ECS_UNBOUND] = EVTCHNSTAT_unbound, [ECS_INTERDOMAIN] = EVTCHNSTAT_interdomain,
            [ECS_PIRQ] = EVTCHNSTAT_pirq,       [ECS_VIRQ] = EVTCHNSTAT_virq,
            [ECS_IPI] = EVTCHNSTAT_ipi,
        };
        s->status = stat[c->state];
        if (c->state == ECS_UNBOUND)
            s->u.unbound.dom = c->u.unbound_remote;
        else if (c->state == ECS_INTERDOMAIN) {
            s->u.interdomain.dom = c->u.interdomain.dom->domain_id;
            s->u.interdomain.port = c->u.interdomain.port;
        } else if (c->state == ECS_PIRQ)
            s->u.pirq = c->u.pirq;
        else if (c->state == ECS_VIRQ)
            s->u.virq = c->u.virq;
        s->vcpu = __atomic_load_n(&c->notify_vcpu_id, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&d->evtchn->lock);
    rcu_unlock_domain(d);
    return rc;
}

/* evtchn_bind_vcpu(): per-vCPU VIRQs and IPIs stay where they were bound. */
static long evtchn_bind_vcpu(struct vcpu *v, const struct evtchn_bind_vcpu *b)
{
    struct domain *d = v->domain;
    struct evtchn *c;
    long rc = 0;

    if (b->vcpu >= d->max_vcpus || !d->vcpu[b->vcpu])
        return -XEN_ENOENT;
    pthread_mutex_lock(&d->evtchn->lock);
    c = port_chn(d->evtchn, b->port);
    switch (c ? c->state : ECS_FREE) {
    case ECS_VIRQ:
        if (!virq_is_global(c->u.virq)) {
            rc = -XEN_EINVAL;
            break;
        }
        /* fall through */
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_PIRQ:
        set_notify_vcpu(c, b->vcpu);
        break;
    default:
        rc = -XEN_EINVAL;
    }
    pthread_mutex_unlock(&d->evtchn->lock);
    return rc;
}

static long evtchn_unmask(struct vcpu *v, unsigned port)
{
    struct domain *d = v->domain;
    struct evtchn *c;

    pthread_mutex_lock(&d->evtchn->lock);
    c = port_chn(d->evtchn, port);
    if (c)
        evtchn_2l_unmask(notify_vcpu(d, c), port);
    pthread_mutex_unlock(&d->evtchn->lock);
    return c ? 0 : -XEN_EINVAL;
}

/* ---- reset ---- */

static bool ports_in_use(struct domain *d)
{
    for (unsigned p = 1; p < __atomic_load_n(&d->evtchn->valid, __ATOMIC_ACQUIRE); p++) {
        struct evtchn *c = port_chn(d->evtchn, p);
        if (c->state != ECS_FREE && c->state != ECS_RESERVED)
            return true;
    }
    return false;
}

/* Close every port of d but port 0 (EVTCHNOP_reset, and a dying domain's teardown). */
static void close_all_ports(struct domain *d)
{
    struct evtchn_domain *e = d->evtchn;
    for (unsigned p = 1; p < __atomic_load_n(&e->valid, __ATOMIC_ACQUIRE); p++)
        evtchn_close(d, p);
}

/*
 * evtchn_reset(): the caller's own domain, or another one that is paused (-EINVAL
 * otherwise); all ports closed at once (Xen's preemption point is never needed here, so
 * reset_cont finds no reset to continue: -EBUSY, as a reset already running does).
 */
static long evtchn_reset(struct vcpu *v, struct domain *d, bool resuming)
{
    struct evtchn_domain *e = d->evtchn;
    long rc = 0;

    pthread_mutex_lock(&d->lock);
    bool paused = d->pause_count > 0;
    pthread_mutex_unlock(&d->lock);
    if (d != v->domain && !paused)
        return -XEN_EINVAL;
    pthread_mutex_lock(&e->lock);
    if (resuming || e->resetting)
        rc = -XEN_EBUSY;
    else
        e->resetting = true;
    pthread_mutex_unlock(&e->lock);
    if (rc)
        return rc;
    close_all_ports(d);
    pthread_mutex_lock(&e->lock);
    e->resetting = false;
    rc = ports_in_use(d) ? -XEN_EAGAIN : 0; /* bound again meanwhile */
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static long evtchnop_reset(struct vcpu *v, const struct evtchn_reset *r, bool resuming)
{
    struct domain *d = rcu_lock_domain_by_any_id(v, r->dom);
    long rc;

    if (!d)
        return -XEN_ESRCH;
    rc = xsm_target(v, d); /* xsm_evtchn_reset(XSM_TARGET) */
    if (rc == 0)
        rc = evtchn_reset(v, d, resuming);
    rcu_unlock_domain(d);
    return rc;
}

/* set_priority: a valid port gets evtchn_port_set_priority()'s answer for 2-level ops. */
static long evtchn_set_priority(struct vcpu *v, const struct evtchn_set_priority *p)
{
    return evtchn_port_is_valid(v->domain, p->port) ? -XEN_ENOSYS : -XEN_EINVAL;
}

/* ---- lifetime ---- */

int evtchn_domain_init(struct domain *d)
{
    struct evtchn_domain *e = calloc(1, sizeof(*e));

    if (!e || !(e->virq_to_evtchn = calloc(d->max_vcpus, sizeof(*e->virq_to_evtchn))) ||
        alloc_bucket(e, 0)) {
        if (e)
            free(e->virq_to_evtchn);
        free(e);
        return -XEN_ENOMEM;
    }
    pthread_mutex_init(&e->lock, NULL);
    e->bucket[0][0].state = ECS_RESERVED; /* port 0 is never handed out */
    d->evtchn = e;
    return 0;
}

/* evtchn_destroy(): every port closed as evtchn_close() does (peers become unbound). */
void evtchn_destroy(struct domain *d)
{
    struct evtchn_domain *e = d->evtchn;

    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->dying = true;
    pthread_mutex_unlock(&e->lock);
    close_all_ports(d);
}

void evtchn_destroy_final(struct domain *d)
{
    struct evtchn_domain *e = d->evtchn;

    if (!e)
        return;
    evtchn_destroy(d); /* a domain freed without domain_destroy() (creation failed) */
    d->evtchn = NULL;
    for (unsigned i = 0; i < EVTCHN_NR_BUCKETS; i++)
        free(e->bucket[i]);
    free(e->virq_to_evtchn);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* ---- the hypercall ---- */

union evtchn_op_args {
    struct evtchn_alloc_unbound alloc_unbound;
    struct evtchn_bind_interdomain bind_interdomain;
    struct evtchn_bind_virq bind_virq;
    struct evtchn_bind_pirq bind_pirq;
    struct evtchn_bind_ipi bind_ipi;
    struct evtchn_close close;
    struct evtchn_send send;
    struct evtchn_status status;
    struct evtchn_bind_vcpu bind_vcpu;
    struct evtchn_unmask unmask;
    struct evtchn_reset reset;
    struct evtchn_init_control init_control;
    struct evtchn_expand_array expand_array;
    struct evtchn_set_priority set_priority;
};

/* Argument sizes: every struct has the same layout for 32-bit callers (u32/u16 fields, and
 * the u64s of init_control/expand_array sit at 8-aligned offsets with no tail padding). */
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");
_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "bind_pirq");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");
_Static_assert(sizeof(struct evtchn_close) == 4 && sizeof(struct evtchn_send) == 4, "close");
_Static_assert(sizeof(struct evtchn_status) == 24, "status");
_Static_assert(offsetof(struct evtchn_status, u) == 16, "status.u");
_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8 && sizeof(struct evtchn_unmask) == 4, "vcpu");
_Static_assert(sizeof(struct evtchn_reset) == 2, "reset");
_Static_assert(sizeof(struct evtchn_init_control) == 24, "init_control");
_Static_assert(offsetof(struct evtchn_init_control, link_bits) == 16, "link_bits");
_Static_assert(sizeof(struct evtchn_expand_array) == 8, "expand_array");
_Static_assert(sizeof(struct evtchn_set_priority) == 8, "set_priority");

static const struct {
    uint8_t size;
    bool out;    /* copied back on success */
    bool remote; /* names its domain: allowed from a tool connection (no event table) */
} evtchnop[] = {
    [EVTCHNOP_bind_interdomain] = {sizeof(struct evtchn_bind_interdomain), true, false},
    [EVTCHNOP_bind_virq] = {sizeof(struct evtchn_bind_virq), true, false},
    [EVTCHNOP_bind_pirq] = {sizeof(struct evtchn_bind_pirq), true, false},
    [EVTCHNOP_close] = {sizeof(struct evtchn_close), false, false},
    [EVTCHNOP_send] = {sizeof(struct evtchn_send), false, false},
    [EVTCHNOP_status] = {sizeof(struct evtchn_status), true, true},
    [EVTCHNOP_alloc_unbound] = {sizeof(struct evtchn_alloc_unbound), true, true},
    [EVTCHNOP_bind_ipi] = {sizeof(struct evtchn_bind_ipi), true, false},
    [EVTCHNOP_bind_vcpu] = {sizeof(struct evtchn_bind_vcpu), false, false},
    [EVTCHNOP_unmask] = {sizeof(struct evtchn_unmask), false, false},
    [EVTCHNOP_reset] = {sizeof(struct evtchn_reset), false, true},
    [EVTCHNOP_init_control] = {sizeof(struct evtchn_init_control), true, false},
    [EVTCHNOP_expand_array] = {sizeof(struct evtchn_expand_array), false, false},
    [EVTCHNOP_set_priority] = {sizeof(struct evtchn_set_priority), false, false},
    [EVTCHNOP_reset_cont] = {sizeof(struct evtchn_reset), false, true},
};

static long evtchnop_run(struct vcpu *v, unsigned cmd, union evtchn_op_args *a)
{
    switch (cmd) {
    case EVTCHNOP_bind_interdomain:
        return evtchn_bind_interdomain(v, &a->bind_interdomain);
    case EVTCHNOP_bind_virq:
        return evtchn_bind_virq(v, &a->bind_virq);
    case EVTCHNOP_bind_pirq:
        return evtchn_bind_pirq(v, &a->bind_pirq);
    case EVTCHNOP_close:
        return evtchn_close(v->domain, a->close.port);
    case EVTCHNOP_send:
        return evtchn_send(v->domain, a->send.port);
    case EVTCHNOP_status:
        return evtchn_status(v, &a->status);
    case EVTCHNOP_alloc_unbound:
        return evtchn_alloc_unbound(v, &a->alloc_unbound);
    case EVTCHNOP_bind_ipi:
        return evtchn_bind_ipi(v, &a->bind_ipi);
    case EVTCHNOP_bind_vcpu:
        return evtchn_bind_vcpu(v, &a->bind_vcpu);
    case EVTCHNOP_unmask:
        return evtchn_unmask(v, a->unmask.port);
    case EVTCHNOP_reset:
    case EVTCHNOP_reset_cont:
        return evtchnop_reset(v, &a->reset, cmd == EVTCHNOP_reset_cont);
    case EVTCHNOP_set_priority:
        return evtchn_set_priority(v, &a->set_priority);
    default:
        /* init_control / expand_array: no FIFO ABI, answered as Xen built without it
         * (CONFIG_EVTCHN_FIFO=n); Linux then stays on the 2-level ABI */
        return -XEN_EOPNOTSUPP;
    }
}

/* do_event_channel_op(): copy in (-EFAULT), run, copy back outputs on success. */
long do_event_channel_op(struct vcpu *v, const uint64_t args[5])
{
    unsigned cmd = (unsigned)(int)args[0]; /* Xen: int cmd */
    union evtchn_op_args a;
    long rc;

    if (cmd >= sizeof(evtchnop) / sizeof(evtchnop[0]) || !evtchnop[cmd].size)
        return hypercall_unimplemented_subop(v, __HYPERVISOR_event_channel_op, cmd);
    if (copy_from_guest(v, &a, args[1], evtchnop[cmd].size))
        return -XEN_EFAULT;
    if (!v->domain->evtchn && !evtchnop[cmd].remote)
        return -XEN_EINVAL; /* a tool connection has no event channels of its own */
    rc = evtchnop_run(v, cmd, &a);
    if (rc == 0 && evtchnop[cmd].out && copy_to_guest(v, args[1], &a, evtchnop[cmd].size))
        rc = -XEN_EFAULT;
    return rc;
}
