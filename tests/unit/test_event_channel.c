/* test_event_channel.c: EVTCHNOP_* good and bad, 2-level delivery bits in shared_info and
 * vcpu_info (both layouts), interdomain channels across domains, teardown, tool connections. */
#include <string.h>
#include <time.h>

#include "compat_layout.h"
#include "core/event.h"
#include "core/hypercall.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define EO __HYPERVISOR_event_channel_op
#define ARG 0x10000ull
#define ARG2 0x11000ull
#define SHINFO_GFN 0x200ull
#define SHINFO_GPA (SHINFO_GFN << PAGE_SHIFT)
#define EVTCHNOP_reset_cont_nr 14

/* ---- helpers ---- */

static long eop(struct vcpu *v, unsigned cmd, void *a, size_t n)
{
    gpa_write(v->domain, ARG, a, n);
    long rc = hc64(v, EO, cmd, ARG, 0);
    gpa_read(v->domain, ARG, a, n);
    return rc;
}

/* Xen's do_event_channel_op() takes an int cmd: the high half of a 64-bit RAX is ignored. */
TEST(evtchn_cmd_is_an_int)
{
    struct domain *d = fake_domain(16, 1, false);
    struct evtchn_bind_ipi b = {.vcpu = 0};
    gpa_write(d, ARG, &b, sizeof(b));
    CHECK_EQ(hc64(d->vcpu[0], EO, (1ull << 32) | EVTCHNOP_bind_ipi, ARG, 0), 0);
    gpa_read(d, ARG, &b, sizeof(b));
    CHECK_EQ(b.port, 1);
    CHECK_EQ(hc64(d->vcpu[0], EO, 0xffffffffull, ARG, 0), -XEN_ENOSYS); /* -1 */
    domain_destroy(d);
}

static long alloc_unbound(struct vcpu *v, domid_t dom, domid_t remote, uint32_t *port)
{
    struct evtchn_alloc_unbound a = {.dom = dom, .remote_dom = remote, .port = 0xdead};
    long rc = eop(v, EVTCHNOP_alloc_unbound, &a, sizeof(a));
    *port = a.port;
    return rc;
}

static long bind_interdomain(struct vcpu *v, domid_t rdom, uint32_t rport, uint32_t *lport)
{
    struct evtchn_bind_interdomain b = {.remote_dom = rdom, .remote_port = rport};
    long rc = eop(v, EVTCHNOP_bind_interdomain, &b, sizeof(b));
    *lport = b.local_port;
    return rc;
}

static long bind_virq(struct vcpu *v, uint32_t virq, uint32_t vcpu, uint32_t *port)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = vcpu};
    long rc = eop(v, EVTCHNOP_bind_virq, &b, sizeof(b));
    *port = b.port;
    return rc;
}

static long bind_ipi(struct vcpu *v, uint32_t vcpu, uint32_t *port)
{
    struct evtchn_bind_ipi b = {.vcpu = vcpu};
    long rc = eop(v, EVTCHNOP_bind_ipi, &b, sizeof(b));
    *port = b.port;
    return rc;
}

static long port_op(struct vcpu *v, unsigned cmd, uint32_t port)
{
    return eop(v, cmd, &port, sizeof(port));
}

static long bind_vcpu(struct vcpu *v, uint32_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu b = {.port = port, .vcpu = vcpu};
    return eop(v, EVTCHNOP_bind_vcpu, &b, sizeof(b));
}

static long status(struct vcpu *v, domid_t dom, uint32_t port, struct evtchn_status *s)
{
    memset(s, 0, sizeof(*s));
    s->dom = dom;
    s->port = port;
    return eop(v, EVTCHNOP_status, s, sizeof(*s));
}

static long reset(struct vcpu *v, unsigned cmd, domid_t dom)
{
    struct evtchn_reset r = {.dom = dom};
    return eop(v, cmd, &r, sizeof(r));
}

/* XENMEM_add_to_physmap(shared_info) through the guest's own hypercall. */
static void map_shinfo(struct domain *d)
{
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = SHINFO_GFN};
    gpa_write(d, ARG2, &x, sizeof(x));
    CHECK_EQ(hc64(d->vcpu[0], __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG2, 0), 0);
}

static struct domain *domu(unsigned vcpus)
{
    struct domain *d = fake_domain(16, vcpus, false);
    map_shinfo(d);
    return d;
}

/* Guest-visible bits (native layout unless the domain latched the 32-bit one). */
static bool word_bit(struct domain *d, uint64_t gpa, unsigned nr)
{
    if (d->has_32bit_shinfo) {
        uint32_t w;
        gpa_read(d, gpa + 4 * (nr / 32), &w, 4);
        return w >> (nr % 32) & 1;
    }
    uint64_t w;
    gpa_read(d, gpa + 8 * (nr / 64), &w, 8);
    return w >> (nr % 64) & 1;
}

static bool pending(struct domain *d, unsigned port)
{
    return word_bit(d,
                    SHINFO_GPA + (d->has_32bit_shinfo
                                      ? COMPAT_shared_info__evtchn_pending_OFF
                                      : offsetof(struct shared_info, evtchn_pending)),
                    port);
}

static uint64_t vinfo_gpa(unsigned vcpu)
{
    return SHINFO_GPA + vcpu * sizeof(struct vcpu_info);
}

static bool sel_bit(struct domain *d, unsigned vcpu, unsigned word)
{
    return word_bit(d,
                    vinfo_gpa(vcpu) + (d->has_32bit_shinfo
                                           ? COMPAT_vcpu_info__evtchn_pending_sel_OFF
                                           : offsetof(struct vcpu_info, evtchn_pending_sel)),
                    word);
}

static uint8_t upcall_pending(struct domain *d, unsigned vcpu)
{
    uint8_t b;
    gpa_read(d, vinfo_gpa(vcpu), &b, 1);
    return b;
}

/* The guest's side of an upcall: clear upcall_pending, the selector and the pending bits. */
static void guest_ack(struct domain *d)
{
    gpa_fill(d, SHINFO_GPA, 0,
             offsetof(struct shared_info, evtchn_mask)); /* vcpu_info[], pending */
}

static void set_mask(struct domain *d, unsigned port, bool on)
{
    uint64_t w, gpa = SHINFO_GPA + offsetof(struct shared_info, evtchn_mask) + 8 * (port / 64);
    gpa_read(d, gpa, &w, 8);
    w = on ? w | 1ull << (port % 64) : w & ~(1ull << (port % 64));
    gpa_write(d, gpa, &w, 8);
}

/* ---- tests ---- */

TEST(evtchn_bad_ports_and_commands)
{
    struct domain *d = domu(1);
    struct vcpu *v = d->vcpu[0];
    struct evtchn_status s;
    uint32_t p;

    CHECK_EQ(port_op(v, EVTCHNOP_close, 0), -XEN_EINVAL);  /* reserved */
    CHECK_EQ(port_op(v, EVTCHNOP_close, 5), -XEN_EINVAL);  /* free */
    CHECK_EQ(port_op(v, EVTCHNOP_close, 64), -XEN_EINVAL); /* no bucket yet */
    CHECK_EQ(port_op(v, EVTCHNOP_close, 0xffffffff), -XEN_EINVAL);
    CHECK_EQ(port_op(v, EVTCHNOP_send, 0), -XEN_EINVAL);
    CHECK_EQ(port_op(v, EVTCHNOP_send, 7), -XEN_EINVAL);
    CHECK_EQ(port_op(v, EVTCHNOP_send, 99999), -XEN_EINVAL);
    CHECK_EQ(port_op(v, EVTCHNOP_unmask, 7), 0); /* valid though free */
    CHECK_EQ(port_op(v, EVTCHNOP_unmask, 4095), -XEN_EINVAL);
    CHECK_EQ(status(v, DOMID_SELF, 0, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_closed);
    CHECK_EQ(status(v, DOMID_SELF, 63, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_closed);
    CHECK_EQ(status(v, DOMID_SELF, 64, &s), -XEN_EINVAL);
    CHECK_EQ(status(v, 999, 1, &s), -XEN_ESRCH);
    CHECK_EQ(bind_vcpu(v, 3, 0), -XEN_EINVAL);
    CHECK_EQ(bind_vcpu(v, 3, 1), -XEN_ENOENT); /* the vCPU is checked first */
    CHECK_EQ(hc64(v, EO, 15, ARG, 0), -XEN_ENOSYS);
    CHECK_EQ(hc64(v, EO, 0xffffffffull, ARG, 0), -XEN_ENOSYS);
    CHECK_EQ(hc64(v, EO, EVTCHNOP_alloc_unbound, HOLE_GPA, 0), -XEN_EFAULT);
    CHECK_EQ(hc64(v, EO, EVTCHNOP_close, HOLE_GPA, 0), -XEN_EFAULT);
    CHECK(!evtchn_port_is_valid(d, 64) && evtchn_port_is_valid(d, 63));
    /* port numbers start at 1 */
    CHECK_EQ(alloc_unbound(v, DOMID_SELF, DOMID_SELF, &p), 0);
    CHECK_EQ(p, 1);
    domain_destroy(d);
}

TEST(evtchn_alloc_unbound_close_send)
{
    struct domain *a = domu(1), *b = domu(1);
    struct vcpu *v = a->vcpu[0];
    struct evtchn_status s;
    uint32_t p, q;

    CHECK_EQ(alloc_unbound(v, DOMID_SELF, b->domain_id, &p), 0);
    CHECK_EQ(status(v, DOMID_SELF, p, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_unbound);
    CHECK_EQ(s.u.unbound.dom, b->domain_id);
    CHECK_EQ(s.vcpu, 0);
    CHECK_EQ(alloc_unbound(v, a->domain_id, DOMID_SELF, &q), 0); /* remote = the caller */
    CHECK_EQ(q, p + 1);
    CHECK_EQ(status(v, a->domain_id, q, &s), 0);
    CHECK_EQ(s.u.unbound.dom, a->domain_id);
    CHECK_EQ(port_op(v, EVTCHNOP_send, p), 0); /* unbound: dropped */
    CHECK(!pending(a, p));
    CHECK_EQ(alloc_unbound(v, b->domain_id, DOMID_SELF, &q), -XEN_EPERM);
    CHECK_EQ(alloc_unbound(v, 999, DOMID_SELF, &q), -XEN_ESRCH);
    CHECK_EQ(alloc_unbound(v, 0, DOMID_SELF, &q), -XEN_ESRCH); /* the VM-less domain 0 */
    CHECK_EQ(status(v, b->domain_id, 1, &s), -XEN_EPERM);
    CHECK_EQ(port_op(v, EVTCHNOP_close, p), 0);
    CHECK_EQ(port_op(v, EVTCHNOP_close, p), -XEN_EINVAL); /* double close */
    CHECK_EQ(port_op(v, EVTCHNOP_send, p), -XEN_EINVAL);  /* send on a closed port */
    CHECK_EQ(status(v, DOMID_SELF, p, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_closed);
    CHECK_EQ(alloc_unbound(v, DOMID_SELF, 5, &q), 0); /* lowest free port again */
    CHECK_EQ(q, p);
    /* a 32-bit caller: same struct layouts */
    struct evtchn_alloc_unbound al = {.dom = DOMID_SELF, .remote_dom = 7};
    gpa_write(a, ARG, &al, sizeof(al));
    CHECK_EQ(hc32(v, EO, EVTCHNOP_alloc_unbound, ARG, 0), 0);
    gpa_read(a, ARG, &al, sizeof(al));
    CHECK_EQ(al.port, p + 2);
    domain_destroy(a);
    domain_destroy(b);
}

TEST(evtchn_interdomain_delivery)
{
    struct domain *a = domu(1), *b = domu(1), *c = domu(1);
    struct vcpu *va = a->vcpu[0], *vb = b->vcpu[0];
    struct evtchn_status s;
    uint32_t pa, pb, pc, x;

    CHECK_EQ(alloc_unbound(va, DOMID_SELF, b->domain_id, &pa), 0);
    CHECK_EQ(port_op(va, EVTCHNOP_send, pa), 0); /* lost: nobody bound yet */
    CHECK_EQ(bind_interdomain(vb, a->domain_id, pa, &pb), 0);
    /* the new local port is marked pending (Xen's lost-notification fixup) */
    CHECK(pending(b, pb));
    CHECK(sel_bit(b, 0, pb / 64));
    CHECK_EQ(upcall_pending(b, 0), 1);
    CHECK(!pending(a, pa));
    CHECK_EQ(status(va, DOMID_SELF, pa, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(s.u.interdomain.dom, b->domain_id);
    CHECK_EQ(s.u.interdomain.port, pb);
    CHECK_EQ(status(vb, DOMID_SELF, pb, &s), 0);
    CHECK_EQ(s.u.interdomain.dom, a->domain_id);
    CHECK_EQ(s.u.interdomain.port, pa);
    /* a -> b and b -> a */
    guest_ack(b);
    CHECK_EQ(port_op(va, EVTCHNOP_send, pa), 0);
    CHECK(pending(b, pb) && sel_bit(b, 0, pb / 64) && upcall_pending(b, 0));
    CHECK(evtchn_port_is_pending(b, pb));
    CHECK_EQ(port_op(vb, EVTCHNOP_send, pb), 0);
    CHECK(pending(a, pa) && sel_bit(a, 0, pa / 64) && upcall_pending(a, 0));
    /* already pending: no new selector bit / upcall */
    guest_ack(a);
    CHECK_EQ(port_op(vb, EVTCHNOP_send, pb), 0);
    gpa_fill(a, vinfo_gpa(0), 0, sizeof(struct vcpu_info));
    CHECK_EQ(port_op(vb, EVTCHNOP_send, pb), 0);
    CHECK(pending(a, pa) && !sel_bit(a, 0, pa / 64) && !upcall_pending(a, 0));
    /* the bound port cannot be bound again; a port waiting for c refuses b */
    CHECK_EQ(bind_interdomain(vb, a->domain_id, pa, &x), -XEN_EINVAL);
    CHECK_EQ(alloc_unbound(va, DOMID_SELF, c->domain_id, &pc), 0);
    CHECK_EQ(bind_interdomain(vb, a->domain_id, pc, &x), -XEN_EINVAL);
    CHECK_EQ(bind_interdomain(vb, a->domain_id, 4000, &x), -XEN_EINVAL);
    CHECK_EQ(bind_interdomain(vb, 999, 1, &x), -XEN_ESRCH);
    CHECK_EQ(bind_interdomain(c->vcpu[0], a->domain_id, pc, &x), 0);
    /* closing one end makes the other unbound, waiting for the closer */
    CHECK_EQ(port_op(va, EVTCHNOP_close, pa), 0);
    CHECK_EQ(status(vb, DOMID_SELF, pb, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_unbound);
    CHECK_EQ(s.u.unbound.dom, a->domain_id);
    CHECK_EQ(port_op(vb, EVTCHNOP_send, pb), 0);             /* dropped */
    CHECK_EQ(bind_interdomain(va, b->domain_id, pb, &x), 0); /* a may reconnect */
    CHECK_EQ(x, pa);
    domain_destroy(a);
    domain_destroy(b);
    domain_destroy(c);
}

TEST(evtchn_loopback_and_mask_unmask)
{
    struct domain *d = domu(1);
    struct vcpu *v = d->vcpu[0];
    struct evtchn_status s;
    uint32_t p, q;

    CHECK_EQ(alloc_unbound(v, DOMID_SELF, DOMID_SELF, &p), 0);
    CHECK_EQ(bind_interdomain(v, DOMID_SELF, p, &q), 0);
    guest_ack(d);
    set_mask(d, p, true);
    CHECK_EQ(port_op(v, EVTCHNOP_send, q), 0);
    CHECK(pending(d, p) && !sel_bit(d, 0, 0) && !upcall_pending(d, 0)); /* masked */
    CHECK_EQ(port_op(v, EVTCHNOP_unmask, p), 0);
    CHECK(sel_bit(d, 0, 0) && upcall_pending(d, 0));
    CHECK(!evtchn_2l_is_masked(d, p));
    guest_ack(d);
    CHECK_EQ(port_op(v, EVTCHNOP_unmask, p), 0); /* not masked, not pending: nothing */
    CHECK(!sel_bit(d, 0, 0) && !upcall_pending(d, 0));
    CHECK_EQ(port_op(v, EVTCHNOP_close, q), 0);
    CHECK_EQ(status(v, DOMID_SELF, p, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_unbound);
    CHECK_EQ(s.u.unbound.dom, d->domain_id);
    CHECK_EQ(port_op(v, EVTCHNOP_send, p), 0); /* unbound now: dropped */
    CHECK(!pending(d, p) && !pending(d, q));
    /* closing clears the pending bit so a re-bound port starts clean */
    CHECK_EQ(bind_ipi(v, 0, &q), 0);
    CHECK_EQ(port_op(v, EVTCHNOP_send, q), 0);
    CHECK(pending(d, q));
    CHECK_EQ(port_op(v, EVTCHNOP_close, q), 0);
    CHECK(!pending(d, q));
    domain_destroy(d);
}

TEST(evtchn_virqs)
{
    struct domain *d = domu(2);
    struct vcpu *v = d->vcpu[0];
    struct evtchn_status s;
    uint32_t t0, t1, con, x;

    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 0, &t0), 0);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 1, &t1), 0);
    CHECK(t0 != t1);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 1, &x), -XEN_EEXIST);
    CHECK_EQ(bind_virq(v, NR_VIRQS, 0, &x), -XEN_EINVAL);
    CHECK_EQ(bind_virq(v, 0xffffffff, 0, &x), -XEN_EINVAL);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 2, &x), -XEN_ENOENT);
    CHECK_EQ(bind_virq(v, VIRQ_CONSOLE, 1, &x), -XEN_EINVAL); /* global: vCPU 0 only */
    CHECK_EQ(bind_virq(v, VIRQ_ARCH_0, 5, &x), -XEN_EINVAL);  /* arch VIRQs are global */
    CHECK_EQ(bind_virq(v, VIRQ_CONSOLE, 0, &con), 0);
    CHECK_EQ(status(v, DOMID_SELF, t1, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_virq);
    CHECK_EQ(s.u.virq, VIRQ_TIMER);
    CHECK_EQ(s.vcpu, 1);
    CHECK_EQ(port_op(v, EVTCHNOP_send, t0), -XEN_EINVAL);
    CHECK_EQ(bind_vcpu(v, t0, 1), -XEN_EINVAL); /* per-vCPU VIRQ */
    /* per-vCPU raise goes to that vCPU's vcpu_info */
    guest_ack(d);
    send_guest_vcpu_virq(d->vcpu[1], VIRQ_TIMER);
    CHECK(pending(d, t1) && sel_bit(d, 1, t1 / 64) && upcall_pending(d, 1));
    CHECK(!pending(d, t0) && !upcall_pending(d, 0));
    send_guest_vcpu_virq(d->vcpu[1], VIRQ_DEBUG); /* not bound: nothing */
    send_guest_vcpu_virq(d->vcpu[1], NR_VIRQS);
    /* a global VIRQ can move; it is raised on its notify vCPU */
    CHECK_EQ(bind_vcpu(v, con, 1), 0);
    guest_ack(d);
    send_guest_vcpu_virq(d->vcpu[0], VIRQ_CONSOLE);
    CHECK(pending(d, con) && upcall_pending(d, 1) && !upcall_pending(d, 0));
    guest_ack(d);
    send_guest_global_virq(d, VIRQ_CONSOLE);
    CHECK(pending(d, con));
    /* close, then bind again */
    CHECK_EQ(port_op(v, EVTCHNOP_close, t1), 0);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 1, &x), 0);
    CHECK_EQ(x, t1);
    domain_destroy(d);
}

TEST(evtchn_ipi_and_pirq)
{
    struct domain *d = domu(2);
    struct vcpu *v = d->vcpu[0];
    struct evtchn_status s;
    uint32_t ipi, p, x;

    CHECK_EQ(bind_ipi(v, 2, &x), -XEN_ENOENT);
    CHECK_EQ(bind_ipi(v, 1, &ipi), 0);
    guest_ack(d);
    CHECK_EQ(port_op(v, EVTCHNOP_send, ipi), 0);
    CHECK(pending(d, ipi) && sel_bit(d, 1, ipi / 64) && upcall_pending(d, 1));
    CHECK(!upcall_pending(d, 0));
    CHECK_EQ(bind_vcpu(v, ipi, 0), -XEN_EINVAL);
    CHECK_EQ(status(v, DOMID_SELF, ipi, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_ipi);
    CHECK_EQ(s.vcpu, 1);
    /* PIRQs: a PVH domU has 48, binds them, and nothing ever fires */
    struct evtchn_bind_pirq bp = {.pirq = XHV_NR_PIRQS};
    CHECK_EQ(eop(v, EVTCHNOP_bind_pirq, &bp, sizeof(bp)), -XEN_EINVAL);
    bp.pirq = 5;
    CHECK_EQ(eop(v, EVTCHNOP_bind_pirq, &bp, sizeof(bp)), 0);
    p = bp.port;
    CHECK_EQ(eop(v, EVTCHNOP_bind_pirq, &bp, sizeof(bp)), -XEN_EEXIST);
    CHECK_EQ(status(v, DOMID_SELF, p, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_pirq);
    CHECK_EQ(s.u.pirq, 5);
    CHECK_EQ(port_op(v, EVTCHNOP_send, p), -XEN_EINVAL);
    CHECK_EQ(bind_vcpu(v, p, 1), 0);
    CHECK_EQ(port_op(v, EVTCHNOP_close, p), 0);
    CHECK_EQ(eop(v, EVTCHNOP_bind_pirq, &bp, sizeof(bp)), 0);
    CHECK_EQ(status(v, DOMID_SELF, bp.port, &s), 0);
    CHECK_EQ(s.vcpu, 0); /* a freed port forgets its vCPU */
    domain_destroy(d);
}

TEST(evtchn_port_exhaustion)
{
    struct domain_config cfg = {.mem_bytes = 16 << 20, .max_vcpus = 1, .max_evtchn_port = 5};
    int err;
    struct domain *d = domain_create(0, &cfg, &fake_accel_ops, &err);
    struct vcpu *v = d->vcpu[0];
    uint32_t p;

    for (unsigned i = 1; i <= 5; i++) {
        CHECK_EQ(alloc_unbound(v, DOMID_SELF, DOMID_SELF, &p), 0);
        CHECK_EQ(p, i);
    }
    CHECK_EQ(alloc_unbound(v, DOMID_SELF, DOMID_SELF, &p), -XEN_ENOSPC);
    CHECK_EQ(bind_ipi(v, 0, &p), -XEN_ENOSPC);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 0, &p), -XEN_ENOSPC);
    CHECK_EQ(port_op(v, EVTCHNOP_close, 3), 0);
    CHECK_EQ(bind_ipi(v, 0, &p), 0);
    CHECK_EQ(p, 3);
    domain_destroy(d);

    /* the ABI limits: 4095 usable ports (4096 - port 0), 1023 with the 32-bit layout */
    for (int compat = 0; compat < 2; compat++) {
        struct domain *e = domu(1);
        unsigned n = 0;
        if (compat) { /* a 32-bit HVMOP_set_param latches the layout */
            struct xen_hvm_param hp = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ};
            gpa_write(e, ARG, &hp, sizeof(hp));
            CHECK_EQ(hc32(e->vcpu[0], __HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), 0);
            CHECK(e->has_32bit_shinfo);
        }
        while (alloc_unbound(e->vcpu[0], DOMID_SELF, 0, &p) == 0)
            n++;
        CHECK_EQ(n, compat ? 1023 : 4095);
        CHECK_EQ(alloc_unbound(e->vcpu[0], DOMID_SELF, 0, &p), -XEN_ENOSPC);
        domain_destroy(e);
    }
}

TEST(evtchn_32bit_layout_bits)
{
    struct domain *d = domu(2);
    struct vcpu *v = d->vcpu[0];
    struct xen_hvm_param hp = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ};
    uint32_t p = 0, ipi;

    gpa_write(d, ARG, &hp, sizeof(hp));
    CHECK_EQ(hc32(v, __HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), 0);
    CHECK(d->has_32bit_shinfo);
    while (p < 40)
        CHECK_EQ(alloc_unbound(v, DOMID_SELF, DOMID_SELF, &p), 0);
    CHECK_EQ(bind_ipi(v, 1, &ipi), 0);
    CHECK_EQ(ipi, 41); /* word 1, bit 9 in u32 words */
    guest_ack(d);
    CHECK_EQ(port_op(v, EVTCHNOP_send, ipi), 0);
    uint32_t w;
    gpa_read(d, SHINFO_GPA + COMPAT_shared_info__evtchn_pending_OFF + 4, &w, 4);
    CHECK_EQ(w, 1u << 9);
    gpa_read(d, vinfo_gpa(1) + COMPAT_vcpu_info__evtchn_pending_sel_OFF, &w, 4);
    CHECK_EQ(w, 1u << 1);
    CHECK_EQ(upcall_pending(d, 1), 1);
    /* masked in the 32-bit mask array: pending only */
    guest_ack(d);
    w = 1u << 9;
    gpa_write(d, SHINFO_GPA + COMPAT_shared_info__evtchn_mask_OFF + 4, &w, 4);
    CHECK_EQ(port_op(v, EVTCHNOP_send, ipi), 0);
    CHECK(pending(d, ipi) && !sel_bit(d, 1, 1));
    CHECK_EQ(port_op(v, EVTCHNOP_unmask, ipi), 0);
    CHECK(sel_bit(d, 1, 1) && upcall_pending(d, 1));
    domain_destroy(d);
}

TEST(evtchn_dying_and_destroyed_peer)
{
    struct domain *a = domu(1), *b = domu(1);
    struct evtchn_status s;
    uint32_t pa, pb, pw, x;
    domid_t aid = a->domain_id;

    CHECK_EQ(alloc_unbound(a->vcpu[0], DOMID_SELF, b->domain_id, &pa), 0);
    CHECK_EQ(bind_interdomain(b->vcpu[0], aid, pa, &pb), 0);
    CHECK_EQ(alloc_unbound(a->vcpu[0], DOMID_SELF, b->domain_id, &pw), 0);
    /* a dying domain hands out no ports and accepts no bindings */
    pthread_mutex_lock(&a->lock);
    a->is_dying = true;
    pthread_mutex_unlock(&a->lock);
    CHECK_EQ(bind_interdomain(b->vcpu[0], aid, pw, &x), -XEN_EINVAL);
    CHECK_EQ(bind_ipi(a->vcpu[0], 0, &x), -XEN_EINVAL);
    domain_destroy(a);
    /* b keeps its port, now unbound and waiting for the old id */
    CHECK_EQ(status(b->vcpu[0], DOMID_SELF, pb, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_unbound);
    CHECK_EQ(s.u.unbound.dom, aid);
    CHECK_EQ(port_op(b->vcpu[0], EVTCHNOP_send, pb), 0);
    CHECK_EQ(bind_interdomain(b->vcpu[0], aid, pw, &x), -XEN_ESRCH);
    CHECK_EQ(port_op(b->vcpu[0], EVTCHNOP_close, pb), 0);
    domain_destroy(b);
}

TEST(evtchn_reset_and_fifo_answers)
{
    struct domain *d = domu(1), *e = domu(1), *priv = fake_domain(16, 1, true);
    struct vcpu *v = d->vcpu[0];
    struct evtchn_status s;
    uint32_t p, q, t;

    CHECK_EQ(alloc_unbound(v, DOMID_SELF, e->domain_id, &p), 0);
    CHECK_EQ(bind_interdomain(e->vcpu[0], d->domain_id, p, &q), 0);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 0, &t), 0);
    CHECK_EQ(reset(v, EVTCHNOP_reset, e->domain_id), -XEN_EPERM);
    CHECK_EQ(reset(v, EVTCHNOP_reset, 999), -XEN_ESRCH);
    CHECK_EQ(reset(v, EVTCHNOP_reset_cont_nr, DOMID_SELF), -XEN_EBUSY); /* nothing to resume */
    CHECK_EQ(reset(v, EVTCHNOP_reset, DOMID_SELF), 0);
    CHECK_EQ(status(v, DOMID_SELF, p, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_closed);
    CHECK_EQ(status(e->vcpu[0], DOMID_SELF, q, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_unbound);
    CHECK_EQ(bind_virq(v, VIRQ_TIMER, 0, &t), 0); /* the VIRQ binding went too */
    /* another domain: privileged caller, target paused (fake domains never unpaused) */
    CHECK_EQ(reset(priv->vcpu[0], EVTCHNOP_reset, d->domain_id), 0);
    CHECK_EQ(status(v, DOMID_SELF, t, &s), 0);
    CHECK_EQ(s.status, EVTCHNSTAT_closed);
    pthread_mutex_lock(&d->lock);
    d->pause_count = 0;
    pthread_mutex_unlock(&d->lock);
    CHECK_EQ(reset(priv->vcpu[0], EVTCHNOP_reset, d->domain_id), -XEN_EINVAL); /* running */
    pthread_mutex_lock(&d->lock);
    d->pause_count = 1;
    pthread_mutex_unlock(&d->lock);
    /* no FIFO ABI: init_control / expand_array fail as Xen without FIFO support does */
    struct evtchn_init_control ic = {.control_gfn = 0x300, .offset = 0, .vcpu = 0};
    CHECK_EQ(eop(v, EVTCHNOP_init_control, &ic, sizeof(ic)), -XEN_EOPNOTSUPP);
    CHECK_EQ(ic.link_bits, 0); /* not copied back */
    CHECK_EQ(hc64(v, EO, EVTCHNOP_init_control, HOLE_GPA, 0), -XEN_EFAULT);
    struct evtchn_expand_array ea = {.array_gfn = 0x301};
    CHECK_EQ(eop(v, EVTCHNOP_expand_array, &ea, sizeof(ea)), -XEN_EOPNOTSUPP);
    struct evtchn_set_priority sp = {.port = t, .priority = 3};
    CHECK_EQ(eop(v, EVTCHNOP_set_priority, &sp, sizeof(sp)), -XEN_ENOSYS);
    sp.port = 4000;
    CHECK_EQ(eop(v, EVTCHNOP_set_priority, &sp, sizeof(sp)), -XEN_EINVAL);
    domain_destroy(priv);
    domain_destroy(e);
    domain_destroy(d);
}

/* The daemon's path: a tool connection (domain 0, no event table) connects two domUs. */
TEST(evtchn_tool_connects_two_domains)
{
    static uint8_t buf[4096];
    const uint64_t base = 0x7f0000000000ull, args[5] = {0, base};
    struct vcpu *t = ctl_vcpu_create(buf, sizeof(buf), base);
    struct domain *a = domu(1), *b = domu(1);
    struct evtchn_alloc_unbound al = {.dom = a->domain_id, .remote_dom = b->domain_id};
    struct evtchn_status s;
    uint64_t call[5];
    uint32_t pa, pb, x;

    CHECK(t != NULL);
    if (!t)
        return;
    memcpy(call, args, sizeof(call));
    call[0] = EVTCHNOP_alloc_unbound;
    memcpy(buf, &al, sizeof(al));
    CHECK_EQ(do_event_channel_op(t, call), 0);
    memcpy(&al, buf, sizeof(al));
    pa = al.port;
    al = (struct evtchn_alloc_unbound){.dom = b->domain_id, .remote_dom = a->domain_id};
    memcpy(buf, &al, sizeof(al));
    CHECK_EQ(do_event_channel_op(t, call), 0);
    memcpy(&al, buf, sizeof(al));
    pb = al.port;
    CHECK_EQ(bind_interdomain(b->vcpu[0], a->domain_id, pa, &x), 0);
    CHECK_EQ(bind_interdomain(a->vcpu[0], b->domain_id, pb, &x), 0);
    s = (struct evtchn_status){.dom = a->domain_id, .port = pa};
    memcpy(buf, &s, sizeof(s));
    call[0] = EVTCHNOP_status;
    CHECK_EQ(do_event_channel_op(t, call), 0);
    memcpy(&s, buf, sizeof(s));
    CHECK_EQ(s.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(s.u.interdomain.dom, b->domain_id);
    /* nothing aimed at the tool's own (non-existent) table */
    call[0] = EVTCHNOP_send;
    CHECK_EQ(do_event_channel_op(t, call), -XEN_EINVAL);
    call[0] = EVTCHNOP_bind_ipi;
    CHECK_EQ(do_event_channel_op(t, call), -XEN_EINVAL);
    call[0] = EVTCHNOP_alloc_unbound;
    al = (struct evtchn_alloc_unbound){.dom = DOMID_SELF, .remote_dom = a->domain_id};
    memcpy(buf, &al, sizeof(al));
    CHECK_EQ(do_event_channel_op(t, call), -XEN_ESRCH); /* domain 0 is not found */
    ctl_vcpu_destroy(t);
    domain_destroy(a);
    domain_destroy(b);
}

/* ---- concurrency: sends race with close/re-bind and with the peer's destruction ---- */

struct race {
    struct domain *a;
    bool stop;
};

static void *sender(void *arg)
{
    struct race *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
        for (unsigned p = 1; p < 8; p++)
            evtchn_send(r->a, p);
    return NULL;
}

TEST(evtchn_send_races_close_and_destroy)
{
    struct domain *a = domu(2), *b = domu(1);
    struct race r = {.a = a};
    pthread_t th;
    uint32_t p = 0, lb = 0;

    CHECK_EQ(pthread_create(&th, NULL, sender, &r), 0);
    for (int i = 0; i < 300; i++) {
        uint32_t old = p;
        if (lb) { /* b closes its end, a its own (now unbound) one */
            CHECK_EQ(port_op(b->vcpu[0], EVTCHNOP_close, lb), 0);
            CHECK_EQ(port_op(a->vcpu[1], EVTCHNOP_close, old), 0);
        }
        CHECK_EQ(alloc_unbound(a->vcpu[1], DOMID_SELF, b->domain_id, &p), 0);
        CHECK_EQ(bind_interdomain(b->vcpu[0], a->domain_id, p, &lb), 0);
    }
    domain_destroy(b); /* while a keeps sending to it */
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    domain_destroy(a);
}

/* A single-shot timer raises VIRQ_TIMER on its vCPU: the bound port becomes pending. */
TEST(evtchn_virq_timer_fires)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = 0x300};
    struct evtchn_bind_virq bv = {.virq = VIRQ_TIMER, .vcpu = 0};
    gpa_write(d, 0x1000, &x, sizeof(x));
    CHECK_EQ(
        fake_hypercall(v, 0, true, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x1000, 0, 0, 0),
        0);
    gpa_write(d, 0x1000, &bv, sizeof(bv));
    CHECK_EQ(fake_hypercall(v, 0, true, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, 0x1000,
                            0, 0, 0),
             0);
    gpa_read(d, 0x1000, &bv, sizeof(bv));
    CHECK(bv.port > 0);
    /* set_timer_op 1 ms from now */
    CHECK_EQ(fake_hypercall(v, 0, true, __HYPERVISOR_set_timer_op, xen_system_time() + 1000000, 0,
                            0, 0, 0),
             0);
    bool pending = false;
    for (int i = 0; i < 200 && !pending; i++) { /* wait up to 2 s; no upper bound is asserted */
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pending = evtchn_port_is_pending(d, bv.port);
    }
    CHECK(pending);
    domain_destroy(d);
}
