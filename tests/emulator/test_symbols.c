/* emulator/symbols.c: naming the blocks of a dynamic run with function
 * symbols and DWARF lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

static void hottest_block_is_in_matmul(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("matmul"), "30", NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    const pv_dynamic *d = r.d;
    uint32_t hot = 0;
    for (uint32_t i = 1; i < d->ncounts; i++)
        if (d->counts[i].count * d->counts[i].ninsns > d->counts[hot].count * d->counts[hot].ninsns)
            hot = i;
    pv_emu_symbols *s = NULL;
    assert_int_equal(pv_emu_symbols_new(&s, d), PV_OK);
    const char *fn = NULL, *file = NULL;
    uint64_t off = 0;
    uint32_t line = 0;
    assert_int_equal(pv_emu_symbols_lookup(s, d->counts[hot].object, d->counts[hot].addr, &fn, &off, &file, &line),
                     PV_OK);
    /* matmul() is inlined into main at -O2; its inner loop is line 11 of samples/matmul.c */
    assert_string_equal(fn, "main");
    assert_true(off > 0);
    assert_non_null(file);
    assert_non_null(strstr(file, "samples/matmul.c"));
    assert_int_equal(line, 11);
    /* a libc block is named from libc's symbols */
    int named = 0;
    for (uint32_t i = 0; i < d->ncounts; i++)
        if (strstr(d->objects[d->counts[i].object].path, "libc.so") &&
            pv_emu_symbols_lookup(s, d->counts[i].object, d->counts[i].addr, &fn, NULL, NULL, NULL) == PV_OK)
            named++;
    assert_true(named > 0);
    /* nothing there, or no such object */
    assert_int_equal(pv_emu_symbols_lookup(s, 0, 0x10, &fn, &off, &file, &line), PV_ERR_NOTFOUND);
    assert_null(fn);
    assert_int_equal(pv_emu_symbols_lookup(s, 999, 0x1000, &fn, &off, NULL, NULL), PV_ERR_NOTFOUND);
    pv_emu_symbols_free(s);
    pv_emu_symbols_free(NULL);
    emu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hottest_block_is_in_matmul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
