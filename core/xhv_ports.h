/* xhv_ports.h: I/O ports of the xhv guest interface (shared by host and guest build). */
#ifndef XHV_PORTS_H
#define XHV_PORTS_H
/* Hypercall page stubs end in `out %eax,$XHV_HCALL_PORT` (imm8 form: RDX is argument 3). */
#define XHV_HCALL_PORT 0xe2
/* Bench: a port xhv answers without dispatch (the raw exit cost). */
#define XHV_RAW_PORT 0xe3
/* Bench: a port bound to an ioeventfd, handled inside the kernel (the floor). */
#define XHV_EVENTFD_PORT 0xe4
/* Debug console (Bochs/QEMU 0xe9 hack): Linux PVH early printk falls back to it. */
#define XHV_DEBUGCON_PORT 0xe9
#endif
