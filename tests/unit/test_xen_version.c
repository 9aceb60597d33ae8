/* test_xen_version.c: xen_version (17) and console_io (18) through the fake backend. */
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat_layout.h"
#include "core/core.h"
#include "tests/unit/fake_accel.h"
#include "tests/unit/harness.h"

#define BUF 0x10000ull
#define XV __HYPERVISOR_xen_version
#define CIO __HYPERVISOR_console_io

TEST(xenver_version_both_abis)
{
    struct domain *d = fake_domain(16, 1, false);
    struct vcpu *v = d->vcpu[0];
    CHECK_EQ(hc64(v, XV, XENVER_version, 0, 0), 0x00040011);
    CHECK_EQ(hc32(v, XV, XENVER_version, 0, 0), 0x00040011);
    /* Xen's cmd is an int: a 64-bit caller's upper bits are ignored */
    CHECK_EQ(hc64(v, XV, 1ull << 32 | XENVER_version, 0, 0), 0x00040011);
    domain_destroy(d);
}

/* A string sub-op writes exactly its array: NUL-terminated, zero-padded, nothing beyond. */
static void check_string(struct domain *d, bool is64, unsigned cmd, const char *want, size_t size)
{
    char buf[1100];
    gpa_fill(d, BUF, 0xaa, sizeof(buf));
    CHECK_EQ(hc(d->vcpu[0], is64, XV, cmd, BUF, 0), 0);
    gpa_read(d, BUF, buf, sizeof(buf));
    CHECK(!memcmp(buf, want, strlen(want)));
    for (size_t i = strlen(want); i < size; i++)
        if (buf[i]) {
            CHECK(!"not zero-padded");
            break;
        }
    CHECK_EQ((uint8_t)buf[size], 0xaa);
    CHECK_EQ(hc(d->vcpu[0], is64, XV, cmd, HOLE_GPA, 0), -XEN_EFAULT);
}

TEST(xenver_strings)
{
    struct domain *d = fake_domain(16, 1, false);
    for (int is64 = 0; is64 < 2; is64++) {
        check_string(d, is64, XENVER_extraversion, ".0-xhv", 16);
        check_string(d, is64, XENVER_capabilities, "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ",
                     1024);
        check_string(d, is64, XENVER_changeset, "unavailable", 64);
        check_string(d, is64, XENVER_guest_handle, "", 16);
    }
    domain_destroy(d);
}

TEST(xenver_compile_info)
{
    struct domain *d = fake_domain(16, 1, false);
    struct xen_compile_info ci;
    gpa_fill(d, BUF, 0xaa, sizeof(ci) + 1);
    CHECK_EQ(hc32(d->vcpu[0], XV, XENVER_compile_info, BUF, 0), 0);
    gpa_read(d, BUF, &ci, sizeof(ci));
    CHECK(!strncmp(ci.compiler, "gcc", 3) || !strncmp(ci.compiler, "clang", 5));
    CHECK(ci.compiler[sizeof(ci.compiler) - 1] == 0 && ci.compile_date[0] != 0);
    uint8_t after;
    gpa_read(d, BUF + sizeof(ci), &after, 1);
    CHECK_EQ(after, 0xaa);
    CHECK_EQ(hc64(d->vcpu[0], XV, XENVER_compile_info, HOLE_GPA, 0), -XEN_EFAULT);
    domain_destroy(d);
}

TEST(xenver_platform_parameters)
{
    struct domain *d = fake_domain(16, 1, false);
    uint64_t val;
    gpa_fill(d, BUF, 0xaa, 16);
    CHECK_EQ(hc64(d->vcpu[0], XV, XENVER_platform_parameters, BUF, 0), 0);
    gpa_read(d, BUF, &val, 8);
    CHECK_EQ(val, 0xffff800000000000ull); /* HYPERVISOR_VIRT_START */
    gpa_fill(d, BUF, 0xaa, 16);
    CHECK_EQ(hc32(d->vcpu[0], XV, XENVER_platform_parameters, BUF, 0), 0);
    gpa_read(d, BUF, &val, 8);
    CHECK_EQ(COMPAT_xen_platform_parameters_SIZE, 4);
    CHECK_EQ(val, 0xaaaaaaaaffffffffull); /* 4 bytes: ~0u for HVM */
    CHECK_EQ(hc32(d->vcpu[0], XV, XENVER_platform_parameters, HOLE_GPA, 0), -XEN_EFAULT);
    domain_destroy(d);
}

TEST(xenver_get_features)
{
    struct domain *d = fake_domain(16, 1, false);
    const uint32_t want =
        (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |
        (1u << XENFEAT_hvm_callback_vector) | (1u << XENFEAT_memory_op_vnode_supported) |
        (1u << XENFEAT_not_direct_mapped) | (1u << XENFEAT_hvm_safe_pvclock);
    for (int is64 = 0; is64 < 2; is64++) {
        struct xen_feature_info fi = {.submap_idx = 0, .submap = 0xdead};
        gpa_write(d, BUF, &fi, sizeof(fi));
        CHECK_EQ(hc(d->vcpu[0], is64, XV, XENVER_get_features, BUF, 0), 0);
        gpa_read(d, BUF, &fi, sizeof(fi));
        CHECK_EQ(fi.submap_idx, 0);
        CHECK_EQ(fi.submap, want);
        CHECK(fi.submap & (1u << XENFEAT_hvm_callback_vector));
        CHECK(fi.submap & (1u << XENFEAT_hvm_safe_pvclock)); /* as Xen for every HVM guest */
        fi = (struct xen_feature_info){.submap_idx = 1, .submap = 7};
        gpa_write(d, BUF, &fi, sizeof(fi));
        CHECK_EQ(hc(d->vcpu[0], is64, XV, XENVER_get_features, BUF, 0), -XEN_EINVAL);
        gpa_read(d, BUF, &fi, sizeof(fi));
        CHECK_EQ(fi.submap, 7); /* untouched */
        CHECK_EQ(hc(d->vcpu[0], is64, XV, XENVER_get_features, HOLE_GPA, 0), -XEN_EFAULT);
    }
    domain_destroy(d);
}

TEST(xenver_pagesize)
{
    struct domain *d = fake_domain(16, 1, false);
    CHECK_EQ(hc64(d->vcpu[0], XV, XENVER_pagesize, 0, 0), 4096);
    CHECK_EQ(hc32(d->vcpu[0], XV, XENVER_pagesize, 0, 0), 4096);
    CHECK_EQ(hc64(d->vcpu[0], XV, XENVER_pagesize, BUF, 0), -XEN_EINVAL);
    /* a 32-bit caller's handle is 32 bits: the upper half of RBX is not part of it */
    CHECK_EQ(hc32(d->vcpu[0], XV, XENVER_pagesize, 1ull << 32, 0), 4096);
    domain_destroy(d);
}

TEST(xenver_commandline_privileged_only)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    char buf[1100];
    strcpy(xhv_cmdline, "console=hvc0 loglvl=all");
    /* a domU gets "<denied>" (9 bytes) and success, as Xen's xen_deny() */
    gpa_fill(u, BUF, 0xaa, 16);
    CHECK_EQ(hc64(u->vcpu[0], XV, XENVER_commandline, BUF, 0), 0);
    gpa_read(u, BUF, buf, 16);
    CHECK(!memcmp(buf, "<denied>", 9));
    CHECK_EQ((uint8_t)buf[9], 0xaa);
    gpa_fill(p, BUF, 0xaa, sizeof(buf));
    CHECK_EQ(hc32(p->vcpu[0], XV, XENVER_commandline, BUF, 0), 0);
    gpa_read(p, BUF, buf, sizeof(buf));
    CHECK(!strcmp(buf, "console=hvc0 loglvl=all"));
    CHECK(buf[1023] == 0 && (uint8_t)buf[1024] == 0xaa);
    CHECK_EQ(hc64(p->vcpu[0], XV, XENVER_commandline, HOLE_GPA, 0), -XEN_EFAULT);
    domain_destroy(u);
    domain_destroy(p);
}

TEST(xenver_build_id)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    CHECK_EQ(hc64(u->vcpu[0], XV, XENVER_build_id, 0, 0), -XEN_EPERM);
    CHECK_EQ(hc64(u->vcpu[0], XV, XENVER_build_id, BUF, 0), -XEN_EPERM);
    long sz = hc64(p->vcpu[0], XV, XENVER_build_id, 0, 0);
    CHECK(sz > 0 || sz == -XEN_ENODATA);
    uint32_t len = 0;
    gpa_write(p, BUF, &len, 4);
    CHECK_EQ(hc64(p->vcpu[0], XV, XENVER_build_id, BUF, 0), -XEN_EINVAL);
    CHECK_EQ(hc64(p->vcpu[0], XV, XENVER_build_id, HOLE_GPA, 0), -XEN_EFAULT);
    if (sz > 1) {
        len = 1;
        gpa_write(p, BUF, &len, 4);
        CHECK_EQ(hc64(p->vcpu[0], XV, XENVER_build_id, BUF, 0), -XEN_ENOBUFS);
        len = 64;
        gpa_write(p, BUF, &len, 4);
        CHECK_EQ(hc64(p->vcpu[0], XV, XENVER_build_id, BUF, 0), sz);
    }
    domain_destroy(u);
    domain_destroy(p);
}

TEST(xenver_unknown_enosys_for_all)
{
    struct domain *u = fake_domain(16, 1, false), *p = fake_domain(16, 1, true);
    const uint64_t cmds[] = {11, 12, 0x7fffffff, 0x80000000, 0xffffffff};
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        CHECK_EQ(hc64(u->vcpu[0], XV, cmds[i], BUF, 0), -XEN_ENOSYS);
        CHECK_EQ(hc32(p->vcpu[0], XV, cmds[i], BUF, 0), -XEN_ENOSYS);
    }
    domain_destroy(u);
    domain_destroy(p);
}

/* ---- console_io ---- */

static int mem_fd(void)
{
    int fd = memfd_create("console-test", 0);
    CHECK(fd >= 0);
    console_set_output_fd(fd);
    return fd;
}

static size_t fd_contents(int fd, char *buf, size_t len)
{
    console_drain();
    ssize_t n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    return n > 0 ? (size_t)n : 0;
}

TEST(console_write_ring_and_terminal)
{
    struct domain *d = fake_domain(16, 1, false);
    int fd = mem_fd();
    char out[256];
    static const char msg[] = "hello\nA\x1b[2Jb\tc\r\n\x80tail";
    d->console.to_terminal = true;
    gpa_write(d, BUF, msg, sizeof(msg) - 1);
    CHECK_EQ(hc64(d->vcpu[0], CIO, CONSOLEIO_write, sizeof(msg) - 1, BUF), 0);
    CHECK_EQ(d->console.prod, sizeof(msg) - 1);
    CHECK(!memcmp(d->console.ring, msg, sizeof(msg) - 1));
    fd_contents(fd, out, sizeof(out));
    CHECK(!strcmp(out, "hello\nA\\x1b[2Jb\tc\n")); /* the partial line waits */
    console_flush(d);
    fd_contents(fd, out, sizeof(out));
    CHECK(!strcmp(out, "hello\nA\\x1b[2Jb\tc\n\\x80tail\n"));
    CHECK_EQ(hc32(d->vcpu[0], CIO, CONSOLEIO_write, 0, BUF), 0);
    CHECK_EQ(hc32(d->vcpu[0], CIO, CONSOLEIO_write, 4, HOLE_GPA), -XEN_EFAULT);
    console_set_output_fd(STDOUT_FILENO);
    close(fd);
    domain_destroy(d);
}

TEST(console_write_any_domain_read_console_only)
{
    struct domain *u = fake_domain(16, 1, false), *c = fake_domain(16, 1, false);
    char buf[8] = {0};
    int fd = mem_fd();
    c->console.to_terminal = true; /* the console domain */
    gpa_write(u, BUF, "x", 1);
    CHECK_EQ(hc64(u->vcpu[0], CIO, CONSOLEIO_write, 1, BUF), 0);
    console_input(u, "abc", 3);
    CHECK_EQ(hc64(u->vcpu[0], CIO, CONSOLEIO_read, 8, BUF), -XEN_EPERM);
    CHECK_EQ(hc64(u->vcpu[0], CIO, 2, 8, BUF), -XEN_EPERM); /* XSM first */
    CHECK_EQ(hc64(c->vcpu[0], CIO, 2, 8, BUF), -XEN_ENOSYS);
    console_input(c, "abc", 3);
    CHECK_EQ(hc64(c->vcpu[0], CIO, CONSOLEIO_read, 2, BUF), 2);
    gpa_read(c, BUF, buf, 2);
    CHECK(!memcmp(buf, "ab", 2));
    CHECK_EQ(hc32(c->vcpu[0], CIO, CONSOLEIO_read, 0x80000000u, BUF), -XEN_E2BIG);
    CHECK_EQ(hc32(c->vcpu[0], CIO, CONSOLEIO_read, 8, HOLE_GPA), -XEN_EFAULT);
    CHECK_EQ(hc32(c->vcpu[0], CIO, CONSOLEIO_read, 8, BUF), 1);
    gpa_read(c, BUF, buf, 1);
    CHECK_EQ(buf[0], 'c');
    CHECK_EQ(hc32(c->vcpu[0], CIO, CONSOLEIO_read, 8, BUF), 0);
    /* the input ring wraps; when full, new input is lost (serial_rx) */
    char big[5000];
    memset(big, 'z', sizeof(big));
    console_input(c, big, sizeof(big));
    CHECK_EQ(hc64(c->vcpu[0], CIO, CONSOLEIO_read, 8000, BUF), 4096);
    console_set_output_fd(STDOUT_FILENO);
    close(fd);
    domain_destroy(u);
    domain_destroy(c);
}

TEST(console_flood_rate_limited)
{
    struct domain *d = fake_domain(16, 1, false);
    int fd = mem_fd();
    const size_t total = 1 << 20;
    char log[XHV_LOG_RING];
    struct stat st;
    d->console.to_terminal = true;
    gpa_fill(d, 0x100000, 'A', total);
    for (size_t i = 100; i < total; i += 101)
        gpa_fill(d, 0x100000 + i, '\n', 1);
    CHECK_EQ(hc64(d->vcpu[0], CIO, CONSOLEIO_write, total, 0x100000), 0);
    CHECK(d->console.dropped > 0);
    CHECK_EQ(d->console.prod, total); /* the log ring keeps every byte */
    console_flush(d);
    CHECK_EQ(d->console.dropped, 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size < total);
    size_t n = xhv_log_read(log, sizeof(log) - 1, NULL);
    log[n] = 0;
    CHECK(strstr(log, "console output rate-limited") != NULL);
    console_set_output_fd(STDOUT_FILENO);
    close(fd);
    domain_destroy(d);
}
