/* xs_request.c: one xenstore wire request -> its reply, with xenstored's payload rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/xs_server.h"

/* A request in flight: the parsed header and payload plus where the reply goes. */
struct req {
    struct xs_store *s;
    void *owner;
    unsigned domid;
    struct xs_txn *t;
    const struct xsd_sockmsg *hdr;
    const char *data;
    unsigned len;
    struct xs_reply *rep;
};

static int reply(struct req *r, const void *data, unsigned len)
{
    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    r->rep->hdr.type = r->hdr->type;
    r->rep->hdr.len = len;
    memcpy(r->rep->body, data, len);
    return 0;
}

static int ack(struct req *r)
{
    return reply(r, "OK", 3);
}

static void error_reply(struct req *r, int err)
{
    const char *name = xsd_errors[0].errstring; /* EINVAL for anything untranslatable */

    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (xsd_errors[i].errnum == err)
            name = xsd_errors[i].errstring;
    r->rep->hdr.type = XS_ERROR;
    r->rep->hdr.len = strlen(name) + 1;
    memcpy(r->rep->body, name, r->rep->hdr.len);
}

/* Xen's onearg(): the payload is exactly one string with its NUL at the very end. */
static const char *onearg(const struct req *r)
{
    if (!r->len || memchr(r->data, 0, r->len) != r->data + r->len - 1)
        return NULL;
    return r->data;
}

/* Number of NUL-terminated strings (= NULs) in the payload; vec gets the first max. */
static unsigned strings(const struct req *r, const char **vec, unsigned max)
{
    unsigned n = 0;

    for (const char *p = r->data, *end = r->data + r->len; p < end;) {
        const char *nul = memchr(p, 0, end - p);
        if (!nul)
            break;
        if (n < max)
            vec[n] = p;
        n++;
        p = nul + 1;
    }
    return n;
}

static int do_read(struct req *r)
{
    const void *val;
    unsigned len;
    const char *path = onearg(r);
    int rc = path ? xs_store_read(r->s, r->t, r->domid, path, &val, &len) : -EINVAL;

    return rc ? rc : reply(r, val, len);
}

static int do_write(struct req *r)
{
    const char *vec[1];
    size_t off;
    int rc;

    if (strings(r, vec, 1) < 1)
        return -EINVAL;
    off = strlen(vec[0]) + 1;
    rc = xs_store_write(r->s, r->t, r->domid, vec[0], r->data + off, r->len - off);
    return rc ? rc : ack(r);
}

static int do_mkdir(struct req *r)
{
    const char *path = onearg(r);
    int rc = path ? xs_store_mkdir(r->s, r->t, r->domid, path) : -EINVAL;

    return rc ? rc : ack(r);
}

static int do_rm(struct req *r)
{
    const char *path = onearg(r);
    int rc = path ? xs_store_rm(r->s, r->t, r->domid, path) : -EINVAL;

    return rc ? rc : ack(r);
}

static int do_directory(struct req *r)
{
    unsigned len;
    const char *path = onearg(r);
    int rc = path ? xs_store_directory(r->s, r->t, r->domid, path, r->rep->body,
                                       XENSTORE_PAYLOAD_MAX, &len, NULL)
                  : -EINVAL;

    if (rc)
        return rc;
    r->rep->hdr.type = XS_DIRECTORY;
    r->rep->hdr.len = len;
    return 0;
}

/* DIRECTORY_PART path\0offset\0 -> generation\0 then the child list from byte offset, cut at
 * a name boundary to fit, with an extra NUL when the list ends (Xen's send_directory_part). */
static int do_directory_part(struct req *r)
{
    const char *vec[2];
    char gen[24], *all;
    unsigned need = 0, off, len = 0, genlen;
    uint64_t g;
    int rc;

    if (strings(r, vec, 2) != 2)
        return -EINVAL;
    rc = xs_store_directory(r->s, r->t, r->domid, vec[0], NULL, 0, &need, &g);
    if (rc && rc != -E2BIG)
        return rc;
    all = malloc(need + 1);
    if (!all)
        return -ENOMEM;
    rc = xs_store_directory(r->s, r->t, r->domid, vec[0], all, need, &need, &g);
    off = (unsigned)atoi(vec[1]);
    genlen = snprintf(gen, sizeof(gen), "%llu", (unsigned long long)g) + 1;
    if (!rc && off < need) {
        while (off + len < need &&
               len + strlen(all + off + len) < XENSTORE_PAYLOAD_MAX - genlen - 1)
            len += strlen(all + off + len) + 1;
    }
    memcpy(r->rep->body, gen, genlen);
    memcpy(r->rep->body + genlen, all + (off < need ? off : 0), len);
    if (off + len >= need)
        r->rep->body[genlen + len++] = '\0';
    free(all);
    r->rep->hdr.type = XS_DIRECTORY_PART;
    r->rep->hdr.len = genlen + len;
    return rc;
}

static int do_get_perms(struct req *r)
{
    struct xs_permissions perms[XENSTORE_PAYLOAD_MAX / 3];
    unsigned num, len = 0;
    const char *path = onearg(r);
    int rc = path ? xs_store_get_perms(r->s, r->t, r->domid, path, perms,
                                       sizeof(perms) / sizeof(perms[0]), &num)
                  : -EINVAL;

    for (unsigned i = 0; !rc && i < num; i++) {
        int n = xs_perm_format(&perms[i], r->rep->body + len, XENSTORE_PAYLOAD_MAX - len);
        if (n < 0)
            return -E2BIG;
        len += n + 1;
    }
    if (rc)
        return rc;
    r->rep->hdr.type = XS_GET_PERMS;
    r->rep->hdr.len = len;
    return 0;
}

/* SET_PERMS path\0perm\0perm\0...: at least one perm; anything after the last NUL is the
 * reserved field and ignored. Xen's order of checks: count, quota, syntax, node. */
static int do_set_perms(struct req *r)
{
    struct xs_permissions *perms;
    unsigned n = strings(r, NULL, 0);
    const char *p;
    int rc = 0;

    if (n < 2)
        return -EINVAL;
    n--; /* the path */
    p = r->data + strlen(r->data) + 1;
    if (!xs_privileged(r->domid) && n > XS_QUOTA_PERMS)
        return -ENOSPC;
    perms = malloc(n * sizeof(*perms));
    if (!perms)
        return -ENOMEM;
    for (unsigned i = 0; !rc && i < n; p += strlen(p) + 1)
        rc = xs_perm_parse(p, &perms[i++]);
    if (!rc)
        rc = xs_store_set_perms(r->s, r->t, r->domid, r->data, perms, n);
    free(perms);
    return rc ? rc : ack(r);
}

static int do_get_domain_path(struct req *r)
{
    char path[32];
    const char *arg = onearg(r);

    if (!arg)
        return -EINVAL;
    xs_domain_path((unsigned)atoi(arg), path);
    return reply(r, path, strlen(path) + 1);
}

static int do_transaction_start(struct req *r)
{
    char id[16];
    uint32_t tx;
    int rc;

    if (r->t)
        return -EBUSY; /* no nested transactions */
    rc = xs_store_tx_start(r->s, r->owner, r->domid, &tx);
    if (rc)
        return rc;
    return reply(r, id, snprintf(id, sizeof(id), "%u", tx) + 1);
}

static int do_transaction_end(struct req *r)
{
    const char *arg = onearg(r);
    int rc;

    if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
        return -EINVAL;
    if (!r->t)
        return -ENOENT;
    rc = xs_store_tx_end(r->s, r->t, arg[0] == 'T');
    r->t = NULL;
    return rc ? rc : ack(r);
}

/* WATCH path\0token\0 -> OK, then the first event "path\0token\0" (path as the client gave
 * it: relative stays relative). */
static int do_watch(struct req *r)
{
    const char *vec[2];
    size_t plen, tlen;
    int rc;

    if (strings(r, vec, 2) != 2)
        return -EINVAL;
    rc = xs_store_watch(r->s, r->owner, r->domid, vec[0], vec[1]);
    if (rc)
        return rc;
    plen = strlen(vec[0]) + 1;
    tlen = strlen(vec[1]) + 1;
    r->rep->has_event = true; /* fits: it is the request's own payload */
    r->rep->ev_hdr = (struct xsd_sockmsg){.type = XS_WATCH_EVENT, .len = plen + tlen};
    memcpy(r->rep->ev_body, vec[0], plen);
    memcpy(r->rep->ev_body + plen, vec[1], tlen);
    return ack(r);
}

static int do_unwatch(struct req *r)
{
    const char *vec[2];
    int rc;

    if (strings(r, vec, 2) != 2)
        return -EINVAL;
    rc = xs_store_unwatch(r->s, r->owner, r->domid, vec[0], vec[1]);
    return rc ? rc : ack(r);
}

static int do_reset_watches(struct req *r)
{
    xs_store_forget_owner(r->s, r->owner, true, true);
    return ack(r);
}

static int do_not_yet(struct req *r)
{
    (void)r;
    return -ENOSYS; /* TODO: INTRODUCE & co. arrive with guest ring connections */
}

#define XS_FLAG_NOTID (1u << 0) /* tx_id is ignored */
#define XS_FLAG_PRIV (1u << 1)  /* privileged callers only: others get EACCES */

static const struct {
    int (*fn)(struct req *r);
    unsigned flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {do_not_yet, XS_FLAG_PRIV},
    [XS_DIRECTORY] = {do_directory, 0},
    [XS_READ] = {do_read, 0},
    [XS_GET_PERMS] = {do_get_perms, 0},
    [XS_WATCH] = {do_watch, XS_FLAG_NOTID},
    [XS_UNWATCH] = {do_unwatch, XS_FLAG_NOTID},
    [XS_TRANSACTION_START] = {do_transaction_start, 0},
    [XS_TRANSACTION_END] = {do_transaction_end, 0},
    [XS_INTRODUCE] = {do_not_yet, XS_FLAG_PRIV},
    [XS_RELEASE] = {do_not_yet, XS_FLAG_PRIV},
    [XS_GET_DOMAIN_PATH] = {do_get_domain_path, XS_FLAG_NOTID},
    [XS_WRITE] = {do_write, 0},
    [XS_MKDIR] = {do_mkdir, 0},
    [XS_RM] = {do_rm, 0},
    [XS_SET_PERMS] = {do_set_perms, 0},
    [XS_IS_DOMAIN_INTRODUCED] = {do_not_yet, XS_FLAG_PRIV | XS_FLAG_NOTID},
    [XS_RESUME] = {do_not_yet, XS_FLAG_PRIV},
    [XS_SET_TARGET] = {do_not_yet, XS_FLAG_PRIV},
    [XS_RESET_WATCHES] = {do_reset_watches, XS_FLAG_NOTID},
    [XS_DIRECTORY_PART] = {do_directory_part, 0},
};

/* Xen's process_message(): type, privilege, transaction, then the handler. */
static int dispatch(struct req *r)
{
    uint32_t type = r->hdr->type;

    if (type >= XS_TYPE_COUNT || !handlers[type].fn)
        return -ENOSYS;
    if ((handlers[type].flags & XS_FLAG_PRIV) && !xs_privileged(r->domid))
        return -EACCES;
    if (!(handlers[type].flags & XS_FLAG_NOTID) && r->hdr->tx_id) {
        r->t = xs_store_tx_find(r->s, r->owner, r->hdr->tx_id);
        if (!r->t)
            return -ENOENT;
    }
    return handlers[type].fn(r);
}

void xs_handle_request(struct xs_store *s, void *owner, unsigned domid,
                       const struct xsd_sockmsg *req, const void *payload, struct xs_reply *rep)
{
    struct req r = {.s = s,
                    .owner = owner,
                    .domid = domid,
                    .hdr = req,
                    .data = payload,
                    .len = req->len,
                    .rep = rep};
    int rc;

    rep->has_event = false;
    rc = r.len > XENSTORE_PAYLOAD_MAX ? -E2BIG : dispatch(&r);
    if (rc) {
        rep->has_event = false;
        error_reply(&r, -rc);
    }
    rep->hdr.req_id = req->req_id;
    rep->hdr.tx_id = req->tx_id;
}
