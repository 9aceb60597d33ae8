/* fuzz_loader.c: libFuzzer target for loader/ (elf_parse, elf_load, pvh_build_start_info). */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loader/loader.h"

/* Guest RAM the image is loaded into: small, so a run stays fast, and fixed, so it is bounded. */
#define FUZZ_RAM_SIZE (2ULL << 20)

static uint8_t fuzz_ram[FUZZ_RAM_SIZE];

static int fuzz_write(void *ctx, uint64_t gpa, const void *src, uint64_t len)
{
    (void)ctx;
    if (gpa > FUZZ_RAM_SIZE || len > FUZZ_RAM_SIZE - gpa)
        __builtin_trap(); /* the loader promised every write fits below ram_end */
    if (src)
        memcpy(fuzz_ram + gpa, src, len);
    else
        memset(fuzz_ram + gpa, 0, len);
    return 0;
}

/* A failure must say why, in exactly one line. */
static void fuzz_check_err(const char *err)
{
    if (!err[0] || strchr(err, '\n'))
        __builtin_trap();
}

static void fuzz_start_info(const struct elf_image *img, const uint8_t *data, size_t size)
{
    struct pvh_layout_in in = {
        .ram_bytes = FUZZ_RAM_SIZE,
        .low_ram_end = FUZZ_RAM_SIZE,
        .cmdline = "console=hvc0",
        .module = data,
        .module_len = size < 4096 ? size : 4096,
        .module_cmdline = "m",
        .kernel_lo = img->lowest,
        .kernel_hi = img->highest,
        .special_gfn_lo = 0xfeff8,
        .special_nr = 8,
    };
    struct pvh_layout_out out;
    char err[256];

    if (pvh_build_start_info(&in, &out, fuzz_write, NULL, err, sizeof(err)) < 0)
        fuzz_check_err(err);
    else if (out.start_info_gpa % 4096 || out.start_info_gpa < img->highest)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img;
    char err[256];

    if (elf_parse(&img, data, size, err, sizeof(err)) < 0) {
        fuzz_check_err(err);
        return 0;
    }
    if (img.nr_seg == 0 || img.nr_seg > ELF_MAX_SEGMENTS || img.lowest >= img.highest)
        __builtin_trap();
    if (elf_load(&img, FUZZ_RAM_SIZE, fuzz_write, NULL, err, sizeof(err)) < 0) {
        fuzz_check_err(err);
        return 0;
    }
    fuzz_start_info(&img, data, size);
    return 0;
}

#ifdef FUZZ_SEED_MAIN
/*
 * Seed generator (built with the host compiler, no libFuzzer): writes a few valid PVH images
 * into the directory given as argv[1], so the fuzzer starts from images that get past the
 * header checks instead of having to discover the Xen note by itself.
 */
struct fuzz_seed {
    const char *name;
    unsigned cls, machine, descsz;
    int note_in_phdr, note_in_shdr;
};

static size_t seed_note(uint8_t *b, unsigned descsz)
{
    Elf64_Nhdr n = {.n_namesz = 4, .n_descsz = descsz, .n_type = XEN_ELFNOTE_PHYS32_ENTRY};
    uint64_t entry = 0x100000;

    memcpy(b, &n, sizeof(n));
    memcpy(b + sizeof(n), "Xen", 4);
    memcpy(b + sizeof(n) + 4, &entry, descsz);
    return sizeof(n) + 4 + descsz;
}

/* ELF64 layout: ehdr 0, phdrs 64 (PT_LOAD x2, PT_NOTE), notes 256, text 512, shdrs 1024. */
static size_t seed64(const struct fuzz_seed *s, uint8_t *b)
{
    size_t nsz = seed_note(b + 256, s->descsz);
    Elf64_Ehdr h = {.e_type = ET_EXEC,
                    .e_machine = s->machine,
                    .e_version = EV_CURRENT,
                    .e_phoff = 64,
                    .e_phentsize = sizeof(Elf64_Phdr),
                    .e_phnum = 3,
                    .e_shoff = s->note_in_shdr ? 1024 : 0,
                    .e_shentsize = sizeof(Elf64_Shdr),
                    .e_shnum = s->note_in_shdr ? 2 : 0,
                    .e_ehsize = sizeof(h)};
    Elf64_Phdr ph[3] = {
        {.p_type = PT_LOAD,
         .p_offset = 512,
         .p_paddr = 0x100000,
         .p_filesz = 256,
         .p_memsz = 0x1000},
        {.p_type = PT_LOAD, .p_paddr = 0x102010, .p_memsz = 0x100},
        {.p_type = s->note_in_phdr ? PT_NOTE : PT_NULL, .p_offset = 256, .p_filesz = nsz},
    };
    Elf64_Shdr sh[2] = {{0}, {.sh_type = SHT_NOTE, .sh_offset = 256, .sh_size = nsz}};

    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(b, &h, sizeof(h));
    memcpy(b + 64, ph, sizeof(ph));
    memset(b + 512, 0x90, 256);
    memcpy(b + 1024, sh, sizeof(sh));
    return s->note_in_shdr ? 1024 + sizeof(sh) : 768;
}

static size_t seed32(const struct fuzz_seed *s, uint8_t *b)
{
    size_t nsz = seed_note(b + 256, s->descsz);
    Elf32_Ehdr h = {.e_type = ET_EXEC,
                    .e_machine = s->machine,
                    .e_version = EV_CURRENT,
                    .e_phoff = 64,
                    .e_phentsize = sizeof(Elf32_Phdr),
                    .e_phnum = 2,
                    .e_shoff = s->note_in_shdr ? 1024 : 0,
                    .e_shentsize = sizeof(Elf32_Shdr),
                    .e_shnum = s->note_in_shdr ? 2 : 0,
                    .e_ehsize = sizeof(h)};
    Elf32_Phdr ph[2] = {
        {.p_type = PT_LOAD,
         .p_offset = 512,
         .p_paddr = 0x100000,
         .p_filesz = 256,
         .p_memsz = 0x2000},
        {.p_type = s->note_in_phdr ? PT_NOTE : PT_NULL, .p_offset = 256, .p_filesz = nsz},
    };
    Elf32_Shdr sh[2] = {{0}, {.sh_type = SHT_NOTE, .sh_offset = 256, .sh_size = nsz}};

    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS32;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(b, &h, sizeof(h));
    memcpy(b + 64, ph, sizeof(ph));
    memset(b + 512, 0x90, 256);
    memcpy(b + 1024, sh, sizeof(sh));
    return s->note_in_shdr ? 1024 + sizeof(sh) : 768;
}

static const struct fuzz_seed fuzz_seeds[] = {
    {"elf64-phdr-note8", 64, EM_X86_64, 8, 1, 0},
    {"elf64-shdr-note4", 64, EM_X86_64, 4, 0, 1},
    {"elf32-i386-both", 32, EM_386, 4, 1, 1},
    {"elf32-x86_64-shdr", 32, EM_X86_64, 8, 0, 1},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(fuzz_seeds) / sizeof(fuzz_seeds[0]); i++) {
        const struct fuzz_seed *s = &fuzz_seeds[i];
        uint8_t b[2048] = {0};
        size_t len = s->cls == 64 ? seed64(s, b) : seed32(s, b);
        struct elf_image img;
        char path[4096], err[256];
        if (elf_parse(&img, b, len, err, sizeof(err)) < 0 ||
            elf_load(&img, FUZZ_RAM_SIZE, fuzz_write, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "seed %s does not load: %s\n", s->name, err);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/seed-%s", argv[1], s->name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, len, f) != len || fclose(f)) {
            perror(path);
            return 1;
        }
        LLVMFuzzerTestOneInput(b, len);
    }
    return 0;
}
#endif
