/* pvh.c: PVH start of day: hvm_start_info v1, command lines, module list and E820 map. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "loader/loader.h"

#define PVH_PAGE_SIZE 4096ULL
#define PVH_CMDLINE_MAX 4095 /* bytes, without the NUL */
#define PVH_4GIB 0x100000000ULL
#define PVH_MEMMAP_MAX                                                                             \
    (sizeof(((struct pvh_layout_out *)0)->memmap) / sizeof(struct hvm_memmap_table_entry))
#define PVH_ALIGN8(x) (((uint64_t)(x) + 7) & ~7ULL)
/* start_info + cmdline + modlist entry + module cmdline + memmap, each 8-byte aligned. */
#define PVH_BLOCK_MAX                                                                              \
    (sizeof(struct hvm_start_info) + 2 * (PVH_CMDLINE_MAX + 1) +                                   \
     sizeof(struct hvm_modlist_entry) + PVH_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) +   \
     16)

_Static_assert(PVH_MEMMAP_MAX >= 3, "low RAM, high RAM and special pages");

/* Where each piece of the start-info block goes: offsets from base (0 = absent). */
struct pvh_block {
    uint64_t base, size;
    uint64_t cmdline, modlist, mod_cmdline, memmap;
};

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Round x up to a page; false if that overflows. */
static bool page_align_up(uint64_t x, uint64_t *out)
{
    if (x > UINT64_MAX - (PVH_PAGE_SIZE - 1))
        return false;
    *out = (x + PVH_PAGE_SIZE - 1) & ~(PVH_PAGE_SIZE - 1);
    return true;
}

static uint64_t pvh_low_end(const struct pvh_layout_in *in)
{
    return in->ram_bytes < in->low_ram_end ? in->ram_bytes : in->low_ram_end;
}

static void memmap_add(struct pvh_layout_out *out, uint64_t addr, uint64_t size, uint32_t type)
{
    unsigned i = out->nr_memmap++;

    /* Insertion keeps the map sorted by address. */
    for (; i > 0 && out->memmap[i - 1].addr > addr; i--)
        out->memmap[i] = out->memmap[i - 1];
    out->memmap[i] = (struct hvm_memmap_table_entry){.addr = addr, .size = size, .type = type};
}

static int pvh_add_special(const struct pvh_layout_in *in, struct pvh_layout_out *out, char *err,
                           size_t errlen)
{
    uint64_t lo = in->special_gfn_lo, nr = in->special_nr;

    if (nr == 0)
        return 0;
    if (lo > (UINT64_MAX >> 12) || nr > (UINT64_MAX >> 12) - lo)
        return fail(err, errlen, "special pages 0x%" PRIx64 " + %" PRIu64 " out of range", lo, nr);
    for (unsigned i = 0; i < out->nr_memmap; i++) {
        const struct hvm_memmap_table_entry *e = &out->memmap[i];
        if ((lo << 12) < e->addr + e->size && e->addr < (lo + nr) << 12)
            return fail(err, errlen, "special pages 0x%" PRIx64 " - 0x%" PRIx64 " overlap RAM",
                        lo << 12, (lo + nr) << 12);
    }
    memmap_add(out, lo << 12, nr << 12, XEN_HVM_MEMMAP_TYPE_RESERVED);
    return 0;
}

static int pvh_build_memmap(const struct pvh_layout_in *in, struct pvh_layout_out *out, char *err,
                            size_t errlen)
{
    uint64_t low_end = pvh_low_end(in);

    if (in->low_ram_end > PVH_4GIB)
        return fail(err, errlen, "low RAM end 0x%" PRIx64 " is above 4 GiB", in->low_ram_end);
    if (in->ram_bytes > in->low_ram_end && in->ram_bytes - in->low_ram_end > UINT64_MAX - PVH_4GIB)
        return fail(err, errlen, "RAM size 0x%" PRIx64 " too large", in->ram_bytes);
    if (low_end)
        memmap_add(out, 0, low_end, XEN_HVM_MEMMAP_TYPE_RAM);
    if (in->ram_bytes > in->low_ram_end)
        memmap_add(out, PVH_4GIB, in->ram_bytes - in->low_ram_end, XEN_HVM_MEMMAP_TYPE_RAM);
    return pvh_add_special(in, out, err, errlen);
}

static int pvh_check_cmdlines(const struct pvh_layout_in *in, char *err, size_t errlen)
{
    if (in->cmdline && strnlen(in->cmdline, PVH_CMDLINE_MAX + 1) > PVH_CMDLINE_MAX)
        return fail(err, errlen, "command line too long (max %d bytes)", PVH_CMDLINE_MAX);
    if (in->module_cmdline && strnlen(in->module_cmdline, PVH_CMDLINE_MAX + 1) > PVH_CMDLINE_MAX)
        return fail(err, errlen, "module command line too long (max %d bytes)", PVH_CMDLINE_MAX);
    return 0;
}

/* Module right above the kernel (page aligned); *top is the first byte after it. */
static int pvh_place_module(const struct pvh_layout_in *in, struct pvh_layout_out *out,
                            uint64_t *top, char *err, size_t errlen)
{
    uint64_t low_end = pvh_low_end(in);

    *top = in->kernel_hi;
    if (!in->module)
        return 0;
    if (!page_align_up(in->kernel_hi, &out->module_gpa) || out->module_gpa > low_end ||
        in->module_len > low_end - out->module_gpa)
        return fail(err, errlen,
                    "module does not fit in memory: 0x%zx bytes above kernel end 0x%" PRIx64
                    ", low RAM ends at 0x%" PRIx64,
                    in->module_len, in->kernel_hi, low_end);
    *top = out->module_gpa + in->module_len;
    return 0;
}

/* Lay out start_info, cmdline, modlist, module cmdline and memmap in one block above top. */
static int pvh_place_block(const struct pvh_layout_in *in, const struct pvh_layout_out *out,
                           uint64_t top, struct pvh_block *b, char *err, size_t errlen)
{
    uint64_t low_end = pvh_low_end(in), off = sizeof(struct hvm_start_info);

    if (in->cmdline) {
        b->cmdline = off;
        off = PVH_ALIGN8(off + strlen(in->cmdline) + 1);
    }
    if (in->module) {
        b->modlist = off;
        off += sizeof(struct hvm_modlist_entry);
    }
    if (in->module && in->module_cmdline) {
        b->mod_cmdline = off;
        off = PVH_ALIGN8(off + strlen(in->module_cmdline) + 1);
    }
    b->memmap = off;
    b->size = off + out->nr_memmap * sizeof(struct hvm_memmap_table_entry);
    if (!page_align_up(top, &b->base) || b->base > low_end || b->size > low_end - b->base)
        return fail(err, errlen,
                    "start info does not fit in memory: 0x%" PRIx64 " bytes above 0x%" PRIx64
                    ", low RAM ends at 0x%" PRIx64,
                    b->size, top, low_end);
    return 0;
}

static uint64_t gpa_of(const struct pvh_block *b, uint64_t off)
{
    return off ? b->base + off : 0;
}

static void pvh_fill_block(const struct pvh_layout_in *in, const struct pvh_layout_out *out,
                           const struct pvh_block *b, uint8_t *buf)
{
    struct hvm_start_info si = {
        .magic = XEN_HVM_START_MAGIC_VALUE,
        .version = 1,
        .nr_modules = in->module ? 1 : 0,
        .modlist_paddr = gpa_of(b, b->modlist),
        .cmdline_paddr = gpa_of(b, b->cmdline),
        .memmap_paddr = out->nr_memmap ? gpa_of(b, b->memmap) : 0,
        .memmap_entries = out->nr_memmap,
    };
    struct hvm_modlist_entry mod = {
        .paddr = out->module_gpa,
        .size = in->module_len,
        .cmdline_paddr = gpa_of(b, b->mod_cmdline),
    };

    memcpy(buf, &si, sizeof(si));
    if (b->cmdline)
        strcpy((char *)buf + b->cmdline, in->cmdline);
    if (b->modlist)
        memcpy(buf + b->modlist, &mod, sizeof(mod));
    if (b->mod_cmdline)
        strcpy((char *)buf + b->mod_cmdline, in->module_cmdline);
    memcpy(buf + b->memmap, out->memmap, out->nr_memmap * sizeof(out->memmap[0]));
}

static int pvh_write(const struct pvh_layout_in *in, const struct pvh_layout_out *out,
                     const struct pvh_block *b, loader_write_fn write, void *ctx, char *err,
                     size_t errlen)
{
    uint8_t buf[PVH_BLOCK_MAX];

    if (b->size > sizeof(buf))
        return fail(err, errlen, "start info block too large (0x%" PRIx64 " bytes)", b->size);
    memset(buf, 0, sizeof(buf));
    pvh_fill_block(in, out, b, buf);
    if (in->module && in->module_len && write(ctx, out->module_gpa, in->module, in->module_len))
        return fail(err, errlen, "failed to write module at 0x%" PRIx64, out->module_gpa);
    if (write(ctx, b->base, buf, b->size))
        return fail(err, errlen, "failed to write start info at 0x%" PRIx64, b->base);
    return 0;
}

int pvh_build_start_info(const struct pvh_layout_in *in, struct pvh_layout_out *out,
                         loader_write_fn write, void *ctx, char *err, size_t errlen)
{
    struct pvh_block b = {0};
    uint64_t top;

    memset(out, 0, sizeof(*out));
    if (pvh_check_cmdlines(in, err, errlen) < 0 || pvh_build_memmap(in, out, err, errlen) < 0 ||
        pvh_place_module(in, out, &top, err, errlen) < 0 ||
        pvh_place_block(in, out, top, &b, err, errlen) < 0 ||
        pvh_write(in, out, &b, write, ctx, err, errlen) < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->start_info_gpa = b.base;
    if (err && errlen)
        err[0] = '\0';
    return 0;
}
