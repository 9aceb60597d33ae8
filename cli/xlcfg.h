/* xlcfg.h: xl.cfg files (Xen's libxlu syntax) parsed into the domain config `xhv create` builds. */
#ifndef XHV_XLCFG_H
#define XHV_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/xen_abi.h"

/*
 * The generic layer, as libxlu keeps it: `key = value` / `key += value` settings whose
 * values are atoms (numbers and strings are both kept as text) or lists of atoms. A later
 * setting of a key replaces an earlier one, as in xl.
 */
struct xlcfg_setting {
    char *name;
    char *atom;   /* NULL for a list */
    char **items; /* list items (nr_items of them) */
    unsigned nr_items;
    bool is_list;
    const char *file; /* points into struct xlcfg's file names */
    int line;
    bool used; /* looked at by xl_config_from_cfg() (unused ones are warned about) */
};

struct xlcfg {
    struct xlcfg_setting *set;
    unsigned nr, cap;
    char **files; /* file names, owned */
    unsigned nr_files;
};

/* Parse text (len bytes) named `file` in messages into cfg, after what cfg already holds.
 * 0, or -1 after printing "FILE:LINE: config parsing error near `TOKEN': WHY" to errf. */
int xlcfg_parse(struct xlcfg *cfg, const char *file, const char *text, size_t len, FILE *errf);
/* Read and parse a file; -1 with a message if it cannot be read or parsed. */
int xlcfg_parse_file(struct xlcfg *cfg, const char *path, FILE *errf);
/* The last setting of key, or NULL. */
struct xlcfg_setting *xlcfg_find(struct xlcfg *cfg, const char *key);
void xlcfg_free(struct xlcfg *cfg);

/* ---- the typed domain config ---- */

/* What happens when the domain shuts down with a given reason (xl's action_on_shutdown). */
enum xl_action {
    XL_ACTION_DESTROY,
    XL_ACTION_RESTART,
    XL_ACTION_PRESERVE,
    XL_ACTION_RENAME_RESTART,
};

#define XL_NAME_MAX 63 /* bytes, like the core's struct domain name */

#define XL_MAX_EVTCHN 8
struct xl_config {
    char name[XL_NAME_MAX + 1];
    uint64_t memory_mib, maxmem_mib;
    unsigned vcpus, maxvcpus;
    char *kernel, *ramdisk; /* malloc'd; ramdisk may be NULL */
    char *cmdline;          /* malloc'd, may be NULL: cmdline, else "root=ROOT EXTRA" as xl */
    enum xl_action on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset;
    char *seclabel;   /* malloc'd, may be NULL */
    uint32_t ssidref; /* XHV_SSIDREF_CONTROL for a privileged guest */
    xen_domain_handle_t uuid;
    bool uuid_set; /* given in the config (else the builder generates one) */
    /* xhv_evtchn = [ "PEER", ... ]: one interdomain channel to each (name or domid), made by
     * the builder: an unbound port in PEER, passed as xhv.evtchn=D:P,... on the cmdline. */
    char *evtchn_peers[XL_MAX_EVTCHN]; /* malloc'd */
    unsigned nr_evtchn;
};

/*
 * Check and convert the settings. Bad values are refused with "FILE:LINE: ..." on errf
 * (-1); unknown keys only warn "FILE:LINE: warning: ...". Defaults as libxl's: memory and
 * maxmem default to each other, else 32 MiB; vcpus 1; maxvcpus = vcpus; on_reboot restart,
 * the other actions destroy. type "pvh" only (and the default, as PV is not offered).
 */
int xl_config_from_cfg(struct xlcfg *cfg, struct xl_config *c, FILE *errf);
/* Parse a config file plus xl-style overrides ("key=value" texts, parsed after the file as
 * "<command line>"), and convert it. 0 or -1 (message printed). */
int xl_config_load(const char *path, char *const overrides[], int nr_overrides, struct xl_config *c,
                   FILE *errf);
void xl_config_free(struct xl_config *c);

/* Canonical xl.cfg text of c (parses back to the same config). Returns the length it needs
 * (like snprintf); buf is always NUL-terminated when len > 0. */
size_t xl_config_format(const struct xl_config *c, char *buf, size_t len);
/* c as libxl's domain_config JSON ("c_info", "b_info", "on_*"), indented by indent spaces. */
void xl_config_json(const struct xl_config *c, FILE *f, unsigned indent);

const char *xl_action_name(enum xl_action a);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" <-> handle; parse returns 0 or -1. */
int xl_uuid_parse(const char *s, xen_domain_handle_t out);
void xl_uuid_format(const xen_domain_handle_t u, char out[37]);
/* A random (version 4) uuid. */
void xl_uuid_generate(xen_domain_handle_t out);
/* A domain name xhv accepts (printable, no '/', not all digits, not Domain-0...): NULL, or
 * why not. */
const char *xl_name_invalid(const char *name);
/* JSON string literal of s (quotes and escapes) on f. */
void xl_json_string(FILE *f, const char *s);

#endif
