/* emulator/elf.c: the loader's ELF checks, on real executables and on
 * crafted headers, one per kind of bad input. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "emulator/internal.h"
#include "tests/emulator/emu_util.h"

typedef struct img {
    uint8_t b[8192];
    size_t len;
} img;

/* A minimal valid ET_EXEC: header, @p nph program headers, one PT_LOAD of the first page at 0x400000. */
static void make(img *m, int nph)
{
    memset(m, 0, sizeof *m);
    Elf64_Ehdr *h = (Elf64_Ehdr *)m->b;
    memcpy(h->e_ident, ELFMAG, SELFMAG);
    h->e_ident[EI_CLASS] = ELFCLASS64;
    h->e_ident[EI_DATA] = ELFDATA2LSB;
    h->e_ident[EI_VERSION] = EV_CURRENT;
    h->e_type = ET_EXEC;
    h->e_machine = EM_X86_64;
    h->e_version = EV_CURRENT;
    h->e_entry = 0x400100;
    h->e_phoff = sizeof *h;
    h->e_ehsize = sizeof *h;
    h->e_phentsize = sizeof(Elf64_Phdr);
    h->e_phnum = (uint16_t)nph;
    Elf64_Phdr *p = (Elf64_Phdr *)(m->b + sizeof *h);
    p[0].p_type = PT_LOAD;
    p[0].p_flags = PF_R | PF_X;
    p[0].p_offset = 0;
    p[0].p_vaddr = 0x400000;
    p[0].p_filesz = 4096;
    p[0].p_memsz = 4096;
    m->len = 4096;
}

static Elf64_Ehdr *hdr(img *m) { return (Elf64_Ehdr *)m->b; }
static Elf64_Phdr *ph(img *m, int i) { return (Elf64_Phdr *)(m->b + sizeof(Elf64_Ehdr)) + i; }

static int parse(img *m, pve_elf *e) { return pve_elf_parse(m->b, m->len, "t", e); }

static void expect_error(img *m, int code, const char *text)
{
    pve_elf e;
    assert_int_equal(parse(m, &e), code);
    if (!strstr(pv_error_last(), text))
        fail_msg("expected '%s' in '%s'", text, pv_error_last());
}

static void minimal_and_real(void **state)
{
    (void)state;
    img m;
    pve_elf e;
    make(&m, 1);
    assert_int_equal(parse(&m, &e), PV_OK);
    assert_int_equal(e.type, ET_EXEC);
    assert_int_equal(e.nloads, 1);
    assert_int_equal(e.lo, 0x400000);
    assert_int_equal(e.hi, 0x401000);
    assert_int_equal(e.phdr_vaddr, 0x400040); /* program headers inside the first segment */
    assert_string_equal(e.interp, "");
    assert_int_equal(pve_elf_offset_to_vaddr(&e, 0x100), 0x400100);
    assert_int_equal(pve_elf_offset_to_vaddr(&e, 0x2000), UINT64_MAX);
    /* real files: a PIE with a loader, a static executable */
    const char *paths[] = {SAMPLE("matmul"), GUEST("matmul_static")};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "rb");
        assert_non_null(f);
        static uint8_t buf[4 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_int_equal(pve_elf_parse(buf, n, paths[k], &e), PV_OK);
        if (k == 0) {
            assert_int_equal(e.type, ET_DYN);
            assert_string_equal(e.interp, "/lib64/ld-linux-x86-64.so.2");
            assert_int_equal(e.lo, 0);
            assert_true(e.build_id_len == 20);
        } else {
            assert_int_equal(e.type, ET_EXEC);
            assert_string_equal(e.interp, "");
        }
        assert_true(e.nloads >= 2);
        assert_true(e.entry >= e.lo && e.entry < e.hi);
        /* every truncation of a real file fails cleanly */
        for (size_t cut = 0; cut < 6000 && cut < n; cut += 97)
            assert_int_not_equal(pve_elf_parse(buf, cut, paths[k], &e), PV_OK);
    }
}

static void bad_headers(void **state)
{
    (void)state;
    img m;
    make(&m, 1);
    m.b[1] = 'X';
    expect_error(&m, PV_ERR_FORMAT, "not an ELF file");
    make(&m, 1);
    m.len = 40;
    expect_error(&m, PV_ERR_FORMAT, "truncated ELF file");
    make(&m, 1);
    m.b[EI_CLASS] = ELFCLASS32;
    expect_error(&m, PV_ERR_UNSUPPORTED, "32-bit");
    make(&m, 1);
    m.b[EI_DATA] = ELFDATA2MSB;
    expect_error(&m, PV_ERR_UNSUPPORTED, "big-endian");
    make(&m, 1);
    hdr(&m)->e_machine = EM_AARCH64;
    expect_error(&m, PV_ERR_UNSUPPORTED, "AArch64");
    make(&m, 1);
    hdr(&m)->e_machine = 9999;
    expect_error(&m, PV_ERR_UNSUPPORTED, "machine 9999");
    make(&m, 1);
    hdr(&m)->e_type = ET_REL;
    expect_error(&m, PV_ERR_UNSUPPORTED, "relocatable");
    make(&m, 1);
    hdr(&m)->e_type = ET_CORE;
    expect_error(&m, PV_ERR_UNSUPPORTED, "core dump");
    make(&m, 1);
    hdr(&m)->e_type = 77;
    expect_error(&m, PV_ERR_FORMAT, "bad ELF type");
    make(&m, 0);
    expect_error(&m, PV_ERR_FORMAT, "no program headers");
    make(&m, 1);
    hdr(&m)->e_phentsize = 32;
    expect_error(&m, PV_ERR_FORMAT, "e_phentsize");
    make(&m, 1);
    hdr(&m)->e_phoff = 4090;
    expect_error(&m, PV_ERR_FORMAT, "program headers at offset 4090");
    make(&m, 1);
    hdr(&m)->e_entry = 0x900000;
    expect_error(&m, PV_ERR_FORMAT, "entry point 0x900000");
}

static void bad_segments(void **state)
{
    (void)state;
    img m;
    make(&m, 1);
    ph(&m, 0)->p_filesz = 8192;
    expect_error(&m, PV_ERR_FORMAT, "p_filesz 8192 exceeds p_memsz");
    make(&m, 1);
    ph(&m, 0)->p_memsz = 8192;
    ph(&m, 0)->p_filesz = 8192;
    expect_error(&m, PV_ERR_FORMAT, "truncated ELF file: PT_LOAD");
    make(&m, 1);
    ph(&m, 0)->p_vaddr = 0x400010;
    expect_error(&m, PV_ERR_FORMAT, "differ modulo");
    make(&m, 1);
    ph(&m, 0)->p_vaddr = 0xfffffffffffff000ull;
    expect_error(&m, PV_ERR_FORMAT, "outside x86-64 user space");
    make(&m, 1);
    ph(&m, 0)->p_vaddr = 0x1000;
    hdr(&m)->e_entry = 0x1100;
    expect_error(&m, PV_ERR_FORMAT, "below the lowest mappable address");
    make(&m, 1);
    ph(&m, 0)->p_type = PT_NOTE;
    expect_error(&m, PV_ERR_FORMAT, "no PT_LOAD");
    make(&m, 2);
    *ph(&m, 1) = *ph(&m, 0);
    expect_error(&m, PV_ERR_FORMAT, "overlaps");
    make(&m, 20);
    for (int i = 1; i < 20; i++) {
        *ph(&m, i) = *ph(&m, 0);
        ph(&m, i)->p_vaddr = 0x400000 + 0x1000ull * (uint64_t)i;
        ph(&m, i)->p_filesz = 0;
    }
    expect_error(&m, PV_ERR_FORMAT, "more than 16 PT_LOAD");
    /* PT_INTERP must be one NUL-terminated path inside the file */
    make(&m, 2);
    ph(&m, 1)->p_type = PT_INTERP;
    ph(&m, 1)->p_offset = 0x200;
    ph(&m, 1)->p_filesz = 8;
    memcpy(m.b + 0x200, "/lib/ld!", 8);
    expect_error(&m, PV_ERR_FORMAT, "PT_INTERP");
    memcpy(m.b + 0x200, "/ld.so\0\0", 8);
    expect_error(&m, PV_ERR_FORMAT, "PT_INTERP");
    ph(&m, 1)->p_filesz = 7;
    pve_elf e;
    assert_int_equal(parse(&m, &e), PV_OK);
    assert_string_equal(e.interp, "/ld.so");
    ph(&m, 1)->p_offset = 5000;
    expect_error(&m, PV_ERR_FORMAT, "PT_INTERP at offset 5000");
    /* a shared library is not an executable */
    make(&m, 1);
    hdr(&m)->e_type = ET_DYN;
    hdr(&m)->e_entry = 0;
    ph(&m, 0)->p_vaddr = 0;
    expect_error(&m, PV_ERR_UNSUPPORTED, "shared library");
    /* but its headers are fine for naming its mappings */
    assert_int_equal(pve_elf_parse_headers(m.b, 256, 4096, &e), PV_OK);
    assert_int_equal(pve_elf_offset_to_vaddr(&e, 0x10), 0x10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(minimal_and_real),
        cmocka_unit_test(bad_headers),
        cmocka_unit_test(bad_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
