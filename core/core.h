/* core.h: the hypervisor core's internal API: domains, vCPUs, physmap, guest access, logging. */
#ifndef XHV_CORE_H
#define XHV_CORE_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/xen_abi.h"

#define XHV_VERSION_MAJOR 4
#define XHV_VERSION_MINOR 17
#define XHV_EXTRAVERSION ".0-xhv"

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define INVALID_GFN (~0ULL)

/* Toolstack conventions (libxl/xg): special pages just below 0xFF000. */
#define X86_HVM_END_SPECIAL_REGION 0xff000ULL
#define X86_HVM_NR_SPECIAL_PAGES 8
#define SPECIALPAGE_XENSTORE 4
#define SPECIALPAGE_CONSOLE 7
#define XHV_SPECIAL_GFN(i) (X86_HVM_END_SPECIAL_REGION - X86_HVM_NR_SPECIAL_PAGES + (i))
/* RAM below 4 GiB ends where Xen's HVM MMIO hole starts. */
#define XHV_LOW_RAM_END 0xf0000000ULL

#define XHV_MAX_VCPUS 128
#define XHV_MAX_DOMAINS 1024                 /* live domains at most (the domain limit) */
#define XHV_DOMID_LIMIT DOMID_FIRST_RESERVED /* domain_table is indexed by domid */
#define NR_DOMAIN_WATCHDOG_TIMERS 2

struct accel_ops;
struct vm_exit;

/* ---- logging (core/log.c) ---- */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern int xhv_log_level; /* messages above this level are not printed to stderr */
void xhv_log(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Guest-triggered message: prefixed d<domid>v<vcpu>, rate-limited per domain. */
struct vcpu;
struct domain;
void gprintk(const struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dprintk(const struct domain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True the first time (d, key) is seen (bounded per-domain table; later keys log always). */
bool domain_log_once(struct domain *d, uint64_t key);
/* Host log ring (last XHV_LOG_RING bytes), read by sysctl readconsole / `xhv dmesg`; its
 * index is Xen's u32 readconsole index. DEBUG lines enter it only when debug is on. */
#define XHV_LOG_RING (64 * 1024)
size_t xhv_log_read(char *buf, size_t len, uint32_t *index);

/* ---- physmap (core/physmap.c): GFN -> host memory ---- */
enum p2m_type {
    p2m_ram_rw,      /* ordinary guest RAM, backed by the domain's memfd */
    p2m_special,     /* xhv-owned page in the memfd (special pages) */
    p2m_shared_info, /* the shared_info overlay */
    p2m_foreign,     /* another domain's RAM page (XENMAPSPACE_gmfn_foreign) */
};

/* A domain's RAM backing, refcounted: foreign mappings in other domains keep it alive after
 * its domain is destroyed (as Xen's page references keep a dying domain's pages). */
struct guest_mem {
    int fd;
    uint8_t *base;
    uint64_t size;
    unsigned refs; /* atomic */
};

struct p2m_extent {
    uint64_t gfn, nr;
    uint64_t memfd_off; /* byte offset of gfn's page in the domain memfd (or mem's) */
    enum p2m_type type;
    struct guest_mem *mem; /* p2m_foreign: the other domain's memory (a reference) */
    int slot;              /* backend memory slot id */
};

/* A run of free pages in the memfd's RAM area (page numbers). */
struct page_run {
    uint64_t pg, nr;
};

/*
 * memfd layout: the xhv-owned pages (XHV_PG_*) first, then the RAM area of reserve_pages
 * pages, handed out by a first-fit allocator of free runs. The memfd is sparse: pages cost
 * memory only once touched, and freed pages are punched out.
 */
struct physmap {
    struct guest_mem *mem; /* our backing (memfd and base below are its fd and base) */
    int memfd;
    uint8_t *base;              /* host mapping of the whole memfd */
    uint64_t memfd_size;        /* bytes */
    uint64_t ram_pages;         /* RAM pages at creation (0 for toolstack-built domains) */
    uint64_t reserve_pages;     /* size of the RAM area */
    struct page_run *free_runs; /* sorted, coalesced */
    unsigned nr_free, cap_free;
    struct p2m_extent *ext; /* sorted by gfn, non-overlapping */
    unsigned nr_ext, cap_ext;
    uint64_t slot_bitmap[8]; /* backend slot ids in use (512) */
    pthread_mutex_t lock;
};

/* The result of a GFN lookup: host address of the page and what it is. */
struct p2m_entry {
    uint8_t *hva;
    enum p2m_type type;
};

/* Memfd page offsets of the xhv-owned pages that follow RAM. */
enum {
    XHV_PG_SHARED_INFO,
    XHV_PG_SPECIAL0,
    XHV_NR_OWNED = XHV_PG_SPECIAL0 + X86_HVM_NR_SPECIAL_PAGES
};

/* Address space each domain reserves for RAM it may be given (default 64 GiB, sparse). */
extern uint64_t physmap_reserve_bytes;
int physmap_init(struct domain *d, uint64_t ram_bytes);
void physmap_destroy(struct domain *d);
/* 0 and *e filled if gfn is mapped, -XEN_EFAULT if it is a hole. */
int p2m_lookup(struct domain *d, uint64_t gfn, struct p2m_entry *e);
/* Map nr pages of the memfd at memfd_off at gfn (replacing whatever was there). */
int p2m_set(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t memfd_off, enum p2m_type t);
/* Unmap [gfn, gfn+nr); RAM pages that go away are freed (memfd hole punched). */
int p2m_remove(struct domain *d, uint64_t gfn, uint64_t nr, uint64_t *freed);
/* Back [gfn, gfn+nr) with fresh zeroed RAM from the domain's reservation (replacing what
 * was there); -XEN_ENOMEM when the reservation is exhausted. Caller accounts tot_pages. */
int physmap_populate(struct domain *d, uint64_t gfn, uint64_t nr);
/* Map src's RAM page src_gfn at gfn in d (XENMAPSPACE_gmfn_foreign). -XEN_EINVAL if src_gfn
 * is not RAM of src. */
int p2m_set_foreign(struct domain *d, uint64_t gfn, struct domain *src, uint64_t src_gfn);
/* Memfd offset of gfn's page (for tools mapping foreign frames): 0, or -XEN_EFAULT. */
int p2m_lookup_off(struct domain *d, uint64_t gfn, uint64_t *memfd_off, enum p2m_type *t);
/* Highest mapped GFN (0 if none). */
uint64_t p2m_max_gfn(struct domain *d);
/* Host address of the xhv-owned page number i (XHV_PG_*). */
uint8_t *physmap_owned_page(struct domain *d, unsigned i);
uint64_t physmap_owned_off(struct domain *d, unsigned i);

/* ---- guest access (core/guest_access.c) ---- */
/* Paging state of the calling vCPU, captured at every hypercall exit. */
struct vcpu_paging {
    uint64_t cr0, cr3, cr4, efer;
    uint64_t rflags; /* EFLAGS.AC decides SMAP for hypercall copies, as in Xen */
};
/* Translate a guest linear address; -XEN_EFAULT on any failure. write: need a writable mapping. */
int guest_walk(struct domain *d, const struct vcpu_paging *pg, uint64_t gva, bool write,
               uint64_t *gpa);
/* Both return 0 or -XEN_EFAULT; nothing partial is hidden: on -EFAULT some bytes may be done. */
int copy_from_guest(struct vcpu *v, void *dst, uint64_t gva, size_t len);
int copy_to_guest(struct vcpu *v, uint64_t gva, const void *src, size_t len);
int clear_guest(struct vcpu *v, uint64_t gva, size_t len);
/* Physical (GPA) access to a domain's RAM, for loader and start-info writing. */
int copy_to_gpa(struct domain *d, uint64_t gpa, const void *src, size_t len);
int copy_from_gpa(struct domain *d, void *dst, uint64_t gpa, size_t len);

/* ---- compat (core/compat.c): 32-bit caller struct layouts ---- */
struct xlat_field;
struct xlat_struct {
    const char *name;
    size_t native_size, compat_size;
    const struct xlat_field *fields;
    unsigned nr_fields;
};
/* Copy a struct in/out in the caller's layout (native struct always on the host side). */
int copy_struct_from_guest(struct vcpu *v, void *native, uint64_t gva, const struct xlat_struct *x);
int copy_struct_to_guest(struct vcpu *v, uint64_t gva, const void *native,
                         const struct xlat_struct *x);
/* The same in a given layout (compat: the 32-bit one), whatever the current call's ABI. */
int copy_struct_to_guest_layout(struct vcpu *v, uint64_t gva, const void *native,
                                const struct xlat_struct *x, bool compat);
extern const struct xlat_struct xlat_xen_add_to_physmap, xlat_xen_memory_map,
    xlat_xen_memory_reservation, xlat_vcpu_runstate_info, xlat_xen_platform_parameters,
    xlat_sched_poll, xlat_vcpu_set_singleshot_timer, xlat_xen_add_to_physmap_batch,
    xlat_xen_remove_from_physmap;
/* Handle value stored in a native struct (guest linear address). */
#define guest_handle_addr(h) ((uint64_t)(uintptr_t)(h).p)

/* ---- vCPUs ---- */

struct vcpu {
    struct domain *domain;
    unsigned vcpu_id;
    void *accel; /* backend per-vCPU state */
    pthread_t thread;
    bool thread_started;
    bool online;               /* up: not Xen's VPF_down (VCPUOP_is_up), under d->lock */
    bool initialised;          /* has a register state (Xen's is_initialised), under d->lock */
    unsigned state_gen;        /* bumped by vcpu_load_state(): the thread drops a stale exit */
    bool in_hypercall;         /* re-entry guard */
    bool wake_pending;         /* vcpu_wake() since the block began (under d->lock) */
    bool blocked;              /* sleeping in vcpu_block_until() (under d->lock) */
    uint32_t poll_port;        /* SCHEDOP_poll: 0 none, the one port, or XHV_POLL_ANY (atomic) */
    bool hcall_compat;         /* current hypercall uses the 32-bit ABI */
    struct vcpu_paging paging; /* of the current (or last) hypercall */
    bool paging_valid;         /* paging holds a hypercall's state (the first one came) */
    uint64_t runstate_guest;   /* VCPUOP_register_runstate_memory_area: guest address, 0 none */
    /* vcpu_info registration (VCPUOP_register_vcpu_info) */
    uint64_t vcpu_info_gfn;
    uint32_t vcpu_info_offset;
    bool vcpu_info_registered;
    /* runstate accounting (ns, CLOCK_MONOTONIC) */
    int runstate; /* RUNSTATE_* from <xen/vcpu.h> */
    uint64_t runstate_entry;
    uint64_t runstate_time[4];
    /* A tool connection's vCPU of the control domain (ctl_vcpu_create()): guest handles are
     * addresses in the tool's mapping of a shared buffer, [ctl_base, ctl_base + ctl_size),
     * which the daemon sees at ctl_buf. NULL for real vCPUs. */
    uint8_t *ctl_buf;
    uint64_t ctl_size, ctl_base;
    /* pinning (XEN_DOMCTL_setvcpuaffinity): applied to the vCPU thread */
    cpu_set_t affinity;
    bool parked;           /* the vCPU thread is waiting while the domain is paused */
    uint8_t upcall_vector; /* HVMOP_set_evtchn_upcall_vector (0 = none) */
    /* timers (core/timer.c, under its lock): CLOCK_MONOTONIC ns, 0 = not armed */
    uint64_t singleshot, periodic_period, periodic_next;
    unsigned timer_slot; /* index + 1 in the timer thread's array of armed vCPUs, 0 = none */
    uint64_t tsc_epoch;  /* time_calibration_epoch when its TSC offset was last read */
    int64_t tsc_offset;  /* guest TSC - host TSC, read on the vCPU's thread (core/pvclock.c) */
};

/* ---- rate limiting (core/log.c) ---- */
struct token_bucket {
    uint64_t tokens, last_ns;
};
/* Take cost tokens from b (burst size, refilled at per_sec); false = over the limit. */
bool token_bucket_take(struct token_bucket *b, uint64_t burst, uint64_t per_sec, uint64_t cost);

/* ---- domains (core/domain.c) ---- */
#define CONSOLE_RING (64 * 1024)
struct console {
    char ring[CONSOLE_RING]; /* guest output log */
    uint64_t prod;
    char in[4096]; /* input for CONSOLEIO_read */
    uint32_t in_cons, in_prod;
    /* token bucket for rate limiting guest output */
    struct token_bucket bucket;
    uint64_t dropped;
    bool to_terminal; /* also echo to stdout (xhv run) */
    char line[256];   /* partial line not yet written to the terminal */
    size_t line_len;
    pthread_mutex_t lock;
};

struct domain_config {
    uint64_t mem_bytes; /* RAM at creation; 0 = none yet (the toolstack populates) */
    uint32_t ssidref;   /* XSM label: XHV_SSIDREF_CONTROL makes a privileged domain */
    uint32_t cdf_flags; /* XEN_DOMCTL_CDF_* */
    uint32_t max_evtchn_port;
    int32_t max_grant_frames, max_maptrack_frames;
    unsigned max_vcpus;
    bool privileged;       /* may issue privileged ops (control domain) */
    bool console_terminal; /* echo console output on stdout */
    const char *name;
};

/* Statistics of host-side cost per exit kind (bench). */
enum exit_kind { EXK_HCALL, EXK_RAW_IO, EXK_OTHER, EXK_NR };
#define XHV_STATS_NR_HCALLS 64 /* per hypercall number below this */
#define XHV_TIMER_LATE_SAMPLES 4096
struct exit_stats {
    uint64_t count[EXK_NR];
    uint64_t ns[EXK_NR];
    uint64_t hc_count[XHV_STATS_NR_HCALLS], hc_ns[XHV_STATS_NR_HCALLS];
    /* VIRQ_TIMER lateness: deadline -> event raised (ns), the first XHV_TIMER_LATE_SAMPLES */
    uint32_t timer_late_ns[XHV_TIMER_LATE_SAMPLES];
    unsigned nr_timer_late; /* atomic */
};
/* Domains created from now on account host-side exit costs (xhvd --stats). */
extern bool xhv_stats_default;
/* d's exit costs as "xhv-stats: [<label> ]<kind> N exits X ns/exit host-side" lines, then one
 * "... <hypercall> N calls X ns/call ..." line per hypercall used, on f or (f NULL) the log. */
void domain_stats_report(struct domain *d, const char *label, FILE *f);

/* xhv's XSM-style labels (the createdomain ssidref; Xen's dummy XSM ignores it): a domain
 * created with XHV_SSIDREF_CONTROL is a control domain, like FLASK's dom0_t. */
#define XHV_SSIDREF_DOMU 0
#define XHV_SSIDREF_CONTROL 1

struct domain {
    domid_t domain_id;
    char name[64];
    const struct accel_ops *accel_ops;
    void *accel; /* backend per-domain state */
    pthread_mutex_t lock;
    unsigned refcnt;                /* rcu_lock_domain_* references, under lock */
    pthread_mutex_t memop_lock;     /* serialises physmap-changing memory ops */
    pthread_mutex_t vcpu_init_lock; /* serialises VCPUOP_initialise (Xen's domain_lock) */

    unsigned max_vcpus;
    struct vcpu **vcpu;

    struct physmap p2m;
    uint64_t tot_pages, max_pages;
    bool privileged;
    bool is_control; /* domain 0: the host-side toolstack, no VM, no vCPUs */
    uint32_t ssidref, cdf_flags, max_evtchn_port;
    int32_t max_grant_frames, max_maptrack_frames;
    xen_domain_handle_t handle; /* XEN_DOMCTL_setdomainhandle */
    int32_t time_offset;        /* XEN_DOMCTL_settimeoffset, seconds */
    uint64_t vtsc_offset;       /* system time at creation (tsc_set_info()): CPUID 0x40000003.1 */
    unsigned pause_count;       /* controller pauses (a new domain starts with 1), under lock */
    bool started;               /* vCPU threads launched (first unpause) */
    uint64_t watchdog[NR_DOMAIN_WATCHDOG_TIMERS]; /* SCHEDOP_watchdog deadlines */
    struct evtchn_domain *evtchn;                 /* event channels (core/event_channel.c) */
    unsigned nr_pollers;                          /* vCPUs in SCHEDOP_poll (atomic) */

    /* shutdown state */
    bool is_shutting_down, is_shut_down, is_dying;
    int shutdown_code;            /* -1 = not set */
    pthread_cond_t shutdown_cond; /* CLOCK_MONOTONIC; broadcast on shutdown and vcpu_wake() */

    /* shared_info */
    uint64_t shared_info_gfn; /* INVALID_GFN until mapped */
    bool has_32bit_shinfo;

    unsigned long vm_assist; /* VMASST_TYPE_* bits enabled */
    uint64_t hvm_params[HVM_NR_PARAMS];
    bool hvm_param_set[HVM_NR_PARAMS];

    /* guest-supplied memory map (E820), for XENMEM_memory_map */
    struct hvm_memmap_table_entry *memmap;
    unsigned nr_memmap;

    struct console console;

    /* log-once bitmaps for unimplemented hypercalls and sub-ops */
    uint64_t unimpl_logged[2]; /* hypercall numbers (>= 127 share the last bit) */
    /* (hypercall << 32 | sub-op) keys already logged once (domain_log_once()) */
#define XHV_LOG_ONCE_MAX 64
    uint64_t logged_once[XHV_LOG_ONCE_MAX];
    unsigned nr_logged_once;
    /* guest-log rate limit */
    struct token_bucket glog_bucket;
    uint64_t glog_dropped;

    bool stats_on;
    struct exit_stats stats;
    uint64_t hcall_page_writes;
};

extern struct domain *domain_table[XHV_DOMID_LIMIT];
extern pthread_mutex_t domain_table_lock;

struct domain *domain_create(domid_t domid, const struct domain_config *cfg,
                             const struct accel_ops *ops, int *err);
void domain_destroy(struct domain *d);
/*
 * References: every pointer to another domain obtained from a domid is taken with
 * rcu_lock_domain_by_{any_,}id() and given back with rcu_unlock_domain(); domain_destroy()
 * unlinks the domain, then waits for the references to drop before freeing it.
 */
struct domain *rcu_lock_domain_by_id(domid_t id); /* NULL if none */
/* Resolve a domid argument from caller v (DOMID_SELF allowed); NULL if none. */
struct domain *rcu_lock_domain_by_any_id(struct vcpu *v, domid_t id);
void rcu_unlock_domain(struct domain *d);
/* Take one more reference on d (which the caller keeps alive, e.g. under domain_table_lock);
 * give it back with rcu_unlock_domain(). */
void domain_get(struct domain *d);
/* Guest-requested shutdown with a SHUTDOWN_* reason (first code wins). */
void domain_shutdown(struct domain *d, unsigned reason);
/* Crash a domain we cannot continue: log why, dump v's registers if given (v only from
 * v's own thread: the backend reads registers synchronously). */
void domain_crash(struct domain *d, struct vcpu *v, const char *why, ...)
    __attribute__((format(printf, 3, 4)));
/* Controller pause (nests). Returns once no vCPU of d runs guest code; must not be called
 * from one of d's own vCPUs. The last unpause starts (first time) or resumes the vCPUs. */
void domain_pause(struct domain *d);
int domain_unpause(struct domain *d); /* -XEN_EINVAL if not paused */
/* Destroy every domain (daemon shutdown). */
void domain_destroy_all(void);
/* Backend for domains created through XEN_DOMCTL_createdomain (the daemon sets kvm). */
extern const struct accel_ops *xhv_accel;

/* ---- control domain (core/control.c) ---- */
/* Domain 0: privileged, no VM, no RAM; created on first use. */
struct domain *control_domain(void);
/* A tool connection's dom0 vCPU: handles are addresses tool_base.. in the tool's mapping of
 * buf (size bytes), which this process sees at buf. */
struct vcpu *ctl_vcpu_create(uint8_t *buf, uint64_t size, uint64_t tool_base);
void ctl_vcpu_destroy(struct vcpu *v);
/* Pin v's thread (XEN_DOMCTL_setvcpuaffinity); -EINVAL if set has no usable CPU. */
int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set);

/* Block until the domain has shut down; returns the shutdown code. */
int domain_wait_shutdown(struct domain *d);
bool domain_is_running(const struct domain *d);

/* ---- vCPU loop (core/vcpu.c) ---- */
struct vcpu_init_state;
int vcpu_start(struct vcpu *v); /* start the vCPU thread */
void vcpu_join(struct vcpu *v);
void *vcpu_thread(void *arg);
/* Handle one exit; returns false when the vCPU must stop. Exposed for unit tests. */
bool vcpu_handle_exit(struct vcpu *v, struct vm_exit *ex);
const char *exit_reason_name(unsigned reason);
/* Account the time in v's current runstate and switch to state; d->lock held. */
void vcpu_runstate_change_locked(struct vcpu *v, int state);
/* Snapshot of v's runstate (VCPUOP_get_runstate_info), native layout. */
void vcpu_runstate_get(struct vcpu *v, struct vcpu_runstate_info *r);
void vcpu_runstate_get_locked(const struct vcpu *v,
                              struct vcpu_runstate_info *r); /* d->lock held */
/* update_runstate_area(): on v's own thread, d->lock held: v's runstate into its registered
 * area (core/vcpu_op.c). */
void update_runstate_area(struct vcpu *v);
/* Give v a new register state (v not running guest code: down, or its domain paused) and
 * mark it initialised; the exit v's thread last saw is dropped. <0 if the backend refuses. */
int vcpu_load_state(struct vcpu *v, const struct vcpu_init_state *s);
/* Bring v up (its thread starts if the domain runs) or down (it stops before its next guest
 * instruction and waits, offline, until it is brought up again). */
int vcpu_set_online(struct vcpu *v, bool online);

/* ---- hypercall page and CPUID (core/hypercall.c, core/cpuid.c) ---- */
int hypercall_page_write(struct vcpu *v, uint64_t msr_value);
/* Fill the Xen leaf at base+idx; false if the leaf is not a Xen leaf we answer. */
void xen_cpuid_leaf(const struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
#define XEN_CPUID_BASE 0x40000000u
#define XEN_CPUID_LIMIT 5u
#define XEN_HYPERCALL_MSR 0x40000000u

/* ---- blocking (core/sched_op.c) ---- */
#define XHV_POLL_ANY UINT32_MAX
/* Start a block on v's own thread: forget earlier wakes. Check what ends the block after
 * this (a wake from then on is kept), then call vcpu_block_until(). */
void vcpu_block_prepare(struct vcpu *v);
/* Block v's own thread until vcpu_wake(v), the domain stops running, or deadline
 * (CLOCK_MONOTONIC ns; 0 = none). Never spins; returns at once if a wake is pending. */
void vcpu_block_until(struct vcpu *v, uint64_t deadline_ns);
/* Wake v out of vcpu_block_until() (or make its next block return at once). */
void vcpu_wake(struct vcpu *v);
/* Forget d's watchdogs: domain_destroy() calls it before freeing d. */
void sched_domain_destroy(struct domain *d);

/* ---- shared_info and vcpu_info (core/memory_op.c, core/vcpu_op.c) ---- */
/* Rewrite shared_info's wallclock (odd/even wc_version) in the latched layout. */
void shared_info_update_wallclock(struct domain *d);
/* Latch d's shared_info layout (32-bit caller or not) and rewrite its wallclock in it. */
void shared_info_latch_layout(struct domain *d, bool compat);
/* The latched layout (read by other domains' threads too: atomic). */
static inline bool shared_info_is_compat(const struct domain *d)
{
    return __atomic_load_n(&d->has_32bit_shinfo, __ATOMIC_ACQUIRE);
}
/* Host address of v's vcpu_info (registered area, or its legacy shared_info slot), NULL if
 * v has none (vcpu_id >= 32 and nothing registered). */
uint8_t *vcpu_info_hva(struct vcpu *v);
bool vm_assist_enabled(const struct domain *d, unsigned type);

/* ---- event channels (core/event_channel.c) ---- */
struct evtchn_domain;
int evtchn_domain_init(struct domain *d); /* from domain_create */
/* domain_kill(): close every port (peers become unbound), no new ones; from domain_destroy()
 * once the vCPUs have stopped, before VIRQ_DOM_EXC tells anyone. */
void evtchn_destroy(struct domain *d);
void evtchn_destroy_final(struct domain *d); /* free the table (domain_free(), no users left) */
/* Raise VIRQ virq on v (per-vCPU virqs) or on the domain's vCPU 0 (global ones). */
void send_guest_vcpu_virq(struct vcpu *v, unsigned virq);

/* ---- timers (core/timer.c) ---- */
void vcpu_set_singleshot(struct vcpu *v, uint64_t at);   /* Xen system time ns, 0 = stop */
void vcpu_set_periodic(struct vcpu *v, uint64_t period); /* ns, 0 = stop */
void timer_domain_destroy(struct domain *d);
unsigned timer_nr_armed(void); /* vCPUs with an armed timer (tests) */
/* Start a detached thread fn that sleeps on cond (initialised here on CLOCK_MONOTONIC). */
void deadline_thread_start(pthread_cond_t *cond, void *(*fn)(void *), const char *what);
/* pthread_cond_(timed)wait on a CLOCK_MONOTONIC cond until deadline (now_ns() scale; 0 = no
 * deadline); the caller re-checks its condition, as with any cond wait. */
void cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *m, uint64_t deadline_ns);

/* ---- upcalls (core/upcall.c) ---- */
/* Set v's evtchn_upcall_pending; on 0 -> 1 deliver the upcall (vector or kick) and wake it. */
void vcpu_mark_events_pending(struct vcpu *v);
/* The same with v's vcpu_info already looked up (vcpu_info_hva(v); NULL: nothing to do). */
void vcpu_mark_events_pending_vi(struct vcpu *v, uint8_t *vi);

/* ---- console (core/console_io.c) ---- */
void console_write(struct domain *d, const char *buf, size_t len);
void console_input(struct domain *d, const char *buf, size_t len);
void console_flush(struct domain *d);
/* Where terminal echo goes (default STDOUT_FILENO); tests point it at a pipe or file. */
void console_set_output_fd(int fd);
/* Wait (at most 2 s) until queued terminal output is written. */
void console_drain(void);

/* ---- time ---- */
uint64_t now_ns(void); /* CLOCK_MONOTONIC */
/* Xen system time: ns since xhv started (NOW() for guests; HVMOP_get_time). */
uint64_t xen_system_time(void);
/* now_ns() at system time 0 (absolute system-time deadlines -> CLOCK_MONOTONIC). */
uint64_t xen_system_time_epoch(void);
extern uint32_t xhv_tsc_khz; /* guest TSC frequency, set by the backend (0 = unknown) */
/* xhv's own command line: what XENVER_commandline gives a privileged caller (Xen's). */
extern char xhv_cmdline[1024];
void xhv_set_cmdline(int argc, char **argv); /* from main(): argv joined by spaces */
void time_scale(uint64_t hz, uint32_t *mul_frac, int8_t *shift);

#endif
