/* Tests for costmodel/predict.c on constructed dynamic sections and a
 * machine model with fixed figures: the arithmetic of each term is exact. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/costmodel.h"

static pv_stat st(double v) { return (pv_stat){v, v, v, 3, PV_METHOD_TIMER}; }

static pv_machine *machine(void)
{
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->schema_version = 1;
    m->topo.npus = 8;
    m->clock_ghz = st(4.0);
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        m->classes[c].latency = st(2.0);
        m->classes[c].rthroughput = st(0.5);
    }
    m->classes[PV_MIX_INT_ALU].latency = st(1.0);
    m->classes[PV_MIX_INT_ALU].rthroughput = st(0.25);
    const char *names[4] = {"L1d", "L2", "L3", "DRAM"};
    double lat[4] = {1, 4, 12, 90}, bw[4] = {100, 64, 32, 16};
    m->nmem_levels = 4;
    for (int i = 0; i < 4; i++) {
        snprintf(m->mem_levels[i].name, 8, "%s", names[i]);
        m->mem_levels[i].latency_ns = st(lat[i]);
        m->mem_levels[i].read_gbs = st(bw[i]);
        m->mem_levels[i].read_gbs_all = st(2 * bw[i]);
    }
    m->warm.file_cached_gbs = st(10);
    m->warm.syscall_ns = st(200);
    m->warm.thread_create_us = st(50);
    m->warm.page_fault_4k_ns = st(1000);
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

static void near(double a, double b) { assert_true(fabs(a - b) <= 1e-9 * fabs(b) + 1e-15); }
#define NEAR(a, b) near((double)(a), (double)(b))

static void compute_from_mix(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    p->dynamic->mix.n[PV_MIX_INT_ALU] = 4000000000ull;
    p->dynamic->insns = 4000000000ull;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    /* 4e9 adds: throughput 1e9 cycles, latency 4e9; mid = thr + 0.1 (lat - thr). */
    NEAR(r.compute.low, 1e9 / 4e9);
    NEAR(r.compute.mid, 1.3e9 / 4e9);
    NEAR(r.compute.high, 2.5e9 / 4e9);
    NEAR(r.memory.mid, 0);
    NEAR(r.io.mid, 0);
    NEAR(r.total.mid, r.compute.mid + r.syscalls.mid);
    assert_string_equal(r.dominant, "compute");
    assert_true(r.total.low <= r.total.mid && r.total.mid <= r.total.high);
    assert_int_equal(r.insns, 4000000000ull);
    pv_profile_free(p);
    pv_machine_free(m);
}

/* A block whose static estimate exceeds the class costs is bounded by it. */
static void static_block_bound(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    p->nblocks = 1;
    p->blocks = calloc(1, sizeof *p->blocks);
    p->blocks[0].addr = 0x1000;
    p->blocks[0].ninsns = 4;
    p->blocks[0].cycles = 10.0f;
    p->blocks[0].mix.n[PV_MIX_INT_ALU] = 4;
    pv_dynamic *d = p->dynamic;
    d->nobjects = 1;
    d->objects = calloc(1, sizeof *d->objects);
    d->objects[0].is_target = 1;
    d->ncounts = 2;
    d->counts = calloc(2, sizeof *d->counts);
    d->counts[0] = (pv_block_count){0, 0x1000, 4, 100000000};
    d->counts[1] = (pv_block_count){0, 0x9999, 4, 5}; /* no such block: costed through the mix */
    d->mix.n[PV_MIX_INT_ALU] = 400000000;
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.compute.mid, 1e8 * 10 / 4e9);
    NEAR(r.compute.low, 1e8 * 10 / 4e9);
    assert_int_equal(r.blocks_static, 1);
    assert_int_equal(r.insns_static, 400000000);
    /* A cheap static estimate does not lower the calibrated cost. */
    p->blocks[0].cycles = 0.5f;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.compute.mid, 1e8 * 1.3 / 4e9);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void add_caches(pv_dynamic *d, uint64_t l1_acc, uint64_t l1_miss, uint64_t l2_miss)
{
    d->ncaches = 2;
    d->caches = calloc(2, sizeof *d->caches);
    d->caches[0] = (pv_cache_stats){strdup("L1d"), 49152, 64, 12, l1_acc, l1_miss, 1.0, 0};
    d->caches[1] = (pv_cache_stats){strdup("L2"), 1 << 20, 64, 8, l1_miss, l2_miss, 1.0, 0};
}

static void memory_random_and_streaming(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    /* Every access misses L1 (random): paid at latency.
     * L1 misses: 1e9 * (4 - 1) ns; L2 misses go to DRAM: 1e8 * (90 - 4) ns. */
    add_caches(p->dynamic, 1000000000, 1000000000, 100000000);
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.mid, 3.0 + 8.6);
    NEAR(r.memory.high, 3.0 + 8.6);
    /* Bandwidth bound: max(1e9 * 64 B / 64 GB/s, 1e8 * 64 B / 16 GB/s) = 1 s. */
    NEAR(r.memory.low, 1.0);
    assert_string_equal(r.dominant, "memory");
    NEAR(r.line_use, 0.0);
    /* One miss per 8 accesses (sequential 8-byte walk): paid at bandwidth. */
    pv_dynamic_free(p->dynamic);
    p->dynamic = calloc(1, sizeof *p->dynamic);
    add_caches(p->dynamic, 8000000000ull, 1000000000, 100000000);
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.mid, 1.0);
    NEAR(r.line_use, 1.0);
    /* A sampled simulation is scaled up to all accesses. */
    p->dynamic->caches[0].sampled_fraction = 0.5;
    p->dynamic->caches[1].sampled_fraction = 0.5;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.mid, 2.0);
    /* Page faults: touched pages at the calibrated cost. */
    p->dynamic->mem_touched = 4096ull * 1000;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.memory.mid, 2.0 + 1000 * 1000e-9);
    pv_profile_free(p);
    pv_machine_free(m);
}

static void io_syscalls_threads(void **state)
{
    (void)state;
    pv_machine *m = machine();
    pv_profile *p = profile();
    pv_dynamic *d = p->dynamic;
    d->io_bytes_read = 500000000;
    d->io_bytes_written = 500000000;
    d->syscalls = 1000000;
    d->mix.n[PV_MIX_INT_ALU] = 4000000000ull;
    d->nthreads = 3;
    d->threads = calloc(3, sizeof *d->threads);
    d->threads[0] = (pv_thread_stats){1, 1000};
    d->threads[1] = (pv_thread_stats){2, 2000000000ull};
    d->threads[2] = (pv_thread_stats){3, 2000000000ull};
    pv_prediction r;
    assert_int_equal(pv_predict(p, m, &r), PV_OK);
    NEAR(r.io.mid, 1e9 / 10e9);
    /* 1e6 syscalls at 200 ns plus 2 thread creations at 50 us. */
    NEAR(r.syscalls.mid, 0.2 + 2 * 50e-6);
    /* Work is split over two busy threads: compute halves. */
    assert_true(r.parallel_factor > 1.99 && r.parallel_factor < 2.01);
    NEAR(r.compute.mid, 1.3e9 / 4e9 / r.parallel_factor);
    assert_string_equal(r.dominant, "syscalls");
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
    assert_true(r.total.low <= r.total.mid && r.total.mid <= r.total.high);
    assert_int_equal(r.blocks_static, 1); /* block 4096 has static cycles and 40000 executions */
    pv_profile_free(p);
    pv_machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compute_from_mix),  cmocka_unit_test(static_block_bound),
        cmocka_unit_test(memory_random_and_streaming), cmocka_unit_test(io_syscalls_threads),
        cmocka_unit_test(no_dynamic_section), cmocka_unit_test(fixture_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
