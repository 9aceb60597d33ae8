/* compat.c: the one 32-bit caller translation layer: field tables and struct copies in/out. */
#include <string.h>

#include "core/compat.h"
#include "compat_layout.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MEMBER_SIZE(s, f) sizeof(((struct s *)0)->f)

/* clang-format off */ /* (macro tables read better laid out by hand) */

/* Signedness comes from the native field's type, not from a hand-written flag. */
#define FIELD_SIGNED(s, f)                                                                  \
    _Generic((((struct s *)0)->f), char: true, signed char: true, short: true, int: true,  \
             long: true, long long: true, default: false)

/*
 * The fields of each translated struct, in declaration order. Compat offsets and sizes come
 * from build/gen/compat_layout.h (Xen's headers compiled with -m32), native ones from the
 * x86-64 build: nothing here is a typed-in layout.
 */
#define FIELDS_xen_add_to_physmap(F)                                                        \
    F(xen_add_to_physmap, domid) F(xen_add_to_physmap, size) F(xen_add_to_physmap, space)  \
    F(xen_add_to_physmap, idx) F(xen_add_to_physmap, gpfn)
#define FIELDS_xen_memory_map(F) F(xen_memory_map, nr_entries) F(xen_memory_map, buffer)
#define FIELDS_xen_memory_reservation(F)                                                    \
    F(xen_memory_reservation, extent_start) F(xen_memory_reservation, nr_extents)          \
    F(xen_memory_reservation, extent_order) F(xen_memory_reservation, mem_flags)           \
    F(xen_memory_reservation, domid)
#define FIELDS_vcpu_runstate_info(F)                                                        \
    F(vcpu_runstate_info, state) F(vcpu_runstate_info, state_entry_time)                   \
    F(vcpu_runstate_info, time)
#define FIELDS_xen_platform_parameters(F) F(xen_platform_parameters, virt_start)
#define FIELDS_xen_add_to_physmap_batch(F)                                                  \
    F(xen_add_to_physmap_batch, domid) F(xen_add_to_physmap_batch, space)                  \
    F(xen_add_to_physmap_batch, size) F(xen_add_to_physmap_batch, u)                        \
    F(xen_add_to_physmap_batch, idxs) F(xen_add_to_physmap_batch, gpfns)                    \
    F(xen_add_to_physmap_batch, errs)
#define FIELDS_xen_remove_from_physmap(F)                                                   \
    F(xen_remove_from_physmap, domid) F(xen_remove_from_physmap, gpfn)
#define FIELDS_sched_poll(F) F(sched_poll, ports) F(sched_poll, nr_ports) F(sched_poll, timeout)
#define FIELDS_vcpu_set_singleshot_timer(F)                                                 \
    F(vcpu_set_singleshot_timer, timeout_abs_ns) F(vcpu_set_singleshot_timer, flags)

#define XLAT_ENTRY(s, f)                                                                    \
    { offsetof(struct s, f), MEMBER_SIZE(s, f), COMPAT_##s##__##f##_OFF,                   \
      COMPAT_##s##__##f##_SIZE, FIELD_SIGNED(s, f) },

/* Per field: only widening, only of scalars (arrays and structs must match exactly). */
#define XLAT_ASSERT(s, f)                                                                   \
    _Static_assert(COMPAT_##s##__##f##_SIZE <= MEMBER_SIZE(s, f), #s "." #f " narrows");   \
    _Static_assert(COMPAT_##s##__##f##_SIZE == MEMBER_SIZE(s, f) || MEMBER_SIZE(s, f) <= 8, \
                   #s "." #f ": only scalars may change size");                            \
    _Static_assert(COMPAT_##s##__##f##_SIZE > 0, #s "." #f " is empty");

#define XLAT_TABLE(s)                                                                       \
    FIELDS_##s(XLAT_ASSERT)                                                                 \
    static const struct xlat_field fields_##s[] = { FIELDS_##s(XLAT_ENTRY) };               \
    _Static_assert(ARRAY_SIZE(fields_##s) == COMPAT_##s##_NR_FIELDS,                        \
                   #s ": table and tools/gen_compat.c list different fields");             \
    _Static_assert(COMPAT_##s##_SIZE <= XLAT_MAX_COMPAT, #s " too big");                    \
    _Static_assert(COMPAT_##s##_SIZE <= sizeof(struct s), #s " compat larger than native"); \
    const struct xlat_struct xlat_##s = { #s, sizeof(struct s), COMPAT_##s##_SIZE,          \
                                          fields_##s, ARRAY_SIZE(fields_##s) }

XLAT_TABLE(xen_add_to_physmap);
XLAT_TABLE(xen_memory_map);
XLAT_TABLE(xen_memory_reservation);
XLAT_TABLE(vcpu_runstate_info);
XLAT_TABLE(xen_platform_parameters);
XLAT_TABLE(xen_add_to_physmap_batch);
XLAT_TABLE(xen_remove_from_physmap);
XLAT_TABLE(sched_poll);
XLAT_TABLE(vcpu_set_singleshot_timer);
/* clang-format on */

const struct xlat_struct *const xlat_tables[] = {
    &xlat_xen_add_to_physmap,       &xlat_xen_memory_map,          &xlat_xen_memory_reservation,
    &xlat_vcpu_runstate_info,       &xlat_xen_platform_parameters, &xlat_sched_poll,
    &xlat_xen_add_to_physmap_batch, &xlat_xen_remove_from_physmap, &xlat_vcpu_set_singleshot_timer,
};
const unsigned xlat_nr_tables = ARRAY_SIZE(xlat_tables);

/* Compat value at src (csize bytes) into dst (nsize >= csize bytes), little-endian. */
static void widen(uint8_t *dst, unsigned nsize, const uint8_t *src, unsigned csize, bool sign)
{
    uint64_t val = 0;

    if (nsize == csize) {
        memcpy(dst, src, nsize);
        return;
    }
    memcpy(&val, src, csize); /* csize < nsize <= 8 */
    if (sign && (val >> (8 * csize - 1)) & 1)
        val |= ~0ULL << (8 * csize);
    memcpy(dst, &val, nsize);
}

int copy_struct_from_guest(struct vcpu *v, void *native, uint64_t gva, const struct xlat_struct *x)
{
    uint8_t buf[XLAT_MAX_COMPAT];
    int rc;

    if (!v->hcall_compat)
        return copy_from_guest(v, native, gva, x->native_size);
    if (x->compat_size > sizeof(buf))
        return -XEN_EINVAL;
    rc = copy_from_guest(v, buf, gva, x->compat_size);
    if (rc)
        return rc;
    memset(native, 0, x->native_size);
    for (unsigned i = 0; i < x->nr_fields; i++) {
        const struct xlat_field *f = &x->fields[i];
        widen((uint8_t *)native + f->native_off, f->native_size, buf + f->compat_off,
              f->compat_size, f->is_signed);
    }
    return 0;
}

/* Narrowing keeps the low bytes (little-endian): the caller checks ranges it cares about. */
int copy_struct_to_guest(struct vcpu *v, uint64_t gva, const void *native,
                         const struct xlat_struct *x)
{
    return copy_struct_to_guest_layout(v, gva, native, x, v->hcall_compat);
}

int copy_struct_to_guest_layout(struct vcpu *v, uint64_t gva, const void *native,
                                const struct xlat_struct *x, bool compat)
{
    uint8_t buf[XLAT_MAX_COMPAT];

    if (!compat)
        return copy_to_guest(v, gva, native, x->native_size);
    if (x->compat_size > sizeof(buf))
        return -XEN_EINVAL;
    memset(buf, 0, x->compat_size);
    for (unsigned i = 0; i < x->nr_fields; i++) {
        const struct xlat_field *f = &x->fields[i];
        memcpy(buf + f->compat_off, (const uint8_t *)native + f->native_off, f->compat_size);
    }
    return copy_to_guest(v, gva, buf, x->compat_size);
}

static bool overlaps(unsigned a_off, unsigned a_len, unsigned b_off, unsigned b_len)
{
    return a_off < b_off + b_len && b_off < a_off + a_len;
}

/* Bytes between end and the next field start (or size): padding is always < 8 bytes. */
static bool gap_ok(const struct xlat_struct *x, unsigned end, bool native)
{
    unsigned next = native ? x->native_size : x->compat_size;

    for (unsigned j = 0; j < x->nr_fields; j++) {
        const struct xlat_field *g = &x->fields[j];
        unsigned off = native ? g->native_off : g->compat_off;
        if (off >= end && off < next)
            next = off;
    }
    return end <= next && next - end < 8;
}

static bool field_ok(const struct xlat_struct *x, unsigned i)
{
    const struct xlat_field *f = &x->fields[i];

    if (!f->compat_size || f->compat_size > f->native_size ||
        (f->compat_size != f->native_size && f->native_size > 8))
        return false;
    if (f->native_off + f->native_size > x->native_size ||
        f->compat_off + f->compat_size > x->compat_size)
        return false;
    for (unsigned j = 0; j < i; j++) {
        const struct xlat_field *g = &x->fields[j];
        if (overlaps(f->native_off, f->native_size, g->native_off, g->native_size) ||
            overlaps(f->compat_off, f->compat_size, g->compat_off, g->compat_size))
            return false;
    }
    return gap_ok(x, f->native_off + f->native_size, true) &&
           gap_ok(x, f->compat_off + f->compat_size, false);
}

int xlat_check(const struct xlat_struct *x)
{
    if (!x->nr_fields || x->compat_size > x->native_size || x->compat_size > XLAT_MAX_COMPAT)
        return -XEN_EINVAL;
    if (!gap_ok(x, 0, true) || !gap_ok(x, 0, false))
        return -XEN_EINVAL;
    for (unsigned i = 0; i < x->nr_fields; i++)
        if (!field_ok(x, i))
            return -XEN_EINVAL;
    return 0;
}

int compat_selfcheck(void)
{
    for (unsigned i = 0; i < xlat_nr_tables; i++) {
        if (xlat_check(xlat_tables[i])) {
            xhv_log(LOG_ERR, "compat: translation table %s is inconsistent", xlat_tables[i]->name);
            return -XEN_EINVAL;
        }
    }
    return 0;
}
