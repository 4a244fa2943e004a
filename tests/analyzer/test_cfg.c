/* Tests for analyzer/cfg.c: jump tables (relative PIC form and absolute
 * form), noreturn calls, tail calls and block splitting, on small programs
 * compiled at test time with the system C compiler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "prevision/analyzer.h"

static const char program[] =
    "#include <stdlib.h>\n"
    "#include <stdio.h>\n"
    "__attribute__((noinline)) int dispatch(int op, int a, int b) {\n"
    "    switch (op) {\n"
    "    case 0: return a + b;\n"
    "    case 1: return a - b;\n"
    "    case 2: return a * b;\n"
    "    case 3: return b ? a / b : 0;\n"
    "    case 4: return a << (b & 7);\n"
    "    case 5: return a >> (b & 7);\n"
    "    case 6: return a ^ b;\n"
    "    case 7: return a | b;\n"
    "    case 8: return puts(\"eight\");\n"
    "    case 9: return a & b;\n"
    "    default: return -1;\n"
    "    }\n"
    "}\n"
    "__attribute__((noinline)) void die(const char *why) { fprintf(stderr, \"%s\\n\", why); exit(3); }\n"
    "__attribute__((noinline)) int check(int x) { if (x < 0) die(\"negative\"); return x * 2; }\n"
    "int main(int argc, char **argv) {\n"
    "    int s = 0;\n"
    "    for (int i = 0; i < argc * 10; i++) s += dispatch(i % 11, i, argc);\n"
    "    if (argc > 5) abort();\n"
    "    return check(s) + (argv[0] != 0);\n"
    "}\n";

static char dir[] = "/tmp/pv_cfg_XXXXXX";

static int build(const char *name, const char *flags)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cc -O2 -g %s -o '%s/%s' '%s/prog.c' 2>/dev/null", flags, dir, name, dir);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/prog.c", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(program, f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static pv_profile *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pv_profile *p = NULL;
    if (pv_analyze_binary(path, NULL, &p))
        fail_msg("%s: %s", path, pv_error_last());
    return p;
}

static uint32_t func_index(const pv_profile *p, const char *name)
{
    for (uint32_t i = 0; i < p->nfunctions; i++)
        if (!strcmp(p->functions[i].name, name))
            return i;
    fail_msg("no function %s", name);
    return PV_NONE;
}

/* dispatch() has one block with a jump table of at least 10 distinct targets, all blocks of dispatch. */
static void check_jump_table(const char *name, const char *flags)
{
    if (build(name, flags))
        skip();
    pv_profile *p = load(name);
    uint32_t f = func_index(p, "dispatch");
    const pv_function *fn = &p->functions[f];
    int tables = 0;
    for (uint32_t b = fn->first_block; b < fn->first_block + fn->nblocks; b++) {
        const pv_block *k = &p->blocks[b];
        assert_false(k->flags & PV_BLOCK_UNRESOLVED);
        uint32_t njt = 0;
        for (uint32_t e = 0; e < k->nsucc; e++) {
            if (k->succ[e].kind != PV_EDGE_JUMPTABLE)
                continue;
            njt++;
            uint32_t t = pv_profile_find_block(p, k->succ[e].target);
            assert_int_not_equal(t, PV_NONE);
            assert_int_equal(p->blocks[t].func, f);
        }
        if (njt) {
            tables++;
            assert_true(njt >= 8);
        }
    }
    assert_int_equal(tables, 1);
    pv_profile_free(p);
}

static void jump_table_pic(void **state)
{
    (void)state;
    check_jump_table("pie", "-fPIE -pie");
}

static void jump_table_absolute(void **state)
{
    (void)state;
    check_jump_table("nopie", "-fno-pic -no-pie");
}

/* die() calls exit: the call ends its block, flagged noreturn, with no successor. */
static void noreturn_calls(void **state)
{
    (void)state;
    if (build("pie2", "-fPIE -pie"))
        skip();
    pv_profile *p = load("pie2");
    uint32_t f = func_index(p, "die");
    const pv_function *fn = &p->functions[f];
    int noret = 0;
    for (uint32_t b = fn->first_block; b < fn->first_block + fn->nblocks; b++)
        if (p->blocks[b].flags & PV_BLOCK_NORETURN) {
            noret++;
            assert_int_equal(p->blocks[b].nsucc, 0);
            assert_true(p->blocks[b].flags & PV_BLOCK_CALL);
        }
    assert_true(noret >= 1);
    /* check() calls die(), which is not known to be noreturn by name: its block continues.
     * main calls abort(): a noreturn block in main. */
    noret = 0;
    for (uint32_t b = 0; b < p->nblocks; b++) {
        const char *fname = p->functions[p->blocks[b].func].name;
        /* gcc moves the abort() path to main.cold, reached by a conditional tail jump. */
        if (!strcmp(fname, "main") || !strcmp(fname, "main.cold"))
            noret += !!(p->blocks[b].flags & PV_BLOCK_NORETURN);
    }
    assert_true(noret >= 1);
    /* Every edge target inside a function starts a block. */
    for (uint32_t b = 0; b < p->nblocks; b++)
        for (uint32_t e = 0; e < p->blocks[b].nsucc; e++)
            if (p->blocks[b].succ[e].kind != PV_EDGE_TAILCALL)
                assert_int_not_equal(pv_profile_find_block(p, p->blocks[b].succ[e].target), PV_NONE);
    pv_profile_free(p);
}

/* A static binary: kind "static", and the families of the libraries linked in. */
static void static_binary(void **state)
{
    (void)state;
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/st.c", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#include <pthread.h>\n#include <math.h>\n#include <stdio.h>\n"
          "static void *run(void *a) { return a; }\n"
          "int main(int argc, char **argv) { pthread_t t; pthread_create(&t, 0, run, argv);"
          " pthread_join(t, 0); printf(\"%f\\n\", sqrt((double)argc)); return 0; }\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -O2 -static -o '%s/st' '%s' -lm -lpthread 2>/dev/null", dir, path);
    if (system(cmd) != 0)
        skip();
    pv_profile *p = load("st");
    assert_string_equal(p->target.kind, "static");
    assert_false(p->target.stripped);
    int threads = 0;
    for (uint32_t i = 0; i < p->nlibraries; i++)
        for (uint32_t k = 0; k < p->libraries[i].nimports; k++)
            if (!strcmp(p->libraries[i].imports[k], "pthread_create")) {
                assert_int_equal(p->libraries[i].group, PV_LIBGROUP_PTHREADS);
                assert_string_equal(p->libraries[i].soname, "(linked statically)");
                threads = 1;
            }
    assert_true(threads);
    assert_true(p->nfunctions > 100);
    pv_profile_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(jump_table_pic), cmocka_unit_test(jump_table_absolute),
                                       cmocka_unit_test(noreturn_calls), cmocka_unit_test(static_binary)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
