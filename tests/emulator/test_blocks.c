/* emulator/blocks.c: block counts. The program's own instruction count
 * agrees with valgrind's callgrind (within 0.5%, in practice within a dozen
 * instructions), rep string instructions count as callgrind counts them,
 * counts do not depend on how often the run is interrupted, and the dynamic
 * mix adds up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

/* Self Ir of @p object in a callgrind run of argv, from bench/callgrind_objects.py. -1 when unavailable. */
static long long callgrind_object(const char *const *argv, const char *object)
{
    char out[] = "/tmp/pv_cg.XXXXXX";
    int fd = mkstemp(out);
    if (fd < 0)
        return -1;
    close(fd);
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=%s", out);
    for (int i = 0; argv[i]; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s'", argv[i]);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >/dev/null 2>&1");
    long long v = -1;
    if (system(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "python3 %s/bench/callgrind_objects.py %s '%s'", PV_SOURCE_DIR, out, object);
        FILE *p = popen(cmd, "r");
        if (p && fscanf(p, "%lld", &v) != 1)
            v = -1;
        if (p)
            pclose(p);
    }
    unlink(out);
    return v;
}

static void compare(const char *const *argv)
{
    emu_run r;
    run_emu(argv, NULL, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "exit");
    long long cg = callgrind_object(argv, argv[0]);
    assert_true(cg > 0);
    long long ours = (long long)r.d->target_insns;
    double rel = (double)(ours - cg) / (double)cg;
    printf("# %s: callgrind %lld, prevision %lld (%+lld, %+.4f%%)\n", argv[0], cg, ours, ours - cg, 100 * rel);
    assert_true(rel < 0.005 && rel > -0.005);
    emu_run_free(&r);
}

static void counts_match_callgrind(void **state)
{
    (void)state;
    if (!have_program("/usr/bin/valgrind"))
        skip();
    const char *m[] = {SAMPLE("matmul"), "60", NULL};
    compare(m);
    const char *q[] = {SAMPLE("qsort"), "20000", NULL};
    compare(q);
    const char *s[] = {SAMPLE("sha256"), "64", NULL};
    compare(s);
}

static void rep_counts_match_callgrind(void **state)
{
    (void)state;
    if (!have_program("/usr/bin/valgrind"))
        skip();
    /* rep movsb/stosq, repe cmpsb, repne scasb with 0..6 iterations */
    const char *argv[] = {GUEST("rep"), "3000", NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    long long cg = callgrind_object(argv, argv[0]);
    assert_true(cg > 0);
    /* tight: rep instructions are most of this program; callgrind leaves _init/_fini (9) out of the executable */
    long long diff = (long long)r.d->target_insns - cg;
    printf("# rep: callgrind %lld, prevision %llu (%+lld)\n", cg, (unsigned long long)r.d->target_insns, diff);
    assert_true(diff >= 0 && diff <= 16);
    emu_run_free(&r);
}

static void counts_do_not_depend_on_interruptions(void **state)
{
    (void)state;
    /* Every quantum stops and resumes the emulation (the block where it stops runs after the
     * restart and must be counted once). One worker thread: its count is the same whether it is
     * interrupted every few instructions or never. */
    const char *one[] = {SAMPLE("pthreads"), "20000", "1", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.deterministic = 1;
    emu_run a, b;
    o.quantum = 7;
    run_emu(one, &o, &a);
    o.quantum = 1000000000;
    run_emu(one, &o, &b);
    assert_string_equal(a.out, b.out);
    assert_int_equal(a.d->nthreads, 2);
    assert_int_equal(a.d->threads[1].insns, b.d->threads[1].insns);
    assert_true(a.d->threads[1].insns > 20000 * 10);
    emu_run_free(&a);
    emu_run_free(&b);
    /* two threads, quantum 1000 vs 100000: the workers' counts are the same */
    const char *t[] = {SAMPLE("pthreads"), "40000", "2", NULL};
    o.quantum = 1000;
    run_emu(t, &o, &a);
    o.quantum = 100000;
    run_emu(t, &o, &b);
    assert_string_equal(a.out, b.out);
    assert_int_equal(a.d->nthreads, 3);
    assert_int_equal(b.d->nthreads, 3);
    assert_int_equal(a.d->threads[1].insns, b.d->threads[1].insns);
    assert_int_equal(a.d->threads[2].insns, b.d->threads[2].insns);
    emu_run_free(&a);
    emu_run_free(&b);
}

static void totals_add_up(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("matmul"), "30", NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    const pv_dynamic *d = r.d;
    uint64_t total = 0, target = 0;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *c = &d->counts[i];
        assert_true(c->object < d->nobjects);
        assert_true(c->count > 0);
        assert_true(c->ninsns > 0);
        total += c->count * c->ninsns;
        if (d->objects[c->object].is_target)
            target += c->count * c->ninsns;
        if (i)
            assert_true(d->counts[i - 1].object < c->object ||
                        (d->counts[i - 1].object == c->object && d->counts[i - 1].addr <= c->addr));
    }
    assert_int_equal(total, d->insns);
    assert_int_equal(target, d->target_insns);
    uint64_t thr = 0;
    for (uint32_t i = 0; i < d->nthreads; i++)
        thr += d->threads[i].insns;
    assert_int_equal(thr, d->insns);
    /* the mix has at least one operation per instruction; matmul multiplies and adds doubles */
    assert_true(pv_mix64_total(&d->mix) >= d->insns);
    assert_true(d->target_mix.n[PV_MIX_FP_MUL] >= 30 * 30 * 30);
    assert_true(d->target_mix.n[PV_MIX_FP_ADD] >= 30 * 30 * 30);
    assert_true(d->target_mix.n[PV_MIX_LOAD] >= 2 * 30 * 30 * 30);
    assert_true(d->mix.n[PV_MIX_SYSCALL] >= d->syscalls);
    /* objects: the executable (link-time addresses, PIE base), the loader, libc */
    assert_true(d->nobjects >= 3);
    assert_true(d->objects[0].is_target);
    assert_int_equal(d->objects[0].base, 0x555555554000ull);
    int have_libc = 0;
    for (uint32_t i = 0; i < d->nobjects; i++)
        have_libc |= strstr(d->objects[i].path, "libc.so") != NULL;
    assert_true(have_libc);
    emu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_match_callgrind),
        cmocka_unit_test(rep_counts_match_callgrind),
        cmocka_unit_test(counts_do_not_depend_on_interruptions),
        cmocka_unit_test(totals_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
