/* kvm.c: KVM backend setup: probing /dev/kvm, VM creation and teardown, memory slots, ops. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/xhv_ports.h"
#include "kvm/kvm.h"
#include "kvm/kvm_int.h"

int kvm_dev_fd = -1;
size_t kvm_run_size;

static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;
static char kvm_init_err[128];

int kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* Capabilities xhv cannot work without (all present since Linux 5.10). */
static const struct {
    int cap;
    const char *name;
} kvm_required_caps[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
    {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"},
    {KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI"},
    {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
};

static int kvm_open_dev(void)
{
    /* XHV_KVM_DEVICE overrides the device path (tests use it to check the error messages). */
    const char *dev = getenv("XHV_KVM_DEVICE");
    int fd = open(dev && *dev ? dev : "/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd >= 0)
        return fd;
    if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
        snprintf(kvm_init_err, sizeof(kvm_init_err), "no /dev/kvm (is the kvm module loaded?)");
    else if (errno == EACCES || errno == EPERM)
        snprintf(kvm_init_err, sizeof(kvm_init_err),
                 "permission denied opening /dev/kvm (add yourself to group kvm)");
    else
        snprintf(kvm_init_err, sizeof(kvm_init_err), "cannot open /dev/kvm: %s", strerror(errno));
    return -1;
}

static int kvm_check_caps(int fd)
{
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);

    if (v != KVM_API_VERSION) {
        snprintf(kvm_init_err, sizeof(kvm_init_err), "KVM API version mismatch (%d, want %d)", v,
                 KVM_API_VERSION);
        return -1;
    }
    for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
            snprintf(kvm_init_err, sizeof(kvm_init_err), "KVM lacks required capability %s",
                     kvm_required_caps[i].name);
            return -1;
        }
    }
    v = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
    if ((v & KVM_SYNC_VALID) != KVM_SYNC_VALID) {
        snprintf(kvm_init_err, sizeof(kvm_init_err),
                 "KVM lacks required capability KVM_CAP_SYNC_REGS (regs+sregs)");
        return -1;
    }
    return 0;
}

static void kvm_kick_handler(int sig)
{
    (void)sig; /* only there to make KVM_RUN return -EINTR */
}

static void kvm_do_global_init(void)
{
    struct sigaction sa = {.sa_handler = kvm_kick_handler};
    int fd, sz;

    fd = kvm_open_dev();
    if (fd < 0)
        return;
    if (kvm_check_caps(fd) < 0)
        goto fail;
    sz = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run)) {
        snprintf(kvm_init_err, sizeof(kvm_init_err), "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    if (kvm_cpuid_global_init(fd) < 0) {
        snprintf(kvm_init_err, sizeof(kvm_init_err), "KVM_GET_SUPPORTED_CPUID failed");
        goto fail;
    }
    sigemptyset(&sa.sa_mask);
    if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0) {
        snprintf(kvm_init_err, sizeof(kvm_init_err), "sigaction: %s", strerror(errno));
        goto fail;
    }
    kvm_run_size = (size_t)sz;
    kvm_dev_fd = fd;
    return;
fail:
    close(fd);
}

void kvm_global_init(void)
{
    pthread_once(&kvm_once, kvm_do_global_init);
}

int kvm_probe(char *err, size_t errlen)
{
    kvm_global_init();
    if (kvm_dev_fd >= 0)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "%s", kvm_init_err);
    return -1;
}

/* KVM would swallow unknown MSRs itself (kvm.ignore_msrs=Y) instead of exiting to us. */
static bool kvm_ignores_msrs(void)
{
    char c = 'N';
    int fd = open("/sys/module/kvm/parameters/ignore_msrs", O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (read(fd, &c, 1) != 1)
            c = 'N';
        close(fd);
    }
    return c == 'Y' || c == 'y' || c == '1';
}

/*
 * Make RDMSR/WRMSR of the Xen hypercall-page MSR exit to user space. KVM treats 0x40000000 as
 * Hyper-V's guest-OS-id MSR when it has Hyper-V support; then only a filter denying it helps.
 * Without Hyper-V support the MSR is unknown to KVM and an "unknown MSR" exit delivers it:
 * cheaper, since KVM_X86_SET_MSR_FILTER waits for an SRCU grace period (15 ms on kvm-pvm).
 * kvm_vcpu_run answers other unknown MSRs with #GP, as KVM would, so the core only ever sees
 * XEN_HYPERCALL_MSR either way.
 */
static int kvm_setup_msr_exits(struct kvm_dom *kd)
{
    bool filter = ioctl(kd->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV) > 0 || kvm_ignores_msrs();
    struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR};
    uint8_t deny = 0; /* bit 0 clear: XEN_HYPERCALL_MSR denied for read and write */
    struct kvm_msr_filter f = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};

    cap.args[0] = filter ? KVM_MSR_EXIT_REASON_FILTER : KVM_MSR_EXIT_REASON_UNKNOWN;
    if (kvm_ioctl(kd->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
        xhv_log(LOG_ERR, "kvm: enable KVM_CAP_X86_USER_SPACE_MSR: %s", strerror(errno));
        return -1;
    }
    if (!filter)
        return 0;
    f.ranges[0] = (struct kvm_msr_filter_range){
        .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
        .nmsrs = 1,
        .base = XEN_HYPERCALL_MSR,
        .bitmap = &deny,
    };
    if (kvm_ioctl(kd->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
        xhv_log(LOG_ERR, "kvm: KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Bench floor: OUT to XHV_EVENTFD_PORT completes in the kernel (~0.2 us), signalling an eventfd. */
static int kvm_setup_ioeventfd(struct kvm_dom *kd)
{
    struct kvm_ioeventfd io = {.addr = XHV_EVENTFD_PORT, .len = 4, .flags = KVM_IOEVENTFD_FLAG_PIO};

    /* Nobody reads it: the counter saturates instead of blocking the writer (the kernel). */
    kd->evt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (kd->evt_fd < 0) {
        xhv_log(LOG_ERR, "kvm: eventfd: %s", strerror(errno));
        return -1;
    }
    io.fd = kd->evt_fd;
    if (kvm_ioctl(kd->vm_fd, KVM_IOEVENTFD, &io) < 0) {
        xhv_log(LOG_ERR, "kvm: KVM_IOEVENTFD port %#x: %s", XHV_EVENTFD_PORT, strerror(errno));
        return -1;
    }
    return 0;
}

static int kvm_vm_setup(struct kvm_dom *kd)
{
    uint64_t idmap = KVM_IDENTITY_MAP_GPA;

    /* Only VMX uses these; elsewhere they are no-ops or unsupported, which is fine. */
    if (ioctl(kd->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
        kvm_ioctl(kd->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
        xhv_log(LOG_DEBUG, "kvm: KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
    if (ioctl(kd->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
        xhv_log(LOG_DEBUG, "kvm: KVM_SET_TSS_ADDR: %s", strerror(errno));
    if (kvm_ioctl(kd->vm_fd, KVM_CREATE_IRQCHIP, NULL) < 0) {
        xhv_log(LOG_ERR, "kvm: KVM_CREATE_IRQCHIP: %s", strerror(errno));
        return -1;
    }
    if (kvm_setup_msr_exits(kd) < 0)
        return -1;
    /* Always, not only with d->stats_on: that flag may be set after the domain is built. */
    return kvm_setup_ioeventfd(kd);
}

static void kvm_dom_free(struct kvm_dom *kd)
{
    if (kd->evt_fd >= 0)
        close(kd->evt_fd);
    if (kd->vm_fd >= 0)
        close(kd->vm_fd);
    free(kd);
}

static int kvm_domain_init(struct domain *d)
{
    struct kvm_dom *kd;

    kvm_global_init();
    if (kvm_dev_fd < 0) {
        xhv_log(LOG_ERR, "kvm: %s", kvm_init_err);
        return -1;
    }
    kd = calloc(1, sizeof(*kd));
    if (!kd)
        return -1;
    kd->evt_fd = -1;
    kd->vm_fd = kvm_ioctl(kvm_dev_fd, KVM_CREATE_VM, NULL);
    if (kd->vm_fd < 0) {
        xhv_log(LOG_ERR, "kvm: KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    if (kvm_vm_setup(kd) < 0)
        goto fail;
    d->accel = kd;
    return 0;
fail:
    kvm_dom_free(kd);
    return -1;
}

static void kvm_domain_destroy(struct domain *d)
{
    struct kvm_dom *kd = d->accel;

    if (!kd)
        return;
    /* A vCPU fd keeps the VM alive: release any vCPU the core did not destroy first. */
    for (unsigned i = 0; i < XHV_MAX_VCPUS; i++) {
        if (kd->vcpus[i]) {
            xhv_log(LOG_WARN, "kvm: d%u: vCPU %u still alive at domain_destroy",
                    (unsigned)d->domain_id, i);
            kvm_vcpu_free(kd->vcpus[i]);
        }
    }
    kvm_dom_free(kd);
    d->accel = NULL;
}

static int kvm_set_region(int vm_fd, struct kvm_userspace_memory_region *r)
{
    struct kvm_userspace_memory_region del = {.slot = r->slot};

    if (kvm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, r) == 0)
        return 0;
    /* KVM cannot resize a live slot in place: delete it, then create it again. */
    if (errno != EINVAL || r->memory_size == 0)
        return -1;
    if (kvm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &del) < 0)
        return -1;
    return kvm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, r);
}

static int kvm_mem_set(struct domain *d, int slot, uint64_t gpa, uint64_t size, void *hva)
{
    struct kvm_dom *kd = d->accel;
    struct kvm_userspace_memory_region r = {
        .slot = (uint32_t)slot,
        .guest_phys_addr = gpa,
        .memory_size = hva ? size : 0,
        .userspace_addr = hva && size ? (uintptr_t)hva : 0,
    };

    if (!kd || slot < 0 || slot > 0xffff || ((gpa | r.memory_size | r.userspace_addr) & 0xfff)) {
        xhv_log(LOG_ERR, "kvm: mem_set: bad slot %d gpa %#llx size %#llx hva %p", slot,
                (unsigned long long)gpa, (unsigned long long)size, hva);
        return -1;
    }
    if (kvm_set_region(kd->vm_fd, &r) < 0) {
        xhv_log(LOG_ERR, "kvm: set memory slot %d [%#llx, +%#llx) hva %p: %s", slot,
                (unsigned long long)gpa, (unsigned long long)r.memory_size, hva, strerror(errno));
        return -1;
    }
    return 0;
}

const struct accel_ops kvm_accel_ops = {
    .name = "kvm",
    .domain_init = kvm_domain_init,
    .domain_destroy = kvm_domain_destroy,
    .mem_set = kvm_mem_set,
    .vcpu_init = kvm_vcpu_init,
    .vcpu_destroy = kvm_vcpu_destroy,
    .vcpu_set_state = kvm_vcpu_set_state,
    .vcpu_run = kvm_vcpu_run,
    .vcpu_kick = kvm_vcpu_kick,
    .vcpu_inject_irq = kvm_vcpu_inject_irq,
    .vcpu_get_cpu = kvm_vcpu_get_cpu,
    .vcpu_get_state = kvm_vcpu_get_state,
    .vcpu_tsc_offset = kvm_vcpu_tsc_offset,
};
