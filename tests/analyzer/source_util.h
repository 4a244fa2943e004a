/* Helpers shared by the source analyzer's tests (test_source_*.c): run
 * pv_source_analyze on one file and find records in its JSON output.
 * Header-only (static functions); include after <cmocka.h>. */
#ifndef PV_TEST_SOURCE_UTIL_H
#define PV_TEST_SOURCE_UTIL_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "prevision/prevision.h"

static inline const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static inline json_int_t num(const json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* Parameter values for pv_expr_eval / pv_poly_eval: n, m, i, w->last. */
typedef struct vals {
    double n, m, i, last;
} vals;

/* A pv_expr_lookup_fn over a vals (@p ud); PV_ERR_NOTFOUND for other names. */
static inline int lookup(void *ud, const char *name, double *v)
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

/* The source section of @p path compiled with @p args, one thread, with the
 * IR pass when @p ir; fails the test on error. json_decref() it. */
static inline json_t *analyze_file(const char *path, int nargs, const char *const *args, int ir)
{
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.file = path;
    o.nargs = nargs;
    o.args = args;
    o.ir = ir;
    o.threads = 1;
    void *out = NULL;
    int rc = pv_source_analyze(&o, &out);
    if (rc)
        fail_msg("pv_source_analyze(%s): %s", path, pv_error_last());
    assert_non_null(out);
    return out;
}

/* The @p nth loop (0-based, in source order) of function @p fn; fails the test when there is none. */
static inline json_t *loop_of(json_t *src, const char *fn, int nth)
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

/* The record of function @p fn in "functions"; fails the test when there is none. */
static inline json_t *function_of(json_t *src, const char *fn)
{
    json_t *f = json_object_get(src, "functions");
    for (size_t i = 0; i < json_array_size(f); i++)
        if (!strcmp(str(json_array_get(f, i), "name"), fn))
            return json_array_get(f, i);
    fail_msg("no function record %s", fn);
    return NULL;
}

/* An empty static profile of an x86-64 PIE at @p target_path, to fill by hand. */
static inline pv_profile *new_profile(const char *target_path)
{
    pv_profile *p;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->generator = strdup("prevision test");
    p->uarch = strdup("zen4");
    p->target.path = strdup(target_path);
    p->target.arch = strdup("x86_64");
    p->target.kind = strdup("pie");
    return p;
}

#endif
