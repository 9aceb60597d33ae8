/* test_xlcfg.c: unit tests for cli/xlcfg*.c: xl.cfg syntax, typed config, errors with FILE:LINE. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/xlcfg.h"
#include "core/core.h"
#include "tests/unit/harness.h"

struct res {
    int rc;
    struct xl_config c;
    char *msg; /* everything written to errf */
    size_t msg_len;
};

/* Parse text as file "t.cfg" (plus overrides) and convert it. */
static void load(struct res *r, const char *text, char *const *ovr, int nr_ovr)
{
    struct xlcfg cfg = {0};
    FILE *errf = open_memstream(&r->msg, &r->msg_len);
    memset(&r->c, 0, sizeof(r->c));
    r->rc = xlcfg_parse(&cfg, "t.cfg", text, strlen(text), errf);
    for (int i = 0; r->rc == 0 && i < nr_ovr; i++)
        r->rc = xlcfg_parse(&cfg, "<command line>", ovr[i], strlen(ovr[i]), errf);
    if (r->rc == 0)
        r->rc = xl_config_from_cfg(&cfg, &r->c, errf);
    fclose(errf);
    xlcfg_free(&cfg);
}

static void done(struct res *r)
{
    xl_config_free(&r->c);
    free(r->msg);
}

#define BASE "name = \"d1\"\nkernel = \"/k.elf\"\n"

/* A bad config: refused, and the message names the line and contains want. */
static void check_bad(const char *text, const char *want, int line)
{
    struct res r;
    char loc[32];
    load(&r, text, NULL, 0);
    snprintf(loc, sizeof(loc), "t.cfg:%d:", line);
    if (r.rc != -1 || !strstr(r.msg, want) || (line && !strstr(r.msg, loc)))
        test_fail(__FILE__, __LINE__, "config <<%s>>: rc %d, message <<%s>>, wanted %s %s", text,
                  r.rc, r.msg, loc, want);
    done(&r);
}

TEST(xlcfg_minimal_defaults)
{
    struct res r;
    load(&r, BASE, NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK(!strcmp(r.c.name, "d1"));
    CHECK(!strcmp(r.c.kernel, "/k.elf"));
    CHECK_EQ(r.c.memory_mib, 32);
    CHECK_EQ(r.c.maxmem_mib, 32);
    CHECK_EQ(r.c.vcpus, 1);
    CHECK_EQ(r.c.maxvcpus, 1);
    CHECK(r.c.ramdisk == NULL && r.c.cmdline == NULL && r.c.seclabel == NULL);
    CHECK_EQ(r.c.on_poweroff, XL_ACTION_DESTROY);
    CHECK_EQ(r.c.on_reboot, XL_ACTION_RESTART);
    CHECK_EQ(r.c.on_crash, XL_ACTION_DESTROY);
    CHECK_EQ(r.c.ssidref, XHV_SSIDREF_DOMU);
    CHECK(!r.c.uuid_set);
    CHECK_EQ(r.msg_len, 0);
    done(&r);
}

TEST(xlcfg_full_config)
{
    struct res r;
    load(&r,
         "# a full config\n"
         "name = 'web-1'   # trailing comment\n"
         "type = \"pvh\"; memory = 256; maxmem = 0x200\n"
         "vcpus = 2\nmaxvcpus = \"4\"\n"
         "kernel = \"/boot/k\"\nramdisk = '/boot/initrd'\n"
         "cmdline = \"console=hvc0 quiet\"\n"
         "on_poweroff = \"preserve\"\non_reboot = 'rename-restart'\non_crash = \"restart\"\n"
         "on_watchdog = \"preserve\"\non_soft_reset = 'destroy'\n"
         "uuid = \"12345678-9abc-def0-1234-56789ABCDEF0\"\n"
         "seclabel = 'system_u:system_r:domU_t'",
         NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK(!strcmp(r.c.name, "web-1"));
    CHECK_EQ(r.c.memory_mib, 256);
    CHECK_EQ(r.c.maxmem_mib, 512);
    CHECK_EQ(r.c.vcpus, 2);
    CHECK_EQ(r.c.maxvcpus, 4);
    CHECK(r.c.ramdisk && !strcmp(r.c.ramdisk, "/boot/initrd"));
    CHECK(r.c.cmdline && !strcmp(r.c.cmdline, "console=hvc0 quiet"));
    CHECK_EQ(r.c.on_poweroff, XL_ACTION_PRESERVE);
    CHECK_EQ(r.c.on_reboot, XL_ACTION_RENAME_RESTART);
    CHECK_EQ(r.c.on_crash, XL_ACTION_RESTART);
    CHECK_EQ(r.c.on_watchdog, XL_ACTION_PRESERVE);
    CHECK(r.c.uuid_set);
    CHECK_EQ(r.c.uuid[0], 0x12);
    CHECK_EQ(r.c.uuid[15], 0xf0);
    CHECK_EQ(r.c.ssidref, XHV_SSIDREF_DOMU);
    CHECK_EQ(r.msg_len, 0);
    done(&r);
}

TEST(xlcfg_lists_and_continuation)
{
    struct xlcfg cfg = {0};
    const char *t = "disk = [ 'a',\n  \"b\" ,  # comment inside\n\n 'c', ]\nvif = []\n"
                    "x = [\n]\nn = [1, 0x2]\n";
    FILE *errf = fopen("/dev/null", "w");
    CHECK_EQ(xlcfg_parse(&cfg, "t.cfg", t, strlen(t), errf), 0);
    struct xlcfg_setting *s = xlcfg_find(&cfg, "disk");
    CHECK(s && s->is_list && s->nr_items == 3);
    if (s && s->nr_items == 3)
        CHECK(!strcmp(s->items[0], "a") && !strcmp(s->items[1], "b") && !strcmp(s->items[2], "c"));
    s = xlcfg_find(&cfg, "vif");
    CHECK(s && s->is_list && s->nr_items == 0);
    s = xlcfg_find(&cfg, "x");
    CHECK(s && s->is_list && s->nr_items == 0);
    s = xlcfg_find(&cfg, "n");
    CHECK(s && s->nr_items == 2 && s->line == 8);
    xlcfg_free(&cfg);
    fclose(errf);
}

TEST(xlcfg_escapes_and_plus_equals)
{
    struct xlcfg cfg = {0};
    const char *t = "a = \"x\\ty\\n\\\\\\\"q\\x41\\101\"\nb = 'it\\'s'\nb += \" ok\"\n"
                    "l = ['1']\nl += ['2', '3']\nnew += 'z'\n";
    FILE *errf = fopen("/dev/null", "w");
    CHECK_EQ(xlcfg_parse(&cfg, "t.cfg", t, strlen(t), errf), 0);
    struct xlcfg_setting *s = xlcfg_find(&cfg, "a");
    CHECK(s && !strcmp(s->atom, "x\ty\n\\\"qAA"));
    s = xlcfg_find(&cfg, "b");
    CHECK(s && !strcmp(s->atom, "it's ok"));
    s = xlcfg_find(&cfg, "l");
    CHECK(s && s->nr_items == 3);
    s = xlcfg_find(&cfg, "new");
    CHECK(s && !strcmp(s->atom, "z"));
    xlcfg_free(&cfg);
    fclose(errf);
}

TEST(xlcfg_last_setting_wins)
{
    struct res r;
    load(&r, BASE "memory = 64\nmemory = 128\nname = \"d2\"\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.memory_mib, 128);
    CHECK(!strcmp(r.c.name, "d2"));
    done(&r);
}

TEST(xlcfg_overrides)
{
    struct res r;
    char *ovr[] = {"memory=96", "name=\"other\"", "vcpus = 3; maxvcpus = 3"};
    load(&r, BASE "memory = 64\n", ovr, 3);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.memory_mib, 96);
    CHECK_EQ(r.c.vcpus, 3);
    CHECK(!strcmp(r.c.name, "other"));
    done(&r);
    /* An override that is not xl syntax is refused, pointing at the command line. */
    char *bad_ovr[] = {"name=other"};
    load(&r, BASE, bad_ovr, 1);
    CHECK_EQ(r.rc, -1);
    CHECK(strstr(r.msg, "<command line>:1:") != NULL);
    done(&r);
}

TEST(xlcfg_memory_rules)
{
    struct res r;
    load(&r, BASE "maxmem = 256\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.memory_mib, 256); /* memory defaults to maxmem, as libxl's target_memkb */
    CHECK_EQ(r.c.maxmem_mib, 256);
    done(&r);
    load(&r, BASE "memory = 100\nmaxmem = 200\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.memory_mib, 100);
    CHECK_EQ(r.c.maxmem_mib, 200);
    done(&r);
    check_bad(BASE "memory = 200\nmaxmem = 100\n", "must not be below memory", 4);
    check_bad(BASE "memory = 0\n", "parameter `memory' must be a number", 3);
    check_bad(BASE "memory = \"lots\"\n", "not `lots'", 3);
    check_bad(BASE "memory = 12abc\n", "parameter `memory'", 3);
    check_bad(BASE "memory = [1]\n", "is a list but should be a single value", 3);
    check_bad(BASE "memory = 99999999999\n", "parameter `memory'", 3);
}

TEST(xlcfg_cmdline_root_extra)
{
    struct res r;
    load(&r, BASE "root = \"/dev/xvda1\"\nextra = \"console=hvc0\"\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.cmdline && !strcmp(r.c.cmdline, "root=/dev/xvda1 console=hvc0"));
    done(&r);
    load(&r, BASE "root = \"/dev/xvda1\"\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.cmdline && !strcmp(r.c.cmdline, "root=/dev/xvda1"));
    done(&r);
    load(&r, BASE "extra = \"quiet\"\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.cmdline && !strcmp(r.c.cmdline, "quiet"));
    done(&r);
    /* cmdline wins over root/extra with a warning, as xl. */
    load(&r, BASE "cmdline = \"a b\"\nextra = \"c\"\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.cmdline && !strcmp(r.c.cmdline, "a b"));
    CHECK(strstr(r.msg, "ignoring root= and extra=") != NULL);
    done(&r);
}

TEST(xlcfg_vcpus)
{
    struct res r;
    load(&r, BASE "vcpus = 4\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.vcpus == 4 && r.c.maxvcpus == 4);
    done(&r);
    check_bad(BASE "vcpus = 4\nmaxvcpus = 2\n", "maxvcpus (2) must not be below vcpus (4)", 4);
    check_bad(BASE "vcpus = 0\n", "parameter `vcpus'", 3);
    check_bad(BASE "vcpus = 129\n", "parameter `vcpus'", 3);
}

TEST(xlcfg_type)
{
    struct res r;
    load(&r, BASE "type = \"pvh\"\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    done(&r);
    load(&r, BASE "pvh = 1\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    done(&r);
    check_bad(BASE "type = \"pv\"\n", "type `pv' is not supported: xhv runs PVH guests only", 3);
    check_bad(BASE "type = 'hvm'\n", "type `hvm' is not supported", 3);
    check_bad(BASE "type = 'arm'\n", "invalid type `arm'", 3);
    check_bad(BASE "builder = 'hvm'\n", "builder `hvm' is not supported", 3);
    check_bad(BASE "pvh = 0\n", "PV guest", 3);
}

TEST(xlcfg_actions)
{
    check_bad(BASE "on_crash = \"coredump-destroy\"\n", "not supported by xhv", 3);
    check_bad(BASE "on_reboot = \"coredump-restart\"\n", "not supported by xhv", 3);
    check_bad(BASE "on_poweroff = \"soft-reset\"\n", "not supported by xhv", 3);
    check_bad(BASE "on_poweroff = \"explode\"\n", "invalid action `explode'", 3);
    check_bad(BASE "on_watchdog = 1\n", "invalid action `1'", 3);
    struct res r;
    load(&r, BASE "on_crash = 'rename-restart'\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.on_crash == XL_ACTION_RENAME_RESTART);
    done(&r);
}

TEST(xlcfg_privileged)
{
    struct res r;
    load(&r, BASE "seclabel = \"system_u:system_r:dom0_t\"\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.ssidref == XHV_SSIDREF_CONTROL);
    done(&r);
    load(&r, BASE "xhv_privileged = 1\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.ssidref == XHV_SSIDREF_CONTROL);
    done(&r);
    load(&r, BASE "xhv_privileged = 0\nseclabel = 'a:b:domU_t'\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.ssidref == XHV_SSIDREF_DOMU);
    done(&r);
    check_bad(BASE "xhv_privileged = 2\n", "parameter `xhv_privileged'", 3);
}

TEST(xlcfg_evtchn_peers)
{
    struct res r, r2;
    char buf[1024];
    load(&r, BASE "xhv_evtchn = [ 'pong', \"7\", 'pong' ]\n", NULL, 0);
    CHECK(r.rc == 0 && r.c.nr_evtchn == 3);
    CHECK(!strcmp(r.c.evtchn_peers[0], "pong") && !strcmp(r.c.evtchn_peers[1], "7"));
    xl_config_format(&r.c, buf, sizeof(buf));
    CHECK(strstr(buf, "xhv_evtchn = [ \"pong\", \"7\", \"pong\" ]\n") != NULL);
    load(&r2, buf, NULL, 0);
    CHECK(r2.rc == 0 && r2.c.nr_evtchn == 3 && !strcmp(r2.c.evtchn_peers[2], "pong"));
    done(&r);
    done(&r2);
    check_bad(BASE "xhv_evtchn = 'pong'\n", "must be a list", 3);
    check_bad(BASE "xhv_evtchn = [ 'a/b' ]\n", "not a domain name or id", 3);
    check_bad(BASE "xhv_evtchn = [ 'a','a','a','a','a','a','a','a','a' ]\n", "at most 8", 3);
}

TEST(xlcfg_names_and_uuid)
{
    check_bad("kernel = '/k'\n", "domain name must be specified", 0);
    check_bad("name = 'x'\n", "needs a kernel", 0);
    check_bad("name = ''\nkernel = '/k'\n", "invalid domain name", 1);
    check_bad("name = '42'\nkernel = '/k'\n", "is a number", 1);
    check_bad("name = 'a/b'\nkernel = '/k'\n", "contains '/'", 1);
    check_bad("name = 'a b'\nkernel = '/k'\n", "invalid domain name", 1);
    check_bad("name = 'Domain-0'\nkernel = '/k'\n", "control domain", 1);
    check_bad("name = '0123456789012345678901234567890123456789012345678901234567890123'\n"
              "kernel = '/k'\n",
              "longer than 63", 1);
    check_bad(BASE "uuid = 'not-a-uuid'\n", "failed to parse UUID", 3);
    check_bad(BASE "uuid = '12345678-9abc-def0-1234-56789abcdefg'\n", "failed to parse UUID", 3);
    CHECK(xl_name_invalid("web-01.example_2") == NULL);
}

TEST(xlcfg_syntax_errors)
{
    check_bad(BASE "memory 64\n", "config parsing error near `64': syntax error", 3);
    check_bad(BASE "Memory = 64\n", "near `Memory': lexical error", 3);
    check_bad(BASE "name = \"unterminated\n", "unterminated string", 3);
    check_bad(BASE "cmdline = 'a\\qb'\n", "invalid character escape", 3);
    check_bad(BASE "\n\ndisk = [ 'a' 'b' ]\n", "expected `,' or `]'", 5);
    check_bad(BASE "disk = [ 'a', \n 'b'\n", "end of file", 5);
    check_bad(BASE "disk = [ ['a'] ]\n", "nested lists", 3);
    check_bad(BASE "memory = 64 vcpus = 2\n", "near `vcpus'", 3);
    check_bad(BASE "= 3\n", "expected `key = value'", 3);
    check_bad(BASE "memory = (64)\n", "lexical error", 3);
    check_bad(BASE "memory =\n", "near `end of line'", 3);
    check_bad(BASE "s = 'a'\ns += ['b']\n", "cannot add a list", 4);
    struct xlcfg cfg = {0};
    FILE *errf = fopen("/dev/null", "w");
    CHECK_EQ(xlcfg_parse(&cfg, "t.cfg", "a = 1\0b = 2", 11, errf), -1);
    xlcfg_free(&cfg);
    fclose(errf);
}

TEST(xlcfg_unknown_keys_warn)
{
    struct res r;
    load(&r, BASE "vif = [ 'bridge=xenbr0' ]\nfoo_bar = 1\nfoo_bar = 2\n", NULL, 0);
    CHECK_EQ(r.rc, 0);
    CHECK(strstr(r.msg, "t.cfg:3: warning: unknown or unsupported key `vif'") != NULL);
    CHECK(strstr(r.msg, "t.cfg:5: warning: unknown or unsupported key `foo_bar'") != NULL);
    CHECK(strstr(r.msg, "t.cfg:4:") == NULL); /* one warning per key: its last setting */
    done(&r);
}

TEST(xlcfg_file_io)
{
    char path[] = "/tmp/xhv_xlcfg_XXXXXX";
    int fd = mkstemp(path);
    const char *t = BASE "memory = 48\n";
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(write(fd, t, strlen(t)), (long long)strlen(t));
    close(fd);
    struct xl_config c;
    char *ovr[] = {"vcpus=2"};
    FILE *errf = fopen("/dev/null", "w");
    CHECK_EQ(xl_config_load(path, ovr, 1, &c, errf), 0);
    CHECK_EQ(c.memory_mib, 48);
    CHECK_EQ(c.vcpus, 2);
    xl_config_free(&c);
    unlink(path);
    CHECK_EQ(xl_config_load(path, NULL, 0, &c, errf), -1);
    fclose(errf);
}

TEST(xlcfg_format_round_trip)
{
    struct res r, r2;
    char buf[2048];
    load(&r,
         BASE "memory = 64\nmaxmem = 80\nvcpus = 2\ncmdline = \"a \\\"q\\\" \\\\ b\\tc\"\n"
              "on_crash = 'preserve'\nxhv_privileged = 1\nseclabel = 'x:y:z'\n"
              "uuid = '00112233-4455-6677-8899-aabbccddeeff'\nramdisk = '/r'\n",
         NULL, 0);
    CHECK_EQ(r.rc, 0);
    size_t n = xl_config_format(&r.c, buf, sizeof(buf));
    CHECK(n < sizeof(buf) && n == strlen(buf));
    load(&r2, buf, NULL, 0);
    CHECK_EQ(r2.rc, 0);
    CHECK(!strcmp(r2.c.name, r.c.name) && !strcmp(r2.c.kernel, r.c.kernel));
    CHECK(!strcmp(r2.c.cmdline, "a \"q\" \\ b\tc") && !strcmp(r2.c.ramdisk, "/r"));
    CHECK(r2.c.memory_mib == 64 && r2.c.maxmem_mib == 80 && r2.c.vcpus == 2);
    CHECK(r2.c.on_crash == XL_ACTION_PRESERVE && r2.c.ssidref == XHV_SSIDREF_CONTROL);
    CHECK(r2.c.uuid_set && !memcmp(r2.c.uuid, r.c.uuid, sizeof(r.c.uuid)));
    CHECK(!strcmp(r2.c.seclabel, "x:y:z"));
    /* Truncation reports the needed length and keeps the buffer terminated. */
    CHECK_EQ(xl_config_format(&r.c, buf, 10), n);
    CHECK_EQ(strlen(buf), 9);
    done(&r);
    done(&r2);
}

TEST(xlcfg_json)
{
    struct res r;
    char *out = NULL;
    size_t len = 0;
    load(&r, BASE "cmdline = \"q\\\"x\"\n", NULL, 0);
    FILE *f = open_memstream(&out, &len);
    xl_config_json(&r.c, f, 0);
    fclose(f);
    CHECK(strstr(out, "\"name\": \"d1\"") != NULL);
    CHECK(strstr(out, "\"cmdline\": \"q\\\"x\"") != NULL);
    CHECK(strstr(out, "\"ramdisk\": null") != NULL);
    CHECK(strstr(out, "\"on_reboot\": \"restart\"") != NULL);
    CHECK(strstr(out, "\"max_memkb\": 32768") != NULL);
    free(out);
    done(&r);
    char u[37];
    xen_domain_handle_t h;
    CHECK_EQ(xl_uuid_parse("00112233-4455-6677-8899-aabbccddeeff", h), 0);
    xl_uuid_format(h, u);
    CHECK(!strcmp(u, "00112233-4455-6677-8899-aabbccddeeff"));
}
