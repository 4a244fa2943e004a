/* emulator/emu.c: the public API and run loop. Every sample produces the
 * same output as natively; static and dynamic executables; limits end the
 * run with a profile; deterministic runs are identical; bad input is
 * rejected with the right code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

static void same_output(const char *const *argv, const char *dir)
{
    char *native = run_native(argv, dir);
    emu_run r;
    run_emu(argv, NULL, &r);
    assert_int_equal(r.rc, PV_OK);
    if (strcmp(r.d->end_reason, "exit"))
        fail_msg("%s: %s", argv[0], r.msg);
    assert_string_equal(r.out, native);
    assert_int_equal(r.d->exit_code, 0);
    assert_true(r.d->target_insns > 0);
    assert_true(r.d->insns >= r.d->target_insns);
    free(native);
    emu_run_free(&r);
}

static void samples_match_native(void **state)
{
    (void)state;
    char tmp[] = "/tmp/pv_emu_test.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    const char *const runs[][5] = {
        {SAMPLE("matmul"), "40", NULL},
        {SAMPLE("stream"), "20000", NULL},
        {SAMPLE("ptrchase"), "4000", NULL},
        {SAMPLE("qsort"), "20000", NULL},
        {SAMPLE("sha256"), "64", NULL},
        {SAMPLE("pthreads"), "100000", "3", NULL},
        {SAMPLE("bintrees"), "10", NULL},
        {SAMPLE("hashmap"), "20000", NULL},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        same_output(runs[i], NULL);
    /* fileio writes a file: natively in a temporary directory, emulated into the scratch overlay */
    const char *fileio[] = {SAMPLE("fileio"), "64", "data.bin", NULL};
    char *native = run_native(fileio, tmp);
    emu_run r;
    run_emu(fileio, NULL, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "exit");
    assert_string_equal(r.out, native);
    assert_true(r.d->io_bytes_written >= 64 * 1024);
    assert_true(r.d->io_bytes_read >= 64 * 1024);
    assert_int_equal(access("data.bin", F_OK), -1); /* the host's working directory is untouched */
    free(native);
    emu_run_free(&r);
    char path[64];
    snprintf(path, sizeof path, "%s/data.bin", tmp);
    unlink(path);
    rmdir(tmp);
}

static void static_executables(void **state)
{
    (void)state;
    const char *m[] = {GUEST("matmul_static"), "30", NULL};
    same_output(m, NULL);
    const char *s[] = {GUEST("sha256_static"), "32", NULL};
    same_output(s, NULL);
    const char *p[] = {GUEST("pthreads_static"), "50000", "2", NULL};
    same_output(p, NULL);
    /* a static executable is one object, the target */
    emu_run r;
    run_emu(m, NULL, &r);
    assert_int_equal(r.d->nobjects, 1);
    assert_true(r.d->objects[0].is_target);
    assert_int_equal(r.d->insns, r.d->target_insns);
    emu_run_free(&r);
}

static void loader_view(void **state)
{
    (void)state;
    /* what the program sees: argv, the clean environment, auxv, TLS (dynamic and static) */
    const char *progs[] = {GUEST("auxv"), GUEST("auxv_static")};
    for (int k = 0; k < 2; k++) {
        const char *argv[] = {progs[k], "one", "two words", NULL};
        emu_run r;
        run_emu(argv, NULL, &r);
        assert_int_equal(r.rc, PV_OK);
        assert_string_equal(r.d->end_reason, "exit");
        assert_non_null(strstr(r.out, "argc=3\n"));
        assert_non_null(strstr(r.out, "argv[2]=two words\n"));
        assert_non_null(strstr(r.out, "env=LANG=C\n"));
        assert_non_null(strstr(r.out, "env=PATH=/usr/local/bin:/usr/bin:/bin\n"));
        char home[4200];
        snprintf(home, sizeof home, "env=HOME=%s\n", r.scratch);
        assert_non_null(strstr(r.out, home));
        assert_non_null(strstr(r.out, "pagesz=4096\n"));
        assert_non_null(strstr(r.out, "clktck=100\n"));
        assert_non_null(strstr(r.out, "phent=56\n"));
        assert_non_null(strstr(r.out, "random=set\n"));
        assert_non_null(strstr(r.out, "sysinfo_ehdr=0\n")); /* no vDSO: time goes through system calls */
        assert_non_null(strstr(r.out, "platform=x86_64\n"));
        assert_non_null(strstr(r.out, "execfn=auxv\n"));
        assert_non_null(strstr(r.out, "tls=42\n"));
        assert_non_null(strstr(r.out, "cwd=ok\n"));
        emu_run_free(&r);
    }
    /* a caller's environment replaces the default one */
    const char *env[] = {"ONLY=1", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.envp = env;
    const char *argv[] = {GUEST("auxv"), NULL};
    emu_run r;
    run_emu(argv, &o, &r);
    assert_non_null(strstr(r.out, "env=ONLY=1\n"));
    assert_null(strstr(r.out, "env=LANG"));
    emu_run_free(&r);
}

static void limits_end_the_run(void **state)
{
    (void)state;
    const char *spin[] = {GUEST("probe"), "spin", NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.max_insns = 2000000;
    emu_run r;
    run_emu(spin, &o, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "limit:insns");
    assert_true(r.d->insns <= 2000000);
    assert_true(r.d->insns > 1900000);
    assert_non_null(strstr(r.msg, "instruction limit"));
    assert_true(r.d->ncounts > 0); /* the profile of what ran */
    emu_run_free(&r);

    o = (pv_emu_options)PV_EMU_OPTIONS_INIT;
    o.timeout = 0.5;
    run_emu(spin, &o, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "limit:time");
    assert_non_null(strstr(r.msg, "time limit"));
    emu_run_free(&r);

    const char *alloc[] = {GUEST("probe"), "alloc", "64", NULL};
    o = (pv_emu_options)PV_EMU_OPTIONS_INIT;
    o.max_mem = 16 << 20;
    run_emu(alloc, &o, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "limit:mem");
    assert_non_null(strstr(r.msg, "--max-mem"));
    assert_true(r.d->mem_peak <= 16 << 20);
    emu_run_free(&r);
    /* under the limit the same program completes */
    o.max_mem = 256 << 20;
    run_emu(alloc, &o, &r);
    assert_string_equal(r.d->end_reason, "exit");
    assert_string_equal(r.out, "alloc: ok\n");
    assert_true(r.d->mem_peak >= 64 << 20);
    assert_true(r.d->mem_touched >= 64 << 20);
    emu_run_free(&r);
}

static void unsupported_instruction(void **state)
{
    (void)state;
    const char *argv[] = {GUEST("avx"), NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    assert_int_equal(r.rc, PV_OK);
    assert_string_equal(r.d->end_reason, "unsupported");
    assert_string_equal(r.out, "before\n");
    /* the instruction, its address, its object and its source line */
    assert_non_null(strstr(r.msg, "AVX"));
    assert_non_null(strstr(r.msg, "'vmovdqu ymm0, ymmword ptr [rsi]'"));
    assert_non_null(strstr(r.msg, " at 0x"));
    assert_non_null(strstr(r.msg, "emulator-data/avx"));
    assert_non_null(strstr(r.msg, "avx.c:6"));
    emu_run_free(&r);
}

static char *profile_text(const char *const *argv, const pv_emu_options *o)
{
    emu_run r;
    run_emu(argv, o, &r);
    assert_int_equal(r.rc, PV_OK);
    pv_profile *p = NULL;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->dynamic = r.d;
    r.d = NULL;
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    pv_profile_free(p);
    emu_run_free(&r);
    return text;
}

static void deterministic_runs_are_identical(void **state)
{
    (void)state;
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.deterministic = 1;
    const char *const runs[][5] = {
        {SAMPLE("pthreads"), "30000", "3", NULL},
        {SAMPLE("hashmap"), "5000", NULL},
        {GUEST("auxv"), NULL},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char *a = profile_text(runs[i], &o), *b = profile_text(runs[i], &o);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "\"emu_seconds\":0"));
        assert_non_null(strstr(a, "\"deterministic\":true"));
        free(a);
        free(b);
    }
    /* the guest sees the same run twice, but for the scratch directory's random name */
    const char *argv[] = {GUEST("auxv"), NULL};
    emu_run r1, r2;
    run_emu(argv, &o, &r1);
    run_emu(argv, &o, &r2);
    char *s1 = strstr(r1.out, "pagesz="), *s2 = strstr(r2.out, "pagesz=");
    assert_non_null(s1);
    assert_non_null(s2);
    assert_string_equal(s1, s2);
    assert_non_null(strstr(s1, "getrandom=4\n"));
    assert_non_null(strstr(s1, "time=1704067200.")); /* 2024-01-01T00:00:00Z plus one ns per instruction */
    assert_non_null(strstr(s1, "pid=1000\n"));
    emu_run_free(&r1);
    emu_run_free(&r2);
}

static void bad_input(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_emu_bad.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    pv_emu *e = NULL;
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    const char *argv[2] = {path, NULL};
    o.argc = 1;
    o.argv = argv;
    /* missing */
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "no such file"));
    /* not ELF */
    snprintf(path, sizeof path, "%s/script", dir);
    FILE *f = fopen(path, "w");
    fputs("#!/bin/sh\necho hi\n", f);
    fclose(f);
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "not an ELF file"));
    /* truncated ELF */
    snprintf(path, sizeof path, "%s/trunc", dir);
    FILE *in = fopen(SAMPLE("matmul"), "rb");
    char buf[200];
    assert_int_equal(fread(buf, 1, sizeof buf, in), sizeof buf);
    fclose(in);
    f = fopen(path, "wb");
    fwrite(buf, 1, 100, f);
    fclose(f);
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "truncated"));
    /* an AArch64 executable header */
    snprintf(path, sizeof path, "%s/arm", dir);
    buf[18] = (char)183; /* e_machine = EM_AARCH64 */
    buf[19] = 0;
    f = fopen(path, "wb");
    fwrite(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_UNSUPPORTED);
    assert_non_null(strstr(pv_error_last(), "AArch64"));
    /* a directory */
    snprintf(path, sizeof path, "%s", dir);
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_INVALID);
    /* bad options */
    o.version = 99;
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_INVALID);
    assert_null(e);
    /* a missing --allow-read path */
    o = (pv_emu_options)PV_EMU_OPTIONS_INIT;
    const char *sample[] = {SAMPLE("matmul"), NULL};
    const char *allow[] = {"/nonexistent/pv"};
    o.argc = 1;
    o.argv = sample;
    o.nallow_read = 1;
    o.allow_read = allow;
    assert_int_equal(pv_emu_new(&e, &o), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "--allow-read /nonexistent/pv"));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void run_once(void **state)
{
    (void)state;
    pv_emu *e = NULL;
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    const char *argv[] = {SAMPLE("qsort"), "100", NULL};
    o.argc = 2;
    o.argv = argv;
    o.stdout_fd = PV_EMU_FD_NONE;
    assert_int_equal(pv_emu_new(&e, &o), PV_OK);
    pv_dynamic *d = NULL;
    assert_int_equal(pv_emu_run(e, &d), PV_OK);
    assert_non_null(d);
    assert_string_equal(d->argv[1], "100");
    pv_dynamic *d2 = NULL;
    assert_int_equal(pv_emu_run(e, &d2), PV_ERR_INVALID);
    assert_null(d2);
    /* the scratch directory exists during the run and disappears with the emulator */
    char scratch[4096];
    snprintf(scratch, sizeof scratch, "%s", pv_emu_scratch_dir(e));
    assert_int_equal(access(scratch, F_OK), 0);
    pv_target t;
    assert_int_equal(pv_emu_target(e, &t), PV_OK);
    assert_string_equal(t.kind, "pie");
    assert_string_equal(t.arch, "x86_64");
    free(t.path);
    free(t.arch);
    free(t.kind);
    free(t.build_id);
    pv_emu_free(e);
    assert_int_equal(access(scratch, F_OK), -1);
    pv_dynamic_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(samples_match_native),
        cmocka_unit_test(static_executables),
        cmocka_unit_test(loader_view),
        cmocka_unit_test(limits_end_the_run),
        cmocka_unit_test(unsupported_instruction),
        cmocka_unit_test(deterministic_runs_are_identical),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(run_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
