/*
 * fuzz_hypercall.c: libFuzzer target for the hypercall surface. Each input is a little program
 * run against two fresh domains on the unit tests' fake backend (no KVM): write bytes into
 * guest memory, or issue a hypercall (any number, 5 arguments, 64- or 32-bit ABI, from either
 * vCPU of domain A, which is privileged or not, or from domain B), all through
 * vcpu_handle_exit(). ASan/UBSan catch memory and UB bugs; the target only checks that xhv
 * survives and that every call returns. Calls that block by design (SCHEDOP_block, and
 * SCHEDOP_poll, whose timeout the input controls) are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "core/domctl.h"
#include "tests/unit/fake_accel.h"

#define MEM_MB 4
#define ARENA 0x1000ull /* guest memory the input writes and arguments point into */
#define ARENA_SIZE 0x10000ull

#ifndef FUZZ_SEED_MAIN
struct input {
    const uint8_t *p;
    size_t n;
};

static bool take(struct input *in, void *out, size_t len)
{
    if (in->n < len)
        return false;
    memcpy(out, in->p, len);
    in->p += len, in->n -= len;
    return true;
}

/* An argument: small values, arena addresses, or raw bits (NULL, unmapped, wrapping...). */
static uint64_t argument(struct input *in)
{
    uint8_t kind = 0;
    uint64_t raw = 0;
    take(in, &kind, 1);
    take(in, &raw, sizeof(raw));
    switch (kind % 4) {
    case 0:
        return raw & 0xff;
    case 1:
        return ARENA + raw % ARENA_SIZE;
    case 2:
        return (uint64_t)(int64_t)(int16_t)raw; /* small signed: domids, DOMID_SELF... */
    default:
        return raw;
    }
}

static bool blocks(uint64_t nr, uint64_t cmd)
{
    return nr == __HYPERVISOR_sched_op && ((int)cmd == SCHEDOP_block || (int)cmd == SCHEDOP_poll);
}

static void step(struct input *in, struct domain *a, struct domain *b)
{
    uint8_t op = 0;
    take(in, &op, 1);
    if (op % 4 == 0) { /* write guest memory */
        uint16_t off = 0;
        uint8_t len = 0, buf[255];
        take(in, &off, 2);
        take(in, &len, 1);
        len = (uint8_t)(len < in->n ? len : in->n);
        take(in, buf, len);
        copy_to_gpa(op & 0x10 ? b : a, ARENA + off % (ARENA_SIZE - 256), buf, len);
        return;
    }
    struct domain *d = op & 0x10 ? b : a;
    struct vcpu *v = d->vcpu[(op >> 5) & 1 ? d->max_vcpus - 1 : 0];
    uint8_t nr = 0;
    uint64_t args[5];
    take(in, &nr, 1);
    for (int i = 0; i < 5; i++)
        args[i] = argument(in);
    if (blocks(nr % 64, args[0]))
        return;
    fake_hypercall(v, (op >> 6) & 1 ? 3 : 0, !((op >> 7) & 1), nr % 64, args[0], args[1], args[2],
                   args[3], args[4]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    struct input in = {data, size};
    if (!init) {
        xhv_log_level = -1;
        physmap_reserve_bytes = 64ull << 20;
        xhv_accel = &fake_accel_ops; /* createdomain from a privileged A */
        init = true;
    }
    struct domain *a = fake_domain(MEM_MB, 2, size && (data[0] & 1));
    struct domain *b = fake_domain(MEM_MB, 1, false);
    for (int i = 0; a && b && in.n && i < 64; i++)
        step(&in, a, b);
    domain_destroy_all(); /* a, b and whatever A created */
    return 0;
}
#endif

#ifdef FUZZ_SEED_MAIN
/* Seed programs in the input format above: sensible call sequences the fuzzer then mutates. */
#include <stdio.h>

struct prog {
    uint8_t buf[4096];
    size_t n;
};

static void put(struct prog *p, const void *d, size_t n)
{
    if (p->n + n <= sizeof(p->buf))
        memcpy(p->buf + p->n, d, n), p->n += n;
}

/* Write len bytes at arena offset off of A (or B). */
static void mem(struct prog *p, bool b, uint16_t off, const void *d, uint8_t len)
{
    uint8_t op = b ? 0x10 : 0;
    put(p, &op, 1), put(p, &off, 2), put(p, &len, 1), put(p, d, len);
}

/* A hypercall; args < ARENA_SIZE with arena set are arena offsets, else raw. */
static void call(struct prog *p, uint8_t who, uint8_t nr, const uint64_t a[5], uint8_t arena)
{
    uint8_t op = (uint8_t)(1 | who);
    put(p, &op, 1), put(p, &nr, 1);
    for (int i = 0; i < 5; i++) {
        uint8_t kind = (arena >> i) & 1 ? 1 : 3;
        put(p, &kind, 1), put(p, &a[i], 8);
    }
}

static void save(const char *dir, const char *name, const struct prog *p)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p->buf, 1, p->n, f);
        fclose(f);
    }
}

static void seed_events(const char *dir)
{
    struct prog p = {.n = 0};
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = 0x800};
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = 2};
    struct evtchn_bind_interdomain bi = {.remote_dom = 1, .remote_port = 1};
    struct evtchn_bind_ipi ipi = {.vcpu = 1};
    struct evtchn_send s = {.port = 1};
    mem(&p, false, 0, &x, sizeof(x));
    call(&p, 0, __HYPERVISOR_memory_op, (uint64_t[5]){XENMEM_add_to_physmap, 0}, 2);
    mem(&p, false, 0x100, &au, sizeof(au));
    call(&p, 0, __HYPERVISOR_event_channel_op, (uint64_t[5]){EVTCHNOP_alloc_unbound, 0x100}, 2);
    mem(&p, true, 0x100, &bi, sizeof(bi));
    call(&p, 0x10, __HYPERVISOR_event_channel_op, (uint64_t[5]){EVTCHNOP_bind_interdomain, 0x100},
         2);
    mem(&p, false, 0x200, &s, sizeof(s));
    call(&p, 0, __HYPERVISOR_event_channel_op, (uint64_t[5]){EVTCHNOP_send, 0x200}, 2);
    mem(&p, false, 0x300, &ipi, sizeof(ipi));
    call(&p, 0x20, __HYPERVISOR_event_channel_op, (uint64_t[5]){EVTCHNOP_bind_ipi, 0x300}, 2);
    call(&p, 0, __HYPERVISOR_event_channel_op, (uint64_t[5]){EVTCHNOP_close, 0x200}, 2);
    save(dir, "events", &p);
}

static void seed_vcpus(const char *dir)
{
    struct prog p = {.n = 0};
    struct vcpu_hvm_context c = {.mode = VCPU_HVM_MODE_64B};
    struct xen_hvm_evtchn_upcall_vector uv = {.vcpu = 1, .vector = 0xf3};
    struct vcpu_register_vcpu_info vi = {.mfn = 0x3, .offset = 64};
    struct vcpu_set_singleshot_timer t = {.timeout_abs_ns = 1};
    uint64_t area = ARENA + 0x800;
    c.cpu_regs.x86_64.rip = 0x1000, c.cpu_regs.x86_64.cr0 = 0x80000011;
    c.cpu_regs.x86_64.cr4 = 0x20, c.cpu_regs.x86_64.efer = 0x100;
    mem(&p, false, 0, &c, sizeof(c));
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_initialise, 1, 0}, 4);
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_up, 1, 0}, 0);
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_down, 1, 0}, 0);
    mem(&p, false, 0x100, &uv, sizeof(uv));
    call(&p, 0, __HYPERVISOR_hvm_op, (uint64_t[5]){HVMOP_set_evtchn_upcall_vector, 0x100}, 2);
    mem(&p, false, 0x180, &vi, sizeof(vi));
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_register_vcpu_info, 1, 0x180}, 4);
    mem(&p, false, 0x200, &area, sizeof(area));
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_register_runstate_memory_area, 0, 0x200},
         4);
    mem(&p, false, 0x280, &t, sizeof(t));
    call(&p, 0, __HYPERVISOR_vcpu_op, (uint64_t[5]){VCPUOP_set_singleshot_timer, 0, 0x280}, 4);
    call(&p, 0, __HYPERVISOR_set_timer_op, (uint64_t[5]){1, 0}, 0);
    save(dir, "vcpus", &p);
}

static void seed_domctl(const char *dir)
{
    struct prog p = {.n = 0};
    struct xen_domctl d;
    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_createdomain, d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.u.createdomain.max_vcpus = 1, d.u.createdomain.flags = XEN_DOMCTL_CDF_hvm;
    d.u.createdomain.max_evtchn_port = 1023, d.u.createdomain.max_grant_frames = 1;
    d.u.createdomain.max_maptrack_frames = 1;
    /* the first byte is odd (a hypercall): A is privileged */
    call(&p, 0, __HYPERVISOR_xen_version, (uint64_t[5]){XENVER_version, 0}, 0);
    mem(&p, false, 0, &d, 200);
    call(&p, 0, __HYPERVISOR_domctl, (uint64_t[5]){0}, 1);
    d.cmd = XEN_DOMCTL_set_virq_handler, d.domain = 1, d.u.set_virq_handler.virq = VIRQ_DOM_EXC;
    mem(&p, false, 0x400, &d, 200);
    call(&p, 0, __HYPERVISOR_domctl, (uint64_t[5]){0x400}, 1);
    d.cmd = XEN_DOMCTL_destroydomain, d.domain = 3;
    mem(&p, false, 0x800, &d, 200);
    call(&p, 0, __HYPERVISOR_domctl, (uint64_t[5]){0x800}, 1);
    save(dir, "domctl", &p);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    seed_events(dir);
    seed_vcpus(dir);
    seed_domctl(dir);
    return 0;
}
#endif
