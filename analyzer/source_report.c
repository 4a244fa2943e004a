/* Merging source facts into a static profile, and the human report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_internal.h"

/* A source loop, flattened for matching. */
typedef struct sloop {
    json_t *obj;
    const char *file;
    json_int_t line, end, depth;
    unsigned copies;
} sloop;

/* The innermost source loop whose line range holds @p line of @p file;
 * among equals, the one whose path matches best. -1 when none. */
static long innermost_at(const sloop *sl, size_t n, const char *file, uint32_t line)
{
    long best = -1;
    int best_pm = 0;
    for (size_t i = 0; i < n; i++) {
        if (sl[i].line > line || line > sl[i].end)
            continue;
        int pm = pva_source_path_match(file, sl[i].file);
        if (!pm)
            continue;
        if (best < 0 || sl[i].depth > sl[best].depth || (sl[i].depth == sl[best].depth && pm > best_pm)) {
            best = (long)i;
            best_pm = pm;
        }
    }
    return best;
}

int pv_source_merge(pv_profile *p, const void *source)
{
    const json_t *s = source;
    if (!p || !json_is_object(s) || !json_is_array(json_object_get(s, "loops")))
        return pv_error_set(PV_ERR_INVALID, "pv_source_merge: not a source section (an object with a 'loops' array)");
    int rc = PV_OK;
    json_t *copy = json_deep_copy(s);
    json_t *unmatched = json_array(), *map = json_array();
    json_t *loops = copy ? json_object_get(copy, "loops") : NULL;
    size_t nl = json_array_size(loops);
    sloop *sl = calloc(nl ? nl : 1, sizeof *sl);
    long *match = calloc(p->nloops ? p->nloops : 1, sizeof *match);
    const char **how = calloc(p->nloops ? p->nloops : 1, sizeof *how);
    if (!copy || !unmatched || !map || !sl || !match || !how) {
        rc = pv_error_set(PV_ERR_NOMEM, "pv_source_merge: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nl; i++) {
        json_t *l = json_array_get(loops, i);
        sl[i] = (sloop){l, json_string_value(json_object_get(l, "file")), json_integer_value(json_object_get(l, "line")),
                        json_integer_value(json_object_get(l, "end_line")), json_integer_value(json_object_get(l, "depth")), 0};
        json_object_del(l, "binary_loops");
        json_object_del(l, "matched");
    }
    /* Each binary loop to the innermost source loop holding its header's
     * line; when the header's line is in none (a rotated or vectorized loop
     * whose header carries a guard's line), by a vote of its blocks' lines. */
    for (uint32_t b = 0; b < p->nloops; b++) {
        const pv_loop *bl = &p->loops[b];
        match[b] = -1;
        const char *bf = pv_profile_file(p, bl->loc);
        if (bf && bl->loc.line && (match[b] = innermost_at(sl, nl, bf, bl->loc.line)) >= 0) {
            how[b] = "header line";
            continue;
        }
        long best = -1;
        unsigned best_votes = 0;
        for (uint32_t k = 0; k < bl->nblocks && k < 64; k++) {
            if (bl->blocks[k] >= p->nblocks)
                continue;
            const pv_block *blk = &p->blocks[bl->blocks[k]];
            long c = blk->loc.line ? innermost_at(sl, nl, pv_profile_file(p, blk->loc), blk->loc.line) : -1;
            if (c < 0)
                continue;
            unsigned votes = 0;
            for (uint32_t j = 0; j < bl->nblocks && j < 64; j++) {
                const pv_block *o = bl->blocks[j] < p->nblocks ? &p->blocks[bl->blocks[j]] : NULL;
                votes += o && o->loc.line && innermost_at(sl, nl, pv_profile_file(p, o->loc), o->loc.line) == c;
            }
            if (votes > best_votes || (votes == best_votes && best >= 0 && sl[c].depth > sl[best].depth)) {
                best = c;
                best_votes = votes;
            }
        }
        if ((match[b] = best) >= 0)
            how[b] = "block lines";
    }
    for (uint32_t b = 0; b < p->nloops; b++)
        if (match[b] >= 0)
            sl[match[b]].copies++;
    for (uint32_t b = 0; b < p->nloops && !rc; b++) {
        pv_loop *bl = &p->loops[b];
        const char *bf = pv_profile_file(p, bl->loc);
        const char *fn = bl->func < p->nfunctions ? p->functions[bl->func].name : NULL;
        json_t *e = json_object();
        if (!e || json_array_append_new(map, e)) {
            rc = pv_error_set(PV_ERR_NOMEM, "pv_source_merge: out of memory");
            break;
        }
        json_object_set_new(e, "loop", json_integer(b));
        if (fn)
            json_object_set_new(e, "function", json_string(fn));
        if (bf)
            json_object_set_new(e, "file", json_string(bf));
        json_object_set_new(e, "line", json_integer(bl->loc.line));
        if (match[b] < 0) {
            json_object_set_new(e, "source_loop", json_null());
            json_array_append(unmatched, e);
            continue;
        }
        sloop *x = &sl[match[b]];
        json_t *l = x->obj;
        json_object_set(e, "source_loop", json_object_get(l, "id"));
        json_object_set_new(e, "match", json_string(how[b]));
        /* one source loop, several binary loops: vectorized body and remainder, unrolled or inlined copies */
        json_object_set_new(e, "copies", json_integer(x->copies));
        json_t *bls = json_object_get(l, "binary_loops");
        if (!bls) {
            bls = json_array();
            json_object_set_new(l, "binary_loops", bls);
        }
        json_array_append_new(bls, json_integer(b));
        const char *trip = json_string_value(json_object_get(l, "trip"));
        if (trip) {
            json_object_set_new(e, "trip", json_string(trip));
            char *t = strdup(trip);
            if (!t) {
                rc = pv_error_set(PV_ERR_NOMEM, "pv_source_merge: out of memory");
                break;
            }
            free(bl->trip_expr);
            bl->trip_expr = t;
            json_t *tc = json_object_get(l, "trip_count");
            if (tc && bl->trip_count < 0 && x->copies == 1)
                bl->trip_count = json_integer_value(tc);
        }
        json_t *omp = json_object_get(l, "openmp");
        if (omp)
            json_object_set(e, "openmp", omp);
    }
    if (rc)
        goto done;
    /* source loops of files the binary has line information for, with no binary loop */
    for (size_t i = 0; i < nl; i++) {
        int known_file = 0;
        for (uint32_t k = 0; k < p->nfiles && !known_file; k++)
            known_file = pva_source_path_match(p->files[k], sl[i].file) > 0;
        if (known_file)
            json_object_set_new(sl[i].obj, "matched", json_boolean(sl[i].copies > 0));
    }
    /* functions and allocation sites to the binary's functions by name (static ones may be inlined away) */
    static const char *const named[] = {"functions", "allocations", "parallel", "calls"};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        json_t *arr = json_object_get(copy, named[k]);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *o = json_array_get(arr, i);
            const char *fn = json_string_value(json_object_get(o, k == 0 ? "name" : "function"));
            json_object_del(o, "binary_function");
            for (uint32_t f = 0; fn && f < p->nfunctions; f++)
                if (p->functions[f].name && !strcmp(p->functions[f].name, fn) && !(p->functions[f].flags & PV_FUNC_PLT)) {
                    json_object_set_new(o, "binary_function", json_integer(f));
                    break;
                }
        }
    }
    json_object_set_new(copy, "binary_loop_map", map);
    map = NULL;
    json_object_set_new(copy, "unmatched_binary_loops", unmatched);
    unmatched = NULL;
    json_decref(p->source);
    p->source = copy;
    copy = NULL;
done:
    json_decref(copy);
    json_decref(unmatched);
    json_decref(map);
    free(sl);
    free(match);
    free((void *)how);
    return rc;
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

/* A count per source iteration: integers plainly, fractions with two decimals. */
static void per_iter(sbuf *b, double v)
{
    if (v == (double)(long long)v)
        sb(b, "%lld", (long long)v);
    else
        sb(b, "%.2f", v);
}

/* One IR record, as operations per source iteration. */
static void ir_line(sbuf *b, const json_t *ir, int indent, size_t ncopies)
{
    const json_t *c = json_object_get(ir, "counts");
    const json_t *fp = json_object_get(c, "fp");
    json_int_t per = json_integer_value(json_object_get(ir, "source_iterations"));
    double d = per > 0 ? (double)per : 1;
    sb(b, "%*sIR per iteration: ", indent, "");
    const char *prec;
    json_t *v;
    int any = 0;
    json_object_foreach((json_t *)fp, prec, v)
    {
        const char *op;
        json_t *x;
        json_object_foreach(v, op, x)
        {
            sb(b, "%s", any ? ", " : "");
            per_iter(b, (double)json_integer_value(x) / d);
            sb(b, " %s.%s", op, prec);
            any = 1;
        }
    }
    sb(b, "%s", any ? ", " : "");
    per_iter(b, (double)num(c, "int_ops") / d);
    sb(b, " int, ");
    per_iter(b, (double)num(c, "load_bytes") / d);
    sb(b, " B loaded, ");
    per_iter(b, (double)num(c, "store_bytes") / d);
    sb(b, " B stored");
    if (num(c, "calls")) {
        sb(b, ", ");
        per_iter(b, (double)num(c, "calls") / d);
        sb(b, " calls");
    }
    json_t *ai = json_object_get(c, "intensity");
    if (ai && json_real_value(ai) > 0)
        sb(b, "; %.3g flop/B", json_real_value(ai));
    const json_t *vec = json_object_get(c, "vector_ops");
    if (json_object_size((json_t *)vec)) {
        const char *w;
        sb(b, " (vector ops:");
        json_object_foreach((json_t *)vec, w, v) sb(b, " %lld x %s-bit", (long long)json_integer_value(v), w);
        sb(b, " per IR iteration)");
    }
    if (per > 1)
        sb(b, "; unrolled or vectorized by %lld", (long long)per);
    if (ncopies > 1)
        sb(b, "; %zu IR copies (vector body, remainder, inlined)", ncopies);
    sb(b, "\n");
}

static void loop_lines(sbuf *b, const json_t *l)
{
    int ind = 2 * (int)num(l, "depth");
    sb(b, "%*s%s loop, lines %lld-%lld", ind, "", str(l, "kind"), num(l, "line"), num(l, "end_line"));
    if (json_object_get(l, "var"))
        sb(b, ", %s", str(l, "var"));
    if (json_object_get(l, "trip")) {
        sb(b, ": trip %s", str(l, "trip"));
        if (json_object_get(l, "total_iterations") && num(l, "depth") > 1)
            sb(b, " (%s%s in all)", json_is_true(json_object_get(l, "total_approx")) ? "about " : "",
               str(l, "total_iterations"));
        else if (json_object_get(l, "total_unknown") && num(l, "depth") > 1)
            sb(b, " (total unknown: %s)", str(l, "total_unknown"));
    } else {
        sb(b, ": trip unknown, %s", str(l, "trip_unknown"));
        if (json_object_get(l, "trip_max"))
            sb(b, " (at most %s)", str(l, "trip_max"));
    }
    if (json_object_get(l, "openmp"))
        sb(b, " [omp %s]", str(l, "openmp"));
    const json_t *bl = json_object_get(l, "binary_loops");
    if (json_array_size(bl)) {
        sb(b, " [binary loop%s", json_array_size(bl) > 1 ? "s" : "");
        for (size_t k = 0; k < json_array_size(bl); k++)
            sb(b, " #%lld", (long long)json_integer_value(json_array_get(bl, k)));
        sb(b, "]");
    }
    if (json_is_false(json_object_get(l, "matched")))
        sb(b, " [no binary loop: unrolled away, inlined elsewhere or not built]");
    sb(b, "\n");
    const json_t *ir = json_object_get(l, "ir");
    if (json_array_size(ir)) {
        /* the copy the totals use: own function first, most source iterations per IR iteration */
        const json_t *pick = NULL;
        int own_best = -1;
        json_int_t per_best = 0;
        for (size_t k = 0; k < json_array_size(ir); k++) {
            const json_t *o = json_array_get(ir, k);
            int own = !strcmp(str(o, "function"), str(l, "function"));
            json_int_t per = num(o, "source_iterations");
            if (own > own_best || (own == own_best && per > per_best)) {
                pick = o;
                own_best = own;
                per_best = per;
            }
        }
        ir_line(b, pick, ind + 2, json_array_size(ir));
    }
}

/* An approximate expression reads better with decimal coefficients:
 * `1068*n/97 + 1018/97` as `11.01*n + 10.49`. Works on pv_poly_str()'s
 * output: terms joined by " + " / " - ", each an optional integer
 * coefficient, factors, and an optional "/DEN" at its end. */
static void decimal_expr(sbuf *b, const char *e)
{
    char *copy = strdup(e);
    if (!copy) {
        b->err = 1;
        return;
    }
    char *p = copy;
    int neg = *p == '-';
    p += neg;
    for (int first = 1;; first = 0) {
        /* the term runs to the next " + " or " - " */
        char *end = p, *next = NULL;
        int next_neg = 0;
        for (; *end; end++)
            if (end[0] == ' ' && (end[1] == '+' || end[1] == '-') && end[2] == ' ') {
                next = end + 3;
                next_neg = end[1] == '-';
                break;
            }
        *end = 0;
        double coef = 1;
        char *body = p;
        if (*p >= '0' && *p <= '9') {
            char *q;
            coef = strtod(p, &q);
            body = *q == '*' ? q + 1 : q;
        }
        /* a trailing /DEN after the factors, not one inside an atom's parentheses */
        char *slash = strrchr(body, '/');
        if (slash && !strchr(slash, ')') && slash[1] >= '0' && slash[1] <= '9') {
            coef /= strtod(slash + 1, NULL);
            *slash = 0;
        }
        if (first)
            sb(b, "%s", neg ? "-" : "");
        else
            sb(b, neg ? " - " : " + ");
        if (!*body)
            sb(b, "%.4g", coef);
        else if (coef == 1)
            sb(b, "%s", body);
        else
            sb(b, "%.4g*%s", coef, body);
        if (!next)
            break;
        p = next;
        neg = next_neg;
    }
    free(copy);
}

/* An expression of a measure: exact, or "about" with decimals when a rounded count was averaged. */
static void expr_out(sbuf *b, const json_t *o, const char *key)
{
    const char *e = str(o, key);
    if (json_is_true(json_object_get(o, "approx")) && strchr(e, '/')) {
        sb(b, "about ");
        decimal_expr(b, e);
    } else
        sb(b, "%s", e[0] ? e : "0");
}

static int is_partial(const json_t *o, const char *key)
{
    const json_t *p = json_object_get(o, "partial");
    for (size_t i = 0; i < json_array_size(p); i++)
        if (!strcmp(json_string_value(json_array_get(p, i)), key))
            return 1;
    return 0;
}

/* A measure: exact, "at least X" when some part is unknown, "unknown" when no part is known. */
static void measure_out(sbuf *b, const json_t *o, const char *key)
{
    if (is_partial(o, key) && !strcmp(str(o, key), "0"))
        sb(b, "unknown");
    else {
        sb(b, "%s", is_partial(o, key) ? "at least " : "");
        expr_out(b, o, key);
    }
}

/* "PREFIX: F flops (X fused multiply-adds), L B loaded, S B stored; I flop/B" from the IR totals. */
static void measures_line(sbuf *b, const json_t *o, const char *prefix, int inline_)
{
    if (!json_object_get(o, "flops") && !json_object_get(o, "bytes_loaded") && !json_object_get(o, "bytes_stored"))
        return;
    int partial = is_partial(o, "flops") || is_partial(o, "bytes_loaded") || is_partial(o, "bytes_stored");
    sb(b, "%s%s %s", prefix, inline_ ? "" : ":", partial ? "at least " : "");
    expr_out(b, o, "flops");
    sb(b, " flops");
    if (json_object_get(o, "fma")) {
        sb(b, " (");
        expr_out(b, o, "fma");
        sb(b, " fused multiply-adds)");
    }
    sb(b, ", ");
    expr_out(b, o, "bytes_loaded");
    sb(b, " B loaded, ");
    expr_out(b, o, "bytes_stored");
    sb(b, " B stored");
    if (json_object_get(o, "intensity"))
        sb(b, "; %.3g flop/B for large parameters", json_real_value(json_object_get(o, "intensity")));
    if (!inline_)
        sb(b, "\n");
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
        size_t start = b.len;
        sb(&b, "%s:%lld: %s\n", pva_source_basename(file), num(f, "line"), fname);
        size_t header_end = b.len;
        for (size_t i = 0; i < json_array_size(loops); i++) {
            const json_t *l = json_array_get(loops, i);
            if (!strcmp(str(l, "function"), fname) && !strcmp(str(l, "file"), file))
                loop_lines(&b, l);
        }
        if (json_object_get(f, "work") && num(f, "loops")) {
            if (is_partial(f, "work") && !strcmp(str(f, "work"), "0"))
                sb(&b, "  work: unknown (trip counts unknown)\n");
            else {
                sb(&b, "  work: ");
                measure_out(&b, f, "work");
                sb(&b, " iterations of innermost loop bodies%s\n", is_partial(f, "work") ? " (some trip counts unknown)" : "");
            }
        }
        measures_line(&b, f, "  operations", 0);
        if (json_object_get(f, "heap_bytes") && strcmp(str(f, "heap_bytes"), "0")) {
            sb(&b, "  heap: ");
            measure_out(&b, f, "heap_bytes");
            sb(&b, " B allocated per call\n");
        }
        const json_t *wc = json_object_get(f, "with_callees");
        int wc_unknown = wc && is_partial(wc, "work") && !strcmp(str(wc, "work"), "0") && !json_object_get(wc, "flops") &&
                         (!json_object_get(wc, "heap_bytes") || !strcmp(str(wc, "heap_bytes"), "0"));
        if (wc && !wc_unknown) {
            sb(&b, "  with callees: work ");
            measure_out(&b, wc, "work");
            measures_line(&b, wc, ";", 1);
            if (strcmp(str(wc, "heap_bytes"), "0") && json_object_get(wc, "heap_bytes")) {
                sb(&b, "; heap ");
                measure_out(&b, wc, "heap_bytes");
                sb(&b, " B");
            }
            sb(&b, "\n");
        }
        for (size_t i = 0; i < json_array_size(allocs); i++) {
            const json_t *a = json_array_get(allocs, i);
            if (strcmp(str(a, "function"), fname) || strcmp(str(a, "file"), file))
                continue;
            sb(&b, "  allocation line %lld, %s%s%s: ", num(a, "line"), str(a, "kind"), json_object_get(a, "callee") ? " " : "",
               str(a, "callee"));
            if (json_object_get(a, "bytes"))
                sb(&b, "%s B", str(a, "bytes"));
            else
                sb(&b, "size unknown, %s", str(a, "bytes_unknown"));
            if (json_object_get(a, "loop_line"))
                sb(&b, ", in the loop at line %lld%s%s%s", num(a, "loop_line"), json_object_get(a, "count") ? " (" : "",
                   str(a, "count"), json_object_get(a, "count") ? " times per call)" : "");
            sb(&b, "\n");
        }
        for (size_t i = 0; i < json_array_size(par); i++) {
            const json_t *o = json_array_get(par, i);
            if (strcmp(str(o, "function"), fname) || strcmp(str(o, "file"), file))
                continue;
            if (!strcmp(str(o, "kind"), "openmp")) {
                sb(&b, "  parallel: #pragma omp %s (line %lld)", str(o, "pragma"), num(o, "line"));
                if (json_object_get(o, "loop_line"))
                    sb(&b, ", loop at line %lld%s%s", num(o, "loop_line"), json_object_get(o, "iterations") ? " of " : "",
                       json_object_get(o, "iterations") ? str(o, "iterations") : "");
                if (json_object_get(o, "iterations"))
                    sb(&b, " iterations");
                if (json_object_get(o, "threads"))
                    sb(&b, ", %s threads", str(o, "threads"));
                sb(&b, "\n");
            } else {
                sb(&b, "  parallel: pthread_create(%s) line %lld", str(o, "routine"), num(o, "line"));
                if (json_object_get(o, "threads"))
                    sb(&b, ", %s threads", str(o, "threads"));
                else if (json_object_get(o, "threads_max"))
                    sb(&b, ", up to %s threads", str(o, "threads_max"));
                sb(&b, "\n");
            }
        }
        for (size_t i = 0; i < json_array_size(calls); i++) {
            const json_t *o = json_array_get(calls, i);
            if (strcmp(str(o, "function"), fname) || strcmp(str(o, "file"), file))
                continue;
            sb(&b, "  call %s (%s) line %lld\n", str(o, "callee"), str(o, "group"), num(o, "line"));
        }
        /* a function with nothing to say beyond its name is left out */
        if (b.len == header_end && !b.err) {
            b.len = start;
            b.s[start] = 0;
        }
    }
    /* file-scope allocations (static arrays) */
    for (size_t i = 0; i < json_array_size(allocs); i++) {
        const json_t *a = json_array_get(allocs, i);
        if (!json_object_get(a, "function"))
            sb(&b, "%s:%lld: %s array %s: %s B\n", pva_source_basename(str(a, "file")), num(a, "line"), str(a, "kind"),
               str(a, "callee"), str(a, "bytes"));
    }
    for (size_t i = 0; i < json_array_size(diags); i++) {
        const json_t *d = json_array_get(diags, i);
        sb(&b, "%s:%lld: %s (%s pass): %s\n", str(d, "file"), num(d, "line"), str(d, "severity"), str(d, "pass"),
           str(d, "message"));
    }
    const json_t *ub = json_object_get(s, "unmatched_binary_loops");
    if (json_array_size(ub)) {
        sb(&b, "%zu binary loop(s) with no source loop (in files not analyzed, library or startup code, or without line information):",
           json_array_size(ub));
        for (size_t i = 0; i < json_array_size(ub) && i < 8; i++) {
            const json_t *u = json_array_get(ub, i);
            sb(&b, " #%lld", num(u, "loop"));
            if (json_object_get(u, "function"))
                sb(&b, " in %s", str(u, "function"));
            if (num(u, "line"))
                sb(&b, " (%s:%lld)", pva_source_basename(str(u, "file")), num(u, "line"));
            sb(&b, i + 1 < json_array_size(ub) && i < 7 ? "," : "");
        }
        sb(&b, "%s\n", json_array_size(ub) > 8 ? ", ..." : "");
    }
    /* the program: main with everything it calls */
    for (size_t fi = 0; fi < nf; fi++) {
        const json_t *f = json_array_get(funcs, fi);
        if (strcmp(str(f, "name"), "main"))
            continue;
        const json_t *t = json_object_get(f, "with_callees") ? json_object_get(f, "with_callees") : f;
        sb(&b, "program (main and what it calls, per run): work ");
        measure_out(&b, t, "work");
        sb(&b, " iterations");
        measures_line(&b, t, ";", 1);
        if (json_object_get(t, "heap_bytes") && strcmp(str(t, "heap_bytes"), "0")) {
            sb(&b, "; heap ");
            measure_out(&b, t, "heap_bytes");
            sb(&b, " B allocated");
        }
        sb(&b, "\n");
    }
    size_t ntrip = 0, nunmatched = 0;
    for (size_t i = 0; i < json_array_size(loops); i++) {
        ntrip += json_object_get(json_array_get(loops, i), "trip") != NULL;
        nunmatched += json_is_false(json_object_get(json_array_get(loops, i), "matched"));
    }
    sb(&b, "%zu loops (%zu with a trip count), %zu allocations, %zu parallel constructs, %zu library calls, %zu diagnostics",
       json_array_size(loops), ntrip, json_array_size(allocs), json_array_size(par), json_array_size(calls),
       json_array_size(diags));
    if (json_object_get(s, "binary_loop_map"))
        sb(&b, "; %zu binary loops matched, %zu not; %zu source loops without a binary loop",
           json_array_size(json_object_get(s, "binary_loop_map")) - json_array_size(ub), json_array_size(ub), nunmatched);
    sb(&b, "\n");
    if (b.err) {
        free(b.s);
        return pv_error_set(PV_ERR_NOMEM, "pv_source_report: out of memory");
    }
    *out = b.s;
    return PV_OK;
}
