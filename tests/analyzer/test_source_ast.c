/* Tests for analyzer/source_ast.c (through pv_source_analyze with the IR pass
 * off): trip counts of each loop form in tests/analyzer/data/loops.c, checked
 * against brute-force counting where they are derived and for their reason
 * where they must be unknown; the samples' loops, allocations and parallel
 * regions; a file with errors; allocation sites. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/source.h"

#define DATA PV_SOURCE_DIR "/tests/analyzer/data/"

static json_t *analyze(const char *path, int nargs, const char *const *args)
{
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.file = path;
    o.nargs = nargs;
    o.args = args;
    o.ir = 0;
    o.threads = 1;
    void *out = NULL;
    int rc = pv_source_analyze(&o, &out);
    if (rc)
        fail_msg("pv_source_analyze(%s): %s", path, pv_error_last());
    assert_non_null(out);
    return out;
}

static json_t *loops_json;

static int setup_loops(void **state)
{
    (void)state;
    loops_json = analyze(DATA "loops.c", 0, NULL);
    return 0;
}

static int teardown_loops(void **state)
{
    (void)state;
    json_decref(loops_json);
    return 0;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The nth loop (0-based, in source order) of function @p fn. */
static json_t *loop_of(json_t *src, const char *fn, int nth)
{
    json_t *loops = json_object_get(src, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++) {
        json_t *l = json_array_get(loops, i);
        const char *f = str(l, "function");
        if (f && !strcmp(f, fn) && nth-- == 0)
            return l;
    }
    fail_msg("no loop %d in function %s", nth, fn);
    return NULL;
}

static size_t count_in(json_t *src, const char *array, const char *fn)
{
    size_t n = 0;
    json_t *a = json_object_get(src, array);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *f = str(json_array_get(a, i), "function");
        n += f && !strcmp(f, fn);
    }
    return n;
}

typedef struct vals {
    double n, m, i;
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
    else
        return PV_ERR_NOTFOUND;
    return PV_OK;
}

static double eval(const char *text, double n, double m, double i)
{
    vals x = {n, m, i};
    double v = NAN;
    if (!text)
        fail_msg("no expression");
    if (pv_expr_eval(text, lookup, &x, &v))
        fail_msg("'%s': %s", text, pv_error_last());
    return v;
}

static void expect_trip(const char *fn, int nth, const char *trip)
{
    json_t *l = loop_of(loops_json, fn, nth);
    const char *t = str(l, "trip");
    if (!t || strcmp(t, trip))
        fail_msg("%s loop %d: trip '%s' (unknown: %s), expected '%s'", fn, nth, t ? t : "", str(l, "trip_unknown"), trip);
}

static void expect_unknown(const char *fn, int nth, const char *reason, const char *max)
{
    json_t *l = loop_of(loops_json, fn, nth);
    const char *r = str(l, "trip_unknown");
    if (str(l, "trip"))
        fail_msg("%s loop %d: trip '%s' derived, expected unknown (%s)", fn, nth, str(l, "trip"), reason);
    if (!r || !strstr(r, reason))
        fail_msg("%s loop %d: reason '%s', expected '%s'", fn, nth, r ? r : "", reason);
    if (max)
        assert_string_equal(str(l, "trip_max"), max);
    else
        assert_null(json_object_get(l, "trip_max"));
}

/* Brute-force counts of the loop forms of loops.c, for n (and m, i) small. */
static long count_up(int n) { long c = 0; for (int i = 0; i < n; i++) c++; return c; }
static long count_le(int n) { long c = 0; for (int i = 1; i <= n; i++) c++; return c; }
static long stride(int n, int i) { long c = 0; for (int j = i; j < n; j += 2) c++; return c; }
static long down(int n) { long c = 0; for (int i = n - 1; i >= 0; i--) c++; return c; }
static long down3(int n) { long c = 0; for (int i = n; i > 0; i -= 3) c++; return c; }
static long triangle(int n) { long c = 0; for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) c++; return c; }
static long triangle_le(int n) { long c = 0; for (int i = 0; i < n; i++) for (int j = i; j <= n; j++) c++; return c; }
static long stride_nest(int n) { long c = 0; for (int i = 0; i < n; i++) for (int j = i; j < n; j += 2) c++; return c; }
static long cube(int n) { long c = 0; for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) c++; return c; }
static long offset(int n) { long c = 0; for (int i = 0; i + 1 < n; i++) c++; return c; }
static long ptr2(int n) { double a[64]; long c = 0; for (double *p = a; p < a + n; p += 2) c++; return c; }
static long half(int n) { long c = 0; for (int i = 0; i < n / 2; i++) c++; return c; }
static long countdown(int n) { long c = 0; while (n--) c++; return c; }
static long countdown_nest(int m) { long c = 0; for (int i = 0; i < m; i++) { int k = m; while (k-- > 0) c++; } return c; }
static long predec(int n) { long c = 0; while (--n) c++; return c; }
static long do_count(int n) { long c = 0; int i = 0; do { c++; i++; } while (i < n); return c; }

static void derived_trip_counts(void **state)
{
    (void)state;
    expect_trip("count_up", 0, "n");
    expect_trip("count_le", 0, "n");
    expect_trip("stride_from_outer", 0, "n");
    expect_trip("stride_from_outer", 1, "ceil((n - i)/2)");
    expect_trip("count_down", 0, "n");
    expect_trip("count_down_by3", 0, "ceil(n/3)");
    expect_trip("triangle", 1, "i");
    expect_trip("constant_macro", 0, "100");
    expect_trip("reversed_compare", 0, "m - 2");
    expect_trip("while_loop", 0, "n");
    expect_trip("switch_break", 0, "n"); /* a break in a switch does not leave the loop */
    expect_trip("countdown", 0, "n");
    expect_trip("countdown_local", 1, "m"); /* k = m substituted */
    expect_trip("do_count", 0, "n");
    expect_trip("offset_cond", 0, "n - 1");
    expect_trip("pointer_iv", 0, "ceil(n/2)");
    expect_trip("local_bound", 0, "2*n + 1");
    expect_trip("half_bound", 0, "floor(n/2)");
    expect_trip("min_bound", 0, "min(n,m)");
    expect_trip("triangle_le", 1, "n - i + 1");
    expect_trip("cube", 2, "n");
    expect_trip("entry_value", 0, "n - i"); /* i's value when the loop starts */
    expect_trip("chained_init", 0, "n");
    expect_trip("predecrement", 0, "n - 1");
    assert_int_equal(json_integer_value(json_object_get(loop_of(loops_json, "constant_macro", 0), "trip_count")), 100);
    assert_string_equal(str(loop_of(loops_json, "count_down_by3", 0), "trip_rounding"), "ceil");
    assert_string_equal(str(loop_of(loops_json, "while_loop", 0), "var"), "i");
}

/* The printed expressions count exactly what the loops do. */
static void trip_counts_match_brute_force(void **state)
{
    (void)state;
    for (int n = 1; n <= 13; n++) {
        assert_float_equal(eval(str(loop_of(loops_json, "count_up", 0), "trip"), n, 0, 0), count_up(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "count_le", 0), "trip"), n, 0, 0), count_le(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "count_down", 0), "trip"), n, 0, 0), down(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "count_down_by3", 0), "trip"), n, 0, 0), down3(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "offset_cond", 0), "trip"), n, 0, 0), offset(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "pointer_iv", 0), "trip"), n, 0, 0), ptr2(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "half_bound", 0), "trip"), n, 0, 0), half(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "countdown", 0), "trip"), n, 0, 0), countdown(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "do_count", 0), "trip"), n, 0, 0), do_count(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "predecrement", 0), "trip"), n, 0, 0), predec(n), 0);
        if (n % 2 == 0)
            assert_float_equal(eval(str(loop_of(loops_json, "stride_from_outer", 1), "total_iterations"), n, 0, 0),
                               stride_nest(n), 0);
        for (int i = 0; i < n; i++)
            assert_float_equal(eval(str(loop_of(loops_json, "stride_from_outer", 1), "trip"), n, 0, i), stride(n, i), 0);
        /* totals over the nest: exact polynomials where no rounding is involved */
        assert_float_equal(eval(str(loop_of(loops_json, "triangle", 1), "total_iterations"), n, 0, 0), triangle(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "triangle_le", 1), "total_iterations"), n, 0, 0),
                           triangle_le(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "cube", 2), "total_iterations"), n, 0, 0), cube(n), 0);
        assert_float_equal(eval(str(loop_of(loops_json, "countdown_local", 1), "total_iterations"), 0, n, 0),
                           countdown_nest(n), 0);
        /* a strided inner loop: the total is an average, within n/4 of the truth */
        json_t *s = loop_of(loops_json, "stride_from_outer", 1);
        assert_true(json_is_true(json_object_get(s, "total_approx")));
        /* ceil((n - i)/2) averaged as (n - i)/2 + 1/4: exact for even n */
        assert_string_equal(str(s, "total_iterations"), "n^2/4 + n/2");
        assert_true(fabs(eval(str(s, "total_iterations"), n, 0, 0) - stride_nest(n)) <= n / 4.0 + 0.5);
    }
    assert_string_equal(str(loop_of(loops_json, "triangle", 1), "total_iterations"), "n^2/2 - n/2");
    assert_string_equal(str(loop_of(loops_json, "cube", 2), "total_iterations"), "n^3");
}

static void unknown_forms_say_why(void **state)
{
    (void)state;
    expect_unknown("bound_modified", 0, "bound modified in body (n)", NULL);
    expect_unknown("iv_modified", 0, "induction variable i modified in body", NULL);
    expect_unknown("geometric", 0, "geometric step", NULL);
    expect_unknown("with_break", 0, "break in body", "n");
    expect_unknown("call_bound", 0, "function call", NULL);
    expect_unknown("float_iv", 0, "floating-point", NULL);
    expect_unknown("list_sum", 0, "pointer-chasing", NULL);
    expect_unknown("list_len", 0, "pointer-chasing", NULL);
    expect_unknown("data_bound", 0, "data-dependent", NULL);
    expect_unknown("and_cond", 0, "&&", "n");
    expect_unknown("while_conditional_update", 0, "updated conditionally", NULL);
    expect_unknown("while_geometric", 0, "geometric step", NULL);
    expect_unknown("forever", 0, "no loop condition", NULL);
    expect_unknown("sentinel", 0, "sentinel loop", NULL);
    /* the inner count is known, but it changes with the outer index: no total */
    json_t *l = loop_of(loops_json, "row_sums", 1);
    assert_string_equal(str(l, "trip"), "len");
    assert_null(json_object_get(l, "total_iterations"));
    assert_non_null(strstr(str(l, "total_unknown"), "len changes across iterations"));
}

static void loop_structure(void **state)
{
    (void)state;
    /* do { } while (0) is a statement macro, not a loop */
    assert_int_equal(count_in(loops_json, "loops", "not_a_loop"), 0);
    /* a loop written by a macro is at the line of the macro's use */
    json_t *m = loop_of(loops_json, "macro_loop", 0);
    assert_int_equal(json_integer_value(json_object_get(m, "line")), 263);
    assert_string_equal(str(m, "trip"), "n");
    json_t *k = loop_of(loops_json, "cube", 2);
    assert_int_equal(json_integer_value(json_object_get(k, "depth")), 3);
    assert_true(json_is_true(json_object_get(k, "innermost")));
    assert_false(json_is_true(json_object_get(loop_of(loops_json, "cube", 0), "innermost")));
    assert_int_equal(json_integer_value(json_object_get(k, "parent")),
                     json_integer_value(json_object_get(loop_of(loops_json, "cube", 1), "id")));
    /* the work of a function: iterations of its innermost bodies */
    json_t *funcs = json_object_get(loops_json, "functions");
    int found = 0;
    for (size_t i = 0; i < json_array_size(funcs); i++) {
        json_t *f = json_array_get(funcs, i);
        if (!strcmp(str(f, "name"), "cube")) {
            assert_string_equal(str(f, "work"), "n^3");
            found = 1;
        }
    }
    assert_true(found);
    assert_null(json_object_get(loop_of(loops_json, "cube", 2), "ir")); /* IR pass off */
}

static void matmul_sample(void **state)
{
    (void)state;
    json_t *s = analyze(PV_SOURCE_DIR "/samples/matmul.c", 0, NULL);
    for (int k = 0; k < 3; k++) {
        json_t *l = loop_of(s, "matmul", k);
        assert_string_equal(str(l, "trip"), "n");
        assert_int_equal(json_integer_value(json_object_get(l, "depth")), k + 1);
    }
    assert_string_equal(str(loop_of(s, "matmul", 2), "total_iterations"), "n^3");
    json_t *allocs = json_object_get(s, "allocations");
    int nmalloc = 0;
    for (size_t i = 0; i < json_array_size(allocs); i++) {
        json_t *a = json_array_get(allocs, i);
        if (!strcmp(str(a, "kind"), "malloc")) {
            assert_string_equal(str(a, "bytes"), "8*n^2");
            assert_string_equal(str(a, "function"), "main");
            nmalloc++;
        }
    }
    assert_int_equal(nmalloc, 3);
    assert_int_equal(json_array_size(json_object_get(s, "diagnostics")), 0);
    json_decref(s);
}

static void openmp_regions(void **state)
{
    (void)state;
    const char *args[] = {"-fopenmp"};
    json_t *s = analyze(DATA "omp.c", 1, args);
    json_t *par = json_object_get(s, "parallel");
    assert_int_equal(json_array_size(par), 3);
    json_t *d = json_array_get(par, 0);
    assert_string_equal(str(d, "kind"), "openmp");
    assert_string_equal(str(d, "directive"), "parallel for simd");
    assert_string_equal(str(d, "clauses"), "schedule(static) num_threads(4)");
    assert_string_equal(str(d, "threads"), "4");
    assert_string_equal(str(d, "function"), "saxpy");
    assert_int_equal(json_integer_value(json_object_get(d, "line")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "loop_line")), 5);
    assert_string_equal(str(d, "iterations"), "n");
    assert_string_equal(str(json_array_get(par, 1), "clauses"), "reduction(+:s)");
    assert_string_equal(str(json_array_get(par, 2), "directive"), "target teams distribute parallel for");
    /* the loops under the pragmas are seen, with their trip counts */
    assert_string_equal(str(loop_of(s, "dot", 0), "trip"), "n");
    assert_string_equal(str(loop_of(s, "saxpy", 0), "openmp"), "parallel for simd schedule(static) num_threads(4)");
    json_decref(s);
    /* without -fopenmp the compiler ignores the pragmas, and so do we */
    s = analyze(DATA "omp.c", 0, NULL);
    assert_int_equal(json_array_size(json_object_get(s, "parallel")), 0);
    json_decref(s);
}

static void pthreads_sample(void **state)
{
    (void)state;
    const char *args[] = {"-pthread"};
    json_t *s = analyze(PV_SOURCE_DIR "/samples/pthreads.c", 1, args);
    json_t *par = json_object_get(s, "parallel");
    assert_int_equal(json_array_size(par), 1);
    json_t *p = json_array_get(par, 0);
    assert_string_equal(str(p, "kind"), "pthread_create");
    assert_string_equal(str(p, "routine"), "integrate");
    assert_string_equal(str(p, "function"), "main");
    /* the creating loop returns on error: t threads at most */
    assert_string_equal(str(p, "threads_max"), "t");
    assert_string_equal(str(loop_of(s, "integrate", 0), "trip"), "w->last - w->first");
    json_decref(s);
}

static void errors_keep_the_rest(void **state)
{
    (void)state;
    json_t *s = analyze(DATA "broken.c", 0, NULL);
    assert_string_equal(str(loop_of(s, "good_before", 0), "trip"), "n");
    assert_string_equal(str(loop_of(s, "good_after", 0), "trip"), "ceil(m/4)");
    json_t *d = json_object_get(s, "diagnostics");
    int header = 0, syntax = 0;
    for (size_t i = 0; i < json_array_size(d); i++) {
        json_t *o = json_array_get(d, i);
        const char *f = str(o, "file");
        assert_non_null(strstr(f, "tests/analyzer/data/broken.c"));
        assert_null(strstr(f, "/../")); /* canonical path */
        assert_string_equal(str(o, "pass"), "ast");
        json_int_t line = json_integer_value(json_object_get(o, "line"));
        if (line == 3 && strstr(str(o, "message"), "no_such_header.h' file not found"))
            header = 1;
        if (line == 14 && strstr(str(o, "message"), "expected expression"))
            syntax = 1;
    }
    assert_true(header);
    assert_true(syntax);
    json_decref(s);
}

static void allocation_sites(void **state)
{
    (void)state;
    json_t *s = analyze(DATA "allocs.c", 0, NULL);
    static const struct {
        int line;
        const char *kind, *bytes;
    } want[] = {
        {16, "calloc", "8*n"}, {17, "wrapper", "4*m*n"}, {18, "malloc", "4*n + 4"},
        {19, "aligned_alloc", "1024*n"}, {20, "vla", "8*m*n"}, {21, "malloc", NULL}, {4, "static", "524288"},
    };
    json_t *allocs = json_object_get(s, "allocations");
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int found = 0;
        for (size_t i = 0; i < json_array_size(allocs); i++) {
            json_t *a = json_array_get(allocs, i);
            if (json_integer_value(json_object_get(a, "line")) != want[k].line || strcmp(str(a, "kind"), want[k].kind))
                continue;
            found = 1;
            if (want[k].bytes)
                assert_string_equal(str(a, "bytes"), want[k].bytes);
            else
                assert_non_null(strstr(str(a, "bytes_unknown"), "function call"));
        }
        if (!found)
            fail_msg("no %s allocation at line %d", want[k].kind, want[k].line);
    }
    json_t *w = NULL;
    for (size_t i = 0; i < json_array_size(allocs); i++)
        if (!strcmp(str(json_array_get(allocs, i), "kind"), "wrapper"))
            w = json_array_get(allocs, i);
    assert_string_equal(str(w, "callee"), "xmalloc");
    json_decref(s);
}

static json_t *func_rec(json_t *src, const char *fn)
{
    json_t *f = json_object_get(src, "functions");
    for (size_t i = 0; i < json_array_size(f); i++)
        if (!strcmp(str(json_array_get(f, i), "name"), fn))
            return json_array_get(f, i);
    fail_msg("no function record %s", fn);
    return NULL;
}

static int partial_has(const json_t *o, const char *key)
{
    const json_t *p = json_object_get(o, "partial");
    for (size_t i = 0; i < json_array_size(p); i++)
        if (!strcmp(json_string_value(json_array_get(p, i)), key))
            return 1;
    return 0;
}

/* Callees' work and heap bytes in the caller's parameters. */
static void calls_compose(void **state)
{
    (void)state;
    json_t *s = analyze(DATA "calls.c", 0, NULL);
    json_t *w = json_object_get(func_rec(s, "outer"), "with_callees");
    /* n for its own loop, the sum over i < n of i, and inner(2n) and inner(n) through twice(n, 2n) */
    assert_string_equal(str(w, "work"), "n^2/2 + 7*n/2"); /* its own loop: n more */
    assert_string_equal(str(w, "heap_bytes"), "8*n");
    assert_null(json_object_get(w, "partial"));
    /* arguments naming the other parameter are bound once: twice(m, n) runs inner(n) and inner(m) */
    assert_string_equal(str(json_object_get(func_rec(s, "twice"), "with_callees"), "work"), "m + n");
    /* a pointer argument renames the callee's member chains */
    assert_string_equal(str(json_object_get(func_rec(s, "through_pointer"), "with_callees"), "work"), "q->len");
    /* recursion and an argument read from memory: lower bounds */
    assert_true(partial_has(json_object_get(func_rec(s, "rec"), "with_callees"), "work"));
    assert_true(partial_has(json_object_get(func_rec(s, "unknown_arg"), "with_callees"), "work"));
    {
        json_t *p = json_object_get(func_rec(s, "twice"), "params");
        assert_int_equal(json_array_size(p), 3);
        assert_string_equal(json_string_value(json_array_get(p, 1)), "n");
    }
    json_decref(s);
}

static void bad_options(void **state)
{
    (void)state;
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    void *out = (void *)1;
    assert_int_equal(pv_source_analyze(&o, &out), PV_ERR_INVALID); /* neither file nor build_dir */
    o.file = DATA "no_such_file.c";
    assert_int_equal(pv_source_analyze(&o, &out), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "no_such_file.c"));
    o.build_dir = DATA;
    assert_int_equal(pv_source_analyze(&o, &out), PV_ERR_INVALID); /* both */
    o.file = NULL;
    o.version = 99;
    assert_int_equal(pv_source_analyze(&o, &out), PV_ERR_INVALID);
    assert_int_equal(pv_source_analyze(NULL, &out), PV_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest loops[] = {
        cmocka_unit_test(derived_trip_counts),
        cmocka_unit_test(trip_counts_match_brute_force),
        cmocka_unit_test(unknown_forms_say_why),
        cmocka_unit_test(loop_structure),
    };
    const struct CMUnitTest others[] = {
        cmocka_unit_test(matmul_sample),   cmocka_unit_test(openmp_regions),   cmocka_unit_test(pthreads_sample),
        cmocka_unit_test(errors_keep_the_rest), cmocka_unit_test(allocation_sites), cmocka_unit_test(calls_compose), cmocka_unit_test(bad_options),
    };
    int rc = cmocka_run_group_tests_name("loop forms", loops, setup_loops, teardown_loops);
    return rc | cmocka_run_group_tests_name("samples and inputs", others, NULL, NULL);
}
