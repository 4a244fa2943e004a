/* Helpers shared by the emulator's tests: run a program natively and under
 * the emulator, capturing standard output. Header-only (static functions). */
#ifndef PV_TEST_EMU_UTIL_H
#define PV_TEST_EMU_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prevision/prevision.h"

#define SAMPLE(name) PV_SAMPLES_DIR "/" name
#define GUEST(name) PV_EMU_DATA_DIR "/" name

static inline char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1024 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    return buf;
}

/* Run argv natively in directory @p dir (NULL: the current one); returns its stdout (malloc). */
static inline char *run_native(const char *const *argv, const char *dir)
{
    FILE *tmp = tmpfile();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fileno(tmp), 1);
        if (dir && chdir(dir))
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    char *out = slurp_fd(fileno(tmp));
    fclose(tmp);
    return out;
}

typedef struct emu_run {
    pv_dynamic *d;
    char *out;            /* guest stdout */
    char *err;            /* guest stderr */
    char msg[1100];       /* end message */
    char scratch[4096];
    int rc;               /* pv_emu_new / pv_emu_run result */
    pv_emu_block_branch *br; /* per row of d->counts: pv_emu_block_branches() (NULL when none) */
    uint32_t nbr;
} emu_run;

/* Run argv under the emulator with options @p base (NULL: defaults); stdout
 * and stderr captured. */
static inline void run_emu(const char *const *argv, const pv_emu_options *base, emu_run *r)
{
    memset(r, 0, sizeof *r);
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    if (base)
        o = *base;
    int argc = 0;
    while (argv[argc])
        argc++;
    o.argc = argc;
    o.argv = argv;
    FILE *out = tmpfile(), *err = tmpfile();
    o.stdout_fd = fileno(out);
    o.stderr_fd = fileno(err);
    if (o.stdin_fd == 0)
        o.stdin_fd = PV_EMU_FD_NONE;
    pv_emu *e = NULL;
    r->rc = pv_emu_new(&e, &o);
    if (r->rc == PV_OK) {
        snprintf(r->scratch, sizeof r->scratch, "%s", pv_emu_scratch_dir(e));
        r->rc = pv_emu_run(e, &r->d);
        snprintf(r->msg, sizeof r->msg, "%s", pv_emu_end_message(e));
        uint32_t nbr = 0;
        const pv_emu_block_branch *br = pv_emu_block_branches(e, &nbr);
        if (br && nbr && (r->br = malloc(nbr * sizeof *r->br))) {
            memcpy(r->br, br, nbr * sizeof *r->br);
            r->nbr = nbr;
        }
    } else {
        snprintf(r->msg, sizeof r->msg, "%s", pv_error_last());
    }
    pv_emu_free(e);
    r->out = slurp_fd(fileno(out));
    r->err = slurp_fd(fileno(err));
    fclose(out);
    fclose(err);
}

static inline void emu_run_free(emu_run *r)
{
    pv_dynamic_free(r->d);
    free(r->br);
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* Count of refused calls named @p name in @p d (0 when none). */
static inline uint64_t refused_count(const pv_dynamic *d, const char *name)
{
    for (uint32_t i = 0; d && i < d->nrefused; i++)
        if (!strcmp(d->refused[i].name, name))
            return d->refused[i].count;
    return 0;
}

static inline int have_program(const char *path) { return access(path, X_OK) == 0; }

#endif
