/* Tests for costmodel/calibrate.c, kernels.c and papi.c: the structure of a
 * calibration on this host (never its timing values), the timer fallback,
 * and the PAPI path where counters exist (skipped otherwise). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "costmodel/internal.h"
#include "prevision/costmodel.h"

static void stat_of(void **state)
{
    (void)state;
    double v[5] = {5, 1, 3, 2, 4};
    pv_stat s = pv_stat_of(v, 5, PV_METHOD_TIMER);
    assert_true(s.min == 1 && s.median == 3 && s.max == 5);
    assert_int_equal(s.reps, 5);
    assert_int_equal(s.method, PV_METHOD_TIMER);
    double w[4] = {4, 1, 2, 3};
    s = pv_stat_of(w, 4, PV_METHOD_PAPI);
    assert_true(s.median == 2.5);
    s = pv_stat_of(w, 0, PV_METHOD_PAPI);
    assert_int_equal(s.reps, 0);
    assert_string_equal(pv_method_name(PV_METHOD_TIMER), "timer");
    assert_string_equal(pv_method_name(PV_METHOD_PAPI), "papi");
}

static void stat_sane(const pv_stat *s, unsigned reps)
{
    assert_int_equal(s->reps, reps);
    assert_true(isfinite(s->min) && isfinite(s->max));
    assert_true(s->min <= s->median && s->median <= s->max);
    assert_true(s->min >= 0);
}

/* The timer path: what every machine without counters (these included) takes. */
static void timer_classes(void **state)
{
    (void)state;
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    o.quick = 1;
    o.use_papi = 0;
    o.reps = 3;
    o.scale = 0.05;
    o.only = PV_CAL_CLASSES;
    pv_machine *m = NULL;
    int rc = pv_calibrate(&m, &o);
#if !defined(__x86_64__)
    assert_int_equal(rc, PV_ERR_UNSUPPORTED);
    skip();
#endif
    assert_int_equal(rc, PV_OK);
    assert_int_equal(m->method, PV_METHOD_TIMER);
    assert_non_null(strstr(m->method_note, "effective clock"));
    stat_sane(&m->clock_ghz, 3);
    assert_int_equal(m->clock_ghz.method, PV_METHOD_TIMER);
    assert_true(m->clock_ghz.median > 0);
    assert_int_equal(m->schema_version, PV_MACHINE_SCHEMA_VERSION);
    assert_int_equal(strlen(m->host.hash), 16);
    assert_true(m->topo.npus >= 1);
    /* Classes every x86-64 has are measured, with both figures. */
    static const int always[] = {PV_MIX_INT_ALU, PV_MIX_INT_MUL,     PV_MIX_INT_DIV,      PV_MIX_FP_ADD,
                                 PV_MIX_FP_MUL,  PV_MIX_FP_DIVSQRT,  PV_MIX_SIMD_INT_128, PV_MIX_SIMD_FP_128,
                                 PV_MIX_LOAD,    PV_MIX_STORE,       PV_MIX_BRANCH_COND,  PV_MIX_JUMP,
                                 PV_MIX_CALL,    PV_MIX_RET,         PV_MIX_STRING,       PV_MIX_ATOMIC,
                                 PV_MIX_SYSCALL, PV_MIX_OTHER};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
        stat_sane(&m->classes[always[i]].latency, 3);
        stat_sane(&m->classes[always[i]].rthroughput, 3);
        assert_true(m->classes[always[i]].rthroughput.median > 0);
    }
    /* SIMD widths: measured exactly when the CPU has them. */
    assert_int_equal(m->classes[PV_MIX_SIMD_FP_256].rthroughput.reps != 0, pv_cpu_has(PV_F_AVX));
    assert_int_equal(m->classes[PV_MIX_SIMD_INT_512].rthroughput.reps != 0, pv_cpu_has(PV_F_AVX512F));
    assert_int_equal(m->classes[PV_MIX_FP_FMA].rthroughput.reps != 0, pv_cpu_has(PV_F_FMA));
    int crypto = pv_cpu_has(PV_F_AES) || pv_cpu_has(PV_F_PCLMUL) || pv_cpu_has(PV_F_SHA);
    assert_int_equal(m->classes[PV_MIX_CRYPTO].rthroughput.reps != 0, crypto);
    /* Every kernel has a name, a class and at least one figure. */
    assert_true(m->nkernels >= 20);
    for (uint32_t i = 0; i < m->nkernels; i++) {
        assert_true(m->kernels[i].name[0] != 0);
        assert_true(m->kernels[i].cls < PV_MIX_NCLASSES);
        assert_true(m->kernels[i].cost.latency.reps || m->kernels[i].cost.rthroughput.reps);
    }
    assert_non_null(strstr(m->simd, "sse2"));
    /* fp_divsqrt is the divide's figure; the square root is recorded beside it. */
    int have_sqrt = 0;
    for (uint32_t i = 0; i < m->nkernels; i++)
        if (!strcmp(m->kernels[i].name, "divsd")) {
            assert_true(m->classes[PV_MIX_FP_DIVSQRT].rthroughput.median == m->kernels[i].cost.rthroughput.median);
            assert_true(m->classes[PV_MIX_FP_DIVSQRT].latency.median == m->kernels[i].cost.latency.median);
        } else if (!strcmp(m->kernels[i].name, "sqrtsd")) {
            have_sqrt = 1;
        }
    assert_true(have_sqrt);
    stat_sane(&m->branch_miss_cycles, 3);
    stat_sane(&m->warm.syscall_ns, 3);
    /* Parts not asked for stay empty. */
    assert_int_equal(m->nmem_points, 0);
    assert_int_equal(m->warm.page_fault_4k_ns.reps, 0);
    pv_machine_free(m);
}

static void timer_memory_and_warmup(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    o.quick = 1;
    o.use_papi = 0;
    o.reps = 2;
    o.scale = 0.05; /* sweep up to a few MiB */
    o.only = PV_CAL_MEMORY | PV_CAL_WARM;
    pv_machine *m = NULL;
    assert_int_equal(pv_calibrate(&m, &o), PV_OK);
    assert_true(m->nmem_points >= 3);
    assert_int_equal(m->mem_points[0].size, 4096);
    for (uint32_t i = 0; i < m->nmem_points; i++) {
        stat_sane(&m->mem_points[i].ns, 2);
        stat_sane(&m->mem_points[i].random_ns, 2);
        stat_sane(&m->mem_points[i].window_ns, 2);
        assert_int_equal(m->mem_points[i].random_ns.method, PV_METHOD_TIMER);
        if (i)
            assert_true(m->mem_points[i].size > m->mem_points[i - 1].size);
    }
    assert_int_equal(m->miss_window_insns.reps, 2);
    assert_true(m->miss_window_insns.min <= m->miss_window_insns.median &&
                m->miss_window_insns.median <= m->miss_window_insns.max);
    assert_true(m->miss_window_insns.median > 0);
    /* Levels: the data caches hwloc sees, then DRAM, each with figures. */
    assert_true(m->nmem_levels >= 1);
    assert_string_equal(m->mem_levels[m->nmem_levels - 1].name, "DRAM");
    for (uint32_t i = 0; i < m->nmem_levels; i++) {
        stat_sane(&m->mem_levels[i].latency_ns, 2);
        stat_sane(&m->mem_levels[i].random_ns, 2);
        stat_sane(&m->mem_levels[i].read_gbs, 2);
        stat_sane(&m->mem_levels[i].triad_gbs, 2);
        assert_true(m->mem_levels[i].read_gbs.median > 0);
        assert_true(m->mem_levels[i].read_gbs_all.reps >= 1);
    }
    stat_sane(&m->warm.page_fault_4k_ns, 2);
    stat_sane(&m->warm.thread_create_us, 2);
    stat_sane(&m->warm.file_cached_gbs, 2);
    /* File writes into the page cache (4 KiB and 1 MiB chunks), 4 KiB
     * reads, and the fixed cost of small read and write calls. */
    const pv_stat *files[] = {&m->warm.page_free_4k_ns, &m->warm.file_write_gbs, &m->warm.file_write_4k_gbs, &m->warm.file_read_4k_gbs,
                              &m->warm.syscall_read_ns, &m->warm.syscall_write_ns};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        stat_sane(files[i], 2);
        assert_int_equal(files[i]->method, PV_METHOD_TIMER);
        assert_true(files[i]->median > 0);
    }
    assert_non_null(strstr(m->method_note, "CLOCK_THREAD_CPUTIME_ID"));
    /* Huge pages and disk reads: measured, or a note says why not. */
    assert_true(m->warm.huge_note[0] != 0);
    assert_true(m->warm.disk_note[0] != 0);
    if (!m->warm.page_fault_huge_ns.reps)
        assert_non_null(strstr(m->warm.huge_note, "not"));
    assert_non_null(strstr(m->warm.disk_note, "drop_caches"));
    pv_machine_free(m);
}

static int progress_calls;
static uint64_t progress_last_done, progress_last_total;
static void count_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    (void)ud;
    assert_non_null(phase);
    assert_true(done <= total);
    progress_calls++;
    progress_last_done = done;
    progress_last_total = total;
}

static void progress_reported(void **state)
{
    (void)state;
#if !defined(__x86_64__)
    skip();
#endif
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    o.use_papi = 0;
    o.reps = 1;
    o.scale = 0.02;
    o.only = PV_CAL_CLASSES;
    o.progress = count_progress;
    pv_machine *m = NULL;
    assert_int_equal(pv_calibrate(&m, &o), PV_OK);
    assert_true(progress_calls > 10);
    assert_int_equal(progress_last_done, progress_last_total);
    pv_machine_free(m);
    o.version = 42;
    assert_int_equal(pv_calibrate(&m, &o), PV_ERR_INVALID);
}

/* The PAPI path: only where the host has hardware counters. */
static void papi_counters(void **state)
{
    (void)state;
    char ver[16], note[256];
    int n = pv_papi_probe(ver, sizeof ver, note, sizeof note);
    assert_true(ver[0] != 0);
    assert_true(note[0] != 0);
    if (n <= 0) {
        /* No counters: opening a session must fail cleanly, naming the fallback. */
        pv_papi *p = NULL;
        assert_int_equal(pv_papi_open(&p), PV_ERR_UNSUPPORTED);
        assert_null(p);
        assert_non_null(strstr(pv_error_last(), "timer"));
        skip();
    }
    pv_papi *p = NULL;
    assert_int_equal(pv_papi_open(&p), PV_OK);
    long long cyc = 0, ins = 0;
    assert_int_equal(pv_papi_start(p), PV_OK);
    pv_kernels[0].fn(100000, NULL);
    assert_int_equal(pv_papi_stop(p, &cyc, &ins), PV_OK);
    assert_true(cyc > 0);
    pv_papi_close(p);
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    o.reps = 3;
    o.scale = 0.05;
    o.only = PV_CAL_CLASSES;
    pv_machine *m = NULL;
    assert_int_equal(pv_calibrate(&m, &o), PV_OK);
    assert_int_equal(m->method, PV_METHOD_PAPI);
    assert_int_equal(m->clock_ghz.method, PV_METHOD_PAPI);
    assert_int_equal(m->classes[PV_MIX_INT_ALU].latency.method, PV_METHOD_PAPI);
    pv_machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stat_of),
        cmocka_unit_test(timer_classes),
        cmocka_unit_test(timer_memory_and_warmup),
        cmocka_unit_test(progress_reported),
        cmocka_unit_test(papi_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
