/* upcall.c: telling a vCPU that events are pending (vcpu_mark_events_pending) and how the
 * upcall reaches it: a per-vCPU LAPIC vector, or the domain's callback vector. */
#include <stddef.h>

#include "core/accel.h"
#include "core/core.h"

/*
 * hvm_assert_evtchn_irq(): HVMOP_set_evtchn_upcall_vector's per-vCPU vector first, else
 * HVM_PARAM_CALLBACK_IRQ of type vector. Both arrive here as a fixed LAPIC interrupt (the
 * in-kernel irqchip offers no path outside the LAPIC), so guests must EOI; GSI/INTx callback
 * types need a vIOAPIC, which PVH has not, and are ignored as on Xen. A blocked vCPU is woken
 * whatever the delivery.
 */
static void hvm_assert_evtchn_irq(struct vcpu *v)
{
    struct domain *d = v->domain;
    uint8_t vec = __atomic_load_n(&v->upcall_vector, __ATOMIC_RELAXED);
    uint64_t via = d->hvm_params[HVM_PARAM_CALLBACK_IRQ];

    if (!vec && (via >> 56) == HVM_PARAM_CALLBACK_TYPE_VECTOR)
        vec = (uint8_t)via;
    if (vec >= 0x10 && d->accel_ops->vcpu_inject_irq) /* also a vCPU not started yet (IRR) */
        d->accel_ops->vcpu_inject_irq(v, vec);
    vcpu_wake(v);
}

void vcpu_mark_events_pending(struct vcpu *v)
{
    vcpu_mark_events_pending_vi(v, vcpu_info_hva(v));
}

void vcpu_mark_events_pending_vi(struct vcpu *v, uint8_t *vi)
{
    /* evtchn_upcall_pending is byte 0 of vcpu_info in both layouts */
    if (!vi || __atomic_exchange_n(&vi[offsetof(struct vcpu_info, evtchn_upcall_pending)], 1,
                                   __ATOMIC_SEQ_CST))
        return;
    hvm_assert_evtchn_irq(v);
}
