/* kit.h: freestanding PVH guest kit API: Xen headers, hypercalls, printf, traps, test reports. */
#ifndef GUEST_KIT_H
#define GUEST_KIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Without this xen-compat.h selects interface 0 (pre-3.0 sched_op numbers etc.). */
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/features.h>
#include <xen/version.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/vcpu.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "core/xhv_ports.h"

#ifdef __x86_64__
#include "arch-x86_64.h"
#else
#include "arch-x86_32.h"
#endif

#define PAGE_SIZE 4096UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __aligned(n) __attribute__((aligned(n)))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* ---- start of day (start.c) ---- */
extern const struct hvm_start_info *start_info;
extern char _end[];            /* end of the image, BSS included (guest.ld) */
int main(void);                /* the test; test_finish() runs if it returns */
const char *kit_cmdline(void); /* "" if none */
/* One past the highest byte the image and start info occupy (for picking scratch RAM). */
uint64_t kit_used_end(void);
/* True if [addr, addr+len) is inside one RAM entry of the start_info memory map. */
bool kit_is_ram(uint64_t addr, uint64_t len);
__noreturn void kit_shutdown(unsigned int reason);
__noreturn void kit_triple_fault(void);

/* ---- hypercalls (hypercall.c) ---- */
extern uint8_t hypercall_page[PAGE_SIZE];
extern uint32_t xen_cpuid_base; /* 0x400000xx leaf holding "XenVMMXenVMM" */
void hypercall_init(void);
/* Call a stub at `stub` with the arch hypercall ABI (arch head.S). */
long _hypercall_stub(const void *stub, unsigned long a1, unsigned long a2, unsigned long a3,
                     unsigned long a4, unsigned long a5);
static inline long _hypercall5(unsigned int nr, unsigned long a1, unsigned long a2,
                               unsigned long a3, unsigned long a4, unsigned long a5)
{
    return _hypercall_stub(hypercall_page + nr * 32, a1, a2, a3, a4, a5);
}
#define _hc(nr, a1, a2, a3)                                                                        \
    _hypercall5(nr, (unsigned long)(a1), (unsigned long)(a2), (unsigned long)(a3), 0, 0)

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return _hc(__HYPERVISOR_xen_version, cmd, arg, 0);
}
static inline long HYPERVISOR_console_io(int cmd, unsigned int count, const void *buf)
{
    return _hc(__HYPERVISOR_console_io, cmd, count, buf);
}
static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return _hc(__HYPERVISOR_sched_op, cmd, arg, 0);
}
static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return _hc(__HYPERVISOR_memory_op, cmd, arg, 0);
}
static inline long HYPERVISOR_hvm_op(int op, void *arg)
{
    return _hc(__HYPERVISOR_hvm_op, op, arg, 0);
}
static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpuid, void *arg)
{
    return _hc(__HYPERVISOR_vcpu_op, cmd, vcpuid, arg);
}
static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return _hc(__HYPERVISOR_event_channel_op, cmd, arg, 0);
}
static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
    return _hc(__HYPERVISOR_vm_assist, cmd, type, 0);
}
uint64_t xen_system_time(void); /* HVMOP_get_time (ns), 0 on error */

/* ---- printf (printf.c) ---- */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int printf(const char *fmt, ...) __printf(1, 2);
void console_flush(void);

/* ---- traps (traps.c + arch) ---- */
/* A hook returns true if it handled the fault (64-bit: resume at frame->ip); it may also
 * never return. 32-bit guests cannot resume (no iret here): a true return still crashes. */
typedef bool (*trap_hook_t)(struct trap_frame *f);
void trap_set_hook(unsigned int vector, trap_hook_t hook);
/* Interrupt vectors 32-255 (64-bit IDT only): runs with interrupts off, on the interrupted
 * stack; the handler EOIs (apic_eoi) if the source is the LAPIC. */
typedef void (*irq_handler_t)(unsigned int vector);
void irq_set_handler(unsigned int vector, irq_handler_t handler);
void kit_trap(struct trap_frame *f);
const char *trap_name(unsigned int vector);

/* ---- event channels (events.c, 64-bit) ---- */
#define KIT_SHINFO_GFN 0xf0000UL /* where kit_events_init() maps shared_info: past RAM */
#define KIT_MAX_PORTS 1024       /* ports the kit dispatches to handlers */
extern volatile struct shared_info *const kit_shinfo;
typedef void (*kit_port_fn_t)(evtchn_port_t port);
/* Map shared_info, take upcalls on `vector` and set it up on vCPU 0: 0 or a Xen error. */
long kit_events_init(uint8_t vector);
/* On vCPU cpu itself: enable its LAPIC and give it the upcall vector. */
long kit_events_init_cpu(unsigned int cpu);
/* Run fn(port) (interrupts off) when port fires on vCPU cpu (where the port is bound). */
void kit_port_bind(evtchn_port_t port, unsigned int cpu, kit_port_fn_t fn);
/* Run fn(port) for events on ports with no handler of their own, on whichever vCPU takes them
 * (for ports bound by someone else, e.g. the toolstack); NULL leaves such ports pending. */
void kit_port_default(kit_port_fn_t fn);
bool kit_port_pending(evtchn_port_t port);
bool kit_port_clear(evtchn_port_t port); /* clear its pending bit: was it set? */
long kit_evtchn_send(evtchn_port_t port);
long kit_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long kit_evtchn_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *port);
long kit_evtchn_status(evtchn_port_t port, struct evtchn_status *st);
/* Take interrupts in 1 ms SCHEDOP_poll naps until *count >= target (at most max_ms naps). */
bool kit_wait(volatile uint32_t *count, uint32_t target, unsigned int max_ms);

/* ---- test reports (test.c) ---- */
void test_ok(bool cond, const char *fmt, ...) __printf(2, 3);
void test_expect_eq(const char *name, long got, long expected);
void test_skip(const char *reason, ...) __printf(1, 2);
unsigned int test_failures(void);
__noreturn void test_finish(void);

/* ---- lib (lib.c) ---- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *hay, const char *needle);
unsigned long strtoul(const char *s, const char **end, int base);

#endif
