/*
 * foreignmemory.h: mapping another domain's frames into this process, shaped like Xen's
 * libxenforeignmemory. The daemon answers a map request with the domain's memory fd
 * (SCM_RIGHTS) and the offset of each GFN in it; the library mmaps those pages MAP_SHARED
 * into one contiguous range. Only the control domain's tools may map (the daemon checks).
 */
#ifndef XHV_FOREIGNMEMORY_H
#define XHV_FOREIGNMEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/xen_abi.h" /* xen_pfn_t */

typedef struct xenforeignmemory_handle xenforeignmemory_handle;

xenforeignmemory_handle *xenforeignmemory_open(void *logger, unsigned open_flags);
xenforeignmemory_handle *xhv_foreignmemory_open_path(const char *path);
int xenforeignmemory_close(xenforeignmemory_handle *fmem);

/*
 * Map pages frames arr[] of domain dom (prot: PROT_READ / PROT_WRITE) contiguously. If err
 * is non-NULL, per-page errors are reported there (0 or -errno, e.g. -EFAULT for a GFN that
 * is not RAM; such pages are left unmapped) and the call succeeds if the request as a whole
 * was valid; with err NULL any bad page fails the call. NULL + errno on failure.
 */
void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
                           const xen_pfn_t arr[/*pages*/], int err[/*pages*/]);
int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages);

#endif
