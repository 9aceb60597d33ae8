/* xlcfg_config.c: the typed xl.cfg domain config (xl_parse.c's rules for the keys xhv honours),
 * its canonical text and its libxl-shaped JSON. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli/xlcfg.h"
#include "core/core.h"

#define DEFAULT_MEMORY_MIB 32 /* libxl__domain_build_info_setdefault(): 32 * 1024 KiB */
#define MAX_MEMORY_MIB (1ull << 20)

/* Keys xhv knows; the ones it takes are converted below, the others only warned about. */
static const char *const known_keys[] = {
    "name",     "memory",         "maxmem",    "vcpus",      "maxvcpus",    "kernel",
    "ramdisk",  "cmdline",        "extra",     "root",       "type",        "builder",
    "pvh",      "on_poweroff",    "on_reboot", "on_crash",   "on_watchdog", "on_soft_reset",
    "seclabel", "xhv_privileged", "uuid",      "xhv_evtchn",
};

static const char *const action_names[] = {
    [XL_ACTION_DESTROY] = "destroy",
    [XL_ACTION_RESTART] = "restart",
    [XL_ACTION_PRESERVE] = "preserve",
    [XL_ACTION_RENAME_RESTART] = "rename-restart",
};

const char *xl_action_name(enum xl_action a)
{
    return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

static void bad(FILE *errf, const struct xlcfg_setting *s, const char *fmt, const char *arg)
{
    fprintf(errf, "%s:%d: ", s->file, s->line);
    fprintf(errf, fmt, arg);
    fputc('\n', errf);
}

/* A single value (xlu_cfg_get_string()); NULL + message for a list. */
static const char *get_atom(struct xlcfg *cfg, const char *key, FILE *errf, bool *err)
{
    struct xlcfg_setting *s = xlcfg_find(cfg, key);
    if (!s)
        return NULL;
    s->used = true;
    if (s->is_list) {
        bad(errf, s, "parameter `%s' is a list but should be a single value", key);
        *err = true;
        return NULL;
    }
    return s->atom;
}

/* An integer in [lo, hi] (xlu_cfg_get_long(): strtol base 0, number or quoted string). */
static int get_long(struct xlcfg *cfg, const char *key, long long lo, long long hi, long long *out,
                    FILE *errf, bool *err)
{
    const char *v = get_atom(cfg, key, errf, err);
    char *end;
    long long n;
    if (!v)
        return 0;
    errno = 0;
    n = strtoll(v, &end, 0);
    if (errno || end == v || *end || n < lo || n > hi) {
        struct xlcfg_setting *s = xlcfg_find(cfg, key);
        fprintf(errf, "%s:%d: parameter `%s' must be a number from %lld to %lld, not `%s'\n",
                s->file, s->line, key, lo, hi, v);
        *err = true;
        return 0;
    }
    *out = n;
    return 1;
}

static char *dup_atom(struct xlcfg *cfg, const char *key, FILE *errf, bool *err)
{
    const char *v = get_atom(cfg, key, errf, err);
    char *d = v ? strdup(v) : NULL;
    if (v && !d)
        *err = true;
    return d;
}

static int parse_action(struct xlcfg *cfg, const char *key, enum xl_action *a, FILE *errf,
                        bool *err)
{
    const char *v = get_atom(cfg, key, errf, err);
    struct xlcfg_setting *s = xlcfg_find(cfg, key);
    if (!v)
        return 0;
    for (unsigned i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
        if (!strcmp(v, action_names[i]))
            return *a = (enum xl_action)i, 0;
    if (!strcmp(v, "coredump-destroy") || !strcmp(v, "coredump-restart") ||
        !strcmp(v, "soft-reset"))
        bad(errf, s,
            "action `%s' is not supported by xhv (use destroy, restart, preserve or "
            "rename-restart)",
            v);
    else
        bad(errf, s, "invalid action `%s' (destroy, restart, preserve or rename-restart)", v);
    *err = true;
    return -1;
}

const char *xl_name_invalid(const char *name)
{
    size_t n = strlen(name), digits = strspn(name, "0123456789");
    if (!n)
        return "is empty";
    if (n > XL_NAME_MAX)
        return "is longer than 63 bytes";
    if (digits == n)
        return "is a number (it would read as a domain id)";
    if (!strcmp(name, "Domain-0"))
        return "is the control domain's";
    for (const char *p = name; *p; p++)
        if (*p == '/' || (unsigned char)*p <= ' ' || *p == 0x7f)
            return "contains '/', a space or a control character";
    return NULL;
}

/* "type"/"builder"/"pvh": xhv builds PVH domains only. */
static void parse_type(struct xlcfg *cfg, FILE *errf, bool *err)
{
    const char *t = get_atom(cfg, "type", errf, err);
    const char *b = get_atom(cfg, "builder", errf, err);
    long long pvh = 1;
    struct xlcfg_setting *s;
    if (t && strcmp(t, "pvh")) {
        s = xlcfg_find(cfg, "type");
        bad(errf, s,
            strcmp(t, "pv") && strcmp(t, "hvm")
                ? "invalid type `%s' (xhv runs type = \"pvh\" guests)"
                : "type `%s' is not supported: xhv runs PVH guests only "
                  "(type = \"pvh\")",
            t);
        *err = true;
    }
    if (b && !t) {
        s = xlcfg_find(cfg, "builder");
        bad(errf, s, "builder `%s' is not supported: xhv runs PVH guests only (type = \"pvh\")", b);
        *err = true;
    }
    if (get_long(cfg, "pvh", 0, 1, &pvh, errf, err) && !pvh && !t) {
        bad(errf, xlcfg_find(cfg, "pvh"), "%s",
            "pvh = 0 (a PV guest) is not supported: xhv "
            "runs PVH guests only");
        *err = true;
    }
}

/* xl_parse.c parse_cmdline(): cmdline wins over root/extra (with a warning). */
static void parse_cmdline(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    const char *cmd = get_atom(cfg, "cmdline", errf, err);
    const char *root = get_atom(cfg, "root", errf, err);
    const char *extra = get_atom(cfg, "extra", errf, err);
    int n = 0;
    if (cmd) {
        if (root || extra)
            fprintf(errf, "Warning: ignoring root= and extra= in favour of cmdline=\n");
        c->cmdline = strdup(cmd);
    } else if (root && extra) {
        n = asprintf(&c->cmdline, "root=%s %s", root, extra);
    } else if (root) {
        n = asprintf(&c->cmdline, "root=%s", root);
    } else if (extra) {
        c->cmdline = strdup(extra);
    }
    if (n < 0 || ((cmd || root || extra) && !c->cmdline))
        *err = true, c->cmdline = NULL;
}

static void parse_memory(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    long long mem = 0, max = 0;
    bool has_mem = get_long(cfg, "memory", 1, MAX_MEMORY_MIB, &mem, errf, err);
    bool has_max = get_long(cfg, "maxmem", 1, MAX_MEMORY_MIB, &max, errf, err);
    c->memory_mib = has_mem ? (uint64_t)mem : has_max ? (uint64_t)max : DEFAULT_MEMORY_MIB;
    c->maxmem_mib = has_max ? (uint64_t)max : c->memory_mib;
    if (c->maxmem_mib < c->memory_mib) {
        struct xlcfg_setting *s = xlcfg_find(cfg, "maxmem");
        fprintf(errf, "%s:%d: maxmem (%llu MiB) must not be below memory (%llu MiB)\n", s->file,
                s->line, (unsigned long long)c->maxmem_mib, (unsigned long long)c->memory_mib);
        *err = true;
    }
}

static void parse_vcpus(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    long long v = 1, max = 0;
    get_long(cfg, "vcpus", 1, XHV_MAX_VCPUS, &v, errf, err);
    bool has_max = get_long(cfg, "maxvcpus", 1, XHV_MAX_VCPUS, &max, errf, err);
    c->vcpus = (unsigned)v;
    c->maxvcpus = has_max ? (unsigned)max : c->vcpus;
    if (c->maxvcpus < c->vcpus) {
        struct xlcfg_setting *s = xlcfg_find(cfg, "maxvcpus");
        fprintf(errf, "%s:%d: maxvcpus (%u) must not be below vcpus (%u)\n", s->file, s->line,
                c->maxvcpus, c->vcpus);
        *err = true;
    }
}

/* seclabel "...:dom0_t" or xhv_privileged = 1: a control (privileged) domain. */
static void parse_security(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    long long priv = 0;
    c->seclabel = dup_atom(cfg, "seclabel", errf, err);
    get_long(cfg, "xhv_privileged", 0, 1, &priv, errf, err);
    c->ssidref = XHV_SSIDREF_DOMU;
    if (priv)
        c->ssidref = XHV_SSIDREF_CONTROL;
    if (c->seclabel) {
        size_t n = strlen(c->seclabel);
        if (n >= 7 && !strcmp(c->seclabel + n - 7, ":dom0_t"))
            c->ssidref = XHV_SSIDREF_CONTROL;
    }
}

/* xhv_evtchn: a list of up to XL_MAX_EVTCHN peers (domain names or domids). */
static void parse_evtchn(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    struct xlcfg_setting *s = xlcfg_find(cfg, "xhv_evtchn");
    if (!s)
        return;
    s->used = true;
    if (!s->is_list || s->nr_items > XL_MAX_EVTCHN) {
        bad(errf, s, "`%s' must be a list of at most 8 peer domains", "xhv_evtchn");
        *err = true;
        return;
    }
    for (unsigned i = 0; i < s->nr_items; i++) {
        const char *p = s->items[i];
        bool domid = *p && strspn(p, "0123456789") == strlen(p);
        if (!domid && xl_name_invalid(p)) {
            bad(errf, s, "xhv_evtchn: `%s' is not a domain name or id", p);
            *err = true;
            return;
        }
        c->evtchn_peers[c->nr_evtchn++] = strdup(p);
    }
}

static void parse_identity(struct xlcfg *cfg, struct xl_config *c, FILE *errf, bool *err)
{
    const char *name = get_atom(cfg, "name", errf, err);
    const char *uuid = get_atom(cfg, "uuid", errf, err);
    const char *why;
    if (!name && !xlcfg_find(cfg, "name")) {
        fprintf(errf, "%s: domain name must be specified (name = \"...\")\n",
                cfg->nr_files ? cfg->files[0] : "config");
        *err = true;
    } else if (name && (why = xl_name_invalid(name))) {
        struct xlcfg_setting *s = xlcfg_find(cfg, "name");
        fprintf(errf, "%s:%d: invalid domain name `%s': it %s\n", s->file, s->line, name, why);
        *err = true;
    } else if (name) {
        snprintf(c->name, sizeof(c->name), "%s", name);
    }
    if (uuid && xl_uuid_parse(uuid, c->uuid)) {
        bad(errf, xlcfg_find(cfg, "uuid"), "failed to parse UUID `%s'", uuid);
        *err = true;
    }
    c->uuid_set = uuid != NULL;
}

static void warn_unused(struct xlcfg *cfg, FILE *errf)
{
    for (unsigned i = 0; i < cfg->nr; i++) {
        struct xlcfg_setting *s = &cfg->set[i];
        bool known = false;
        if (s->used || xlcfg_find(cfg, s->name) != s)
            continue;
        for (unsigned k = 0; k < sizeof(known_keys) / sizeof(known_keys[0]); k++)
            known |= !strcmp(s->name, known_keys[k]);
        if (!known)
            fprintf(errf, "%s:%d: warning: unknown or unsupported key `%s' ignored\n", s->file,
                    s->line, s->name);
    }
}

int xl_config_from_cfg(struct xlcfg *cfg, struct xl_config *c, FILE *errf)
{
    bool err = false;
    memset(c, 0, sizeof(*c));
    c->on_poweroff = c->on_crash = c->on_watchdog = c->on_soft_reset = XL_ACTION_DESTROY;
    c->on_reboot = XL_ACTION_RESTART;
    parse_identity(cfg, c, errf, &err);
    parse_type(cfg, errf, &err);
    parse_memory(cfg, c, errf, &err);
    parse_vcpus(cfg, c, errf, &err);
    c->kernel = dup_atom(cfg, "kernel", errf, &err);
    c->ramdisk = dup_atom(cfg, "ramdisk", errf, &err);
    if (!c->kernel && !xlcfg_find(cfg, "kernel")) {
        fprintf(errf, "%s: a PVH guest needs a kernel (kernel = \"...\")\n",
                cfg->nr_files ? cfg->files[0] : "config");
        err = true;
    }
    parse_cmdline(cfg, c, errf, &err);
    parse_action(cfg, "on_poweroff", &c->on_poweroff, errf, &err);
    parse_action(cfg, "on_reboot", &c->on_reboot, errf, &err);
    parse_action(cfg, "on_crash", &c->on_crash, errf, &err);
    parse_action(cfg, "on_watchdog", &c->on_watchdog, errf, &err);
    parse_action(cfg, "on_soft_reset", &c->on_soft_reset, errf, &err);
    parse_security(cfg, c, errf, &err);
    parse_evtchn(cfg, c, errf, &err);
    warn_unused(cfg, errf);
    if (err)
        xl_config_free(c);
    return err ? -1 : 0;
}

int xl_config_load(const char *path, char *const overrides[], int nr_overrides, struct xl_config *c,
                   FILE *errf)
{
    struct xlcfg cfg = {0};
    int rc = xlcfg_parse_file(&cfg, path, errf);
    for (int i = 0; rc == 0 && i < nr_overrides; i++)
        rc = xlcfg_parse(&cfg, "<command line>", overrides[i], strlen(overrides[i]), errf);
    if (rc == 0)
        rc = xl_config_from_cfg(&cfg, c, errf);
    xlcfg_free(&cfg);
    return rc;
}

void xl_config_free(struct xl_config *c)
{
    free(c->kernel);
    free(c->ramdisk);
    free(c->cmdline);
    free(c->seclabel);
    c->kernel = c->ramdisk = c->cmdline = c->seclabel = NULL;
    for (unsigned i = 0; i < c->nr_evtchn; i++)
        free(c->evtchn_peers[i]);
    c->nr_evtchn = 0;
}

/* ---- uuid ---- */

int xl_uuid_parse(const char *s, xen_domain_handle_t out)
{
    static const int dash[] = {8, 13, 18, 23};
    if (strlen(s) != 36)
        return -1;
    for (int i = 0, o = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-')
                return -1;
            d++;
            continue;
        }
        if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
            return -1;
        char h[3] = {s[i], s[i + 1], 0};
        out[o++] = (uint8_t)strtoul(h, NULL, 16);
        i++;
    }
    return 0;
}

void xl_uuid_format(const xen_domain_handle_t u, char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

void xl_uuid_generate(xen_domain_handle_t out)
{
    if (getrandom(out, sizeof(xen_domain_handle_t), 0) != (ssize_t)sizeof(xen_domain_handle_t))
        for (size_t i = 0; i < sizeof(xen_domain_handle_t); i++)
            out[i] = (uint8_t)random();
    out[6] = (out[6] & 0x0f) | 0x40; /* version 4 */
    out[8] = (out[8] & 0x3f) | 0x80; /* RFC 4122 variant */
}

/* ---- canonical text and JSON ---- */

/* s as an xl.cfg double-quoted string. */
static size_t quote(char *buf, size_t len, const char *s)
{
    size_t n = 0;
#define PUT(c) (n + 1 < len ? (void)(buf[n] = (c)) : (void)0, n++)
    PUT('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            PUT('\\');
            PUT((char)ch);
        } else if (ch < ' ' || ch == 0x7f) {
            char oct[5];
            snprintf(oct, sizeof(oct), "\\%03o", ch);
            for (int i = 0; i < 4; i++)
                PUT(oct[i]);
        } else {
            PUT((char)ch);
        }
    }
    PUT('"');
#undef PUT
    if (len)
        buf[n < len ? n : len - 1] = 0;
    return n;
}

struct sbuf {
    char *buf;
    size_t len, n;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r =
        vsnprintf(b->n < b->len ? b->buf + b->n : NULL, b->n < b->len ? b->len - b->n : 0, fmt, ap);
    va_end(ap);
    b->n += r > 0 ? (size_t)r : 0;
}

static void sb_string(struct sbuf *b, const char *key, const char *v)
{
    if (!v)
        return;
    sb_printf(b, "%s = ", key);
    b->n += quote(b->n < b->len ? b->buf + b->n : NULL, b->n < b->len ? b->len - b->n : 0, v);
    sb_printf(b, "\n");
}

size_t xl_config_format(const struct xl_config *c, char *buf, size_t len)
{
    struct sbuf b = {buf, len, 0};
    char uuid[37];
    if (len)
        buf[0] = 0;
    sb_string(&b, "name", c->name);
    sb_printf(&b, "type = \"pvh\"\nmemory = %llu\nmaxmem = %llu\nvcpus = %u\nmaxvcpus = %u\n",
              (unsigned long long)c->memory_mib, (unsigned long long)c->maxmem_mib, c->vcpus,
              c->maxvcpus);
    sb_string(&b, "kernel", c->kernel);
    sb_string(&b, "ramdisk", c->ramdisk);
    sb_string(&b, "cmdline", c->cmdline);
    sb_printf(&b, "on_poweroff = \"%s\"\non_reboot = \"%s\"\non_crash = \"%s\"\n",
              xl_action_name(c->on_poweroff), xl_action_name(c->on_reboot),
              xl_action_name(c->on_crash));
    sb_printf(&b, "on_watchdog = \"%s\"\non_soft_reset = \"%s\"\n", xl_action_name(c->on_watchdog),
              xl_action_name(c->on_soft_reset));
    sb_string(&b, "seclabel", c->seclabel);
    if (c->ssidref == XHV_SSIDREF_CONTROL)
        sb_printf(&b, "xhv_privileged = 1\n");
    if (c->uuid_set) {
        xl_uuid_format(c->uuid, uuid);
        sb_string(&b, "uuid", uuid);
    }
    for (unsigned i = 0; i < c->nr_evtchn; i++) {
        sb_printf(&b, i ? ", " : "xhv_evtchn = [ ");
        b.n += quote(b.n < b.len ? b.buf + b.n : NULL, b.n < b.len ? b.len - b.n : 0,
                     c->evtchn_peers[i]);
        sb_printf(&b, i + 1 == c->nr_evtchn ? " ]\n" : "");
    }
    return b.n;
}

void xl_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < ' ')
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_kv(FILE *f, unsigned ind, const char *k, const char *v, bool last)
{
    fprintf(f, "%*s\"%s\": ", ind, "", k);
    if (v)
        xl_json_string(f, v);
    else
        fputs("null", f);
    fputs(last ? "\n" : ",\n", f);
}

void xl_config_json(const struct xl_config *c, FILE *f, unsigned ind)
{
    char uuid[37];
    xl_uuid_format(c->uuid, uuid);
    fprintf(f, "{\n%*s\"c_info\": {\n", ind + 4, "");
    json_kv(f, ind + 8, "type", "pvh", false);
    json_kv(f, ind + 8, "name", c->name, false);
    fprintf(f, "%*s\"ssidref\": %u,\n", ind + 8, "", c->ssidref);
    json_kv(f, ind + 8, "ssid_label", c->seclabel, false);
    json_kv(f, ind + 8, "uuid", uuid, true);
    fprintf(f, "%*s},\n%*s\"b_info\": {\n", ind + 4, "", ind + 4, "");
    fprintf(f, "%*s\"max_vcpus\": %u,\n%*s\"avail_vcpus\": %u,\n", ind + 8, "", c->maxvcpus,
            ind + 8, "", c->vcpus);
    fprintf(f, "%*s\"max_memkb\": %llu,\n%*s\"target_memkb\": %llu,\n", ind + 8, "",
            (unsigned long long)c->maxmem_mib * 1024, ind + 8, "",
            (unsigned long long)c->memory_mib * 1024);
    json_kv(f, ind + 8, "kernel", c->kernel, false);
    json_kv(f, ind + 8, "cmdline", c->cmdline, false);
    json_kv(f, ind + 8, "ramdisk", c->ramdisk, true);
    fprintf(f, "%*s},\n", ind + 4, "");
    json_kv(f, ind + 4, "on_poweroff", xl_action_name(c->on_poweroff), false);
    json_kv(f, ind + 4, "on_reboot", xl_action_name(c->on_reboot), false);
    json_kv(f, ind + 4, "on_watchdog", xl_action_name(c->on_watchdog), false);
    json_kv(f, ind + 4, "on_crash", xl_action_name(c->on_crash), false);
    json_kv(f, ind + 4, "on_soft_reset", xl_action_name(c->on_soft_reset), true);
    fprintf(f, "%*s}", ind, "");
}
