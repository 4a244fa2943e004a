/* Tests for analyzer/source_poly.c: polynomial arithmetic, Faulhaber sums
 * (checked against brute-force loops), printing, and pv_expr_eval with its
 * errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/source.h"

/* Print @p p and compare with @p want. */
static void expect_str(const pv_poly *p, const char *want)
{
    char *s = pv_poly_str(p);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void var(pv_poly *p, const char *name)
{
    pv_poly_init(p);
    assert_int_equal(pv_poly_set_var(p, name), PV_OK);
}

static void cnst(pv_poly *p, int64_t num, int64_t den)
{
    pv_poly_init(p);
    assert_int_equal(pv_poly_set_const(p, num, den), PV_OK);
}

/* Parameter values for evaluation: n, m, i, w->last. */
typedef struct vals {
    double n, m, i, last;
} vals;

static int lookup(void *ud, const char *name, double *v)
{
    const vals *x = ud;
    if (!strcmp(name, "n"))
        *v = x->n;
    else if (!strcmp(name, "m"))
        *v = x->m;
    else if (!strcmp(name, "i"))
        *v = x->i;
    else if (!strcmp(name, "w->last"))
        *v = x->last;
    else
        return PV_ERR_NOTFOUND;
    return PV_OK;
}

static double eval_poly(const pv_poly *p, double n)
{
    vals x = {n, 0, 0, 0};
    double v = -1;
    assert_int_equal(pv_poly_eval(p, lookup, &x, &v), PV_OK);
    return v;
}

static double eval_text(const char *text, double n, double m)
{
    vals x = {n, m, 0, 0};
    double v = -1;
    assert_int_equal(pv_expr_eval(text, lookup, &x, &v), PV_OK);
    return v;
}

static void constants_are_normalized(void **state)
{
    (void)state;
    pv_poly p;
    int64_t num, den;
    cnst(&p, 6, -4);
    assert_true(pv_poly_is_const(&p, &num, &den));
    assert_int_equal(num, -3);
    assert_int_equal(den, 2);
    expect_str(&p, "-3/2");
    assert_int_equal(pv_poly_set_const(&p, 1, 0), PV_ERR_INVALID);
    assert_int_equal(pv_poly_set_const(&p, 0, 5), PV_OK);
    assert_int_equal(p.nterms, 0); /* zero has no terms */
    expect_str(&p, "0");
    assert_true(pv_poly_is_const(&p, &num, NULL));
    assert_int_equal(num, 0);
    assert_int_equal(pv_poly_degree(&p), 0);
    pv_poly_clear(&p);
    pv_poly_clear(NULL);
}

static void variable_names_are_checked(void **state)
{
    (void)state;
    pv_poly p;
    pv_poly_init(&p);
    assert_int_equal(pv_poly_set_var(&p, ""), PV_ERR_UNSUPPORTED);
    char longname[PV_POLY_NAMELEN + 1];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(pv_poly_set_var(&p, longname), PV_ERR_UNSUPPORTED);
    assert_int_equal(pv_poly_set_var(&p, "w->last"), PV_OK);
    expect_str(&p, "w->last");
    assert_false(pv_poly_is_const(&p, NULL, NULL));
    pv_poly_clear(&p);
}

static void arithmetic_and_printing(void **state)
{
    (void)state;
    pv_poly n, i, eight, r, t;
    var(&n, "n");
    var(&i, "i");
    cnst(&eight, 8, 1);
    pv_poly_init(&r);
    pv_poly_init(&t);
    /* 8*n*n: the matmul allocation */
    assert_int_equal(pv_poly_mul(&r, &n, &n), PV_OK);
    assert_int_equal(pv_poly_mul(&r, &eight, &r), PV_OK); /* out aliases an input */
    expect_str(&r, "8*n^2");
    assert_int_equal(pv_poly_degree(&r), 2);
    assert_true(pv_poly_has_var(&r, "n"));
    assert_false(pv_poly_has_var(&r, "i"));
    /* n - i prints the positive term first */
    assert_int_equal(pv_poly_sub(&t, &n, &i), PV_OK);
    expect_str(&t, "n - i");
    assert_int_equal(pv_poly_sub(&t, &i, &n), PV_OK);
    expect_str(&t, "i - n");
    assert_int_equal(pv_poly_sub(&t, &t, &t), PV_OK);
    expect_str(&t, "0");
    /* rational coefficients: (n^2 + n)/2 */
    assert_int_equal(pv_poly_mul(&t, &n, &n), PV_OK);
    assert_int_equal(pv_poly_add(&t, &t, &n), PV_OK);
    assert_int_equal(pv_poly_scale(&t, 1, 2), PV_OK);
    expect_str(&t, "n^2/2 + n/2");
    assert_int_equal(pv_poly_scale(&t, 3, 1), PV_OK);
    expect_str(&t, "3*n^2/2 + 3*n/2");
    assert_int_equal(pv_poly_scale(&t, 1, 0), PV_ERR_INVALID);
    /* -n, and products ordered by name */
    assert_int_equal(pv_poly_add_scaled(&t, &eight, &n, -1, 1), PV_OK);
    expect_str(&t, "-n + 8");
    assert_int_equal(pv_poly_mul(&t, &i, &n), PV_OK);
    expect_str(&t, "i*n");
    pv_poly_clear(&n);
    pv_poly_clear(&i);
    pv_poly_clear(&eight);
    pv_poly_clear(&r);
    pv_poly_clear(&t);
}

static void substitution(void **state)
{
    (void)state;
    pv_poly p, m, q, one;
    var(&m, "m");
    var(&q, "n");
    cnst(&one, 1, 1);
    pv_poly_init(&p);
    /* m^2 + m with m = n + 1 gives n^2 + 3n + 2 */
    assert_int_equal(pv_poly_mul(&p, &m, &m), PV_OK);
    assert_int_equal(pv_poly_add(&p, &p, &m), PV_OK);
    assert_int_equal(pv_poly_add(&q, &q, &one), PV_OK);
    assert_int_equal(pv_poly_subst(&p, &p, "m", &q), PV_OK);
    expect_str(&p, "n^2 + 3*n + 2");
    /* a variable that is not there: unchanged */
    assert_int_equal(pv_poly_subst(&p, &p, "zz", &q), PV_OK);
    expect_str(&p, "n^2 + 3*n + 2");
    pv_poly_clear(&p);
    pv_poly_clear(&m);
    pv_poly_clear(&q);
    pv_poly_clear(&one);
}

static void limits_are_errors(void **state)
{
    (void)state;
    pv_poly a, b, big;
    const char *names[] = {"a", "b", "c", "d", "e"};
    var(&a, names[0]);
    for (int k = 1; k < 5; k++) {
        var(&b, names[k]);
        int rc = pv_poly_mul(&a, &a, &b);
        assert_int_equal(rc, k < PV_POLY_MAXFACTORS ? PV_OK : PV_ERR_UNSUPPORTED);
        pv_poly_clear(&b);
    }
    /* coefficient overflow */
    cnst(&big, INT64_MAX / 2, 1);
    assert_int_equal(pv_poly_scale(&big, 4, 1), PV_ERR_UNSUPPORTED);
    assert_non_null(strstr(pv_error_last(), "overflows"));
    pv_poly_clear(&a);
    pv_poly_clear(&big);
}

/* Brute force: sum over t = 0..count-1 of f(lo + step*t) for f = i^k. */
static double brute(int k, double lo, int step, int count)
{
    double s = 0;
    for (int t = 0; t < count; t++)
        s += pow(lo + step * t, k);
    return s;
}

static void faulhaber_sums_match_loops(void **state)
{
    (void)state;
    pv_poly i, n, zero, f, s, lo;
    var(&i, "i");
    var(&n, "n");
    cnst(&zero, 0, 1);
    pv_poly_init(&f);
    pv_poly_init(&s);
    /* sum_{i<n} i = n^2/2 - n/2: the triangular nest */
    assert_int_equal(pv_poly_sum(&s, &i, "i", &zero, 1, &n), PV_OK);
    expect_str(&s, "n^2/2 - n/2");
    /* a constant summed n times */
    cnst(&f, 3, 1);
    assert_int_equal(pv_poly_sum(&s, &f, "i", &zero, 1, &n), PV_OK);
    expect_str(&s, "3*n");
    /* i^k for k = 0..4, from lo = 5 by step 3 (and -2), against brute force */
    cnst(&lo, 5, 1);
    for (int k = 0; k <= 4; k++) {
        pv_poly_clear(&f);
        cnst(&f, 1, 1);
        for (int e = 0; e < k; e++)
            assert_int_equal(pv_poly_mul(&f, &f, &i), PV_OK);
        for (int step = -2; step <= 3; step += 5)
            for (int count = 0; count <= 9; count++) {
                assert_int_equal(pv_poly_sum(&s, &f, "i", &lo, step, &n), PV_OK);
                assert_false(pv_poly_has_var(&s, "i"));
                assert_float_equal(eval_poly(&s, count), brute(k, 5, step, count), 1e-6);
            }
    }
    /* a power above 4 is refused */
    assert_int_equal(pv_poly_mul(&f, &f, &i), PV_OK);
    assert_int_equal(pv_poly_sum(&s, &f, "i", &lo, 1, &n), PV_ERR_UNSUPPORTED);
    pv_poly_clear(&i);
    pv_poly_clear(&n);
    pv_poly_clear(&zero);
    pv_poly_clear(&f);
    pv_poly_clear(&s);
    pv_poly_clear(&lo);
}

static void evaluation_of_polynomials(void **state)
{
    (void)state;
    pv_poly p, n, m;
    var(&n, "n");
    var(&m, "m");
    pv_poly_init(&p);
    assert_int_equal(pv_poly_mul(&p, &n, &m), PV_OK);
    assert_int_equal(pv_poly_scale(&p, 1, 2), PV_OK);
    vals x = {4, 3, 0, 0};
    double v;
    assert_int_equal(pv_poly_eval(&p, lookup, &x, &v), PV_OK);
    assert_float_equal(v, 6, 1e-12);
    /* a parameter the lookup does not know */
    pv_poly_clear(&m);
    var(&m, "q");
    assert_int_equal(pv_poly_mul(&p, &p, &m), PV_OK);
    assert_int_equal(pv_poly_eval(&p, lookup, &x, &v), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "'q'"));
    assert_int_equal(pv_poly_eval(&p, NULL, NULL, &v), PV_ERR_NOTFOUND);
    pv_poly_clear(&p);
    pv_poly_clear(&n);
    pv_poly_clear(&m);
}

static void printed_text_evaluates_like_the_polynomial(void **state)
{
    (void)state;
    pv_poly n, m, p, c;
    var(&n, "n");
    var(&m, "m");
    cnst(&c, -7, 3);
    pv_poly_init(&p);
    /* 3*m*n^2/2 ... - 7/3 */
    assert_int_equal(pv_poly_mul(&p, &n, &n), PV_OK);
    assert_int_equal(pv_poly_mul(&p, &p, &m), PV_OK);
    assert_int_equal(pv_poly_scale(&p, 3, 2), PV_OK);
    assert_int_equal(pv_poly_add_scaled(&p, &p, &n, -5, 4), PV_OK);
    assert_int_equal(pv_poly_add(&p, &p, &c), PV_OK);
    char *s = pv_poly_str(&p);
    assert_non_null(s);
    assert_string_equal(s, "3*m*n^2/2 - 5*n/4 - 7/3");
    vals x = {5, 2, 0, 0};
    double a, b;
    assert_int_equal(pv_poly_eval(&p, lookup, &x, &a), PV_OK);
    assert_int_equal(pv_expr_eval(s, lookup, &x, &b), PV_OK);
    assert_float_equal(a, b, 1e-9);
    free(s);
    pv_poly_clear(&n);
    pv_poly_clear(&m);
    pv_poly_clear(&p);
    pv_poly_clear(&c);
}

static void expression_syntax(void **state)
{
    (void)state;
    assert_float_equal(eval_text("8*n^2", 10, 0), 800, 1e-9);
    assert_float_equal(eval_text("n^2/2 + n/2", 10, 0), 55, 1e-9);
    assert_float_equal(eval_text("2 + 3 * 4", 0, 0), 14, 1e-9);
    assert_float_equal(eval_text("(2 + 3) * 4", 0, 0), 20, 1e-9);
    assert_float_equal(eval_text("2^3^2", 0, 0), 512, 1e-9); /* right associative */
    assert_float_equal(eval_text("-2^2", 0, 0), -4, 1e-9);
    assert_float_equal(eval_text("n - m - 1", 10, 3), 6, 1e-9);
    assert_float_equal(eval_text("ceil((n - 1)/2)", 10, 0), 5, 1e-9);
    assert_float_equal(eval_text("ceil(n/2)", 10, 0), 5, 1e-9); /* exact: no rounding up of 5.0 */
    assert_float_equal(eval_text("floor(n/3)", 10, 0), 3, 1e-9);
    assert_float_equal(eval_text("min(n,m) + max(n, m)", 4, 9), 13, 1e-9);
    assert_float_equal(eval_text("1.5e2 + .5", 0, 0), 150.5, 1e-9);
    vals x = {0, 0, 0, 42};
    double v;
    assert_int_equal(pv_expr_eval("w->last - 2", lookup, &x, &v), PV_OK);
    assert_float_equal(v, 40, 1e-9);
}

/* Each error names what is wrong and where. */
static void expression_errors(void **state)
{
    (void)state;
    vals x = {1, 1, 1, 1};
    double v = 123;
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"", PV_ERR_FORMAT, "expected a number, a name or '(' at offset 0"},
        {"n +", PV_ERR_FORMAT, "at offset 3"},
        {"(n + 1", PV_ERR_FORMAT, "expected ')' at offset 6"},
        {"n n", PV_ERR_FORMAT, "unexpected character at offset 2"},
        {"sqrt(n)", PV_ERR_FORMAT, "unknown function at offset 4"},
        {"min(n)", PV_ERR_FORMAT, "expected ',' at offset 5"},
        {"n / (m - 1)", PV_ERR_FORMAT, "division by zero"},
        {"n * k", PV_ERR_NOTFOUND, "no value for parameter 'k'"},
        {"2 $ 3", PV_ERR_FORMAT, "unexpected character at offset 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pv_expr_eval(cases[i].text, lookup, &x, &v);
        if (rc != cases[i].code || !strstr(pv_error_last(), cases[i].msg))
            fail_msg("'%s': got %d '%s', expected %d '%s'", cases[i].text, rc, pv_error_last(), cases[i].code,
                     cases[i].msg);
    }
    assert_float_equal(v, 123, 0); /* never written on failure */
    assert_int_equal(pv_expr_eval(NULL, lookup, &x, &v), PV_ERR_INVALID);
    assert_int_equal(pv_expr_eval("1", lookup, &x, NULL), PV_ERR_INVALID);
    assert_int_equal(pv_expr_eval("n", NULL, NULL, &v), PV_ERR_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constants_are_normalized),
        cmocka_unit_test(variable_names_are_checked),
        cmocka_unit_test(arithmetic_and_printing),
        cmocka_unit_test(substitution),
        cmocka_unit_test(limits_are_errors),
        cmocka_unit_test(faulhaber_sums_match_loops),
        cmocka_unit_test(evaluation_of_polynomials),
        cmocka_unit_test(printed_text_evaluates_like_the_polynomial),
        cmocka_unit_test(expression_syntax),
        cmocka_unit_test(expression_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
