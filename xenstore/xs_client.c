/* xs_client.c: xs_client.h over Xen's xenstore wire protocol on a UNIX stream socket. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "proto/xencall.h" /* XHV_DEFAULT_SOCKET */
#include "xenstore/xs_client.h"

/* One connection; requests are sent one at a time, so a handle is not for concurrent use. */
struct xs_handle {
    int fd;
    uint32_t next_req;
};

struct xs_handle *xhv_xs_open_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char def[sizeof(sa.sun_path)];
    struct xs_handle *h;

    if (!path) {
        const char *ctl = getenv("XHV_SOCKET");
        path = getenv("XENSTORED_PATH");
        if (!path) {
            snprintf(def, sizeof(def), "%s.xs", ctl ? ctl : XHV_DEFAULT_SOCKET);
            path = def;
        }
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = errno;
        if (h->fd >= 0)
            close(h->fd);
        free(h);
        errno = err;
        return NULL;
    }
    return h;
}

struct xs_handle *xs_open(unsigned long flags)
{
    (void)flags; /* XS_OPEN_READONLY etc.: one kind of socket only */
    return xhv_xs_open_path(NULL);
}

void xs_close(struct xs_handle *h)
{
    if (!h)
        return;
    close(h->fd);
    free(h);
}

static bool io_all(int fd, void *buf, size_t len, bool out)
{
    char *p = buf;

    while (len) {
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static int errno_of(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (strnlen(name, len) == strlen(xsd_errors[i].errstring) &&
            !strncmp(name, xsd_errors[i].errstring, len))
            return xsd_errors[i].errnum;
    return EINVAL;
}

/*
 * Send type with the payload a\0 + b (blen bytes, may be 0); wait for the reply with the same
 * req_id (watch events and strays are skipped). Returns the malloc'd reply payload with a NUL
 * added (*len excludes it), or NULL + errno (the server's error name mapped back to errno).
 */
static char *xs_talk(struct xs_handle *h, xs_transaction_t t, uint32_t type, const char *a,
                     const void *b, size_t blen, unsigned *len)
{
    size_t alen = strlen(a) + 1;
    struct xsd_sockmsg m = {.type = type, .req_id = ++h->next_req, .tx_id = t, .len = alen + blen};
    char *buf;

    if (alen + blen > XENSTORE_PAYLOAD_MAX) {
        errno = E2BIG; /* the server would drop the connection */
        return NULL;
    }
    if (!io_all(h->fd, &m, sizeof(m), true) || !io_all(h->fd, (void *)a, alen, true) ||
        (blen && !io_all(h->fd, (void *)b, blen, true)))
        return NULL;
    for (;;) {
        struct xsd_sockmsg r;
        if (!io_all(h->fd, &r, sizeof(r), false))
            return NULL;
        if (r.len > XENSTORE_PAYLOAD_MAX) {
            errno = EIO;
            return NULL;
        }
        buf = malloc(r.len + 1);
        if (!buf)
            return NULL;
        if (!io_all(h->fd, buf, r.len, false)) {
            free(buf);
            return NULL;
        }
        buf[r.len] = '\0';
        if (r.type == XS_WATCH_EVENT || r.req_id != m.req_id) {
            free(buf);
            continue;
        }
        if (r.type == XS_ERROR) {
            int err = errno_of(buf, r.len);
            free(buf);
            errno = err;
            return NULL;
        }
        if (len)
            *len = r.len;
        return buf;
    }
}

static bool xs_bool(struct xs_handle *h, xs_transaction_t t, uint32_t type, const char *path,
                    const void *data, size_t len)
{
    char *r = xs_talk(h, t, type, path, data, len, NULL);

    free(r);
    return r != NULL;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
    return xs_talk(h, t, XS_READ, path, NULL, 0, len);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
              unsigned int len)
{
    return xs_bool(h, t, XS_WRITE, path, data, len);
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_bool(h, t, XS_MKDIR, path, NULL, 0);
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    return xs_bool(h, t, XS_RM, path, NULL, 0);
}

/* NUL-separated names (len bytes) -> one allocation: the pointer array, then the strings. */
static char **split_names(const char *names, unsigned len, unsigned *num)
{
    unsigned n = 0;
    char **v, *copy;

    for (unsigned i = 0; i < len; i++)
        n += names[i] == '\0';
    v = malloc(n * sizeof(*v) + len + 1);
    if (!v)
        return NULL;
    copy = (char *)(v + n);
    memcpy(copy, names, len);
    copy[len] = '\0';
    for (unsigned i = 0; i < n; i++) {
        v[i] = copy;
        copy += strlen(copy) + 1;
    }
    *num = n;
    return v;
}

/* One DIRECTORY_PART chunk from byte *len of the list, appended to *all: 1 = that was the
 * last one, 0 = more to come, -1 + errno (EAGAIN: the node changed since chunk 0). */
static int dir_chunk(struct xs_handle *h, xs_transaction_t t, const char *path, char **gen,
                     char **all, unsigned *len)
{
    char off[16], *r, *names, *grown;
    unsigned rlen;
    bool last;

    snprintf(off, sizeof(off), "%u", *len);
    r = xs_talk(h, t, XS_DIRECTORY_PART, path, off, strlen(off) + 1, &rlen);
    if (!r)
        return -1;
    if (*gen && strcmp(*gen, r)) {
        free(r);
        return errno = EAGAIN, -1;
    }
    names = r + strlen(r) + 1; /* generation\0 then names; the last chunk has an extra NUL */
    rlen -= names - r;
    last = rlen <= 1 || (names[rlen - 1] == '\0' && names[rlen - 2] == '\0');
    rlen -= last && rlen;
    grown = realloc(*all, *len + rlen + 1);
    if (!grown || (!*gen && !(*gen = strdup(r)))) {
        if (grown)
            *all = grown;
        free(r);
        return errno = ENOMEM, -1;
    }
    *all = grown;
    memcpy(*all + *len, names, rlen);
    *len += rlen;
    free(r);
    return last;
}

/* Children lists longer than a payload, as libxenstore's xs_directory_part: chunks restarted
 * from scratch if the node changes in between. */
static char *directory_part(struct xs_handle *h, xs_transaction_t t, const char *path,
                            unsigned *total)
{
    for (unsigned tries = 0; tries < 16; tries++) {
        char *all = NULL, *gen = NULL;
        int rc;
        *total = 0;
        while ((rc = dir_chunk(h, t, path, &gen, &all, total)) == 0)
            ;
        free(gen);
        if (rc > 0)
            return all;
        free(all);
        if (errno != EAGAIN)
            return NULL;
    }
    return NULL;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
    unsigned len;
    char **v;
    char *names = xs_talk(h, t, XS_DIRECTORY, path, NULL, 0, &len);

    if (!names && errno == E2BIG)
        names = directory_part(h, t, path, &len);
    if (!names)
        return NULL;
    v = split_names(names, len, num);
    free(names);
    return v;
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
    char id[16];

    snprintf(id, sizeof(id), "%u", domid);
    return xs_talk(h, XBT_NULL, XS_GET_DOMAIN_PATH, id, NULL, 0, NULL);
}
