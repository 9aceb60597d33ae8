/* domain_build.h: build a PVH domain's memory and boot vCPU from a kernel image (not pure). */
#ifndef XHV_DOMAIN_BUILD_H
#define XHV_DOMAIN_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct domain;

struct pvh_build_args {
    const uint8_t *kernel;
    size_t kernel_len;
    const uint8_t *module; /* initrd, optional */
    size_t module_len;
    const char *cmdline; /* optional */
};

struct elf_image;
struct pvh_layout_out;
/* Write a parsed kernel and its start info into a domain of ram bytes through write(ctx, ...)
 * with xhv's layout (RAM below XHV_LOW_RAM_END, then above 4 GiB; the special pages
 * reserved): the one PVH load both `xhv run` and the toolstack builder do. 0, or -1 with a
 * reason in err (possibly empty if only a write failed). */
int pvh_load(const struct elf_image *img, const struct pvh_build_args *a, uint64_t ram,
             int (*write)(void *ctx, uint64_t gpa, const void *src, uint64_t len), void *ctx,
             struct pvh_layout_out *out, char *err, size_t errlen);

/* Load the kernel and start info into d's RAM, record the E820 map and set vCPU 0 to the
 * PVH entry state. 0, or -1 with a one-line reason in err. */
int pvh_build_domain(struct domain *d, const struct pvh_build_args *a, char *err, size_t errlen);

#endif
