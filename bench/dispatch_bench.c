/*
 * dispatch_bench.c: xhv's host-side work per exit without KVM: a null hypercall
 * (XENVER_version) through vcpu_handle_exit() beside a raw port exit answered without dispatch.
 * Run natively for ns/exit, or under `valgrind --tool=callgrind` for exact instruction counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
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

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000000;
    const char *only = argc > 2 ? argv[2] : "";
    struct domain_config cfg = {.mem_bytes = 4 << 20, .max_vcpus = 1, .name = "bench"};
    int rc;
    xhv_log_level = -1;
    physmap_reserve_bytes = 64 << 20; /* valgrind cannot map 64 GiB of address space */
    struct domain *d = domain_create(0, &cfg, &null_ops, &rc);
    if (!d) {
        fprintf(stderr, "dispatch-bench: cannot create a domain (%d)\n", rc);
        return 1;
    }
    if (!strcmp(only, "hcall") || !*only)
        printf("dispatch-bench: null_hypercall %.1f ns/exit (host, no KVM)\n",
               run(d->vcpu[0], true, n));
    if (!strcmp(only, "raw") || !*only)
        printf("dispatch-bench: raw_exit       %.1f ns/exit (host, no KVM)\n",
               run(d->vcpu[0], false, n));
    domain_destroy(d);
    return 0;
}
