/*
 * dispatch_bench.c: xhv's host-side work per exit without KVM: a null hypercall
 * (XENVER_version) through vcpu_handle_exit() beside a raw port exit answered without dispatch,
 * and an interdomain EVTCHNOP_send whose receiver has consumed the last event (the full path:
 * pending bit, selector, upcall, wake-up; the backend's interrupt injection is a no-op here).
 * Run natively for ns/exit, or under `valgrind --tool=callgrind` for exact instruction counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/hypercall.h"
#include "core/xhv_ports.h"

static const struct accel_ops null_ops = {.name = "null"};

static void make_exit(struct vm_exit *ex, bool hcall)
{
    static uint8_t iobuf[8];
    memset(ex, 0, sizeof(*ex));
    if (hcall) {
        ex->reason = VMEXIT_HCALL;
        ex->cpu.gpr[R_AX] = __HYPERVISOR_xen_version;
        ex->cpu.gpr[R_DI] = XENVER_version;
        ex->cpu.efer = 0x500; /* LME | LMA */
        ex->cpu.cs_l = true;
        ex->cpu.cr0 = 0x80000011;
    } else {
        ex->reason = VMEXIT_IO;
        ex->io.port = XHV_RAW_PORT, ex->io.size = 4, ex->io.out = true, ex->io.count = 1;
        ex->io.data = iobuf;
    }
    ex->cpu_valid = true;
}

static double run(struct vcpu *v, bool hcall, unsigned long n)
{
    struct vm_exit ex;
    uint64_t t0 = now_ns();
    for (unsigned long i = 0; i < n; i++) {
        make_exit(&ex, hcall);
        vcpu_handle_exit(v, &ex);
        if (hcall && ex.ret != ((XHV_VERSION_MAJOR << 16) | XHV_VERSION_MINOR))
            abort();
    }
    return (double)(now_ns() - t0) / (double)n;
}

#define ARG_GPA 0x1000 /* where the sender's evtchn structs live (paging off: GPA = linear) */

/* A 32-bit, paging-off caller: event_channel_op(cmd, ARG_GPA). */
static void make_evtchn_exit(struct vm_exit *ex, unsigned cmd)
{
    memset(ex, 0, sizeof(*ex));
    ex->reason = VMEXIT_HCALL;
    ex->cpu.gpr[R_AX] = __HYPERVISOR_event_channel_op;
    ex->cpu.gpr[R_BX] = cmd;
    ex->cpu.gpr[R_CX] = ARG_GPA;
    ex->cpu.cr0 = 0x11; /* PE ET */
    ex->cpu_valid = true;
}

static long evtchn_call(struct vcpu *v, unsigned cmd, void *arg, size_t len)
{
    struct vm_exit ex;
    copy_to_gpa(v->domain, ARG_GPA, arg, len);
    make_evtchn_exit(&ex, cmd);
    vcpu_handle_exit(v, &ex);
    copy_from_gpa(v->domain, arg, ARG_GPA, len);
    return (long)(int32_t)ex.ret;
}

/* Connect a -> b, then n sends from a; b "takes" each event (clears its bits) in between. */
static double run_send(struct domain *a, struct domain *b, unsigned long n)
{
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = a->domain_id};
    struct evtchn_bind_interdomain bi = {.remote_dom = b->domain_id};
    struct shared_info *si = (void *)physmap_owned_page(b, XHV_PG_SHARED_INFO);
    struct vm_exit ex;
    if (evtchn_call(b->vcpu[0], EVTCHNOP_alloc_unbound, &au, sizeof(au)) ||
        ((bi.remote_port = au.port),
         evtchn_call(a->vcpu[0], EVTCHNOP_bind_interdomain, &bi, sizeof(bi))))
        abort();
    struct evtchn_send send = {.port = bi.local_port};
    copy_to_gpa(a, ARG_GPA, &send, sizeof(send));
    uint64_t t0 = now_ns();
    for (unsigned long i = 0; i < n; i++) {
        si->evtchn_pending[0] = 0, si->vcpu_info[0].evtchn_pending_sel = 0;
        si->vcpu_info[0].evtchn_upcall_pending = 0;
        make_evtchn_exit(&ex, EVTCHNOP_send);
        vcpu_handle_exit(a->vcpu[0], &ex);
        if (ex.ret || !si->vcpu_info[0].evtchn_upcall_pending)
            abort();
    }
    return (double)(now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000000;
    const char *only = argc > 2 ? argv[2] : "";
    struct domain_config cfg = {.mem_bytes = 4 << 20, .max_vcpus = 1, .name = "bench"};
    int rc;
    xhv_log_level = -1;
    physmap_reserve_bytes = 64 << 20; /* valgrind cannot map 64 GiB of address space */
    struct domain *d = domain_create(1, &cfg, &null_ops, &rc);
    struct domain *peer = d ? domain_create(2, &cfg, &null_ops, &rc) : NULL;
    if (!d || !peer) {
        fprintf(stderr, "dispatch-bench: cannot create a domain (%d)\n", rc);
        return 1;
    }
    if (!strcmp(only, "hcall") || !*only)
        printf("dispatch-bench: null_hypercall %.1f ns/exit (host, no KVM)\n",
               run(d->vcpu[0], true, n));
    if (!strcmp(only, "raw") || !*only)
        printf("dispatch-bench: raw_exit       %.1f ns/exit (host, no KVM)\n",
               run(d->vcpu[0], false, n));
    if (!strcmp(only, "send") || !*only)
        printf("dispatch-bench: evtchn_send    %.1f ns/exit (host, no KVM; receiver notified)\n",
               run_send(d, peer, n));
    domain_destroy(peer);
    domain_destroy(d);
    return 0;
}
