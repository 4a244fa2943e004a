/* Tests for emulator/callgrind.c: write callgrind files for hand-made
 * profiles and read them back with valgrind's callgrind_annotate. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "emulator/callgrind.h"
#include "prevision/error.h"

static char tmpdir[] = "/tmp/pv_callgrind_XXXXXX";

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static void add_function(pv_profile *p, const char *name, uint64_t addr, uint64_t size, pv_srcloc loc)
{
    p->functions = realloc(p->functions, (p->nfunctions + 1) * sizeof *p->functions);
    pv_function *f = &p->functions[p->nfunctions++];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->addr = addr;
    f->size = size;
    f->loc = loc;
}

static void add_block(pv_profile *p, uint64_t addr, uint32_t size, uint32_t func, pv_srcloc loc)
{
    p->blocks = realloc(p->blocks, (p->nblocks + 1) * sizeof *p->blocks);
    pv_block *b = &p->blocks[p->nblocks++];
    memset(b, 0, sizeof *b);
    b->addr = addr;
    b->size = size;
    b->func = func;
    b->loc = loc;
}

static void add_count(pv_dynamic *d, uint32_t obj, uint64_t addr, uint32_t ninsns, uint64_t count)
{
    d->counts = realloc(d->counts, (d->ncounts + 1) * sizeof *d->counts);
    d->counts[d->ncounts++] = (pv_block_count){.object = obj, .addr = addr, .ninsns = ninsns, .count = count};
}

static void add_object(pv_dynamic *d, const char *path, int is_target)
{
    d->objects = realloc(d->objects, (d->nobjects + 1) * sizeof *d->objects);
    d->objects[d->nobjects++] = (pv_object){.path = xstrdup(path), .base = 0x555555554000ull, .is_target = is_target};
}

/* The link-time address of qsort in the C library this test runs with (not
 * an interceptor a sanitizer may put in front of it). */
static uint64_t libc_qsort(const char **path)
{
    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    void *fn = dlsym(h, "qsort");
    Dl_info info;
    assert_non_null(fn);
    assert_true(dladdr(fn, &info) != 0);
    *path = info.dli_fname;
    return (uint64_t)((uintptr_t)fn - (uintptr_t)info.dli_fbase);
}

/* Target with main (main.c:10) and work (main.c:20, with a block inlined
 * from util.h); the C library (qsort, resolved from its symbols); and an
 * object that does not exist (named by address). Ir per line:
 *   main.c:11  4*1 = 4        main.c:12  3*10 = 30
 *   main.c:21  5*1000 + 2*7 = 5014 (the second count starts inside the block)
 *   util.h:5   2*1000 = 2000  qsort 10*3 = 30   0x2000 5*2 = 10
 * total 7088. */
static pv_profile *make_profile(void)
{
    pv_profile *p = NULL;
    const char *libc = NULL;
    uint64_t qs = libc_qsort(&libc);
    assert_int_equal(pv_profile_new(&p), PV_OK);
    uint32_t mainc = pv_profile_intern_file(p, "/src/main.c");
    uint32_t utilh = pv_profile_intern_file(p, "/src/util.h");
    p->target.path = xstrdup("/work/fake/prog");
    add_function(p, "main", 0x1000, 0x40, (pv_srcloc){mainc, 10});
    add_function(p, "work", 0x1040, 0x40, (pv_srcloc){mainc, 20});
    add_block(p, 0x1000, 0x10, 0, (pv_srcloc){mainc, 11});
    add_block(p, 0x1010, 0x30, 0, (pv_srcloc){mainc, 12});
    add_block(p, 0x1040, 0x10, 1, (pv_srcloc){mainc, 21});
    add_block(p, 0x1050, 0x30, 1, (pv_srcloc){utilh, 5});
    pv_dynamic *d = calloc(1, sizeof *d);
    assert_non_null(d);
    p->dynamic = d;
    d->nargs = 2;
    d->argv = calloc(2, sizeof(char *));
    d->argv[0] = xstrdup("./prog");
    d->argv[1] = xstrdup("42");
    d->end_reason = xstrdup("exit");
    add_object(d, "/work/fake/prog", 1);
    add_object(d, libc, 0);
    add_object(d, "/nonexistent/libfoo.so", 0);
    add_count(d, 0, 0x1000, 4, 1);
    add_count(d, 0, 0x1010, 3, 10);
    add_count(d, 0, 0x1040, 5, 1000);
    add_count(d, 0, 0x1050, 2, 1000);
    add_count(d, 0, 0x1044, 2, 7);
    add_count(d, 1, qs + 4, 10, 3);
    add_count(d, 2, 0x2000, 5, 2);
    add_count(d, 2, 0x3000, 5, 0); /* never executed: not written */
    return p;
}

/* Run callgrind_annotate on @p path; @return its output (malloc()ed). */
static char *annotate(const char *path, const char *args)
{
    char cmd[1024], *out = NULL;
    size_t len = 0;
    snprintf(cmd, sizeof cmd, "callgrind_annotate %s '%s' 2>&1", args, path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    FILE *m = open_memstream(&out, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(m);
    int st = pclose(f);
    if (st != 0)
        fail_msg("callgrind_annotate failed (%d): %s", st, out);
    return out;
}

/* A line of @p text containing every one of the NULL-terminated needles. */
static int has_line(const char *text, ...)
{
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = strndup(line, len);
        va_list ap;
        va_start(ap, text);
        int ok = 1;
        for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
            if (!strstr(l, s))
                ok = 0;
        va_end(ap);
        free(l);
        if (ok)
            return 1;
        line = end ? end + 1 : NULL;
    }
    return 0;
}

static void instructions_only(void **state)
{
    (void)state;
    pv_profile *p = make_profile();
    char path[256];
    snprintf(path, sizeof path, "%s/ir.out", tmpdir);
    assert_int_equal(pve_callgrind_write(p, path, NULL), PV_OK);

    char *text = NULL;
    assert_int_equal(pve_callgrind_format(p, NULL, &text, NULL), PV_OK);
    assert_true(strncmp(text, "# callgrind format\nversion: 1\n", 30) == 0);
    assert_non_null(strstr(text, "cmd: ./prog 42\n"));
    assert_non_null(strstr(text, "events: Ir\n"));
    /* Names are compressed: defined once, then referred to by id. */
    assert_non_null(strstr(text, "fn=(1) main\n"));
    assert_null(strstr(strstr(text, "fn=(1) main\n") + 1, "fn=(1) main"));
    assert_non_null(strstr(text, "fi=("));
    assert_non_null(strstr(text, "fn=(4) 0x2000\n") ? text : strstr(text, " 0x2000\n"));
    assert_null(strstr(text, "0x3000"));
    assert_non_null(strstr(text, "totals: 7088\n"));
    free(text);

    char *out = annotate(path, "--threshold=100");
    if (!has_line(out, "7,088", "PROGRAM TOTALS", NULL))
        fail_msg("no total of 7,088 in:\n%s", out);
    if (!has_line(out, "5,014", "main.c:work", NULL) || !has_line(out, "2,000", "util.h:work", NULL) ||
        !has_line(out, "34", "main.c:main", NULL) || !has_line(out, "30", ":qsort", NULL) ||
        !has_line(out, "10", ":0x2000", NULL))
        fail_msg("functions missing or wrong in:\n%s", out);
    assert_non_null(strstr(out, "creator: prevision"));
    free(out);
    pv_profile_free(p);
}

static void cache_events_sampled(void **state)
{
    (void)state;
    pv_profile *p = make_profile();
    pv_dynamic *d = p->dynamic;
    d->ncaches = 2;
    d->caches = calloc(2, sizeof *d->caches);
    /* Whole-run estimates: twice what the blocks measured (147 accesses, 15 L1 and 5 L2 misses). */
    d->caches[0] = (pv_cache_stats){.name = xstrdup("L1d"), .size = 49152, .line = 64, .assoc = 12,
                                    .accesses = 294, .misses = 30, .sampled_fraction = 0.5};
    d->caches[1] = (pv_cache_stats){.name = xstrdup("L2"), .size = 1 << 20, .line = 64, .assoc = 16,
                                    .accesses = 30, .misses = 10, .sampled_fraction = 0.5};
    d->block_cache = calloc(d->ncounts, sizeof *d->block_cache);
    /* work's first block (counts[2]): 100 reads, 40 writes, 10/4 L1 misses, 3/1 L2 misses, measured in half the run. */
    d->block_cache[2] = (pv_block_cache){.dr = 100, .dw = 40, .mr = {10, 3}, .mw = {4, 1}};
    d->block_cache[5] = (pv_block_cache){.dr = 7, .dw = 0, .mr = {1, 1}, .mw = {0, 0}};
    char path[256];
    snprintf(path, sizeof path, "%s/cache.out", tmpdir);
    assert_int_equal(pve_callgrind_write(p, path, NULL), PV_OK);
    char *text = NULL;
    assert_int_equal(pve_callgrind_format(p, NULL, &text, NULL), PV_OK);
    assert_non_null(strstr(text, "events: Ir Dr Dw D1mr D1mw DLmr DLmw\n"));
    assert_non_null(strstr(text, "sampled simulation"));
    /* Extrapolated: doubled. */
    assert_non_null(strstr(text, "totals: 7088 214 80 22 8 8 2\n"));
    free(text);
    char *out = annotate(path, "--threshold=100");
    if (!has_line(out, "7,088", "214", "80", "22", "8", "2", "PROGRAM TOTALS", NULL))
        fail_msg("wrong totals in:\n%s", out);
    if (!has_line(out, "Events recorded:", "D1mr", "DLmw", NULL))
        fail_msg("events missing in:\n%s", out);
    free(out);
    /* Three levels: the middle one is D2. */
    d->ncaches = 3;
    d->caches = realloc(d->caches, 3 * sizeof *d->caches);
    d->caches[2] = (pv_cache_stats){.name = xstrdup("L3"), .size = 1 << 25, .line = 64, .assoc = 16,
                                    .sampled_fraction = 1};
    assert_int_equal(pve_callgrind_format(p, NULL, &text, NULL), PV_OK);
    assert_non_null(strstr(text, "events: Ir Dr Dw D1mr D1mw D2mr D2mw DLmr DLmw\n"));
    free(text);
    pv_profile_free(p);
}

static void no_symbols_and_no_static_part(void **state)
{
    (void)state;
    pv_profile *p = make_profile();
    /* Without the static part, the target's blocks are named by address too. */
    for (uint32_t i = 0; i < p->nfunctions; i++)
        free(p->functions[i].name);
    free(p->functions);
    free(p->blocks);
    p->functions = NULL;
    p->blocks = NULL;
    p->nfunctions = p->nblocks = 0;
    pve_callgrind_options o = PVE_CALLGRIND_OPTIONS_INIT;
    o.resolve_symbols = 0;
    o.cmd = "custom command";
    char *text = NULL;
    assert_int_equal(pve_callgrind_format(p, &o, &text, NULL), PV_OK);
    assert_non_null(strstr(text, "cmd: custom command\n"));
    assert_non_null(strstr(text, " 0x1000\n"));
    assert_null(strstr(text, "qsort"));
    assert_non_null(strstr(text, "totals: 7088\n"));
    free(text);
    pv_profile_free(p);
}

static void bad_input(void **state)
{
    (void)state;
    pv_profile *p = NULL;
    char *text = (char *)1;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    assert_int_equal(pve_callgrind_format(p, NULL, &text, NULL), PV_ERR_INVALID);
    assert_null(text);
    assert_non_null(strstr(pv_error_last(), "no dynamic section"));
    pv_profile_free(p);

    p = make_profile();
    p->dynamic->counts[3].object = 9;
    assert_int_equal(pve_callgrind_format(p, NULL, &text, NULL), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "block_counts[3]"));
    p->dynamic->counts[3].object = 0;
    pve_callgrind_options o = PVE_CALLGRIND_OPTIONS_INIT;
    o.version = 5;
    assert_int_equal(pve_callgrind_format(p, &o, &text, NULL), PV_ERR_INVALID);

    /* An unwritable destination fails cleanly, leaving no file; an existing file stays. */
    char path[512];
    snprintf(path, sizeof path, "%s/missing-dir/x.out", tmpdir);
    assert_int_equal(pve_callgrind_write(p, path, NULL), PV_ERR_IO);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/keep.out", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    p->dynamic->counts[0].object = 7;
    assert_int_equal(pve_callgrind_write(p, path, NULL), PV_ERR_INVALID);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(pve_callgrind_write(p, NULL, NULL), PV_ERR_INVALID);
    pv_profile_free(p);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(instructions_only),
        cmocka_unit_test(cache_events_sampled),
        cmocka_unit_test(no_symbols_and_no_static_part),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
