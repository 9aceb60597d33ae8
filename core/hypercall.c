/* hypercall.c: the hypercall table, dispatch (CPL, ABI, re-entry) and the hypercall page. */
#include <string.h>

#include "core/accel.h"
#include "core/hypercall.h"
#include "core/xhv_ports.h"

#define HC(nr, fn_, n) [nr] = {.name = &(#nr)[13], .fn = fn_, .nargs = n} /* drop __HYPERVISOR_ */

/* Numbers and argument counts from Xen's hypercall-defs.c (hvm64 column); fn NULL = -ENOSYS. */
const struct hypercall_entry hypercall_table[NR_HYPERCALLS] = {
    HC(__HYPERVISOR_set_trap_table, NULL, 1),
    HC(__HYPERVISOR_mmu_update, NULL, 4),
    HC(__HYPERVISOR_set_gdt, NULL, 2),
    HC(__HYPERVISOR_stack_switch, NULL, 2),
    HC(__HYPERVISOR_set_callbacks, NULL, 3),
    HC(__HYPERVISOR_fpu_taskswitch, NULL, 1),
    HC(__HYPERVISOR_sched_op_compat, NULL, 2),
    HC(__HYPERVISOR_platform_op, NULL, 1),
    HC(__HYPERVISOR_set_debugreg, NULL, 2),
    HC(__HYPERVISOR_get_debugreg, NULL, 1),
    HC(__HYPERVISOR_update_descriptor, NULL, 2),
    HC(__HYPERVISOR_memory_op, do_memory_op, 2),
    HC(__HYPERVISOR_multicall, NULL, 2),
    HC(__HYPERVISOR_update_va_mapping, NULL, 3),
    HC(__HYPERVISOR_set_timer_op, do_set_timer_op, 1),
    HC(__HYPERVISOR_event_channel_op_compat, NULL, 1),
    HC(__HYPERVISOR_xen_version, do_xen_version, 2),
    HC(__HYPERVISOR_console_io, do_console_io, 3),
    HC(__HYPERVISOR_physdev_op_compat, NULL, 1),
    HC(__HYPERVISOR_grant_table_op, NULL, 3),
    HC(__HYPERVISOR_vm_assist, do_vm_assist, 2),
    HC(__HYPERVISOR_update_va_mapping_otherdomain, NULL, 4),
    HC(__HYPERVISOR_iret, NULL, 0),
    HC(__HYPERVISOR_vcpu_op, do_vcpu_op, 3),
    HC(__HYPERVISOR_set_segment_base, NULL, 2),
    HC(__HYPERVISOR_mmuext_op, NULL, 4),
    HC(__HYPERVISOR_xsm_op, NULL, 1),
    HC(__HYPERVISOR_nmi_op, NULL, 2),
    HC(__HYPERVISOR_sched_op, do_sched_op, 2),
    HC(__HYPERVISOR_callback_op, NULL, 2),
    HC(__HYPERVISOR_xenoprof_op, NULL, 2),
    HC(__HYPERVISOR_event_channel_op, do_event_channel_op, 2),
    HC(__HYPERVISOR_physdev_op, NULL, 2),
    HC(__HYPERVISOR_hvm_op, do_hvm_op, 2),
    HC(__HYPERVISOR_sysctl, do_sysctl, 1),
    HC(__HYPERVISOR_domctl, do_domctl, 1),
    HC(__HYPERVISOR_kexec_op, NULL, 2),
    HC(__HYPERVISOR_tmem_op, NULL, 1),
    HC(__HYPERVISOR_argo_op, NULL, 5),
    HC(__HYPERVISOR_xenpmu_op, NULL, 2),
    HC(__HYPERVISOR_dm_op, NULL, 3),
    HC(__HYPERVISOR_hypfs_op, NULL, 5),
};

bool vcpu_is_64bit(const struct guest_cpu *cpu)
{
    return (cpu->efer & (1u << 10) /* EFER.LMA */) && cpu->cs_l;
}

/* Log once per (domain, number): numbers >= 127 share the last bit. */
static void log_unimplemented(struct vcpu *v, uint64_t nr)
{
    struct domain *d = v->domain;
    unsigned bit = nr < 127 ? (unsigned)nr : 127;
    uint64_t mask = 1ull << (bit % 64);
    if (__atomic_fetch_or(&d->unimpl_logged[bit / 64], mask, __ATOMIC_RELAXED) & mask)
        return;
    const char *name = nr < NR_HYPERCALLS ? hypercall_table[nr].name : NULL;
    gprintk(v, "unimplemented hypercall %llu (%s): -ENOSYS", (unsigned long long)nr,
            name ? name : "unknown");
}

/* True the first time (domain, key) is seen; the table is per domain and bounded. */
bool domain_log_once(struct domain *d, uint64_t key)
{
    bool fresh = true;
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < d->nr_logged_once && fresh; i++)
        if (d->logged_once[i] == key)
            fresh = false;
    if (fresh && d->nr_logged_once < XHV_LOG_ONCE_MAX)
        d->logged_once[d->nr_logged_once++] = key;
    pthread_mutex_unlock(&d->lock);
    return fresh;
}

long hypercall_unimplemented_subop(struct vcpu *v, unsigned nr, unsigned long subop)
{
    if (domain_log_once(v->domain, ((uint64_t)nr << 32) | (uint32_t)subop))
        gprintk(v, "unimplemented %s sub-op %lu: -ENOSYS",
                nr < NR_HYPERCALLS && hypercall_table[nr].name ? hypercall_table[nr].name : "?",
                subop);
    return -XEN_ENOSYS;
}

/* What a tool connection (a dom0 vCPU with no VM behind it) may call. */
static bool ctl_allowed(uint64_t nr)
{
    switch (nr) {
    case __HYPERVISOR_xen_version:
    case __HYPERVISOR_console_io:
    case __HYPERVISOR_memory_op: /* on other domains: DOMID_SELF finds none */
    case __HYPERVISOR_hvm_op:
    case __HYPERVISOR_sched_op: /* remote_shutdown and yield only (do_sched_op) */
    case __HYPERVISOR_domctl:
    case __HYPERVISOR_sysctl:
    case __HYPERVISOR_event_channel_op: /* alloc_unbound/status/reset on other domains */
        return true;
    default:
        return false;
    }
}

long hypercall_dispatch(struct vcpu *v, uint64_t nr, const uint64_t args[5])
{
    if (v->ctl_buf && !ctl_allowed(nr)) {
        log_unimplemented(v, nr);
        return -XEN_ENOSYS;
    }
    if (nr >= NR_HYPERCALLS || !hypercall_table[nr].fn) {
        log_unimplemented(v, nr);
        return -XEN_ENOSYS;
    }
    return hypercall_table[nr].fn(v, args);
}

static void decode_args(const struct guest_cpu *c, bool is64, uint64_t *nr, uint64_t a[5])
{
    if (is64) {
        *nr = c->gpr[R_AX];
        a[0] = c->gpr[R_DI], a[1] = c->gpr[R_SI], a[2] = c->gpr[R_DX];
        a[3] = c->gpr[R_R10], a[4] = c->gpr[R_R8];
    } else {
        *nr = (uint32_t)c->gpr[R_AX];
        a[0] = (uint32_t)c->gpr[R_BX], a[1] = (uint32_t)c->gpr[R_CX];
        a[2] = (uint32_t)c->gpr[R_DX], a[3] = (uint32_t)c->gpr[R_SI];
        a[4] = (uint32_t)c->gpr[R_DI];
    }
}

void hvm_hypercall(struct vcpu *v, struct vm_exit *ex)
{
    const struct guest_cpu *c = &ex->cpu;
    bool is64 = vcpu_is_64bit(c);
    uint64_t nr, args[5];
    long ret;

    if (c->cpl != 0 || (c->rflags & (1u << 17) /* VM86 */)) {
        gprintk(v, "hypercall from CPL %u refused", c->cpl);
        ret = -XEN_EPERM;
    } else if (v->in_hypercall) {
        gprintk(v, "hypercall re-entered");
        ret = -XEN_EBUSY;
    } else {
        decode_args(c, is64, &nr, args);
        v->hcall_compat = !is64;
        v->paging = (struct vcpu_paging){
            .cr0 = c->cr0,
            .cr3 = c->cr3,
            .cr4 = c->cr4,
            .efer = c->efer,
            .rflags = c->rflags,
        };
        v->paging_valid = true;
        v->in_hypercall = true;
        ret = hypercall_dispatch(v, nr, args);
        v->in_hypercall = false;
    }
    ex->ret = is64 ? (uint64_t)ret : (uint32_t)ret;
}

/* Xen's page with each stub's VMCALL replaced by `out %eax,$XHV_HCALL_PORT`. */
static void hypercall_page_fill(uint8_t *p)
{
    memset(p, 0xcc, PAGE_SIZE);
    for (unsigned i = 0; i < PAGE_SIZE / 32; i++) {
        uint8_t *s = p + i * 32;
        if (i == __HYPERVISOR_iret) {
            s[0] = 0x0f, s[1] = 0x0b; /* ud2: iret is PV-only */
            continue;
        }
        s[0] = 0xb8; /* mov $i,%eax */
        memcpy(s + 1, &i, 4);
        s[5] = 0xe7; /* out %eax,$imm8 */
        s[6] = XHV_HCALL_PORT;
        s[7] = 0xc3; /* ret */
    }
}

int hypercall_page_write(struct vcpu *v, uint64_t value)
{
    struct domain *d = v->domain;
    struct p2m_entry e;
    if (value & ~PAGE_MASK) {
        gprintk(v, "hypercall page MSR: page index %llu unsupported",
                (unsigned long long)(value & ~PAGE_MASK));
        return -XEN_EINVAL;
    }
    if (p2m_lookup(d, value >> PAGE_SHIFT, &e) != 0 || e.type != p2m_ram_rw) {
        gprintk(v, "hypercall page MSR: GFN 0x%llx is not RAM",
                (unsigned long long)(value >> PAGE_SHIFT));
        return -XEN_EINVAL;
    }
    hypercall_page_fill(e.hva);
    shared_info_latch_layout(d, v->hcall_compat); /* hvm_latch_shinfo_size() */
    if (d->hcall_page_writes++ == 0)              /* guests may rewrite it at will: log the first */
        xhv_log(LOG_INFO, "d%u: hypercall page at GFN 0x%llx", d->domain_id,
                (unsigned long long)(value >> PAGE_SHIFT));
    return 0;
}
