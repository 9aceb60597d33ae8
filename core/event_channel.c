/* event_channel.c: event channels (EVTCHNOP_*, 2-level ABI). Placeholder: being written. */
#include "core/hypercall.h"

int evtchn_domain_init(struct domain *d)
{
    (void)d;
    return 0;
}

void evtchn_domain_destroy(struct domain *d)
{
    (void)d;
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned virq)
{
    (void)v, (void)virq;
}

long do_event_channel_op(struct vcpu *v, const uint64_t args[5])
{
    return hypercall_unimplemented_subop(v, __HYPERVISOR_event_channel_op, (unsigned)args[0]);
}
