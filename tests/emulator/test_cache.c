/* emulator/cache.c: the simulated caches in a run. Full simulation agrees
 * with valgrind's cachegrind on the same geometry; per-block figures add up
 * to the level totals; sampled mode switches the memory hook off between
 * windows without losing a block count and lands near the full figures;
 * instruction counts do not change with the cache on; bad geometry is
 * rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

static void geometry(pv_emu_options *o, int mode)
{
    o->cache = mode;
    o->cache_nlevels = 2;
    o->cache_levels[0] = (pv_emu_cache_level){"L1d", 32768, 64, 8};
    o->cache_levels[1] = (pv_emu_cache_level){"LL", 1 << 22, 64, 16};
}

/* "D1  misses:  1,022,365 (...)" from cachegrind's summary */
static long long cg_field(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    if (!p)
        return -1;
    p += strlen(label);
    while (*p == ' ' || *p == ':')
        p++;
    long long v = 0;
    for (; *p && *p != ' ' && *p != '('; p++)
        if (*p >= '0' && *p <= '9')
            v = v * 10 + (*p - '0');
    return v;
}

static void full_matches_cachegrind(void **state)
{
    (void)state;
    if (!have_program("/usr/bin/valgrind"))
        skip();
    const char *argv[] = {SAMPLE("matmul"), "120", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    geometry(&o, PV_EMU_CACHE_FULL);
    emu_run r;
    run_emu(argv, &o, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "exit");
    assert_int_equal(r.d->ncaches, 2);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=cachegrind --cache-sim=yes --D1=32768,8,64 --LL=4194304,16,64 "
             "--cachegrind-out-file=/dev/null %s 120 2>&1 >/dev/null", SAMPLE("matmul"));
    FILE *p = popen(cmd, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, p);
    text[n] = 0;
    pclose(p);
    long long refs = cg_field(text, "D   refs"), d1 = cg_field(text, "D1  misses"), ll = cg_field(text, "LLd misses");
    const pv_cache_stats *c = r.d->caches;
    printf("# cachegrind D refs %lld D1 misses %lld LLd misses %lld; prevision %llu %llu %llu\n", refs, d1, ll,
           (unsigned long long)c[0].accesses, (unsigned long long)c[0].misses, (unsigned long long)c[1].misses);
    /* the same model, the same program: within 1% (libc differs slightly: valgrind reports other CPU features) */
    assert_true(refs > 0 && d1 > 0);
    assert_true(llabs((long long)c[0].accesses - refs) < refs / 100);
    assert_true(llabs((long long)c[0].misses - d1) < d1 / 100 + 10);
    assert_true(llabs((long long)c[1].misses - ll) < ll / 50 + 50);
    assert_true(c[0].sampled_fraction == 1.0);
    assert_true(c[1].accesses == c[0].misses);
    /* per-block figures add up to the totals */
    assert_non_null(r.d->block_cache);
    uint64_t acc = 0, m1 = 0;
    for (uint32_t i = 0; i < r.d->ncounts; i++) {
        acc += r.d->block_cache[i].dr + r.d->block_cache[i].dw;
        m1 += r.d->block_cache[i].mr[0] + r.d->block_cache[i].mw[0];
    }
    assert_int_equal(acc, c[0].accesses);
    assert_int_equal(m1, c[0].misses);
    emu_run_free(&r);
}

static void sampled_near_full(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("stream"), "300000", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.deterministic = 1;
    emu_run off, full, samp;
    run_emu(argv, &o, &off);
    geometry(&o, PV_EMU_CACHE_FULL);
    run_emu(argv, &o, &full);
    geometry(&o, PV_EMU_CACHE_SAMPLED);
    o.sample_period = 2000000;
    o.sample_warmup = 200000;
    o.sample_measure = 200000;
    run_emu(argv, &o, &samp);
    /* the cache does not change what runs: same output, same counts, block by block */
    assert_string_equal(off.out, full.out);
    assert_string_equal(off.out, samp.out);
    assert_int_equal(off.d->insns, full.d->insns);
    assert_int_equal(off.d->insns, samp.d->insns);
    assert_int_equal(off.d->ncounts, samp.d->ncounts);
    for (uint32_t i = 0; i < off.d->ncounts; i++)
        assert_int_equal(off.d->counts[i].count, samp.d->counts[i].count);
    assert_null(off.d->caches);
    /* sampled: a fraction of the run, miss rates near the full simulation's */
    const pv_cache_stats *f = full.d->caches, *s = samp.d->caches;
    assert_int_equal(samp.d->ncaches, 2);
    assert_true(s[0].sampled_fraction > 0 && s[0].sampled_fraction < 0.5);
    double rf = (double)f[0].misses / (double)f[0].accesses, rs = (double)s[0].misses / (double)s[0].accesses;
    printf("# stream L1d miss rate: full %.4f, sampled %.4f (%.1f%% of the run)\n", rf, rs,
           100 * s[0].sampled_fraction);
    assert_true(rs > rf * 0.9 && rs < rf * 1.1);
    assert_true((double)s[0].accesses > (double)f[0].accesses * 0.8 &&
                (double)s[0].accesses < (double)f[0].accesses * 1.2);
    emu_run_free(&off);
    emu_run_free(&full);
    emu_run_free(&samp);
}

static void bad_geometry(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("qsort"), "10", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.argc = 2;
    o.argv = argv;
    o.cache = PV_EMU_CACHE_FULL;
    o.cache_nlevels = 1;
    o.cache_levels[0] = (pv_emu_cache_level){"L1d", 1000, 48, 8}; /* 48-byte lines: not a power of two */
    pv_emu *e = NULL;
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_INVALID);
    assert_null(e);
    assert_non_null(strstr(pv_error_last(), "line"));
    o.cache = 7;
    o.cache_nlevels = 0;
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "cache mode"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_matches_cachegrind),
        cmocka_unit_test(sampled_near_full),
        cmocka_unit_test(bad_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
