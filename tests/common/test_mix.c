/* Tests for common/mix.c: the one table of instruction-mix classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/mix.h"

static void names_round_trip(void **state)
{
    (void)state;
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        const char *n = pv_mix_class_name(c);
        assert_non_null(n);
        assert_non_null(pv_mix_class_desc(c));
        assert_int_equal(pv_mix_class_from_name(n), c);
    }
    assert_null(pv_mix_class_name(PV_MIX_NCLASSES));
    assert_int_equal(pv_mix_class_from_name("no_such_class"), -1);
    assert_int_equal(pv_mix_class_from_name(NULL), -1);
}

static void names_are_unique(void **state)
{
    (void)state;
    for (int a = 0; a < PV_MIX_NCLASSES; a++)
        for (int b = a + 1; b < PV_MIX_NCLASSES; b++)
            assert_string_not_equal(pv_mix_class_name(a), pv_mix_class_name(b));
}

static void arithmetic(void **state)
{
    (void)state;
    pv_mix a = {0}, b = {0};
    a.n[PV_MIX_LOAD] = 3;
    a.n[PV_MIX_FP_FMA] = 2;
    a.bytes_loaded = 24;
    b.n[PV_MIX_LOAD] = 1;
    b.bytes_stored = 8;
    pv_mix_add(&a, &b);
    assert_int_equal(a.n[PV_MIX_LOAD], 4);
    assert_int_equal(pv_mix_total(&a), 6);
    assert_int_equal(a.bytes_stored, 8);

    pv_mix64 d = {0};
    pv_mix64_add_scaled(&d, &a, 1000000000ull);
    assert_int_equal(d.n[PV_MIX_LOAD], 4000000000ull);
    assert_int_equal(d.bytes_loaded, 24000000000ull);
    pv_mix64 e = d;
    pv_mix64_add(&d, &e);
    assert_int_equal(pv_mix64_total(&d), 12000000000ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(names_are_unique),
        cmocka_unit_test(arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
