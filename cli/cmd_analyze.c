/* prevision analyze BINARY: the static demand profile of an x86-64 ELF file.
 * `prevision analyze --source ...` goes to the source analyzer
 * (cli/cmd_analyze_source.c) with the same arguments. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision analyze [--uarch NAME | --machine MACHINE.json] [-o PROFILE] [--json]\n"
    "                         [-j N] [--no-lines] BINARY\n"
    "       prevision analyze --source ...   (source facts; see 'prevision analyze --source --help')\n"
    "\n"
    "Reads an x86-64 ELF executable, PIE, shared library or static binary and\n"
    "writes its static demand profile: functions (symbols, PLT stubs resolved to\n"
    "their libraries, or discovered from the entry point, calls and .eh_frame\n"
    "when stripped), basic blocks with CFG edges, natural loops with their\n"
    "nesting, call graph, DWARF source lines, library groups, instruction mix and\n"
    "static cycle estimates per block and per loop iteration.\n"
    "\n"
    "  --uarch NAME   cost tables for the cycle estimates: zen4, zen5, skylake\n"
    "                 (default: the one closest to this host's CPU)\n"
    "  --machine FILE the cost table of the machine FILE describes ('prevision\n"
    "                 calibrate -o FILE'): its microarchitecture's table with the\n"
    "                 calibrated per-class latencies and throughputs, load and\n"
    "                 store figures; recorded as 'NAME+calibrated'\n"
    "  -o PROFILE     write the profile JSON to PROFILE (atomically)\n"
    "  --json         print the profile JSON on stdout instead of the summary\n"
    "  --compact      JSON without indentation (smaller, for large binaries)\n"
    "  -j N           analysis threads (default: one per CPU)\n"
    "  --no-lines     skip DWARF source lines\n"
    "  --top N        loop nests shown in the summary (default 5)\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage or bad input (no such file, not\n"
    "ELF, corrupt or truncated ELF, another architecture).\n";

/* Weight of a loop nest for ranking: cycles per iteration, each level
 * assumed to run NOMINAL_TRIPS times per entry (trip counts are unknown
 * statically; the summary says so). */
#define NOMINAL_TRIPS 16.0

static double nest_weight(const pv_profile *p, uint32_t l, const uint32_t *child_off, const uint32_t *children)
{
    double w = p->loops[l].cycles_per_iter;
    for (uint32_t k = child_off[l]; k < child_off[l + 1]; k++)
        w += nest_weight(p, children[k], child_off, children);
    return w * NOMINAL_TRIPS;
}

static void print_mix(const pv_mix *m)
{
    /* The classes with the most operations, largest first. */
    int used[PV_MIX_NCLASSES] = {0};
    for (int shown = 0; shown < 5; shown++) {
        int best = -1;
        for (int c = 0; c < PV_MIX_NCLASSES; c++)
            if (!used[c] && m->n[c] && (best < 0 || m->n[c] > m->n[best]))
                best = c;
        if (best < 0)
            break;
        used[best] = 1;
        printf("%s%s %u", shown ? ", " : "", pv_mix_class_name(best), m->n[best]);
    }
}

static void print_loop(const pv_profile *p, uint32_t l, int indent, const uint32_t *child_off, const uint32_t *children,
                       int budget, int *printed)
{
    if (*printed >= budget)
        return;
    (*printed)++;
    const pv_loop *x = &p->loops[l];
    /* The loop's own blocks (in none of its inner loops), the ones its
     * cycles_per_iter covers: inner loops get their own lines. */
    pv_mix m;
    memset(&m, 0, sizeof m);
    uint32_t ninsns = 0;
    for (uint32_t k = 0; k < x->nblocks; k++) {
        uint32_t b = x->blocks[k];
        int inner = 0;
        for (uint32_t c = child_off[l]; c < child_off[l + 1] && !inner; c++)
            for (uint32_t j = 0; j < p->loops[children[c]].nblocks && !inner; j++)
                inner = p->loops[children[c]].blocks[j] == b;
        if (inner)
            continue;
        pv_mix_add(&m, &p->blocks[b].mix);
        ninsns += p->blocks[b].ninsns;
    }
    const char *file = pv_profile_file(p, x->loc);
    const char *base = file ? strrchr(file, '/') : NULL;
    char where[256];
    if (file)
        snprintf(where, sizeof where, "%s:%u", base ? base + 1 : file, x->loc.line);
    else
        snprintf(where, sizeof where, "0x%llx", (unsigned long long)x->header);
    printf("    %*s%-*s depth %u  %3u insns  %6.2f cyc/iter%s  ", indent * 2, "", 28 - indent * 2, where, x->depth,
           ninsns, x->cycles_per_iter, x->flags & PV_LOOP_IRREDUCIBLE ? " (irreducible)" : "");
    print_mix(&m);
    putchar('\n');
    for (uint32_t k = child_off[l]; k < child_off[l + 1]; k++)
        print_loop(p, children[k], indent + 1, child_off, children, budget, printed);
}

/* The human summary on stdout. @return PV_OK, or PV_ERR_NOMEM (recorded) when
 * the loop nests cannot be ranked: the listing stops there. */
static int summary(const pv_profile *p, int top)
{
    const pv_target *t = &p->target;
    uint32_t nplt = 0, ndisc = 0, maxdepth = 0, nirr = 0, nunres = 0;
    for (uint32_t i = 0; i < p->nfunctions; i++) {
        nplt += !!(p->functions[i].flags & PV_FUNC_PLT);
        ndisc += !!(p->functions[i].flags & PV_FUNC_DISCOVERED) && !(p->functions[i].flags & PV_FUNC_SYMTAB);
    }
    for (uint32_t i = 0; i < p->nblocks; i++)
        nunres += !!(p->blocks[i].flags & PV_BLOCK_UNRESOLVED);
    for (uint32_t i = 0; i < p->nloops; i++) {
        if (p->loops[i].depth > maxdepth)
            maxdepth = p->loops[i].depth;
        nirr += !!(p->loops[i].flags & PV_LOOP_IRREDUCIBLE);
    }
    printf("binary     %s\n", t->path);
    printf("           %s %s, entry 0x%llx, %s\n", t->arch, t->kind, (unsigned long long)t->entry,
           t->stripped ? "stripped (no .symtab: functions discovered)" : "with symbols");
    if (t->build_id)
        printf("build-id   %s\n", t->build_id);
    printf("sha256     %s\n", t->sha256);
    printf("code       %u functions (%u PLT stubs, %u discovered), %u blocks, %llu instructions, %llu undecodable "
           "bytes, %u unresolved indirect jumps\n",
           p->nfunctions, nplt, ndisc, p->nblocks, (unsigned long long)p->ninsns, (unsigned long long)p->nundecoded,
           nunres);
    printf("loops      %u (deepest nest %u, %u irreducible)\n", p->nloops, maxdepth, nirr);
    printf("mix        ");
    print_mix(&p->mix);
    printf("\n");
    if (p->nlibraries) {
        printf("libraries\n");
        for (uint32_t i = 0; i < p->nlibraries; i++) {
            const pv_library *l = &p->libraries[i];
            printf("    %-22s %-12s", l->soname, pv_libgroup_name(l->group));
            for (uint32_t k = 0; k < l->nimports && k < 6; k++)
                printf("%s%s", k ? ", " : " ", l->imports[k]);
            if (l->nimports > 6)
                printf(", ... (%u imports)", l->nimports);
            putchar('\n');
        }
    }
    if (!p->nloops || top <= 0)
        return PV_OK;
    /* Children lists, then rank the outermost loops. */
    int rc = PV_OK;
    uint32_t *child_off = calloc(p->nloops + 1, sizeof *child_off);
    uint32_t *children = malloc(p->nloops * sizeof *children);
    uint32_t *fill = malloc((p->nloops + 1) * sizeof *fill);
    uint32_t *roots = malloc(p->nloops * sizeof *roots);
    double *w = malloc(p->nloops * sizeof *w);
    uint32_t nroots = 0;
    if (!child_off || !children || !fill || !roots || !w) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory ranking %u loops", p->nloops);
        goto done;
    }
    for (uint32_t i = 0; i < p->nloops; i++)
        if (p->loops[i].parent != PV_NONE)
            child_off[p->loops[i].parent + 1]++;
    for (uint32_t i = 0; i < p->nloops; i++)
        child_off[i + 1] += child_off[i];
    memcpy(fill, child_off, (p->nloops + 1) * sizeof *fill);
    for (uint32_t i = 0; i < p->nloops; i++) {
        if (p->loops[i].parent != PV_NONE)
            children[fill[p->loops[i].parent]++] = i;
        else
            roots[nroots++] = i;
    }
    for (uint32_t i = 0; i < nroots; i++)
        w[i] = nest_weight(p, roots[i], child_off, children);
    printf("heaviest loop nests (static cycles per entry, assuming %.0f iterations per loop level;\n"
           "each line counts the loop's own instructions, those in none of its inner loops):\n", NOMINAL_TRIPS);
    for (int k = 0; k < top && k < (int)nroots; k++) {
        uint32_t best = k;
        for (uint32_t i = k + 1; i < nroots; i++)
            if (w[i] > w[best])
                best = i;
        double tw = w[k];
        w[k] = w[best];
        w[best] = tw;
        uint32_t tr = roots[k];
        roots[k] = roots[best];
        roots[best] = tr;
        const pv_loop *l = &p->loops[roots[k]];
        printf("  %d. %s  (~%.0f cycles)\n", k + 1, p->functions[l->func].name, w[k]);
        int printed = 0;
        print_loop(p, roots[k], 0, child_off, children, 8, &printed);
    }
done:
    free(child_off);
    free(children);
    free(fill);
    free(roots);
    free(w);
    return rc;
}

int cmd_analyze(int argc, char **argv)
{
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--source"))
            return pv_cli_analyze_source(argc, argv);
    }
    const char *out_path = NULL, *binary = NULL, *uarch_name = NULL, *machine_path = NULL;
    int json = 0, compact = 0, no_lines = 0, top = 5;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pv_cli_is_help(a)) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        }
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--compact"))
            compact = 1;
        else if (!strcmp(a, "--no-lines"))
            no_lines = 1;
        else if (!strcmp(a, "-o") || !strcmp(a, "--uarch") || !strcmp(a, "--machine") || !strcmp(a, "-j") || !strcmp(a, "--top")) {
            if (i + 1 >= argc)
                return pv_cli_usage_error(cmd, "option '%s' needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "-o"))
                out_path = v;
            else if (!strcmp(a, "--uarch"))
                uarch_name = v;
            else if (!strcmp(a, "--machine"))
                machine_path = v;
            else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < (a[1] == 'j' ? 1 : 0) || n > 1024)
                    return pv_cli_usage_error(cmd, "%s expects a number from %d to 1024, got '%s'", a,
                                              a[1] == 'j' ? 1 : 0, v);
                if (a[1] == 'j')
                    threads = (int)n;
                else
                    top = (int)n;
            }
        } else if (a[0] == '-' && a[1])
            return pv_cli_usage_error(cmd, "unknown option '%s'", a);
        else if (binary)
            return pv_cli_usage_error(cmd, "expected one BINARY, got '%s' and '%s'", binary, a);
        else
            binary = a;
    }
    if (!binary)
        return pv_cli_usage_error(cmd, "missing BINARY");
    if (uarch_name && machine_path)
        return pv_cli_usage_error(cmd, "--uarch and --machine both choose the cost table: give one");
    pv_analyze_options opts = PV_ANALYZE_OPTIONS_INIT;
    if (uarch_name && !(opts.uarch = pv_uarch_find(uarch_name)))
        return pv_cli_usage_error(cmd, "%s", pv_error_last());
    pv_uarch calibrated; /* outlives the analysis (opts.uarch is not copied) */
    if (machine_path) {
        pv_machine *m = NULL;
        int mrc = pv_machine_load(machine_path, &m);
        if (mrc)
            return pv_cli_fail(cmd, mrc);
        unsigned nreplaced = 0;
        mrc = pv_machine_uarch(m, &calibrated, &nreplaced);
        pv_machine_free(m);
        if (mrc)
            return pv_cli_fail(cmd, mrc);
        pv_log(PV_LOG_INFO, "cost table %s: %u instruction classes with calibrated figures", calibrated.name,
               nreplaced);
        opts.uarch = &calibrated;
    }
    opts.nthreads = threads;
    opts.no_lines = no_lines;
    pv_progress_bar *bar = pv_cli_progress();
    opts.progress = bar ? pv_progress_bar_update : NULL;
    opts.progress_ud = bar;
    pv_profile *p = NULL;
    int rc = pv_analyze_binary(binary, &opts, &p);
    pv_progress_bar_free(bar);
    if (rc)
        return pv_cli_fail(cmd, rc);
    int code = PV_EXIT_OK;
    if (out_path && (rc = pv_profile_save(p, out_path, compact))) {
        code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if (json) {
        if ((rc = pv_profile_save(p, "-", compact)))
            code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if ((rc = summary(p, top))) {
        code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if (out_path)
        printf("wrote %s\n", out_path);
done:
    pv_profile_free(p);
    return code;
}
