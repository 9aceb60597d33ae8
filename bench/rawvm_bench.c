/* rawvm_bench.c: the baseline for bench_domains.sh: a bare KVM VM (no xhv) created, run to an
 * OUT and a HLT in real mode, and destroyed, N times; prints the median and quartiles in us.
 * Standalone on purpose (it talks to /dev/kvm directly, as a benchmark baseline may). */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (2u << 20) /* one 2 MiB slot */
#define OUT_PORT 0x10

/* mov $0x42, %al; out %al, $0x10; hlt (real mode, at 0x1000) */
static const uint8_t code[] = {0xb0, 0x42, 0xe6, OUT_PORT, 0xf4};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "rawvm_bench: %s: %s\n", what, strerror(errno));
    return -1;
}

/* Real mode, CS base 0, IP at the code. */
static int setup_vcpu(int vcpu)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail("KVM_SET_SREGS/REGS");
    return 0;
}

/* Run until HLT; the OUT must come first. */
static int run(int vcpu, struct kvm_run *r)
{
    int saw_out = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                continue;
            return fail("KVM_RUN");
        }
        if (r->exit_reason == KVM_EXIT_IO && r->io.port == OUT_PORT)
            saw_out = 1;
        else if (r->exit_reason == KVM_EXIT_HLT)
            return saw_out ? 0 : -1;
        else {
            fprintf(stderr, "rawvm_bench: unexpected exit %u\n", r->exit_reason);
            return -1;
        }
    }
}

/* One VM: create, memory, vCPU, run to HLT, destroy. */
static int one_vm(int kvm, long run_size)
{
    int vm = -1, vcpu = -1, rc = -1;
    uint8_t *mem = MAP_FAILED;
    struct kvm_run *r = MAP_FAILED;
    if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
        return fail("KVM_CREATE_VM");
    mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        goto out;
    memcpy(mem + 0x1000, code, sizeof(code));
    struct kvm_userspace_memory_region slot = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0 ||
        (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) {
        fail("memory slot / vCPU");
        goto out;
    }
    r = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (r != MAP_FAILED && setup_vcpu(vcpu) == 0)
        rc = run(vcpu, r);
out:
    if (r != MAP_FAILED)
        munmap(r, (size_t)run_size);
    if (vcpu >= 0)
        close(vcpu);
    close(vm);
    if (mem != MAP_FAILED)
        munmap(mem, MEM_SIZE);
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    const char *dev = getenv("XHV_KVM_DEVICE") ? getenv("XHV_KVM_DEVICE") : "/dev/kvm";
    int kvm = open(dev, O_RDWR | O_CLOEXEC);
    long run_size;
    uint64_t *t;
    if (n < 1 || !(t = calloc((size_t)n, sizeof(*t))))
        return 1;
    if (kvm < 0 || (run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0) {
        fail(dev);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (one_vm(kvm, run_size))
            return 1;
        t[i] = now_ns() - t0;
    }
    qsort(t, (size_t)n, sizeof(*t), cmp_u64);
    printf("rawvm: %d runs: create -> run to OUT+HLT -> destroy: median %.1f us "
           "(p25 %.1f, p75 %.1f)\n",
           n, (double)t[n / 2] / 1e3, (double)t[n / 4] / 1e3, (double)t[(3 * n) / 4] / 1e3);
    free(t);
    close(kvm);
    return 0;
}
