/* pv_analyze_binary(): the whole-binary pass.
 *
 * 1. elf.c validates and indexes the file; functions.c collects function
 *    candidates (symbols, PLT stubs, FDEs, entry point).
 * 2. Worker threads (one pv_decoder and one scratch area each) take
 *    functions in chunks from an atomic counter and build each one's CFG,
 *    loops and estimates (cfg.c, loops.c). Direct call targets that start
 *    no known function become new functions for another round.
 * 3. The results are moved into the profile in address order, with source
 *    lines (lines.c), callees as function indices and library groups. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grow.h"
#include "internal.h"
#include "prevision/version.h"

#define CHUNK 16
#define MAX_ROUNDS 64

typedef struct job {
    const pva_ctx *c;
    pva_funcs *fs;
    size_t *todo;
    size_t ntodo;
    atomic_size_t next;
    atomic_size_t ndone;
    atomic_int rc;
    pthread_mutex_t lock;
    char err[1024];
    pv_progress_fn progress;
    void *progress_ud;
    uint64_t base_done, total; /* for progress across rounds */
} job;

static void job_fail(job *j, int rc)
{
    pthread_mutex_lock(&j->lock);
    if (atomic_load(&j->rc) == PV_OK) {
        snprintf(j->err, sizeof j->err, "%s", pv_error_last());
        atomic_store(&j->rc, rc);
    }
    pthread_mutex_unlock(&j->lock);
}

typedef struct wargs {
    job *j;
    int main_thread; /* draws the progress (callbacks need not be thread-safe) */
} wargs;

static void *worker(void *arg)
{
    wargs *w = arg;
    job *j = w->j;
    pv_decoder *d = NULL;
    pv_decoder_options o = PV_DECODER_OPTIONS_INIT;
    o.text = 0;
    pva_scratch *s = pva_scratch_new();
    int rc = pv_decoder_new(&d, &o);
    if (!rc && !s)
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory starting an analysis thread");
    if (rc) {
        job_fail(j, rc);
        goto done;
    }
    for (;;) {
        size_t k = atomic_fetch_add(&j->next, CHUNK);
        if (k >= j->ntodo || atomic_load(&j->rc) != PV_OK)
            break;
        size_t end = k + CHUNK < j->ntodo ? k + CHUNK : j->ntodo;
        for (size_t i = k; i < end; i++) {
            size_t fi = j->todo[i];
            pva_fres *r = calloc(1, sizeof *r);
            if (!r) {
                job_fail(j, pv_error_set(PV_ERR_NOMEM, "out of memory analyzing functions"));
                goto done;
            }
            if ((rc = pva_analyze_function(j->c, d, s, fi, r))) {
                free(r);
                job_fail(j, rc);
                goto done;
            }
            j->fs->v[fi].res = r;
        }
        size_t nd = atomic_fetch_add(&j->ndone, end - k) + (end - k);
        if (w->main_thread && j->progress)
            j->progress(j->progress_ud, "functions", j->base_done + nd, j->total);
    }
done:
    pva_scratch_free(s);
    pv_decoder_free(d);
    return NULL;
}

static int run_round(job *j, int nthreads)
{
    atomic_store(&j->next, 0);
    atomic_store(&j->ndone, 0);
    if ((size_t)nthreads > (j->ntodo + CHUNK - 1) / CHUNK)
        nthreads = (int)((j->ntodo + CHUNK - 1) / CHUNK);
    if (nthreads < 1)
        nthreads = 1;
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    wargs *wa = calloc((size_t)nthreads, sizeof *wa);
    if (!th || !wa) {
        free(th);
        free(wa);
        return pv_error_set(PV_ERR_NOMEM, "out of memory starting threads");
    }
    int started = 0;
    for (int i = 1; i < nthreads; i++) {
        wa[i] = (wargs){j, 0};
        if (pthread_create(&th[i], NULL, worker, &wa[i]))
            break;
        started = i;
    }
    wa[0] = (wargs){j, 1};
    worker(&wa[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    free(th);
    free(wa);
    j->base_done += atomic_load(&j->ndone);
    int rc = atomic_load(&j->rc);
    if (rc)
        return pv_error_set(rc, "%s", j->err);
    return PV_OK;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct hash_job {
    const void *data;
    size_t len;
    char hex[65];
} hash_job;

static void *hash_thread(void *arg)
{
    hash_job *h = arg;
    pv_sha256_hex(h->data, h->len, h->hex);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* New functions from call targets that start none and lie in no analyzed one. */
static int discover(pva_funcs *fs, const pva_elf *e, size_t *added)
{
    uint64_t *t = NULL;
    size_t n = 0, cap = 0;
    int rc = PV_OK;
    *added = 0;
    for (size_t i = 0; i < fs->n; i++) {
        pva_fres *r = fs->v[i].res;
        if (!r)
            continue;
        for (uint32_t k = 0; k < r->nunknown; k++) {
            if (PV_GROW(t, cap, n + 1, 256)) {
                rc = pv_error_set(PV_ERR_NOMEM, "out of memory discovering functions");
                goto done;
            }
            t[n++] = r->unknown[k];
        }
        free(r->unknown);
        r->unknown = NULL;
        r->nunknown = 0;
    }
    if (!n)
        goto done;
    qsort(t, n, sizeof *t, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        if (i && t[i] == t[i - 1])
            continue;
        if (pva_funcs_find(fs, t[i]) >= 0 || pva_funcs_containing(fs, t[i]) >= 0)
            continue;
        pva_func f = {.addr = t[i], .flags = PV_FUNC_DISCOVERED, .import = -1, .prio = 6};
        if ((rc = pva_funcs_push(fs, &f)))
            goto done;
        (*added)++;
    }
    if (*added)
        pva_funcs_normalize(fs, e);
done:
    free(t);
    return rc;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* Move the per-function results into the profile, in address order. */
static int assemble(pva_funcs *fs, const pva_elf *e, pva_lines *lines, pv_profile *p)
{
    size_t nb = 0, nl = 0;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].res) {
            nb += fs->v[i].res->nblocks;
            nl += fs->v[i].res->nloops;
        }
    if (fs->n > UINT32_MAX - 1 || nb > UINT32_MAX - 1 || nl > UINT32_MAX - 1)
        return pv_error_set(PV_ERR_LIMIT, "%s: too many functions or blocks for the profile format", e->path);
    p->functions = calloc(fs->n ? fs->n : 1, sizeof *p->functions);
    p->blocks = calloc(nb ? nb : 1, sizeof *p->blocks);
    p->loops = calloc(nl ? nl : 1, sizeof *p->loops);
    if (!p->functions || !p->blocks || !p->loops)
        goto nomem;
    uint32_t bi = 0, li = 0, trimmed = 0;
    for (size_t i = 0; i < fs->n; i++) {
        pva_func *f = &fs->v[i];
        pva_fres *r = f->res;
        pv_function *o = &p->functions[p->nfunctions++];
        o->loc.file = PV_NONE;
        o->addr = f->addr;
        o->size = r ? r->size : f->size;
        o->flags = f->flags;
        o->first_block = bi;
        if (f->name) {
            if (!(o->name = strdup(f->name)))
                goto nomem;
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "sub_%llx", (unsigned long long)f->addr);
            if (!(o->name = strdup(buf)))
                goto nomem;
        }
        if (f->import >= 0) {
            const char *lib = pva_import_lib(e, &e->imports[f->import]);
            if (lib && !(o->import_lib = dup_or_null(lib)))
                goto nomem;
        }
        if (lines)
            o->loc = pva_lines_find(lines, p, f->addr, f->addr + (o->size ? o->size : 1));
        if (!r)
            continue;
        o->ninsns = r->ninsns;
        o->nundecoded = r->nundecoded;
        o->mix = r->mix;
        pv_mix_add(&p->mix, &r->mix);
        p->ninsns += r->ninsns;
        p->nundecoded += r->nundecoded;
        /* Callees: addresses to indices (only function starts). */
        if (r->ncallees) {
            if (!(o->callees = malloc(r->ncallees * sizeof *o->callees)))
                goto nomem;
            for (uint32_t k = 0; k < r->ncallees; k++) {
                long c = pva_funcs_find(fs, r->callees[k]);
                if (c >= 0)
                    o->callees[o->ncallees++] = (uint32_t)c;
            }
        }
        uint32_t b0 = bi;
        for (uint32_t k = 0; k < r->nblocks; k++) {
            pv_block *b = &p->blocks[bi++];
            *b = r->blocks[k];
            b->func = (uint32_t)i;
            if (lines)
                b->loc = pva_lines_find(lines, p, b->addr, b->addr + b->size);
        }
        o->nblocks = r->nblocks;
        free(r->blocks); /* the edges now belong to the profile */
        r->blocks = NULL;
        r->nblocks = 0;
        /* Hand the copied-out blocks back to the system as we go: without
         * it the per-function arrays and p->blocks coexist, twice the
         * memory of a large library's blocks at the peak. */
        if (bi - trimmed > (1u << 18)) {
            malloc_trim(0);
            trimmed = bi;
        }
        uint32_t l0 = li;
        for (uint32_t k = 0; k < r->nloops; k++) {
            pva_floop *x = &r->loops[k];
            pv_loop *l = &p->loops[li++];
            l->func = (uint32_t)i;
            l->header = p->blocks[b0 + x->header].addr;
            l->parent = x->parent == PV_NONE ? PV_NONE : l0 + x->parent;
            l->depth = x->depth;
            l->flags = x->flags;
            l->nblocks = x->nblocks;
            l->blocks = x->blocks;
            x->blocks = NULL;
            for (uint32_t m = 0; m < l->nblocks; m++)
                l->blocks[m] += b0;
            /* The line of the loop's own branch (the back edge) names the loop
             * statement; the header block often starts with an inner loop's setup. */
            l->loc = lines ? pva_lines_find(lines, p, x->cond_addr, x->cond_addr + 1) : p->blocks[b0 + x->header].loc;
            if (l->loc.file == PV_NONE)
                l->loc = p->blocks[b0 + x->header].loc;
            l->trip_count = -1;
            l->cycles_per_iter = x->cycles;
        }
        p->nloops = li;
    }
    p->nblocks = bi;
    p->nloops = li;
    return PV_OK;
nomem:
    return pv_error_set(PV_ERR_NOMEM, "%s: out of memory building the profile", e->path);
}

int pv_analyze_memory(const void *data, size_t len, const char *name, const pv_analyze_options *opts,
                      pv_profile **out)
{
    pv_analyze_options def = PV_ANALYZE_OPTIONS_INIT;
    pva_elf e;
    pva_funcs fs = {0};
    pva_lines *lines = NULL;
    pv_profile *p = NULL;
    size_t *todo = NULL;
    hash_job hj = {data, len, ""};
    pthread_t hth;
    int hashing = 0, elf_open = 0, rc;
    if (!out)
        return pv_error_set(PV_ERR_INVALID, "pv_analyze_memory: out is NULL");
    *out = NULL;
    if (!name)
        name = "(memory)";
    if (!data && len)
        return pv_error_set(PV_ERR_INVALID, "pv_analyze_memory: data is NULL");
    if (!opts)
        opts = &def;
    if (opts->version != PV_ANALYZE_OPTIONS_VERSION)
        return pv_error_set(PV_ERR_INVALID, "pv_analyze_binary: options version %d, this library knows %d",
                            opts->version, PV_ANALYZE_OPTIONS_VERSION);
    const pv_uarch *u = opts->uarch ? opts->uarch : pv_uarch_host();
    double t0 = now_s(), t1, t2, t3;
    if ((rc = pva_elf_open(&e, data, len, name)))
        goto done;
    elf_open = 1;
    /* Hash beside the analysis: it reads the whole file once. */
    hashing = len > (1u << 20) && !pthread_create(&hth, NULL, hash_thread, &hj);
    if (!hashing)
        pv_sha256_hex(data, len, hj.hex);
    if ((rc = pva_funcs_collect(&fs, &e)))
        goto done;
    t1 = now_s();

    int nthreads = opts->nthreads > 0 ? opts->nthreads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 256)
        nthreads = 256;
    pva_ctx c = {&e, &fs, u};
    job j = {.c = &c, .fs = &fs, .progress = opts->progress, .progress_ud = opts->progress_ud};
    pthread_mutex_init(&j.lock, NULL);
    for (int round = 0; round < MAX_ROUNDS; round++) {
        free(todo);
        todo = malloc((fs.n ? fs.n : 1) * sizeof *todo);
        if (!todo) {
            rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
            break;
        }
        j.ntodo = 0;
        for (size_t i = 0; i < fs.n; i++)
            if (!fs.v[i].res)
                todo[j.ntodo++] = i;
        if (!j.ntodo)
            break;
        j.todo = todo;
        j.total = j.base_done + j.ntodo;
        if ((rc = run_round(&j, nthreads)))
            break;
        size_t added = 0;
        if ((rc = discover(&fs, &e, &added)) || !added)
            break;
    }
    pthread_mutex_destroy(&j.lock);
    if (rc)
        goto done;
    t2 = now_s();

    if ((rc = pv_profile_new(&p)))
        goto done;
    if (!opts->no_lines && (rc = pva_lines_load(e.elf, name, &lines)))
        goto done;
    if (!(p->generator = strdup("prevision " PV_VERSION_STRING)) || !(p->uarch = strdup(u->name)) ||
        !(p->target.path = strdup(name)) || !(p->target.arch = strdup("x86_64")) ||
        !(p->target.kind = strdup(pva_elf_kind(&e))) ||
        (e.build_id[0] && !(p->target.build_id = strdup(e.build_id)))) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    p->target.entry = e.entry;
    p->target.stripped = !e.has_symtab;
    if ((rc = assemble(&fs, &e, lines, p)) || (rc = pva_build_libraries(&e, p)))
        goto done;
    t3 = now_s();
    pv_log(PV_LOG_DEBUG,
           "%s: %.2f s ELF and function candidates, %.2f s CFGs and loops (%d threads), %.2f s lines and profile "
           "(%u functions, %u blocks, %u loops)",
           name, t1 - t0, t2 - t1, nthreads, t3 - t2, p->nfunctions, p->nblocks, p->nloops);
done:
    if (hashing)
        pthread_join(hth, NULL);
    if (p)
        memcpy(p->target.sha256, hj.hex, sizeof hj.hex);
    free(todo);
    pva_lines_free(lines);
    pva_funcs_free(&fs);
    if (elf_open)
        pva_elf_close(&e);
    if (rc) {
        pv_profile_free(p);
        return rc;
    }
    *out = p;
    return PV_OK;
}

int pv_analyze_binary(const char *path, const pv_analyze_options *opts, pv_profile **out)
{
    if (!path || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_analyze_binary: NULL argument");
    *out = NULL;
    int rc = PV_OK;
    void *data = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = pv_error_set(errno == ENOENT ? PV_ERR_NOTFOUND : PV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = pv_error_set(PV_ERR_IO, "%s: is a directory, expected an ELF file", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pv_error_set(PV_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    len = (size_t)st.st_size;
    if (len && (data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        data = NULL;
        rc = pv_error_set(PV_ERR_IO, "%s: cannot map %zu bytes: %s", path, len, strerror(errno));
        goto done;
    }
    close(fd); /* the mapping stays */
    fd = -1;
    rc = pv_analyze_memory(data, len, path, opts, out);
done:
    if (fd >= 0)
        close(fd);
    if (data)
        munmap(data, len);
    return rc;
}
