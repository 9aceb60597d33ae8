/* traps.c: fault reporting for vectors 0-31, per-vector hooks for expected faults, and
 * handlers for interrupt vectors 32-255 (64-bit only). */
#include "kit.h"

static trap_hook_t hooks[32];
static irq_handler_t irq_handlers[256];
static unsigned int depth;

static const char *const names[32] = {
    "#DE",  "#DB",  "NMI",  "#BP",  "#OF",  "#BR",  "#UD", "#NM", "#DF", "CSO",  "#TS",
    "#NP",  "#SS",  "#GP",  "#PF",  "rsvd", "#MF",  "#AC", "#MC", "#XM", "#VE",  "#CP",
    "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "#HV", "#VC", "#SX", "rsvd",
};

const char *trap_name(unsigned int vector)
{
    return vector < 32 ? names[vector] : "?";
}

void trap_set_hook(unsigned int vector, trap_hook_t hook)
{
    if (vector < 32)
        hooks[vector] = hook;
}

void irq_set_handler(unsigned int vector, irq_handler_t handler)
{
    if (vector >= 32 && vector < 256)
        irq_handlers[vector] = handler;
}

void kit_trap(struct trap_frame *f)
{
    unsigned int v = f->vector;

    if (v >= 32 && v < 256 && irq_handlers[v]) {
        irq_handlers[v](v);
        return;
    }
    if (depth++)
        kit_triple_fault(); /* a fault while reporting one */
    if (v < 32 && hooks[v] && hooks[v](f)) {
#ifdef __x86_64__
        depth--;
        return;
#else
        printf("kit: cannot resume from a fault in 32-bit mode (no iret)\n");
#endif
    }
    if (v >= 32)
        printf("kit: unexpected interrupt, vector %u\n", v);
    printf("FAULT: vector %u (%s) error=0x%lx rip=0x%lx cr2=0x%lx cs=0x%lx\n", v, trap_name(v),
           (unsigned long)f->error, (unsigned long)f->ip, read_cr2(), (unsigned long)f->cs);
    kit_shutdown(SHUTDOWN_crash);
}
