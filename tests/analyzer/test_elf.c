/* Tests for analyzer/elf.c: every kind of bad input gives PV_ERR_FORMAT or
 * PV_ERR_UNSUPPORTED with a message naming what is wrong and where, and
 * never a crash (also under random corruption of a real binary). */
#include <elf.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "prevision/analyzer.h"
#include "prevision/json.h"

static uint8_t *img;
static size_t img_len;

static int setup(void **state)
{
    (void)state;
    char *data = NULL;
    if (pv_file_read(PV_SAMPLES_DIR "/matmul", &data, &img_len) != PV_OK)
        return -1;
    img = (uint8_t *)data;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(img);
    return 0;
}

static uint8_t *copy(void)
{
    uint8_t *c = malloc(img_len);
    memcpy(c, img, img_len);
    return c;
}

/* Analyze @len bytes at @data; expect @code and every @want substring in the message. */
static void expect(const void *data, size_t len, int code, const char *want1, const char *want2)
{
    pv_profile *p = NULL;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.nthreads = 1;
    int rc = pv_analyze_memory(data, len, "t.elf", &o, &p);
    if (rc != code)
        fail_msg("expected %d, got %d (%s)", code, rc, pv_error_last());
    assert_null(p);
    const char *m = pv_error_last();
    assert_non_null(strstr(m, "t.elf"));
    if (want1 && !strstr(m, want1))
        fail_msg("message '%s' lacks '%s'", m, want1);
    if (want2 && !strstr(m, want2))
        fail_msg("message '%s' lacks '%s'", m, want2);
}

static void valid_image(void **state)
{
    (void)state;
    pv_profile *p = NULL;
    assert_int_equal(pv_analyze_memory(img, img_len, "t.elf", NULL, &p), PV_OK);
    assert_string_equal(p->target.kind, "pie");
    assert_non_null(p->target.build_id);
    char hex[65];
    pv_sha256_hex(img, img_len, hex);
    assert_string_equal(p->target.sha256, hex);
    assert_true(p->nfunctions > 5);
    pv_profile_free(p);
}

static void not_elf(void **state)
{
    (void)state;
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    expect(png, sizeof png, PV_ERR_FORMAT, "offset 0: magic bytes 89 50 4e 47", "PNG");
    expect("", 0, PV_ERR_FORMAT, "empty file", NULL);
    expect("#!/bin/sh\n", 10, PV_ERR_FORMAT, "a script", NULL);
    expect("\x7f" "EL", 3, PV_ERR_FORMAT, "not an ELF file", NULL);
}

static void truncated(void **state)
{
    (void)state;
    expect(img, 40, PV_ERR_FORMAT, "truncated", "ELF header needs 64");
    expect(img, 10, PV_ERR_FORMAT, "truncated", NULL);
    /* The section headers are at the end of the file: cutting it loses them. */
    expect(img, img_len / 2, PV_ERR_FORMAT, "past the end of the file", "e_shoff");
}

static void bad_section_offset(void **state)
{
    (void)state;
    uint8_t *c = copy();
    Elf64_Ehdr h;
    memcpy(&h, c, sizeof h);
    /* Find .text's header and move its contents far past the end. */
    Elf64_Shdr s;
    int idx = -1;
    for (int i = 1; i < h.e_shnum; i++) {
        memcpy(&s, c + h.e_shoff + (size_t)i * sizeof s, sizeof s);
        if (s.sh_type == SHT_PROGBITS && (s.sh_flags & SHF_EXECINSTR) && s.sh_size > 100) {
            idx = i;
            break;
        }
    }
    assert_true(idx > 0);
    s.sh_offset = 0x7ffffff0;
    memcpy(c + h.e_shoff + (size_t)idx * sizeof s, &s, sizeof s);
    char want[64], where[64];
    snprintf(want, sizeof want, "section [%d]", idx);
    snprintf(where, sizeof where, "header at file offset 0x%llx", (unsigned long long)(h.e_shoff + (size_t)idx * sizeof s));
    expect(c, img_len, PV_ERR_FORMAT, want, "sh_offset 0x7ffffff0");
    expect(c, img_len, PV_ERR_FORMAT, where, NULL);
    free(c);
}

static void bad_header_fields(void **state)
{
    (void)state;
    uint8_t *c = copy();
    c[EI_CLASS] = ELFCLASS32;
    expect(c, img_len, PV_ERR_UNSUPPORTED, "32-bit", "offset 0x4");
    c[EI_CLASS] = 7;
    expect(c, img_len, PV_ERR_FORMAT, "offset 0x4", NULL);
    c[EI_CLASS] = ELFCLASS64;
    c[EI_DATA] = ELFDATA2MSB;
    expect(c, img_len, PV_ERR_UNSUPPORTED, "big-endian", NULL);
    memcpy(c, img, img_len);
    uint16_t m = EM_AARCH64;
    memcpy(c + 0x12, &m, 2);
    expect(c, img_len, PV_ERR_UNSUPPORTED, "machine aarch64", "offset 0x12");
    memcpy(c, img, img_len);
    uint16_t t = ET_REL;
    memcpy(c + 0x10, &t, 2);
    expect(c, img_len, PV_ERR_UNSUPPORTED, "relocatable", NULL);
    memcpy(c, img, img_len);
    uint16_t str = 999;
    memcpy(c + 0x3e, &str, 2);
    expect(c, img_len, PV_ERR_FORMAT, "section-name table index 999", NULL);
    memcpy(c, img, img_len);
    uint64_t shoff = 0xffffffffffff0000ull;
    memcpy(c + 0x28, &shoff, 8);
    expect(c, img_len, PV_ERR_FORMAT, "section header table", "past the end");
    memcpy(c, img, img_len);
    uint16_t es = 40;
    memcpy(c + 0x3a, &es, 2);
    expect(c, img_len, PV_ERR_FORMAT, "e_shentsize", NULL);
    memcpy(c, img, img_len);
    uint64_t phoff = img_len - 8;
    memcpy(c + 0x20, &phoff, 8);
    expect(c, img_len, PV_ERR_FORMAT, "program header table", NULL);
    free(c);
}

static void bad_names(void **state)
{
    (void)state;
    uint8_t *c = copy();
    Elf64_Ehdr h;
    memcpy(&h, c, sizeof h);
    Elf64_Shdr s;
    memcpy(&s, c + h.e_shoff + 3 * sizeof s, sizeof s);
    s.sh_name = 0x7fffffff;
    memcpy(c + h.e_shoff + 3 * sizeof s, &s, sizeof s);
    expect(c, img_len, PV_ERR_FORMAT, "section [3]", "name offset 2147483647");
    free(c);
}

static int count_plt(const pv_profile *p, const char *name)
{
    int n = 0;
    for (uint32_t i = 0; i < p->nfunctions; i++)
        n += (p->functions[i].flags & PV_FUNC_PLT) && (!name || !strcmp(p->functions[i].name, name));
    return n;
}

/* A GOT relocation naming symbol 0 (the null symbol) imports nothing. The
 * symbol-to-import map had no entry for index 0, so such a relocation gave
 * the PLT stub an uninitialized import index (read far out of bounds;
 * valgrind showed it). To make the garbage the same every run, M_PERTURB
 * fills fresh malloc() memory with 0x01 bytes (a large positive index), and
 * the small chunks glibc caches per thread, which it hands out unfilled, are
 * used up first (the map is 4 bytes per .dynsym entry: 48 bytes here). */
static void reloc_to_null_symbol(void **state)
{
    (void)state;
    uint8_t *c = copy();
    Elf64_Ehdr h;
    memcpy(&h, c, sizeof h);
    size_t rel = 0;
    for (int i = 1; i < h.e_shnum && !rel; i++) {
        Elf64_Shdr s;
        memcpy(&s, c + h.e_shoff + (size_t)i * sizeof s, sizeof s);
        if (s.sh_type == SHT_RELA && (s.sh_flags & SHF_INFO_LINK)) /* .rela.plt */
            rel = s.sh_offset;
    }
    assert_true(rel > 0);
    Elf64_Rela r;
    memcpy(&r, c + rel, sizeof r);
    assert_int_equal(ELF64_R_TYPE(r.r_info), R_X86_64_JUMP_SLOT);
    r.r_info = ELF64_R_INFO(0, R_X86_64_JUMP_SLOT); /* free's slot, now naming symbol 0 */
    memcpy(c + rel, &r, sizeof r);

    pv_profile *p = NULL, *q = NULL;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.nthreads = 1;
    assert_int_equal(pv_analyze_memory(img, img_len, "t.elf", &o, &q), PV_OK);
    void *held[64];
    for (int i = 0; i < 64; i++)
        held[i] = malloc(16 + 8 * (i % 8));
    mallopt(M_PERTURB, 0xfe);
    int rc = pv_analyze_memory(c, img_len, "t.elf", &o, &p);
    mallopt(M_PERTURB, 0);
    for (int i = 0; i < 64; i++)
        free(held[i]);
    if (rc)
        fail_msg("%s", pv_error_last());
    assert_int_equal(count_plt(q, "free@plt"), 1);
    assert_int_equal(count_plt(p, "free@plt"), 0);
    assert_int_equal(count_plt(p, NULL), count_plt(q, NULL) - 1);
    pv_profile_free(p);
    pv_profile_free(q);
    free(c);
}

static void files(void **state)
{
    (void)state;
    pv_profile *p = NULL;
    assert_int_equal(pv_analyze_binary("/nonexistent/binary", NULL, &p), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "/nonexistent/binary"));
    assert_int_equal(pv_analyze_binary("/tmp", NULL, &p), PV_ERR_IO);
    assert_non_null(strstr(pv_error_last(), "directory"));
    assert_int_equal(pv_analyze_binary(NULL, NULL, &p), PV_ERR_INVALID);
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(pv_analyze_memory(img, img_len, "x", &o, &p), PV_ERR_INVALID);
}

/* Random corruption of a real binary: any result but a crash (run under ASan in CI). */
static void random_corruption(void **state)
{
    (void)state;
    uint8_t *c = malloc(img_len);
    uint32_t seed = 12345;
    int ok = 0, bad = 0;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.nthreads = 1;
    o.no_lines = 0;
    for (int iter = 0; iter < 300; iter++) {
        memcpy(c, img, img_len);
        int nflip = 1 + iter % 8;
        for (int k = 0; k < nflip; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at;
            /* Half the flips in the headers, half anywhere. */
            if (k % 2 == 0)
                at = (seed >> 8) % 64;
            else
                at = (seed >> 8) % img_len;
            seed = seed * 1103515245u + 12345u;
            c[at] ^= (uint8_t)(1u << ((seed >> 16) % 8));
        }
        size_t len = iter % 5 == 4 ? img_len - (seed % img_len) : img_len;
        pv_profile *p = NULL;
        int rc = pv_analyze_memory(c, len, "fuzz", &o, &p);
        if (rc == PV_OK) {
            ok++;
            pv_profile_free(p);
        } else {
            assert_true(rc == PV_ERR_FORMAT || rc == PV_ERR_UNSUPPORTED);
            assert_true(strlen(pv_error_last()) > 10);
            bad++;
        }
    }
    free(c);
    assert_true(ok > 0);
    assert_true(bad > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_image),       cmocka_unit_test(not_elf),   cmocka_unit_test(truncated),
        cmocka_unit_test(bad_section_offset), cmocka_unit_test(bad_header_fields), cmocka_unit_test(bad_names),
        cmocka_unit_test(files),             cmocka_unit_test(random_corruption), cmocka_unit_test(reloc_to_null_symbol),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
