/* xhv_proto.h: xhvd's control wire protocol (UNIX stream socket) and its shared helpers. */
#ifndef XHV_PROTO_H
#define XHV_PROTO_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Every message is a 16-byte header followed by len payload bytes, in the host's byte order
 * (the socket is local). A request carries a tool-chosen seq; its reply echoes it with type
 * request|XHV_MSG_REPLY, or is an XHV_MSG_ERROR. Results are 0 / positive / negative Xen
 * errnos (<xen/errno.h>). File descriptors travel as SCM_RIGHTS ancillary data attached to
 * the first byte of their message.
 *
 * The daemon answers anything malformed (bad magic or version, a length that does not fit the
 * type, more than XHV_PROTO_MAX_LEN bytes, a request before HELLO, unexpected descriptors)
 * with XHV_MSG_ERROR and closes the connection. A well-framed message of an unknown type gets
 * XHV_MSG_ERROR (-ENOSYS) and the connection stays open.
 *
 *   HELLO        {u32 version; u32 flags(0); u64 buf_size; u64 buf_base}  + 1 memfd (or none
 *                when buf_size is 0).  The memfd is the tool's hypercall buffer arena: sealed
 *                against shrinking (F_SEAL_SHRINK), >= buf_size bytes, mapped by the tool at
 *                buf_base. Guest handles in hypercall arguments are addresses in
 *                [buf_base, buf_base + buf_size).           -> {s32 rc; u32 version; u32 max_len;
 *                                                               u32 max_map}
 *   HYPERCALL    {u64 op; u64 args[5]}                      -> {s64 ret}
 *   FOREIGN_MAP  {u16 domid; u16 pad; u32 nr; u64 gfns[nr]} (1 <= nr <= XHV_MAP_MAX)
 *                -> {s32 rc; u32 nr; {s32 err; u32 pad; u64 off} page[nr]} + the domain's memfd
 *                   when rc == 0. err: 0, or -EFAULT (not RAM); off: byte offset in the memfd.
 *                   rc: -ESRCH no such domain, -EINVAL a domain without RAM (domain 0).
 *   CONSOLE_READ {u16 domid; u16 pad; u32 max; u64 index}
 *                -> {s32 rc; u32 len; u64 start; u64 index} + len bytes: the domain's console
 *                   log from index (free-running; clamped to the last CONSOLE_RING bytes, and
 *                   to what exists): start = where the bytes begin (> asked index: bytes were
 *                   lost), index = start + len. max is capped at XHV_CONSOLE_MAX.
 *   ERROR        {s32 err; u16 req_type; u16 version; char msg[120]} (msg NUL-terminated)
 */
#define XHV_PROTO_MAGIC 0x50564858u /* "XHVP" in memory */
#define XHV_PROTO_VERSION 1
#define XHV_PROTO_MAX_LEN (1u << 20) /* payload bytes of any message */
#define XHV_MAP_MAX 1024             /* GFNs per FOREIGN_MAP */
#define XHV_CONSOLE_MAX (64u * 1024) /* bytes per CONSOLE_READ reply */
#define XHV_BUF_MAX (256ull << 20)   /* largest hypercall buffer arena a tool may hand over */

enum xhv_msg_type {
    XHV_MSG_HELLO = 1,
    XHV_MSG_HYPERCALL = 2,
    XHV_MSG_FOREIGN_MAP = 3,
    XHV_MSG_CONSOLE_READ = 4,
    XHV_MSG_ERROR = 0x7fff,
    XHV_MSG_REPLY = 0x8000, /* or'ed into the request's type */
};

struct xhv_msg_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t len; /* payload bytes after this header */
    uint32_t seq;
};

struct xhv_hello {
    uint32_t version;
    uint32_t flags;
    uint64_t buf_size;
    uint64_t buf_base;
};
struct xhv_hello_reply {
    int32_t rc;
    uint32_t version;
    uint32_t max_len;
    uint32_t max_map;
};

struct xhv_hypercall {
    uint64_t op;
    uint64_t args[5];
};
struct xhv_hypercall_reply {
    int64_t ret;
};

struct xhv_foreign_map {
    uint16_t domid;
    uint16_t pad;
    uint32_t nr;
    uint64_t gfns[];
};
struct xhv_foreign_map_page {
    int32_t err;
    uint32_t pad;
    uint64_t off;
};
struct xhv_foreign_map_reply {
    int32_t rc;
    uint32_t nr;
    struct xhv_foreign_map_page page[];
};

struct xhv_console_read {
    uint16_t domid;
    uint16_t pad;
    uint32_t max;
    uint64_t index;
};
struct xhv_console_read_reply {
    int32_t rc;
    uint32_t len;
    uint64_t start;
    uint64_t index;
    uint8_t data[];
};

struct xhv_error {
    int32_t err;
    uint16_t req_type;
    uint16_t version;
    char msg[120];
};

_Static_assert(sizeof(struct xhv_msg_hdr) == 16, "xhv_msg_hdr");
_Static_assert(sizeof(struct xhv_hello) == 24, "xhv_hello");
_Static_assert(sizeof(struct xhv_hello_reply) == 16, "xhv_hello_reply");
_Static_assert(sizeof(struct xhv_hypercall) == 48, "xhv_hypercall");
_Static_assert(sizeof(struct xhv_foreign_map) == 8, "xhv_foreign_map");
_Static_assert(sizeof(struct xhv_foreign_map_page) == 16, "xhv_foreign_map_page");
_Static_assert(sizeof(struct xhv_foreign_map_reply) == 8, "xhv_foreign_map_reply");
_Static_assert(sizeof(struct xhv_console_read) == 16, "xhv_console_read");
_Static_assert(sizeof(struct xhv_console_read_reply) == 24, "xhv_console_read_reply");
_Static_assert(sizeof(struct xhv_error) == 128, "xhv_error");

/* ---- encode / decode (proto/proto.c) ---- */
void xhv_hdr_init(struct xhv_msg_hdr *h, uint16_t type, uint32_t len, uint32_t seq);
/* Framing check of a received header: 0, -XEN_EBADMSG (magic), -XEN_EOPNOTSUPP (version),
 * -XEN_EMSGSIZE (len > XHV_PROTO_MAX_LEN). */
int xhv_hdr_check(const struct xhv_msg_hdr *h);
/* Is len a valid payload length for a request of this type? 0, -XEN_EBADMSG if not,
 * -XEN_ENOSYS for an unknown type. */
int xhv_request_len_check(uint16_t type, uint32_t len);
/* Is the reply (type, len) a consistent answer to a request of type req? 0 or -XEN_EBADMSG.
 * For payloads with a count, the count is checked against len too. */
int xhv_reply_check(uint16_t req, const struct xhv_msg_hdr *h, const void *payload);
/* Payload sizes of variable-length messages. */
static inline uint32_t xhv_foreign_map_len(uint32_t nr)
{
    return (uint32_t)(sizeof(struct xhv_foreign_map) + (uint64_t)nr * 8);
}
static inline uint32_t xhv_foreign_map_reply_len(uint32_t nr)
{
    return (uint32_t)(sizeof(struct xhv_foreign_map_reply) +
                      (uint64_t)nr * sizeof(struct xhv_foreign_map_page));
}
/* Fill an error payload (msg truncated to fit). */
void xhv_error_init(struct xhv_error *e, int err, uint16_t req_type, const char *msg);
const char *xhv_msg_type_name(uint16_t type);

/* ---- socket I/O with descriptors (proto/proto.c) ---- */
#define XHV_MAX_FDS 4 /* descriptors accepted per recvmsg; more are closed */
/* One sendmsg (MSG_NOSIGNAL; MSG_DONTWAIT if nonblock) of buf with fd attached (-1: none).
 * Bytes sent, or -1 with errno. */
ssize_t xhv_sock_send(int sock, const void *buf, size_t len, int fd, int nonblock);
/* One recvmsg (MSG_CMSG_CLOEXEC; MSG_DONTWAIT if nonblock). Received descriptors are stored
 * in fds[*nfds...] up to max (the rest closed, and *truncated set). Bytes read (0 = EOF), or
 * -1 with errno. */
ssize_t xhv_sock_recv(int sock, void *buf, size_t len, int *fds, int *nfds, int max, int *truncated,
                      int nonblock);
/* Blocking: send header + payload (+ fd) completely. 0 or -1/errno. */
int xhv_send_msg(int sock, uint16_t type, uint32_t seq, const void *payload, uint32_t len, int fd);
/* Blocking: receive one message into h and payload (cap bytes). Descriptors that come with it
 * are returned in fds/nfds (at most XHV_MAX_FDS). 0, or -1 with errno: EBADMSG/EMSGSIZE/
 * EPROTO on a bad header or a payload larger than cap, ECONNRESET on EOF. */
int xhv_recv_msg(int sock, struct xhv_msg_hdr *h, void *payload, uint32_t cap, int fds[],
                 int *nfds);

/* ---- a tool's request channel (proto/proto.c; used by xencall.c and foreignmemory.c) ---- */
struct xhv_chan {
    int sock;
    uint32_t seq;
    pthread_mutex_t lock; /* one request at a time on the socket (xhv_chan_call) */
};
/* Connect to path (NULL: $XHV_SOCKET, else XHV_DEFAULT_SOCKET): 0 or -1/errno. */
int xhv_chan_connect(struct xhv_chan *c, const char *path);
/*
 * Send a request (with fd_in attached if >= 0) and wait for the reply with the same seq
 * (replies to other seqs are dropped). On success the reply payload is in rep (its length in
 * *rep_len), and a descriptor that came with it in *fd_out (-1 if none; pass NULL to have it
 * closed). An XHV_MSG_ERROR reply returns -1 with errno = its err. -1/errno on failure.
 * Not thread-safe: callers serialise.
 */
int xhv_chan_call(struct xhv_chan *c, uint16_t type, const void *req, uint32_t len, int fd_in,
                  void *rep, uint32_t rep_cap, uint32_t *rep_len, int *fd_out);
/* Send HELLO (buffer arena memfd, or -1 with size 0). 0 or -1/errno. */
int xhv_chan_hello(struct xhv_chan *c, int memfd, uint64_t buf_size, uint64_t buf_base);
void xhv_chan_close(struct xhv_chan *c);

/* ---- xhv-specific requests on a xencall handle (proto/xencall.c) ---- */
typedef struct xencall_handle xencall_handle;
/*
 * Read domain domid's console log from *index (free-running byte index; 0 = the oldest byte
 * still kept) into buf (at most size bytes). Returns the number of bytes stored and advances
 * *index past them; *lost (if non-NULL) gets how many bytes before them were overwritten
 * since *index. -1 with errno (ESRCH: no such domain).
 */
ssize_t xhv_console_read(xencall_handle *xcall, uint16_t domid, uint64_t *index, void *buf,
                         size_t size, uint64_t *lost);

#endif
