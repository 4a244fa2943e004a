/* Merging source facts into a static profile, and the human report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_internal.h"

static int same_base(const char *a, const char *b)
{
    return a && b && !strcmp(pv_source_basename(a), pv_source_basename(b));
}

int pv_source_merge(pv_profile *p, const void *source)
{
    const json_t *s = source;
    if (!p || !json_is_object(s) || !json_is_array(json_object_get(s, "loops")))
        return pv_error_set(PV_ERR_INVALID, "pv_source_merge: not a source section (an object with a 'loops' array)");
    json_t *copy = json_deep_copy(s);
    json_t *unmatched = json_array();
    if (!copy || !unmatched) {
        json_decref(copy);
        json_decref(unmatched);
        return pv_error_set(PV_ERR_NOMEM, "pv_source_merge: out of memory");
    }
    json_t *loops = json_object_get(copy, "loops");
    size_t nl = json_array_size(loops);
    /* binary loops to source loops: innermost source loop whose line range holds the binary loop's line */
    for (uint32_t b = 0; b < p->nloops; b++) {
        pv_loop *bl = &p->loops[b];
        const char *bf = pv_profile_file(p, bl->loc);
        long best = -1;
        json_int_t bestdepth = -1;
        for (size_t i = 0; bf && bl->loc.line && i < nl; i++) {
            json_t *l = json_array_get(loops, i);
            json_int_t line = json_integer_value(json_object_get(l, "line"));
            json_int_t end = json_integer_value(json_object_get(l, "end_line"));
            json_int_t depth = json_integer_value(json_object_get(l, "depth"));
            if (!same_base(bf, json_string_value(json_object_get(l, "file"))))
                continue;
            if (line <= bl->loc.line && bl->loc.line <= end && depth > bestdepth) {
                best = (long)i;
                bestdepth = depth;
            }
        }
        if (best < 0) {
            json_t *o = json_object();
            json_object_set_new(o, "loop", json_integer(b));
            if (bf)
                json_object_set_new(o, "file", json_string(bf));
            json_object_set_new(o, "line", json_integer(bl->loc.line));
            json_array_append_new(unmatched, o);
            continue;
        }
        json_t *l = json_array_get(loops, (size_t)best);
        json_t *bls = json_object_get(l, "binary_loops");
        if (!bls) {
            bls = json_array();
            json_object_set_new(l, "binary_loops", bls);
        }
        json_array_append_new(bls, json_integer(b));
        const char *trip = json_string_value(json_object_get(l, "trip"));
        if (trip) {
            char *t = strdup(trip);
            if (!t) {
                json_decref(copy);
                json_decref(unmatched);
                return pv_error_set(PV_ERR_NOMEM, "pv_source_merge: out of memory");
            }
            free(bl->trip_expr);
            bl->trip_expr = t;
            json_t *tc = json_object_get(l, "trip_count");
            if (tc && bl->trip_count < 0)
                bl->trip_count = json_integer_value(tc);
        }
    }
    /* source loops of files the binary has line info for, with no binary loop */
    for (size_t i = 0; i < nl; i++) {
        json_t *l = json_array_get(loops, i);
        const char *f = json_string_value(json_object_get(l, "file"));
        int known_file = 0;
        for (uint32_t k = 0; k < p->nfiles && !known_file; k++)
            known_file = same_base(p->files[k], f);
        if (known_file)
            json_object_set_new(l, "matched", json_boolean(json_object_get(l, "binary_loops") != NULL));
    }
    json_object_set_new(copy, "unmatched_binary_loops", unmatched);
    json_decref(p->source);
    p->source = copy;
    return PV_OK;
}

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int err;
} sbuf;

static void sb(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb(sbuf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *t = NULL;
    int n = vasprintf(&t, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = 1;
        return;
    }
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            free(t);
            b->err = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, t, (size_t)n + 1);
    b->len += (size_t)n;
    free(t);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(const json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

static void ir_line(sbuf *b, const json_t *ir, int indent)
{
    const json_t *c = json_object_get(ir, "counts");
    const json_t *fp = json_object_get(c, "fp");
    sb(b, "%*sIR (%s): ", indent, "", str(ir, "function"));
    const char *prec;
    json_t *v;
    int any = 0;
    json_object_foreach((json_t *)fp, prec, v)
    {
        const char *op;
        json_t *x;
        json_object_foreach(v, op, x)
        {
            sb(b, "%s%lld %s.%s", any ? ", " : "", (long long)json_integer_value(x), op, prec);
            any = 1;
        }
    }
    sb(b, "%s%lld int, %lld loads (%lld B), %lld stores (%lld B)", any ? ", " : "", num(c, "int_ops"), num(c, "loads"),
       num(c, "load_bytes"), num(c, "stores"), num(c, "store_bytes"));
    const json_t *vec = json_object_get(c, "vector_ops");
    const char *w;
    json_object_foreach((json_t *)vec, w, v) sb(b, ", %lld %s-bit vector ops", (long long)json_integer_value(v), w);
    if (num(c, "calls"))
        sb(b, ", %lld calls", num(c, "calls"));
    json_t *ai = json_object_get(c, "intensity");
    if (ai && json_real_value(ai) > 0)
        sb(b, "; %.3g flop/B", json_real_value(ai));
    json_int_t per = json_integer_value(json_object_get(ir, "source_iterations"));
    if (per > 1)
        sb(b, " per IR iteration (= %lld source iterations: unrolled or vectorized)\n", (long long)per);
    else
        sb(b, " per iteration\n");
}

int pv_source_report(const void *source, char **out)
{
    const json_t *s = source;
    if (!json_is_object(s) || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_source_report: not a source section");
    sbuf b = {0};
    const json_t *loops = json_object_get(s, "loops"), *allocs = json_object_get(s, "allocations"),
                 *funcs = json_object_get(s, "functions"), *par = json_object_get(s, "parallel"),
                 *calls = json_object_get(s, "calls"), *diags = json_object_get(s, "diagnostics");
    size_t nf = json_array_size(funcs);
    for (size_t fi = 0; fi < nf; fi++) {
        const json_t *f = json_array_get(funcs, fi);
        const char *fname = str(f, "name"), *file = str(f, "file");
        sb(&b, "%s:%lld: %s\n", pv_source_basename(file), num(f, "line"), fname);
        for (size_t i = 0; i < json_array_size(loops); i++) {
            const json_t *l = json_array_get(loops, i);
            if (strcmp(str(l, "function"), fname) || strcmp(str(l, "file"), file))
                continue;
            int ind = 2 * (int)num(l, "depth");
            sb(&b, "%*sloop %s line %lld-%lld", ind, "", str(l, "kind"), num(l, "line"), num(l, "end_line"));
            if (json_object_get(l, "var"))
                sb(&b, " (%s)", str(l, "var"));
            if (json_object_get(l, "trip"))
                sb(&b, ": trip %s", str(l, "trip"));
            else {
                sb(&b, ": trip unknown (%s)", str(l, "trip_unknown"));
                if (json_object_get(l, "trip_max"))
                    sb(&b, ", at most %s", str(l, "trip_max"));
            }
            if (json_object_get(l, "total_iterations") && num(l, "depth") > 1)
                sb(&b, "; %s%s iterations in all", json_is_true(json_object_get(l, "total_approx")) ? "about " : "",
                   str(l, "total_iterations"));
            if (json_object_get(l, "binary_loops"))
                sb(&b, " [binary loop%s", json_array_size(json_object_get(l, "binary_loops")) > 1 ? "s" : "");
            for (size_t k = 0; k < json_array_size(json_object_get(l, "binary_loops")); k++)
                sb(&b, " #%lld", (long long)json_integer_value(json_array_get(json_object_get(l, "binary_loops"), k)));
            if (json_object_get(l, "binary_loops"))
                sb(&b, "]");
            if (json_is_false(json_object_get(l, "matched")))
                sb(&b, " [no binary loop]");
            sb(&b, "\n");
            const json_t *ir = json_object_get(l, "ir");
            if (json_array_size(ir)) {
                ir_line(&b, json_array_get(ir, 0), ind + 2);
                if (json_array_size(ir) > 1)
                    sb(&b, "%*s(%zu IR copies: inlined, vectorized or remainder loops)\n", ind + 2, "", json_array_size(ir));
            }
        }
        if (json_object_get(f, "work"))
            sb(&b, "  work: %s%s iterations of innermost loop bodies\n",
               json_is_true(json_object_get(f, "work_approx")) ? "about " : "", str(f, "work"));
        else if (json_object_get(f, "work_partial"))
            sb(&b, "  work: at least %s iterations (some trip counts unknown)\n", str(f, "work_partial"));
        if (json_object_get(f, "flops"))
            sb(&b, "  flops: %s (from the IR counts per iteration)\n", str(f, "flops"));
        for (size_t i = 0; i < json_array_size(allocs); i++) {
            const json_t *a = json_array_get(allocs, i);
            if (strcmp(str(a, "function"), fname) || strcmp(str(a, "file"), file))
                continue;
            sb(&b, "  allocation line %lld, %s%s%s: ", num(a, "line"), str(a, "kind"), json_object_get(a, "callee") ? " " : "",
               str(a, "callee"));
            if (json_object_get(a, "bytes"))
                sb(&b, "%s bytes", str(a, "bytes"));
            else
                sb(&b, "size unknown (%s)", str(a, "bytes_unknown"));
            if (json_object_get(a, "loop_line"))
                sb(&b, ", in the loop at line %lld%s%s%s", num(a, "loop_line"), json_object_get(a, "count") ? " (" : "",
                   str(a, "count"), json_object_get(a, "count") ? " times)" : "");
            sb(&b, "\n");
        }
        for (size_t i = 0; i < json_array_size(par); i++) {
            const json_t *o = json_array_get(par, i);
            if (strcmp(str(o, "function"), fname) || strcmp(str(o, "file"), file))
                continue;
            if (!strcmp(str(o, "kind"), "openmp"))
                sb(&b, "  parallel: #pragma omp %s (line %lld)\n", str(o, "pragma"), num(o, "line"));
            else if (json_object_get(o, "threads"))
                sb(&b, "  parallel: pthread_create(%s) line %lld, %s threads\n", str(o, "routine"), num(o, "line"),
                   str(o, "threads"));
            else if (json_object_get(o, "threads_max"))
                sb(&b, "  parallel: pthread_create(%s) line %lld, up to %s threads\n", str(o, "routine"), num(o, "line"),
                   str(o, "threads_max"));
            else
                sb(&b, "  parallel: pthread_create(%s) line %lld\n", str(o, "routine"), num(o, "line"));
        }
        for (size_t i = 0; i < json_array_size(calls); i++) {
            const json_t *o = json_array_get(calls, i);
            if (strcmp(str(o, "function"), fname) || strcmp(str(o, "file"), file))
                continue;
            sb(&b, "  call %s (%s) line %lld\n", str(o, "callee"), str(o, "group"), num(o, "line"));
        }
    }
    /* file-scope allocations (static arrays) */
    for (size_t i = 0; i < json_array_size(allocs); i++) {
        const json_t *a = json_array_get(allocs, i);
        if (!json_object_get(a, "function"))
            sb(&b, "%s:%lld: %s array %s: %s bytes\n", pv_source_basename(str(a, "file")), num(a, "line"), str(a, "kind"),
               str(a, "callee"), str(a, "bytes"));
    }
    for (size_t i = 0; i < json_array_size(diags); i++) {
        const json_t *d = json_array_get(diags, i);
        sb(&b, "%s:%lld: %s (%s pass): %s\n", str(d, "file"), num(d, "line"), str(d, "severity"), str(d, "pass"),
           str(d, "message"));
    }
    const json_t *ub = json_object_get(s, "unmatched_binary_loops");
    if (json_array_size(ub))
        sb(&b, "%zu binary loop(s) with no source loop (library code, or no line information)\n", json_array_size(ub));
    size_t ntrip = 0;
    for (size_t i = 0; i < json_array_size(loops); i++)
        ntrip += json_object_get(json_array_get(loops, i), "trip") != NULL;
    sb(&b, "%zu loops (%zu with a trip count), %zu allocations, %zu parallel constructs, %zu library calls, %zu diagnostics\n",
       json_array_size(loops), ntrip, json_array_size(allocs), json_array_size(par), json_array_size(calls),
       json_array_size(diags));
    if (b.err) {
        free(b.s);
        return pv_error_set(PV_ERR_NOMEM, "pv_source_report: out of memory");
    }
    *out = b.s;
    return PV_OK;
}
