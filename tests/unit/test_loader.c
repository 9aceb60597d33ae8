/* test_loader.c: unit tests for loader/: ELF parse/load, malformed images, PVH start info. */
#include <elf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "tests/unit/harness.h"

/* ---- building ELF images in memory ---- */

enum { NOTE_NONE = 0, NOTE_PHDR = 1, NOTE_SHDR = 2, NOTE_BOTH = 3 };
#define MAX_TSEG 40

struct tseg {
    uint64_t paddr, filesz, memsz;
};

struct tspec {
    unsigned cls;     /* 32 or 64 */
    unsigned machine; /* EM_X86_64 or EM_386 */
    unsigned note;    /* NOTE_* */
    unsigned descsz;  /* of the PHYS32_ENTRY note: 4, 8 (or bad) */
    uint64_t entry;   /* PHYS32_ENTRY value */
    uint64_t e_entry; /* must never be used */
    bool other_notes; /* GNU build-id and Xen GUEST_OS notes before the entry note */
    unsigned nr_seg;
    struct tseg seg[MAX_TSEG];
};

/* A built image and where its pieces are, so tests can corrupt them. */
struct timg {
    uint8_t *buf; /* malloc'd, exactly len bytes */
    size_t len;
    size_t phoff, shoff, note_off, note_size, xen_note_off;
    size_t seg_off[MAX_TSEG];
    unsigned phnum, note_phdr, note_shdr;
};

static size_t al(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static uint8_t seg_byte(unsigned i, uint64_t k)
{
    return (uint8_t)(i * 0x31 + k * 7 + 1);
}

static size_t note_put(uint8_t *b, size_t off, const char *name, uint32_t namesz, uint32_t type,
                       const void *desc, uint32_t descsz)
{
    Elf64_Nhdr n = {.n_namesz = namesz, .n_descsz = descsz, .n_type = type};

    memcpy(b + off, &n, sizeof(n));
    memcpy(b + off + sizeof(n), name, namesz);
    memcpy(b + off + sizeof(n) + al(namesz, 4), desc, descsz);
    return off + sizeof(n) + al(namesz, 4) + al(descsz, 4);
}

/* The notes blob: optional unrelated notes, then the Xen PHYS32_ENTRY note. */
static size_t build_notes(const struct tspec *s, uint8_t *b, size_t *xen_off)
{
    static const uint8_t build_id[20] = {1, 2, 3, 4, 5};
    size_t off = 0;

    if (s->other_notes) {
        off = note_put(b, off, "GNU", 4, NT_GNU_BUILD_ID, build_id, sizeof(build_id));
        off = note_put(b, off, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "linux", 6);
    }
    *xen_off = off;
    return note_put(b, off, "Xen", 4, XEN_ELFNOTE_PHYS32_ENTRY, &s->entry, s->descsz);
}

static void put_ehdr(const struct tspec *s, struct timg *t, unsigned shnum)
{
    if (s->cls == 64) {
        Elf64_Ehdr h = {.e_type = ET_EXEC,
                        .e_machine = s->machine,
                        .e_version = EV_CURRENT,
                        .e_entry = s->e_entry,
                        .e_phoff = t->phoff,
                        .e_shoff = t->shoff,
                        .e_ehsize = sizeof(h),
                        .e_phentsize = sizeof(Elf64_Phdr),
                        .e_phnum = t->phnum,
                        .e_shentsize = sizeof(Elf64_Shdr),
                        .e_shnum = shnum};
        memcpy(h.e_ident, ELFMAG, SELFMAG);
        h.e_ident[EI_CLASS] = ELFCLASS64;
        h.e_ident[EI_DATA] = ELFDATA2LSB;
        h.e_ident[EI_VERSION] = EV_CURRENT;
        memcpy(t->buf, &h, sizeof(h));
        return;
    }
    Elf32_Ehdr h = {.e_type = ET_EXEC,
                    .e_machine = s->machine,
                    .e_version = EV_CURRENT,
                    .e_entry = s->e_entry,
                    .e_phoff = t->phoff,
                    .e_shoff = t->shoff,
                    .e_ehsize = sizeof(h),
                    .e_phentsize = sizeof(Elf32_Phdr),
                    .e_phnum = t->phnum,
                    .e_shentsize = sizeof(Elf32_Shdr),
                    .e_shnum = shnum};
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS32;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(t->buf, &h, sizeof(h));
}

static void put_phdr(bool is64, uint8_t *p, uint32_t type, uint64_t off, uint64_t paddr,
                     uint64_t filesz, uint64_t memsz)
{
    if (is64) {
        Elf64_Phdr h = {.p_type = type,
                        .p_flags = PF_R,
                        .p_offset = off,
                        .p_vaddr = paddr,
                        .p_paddr = paddr,
                        .p_filesz = filesz,
                        .p_memsz = memsz,
                        .p_align = 4};
        memcpy(p, &h, sizeof(h));
        return;
    }
    Elf32_Phdr h = {.p_type = type,
                    .p_flags = PF_R,
                    .p_offset = off,
                    .p_vaddr = paddr,
                    .p_paddr = paddr,
                    .p_filesz = filesz,
                    .p_memsz = memsz,
                    .p_align = 4};
    memcpy(p, &h, sizeof(h));
}

static void put_shdr(bool is64, uint8_t *p, uint32_t type, uint64_t off, uint64_t size)
{
    if (is64) {
        Elf64_Shdr h = {.sh_type = type, .sh_offset = off, .sh_size = size, .sh_addralign = 4};
        memcpy(p, &h, sizeof(h));
        return;
    }
    Elf32_Shdr h = {.sh_type = type, .sh_offset = off, .sh_size = size, .sh_addralign = 4};
    memcpy(p, &h, sizeof(h));
}

/* File layout: ehdr, phdrs (PT_LOADs then PT_NOTE), notes, segment data, section headers. */
static void layout(const struct tspec *s, struct timg *t, unsigned shnum)
{
    bool is64 = s->cls == 64;
    size_t off = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);

    t->phnum = s->nr_seg + ((s->note & NOTE_PHDR) ? 1 : 0);
    t->phoff = off;
    off = al(off + t->phnum * (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)), 16);
    t->note_off = off;
    off += t->note_size;
    for (unsigned i = 0; i < s->nr_seg; i++) {
        t->seg_off[i] = off = al(off, 16);
        off += s->seg[i].filesz;
    }
    off = al(off, 16);
    t->shoff = shnum ? off : 0;
    t->len = off + shnum * (is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
}

static void put_tables(const struct tspec *s, struct timg *t, unsigned shnum)
{
    bool is64 = s->cls == 64;
    size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    size_t shsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);

    for (unsigned i = 0; i < s->nr_seg; i++)
        put_phdr(is64, t->buf + t->phoff + i * phsz, PT_LOAD, t->seg_off[i], s->seg[i].paddr,
                 s->seg[i].filesz, s->seg[i].memsz);
    t->note_phdr = s->nr_seg;
    if (s->note & NOTE_PHDR)
        put_phdr(is64, t->buf + t->phoff + t->note_phdr * phsz, PT_NOTE, t->note_off, 0,
                 t->note_size, 0);
    t->note_shdr = 1;
    if (shnum) {
        /* [0] null, [1] the notes, [2] a PROGBITS section standing for .text */
        put_shdr(is64, t->buf + t->shoff + 1 * shsz, SHT_NOTE, t->note_off, t->note_size);
        put_shdr(is64, t->buf + t->shoff + 2 * shsz, SHT_PROGBITS, t->seg_off[0],
                 s->nr_seg ? s->seg[0].filesz : 0);
    }
}

static struct timg build(const struct tspec *s)
{
    struct timg t = {0};
    uint8_t notes[256];
    unsigned shnum = (s->note & NOTE_SHDR) ? 3 : 0;

    t.note_size = build_notes(s, notes, &t.xen_note_off);
    layout(s, &t, shnum);
    t.buf = calloc(1, t.len);
    put_ehdr(s, &t, shnum);
    put_tables(s, &t, shnum);
    memcpy(t.buf + t.note_off, notes, t.note_size);
    t.xen_note_off += t.note_off;
    for (unsigned i = 0; i < s->nr_seg; i++)
        for (uint64_t k = 0; k < s->seg[i].filesz; k++)
            t.buf[t.seg_off[i] + k] = seg_byte(i, k);
    return t;
}

/* A typical image: text, unaligned data with BSS, and a pure-BSS segment. */
static struct tspec good_spec(unsigned cls, unsigned machine, unsigned note)
{
    return (struct tspec){
        .cls = cls,
        .machine = machine,
        .note = note,
        .descsz = 8,
        .entry = 0x100040,
        .e_entry = 0xdeadbeef,
        .other_notes = true,
        .nr_seg = 3,
        .seg = {{0x100000, 0x300, 0x300}, {0x200123, 0x50, 0x200}, {0x300000, 0, 0x1000}},
    };
}

/* ---- fake guest RAM ---- */

#define RAM_SIZE (4ULL << 20)

struct fake_ram {
    uint8_t *mem;
    uint64_t size;
    unsigned writes;
    bool fail;
};

static int fake_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
    struct fake_ram *r = ctx;

    if (r->fail || gpa > r->size || len > r->size - gpa)
        return -1;
    if (src)
        memcpy(r->mem + gpa, src, len);
    else
        memset(r->mem + gpa, 0, len);
    r->writes++;
    return 0;
}

static struct fake_ram ram_new(uint64_t size)
{
    struct fake_ram r = {.mem = malloc(size), .size = size};

    memset(r.mem, 0xAA, size);
    return r;
}

/* Parse and, if that worked, load into a small RAM; a failure must explain itself. */
static int parse_and_load(const uint8_t *buf, size_t len, struct fake_ram *r)
{
    struct elf_image img;
    char err[256] = "";
    int rc = elf_parse(&img, buf, len, err, sizeof(err));

    if (rc == 0)
        rc = elf_load(&img, r->size, fake_write, r, err, sizeof(err));
    if (rc < 0)
        CHECK(err[0] != '\0' && !strchr(err, '\n'));
    return rc;
}

/* ---- good images ---- */

static void check_loaded(const struct tspec *s, const struct fake_ram *r)
{
    for (unsigned i = 0; i < s->nr_seg; i++) {
        const struct tseg *g = &s->seg[i];
        bool ok = true;
        for (uint64_t k = 0; k < g->memsz; k++)
            ok &= r->mem[g->paddr + k] == (k < g->filesz ? seg_byte(i, k) : 0);
        CHECK(ok);
        CHECK_EQ(r->mem[g->paddr - 1], 0xAA);
        CHECK_EQ(r->mem[g->paddr + g->memsz], 0xAA);
    }
}

static void check_good(const struct tspec *s)
{
    struct timg t = build(s);
    struct elf_image img;
    struct fake_ram r = ram_new(RAM_SIZE);
    char err[256] = "x";

    CHECK_EQ(elf_parse(&img, t.buf, t.len, err, sizeof(err)), 0);
    CHECK_EQ(err[0], '\0');
    CHECK_EQ(img.elf_class, s->cls);
    CHECK_EQ(img.machine, s->machine);
    CHECK_EQ(img.pvh_entry, (uint32_t)s->entry);
    CHECK_EQ(img.nr_seg, s->nr_seg);
    CHECK_EQ(img.lowest, s->seg[0].paddr);
    CHECK_EQ(img.highest, s->seg[s->nr_seg - 1].paddr + s->seg[s->nr_seg - 1].memsz);
    CHECK_EQ(elf_load(&img, r.size, fake_write, &r, err, sizeof(err)), 0);
    check_loaded(s, &r);
    free(r.mem);
    free(t.buf);
}

TEST(loader_elf64_good)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_BOTH);
    check_good(&s);
}

TEST(loader_elf32_x86_64)
{
    struct tspec s = good_spec(32, EM_X86_64, NOTE_BOTH);
    check_good(&s);
}

TEST(loader_elf32_i386)
{
    struct tspec s = good_spec(32, EM_386, NOTE_PHDR);
    check_good(&s);
}

TEST(loader_note_phdr_only)
{
    for (unsigned cls = 32; cls <= 64; cls += 32) {
        struct tspec s = good_spec(cls, EM_X86_64, NOTE_PHDR);
        check_good(&s);
    }
}

TEST(loader_note_section_only)
{
    for (unsigned cls = 32; cls <= 64; cls += 32) {
        struct tspec s = good_spec(cls, EM_X86_64, NOTE_SHDR);
        s.other_notes = false;
        check_good(&s);
        s.other_notes = true;
        check_good(&s);
    }
}

TEST(loader_note_desc_sizes)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_PHDR);

    s.descsz = 4;
    check_good(&s);
    s.descsz = 8;
    s.entry = 0xffffffff00100080ULL; /* only the low 32 bits count */
    struct timg t = build(&s);
    struct elf_image img;
    CHECK_EQ(elf_parse(&img, t.buf, t.len, NULL, 0), 0);
    CHECK_EQ(img.pvh_entry, 0x100080);
    free(t.buf);
}

TEST(loader_entry_zero_and_e_entry_unused)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_PHDR);
    struct elf_image img;
    char err[256];

    s.entry = 0;
    check_good(&s);
    /* e_entry is a valid address, but without the note the image is refused. */
    s.e_entry = 0x100000;
    s.note = NOTE_NONE;
    struct timg t = build(&s);
    CHECK_EQ(elf_parse(&img, t.buf, t.len, err, sizeof(err)), -1);
    CHECK(strstr(err, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"));
    free(t.buf);
}

TEST(loader_load_write_failure)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_PHDR);
    struct timg t = build(&s);
    struct elf_image img;
    struct fake_ram r = ram_new(RAM_SIZE);
    char err[256] = "";

    r.fail = true;
    CHECK_EQ(elf_parse(&img, t.buf, t.len, err, sizeof(err)), 0);
    CHECK_EQ(elf_load(&img, r.size, fake_write, &r, err, sizeof(err)), -1);
    CHECK(strstr(err, "failed to write segment"));
    free(r.mem);
    free(t.buf);
}

/* ---- malformed images ---- */

static Elf64_Ehdr *eh64(struct timg *t)
{
    return (Elf64_Ehdr *)t->buf;
}

static Elf64_Phdr *ph64(struct timg *t, unsigned i)
{
    return (Elf64_Phdr *)(t->buf + t->phoff + i * sizeof(Elf64_Phdr));
}

static Elf64_Shdr *sh64(struct timg *t, unsigned i)
{
    return (Elf64_Shdr *)(t->buf + t->shoff + i * sizeof(Elf64_Shdr));
}

static Elf64_Nhdr *xen_note(struct timg *t)
{
    return (Elf64_Nhdr *)(t->buf + t->xen_note_off);
}

/* One-line corruptions of a good ELF64 image (kept one per line for reading). */
// clang-format off
static void m_empty(struct timg *t) { t->len = 0; }
static void m_short(struct timg *t) { t->len = 3; }
static void m_short_ident(struct timg *t) { t->len = 10; }
static void m_short_hdr(struct timg *t) { t->len = 40; }
static void m_magic(struct timg *t) { t->buf[1] = 'L'; }
static void m_class(struct timg *t) { t->buf[EI_CLASS] = 3; }
static void m_class0(struct timg *t) { t->buf[EI_CLASS] = ELFCLASSNONE; }
static void m_bigendian(struct timg *t) { t->buf[EI_DATA] = ELFDATA2MSB; }
static void m_version(struct timg *t) { t->buf[EI_VERSION] = 0; }
static void m_type(struct timg *t) { eh64(t)->e_type = ET_REL; }
static void m_machine(struct timg *t) { eh64(t)->e_machine = EM_ARM; }
static void m_machine386(struct timg *t) { eh64(t)->e_machine = EM_386; }
static void m_phnum0(struct timg *t) { eh64(t)->e_phnum = 0; }
static void m_phxnum(struct timg *t) { eh64(t)->e_phnum = PN_XNUM; }
static void m_phoff_end(struct timg *t) { eh64(t)->e_phoff = t->len; }
static void m_phoff_wrap(struct timg *t) { eh64(t)->e_phoff = UINT64_MAX - 8; }
static void m_phnum_big(struct timg *t) { eh64(t)->e_phnum = 0xfffe; }
static void m_phentsize(struct timg *t) { eh64(t)->e_phentsize = sizeof(Elf32_Phdr); }
static void m_phentsize_big(struct timg *t) { eh64(t)->e_phentsize = 0xffff; }
static void m_shentsize(struct timg *t) { eh64(t)->e_shentsize = 1; }
static void m_shoff_end(struct timg *t) { eh64(t)->e_shoff = t->len - 8; }
static void m_shoff_wrap(struct timg *t) { eh64(t)->e_shoff = UINT64_MAX - 16; }
static void m_shnum_ext(struct timg *t) { eh64(t)->e_shnum = 0; sh64(t, 0)->sh_size = 1ULL << 62; }
static void m_seg_past_end(struct timg *t) { ph64(t, 0)->p_offset = t->len - 16; }
static void m_seg_off_wrap(struct timg *t) { ph64(t, 0)->p_offset = UINT64_MAX - 0x10; }
static void m_seg_huge(struct timg *t) { ph64(t, 0)->p_memsz = ph64(t, 0)->p_filesz = 1ULL << 40; }
static void m_filesz_gt_memsz(struct timg *t) { ph64(t, 1)->p_memsz = 0x10; }
static void m_filesz_memsz0(struct timg *t) { ph64(t, 1)->p_memsz = 0; }
static void m_overlap(struct timg *t) { ph64(t, 1)->p_paddr = 0x1002ff; }
static void m_overlap_bss(struct timg *t) { ph64(t, 2)->p_paddr = 0x200000; }
static void m_same_addr(struct timg *t) { ph64(t, 2)->p_paddr = 0x100000; }
static void m_paddr_wrap(struct timg *t) { ph64(t, 2)->p_paddr = UINT64_MAX - 0x10; }
static void m_paddr_top(struct timg *t) { ph64(t, 2)->p_paddr = 0ULL - 0x1000; }
static void m_beyond_ram(struct timg *t) { ph64(t, 2)->p_paddr = RAM_SIZE - 0x800; }
static void m_high_paddr(struct timg *t) { ph64(t, 2)->p_paddr = 1ULL << 40; }
static void m_nonote(struct timg *t) { ph64(t, t->note_phdr)->p_type = PT_NULL; }
static void m_note_type(struct timg *t) { xen_note(t)->n_type = XEN_ELFNOTE_ENTRY; }
static void m_note_owner(struct timg *t) { t->buf[t->xen_note_off + 12] = 'x'; }
static void m_note_namesz(struct timg *t) { xen_note(t)->n_namesz = 3; }
static void m_namesz_huge(struct timg *t) { xen_note(t)->n_namesz = 0xffffffff; }
static void m_descsz_huge(struct timg *t) { xen_note(t)->n_descsz = 0xffffffff; }
static void m_descsz_big(struct timg *t) { xen_note(t)->n_descsz = 0x40; }
static void m_descsz2(struct timg *t) { xen_note(t)->n_descsz = 2; }
static void m_descsz0(struct timg *t) { xen_note(t)->n_descsz = 0; }
static void m_note_misaligned(struct timg *t) { ph64(t, t->note_phdr)->p_offset += 1; }
static void m_note_truncated(struct timg *t) { ph64(t, t->note_phdr)->p_filesz -= 20; }
static void m_note_outside(struct timg *t) { ph64(t, t->note_phdr)->p_offset = t->len - 4; }
static void m_note_size_wrap(struct timg *t) { ph64(t, t->note_phdr)->p_filesz = UINT64_MAX; }
// clang-format on

/* Too many segments needs its own image. */
static struct tspec many_spec(unsigned n)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_PHDR);

    s.nr_seg = n;
    for (unsigned i = 0; i < n; i++)
        s.seg[i] = (struct tseg){0x100000 + i * 0x1000, 0x10, 0x1000};
    return s;
}

struct bad_case {
    const char *name;
    void (*mutate)(struct timg *);
    const char *expect; /* substring of the one-line reason */
    unsigned note;      /* NOTE_PHDR when corrupting the note: a second copy would mask it */
};

static const struct bad_case bad_cases[] = {
    {"empty", m_empty, "not an ELF file", NOTE_BOTH},
    {"short", m_short, "not an ELF file", NOTE_BOTH},
    {"short ident", m_short_ident, "truncated ELF: header", NOTE_BOTH},
    {"short header", m_short_hdr, "truncated ELF: header", NOTE_BOTH},
    {"bad magic", m_magic, "not an ELF file", NOTE_BOTH},
    {"class 3", m_class, "unsupported ELF class 3", NOTE_BOTH},
    {"class none", m_class0, "unsupported ELF class 0", NOTE_BOTH},
    {"big-endian", m_bigendian, "data encoding 2", NOTE_BOTH},
    {"ident version", m_version, "unsupported ELF version", NOTE_BOTH},
    {"ET_REL", m_type, "unsupported ELF type 1", NOTE_BOTH},
    {"machine ARM", m_machine, "unsupported ELF machine 40", NOTE_BOTH},
    {"ELF64 EM_386", m_machine386, "unsupported ELF machine 3", NOTE_BOTH},
    {"no phdrs", m_phnum0, "no program headers", NOTE_BOTH},
    {"PN_XNUM", m_phxnum, "PN_XNUM", NOTE_BOTH},
    {"phoff at end", m_phoff_end, "program header table outside the file", NOTE_BOTH},
    {"phoff wraps", m_phoff_wrap, "program header table outside the file", NOTE_BOTH},
    {"phnum huge", m_phnum_big, "program header table outside the file", NOTE_BOTH},
    {"phentsize", m_phentsize, "bad ELF program header size 32", NOTE_BOTH},
    {"phnum*phentsize", m_phentsize_big, "bad ELF program header size", NOTE_BOTH},
    {"shentsize", m_shentsize, "bad ELF section header size 1", NOTE_BOTH},
    {"shoff at end", m_shoff_end, "section header table outside the file", NOTE_BOTH},
    {"shoff wraps", m_shoff_wrap, "section header table outside the file", NOTE_BOTH},
    {"shnum extended huge", m_shnum_ext, "section header table outside the file", NOTE_BOTH},
    {"segment past end", m_seg_past_end, "segment 0 file range outside the file", NOTE_BOTH},
    {"segment offset wraps", m_seg_off_wrap, "segment 0 file range outside the file", NOTE_BOTH},
    {"segment filesz huge", m_seg_huge, "segment 0 file range outside the file", NOTE_BOTH},
    {"filesz > memsz", m_filesz_gt_memsz, "larger than memsz", NOTE_BOTH},
    {"filesz, memsz 0", m_filesz_memsz0, "larger than memsz", NOTE_BOTH},
    {"overlap", m_overlap, "overlapping segments", NOTE_BOTH},
    {"overlap bss", m_overlap_bss, "overlapping segments", NOTE_BOTH},
    {"same address", m_same_addr, "overlapping segments", NOTE_BOTH},
    {"paddr wraps", m_paddr_wrap, "wraps", NOTE_BOTH},
    {"paddr ends at 2^64", m_paddr_top, "wraps", NOTE_BOTH},
    {"beyond RAM", m_beyond_ram,
     "image does not fit in memory: segment 0x3ff800 - 0x400800 "
     "beyond RAM end 0x400000",
     NOTE_BOTH},
    {"above RAM", m_high_paddr, "image does not fit in memory", NOTE_BOTH},
    {"no note", m_nonote, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)", NOTE_PHDR},
    {"other note type", m_note_type, "no PVH entry note", NOTE_PHDR},
    {"other owner", m_note_owner, "no PVH entry note", NOTE_PHDR},
    {"owner namesz 3", m_note_namesz, "no PVH entry note", NOTE_PHDR},
    {"namesz huge", m_namesz_huge, "bad note in segment 3", NOTE_PHDR},
    {"descsz huge", m_descsz_huge, "bad note in segment 3", NOTE_PHDR},
    {"descsz past end", m_descsz_big, "bad note in segment 3", NOTE_PHDR},
    {"descsz 2", m_descsz2, "descsz 2 (expected 4 or 8)", NOTE_PHDR},
    {"descsz 0", m_descsz0, "descsz 0 (expected 4 or 8)", NOTE_PHDR},
    {"note misaligned", m_note_misaligned, "misaligned note segment 3", NOTE_PHDR},
    {"note truncated", m_note_truncated, "truncated note in segment 3", NOTE_PHDR},
    {"note outside", m_note_outside, "note segment 3 outside the file", NOTE_PHDR},
    {"note size wraps", m_note_size_wrap, "note segment 3 outside the file", NOTE_PHDR},
};

static void check_bad(struct timg *t, const char *name, const char *expect)
{
    struct fake_ram r = ram_new(RAM_SIZE);
    struct elf_image img;
    char err[256] = "";
    uint8_t *copy = malloc(t->len ? t->len : 1); /* exact size, so ASan sees overreads */
    int rc;

    memcpy(copy, t->buf, t->len);
    rc = elf_parse(&img, copy, t->len, err, sizeof(err));
    if (rc == 0)
        rc = elf_load(&img, r.size, fake_write, &r, err, sizeof(err));
    if (rc != -1 || !strstr(err, expect))
        test_fail(__FILE__, __LINE__, "%s: rc %d, err \"%s\", expected \"%s\"", name, rc, err,
                  expect);
    CHECK(!strchr(err, '\n'));
    CHECK_EQ(r.writes, 0); /* elf_load checks every segment before writing any */
    free(copy);
    free(r.mem);
}

TEST(loader_malformed_corpus)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct tspec s = good_spec(64, EM_X86_64, bad_cases[i].note);
        struct timg t = build(&s);
        bad_cases[i].mutate(&t);
        check_bad(&t, bad_cases[i].name, bad_cases[i].expect);
        free(t.buf);
    }
}

TEST(loader_malformed_null_buffer)
{
    struct elf_image img;
    char err[64] = "";

    CHECK_EQ(elf_parse(&img, NULL, 100, err, sizeof(err)), -1);
    CHECK(strstr(err, "not an ELF file"));
    CHECK_EQ(elf_parse(&img, NULL, 0, NULL, 0), -1); /* no err buffer is fine too */
}

TEST(loader_too_many_segments)
{
    struct tspec s = many_spec(ELF_MAX_SEGMENTS);
    struct timg t = build(&s);
    struct fake_ram r = ram_new(RAM_SIZE);

    CHECK_EQ(parse_and_load(t.buf, t.len, &r), 0);
    free(t.buf);
    s = many_spec(ELF_MAX_SEGMENTS + 1);
    t = build(&s);
    check_bad(&t, "33 segments", "too many PT_LOAD segments (max 32)");
    free(t.buf);
    free(r.mem);
}

TEST(loader_section_note_corrupt)
{
    struct tspec s = good_spec(64, EM_X86_64, NOTE_SHDR);
    struct timg t = build(&s);

    sh64(&t, t.note_shdr)->sh_offset = t.len;
    sh64(&t, t.note_shdr)->sh_size = 16;
    check_bad(&t, "section note outside", "note section 1 outside the file");
    free(t.buf);
    t = build(&s);
    sh64(&t, t.note_shdr)->sh_size = t.xen_note_off - t.note_off + 4;
    check_bad(&t, "section note truncated", "truncated note in section 1");
    free(t.buf);
}

/* ---- sweeps: every prefix and single-byte corruption either loads or fails cleanly ---- */

static void sweep_prefixes(const struct tspec *s)
{
    struct timg t = build(s);
    struct fake_ram r = ram_new(RAM_SIZE);
    unsigned ok = 0;

    for (size_t len = 0; len <= t.len; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, t.buf, len);
        ok += parse_and_load(p, len, &r) == 0;
        free(p);
    }
    CHECK(ok >= 1); /* at least the whole image */
    free(t.buf);
    free(r.mem);
}

TEST(loader_truncation_sweep)
{
    struct tspec s64 = good_spec(64, EM_X86_64, NOTE_PHDR);
    struct tspec s32 = good_spec(32, EM_386, NOTE_SHDR);
    struct tspec both = good_spec(64, EM_X86_64, NOTE_BOTH);

    sweep_prefixes(&s64);
    sweep_prefixes(&s32);
    sweep_prefixes(&both);
}

static void sweep_bytes(const struct tspec *s)
{
    static const uint8_t flips[] = {0x01, 0x80, 0xff};
    struct timg t = build(s);
    struct fake_ram r = ram_new(RAM_SIZE);
    uint8_t *p = malloc(t.len);

    for (size_t i = 0; i < t.len; i++) {
        for (size_t f = 0; f < sizeof(flips); f++) {
            memcpy(p, t.buf, t.len);
            p[i] ^= flips[f];
            parse_and_load(p, t.len, &r);
        }
    }
    free(p);
    free(t.buf);
    free(r.mem);
}

TEST(loader_byte_corruption_sweep)
{
    struct tspec s64 = good_spec(64, EM_X86_64, NOTE_BOTH);
    struct tspec s32 = good_spec(32, EM_386, NOTE_SHDR);

    sweep_bytes(&s64);
    sweep_bytes(&s32);
}

/* ---- PVH start info ---- */

#define PVH_RAM (64ULL << 20)

static struct pvh_layout_in pvh_in(const uint8_t *module, size_t module_len)
{
    return (struct pvh_layout_in){
        .ram_bytes = PVH_RAM,
        .low_ram_end = 0xf0000000ULL,
        .cmdline = "console=hvc0 earlyprintk=xen",
        .module = module,
        .module_len = module_len,
        .module_cmdline = "initrd args",
        .kernel_lo = 0x100000,
        .kernel_hi = 0x1234567,
        .special_gfn_lo = 0xfeff8,
        .special_nr = 8,
    };
}

static const void *at(const struct fake_ram *r, uint64_t gpa)
{
    return r->mem + gpa;
}

static void check_memmap(const struct pvh_layout_out *out, const struct hvm_start_info *si,
                         const struct fake_ram *r)
{
    CHECK_EQ(out->nr_memmap, 2);
    CHECK_EQ(out->memmap[0].addr, 0);
    CHECK_EQ(out->memmap[0].size, PVH_RAM);
    CHECK_EQ(out->memmap[0].type, XEN_HVM_MEMMAP_TYPE_RAM);
    CHECK_EQ(out->memmap[1].addr, 0xfeff8000ULL);
    CHECK_EQ(out->memmap[1].size, 0x8000);
    CHECK_EQ(out->memmap[1].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
    CHECK_EQ(out->memmap[1].reserved, 0);
    CHECK_EQ(si->memmap_entries, 2);
    CHECK_EQ(si->memmap_paddr % 8, 0);
    CHECK(!memcmp(at(r, si->memmap_paddr), out->memmap, 2 * sizeof(out->memmap[0])));
}

static void check_block_bounds(const struct pvh_layout_out *out, const struct hvm_start_info *si)
{
    uint64_t lo = out->start_info_gpa, hi = lo + 3 * 4096;

    CHECK(si->cmdline_paddr > lo && si->cmdline_paddr < hi);
    CHECK(si->modlist_paddr > lo && si->modlist_paddr < hi && si->modlist_paddr % 8 == 0);
    CHECK(si->memmap_paddr > lo && si->memmap_paddr < hi);
}

TEST(pvh_start_info_fields)
{
    static uint8_t module[10000];
    struct pvh_layout_in in = pvh_in(module, sizeof(module));
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(PVH_RAM);
    struct hvm_start_info si;
    struct hvm_modlist_entry mod;
    char err[256] = "x";

    for (size_t i = 0; i < sizeof(module); i++)
        module[i] = (uint8_t)(i * 13 + 5);
    CHECK_EQ(pvh_build_start_info(&in, &out, fake_write, &r, err, sizeof(err)), 0);
    CHECK_EQ(err[0], '\0');
    CHECK_EQ(out.module_gpa, 0x1235000);
    CHECK(!memcmp(at(&r, out.module_gpa), module, sizeof(module)));
    CHECK_EQ(out.start_info_gpa, 0x1238000); /* page above 0x1235000 + 10000 */
    memcpy(&si, at(&r, out.start_info_gpa), sizeof(si));
    CHECK_EQ(si.magic, XEN_HVM_START_MAGIC_VALUE);
    CHECK_EQ(si.version, 1);
    CHECK_EQ(si.flags, 0);
    CHECK_EQ(si.nr_modules, 1);
    CHECK_EQ(si.rsdp_paddr, 0);
    CHECK_EQ(si.reserved, 0);
    CHECK(!strcmp(at(&r, si.cmdline_paddr), "console=hvc0 earlyprintk=xen"));
    memcpy(&mod, at(&r, si.modlist_paddr), sizeof(mod));
    CHECK_EQ(mod.paddr, out.module_gpa);
    CHECK_EQ(mod.size, sizeof(module));
    CHECK_EQ(mod.reserved, 0);
    CHECK(!strcmp(at(&r, mod.cmdline_paddr), "initrd args"));
    check_memmap(&out, &si, &r);
    check_block_bounds(&out, &si);
    free(r.mem);
}

TEST(pvh_no_module_no_cmdline)
{
    struct pvh_layout_in in = pvh_in(NULL, 0);
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(PVH_RAM);
    struct hvm_start_info si;

    in.cmdline = NULL;
    in.kernel_hi = 0x400000; /* page aligned: start info goes right there */
    CHECK_EQ(pvh_build_start_info(&in, &out, fake_write, &r, NULL, 0), 0);
    CHECK_EQ(out.module_gpa, 0);
    CHECK_EQ(out.start_info_gpa, 0x400000);
    memcpy(&si, at(&r, out.start_info_gpa), sizeof(si));
    CHECK_EQ(si.magic, XEN_HVM_START_MAGIC_VALUE);
    CHECK_EQ(si.nr_modules, 0);
    CHECK_EQ(si.modlist_paddr, 0);
    CHECK_EQ(si.cmdline_paddr, 0);
    CHECK_EQ(si.memmap_paddr, 0x400000 + sizeof(si));
    check_memmap(&out, &si, &r);
    free(r.mem);
}

TEST(pvh_memmap_high_ram_sorted)
{
    struct pvh_layout_in in = pvh_in(NULL, 0);
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(32ULL << 20);

    in.low_ram_end = 32ULL << 20;
    in.ram_bytes = 48ULL << 20;
    CHECK_EQ(pvh_build_start_info(&in, &out, fake_write, &r, NULL, 0), 0);
    CHECK_EQ(out.nr_memmap, 3);
    CHECK_EQ(out.memmap[0].addr, 0);
    CHECK_EQ(out.memmap[0].size, 32ULL << 20);
    CHECK_EQ(out.memmap[1].addr, 0xfeff8000ULL);
    CHECK_EQ(out.memmap[1].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
    CHECK_EQ(out.memmap[2].addr, 0x100000000ULL);
    CHECK_EQ(out.memmap[2].size, 16ULL << 20);
    CHECK_EQ(out.memmap[2].type, XEN_HVM_MEMMAP_TYPE_RAM);
    CHECK(out.start_info_gpa < (32ULL << 20));
    free(r.mem);
}

static void check_pvh_fails(const struct pvh_layout_in *in, const char *expect)
{
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(PVH_RAM);
    char err[256] = "";

    CHECK_EQ(pvh_build_start_info(in, &out, fake_write, &r, err, sizeof(err)), -1);
    if (!strstr(err, expect))
        test_fail(__FILE__, __LINE__, "err \"%s\", expected \"%s\"", err, expect);
    CHECK_EQ(r.writes, 0);
    CHECK_EQ(out.start_info_gpa, 0);
    free(r.mem);
}

TEST(pvh_cmdline_limits)
{
    char *line = malloc(4097);
    struct pvh_layout_in in = pvh_in(NULL, 0);
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(PVH_RAM);
    struct hvm_start_info si;

    memset(line, 'c', 4096);
    line[4095] = '\0';
    in.cmdline = line;
    CHECK_EQ(pvh_build_start_info(&in, &out, fake_write, &r, NULL, 0), 0);
    memcpy(&si, at(&r, out.start_info_gpa), sizeof(si));
    CHECK_EQ(strlen(at(&r, si.cmdline_paddr)), 4095);
    CHECK(si.memmap_paddr >= si.cmdline_paddr + 4096);
    line[4095] = 'c';
    line[4096] = '\0';
    check_pvh_fails(&in, "command line too long");
    in = pvh_in((const uint8_t *)"m", 1);
    in.module_cmdline = line;
    check_pvh_fails(&in, "module command line too long");
    free(line);
    free(r.mem);
}

TEST(pvh_does_not_fit)
{
    static const uint8_t module[16];
    struct pvh_layout_in in = pvh_in(module, PVH_RAM);

    check_pvh_fails(&in, "module does not fit in memory");
    in.module_len = PVH_RAM - 0x1235000; /* module fits exactly, start info does not */
    check_pvh_fails(&in, "start info does not fit in memory");
    in = pvh_in(NULL, 0);
    in.kernel_hi = UINT64_MAX - 5;
    check_pvh_fails(&in, "start info does not fit in memory");
    in = pvh_in(module, sizeof(module));
    in.kernel_hi = UINT64_MAX - 5;
    check_pvh_fails(&in, "module does not fit in memory");
}

TEST(pvh_bad_layout_inputs)
{
    struct pvh_layout_in in = pvh_in(NULL, 0);

    in.special_gfn_lo = 0x1000; /* inside low RAM */
    check_pvh_fails(&in, "special pages 0x1000000 - 0x1008000 overlap RAM");
    in = pvh_in(NULL, 0);
    in.special_gfn_lo = UINT64_MAX;
    check_pvh_fails(&in, "special pages");
    in = pvh_in(NULL, 0);
    in.low_ram_end = 0x100001000ULL;
    check_pvh_fails(&in, "above 4 GiB");
    in = pvh_in(NULL, 0);
    in.ram_bytes = UINT64_MAX;
    check_pvh_fails(&in, "too large");
}

TEST(pvh_write_failure)
{
    static const uint8_t module[16];
    struct pvh_layout_in in = pvh_in(module, sizeof(module));
    struct pvh_layout_out out;
    struct fake_ram r = ram_new(PVH_RAM);
    char err[256] = "";

    r.fail = true;
    CHECK_EQ(pvh_build_start_info(&in, &out, fake_write, &r, err, sizeof(err)), -1);
    CHECK(strstr(err, "failed to write module"));
    free(r.mem);
}
