/* xencall.c: libxencall's API over xhvd's control socket, with a memfd-backed buffer arena. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/xencall.h"
#include "proto/xhv_proto.h"

#define ARENA_SIZE (16u << 20)
#define ARENA_PAGE 4096u
#define ARENA_PAGES (ARENA_SIZE / ARENA_PAGE)

struct xencall_handle {
    struct xhv_chan chan;
    int memfd;
    uint8_t *buf;                    /* the arena, also mapped by the daemon */
    pthread_mutex_t alloc_lock;      /* guards used[] and run[] */
    uint64_t used[ARENA_PAGES / 64]; /* page bitmap */
    uint32_t run[ARENA_PAGES];       /* pages of the allocation starting at page i */
};

/* The arena: sealed against shrinking so the daemon's mapping can never fault. */
static int arena_create(xencall_handle *h)
{
    h->memfd = memfd_create("xencall-buffers", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (h->memfd < 0)
        return -1;
    if (ftruncate(h->memfd, ARENA_SIZE) < 0 ||
        fcntl(h->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        return -1;
    h->buf =
        mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, h->memfd, 0);
    if (h->buf == MAP_FAILED) {
        h->buf = NULL;
        return -1;
    }
    return 0;
}

static void handle_free(xencall_handle *h)
{
    int e = errno;
    if (h->buf)
        munmap(h->buf, ARENA_SIZE);
    if (h->memfd >= 0)
        close(h->memfd);
    xhv_chan_close(&h->chan);
    pthread_mutex_destroy(&h->alloc_lock);
    free(h);
    errno = e;
}

xencall_handle *xhv_xencall_open_path(const char *path)
{
    xencall_handle *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->memfd = -1;
    h->chan.sock = -1;
    pthread_mutex_init(&h->alloc_lock, NULL);
    if (xhv_chan_connect(&h->chan, path) < 0 || arena_create(h) < 0 ||
        xhv_chan_hello(&h->chan, h->memfd, ARENA_SIZE, (uint64_t)(uintptr_t)h->buf) < 0) {
        handle_free(h);
        return NULL;
    }
    return h;
}

xencall_handle *xencall_open(void *logger, unsigned open_flags)
{
    (void)logger;
    if (open_flags) {
        errno = EINVAL;
        return NULL;
    }
    return xhv_xencall_open_path(NULL);
}

int xencall_close(xencall_handle *xcall)
{
    if (xcall)
        handle_free(xcall);
    return 0;
}

int xhv_xencall_fd(xencall_handle *xcall)
{
    return xcall->chan.sock;
}

/* ---- calls ---- */

static int call(xencall_handle *h, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                uint64_t a5)
{
    struct xhv_hypercall req = {.op = op, .args = {a1, a2, a3, a4, a5}};
    union {
        struct xhv_hypercall_reply r;
        struct xhv_error e;
    } rep;
    int rc;

    rc = xhv_chan_call(&h->chan, XHV_MSG_HYPERCALL, &req, sizeof(req), -1, &rep, sizeof(rep), NULL,
                       NULL);
    if (rc < 0)
        return -1;
    if (rep.r.ret < 0) {
        errno = (int)-rep.r.ret;
        return -1;
    }
    return (int)rep.r.ret;
}

int xencall0(xencall_handle *xcall, unsigned int op)
{
    return call(xcall, op, 0, 0, 0, 0, 0);
}

int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1)
{
    return call(xcall, op, arg1, 0, 0, 0, 0);
}

int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2)
{
    return call(xcall, op, arg1, arg2, 0, 0, 0);
}

int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3)
{
    return call(xcall, op, arg1, arg2, arg3, 0, 0);
}

int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3,
             uint64_t arg4)
{
    return call(xcall, op, arg1, arg2, arg3, arg4, 0);
}

int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1, uint64_t arg2, uint64_t arg3,
             uint64_t arg4, uint64_t arg5)
{
    return call(xcall, op, arg1, arg2, arg3, arg4, arg5);
}

/* ---- the buffer arena: first fit over a page bitmap ---- */

static bool page_used(const xencall_handle *h, size_t i)
{
    return h->used[i / 64] >> (i % 64) & 1;
}

static void pages_mark(xencall_handle *h, size_t first, size_t n, bool used)
{
    for (size_t i = first; i < first + n; i++) {
        if (used)
            h->used[i / 64] |= 1ull << (i % 64);
        else
            h->used[i / 64] &= ~(1ull << (i % 64));
    }
}

void *xencall_alloc_buffer_pages(xencall_handle *xcall, size_t nr_pages)
{
    size_t start = 0, len = 0;
    void *p = NULL;

    if (!nr_pages || nr_pages > ARENA_PAGES) {
        errno = nr_pages ? ENOMEM : EINVAL;
        return NULL;
    }
    pthread_mutex_lock(&xcall->alloc_lock);
    for (size_t i = 0; i < ARENA_PAGES && len < nr_pages; i++) {
        if (page_used(xcall, i))
            start = i + 1, len = 0;
        else
            len++;
    }
    if (len == nr_pages) {
        pages_mark(xcall, start, nr_pages, true);
        xcall->run[start] = (uint32_t)nr_pages;
        p = xcall->buf + start * ARENA_PAGE;
    }
    pthread_mutex_unlock(&xcall->alloc_lock);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, nr_pages * ARENA_PAGE);
    return p;
}

void xencall_free_buffer_pages(xencall_handle *xcall, void *p, size_t nr_pages)
{
    (void)nr_pages; /* the arena remembers each allocation's size */
    xencall_free_buffer(xcall, p);
}

void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
    return xencall_alloc_buffer_pages(xcall, (size + ARENA_PAGE - 1) / ARENA_PAGE);
}

void xencall_free_buffer(xencall_handle *xcall, void *p)
{
    uint8_t *b = p;
    size_t i;

    if (!p || b < xcall->buf || b >= xcall->buf + ARENA_SIZE)
        return;
    i = (size_t)(b - xcall->buf) / ARENA_PAGE;
    pthread_mutex_lock(&xcall->alloc_lock);
    if ((size_t)(b - xcall->buf) % ARENA_PAGE == 0 && xcall->run[i]) {
        pages_mark(xcall, i, xcall->run[i], false);
        xcall->run[i] = 0;
    }
    pthread_mutex_unlock(&xcall->alloc_lock);
}

/* ---- xhv-specific requests ---- */

ssize_t xhv_console_read(xencall_handle *xcall, uint16_t domid, uint64_t *index, void *buf,
                         size_t size, uint64_t *lost)
{
    uint32_t max = size < XHV_CONSOLE_MAX ? (uint32_t)size : XHV_CONSOLE_MAX;
    struct xhv_console_read req = {.domid = domid, .max = max, .index = *index};
    size_t cap = sizeof(struct xhv_console_read_reply) + max;
    struct xhv_console_read_reply *rep;
    ssize_t ret = -1;
    int rc;

    if (cap < sizeof(struct xhv_error))
        cap = sizeof(struct xhv_error);
    if (!(rep = malloc(cap)))
        return -1;
    rc = xhv_chan_call(&xcall->chan, XHV_MSG_CONSOLE_READ, &req, sizeof(req), -1, rep,
                       (uint32_t)cap, NULL, NULL);
    if (rc == 0 && rep->rc < 0)
        errno = -rep->rc;
    else if (rc == 0 && rep->len > max)
        errno = EPROTO;
    else if (rc == 0) {
        memcpy(buf, rep->data, rep->len);
        if (lost)
            *lost = rep->start > *index ? rep->start - *index : 0;
        *index = rep->index;
        ret = rep->len;
    }
    free(rep);
    return ret;
}
