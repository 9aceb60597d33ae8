/*
 * xs_client.h: a small xenstore client speaking Xen's wire protocol (struct xsd_sockmsg from
 * <xen/io/xs_wire.h>) to the store served by xhvd, shaped like libxenstore's xs_* calls.
 * Path of the store socket: $XENSTORED_PATH, else "<control socket>.xs" ($XHV_SOCKET or
 * XHV_DEFAULT_SOCKET + ".xs") -- so Debian's xenstore-utils work with XENSTORED_PATH set.
 */
#ifndef XHV_XS_CLIENT_H
#define XHV_XS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

struct xs_handle;
typedef uint32_t xs_transaction_t;
#define XBT_NULL 0

struct xs_handle *xs_open(unsigned long flags);
struct xs_handle *xhv_xs_open_path(const char *path);
void xs_close(struct xs_handle *h);

/* malloc'd value (NUL-terminated for convenience, *len excludes it) or NULL + errno. */
void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len);
bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
              unsigned int len);
bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path);
bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);
/* malloc'd array of *num names (one allocation: free(result)) or NULL + errno. */
char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num);
/* "/local/domain/<domid>" (malloc'd) or NULL. */
char *xs_get_domain_path(struct xs_handle *h, unsigned int domid);

#endif
