/* emulator/syscall.c, syscall_fs.c: the allowlist and the sandbox as a guest
 * meets them. Each probe (tests/emulator/data/probe.c) tries one forbidden
 * thing, gets the documented refusal, the refusal is counted by name, and
 * the host is untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/emulator/emu_util.h"

static void probe(const char *action, const char *arg, const pv_emu_options *o, emu_run *r)
{
    const char *argv[] = {GUEST("probe"), action, arg, NULL};
    run_emu(argv, o, r);
    assert_int_equal(r->rc, PV_OK);
    if (strcmp(r->d->end_reason, "exit"))
        fail_msg("probe %s: %s", action, r->msg);
}

static void expect(const char *action, const char *arg, const char *answer, const char *refused_name)
{
    emu_run r;
    probe(action, arg, NULL, &r);
    char want[256];
    snprintf(want, sizeof want, "%s: %s\n", action, answer);
    assert_string_equal(r.out, want);
    if (refused_name)
        assert_true(refused_count(r.d, refused_name) >= 1);
    emu_run_free(&r);
}

static void refused_calls(void **state)
{
    (void)state;
    expect("socket", NULL, "Operation not permitted", "socket");
    expect("exec", NULL, "Operation not permitted", "execve");
    expect("fork", NULL, "Operation not permitted", "clone");
    expect("kill", NULL, "Operation not permitted", "kill");
    expect("ptrace", NULL, "Operation not permitted", "ptrace");
}

static void reads_outside_are_refused(void **state)
{
    (void)state;
    expect("read", "/etc/passwd", "Permission denied", "openat");
    expect("read", "/etc/hostname", "Permission denied", "openat");
    expect("stat", "/etc/shadow", "Permission denied", "newfstatat");
    expect("read", "/proc/self/maps", "Permission denied", "openat");
    /* '..' cannot climb out of an allowed place */
    expect("read", "/usr/lib/../../etc/passwd", "Permission denied", "openat");
    /* libraries and the loader cache are readable, the program itself too */
    expect("read", "/etc/ld.so.cache", "ok", NULL);
    expect("read", GUEST("probe"), "ok", NULL);
    /* a missing file where reading is allowed is just missing */
    expect("read", "/usr/lib/x86_64-linux-gnu/pv-no-such-lib.so", "No such file or directory", NULL);
}

static void allow_read_and_symlinks(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_emu_allow.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[256], link[256], cmd[600];
    snprintf(file, sizeof file, "%s/data.txt", dir);
    snprintf(link, sizeof link, "%s/escape", dir);
    FILE *f = fopen(file, "w");
    fputs("data\n", f);
    fclose(f);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    const char *allow[] = {dir};
    o.nallow_read = 1;
    o.allow_read = allow;
    emu_run r;
    probe("read", file, &o, &r);
    assert_string_equal(r.out, "read: ok\n");
    assert_int_equal(r.d->io_files_opened >= 1, 1);
    emu_run_free(&r);
    /* a link inside an allowed directory that points outside it */
    probe("read", link, &o, &r);
    assert_string_equal(r.out, "read: Permission denied\n");
    assert_int_equal(refused_count(r.d, "openat"), 1);
    emu_run_free(&r);
    /* allowed for reading is not allowed for writing */
    probe("write", file, &o, &r);
    assert_string_equal(r.out, "write: Permission denied\n");
    emu_run_free(&r);
    f = fopen(file, "r");
    char buf[16] = "";
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "data\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void writes_stay_in_scratch(void **state)
{
    (void)state;
    char outside[] = "/tmp/pv_emu_outside.XXXXXX";
    assert_non_null(mkdtemp(outside));
    char target[300];
    snprintf(target, sizeof target, "%s/escaped.txt", outside);
    emu_run r;
    /* outside the working directory and the scratch directory: refused, nothing appears */
    probe("write", target, NULL, &r);
    assert_string_equal(r.out, "write: Permission denied\n");
    assert_int_equal(refused_count(r.d, "openat"), 1);
    emu_run_free(&r);
    assert_int_equal(access(target, F_OK), -1);
    probe("mkdir", target, NULL, &r);
    assert_string_equal(r.out, "mkdir: Permission denied\n");
    emu_run_free(&r);
    assert_int_equal(access(target, F_OK), -1);
    /* deleting a host file is refused */
    FILE *f = fopen(target, "w");
    fclose(f);
    probe("unlink", target, NULL, &r);
    assert_string_equal(r.out, "unlink: Permission denied\n");
    emu_run_free(&r);
    assert_int_equal(access(target, F_OK), 0);
    unlink(target);
    rmdir(outside);
    /* relative to the working directory: it lands in the scratch directory, not on the host */
    char scratch[] = "/tmp/pv_emu_scratch.XXXXXX";
    assert_non_null(mkdtemp(scratch));
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.scratch_dir = scratch;
    probe("write", "pv_emu_written.txt", &o, &r);
    assert_string_equal(r.out, "write: ok\n");
    emu_run_free(&r);
    assert_int_equal(access("pv_emu_written.txt", F_OK), -1);
    char inside[300];
    snprintf(inside, sizeof inside, "%s/pv_emu_written.txt", scratch);
    assert_int_equal(access(inside, F_OK), 0); /* a caller's scratch directory is kept */
    /* --discard-writes: accepted, counted, stored nowhere */
    o.discard_writes = 1;
    unlink(inside);
    probe("write", "pv_emu_discarded.txt", &o, &r);
    assert_string_equal(r.out, "write: ok\n");
    assert_true(r.d->io_bytes_written >= 6);
    emu_run_free(&r);
    snprintf(inside, sizeof inside, "%s/pv_emu_discarded.txt", scratch);
    assert_int_equal(access(inside, F_OK), -1);
    assert_int_equal(rmdir(scratch), 0);
}

static void io_counters(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("fileio"), "32", "f.bin", NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    assert_string_equal(r.d->end_reason, "exit");
    assert_true(r.d->io_bytes_written >= 32 * 1024);
    assert_true(r.d->io_bytes_read >= 32 * 1024);
    assert_true(r.d->io_files_opened >= 3); /* libc, and the data file twice */
    assert_true(r.d->syscalls > 10);
    assert_int_equal(r.d->nrefused, 0);
    emu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_calls),
        cmocka_unit_test(reads_outside_are_refused),
        cmocka_unit_test(allow_read_and_symlinks),
        cmocka_unit_test(writes_stay_in_scratch),
        cmocka_unit_test(io_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
