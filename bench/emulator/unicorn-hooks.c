/* What memory hooks and translation-cache flushes cost in Unicorn 2.1.1,
 * measured on generated guest code, to choose the sampled cache
 * simulation's defaults (docs/cache-simulation.md), and a working model of
 * how the emulator drives the sampler from its hooks.
 *
 * The guest is NB distinct basic blocks, each "load; add; store; jmp next"
 * (4 instructions, 2 data accesses), chained into a loop whose tail moves
 * the data cursor by one line. Modes, alternated and repeated so that other
 * load on the machine affects them alike:
 *   raw      no hooks at all
 *   count    a block hook counting blocks and instructions (plain counting)
 *   memnop   count + a memory hook that does nothing (the hook's own cost)
 *   full     count + a memory hook feeding the cache simulator
 *   sampled  count + the sampler switching the memory hook on and off
 *            (stop, add/remove hook, flush, resume), with its estimate
 * and, separately, the cost of one flush: the time to retranslate NB blocks.
 *
 * Build and run: bench/emulator/run-unicorn-hooks.sh (see bench/README.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#include "emulator/cachesim.h"
#include "emulator/sampling.h"
#include "prevision/error.h"

#define CODE 0x400000ull
#define DATA 0x10000000ull
#define SCRATCH 0x7000000ull
#define BLK 24 /* bytes per generated block */

static uint32_t nb = 2000;
static uint64_t iters = 20000;
static uint8_t *code;
static size_t code_len;
static uint64_t end_addr;
static uint32_t tcg_buffer; /* 0: Unicorn's default (1 GiB in 2.1.1) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void gen(void)
{
    code_len = (size_t)nb * BLK + 32;
    code = calloc(1, code_len);
    uint8_t *p = code;
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t disp = (uint32_t)(((uint64_t)k * 4160) % (1u << 20));
        /* mov rax, [r8 + rdi + disp32] */
        p[0] = 0x49, p[1] = 0x8b, p[2] = 0x84, p[3] = 0x38, put32(p + 4, disp);
        /* add rax, rbx */
        p[8] = 0x48, p[9] = 0x01, p[10] = 0xd8;
        /* mov [r8 + rdi + disp32 + 8], rax */
        p[11] = 0x49, p[12] = 0x89, p[13] = 0x84, p[14] = 0x38, put32(p + 15, disp + 8);
        /* jmp next block */
        p[19] = 0xe9, put32(p + 20, 0);
        p += BLK;
    }
    /* add rdi, 64; and rdi, 0xfffff; dec rcx; jnz block 0 */
    p[0] = 0x48, p[1] = 0x83, p[2] = 0xc7, p[3] = 0x40;
    p[4] = 0x48, p[5] = 0x81, p[6] = 0xe7, put32(p + 7, 0xfffff);
    p[11] = 0x48, p[12] = 0xff, p[13] = 0xc9;
    p[14] = 0x0f, p[15] = 0x85;
    int32_t rel = -(int32_t)((p + 20) - code);
    put32(p + 16, (uint32_t)rel);
    end_addr = CODE + (uint64_t)(p + 20 - code);
}

typedef struct run {
    uc_engine *uc;
    uc_hook hb, hm;
    int mem_on;
    uint64_t blocks, insns;
    pve_cache *cache;
    pve_sampler *sampler;
    pve_cache_counts blk;
    int want_toggle;
    int mode;
    uint64_t mem_calls_off; /* memory hook calls while the sampler said OFF */
} run;

enum { RAW, COUNT, MEMNOP, FULL, SAMPLED };
static const char *mode_name[] = {"raw", "count", "memnop", "full", "sampled"};

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    run *r = ud;
    (void)size;
    if (addr == SCRATCH)
        return;
    if (r->sampler) {
        pve_sample_phase was = pve_sampler_phase(r->sampler);
        pve_sample_phase p = pve_sampler_step(r->sampler, r->insns);
        if (pve_sample_hooks_on(p) != pve_sample_hooks_on(was)) {
            /* Hooks change only between runs: stop here, switch, flush, resume at this block. */
            r->want_toggle = 1;
            uc_emu_stop(uc);
            return;
        }
    }
    r->blocks++;
    r->insns += 4;
}

static void hook_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    run *r = ud;
    (void)uc;
    (void)value;
    if (r->sampler && pve_sampler_phase(r->sampler) == PVE_SAMPLE_OFF)
        r->mem_calls_off++;
    pve_cache_access_count(r->cache, addr, (uint32_t)size, type == UC_MEM_WRITE, &r->blk);
}

static void hook_mem_nop(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    (void)uc, (void)type, (void)addr, (void)size, (void)value, (void)ud;
}

static void check(uc_err e, const char *what)
{
    if (e != UC_ERR_OK) {
        fprintf(stderr, "unicorn-hooks: %s: %s\n", what, uc_strerror(e));
        exit(1);
    }
}

static void mem_hook(run *r, int on, uc_cb_hookmem_t cb)
{
    if (on && !r->mem_on)
        check(uc_hook_add(r->uc, &r->hm, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)cb, r, 1, 0), "hook_add mem");
    else if (!on && r->mem_on)
        check(uc_hook_del(r->uc, r->hm), "hook_del mem");
    r->mem_on = on;
}

static void setup(run *r, int mode)
{
    memset(r, 0, sizeof *r);
    r->mode = mode;
    check(uc_open(UC_ARCH_X86, UC_MODE_64, &r->uc), "uc_open");
    /* A flush costs in proportion to the translation buffer (1 GiB by default in 2.1.1). */
    if (tcg_buffer)
        check(uc_ctl_set_tcg_buffer_size(r->uc, tcg_buffer), "tcg buffer size");
    check(uc_mem_map(r->uc, CODE, 1 << 20, UC_PROT_ALL), "map code");
    check(uc_mem_map(r->uc, DATA, 4 << 20, UC_PROT_ALL), "map data");
    check(uc_mem_write(r->uc, CODE, code, code_len), "write code");
    check(uc_mem_map(r->uc, SCRATCH, 4096, UC_PROT_ALL), "map scratch");
    uint8_t nop = 0x90;
    check(uc_mem_write(r->uc, SCRATCH, &nop, 1), "write scratch");
    /* patch the jmps: each jumps to the next block (rel 0 already does) */
    uint64_t data = DATA, zero = 0, n = iters, one = 1;
    uc_reg_write(r->uc, UC_X86_REG_R8, &data);
    uc_reg_write(r->uc, UC_X86_REG_RDI, &zero);
    uc_reg_write(r->uc, UC_X86_REG_RCX, &n);
    uc_reg_write(r->uc, UC_X86_REG_RBX, &one);
    if (mode != RAW)
        check(uc_hook_add(r->uc, &r->hb, UC_HOOK_BLOCK, (void *)hook_block, r, 1, 0), "hook_add block");
    if (mode == FULL || mode == SAMPLED) {
        pve_cache_config cfg;
        pve_cache_config_default(&cfg);
        cfg.track_cold = mode == SAMPLED;
        if (pve_cache_new(&r->cache, &cfg)) {
            fprintf(stderr, "unicorn-hooks: cache: %s\n", pv_error_last());
            exit(1);
        }
    }
    if (mode == MEMNOP)
        mem_hook(r, 1, hook_mem_nop);
    if (mode == FULL)
        mem_hook(r, 1, hook_mem);
}

static void run_free(run *r)
{
    pve_sampler_free(r->sampler);
    pve_cache_free(r->cache);
    uc_close(r->uc);
}

static pve_sampler_options sopts = PVE_SAMPLER_OPTIONS_INIT;
static int naive;        /* switch hooks the obvious way, to show what it costs */
static int full_flush;   /* uc_ctl_flush_tb() instead of uc_ctl_remove_cache() over the code */
static double switch_s;  /* time spent switching hooks and flushing, last sampled run */

/* Switch the memory hook between two uc_emu_start() calls. */
static void switch_hooks(run *r, int on)
{
    mem_hook(r, on, hook_mem);
    /* uc_hook_del() only marks the hook; it leaves the hook list at the end
     * of the next uc_emu_start(), so code translated before then still
     * calls the memory helpers. A one-nop run on a scratch page removes it
     * now. */
    if (!on && !naive)
        check(uc_emu_start(r->uc, SCRATCH, SCRATCH + 1, 0, 0), "scratch run");
    /* Dropping the translations of the guest's code only is much cheaper
     * than a full flush, whose cost grows with the translation buffer (and
     * whose first call in an engine touches all of it). */
    if (full_flush || naive)
        check(uc_ctl_flush_tb(r->uc), "flush");
    else
        check(uc_ctl_remove_cache(r->uc, CODE, CODE + code_len), "remove cache");
}

/* @return seconds */
static double run_mode(int mode, run *keep)
{
    run r;
    setup(&r, mode);
    if (mode == SAMPLED && pve_sampler_new(&r.sampler, &sopts, r.cache)) {
        fprintf(stderr, "unicorn-hooks: sampler: %s\n", pv_error_last());
        exit(1);
    }
    /* The first phase is known before anything is translated: no flush. */
    if (r.sampler && !naive && pve_sample_hooks_on(pve_sampler_step(r.sampler, 0)))
        mem_hook(&r, 1, hook_mem);
    double t0 = now_s();
    switch_s = 0;
    uint64_t pc = CODE;
    for (;;) {
        check(uc_emu_start(r.uc, pc, end_addr, 0, 0), "emu_start");
        check(uc_reg_read(r.uc, UC_X86_REG_RIP, &pc), "read rip");
        if (!r.want_toggle || pc == end_addr)
            break;
        r.want_toggle = 0;
        double ts = now_s();
        switch_hooks(&r, pve_sample_hooks_on(pve_sampler_phase(r.sampler)));
        switch_s += now_s() - ts;
    }
    double t = now_s() - t0;
    if (keep)
        *keep = r;
    else
        run_free(&r);
    return t;
}

/* Seconds to flush, and to flush and retranslate all NB blocks once: one
 * loop iteration after a flush minus one without. */
static double flush_only;
static double flush_cost(void)
{
    run r;
    uint64_t n = 1;
    setup(&r, COUNT);
    double best_plain = 1e9, best_flush = 1e9;
    for (int rep = 0; rep < 7; rep++) {
        uint64_t zero = 0;
        uc_reg_write(r.uc, UC_X86_REG_RCX, &n);
        uc_reg_write(r.uc, UC_X86_REG_RDI, &zero);
        double t0 = now_s();
        check(uc_emu_start(r.uc, CODE, end_addr, 0, 0), "emu_start");
        double t1 = now_s() - t0;
        if (rep > 0 && t1 < best_plain)
            best_plain = t1;
        uc_reg_write(r.uc, UC_X86_REG_RCX, &n);
        t0 = now_s();
        check(uc_ctl_flush_tb(r.uc), "flush");
        double tf = now_s() - t0;
        if (rep == 0 || tf < flush_only)
            flush_only = tf;
        check(uc_emu_start(r.uc, CODE, end_addr, 0, 0), "emu_start");
        t1 = now_s() - t0;
        if (t1 < best_flush)
            best_flush = t1;
    }
    uc_close(r.uc);
    return best_flush - best_plain;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--blocks") && i + 1 < argc)
            nb = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--period") && i + 1 < argc)
            sopts.period = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            sopts.warmup = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--measure") && i + 1 < argc)
            sopts.measure = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--tcg-buffer") && i + 1 < argc)
            tcg_buffer = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--naive"))
            naive = 1;
        else if (!strcmp(argv[i], "--flush"))
            full_flush = 1;
        else {
            fprintf(stderr, "usage: unicorn-hooks [--blocks N] [--iters N] [--reps N] [--period P] [--warmup W] "
                            "[--measure U] [--tcg-buffer BYTES] [--flush] [--naive]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 99 || nb < 1)
        return 2;
    gen();
    uint64_t insns = (uint64_t)iters * (nb + 1) * 4;
    printf("guest: %u blocks + tail, %" PRIu64 " iterations, %" PRIu64 " instructions, %" PRIu64
           " data accesses\n", nb, iters, insns, (uint64_t)iters * nb * 2);
    printf("sampler: period %" PRIu64 ", warm-up %" PRIu64 ", measure %" PRIu64 " instructions; hooks switched %s; "
           "translation buffer %s\n", sopts.period, sopts.warmup, sopts.measure,
           naive ? "naively (hook_del, flush)" : full_flush ? "with a full flush" : "with remove_cache over the code",
           tcg_buffer ? "set" : "default");

    double t[5][99];
    for (int rep = 0; rep < reps; rep++)
        for (int m = RAW; m <= SAMPLED; m++)
            t[m][rep] = run_mode(m, NULL);
    double med[5];
    for (int m = RAW; m <= SAMPLED; m++) {
        qsort(t[m], (size_t)reps, sizeof(double), cmp_d);
        med[m] = t[m][reps / 2];
    }
    for (int m = RAW; m <= SAMPLED; m++)
        printf("%-8s %8.3f s  %7.1f M insns/s  %5.2fx count\n", mode_name[m], med[m], (double)insns / med[m] / 1e6,
               med[m] / med[COUNT]);
    printf("per data access: memnop hook %.1f ns, hook + cache simulation %.1f ns\n",
           (med[MEMNOP] - med[COUNT]) / (double)(iters * nb * 2) * 1e9,
           (med[FULL] - med[COUNT]) / (double)(iters * nb * 2) * 1e9);
    double fc = flush_cost();
    printf("flush alone %.3f ms; flush + retranslation of %u blocks %.3f ms (%.2f us per block)\n",
           flush_only * 1e3, nb + 1, fc * 1e3, (fc - flush_only) / (nb + 1) * 1e6);

    /* Exactness: counts of the full and sampled runs, and the estimate. */
    run full, samp;
    run_mode(FULL, &full);
    run_mode(SAMPLED, &samp);
    pve_estimate e;
    if (pve_sampler_finish(samp.sampler, samp.insns, 0, &e)) {
        fprintf(stderr, "unicorn-hooks: %s\n", pv_error_last());
        return 1;
    }
    pve_cache_level_stats fs[PVE_CACHE_MAXLEVELS];
    pve_cache_get_stats(full.cache, fs);
    printf("sampled run: %.1f ms switching hooks (stop, hook add/del, flush), %.3f ms per switch\n",
           switch_s * 1e3, switch_s * 1e3 / (double)(pve_sampler_switches(samp.sampler) ? pve_sampler_switches(samp.sampler) : 1));
    printf("blocks counted: full %" PRIu64 ", sampled %" PRIu64 " (expected %" PRIu64 "), hook switches %" PRIu64
           ", windows %" PRIu64 ", sampled fraction %.4f, memory hook calls while off %" PRIu64 "\n",
           full.blocks, samp.blocks, (uint64_t)iters * (nb + 1), pve_sampler_switches(samp.sampler), e.nwindows,
           e.fraction, samp.mem_calls_off);
    for (uint32_t k = 0; k < pve_cache_nlevels(full.cache); k++) {
        double fa = (double)(fs[k].reads + fs[k].writes), fm = (double)(fs[k].read_misses + fs[k].write_misses);
        printf("%-4s full: %12.0f accesses %12.0f misses rate %.4f | sampled: %12.0f misses +- %.0f rate %.4f +- "
               "%.4f\n",
               pve_cache_level(full.cache, k)->name, fa, fm, fa ? fm / fa : 0, e.level[k].misses,
               e.level[k].misses_ci95, e.level[k].miss_rate, e.level[k].miss_rate_ci95);
    }
    run_free(&full);
    run_free(&samp);
    free(code);
    return 0;
}
