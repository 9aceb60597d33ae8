/* xen_version.c: XENVER_* sub-ops of xen_version (17), as Xen 4.17's do_xen_version(). */
#include <link.h>
#include <string.h>

#include "core/accel.h"
#include "core/hypercall.h"
#include "core/xsm.h"

#if defined(__clang__)
#define XHV_COMPILER "clang " __clang_version__
#else
#define XHV_COMPILER "gcc " __VERSION__
#endif

/* arch_get_xen_caps() (xen/arch/x86/setup.c) of a Xen without PV support: HVM only,
 * each entry followed by a space, in Xen's order. */
#define XHV_CAPABILITIES "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 "
/* What Xen reports when built outside a repository (xen_changeset()). */
#define XHV_CHANGESET "unavailable"
/* xen_deny(): what a denied string sub-op copies out. */
#define XEN_DENY "<denied>"

/* HYPERVISOR_COMPAT_VIRT_START(d) of an HVM domain is ~0u (arch_domain_create()). */
#define HVM_COMPAT_VIRT_START 0xffffffffu

/*
 * XENFEAT_* an HVM domU of xhv gets in submap 0. hvm_safe_pvclock, as Xen 4.17 sets it for
 * every HVM guest: the pvclock is kept (core/pvclock.c). Xen also sets hvm_pirqs with PIRQs,
 * which xhv has not. hvm_callback_vector: event channels deliver through a vector (per-vCPU, as
 * XEN_HVM_CPUID_UPCALL_VECTOR says; the domain-wide type-2 vector goes through the LAPIC and
 * needs an EOI, unlike Xen's). memory_op_vnode_supported
 * only says XENMEMF_vnode is accepted, which it is (there is no vNUMA, as on a Xen domain
 * without one).
 */
#define XHV_FEATURES                                                                               \
    ((1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |              \
     (1u << XENFEAT_hvm_callback_vector) | (1u << XENFEAT_memory_op_vnode_supported) |             \
     (1u << XENFEAT_not_direct_mapped) | (1u << XENFEAT_hvm_safe_pvclock))

/* Copy a string as Xen's fixed-size char arrays: NUL-terminated, zero-padded to size. */
static long copy_string_out(struct vcpu *v, uint64_t gva, const char *s, size_t size)
{
    char buf[1024];

    if (size > sizeof(buf))
        return -XEN_EINVAL;
    memset(buf, 0, size);
    memcpy(buf, s, strnlen(s, size - 1));
    return copy_to_guest(v, gva, buf, size) ? -XEN_EFAULT : 0;
}

static long xenver_compile_info(struct vcpu *v, uint64_t arg)
{
    struct xen_compile_info info;

    memset(&info, 0, sizeof(info));
    strncpy(info.compiler, XHV_COMPILER, sizeof(info.compiler) - 1);
    strncpy(info.compile_by, "xhv", sizeof(info.compile_by) - 1);
    strncpy(info.compile_domain, "xhv", sizeof(info.compile_domain) - 1);
    strncpy(info.compile_date, __DATE__ " " __TIME__, sizeof(info.compile_date) - 1);
    return copy_to_guest(v, arg, &info, sizeof(info)) ? -XEN_EFAULT : 0;
}
_Static_assert(sizeof(struct xen_compile_info) == 144, "xen_compile_info (same in both ABIs)");

static long xenver_platform_parameters(struct vcpu *v, uint64_t arg)
{
    struct xen_platform_parameters p = {
        .virt_start = v->hcall_compat ? HVM_COMPAT_VIRT_START : HYPERVISOR_VIRT_START,
    };

    return copy_struct_to_guest(v, arg, &p, &xlat_xen_platform_parameters) ? -XEN_EFAULT : 0;
}

static long xenver_get_features(struct vcpu *v, uint64_t arg)
{
    struct xen_feature_info fi;

    if (copy_from_guest(v, &fi, arg, sizeof(fi)))
        return -XEN_EFAULT;
    if (fi.submap_idx != 0)
        return -XEN_EINVAL;
    fi.submap = XHV_FEATURES;
    return copy_to_guest(v, arg, &fi, sizeof(fi)) ? -XEN_EFAULT : 0;
}

static long xenver_commandline(struct vcpu *v, uint64_t arg, bool deny)
{
    if (deny) /* only strlen("<denied>") + 1 bytes */
        return copy_to_guest(v, arg, XEN_DENY, sizeof(XEN_DENY)) ? -XEN_EFAULT : 0;
    return copy_string_out(v, arg, xhv_cmdline, sizeof(xen_commandline_t));
}

struct build_id_note {
    const void *p;
    uint32_t len;
};

/* The GNU build-id note of the xhv binary (Xen: xen_build_id()). */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    struct build_id_note *out = data;

    (void)size;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        for (size_t off = 0; ph->p_type == PT_NOTE && off + sizeof(ElfW(Nhdr)) <= ph->p_memsz;) {
            const ElfW(Nhdr) *n = (const void *)(p + off);
            size_t name = (n->n_namesz + 3) & ~3u, desc = (n->n_descsz + 3) & ~3u;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(n + 1, "GNU", 4)) {
                out->p = (const uint8_t *)(n + 1) + name;
                out->len = n->n_descsz;
                return 1;
            }
            off += sizeof(*n) + name + desc;
        }
    }
    return 1; /* only the first object: the executable itself */
}

static long xenver_build_id(struct vcpu *v, uint64_t arg)
{
    struct build_id_note note = {NULL, 0};
    xen_build_id_t hdr = {0};

    if (arg) {
        if (copy_from_guest(v, &hdr, arg, sizeof(hdr)))
            return -XEN_EFAULT;
        if (hdr.len == 0)
            return -XEN_EINVAL;
    }
    dl_iterate_phdr(find_build_id, &note);
    if (!note.len)
        return -XEN_ENODATA;
    if (!arg)
        return note.len; /* the size only */
    if (note.len > hdr.len)
        return -XEN_ENOBUFS;
    if (copy_to_guest(v, arg + offsetof(xen_build_id_t, buf), note.p, note.len))
        return -XEN_EFAULT;
    return note.len;
}

/* Strings (extraversion, capabilities, changeset) and guest_handle: whole arrays. */
static long xenver_simple(struct vcpu *v, unsigned cmd, uint64_t arg)
{
    switch (cmd) {
    case XENVER_extraversion:
        return copy_string_out(v, arg, XHV_EXTRAVERSION, sizeof(xen_extraversion_t));
    case XENVER_capabilities:
        return copy_string_out(v, arg, XHV_CAPABILITIES, sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return copy_string_out(v, arg, XHV_CHANGESET, sizeof(xen_changeset_info_t));
    default: /* XENVER_guest_handle */
        return copy_to_guest(v, arg, v->domain->handle, sizeof(v->domain->handle)) ? -XEN_EFAULT
                                                                                   : 0;
    }
}

long do_xen_version(struct vcpu *v, const uint64_t args[5])
{
    int cmd = (int)args[0]; /* Xen: int cmd */
    uint64_t arg = args[1];
    /* xsm_xen_version() is computed first; an unknown sub-op is still -ENOSYS for anyone */
    bool deny = xsm_xen_version(v, (uint32_t)cmd) != 0;

    switch (cmd) {
    case XENVER_version:
        return (XHV_VERSION_MAJOR << 16) | XHV_VERSION_MINOR;
    case XENVER_extraversion:
    case XENVER_capabilities:
    case XENVER_changeset:
    case XENVER_guest_handle:
        return xenver_simple(v, (unsigned)cmd, arg);
    case XENVER_compile_info:
        return xenver_compile_info(v, arg);
    case XENVER_platform_parameters:
        return xenver_platform_parameters(v, arg);
    case XENVER_get_features:
        return xenver_get_features(v, arg);
    case XENVER_pagesize: /* the handle must be NULL */
        return arg ? -XEN_EINVAL : (long)PAGE_SIZE;
    case XENVER_commandline:
        return xenver_commandline(v, arg, deny);
    case XENVER_build_id:
        return deny ? -XEN_EPERM : xenver_build_id(v, arg);
    default:
        return hypercall_unimplemented_subop(v, __HYPERVISOR_xen_version, (unsigned)cmd);
    }
}
