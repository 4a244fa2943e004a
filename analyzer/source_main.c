/* The source analyzer's driver: reads the compile database, runs the AST
 * pass over the TUs on a pool of threads (one CXIndex each, since a CXIndex
 * is not safe to share), then the IR pass, attaches IR loops to AST loops by
 * line, and assembles the profile's `source` section. */
#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prevision/version.h"
#include "source_internal.h"

#ifndef PV_CLANG_PATH
#define PV_CLANG_PATH "clang-19"
#endif

static void tu_free(src_tu *t)
{
    free(t->dir);
    free(t->file);
    for (int i = 0; i < t->nargs; i++)
        free(t->args[i]);
    free(t->args);
}

/* dir/file, made canonical when it exists (diagnostics and the merge name files by path). */
static char *path_join(const char *dir, const char *file)
{
    char *s;
    if (file[0] == '/' || !dir || !dir[0])
        s = strdup(file);
    else {
        size_t n = strlen(dir) + strlen(file) + 2;
        s = malloc(n);
        if (s)
            snprintf(s, n, "%s/%s", dir, file);
    }
    char *r = s ? realpath(s, NULL) : NULL;
    if (r) {
        free(s);
        return r;
    }
    return s;
}

/* A source file operand (the TU's input, perhaps spelled otherwise than in
 * the database's "file" field), as opposed to an option or its value. */
static int is_input(const char *prev, const char *a)
{
    static const char *const takes_value[] = {"-include", "-imacros", "-Xclang", "-Xlinker", "-Xpreprocessor",
                                              "-Xassembler", "-x", "-MF", "-MT", "-MQ", "-o"};
    if (a[0] == '-')
        return 0;
    for (size_t i = 0; i < sizeof takes_value / sizeof takes_value[0]; i++)
        if (!strcmp(prev, takes_value[i]))
            return 0;
    const char *dot = strrchr(a, '.');
    return dot && (!strcmp(dot, ".c") || !strcmp(dot, ".i") || !strcmp(dot, ".cc") || !strcmp(dot, ".cpp") ||
                   !strcmp(dot, ".cxx") || !strcmp(dot, ".C") || !strcmp(dot, ".m"));
}

/* Keep a compile command's flags that matter for parsing: drop the compiler,
 * the input, outputs and dependency-file options (libclang would write .d files). */
static int filter_args(src_tu *t, int argc, const char *const *argv, const char *file_as_given)
{
    t->args = calloc((size_t)argc + 1, sizeof *t->args);
    if (!t->args)
        return PV_ERR_NOMEM;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "-MF") || !strcmp(a, "-MT") || !strcmp(a, "-MQ") || !strcmp(a, "-MJ")) {
            i++;
            continue;
        }
        if ((!strncmp(a, "-o", 2) && a[2]) || !strcmp(a, "-c") || !strcmp(a, "-S") || !strcmp(a, "-E") ||
            !strcmp(a, "-M") || !strcmp(a, "-MM") || !strcmp(a, "-MD") || !strcmp(a, "-MMD") || !strcmp(a, "-MP") ||
            !strcmp(a, "-MG") || !strcmp(a, "--") || !strcmp(a, "-fsyntax-only"))
            continue;
        if ((file_as_given && !strcmp(a, file_as_given)) || !strcmp(a, t->file) || is_input(argv[i - 1], a))
            continue;
        if (!(t->args[t->nargs] = strdup(a)))
            return PV_ERR_NOMEM;
        t->nargs++;
    }
    return PV_OK;
}

/* The compile database at @path, checked with jansson: PV_ERR_FORMAT with the
 * line or entry and field to fix. */
static int check_database(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        return pv_error_set(PV_ERR_FORMAT, "%s:%d:%d: invalid JSON: %s; regenerate it (cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)",
                            path, jerr.line, jerr.column, jerr.text);
    int rc = PV_OK;
    size_t nj = json_array_size(j);
    if (!json_is_array(j) || !nj)
        rc = pv_error_set(PV_ERR_FORMAT, "%s: the compile database has no entries (expected a non-empty JSON array)", path);
    for (size_t i = 0; i < nj && !rc; i++) {
        json_t *e = json_array_get(j, i);
        const char *bad = !json_is_object(e) ? "an object"
                        : !json_is_string(json_object_get(e, "directory")) ? "a \"directory\" string"
                        : !json_is_string(json_object_get(e, "file")) ? "a \"file\" string"
                        : !json_is_string(json_object_get(e, "command")) && !json_is_array(json_object_get(e, "arguments"))
                            ? "a \"command\" string or an \"arguments\" array"
                            : NULL;
        if (bad)
            rc = pv_error_set(PV_ERR_FORMAT, "%s: entry %zu: expected %s", path, i, bad);
    }
    json_decref(j);
    return rc;
}

static int load_database(const char *build_dir, src_tu **out, unsigned *nout)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/compile_commands.json", build_dir) >= sizeof path)
        return pv_error_set(PV_ERR_INVALID, "%.64s...: build directory name longer than a path can be (%zu bytes)",
                            build_dir, strlen(build_dir));
    struct stat st;
    if (stat(path, &st) != 0)
        return pv_error_set(PV_ERR_NOTFOUND,
                            "%s: no compile database; configure the build with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "
                            "(or use bear) so that it writes compile_commands.json, or pass FILE.c -- FLAGS",
                            path);
    int rc = PV_OK;
    CXCompilationDatabase db = NULL;
    CXCompileCommands cmds = NULL;
    src_tu *tus = NULL;
    unsigned ntus = 0;
    /* libclang prints its own complaints about a bad database on stderr and
     * says little; check the JSON first, with the line and field to fix */
    if ((rc = check_database(path)))
        goto done;
    CXCompilationDatabase_Error err;
    db = clang_CompilationDatabase_fromDirectory(build_dir, &err);
    if (err != CXCompilationDatabase_NoError || !db) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: libclang cannot read this compile database (malformed JSON or entries)",
                          path);
        goto done;
    }
    cmds = clang_CompilationDatabase_getAllCompileCommands(db);
    unsigned n = cmds ? clang_CompileCommands_getSize(cmds) : 0;
    tus = calloc(n ? n : 1, sizeof *tus);
    if (!tus) {
        rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (!n) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: the compile database has no entries", path);
        goto done;
    }
    for (unsigned i = 0; i < n && !rc; i++) {
        CXCompileCommand c = clang_CompileCommands_getCommand(cmds, i);
        CXString d = clang_CompileCommand_getDirectory(c), f = clang_CompileCommand_getFilename(c);
        src_tu *t = &tus[ntus];
        t->dir = strdup(clang_getCString(d));
        t->file = path_join(t->dir, clang_getCString(f));
        unsigned na = clang_CompileCommand_getNumArgs(c);
        CXString *as = calloc(na ? na : 1, sizeof *as);
        const char **av = calloc(na ? na : 1, sizeof *av);
        if (!t->dir || !t->file || !as || !av)
            rc = PV_ERR_NOMEM;
        for (unsigned k = 0; !rc && k < na; k++) {
            as[k] = clang_CompileCommand_getArg(c, k);
            av[k] = clang_getCString(as[k]);
        }
        if (!rc)
            rc = filter_args(t, (int)na, av, clang_getCString(f));
        for (unsigned k = 0; as && av && k < na; k++)
            if (av[k])
                clang_disposeString(as[k]);
        free(as);
        free(av);
        clang_disposeString(d);
        clang_disposeString(f);
        ntus++;
        if (rc)
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", path);
        /* the same file compiled twice (e.g. static and shared) is analyzed once */
        for (unsigned k = 0; !rc && k + 1 < ntus; k++)
            if (!strcmp(tus[k].file, t->file)) {
                tu_free(t);
                memset(t, 0, sizeof *t);
                ntus--;
                break;
            }
    }
done:
    if (cmds)
        clang_CompileCommands_dispose(cmds);
    if (db)
        clang_CompilationDatabase_dispose(db);
    if (rc) {
        for (unsigned i = 0; tus && i < ntus; i++)
            tu_free(&tus[i]);
        free(tus);
        return rc;
    }
    *out = tus;
    *nout = ntus;
    return PV_OK;
}

/* The work list shared by the threads. */
typedef struct pool {
    const pv_source_options *opts;
    src_tu *tus;
    unsigned ntus;
    src_result *res;
    json_t **irloops, **irdiags; /* per TU */
    int *rcs;
    char (*msgs)[1024];          /* per TU: the error detail of a failed pass, recorded in the worker's thread */
    atomic_uint next;
    atomic_uint done;
    const char *tmpdir;
    const char *clang;
    int phase; /* 0 AST, 1 IR */
    pthread_mutex_t lock;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    CXIndex idx = p->phase == 0 ? clang_createIndex(0, 0) : NULL;
    for (;;) {
        unsigned i = atomic_fetch_add(&p->next, 1);
        if (i >= p->ntus)
            break;
        if (p->phase == 0)
            p->rcs[i] = pva_source_ast_tu(idx, &p->tus[i], &p->res[i]);
        else
            p->rcs[i] = pva_source_ir_tu(p->clang, p->tmpdir, i, &p->tus[i], p->irloops[i], p->irdiags[i]);
        if (p->rcs[i]) /* pv_error_last() is per thread: keep it for the caller's */
            snprintf(p->msgs[i], sizeof p->msgs[i], "%s", pv_error_last());
        unsigned d = atomic_fetch_add(&p->done, 1) + 1;
        if (p->opts->progress) {
            pthread_mutex_lock(&p->lock);
            p->opts->progress(p->opts->progress_ud, p->phase == 0 ? "parsing" : "compiling", d, p->ntus);
            pthread_mutex_unlock(&p->lock);
        }
    }
    if (idx)
        clang_disposeIndex(idx);
    return NULL;
}

/* Run the pool's phase over every TU on up to @nthreads threads. @return
 * PV_OK, or the first failed TU's error with its message. */
static int run_pool(pool *p, unsigned nthreads)
{
    atomic_store(&p->next, 0);
    atomic_store(&p->done, 0);
    if (nthreads > p->ntus)
        nthreads = p->ntus;
    if (nthreads <= 1) {
        worker(p);
    } else {
        pthread_t *th = calloc(nthreads, sizeof *th);
        if (!th)
            return pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
        unsigned started = 0;
        for (; started < nthreads; started++)
            if (pthread_create(&th[started], NULL, worker, p))
                break;
        if (!started)
            worker(p);
        for (unsigned i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        free(th);
    }
    for (unsigned i = 0; i < p->ntus; i++)
        if (p->rcs[i])
            return pv_error_set(p->rcs[i], "%s", p->msgs[i]);
    return PV_OK;
}

static int same_file(const char *a, const char *b)
{
    return a && b && !strcmp(pva_source_basename(a), pva_source_basename(b));
}

/* Attach IR loops of one TU to its AST loops: the loop whose first line is
 * the IR loop's !llvm.loop start line, else the innermost containing it. */
static void attach_ir(src_result *r, json_t *irloops, json_t *unmatched)
{
    for (size_t k = 0; k < json_array_size(irloops); k++) {
        json_t *o = json_array_get(irloops, k);
        const char *file = json_string_value(json_object_get(o, "file"));
        unsigned line = (unsigned)json_integer_value(json_object_get(o, "line"));
        int best = -1;
        for (unsigned i = 0; i < r->nloops; i++) {
            src_loop *l = &r->loops[i];
            if (file && file[0] && !same_file(file, r->file))
                continue;
            if (l->line == line) {
                best = (int)i;
                break;
            }
            if (l->line <= line && line <= l->end_line && (best < 0 || r->loops[best].depth < l->depth))
                best = (int)i;
        }
        /* an OpenMP loop's IR carries the pragma's line: the loop after the directive */
        for (unsigned i = 0; best < 0 && i < r->nloops; i++) {
            json_t *d = r->loops[i].omp >= 0 ? json_array_get(r->parallel, (size_t)r->loops[i].omp) : NULL;
            if (d && (unsigned)json_integer_value(json_object_get(d, "line")) == line)
                best = (int)i;
        }
        if (best < 0) {
            json_array_append(unmatched, o);
            continue;
        }
        src_loop *l = &r->loops[best];
        if (!l->ir)
            l->ir = json_array();
        json_t *c = json_deep_copy(o);
        json_object_del(c, "file");
        /* unrolled or vectorized: an IR iteration does several source iterations */
        json_int_t ivs = json_integer_value(json_object_get(o, "iv_step"));
        if (ivs < 0)
            ivs = -ivs;
        int64_t ss = l->step < 0 ? -l->step : l->step;
        json_int_t per = l->trip_known && ss && ivs && ivs % ss == 0 && ivs / ss <= 64 ? ivs / ss : 1;
        json_object_set_new(c, "source_iterations", json_integer(per));
        json_array_append_new(l->ir, c);
    }
}

/* The IR copy that stands for a source loop: one in the loop's own
 * function if any (inlined copies elsewhere count the same work), the one
 * doing the most source iterations per IR iteration (the main vector body
 * rather than its remainder). NULL when the loop has no IR. */
static json_t *pick_ir(const src_loop *l)
{
    json_t *best = NULL;
    int best_own = 0;
    json_int_t best_per = 0;
    for (size_t i = 0; l->ir && i < json_array_size(l->ir); i++) {
        json_t *o = json_array_get(l->ir, i);
        const char *fn = json_string_value(json_object_get(o, "function"));
        int own = fn && l->func && !strcmp(fn, l->func);
        json_int_t per = json_integer_value(json_object_get(o, "source_iterations"));
        if (!best || own > best_own || (own == best_own && per > best_per)) {
            best = o;
            best_own = own;
            best_per = per;
        }
    }
    return best;
}

/* o[key] = the printed polynomial @p. Like every field set here, it is left
 * out when memory runs short (jansson's setters report nothing). */
static void set_poly(json_t *o, const char *key, const pv_poly *p)
{
    char *s = pv_poly_str(p);
    if (s)
        json_object_set_new(o, key, json_string(s));
    free(s);
}

static json_t *loop_json(const src_result *r, const src_loop *l, unsigned base)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_integer(base + (unsigned)(l - r->loops)));
    json_object_set_new(o, "file", json_string(r->file));
    if (l->func)
        json_object_set_new(o, "function", json_string(l->func));
    json_object_set_new(o, "line", json_integer(l->line));
    json_object_set_new(o, "end_line", json_integer(l->end_line));
    json_object_set_new(o, "column", json_integer(l->col));
    json_object_set_new(o, "kind", json_string(l->kind));
    json_object_set_new(o, "depth", json_integer(l->depth));
    if (l->parent >= 0)
        json_object_set_new(o, "parent", json_integer(base + (unsigned)l->parent));
    if (l->var[0])
        json_object_set_new(o, "var", json_string(l->var));
    if (l->trip_known) {
        json_object_set_new(o, "trip", json_string(l->trip_str));
        if (l->trip_const >= 0)
            json_object_set_new(o, "trip_count", json_integer(l->trip_const));
        if (l->step != 1 && l->step != -1)
            json_object_set_new(o, "trip_rounding", json_string("ceil"));
        json_object_set_new(o, "step", json_integer(l->step));
    } else {
        json_object_set_new(o, "trip_unknown", json_string(l->reason ? l->reason : "not derived"));
        if (l->trip_max)
            json_object_set_new(o, "trip_max", json_string(l->trip_max));
    }
    if (l->total_known) {
        set_poly(o, "total_iterations", &l->total);
        if (l->total_approx)
            json_object_set_new(o, "total_approx", json_true());
    } else if (l->trip_known && l->total_reason)
        json_object_set_new(o, "total_unknown", json_string(l->total_reason));
    json_object_set_new(o, "innermost", json_boolean(l->innermost));
    if (l->omp >= 0) {
        json_t *d = json_array_get(r->parallel, (size_t)l->omp);
        if (d && json_object_get(d, "pragma"))
            json_object_set(o, "openmp", json_object_get(d, "pragma"));
    }
    if (l->ir)
        json_object_set(o, "ir", l->ir);
    return o;
}

static json_t *alloc_json(const src_result *r, const src_alloc *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "file", json_string(r->file));
    if (a->func)
        json_object_set_new(o, "function", json_string(a->func));
    json_object_set_new(o, "line", json_integer(a->line));
    json_object_set_new(o, "kind", json_string(a->kind));
    if (a->callee)
        json_object_set_new(o, "callee", json_string(a->callee));
    if (a->size_known && a->size_str)
        json_object_set_new(o, "bytes", json_string(a->size_str));
    else
        json_object_set_new(o, "bytes_unknown", json_string(a->reason ? a->reason : "not derived"));
    if (a->loop >= 0) {
        const src_loop *l = &r->loops[a->loop];
        json_object_set_new(o, "loop_line", json_integer(l->line));
        /* allocations per call of the function: the enclosing loop's total */
        if (l->total_known)
            set_poly(o, "count", &l->total);
    }
    return o;
}

/* Operations of a whole function call from the IR counts: each loop's
 * counts per source iteration (its own blocks, inner loops excluded) times
 * the loop's total iterations, summed over the function's loops. */
static int add_count(pv_poly *acc, const pv_poly *total, double count, json_int_t per)
{
    if (count <= 0)
        return PV_OK;
    /* counts are integers; per-source-iteration values are exact rationals */
    return pv_poly_add_scaled(acc, acc, total, (int64_t)(count + 0.5), per > 0 ? per : 1);
}

static void function_ops(src_result *r)
{
    for (unsigned k = 0; k < r->nfuncs; k++) {
        src_func *f = &r->funcs[k];
        for (unsigned i = 0; i < r->nloops; i++) {
            src_loop *l = &r->loops[i];
            if (!l->func || strcmp(l->func, f->name))
                continue;
            json_t *ir = pick_ir(l);
            if (!ir)
                continue; /* no IR loop: fully unrolled or folded into another */
            if (!l->total_known) {
                for (int m = M_FLOPS; m <= M_STORED; m++)
                    f->own_state[m] = MS_PARTIAL;
                continue;
            }
            json_t *c = json_object_get(ir, "counts");
            json_int_t per = json_integer_value(json_object_get(ir, "source_iterations"));
            double nfma = 0;
            const char *prec;
            json_t *v;
            json_object_foreach(json_object_get(c, "fp"), prec, v) nfma += (double)json_integer_value(json_object_get(v, "fma"));
            const double counts[] = {json_real_value(json_object_get(c, "flops")), nfma,
                                     (double)json_integer_value(json_object_get(c, "load_bytes")),
                                     (double)json_integer_value(json_object_get(c, "store_bytes"))};
            for (int m = M_FLOPS; m <= M_STORED; m++)
                if (add_count(&f->own[m], &l->total, counts[m - M_FLOPS], per))
                    f->own_state[m] = MS_PARTIAL;
        }
    }
}

/* Composition of callees into callers, across translation units. */
typedef struct fentry {
    const char *name;
    unsigned tu, idx;
} fentry;

typedef struct comp {
    src_result *res;
    fentry *tab; /* open addressing by name; several entries may share a name (static functions) */
    size_t cap;
} comp;

static size_t name_slot(const char *s, size_t cap)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h & (cap - 1);
}

/* The callee of a call from TU @p tu: a definition in the same TU first. */
static src_func *find_callee(const comp *c, unsigned tu, const char *name, unsigned *ctu)
{
    src_func *any = NULL;
    for (size_t h = name_slot(name, c->cap); c->tab[h].name; h = (h + 1) & (c->cap - 1)) {
        const fentry *e = &c->tab[h];
        if (strcmp(e->name, name))
            continue;
        src_func *f = &c->res[e->tu].funcs[e->idx];
        if (e->tu == tu) {
            *ctu = tu;
            return f;
        }
        if (!any) {
            any = f;
            *ctu = e->tu;
        }
    }
    return any;
}

static const char *chain_tail(const char *v)
{
    for (const char *p = v; *p; p++)
        if (*p == '.' || (*p == '-' && p[1] == '>'))
            return p;
    return NULL;
}

/* The callee's measure @p in, with its parameters bound to the call's
 * arguments (an integer to its expression, a pointer's member chains to the
 * argument's), into @p out. 0 when a variable cannot be bound. */
static int bind_args(const src_func *g, const src_call *cs, const pv_poly *in, pv_poly *out)
{
    pv_poly tmpv;
    pv_poly_init(&tmpv);
    int ok = !pv_poly_copy(out, in);
    /* each variable to a placeholder first, so that arguments naming other parameters are not substituted twice */
    char vars[64][PV_POLY_NAMELEN];
    int which[64];
    unsigned nv = 0;
    for (uint32_t t = 0; ok && t < in->nterms; t++)
        for (unsigned k = 0; ok && k < in->terms[t].nfactors; k++) {
            const char *v = in->terms[t].var[k];
            int seen = 0;
            for (unsigned i = 0; i < nv && !seen; i++)
                seen = !strcmp(vars[i], v);
            if (seen)
                continue;
            const char *tail = chain_tail(v);
            size_t rl = tail ? (size_t)(tail - v) : strlen(v);
            int j = -1;
            for (unsigned p = 0; p < g->nparams && j < 0; p++)
                if (strlen(g->params[p]) == rl && !strncmp(g->params[p], v, rl))
                    j = (int)p;
            if (j < 0 || (unsigned)j >= cs->nargs || nv == 64 || strchr(v, '(') ||
                cs->args[j].kind != (tail ? 2 : 1)) {
                ok = 0;
                break;
            }
            snprintf(vars[nv], sizeof vars[nv], "%s", v);
            which[nv++] = j;
        }
    for (unsigned i = 0; ok && i < nv; i++) {
        char ph[8];
        snprintf(ph, sizeof ph, "\x02%u", i);
        ok = !pv_poly_set_var(&tmpv, ph) && !pv_poly_subst(out, out, vars[i], &tmpv);
    }
    for (unsigned i = 0; ok && i < nv; i++) {
        char ph[8];
        snprintf(ph, sizeof ph, "\x02%u", i);
        const src_arg *a = &cs->args[which[i]];
        if (a->kind == 1)
            ok = !pv_poly_subst(out, out, ph, &a->poly);
        else {
            char nm[2 * PV_POLY_NAMELEN];
            snprintf(nm, sizeof nm, "%s%s", a->name, chain_tail(vars[i]));
            ok = strlen(nm) < PV_POLY_NAMELEN && !pv_poly_set_var(&tmpv, nm) && !pv_poly_subst(out, out, ph, &tmpv);
        }
    }
    pv_poly_clear(&tmpv);
    return ok;
}

static void compose(comp *c, unsigned tu, unsigned fi)
{
    src_result *r = &c->res[tu];
    src_func *f = &r->funcs[fi];
    if (f->mark == 2)
        return;
    f->mark = 1;
    f->incl_approx = f->approx;
    for (int m = 0; m < M_N; m++) {
        if (pv_poly_copy(&f->incl[m], &f->own[m]))
            f->incl_state[m] = MS_PARTIAL;
        f->incl_state[m] |= f->own_state[m];
    }
    for (unsigned k = 0; k < f->ncalls; k++) {
        const src_call *cs = &r->callsites[f->first_call + k];
        unsigned ct = 0;
        src_func *g = find_callee(c, tu, cs->callee, &ct);
        if (!g)
            continue; /* not in the analyzed sources */
        if (g->mark == 1) {
            /* recursion: its count is not a polynomial */
            for (int m = 0; m < M_N; m++)
                f->incl_state[m] = MS_PARTIAL;
            f->composed = 1;
            continue;
        }
        compose(c, ct, (unsigned)(g - c->res[ct].funcs));
        f->incl_approx |= g->incl_approx;
        for (int m = 0; m < M_N; m++) {
            if (!g->incl[m].nterms && g->incl_state[m] == MS_KNOWN)
                continue;
            f->composed = 1;
            pv_poly t;
            pv_poly_init(&t);
            char why[200];
            int approx = 0;
            /* the callee's measure at this call, summed over the loops around it */
            if (bind_args(g, cs, &g->incl[m], &t) && pva_source_nest_sum(r, NULL, cs->loop, &t, &approx, why, sizeof why) &&
                !pv_poly_add(&f->incl[m], &f->incl[m], &t)) {
                f->incl_state[m] |= g->incl_state[m];
                f->incl_approx |= approx;
            } else
                f->incl_state[m] = MS_PARTIAL;
            pv_poly_clear(&t);
        }
    }
    f->mark = 2;
}

static int compose_all(src_result *res, unsigned ntus)
{
    size_t n = 0;
    for (unsigned i = 0; i < ntus; i++)
        n += res[i].nfuncs;
    comp c = {res, NULL, 16};
    while (c.cap < 2 * n + 2)
        c.cap *= 2;
    if (!(c.tab = calloc(c.cap, sizeof *c.tab)))
        return pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
    for (unsigned i = 0; i < ntus; i++)
        for (unsigned k = 0; k < res[i].nfuncs; k++) {
            size_t h = name_slot(res[i].funcs[k].name, c.cap);
            while (c.tab[h].name)
                h = (h + 1) & (c.cap - 1);
            c.tab[h] = (fentry){res[i].funcs[k].name, i, k};
        }
    for (unsigned i = 0; i < ntus; i++)
        for (unsigned k = 0; k < res[i].nfuncs; k++)
            compose(&c, i, k);
    free(c.tab);
    return PV_OK;
}

/* Leading coefficient of @p a over that of @p b when both lead with the same monomial, else 0. */
static double leading_ratio(const pv_poly *a, const pv_poly *b)
{
    if (!a->nterms || !b->nterms)
        return 0;
    const pv_poly_term *x = &a->terms[0], *y = &b->terms[0];
    if (x->nfactors != y->nfactors || y->num == 0)
        return 0;
    for (unsigned k = 0; k < x->nfactors; k++)
        if (strcmp(x->var[k], y->var[k]) || x->exp[k] != y->exp[k])
            return 0;
    return ((double)x->num / (double)x->den) / ((double)y->num / (double)y->den);
}

/* The measures of one function as JSON fields of @p o (and "partial": the
 * ones that are lower bounds). */
static void measures_json(json_t *o, const pv_poly *v, const uint8_t *st, int ir, int approx)
{
    static const char *const keys[M_N] = {"work", "flops", "fma", "bytes_loaded", "bytes_stored", "heap_bytes"};
    json_t *partial = json_array();
    for (int m = 0; m < M_N; m++) {
        if ((m >= M_FLOPS && m <= M_STORED && !ir) || (!v[m].nterms && st[m] == MS_KNOWN && m != M_WORK))
            continue;
        set_poly(o, keys[m], &v[m]);
        if (st[m] == MS_PARTIAL)
            json_array_append_new(partial, json_string(keys[m]));
    }
    if (approx)
        json_object_set_new(o, "approx", json_true()); /* a rounded trip count was averaged */
    pv_poly bytes;
    pv_poly_init(&bytes);
    if (ir && st[M_FLOPS] == MS_KNOWN && st[M_LOADED] == MS_KNOWN && st[M_STORED] == MS_KNOWN &&
        !pv_poly_add(&bytes, &v[M_LOADED], &v[M_STORED])) {
        double ai = leading_ratio(&v[M_FLOPS], &bytes);
        if (ai > 0)
            json_object_set_new(o, "intensity", json_real(ai));
    }
    pv_poly_clear(&bytes);
    if (json_array_size(partial))
        json_object_set_new(o, "partial", partial);
    else
        json_decref(partial);
}

static json_t *function_json(const src_result *r, const src_func *f, int ir)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "file", json_string(r->file));
    json_object_set_new(o, "line", json_integer(f->line));
    json_object_set_new(o, "end_line", json_integer(f->end_line));
    json_object_set_new(o, "loops", json_integer(f->nloops));
    json_t *params = json_array();
    for (unsigned i = 0; params && i < f->nparams; i++)
        json_array_append_new(params, json_string(f->params[i]));
    json_object_set_new(o, "params", params);
    measures_json(o, f->own, f->own_state, ir, f->approx);
    if (f->composed) {
        json_t *w = json_object();
        if (w) {
            measures_json(w, f->incl, f->incl_state, ir, f->incl_approx);
            json_object_set_new(o, "with_callees", w);
        }
    }
    return o;
}

static void extend(json_t *dst, json_t *src)
{
    if (src)
        json_array_extend(dst, src);
}

int pv_source_analyze(const pv_source_options *opts, void **out)
{
    if (!opts || !out || opts->version != PV_SOURCE_OPTIONS_VERSION || (!opts->build_dir == !opts->file))
        return pv_error_set(PV_ERR_INVALID, "pv_source_analyze: give exactly one of build_dir and file, and "
                                            "options initialized with PV_SOURCE_OPTIONS_INIT");
    *out = NULL;
    int rc = PV_OK;
    src_tu *tus = NULL;
    unsigned ntus = 0;
    pool p = {.opts = opts};
    char tmpdir[] = "/tmp/prevision-ir.XXXXXX";
    int have_tmp = 0;
    json_t *src = NULL, *unm = NULL;
    pthread_mutex_init(&p.lock, NULL);
    json_object_seed(0); /* before threads create JSON objects */
    if (opts->build_dir) {
        if ((rc = load_database(opts->build_dir, &tus, &ntus)))
            goto done;
        if (opts->only) {
            /* keep the entries named in opts->only; the others are freed */
            unsigned kept = 0;
            for (unsigned i = 0; i < ntus; i++) {
                int keep = 0;
                for (unsigned k = 0; k < opts->nonly && !keep; k++)
                    keep = opts->only[k] && pva_source_path_match(opts->only[k], tus[i].file) > 0;
                if (keep)
                    tus[kept++] = tus[i];
                else
                    tu_free(&tus[i]);
            }
            ntus = kept;
            if (!ntus) {
                rc = pv_error_set(PV_ERR_NOTFOUND,
                                  "%s/compile_commands.json: no entry for the %u source files asked for (e.g. %s); is this "
                                  "the build directory of the binary?",
                                  opts->build_dir, opts->nonly, opts->nonly ? opts->only[0] : "");
                goto done;
            }
        }
    } else {
        struct stat st;
        if (stat(opts->file, &st) != 0) {
            rc = pv_error_set(PV_ERR_NOTFOUND, "%s: no such source file", opts->file);
            goto done;
        }
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            rc = pv_error_set(PV_ERR_IO, "%s: cannot get the current directory to resolve it against: %s",
                              opts->file, strerror(errno));
            goto done;
        }
        if (!(tus = calloc(1, sizeof *tus))) {
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", opts->file);
            goto done;
        }
        ntus = 1;
        tus[0].dir = strdup(cwd);
        tus[0].file = path_join(cwd, opts->file);
        const char **av = calloc((size_t)opts->nargs + 2, sizeof *av);
        if (!tus[0].dir || !tus[0].file || !av) {
            free(av);
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", opts->file);
            goto done;
        }
        av[0] = "cc";
        for (int i = 0; i < opts->nargs; i++)
            av[i + 1] = opts->args[i];
        rc = filter_args(&tus[0], opts->nargs + 1, av, opts->file);
        free(av);
        if (rc) {
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", opts->file);
            goto done;
        }
    }
    p.tus = tus;
    p.ntus = ntus;
    p.res = calloc(ntus, sizeof *p.res);
    p.rcs = calloc(ntus, sizeof *p.rcs);
    p.irloops = calloc(ntus, sizeof *p.irloops);
    p.irdiags = calloc(ntus, sizeof *p.irdiags);
    p.msgs = calloc(ntus, sizeof *p.msgs);
    if (!p.res || !p.rcs || !p.irloops || !p.irdiags || !p.msgs) {
        rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
        goto done;
    }
    unsigned nthreads = opts->threads;
    if (!nthreads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = c > 0 ? (unsigned)c : 1;
    }
    if ((rc = run_pool(&p, nthreads)))
        goto done;
    if (opts->ir) {
        if (!mkdtemp(tmpdir)) {
            rc = pv_error_set(PV_ERR_IO, "%s: cannot create a temporary directory for bitcode", tmpdir);
            goto done;
        }
        have_tmp = 1;
        for (unsigned i = 0; i < ntus; i++)
            if (!(p.irloops[i] = json_array()) || !(p.irdiags[i] = json_array())) {
                rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
                goto done;
            }
        p.phase = 1;
        p.tmpdir = tmpdir;
        p.clang = opts->clang ? opts->clang : PV_CLANG_PATH;
        if ((rc = run_pool(&p, nthreads)))
            goto done;
    }
    /* assemble */
    src = json_object();
    json_t *loops = json_array(), *allocs = json_array(), *par = json_array(), *calls = json_array(),
           *diags = json_array(), *funcs = json_array(), *tulist = json_array();
    unm = json_array();
    if (!src || !loops || !allocs || !par || !calls || !diags || !funcs || !unm || !tulist) {
        json_decref(loops), json_decref(allocs), json_decref(par), json_decref(calls);
        json_decref(diags), json_decref(funcs), json_decref(tulist);
        rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
        goto done;
    }
    json_object_set_new(src, "generator", json_string("prevision " PV_VERSION_STRING));
    json_object_set_new(src, "ir_pass", json_boolean(opts->ir));
    json_object_set_new(src, "translation_units", tulist);
    json_object_set_new(src, "loops", loops);
    json_object_set_new(src, "allocations", allocs);
    json_object_set_new(src, "parallel", par);
    json_object_set_new(src, "calls", calls);
    json_object_set_new(src, "functions", funcs);
    json_object_set_new(src, "diagnostics", diags);
    for (unsigned i = 0; i < ntus; i++) {
        if (p.irloops[i])
            attach_ir(&p.res[i], p.irloops[i], unm);
        if (opts->ir)
            function_ops(&p.res[i]);
    }
    if ((rc = compose_all(p.res, ntus)))
        goto done;
    unsigned base = 0;
    for (unsigned i = 0; i < ntus; i++) {
        src_result *r = &p.res[i];
        json_array_append_new(tulist, json_string(tus[i].file));
        for (unsigned k = 0; k < r->nloops; k++)
            if (json_array_append_new(loops, loop_json(r, &r->loops[k], base))) {
                rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
                goto done;
            }
        for (unsigned k = 0; k < r->nallocs; k++)
            if (json_array_append_new(allocs, alloc_json(r, &r->allocs[k]))) {
                rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
                goto done;
            }
        base += r->nloops;
        extend(par, r->parallel);
        extend(calls, r->calls);
        for (unsigned k = 0; k < r->nfuncs; k++)
            if ((r->funcs[k].has_facts || r->funcs[k].composed) &&
                json_array_append_new(funcs, function_json(r, &r->funcs[k], opts->ir))) {
                rc = pv_error_set(PV_ERR_NOMEM, "source analysis: out of memory");
                goto done;
            }
        extend(diags, r->diagnostics);
        if (p.irdiags[i])
            extend(diags, p.irdiags[i]);
    }
    if (json_array_size(unm)) {
        json_object_set_new(src, "unmatched_ir_loops", unm);
        unm = NULL;
    }
done:
    json_decref(unm);
    for (unsigned i = 0; i < ntus; i++) {
        if (p.res)
            pva_source_result_free(&p.res[i]);
        if (p.irloops)
            json_decref(p.irloops[i]);
        if (p.irdiags)
            json_decref(p.irdiags[i]);
        tu_free(&tus[i]);
    }
    free(tus);
    free(p.res);
    free(p.rcs);
    free(p.irloops);
    free(p.irdiags);
    free(p.msgs);
    if (have_tmp)
        rmdir(tmpdir);
    pthread_mutex_destroy(&p.lock);
    if (rc) {
        json_decref(src);
        return rc;
    }
    *out = src;
    return PV_OK;
}
