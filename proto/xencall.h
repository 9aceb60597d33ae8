/*
 * xencall.h: the tool side of xhv's control transport, shaped exactly like Xen's libxencall
 * (same names, arguments and return conventions), so xhv's tools read like Xen's and a
 * libxencall.so shim for Debian's unmodified xl is a small step.
 *
 * A handle is one connection to xhvd's control socket ($XHV_SOCKET, else XHV_DEFAULT_SOCKET).
 * Hypercall argument buffers live in a memfd shared with the daemon: pointers returned by
 * xencall_alloc_buffer*() are ordinary pointers in this process, and guest handles inside
 * domctl/sysctl structs hold exactly those pointers (as with Xen's privcmd). The daemon
 * dispatches every call through the same hypercall table as guest calls, as domain 0.
 */
#ifndef XHV_XENCALL_H
#define XHV_XENCALL_H

#include <stddef.h>
#include <stdint.h>

#define XHV_DEFAULT_SOCKET "/run/xhv/xhvd.sock"

typedef struct xencall_handle xencall_handle;

/* logger is accepted for API compatibility and ignored (NULL is fine); open_flags must be 0.
 * NULL with errno set on failure. */
xencall_handle *xencall_open(void *logger, unsigned open_flags);
/* As xencall_open, but to the daemon listening at path (NULL = $XHV_SOCKET or default). */
xencall_handle *xhv_xencall_open_path(const char *path);
int xencall_close(xencall_handle *xcall);

/* The hypercall's result (>= 0), or -1 with errno = the (positive) Xen errno. */
int xencall0(xencall_handle *xcall, unsigned int op);
int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1);
int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2);
int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3);
int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3,
             uint64_t arg4);
int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3,
             uint64_t arg4, uint64_t arg5);

/* Buffers inside the shared memfd (zeroed); NULL with errno ENOMEM when it is full. */
void *xencall_alloc_buffer(xencall_handle *xcall, size_t size);
void xencall_free_buffer(xencall_handle *xcall, void *p);
void *xencall_alloc_buffer_pages(xencall_handle *xcall, size_t nr_pages);
void xencall_free_buffer_pages(xencall_handle *xcall, void *p, size_t nr_pages);

/* The connection's socket fd (for xhv-specific requests in proto/xhv_proto.h). */
int xhv_xencall_fd(xencall_handle *xcall);

#endif
