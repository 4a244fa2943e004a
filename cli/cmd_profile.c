/* prevision profile: run a program in the sandboxed emulator and write its
 * dynamic profile. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../emulator/cachesim.h"
#include "../emulator/callgrind.h"
#include "cli.h"

static const char usage[] =
    "usage: prevision profile [options] -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM (an x86-64 Linux executable, static or dynamic) in the sandboxed\n"
    "emulator and measures what it does: instructions per block, function, loop and\n"
    "object, the dynamic instruction mix, memory, I/O, threads, and the system\n"
    "calls the sandbox refused. Prints a summary on stderr; --json or -o write the\n"
    "profile: the program's static profile (as 'prevision analyze' writes it) with\n"
    "the dynamic section. The program's output passes through: its stdout to stdout (to\n"
    "stderr when --json prints the profile on stdout), its stderr to stderr.\n"
    "\n"
    "The sandbox: the program reads only itself, its loader and libraries, and\n"
    "the paths given with --allow-read; it writes only in a scratch directory\n"
    "that overlays the working directory (removed afterwards unless kept);\n"
    "sockets, exec, fork and ptrace are refused.\n"
    "\n"
    "  --json               print the profile as JSON on stdout\n"
    "  -o FILE              write the profile to FILE (atomically)\n"
    "  --allow-read PATH    let the program read PATH (a directory: everything below it); repeatable\n"
    "  --discard-writes     files the program writes accept the bytes (counted) and keep nothing\n"
    "  --keep-scratch       keep the scratch directory and print its path\n"
    "  --scratch DIR        use the existing directory DIR as the scratch directory (kept)\n"
    "  --guest-stdout FILE  write the program's stdout to FILE\n"
    "  --guest-stderr FILE  write the program's stderr to FILE\n"
    "  --stdin FILE         the program reads FILE as its stdin (default: prevision's stdin)\n"
    "  --max-insns N        stop after N instructions (the profile of what ran is still written)\n"
    "  --max-mem BYTES      stop when the program maps more than BYTES (suffixes K, M, G)\n"
    "  --timeout SEC        stop after SEC seconds of wall-clock time\n"
    "  --deterministic      fixed clock, random bytes, pid and thread ids: identical runs, identical profiles\n"
    "  --quantum N          instructions a thread runs before the next one (default 100000)\n"
    "  --param KEY=VALUE    record a named parameter (a problem size) in the profile; repeatable\n"
    "  --cache=MODE         simulate the data caches: off (default), full (every access), or\n"
    "                       sampled (periodic windows, extrapolated; close to plain counting speed)\n"
    "  --sample-schedule P,W,U  sampled caches: a window every P instructions, W of warm-up then U\n"
    "                       measured (default 10000000,500000,200000; more measured: closer, slower)\n"
    "  --branch-sim=MODE    simulate branch prediction: on (default: sampled), off, full (every\n"
    "                       branch), sampled (the first 4M instructions, then windows of 3 in 40)\n"
    "  --machine FILE       cache geometry from a machine model ('prevision calibrate -o FILE');\n"
    "                       default: this host's caches from hwloc\n"
    "  --callgrind-out FILE also write the run in callgrind format (callgrind_annotate, KCachegrind)\n"
    "  --no-analyze         do not add the program's static profile (pv_analyze_binary) to the profile\n"
    "  --top N              hottest functions, loops and blocks in the summary (default 10)\n"
    "\n"
    "Exit status: 0 the program ran to its exit (whatever its status), 1 the run\n"
    "ended on a limit, a fault, a signal or an instruction the emulator cannot\n"
    "execute (the profile is still written), 2 bad usage or bad input (missing\n"
    "program, not an x86-64 ELF executable, truncated file).\n";

static int parse_u64(const char *s, uint64_t *out, int suffixes)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    uint64_t mul = 1;
    if (suffixes && *end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        default: return -1;
        }
        end++;
        if (*end == 'i' || *end == 'B')
            end += *end == 'i' ? 1 : 0;
        if (*end == 'B')
            end++;
    }
    if (*end || (mul > 1 && v > UINT64_MAX / mul))
        return -1;
    *out = v * mul;
    return 0;
}

static void human_bytes(char *buf, size_t n, uint64_t b)
{
    if (b >= 10ull << 30)
        snprintf(buf, n, "%.1f GiB", (double)b / (1 << 30));
    else if (b >= 10ull << 20)
        snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 10ull << 10)
        snprintf(buf, n, "%.1f KiB", (double)b / (1 << 10));
    else
        snprintf(buf, n, "%llu B", (unsigned long long)b);
}

static void grouped(char *buf, size_t n, uint64_t v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

typedef struct hot {
    uint32_t i;
    uint64_t insns;
} hot;

static int cmp_hot(const void *a, const void *b)
{
    const hot *x = a, *y = b;
    if (x->insns != y->insns)
        return x->insns > y->insns ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

typedef struct fn_cost {
    uint32_t object;
    const char *name; /* owned by the profile or the symbolizer */
    uint64_t insns;
    const char *file;
    uint32_t line;
} fn_cost;

static int cmp_fn(const void *a, const void *b)
{
    const fn_cost *x = a, *y = b;
    if (x->insns != y->insns)
        return x->insns > y->insns ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Hottest functions (every object) and loops (the program, from its static profile). */
static void hot_code(FILE *out, const pv_profile *p, pv_emu_symbols *sy, int top)
{
    const pv_dynamic *d = p->dynamic;
    fn_cost *f = calloc(d->ncounts + 1, sizeof *f);
    uint64_t *loop_self = p->nloops ? calloc(p->nloops, sizeof *loop_self) : NULL;
    uint32_t *inner = p->nblocks ? malloc(p->nblocks * sizeof *inner) : NULL;
    if (!f || (p->nloops && !loop_self) || (p->nblocks && !inner))
        goto done;
    /* the innermost loop of each static block */
    for (uint32_t i = 0; i < p->nblocks; i++)
        inner[i] = PV_NONE;
    for (uint32_t l = 0; l < p->nloops; l++)
        for (uint32_t k = 0; k < p->loops[l].nblocks; k++) {
            uint32_t bi = p->loops[l].blocks[k];
            if (bi < p->nblocks && (inner[bi] == PV_NONE || p->loops[inner[bi]].depth < p->loops[l].depth))
                inner[bi] = l;
        }
    uint32_t nf = 0;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *c = &d->counts[i];
        uint64_t ins = c->count * c->ninsns;
        const char *name = NULL, *file = NULL;
        uint32_t line = 0;
        if (d->objects[c->object].is_target && p->nfunctions) {
            uint32_t fi = pv_profile_find_function(p, c->addr);
            if (fi != PV_NONE) {
                name = p->functions[fi].name;
                file = pv_profile_file(p, p->functions[fi].loc);
                line = p->functions[fi].loc.line;
            }
            uint32_t bi = pv_profile_block_containing(p, c->addr);
            if (bi != PV_NONE && inner[bi] != PV_NONE)
                loop_self[inner[bi]] += ins;
        }
        if (!name) {
            uint64_t off;
            pv_emu_symbols_lookup(sy, c->object, c->addr, &name, &off, NULL, NULL);
        }
        if (!name)
            name = "(no symbol)";
        uint32_t k = 0;
        for (; k < nf; k++) /* few distinct functions are hot; a linear scan over the ones seen */
            if (f[k].object == c->object && f[k].name == name)
                break;
        if (k == nf)
            f[nf++] = (fn_cost){c->object, name, 0, file, line};
        f[k].insns += ins;
    }
    qsort(f, nf, sizeof *f, cmp_fn);
    fprintf(out, "  hottest functions:\n");
    for (int k = 0; k < top && (uint32_t)k < nf && f[k].insns; k++) {
        fprintf(out, "    %5.1f%%  %-22s %s", d->insns ? 100.0 * (double)f[k].insns / (double)d->insns : 0.0,
                base_name(d->objects[f[k].object].path), f[k].name);
        if (f[k].file)
            fprintf(out, "  (%s:%u)", base_name(f[k].file), f[k].line);
        fputc('\n', out);
    }
    if (p->nloops) {
        /* a loop's instructions include its inner loops' */
        uint64_t *incl = calloc(p->nloops, sizeof *incl);
        uint32_t *order = calloc(p->nloops, sizeof *order);
        if (incl && order) {
            for (uint32_t l = 0; l < p->nloops; l++)
                for (uint32_t a = l; a != PV_NONE && a < p->nloops; a = p->loops[a].parent)
                    incl[a] += loop_self[l];
            uint32_t n = 0;
            for (uint32_t l = 0; l < p->nloops; l++)
                if (incl[l])
                    order[n++] = l;
            for (uint32_t i = 1; i < n; i++) /* insertion sort: few loops run */
                for (uint32_t j = i; j > 0 && (incl[order[j]] > incl[order[j - 1]] ||
                                               (incl[order[j]] == incl[order[j - 1]] &&
                                                p->loops[order[j]].depth > p->loops[order[j - 1]].depth));
                     j--) {
                    uint32_t t = order[j];
                    order[j] = order[j - 1];
                    order[j - 1] = t;
                }
            if (n)
                fprintf(out, "  hottest loops (program):\n");
            for (uint32_t i = 0; i < n && (int)i < top; i++) {
                const pv_loop *lp = &p->loops[order[i]];
                const char *file = pv_profile_file(p, lp->loc);
                fprintf(out, "    %5.1f%%  %-22s depth %u  %s:%u\n",
                        d->insns ? 100.0 * (double)incl[order[i]] / (double)d->insns : 0.0,
                        lp->func < p->nfunctions ? p->functions[lp->func].name : "?", lp->depth,
                        file ? base_name(file) : "?", lp->loc.line);
            }
        }
        free(incl);
        free(order);
    }
done:
    free(f);
    free(loop_self);
    free(inner);
}

/* The branches line of the summary, and the most mispredicted branches when there is per-block attribution. */
static void branch_summary(FILE *out, const pv_profile *p, const pv_emu_block_branch *br, uint32_t nbr,
                           pv_emu_symbols *sy, int top)
{
    const pv_dynamic *d = p->dynamic;
    const pv_branch_stats *b = &d->branches;
    char a[64], c[64];
    /* executed counts are exact (the block counts); the rates are the simulation's (a sample when sampled) */
    uint64_t cond = d->mix.n[PV_MIX_BRANCH_COND], ind = 0;
    double cond_rate = b->cond ? (double)b->cond_miss / (double)b->cond : 0;
    double ind_rate = b->indirect ? (double)b->indirect_miss / (double)b->indirect : 0;
    for (uint32_t i = 0; br && i < nbr; i++)
        if (br[i].kind == PV_FLOW_IJUMP || br[i].kind == PV_FLOW_ICALL)
            ind += br[i].executed;
    if (!br)
        ind = b->sampled_fraction > 0 ? (uint64_t)llround((double)b->indirect / b->sampled_fraction) : b->indirect;
    grouped(a, sizeof a, cond);
    grouped(c, sizeof c, ind);
    double mpki = d->insns ? 1000.0 * (cond_rate * (double)cond + ind_rate * (double)ind) / (double)d->insns : 0;
    fprintf(out, "  branches      %s conditional, %.2f%% mispredicted; %s indirect, ", a, 100 * cond_rate, c);
    if (b->indirect)
        fprintf(out, "%.2f%% mispredicted", 100 * ind_rate);
    else
        fprintf(out, "none simulated");
    fprintf(out, "; %.2f misses per 1000 instructions\n", mpki);
    fprintf(out, "                predictor %s", b->model);
    if (b->sampled_fraction < 1)
        fprintf(out, ", estimated from %.1f%% of the branches", 100.0 * b->sampled_fraction);
    fputc('\n', out);
    if (!br || top <= 0 || !sy)
        return;
    hot *h = calloc(nbr ? nbr : 1, sizeof *h);
    if (!h)
        return;
    uint32_t n = 0;
    double all = 0;
    for (uint32_t i = 0; i < nbr; i++) {
        if (br[i].kind == PV_FLOW_NONE || br[i].mispredicted < 0.5)
            continue;
        all += br[i].mispredicted;
        h[n++] = (hot){i, (uint64_t)llround(br[i].mispredicted)};
    }
    qsort(h, n, sizeof *h, cmp_hot);
    if (n)
        fprintf(out, "  most mispredicted branches:\n");
    for (uint32_t k = 0; k < n && (int)k < top && k < 5; k++) {
        const pv_block_count *bc = &d->counts[h[k].i];
        const pv_emu_block_branch *e = &br[h[k].i];
        const char *fn = NULL, *file = NULL;
        uint64_t off = 0;
        uint32_t line = 0;
        pv_emu_symbols_lookup(sy, bc->object, bc->addr, &fn, &off, &file, &line);
        grouped(a, sizeof a, e->executed);
        fprintf(out, "    %5.1f%%  %s+0x%llx  %s, %.1f%% of %s mispredicted",
                all > 0 ? 100.0 * e->mispredicted / all : 0.0, base_name(d->objects[bc->object].path),
                (unsigned long long)bc->addr,
                e->kind == PV_FLOW_COND ? "conditional" : e->kind == PV_FLOW_RET ? "return" : "indirect",
                e->executed ? 100.0 * e->mispredicted / (double)e->executed : 0.0, a);
        if (fn)
            fprintf(out, "  %s", fn);
        if (file)
            fprintf(out, "  (%s:%u)", base_name(file), line);
        fputc('\n', out);
    }
    free(h);
}

static void summary(FILE *out, const pv_profile *p, const char *end_msg, int top, const pv_emu_block_branch *br,
                    uint32_t nbr)
{
    const pv_dynamic *d = p->dynamic;
    char a[64], b[64], c[64], e[64];
    fprintf(out, "prevision profile: %s:", d->nargs ? d->argv[0] : "?");
    for (uint32_t i = 1; i < d->nargs && i < 8; i++)
        fprintf(out, " %s", d->argv[i]);
    fprintf(out, "%s\n  %s\n", d->nargs > 8 ? " ..." : "", end_msg);
    grouped(a, sizeof a, d->insns);
    grouped(b, sizeof b, d->target_insns);
    fprintf(out, "  instructions  %s (program %s, %.1f%%)", a, b,
            d->insns ? 100.0 * (double)d->target_insns / (double)d->insns : 0.0);
    if (!d->deterministic)
        fprintf(out, " in %.2f s", d->emu_seconds);
    if (d->nthreads > 1)
        fprintf(out, ", %u threads", d->nthreads);
    fputc('\n', out);
    /* per object */
    uint64_t *per = calloc(d->nobjects ? d->nobjects : 1, sizeof *per);
    if (per) {
        for (uint32_t i = 0; i < d->ncounts; i++)
            per[d->counts[i].object] += d->counts[i].count * d->counts[i].ninsns;
        fprintf(out, "  objects      ");
        for (uint32_t i = 0; i < d->nobjects; i++) {
            if (!per[i])
                continue;
            grouped(a, sizeof a, per[i]);
            fprintf(out, " %s %s;", base_name(d->objects[i].path), a);
        }
        fputc('\n', out);
        free(per);
    }
    /* mix: the largest classes */
    uint64_t total = pv_mix64_total(&d->mix);
    fprintf(out, "  mix          ");
    int shown[PV_MIX_NCLASSES] = {0};
    for (int k = 0; k < 8; k++) {
        int best = -1;
        for (int m = 0; m < PV_MIX_NCLASSES; m++)
            if (!shown[m] && d->mix.n[m] && (best < 0 || d->mix.n[m] > d->mix.n[best]))
                best = m;
        if (best < 0)
            break;
        shown[best] = 1;
        fprintf(out, " %s %.1f%%", pv_mix_class_name((pv_mix_class)best),
                total ? 100.0 * (double)d->mix.n[best] / (double)total : 0.0);
    }
    fputc('\n', out);
    human_bytes(a, sizeof a, d->mem_peak);
    human_bytes(b, sizeof b, d->mem_touched);
    human_bytes(c, sizeof c, d->heap_peak);
    human_bytes(e, sizeof e, d->stack_peak);
    fprintf(out, "  memory        peak %s mapped, %s touched, heap %s, stack %s\n", a, b, c, e);
    human_bytes(a, sizeof a, d->io_bytes_read);
    human_bytes(b, sizeof b, d->io_bytes_written);
    fprintf(out, "  I/O           %llu files opened, %s read, %s written, %llu system calls\n",
            (unsigned long long)d->io_files_opened, a, b, (unsigned long long)d->syscalls);
    if (d->nrefused) {
        fprintf(out, "  refused      ");
        for (uint32_t i = 0; i < d->nrefused; i++)
            fprintf(out, " %s x%llu%s", d->refused[i].name, (unsigned long long)d->refused[i].count,
                    i + 1 < d->nrefused ? "," : "");
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < d->ncaches; i++) {
        const pv_cache_stats *c = &d->caches[i];
        human_bytes(a, sizeof a, c->size);
        grouped(b, sizeof b, c->accesses);
        grouped(e, sizeof e, c->misses);
        fprintf(out, "  %-12s  %s %u-way: %s accesses, %s misses (%.2f%%)", i ? "" : "caches", a, c->assoc, b, e,
                c->accesses ? 100.0 * (double)c->misses / (double)c->accesses : 0.0);
        if (c->sampled_fraction < 1)
            fprintf(out, ", estimated from %.1f%% of the run", 100.0 * c->sampled_fraction);
        fputc('\n', out);
        (void)c;
    }
    pv_emu_symbols *sy = NULL;
    if (d->ncounts && pv_emu_symbols_new(&sy, d))
        sy = NULL;
    if (d->has_branches)
        branch_summary(out, p, br, nbr, sy, top);
    if (d->nthreads > 1) {
        fprintf(out, "  threads      ");
        for (uint32_t i = 0; i < d->nthreads; i++) {
            grouped(a, sizeof a, d->threads[i].insns);
            fprintf(out, " %u: %s%s", d->threads[i].tid, a, i + 1 < d->nthreads ? "," : "");
        }
        fputc('\n', out);
    }
    if (top <= 0 || !d->ncounts || !sy) {
        pv_emu_symbols_free(sy);
        return;
    }
    hot_code(out, p, sy, top);
    hot *h = calloc(d->ncounts, sizeof *h);
    if (!h) {
        pv_emu_symbols_free(sy);
        return;
    }
    for (uint32_t i = 0; i < d->ncounts; i++)
        h[i] = (hot){i, d->counts[i].count * d->counts[i].ninsns};
    qsort(h, d->ncounts, sizeof *h, cmp_hot);
    fprintf(out, "  hottest blocks:\n");
    for (int k = 0; k < top && (uint32_t)k < d->ncounts; k++) {
        const pv_block_count *bc = &d->counts[h[k].i];
        const char *fn = NULL, *file = NULL;
        uint64_t off = 0;
        uint32_t line = 0;
        pv_emu_symbols_lookup(sy, bc->object, bc->addr, &fn, &off, &file, &line);
        fprintf(out, "    %5.1f%%  %s+0x%llx", d->insns ? 100.0 * (double)h[k].insns / (double)d->insns : 0.0,
                base_name(d->objects[bc->object].path), (unsigned long long)bc->addr);
        if (fn)
            fprintf(out, "  %s+0x%llx", fn, (unsigned long long)off);
        if (file)
            fprintf(out, "  (%s:%u)", base_name(file), line);
        fputc('\n', out);
    }
    pv_emu_symbols_free(sy);
    free(h);
}

static int open_out(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

int cmd_profile(int argc, char **argv)
{
    const char *out_file = NULL, *gout = NULL, *gerr = NULL, *gin = NULL, *scratch = NULL, *machine = NULL,
               *cg_out = NULL;
    char cache_note[512] = "";
    int json = 0, top = 10, code = PV_EXIT_OK, rc, analyze = 1, schedule = 0;
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    const char **allow = calloc((size_t)argc + 1, sizeof *allow);
    pv_param *params = calloc((size_t)argc + 1, sizeof *params);
    int out_fd = -1, err_fd = -1, in_fd = -1;
    pv_emu *emu = NULL;
    pv_dynamic *dyn = NULL;
    pv_profile *p = NULL;
    if (!allow || !params) {
        pv_cli_error("profile", "out of memory");
        code = PV_EXIT_FAILURE;
        goto done;
    }
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
#define NEED_ARG(what)                                                                             \
    do {                                                                                           \
        if (++i >= argc) {                                                                         \
            code = pv_cli_usage_error("profile", "%s needs %s", a, what);                          \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (pv_cli_is_help(a)) {
            fputs(usage, stdout);
            goto done;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "-o")) {
            NEED_ARG("a FILE");
            out_file = argv[i];
        } else if (!strcmp(a, "--allow-read")) {
            NEED_ARG("a PATH");
            allow[o.nallow_read++] = argv[i];
        } else if (!strcmp(a, "--discard-writes")) {
            o.discard_writes = 1;
        } else if (!strcmp(a, "--keep-scratch")) {
            o.keep_scratch = 1;
        } else if (!strcmp(a, "--scratch")) {
            NEED_ARG("a DIR");
            scratch = argv[i];
        } else if (!strcmp(a, "--guest-stdout")) {
            NEED_ARG("a FILE");
            gout = argv[i];
        } else if (!strcmp(a, "--guest-stderr")) {
            NEED_ARG("a FILE");
            gerr = argv[i];
        } else if (!strcmp(a, "--stdin")) {
            NEED_ARG("a FILE");
            gin = argv[i];
        } else if (!strcmp(a, "--max-insns")) {
            NEED_ARG("a count");
            if (parse_u64(argv[i], &o.max_insns, 0) || !o.max_insns) {
                code = pv_cli_usage_error("profile", "--max-insns: '%s' is not a positive count", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--max-mem")) {
            NEED_ARG("a size in bytes");
            if (parse_u64(argv[i], &o.max_mem, 1) || !o.max_mem) {
                code = pv_cli_usage_error("profile", "--max-mem: '%s' is not a size (e.g. 512M)", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--timeout")) {
            NEED_ARG("seconds");
            char *end;
            o.timeout = strtod(argv[i], &end);
            if (*end || end == argv[i] || !(o.timeout > 0)) {
                code = pv_cli_usage_error("profile", "--timeout: '%s' is not a positive number of seconds", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--deterministic")) {
            o.deterministic = 1;
        } else if (!strcmp(a, "--quantum")) {
            NEED_ARG("a count");
            if (parse_u64(argv[i], &o.quantum, 0) || !o.quantum) {
                code = pv_cli_usage_error("profile", "--quantum: '%s' is not a positive count", argv[i]);
                goto done;
            }
        } else if (!strcmp(a, "--param")) {
            NEED_ARG("KEY=VALUE");
            char *eq = strchr(argv[i], '=');
            if (!eq || eq == argv[i]) {
                code = pv_cli_usage_error("profile", "--param: expected KEY=VALUE, got '%s'", argv[i]);
                goto done;
            }
            *eq = 0;
            params[o.nparams++] = (pv_param){argv[i], eq + 1};
        } else if (!strncmp(a, "--cache", 7) && (a[7] == '=' || a[7] == 0)) {
            const char *m = a[7] == '=' ? a + 8 : NULL;
            if (!m) {
                NEED_ARG("off, full or sampled");
                m = argv[i];
            }
            if (!strcmp(m, "off"))
                o.cache = PV_EMU_CACHE_OFF;
            else if (!strcmp(m, "full"))
                o.cache = PV_EMU_CACHE_FULL;
            else if (!strcmp(m, "sampled"))
                o.cache = PV_EMU_CACHE_SAMPLED;
            else {
                code = pv_cli_usage_error("profile", "--cache: '%s' is not off, full or sampled", m);
                goto done;
            }
        } else if (!strcmp(a, "--sample-schedule")) {
            NEED_ARG("PERIOD,WARMUP,MEASURE");
            unsigned long long p, w, u;
            int used = 0;
            if (sscanf(argv[i], "%llu,%llu,%llu%n", &p, &w, &u, &used) != 3 || argv[i][used] || argv[i][0] == '-' ||
                !p || !w || !u || w > p || u > p - w) {
                /* WARMUP 0 would read as "the default" in pv_emu_options */
                code = pv_cli_usage_error("profile", "--sample-schedule: '%s' is not PERIOD,WARMUP,MEASURE with "
                                          "WARMUP and MEASURE > 0 and WARMUP + MEASURE <= PERIOD (instructions)",
                                          argv[i]);
                goto done;
            }
            o.sample_period = p, o.sample_warmup = w, o.sample_measure = u;
            schedule = 1;
        } else if (!strncmp(a, "--branch-sim", 12) && (a[12] == '=' || a[12] == 0)) {
            const char *m = a[12] == '=' ? a + 13 : NULL;
            if (!m) {
                NEED_ARG("on, off, full or sampled");
                m = argv[i];
            }
            if (!strcmp(m, "on"))
                o.branch_sim = PV_EMU_BRANCH_DEFAULT_MODE;
            else if (!strcmp(m, "off"))
                o.branch_sim = PV_EMU_BRANCH_OFF;
            else if (!strcmp(m, "full"))
                o.branch_sim = PV_EMU_BRANCH_FULL;
            else if (!strcmp(m, "sampled"))
                o.branch_sim = PV_EMU_BRANCH_SAMPLED;
            else {
                code = pv_cli_usage_error("profile", "--branch-sim: '%s' is not on, off, full or sampled", m);
                goto done;
            }
        } else if (!strcmp(a, "--machine")) {
            NEED_ARG("a machine model FILE");
            machine = argv[i];
        } else if (!strcmp(a, "--callgrind-out")) {
            NEED_ARG("a FILE");
            cg_out = argv[i];
        } else if (!strcmp(a, "--no-analyze")) {
            analyze = 0;
        } else if (!strcmp(a, "--top")) {
            NEED_ARG("a count");
            top = atoi(argv[i]);
        } else if (a[0] == '-') {
            code = pv_cli_usage_error("profile", "unknown option '%s' (the program goes after '--')", a);
            goto done;
        } else {
            break; /* the program, without '--' */
        }
#undef NEED_ARG
    }
    if (i >= argc) {
        code = pv_cli_usage_error("profile", "expected a PROGRAM to run (prevision profile [options] -- PROGRAM ARGS)");
        goto done;
    }
    if (json && out_file && !strcmp(out_file, "-")) {
        code = pv_cli_usage_error("profile", "--json and -o - both write to stdout; give one");
        goto done;
    }
    o.argc = argc - i;
    o.argv = (const char *const *)argv + i;
    o.allow_read = allow;
    o.params = params;
    o.scratch_dir = scratch;
    int profile_on_stdout = json || (out_file && !strcmp(out_file, "-"));
    if (gout) {
        if ((out_fd = open_out(gout)) < 0) {
            pv_cli_error("profile", "--guest-stdout %s: cannot create: %s", gout, strerror(errno));
            code = PV_EXIT_FAILURE;
            goto done;
        }
        o.stdout_fd = out_fd;
    } else if (profile_on_stdout) {
        o.stdout_fd = 2; /* keep stdout clean for the profile */
    }
    if (gerr) {
        if ((err_fd = open_out(gerr)) < 0) {
            pv_cli_error("profile", "--guest-stderr %s: cannot create: %s", gerr, strerror(errno));
            code = PV_EXIT_FAILURE;
            goto done;
        }
        o.stderr_fd = err_fd;
    }
    if (gin) {
        if ((in_fd = open(gin, O_RDONLY | O_CLOEXEC)) < 0) {
            pv_cli_error("profile", "--stdin %s: cannot open: %s", gin, strerror(errno));
            code = PV_EXIT_USAGE;
            goto done;
        }
        o.stdin_fd = in_fd;
    }
    if (o.cache != PV_EMU_CACHE_OFF) {
        pve_cache_config cc = PVE_CACHE_CONFIG_INIT;
        if ((rc = pv_cli_cache_config(&cc, machine, cache_note, sizeof cache_note))) {
            code = pv_cli_fail("profile", rc);
            goto done;
        }
        o.cache_nlevels = cc.nlevels;
        for (uint32_t k = 0; k < cc.nlevels && k < PV_CACHE_MAX_LEVELS; k++) {
            memcpy(o.cache_levels[k].name, cc.levels[k].name, sizeof o.cache_levels[k].name);
            o.cache_levels[k].size = cc.levels[k].size;
            o.cache_levels[k].line = cc.levels[k].line;
            o.cache_levels[k].assoc = cc.levels[k].assoc;
        }
    } else if (machine) {
        code = pv_cli_usage_error("profile", "--machine gives the cache geometry: use it with --cache=full or sampled");
        goto done;
    }
    if (schedule && o.cache != PV_EMU_CACHE_SAMPLED) {
        code = pv_cli_usage_error("profile", "--sample-schedule sets the windows of --cache=sampled: use it with that");
        goto done;
    }
    if ((rc = pv_emu_new(&emu, &o))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    if ((rc = pv_emu_run(emu, &dyn))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    int ok = !strcmp(dyn->end_reason, "exit");
    if ((rc = pv_profile_new(&p))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    if (analyze) {
        /* the static profile of the program: functions, loops and source lines for the dynamic counts */
        pv_profile *sp = NULL;
        pv_analyze_options ao = PV_ANALYZE_OPTIONS_INIT;
        if ((rc = pv_analyze_binary(pv_emu_program(emu), &ao, &sp)) == PV_OK) {
            pv_profile_free(p);
            p = sp;
        } else {
            pv_log(PV_LOG_WARN, "no static profile of %s (%s); the profile has the dynamic section only",
                   pv_emu_program(emu), pv_error_last());
        }
    }
    if (!p->generator)
        p->generator = strdup(pv_version_string());
    p->schema_version = PV_PROFILE_SCHEMA_VERSION;
    if (!p->target.path && (rc = pv_emu_target(emu, &p->target))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    p->dynamic = dyn;
    if (!pv_cli.quiet) {
        uint32_t nbr = 0;
        const pv_emu_block_branch *br = pv_emu_block_branches(emu, &nbr);
        summary(stderr, p, pv_emu_end_message(emu), top, br, nbr);
        if (cache_note[0])
            fprintf(stderr, "  cache geometry: %s\n", cache_note);
    }
    dyn = NULL;
    if (o.keep_scratch)
        fprintf(stderr, "prevision profile: scratch directory kept: %s\n", pv_emu_scratch_dir(emu));
    if (out_file && (rc = pv_profile_save(p, out_file, 0))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    pve_callgrind_options cgo = PVE_CALLGRIND_OPTIONS_INIT;
    cgo.branches = pv_emu_block_branches(emu, &cgo.nbranches);
    if (cg_out && (rc = pve_callgrind_write(p, cg_out, &cgo))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    if (json && (rc = pv_profile_save(p, "-", 1))) {
        code = pv_cli_fail("profile", rc);
        goto done;
    }
    if (!ok) {
        pv_cli_error("profile", "%s%s", pv_emu_end_message(emu),
                     out_file || json ? " (the profile of what ran was written)" : "");
        code = PV_EXIT_FAILURE;
    }
done:
    pv_profile_free(p);
    pv_dynamic_free(dyn);
    pv_emu_free(emu);
    if (out_fd >= 0)
        close(out_fd);
    if (err_fd >= 0)
        close(err_fd);
    if (in_fd >= 0)
        close(in_fd);
    free(allow);
    free(params);
    return code;
}
