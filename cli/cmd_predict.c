/* prevision predict: host run time of a profiled program. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision predict [--machine MACHINE.json] [--static STATIC.json] [--no-analyze] [--json] PROFILE\n"
    "\n"
    "Predicts how long the program PROFILE describes takes on this host (or on\n"
    "the machine MACHINE.json describes), from the profile's dynamic section\n"
    "(written by 'prevision profile') and the calibrated machine model:\n"
    "compute (each executed block's port and issue bound, each loop's\n"
    "loop-carried recurrence, with the machine's calibrated per-class costs),\n"
    "mispredicted branches (simulated) at the calibrated penalty, memory\n"
    "(simulated cache misses at the calibrated latency, random-access cost or\n"
    "bandwidth of the level that served them, page faults), file I/O and\n"
    "system calls. Prints each term with a low..high interval and the dominant\n"
    "term; docs/costmodel.md has the model.\n"
    "\n"
    "The static side comes from analyzing the program and the libraries the\n"
    "run loaded (as 'prevision analyze' does, with the machine's calibrated\n"
    "table), three times each: at the calibrated load latency and with it\n"
    "raised by 256 and 512 cycles, which tells how many dependent loads each\n"
    "loop's recurrence chains. A file that is gone or changed since the\n"
    "profile was taken is left out (with a warning for the program).\n"
    "\n"
    "Without --machine, the cached model of this host is used; when there is\n"
    "none, a quick calibration runs first (a few seconds) and is cached.\n"
    "\n"
    "  --machine FILE  machine model from 'prevision calibrate -o FILE'\n"
    "  --static FILE   the program's static profile ('prevision analyze -o FILE')\n"
    "                  instead of analyzing it\n"
    "  --no-analyze    analyze nothing: only the profile's own static section\n"
    "                  (or --static) is used\n"
    "  --json          print the prediction as JSON\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage or bad input (no dynamic\n"
    "section, malformed profile or machine model).\n";

/* Load-latency increments of the probe analyses, cycles. */
static const float probe_cycles[2] = {256, 512};

static void row(const char *name, const pv_interval *v, double total)
{
    printf("  %-9s %12.6f s  [%.6f .. %.6f]  %5.1f%%\n", name, v->mid, v->low, v->high,
           total > 0 ? 100.0 * v->mid / total : 0.0);
}

static void jrow(const char *name, const pv_interval *v, int last)
{
    printf("\"%s\":{\"low\":%.9g,\"mid\":%.9g,\"high\":%.9g}%s", name, v->low, v->mid, v->high, last ? "" : ",");
}

static void jstr(const char *s)
{
    putchar('"');
    for (; *s; s++)
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s >= 0x20)
            putchar(*s);
    putchar('"');
}

/* The static profiles of one object: at the calibrated load latency, then the two probes. */
typedef struct statics {
    pv_profile *s[3];
} statics;

/* Analyze @p path three times with @p u (load latency as calibrated, then
 * raised by the probes). Returns 0 when the file could not be analyzed. */
static int analyze_object(const char *path, const pv_uarch *u, statics *out)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    pv_uarch v[3] = {*u, *u, *u};
    v[1].load_latency += probe_cycles[0];
    v[2].load_latency += probe_cycles[1];
    for (int k = 0; k < 3; k++) {
        pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
        o.uarch = &v[k];
        o.no_lines = 1;
        if (pv_analyze_binary(path, &o, &out->s[k]) != PV_OK) {
            pv_log(PV_LOG_DEBUG, "predict: %s not analyzed: %s", path, pv_error_last());
            for (int j = 0; j < 3; j++) {
                pv_profile_free(out->s[j]);
                out->s[j] = NULL;
            }
            pv_error_clear();
            return 0;
        }
    }
    return 1;
}

int cmd_predict(int argc, char **argv)
{
    const char *machine = NULL, *profile = NULL, *static_path = NULL;
    int json = 0, analyze = 1, rc, code = PV_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (pv_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        } else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--no-analyze"))
            analyze = 0;
        else if (!strcmp(argv[i], "--machine") || !strcmp(argv[i], "--static")) {
            if (i + 1 >= argc)
                return pv_cli_usage_error("predict", "%s needs a FILE", argv[i]);
            if (!strcmp(argv[i], "--machine"))
                machine = argv[++i];
            else
                static_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1])
            return pv_cli_usage_error("predict", "unknown option '%s'", argv[i]);
        else if (profile)
            return pv_cli_usage_error("predict", "expected one PROFILE, got '%s' and '%s'", profile, argv[i]);
        else
            profile = argv[i];
    }
    if (!profile)
        return pv_cli_usage_error("predict", "expected a PROFILE file");
    pv_profile *p = NULL, *given = NULL;
    pv_machine *m = NULL;
    statics *st = NULL;
    const pv_profile **sv = NULL, **pv1 = NULL, **pv2 = NULL;
    uint32_t nobj = 0;
    if ((rc = pv_profile_load(profile, &p)) != PV_OK)
        return pv_cli_fail("predict", rc);
    if (!p->dynamic) {
        pv_cli_error("predict", "%s: the profile has no dynamic section; run 'prevision profile' on the program "
                     "first", profile);
        code = PV_EXIT_USAGE;
        goto done;
    }
    if (static_path) {
        if ((rc = pv_profile_load(static_path, &given)) != PV_OK) {
            code = pv_cli_fail("predict", rc);
            goto done;
        }
        if (!given->nblocks) {
            pv_cli_error("predict", "%s: no blocks: not a static profile (make one with 'prevision analyze -o')",
                         static_path);
            code = PV_EXIT_USAGE;
            goto done;
        }
        if (given->target.sha256[0] && p->target.sha256[0] && strcmp(given->target.sha256, p->target.sha256))
            pv_log(PV_LOG_WARN, "%s: static profile of another build than %s's program (sha256 differs); its "
                   "blocks that do not match are left out", static_path, profile);
    }
    if (machine) {
        if ((rc = pv_machine_load(machine, &m)) != PV_OK) {
            code = pv_cli_fail("predict", rc);
            goto done;
        }
        char why[256];
        if (!pv_machine_matches_host(m, why, sizeof why))
            pv_log(PV_LOG_WARN, "%s: machine model from another host (%s); predicting for the machine it describes",
                   machine, why);
    } else {
        pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
        o.quick = 1;
        pv_progress_bar *bar = pv_cli_progress();
        o.progress = pv_progress_bar_update;
        o.progress_ud = bar;
        int reused = 0;
        rc = pv_machine_get(&m, &o, 0, &reused);
        pv_progress_bar_free(bar);
        if (rc != PV_OK) {
            code = pv_cli_fail("predict", rc);
            goto done;
        }
        if (!reused)
            pv_log(PV_LOG_INFO, "no cached machine model: ran a quick calibration (cached for next time)");
    }

    /* Static profiles of the run's objects. */
    const pv_dynamic *d = p->dynamic;
    nobj = d->nobjects;
    st = calloc(nobj ? nobj : 1, sizeof *st);
    sv = calloc(nobj ? nobj : 1, sizeof *sv);
    pv1 = calloc(nobj ? nobj : 1, sizeof *pv1);
    pv2 = calloc(nobj ? nobj : 1, sizeof *pv2);
    if (!st || !sv || !pv1 || !pv2) {
        pv_cli_error("predict", "out of memory");
        code = PV_EXIT_FAILURE;
        goto done;
    }
    pv_uarch u;
    pv_machine_uarch(m, &u, NULL);
    /* A loop that makes system calls is costed with them as system calls. */
    u.rthroughput[PV_MIX_SYSCALL] = u.latency[PV_MIX_SYSCALL] = 0;
    for (uint32_t i = 0; i < nobj; i++) {
        const pv_object *o = &d->objects[i];
        int target = o->is_target;
        if (analyze && o->path && o->path[0] == '/' && analyze_object(o->path, &u, &st[i])) {
            if (target && p->target.sha256[0] && strcmp(st[i].s[0]->target.sha256, p->target.sha256)) {
                pv_log(PV_LOG_WARN, "%s: the program changed since it was profiled (sha256 differs); its blocks "
                       "are costed from the dynamic mix only", o->path);
                for (int k = 0; k < 3; k++) {
                    pv_profile_free(st[i].s[k]);
                    st[i].s[k] = NULL;
                }
            }
        } else if (analyze && target && !given && !p->nblocks) {
            pv_log(PV_LOG_WARN, "%s: cannot analyze the program (%s); its blocks are costed from the dynamic mix "
                   "only", o->path ? o->path : "?", "file not found or not readable");
        }
        sv[i] = st[i].s[0];
        pv1[i] = st[i].s[1];
        pv2[i] = st[i].s[2];
        if (target && given)
            sv[i] = given;
        else if (target && !sv[i] && p->nblocks)
            sv[i] = p;
    }
    pv_predict_options po = PV_PREDICT_OPTIONS_INIT;
    po.statics = sv;
    po.probes[0] = pv1;
    po.probes[1] = pv2;
    po.nstatics = nobj;
    po.probe_cycles[0] = probe_cycles[0];
    po.probe_cycles[1] = probe_cycles[1];
    pv_prediction r;
    if ((rc = pv_predict_ex(p, m, &po, &r)) != PV_OK) {
        code = pv_cli_fail("predict", rc);
        goto done;
    }
    if (json) {
        printf("{\"profile\":");
        jstr(profile);
        printf(",\"machine\":\"%s\",\"uarch\":", m->host.hash);
        jstr(m->topo.uarch);
        printf(",\"ghz\":%.4f,\"insns\":%llu,\"seconds\":{", r.ghz, (unsigned long long)r.insns);
        jrow("total", &r.total, 0);
        jrow("compute", &r.compute, 0);
        jrow("branches", &r.branches, 0);
        jrow("memory", &r.memory, 0);
        jrow("io", &r.io, 0);
        jrow("syscalls", &r.syscalls, 1);
        printf("},\"dominant\":\"%s\",\"parallel_factor\":%.3f,\"line_use\":%.3f,\"static_blocks\":%llu,"
               "\"static_insns\":%llu,\"objects_static\":%u,\"loops_costed\":%u,\"loops_bound\":%u,"
               "\"branch_misses\":%.0f,\"chain_seconds\":%.9g,\"footprint_bytes\":%.0f}\n",
               r.dominant, r.parallel_factor, r.line_use, (unsigned long long)r.blocks_static,
               (unsigned long long)r.insns_static, r.objects_static, r.loops_costed, r.loops_bound, r.branch_misses,
               r.chain_ns * 1e-9, r.footprint);
    } else {
        printf("%s on %s (%s, %.2f GHz effective):\n", profile, m->topo.cpu_model, m->topo.uarch, r.ghz);
        printf("  predicted %.6f s  [%.6f .. %.6f]\n", r.total.mid, r.total.low, r.total.high);
        row("compute", &r.compute, r.total.mid);
        row("branches", &r.branches, r.total.mid);
        row("memory", &r.memory, r.total.mid);
        row("io", &r.io, r.total.mid);
        row("syscalls", &r.syscalls, r.total.mid);
        printf("  dominant: %s; %llu instructions, %.1f%% of them in blocks with static costs (%u of %u objects "
               "analyzed)\n",
               r.dominant, (unsigned long long)r.insns,
               r.insns ? 100.0 * (double)r.insns_static / (double)r.insns : 0.0, r.objects_static, nobj);
        printf("  loops: %u costed with their recurrence, %u bounded by it (dependent misses: %.6f s)\n",
               r.loops_costed, r.loops_bound, r.chain_ns * 1e-9);
        if (p->dynamic->has_branches)
            printf("  branches: %.0f mispredicted (simulated %s)\n", r.branch_misses, p->dynamic->branches.model);
        else
            printf("  branches: the profile has no branch simulation; mispredictions not costed\n");
        if (!p->dynamic->ncaches)
            printf("  memory: the profile has no cache simulation (prevision profile --cache=sampled); only page "
                   "faults costed\n");
        if (r.parallel_factor > 1.01)
            printf("  threads: CPU time divided by %.2f (work of the busiest thread)\n", r.parallel_factor);
    }
done:
    for (uint32_t i = 0; st && i < nobj; i++)
        for (int k = 0; k < 3; k++)
            pv_profile_free(st[i].s[k]);
    free(st);
    free(sv);
    free(pv1);
    free(pv2);
    pv_profile_free(given);
    pv_machine_free(m);
    pv_profile_free(p);
    return code;
}
