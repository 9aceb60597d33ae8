/* head32.S: PVH entry for 32-bit guests: stays in protected mode, paging off; GDT, trap stubs. */
#define __ASSEMBLY__
#include "arch-x86_32.h"

	.section .text.head, "ax"
	.code32
	.globl _start
_start:				/* EBX = start_info GPA; no stack */
	lgdt gdt_desc
	ljmp $KERNEL_CS, $1f
1:	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $boot_stack_top, %esp
	push %ebx
	call kit_start
	ud2

	.text
/* long _hypercall_stub(stub, a1..a5): 32-bit ABI args in EBX ECX EDX ESI EDI. */
	.globl _hypercall_stub
_hypercall_stub:
	push %ebx
	push %esi
	push %edi
	push %ebp
	mov 20(%esp), %eax
	mov 24(%esp), %ebx
	mov 28(%esp), %ecx
	mov 32(%esp), %edx
	mov 36(%esp), %esi
	mov 40(%esp), %edi
	call *%eax
	pop %ebp
	pop %edi
	pop %esi
	pop %ebx
	ret

	.globl kit_triple_fault
kit_triple_fault:
	lidt idt_null
	ud2

/* Vectors 0-31: 16-byte stubs pushing (error code or 0, vector). */
	.balign 16
	.globl trap_stubs
trap_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.balign 16
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	push $0
	.endif
	push $\vec
	jmp trap_common
	.endr

/* 32-bit iret does not work under kvm-pvm: kit_trap() never returns here. */
trap_common:
	pusha
	mov %esp, %eax
	cld
	push %eax
	call kit_trap
	jmp kit_triple_fault

	.data
	.balign 16
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08 code, 32-bit flat */
	.quad 0x00cf92000000ffff	/* 0x10 data, flat */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
idt_null:
	.word 0
	.long 0

	.bss
	.balign 16
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
