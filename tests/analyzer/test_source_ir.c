/* Tests for analyzer/source_ir.c (through pv_source_analyze with the IR
 * pass): operation counts per loop of small kernels, per source iteration
 * whether or not clang vectorized or unrolled them, the arithmetic
 * intensity derived from them, per-function totals, and failures. */
#include <jansson.h>
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
    o.threads = 1;
    void *out = NULL;
    int rc = pv_source_analyze(&o, &out);
    if (rc)
        fail_msg("pv_source_analyze(%s): %s", path, pv_error_last());
    return out;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static json_int_t num(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

static json_t *loop_of(json_t *src, const char *fn)
{
    json_t *loops = json_object_get(src, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++) {
        json_t *l = json_array_get(loops, i);
        if (str(l, "function") && !strcmp(str(l, "function"), fn))
            return l;
    }
    fail_msg("no loop in %s", fn);
    return NULL;
}

static json_t *function_of(json_t *src, const char *fn)
{
    json_t *f = json_object_get(src, "functions");
    for (size_t i = 0; i < json_array_size(f); i++)
        if (!strcmp(str(json_array_get(f, i), "name"), fn))
            return json_array_get(f, i);
    fail_msg("no function %s", fn);
    return NULL;
}

/* Value of an fp count (f64.fma ...) in one IR record, 0 when absent. */
static json_int_t fp(const json_t *ir, const char *prec, const char *op)
{
    return json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(ir, "counts"), "fp"), prec), op));
}

/* Scalar code (vectorizer and unroller off, as the TU's own flags): exactly
 * one IR loop per kernel with the operations the source says. */
static void scalar_kernels(void **state)
{
    (void)state;
    const char *args[] = {"-fno-vectorize", "-fno-slp-vectorize", "-fno-unroll-loops", "-fno-math-errno"};
    json_t *s = analyze(DATA "kernels.c", 4, args);
    json_t *l = loop_of(s, "daxpy");
    json_t *irs = json_object_get(l, "ir");
    assert_int_equal(json_array_size(irs), 1);
    json_t *ir = json_array_get(irs, 0);
    json_t *c = json_object_get(ir, "counts");
    assert_string_equal(str(ir, "function"), "daxpy");
    assert_int_equal(num(ir, "source_iterations"), 1);
    /* y[i] = a*x[i] + y[i]: one multiply-add (contracted to llvm.fmuladd), 16 bytes in, 8 out */
    assert_int_equal(fp(ir, "f64", "fma"), 1);
    assert_int_equal(fp(ir, "f64", "add") + fp(ir, "f64", "mul"), 0);
    assert_int_equal(num(c, "loads"), 2);
    assert_int_equal(num(c, "load_bytes"), 16);
    assert_int_equal(num(c, "stores"), 1);
    assert_int_equal(num(c, "store_bytes"), 8);
    assert_float_equal(json_real_value(json_object_get(c, "flops")), 2, 0);
    assert_float_equal(json_real_value(json_object_get(c, "intensity")), 2.0 / 24, 1e-12);
    assert_int_equal(json_object_size(json_object_get(c, "vector_ops")), 0);
    /* single precision, division and square root */
    ir = json_array_get(json_object_get(loop_of(s, "scale_sqrt"), "ir"), 0);
    assert_int_equal(fp(ir, "f32", "sqrt"), 1);
    assert_int_equal(fp(ir, "f32", "div"), 1);
    assert_null(json_object_get(json_object_get(json_object_get(ir, "counts"), "fp"), "f64"));
    assert_int_equal(num(json_object_get(ir, "counts"), "load_bytes"), 4);
    /* integer work only */
    ir = json_array_get(json_object_get(loop_of(s, "isum"), "ir"), 0);
    c = json_object_get(ir, "counts");
    assert_int_equal(json_object_size(json_object_get(c, "fp")), 0);
    assert_true(num(c, "int_ops") >= 2);
    assert_int_equal(num(c, "load_bytes"), 4);
    assert_float_equal(json_real_value(json_object_get(c, "intensity")), 0, 0); /* no flops per byte */
    /* per call of daxpy: n iterations of 2 flops and 24 bytes */
    json_t *f = function_of(s, "daxpy");
    assert_string_equal(str(f, "flops"), "2*n");
    assert_string_equal(str(f, "fma"), "n");
    assert_string_equal(str(f, "bytes_loaded"), "16*n");
    assert_string_equal(str(f, "bytes_stored"), "8*n");
    assert_float_equal(json_real_value(json_object_get(f, "intensity")), 2.0 / 24, 1e-12);
    json_decref(s);
}

/* At plain -O2 clang vectorizes and interleaves: every IR copy (vector body,
 * remainder) still does the same work per source iteration. */
static void vectorized_kernels(void **state)
{
    (void)state;
    const char *args[] = {"-fno-math-errno"};
    json_t *s = analyze(DATA "kernels.c", 1, args);
    json_t *irs = json_object_get(loop_of(s, "daxpy"), "ir");
    assert_true(json_array_size(irs) >= 1);
    int vector = 0;
    for (size_t i = 0; i < json_array_size(irs); i++) {
        json_t *ir = json_array_get(irs, i);
        json_t *c = json_object_get(ir, "counts");
        json_int_t per = num(ir, "source_iterations");
        assert_true(per >= 1);
        vector |= per > 1 && json_object_size(json_object_get(c, "vector_ops")) > 0;
        assert_int_equal(fp(ir, "f64", "fma"), per);
        assert_int_equal(num(c, "load_bytes"), 16 * per);
        assert_int_equal(num(c, "store_bytes"), 8 * per);
    }
    assert_true(vector); /* SSE2 is the x86-64 baseline: the vectorizer does run */
    assert_string_equal(str(function_of(s, "daxpy"), "flops"), "2*n");
    json_decref(s);
}

/* The matrix multiply: n^3 multiply-adds, 16 bytes read per inner iteration. */
static void matmul_totals(void **state)
{
    (void)state;
    json_t *s = analyze(PV_SOURCE_DIR "/samples/matmul.c", 0, NULL);
    json_t *f = function_of(s, "matmul");
    assert_string_equal(str(f, "work"), "n^3");
    assert_string_equal(str(f, "fma"), "n^3");
    assert_string_equal(str(f, "flops"), "2*n^3");
    assert_string_equal(str(f, "bytes_loaded"), "16*n^3");
    assert_float_equal(json_real_value(json_object_get(f, "intensity")), 0.125, 1e-12);
    /* the program: main with matmul(n, ...) composed in */
    json_t *w = json_object_get(function_of(s, "main"), "with_callees");
    assert_string_equal(str(w, "work"), "n^3 + n^2 + n");
    assert_string_equal(str(w, "fma"), "n^3");
    assert_string_equal(str(w, "heap_bytes"), "24*n^2");
    assert_null(json_object_get(w, "partial"));
    /* the inner loop's IR (inlined into main) is attached to the source loop */
    json_t *inner = NULL, *loops = json_object_get(s, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++) {
        json_t *l = json_array_get(loops, i);
        if (!strcmp(str(l, "function"), "matmul") && num(l, "depth") == 3)
            inner = l;
    }
    assert_non_null(inner);
    assert_true(json_array_size(json_object_get(inner, "ir")) >= 1);
    assert_true(json_is_true(json_object_get(s, "ir_pass")));
    json_decref(s);
}

/* OpenMP: the outlined body's IR loop (which carries the pragma's line) goes to the source loop. */
static void openmp_outlined(void **state)
{
    (void)state;
    const char *args[] = {"-fopenmp"};
    json_t *s = analyze(DATA "omp.c", 1, args);
    json_t *ir = json_object_get(loop_of(s, "dot"), "ir");
    assert_true(json_array_size(ir) >= 1);
    assert_non_null(strstr(str(json_array_get(ir, 0), "function"), "omp_outlined"));
    assert_string_equal(str(function_of(s, "dot"), "flops"), "2*n");
    json_decref(s);
}

/* A TU clang cannot compile: a diagnostic of the IR pass with file:line, the AST facts kept. */
static void compile_failure_is_a_diagnostic(void **state)
{
    (void)state;
    json_t *s = analyze(DATA "broken.c", 0, NULL);
    json_t *d = json_object_get(s, "diagnostics");
    int found = 0;
    for (size_t i = 0; i < json_array_size(d); i++) {
        json_t *o = json_array_get(d, i);
        if (!strcmp(str(o, "pass"), "ir")) {
            found = 1;
            assert_int_equal(num(o, "line"), 3);
            assert_non_null(strstr(str(o, "file"), "broken.c"));
            assert_non_null(strstr(str(o, "message"), "no_such_header.h"));
        }
    }
    assert_true(found);
    assert_string_equal(str(loop_of(s, "good_before"), "trip"), "n");
    json_decref(s);
}

static void missing_compiler(void **state)
{
    (void)state;
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.file = DATA "kernels.c";
    o.clang = "/nonexistent/clang-19";
    void *out = NULL;
    assert_int_equal(pv_source_analyze(&o, &out), PV_ERR_NOTFOUND);
    assert_null(out);
    assert_non_null(strstr(pv_error_last(), "/nonexistent/clang-19"));
    assert_non_null(strstr(pv_error_last(), "--no-ir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalar_kernels),       cmocka_unit_test(vectorized_kernels),
        cmocka_unit_test(matmul_totals),        cmocka_unit_test(openmp_outlined),
        cmocka_unit_test(compile_failure_is_a_diagnostic), cmocka_unit_test(missing_compiler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
