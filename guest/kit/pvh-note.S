/* pvh-note.S: the Xen PVH entry ELF note (XEN_ELFNOTE_PHYS32_ENTRY -> _start), both arches. */
#include <xen/elfnote.h>

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 4				/* descsz: 32-bit physical entry */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long _start
	.balign 4
	.section .note.GNU-stack, "", @progbits
