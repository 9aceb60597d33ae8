/* cmd_version.c: `xhv version`. */
#include <stdio.h>

#include "cli/xhv.h"
#include "core/core.h"

int cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("xhv %d.%d%s (Xen %d.%d hypercall ABI, PVH guests on KVM)\n", XHV_VERSION_MAJOR,
           XHV_VERSION_MINOR, XHV_EXTRAVERSION, XHV_VERSION_MAJOR, XHV_VERSION_MINOR);
    return 0;
}
