/* prevision predict: host run time of a profiled program. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision predict [--machine MACHINE.json] [--json] PROFILE\n"
    "\n"
    "Predicts how long the program PROFILE describes takes on this host (or on\n"
    "the machine MACHINE.json describes), from the profile's dynamic section\n"
    "(written by 'prevision profile') and the calibrated machine model:\n"
    "compute (dynamic instruction mix at calibrated per-class costs, bounded\n"
    "per block by the static cycle estimates), memory (simulated cache misses\n"
    "at calibrated latencies or bandwidths, plus page faults), I/O and system\n"
    "calls. Prints each term with a low..high interval and the dominant term.\n"
    "\n"
    "Without --machine, the cached model of this host is used; when there is\n"
    "none, a quick calibration runs first (about 10 s) and is cached.\n"
    "\n"
    "  --machine FILE  machine model from 'prevision calibrate -o FILE'\n"
    "  --json          print the prediction as JSON\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage or bad input (no dynamic\n"
    "section, malformed profile or machine model).\n";

static void row(const char *name, const pv_interval *v, double total)
{
    printf("  %-9s %12.6f s  [%.6f .. %.6f]  %5.1f%%\n", name, v->mid, v->low, v->high,
           total > 0 ? 100.0 * v->mid / total : 0.0);
}

static void jrow(const char *name, const pv_interval *v, int last)
{
    printf("\"%s\":{\"low\":%.9g,\"mid\":%.9g,\"high\":%.9g}%s", name, v->low, v->mid, v->high, last ? "" : ",");
}

int cmd_predict(int argc, char **argv)
{
    const char *machine = NULL, *profile = NULL;
    int json = 0, rc, code = PV_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (pv_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        } else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--machine")) {
            if (++i >= argc)
                return pv_cli_usage_error("predict", "--machine needs a FILE");
            machine = argv[i];
        } else if (argv[i][0] == '-' && argv[i][1])
            return pv_cli_usage_error("predict", "unknown option '%s'", argv[i]);
        else if (profile)
            return pv_cli_usage_error("predict", "expected one PROFILE, got '%s' and '%s'", profile, argv[i]);
        else
            profile = argv[i];
    }
    if (!profile)
        return pv_cli_usage_error("predict", "expected a PROFILE file");
    pv_profile *p = NULL;
    pv_machine *m = NULL;
    if ((rc = pv_profile_load(profile, &p)) != PV_OK)
        return pv_cli_fail("predict", rc);
    if (!p->dynamic) {
        pv_cli_error("predict", "%s: the profile has no dynamic section; run 'prevision profile' on the program "
                     "first", profile);
        code = PV_EXIT_USAGE;
        goto done;
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
    pv_prediction r;
    if ((rc = pv_predict(p, m, &r)) != PV_OK) {
        code = pv_cli_fail("predict", rc);
        goto done;
    }
    if (json) {
        printf("{\"profile\":\"");
        for (const char *s = profile; *s; s++)
            if (*s == '"' || *s == '\\')
                printf("\\%c", *s);
            else if ((unsigned char)*s >= 0x20)
                putchar(*s);
        printf("\",\"machine\":\"%s\",\"uarch\":\"%s\",\"ghz\":%.4f,\"insns\":%llu,\"seconds\":{", m->host.hash,
               m->topo.uarch, r.ghz, (unsigned long long)r.insns);
        jrow("total", &r.total, 0);
        jrow("compute", &r.compute, 0);
        jrow("memory", &r.memory, 0);
        jrow("io", &r.io, 0);
        jrow("syscalls", &r.syscalls, 1);
        printf("},\"dominant\":\"%s\",\"parallel_factor\":%.3f,\"line_use\":%.3f,\"static_blocks\":%llu}\n",
               r.dominant, r.parallel_factor, r.line_use, (unsigned long long)r.blocks_static);
    } else {
        printf("%s on %s (%s, %.2f GHz effective):\n", profile, m->topo.cpu_model, m->topo.uarch, r.ghz);
        printf("  predicted %.6f s  [%.6f .. %.6f]\n", r.total.mid, r.total.low, r.total.high);
        row("compute", &r.compute, r.total.mid);
        row("memory", &r.memory, r.total.mid);
        row("io", &r.io, r.total.mid);
        row("syscalls", &r.syscalls, r.total.mid);
        printf("  dominant: %s; %llu instructions, %llu executed blocks costed with static cycles%s\n", r.dominant,
               (unsigned long long)r.insns, (unsigned long long)r.blocks_static,
               r.parallel_factor > 1.01 ? "" : "");
        if (r.parallel_factor > 1.01)
            printf("  threads: compute divided by %.2f (work of the busiest thread)\n", r.parallel_factor);
    }
done:
    pv_machine_free(m);
    pv_profile_free(p);
    return code;
}
