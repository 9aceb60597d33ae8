/* handlers.h: helpers the hypercall families share (proposed for core.h/hypercall.h). */
#ifndef XHV_HANDLERS_H
#define XHV_HANDLERS_H

#include "core/core.h"

/* ---- time (core/time.c) ---- */
/* Xen system time: ns since xhv started (what NOW() gives guests; HVMOP_get_time). */
uint64_t xen_system_time(void);
/* now_ns() value at system time 0 (absolute system-time deadlines -> CLOCK_MONOTONIC). */
uint64_t xen_system_time_epoch(void);

/* ---- blocking (core/sched_op.c) ---- */
/* Block v's own thread until vcpu_wake(v), the domain stops running, or deadline
 * (CLOCK_MONOTONIC ns; 0 = none). Never spins; returns at once if a wake is pending. */
void vcpu_block_until(struct vcpu *v, uint64_t deadline_ns);
/* Wake v out of vcpu_block_until() (or make its next block return at once). */
void vcpu_wake(struct vcpu *v);
/* Forget d's watchdogs and pending wakes: call from domain_destroy() before freeing d. */
void sched_domain_destroy(struct domain *d);

/* ---- shared_info and vcpu_info (core/memory_op.c, core/vcpu_op.c) ---- */
/* Rewrite shared_info's wallclock (odd/even wc_version) in the latched layout. */
void shared_info_update_wallclock(struct domain *d);
/* Host address of v's vcpu_info (registered area, or its legacy shared_info slot), NULL if
 * v has none (vcpu_id >= 32 and nothing registered). */
uint8_t *vcpu_info_hva(struct vcpu *v);

/* ---- vm_assist (core/hvm_op.c) ---- */
bool vm_assist_enabled(const struct domain *d, unsigned type);

/* ---- console (core/console_io.c) ---- */
/* Where terminal echo goes (default STDOUT_FILENO); tests point it at a pipe or file. */
void console_set_output_fd(int fd);

#endif
