/* hvm.h: x86 register facts and HVM vCPU state checks shared by the core (Xen's hvm/ code). */
#ifndef XHV_HVM_H
#define XHV_HVM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

/* x86 architectural bits (Xen's asm/x86-defns.h, asm/msr-index.h). */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_PG (1ull << 31)
/* PE MP EM TS ET NE WP AM NW CD PG: HVM_CR0_GUEST_RESERVED_BITS is the complement. */
#define HVM_CR0_GUEST_VALID 0xe005003full
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSE (1ull << 14)
#define X86_EFLAGS_MBS (1ull << 1)
#define X86_EFLAGS_IF (1ull << 9)
#define X86_CR4_PAE (1ull << 5)
/* CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID (Xen's X86_EFLAGS_ALL) */
#define X86_EFLAGS_ALL 0x003f7fd5ull

/* hvm_cr4_guest_valid_bits(): the CR4 bits a guest may set (host features). */
uint64_t hvm_cr4_guest_valid_bits(void);
/* hvm_efer_valid(): is efer acceptable (with CR0.PG as given)? */
bool hvm_efer_valid(uint64_t efer, bool cr0_pg);
/* VCPUOP_initialise for an HVM vCPU (arch_set_info_hvm_guest()): check ctx as Xen does and
 * load it into v, which is not running; 0 or -XEN_EINVAL. */
struct vcpu_hvm_context;
int arch_set_info_hvm_guest(struct vcpu *v, const struct vcpu_hvm_context *ctx);

#endif
