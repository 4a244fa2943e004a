/* callgrind-format writer for a profile's dynamic section (see callgrind.h). */
#define _POSIX_C_SOURCE 200809L
#include "callgrind.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prevision/error.h"
#include "prevision/json.h"
#include "prevision/version.h"

#define MAXEV (3 + 2 * PV_CACHE_MAX_LEVELS + 4)

/* ---------------------------------------------------------------- */
/* String interning: ids are indices into a growing array.          */

typedef struct strtab {
    char **s;
    uint32_t n, cap;
    uint32_t *slot; /* open addressing: id + 1, 0 = empty */
    uint32_t nslot;
} strtab;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int st_grow(strtab *t)
{
    uint32_t ns = t->nslot ? t->nslot * 2 : 256;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t h = (uint32_t)hash_str(t->s[i]) & (ns - 1);
        while (slot[h])
            h = (h + 1) & (ns - 1);
        slot[h] = i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = ns;
    return 0;
}

/* @return the id of @p s, adding a copy; UINT32_MAX when out of memory. */
static uint32_t st_intern(strtab *t, const char *s)
{
    if ((t->n + 1) * 2 > t->nslot && st_grow(t))
        return UINT32_MAX;
    uint32_t h = (uint32_t)hash_str(s) & (t->nslot - 1);
    while (t->slot[h]) {
        if (!strcmp(t->s[t->slot[h] - 1], s))
            return t->slot[h] - 1;
        h = (h + 1) & (t->nslot - 1);
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        char **ns = realloc(t->s, cap * sizeof *ns);
        if (!ns)
            return UINT32_MAX;
        t->s = ns;
        t->cap = cap;
    }
    if (!(t->s[t->n] = strdup(s)))
        return UINT32_MAX;
    t->slot[h] = t->n + 1;
    return t->n++;
}

static void st_free(strtab *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->slot);
}

/* ---------------------------------------------------------------- */
/* Function symbols of an ELF object, sorted by address.            */

typedef struct sym {
    uint64_t addr, size;
    char *name;
    int rank; /* lower is a better name for an address shared by aliases */
} sym;

typedef struct symtab {
    sym *v;
    size_t n;
    int loaded;
} symtab;

static int sym_cmp(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->rank - y->rank;
}

static int name_rank(const char *name, int bind)
{
    int under = 0;
    while (name[under] == '_')
        under++;
    return (bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1000 : 2000) + under * 100 +
           (int)(strlen(name) > 99 ? 99 : strlen(name));
}

/* Read the function symbols of @p path. A file that cannot be read leaves
 * the table empty: its blocks get addresses for names, which is no error. */
static void symtab_load(symtab *t, const char *path)
{
    int fd = -1;
    Elf *e = NULL;
    Elf_Scn *scn = NULL;
    size_t cap = 0;
    int have_symtab = 0;
    t->loaded = 1;
    if (elf_version(EV_CURRENT) == EV_NONE || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        goto done;
    if (!(e = elf_begin(fd, ELF_C_READ, NULL)) || elf_kind(e) != ELF_K_ELF)
        goto done;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
            have_symtab = 1;
    }
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        Elf_Data *data;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != (have_symtab ? SHT_SYMTAB : SHT_DYNSYM) || !sh.sh_entsize)
            continue;
        if (!(data = elf_getdata(scn, NULL)))
            continue;
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < count; i++) {
            GElf_Sym s;
            const char *name;
            int type;
            if (!gelf_getsym(data, (int)i, &s) || s.st_value == 0 || s.st_shndx == SHN_UNDEF)
                continue;
            type = GELF_ST_TYPE(s.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC)
                continue;
            if (!(name = elf_strptr(e, sh.sh_link, s.st_name)) || !*name)
                continue;
            if (t->n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                sym *nv = realloc(t->v, nc * sizeof *nv);
                if (!nv)
                    goto done;
                t->v = nv;
                cap = nc;
            }
            if (!(t->v[t->n].name = strdup(name)))
                goto done;
            t->v[t->n].addr = s.st_value;
            t->v[t->n].size = s.st_size;
            t->v[t->n].rank = name_rank(name, GELF_ST_BIND(s.st_info));
            t->n++;
        }
    }
    qsort(t->v, t->n, sizeof *t->v, sym_cmp);
done:
    if (e)
        elf_end(e);
    if (fd >= 0)
        close(fd);
}

/* @return the name of the function containing @p addr, or NULL. */
static const char *symtab_find(const symtab *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) { /* first symbol with address > addr */
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    uint64_t a = t->v[lo - 1].addr;
    size_t best = lo - 1, i = lo - 1;
    /* Among aliases at that address the best-ranked sorts first. */
    while (i > 0 && t->v[i - 1].addr == a)
        best = --i;
    for (size_t j = best; j < lo; j++)
        if (t->v[j].size == 0 || addr < a + t->v[j].size)
            return t->v[j].name;
    return NULL;
}

static void symtab_free(symtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
}

/* ---------------------------------------------------------------- */

typedef struct entry {
    uint32_t ob, fn, fl, fi, line;
    uint64_t cost[MAXEV];
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->ob != y->ob)
        return x->ob < y->ob ? -1 : 1;
    if (x->fl != y->fl)
        return x->fl < y->fl ? -1 : 1;
    if (x->fn != y->fn)
        return x->fn < y->fn ? -1 : 1;
    if (x->fi != y->fi)
        return x->fi < y->fi ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static uint64_t scaled(uint64_t v, double factor)
{
    return factor == 1 ? v : (uint64_t)llround((double)v * factor);
}

static int sampled(const pv_dynamic *d)
{
    return d->ncaches && d->caches[0].sampled_fraction > 0 && d->caches[0].sampled_fraction < 1;
}

/* Print a compressed name: "(id) name" the first time, "(id)" after. */
static void put_name(FILE *f, const char *key, uint32_t id, const char *name, uint8_t *seen)
{
    if (seen[id])
        fprintf(f, "%s=(%u)\n", key, id + 1);
    else {
        fprintf(f, "%s=(%u) %s\n", key, id + 1, name);
        seen[id] = 1;
    }
}

int pve_callgrind_format(const pv_profile *p, const pve_callgrind_options *opts, char **out, size_t *outlen)
{
    pve_callgrind_options o = PVE_CALLGRIND_OPTIONS_INIT;
    const pv_dynamic *d = p ? p->dynamic : NULL;
    strtab files = {0}, fns = {0};
    symtab *syms = NULL;
    entry *ents = NULL;
    uint8_t *seen_fl = NULL, *seen_fn = NULL;
    char *buf = NULL;
    size_t len = 0, nent = 0;
    FILE *f = NULL;
    int rc = PV_ERR_NOMEM;
    uint32_t nlev = 0, nev = 1;
    const char *evname[MAXEV];
    double scale[MAXEV];
    uint64_t total[MAXEV] = {0};
    uint32_t unknown_file, bev = 0; /* index of the first branch event, 0 when none */

    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (opts) {
        if (opts->version != PVE_CALLGRIND_OPTIONS_VERSION)
            return pv_error_set(PV_ERR_INVALID, "callgrind writer: options version %d, expected %d", opts->version,
                                PVE_CALLGRIND_OPTIONS_VERSION);
        o = *opts;
    }
    if (!d)
        return pv_error_set(PV_ERR_INVALID, "callgrind writer: the profile has no dynamic section (run "
                            "'prevision profile' to measure one)");
    if (d->block_cache && (d->ncaches < 1 || d->ncaches > PV_CACHE_MAX_LEVELS))
        return pv_error_set(PV_ERR_INVALID, "callgrind writer: per-block cache figures for %u levels, expected 1 "
                            "to %d", d->ncaches, PV_CACHE_MAX_LEVELS);
    for (uint32_t i = 0; i < d->ncounts; i++)
        if (d->counts[i].object >= d->nobjects)
            return pv_error_set(PV_ERR_INVALID, "callgrind writer: dynamic.block_counts[%u]: object %u out of range "
                                "(%u objects)", i, d->counts[i].object, d->nobjects);

    evname[0] = "Ir";
    for (uint32_t k = 0; k < MAXEV; k++)
        scale[k] = 1;
    if (d->block_cache) {
        static const char *mid[] = {"D2mr", "D2mw", "D3mr", "D3mw"};
        double raw[MAXEV] = {0};
        nlev = d->ncaches;
        evname[1] = "Dr";
        evname[2] = "Dw";
        nev = 3;
        for (uint32_t k = 0; k < nlev; k++) {
            int last = k > 0 && k == nlev - 1;
            evname[nev] = k == 0 ? "D1mr" : last ? "DLmr" : mid[2 * (k - 1)];
            evname[nev + 1] = k == 0 ? "D1mw" : last ? "DLmw" : mid[2 * (k - 1) + 1];
            nev += 2;
        }
        /* Sampled: per-block figures are as measured; scale each level so
         * that its blocks add up to the level's whole-run estimate. */
        for (uint32_t i = 0; i < d->ncounts; i++) {
            const pv_block_cache *bc = &d->block_cache[i];
            raw[1] += (double)bc->dr + (double)bc->dw;
            for (uint32_t k = 0; k < nlev; k++)
                raw[3 + 2 * k] += (double)bc->mr[k] + (double)bc->mw[k];
        }
        if (sampled(d) && raw[1] > 0)
            scale[1] = scale[2] = (double)d->caches[0].accesses / raw[1];
        for (uint32_t k = 0; k < nlev; k++)
            if (sampled(d) && raw[3 + 2 * k] > 0)
                scale[3 + 2 * k] = scale[4 + 2 * k] = (double)d->caches[k].misses / raw[3 + 2 * k];
    }

    if (o.branches && o.nbranches != d->ncounts)
        return pv_error_set(PV_ERR_INVALID, "callgrind writer: %u per-block branch figures for %u blocks",
                            o.nbranches, d->ncounts);
    if (o.branches) {
        bev = nev;
        evname[nev++] = "Bc";
        evname[nev++] = "Bcm";
        evname[nev++] = "Bi";
        evname[nev++] = "Bim";
    }

    if (!(syms = calloc(d->nobjects ? d->nobjects : 1, sizeof *syms)) ||
        !(ents = calloc(d->ncounts ? d->ncounts : 1, sizeof *ents)))
        goto nomem;
    if ((unknown_file = st_intern(&files, "???")) == UINT32_MAX)
        goto nomem;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *c = &d->counts[i];
        const pv_object *ob = &d->objects[c->object];
        entry *e;
        const char *fname = NULL, *file = NULL, *ffile = NULL;
        char addrname[32];
        uint32_t line = 0;
        if (!c->count)
            continue;
        e = &ents[nent++];
        e->ob = c->object;
        if (ob->is_target && p->nblocks) {
            uint32_t bi = pv_profile_block_containing(p, c->addr);
            uint32_t fi = bi != PV_NONE ? p->blocks[bi].func : pv_profile_find_function(p, c->addr);
            if (fi != PV_NONE && fi < p->nfunctions) {
                const pv_function *fn = &p->functions[fi];
                fname = fn->name;
                ffile = pv_profile_file(p, fn->loc);
                line = fn->loc.line;
            }
            if (bi != PV_NONE) {
                file = pv_profile_file(p, p->blocks[bi].loc);
                if (p->blocks[bi].loc.line)
                    line = p->blocks[bi].loc.line;
            }
            if (!ffile)
                ffile = file;
        } else if (o.resolve_symbols && ob->path) {
            symtab *t = &syms[c->object];
            if (!t->loaded)
                symtab_load(t, ob->path);
            fname = symtab_find(t, c->addr);
        }
        if (!fname) {
            snprintf(addrname, sizeof addrname, "0x%" PRIx64, c->addr);
            fname = addrname;
        }
        e->fn = st_intern(&fns, fname);
        e->fl = ffile ? st_intern(&files, ffile) : unknown_file;
        e->fi = file ? st_intern(&files, file) : e->fl;
        if (e->fn == UINT32_MAX || e->fl == UINT32_MAX || e->fi == UINT32_MAX)
            goto nomem;
        e->line = line;
        e->cost[0] = c->count * c->ninsns;
        if (d->block_cache) {
            const pv_block_cache *bc = &d->block_cache[i];
            e->cost[1] = bc->dr;
            e->cost[2] = bc->dw;
            for (uint32_t k = 0; k < nlev; k++) {
                e->cost[3 + 2 * k] = bc->mr[k];
                e->cost[4 + 2 * k] = bc->mw[k];
            }
        }
        if (bev) {
            const pv_emu_block_branch *br = &o.branches[i];
            uint64_t miss = (uint64_t)llround(br->mispredicted);
            if (br->kind == PV_FLOW_COND) {
                e->cost[bev] = br->executed;
                e->cost[bev + 1] = miss;
            } else if (br->kind == PV_FLOW_IJUMP || br->kind == PV_FLOW_ICALL) {
                e->cost[bev + 2] = br->executed;
                e->cost[bev + 3] = miss;
            }
        }
    }
    qsort(ents, nent, sizeof *ents, entry_cmp);
    /* Merge entries of the same line, then extrapolate: rounding once per line. */
    size_t m = 0;
    for (size_t i = 0; i < nent; i++) {
        if (m && !entry_cmp(&ents[m - 1], &ents[i])) {
            for (uint32_t k = 0; k < nev; k++)
                ents[m - 1].cost[k] += ents[i].cost[k];
        } else {
            ents[m++] = ents[i];
        }
    }
    nent = m;
    for (size_t i = 0; i < nent; i++)
        for (uint32_t k = 0; k < nev; k++) {
            ents[i].cost[k] = scaled(ents[i].cost[k], scale[k]);
            total[k] += ents[i].cost[k];
        }

    if (!(seen_fl = calloc(files.n + 1, 1)) || !(seen_fn = calloc(fns.n + 1, 1)) || !(f = open_memstream(&buf, &len)))
        goto nomem;
    fprintf(f, "# callgrind format\nversion: 1\ncreator: prevision %s\n", PV_VERSION_STRING);
    if (o.cmd) {
        fprintf(f, "cmd: %s\n", o.cmd);
    } else {
        fputs("cmd:", f);
        for (uint32_t i = 0; i < d->nargs; i++)
            fprintf(f, " %s", d->argv[i] ? d->argv[i] : "");
        fputc('\n', f);
    }
    fputs("part: 1\n", f);
    fprintf(f, "desc: Trigger: end of emulated run (%s)\n", d->end_reason ? d->end_reason : "unknown");
    for (uint32_t k = 0; k < d->ncaches; k++) {
        const pv_cache_stats *cs = &d->caches[k];
        fprintf(f, "desc: %s cache: %" PRIu64 " B, %u B, %u-way associative\n", cs->name ? cs->name : "?", cs->size,
                cs->line, cs->assoc);
    }
    if (d->block_cache && sampled(d))
        fprintf(f, "desc: Cache events: sampled simulation (%.3g%% of accesses measured), per-block counts scaled "
                "to the whole-run estimate of each level\n", 100 * d->caches[0].sampled_fraction);
    if (bev && d->has_branches)
        fprintf(f, "desc: Branch predictor: %s%s\n", d->branches.model,
                d->branches.sampled_fraction < 1 ? " (sampled: mispredictions estimated from the simulated share)" : "");
    fputs("desc: Costs: self costs only (the profile has no dynamic call edges)\n", f);
    fputs("positions: line\n", f);
    fputs("event: Ir : Instructions executed\n", f);
    if (d->block_cache) {
        fputs("event: Dr : Data reads\nevent: Dw : Data writes\n", f);
        for (uint32_t k = 0; k < nlev; k++) {
            const char *ln = d->caches[k].name ? d->caches[k].name : "cache";
            fprintf(f, "event: %s : %s read misses\nevent: %s : %s write misses\n", evname[3 + 2 * k], ln,
                    evname[4 + 2 * k], ln);
        }
    }
    if (bev)
        fputs("event: Bc : Conditional branches executed\nevent: Bcm : Mispredicted conditional branches\n"
              "event: Bi : Indirect branches executed\nevent: Bim : Mispredicted indirect branches\n", f);
    fputs("events:", f);
    for (uint32_t k = 0; k < nev; k++)
        fprintf(f, " %s", evname[k]);
    fputc('\n', f);
    fputs("summary:", f);
    for (uint32_t k = 0; k < nev; k++)
        fprintf(f, " %" PRIu64, total[k]);
    fputs("\n\n", f);

    uint32_t cur_ob = UINT32_MAX, cur_fl = UINT32_MAX, cur_fn = UINT32_MAX, cur_fi = UINT32_MAX;
    for (size_t i = 0; i < nent; i++) {
        const entry *e = &ents[i];
        if (e->ob != cur_ob) {
            const char *path = d->objects[e->ob].path;
            fprintf(f, "ob=(%u) %s\n", e->ob + 1, path && *path ? path : "???");
            cur_ob = e->ob;
            cur_fl = cur_fn = UINT32_MAX;
        }
        if (e->fl != cur_fl) {
            put_name(f, "fl", e->fl, files.s[e->fl], seen_fl);
            cur_fl = e->fl;
            cur_fn = UINT32_MAX;
        }
        if (e->fn != cur_fn) {
            fputc('\n', f);
            put_name(f, "fn", e->fn, fns.s[e->fn], seen_fn);
            cur_fn = e->fn;
            cur_fi = e->fl;
        }
        if (e->fi != cur_fi) {
            put_name(f, e->fi == e->fl ? "fe" : "fi", e->fi, files.s[e->fi], seen_fl);
            cur_fi = e->fi;
        }
        fprintf(f, "%u", e->line);
        for (uint32_t k = 0; k < nev; k++)
            fprintf(f, " %" PRIu64, e->cost[k]);
        fputc('\n', f);
    }
    fputs("\ntotals:", f);
    for (uint32_t k = 0; k < nev; k++)
        fprintf(f, " %" PRIu64, total[k]);
    fputc('\n', f);
    if (ferror(f) || fclose(f)) {
        f = NULL;
        goto nomem;
    }
    f = NULL;
    *out = buf;
    if (outlen)
        *outlen = len;
    buf = NULL;
    rc = PV_OK;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "callgrind writer: out of memory");
done:
    if (f)
        fclose(f);
    free(buf);
    if (syms)
        for (uint32_t i = 0; i < d->nobjects; i++)
            symtab_free(&syms[i]);
    free(syms);
    free(ents);
    free(seen_fl);
    free(seen_fn);
    st_free(&files);
    st_free(&fns);
    return rc;
}

int pve_callgrind_write(const pv_profile *p, const char *path, const pve_callgrind_options *opts)
{
    char *text = NULL;
    size_t len = 0;
    int rc;
    if (!path)
        return pv_error_set(PV_ERR_INVALID, "callgrind writer: no output path");
    if ((rc = pve_callgrind_format(p, opts, &text, &len)))
        goto done;
    rc = pv_file_write_atomic(path, text, len);
done:
    free(text);
    return rc;
}
