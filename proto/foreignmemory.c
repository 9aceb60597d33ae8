/* foreignmemory.c: libxenforeignmemory's API: map another domain's frames via xhvd. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/foreignmemory.h"
#include "proto/xhv_proto.h"

#define FMEM_PAGE 4096ull

struct xenforeignmemory_handle {
    struct xhv_chan chan;
};

xenforeignmemory_handle *xhv_foreignmemory_open_path(const char *path)
{
    xenforeignmemory_handle *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    if (xhv_chan_connect(&h->chan, path) < 0 || xhv_chan_hello(&h->chan, -1, 0, 0) < 0) {
        xenforeignmemory_close(h);
        return NULL;
    }
    return h;
}

xenforeignmemory_handle *xenforeignmemory_open(void *logger, unsigned open_flags)
{
    (void)logger;
    if (open_flags) {
        errno = EINVAL;
        return NULL;
    }
    return xhv_foreignmemory_open_path(NULL);
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    int e = errno;
    if (!fmem)
        return 0;
    xhv_chan_close(&fmem->chan);
    free(fmem);
    errno = e;
    return 0;
}

/* One FOREIGN_MAP round trip: the reply (malloc'd) and the domain's memory fd. */
static struct xhv_foreign_map_reply *map_request(xenforeignmemory_handle *h, uint16_t dom,
                                                 const xen_pfn_t *arr, uint32_t n, int *fd)
{
    struct xhv_foreign_map *req = malloc(xhv_foreign_map_len(n));
    size_t cap = xhv_foreign_map_reply_len(n);
    struct xhv_foreign_map_reply *rep = malloc(cap > 128 ? cap : 128);
    int rc = -1;

    if (!req || !rep)
        goto out;
    *req = (struct xhv_foreign_map){.domid = dom, .nr = n};
    for (uint32_t i = 0; i < n; i++)
        req->gfns[i] = arr[i];
    rc = xhv_chan_call(&h->chan, XHV_MSG_FOREIGN_MAP, req, xhv_foreign_map_len(n), -1, rep,
                       (uint32_t)(cap > 128 ? cap : 128), NULL, fd);
    if (rc == 0 && rep->rc < 0) {
        errno = -rep->rc;
        rc = -1;
    } else if (rc == 0 && (rep->nr != n || *fd < 0)) {
        errno = EPROTO;
        rc = -1;
    }
out:
    free(req);
    if (rc < 0) {
        free(rep);
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        return NULL;
    }
    return rep;
}

/* Map the good pages of one reply at addr, merging runs of consecutive memfd offsets. */
static int map_runs(uint8_t *addr, int prot, int fd, const struct xhv_foreign_map_reply *rep,
                    int *errs)
{
    for (uint32_t i = 0, j; i < rep->nr; i = j) {
        j = i + 1;
        errs[i] = rep->page[i].err;
        if (errs[i])
            continue;
        while (j < rep->nr && !rep->page[j].err &&
               rep->page[j].off == rep->page[j - 1].off + FMEM_PAGE)
            errs[j++] = 0;
        if (mmap(addr + i * FMEM_PAGE, (j - i) * FMEM_PAGE, prot, MAP_SHARED | MAP_FIXED, fd,
                 (off_t)rep->page[i].off) == MAP_FAILED)
            return -1;
    }
    return 0;
}

static int map_chunk(xenforeignmemory_handle *h, uint16_t dom, int prot, uint8_t *addr,
                     const xen_pfn_t *arr, uint32_t n, int *errs)
{
    int fd = -1, rc;
    struct xhv_foreign_map_reply *rep = map_request(h, dom, arr, n, &fd);
    if (!rep)
        return -1;
    rc = map_runs(addr, prot, fd, rep, errs);
    rc = rc < 0 ? errno : 0;
    close(fd);
    free(rep);
    errno = rc;
    return rc ? -1 : 0;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
                           const xen_pfn_t arr[], int err[])
{
    int *errs = err;
    uint8_t *addr;
    size_t done;

    if (!pages || pages > SIZE_MAX / FMEM_PAGE || dom > 0xffff) {
        errno = dom > 0xffff ? ESRCH : EINVAL;
        return NULL;
    }
    if (!errs && !(errs = malloc(pages * sizeof(int))))
        return NULL;
    addr = mmap(NULL, pages * FMEM_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                0);
    if (addr == MAP_FAILED)
        goto fail_free;
    for (done = 0; done < pages;) {
        uint32_t n = pages - done < XHV_MAP_MAX ? (uint32_t)(pages - done) : XHV_MAP_MAX;
        if (map_chunk(fmem, (uint16_t)dom, prot, addr + done * FMEM_PAGE, arr + done, n,
                      errs + done) < 0)
            goto fail;
        done += n;
    }
    for (size_t i = 0; !err && i < pages; i++)
        if (errs[i]) {
            errno = -errs[i];
            goto fail;
        }
    if (!err)
        free(errs);
    return addr;
fail:
    done = (size_t)errno;
    munmap(addr, pages * FMEM_PAGE);
    errno = (int)done;
fail_free:
    if (!err)
        free(errs);
    return NULL;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
    (void)fmem;
    if (!addr || !pages || pages > SIZE_MAX / FMEM_PAGE) {
        errno = EINVAL;
        return -1;
    }
    return munmap(addr, pages * FMEM_PAGE);
}
