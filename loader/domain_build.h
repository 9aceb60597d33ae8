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

/* Load the kernel and start info into d's RAM, record the E820 map and set vCPU 0 to the
 * PVH entry state. 0, or -1 with a one-line reason in err. */
int pvh_build_domain(struct domain *d, const struct pvh_build_args *a, char *err, size_t errlen);

#endif
