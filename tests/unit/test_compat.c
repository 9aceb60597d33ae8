/* test_compat.c: unit tests for the 32-bit caller translation tables and struct copies. */
#include <stdbool.h>
#include <string.h>

#include "compat_layout.h"
#include "core/accel.h"
#include "core/compat.h"
#include "core/core.h"
#include "tests/unit/harness.h"

static const struct accel_ops compat_ops = {.name = "compat-test"};

#define G_IN 0x10000ULL  /* guest addresses (paging off): where the test puts an image */
#define G_OUT 0x20000ULL /* where copy_struct_to_guest writes */
#define SENTINEL 0xcc

struct cenv {
    struct domain *d;
    struct vcpu v;
};

static bool cenv_init(struct cenv *e)
{
    struct domain_config cfg = {.mem_bytes = 4ULL << 20, .max_vcpus = 1, .name = "compat"};
    int err = 0;
    memset(e, 0, sizeof(*e));
    e->d = domain_create(0, &cfg, &compat_ops, &err);
    CHECK_EQ(err, 0);
    e->v.domain = e->d;
    e->v.hcall_compat = true; /* paging off: linear == physical */
    return e->d != NULL;
}

/* Little-endian store of size bytes of val into an image. */
static void put(uint8_t *img, unsigned off, unsigned size, uint64_t val)
{
    memcpy(img + off, &val, size);
}

static uint64_t get(const uint8_t *img, unsigned off, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, img + off, size);
    return v;
}

#define CPUT(img, s, f, val) put(img, COMPAT_##s##__##f##_OFF, COMPAT_##s##__##f##_SIZE, val)
#define CGET(img, s, f) get(img, COMPAT_##s##__##f##_OFF, COMPAT_##s##__##f##_SIZE)

/* Put img in the guest, translate in, check, translate out to G_OUT, compare bytes. */
static void round_trip(struct cenv *e, const struct xlat_struct *x, const uint8_t *img,
                       void *native)
{
    uint8_t out[XLAT_MAX_COMPAT + 1];
    memset(native, 0xee, x->native_size);
    CHECK_EQ(copy_to_gpa(e->d, G_IN, img, x->compat_size), 0);
    CHECK_EQ(copy_struct_from_guest(&e->v, native, G_IN, x), 0);
    memset(out, SENTINEL, sizeof(out));
    CHECK_EQ(copy_to_gpa(e->d, G_OUT, out, sizeof(out)), 0);
    CHECK_EQ(copy_struct_to_guest(&e->v, G_OUT, native, x), 0);
    CHECK_EQ(copy_from_gpa(e->d, out, G_OUT, x->compat_size + 1), 0);
    CHECK(!memcmp(out, img, x->compat_size));
    CHECK_EQ(out[x->compat_size], SENTINEL); /* nothing past the compat struct */
}

TEST(compat_selfcheck_ok)
{
    CHECK_EQ(compat_selfcheck(), 0);
    CHECK_EQ(xlat_nr_tables, 9);
    for (unsigned i = 0; i < xlat_nr_tables; i++)
        CHECK_EQ(xlat_check(xlat_tables[i]), 0);
    CHECK_EQ(xlat_vcpu_runstate_info.compat_size, COMPAT_vcpu_runstate_info_SIZE);
    CHECK_EQ(xlat_vcpu_runstate_info.native_size, sizeof(struct vcpu_runstate_info));
    /* signedness comes from the native type */
    CHECK(xlat_vcpu_runstate_info.fields[0].is_signed);      /* int state */
    CHECK(!xlat_xen_memory_reservation.fields[0].is_signed); /* handle */
    CHECK(!xlat_xen_add_to_physmap.fields[3].is_signed);     /* xen_ulong_t idx */
}

TEST(compat_add_to_physmap)
{
    struct cenv e;
    uint8_t img[COMPAT_xen_add_to_physmap_SIZE] = {0};
    struct xen_add_to_physmap n;
    if (!cenv_init(&e))
        return;
    CPUT(img, xen_add_to_physmap, domid, DOMID_SELF);
    CPUT(img, xen_add_to_physmap, size, 0x1234);
    CPUT(img, xen_add_to_physmap, space, XENMAPSPACE_gmfn_range);
    CPUT(img, xen_add_to_physmap, idx, 0xfedcba98);
    CPUT(img, xen_add_to_physmap, gpfn, 0x87654321);
    round_trip(&e, &xlat_xen_add_to_physmap, img, &n);
    CHECK_EQ(n.domid, DOMID_SELF);
    CHECK_EQ(n.size, 0x1234);
    CHECK_EQ(n.space, XENMAPSPACE_gmfn_range);
    CHECK_EQ(n.idx, 0xfedcba98ULL); /* zero-extended */
    CHECK_EQ(n.gpfn, 0x87654321ULL);
    domain_destroy(e.d);
}

TEST(compat_memory_map_handle)
{
    struct cenv e;
    uint8_t img[COMPAT_xen_memory_map_SIZE] = {0};
    struct xen_memory_map n;
    if (!cenv_init(&e))
        return;
    CPUT(img, xen_memory_map, nr_entries, 0x80000003);
    CPUT(img, xen_memory_map, buffer, 0xc0001000);
    round_trip(&e, &xlat_xen_memory_map, img, &n);
    CHECK_EQ(n.nr_entries, 0x80000003u);
    CHECK_EQ(guest_handle_addr(n.buffer), 0xc0001000ULL); /* a handle is unsigned */
    domain_destroy(e.d);
}

TEST(compat_memory_reservation)
{
    struct cenv e;
    uint8_t img[COMPAT_xen_memory_reservation_SIZE] = {0}, out[sizeof(img)];
    struct xen_memory_reservation n;
    if (!cenv_init(&e))
        return;
    CPUT(img, xen_memory_reservation, extent_start, 0xffff0000);
    CPUT(img, xen_memory_reservation, nr_extents, 0x90000000);
    CPUT(img, xen_memory_reservation, extent_order, 9);
    CPUT(img, xen_memory_reservation, mem_flags, 0xa5a5a5a5);
    CPUT(img, xen_memory_reservation, domid, DOMID_SELF);
    round_trip(&e, &xlat_xen_memory_reservation, img, &n);
    CHECK_EQ(guest_handle_addr(n.extent_start), 0xffff0000ULL);
    CHECK_EQ(n.nr_extents, 0x90000000ULL);
    CHECK_EQ(n.extent_order, 9);
    CHECK_EQ(n.mem_flags, 0xa5a5a5a5u);
    CHECK_EQ(n.domid, DOMID_SELF);
    /* narrowing keeps the low bytes */
    n.nr_extents = 0x100000005ULL;
    CHECK_EQ(copy_struct_to_guest(&e.v, G_OUT, &n, &xlat_xen_memory_reservation), 0);
    CHECK_EQ(copy_from_gpa(e.d, out, G_OUT, sizeof(out)), 0);
    CHECK_EQ(CGET(out, xen_memory_reservation, nr_extents), 5);
    CHECK_EQ(CGET(out, xen_memory_reservation, extent_start), 0xffff0000ULL);
    domain_destroy(e.d);
}

TEST(compat_runstate_info)
{
    struct cenv e;
    uint8_t img[COMPAT_vcpu_runstate_info_SIZE] = {0};
    struct vcpu_runstate_info n;
    if (!cenv_init(&e))
        return;
    _Static_assert(COMPAT_vcpu_runstate_info__time_SIZE == sizeof(n.time), "time[] same size");
    CPUT(img, vcpu_runstate_info, state, (uint32_t)-1);
    CPUT(img, vcpu_runstate_info, state_entry_time, 0x8123456789abcdefULL);
    for (unsigned i = 0; i < 4; i++)
        put(img, COMPAT_vcpu_runstate_info__time_OFF + 8 * i, 8, 0x1111111111111111ULL * (i + 1));
    round_trip(&e, &xlat_vcpu_runstate_info, img, &n);
    CHECK_EQ(n.state, -1);
    CHECK(n.state_entry_time == 0x8123456789abcdefULL);
    for (unsigned i = 0; i < 4; i++)
        CHECK(n.time[i] == 0x1111111111111111ULL * (i + 1));
    domain_destroy(e.d);
}

TEST(compat_platform_parameters)
{
    struct cenv e;
    uint8_t img[COMPAT_xen_platform_parameters_SIZE] = {0}, out[sizeof(img)];
    struct xen_platform_parameters n;
    if (!cenv_init(&e))
        return;
    CPUT(img, xen_platform_parameters, virt_start, 0xf5800000);
    round_trip(&e, &xlat_xen_platform_parameters, img, &n);
    CHECK_EQ(n.virt_start, 0xf5800000ULL);
    n.virt_start = 0xffff800000001234ULL;
    CHECK_EQ(copy_struct_to_guest(&e.v, G_OUT, &n, &xlat_xen_platform_parameters), 0);
    CHECK_EQ(copy_from_gpa(e.d, out, G_OUT, sizeof(out)), 0);
    CHECK_EQ(CGET(out, xen_platform_parameters, virt_start), 0x1234);
    domain_destroy(e.d);
}

/* Every table, with bytes that have the top bit set: checks widening byte by byte. */
static void check_widened(const struct xlat_struct *x, const uint8_t *img, const uint8_t *nat)
{
    for (unsigned i = 0; i < x->nr_fields; i++) {
        const struct xlat_field *f = &x->fields[i];
        bool neg = f->is_signed && (img[f->compat_off + f->compat_size - 1] & 0x80);
        CHECK(!memcmp(nat + f->native_off, img + f->compat_off, f->compat_size));
        for (unsigned b = f->compat_size; b < f->native_size; b++)
            CHECK_EQ(nat[f->native_off + b], neg ? 0xff : 0);
    }
    for (unsigned b = 0; b < x->native_size; b++) { /* native padding is zeroed */
        bool pad = true;
        for (unsigned i = 0; i < x->nr_fields; i++)
            if (b - x->fields[i].native_off < x->fields[i].native_size)
                pad = false;
        if (pad)
            CHECK_EQ(nat[b], 0);
    }
}

TEST(compat_all_tables_pattern)
{
    struct cenv e;
    uint8_t img[XLAT_MAX_COMPAT], nat[512];
    if (!cenv_init(&e))
        return;
    for (unsigned t = 0; t < xlat_nr_tables; t++) {
        const struct xlat_struct *x = xlat_tables[t];
        memset(img, 0, sizeof(img));
        for (unsigned i = 0; i < x->nr_fields; i++)
            for (unsigned b = 0; b < x->fields[i].compat_size; b++)
                img[x->fields[i].compat_off + b] = (uint8_t)(0x80 | (i * 16 + b));
        CHECK(x->native_size <= sizeof(nat));
        round_trip(&e, x, img, nat);
        check_widened(x, img, nat);
    }
    domain_destroy(e.d);
}

/* A table written here by hand exercises sign- and zero-extension of every width. */
struct wide {
    int64_t a;
    uint64_t b;
    int32_t c;
    int16_t d;
};
static const struct xlat_field wide_fields[] = {
    {offsetof(struct wide, a), 8, 0, 4, true},
    {offsetof(struct wide, b), 8, 4, 4, false},
    {offsetof(struct wide, c), 4, 8, 2, true},
    {offsetof(struct wide, d), 2, 10, 1, true},
};
static const struct xlat_struct xlat_wide = {"wide", sizeof(struct wide), 12, wide_fields, 4};

TEST(compat_sign_extension)
{
    struct cenv e;
    uint8_t img[12] = {0}, out[12];
    struct wide n;
    if (!cenv_init(&e))
        return;
    CHECK_EQ(xlat_check(&xlat_wide), 0);
    put(img, 0, 4, 0x80000000u);
    put(img, 4, 4, 0x80000000u);
    put(img, 8, 2, 0x7fff);
    put(img, 10, 1, 0xff);
    round_trip(&e, &xlat_wide, img, &n);
    CHECK_EQ(n.a, -2147483648LL);
    CHECK_EQ(n.b, 0x80000000LL);
    CHECK_EQ(n.c, 32767);
    CHECK_EQ(n.d, -1);
    n.a = -2;
    n.c = -3;
    CHECK_EQ(copy_struct_to_guest(&e.v, G_OUT, &n, &xlat_wide), 0);
    CHECK_EQ(copy_from_gpa(e.d, out, G_OUT, sizeof(out)), 0);
    CHECK_EQ(get(out, 0, 4), 0xfffffffe);
    CHECK_EQ(get(out, 8, 2), 0xfffd);
    domain_destroy(e.d);
}

TEST(compat_native_caller_and_faults)
{
    struct cenv e;
    struct vcpu_runstate_info in = {.state = 2, .state_entry_time = 77, .time = {1, 2, 3, 4}};
    struct vcpu_runstate_info n;
    if (!cenv_init(&e))
        return;
    e.v.hcall_compat = false; /* 64-bit caller: the native layout, unchanged */
    CHECK_EQ(copy_to_gpa(e.d, G_IN, &in, sizeof(in)), 0);
    CHECK_EQ(copy_struct_from_guest(&e.v, &n, G_IN, &xlat_vcpu_runstate_info), 0);
    CHECK(!memcmp(&n, &in, sizeof(n)));
    CHECK_EQ(copy_struct_to_guest(&e.v, G_OUT, &n, &xlat_vcpu_runstate_info), 0);
    CHECK_EQ(copy_from_gpa(e.d, &in, G_OUT, sizeof(in)), 0);
    CHECK(!memcmp(&n, &in, sizeof(n)));
    CHECK_EQ(copy_struct_from_guest(&e.v, &n, 0xfee00000ULL, &xlat_vcpu_runstate_info),
             -XEN_EFAULT);
    e.v.hcall_compat = true;
    CHECK_EQ(copy_struct_from_guest(&e.v, &n, 0xfee00000ULL, &xlat_vcpu_runstate_info),
             -XEN_EFAULT);
    CHECK_EQ(copy_struct_to_guest(&e.v, 0xfffffff0ULL, &n, &xlat_vcpu_runstate_info),
             -XEN_EFAULT); /* wraps past 4 GiB */
    CHECK_EQ(copy_struct_from_guest(&e.v, &n, 0x100000000ULL + G_IN, &xlat_vcpu_runstate_info),
             -XEN_EFAULT);
    domain_destroy(e.d);
}

/* xlat_check() must reject each kind of table mistake. */
static int check_with(const struct xlat_field *f, unsigned nr, size_t nsize, size_t csize)
{
    struct xlat_struct x = {"bad", nsize, csize, f, nr};
    return xlat_check(&x);
}

TEST(compat_selfcheck_catches_mistakes)
{
    struct xlat_field f[4];
    const struct xlat_struct *rs = &xlat_vcpu_runstate_info;
    CHECK_EQ(check_with(rs->fields, rs->nr_fields, rs->native_size, rs->compat_size), 0);
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    static const struct xlat_field ovl[] = {{0, 8, 0, 4, false}, {4, 8, 4, 4, false}};
    CHECK_EQ(check_with(ovl, 2, 12, 8), -XEN_EINVAL); /* native overlap */
    static const struct xlat_field covl[] = {{0, 8, 0, 4, false}, {8, 8, 2, 4, false}};
    CHECK_EQ(check_with(covl, 2, 16, 8), -XEN_EINVAL); /* compat overlap */
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    f[2].compat_off = 16; /* runs past the compat size */
    CHECK_EQ(check_with(f, 3, 48, 44), -XEN_EINVAL);
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    CHECK_EQ(check_with(f, 3, 44, 44), -XEN_EINVAL); /* time[] runs past the native size */
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    f[0].native_size = 2; /* narrower natively than in compat */
    CHECK_EQ(check_with(f, 3, 48, 44), -XEN_EINVAL);
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    f[0].compat_size = 0;
    CHECK_EQ(check_with(f, 3, 48, 44), -XEN_EINVAL);
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    f[2].compat_size = 16; /* an array that changes size cannot be widened */
    CHECK_EQ(check_with(f, 3, 48, 44), -XEN_EINVAL);
    memcpy(f, rs->fields, sizeof(f[0]) * 3);
    f[1] = f[2]; /* state_entry_time forgotten: an 8-byte hole */
    CHECK_EQ(check_with(f, 2, 48, 44), -XEN_EINVAL);
    CHECK_EQ(check_with(rs->fields, 0, 48, 44), -XEN_EINVAL);
    CHECK_EQ(check_with(rs->fields, 3, 48, 52), -XEN_EINVAL);
}
