/* xhv.h: the `xhv` command table shared by the cmd_<verb>.c files, and the toolstack context
 * (daemon connection, xenstore, domain names) the xl verbs share. */
#ifndef XHV_CLI_H
#define XHV_CLI_H

#include <stdbool.h>
#include <stdint.h>

struct xhv_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
    const char *help;
};

int cmd_run(int argc, char **argv);
int cmd_version(int argc, char **argv);
/* xl verbs (cmd_create.c, cmd_list.c, cmd_domain.c, cmd_info.c, cmd_vcpu.c, cmd_console.c) */
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_debug_keys(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);
int cmd_vcpu_pin(int argc, char **argv);
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_console(int argc, char **argv);

/* Exit statuses of `xhv run`: how the domain ended. */
enum xhv_exit {
    XHV_EXIT_POWEROFF = 0,
    XHV_EXIT_ERROR = 1, /* xhv itself failed: bad arguments, no KVM, bad image */
    XHV_EXIT_CRASH = 2, /* SHUTDOWN_crash, triple fault, unrecoverable exit */
    XHV_EXIT_REBOOT = 3,
    XHV_EXIT_SUSPEND = 4,
    XHV_EXIT_WATCHDOG = 5,
    XHV_EXIT_SOFT_RESET = 6,
};

/* ---- the toolstack context of the xl verbs (xhv.c) ---- */
typedef struct xc_interface_core xc_interface;
typedef struct xenforeignmemory_handle xenforeignmemory_handle;
struct xs_handle;

/* --socket PATH (given before or after the verb), NULL if not given. */
extern const char *xhv_socket_opt;
/* The control socket in use: --socket, else $XHV_SOCKET, else XHV_DEFAULT_SOCKET. */
const char *xl_socket_path(void);

struct xl_ctx {
    const char *verb; /* messages are "xhv VERB: ..." */
    const char *sock; /* the control socket, for messages */
    xc_interface *xch;
    struct xs_handle *xsh;         /* NULL if the store is unreachable */
    xenforeignmemory_handle *fmem; /* xl_ctx_fmem() opens it on first use */
};

/* Connect to xhvd (and its xenstore if need_xs). 0, or -1 after printing one line, e.g.
 * "xhv VERB: cannot connect to xhvd at PATH: is it running?". */
int xl_ctx_open(struct xl_ctx *ctx, const char *verb, bool need_xs);
void xl_ctx_close(struct xl_ctx *ctx);
xenforeignmemory_handle *xl_ctx_fmem(struct xl_ctx *ctx);
/* Print "xhv VERB: what: <strerror(errno)>" (with a hint for EPERM/EACCES and a dead daemon). */
void xl_perror(const struct xl_ctx *ctx, const char *what);
/* errno of a lost daemon connection? */
bool xl_errno_disconnected(int e);

/* DOM (a name or a numeric id) -> domid: 0, or -1 after "xhv VERB: domain 'DOM' does not
 * exist". */
int xl_find_domain(struct xl_ctx *ctx, const char *dom, uint32_t *domid);
/* The name of domid (malloc'd; "Domain-0" for 0 if the store has none), or NULL. */
char *xl_domid_to_name(struct xl_ctx *ctx, uint32_t domid);
/* 0 and *domid if a live domain has this name, -1 otherwise (xhv's name index, else every
 * domain's name as libxl_name_to_domid()). */
int xl_name_to_domid(struct xl_ctx *ctx, const char *name, uint32_t *domid);
/* Read a whole file (a kernel, a module): 0 and a malloc'd *buf of *len bytes, or an errno. */
int xl_read_file(const char *path, uint8_t **buf, size_t *len);
/* The check for a new name (create, rename; caller holds xl_lock()): names that xhv
 * indexes are looked up in the index only (names set by xhv's toolstack); others by a scan. */
int xl_name_in_use(struct xl_ctx *ctx, const char *name, uint32_t *domid);
/* Record name -> domid in the index (/xhv/names/<name>). */
void xl_name_index_set(struct xl_ctx *ctx, const char *name, uint32_t domid);

/* Print domid's console log (from its oldest kept byte) as it grows, until the domain shuts
 * down or goes away (cmd_console.c). 0, or -1 after a message. */
int xl_console_follow(struct xl_ctx *ctx, uint32_t domid);

/* Serialises name checks with domain creation and renames across `xhv` processes (xl's
 * /var/lock/xl): a lock file beside the socket. Never fails: without the file, no lock. */
int xl_lock(const struct xl_ctx *ctx);
void xl_unlock(int fd);

/* Rename domid to name (unique: -1 + EEXIST if taken): /local/domain/<id>/name and
 * /vm/<uuid>/name, as libxl_domain_rename(). Caller holds xl_lock(). */
int xl_domain_rename(struct xl_ctx *ctx, uint32_t domid, const char *name);
/* Destroy domid and remove what the toolstack wrote for it in xenstore. */
int xl_domain_destroy(struct xl_ctx *ctx, uint32_t domid);
/* Remove /local/domain/<id>, its /vm/<uuid> and /libxl/<id> (libxl's destroy cleanup). */
void xl_domain_forget(struct xl_ctx *ctx, uint32_t domid);

#endif
