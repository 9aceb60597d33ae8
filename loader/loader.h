/* loader.h: ELF + PVH loading on a buffer (pure, fuzzable) and PVH start-of-day layout. */
#ifndef XHV_LOADER_H
#define XHV_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/xen_abi.h"

#define ELF_MAX_SEGMENTS 32

struct elf_segment {
    uint64_t paddr; /* guest-physical load address */
    uint64_t filesz, memsz;
    uint64_t offset; /* in the image */
};

struct elf_image {
    const uint8_t *buf;
    size_t len;
    unsigned elf_class; /* 32 or 64 */
    unsigned machine;   /* EM_X86_64 or EM_386 */
    uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY (0 is valid) */
    struct elf_segment seg[ELF_MAX_SEGMENTS];
    unsigned nr_seg;
    uint64_t lowest, highest; /* [lowest, highest) covered by PT_LOADs */
};

/* Parse and validate an image. Returns 0, or -1 with a one-line reason in err. */
int elf_parse(struct elf_image *img, const uint8_t *buf, size_t len, char *err, size_t errlen);

/*
 * Place the PT_LOADs into guest memory through `write` (gpa, src or NULL for zero fill, len);
 * every segment must fit in [0, ram_end) and avoid `reserved` ranges. 0 or -1 + err.
 */
typedef int (*loader_write_fn)(void *ctx, uint64_t gpa, const void *src, uint64_t len);
int elf_load(const struct elf_image *img, uint64_t ram_end, loader_write_fn write, void *ctx,
             char *err, size_t errlen);

/* What the PVH start-of-day builder needs to know. */
struct pvh_layout_in {
    uint64_t ram_bytes;    /* total RAM */
    uint64_t low_ram_end;  /* RAM below 4 GiB ends here (rest is above 4 GiB) */
    const char *cmdline;   /* may be NULL */
    const uint8_t *module; /* initrd, may be NULL */
    size_t module_len;
    const char *module_cmdline;          /* may be NULL */
    uint64_t kernel_lo, kernel_hi;       /* [lo, hi) used by the kernel's PT_LOADs */
    uint64_t special_gfn_lo, special_nr; /* reserved special pages */
};

struct pvh_layout_out {
    uint64_t start_info_gpa; /* EBX at entry */
    uint64_t module_gpa;
    struct hvm_memmap_table_entry memmap[8];
    unsigned nr_memmap;
};

/*
 * Build hvm_start_info v1, cmdline, module list and E820 map and write them through `write`.
 * Places the module (page aligned) above the kernel and the start info page above that.
 * 0 or -1 + err (e.g. "module does not fit in memory").
 */
int pvh_build_start_info(const struct pvh_layout_in *in, struct pvh_layout_out *out,
                         loader_write_fn write, void *ctx, char *err, size_t errlen);

#endif
