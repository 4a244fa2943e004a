/* prevision calibrate: measure this host (or reuse the cached measurement). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision calibrate [--quick] [--force] [--drop-caches] [--no-papi] [--json] [-o FILE]\n"
    "\n"
    "Measures this host: topology (hwloc), effective clock, latency and throughput\n"
    "of every instruction-mix class (each SIMD width the CPU has), memory latency\n"
    "and bandwidth per level (one core and all cores), page-fault, thread,\n"
    "process, syscall, file-read and file-write costs. Each figure is the median of\n"
    "several repetitions with min and max, and says which method produced it:\n"
    "PAPI hardware counters where the host has them, otherwise clock_gettime with\n"
    "cycles derived from the effective clock. Times are the measuring thread's\n"
    "CPU time, so that other load on a shared machine does not count.\n"
    "\n"
    "The result is cached in $XDG_CACHE_HOME/prevision/machine.json (or\n"
    "~/.cache/prevision/machine.json) and reused while the host fingerprint (CPU,\n"
    "cores, memory, caches, kernel) is unchanged.\n"
    "\n"
    "  --quick        fewer repetitions and smaller working sets (under 15 s)\n"
    "  --force        measure again even when the cache matches this host\n"
    "  --drop-caches  write /proc/sys/vm/drop_caches before the disk-read test\n"
    "                 (needs root; without it only the test file is evicted)\n"
    "  --no-papi      use the timer method even where PAPI has counters\n"
    "  --json         print the machine model (JSON) instead of the summary\n"
    "  -o FILE        also write the machine model to FILE\n"
    "\n"
    "Exit status: 0 ok, 1 measurement failed, 2 bad usage.\n";

static void stat_line(const char *what, const pv_stat *s, const char *unit)
{
    if (!s->reps) {
        printf("  %-28s not measured\n", what);
        return;
    }
    printf("  %-28s %10.3f %-6s [%.3f .. %.3f] %s x%u\n", what, s->median, unit, s->min, s->max,
           pv_method_name((pv_method)s->method), s->reps);
}

static void size_str(char *buf, size_t n, uint64_t b)
{
    if (b >= (1ull << 30))
        snprintf(buf, n, "%.1f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(buf, n, "%.1f MiB", (double)b / (1ull << 20));
    else
        snprintf(buf, n, "%.0f KiB", (double)b / 1024);
}

static void print_summary(const pv_machine *m, int reused, const char *cache)
{
    const pv_topology *t = &m->topo;
    char sz[32];
    printf("host: %s (%s family %d model %d, uarch %s)\n", t->cpu_model, t->cpu_vendor, t->cpu_family,
           t->cpu_model_number, t->uarch);
    size_str(sz, sizeof sz, t->memory);
    printf("topology: %u package(s), %u cores, %u PUs, %u NUMA node(s), %s memory\n", t->npackages, t->ncores,
           t->npus, t->nnuma, sz);
    for (uint32_t i = 0; i < t->ncaches; i++) {
        size_str(sz, sizeof sz, t->caches[i].size);
        printf("  %-4s %-10s line %u, %d-way, x%u (shared by %u PUs)\n", t->caches[i].name, sz, t->caches[i].line,
               t->caches[i].assoc, t->caches[i].count, t->caches[i].shared_by);
    }
    for (uint32_t i = 0; i < t->ndevices; i++)
        printf("  device: %-6s %-10s %s\n", t->devices[i].kind, t->devices[i].name, t->devices[i].busid);
    printf("calibrated %s%s in %.1f s; fingerprint %s, kernel %s\n", m->date, m->quick ? " (quick)" : "",
           m->duration_s, m->host.hash, m->host.kernel);
    if (reused)
        printf("(reused the cached model %s; --force measures again)\n", cache);
    printf("method: %s (%s)\n", pv_method_name(m->method), m->method_note);
    printf("SIMD: %s\n", m->simd);
    stat_line("effective clock", &m->clock_ghz, "GHz");
    printf("per class, cycles           latency                              reciprocal throughput\n");
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        const pv_class_cost *cc = &m->classes[c];
        if (!cc->latency.reps && !cc->rthroughput.reps)
            continue;
        printf("  %-14s %8.2f [%6.2f .. %6.2f]      %8.3f [%6.3f .. %6.3f]\n", pv_mix_class_name((pv_mix_class)c),
               cc->latency.median, cc->latency.min, cc->latency.max, cc->rthroughput.median, cc->rthroughput.min,
               cc->rthroughput.max);
    }
    stat_line("branch mispredict (cycles)", &m->branch_miss_cycles, "cyc");
    printf("memory           latency ns  random ns  read GB/s  write GB/s  triad GB/s  read all  triad all\n");
    for (uint32_t i = 0; i < m->nmem_levels; i++) {
        const pv_mem_level *l = &m->mem_levels[i];
        size_str(sz, sizeof sz, l->size);
        printf("  %-5s %-10s %8.2f %10.2f %10.1f %11.1f %11.1f %9.1f %10.1f\n", l->name, sz, l->latency_ns.median,
               l->random_ns.median, l->read_gbs.median, l->write_gbs.median, l->triad_gbs.median,
               l->read_gbs_all.median, l->triad_gbs_all.median);
    }
    printf("  (latency: dependent loads; random: independent random loads, overlapped by the core)\n");
    stat_line("miss window (instructions)", &m->miss_window_insns, "insns");
    stat_line("page fault 4 KiB", &m->warm.page_fault_4k_ns, "ns");
    stat_line("page release 4 KiB", &m->warm.page_free_4k_ns, "ns");
    stat_line("page fault 2 MiB (THP)", &m->warm.page_fault_huge_ns, "ns");
    printf("    (%s)\n", m->warm.huge_note);
    stat_line("thread create+join", &m->warm.thread_create_us, "us");
    stat_line("process spawn+wait", &m->warm.process_spawn_us, "us");
    stat_line("syscall (getppid)", &m->warm.syscall_ns, "ns");
    stat_line("read() call, 64 B cached", &m->warm.syscall_read_ns, "ns");
    stat_line("write() call, 64 B cached", &m->warm.syscall_write_ns, "ns");
    stat_line("file write, 4 KiB chunks", &m->warm.file_write_4k_gbs, "GB/s");
    stat_line("file write, 1 MiB chunks", &m->warm.file_write_gbs, "GB/s");
    stat_line("file read, 4 KiB chunks", &m->warm.file_read_4k_gbs, "GB/s");
    stat_line("file read, page cache", &m->warm.file_cached_gbs, "GB/s");
    stat_line("file read, disk", &m->warm.file_disk_gbs, "GB/s");
    printf("    (%s)\n", m->warm.disk_note);
}

int cmd_calibrate(int argc, char **argv)
{
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    int force = 0, json = 0, rc, reused = 0, code = PV_EXIT_OK;
    const char *outfile = NULL;
    for (int i = 1; i < argc; i++) {
        if (pv_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick"))
            o.quick = 1;
        else if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--drop-caches"))
            o.drop_caches = 1;
        else if (!strcmp(argv[i], "--no-papi"))
            o.use_papi = 0;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-o")) {
            if (++i >= argc)
                return pv_cli_usage_error("calibrate", "-o needs a FILE");
            outfile = argv[i];
        } else
            return pv_cli_usage_error("calibrate", "unknown argument '%s'", argv[i]);
    }
    pv_progress_bar *bar = pv_cli_progress();
    o.progress = pv_progress_bar_update;
    o.progress_ud = bar;
    pv_machine *m = NULL;
    rc = pv_machine_get(&m, &o, force, &reused);
    pv_progress_bar_free(bar);
    if (rc != PV_OK)
        return pv_cli_fail("calibrate", rc);
    char cache[4096] = "";
    if (pv_machine_cache_path(cache, sizeof cache) != PV_OK)
        pv_error_clear();
    if (outfile) {
        rc = pv_machine_save(m, outfile);
        if (rc != PV_OK) {
            code = pv_cli_fail("calibrate", rc);
            goto done;
        }
    }
    if (json) {
        char *s = NULL;
        if ((rc = pv_machine_to_string(m, &s)) != PV_OK) {
            code = pv_cli_fail("calibrate", rc);
            goto done;
        }
        puts(s);
        free(s);
    } else if (!outfile || strcmp(outfile, "-")) {
        print_summary(m, reused, cache);
    }
done:
    pv_machine_free(m);
    return code;
}
