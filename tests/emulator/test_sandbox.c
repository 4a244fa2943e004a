/* emulator/sandbox.c: path normalization and the read/write policy on
 * canonical host paths (the overlay of the working directory by the scratch
 * directory, allowed paths, libraries, links that point outside). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "emulator/internal.h"
#include "tests/emulator/emu_util.h"

static void normalize(void **state)
{
    (void)state;
    char out[PATH_MAX];
    const char *cases[][3] = {
        {"/home/u", "a/b", "/home/u/a/b"},
        {"/home/u", "/etc/./passwd", "/etc/passwd"},
        {"/home/u", "../../../../etc", "/etc"},
        {"/home/u", "a//b/../c/", "/home/u/a/c"},
        {"/", "..", "/"},
        {"/x", ".", "/x"},
        {"/x", "", "/x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(pve_path_normalize(cases[i][0], cases[i][1], out, sizeof out), 0);
        assert_string_equal(out, cases[i][2]);
    }
    char small[8];
    assert_int_equal(pve_path_normalize("/", "/abcdefghij", small, sizeof small), -ENAMETOOLONG);
}

typedef struct fixture {
    char work[64], scratch[64], allowed[64];
    pv_emu *e;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->work, sizeof f->work, "/tmp/pv_sb_work.XXXXXX");
    snprintf(f->scratch, sizeof f->scratch, "/tmp/pv_sb_scratch.XXXXXX");
    snprintf(f->allowed, sizeof f->allowed, "/tmp/pv_sb_allowed.XXXXXX");
    if (!mkdtemp(f->work) || !mkdtemp(f->scratch) || !mkdtemp(f->allowed))
        return -1;
    char p[256];
    snprintf(p, sizeof p, "%s/in.txt", f->work);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    snprintf(p, sizeof p, "%s/sub", f->work);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/ok.txt", f->allowed);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    char l[256];
    snprintf(l, sizeof l, "%s/out", f->allowed);
    if (symlink("/etc", l))
        return -1;
    snprintf(l, sizeof l, "%s/escape", f->scratch);
    if (symlink("/etc", l))
        return -1;
    pv_emu *e = f->e = calloc(1, sizeof *e);
    snprintf(e->scratch, sizeof e->scratch, "%s", f->scratch);
    snprintf(e->host_cwd, sizeof e->host_cwd, "%s", f->work);
    snprintf(e->cwd, sizeof e->cwd, "%s", f->work);
    e->allow = calloc(1, sizeof *e->allow);
    e->allow[0] = strdup(f->allowed);
    e->nallow = 1;
    e->exe_path = realpath("/bin/true", NULL); /* canonical, as the loader stores it */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s", f->work, f->scratch, f->allowed);
    if (system(cmd))
        return -1;
    free(f->e->allow[0]);
    free(f->e->allow);
    free(f->e->exe_path);
    free(f->e);
    free(f);
    return 0;
}

static int resolve(fixture *f, const char *path, int access, pve_path *p)
{
    return pve_sandbox_resolve(f->e, AT_FDCWD, path, access, p);
}

static void policy(void **state)
{
    fixture *f = *state;
    pve_path p;
    char want[300];
    /* reads: the program, libraries, the loader cache, allowed paths */
    assert_int_equal(resolve(f, "/bin/true", PVE_ACC_READ, &p), 0);
    assert_int_equal(resolve(f, "/etc/ld.so.cache", PVE_ACC_READ, &p), 0);
    assert_int_equal(resolve(f, "/lib/x86_64-linux-gnu/libc.so.6", PVE_ACC_READ, &p), 0);
    assert_string_equal(p.host, "/usr/lib/x86_64-linux-gnu/libc.so.6"); /* canonical */
    assert_int_equal(resolve(f, "/usr/lib/x86_64-linux-gnu", PVE_ACC_STAT, &p), 0);
    snprintf(want, sizeof want, "%s/ok.txt", f->allowed);
    assert_int_equal(resolve(f, want, PVE_ACC_READ, &p), 0);
    assert_false(p.in_scratch);
    /* not: data files under library directories, /etc, /proc, links out of allowed places */
    assert_int_equal(resolve(f, "/usr/lib/os-release", PVE_ACC_READ, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, "/etc/passwd", PVE_ACC_READ, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, "/proc/self/environ", PVE_ACC_READ, &p), PVE_REFUSED);
    snprintf(want, sizeof want, "%s/out/passwd", f->allowed);
    assert_int_equal(resolve(f, want, PVE_ACC_READ, &p), PVE_REFUSED);
    /* missing files: ENOENT only where reading would be allowed */
    snprintf(want, sizeof want, "%s/none", f->allowed);
    assert_int_equal(resolve(f, want, PVE_ACC_READ, &p), -ENOENT);
    assert_int_equal(resolve(f, "/etc/pv-none", PVE_ACC_READ, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, "/etc/ld.so.preload", PVE_ACC_READ, &p), -ENOENT);
    /* writes: never outside the scratch directory */
    assert_int_equal(resolve(f, want, PVE_ACC_WRITE | PVE_ACC_CREATE, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, "/tmp/pv-anything", PVE_ACC_WRITE | PVE_ACC_CREATE, &p), PVE_REFUSED);
    /* special files */
    assert_int_equal(resolve(f, "/dev/null", PVE_ACC_WRITE, &p), 0);
    assert_int_equal(p.special, PVE_FD_NULL);
    assert_int_equal(resolve(f, "/dev/urandom", PVE_ACC_READ, &p), 0);
    assert_int_equal(p.special, PVE_FD_RANDOM);
    assert_int_equal(resolve(f, "/dev/urandom", PVE_ACC_WRITE, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, "/dev/sda", PVE_ACC_READ, &p), PVE_REFUSED);
}

static void overlay(void **state)
{
    fixture *f = *state;
    pve_path p;
    char want[300];
    /* a new file under the working directory goes to the scratch directory, with its parents */
    assert_int_equal(resolve(f, "sub/new.txt", PVE_ACC_WRITE | PVE_ACC_CREATE, &p), 0);
    assert_true(p.in_scratch);
    snprintf(want, sizeof want, "%s/sub/new.txt", f->scratch);
    assert_string_equal(p.host, want);
    snprintf(want, sizeof want, "%s/sub/new.txt", f->work);
    assert_string_equal(p.guest, want);
    snprintf(want, sizeof want, "%s/sub", f->scratch);
    assert_int_equal(access(want, F_OK), 0);
    /* a host file under the working directory is not readable unless allowed */
    assert_int_equal(resolve(f, "in.txt", PVE_ACC_READ, &p), PVE_REFUSED);
    /* once the guest wrote a file there, it reads its own copy */
    snprintf(want, sizeof want, "%s/in.txt", f->scratch);
    close(open(want, O_CREAT | O_WRONLY, 0644));
    assert_int_equal(resolve(f, "in.txt", PVE_ACC_READ, &p), 0);
    assert_string_equal(p.host, want);
    /* the scratch directory by its own path; a link planted in it cannot lead out */
    snprintf(want, sizeof want, "%s/x", f->scratch);
    assert_int_equal(resolve(f, want, PVE_ACC_WRITE | PVE_ACC_CREATE, &p), 0);
    snprintf(want, sizeof want, "%s/escape/passwd", f->scratch);
    assert_int_equal(resolve(f, want, PVE_ACC_READ, &p), PVE_REFUSED);
    assert_int_equal(resolve(f, want, PVE_ACC_WRITE, &p), PVE_REFUSED);
    /* '..' out of the working directory into the host is refused for writing */
    assert_int_equal(resolve(f, "../../../etc/x", PVE_ACC_WRITE | PVE_ACC_CREATE, &p), PVE_REFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalize),
        cmocka_unit_test_setup_teardown(policy, setup, teardown),
        cmocka_unit_test_setup_teardown(overlay, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
