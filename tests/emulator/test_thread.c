/* emulator/thread.c: guest threads on one engine. The pthreads sample runs
 * and matches its native output; per-thread counts split the work;
 * condition variables, timed waits, sleeps, pthread_exit from main and
 * deadlocks behave; the schedule is deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

static void pthreads_sample(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("pthreads"), "200000", "4", NULL};
    char *native = run_native(argv, NULL);
    emu_run r;
    run_emu(argv, NULL, &r);
    assert_string_equal(r.d->end_reason, "exit");
    assert_string_equal(r.out, native);
    /* main plus four workers, each with a quarter of the intervals */
    assert_int_equal(r.d->nthreads, 5);
    uint64_t w0 = r.d->threads[1].insns;
    for (uint32_t i = 1; i < 5; i++) {
        assert_true(r.d->threads[i].insns > 200000 / 4 * 8);
        assert_true(r.d->threads[i].insns < w0 + w0 / 20);
        assert_true(r.d->threads[i].insns > w0 - w0 / 20);
        assert_true(r.d->threads[i].tid != r.d->threads[0].tid);
    }
    assert_true(r.d->threads[0].insns < w0);
    free(native);
    emu_run_free(&r);
}

static void run_threads(const char *mode, const char *arg, int deterministic, emu_run *r)
{
    const char *argv[] = {GUEST("threads"), mode, arg, NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.deterministic = deterministic;
    run_emu(argv, &o, r);
    assert_int_equal(r->rc, PV_OK);
}

static void synchronization(void **state)
{
    (void)state;
    emu_run r;
    /* condition variables: futex wait/wake between two threads */
    run_threads("pingpong", "500", 1, &r);
    assert_string_equal(r.d->end_reason, "exit");
    assert_string_equal(r.out, "pingpong 500 done, turn 0\n");
    assert_int_equal(r.d->nthreads, 3);
    emu_run_free(&r);
    /* a timed wait nobody signals ends by its timeout, in virtual and in real time */
    for (int det = 0; det < 2; det++) {
        run_threads("timedwait", NULL, det, &r);
        assert_string_equal(r.d->end_reason, "exit");
        assert_string_equal(r.out, "timedwait: timed out\n");
        emu_run_free(&r);
    }
    /* main exits with pthread_exit: the worker still runs and ends the program */
    run_threads("mainexit", NULL, 1, &r);
    assert_string_equal(r.d->end_reason, "exit");
    assert_string_equal(r.out, "worker done\n");
    assert_int_equal(r.d->exit_code, 0);
    emu_run_free(&r);
}

static void deadlock(void **state)
{
    (void)state;
    emu_run r;
    run_threads("deadlock", NULL, 1, &r);
    assert_string_equal(r.d->end_reason, "deadlock");
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.msg, "deadlock"));
    assert_int_equal(r.d->nthreads, 2);
    emu_run_free(&r);
}

static void deterministic_schedule(void **state)
{
    (void)state;
    emu_run a, b;
    run_threads("pingpong", "300", 1, &a);
    run_threads("pingpong", "300", 1, &b);
    assert_int_equal(a.d->insns, b.d->insns);
    for (uint32_t i = 0; i < a.d->nthreads; i++) {
        assert_int_equal(a.d->threads[i].tid, b.d->threads[i].tid);
        assert_int_equal(a.d->threads[i].insns, b.d->threads[i].insns);
    }
    assert_int_equal(a.d->threads[0].tid, 1000);
    assert_int_equal(a.d->threads[1].tid, 1001);
    emu_run_free(&a);
    emu_run_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pthreads_sample),
        cmocka_unit_test(synchronization),
        cmocka_unit_test(deadlock),
        cmocka_unit_test(deterministic_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
