/* event_2l.c: the 2-level event channel ABI (Xen's event_2l.c) on the guest's shared_info. */
#include "compat_layout.h"
#include "core/event.h"

/*
 * The pending and mask bitmaps are arrays of xen_ulong_t: u64 words in the native layout,
 * u32 words in the 32-bit one (has_32bit_shinfo). Port p is bit p % W of word p / W, and
 * word p / W has bit p / W in each vCPU's evtchn_pending_sel. Every access is a locked
 * atomic: the guest changes the same words concurrently (guest_test_and_set_bit()).
 */
_Static_assert(COMPAT_shared_info__evtchn_pending_SIZE == 32 * 4, "compat pending bitmap");
_Static_assert(COMPAT_shared_info__evtchn_mask_SIZE == 32 * 4, "compat mask bitmap");
_Static_assert(COMPAT_vcpu_info__evtchn_pending_sel_SIZE == 4, "compat selector");
_Static_assert(EVTCHN_2L_NR_CHANNELS == 4096, "64 words of 64 bits");

struct bitmap_ref {
    uint8_t *base; /* first word */
    bool compat;   /* u32 words */
};

static bool bit_op(struct bitmap_ref b, unsigned nr, int op)
{
    if (b.compat) {
        uint32_t *w = (uint32_t *)b.base + nr / 32, m = 1u << (nr % 32);
        if (op > 0)
            return __atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m;
        if (op < 0)
            return __atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m;
        return __atomic_load_n(w, __ATOMIC_SEQ_CST) & m;
    }
    uint64_t *w = (uint64_t *)b.base + nr / 64, m = 1ull << (nr % 64);
    if (op > 0)
        return __atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m;
    if (op < 0)
        return __atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m;
    return __atomic_load_n(w, __ATOMIC_SEQ_CST) & m;
}

static bool test_and_set(struct bitmap_ref b, unsigned nr)
{
    return bit_op(b, nr, 1);
}
static bool test_and_clear(struct bitmap_ref b, unsigned nr)
{
    return bit_op(b, nr, -1);
}
static bool test(struct bitmap_ref b, unsigned nr)
{
    return bit_op(b, nr, 0);
}

/* shared_info is xhv's own page: it exists (and keeps the bits) before the guest maps it. */
static struct bitmap_ref shinfo_bitmap(const struct domain *d, bool mask)
{
    bool c = shared_info_is_compat(d);
    size_t off =
        c ? (mask ? COMPAT_shared_info__evtchn_mask_OFF : COMPAT_shared_info__evtchn_pending_OFF)
          : (mask ? offsetof(struct shared_info, evtchn_mask)
                  : offsetof(struct shared_info, evtchn_pending));
    return (struct bitmap_ref){physmap_owned_page((struct domain *)d, XHV_PG_SHARED_INFO) + off, c};
}

unsigned evtchn_2l_max_channels(const struct domain *d)
{
    return shared_info_is_compat(d) ? 32 * 32 : EVTCHN_2L_NR_CHANNELS;
}

/* Set the selector bit of port's word in v's vcpu_info; on 0 -> 1 mark events pending. A
 * vCPU without a vcpu_info (id >= 32, none registered) sees nothing until it registers one
 * (registration sets every selector bit, as Xen's map_vcpu_info()). */
static void notify_vcpu(struct vcpu *v, unsigned port)
{
    struct domain *d = v->domain;
    uint8_t *vi = vcpu_info_hva(v);
    bool c = shared_info_is_compat(d);

    if (!vi)
        return;
    struct bitmap_ref sel = {vi + (c ? COMPAT_vcpu_info__evtchn_pending_sel_OFF
                                     : offsetof(struct vcpu_info, evtchn_pending_sel)),
                             c};
    if (!test_and_set(sel, port / (c ? 32 : 64)))
        vcpu_mark_events_pending_vi(v, vi);
}

void evtchn_2l_set_pending(struct vcpu *v, unsigned port)
{
    struct domain *d = v->domain;

    if (port >= evtchn_2l_max_channels(d)) /* a 32-bit layout latched after binding */
        return;
    if (test_and_set(shinfo_bitmap(d, false), port))
        return;
    if (!test(shinfo_bitmap(d, true), port))
        notify_vcpu(v, port);
    evtchn_check_pollers(d, port); /* a vCPU in SCHEDOP_poll on it re-checks its ports */
}

void evtchn_2l_clear_pending(struct domain *d, unsigned port)
{
    if (port < evtchn_2l_max_channels(d))
        test_and_clear(shinfo_bitmap(d, false), port);
}

void evtchn_2l_unmask(struct vcpu *v, unsigned port)
{
    struct domain *d = v->domain;

    if (port >= evtchn_2l_max_channels(d))
        return;
    /* strictly in this order, mirroring set_pending */
    if (test_and_clear(shinfo_bitmap(d, true), port) && test(shinfo_bitmap(d, false), port))
        notify_vcpu(v, port);
}

bool evtchn_2l_is_pending(struct domain *d, unsigned port)
{
    return port < evtchn_2l_max_channels(d) && test(shinfo_bitmap(d, false), port);
}

bool evtchn_2l_is_masked(struct domain *d, unsigned port)
{
    return port >= evtchn_2l_max_channels(d) || test(shinfo_bitmap(d, true), port);
}
