/* Tests for analyzer/functions.c: function candidates from .eh_frame, read
 * from a corrupted real binary (the sample matmul). */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* File offset of section @name in @c, or 0. */
static size_t section_offset(const uint8_t *c, const char *name)
{
    Elf64_Ehdr h;
    memcpy(&h, c, sizeof h);
    Elf64_Shdr strs;
    memcpy(&strs, c + h.e_shoff + (size_t)h.e_shstrndx * sizeof strs, sizeof strs);
    for (int i = 1; i < h.e_shnum; i++) {
        Elf64_Shdr s;
        memcpy(&s, c + h.e_shoff + (size_t)i * sizeof s, sizeof s);
        if (!strcmp((const char *)c + strs.sh_offset + s.sh_name, name))
            return s.sh_offset;
    }
    return 0;
}

/* An FDE address encoded as a SLEB128 of 9 bytes whose last one has the sign
 * bit: sign-extending it shifted a signed 1 by 63 places (undefined; UBSan
 * stops the sanitized build there). The file still analyzes. */
static void sleb128_sign_at_bit_63(void **state)
{
    (void)state;
    uint8_t *c = malloc(img_len);
    memcpy(c, img, img_len);
    size_t eh = section_offset(c, ".eh_frame");
    assert_true(eh > 0);
    /* The first CIE (gcc's layout): version 1, "zR", code and data alignment,
     * return column, augmentation length, then the FDE pointer encoding. */
    assert_int_equal(c[eh + 8], 1);
    assert_memory_equal(c + eh + 9, "zR", 3);
    assert_int_equal(c[eh + 16], 0x1b); /* pcrel | sdata4 */
    c[eh + 16] = 0x19;                  /* pcrel | sleb128 */
    uint32_t cie_len, fde_len;
    memcpy(&cie_len, c + eh, 4);
    size_t fde = eh + 4 + cie_len;
    memcpy(&fde_len, c + fde, 4);
    assert_true(fde_len >= 4 + 9 + 1);
    memset(c + fde + 8, 0x80, 8); /* pc_begin: 8 continuation bytes, then the sign bit */
    c[fde + 16] = 0x40;
    pv_profile *p = NULL;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.nthreads = 1;
    int rc = pv_analyze_memory(c, img_len, "sleb.elf", &o, &p);
    if (rc)
        fail_msg("%s", pv_error_last());
    assert_true(p->nfunctions > 5);
    pv_profile_free(p);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleb128_sign_at_bit_63),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
