/* hvm_op.c: hvm_op (34) as Xen 4.17's do_hvm_op() (HVM params, get_time...) and vm_assist. */
#include <cpuid.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "core/xsm.h"

#include <xen/trace.h>

/* Xen-internal bits of the VM86 TSS params (xen/arch/x86/include/asm/hvm/hvm.h). */
#define VM86_TSS_UPDATED (1ull << 63)
#define TSS32_SIZE 104 /* sizeof(struct tss32) */
#define VM86_TSS_MAX (TSS32_SIZE + 0x100 / 8 + 0x10000 / 8 + 1)

/* Deprecated params: -EINVAL for everyone, in both directions. */
static bool hvm_param_deprecated(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_PAE_ENABLED:
    case HVM_PARAM_DM_DOMAIN:
    case HVM_PARAM_MEMORY_EVENT_CR0:
    case HVM_PARAM_MEMORY_EVENT_CR3:
    case HVM_PARAM_MEMORY_EVENT_CR4:
    case HVM_PARAM_MEMORY_EVENT_INT3:
    case HVM_PARAM_NESTEDHVM:
    case HVM_PARAM_MEMORY_EVENT_SINGLE_STEP:
    case HVM_PARAM_BUFIOREQ_EVTCHN:
    case HVM_PARAM_MEMORY_EVENT_MSR:
        return true;
    default:
        return false;
    }
}

/*
 * hvm_allow_set_param(): a guest may set only the first group on itself; deprecated params
 * are -EINVAL for everyone; anything else on itself -EPERM. Some may only change once.
 */
static int hvm_allow_set_param(const struct vcpu *v, const struct domain *t, uint32_t index,
                               uint64_t value)
{
    if (xsm_hvm_param(v, t)) /* XSM_TARGET */
        return -XEN_EPERM;
    if (hvm_param_deprecated(index))
        return -XEN_EINVAL;
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_X87_FIP_WIDTH:
        break;
    default:
        if (t == v->domain)
            return -XEN_EPERM;
    }
    switch (index) {
    case HVM_PARAM_VIRIDIAN:
    case HVM_PARAM_IOREQ_PFN:
    case HVM_PARAM_BUFIOREQ_PFN:
    case HVM_PARAM_IOREQ_SERVER_PFN:
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_MCA_CAP:
        if (t->hvm_params[index] && value != t->hvm_params[index])
            return -XEN_EEXIST;
    }
    return 0;
}

/* VM86 TSS params (hvm_set_param()): a bad value from the domain itself crashes it. */
static int vm86_tss_check(struct vcpu *v, struct domain *t, uint32_t *index, uint64_t *value)
{
    bool bad =
        *index == HVM_PARAM_VM86_TSS ? *value != (uint32_t)*value : (*value >> 32) < TSS32_SIZE;

    if (bad && t == v->domain)
        domain_crash(t, v, "bad HVM param %u value %#llx", *index, (unsigned long long)*value);
    if (*index == HVM_PARAM_VM86_TSS) {
        if (*value) /* old hvmloaders hard-code 128 bytes */
            *value |= (128ull << 32) | VM86_TSS_UPDATED;
        *index = HVM_PARAM_VM86_TSS_SIZED;
    } else {
        if ((*value >> 32) > VM86_TSS_MAX)
            *value = (uint32_t)*value | ((uint64_t)VM86_TSS_MAX << 32);
        *value |= VM86_TSS_UPDATED;
    }
    return bad ? -XEN_EINVAL : 0;
}

/* The value checks and side effects of hvm_set_param(). */
static int hvm_set_param_check(struct vcpu *v, struct domain *t, uint32_t *index, uint64_t *value)
{
    switch (*index) {
    case HVM_PARAM_CALLBACK_IRQ: /* hvm_latch_shinfo_size(); the via is read by core/upcall.c */
        if (t == v->domain)
            shared_info_latch_layout(t, v->hcall_compat);
        return 0;
    case HVM_PARAM_TIMER_MODE:
        return *value > HVMPTM_one_missed_tick_pending ? -XEN_EINVAL : 0;
    case HVM_PARAM_VIRIDIAN:
        return (*value & ~HVMPV_feature_mask) || !(*value & HVMPV_base_freq) ? -XEN_EINVAL : 0;
    case HVM_PARAM_ACPI_S_STATE: /* no S3 for PVH */
        return *value == 0 ? 0 : *value == 3 ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
    case HVM_PARAM_ACPI_IOPORTS_LOCATION: /* pmtimer_change_ioport(): PVH has no vPM */
        return -XEN_ENODEV;
    case HVM_PARAM_ALTP2M:
        return *value > XEN_ALTP2M_limited ? -XEN_EINVAL : 0;
    case HVM_PARAM_TRIPLE_FAULT_REASON:
        return *value > SHUTDOWN_MAX ? -XEN_EINVAL : 0;
    case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
        return *value == 0 || *value > 64 ? -XEN_EINVAL : 0;
    case HVM_PARAM_X87_FIP_WIDTH:
        return *value != 0 && *value != 4 && *value != 8 ? -XEN_EINVAL : 0;
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
        return vm86_tss_check(v, t, index, value);
    case HVM_PARAM_MCA_CAP: /* vmce_enable_mca_cap(): unknown bits, or LMCE (no support) */
        return (*value & ~XEN_HVM_MCA_CAP_MASK) || (*value & XEN_HVM_MCA_CAP_LMCE) ? -XEN_EINVAL
                                                                                   : 0;
    default:
        return 0;
    }
}

static int hvm_set_param(struct vcpu *v, struct domain *t, uint32_t index, uint64_t value)
{
    int rc = hvm_allow_set_param(v, t, index, value);

    if (rc == 0)
        rc = hvm_set_param_check(v, t, &index, &value);
    if (rc == 0) {
        pthread_mutex_lock(&t->lock);
        t->hvm_params[index] = value;
        t->hvm_param_set[index] = true;
        pthread_mutex_unlock(&t->lock);
    }
    return rc;
}

/* hvm_allow_get_param(): the guest-readable set, deprecated -EINVAL, others on itself
 * -EPERM. */
static int hvm_allow_get_param(const struct vcpu *v, const struct domain *t, uint32_t index)
{
    if (xsm_hvm_param(v, t)) /* XSM_TARGET */
        return -XEN_EPERM;
    if (hvm_param_deprecated(index))
        return -XEN_EINVAL;
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_PFN:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_PFN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_X87_FIP_WIDTH:
        return 0;
    default:
        return t == v->domain ? -XEN_EPERM : 0;
    }
}

/* arch_domain_create(): x87_fip_width = cpu_has_fpu_sel ? 0 : 8 (CPUID.7.0:EBX[13] set
 * means the CPU no longer saves FPU CS/DS). */
static uint64_t default_x87_fip_width(void)
{
    unsigned a, b, c, d;

    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 13)))
        return 8;
    return 0;
}

static int hvm_get_param(const struct vcpu *v, struct domain *t, uint32_t index, uint64_t *value)
{
    int rc = hvm_allow_get_param(v, t, index);

    if (rc)
        return rc;
    pthread_mutex_lock(&t->lock);
    uint64_t tss = t->hvm_params[HVM_PARAM_VM86_TSS_SIZED];
    switch (index) {
    case HVM_PARAM_ACPI_S_STATE: /* is_s3_suspended ? 3 : 0 */
        *value = 0;
        break;
    case HVM_PARAM_VM86_TSS:
        *value = (uint32_t)tss;
        break;
    case HVM_PARAM_VM86_TSS_SIZED:
        *value = tss & ~VM86_TSS_UPDATED;
        break;
    case HVM_PARAM_X87_FIP_WIDTH:
        *value = t->hvm_param_set[index] ? t->hvm_params[index] : default_x87_fip_width();
        break;
    default: /* never set: 0 (e.g. no console ring) */
        *value = t->hvm_params[index];
    }
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* HVMOP_set_param / HVMOP_get_param: -EFAULT, index >= HVM_NR_PARAMS -EINVAL, -ESRCH. */
static long hvmop_param(struct vcpu *v, unsigned long op, uint64_t arg)
{
    struct xen_hvm_param a;
    struct domain *t;
    int rc;

    if (copy_from_guest(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.index >= HVM_NR_PARAMS)
        return -XEN_EINVAL;
    t = rcu_lock_domain_by_any_id(v, a.domid);
    if (!t)
        return -XEN_ESRCH;
    if (op == HVMOP_set_param) {
        rc = hvm_set_param(v, t, a.index, a.value);
    } else {
        rc = hvm_get_param(v, t, a.index, &a.value);
        if (rc == 0 && copy_to_guest(v, arg, &a, sizeof(a)))
            rc = -XEN_EFAULT;
    }
    rcu_unlock_domain(t);
    return rc;
}
_Static_assert(sizeof(struct xen_hvm_param) == 16, "same layout in both ABIs");

/* HVMOP_set_evtchn_upcall_vector: Xen's checks, then the per-vCPU vector (core/upcall.c). */
static long hvmop_set_evtchn_upcall_vector(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_evtchn_upcall_vector op;
    struct domain *d = v->domain;

    if (copy_from_guest(v, &op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.vector < 0x10)
        return -XEN_EINVAL;
    if (op.vcpu >= d->max_vcpus || !d->vcpu[op.vcpu])
        return -XEN_ENOENT;
    struct vcpu *t = d->vcpu[op.vcpu];
    __atomic_store_n(&t->upcall_vector, op.vector, __ATOMIC_RELAXED);
    /* hvm_set_evtchn_upcall_vector(): raise it once now if events are already pending */
    uint8_t *vi = vcpu_info_hva(t);
    if (vi &&
        __atomic_load_n(&vi[offsetof(struct vcpu_info, evtchn_upcall_pending)], __ATOMIC_SEQ_CST) &&
        t->thread_started && d->accel_ops->vcpu_inject_irq)
        d->accel_ops->vcpu_inject_irq(t, op.vector);
    return 0;
}
_Static_assert(sizeof(struct xen_hvm_evtchn_upcall_vector) == 8, "same layout in both ABIs");

/* HVMOP_get_mem_type: RAM-like pages are ram_rw, holes mmio_dm (hvmop_get_mem_type()). */
static long hvmop_get_mem_type(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_get_mem_type a;
    struct p2m_entry e;
    struct domain *t;

    if (copy_from_guest(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    t = rcu_lock_domain_by_any_id(v, a.domid);
    if (!t)
        return -XEN_ESRCH;
    bool ok = !xsm_hvm_param(v, t);
    if (ok)
        a.mem_type = p2m_lookup(t, a.pfn, &e) ? HVMMEM_mmio_dm : HVMMEM_ram_rw;
    rcu_unlock_domain(t);
    if (!ok)
        return -XEN_EPERM;
    return copy_to_guest(v, arg, &a, sizeof(a)) ? -XEN_EFAULT : 0;
}
_Static_assert(sizeof(struct xen_hvm_get_mem_type) == 16, "same layout in both ABIs");

/* HVMOP_pagetable_dying: shadow paging only; another domain -EOPNOTSUPP, HAP -EINVAL. */
static long hvmop_pagetable_dying(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_pagetable_dying a;
    struct domain *t;

    if (copy_from_guest(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    t = rcu_lock_domain_by_any_id(v, a.domid);
    if (!t)
        return -XEN_ESRCH;
    bool self = t == v->domain;
    rcu_unlock_domain(t);
    return self ? -XEN_EINVAL : -XEN_EOPNOTSUPP;
}
_Static_assert(sizeof(struct xen_hvm_pagetable_dying) == 16, "same layout in both ABIs");

/* HVMOP_xentrace: a guest trace record. TODO(trace): emit it; for now checked and dropped. */
static long hvmop_xentrace(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_xentrace tr;

    if (copy_from_guest(v, &tr, arg, sizeof(tr)))
        return -XEN_EFAULT;
    if (tr.extra_bytes > sizeof(tr.extra) || (tr.event & ~((1u << TRC_SUBCLS_SHIFT) - 1)))
        return -XEN_EINVAL;
    return 0;
}

static long hvmop_get_time(struct vcpu *v, uint64_t arg)
{
    struct xen_hvm_get_time t = {.now = xen_system_time()};

    return copy_to_guest(v, arg, &t, sizeof(t)) ? -XEN_EFAULT : 0;
}

long do_hvm_op(struct vcpu *v, const uint64_t args[5])
{
    unsigned long op = args[0]; /* Xen: unsigned long op, compared in full */
    uint64_t arg = args[1];

    switch (op) {
    case HVMOP_set_param:
    case HVMOP_get_param:
        return hvmop_param(v, op, arg);
    case HVMOP_set_evtchn_upcall_vector:
        return hvmop_set_evtchn_upcall_vector(v, arg);
    case HVMOP_flush_tlbs: /* TODO: no remote TLB flush on KVM yet (guests don't use it) */
        return arg ? -XEN_EINVAL : 0;
    case HVMOP_get_mem_type:
        return hvmop_get_mem_type(v, arg);
    case HVMOP_pagetable_dying:
        return hvmop_pagetable_dying(v, arg);
    case HVMOP_get_time:
        return hvmop_get_time(v, arg);
    case HVMOP_xentrace:
        return hvmop_xentrace(v, arg);
    case HVMOP_guest_request_vm_event: /* no monitor: nothing to tell */
        return arg ? -XEN_EINVAL : 0;
    case HVMOP_altp2m: /* hvm_altp2m_supported() is false */
        return -XEN_EOPNOTSUPP;
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_hvm_op, op);
    }
}

/* ---- vm_assist ---- */

/* HVM_VM_ASSIST_MASK: HVM guests may only use runstate_update_flag. */
#define HVM_VM_ASSIST_MASK (1ul << VMASST_TYPE_runstate_update_flag)

bool vm_assist_enabled(const struct domain *d, unsigned type)
{
    return type < 64 && (__atomic_load_n(&d->vm_assist, __ATOMIC_RELAXED) & (1ul << type));
}

/* vm_assist() (xen/common/domain.c): an invalid type -EINVAL before a bad cmd -ENOSYS. */
long do_vm_assist(struct vcpu *v, const uint64_t args[5])
{
    uint32_t cmd = (uint32_t)args[0], type = (uint32_t)args[1]; /* Xen: unsigned int */
    struct domain *d = v->domain;

    if (type >= 64 || !(HVM_VM_ASSIST_MASK & (1ul << type)))
        return -XEN_EINVAL;
    if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable)
        return -XEN_ENOSYS;
    if (cmd == VMASST_CMD_enable)
        __atomic_fetch_or(&d->vm_assist, 1ul << type, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&d->vm_assist, ~(1ul << type), __ATOMIC_RELAXED);
    return 0;
}
