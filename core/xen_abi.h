/* xen_abi.h: the one place the core pulls in Xen's public headers (libxen-dev, Xen 4.17). */
#ifndef XHV_XEN_ABI_H
#define XHV_XEN_ABI_H

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/elfnote.h>

/* Layout checks for every struct the core copies to or from a 64-bit guest. */
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info");
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap");
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map");
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_register_vcpu_info");
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info");
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct xen_feature_info) == 8, "xen_feature_info");
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");

#endif
