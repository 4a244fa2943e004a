/* Speed and sampling accuracy of the cache simulator on address traces.
 *
 *   cachesim-trace [options] TRACE|-
 *   cachesim-trace [options] --synthetic
 *
 * TRACE is valgrind lackey output (valgrind --tool=lackey --trace-mem=yes):
 * "I  addr,size" lines count instructions, " L", " S" and " M" lines are
 * data loads, stores and modifies (a modify is fed as a load then a store,
 * as Unicorn's memory hooks report a read-modify-write instruction). The
 * trace is streamed once through a full simulation and through one sampled
 * simulation per --sample option, each with its own simulator; the sampler
 * is driven by the instruction count, and a sampled simulator sees only the
 * accesses of its warm-up and measured windows, exactly what the emulator's
 * memory hooks would deliver. Output: per level, full accesses, misses and
 * miss rate, and per sampled schedule the extrapolated misses and miss rate
 * with their 95% intervals and the error against the full simulation.
 *
 * Speed: the first --speed N accesses (default 20M) are also kept in memory
 * and replayed through a fresh simulator a few times; the median gives
 * accesses per second. --synthetic replays generated traces instead
 * (L1-resident, sequential stream, random in 4 MiB and in 256 MiB).
 *
 * Options:
 *   --levels NAME:SIZE:LINE:WAYS[,...]  geometry (default: pve_cache_config_default)
 *   --sample P,W,U                      a sampled schedule in instructions (repeatable)
 *   --speed N                           accesses kept for the speed test (0: none)
 *   --reps N                            speed repetitions (default 5)
 *   --modify-as-write                   feed a modify as one write (cachegrind's count)
 *                                       instead of a read and a write (Unicorn's hooks)
 *   --no-footprint                      estimate without the footprint (cold misses are misses)
 *   --json                              one JSON object on stdout instead of text
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator/cachesim.h"
#include "emulator/sampling.h"
#include "prevision/error.h"

#define MAXS 16

typedef struct acc {
    uint64_t addr;
    uint32_t size;
    uint32_t write;
} acc;

static pve_cache_config cfg;
static pve_sampler_options sched[MAXS];
static pve_cache *samp_cache[MAXS];
static pve_sampler *samp[MAXS];
static int nsched;
static pve_cache *full;
static acc *keep;
static size_t nkeep, capkeep = 20000000;
static uint64_t insns, loads, stores, modifies;
static int modify_as_write;
static int no_footprint; /* estimate as if the footprint were unknown (cold misses all count) */

/* Distinct 4 KiB pages touched by data accesses: the footprint the emulator
 * reports (pages touched), which the sampled estimate uses. */
static uint64_t *pages;
static size_t npages, cappages;

static void page_add(uint64_t page)
{
    uint64_t key = page + 1;
    if ((npages + 1) * 2 > cappages) {
        size_t cap = cappages ? cappages * 2 : 1 << 16;
        uint64_t *k = calloc(cap, sizeof *k);
        if (!k) {
            fprintf(stderr, "cachesim-trace: out of memory\n");
            exit(1);
        }
        for (size_t j = 0; j < cappages; j++)
            if (pages[j]) {
                size_t i = (size_t)(pages[j] * 0x9E3779B97F4A7C15ull >> 24) & (cap - 1);
                while (k[i])
                    i = (i + 1) & (cap - 1);
                k[i] = pages[j];
            }
        free(pages);
        pages = k;
        cappages = cap;
    }
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 24) & (cappages - 1);
    while (pages[i]) {
        if (pages[i] == key)
            return;
        i = (i + 1) & (cappages - 1);
    }
    pages[i] = key;
    npages++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "cachesim-trace: %s%s%s\n", what, pv_error_last()[0] ? ": " : "", pv_error_last());
    exit(1);
}

static int parse_levels(const char *spec)
{
    pve_cache_config c = PVE_CACHE_CONFIG_INIT;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char name[8];
        unsigned long long size;
        unsigned line, ways;
        if (c.nlevels >= PVE_CACHE_MAXLEVELS || sscanf(tok, "%7[^:]:%llu:%u:%u", name, &size, &line, &ways) != 4)
            return -1;
        pve_cache_level_config *l = &c.levels[c.nlevels++];
        snprintf(l->name, sizeof l->name, "%s", name);
        l->size = size;
        l->line = line;
        l->assoc = ways;
    }
    cfg = c;
    return 0;
}

static inline void feed(uint64_t addr, uint32_t size, int w)
{
    pve_cache_access(full, addr, size, w);
    page_add(addr >> 12);
    if ((addr + size - 1) >> 12 != addr >> 12)
        page_add((addr + size - 1) >> 12);
    for (int i = 0; i < nsched; i++)
        if (pve_sampler_phase(samp[i]) != PVE_SAMPLE_OFF)
            pve_cache_access(samp_cache[i], addr, size, w);
    if (nkeep < capkeep)
        keep[nkeep++] = (acc){addr, size, (uint32_t)w};
}

static inline uint64_t hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        unsigned c = (unsigned char)**p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            v = v * 16 + ((c | 32) - 'a' + 10);
        else
            return v;
    }
}

static void read_trace(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        const char *p = line;
        if (p[0] == 'I' && p[1] == ' ') {
            insns++;
            for (int i = 0; i < nsched; i++)
                pve_sampler_step(samp[i], insns);
            continue;
        }
        if (p[0] != ' ' || n < 4 || p[2] != ' ')
            continue;
        char k = p[1];
        p += 3;
        uint64_t addr = hex(&p);
        uint32_t size = *p == ',' ? (p++, (uint32_t)strtoul(p, NULL, 10)) : 1;
        if (k == 'L') {
            loads++;
            feed(addr, size, 0);
        } else if (k == 'S') {
            stores++;
            feed(addr, size, 1);
        } else if (k == 'M') {
            modifies++;
            if (!modify_as_write)
                feed(addr, size, 0);
            feed(addr, size, 1);
        }
    }
    free(line);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xs(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void synth(int kind, size_t n)
{
    nkeep = 0;
    for (size_t i = 0; i < n && nkeep < capkeep; i++) {
        uint64_t a;
        switch (kind) {
        case 0: a = 0x10000 + (xs() % (16 << 10)); break;     /* L1-resident */
        case 1: a = 0x10000000 + i * 8; break;                /* sequential stream */
        case 2: a = 0x10000000 + (xs() % (4u << 20)); break;  /* random in 4 MiB */
        default: a = 0x10000000 + (xs() % (256u << 20)); break; /* random in 256 MiB */
        }
        keep[nkeep++] = (acc){a & ~7ull, 8, (uint32_t)(i % 4 == 0)};
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double speed(int reps)
{
    double t[32];
    if (!nkeep)
        return 0;
    for (int r = 0; r < reps; r++) {
        pve_cache *c;
        if (pve_cache_new(&c, &cfg))
            die("cache");
        unsigned sink = 0;
        double t0 = now_s();
        for (size_t i = 0; i < nkeep; i++)
            sink += pve_cache_access(c, keep[i].addr, keep[i].size, (int)keep[i].write);
        t[r] = now_s() - t0;
        if (sink == 0xffffffffu)
            puts("");
        pve_cache_free(c);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    return (double)nkeep / t[reps / 2];
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int synthetic = 0, reps = 5, json = 0;
    pve_cache_config_default(&cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--levels") && i + 1 < argc) {
            if (parse_levels(argv[++i])) {
                fprintf(stderr, "cachesim-trace: --levels: expected NAME:SIZE:LINE:WAYS[,...], got %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--sample") && i + 1 < argc) {
            pve_sampler_options o = PVE_SAMPLER_OPTIONS_INIT;
            unsigned long long P, W, U;
            if (nsched >= MAXS || sscanf(argv[++i], "%llu,%llu,%llu", &P, &W, &U) != 3) {
                fprintf(stderr, "cachesim-trace: --sample: expected P,W,U, got %s\n", argv[i]);
                return 2;
            }
            o.period = P, o.warmup = W, o.measure = U;
            sched[nsched++] = o;
        } else if (!strcmp(argv[i], "--speed") && i + 1 < argc) {
            capkeep = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--synthetic")) {
            synthetic = 1;
        } else if (!strcmp(argv[i], "--no-footprint")) {
            no_footprint = 1;
        } else if (!strcmp(argv[i], "--modify-as-write")) {
            modify_as_write = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] != '-' || !strcmp(argv[i], "-")) {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: cachesim-trace [--levels SPEC] [--sample P,W,U]... [--speed N] [--reps N] "
                            "[--modify-as-write] [--no-footprint] [--json] TRACE|-|--synthetic\n");
            return 2;
        }
    }
    if ((!path && !synthetic) || reps < 1 || reps > 31) {
        fprintf(stderr, "cachesim-trace: give a lackey trace file, - for stdin, or --synthetic\n");
        return 2;
    }
    if (pve_cache_config_check(&cfg))
        die("--levels");
    if (capkeep && !(keep = malloc(capkeep * sizeof *keep)))
        die("out of memory for the kept accesses");

    if (synthetic) {
        static const char *names[] = {"l1_resident", "sequential", "random_4MiB", "random_256MiB"};
        printf(json ? "{\"synthetic\":{" : "");
        for (int k = 0; k < 4; k++) {
            synth(k, capkeep);
            double s = speed(reps);
            if (json)
                printf("%s\"%s\":%.0f", k ? "," : "", names[k], s);
            else
                printf("%-14s %8.1f M accesses/s\n", names[k], s / 1e6);
        }
        printf(json ? "}}\n" : "");
        return 0;
    }

    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        perror(path);
        return 1;
    }
    if (pve_cache_new(&full, &cfg))
        die("cache");
    pve_cache_config scfg = cfg;
    scfg.track_cold = 1;
    for (int i = 0; i < nsched; i++) {
        if (pve_cache_new(&samp_cache[i], &scfg) || pve_sampler_new(&samp[i], &sched[i], samp_cache[i]))
            die("--sample");
        pve_sampler_step(samp[i], 0);
    }
    read_trace(f);
    if (f != stdin)
        fclose(f);
    double sp = speed(reps);

    pve_cache_level_stats fs[PVE_CACHE_MAXLEVELS];
    pve_cache_get_stats(full, fs);
    uint32_t nl = pve_cache_nlevels(full);
    if (json) {
        printf("{\"insns\":%" PRIu64 ",\"loads\":%" PRIu64 ",\"stores\":%" PRIu64 ",\"modifies\":%" PRIu64
               ",\"footprint_bytes\":%" PRIu64 ",\"speed_accesses_per_s\":%.0f,\"speed_accesses\":%zu,\"full\":[",
               insns, loads, stores, modifies, (uint64_t)npages << 12, sp, nkeep);
        for (uint32_t k = 0; k < nl; k++)
            printf("%s{\"level\":\"%s\",\"accesses\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"writebacks\":%" PRIu64 "}",
                   k ? "," : "", pve_cache_level(full, k)->name, fs[k].reads + fs[k].writes,
                   fs[k].read_misses + fs[k].write_misses, fs[k].writebacks);
        printf("],\"sampled\":[");
    } else {
        printf("trace: %" PRIu64 " instructions, %" PRIu64 " loads, %" PRIu64 " stores, %" PRIu64
               " modifies, data footprint %zu pages (%.1f MiB)\n",
               insns, loads, stores, modifies, npages, (double)npages / 256);
        printf("speed: %.1f M accesses/s over %zu accesses (median of %d)\n", sp / 1e6, nkeep, reps);
        for (uint32_t k = 0; k < nl; k++) {
            double a = (double)(fs[k].reads + fs[k].writes), m = (double)(fs[k].read_misses + fs[k].write_misses);
            printf("full     %-4s %14.0f accesses %12.0f misses  miss rate %.5f\n", pve_cache_level(full, k)->name, a,
                   m, a ? m / a : 0);
        }
    }
    for (int i = 0; i < nsched; i++) {
        pve_estimate e;
        if (pve_sampler_finish(samp[i], insns, no_footprint ? 0 : (uint64_t)npages << 12, &e))
            die("estimate");
        if (json)
            printf("%s{\"period\":%" PRIu64 ",\"warmup\":%" PRIu64 ",\"measure\":%" PRIu64 ",\"windows\":%" PRIu64
                   ",\"fraction\":%.6f,\"levels\":[",
                   i ? "," : "", sched[i].period, sched[i].warmup, sched[i].measure, e.nwindows, e.fraction);
        else
            printf("sampled  P=%" PRIu64 " W=%" PRIu64 " U=%" PRIu64 ": %" PRIu64 " windows, %.2f%% measured\n",
                   sched[i].period, sched[i].warmup, sched[i].measure, e.nwindows, 100 * e.fraction);
        for (uint32_t k = 0; k < nl; k++) {
            double fa = (double)(fs[k].reads + fs[k].writes), fm = (double)(fs[k].read_misses + fs[k].write_misses);
            double frate = fa ? fm / fa : 0;
            const pve_level_estimate *l = &e.level[k];
            double merr = fm ? (l->misses - fm) / fm : 0;
            if (json)
                printf("%s{\"level\":\"%s\",\"misses\":%.0f,\"misses_ci95\":%.0f,\"miss_rate\":%.6f,"
                       "\"miss_rate_ci95\":%.6f,\"full_miss_rate\":%.6f,\"misses_rel_error\":%.5f,"
                       "\"cold_miss_prob\":%.4f,\"misses_if_cold_missed\":%.0f,\"misses_if_cold_hit\":%.0f}",
                       k ? "," : "", pve_cache_level(full, k)->name, l->misses, l->misses_ci95, l->miss_rate,
                       l->miss_rate_ci95, frate, merr, l->cold_miss_prob, l->misses_if_cold_missed,
                       l->misses_if_cold_hit);
            else
                printf("         %-4s misses %12.0f +- %-10.0f (%+7.2f%% vs full)  miss rate %.5f +- %.5f (full %.5f, "
                       "%+.2f points)  q %.3f, bounds [%.0f, %.0f]\n",
                       pve_cache_level(full, k)->name, l->misses, l->misses_ci95, 100 * merr, l->miss_rate,
                       l->miss_rate_ci95, frate, 100 * (l->miss_rate - frate), l->cold_miss_prob,
                       l->misses_if_cold_hit, l->misses_if_cold_missed);
        }
        if (json)
            printf("]}");
    }
    if (json)
        printf("]}\n");
    return 0;
}
