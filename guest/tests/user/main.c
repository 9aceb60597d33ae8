/* user: a hypercall from ring 3 must not run: -EPERM from xhv, or #GP at the stub's out. */
#include "kit.h"

static volatile long user_rc = 1;
static uint8_t user_stack[4096] __aligned(16);

/* Runs at CPL 3. Were the call to run, the domain would crash (and the test fail). */
static __noreturn void user_entry(void)
{
    struct sched_shutdown s = {.reason = SHUTDOWN_crash};

    user_rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
    asm volatile("ud2"); /* back to ring 0 through the #UD hook */
    for (;;)
        ;
}

static bool is_out(const uint8_t *ip)
{
    return *ip == 0xe6 || *ip == 0xe7 || *ip == 0xee || *ip == 0xef;
}

static bool gp_hook(struct trap_frame *f)
{
    const uint8_t *stub = hypercall_page + 32 * __HYPERVISOR_sched_op;
    const uint8_t *ip = (const uint8_t *)f->ip;
    bool at_out = ip >= stub && ip < stub + 32 && is_out(ip);

    if ((f->cs & 3) != 3)
        return false;
    printf("user: #GP from CPL 3 at rip=0x%lx error=0x%lx%s\n", (unsigned long)f->ip,
           (unsigned long)f->error, at_out ? " (the hypercall stub's out: IOPL 0 in ring 3)" : "");
    test_ok(at_out, "ring-3 hypercall stopped by #GP at the stub's out instruction");
    test_finish();
}

static bool ud_hook(struct trap_frame *f)
{
    if ((f->cs & 3) != 3)
        return false;
    printf("user: hypercall from CPL 3 returned %ld\n", user_rc);
    test_expect_eq("ring-3 hypercall -> -EPERM", user_rc, -XEN_EPERM);
    test_finish();
}

int main(void)
{
    uint64_t sp = (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack) - 8);

    trap_set_hook(13, gp_hook);
    trap_set_hook(6, ud_hook);
    printf("user: entering ring 3 (IOPL 3 requested) to call sched_op(SHUTDOWN_crash)\n");
    console_flush();
    asm volatile(
        "push %[ss]\n\tpush %[sp]\n\tpush %[fl]\n\tpush %[cs]\n\tpush %[ip]\n\tiretq" ::[ss] "i"(
            USER_DS),
        [sp] "r"(sp), [fl] "i"(0x3002), [cs] "i"(USER_CS), [ip] "r"((uint64_t)(uintptr_t)user_entry)
        : "memory");
    __builtin_unreachable();
}
