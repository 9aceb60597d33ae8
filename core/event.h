/* event.h: event channels for the rest of the core: port queries, VIRQs, the 2-level ABI. */
#ifndef XHV_EVENT_H
#define XHV_EVENT_H

#include "core/core.h"

/* Ports exist in buckets (Xen's EVTCHNS_PER_BUCKET): a port is "valid" (port_is_valid())
 * once its bucket was allocated, even if it is free. */
#define EVTCHNS_PER_BUCKET 64u
#define EVTCHN_NR_BUCKETS ((unsigned)EVTCHN_2L_NR_CHANNELS / EVTCHNS_PER_BUCKET)
/* A PVH domU's d->nr_pirqs: nr_static_irqs (16 ISA IRQs) + extra_domU_irqs (32). */
#define XHV_NR_PIRQS 48u

/*
 * Locking: each domain's event table has one mutex; the rare operations that change both
 * ends of an interdomain channel (bind_interdomain, close, reset, destroy) take a global
 * mutex first, then the two tables in domain-pointer order. Raising an event may take the
 * target domain's d->lock (vcpu_wake(), vcpu_mark_events_pending()): callers must not hold
 * d->lock. evtchn_port_is_valid() and evtchn_port_is_pending() take no lock and may be
 * called with d->lock held (SCHEDOP_poll).
 */

/* Xen's port_is_valid(): the port's bucket exists (false for a domain without a table). */
bool evtchn_port_is_valid(struct domain *d, unsigned port);
/* The port's pending bit in shared_info (evtchn_port_poll(); false if out of range). */
bool evtchn_port_is_pending(struct domain *d, unsigned port);
/* VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF, VIRQ_XENPMU are per-vCPU; all others global. */
bool virq_is_global(unsigned virq);
/* Raise a global VIRQ bound on d's vCPU 0 (send_guest_global_virq()); no-op if unbound. */
void send_guest_global_virq(struct domain *d, unsigned virq);
/* How many times the console-ring thread has raised VIRQ_CON_RING (tests). */
unsigned long virq_con_ring_sends(void);
/* Wake d's vCPUs polling port (or polling several ports) in SCHEDOP_poll (core/sched_op.c). */
void evtchn_check_pollers(struct domain *d, unsigned port);
/* EVTCHNOP_send from inside xhv on behalf of d (evtchn_send()): 0 or -XEN_EINVAL. */
int evtchn_send(struct domain *d, unsigned port);
/* The port VIRQ virq is bound to on v (0 = none). */
uint32_t evtchn_virq_port(struct vcpu *v, unsigned virq);

/* ---- global VIRQ routing (core/virq.c) ---- */
/* send_global_virq(): to the domain set with XEN_DOMCTL_set_virq_handler, else to the
 * hardware domain (xhv: domain 0, i.e. the notifier below). Any thread; the caller must hold
 * no domain, event-channel or domain-table lock. */
void send_global_virq(uint32_t virq);
/* 0, or -XEN_EINVAL (virq out of range or not global, d dying). */
int set_global_virq_handler(struct domain *d, uint32_t virq);
/* Forget d as a handler (domain_destroy(), before it waits for references). */
void clear_global_virq_handlers(struct domain *d);
/* The handler set for virq (not referenced: for tests and dumps), NULL = the default. */
struct domain *global_virq_handler(uint32_t virq);
/* Domain 0 (no vCPUs): fn(virq) gets its global VIRQs, from any thread, with no core lock
 * held; it must not block (the daemon wakes its event loop). NULL: they are dropped. */
void control_set_virq_notify(void (*fn)(unsigned virq));
/* New text in the host log ring (core/log.c): VIRQ_CON_RING, deferred and rate-limited. */
void console_ring_notify(void);
/* XEN_DOMCTL_set_virq_handler on d (found by do_domctl()). */
long domctl_set_virq_handler(struct vcpu *v, struct domain *d, uint32_t virq);

/* ---- 2-level ABI (core/event_2l.c): bit operations on the guest's shared_info ---- */
/* 4096 ports with the 64-bit shared_info layout, 1024 with the 32-bit one. */
unsigned evtchn_2l_max_channels(const struct domain *d);
/* Mark port pending; if newly pending and unmasked, set the selector bit of v and, if that
 * was clear, vcpu_mark_events_pending(v). Wakes v (a poller). */
void evtchn_2l_set_pending(struct vcpu *v, unsigned port);
void evtchn_2l_clear_pending(struct domain *d, unsigned port);
/* Clear the mask; if it was set and the port is pending, notify v as set_pending does. */
void evtchn_2l_unmask(struct vcpu *v, unsigned port);
bool evtchn_2l_is_pending(struct domain *d, unsigned port);
bool evtchn_2l_is_masked(struct domain *d, unsigned port);

#endif
