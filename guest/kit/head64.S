/* head64.S: PVH entry (32-bit, paging off) -> long mode; GDT, TSS, page tables, trap stubs. */
#define __ASSEMBLY__
#include "arch-x86_64.h"

#define X86_CR0_PG_WP	0x80010000
#define X86_CR4_PAE	0x20
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define PTE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)
#define PTE_2M		(PTE_TABLE | _PAGE_PSE)

	.section .boot32, "ax"		/* 32-bit code: disassembled with -M i386 by check_insns */
	.code32
	.globl _start
_start:				/* EBX = start_info GPA; no stack */
	mov %ebx, %esi
	lgdt gdt_desc
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $X86_CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $X86_CR0_PG_WP, %eax
	mov %eax, %cr0
	ljmp $KERNEL_CS, $start64

/* The kit's flat data segments in DS, ES, SS; FS and GS null. Clobbers EAX. */
	.macro load_data_segments
	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	.endm

	.section .text.head, "ax"
	.code64
start64:
	load_data_segments
	lea boot_stack_top(%rip), %rsp
	mov %esi, %edi
	call kit_start
	ud2

	.text
/* long _hypercall_stub(stub, a1..a5): 64-bit ABI args in RDI RSI RDX R10 R8; the stub's
 * ret returns straight to our caller. */
	.globl _hypercall_stub
_hypercall_stub:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	jmp *%rax

/* A vCPU started by VCPUOP_initialise (kit_vcpu_context()): 64-bit, flat selector-0
 * segments, no GDT or IDT; RSP = its stack, RDI = its vCPU id, RSI = the function to run. */
	.globl kit_ap_entry
kit_ap_entry:
	lgdt gdt_desc(%rip)
	load_data_segments
	pushq $KERNEL_CS		/* a real CS selector: iretq from interrupts needs one */
	lea 1f(%rip), %rax
	push %rax
	lretq
1:	call kit_ap_main
	ud2

	.globl kit_triple_fault
kit_triple_fault:
	lidt idt_null(%rip)
	ud2

/* Vectors 0-255: 16-byte stubs pushing (error code or 0, vector); 32-255 are interrupts. */
	.balign 16
	.globl trap_stubs
trap_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
	.endr
	.set vec, 32
	.rept 256 - 32
	.balign 16
	pushq $0
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call kit_trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

	.data
	.balign 16
	.globl gdt, gdt_tss
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x10 kernel data */
	.quad 0x00cff2000000ffff	/* 0x18 user data (DPL 3) */
	.quad 0x00affa000000ffff	/* 0x20 user code, 64-bit (DPL 3) */
gdt_tss:
	.quad 0, 0			/* 0x28 64-bit TSS, filled by arch_init_traps() */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt
idt_null:
	.word 0
	.quad 0

	.balign 16
	.globl kit_tss
kit_tss:				/* 64-bit TSS: RSP0 for ring 3 -> ring 0 */
	.long 0
	.quad trap_stack_top
	.fill 88, 1, 0
	.word 0
	.word 104			/* I/O map base past the limit: no I/O bitmap */

/* Identity map of [0, 4 GiB): 2 MiB pages, except the first 2 MiB (4 KiB pages, page 0
 * absent so that NULL faults). Built by the assembler: no guest instructions at boot. */
	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_TABLE
	.fill 511, 8, 0
pdpt:
	.quad kit_pd + PTE_TABLE, kit_pd + 0x1000 + PTE_TABLE
	.quad kit_pd + 0x2000 + PTE_TABLE, kit_pd + 0x3000 + PTE_TABLE
	.fill 508, 8, 0
	.globl kit_pd
kit_pd:
	.quad pt0 + PTE_TABLE
	.set i, 1
	.rept 2047
	.quad (i << 21) | PTE_2M
	.set i, i + 1
	.endr
pt0:
	.quad 0
	.set i, 1
	.rept 511
	.quad (i << 12) | PTE_TABLE
	.set i, i + 1
	.endr

	.bss
	.balign 16
	.skip 16384
boot_stack_top:
	.skip 8192
trap_stack_top:

	.section .note.GNU-stack, "", @progbits
