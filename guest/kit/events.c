/* events.c: the guest side of 2-level event channels for kit tests: shared_info, per-vCPU
 * upcall vectors, per-port handlers bound to a vCPU, and the EVTCHNOP wrappers. */
#include "kit.h"

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

volatile struct shared_info *const kit_shinfo = (void *)(KIT_SHINFO_GFN << 12);
static uint8_t upcall_vector;
static struct {
    kit_port_fn_t fn;
    unsigned int cpu;
} ports[KIT_MAX_PORTS];
static kit_port_fn_t default_fn; /* ports with no handler of their own */

static unsigned int first_bit(xen_ulong_t w)
{
    xen_ulong_t r;

    asm("bsf %1, %0" : "=r"(r) : "rm"(w));
    return (unsigned int)r;
}

/* The handler of port on vCPU cpu: its own (if bound to cpu), else the default, or NULL. */
static kit_port_fn_t handler_of(unsigned int port, unsigned int cpu)
{
    if (port < KIT_MAX_PORTS && ports[port].fn)
        return ports[port].cpu == cpu ? ports[port].fn : NULL;
    return default_fn;
}

/* The upcall on this vCPU: the 2-level scan (ABI.md 8.2), taking only ports bound here. */
static void upcall(unsigned int vector)
{
    unsigned int cpu = apic_id() / 2;
    volatile struct vcpu_info *vi = &kit_shinfo->vcpu_info[cpu];
    xen_ulong_t sel;

    (void)vector;
    vi->evtchn_upcall_pending = 0;
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = first_bit(sel);
        xen_ulong_t bits = kit_shinfo->evtchn_pending[w] & ~kit_shinfo->evtchn_mask[w];

        sel &= sel - 1;
        while (bits) {
            unsigned int port = w * BITS_PER_WORD + first_bit(bits);
            kit_port_fn_t fn = handler_of(port, cpu);

            bits &= bits - 1;
            if (fn && kit_port_clear(port))
                fn(port);
        }
    }
    apic_eoi();
}

long kit_events_init(uint8_t vector)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = KIT_SHINFO_GFN};
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);

    if (rc)
        return rc;
    upcall_vector = vector;
    irq_set_handler(vector, upcall);
    return kit_events_init_cpu(0);
}

long kit_events_init_cpu(unsigned int cpu)
{
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = cpu, .vector = upcall_vector};

    apic_enable();
    return HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
}

void kit_port_bind(evtchn_port_t port, unsigned int cpu, kit_port_fn_t fn)
{
    if (port < KIT_MAX_PORTS) {
        ports[port].cpu = cpu;
        __atomic_store_n(&ports[port].fn, fn, __ATOMIC_SEQ_CST);
    }
}

void kit_port_default(kit_port_fn_t fn)
{
    __atomic_store_n(&default_fn, fn, __ATOMIC_SEQ_CST);
}

bool kit_port_pending(evtchn_port_t port)
{
    return (kit_shinfo->evtchn_pending[port / BITS_PER_WORD] >> (port % BITS_PER_WORD)) & 1;
}

bool kit_port_clear(evtchn_port_t port)
{
    volatile xen_ulong_t *word = &kit_shinfo->evtchn_pending[port / BITS_PER_WORD];
    xen_ulong_t bit = (xen_ulong_t)1 << (port % BITS_PER_WORD);

    return __atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST) & bit;
}

long kit_evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = {.port = port};

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

long kit_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi b = {.vcpu = vcpu, .port = 0};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);

    *port = b.port;
    return rc;
}

long kit_evtchn_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain b = {.remote_dom = remote, .remote_port = rport};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);

    *port = b.local_port;
    return rc;
}

long kit_evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

bool kit_wait(volatile uint32_t *count, uint32_t target, unsigned int max_ms)
{
    struct sched_poll poll = {.nr_ports = 0};

    set_xen_guest_handle(poll.ports, NULL);
    for (unsigned int i = 0; i < max_ms && *count < target; i++) {
        poll.timeout = xen_system_time() + 1000000;
        irq_enable();
        HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
        irq_disable();
    }
    return *count >= target;
}
