/* elf.c: ELF32/ELF64 validation, PVH entry note lookup and PT_LOAD placement, on a buffer. */
#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "loader/loader.h"

/* Header fields are read with memcpy into <elf.h> structs, which is only right on an LE host. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "loader/elf.c reads little-endian ELF fields natively"
#endif

/* Class-independent views of the header fields we use. */
struct elf_ehdr_n {
    uint64_t phoff, shoff, shnum;
    unsigned phentsize, phnum, shentsize;
};
struct elf_phdr_n {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};
struct elf_shdr_n {
    uint32_t type;
    uint64_t offset, size;
};

struct elf_ctx {
    struct elf_image *img;
    struct elf_ehdr_n eh;
    bool have_entry;
    char *err;
    size_t errlen;
};

#define ELF_NOTE_ALIGN4(x) (((uint64_t)(x) + 3) & ~3ULL)

static int elf_vfail(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    return -1;
}

static int __attribute__((format(printf, 2, 3))) fail(struct elf_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    elf_vfail(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int __attribute__((format(printf, 3, 4)))
load_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    elf_vfail(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* [off, off + size) lies inside a buffer of len bytes; no overflow possible. */
static bool in_buf(uint64_t off, uint64_t size, uint64_t len)
{
    return off <= len && size <= len - off;
}

static int elf_check_ident(struct elf_ctx *c)
{
    const uint8_t *b = c->img->buf;

    if (!b || c->img->len < SELFMAG || memcmp(b, ELFMAG, SELFMAG))
        return fail(c, "not an ELF file");
    if (c->img->len < EI_NIDENT)
        return fail(c, "truncated ELF: header outside the file");
    if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)
        return fail(c, "unsupported ELF class %u", b[EI_CLASS]);
    if (b[EI_DATA] != ELFDATA2LSB)
        return fail(c, "unsupported ELF data encoding %u (only little-endian)", b[EI_DATA]);
    if (b[EI_VERSION] != EV_CURRENT)
        return fail(c, "unsupported ELF version %u", b[EI_VERSION]);
    c->img->elf_class = b[EI_CLASS] == ELFCLASS64 ? 64 : 32;
    return 0;
}

static int elf_check_type(struct elf_ctx *c, unsigned type, unsigned machine)
{
    if (type != ET_EXEC && type != ET_DYN)
        return fail(c, "unsupported ELF type %u (not an executable)", type);
    /* ELF32 containers may hold 64-bit code: both machines are fine there. */
    if (machine != EM_X86_64 && (machine != EM_386 || c->img->elf_class == 64))
        return fail(c, "unsupported ELF machine %u", machine);
    c->img->machine = machine;
    return 0;
}

#define EHDR_N(h)                                                                                  \
    (struct elf_ehdr_n)                                                                            \
    {                                                                                              \
        .phoff = (h).e_phoff, .shoff = (h).e_shoff, .shnum = (h).e_shnum,                          \
        .phentsize = (h).e_phentsize, .phnum = (h).e_phnum, .shentsize = (h).e_shentsize           \
    }

static int elf_read_ehdr(struct elf_ctx *c)
{
    const uint8_t *b = c->img->buf;
    size_t need = c->img->elf_class == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);

    if (c->img->len < need)
        return fail(c, "truncated ELF: header outside the file");
    if (c->img->elf_class == 64) {
        Elf64_Ehdr h;
        memcpy(&h, b, sizeof(h));
        c->eh = EHDR_N(h);
        return elf_check_type(c, h.e_type, h.e_machine);
    }
    Elf32_Ehdr h;
    memcpy(&h, b, sizeof(h));
    c->eh = EHDR_N(h);
    return elf_check_type(c, h.e_type, h.e_machine);
}

#define PHDR_N(p)                                                                                  \
    (struct elf_phdr_n)                                                                            \
    {                                                                                              \
        .type = (p).p_type, .offset = (p).p_offset, .paddr = (p).p_paddr, .filesz = (p).p_filesz,  \
        .memsz = (p).p_memsz                                                                       \
    }
#define SHDR_N(s)                                                                                  \
    (struct elf_shdr_n)                                                                            \
    {                                                                                              \
        .type = (s).sh_type, .offset = (s).sh_offset, .size = (s).sh_size                          \
    }

/* Only called once the table has been checked to lie inside the buffer. */
static struct elf_phdr_n elf_phdr(const struct elf_ctx *c, unsigned i)
{
    const uint8_t *p = c->img->buf + c->eh.phoff + (uint64_t)i * c->eh.phentsize;

    if (c->img->elf_class == 64) {
        Elf64_Phdr h;
        memcpy(&h, p, sizeof(h));
        return PHDR_N(h);
    }
    Elf32_Phdr h;
    memcpy(&h, p, sizeof(h));
    return PHDR_N(h);
}

static struct elf_shdr_n elf_shdr(const struct elf_ctx *c, uint64_t i)
{
    const uint8_t *p = c->img->buf + c->eh.shoff + i * c->eh.shentsize;

    if (c->img->elf_class == 64) {
        Elf64_Shdr h;
        memcpy(&h, p, sizeof(h));
        return SHDR_N(h);
    }
    Elf32_Shdr h;
    memcpy(&h, p, sizeof(h));
    return SHDR_N(h);
}

static int elf_check_phdrs(struct elf_ctx *c)
{
    size_t sz = c->img->elf_class == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

    if (c->eh.phnum == 0)
        return fail(c, "ELF has no program headers");
    if (c->eh.phnum == PN_XNUM)
        return fail(c, "extended program header numbering (PN_XNUM) is not supported");
    if (c->eh.phentsize != sz)
        return fail(c, "bad ELF program header size %u (expected %zu)", c->eh.phentsize, sz);
    if (!in_buf(c->eh.phoff, (uint64_t)c->eh.phnum * sz, c->img->len))
        return fail(c, "truncated ELF: program header table outside the file");
    return 0;
}

/* The section table is optional; when present it must be sound (as in Xen's libelf). */
static int elf_check_shdrs(struct elf_ctx *c)
{
    size_t sz = c->img->elf_class == 64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);

    if (c->eh.shoff == 0 || (c->eh.shnum == 0 && c->eh.shentsize == 0)) {
        c->eh.shnum = 0;
        return 0;
    }
    if (c->eh.shentsize != sz)
        return fail(c, "bad ELF section header size %u (expected %zu)", c->eh.shentsize, sz);
    if (c->eh.shnum == 0) {
        /* Extended numbering: the real count is section 0's sh_size. */
        if (!in_buf(c->eh.shoff, sz, c->img->len))
            return fail(c, "truncated ELF: section header table outside the file");
        c->eh.shnum = elf_shdr(c, 0).size;
    }
    if (c->eh.shnum > c->img->len / sz || !in_buf(c->eh.shoff, c->eh.shnum * sz, c->img->len))
        return fail(c, "truncated ELF: section header table outside the file");
    return 0;
}

static int elf_check_overlap(struct elf_ctx *c, unsigned i, const struct elf_phdr_n *ph)
{
    const struct elf_image *img = c->img;
    uint64_t end = ph->paddr + ph->memsz;

    for (unsigned j = 0; j < img->nr_seg; j++) {
        const struct elf_segment *s = &img->seg[j];
        if (ph->paddr < s->paddr + s->memsz && s->paddr < end)
            return fail(c,
                        "overlapping segments: segment %u [0x%" PRIx64 ", 0x%" PRIx64
                        ") overlaps [0x%" PRIx64 ", 0x%" PRIx64 ")",
                        i, ph->paddr, end, s->paddr, s->paddr + s->memsz);
    }
    return 0;
}

static int elf_add_load(struct elf_ctx *c, unsigned i, const struct elf_phdr_n *ph)
{
    struct elf_image *img = c->img;

    if (ph->filesz > ph->memsz)
        return fail(c, "segment %u: filesz 0x%" PRIx64 " larger than memsz 0x%" PRIx64, i,
                    ph->filesz, ph->memsz);
    if (ph->memsz == 0)
        return 0;
    /* A pure-BSS segment's offset is never used, so it is not checked. */
    if (ph->filesz && !in_buf(ph->offset, ph->filesz, img->len))
        return fail(c, "truncated ELF: segment %u file range outside the file", i);
    if (ph->memsz > UINT64_MAX - ph->paddr)
        return fail(c, "segment %u: address range 0x%" PRIx64 " + 0x%" PRIx64 " wraps", i,
                    ph->paddr, ph->memsz);
    if (img->nr_seg == ELF_MAX_SEGMENTS)
        return fail(c, "too many PT_LOAD segments (max %d)", ELF_MAX_SEGMENTS);
    if (elf_check_overlap(c, i, ph) < 0)
        return -1;
    img->seg[img->nr_seg++] = (struct elf_segment){
        .paddr = ph->paddr, .filesz = ph->filesz, .memsz = ph->memsz, .offset = ph->offset};
    return 0;
}

static bool elf_note_is_entry(const Elf32_Nhdr *n, const uint8_t *name)
{
    return n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 && !memcmp(name, "Xen", 4);
}

static int elf_note_entry(struct elf_ctx *c, const Elf32_Nhdr *n, const uint8_t *desc)
{
    uint64_t v = 0;

    if (n->n_descsz != 4 && n->n_descsz != 8)
        return fail(c, "bad XEN_ELFNOTE_PHYS32_ENTRY note: descsz %u (expected 4 or 8)",
                    n->n_descsz);
    memcpy(&v, desc, n->n_descsz);
    c->img->pvh_entry = (uint32_t)v;
    c->have_entry = true;
    return 0;
}

/* Walk the notes in file range [off, off + size) until the Xen PHYS32_ENTRY note turns up. */
static int elf_walk_notes(struct elf_ctx *c, uint64_t off, uint64_t size, const char *what,
                          uint64_t idx)
{
    const uint8_t *p;
    uint64_t pos = 0;

    if (!in_buf(off, size, c->img->len))
        return fail(c, "truncated ELF: note %s %" PRIu64 " outside the file", what, idx);
    if (off % 4)
        return fail(c, "misaligned note %s %" PRIu64 " (offset 0x%" PRIx64 ")", what, idx, off);
    p = c->img->buf + off;
    while (pos < size && !c->have_entry) {
        Elf32_Nhdr n; /* Elf64_Nhdr has the same three 32-bit words */
        if (size - pos < sizeof(n))
            return fail(c, "truncated note in %s %" PRIu64, what, idx);
        memcpy(&n, p + pos, sizeof(n));
        pos += sizeof(n);
        uint64_t name_pad = ELF_NOTE_ALIGN4(n.n_namesz);
        if (name_pad > size - pos || n.n_descsz > size - pos - name_pad)
            return fail(c, "bad note in %s %" PRIu64 ": namesz 0x%x descsz 0x%x beyond its end",
                        what, idx, n.n_namesz, n.n_descsz);
        if (elf_note_is_entry(&n, p + pos) && elf_note_entry(c, &n, p + pos + name_pad) < 0)
            return -1;
        pos += name_pad + ELF_NOTE_ALIGN4(n.n_descsz); /* last desc may lack its padding */
    }
    return 0;
}

static int elf_scan_phdrs(struct elf_ctx *c)
{
    for (unsigned i = 0; i < c->eh.phnum; i++) {
        struct elf_phdr_n ph = elf_phdr(c, i);
        int rc = 0;
        if (ph.type == PT_LOAD)
            rc = elf_add_load(c, i, &ph);
        else if (ph.type == PT_NOTE && !c->have_entry)
            rc = elf_walk_notes(c, ph.offset, ph.filesz, "segment", i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int elf_scan_shdrs(struct elf_ctx *c)
{
    for (uint64_t i = 0; i < c->eh.shnum && !c->have_entry; i++) {
        struct elf_shdr_n sh = elf_shdr(c, i);
        if (sh.type == SHT_NOTE && elf_walk_notes(c, sh.offset, sh.size, "section", i) < 0)
            return -1;
    }
    return 0;
}

static int elf_finish(struct elf_ctx *c)
{
    struct elf_image *img = c->img;

    if (!c->have_entry)
        return fail(c, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    if (img->nr_seg == 0)
        return fail(c, "ELF has no loadable segments");
    img->lowest = UINT64_MAX;
    for (unsigned i = 0; i < img->nr_seg; i++) {
        const struct elf_segment *s = &img->seg[i];
        if (s->paddr < img->lowest)
            img->lowest = s->paddr;
        if (s->paddr + s->memsz > img->highest)
            img->highest = s->paddr + s->memsz;
    }
    return 0;
}

int elf_parse(struct elf_image *img, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct elf_ctx c = {.img = img, .err = err, .errlen = errlen};

    memset(img, 0, sizeof(*img));
    img->buf = buf;
    img->len = buf ? len : 0;
    if (elf_check_ident(&c) < 0 || elf_read_ehdr(&c) < 0 || elf_check_phdrs(&c) < 0 ||
        elf_check_shdrs(&c) < 0 || elf_scan_phdrs(&c) < 0 || elf_scan_shdrs(&c) < 0 ||
        elf_finish(&c) < 0) {
        img->nr_seg = 0;
        return -1;
    }
    if (err && errlen)
        err[0] = '\0';
    return 0;
}

static int elf_check_segment(const struct elf_image *img, const struct elf_segment *s,
                             uint64_t ram_end, char *err, size_t errlen)
{
    if (s->filesz > s->memsz || (s->filesz && !in_buf(s->offset, s->filesz, img->len)))
        return load_fail(err, errlen, "bad segment at 0x%" PRIx64 " (image not parsed?)", s->paddr);
    if (s->memsz > ram_end || s->paddr > ram_end - s->memsz)
        return load_fail(err, errlen,
                         "image does not fit in memory: segment 0x%" PRIx64 " - 0x%" PRIx64
                         " beyond RAM end 0x%" PRIx64,
                         s->paddr, s->paddr + s->memsz, ram_end);
    return 0;
}

static int elf_write_segment(const struct elf_image *img, const struct elf_segment *s,
                             loader_write_fn write, void *ctx, char *err, size_t errlen)
{
    uint64_t bss = s->memsz - s->filesz;

    if (s->filesz && write(ctx, s->paddr, img->buf + s->offset, s->filesz))
        return load_fail(err, errlen, "failed to write segment at 0x%" PRIx64, s->paddr);
    if (bss && write(ctx, s->paddr + s->filesz, NULL, bss))
        return load_fail(err, errlen, "failed to zero-fill segment at 0x%" PRIx64,
                         s->paddr + s->filesz);
    return 0;
}

int elf_load(const struct elf_image *img, uint64_t ram_end, loader_write_fn write, void *ctx,
             char *err, size_t errlen)
{
    if (img->nr_seg == 0 || img->nr_seg > ELF_MAX_SEGMENTS)
        return load_fail(err, errlen, "no loadable segments (image not parsed?)");
    /* Check everything first so a failure leaves guest memory untouched. */
    for (unsigned i = 0; i < img->nr_seg; i++)
        if (elf_check_segment(img, &img->seg[i], ram_end, err, errlen) < 0)
            return -1;
    for (unsigned i = 0; i < img->nr_seg; i++)
        if (elf_write_segment(img, &img->seg[i], write, ctx, err, errlen) < 0)
            return -1;
    if (err && errlen)
        err[0] = '\0';
    return 0;
}
