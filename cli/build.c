/* build.c: the toolstack domain builder (libxl's domain create + libxenguest's PVH build, the
 * xhv way): only domctl, memory_op, foreign mapping and xenstore, never the core directly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "cli/build.h"
#include "cli/ctl.h"
#include "core/core.h"
#include "loader/domain_build.h"
#include "loader/loader.h"
#include "proto/foreignmemory.h"
#include "xenstore/xs_client.h"

#define SUPERPAGE_ORDER 9 /* 2 MiB extents */
#define POPULATE_BATCH 4096
#define LIBXL_MAXMEM_CONSTANT 1024 /* KiB of slack libxl adds to max_mem */
#define DEFAULT_EVTCHN_PORT 1023   /* libxl's event_channels default */
#define WIN_PAGES 512              /* foreign-mapping window: 2 MiB */

struct build {
    struct xl_ctx *ctx;
    struct xl_config *c;
    uint32_t domid;
    bool created;
    char *err;
    size_t errlen;
    uint8_t *kernel, *ramdisk;
    size_t kernel_len, ramdisk_len;
    struct elf_image img;
    struct pvh_layout_out layout;
    char *cmdline; /* the config's, plus what the builder adds (NULL: the config's) */
};

static int fail(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct build *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_image(struct build *b, const char *path, const char *what, uint8_t **buf,
                      size_t *len)
{
    int e = xl_read_file(path, buf, len);
    return e ? fail(b, "cannot read %s %s: %s", what, path, strerror(e)) : 0;
}

/* ---- createdomain (under the name lock) ---- */

static void default_uuid(struct xl_config *c)
{
    if (!c->uuid_set)
        xl_uuid_generate(c->uuid);
}

/* libxl__domain_make(): a PVH domain is hvm + hap with an emulated LAPIC only. */
static int create(struct build *b)
{
    xc_physinfo_t pi;
    struct xen_domctl_createdomain cd = {
        .ssidref = b->c->ssidref,
        .flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
        .max_vcpus = b->c->maxvcpus,
        .max_evtchn_port = DEFAULT_EVTCHN_PORT,
        .max_grant_frames = -1, /* the hypervisor's defaults, as xl.conf's */
        .max_maptrack_frames = -1,
        .arch.emulation_flags = XEN_X86_EMU_LAPIC,
    };
    memcpy(cd.handle, b->c->uuid, sizeof(cd.handle));
    if (xc_physinfo(b->ctx->xch, &pi) < 0)
        return fail(b, "cannot get host information: %s", strerror(errno));
    /* xl's freemem(): the memory must be free before the domain is made */
    if ((b->c->memory_mib << (20 - PAGE_SHIFT)) > pi.free_pages)
        return fail(b, "not enough free memory for %llu MiB: xhvd has %llu MiB free",
                    (unsigned long long)b->c->memory_mib,
                    (unsigned long long)pi.free_pages >> (20 - PAGE_SHIFT));
    cd.grant_opts = /* max_grant_version as libxl picks it */
        XEN_DOMCTL_GRANT_version(pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2   ? 2
                                 : pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1 ? 1
                                                                                  : 0);
    b->domid = 0; /* the hypervisor picks the id */
    if (xc_domain_create(b->ctx->xch, &b->domid, &cd) < 0)
        return fail(b, "cannot create the domain: %s%s", strerror(errno),
                    errno == EPERM ? " (xhvd refused: not the control domain)" : "");
    b->created = true;
    return 0;
}

static int xs_printf(struct build *b, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int xs_printf(struct build *b, const char *path, const char *fmt, ...)
{
    char v[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(v) || !xs_write(b->ctx->xsh, XBT_NULL, path, v, (unsigned)n))
        return fail(b, "cannot write %s in xenstore: %s", path,
                    n < 0 || (size_t)n >= sizeof(v) ? "value too long" : strerror(errno));
    return 0;
}

/* Name check, createdomain and the name in xenstore, as one step under xl_lock(). */
static int create_named(struct build *b)
{
    char path[128];
    uint32_t other;
    int lock = xl_lock(b->ctx), rc;
    if (xl_name_in_use(b->ctx, b->c->name, &other) == 0) {
        xl_unlock(lock);
        return fail(b, "domain name '%s' is already in use (domain %u)", b->c->name, other);
    }
    rc = create(b);
    if (rc == 0) {
        snprintf(path, sizeof(path), "/local/domain/%u/name", b->domid);
        rc = xs_printf(b, path, "%s", b->c->name);
        if (rc == 0)
            xl_name_index_set(b->ctx, b->c->name, b->domid);
    }
    xl_unlock(lock);
    return rc;
}

/* ---- memory ---- */

/* populate_physmap nr extents of 2^order pages from gfn on. */
static int populate(struct build *b, uint64_t gfn, uint64_t nr, unsigned order)
{
    xen_pfn_t *ext = malloc(POPULATE_BATCH * sizeof(*ext));
    int rc = 0;
    if (!ext)
        return fail(b, "out of memory");
    while (nr && rc == 0) {
        unsigned long n = nr < POPULATE_BATCH ? (unsigned long)nr : POPULATE_BATCH;
        for (unsigned long i = 0; i < n; i++)
            ext[i] = gfn + ((uint64_t)i << order);
        rc = xc_domain_populate_physmap_exact(b->ctx->xch, b->domid, n, order, 0, ext);
        gfn += (uint64_t)n << order, nr -= n;
    }
    free(ext);
    if (rc)
        return fail(b, "cannot populate the domain's memory: %s", strerror(errno));
    return 0;
}

/* [gfn, gfn + nr) in 2 MiB extents where aligned, 4 KiB pages around them (meminit_hvm()). */
static int populate_range(struct build *b, uint64_t gfn, uint64_t nr)
{
    uint64_t sp = 1ull << SUPERPAGE_ORDER;
    uint64_t head = ((gfn + sp - 1) & ~(sp - 1)) - gfn;
    if (head > nr)
        head = nr;
    uint64_t big = (nr - head) >> SUPERPAGE_ORDER, tail = nr - head - (big << SUPERPAGE_ORDER);
    if ((head && populate(b, gfn, head, 0)) ||
        (big && populate(b, gfn + head, big, SUPERPAGE_ORDER)) ||
        (tail && populate(b, gfn + head + (big << SUPERPAGE_ORDER), tail, 0)))
        return -1;
    return 0;
}

static int memory(struct build *b)
{
    uint64_t pages = b->c->memory_mib << (20 - PAGE_SHIFT);
    uint64_t low = XHV_LOW_RAM_END >> PAGE_SHIFT;
    if (xc_domain_max_vcpus(b->ctx->xch, b->domid, b->c->maxvcpus) < 0)
        return fail(b, "cannot set max_vcpus %u: %s", b->c->maxvcpus, strerror(errno));
    if (xc_domain_setmaxmem(b->ctx->xch, b->domid,
                            b->c->maxmem_mib * 1024 + LIBXL_MAXMEM_CONSTANT) < 0)
        return fail(b, "cannot set max_mem: %s", strerror(errno));
    if (populate_range(b, 0, pages < low ? pages : low) ||
        (pages > low && populate_range(b, 1ull << (32 - PAGE_SHIFT), pages - low)) ||
        populate(b, XHV_SPECIAL_GFN(0), X86_HVM_NR_SPECIAL_PAGES, 0))
        return -1;
    return 0;
}

/* ---- loading through foreign mappings ---- */

struct win {
    uint64_t gfn0;
    uint8_t *va;
    int err[WIN_PAGES];
};

/* 2 MiB windows of the guest's RAM mapped on demand for the loader's writes. */
struct gmap {
    struct build *b;
    xenforeignmemory_handle *fmem;
    struct win **w;
    unsigned nr, last;
};

static struct win *gmap_window(struct gmap *m, uint64_t gfn0)
{
    xen_pfn_t arr[WIN_PAGES];
    struct win *w, **nw;
    if (m->nr && m->w[m->last]->gfn0 == gfn0)
        return m->w[m->last];
    for (unsigned i = 0; i < m->nr; i++)
        if (m->w[i]->gfn0 == gfn0)
            return m->w[m->last = i];
    if (!(w = calloc(1, sizeof(*w))) || !(nw = realloc(m->w, (m->nr + 1) * sizeof(*nw)))) {
        free(w);
        return NULL;
    }
    m->w = nw;
    for (unsigned i = 0; i < WIN_PAGES; i++)
        arr[i] = gfn0 + i;
    w->gfn0 = gfn0;
    w->va =
        xenforeignmemory_map(m->fmem, m->b->domid, PROT_READ | PROT_WRITE, WIN_PAGES, arr, w->err);
    if (!w->va) {
        free(w);
        return NULL;
    }
    m->w[m->last = m->nr++] = w;
    return w;
}

static int gmap_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    struct gmap *m = opaque;
    while (len) {
        uint64_t gfn = gpa >> PAGE_SHIFT, off = gpa & (PAGE_SIZE - 1);
        uint64_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
        struct win *w = gmap_window(m, gfn & ~(uint64_t)(WIN_PAGES - 1));
        if (!w || w->err[gfn - w->gfn0])
            return -1;
        uint8_t *dst = w->va + ((gfn - w->gfn0) << PAGE_SHIFT) + off;
        if (src) {
            memcpy(dst, src, n);
            src = (const uint8_t *)src + n;
        } else {
            memset(dst, 0, n);
        }
        gpa += n, len -= n;
    }
    return 0;
}

static void gmap_release(struct gmap *m)
{
    for (unsigned i = 0; i < m->nr; i++) {
        xenforeignmemory_unmap(m->fmem, m->w[i]->va, WIN_PAGES);
        free(m->w[i]);
    }
    free(m->w);
}

/* The guest's E820 for XENMEM_memory_map, as libxl__arch_domain_construct_memmap() sets it. */
static int set_memory_map(struct build *b)
{
    struct xc_e820entry e[8];
    unsigned n = b->layout.nr_memmap < 8 ? b->layout.nr_memmap : 8;
    for (unsigned i = 0; i < n; i++)
        e[i] = (struct xc_e820entry){b->layout.memmap[i].addr, b->layout.memmap[i].size,
                                     b->layout.memmap[i].type};
    if (xc_domain_set_memory_map(b->ctx->xch, b->domid, e, n) < 0 && errno != ENOSYS)
        return fail(b, "cannot set the memory map: %s", strerror(errno));
    return 0; /* ENOSYS: the guest has its map in the start info all the same */
}

/* xhv_evtchn: an unbound port in each peer for the new domain, handed to it on its command
 * line as "xhv.evtchn=PEER:PORT,..." (the way a toolstack hands a guest its console port). */
static int connect_evtchn(struct build *b)
{
    const struct xl_config *c = b->c;
    size_t len = (c->cmdline ? strlen(c->cmdline) : 0) + 16 + 24 * c->nr_evtchn;
    size_t n;

    if (!c->nr_evtchn)
        return 0;
    if (!(b->cmdline = malloc(len)))
        return fail(b, "out of memory");
    n = (size_t)snprintf(b->cmdline, len, "%s%sxhv.evtchn=", c->cmdline ? c->cmdline : "",
                         c->cmdline && *c->cmdline ? " " : "");
    for (unsigned i = 0; i < c->nr_evtchn; i++) {
        const char *peer = c->evtchn_peers[i];
        uint32_t id;
        int port;
        if (strspn(peer, "0123456789") == strlen(peer)) {
            unsigned long n = strtoul(peer, NULL, 10);
            if (strlen(peer) > 5 || n >= DOMID_FIRST_RESERVED)
                return fail(b, "xhv_evtchn: `%s' is not a domain id", peer);
            id = (uint32_t)n;
        } else if (xl_name_to_domid(b->ctx, peer, &id))
            return fail(b, "xhv_evtchn: no domain named `%s'", peer);
        if ((port = xc_evtchn_alloc_unbound(b->ctx->xch, id, b->domid)) < 0)
            return fail(b, "xhv_evtchn: cannot allocate a port in domain %u: %s", id,
                        strerror(errno));
        n += (size_t)snprintf(b->cmdline + n, len - n, "%s%u:%d", i ? "," : "", id, port);
    }
    return 0;
}

static int load(struct build *b)
{
    char why[200];
    struct gmap m = {.b = b, .fmem = xl_ctx_fmem(b->ctx)};
    const struct pvh_build_args args = {.module = b->ramdisk,
                                        .module_len = b->ramdisk_len,
                                        .cmdline = b->cmdline ? b->cmdline : b->c->cmdline};
    int rc;
    if (!m.fmem)
        return fail(b, "cannot open a foreign-memory connection to xhvd: %s", strerror(errno));
    why[0] = 0;
    rc = pvh_load(&b->img, &args, b->c->memory_mib << 20, gmap_write, &m, &b->layout, why,
                  sizeof(why));
    gmap_release(&m);
    if (rc)
        return fail(b, "%s: %s", b->c->kernel,
                    why[0] ? why : "cannot write into the domain's memory");
    return set_memory_map(b);
}

/* ---- the boot vCPU: xc_dom_x86.c vcpu_hvm() ---- */

/* The header record of the domain's full HVM context (only the hypervisor can make one). */
static int get_header(struct build *b, struct bsp_ctx *bsp)
{
    size_t hlen = sizeof(struct hvm_save_descriptor) + HVM_SAVE_LENGTH(HEADER);
    int size = xc_domain_hvm_getcontext(b->ctx->xch, b->domid, NULL, 0);
    uint8_t *full;
    if (size <= 0)
        return fail(b, "cannot get the HVM context size: %s", size < 0 ? strerror(errno) : "empty");
    if (!(full = calloc(1, (size_t)size)))
        return fail(b, "out of memory");
    size = xc_domain_hvm_getcontext(b->ctx->xch, b->domid, full, (uint32_t)size);
    const struct hvm_save_descriptor *d = (const void *)full;
    if (size < (int)hlen || d->typecode != HVM_SAVE_CODE(HEADER) ||
        d->length != HVM_SAVE_LENGTH(HEADER)) {
        free(full);
        return fail(b, "cannot get the HVM context: %s",
                    size < 0 ? strerror(errno) : "no HEADER record first");
    }
    memcpy(bsp, full, hlen);
    free(full);
    return 0;
}

/* PVH entry: 32-bit protected mode, paging off, flat CS/DS/ES/SS, TR, EBX = start info. */
static void pvh_cpu(HVM_SAVE_TYPE(CPU) * cpu, uint32_t entry, uint64_t start_info)
{
    static const uint16_t fcw = 0x37f;
    static const uint8_t ftw = 0xff;
    static const uint32_t mxcsr = 0x1f80;
    cpu->cs_base = cpu->ds_base = cpu->es_base = cpu->ss_base = cpu->tr_base = 0;
    cpu->cs_limit = cpu->ds_limit = cpu->es_limit = cpu->ss_limit = ~0u;
    cpu->tr_limit = 0x67;
    cpu->cs_arbytes = 0xc9b;
    cpu->ds_arbytes = cpu->es_arbytes = cpu->ss_arbytes = 0xc93;
    cpu->tr_arbytes = 0x8b;
    cpu->cr0 = 0x11; /* X86_CR0_PE | X86_CR0_ET */
    cpu->rflags = 0x2;
    /* FPU state after fninit; ldmxcsr 0x1f80 (FXSAVE layout: fcw @0, ftw @4, mxcsr @24) */
    memcpy(cpu->fpu_regs + 0, &fcw, sizeof(fcw));
    memcpy(cpu->fpu_regs + 4, &ftw, sizeof(ftw));
    memcpy(cpu->fpu_regs + 24, &mxcsr, sizeof(mxcsr));
    cpu->rip = entry;
    cpu->rbx = start_info;
}

static int boot_vcpu(struct build *b)
{
    struct bsp_ctx bsp;
    memset(&bsp, 0, sizeof(bsp));
    if (get_header(b, &bsp))
        return -1;
    bsp.cpu_d.typecode = HVM_SAVE_CODE(CPU);
    bsp.cpu_d.instance = 0;
    bsp.cpu_d.length = HVM_SAVE_LENGTH(CPU);
    pvh_cpu(&bsp.cpu, b->img.pvh_entry, b->layout.start_info_gpa);
    bsp.end_d.typecode = HVM_SAVE_CODE(END);
    bsp.end_d.instance = 0;
    bsp.end_d.length = HVM_SAVE_LENGTH(END);
    if (xc_domain_hvm_setcontext(b->ctx->xch, b->domid, (const uint8_t *)&bsp, sizeof(bsp)) < 0)
        return fail(b, "cannot set the boot vCPU's state: %s", strerror(errno));
    return 0;
}

/* ---- xenstore: what libxl writes that xhv can honour now ---- */

static int write_xenstore(struct build *b)
{
    char uuid[37], dom[64], vm[64], path[160], cfgtext[4096];
    const struct xl_config *c = b->c;
    struct timespec now;
    xl_uuid_format(c->uuid, uuid);
    snprintf(dom, sizeof(dom), "/local/domain/%u", b->domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    clock_gettime(CLOCK_REALTIME, &now);
#define W(fmtpath, leaf, ...)                                                                      \
    (snprintf(path, sizeof(path), "%s/%s", fmtpath, leaf), xs_printf(b, path, __VA_ARGS__))
    if (W(dom, "domid", "%u", b->domid) || W(dom, "vm", "%s", vm) ||
        W(dom, "memory/static-max", "%llu", (unsigned long long)c->maxmem_mib * 1024) ||
        W(dom, "memory/target", "%llu", (unsigned long long)c->memory_mib * 1024) ||
        W(vm, "uuid", "%s", uuid) || W(vm, "name", "%s", c->name) ||
        W(vm, "start_time", "%lld.%02ld", (long long)now.tv_sec, now.tv_nsec / 10000000))
        return -1;
    for (unsigned i = 0; i < c->maxvcpus; i++) {
        char leaf[32];
        snprintf(leaf, sizeof(leaf), "cpu/%u/availability", i);
        if (W(dom, leaf, "%s", i < c->vcpus ? "online" : "offline"))
            return -1;
    }
    snprintf(dom, sizeof(dom), "/libxl/%u", b->domid);
    if (xl_config_format(c, cfgtext, sizeof(cfgtext)) >= sizeof(cfgtext))
        return fail(b, "the domain's config is too long for xenstore");
    if (W(dom, "type", "pvh") || W(dom, "xhv_config", "%s", cfgtext))
        return -1;
#undef W
    return 0;
}

int xhv_build_domain(struct xl_ctx *ctx, struct xl_config *c, bool paused, uint32_t *domid,
                     char *err, size_t errlen)
{
    struct build b = {.ctx = ctx, .c = c, .err = err, .errlen = errlen};
    int rc = -1;
    char why[200];
    default_uuid(c);
    if (read_image(&b, c->kernel, "kernel", &b.kernel, &b.kernel_len) ||
        (c->ramdisk && read_image(&b, c->ramdisk, "ramdisk", &b.ramdisk, &b.ramdisk_len)))
        goto out;
    if (elf_parse(&b.img, b.kernel, b.kernel_len, why, sizeof(why))) {
        fail(&b, "%s: %s", c->kernel, why);
        goto out;
    }
    if (create_named(&b) || connect_evtchn(&b) || memory(&b) || load(&b) || boot_vcpu(&b) ||
        write_xenstore(&b))
        goto out;
    if (!paused && xc_domain_unpause(ctx->xch, b.domid) < 0) {
        fail(&b, "cannot unpause the domain: %s", strerror(errno));
        goto out;
    }
    *domid = b.domid;
    rc = 0;
out:
    if (rc && b.created)
        xl_domain_destroy(ctx, b.domid); /* a half-built domain never stays */
    free(b.kernel);
    free(b.ramdisk);
    free(b.cmdline);
    return rc;
}

int xhv_domain_config(struct xl_ctx *ctx, uint32_t domid, struct xl_config *c)
{
    char path[64];
    unsigned len;
    struct xlcfg cfg = {0};
    FILE *null = fopen("/dev/null", "w");
    char *text, *name;
    int rc = -1;
    snprintf(path, sizeof(path), "/libxl/%u/xhv_config", domid);
    if (!null || !ctx->xsh || !(text = xs_read(ctx->xsh, XBT_NULL, path, &len))) {
        if (null)
            fclose(null);
        return -1;
    }
    if (xlcfg_parse(&cfg, path, text, len, null) == 0 && xl_config_from_cfg(&cfg, c, null) == 0)
        rc = 0;
    if (rc == 0 && (name = xl_domid_to_name(ctx, domid))) {
        snprintf(c->name, sizeof(c->name), "%s", name); /* renamed since? */
        free(name);
    }
    xlcfg_free(&cfg);
    free(text);
    fclose(null);
    return rc;
}
