/* build.h: the toolstack domain builder: a PVH domain from an xl config, through the same
 * operations Xen's libxl/libxenguest use (domctl, memory_op, foreign mapping, HVM context). */
#ifndef XHV_BUILD_H
#define XHV_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/xhv.h"
#include "cli/xlcfg.h"
#include "core/xen_abi.h"

#include <xen/hvm/save.h>

/* The HVM context stream the builder hands to sethvmcontext for the boot vCPU (libxenguest's
 * vcpu_hvm()): HEADER, CPU, END records. */
struct bsp_ctx {
    struct hvm_save_descriptor header_d;
    HVM_SAVE_TYPE(HEADER) header;
    struct hvm_save_descriptor cpu_d;
    HVM_SAVE_TYPE(CPU) cpu;
    struct hvm_save_descriptor end_d;
    HVM_SAVE_TYPE(END) end;
};

/*
 * createdomain -> max_vcpus -> max_mem -> populate_physmap -> foreign-map and load the kernel
 * and start info -> set_memory_map -> sethvmcontext (PVH entry state) -> xenstore entries ->
 * unpause (unless paused). c's name must not be in use (checked under xl_lock()). On success
 * *domid is the new domain; on failure the half-built domain is destroyed and err holds one
 * line saying what failed. c->uuid is filled in when the config had none.
 */
int xhv_build_domain(struct xl_ctx *ctx, struct xl_config *c, bool paused, uint32_t *domid,
                     char *err, size_t errlen);

/* The config a domain was created with, as stored in xenstore by the builder (with its
 * current name). 0, or -1 if the domain has none (not created by xhv create). */
int xhv_domain_config(struct xl_ctx *ctx, uint32_t domid, struct xl_config *c);

/* ---- the per-domain monitor (monitor.c) ---- */
/*
 * Start xl's background monitor for domid (double fork: it is nobody's child, detached from
 * the terminal, logging to xl-NAME.log beside the control socket). It polls the domain and,
 * when the domain shuts down, applies c's on_poweroff / on_reboot / on_crash / on_watchdog /
 * on_soft_reset action; it exits when the domain is gone or xhvd goes away. The caller must
 * have closed its own connections (the monitor opens its own). 0, or -1 with errno.
 */
int xhv_monitor_spawn(const struct xl_config *c, uint32_t domid);

#endif
