/* domain_build.c: glue between the pure loader and a domain: RAM writes, E820, PVH entry state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accel.h"
#include "core/core.h"
#include "loader/domain_build.h"
#include "loader/loader.h"

static int write_gpa(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
    struct domain *d = ctx;
    static const uint8_t zero[4096];
    if (src)
        return copy_to_gpa(d, gpa, src, len) ? -1 : 0;
    while (len) {
        uint64_t n = len < sizeof(zero) ? len : sizeof(zero);
        if (copy_to_gpa(d, gpa, zero, n))
            return -1;
        gpa += n, len -= n;
    }
    return 0;
}

/* PVH entry state: 32-bit protected mode, paging off, flat segments, EBX = start info. */
static void pvh_entry_state(struct vcpu_init_state *s, uint32_t entry, uint64_t start_info)
{
    const struct seg_init code = {0, 0xffffffff, 0x08, 0xc9b};
    const struct seg_init data = {0, 0xffffffff, 0x10, 0xc93};
    memset(s, 0, sizeof(*s));
    s->rip = entry;
    s->rflags = 0x2;
    s->cr0 = 0x11; /* PE | ET */
    s->gpr[R_BX] = start_info;
    s->cs = code;
    s->ds = s->es = s->ss = s->fs = s->gs = data;
    s->tr = (struct seg_init){0, 0x67, 0, 0x8b};
}

static int record_memmap(struct domain *d, const struct pvh_layout_out *o)
{
    struct hvm_memmap_table_entry *m = calloc(o->nr_memmap, sizeof(*m));
    if (!m)
        return -1;
    memcpy(m, o->memmap, o->nr_memmap * sizeof(*m));
    free(d->memmap);
    d->memmap = m;
    d->nr_memmap = o->nr_memmap;
    return 0;
}

int pvh_load(const struct elf_image *img, const struct pvh_build_args *a, uint64_t ram,
             loader_write_fn write, void *ctx, struct pvh_layout_out *out, char *err, size_t errlen)
{
    struct pvh_layout_in in = {
        .ram_bytes = ram,
        .low_ram_end = XHV_LOW_RAM_END,
        .cmdline = a->cmdline,
        .module = a->module,
        .module_len = a->module_len,
        .kernel_lo = img->lowest,
        .kernel_hi = img->highest,
        .special_gfn_lo = XHV_SPECIAL_GFN(0),
        .special_nr = X86_HVM_NR_SPECIAL_PAGES,
    };
    if (elf_load(img, ram < XHV_LOW_RAM_END ? ram : XHV_LOW_RAM_END, write, ctx, err, errlen))
        return -1;
    return pvh_build_start_info(&in, out, write, ctx, err, errlen);
}

int pvh_build_domain(struct domain *d, const struct pvh_build_args *a, char *err, size_t errlen)
{
    struct elf_image img;
    struct pvh_layout_out out;
    struct vcpu_init_state s;
    uint64_t ram = d->p2m.ram_pages << PAGE_SHIFT;
    if (elf_parse(&img, a->kernel, a->kernel_len, err, errlen) ||
        pvh_load(&img, a, ram, write_gpa, d, &out, err, errlen))
        return -1;
    if (record_memmap(d, &out)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pvh_entry_state(&s, img.pvh_entry, out.start_info_gpa);
    if (vcpu_load_state(d->vcpu[0], &s)) {
        snprintf(err, errlen, "cannot set the boot vCPU state");
        return -1;
    }
    return 0;
}
