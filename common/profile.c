/* The demand profile: model, streaming JSON writer, validating reader. */
#include "prevision/profile.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prevision/error.h"
#include "prevision/json.h"
#include "strbuf.h"

static const char *const libgroup_names[PV_LIBGROUP_NGROUPS] = {
#define NAME_(id, name) name,
    PV_LIBGROUPS(NAME_)
#undef NAME_
};

static const char *const edge_kind_names[PV_EDGE_NKINDS] = {
    "fallthrough", "taken", "not_taken", "jump", "jumptable", "tailcall",
};

static const char *const block_flag_names[] = {"unresolved", "ret", "call", "noreturn"};
static const char *const func_flag_names[] = {"symtab", "discovered", "plt"};

const char *pv_libgroup_name(pv_libgroup g)
{
    return (unsigned)g < PV_LIBGROUP_NGROUPS ? libgroup_names[g] : NULL;
}

int pv_libgroup_from_name(const char *name)
{
    for (int i = 0; name && i < PV_LIBGROUP_NGROUPS; i++)
        if (!strcmp(libgroup_names[i], name))
            return i;
    return -1;
}

int pv_profile_new(pv_profile **out)
{
    pv_profile *p = calloc(1, sizeof *p);
    if (!p)
        return pv_error_set(PV_ERR_NOMEM, "out of memory allocating a profile");
    p->schema_version = PV_PROFILE_SCHEMA_VERSION;
    *out = p;
    return PV_OK;
}

void pv_dynamic_free(pv_dynamic *d)
{
    if (!d)
        return;
    for (uint32_t i = 0; i < d->nargs; i++)
        free(d->argv[i]);
    free(d->argv);
    for (uint32_t i = 0; i < d->nparams; i++) {
        free(d->params[i].key);
        free(d->params[i].value);
    }
    free(d->params);
    for (uint32_t i = 0; i < d->nobjects; i++)
        free(d->objects[i].path);
    free(d->objects);
    free(d->counts);
    free(d->block_cache);
    for (uint32_t i = 0; i < d->ncaches; i++)
        free(d->caches[i].name);
    free(d->caches);
    for (uint32_t i = 0; i < d->nrefused; i++)
        free(d->refused[i].name);
    free(d->refused);
    free(d->threads);
    free(d->end_reason);
    free(d);
}

void pv_profile_free(pv_profile *p)
{
    if (!p)
        return;
    free(p->generator);
    free(p->uarch);
    free(p->target.path);
    free(p->target.build_id);
    free(p->target.arch);
    free(p->target.kind);
    for (uint32_t i = 0; i < p->nfiles; i++)
        free(p->files[i]);
    free(p->files);
    for (uint32_t i = 0; i < p->nfunctions; i++) {
        free(p->functions[i].name);
        free(p->functions[i].callees);
        free(p->functions[i].import_lib);
    }
    free(p->functions);
    for (uint32_t i = 0; i < p->nblocks; i++)
        free(p->blocks[i].succ);
    free(p->blocks);
    for (uint32_t i = 0; i < p->nloops; i++) {
        free(p->loops[i].blocks);
        free(p->loops[i].trip_expr);
    }
    free(p->loops);
    for (uint32_t i = 0; i < p->nlibraries; i++) {
        free(p->libraries[i].soname);
        for (uint32_t j = 0; j < p->libraries[i].nimports; j++)
            free(p->libraries[i].imports[j]);
        free(p->libraries[i].imports);
    }
    free(p->libraries);
    pv_dynamic_free(p->dynamic);
    json_decref(p->source);
    json_decref(p->scaling);
    free(p);
}

uint32_t pv_profile_intern_file(pv_profile *p, const char *name)
{
    /* Profiles reference a few hundred files at most; linear search from the
     * end finds the usual "same file as the last block" case first. */
    for (uint32_t i = p->nfiles; i-- > 0;)
        if (!strcmp(p->files[i], name))
            return i;
    /* p->files has no stored capacity: the reader, or a caller filling the
     * profile, sizes it exactly. So grow it by one each time; a new file name
     * is rare (once per file, not per lookup). */
    char **nf = realloc(p->files, ((size_t)p->nfiles + 1) * sizeof *nf);
    if (!nf)
        return PV_NONE;
    p->files = nf;
    char *dup = strdup(name);
    if (!dup)
        return PV_NONE;
    p->files[p->nfiles] = dup;
    return p->nfiles++;
}

const char *pv_profile_file(const pv_profile *p, pv_srcloc loc)
{
    return loc.file < p->nfiles ? p->files[loc.file] : NULL;
}

uint32_t pv_profile_find_block(const pv_profile *p, uint64_t addr)
{
    uint32_t lo = 0, hi = p->nblocks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->blocks[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nblocks && p->blocks[lo].addr == addr ? lo : PV_NONE;
}

uint32_t pv_profile_block_containing(const pv_profile *p, uint64_t addr)
{
    uint32_t lo = 0, hi = p->nblocks;
    while (lo < hi) { /* first block with addr > target */
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->blocks[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return PV_NONE;
    const pv_block *b = &p->blocks[lo - 1];
    return addr < b->addr + (b->size ? b->size : 1) ? lo - 1 : PV_NONE;
}

uint32_t pv_profile_find_function(const pv_profile *p, uint64_t addr)
{
    uint32_t lo = 0, hi = p->nfunctions;
    while (lo < hi) { /* first function with addr > target */
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->functions[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return PV_NONE;
    const pv_function *f = &p->functions[lo - 1];
    return addr < f->addr + (f->size ? f->size : 1) ? lo - 1 : PV_NONE;
}

/* ------------------------------------------------------------------ */
/* Writer: streamed into a buffer. jansson's DOM costs several hundred  */
/* bytes per value, which for a libLLVM-sized profile (millions of      */
/* blocks) is gigabytes; the reader still uses jansson.                 */
/* ------------------------------------------------------------------ */

typedef struct writer {
    pv_strbuf b;
    int compact;
    int depth;
} writer;

static void w_nl(writer *w)
{
    if (w->compact)
        return;
    pv_sb_putc(&w->b, '\n');
    for (int i = 0; i < w->depth; i++)
        pv_sb_puts(&w->b, "  ");
}

static void w_key(writer *w, int *first, const char *key)
{
    if (!*first)
        pv_sb_putc(&w->b, ',');
    *first = 0;
    w_nl(w);
    pv_sb_json_str(&w->b, key);
    pv_sb_puts(&w->b, w->compact ? ":" : ": ");
}

static void w_mix_generic(pv_strbuf *b, const uint64_t *n, uint64_t loaded, uint64_t stored)
{
    int first = 1;
    pv_sb_putc(b, '{');
    for (int i = 0; i < PV_MIX_NCLASSES; i++) {
        if (!n[i])
            continue;
        if (!first)
            pv_sb_putc(b, ',');
        first = 0;
        pv_sb_putc(b, '"');
        pv_sb_puts(b, pv_mix_class_name(i));
        pv_sb_puts(b, "\":");
        pv_sb_u64(b, n[i]);
    }
    if (loaded) {
        pv_sb_puts(b, first ? "\"bytes_loaded\":" : ",\"bytes_loaded\":");
        pv_sb_u64(b, loaded);
        first = 0;
    }
    if (stored) {
        pv_sb_puts(b, first ? "\"bytes_stored\":" : ",\"bytes_stored\":");
        pv_sb_u64(b, stored);
    }
    pv_sb_putc(b, '}');
}

static void w_mix(pv_strbuf *b, const pv_mix *m)
{
    uint64_t n[PV_MIX_NCLASSES];
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        n[i] = m->n[i];
    w_mix_generic(b, n, m->bytes_loaded, m->bytes_stored);
}

static void w_mix64(pv_strbuf *b, const pv_mix64 *m) { w_mix_generic(b, m->n, m->bytes_loaded, m->bytes_stored); }

static void w_flags(pv_strbuf *b, uint32_t flags, const char *const *names, int nnames)
{
    int first = 1;
    pv_sb_putc(b, '[');
    for (int i = 0; i < nnames; i++) {
        if (!(flags & (1u << i)))
            continue;
        if (!first)
            pv_sb_putc(b, ',');
        first = 0;
        pv_sb_json_str(b, names[i]);
    }
    pv_sb_putc(b, ']');
}

static void w_loc(pv_strbuf *b, pv_srcloc loc)
{
    if (loc.file == PV_NONE)
        return;
    pv_sb_puts(b, ",\"file\":");
    pv_sb_u64(b, loc.file);
    pv_sb_puts(b, ",\"line\":");
    pv_sb_u64(b, loc.line);
}

static int check_loc(const pv_profile *p, pv_srcloc loc, const char *what, uint32_t i)
{
    if (loc.file != PV_NONE && loc.file >= p->nfiles)
        return pv_error_set(PV_ERR_INVALID, "profile: %s[%u]: file index %u out of range (%u files)", what, i,
                            loc.file, p->nfiles);
    return PV_OK;
}

static int check_model(const pv_profile *p)
{
    for (uint32_t i = 0; i < p->nfunctions; i++) {
        const pv_function *f = &p->functions[i];
        if (check_loc(p, f->loc, "functions", i))
            return PV_ERR_INVALID;
        if ((uint64_t)f->first_block + f->nblocks > p->nblocks)
            return pv_error_set(PV_ERR_INVALID, "profile: functions[%u]: first_block %u + nblocks %u exceeds the %u blocks",
                                i, f->first_block, f->nblocks, p->nblocks);
        for (uint32_t j = 0; j < f->ncallees; j++)
            if (f->callees[j] >= p->nfunctions)
                return pv_error_set(PV_ERR_INVALID, "profile: functions[%u].callees[%u] = %u out of range", i, j,
                                    f->callees[j]);
    }
    for (uint32_t i = 0; i < p->nblocks; i++) {
        if (p->blocks[i].func >= p->nfunctions)
            return pv_error_set(PV_ERR_INVALID, "profile: blocks[%u].func = %u out of range", i, p->blocks[i].func);
        if (check_loc(p, p->blocks[i].loc, "blocks", i))
            return PV_ERR_INVALID;
        if (i && p->blocks[i].addr <= p->blocks[i - 1].addr)
            return pv_error_set(PV_ERR_INVALID, "profile: blocks[%u].addr 0x%llx: blocks must be sorted by address "
                                "(blocks[%u] is at 0x%llx)", i, (unsigned long long)p->blocks[i].addr, i - 1,
                                (unsigned long long)p->blocks[i - 1].addr);
    }
    for (uint32_t i = 0; i < p->nloops; i++) {
        const pv_loop *l = &p->loops[i];
        if (l->func >= p->nfunctions || (l->parent != PV_NONE && l->parent >= p->nloops) || l->depth < 1)
            return pv_error_set(PV_ERR_INVALID, "profile: loops[%u]: func, parent or depth out of range", i);
        for (uint32_t j = 0; j < l->nblocks; j++)
            if (l->blocks[j] >= p->nblocks)
                return pv_error_set(PV_ERR_INVALID, "profile: loops[%u].blocks[%u] out of range", i, j);
        if (check_loc(p, l->loc, "loops", i))
            return PV_ERR_INVALID;
    }
    const pv_dynamic *d = p->dynamic;
    if (d && d->block_cache && d->ncaches > PV_CACHE_MAX_LEVELS)
        return pv_error_set(PV_ERR_INVALID, "profile: dynamic: per-block cache figures for %u levels, at most %d",
                            d->ncaches, PV_CACHE_MAX_LEVELS);
    for (uint32_t i = 0; d && i < d->ncounts; i++)
        if (d->counts[i].object >= d->nobjects)
            return pv_error_set(PV_ERR_INVALID, "profile: dynamic.block_counts[%u].object = %u out of range (%u objects)",
                                i, d->counts[i].object, d->nobjects);
    return PV_OK;
}

static void w_dynamic(writer *w, const pv_dynamic *d)
{
    pv_strbuf *b = &w->b;
    int first = 1;
    pv_sb_putc(b, '{');
    w->depth++;
    w_key(w, &first, "argv");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->nargs; i++) {
        if (i)
            pv_sb_putc(b, ',');
        pv_sb_json_str(b, d->argv[i]);
    }
    pv_sb_putc(b, ']');
    if (d->nparams) {
        w_key(w, &first, "params");
        pv_sb_putc(b, '{');
        for (uint32_t i = 0; i < d->nparams; i++) {
            if (i)
                pv_sb_putc(b, ',');
            pv_sb_json_str(b, d->params[i].key);
            pv_sb_putc(b, ':');
            pv_sb_json_str(b, d->params[i].value);
        }
        pv_sb_putc(b, '}');
    }
    w_key(w, &first, "insns");
    pv_sb_u64(b, d->insns);
    w_key(w, &first, "target_insns");
    pv_sb_u64(b, d->target_insns);
    w_key(w, &first, "mix");
    w_mix64(b, &d->mix);
    w_key(w, &first, "target_mix");
    w_mix64(b, &d->target_mix);
    w_key(w, &first, "objects");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->nobjects; i++) {
        pv_sb_puts(b, i ? ",{\"path\":" : "{\"path\":");
        pv_sb_json_str(b, d->objects[i].path);
        pv_sb_puts(b, ",\"base\":");
        pv_sb_u64(b, d->objects[i].base);
        if (d->objects[i].is_target)
            pv_sb_puts(b, ",\"target\":true");
        pv_sb_putc(b, '}');
    }
    pv_sb_putc(b, ']');
    w_key(w, &first, "block_counts");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *c = &d->counts[i];
        if (i)
            pv_sb_putc(b, ',');
        if (!w->compact && i % 4 == 0)
            w_nl(w);
        pv_sb_putc(b, '[');
        pv_sb_u64(b, c->object);
        pv_sb_putc(b, ',');
        pv_sb_u64(b, c->addr);
        pv_sb_putc(b, ',');
        pv_sb_u64(b, c->ninsns);
        pv_sb_putc(b, ',');
        pv_sb_u64(b, c->count);
        if (d->block_cache) {
            const pv_block_cache *bc = &d->block_cache[i];
            pv_sb_putc(b, ',');
            pv_sb_u64(b, bc->dr);
            pv_sb_putc(b, ',');
            pv_sb_u64(b, bc->dw);
            for (uint32_t k = 0; k < d->ncaches; k++) {
                pv_sb_putc(b, ',');
                pv_sb_u64(b, bc->mr[k]);
                pv_sb_putc(b, ',');
                pv_sb_u64(b, bc->mw[k]);
            }
        }
        pv_sb_putc(b, ']');
    }
    pv_sb_putc(b, ']');
    w_key(w, &first, "memory");
    pv_sb_printf(b, "{\"peak_bytes\":%llu,\"touched_bytes\":%llu,\"heap_peak_bytes\":%llu,\"stack_peak_bytes\":%llu}",
                 (unsigned long long)d->mem_peak, (unsigned long long)d->mem_touched,
                 (unsigned long long)d->heap_peak, (unsigned long long)d->stack_peak);
    w_key(w, &first, "io");
    pv_sb_printf(b, "{\"bytes_read\":%llu,\"bytes_written\":%llu,\"files_opened\":%llu,\"syscalls\":%llu}",
                 (unsigned long long)d->io_bytes_read, (unsigned long long)d->io_bytes_written,
                 (unsigned long long)d->io_files_opened, (unsigned long long)d->syscalls);
    w_key(w, &first, "cache");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->ncaches; i++) {
        const pv_cache_stats *c = &d->caches[i];
        pv_sb_puts(b, i ? ",{\"level\":" : "{\"level\":");
        pv_sb_json_str(b, c->name);
        pv_sb_printf(b, ",\"size\":%llu,\"line\":%u,\"assoc\":%u,\"accesses\":%llu,\"misses\":%llu,",
                     (unsigned long long)c->size, c->line, c->assoc, (unsigned long long)c->accesses,
                     (unsigned long long)c->misses);
        pv_sb_puts(b, "\"sampled_fraction\":");
        pv_sb_double(b, c->sampled_fraction);
        if (c->misses_ci95 != 0) {
            pv_sb_puts(b, ",\"misses_ci95\":");
            pv_sb_double(b, c->misses_ci95);
        }
        pv_sb_putc(b, '}');
    }
    pv_sb_putc(b, ']');
    if (d->has_branches) {
        const pv_branch_stats *br = &d->branches;
        w_key(w, &first, "branches");
        pv_sb_puts(b, "{\"model\":");
        pv_sb_json_str(b, br->model);
        pv_sb_printf(b, ",\"cond\":%llu,\"cond_miss\":%llu,\"indirect\":%llu,\"indirect_miss\":%llu,",
                     (unsigned long long)br->cond, (unsigned long long)br->cond_miss,
                     (unsigned long long)br->indirect, (unsigned long long)br->indirect_miss);
        pv_sb_puts(b, "\"sampled_fraction\":");
        pv_sb_double(b, br->sampled_fraction);
        pv_sb_putc(b, '}');
    }
    w_key(w, &first, "refused_syscalls");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->nrefused; i++) {
        pv_sb_puts(b, i ? ",{\"name\":" : "{\"name\":");
        pv_sb_json_str(b, d->refused[i].name);
        pv_sb_printf(b, ",\"nr\":%d,\"count\":%llu}", d->refused[i].nr, (unsigned long long)d->refused[i].count);
    }
    pv_sb_putc(b, ']');
    w_key(w, &first, "threads");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < d->nthreads; i++)
        pv_sb_printf(b, "%s{\"tid\":%u,\"insns\":%llu}", i ? "," : "", d->threads[i].tid,
                     (unsigned long long)d->threads[i].insns);
    pv_sb_putc(b, ']');
    w_key(w, &first, "exit_code");
    pv_sb_i64(b, d->exit_code);
    w_key(w, &first, "end_reason");
    pv_sb_json_str(b, d->end_reason ? d->end_reason : "exit");
    w_key(w, &first, "emu_seconds");
    pv_sb_double(b, d->emu_seconds);
    w_key(w, &first, "deterministic");
    pv_sb_puts(b, d->deterministic ? "true" : "false");
    w->depth--;
    w_nl(w);
    pv_sb_putc(b, '}');
}

static void w_json(writer *w, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (!s) {
        w->b.failed = 1;
        return;
    }
    pv_sb_puts(&w->b, s);
    free(s);
}

int pv_profile_to_string(const pv_profile *p, char **out, int compact)
{
    *out = NULL;
    int rc = check_model(p);
    if (rc)
        return rc;
    writer w = {.compact = compact};
    pv_strbuf *b = &w.b;
    int first = 1;
    pv_sb_putc(b, '{');
    w.depth = 1;
    w_key(&w, &first, "format");
    pv_sb_json_str(b, PV_PROFILE_FORMAT);
    w_key(&w, &first, "schema_version");
    pv_sb_u64(b, PV_PROFILE_SCHEMA_VERSION);
    w_key(&w, &first, "generator");
    pv_sb_json_str(b, p->generator ? p->generator : "prevision");
    if (p->uarch) {
        w_key(&w, &first, "uarch");
        pv_sb_json_str(b, p->uarch);
    }
    w_key(&w, &first, "target");
    pv_sb_puts(b, "{\"path\":");
    pv_sb_json_str(b, p->target.path ? p->target.path : "");
    if (p->target.build_id) {
        pv_sb_puts(b, ",\"build_id\":");
        pv_sb_json_str(b, p->target.build_id);
    }
    pv_sb_puts(b, ",\"arch\":");
    pv_sb_json_str(b, p->target.arch ? p->target.arch : "x86_64");
    pv_sb_puts(b, ",\"kind\":");
    pv_sb_json_str(b, p->target.kind ? p->target.kind : "exec");
    pv_sb_puts(b, ",\"sha256\":");
    pv_sb_json_str(b, p->target.sha256);
    pv_sb_puts(b, ",\"entry\":");
    pv_sb_u64(b, p->target.entry);
    pv_sb_puts(b, p->target.stripped ? ",\"stripped\":true}" : ",\"stripped\":false}");

    w_key(&w, &first, "files");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < p->nfiles; i++) {
        if (i)
            pv_sb_putc(b, ',');
        pv_sb_json_str(b, p->files[i]);
    }
    pv_sb_putc(b, ']');

    w_key(&w, &first, "functions");
    pv_sb_putc(b, '[');
    w.depth++;
    for (uint32_t i = 0; i < p->nfunctions; i++) {
        const pv_function *f = &p->functions[i];
        if (i)
            pv_sb_putc(b, ',');
        w_nl(&w);
        pv_sb_puts(b, "{\"name\":");
        pv_sb_json_str(b, f->name ? f->name : "");
        pv_sb_puts(b, ",\"addr\":");
        pv_sb_u64(b, f->addr);
        pv_sb_puts(b, ",\"size\":");
        pv_sb_u64(b, f->size);
        w_loc(b, f->loc);
        pv_sb_puts(b, ",\"origin\":");
        w_flags(b, f->flags, func_flag_names, 3);
        pv_sb_puts(b, ",\"first_block\":");
        pv_sb_u64(b, f->first_block);
        pv_sb_puts(b, ",\"nblocks\":");
        pv_sb_u64(b, f->nblocks);
        pv_sb_puts(b, ",\"insns\":");
        pv_sb_u64(b, f->ninsns);
        if (f->nundecoded) {
            pv_sb_puts(b, ",\"undecoded_bytes\":");
            pv_sb_u64(b, f->nundecoded);
        }
        pv_sb_puts(b, ",\"callees\":[");
        for (uint32_t j = 0; j < f->ncallees; j++) {
            if (j)
                pv_sb_putc(b, ',');
            pv_sb_u64(b, f->callees[j]);
        }
        pv_sb_putc(b, ']');
        if (f->import_lib) {
            pv_sb_puts(b, ",\"import_lib\":");
            pv_sb_json_str(b, f->import_lib);
        }
        pv_sb_puts(b, ",\"mix\":");
        w_mix(b, &f->mix);
        pv_sb_putc(b, '}');
    }
    w.depth--;
    w_nl(&w);
    pv_sb_putc(b, ']');

    w_key(&w, &first, "blocks");
    pv_sb_putc(b, '[');
    w.depth++;
    for (uint32_t i = 0; i < p->nblocks; i++) {
        const pv_block *k = &p->blocks[i];
        if (i)
            pv_sb_putc(b, ',');
        w_nl(&w);
        pv_sb_puts(b, "{\"addr\":");
        pv_sb_u64(b, k->addr);
        pv_sb_puts(b, ",\"size\":");
        pv_sb_u64(b, k->size);
        pv_sb_puts(b, ",\"insns\":");
        pv_sb_u64(b, k->ninsns);
        pv_sb_puts(b, ",\"func\":");
        pv_sb_u64(b, k->func);
        if (k->flags) {
            pv_sb_puts(b, ",\"flags\":");
            w_flags(b, k->flags, block_flag_names, 4);
        }
        pv_sb_puts(b, ",\"cycles\":");
        pv_sb_float(b, k->cycles);
        if (k->moves) {
            pv_sb_puts(b, ",\"moves\":");
            pv_sb_u64(b, k->moves);
        }
        pv_sb_puts(b, ",\"succ\":[");
        for (uint32_t j = 0; j < k->nsucc; j++) {
            if (j)
                pv_sb_putc(b, ',');
            pv_sb_putc(b, '[');
            pv_sb_u64(b, k->succ[j].target);
            pv_sb_putc(b, ',');
            pv_sb_json_str(b, k->succ[j].kind < PV_EDGE_NKINDS ? edge_kind_names[k->succ[j].kind] : "jump");
            pv_sb_putc(b, ']');
        }
        pv_sb_putc(b, ']');
        w_loc(b, k->loc);
        pv_sb_puts(b, ",\"mix\":");
        w_mix(b, &k->mix);
        pv_sb_putc(b, '}');
    }
    w.depth--;
    w_nl(&w);
    pv_sb_putc(b, ']');

    w_key(&w, &first, "loops");
    pv_sb_putc(b, '[');
    w.depth++;
    for (uint32_t i = 0; i < p->nloops; i++) {
        const pv_loop *l = &p->loops[i];
        if (i)
            pv_sb_putc(b, ',');
        w_nl(&w);
        pv_sb_puts(b, "{\"header\":");
        pv_sb_u64(b, l->header);
        pv_sb_puts(b, ",\"func\":");
        pv_sb_u64(b, l->func);
        if (l->parent != PV_NONE) {
            pv_sb_puts(b, ",\"parent\":");
            pv_sb_u64(b, l->parent);
        }
        pv_sb_puts(b, ",\"depth\":");
        pv_sb_u64(b, l->depth);
        if (l->flags & PV_LOOP_IRREDUCIBLE)
            pv_sb_puts(b, ",\"irreducible\":true");
        pv_sb_puts(b, ",\"blocks\":[");
        for (uint32_t j = 0; j < l->nblocks; j++) {
            if (j)
                pv_sb_putc(b, ',');
            pv_sb_u64(b, l->blocks[j]);
        }
        pv_sb_putc(b, ']');
        w_loc(b, l->loc);
        if (l->trip_count >= 0) {
            pv_sb_puts(b, ",\"trip_count\":");
            pv_sb_i64(b, l->trip_count);
        }
        if (l->trip_expr) {
            pv_sb_puts(b, ",\"trip_expr\":");
            pv_sb_json_str(b, l->trip_expr);
        }
        pv_sb_puts(b, ",\"cycles_per_iter\":");
        pv_sb_float(b, l->cycles_per_iter);
        pv_sb_putc(b, '}');
    }
    w.depth--;
    w_nl(&w);
    pv_sb_putc(b, ']');

    w_key(&w, &first, "libraries");
    pv_sb_putc(b, '[');
    for (uint32_t i = 0; i < p->nlibraries; i++) {
        const pv_library *l = &p->libraries[i];
        pv_sb_puts(b, i ? ",{\"soname\":" : "{\"soname\":");
        pv_sb_json_str(b, l->soname);
        pv_sb_puts(b, ",\"group\":");
        pv_sb_json_str(b, pv_libgroup_name(l->group) ? pv_libgroup_name(l->group) : "other");
        pv_sb_puts(b, ",\"imports\":[");
        for (uint32_t j = 0; j < l->nimports; j++) {
            if (j)
                pv_sb_putc(b, ',');
            pv_sb_json_str(b, l->imports[j]);
        }
        pv_sb_puts(b, "]}");
    }
    pv_sb_putc(b, ']');

    w_key(&w, &first, "summary");
    pv_sb_puts(b, "{\"insns\":");
    pv_sb_u64(b, p->ninsns);
    pv_sb_puts(b, ",\"undecoded_bytes\":");
    pv_sb_u64(b, p->nundecoded);
    pv_sb_puts(b, ",\"mix\":");
    w_mix(b, &p->mix);
    pv_sb_putc(b, '}');

    if (p->dynamic) {
        w_key(&w, &first, "dynamic");
        w_dynamic(&w, p->dynamic);
    }
    if (p->source) {
        w_key(&w, &first, "source");
        w_json(&w, p->source);
    }
    if (p->scaling) {
        w_key(&w, &first, "scaling");
        w_json(&w, p->scaling);
    }
    w.depth = 0;
    w_nl(&w);
    pv_sb_puts(b, "}\n");
    if (b->failed) {
        pv_sb_free(b);
        return pv_error_set(PV_ERR_NOMEM, "out of memory serializing the profile");
    }
    *out = b->data;
    return PV_OK;
}

int pv_profile_save(const pv_profile *p, const char *path, int compact)
{
    char *text = NULL;
    int rc = pv_profile_to_string(p, &text, compact);
    if (rc == PV_OK)
        rc = pv_file_write_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reader: schema validation first, then conversion plus the semantic  */
/* checks a schema cannot express (indices in range).                   */
/* ------------------------------------------------------------------ */

typedef struct reader {
    const char *source;
} reader;

static uint64_t ju(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return v ? (uint64_t)json_integer_value(v) : 0;
}

/* o[k] (0 when absent) into a 32-bit field: $.ARR[i].k and what was found
 * when it does not fit, rather than a silently cut value. */
static int ju32(reader *r, const json_t *o, const char *k, const char *arr, size_t i, uint32_t *out)
{
    uint64_t v = ju(o, k);
    if (v > UINT32_MAX)
        return pv_error_set(PV_ERR_FORMAT, "%s: $.%s[%zu].%s: expected a value below 2^32, got %llu", r->source, arr,
                            i, k, (unsigned long long)v);
    *out = (uint32_t)v;
    return PV_OK;
}

/* Same for a signed 32-bit field (exit status, syscall number); @i < 0: o is not in an array. */
static int ji32(reader *r, const json_t *o, const char *k, const char *arr, long i, int32_t *out)
{
    json_int_t v = json_integer_value(json_object_get(o, k));
    if (v < INT32_MIN || v > INT32_MAX) {
        char idx[32] = "";
        if (i >= 0)
            snprintf(idx, sizeof idx, "[%ld]", i);
        return pv_error_set(PV_ERR_FORMAT, "%s: $.%s%s.%s: expected a 32-bit integer, got %lld", r->source, arr, idx, k,
                            (long long)v);
    }
    *out = (int32_t)v;
    return PV_OK;
}

static char *jsdup(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* An optional string field: a copy of o[k] in *out, NULL when absent.
 * PV_ERR_NOMEM when the copy fails (jsdup's NULL would read as "absent"). */
static int r_str(reader *r, const json_t *o, const char *k, char **out)
{
    *out = jsdup(o, k);
    if (!*out && json_is_string(json_object_get(o, k)))
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", r->source);
    return PV_OK;
}

static void r_mix(const json_t *m, uint64_t *n, uint64_t *loaded, uint64_t *stored)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)m, key, v) {
        int c = pv_mix_class_from_name(key);
        if (c >= 0)
            n[c] = (uint64_t)json_integer_value(v);
        else if (!strcmp(key, "bytes_loaded"))
            *loaded = (uint64_t)json_integer_value(v);
        else if (!strcmp(key, "bytes_stored"))
            *stored = (uint64_t)json_integer_value(v);
    }
}

static int r_mix32(reader *r, const json_t *m, pv_mix *out, const char *where, size_t i)
{
    uint64_t n[PV_MIX_NCLASSES] = {0}, ld = 0, st = 0;
    if (!m)
        return PV_OK;
    r_mix(m, n, &ld, &st);
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        if (n[c] > UINT32_MAX)
            return pv_error_set(PV_ERR_FORMAT, "%s: $.%s[%zu].mix.%s: expected a count below 2^32, got %llu",
                                r->source, where, i, pv_mix_class_name(c), (unsigned long long)n[c]);
        out->n[c] = (uint32_t)n[c];
    }
    if (ld > UINT32_MAX || st > UINT32_MAX)
        return pv_error_set(PV_ERR_FORMAT, "%s: $.%s[%zu].mix: byte counts must be below 2^32", r->source, where, i);
    out->bytes_loaded = (uint32_t)ld;
    out->bytes_stored = (uint32_t)st;
    return PV_OK;
}

static void r_mix64(const json_t *m, pv_mix64 *out)
{
    if (m)
        r_mix(m, out->n, &out->bytes_loaded, &out->bytes_stored);
}

static int r_index(reader *r, const json_t *o, const char *k, uint32_t limit, const char *what, const char *arr,
                   size_t i, uint32_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!v) {
        *out = PV_NONE;
        return PV_OK;
    }
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x >= limit)
        return pv_error_set(PV_ERR_FORMAT, "%s: $.%s[%zu].%s: expected an index into %s (0..%lld), got %lld",
                            r->source, arr, i, k, what, (long long)limit - 1, (long long)x);
    *out = (uint32_t)x;
    return PV_OK;
}

static int r_loc(reader *r, const json_t *o, uint32_t nfiles, const char *arr, size_t i, pv_srcloc *loc)
{
    int rc = ju32(r, o, "line", arr, i, &loc->line);
    return rc ? rc : r_index(r, o, "file", nfiles, "$.files", arr, i, &loc->file);
}

static uint32_t r_flags(const json_t *arr, const char *const *names, int nnames)
{
    uint32_t f = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        for (int k = 0; k < nnames; k++)
            if (!strcmp(json_string_value(v), names[k]))
                f |= 1u << k;
    }
    return f;
}

static int too_many(reader *r, const char *arr, size_t n)
{
    if (n >= PV_NONE)
        return pv_error_set(PV_ERR_FORMAT, "%s: $.%s: %zu entries, more than prevision supports", r->source, arr, n);
    return PV_OK;
}

#define ALLOC_ARRAY(ptr, n)                                                          \
    do {                                                                             \
        if ((n) && !((ptr) = calloc((n), sizeof *(ptr)))) {                          \
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", r->source);        \
            goto done;                                                               \
        }                                                                            \
    } while (0)

static int r_dynamic(reader *r, const json_t *j, pv_dynamic **out)
{
    int rc = PV_OK;
    pv_dynamic *d = calloc(1, sizeof *d);
    if (!d)
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", r->source);
    size_t i;
    const json_t *v;
    const json_t *argv = json_object_get(j, "argv");
    d->nargs = (uint32_t)json_array_size(argv);
    ALLOC_ARRAY(d->argv, d->nargs);
    json_array_foreach(argv, i, v) if (!(d->argv[i] = strdup(json_string_value(v)))) goto nomem;
    const json_t *params = json_object_get(j, "params");
    d->nparams = (uint32_t)json_object_size(params);
    ALLOC_ARRAY(d->params, d->nparams);
    {
        const char *key;
        json_t *pv;
        i = 0;
        json_object_foreach((json_t *)params, key, pv) {
            d->params[i].key = strdup(key);
            d->params[i].value = strdup(json_string_value(pv));
            if (!d->params[i].key || !d->params[i].value)
                goto nomem;
            i++;
        }
    }
    d->insns = ju(j, "insns");
    d->target_insns = ju(j, "target_insns");
    r_mix64(json_object_get(j, "mix"), &d->mix);
    r_mix64(json_object_get(j, "target_mix"), &d->target_mix);
    const json_t *objs = json_object_get(j, "objects");
    d->nobjects = (uint32_t)json_array_size(objs);
    ALLOC_ARRAY(d->objects, d->nobjects);
    json_array_foreach(objs, i, v) {
        if (!(d->objects[i].path = jsdup(v, "path")))
            goto nomem;
        d->objects[i].base = ju(v, "base");
        d->objects[i].is_target = json_is_true(json_object_get(v, "target"));
    }
    /* Rows carry per-block cache figures for every level of "cache", or none. */
    size_t ncache_levels = json_array_size(json_object_get(j, "cache"));
    const json_t *counts = json_object_get(j, "block_counts");
    if ((rc = too_many(r, "dynamic.block_counts", json_array_size(counts))))
        goto done;
    d->ncounts = (uint32_t)json_array_size(counts);
    ALLOC_ARRAY(d->counts, d->ncounts);
    json_array_foreach(counts, i, v) {
        uint64_t obj = (uint64_t)json_integer_value(json_array_get(v, 0));
        if (obj >= d->nobjects) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.dynamic.block_counts[%zu][0]: expected an index into "
                              "$.dynamic.objects (%u objects), got %llu", r->source, i, d->nobjects,
                              (unsigned long long)obj);
            goto done;
        }
        uint64_t ninsns = (uint64_t)json_integer_value(json_array_get(v, 2));
        if (ninsns > UINT32_MAX) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.dynamic.block_counts[%zu][2]: expected a value below 2^32, got %llu",
                              r->source, i, (unsigned long long)ninsns);
            goto done;
        }
        d->counts[i].object = (uint32_t)obj;
        d->counts[i].addr = (uint64_t)json_integer_value(json_array_get(v, 1));
        d->counts[i].ninsns = (uint32_t)ninsns;
        d->counts[i].count = (uint64_t)json_integer_value(json_array_get(v, 3));
        size_t len = json_array_size(v);
        if (len != 4 && (ncache_levels > PV_CACHE_MAX_LEVELS || len != 6 + 2 * ncache_levels ||
                         (i > 0 && !d->block_cache))) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.dynamic.block_counts[%zu]: expected 4 items, or 6 + 2 per "
                              "level of $.dynamic.cache (%zu levels, at most %d) in every row, got %zu", r->source,
                              i, ncache_levels, PV_CACHE_MAX_LEVELS, len);
            goto done;
        }
        if (len > 4) {
            if (!d->block_cache)
                ALLOC_ARRAY(d->block_cache, d->ncounts);
            pv_block_cache *c = &d->block_cache[i];
            c->dr = (uint64_t)json_integer_value(json_array_get(v, 4));
            c->dw = (uint64_t)json_integer_value(json_array_get(v, 5));
            for (size_t k = 0; k < ncache_levels; k++) {
                c->mr[k] = (uint64_t)json_integer_value(json_array_get(v, 6 + 2 * k));
                c->mw[k] = (uint64_t)json_integer_value(json_array_get(v, 7 + 2 * k));
            }
        } else if (d->block_cache) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.dynamic.block_counts[%zu]: 4 items where the rows before "
                              "carry cache figures (%zu)", r->source, i, 6 + 2 * ncache_levels);
            goto done;
        }
    }
    const json_t *mem = json_object_get(j, "memory");
    d->mem_peak = ju(mem, "peak_bytes");
    d->mem_touched = ju(mem, "touched_bytes");
    d->heap_peak = ju(mem, "heap_peak_bytes");
    d->stack_peak = ju(mem, "stack_peak_bytes");
    const json_t *io = json_object_get(j, "io");
    d->io_bytes_read = ju(io, "bytes_read");
    d->io_bytes_written = ju(io, "bytes_written");
    d->io_files_opened = ju(io, "files_opened");
    d->syscalls = ju(io, "syscalls");
    const json_t *br = json_object_get(j, "branches");
    if (br) {
        d->has_branches = 1;
        /* The schema bounds the name in characters; the field holds bytes. */
        const char *model = json_string_value(json_object_get(br, "model"));
        if (strlen(model) >= sizeof d->branches.model) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.dynamic.branches.model: %zu bytes, at most %zu; shorten the "
                              "predictor's name", r->source, strlen(model), sizeof d->branches.model - 1);
            goto done;
        }
        memcpy(d->branches.model, model, strlen(model) + 1);
        d->branches.cond = ju(br, "cond");
        d->branches.cond_miss = ju(br, "cond_miss");
        d->branches.indirect = ju(br, "indirect");
        d->branches.indirect_miss = ju(br, "indirect_miss");
        d->branches.sampled_fraction = json_number_value(json_object_get(br, "sampled_fraction"));
    }
    const json_t *cache = json_object_get(j, "cache");
    d->ncaches = (uint32_t)json_array_size(cache);
    ALLOC_ARRAY(d->caches, d->ncaches);
    json_array_foreach(cache, i, v) {
        pv_cache_stats *c = &d->caches[i];
        if (!(c->name = jsdup(v, "level")))
            goto nomem;
        c->size = ju(v, "size");
        if ((rc = ju32(r, v, "line", "dynamic.cache", i, &c->line)) ||
            (rc = ju32(r, v, "assoc", "dynamic.cache", i, &c->assoc)))
            goto done;
        c->accesses = ju(v, "accesses");
        c->misses = ju(v, "misses");
        const json_t *sf = json_object_get(v, "sampled_fraction");
        c->sampled_fraction = sf ? json_number_value(sf) : 1.0;
        const json_t *ci = json_object_get(v, "misses_ci95");
        c->misses_ci95 = ci ? json_number_value(ci) : (c->sampled_fraction < 1 ? -1 : 0);
    }
    const json_t *ref = json_object_get(j, "refused_syscalls");
    d->nrefused = (uint32_t)json_array_size(ref);
    ALLOC_ARRAY(d->refused, d->nrefused);
    json_array_foreach(ref, i, v) {
        if (!(d->refused[i].name = jsdup(v, "name")))
            goto nomem;
        if ((rc = ji32(r, v, "nr", "dynamic.refused_syscalls", (long)i, &d->refused[i].nr)))
            goto done;
        d->refused[i].count = ju(v, "count");
    }
    const json_t *thr = json_object_get(j, "threads");
    d->nthreads = (uint32_t)json_array_size(thr);
    ALLOC_ARRAY(d->threads, d->nthreads);
    json_array_foreach(thr, i, v) {
        if ((rc = ju32(r, v, "tid", "dynamic.threads", i, &d->threads[i].tid)))
            goto done;
        d->threads[i].insns = ju(v, "insns");
    }
    if ((rc = ji32(r, j, "exit_code", "dynamic", -1, &d->exit_code)))
        goto done;
    if (!(d->end_reason = jsdup(j, "end_reason")))
        goto nomem;
    d->emu_seconds = json_number_value(json_object_get(j, "emu_seconds"));
    d->deterministic = json_is_true(json_object_get(j, "deterministic"));
    *out = d;
    d = NULL;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", r->source);
done:
    pv_dynamic_free(d);
    return rc;
}

static int r_profile(reader *r, const json_t *j, pv_profile *p)
{
    int rc = PV_OK;
    size_t i;
    const json_t *v;
    p->schema_version = (int)json_integer_value(json_object_get(j, "schema_version"));
    const json_t *t = json_object_get(j, "target");
    if ((rc = r_str(r, j, "generator", &p->generator)) || (rc = r_str(r, j, "uarch", &p->uarch)) ||
        (rc = r_str(r, t, "path", &p->target.path)) || (rc = r_str(r, t, "build_id", &p->target.build_id)) ||
        (rc = r_str(r, t, "arch", &p->target.arch)) || (rc = r_str(r, t, "kind", &p->target.kind)))
        goto done;
    snprintf(p->target.sha256, sizeof p->target.sha256, "%s", json_string_value(json_object_get(t, "sha256")));
    p->target.entry = ju(t, "entry");
    p->target.stripped = json_is_true(json_object_get(t, "stripped"));

    const json_t *files = json_object_get(j, "files");
    if ((rc = too_many(r, "files", json_array_size(files))))
        goto done;
    p->nfiles = (uint32_t)json_array_size(files);
    ALLOC_ARRAY(p->files, p->nfiles);
    json_array_foreach(files, i, v) if (!(p->files[i] = strdup(json_string_value(v)))) goto nomem;

    const json_t *funcs = json_object_get(j, "functions");
    const json_t *blocks = json_object_get(j, "blocks");
    const json_t *loops = json_object_get(j, "loops");
    if ((rc = too_many(r, "functions", json_array_size(funcs))) || (rc = too_many(r, "blocks", json_array_size(blocks))) ||
        (rc = too_many(r, "loops", json_array_size(loops))))
        goto done;
    p->nfunctions = (uint32_t)json_array_size(funcs);
    p->nblocks = (uint32_t)json_array_size(blocks);
    p->nloops = (uint32_t)json_array_size(loops);
    ALLOC_ARRAY(p->functions, p->nfunctions);
    ALLOC_ARRAY(p->blocks, p->nblocks);
    ALLOC_ARRAY(p->loops, p->nloops);

    json_array_foreach(funcs, i, v) {
        pv_function *f = &p->functions[i];
        if (!(f->name = jsdup(v, "name")))
            goto nomem;
        f->addr = ju(v, "addr");
        f->size = ju(v, "size");
        if ((rc = r_loc(r, v, p->nfiles, "functions", i, &f->loc)))
            goto done;
        f->flags = r_flags(json_object_get(v, "origin"), func_flag_names, 3);
        if ((rc = ju32(r, v, "first_block", "functions", i, &f->first_block)) ||
            (rc = ju32(r, v, "nblocks", "functions", i, &f->nblocks)))
            goto done;
        if ((uint64_t)f->first_block + f->nblocks > p->nblocks) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.functions[%zu]: first_block + nblocks = %llu exceeds the %u blocks",
                              r->source, i, (unsigned long long)f->first_block + f->nblocks, p->nblocks);
            goto done;
        }
        if ((rc = ju32(r, v, "insns", "functions", i, &f->ninsns)) ||
            (rc = ju32(r, v, "undecoded_bytes", "functions", i, &f->nundecoded)))
            goto done;
        if ((rc = r_str(r, v, "import_lib", &f->import_lib)))
            goto done;
        const json_t *callees = json_object_get(v, "callees");
        f->ncallees = (uint32_t)json_array_size(callees);
        ALLOC_ARRAY(f->callees, f->ncallees);
        size_t k;
        const json_t *c;
        json_array_foreach(callees, k, c) {
            json_int_t x = json_integer_value(c);
            if (x < 0 || (uint64_t)x >= p->nfunctions) {
                rc = pv_error_set(PV_ERR_FORMAT, "%s: $.functions[%zu].callees[%zu]: expected an index into "
                                  "$.functions (0..%u), got %lld", r->source, i, k, p->nfunctions - 1, (long long)x);
                goto done;
            }
            f->callees[k] = (uint32_t)x;
        }
        if ((rc = r_mix32(r, json_object_get(v, "mix"), &f->mix, "functions", i)))
            goto done;
    }
    json_array_foreach(blocks, i, v) {
        pv_block *k = &p->blocks[i];
        k->addr = ju(v, "addr");
        if ((rc = ju32(r, v, "size", "blocks", i, &k->size)) || (rc = ju32(r, v, "insns", "blocks", i, &k->ninsns)))
            goto done;
        if ((rc = r_index(r, v, "func", p->nfunctions, "$.functions", "blocks", i, &k->func)))
            goto done;
        k->flags = r_flags(json_object_get(v, "flags"), block_flag_names, 4);
        k->cycles = (float)json_number_value(json_object_get(v, "cycles"));
        /* Absent in profiles from before the field: 0, every int_alu op takes a port. */
        if ((rc = ju32(r, v, "moves", "blocks", i, &k->moves)))
            goto done;
        if (k->moves > k->ninsns) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.blocks[%zu].moves: %u register moves in a block of %u "
                              "instructions; expected at most its instruction count", r->source, i, k->moves,
                              k->ninsns);
            goto done;
        }
        if (i && k->addr <= p->blocks[i - 1].addr) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: $.blocks[%zu].addr: expected blocks sorted by address, "
                              "0x%llx follows 0x%llx", r->source, i, (unsigned long long)k->addr,
                              (unsigned long long)p->blocks[i - 1].addr);
            goto done;
        }
        const json_t *succ = json_object_get(v, "succ");
        k->nsucc = (uint32_t)json_array_size(succ);
        ALLOC_ARRAY(k->succ, k->nsucc);
        size_t s;
        const json_t *e;
        json_array_foreach(succ, s, e) {
            k->succ[s].target = (uint64_t)json_integer_value(json_array_get(e, 0));
            const char *kind = json_string_value(json_array_get(e, 1));
            for (int q = 0; q < PV_EDGE_NKINDS; q++)
                if (!strcmp(kind, edge_kind_names[q]))
                    k->succ[s].kind = (uint8_t)q;
        }
        if ((rc = r_loc(r, v, p->nfiles, "blocks", i, &k->loc)))
            goto done;
        if ((rc = r_mix32(r, json_object_get(v, "mix"), &k->mix, "blocks", i)))
            goto done;
    }
    json_array_foreach(loops, i, v) {
        pv_loop *l = &p->loops[i];
        l->header = ju(v, "header");
        if ((rc = r_index(r, v, "func", p->nfunctions, "$.functions", "loops", i, &l->func)) ||
            (rc = r_index(r, v, "parent", p->nloops, "$.loops", "loops", i, &l->parent)))
            goto done;
        if ((rc = ju32(r, v, "depth", "loops", i, &l->depth)))
            goto done;
        l->flags = json_is_true(json_object_get(v, "irreducible")) ? PV_LOOP_IRREDUCIBLE : 0;
        const json_t *lb = json_object_get(v, "blocks");
        l->nblocks = (uint32_t)json_array_size(lb);
        ALLOC_ARRAY(l->blocks, l->nblocks);
        size_t k;
        const json_t *b;
        json_array_foreach(lb, k, b) {
            json_int_t x = json_integer_value(b);
            if (x < 0 || (uint64_t)x >= p->nblocks) {
                rc = pv_error_set(PV_ERR_FORMAT, "%s: $.loops[%zu].blocks[%zu]: expected an index into $.blocks "
                                  "(%u blocks), got %lld", r->source, i, k, p->nblocks, (long long)x);
                goto done;
            }
            l->blocks[k] = (uint32_t)x;
        }
        if ((rc = r_loc(r, v, p->nfiles, "loops", i, &l->loc)))
            goto done;
        const json_t *tc = json_object_get(v, "trip_count");
        l->trip_count = tc ? (int64_t)json_integer_value(tc) : -1;
        if ((rc = r_str(r, v, "trip_expr", &l->trip_expr)))
            goto done;
        l->cycles_per_iter = (float)json_number_value(json_object_get(v, "cycles_per_iter"));
    }
    const json_t *libs = json_object_get(j, "libraries");
    p->nlibraries = (uint32_t)json_array_size(libs);
    ALLOC_ARRAY(p->libraries, p->nlibraries);
    json_array_foreach(libs, i, v) {
        pv_library *l = &p->libraries[i];
        if (!(l->soname = jsdup(v, "soname")))
            goto nomem;
        l->group = (uint32_t)pv_libgroup_from_name(json_string_value(json_object_get(v, "group")));
        const json_t *imp = json_object_get(v, "imports");
        l->nimports = (uint32_t)json_array_size(imp);
        ALLOC_ARRAY(l->imports, l->nimports);
        size_t k;
        const json_t *s;
        json_array_foreach(imp, k, s) if (!(l->imports[k] = strdup(json_string_value(s)))) goto nomem;
    }
    const json_t *sum = json_object_get(j, "summary");
    p->ninsns = ju(sum, "insns");
    p->nundecoded = ju(sum, "undecoded_bytes");
    if ((rc = r_mix32(r, json_object_get(sum, "mix"), &p->mix, "summary", 0)))
        goto done;
    const json_t *dyn = json_object_get(j, "dynamic");
    if (dyn && (rc = r_dynamic(r, dyn, &p->dynamic)))
        goto done;
    const json_t *src = json_object_get(j, "source");
    if (src)
        p->source = json_incref((json_t *)src);
    const json_t *sc = json_object_get(j, "scaling");
    if (sc)
        p->scaling = json_incref((json_t *)sc);
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", r->source);
done:
    return rc;
}

int pv_profile_parse(const char *text, size_t len, const char *source, pv_profile **out)
{
    json_t *j = NULL;
    pv_profile *p = NULL;
    reader r = {.source = source ? source : "<profile>"};
    *out = NULL;
    int rc = pv_json_parse(text, len, r.source, (void **)&j);
    if (rc)
        goto done;
    /* A clear version message beats a schema complaint about "maximum". */
    const json_t *fmt = json_object_get(j, "format");
    const json_t *ver = json_object_get(j, "schema_version");
    if (json_is_string(fmt) && !strcmp(json_string_value(fmt), PV_PROFILE_FORMAT) && json_is_integer(ver) &&
        json_integer_value(ver) != PV_PROFILE_SCHEMA_VERSION) {
        rc = pv_error_set(PV_ERR_VERSION, "%s: $.schema_version: this prevision reads version %d, the file is "
                          "version %lld; regenerate it with this prevision", r.source, PV_PROFILE_SCHEMA_VERSION,
                          (long long)json_integer_value(ver));
        goto done;
    }
    if ((rc = pv_json_validate(PV_SCHEMA_PROFILE, j, r.source)))
        goto done;
    if ((rc = pv_profile_new(&p)))
        goto done;
    if ((rc = r_profile(&r, j, p)))
        goto done;
    *out = p;
    p = NULL;
done:
    pv_profile_free(p);
    json_decref(j);
    return rc;
}

int pv_profile_load(const char *path, pv_profile **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = pv_file_read(path, &text, &len);
    if (rc == PV_OK)
        rc = pv_profile_parse(text, len, path, out);
    free(text);
    return rc;
}
