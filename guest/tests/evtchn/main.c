/* evtchn: event channels (EVTCHNOP_*, 2-level ABI, per-vCPU upcall vector) vs Xen 4.17. */
#include "kit.h"

#define SHINFO_GFN 0xf0000UL /* past the end of RAM */
#define UPCALL_VECTOR 0xf3
#define SELF_IPI_VECTOR 0xf2 /* checks the kit's IDT, LAPIC and EOI path alone */
#define DOMID_BAD 0x7fef     /* highest ordinary domid: no such domain */
#define WAIT_ROUNDS 10       /* 1 ms polls before deciding that no upcall comes */
#define NR_PORTS EVTCHN_2L_NR_CHANNELS
#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))
/* event_channel.h defines it only #ifdef __XEN__; a guest may still issue it */
#define EVTCHNOP_RESET_CONT 14
#define EXPECT(name, expr, val) test_expect_eq(name, (long)(expr), (long)(val))

static volatile struct shared_info *const shinfo = (void *)(SHINFO_GFN << 12);
static volatile uint32_t counts[NR_PORTS]; /* events handled, per port */
static volatile uint32_t nr_upcalls, nr_self_ipis;
static domid_t self_id;

static long evtchn_op(int cmd, void *arg)
{
    return HYPERVISOR_event_channel_op(cmd, arg);
}

static unsigned int first_bit(xen_ulong_t w)
{
    xen_ulong_t r;

    asm("bsf %1, %0" : "=r"(r) : "rm"(w));
    return (unsigned int)r;
}

/* The upcall: the guest side of the 2-level ABI (ABI.md 8.2), then EOI. */
static void upcall(unsigned int vector)
{
    volatile struct vcpu_info *vi = &shinfo->vcpu_info[0];
    xen_ulong_t sel;

    (void)vector;
    nr_upcalls++;
    vi->evtchn_upcall_pending = 0;
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = first_bit(sel);
        xen_ulong_t bits = shinfo->evtchn_pending[w] & ~shinfo->evtchn_mask[w];

        sel &= sel - 1;
        while (bits) {
            unsigned int b = first_bit(bits);

            bits &= bits - 1;
            __atomic_fetch_and(&shinfo->evtchn_pending[w], ~((xen_ulong_t)1 << b),
                               __ATOMIC_SEQ_CST);
            counts[w * BITS_PER_WORD + b]++;
        }
    }
    apic_eoi();
}

/* Let a pending interrupt in: a few 1 ms polls with interrupts on, until *count moves. */
static bool wait_count(volatile uint32_t *count, uint32_t before)
{
    struct sched_poll poll = {.nr_ports = 0};

    set_xen_guest_handle(poll.ports, NULL);
    for (unsigned int i = 0; i < WAIT_ROUNDS && *count == before; i++) {
        poll.timeout = xen_system_time() + 1000000;
        irq_enable();
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
        irq_disable();
    }
    return *count != before;
}

static bool wait_event(evtchn_port_t port, uint32_t before)
{
    return port < NR_PORTS && wait_count(&counts[port], before);
}

static void self_ipi(unsigned int vector)
{
    (void)vector;
    nr_self_ipis++;
    apic_eoi();
}

static bool port_bit(volatile xen_ulong_t *words, evtchn_port_t port)
{
    return (words[port / BITS_PER_WORD] >> (port % BITS_PER_WORD)) & 1;
}

static void set_mask(evtchn_port_t port, bool on)
{
    xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS_PER_WORD);

    if (on)
        __atomic_fetch_or(&shinfo->evtchn_mask[port / BITS_PER_WORD], bit, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&shinfo->evtchn_mask[port / BITS_PER_WORD], ~bit, __ATOMIC_SEQ_CST);
}

static long send(evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};

    return evtchn_op(EVTCHNOP_send, &s);
}

static long close_port(evtchn_port_t port)
{
    struct evtchn_close c = {.port = port};

    return evtchn_op(EVTCHNOP_close, &c);
}

static long unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = {.port = port};

    return evtchn_op(EVTCHNOP_unmask, &u);
}

static long bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = {.vcpu = vcpu, .port = 0};
    long rc = evtchn_op(EVTCHNOP_bind_ipi, &b);

    *port = b.port;
    return rc;
}

static long bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = vcpu, .port = 0};
    long rc = evtchn_op(EVTCHNOP_bind_virq, &b);

    *port = b.port;
    return rc;
}

static long alloc_unbound(domid_t dom, domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = {.dom = dom, .remote_dom = remote, .port = 0};
    long rc = evtchn_op(EVTCHNOP_alloc_unbound, &a);

    *port = a.port;
    return rc;
}

static long bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = {.remote_dom = remote, .remote_port = rport};
    long rc = evtchn_op(EVTCHNOP_bind_interdomain, &b);

    *port = b.local_port;
    return rc;
}

static long status(domid_t dom, evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0xaa, sizeof(*st));
    st->dom = dom;
    st->port = port;
    return evtchn_op(EVTCHNOP_status, st);
}

/* "status of <port>: <status>, vcpu <vcpu>" as one check; returns the status struct. */
static void expect_status(const char *what, evtchn_port_t port, uint32_t want, uint32_t vcpu,
                          struct evtchn_status *st)
{
    long rc = status(DOMID_SELF, port, st);

    test_ok(rc == 0 && st->status == want && st->vcpu == vcpu,
            "status of %s port %u: rc %ld, status %u (want %u), vcpu %u (want %u)", what, port, rc,
            st->status, want, st->vcpu, vcpu);
}

static bool setup(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = SHINFO_GFN};
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 0, .vector = UPCALL_VECTOR};
    long rc;

    rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    EXPECT("map shared_info", rc, 0);
    if (rc)
        return false;
    irq_disable(); /* interrupts are taken only inside wait_event() */
    apic_enable();
    irq_set_handler(UPCALL_VECTOR, upcall);
    irq_set_handler(SELF_IPI_VECTOR, self_ipi);
    apic_self_ipi(SELF_IPI_VECTOR);
    test_ok(wait_count(&nr_self_ipis, 0), "LAPIC self-IPI reaches its handler (kit check)");
    apic_self_ipi(SELF_IPI_VECTOR);
    test_ok(wait_count(&nr_self_ipis, 1), "a second self-IPI arrives too (EOI works)");
    EXPECT("HVMOP_set_evtchn_upcall_vector 0xf3",
           HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), 0);
    /* Xen raises the vector once when set if events are pending: take any such upcall */
    wait_event(0, 0);
    printf("# %u upcall(s) after setting the vector\n", nr_upcalls);
    return true;
}

static void test_ipi(void)
{
    struct evtchn_status st;
    evtchn_port_t p;
    uint32_t before;
    long rc = bind_ipi(0, &p);

    test_ok(rc == 0 && p > 0 && p < NR_PORTS, "bind_ipi vcpu 0: rc %ld, port %u", rc, p);
    if (rc || p >= NR_PORTS)
        return;
    before = counts[p];
    EXPECT("send on the IPI port", send(p), 0);
    test_ok(wait_event(p, before), "IPI event delivered by the upcall");
    test_ok(!port_bit(shinfo->evtchn_pending, p), "handler cleared the IPI's pending bit");
    expect_status("IPI", p, EVTCHNSTAT_ipi, 0, &st);
    EXPECT("bind_ipi vcpu 1 (1 vCPU) -> -ENOENT", bind_ipi(1, &p), -XEN_ENOENT);
}

static void test_interdomain_loop(evtchn_port_t *pa, evtchn_port_t *pb)
{
    struct evtchn_status st;
    evtchn_port_t a = 0, b = 0;
    uint32_t ca, cb;
    long rc = alloc_unbound(DOMID_SELF, DOMID_SELF, &a);

    test_ok(rc == 0 && a > 0, "alloc_unbound(self, self): rc %ld, port A %u", rc, a);
    expect_status("A (unbound)", a, EVTCHNSTAT_unbound, 0, &st);
    self_id = st.u.unbound.dom;
    printf("# own domid %u (status u.unbound.dom)\n", self_id);
    rc = bind_interdomain(DOMID_SELF, a, &b);
    test_ok(rc == 0 && b > 0 && b != a, "bind_interdomain(self, A): rc %ld, port B %u", rc, b);
    *pa = a, *pb = b;
    if (rc || b >= NR_PORTS)
        return;
    cb = counts[b]; /* interrupts are off outside wait_event(): nothing handled yet */
    test_ok(wait_event(b, cb), "B is pending at once after bind_interdomain (Xen's fixup)");
    expect_status("A (interdomain)", a, EVTCHNSTAT_interdomain, 0, &st);
    test_ok(st.u.interdomain.dom == self_id && st.u.interdomain.port == b,
            "A's peer is (dom %u, port %u)", st.u.interdomain.dom, st.u.interdomain.port);
    expect_status("B (interdomain)", b, EVTCHNSTAT_interdomain, 0, &st);
    test_ok(st.u.interdomain.dom == self_id && st.u.interdomain.port == a,
            "B's peer is (dom %u, port %u)", st.u.interdomain.dom, st.u.interdomain.port);
    ca = counts[a], cb = counts[b];
    EXPECT("send(B)", send(b), 0);
    test_ok(wait_event(a, ca) && counts[b] == cb, "send(B) raises A only");
    ca = counts[a];
    EXPECT("send(A)", send(a), 0);
    test_ok(wait_event(b, cb) && counts[a] == ca, "send(A) raises B only");
    EXPECT("bind_interdomain on a non-unbound port -> -EINVAL", bind_interdomain(DOMID_SELF, a, &b),
           -XEN_EINVAL);
    b = *pb;
}

static void test_mask(evtchn_port_t a, evtchn_port_t b)
{
    uint32_t ca = counts[a], ups;

    set_mask(a, true);
    ups = nr_upcalls;
    EXPECT("send(B) with A masked", send(b), 0);
    test_ok(!wait_event(a, ca) && nr_upcalls == ups, "masked A: no upcall");
    test_ok(port_bit(shinfo->evtchn_pending, a), "masked A is pending");
    EXPECT("EVTCHNOP_unmask(A)", unmask(a), 0);
    test_ok(!port_bit(shinfo->evtchn_mask, a), "unmask cleared A's mask bit");
    test_ok(wait_event(a, ca), "unmask delivers A's pending event");
    EXPECT("unmask port 4096 -> -EINVAL", unmask(NR_PORTS), -XEN_EINVAL);
}

static void test_close_peer(evtchn_port_t a, evtchn_port_t b)
{
    struct evtchn_status st;
    uint32_t ca = counts[a];

    EXPECT("close(A)", close_port(a), 0);
    expect_status("A (closed)", a, EVTCHNSTAT_closed, 0, &st);
    expect_status("B (unbound after A closed)", b, EVTCHNSTAT_unbound, 0, &st);
    EXPECT("B's u.unbound.dom is us", st.u.unbound.dom, self_id);
    EXPECT("send(B) unbound -> 0 (dropped)", send(b), 0);
    test_ok(!wait_event(a, ca) && !port_bit(shinfo->evtchn_pending, a), "nothing on A");
    EXPECT("close(A) again -> -EINVAL", close_port(a), -XEN_EINVAL);
    EXPECT("close(B)", close_port(b), 0);
}

static void test_virq(void)
{
    struct evtchn_status st;
    evtchn_port_t p = 0, q = 0;
    long rc = bind_virq(VIRQ_DEBUG, 0, &p);

    test_ok(rc == 0 && p > 0, "bind_virq(VIRQ_DEBUG, vcpu 0): rc %ld, port %u", rc, p);
    expect_status("VIRQ_DEBUG", p, EVTCHNSTAT_virq, 0, &st);
    EXPECT("status u.virq", st.u.virq, VIRQ_DEBUG);
    EXPECT("bind_virq(VIRQ_DEBUG) twice -> -EEXIST", bind_virq(VIRQ_DEBUG, 0, &q), -XEN_EEXIST);
    EXPECT("send on a VIRQ port -> -EINVAL", send(p), -XEN_EINVAL);
    EXPECT("bind_virq(NR_VIRQS) -> -EINVAL", bind_virq(NR_VIRQS, 0, &q), -XEN_EINVAL);
    EXPECT("bind_virq(0xffffffff) -> -EINVAL", bind_virq(0xffffffffU, 0, &q), -XEN_EINVAL);
    /* evtchn_bind_virq(): the global-virq check comes before the vcpu lookup */
    EXPECT("bind_virq(VIRQ_DOM_EXC, vcpu 1) -> -EINVAL (global)", bind_virq(VIRQ_DOM_EXC, 1, &q),
           -XEN_EINVAL);
    EXPECT("bind_virq(VIRQ_TIMER, vcpu 1, 1 vCPU) -> -ENOENT", bind_virq(VIRQ_TIMER, 1, &q),
           -XEN_ENOENT);
    rc = bind_virq(VIRQ_DOM_EXC, 0, &q);
    test_ok(rc == 0 && q > 0, "bind_virq(VIRQ_DOM_EXC, vcpu 0): rc %ld, port %u", rc, q);
    EXPECT("close the VIRQ_DEBUG port", close_port(p), 0);
    rc = bind_virq(VIRQ_DEBUG, 0, &p);
    test_ok(rc == 0 && p > 0, "bind_virq(VIRQ_DEBUG) again after close: rc %ld", rc);
}

static void test_bad_ports(void)
{
    struct evtchn_status st;
    evtchn_port_t p;

    EXPECT("send(0) -> -EINVAL", send(0), -XEN_EINVAL);
    EXPECT("send(4095) -> -EINVAL", send(NR_PORTS - 1), -XEN_EINVAL);
    EXPECT("send(4096) -> -EINVAL", send(NR_PORTS), -XEN_EINVAL);
    EXPECT("close(0) (reserved) -> -EINVAL", close_port(0), -XEN_EINVAL);
    EXPECT("close(4096) -> -EINVAL", close_port(NR_PORTS), -XEN_EINVAL);
    expect_status("0 (reserved)", 0, EVTCHNSTAT_closed, 0, &st);
    EXPECT("status port 4096 -> -EINVAL", status(DOMID_SELF, NR_PORTS, &st), -XEN_EINVAL);
    EXPECT("status port 0xffffffff -> -EINVAL", status(DOMID_SELF, 0xffffffffU, &st), -XEN_EINVAL);
    EXPECT("status of a missing domain -> -ESRCH", status(DOMID_BAD, 1, &st), -XEN_ESRCH);
    /* evtchn_alloc_unbound(): rcu_lock_domain_by_any_id() before the XSM check */
    EXPECT("alloc_unbound for a missing domain -> -ESRCH", alloc_unbound(DOMID_BAD, 0, &p),
           -XEN_ESRCH);
    EXPECT("bind_interdomain to a missing domain -> -ESRCH", bind_interdomain(DOMID_BAD, 1, &p),
           -XEN_ESRCH);
    EXPECT("bind_interdomain to free port 4095 -> -EINVAL",
           bind_interdomain(DOMID_SELF, NR_PORTS - 1, &p), -XEN_EINVAL);
    EXPECT("event_channel_op unknown cmd -> -ENOSYS", evtchn_op(99, &st), -XEN_ENOSYS);
    EXPECT("EVTCHNOP_send bad arg -> -EFAULT", evtchn_op(EVTCHNOP_send, NULL), -XEN_EFAULT);
    EXPECT("EVTCHNOP_status bad arg -> -EFAULT", evtchn_op(EVTCHNOP_status, NULL), -XEN_EFAULT);
}

/* Another existing domain: only if dom 0 exists does Xen reach XSM_TARGET (-EPERM). */
static void test_other_domain(void)
{
    struct evtchn_status st;
    evtchn_port_t p;
    long rc = status(0, 1, &st);

    if (self_id == 0 || rc == -XEN_ESRCH) {
        test_skip("no other domain 0 to test alloc_unbound -EPERM against (status rc %ld)", rc);
        return;
    }
    EXPECT("status of dom0's port from a domU -> -EPERM", rc, -XEN_EPERM);
    EXPECT("alloc_unbound in dom0 from a domU -> -EPERM", alloc_unbound(0, DOMID_SELF, &p),
           -XEN_EPERM);
}

static void test_fifo_and_bind_vcpu(void)
{
    struct evtchn_init_control ic = {.control_gfn = SHINFO_GFN, .offset = 0, .vcpu = 0};
    struct evtchn_bind_vcpu bv = {.port = 0, .vcpu = 0};
    struct evtchn_reset r = {.dom = DOMID_SELF};
    long rc = evtchn_op(EVTCHNOP_init_control, &ic);

    /* 4.17 always has FIFO (CONFIG_EVTCHN_FIFO, -EOPNOTSUPP when off, came later); Linux
     * falls back to 2-level on any error (xen_init_IRQ) */
    test_ok(rc == -XEN_EOPNOTSUPP || rc == -XEN_ENOSYS,
            "init_control fails without FIFO (rc %ld: -EOPNOTSUPP or -ENOSYS)", rc);
    EXPECT("EVTCHNOP_expand_array -> -EOPNOTSUPP (2-level)", evtchn_op(EVTCHNOP_expand_array, &ic),
           -XEN_EOPNOTSUPP);
    EXPECT("bind_vcpu on reserved port 0 -> -EINVAL", evtchn_op(EVTCHNOP_bind_vcpu, &bv),
           -XEN_EINVAL);
    bv.vcpu = 1;
    EXPECT("bind_vcpu vcpu 1 (1 vCPU) -> -ENOENT", evtchn_op(EVTCHNOP_bind_vcpu, &bv), -XEN_ENOENT);
    EXPECT("EVTCHNOP_reset_cont with no reset running -> -EBUSY",
           evtchn_op(EVTCHNOP_RESET_CONT, &r), -XEN_EBUSY);
    r.dom = DOMID_BAD;
    EXPECT("EVTCHNOP_reset missing domain -> -ESRCH", evtchn_op(EVTCHNOP_reset, &r), -XEN_ESRCH);
}

static void test_set_priority(void)
{
    struct evtchn_set_priority sp = {.port = 0, .priority = 7};

    /* 2-level ops have no set_priority: evtchn_port_set_priority() -> -ENOSYS */
    EXPECT("set_priority (2-level) -> -ENOSYS", evtchn_op(EVTCHNOP_set_priority, &sp), -XEN_ENOSYS);
    sp.port = NR_PORTS;
    EXPECT("set_priority port 4096 -> -EINVAL", evtchn_op(EVTCHNOP_set_priority, &sp), -XEN_EINVAL);
}

static void test_reset(void)
{
    struct evtchn_reset r = {.dom = DOMID_SELF};
    struct evtchn_status st;
    evtchn_port_t p, q;
    bool all_closed = true;
    long rc;

    bind_ipi(0, &p);
    alloc_unbound(DOMID_SELF, DOMID_SELF, &q);
    EXPECT("EVTCHNOP_reset(DOMID_SELF)", evtchn_op(EVTCHNOP_reset, &r), 0);
    for (evtchn_port_t i = 1; i < 16; i++)
        all_closed &= status(DOMID_SELF, i, &st) == 0 && st.status == EVTCHNSTAT_closed;
    test_ok(all_closed, "after reset ports 1-15 are closed (ports %u, %u were bound)", p, q);
    rc = bind_ipi(0, &p);
    test_ok(rc == 0 && p == 1, "after reset bind_ipi gets port 1: rc %ld, port %u", rc, p);
    rc = bind_virq(VIRQ_DEBUG, 0, &q);
    test_ok(rc == 0 && q == 2, "after reset VIRQ_DEBUG binds again: rc %ld, port %u", rc, q);
    EXPECT("send on the new IPI port", send(p), 0);
    test_ok(wait_event(p, counts[p]), "the new IPI port delivers");
}

/* Bind IPIs until the domain's ports run out (max_evtchn_port: xl's default is 1023). */
static void test_exhaustion(void)
{
    struct evtchn_reset r = {.dom = DOMID_SELF};
    evtchn_port_t p = 0, last = 0, q;
    unsigned int n = 0;
    bool consecutive = true;
    long rc;

    EXPECT("reset before exhaustion", evtchn_op(EVTCHNOP_reset, &r), 0);
    while (n < NR_PORTS && (rc = bind_ipi(0, &p)) == 0) {
        consecutive &= p == last + 1;
        last = p;
        n++;
    }
    printf("# %u ports bound, highest %u\n", n, last);
    EXPECT("bind_ipi past the last port -> -ENOSPC", rc, -XEN_ENOSPC);
    test_ok(consecutive && n > 0, "ports handed out lowest first, 1..%u", last);
    EXPECT("alloc_unbound when full -> -ENOSPC", alloc_unbound(DOMID_SELF, DOMID_SELF, &q),
           -XEN_ENOSPC);
    EXPECT("bind_virq when full -> -ENOSPC", bind_virq(VIRQ_DEBUG, 0, &q), -XEN_ENOSPC);
    EXPECT("close a middle port", close_port(last / 2), 0);
    rc = bind_ipi(0, &p);
    test_ok(rc == 0 && p == last / 2, "the freed port %u is reused: rc %ld, port %u", last / 2, rc,
            p);
    EXPECT("send on the highest port", send(last), 0);
    test_ok(wait_event(last, counts[last]), "highest port %u delivers", last);
    EXPECT("reset after exhaustion", evtchn_op(EVTCHNOP_reset, &r), 0);
}

int main(void)
{
    evtchn_port_t a = 0, b = 0;

    printf("evtchn (%s): event channels, 2-level ABI, upcall vector 0x%x\n", KIT_ARCH,
           UPCALL_VECTOR);
    if (!setup())
        return 0;
    test_ipi();
    test_bad_ports();
    test_interdomain_loop(&a, &b);
    if (a && b && a < NR_PORTS && b < NR_PORTS) {
        test_mask(a, b);
        test_close_peer(a, b);
    }
    test_virq();
    test_other_domain();
    test_fifo_and_bind_vcpu();
    test_set_priority();
    test_reset();
    test_exhaustion();
    printf("# %u upcalls in all\n", nr_upcalls);
    return 0;
}
