/* Tests for costmodel/predict.c on hand-made profiles and a machine model
 * with fixed figures (min = median = max, so the low, mid and high ends use
 * the same figures and differ only by the model's overlap assumptions).
 * Every expected value is computed by hand in the comment next to it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/analyzer.h"
#include "prevision/costmodel.h"

static pv_stat st(double v) { return (pv_stat){v, v, v, 3, PV_METHOD_TIMER}; }

/* 4 GHz; int ALU ops 0.25 cycles (4 per cycle), everything else 0.5;
 * zen4's issue width (6) and groups; loads and stores 2 per cycle. */
static pv_machine *machine(void)
{
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->schema_version = 1;
    snprintf(m->topo.uarch, sizeof m->topo.uarch, "zen4");
    m->topo.npus = 8;
    m->clock_ghz = st(4.0);
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        m->classes[c].latency = st(2.0);
        m->classes[c].rthroughput = st(0.5);
    }
    m->classes[PV_MIX_INT_ALU].latency = st(1.0);
    m->classes[PV_MIX_INT_ALU].rthroughput = st(0.25);
    m->classes[PV_MIX_LOAD].latency = st(4.0);
    m->branch_miss_cycles = st(20);
    /* Sweep: 4 KiB (L1), 1 MiB, 64 MiB: chase ns, random ns, window ns. */
    const uint64_t sizes[3] = {4096, 1u << 20, 64u << 20};
    const double chase[3] = {1, 5, 100}, rnd[3] = {0.5, 1, 10}, win[3] = {2, 4, 40};
    m->nmem_points = 3;
    for (int i = 0; i < 3; i++)
        m->mem_points[i] = (pv_mem_point){sizes[i], st(chase[i]), st(rnd[i]), st(win[i])};
    const char *names[4] = {"L1d", "L2", "L3", "DRAM"};
    double bw[4] = {100, 64, 32, 16};
    m->nmem_levels = 4;
    for (int i = 0; i < 4; i++) {
        pv_mem_level *l = &m->mem_levels[i];
        snprintf(l->name, sizeof l->name, "%s", names[i]);
        l->read_gbs = st(bw[i]);
        l->write_gbs = st(bw[i] / 2);
        l->triad_gbs = st(bw[i] * 0.75);
        l->read_gbs_all = st(1.5 * bw[i]);
        l->triad_gbs_all = st(1.5 * bw[i] * 0.75);
    }
    m->warm.page_fault_4k_ns = st(1000);
    m->warm.page_free_4k_ns = st(200);
    m->warm.file_cached_gbs = st(16);
    m->warm.file_read_4k_gbs = st(4);
    m->warm.file_write_gbs = st(4);
    m->warm.file_write_4k_gbs = st(1);
    m->warm.file_disk_gbs = st(1);
    m->warm.syscall_ns = st(200);
    m->warm.thread_create_us = st(50);
    m->warm.process_spawn_us = st(500);
    return m;
}

static pv_profile *profile(void)
{
    pv_profile *p = NULL;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->dynamic = calloc(1, sizeof *p->dynamic);
    assert_non_null(p->dynamic);
    return p;
}

/* One object, the target, with @p nrows executed blocks. */
static void rows(pv_dynamic *d, uint32_t nrows)
{
    d->nobjects = 1;
    d->objects = calloc(1, sizeof *d->objects);
    d->objects[0].path = strdup("/nonexistent/prog");
    d->objects[0].is_target = 1;
    d->ncounts = nrows;
    d->counts = calloc(nrows, sizeof *d->counts);
}

static void near(double a, double b)
{
    if (!(fabs(a - b) <= 1e-9 * fabs(b) + 1e-15))
        fail_msg("%.12g != %.12g", a, b);
}
#define NEAR(a, b) near((double)(a), (double)(b))

static const double SPAWN = 500e-6; /* process start-up, s */

static void terms_add_up(const pv_prediction *r)
{
    NEAR(r->total.low, r->compute.low + r->branches.low + r->memory.low + r->io.low + r->syscalls.low);
    NEAR(r->total.mid, r->compute.mid + r->branches.mid + r->memory.mid + r->io.mid + r->syscalls.mid);
    NEAR(r->total.high, r->compute.high + r->branches.high + r->memory.high + r->io.high + r->syscalls.high);
    double eps = 1e-12 * r->total.high;
    assert_true(r->total.low <= r->total.mid + eps && r->total.mid <= r->total.high + eps);
}

/* No static profile: the dynamic mix as one block-shaped bound. */
static void compute_from_mix(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    p->dynamic->mix.n[PV_MIX_INT_ALU] = 4000000000ull;
    p->dynamic->insns = 4000000000ull;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* max(issue 4e9 / 6, ALUs 4e9 x 0.25 = 1e9) cycles at 4 GHz = 0.25 s. */
    NEAR(r.compute.mid, 0.25);
    NEAR(r.compute.low, 0.25);
    NEAR(r.compute.high, 0.25);
    NEAR(r.memory.mid, 0);
    NEAR(r.branches.mid, 0);
    NEAR(r.syscalls.mid, SPAWN);
    assert_string_equal(r.dominant, "compute");
    assert_int_equal(r.insns, 4000000000ull);
    terms_add_up(&r);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* A static loop: block 0x1000 (3 ALU ops and a conditional branch) is the
 * header and only block of a loop whose recurrence is 5 cycles. */
static void static_loop(pv_profile *p, float cpi)
{
    p->nfunctions = 1;
    p->functions = calloc(1, sizeof *p->functions);
    p->functions[0].name = strdup("f");
    p->functions[0].addr = 0x1000;
    p->functions[0].nblocks = 2;
    p->nblocks = 2;
    p->blocks = calloc(2, sizeof *p->blocks);
    p->blocks[0] = (pv_block){.addr = 0x1000, .size = 12, .ninsns = 4, .func = 0};
    p->blocks[0].mix.n[PV_MIX_INT_ALU] = 3;
    p->blocks[0].mix.n[PV_MIX_BRANCH_COND] = 1;
    p->blocks[1] = (pv_block){.addr = 0x100c, .size = 8, .ninsns = 2, .func = 0};
    p->blocks[1].mix.n[PV_MIX_INT_ALU] = 2;
    p->nloops = 1;
    p->loops = calloc(1, sizeof *p->loops);
    p->loops[0].header = 0x1000;
    p->loops[0].depth = 1;
    p->loops[0].parent = PV_NONE;
    p->loops[0].nblocks = 1;
    p->loops[0].blocks = calloc(1, sizeof(uint32_t));
    p->loops[0].blocks[0] = 0;
    p->loops[0].cycles_per_iter = cpi;
}

static void loop_recurrence(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    static_loop(p, 5.0f);
    pv_dynamic *d = p->dynamic;
    rows(d, 1);
    d->counts[0] = (pv_block_count){0, 0x1000, 4, 100000000};
    d->mix.n[PV_MIX_INT_ALU] = 300000000;
    d->mix.n[PV_MIX_BRANCH_COND] = 100000000;
    d->insns = 400000000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK); /* the profile's own blocks serve */
    /* Per execution: max(issue 4/6, ALUs 3 x 0.25, branch 1 x 0.5) = 0.75
     * cycles; the recurrence 5 cycles bounds it: 1e8 x 5 / 4 GHz. */
    NEAR(r.compute.mid, 1e8 * 5 / 4e9);
    NEAR(r.compute.low, 1e8 * 5 / 4e9);
    /* High end: throughput and recurrence do not overlap. */
    NEAR(r.compute.high, 1e8 * (5 + 0.75) / 4e9);
    assert_int_equal(r.blocks_static, 1);
    assert_int_equal(r.insns_static, 400000000);
    assert_int_equal(r.loops_costed, 1);
    assert_int_equal(r.objects_static, 1);
    terms_add_up(&r);
    /* A recurrence below the throughput bound changes nothing. */
    p->loops[0].cycles_per_iter = 0.5f;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.compute.mid, 1e8 * 0.75 / 4e9);
    NEAR(r.compute.high, 1e8 * 0.75 / 4e9);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* Translation blocks are not static blocks: one that runs on through a
 * fall-through covers both; one that starts inside a block covers its tail. */
static void translation_blocks(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    static_loop(p, 0.0f);
    p->loops[0].cycles_per_iter = 0; /* no recurrence: throughput only */
    pv_dynamic *d = p->dynamic;
    rows(d, 2);
    /* 0x1000 with 6 instructions: blocks 0 and 1, 1e6 times. */
    d->counts[0] = (pv_block_count){0, 0x1000, 6, 1000000};
    /* 0x1006 (half of block 0's bytes) with 4 instructions: half of block 0
     * (2 of its 4 instructions) and then block 1, 2e6 times. */
    d->counts[1] = (pv_block_count){0, 0x1006, 4, 2000000};
    d->mix.n[PV_MIX_INT_ALU] = 5000000 + 2000000 * 3;
    d->insns = 6000000 + 8000000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* Block 0: 0.75 cycles x (1e6 + 0.5 x 2e6); block 1: max(2/6, 2 x 0.25)
     * = 0.5 cycles x 3e6. */
    NEAR(r.compute.mid, (0.75 * 2e6 + 0.5 * 3e6) / 4e9);
    assert_int_equal(r.blocks_static, 2);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void branch_mispredictions(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    d->mix.n[PV_MIX_BRANCH_COND] = 10000000;
    d->insns = 10000000;
    d->has_branches = 1;
    snprintf(d->branches.model, sizeof d->branches.model, "test");
    d->branches.cond = 5000000;
    d->branches.cond_miss = 1000000;
    d->branches.indirect = 1000;
    d->branches.indirect_miss = 100000;
    d->branches.sampled_fraction = 0.5; /* estimated from half the branches: the misses are whole-run already */
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* 1e6 + 1e5 = 1.1e6 mispredictions x 20 cycles / 4 GHz; not scaled again by sampled_fraction. */
    NEAR(r.branch_misses, 1.1e6);
    NEAR(r.branches.mid, 1.1e6 * 20 / 4e9);
    NEAR(r.branches.low, 1.1e6 * 20 / 4e9);
    /* Compute: 1e7 branches at 0.5 cycles on the branch units. */
    NEAR(r.compute.mid, 1e7 * 0.5 / 4e9);
    assert_string_equal(r.dominant, "branches");
    terms_add_up(&r);
    /* Without a branch simulation nothing is charged. */
    d->has_branches = 0;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.branches.mid, 0);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* Three simulated levels; one executed block with the given per-block
 * figures (a full simulation: block figures add up to the level totals). */
static void one_block_caches(pv_dynamic *d, uint64_t dr, uint64_t dw, const uint64_t mr[3], const uint64_t mw[3])
{
    rows(d, 1);
    d->counts[0] = (pv_block_count){0, 0x5000, 32, 1000000};
    d->ncaches = 3;
    d->caches = calloc(3, sizeof *d->caches);
    const char *names[3] = {"L1d", "L2", "L3"};
    const uint64_t sizes[3] = {32768, 1u << 20, 32u << 20};
    uint64_t acc = dr + dw;
    for (int k = 0; k < 3; k++) {
        d->caches[k] = (pv_cache_stats){strdup(names[k]), sizes[k], 64, 8, acc, mr[k] + mw[k], 1.0, 0};
        acc = mr[k] + mw[k];
    }
    d->block_cache = calloc(1, sizeof *d->block_cache);
    d->block_cache[0].dr = dr;
    d->block_cache[0].dw = dw;
    for (int k = 0; k < 3; k++) {
        d->block_cache[0].mr[k] = mr[k];
        d->block_cache[0].mw[k] = mw[k];
    }
}

/* Random reads that miss every level: 32 instructions per miss, so each
 * costs the window kernel's figure at the footprint. */
static void memory_random(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    const uint64_t mr[3] = {1000000, 1000000, 1000000}, none[3] = {0, 0, 0};
    one_block_caches(d, 1000000, 0, mr, none);
    d->mix.n[PV_MIX_LOAD] = 1000000;
    d->mix.bytes_loaded = 8000000;
    d->mix.n[PV_MIX_INT_ALU] = 31000000;
    d->insns = 32000000;
    d->mem_touched = 64u << 20;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* Core: max(issue 32e6/6, ALUs 31e6 x 0.25 = 7.75e6, loads 1e6 / 2)
     * cycles = 1.9375 ms. Misses served by memory at a 64 MiB working set
     * (the footprint): window 40 ns x 32 instructions per miss / 32 = 40 ns,
     * above the random-load figure (10 ns): 1e6 x 40 ns = 40 ms, not hidden
     * by the core (mid: max), added to it (high). Page faults: 16384 pages x
     * (1000 + 200) ns. */
    double core = 7.75e6 / 4e9, miss = 0.040, pf = 16384 * 1200e-9;
    NEAR(r.compute.mid, core);
    NEAR(r.memory.mid, miss - core + pf);
    NEAR(r.memory.low, miss - core + pf);
    NEAR(r.memory.high, miss + pf);
    NEAR(r.line_use, 0);
    NEAR(r.footprint, 64u << 20);
    assert_string_equal(r.dominant, "memory");
    terms_add_up(&r);
    /* Denser misses (8 instructions each): the random-load figure bounds:
     * max(40 x 8 / 32, 10) = 10 ns each. */
    d->mix.n[PV_MIX_INT_ALU] = 7000000;
    d->insns = 8000000;
    d->counts[0].ninsns = 8;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.mid + r.compute.mid, 0.010 + pf);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* Sequential 8-byte reads: one miss per line, paid at bandwidth. */
static void memory_streaming(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    const uint64_t mr[3] = {1000000, 1000000, 1000000}, none[3] = {0, 0, 0};
    one_block_caches(d, 8000000, 0, mr, none);
    d->mix.n[PV_MIX_LOAD] = 8000000;
    d->mix.bytes_loaded = 64000000;
    d->mix.n[PV_MIX_INT_ALU] = 24000000;
    d->insns = 32000000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* 64 bytes used per line brought: sequential. 1e6 lines x 64 B at the
     * DRAM read bandwidth (16 GB/s) = 4 ms; core max(32e6/6, 24e6 x 0.25,
     * 8e6 / 2) = 6e6 cycles = 1.5 ms. No footprint: no page faults. */
    NEAR(r.line_use, 1);
    NEAR(r.compute.mid, 1.5e-3);
    NEAR(r.memory.mid, 4e-3 - 1.5e-3);
    NEAR(r.memory.high, 4e-3);
    /* A third of the misses are writes: the triad bandwidth (12 GB/s). */
    const uint64_t mr2[3] = {2000000, 2000000, 2000000}, mw2[3] = {1000000, 1000000, 1000000};
    pv_dynamic_free(p->dynamic);
    p->dynamic = calloc(1, sizeof *p->dynamic);
    d = p->dynamic;
    one_block_caches(d, 16000000, 8000000, mr2, mw2);
    d->mix.n[PV_MIX_LOAD] = 16000000;
    d->mix.n[PV_MIX_STORE] = 8000000;
    d->mix.bytes_loaded = 128000000;
    d->mix.bytes_stored = 64000000;
    d->mix.n[PV_MIX_INT_ALU] = 24000000;
    d->insns = 48000000;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.high, 3e6 * 64 / 12e9);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* Pointer chasing: the loop's recurrence goes through its load (the probes
 * grow by one cycle per cycle of load latency), so each miss on it is paid
 * in full, in sequence. */
static void memory_chain(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile(), *pr1 = profile(), *pr2 = profile();
    static_loop(p, 4.0f);
    static_loop(pr1, 4.0f + 256);
    static_loop(pr2, 4.0f + 512);
    pv_dynamic *d = p->dynamic;
    const uint64_t mr[3] = {1000000, 1000000, 1000000}, none[3] = {0, 0, 0};
    one_block_caches(d, 1000000, 0, mr, none);
    d->counts[0] = (pv_block_count){0, 0x1000, 4, 1000000};
    d->mix.n[PV_MIX_INT_ALU] = 3000000;
    d->mix.n[PV_MIX_BRANCH_COND] = 1000000;
    d->insns = 4000000;
    d->mem_touched = 64u << 20;
    const pv_profile *sv[1] = {p}, *p1[1] = {pr1}, *p2[1] = {pr2};
    pv_predict_options o = PV_PREDICT_OPTIONS_INIT;
    /* (the static blocks: the profile's own) */
    o.statics = sv;
    o.probes[0] = p1;
    o.probes[1] = p2;
    o.nstatics = 1;
    o.probe_cycles[0] = 256;
    o.probe_cycles[1] = 512;
    pv_prediction r;
    assert_int_equal(pv_predict_ex(p, m, &o, &r), PV_OK);
    /* Every load misses to memory: 100 ns at 64 MiB minus the L1 hit (1 ns,
     * the sweep at 4 KiB) = 99 ns = 396 cycles more per load; the
     * recurrence at +396 cycles: 260 + (396 - 256) x 1 = 400 cycles per
     * iteration: 1e6 x 400 / 4 GHz = 0.1 s; the core alone 1e6 x 4 cycles
     * = 1 ms; the chain adds 99 ms. Its 1e6 loads are all the misses:
     * nothing left to overlap. */
    NEAR(r.compute.mid, 1e-3);
    NEAR(r.chain_ns, 99e6);
    NEAR(r.memory.mid, 0.099 + 16384 * 1200e-9);
    assert_int_equal(r.loops_bound, 1);
    /* High end: the loop's throughput (0.75 cycles per iteration) does not
     * overlap the recurrence with its misses (400 cycles). */
    NEAR(r.compute.high + r.memory.high, (1e6 * (0.75 + 400)) / 4e9 + 16384 * 1200e-9);
    terms_add_up(&r);
    /* Without the probes the misses overlap as independent ones:
     * max(40 ns x 4 insns per miss / 32, 10 ns) = 10 ns each = 10 ms. */
    o.probes[0] = o.probes[1] = NULL;
    assert_int_equal(pv_predict_ex(p, m, &o, &r), PV_OK);
    NEAR(r.chain_ns, 0);
    NEAR(r.memory.mid, 0.010 - 1e-3 + 16384 * 1200e-9);
    /* Probes of another binary (other loop headers) are ignored. */
    pr1->loops[0].header = 0x2000;
    o.probes[0] = p1;
    o.probes[1] = p2;
    assert_int_equal(pv_predict_ex(p, m, &o, &r), PV_OK);
    NEAR(r.chain_ns, 0);
    o.version = 99;
    assert_int_equal(pv_predict_ex(p, m, &o, &r), PV_ERR_INVALID);
    pv_profile_free(pr1);
    pv_profile_free(pr2);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void io_and_syscalls(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    d->io_bytes_read = 100000000;
    d->io_bytes_written = 100000000;
    d->syscalls = 20000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* Calls split by bytes: 1e4 reads, 1e4 writes. Reads: 4 KiB at 4 GB/s
     * = 1024 ns, 1 MiB at 16 GB/s = 65536 ns: per byte (65536 - 1024) /
     * (1048576 - 4096), per call 1024 - 4096 x that. Writes: 4096 ns and
     * 262144 ns the same way. */
    double br = (65536.0 - 1024) / (1048576 - 4096), cr = 1024 - 4096 * br;
    double bw = (262144.0 - 4096) / (1048576 - 4096), cw = 4096 - 4096 * bw;
    NEAR(r.io.mid, (1e4 * cr + 1e8 * br + 1e4 * cw + 1e8 * bw) * 1e-9);
    /* The program wrote as much as it read: no disk read at the high end. */
    NEAR(r.io.high, r.io.mid);
    /* Every call was taken as I/O: the syscall term is the start-up. */
    NEAR(r.syscalls.mid, SPAWN);
    /* Reading 1e8 bytes it did not write: the high end reads them from disk (1 GB/s). */
    d->io_bytes_written = 0;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.io.mid, (2e4 * cr + 1e8 * br) * 1e-9);
    NEAR(r.io.high, (2e4 * cr + 1e8 / 1.0) * 1e-9);
    /* Calls without file bytes are plain system calls. */
    d->io_bytes_read = 0;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.io.mid, 0);
    NEAR(r.syscalls.mid, 2e4 * 200e-9 + SPAWN);
    assert_string_equal(r.dominant, "syscalls");
    terms_add_up(&r);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* An older machine model without the file-write and call figures: reads
 * and writes at the page-cache read rate, calls at the getppid cost. */
static void io_older_machine(void **state)
{
    (void)state;
    pv_machine *m = machine();
    memset(&m->warm.file_read_4k_gbs, 0, sizeof m->warm.file_read_4k_gbs);
    memset(&m->warm.file_write_gbs, 0, sizeof m->warm.file_write_gbs);
    memset(&m->warm.file_write_4k_gbs, 0, sizeof m->warm.file_write_4k_gbs);
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    d->io_bytes_read = 160000000;
    d->io_bytes_written = 160000000;
    d->syscalls = 2000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.io.mid, (2000 * 200 + 3.2e8 / 16) * 1e-9);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void threads(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    d->mix.n[PV_MIX_INT_ALU] = 4000000000ull;
    d->insns = 4000000000ull;
    d->nthreads = 3;
    d->threads = calloc(3, sizeof *d->threads);
    d->threads[0] = (pv_thread_stats){1, 1000};
    d->threads[1] = (pv_thread_stats){2, 2000000000ull};
    d->threads[2] = (pv_thread_stats){3, 2000000000ull};
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* The busiest thread does half the work: the CPU part halves. */
    assert_true(r.parallel_factor > 1.99 && r.parallel_factor < 2.01);
    NEAR(r.compute.mid, 0.25 / r.parallel_factor);
    /* Two thread creations at 50 us, plus the start-up. */
    NEAR(r.syscalls.mid, 2 * 50e-6 + SPAWN);
    /* More busy threads than PUs: the PUs bound it. */
    m->topo.npus = 1;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.parallel_factor, 1);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void no_dynamic_section(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = NULL;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "no dynamic section"));
    assert_non_null(strstr(pv_error_last(), "prevision profile"));
    pv_profile_free(p);
    pv_machine_free(m);
}

static void fixture_profile(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = NULL;
    assert_int_equal(pv_profile_load(PV_SOURCE_DIR "/tests/data/profile-small.json", &p), PV_OK);
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    assert_true(r.total.mid > 0);
    terms_add_up(&r);
    assert_int_equal(r.blocks_static, 1); /* block 4096 has a static block and 40000 executions */
    pv_profile_free(p);
    pv_machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compute_from_mix),   cmocka_unit_test(loop_recurrence),
        cmocka_unit_test(translation_blocks), cmocka_unit_test(branch_mispredictions),
        cmocka_unit_test(memory_random),      cmocka_unit_test(memory_streaming),
        cmocka_unit_test(memory_chain),       cmocka_unit_test(io_and_syscalls),
        cmocka_unit_test(io_older_machine),   cmocka_unit_test(threads),
        cmocka_unit_test(no_dynamic_section), cmocka_unit_test(fixture_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
