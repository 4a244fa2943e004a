/* Tests for analyzer/source_main.c and the merge in source_report.c: the
 * compile database (flags, directories, duplicates, both entry forms,
 * missing/malformed/empty databases), thread-count independence, progress,
 * and merging source facts into a hand-built binary profile by file:line. */
#include <jansson.h>
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

#include "prevision/analyzer.h"
#include "prevision/source.h"

#define DATA PV_SOURCE_DIR "/tests/analyzer/data"

static char tmp[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/pv_source_main.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/inc", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/build", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/empty", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/bad", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/none", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/entry", tmp);
    mkdir(path, 0700);
    write_file("inc/sz.h", "#define TWICE(x) (2 * (x))\n");
    write_file("sized.c", "#include \"sz.h\"\nvoid fill(double *a)\n{\n    for (int i = 0; i < TWICE(SIZE); i++)\n"
                          "        a[i] = 0;\n}\n");
    char db[4096];
    snprintf(db, sizeof db,
             "[\n"
             " {\"directory\": \"%s\", \"file\": \"loops.c\", \"arguments\": [\"clang-19\", \"-c\", \"loops.c\", \"-o\", \"a.o\"]},\n"
             " {\"directory\": \"%s\", \"file\": \"sized.c\", \"command\": \"cc -DSIZE=64 -I inc -MD -MF x.d -c sized.c -o sized.o\"},\n"
             " {\"directory\": \"%s\", \"file\": \"%s/loops.c\", \"command\": \"cc -fPIC -c loops.c -o b.o\"},\n"
             " {\"directory\": \"%s\", \"file\": \"omp.c\", \"command\": \"clang-19 -fopenmp -c omp.c\"}\n"
             "]\n",
             DATA, tmp, DATA, DATA, DATA);
    write_file("build/compile_commands.json", db);
    write_file("empty/compile_commands.json", "[]\n");
    write_file("bad/compile_commands.json", "[{\"directory\": \n");
    write_file("entry/compile_commands.json", "[{\"directory\": \"/tmp\", \"command\": \"cc -c x.c\"}]\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static json_t *analyze_db(const char *sub, unsigned threads, int *rc)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", tmp, sub);
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.build_dir = dir;
    o.ir = 0;
    o.threads = threads;
    void *out = NULL;
    *rc = pv_source_analyze(&o, &out);
    return out;
}

static json_t *loop_in(json_t *src, const char *fn)
{
    json_t *loops = json_object_get(src, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++)
        if (!strcmp(str(json_array_get(loops, i), "function"), fn))
            return json_array_get(loops, i);
    fail_msg("no loop in %s", fn);
    return NULL;
}

static void database_entries(void **state)
{
    (void)state;
    int rc;
    json_t *s = analyze_db("build", 1, &rc);
    assert_int_equal(rc, PV_OK);
    /* loops.c appears twice (two objects): analyzed once */
    json_t *tus = json_object_get(s, "translation_units");
    assert_int_equal(json_array_size(tus), 3);
    /* the entry's -D and -I (relative to its directory) are used */
    assert_string_equal(str(loop_in(s, "fill"), "trip"), "128");
    assert_string_equal(str(loop_in(s, "count_up"), "trip"), "n");
    /* -fopenmp from the database */
    assert_int_equal(json_array_size(json_object_get(s, "parallel")), 3);
    assert_int_equal(json_array_size(json_object_get(s, "diagnostics")), 0);
    /* ids are unique across translation units */
    json_t *loops = json_object_get(s, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(loops, i), "id")), (json_int_t)i);
    json_decref(s);
}

static void threads_do_not_change_the_result(void **state)
{
    (void)state;
    int rc1, rc3;
    json_t *a = analyze_db("build", 1, &rc1), *b = analyze_db("build", 3, &rc3);
    assert_int_equal(rc1, PV_OK);
    assert_int_equal(rc3, PV_OK);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
}

static void missing_and_bad_databases(void **state)
{
    (void)state;
    int rc;
    json_t *s = analyze_db("none", 1, &rc);
    assert_null(s);
    assert_int_equal(rc, PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "none/compile_commands.json"));
    assert_non_null(strstr(pv_error_last(), "CMAKE_EXPORT_COMPILE_COMMANDS"));
    s = analyze_db("no_such_dir", 1, &rc);
    assert_int_equal(rc, PV_ERR_NOTFOUND);
    s = analyze_db("bad", 1, &rc);
    assert_null(s);
    assert_int_equal(rc, PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "bad/compile_commands.json:2:"));
    assert_non_null(strstr(pv_error_last(), "invalid JSON"));
    s = analyze_db("entry", 1, &rc);
    assert_null(s);
    assert_int_equal(rc, PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "entry 0: expected a \"file\" string"));
    s = analyze_db("empty", 1, &rc);
    assert_null(s);
    assert_int_equal(rc, PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "no entries"));
}

typedef struct progress {
    unsigned calls;
    uint64_t last, total;
    int parsing;
} progress;

static void on_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    progress *p = ud;
    p->calls++;
    p->parsing |= !strcmp(phase, "parsing");
    if (done > p->last)
        p->last = done;
    p->total = total;
}

static void progress_is_reported(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/build", tmp);
    progress pr = {0};
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.build_dir = dir;
    o.ir = 0;
    o.threads = 2;
    o.progress = on_progress;
    o.progress_ud = &pr;
    void *out = NULL;
    assert_int_equal(pv_source_analyze(&o, &out), PV_OK);
    assert_true(pr.parsing);
    assert_int_equal(pr.calls, 3);
    assert_int_equal(pr.last, 3);
    assert_int_equal(pr.total, 3);
    json_decref(out);
}

/* A binary profile of the matmul sample, by hand: what the binary analyzer
 * writes for an -O2 build (matmul inlined into main, its inner loop
 * unrolled into a main body and a remainder). */
static pv_profile *matmul_profile(void)
{
    pv_profile *p;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->generator = strdup("prevision test");
    p->uarch = strdup("zen4");
    p->target.path = strdup("/build/samples/matmul");
    p->target.arch = strdup("x86_64");
    p->target.kind = strdup("pie");
    assert_int_equal(pv_profile_intern_file(p, "/elsewhere/build/../samples/matmul.c"), 0);
    assert_int_equal(pv_profile_intern_file(p, "/usr/include/other.c"), 1);
    p->nfunctions = 2;
    p->functions = calloc(2, sizeof *p->functions);
    p->functions[0] = (pv_function){.name = strdup("main"), .addr = 0x1000, .size = 0x200, .loc = {0, 16},
                                    .flags = PV_FUNC_SYMTAB, .first_block = 0, .nblocks = 8};
    p->functions[1] = (pv_function){.name = strdup("malloc@plt"), .addr = 0x2000, .size = 16, .loc = {PV_NONE, 0},
                                    .flags = PV_FUNC_PLT, .first_block = 8, .nblocks = 1};
    /* blocks: their lines */
    static const uint32_t lines[8] = {11, 11, 12, 8, 7, 31, 32, 99};
    p->nblocks = 9;
    p->blocks = calloc(9, sizeof *p->blocks);
    for (uint32_t i = 0; i < 8; i++)
        p->blocks[i] = (pv_block){.addr = 0x1000 + 0x20 * i, .size = 0x20, .ninsns = 4, .func = 0,
                                  .loc = {i == 7 ? 1 : 0, lines[i]}};
    p->blocks[8] = (pv_block){.addr = 0x2000, .size = 16, .ninsns = 1, .func = 1, .loc = {PV_NONE, 0}};
    /* loops: k main body (line 11), k remainder (11), j (8), i (7), the init loop whose
     * header has no line but whose blocks say 31-32, one in another file */
    static const struct {
        uint32_t line, file, parent, depth, b0, nb;
    } L[6] = {{11, 0, 2, 3, 0, 1}, {11, 0, 2, 3, 1, 1}, {8, 0, 3, 2, 2, 2}, {7, 0, PV_NONE, 1, 3, 2},
              {0, PV_NONE, PV_NONE, 1, 5, 2}, {99, 1, PV_NONE, 1, 7, 1}};
    p->nloops = 6;
    p->loops = calloc(6, sizeof *p->loops);
    for (uint32_t i = 0; i < 6; i++) {
        p->loops[i] = (pv_loop){.header = p->blocks[L[i].b0].addr, .func = 0, .parent = L[i].parent, .depth = L[i].depth,
                                .loc = {L[i].file, L[i].line}, .trip_count = -1};
        p->loops[i].nblocks = L[i].nb;
        p->loops[i].blocks = calloc(L[i].nb, sizeof(uint32_t));
        for (uint32_t k = 0; k < L[i].nb; k++)
            p->loops[i].blocks[k] = L[i].b0 + k;
    }
    return p;
}

static json_t *src_loop_at(json_t *src, json_int_t line)
{
    json_t *loops = json_object_get(src, "loops");
    for (size_t i = 0; i < json_array_size(loops); i++)
        if (json_integer_value(json_object_get(json_array_get(loops, i), "line")) == line)
            return json_array_get(loops, i);
    fail_msg("no source loop at line %lld", (long long)line);
    return NULL;
}

static void merge_into_binary_profile(void **state)
{
    (void)state;
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.file = PV_SOURCE_DIR "/samples/matmul.c";
    o.ir = 0;
    void *src = NULL;
    assert_int_equal(pv_source_analyze(&o, &src), PV_OK);
    pv_profile *p = matmul_profile();
    assert_int_equal(pv_source_merge(p, src), PV_OK);
    /* every binary loop of the matmul nest carries its source loop's trip count */
    for (int b = 0; b < 4; b++)
        assert_string_equal(p->loops[b].trip_expr, "n");
    assert_string_equal(p->loops[4].trip_expr, "n^2"); /* matched by its blocks' lines */
    assert_null(p->loops[5].trip_expr);
    json_t *s = p->source;
    assert_non_null(s);
    /* the unrolled k loop: one source loop, two binary copies */
    json_t *k = src_loop_at(s, 10);
    json_t *bl = json_object_get(k, "binary_loops");
    assert_int_equal(json_array_size(bl), 2);
    assert_int_equal(json_integer_value(json_array_get(bl, 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(bl, 1)), 1);
    assert_true(json_is_true(json_object_get(k, "matched")));
    /* the trace loop (line 36) has no binary loop in this profile */
    assert_true(json_is_false(json_object_get(src_loop_at(s, 36), "matched")));
    /* the map, binary loop by binary loop */
    json_t *map = json_object_get(s, "binary_loop_map");
    assert_int_equal(json_array_size(map), 6);
    json_t *e0 = json_array_get(map, 0);
    assert_int_equal(json_integer_value(json_object_get(e0, "source_loop")), json_integer_value(json_object_get(k, "id")));
    assert_int_equal(json_integer_value(json_object_get(e0, "copies")), 2);
    assert_string_equal(str(e0, "match"), "header line");
    assert_string_equal(str(json_array_get(map, 4), "match"), "block lines");
    assert_true(json_is_null(json_object_get(json_array_get(map, 5), "source_loop")));
    /* the loop in another file is reported unmatched */
    json_t *un = json_object_get(s, "unmatched_binary_loops");
    assert_int_equal(json_array_size(un), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(un, 0), "loop")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(un, 0), "line")), 99);
    assert_non_null(strstr(str(json_array_get(un, 0), "reason"), "in a file not analyzed"));
    /* functions and allocations by name: main exists in the binary, matmul was inlined */
    json_t *funcs = json_object_get(s, "functions");
    for (size_t i = 0; i < json_array_size(funcs); i++) {
        json_t *f = json_array_get(funcs, i);
        if (!strcmp(str(f, "name"), "main"))
            assert_int_equal(json_integer_value(json_object_get(f, "binary_function")), 0);
        else
            assert_null(json_object_get(f, "binary_function"));
    }
    json_t *a0 = json_array_get(json_object_get(s, "allocations"), 0);
    assert_string_equal(str(a0, "bytes"), "8*n^2");
    assert_int_equal(json_integer_value(json_object_get(a0, "binary_function")), 0);
    /* the merged profile is valid and round-trips */
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 0), PV_OK);
    pv_profile *q = NULL;
    if (pv_profile_parse(text, strlen(text), "merged", &q))
        fail_msg("merged profile does not parse: %s", pv_error_last());
    assert_string_equal(q->loops[0].trip_expr, "n");
    assert_true(json_equal(q->source, p->source));
    /* merging again replaces the section rather than stacking matches */
    assert_int_equal(pv_source_merge(p, src), PV_OK);
    assert_int_equal(json_array_size(json_object_get(src_loop_at(p->source, 10), "binary_loops")), 2);
    free(text);
    pv_profile_free(q);
    pv_profile_free(p);
    json_decref(src);
}

/* The real thing: the matmul sample as built (-O2), and a clang -O3 build
 * whose inner loops are vectorized into a body and a remainder; matmul()
 * is inlined into main in both. Every binary loop finds its source loop. */
static void merge_real_binaries(void **state)
{
    (void)state;
    char bin[256], cmd[768];
    snprintf(bin, sizeof bin, "%s/mm_o3", tmp);
    snprintf(cmd, sizeof cmd, "clang-19 -O3 -g -o '%s' '%s/samples/matmul.c' 2>/dev/null", bin, PV_SOURCE_DIR);
    if (system(cmd) != 0)
        skip();
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    o.file = PV_SOURCE_DIR "/samples/matmul.c";
    o.ir = 1;
    void *src = NULL;
    assert_int_equal(pv_source_analyze(&o, &src), PV_OK);
    const char *bins[2] = {PV_SAMPLES_DIR "/matmul", bin};
    for (int k = 0; k < 2; k++) {
        pv_profile *p = NULL;
        pv_analyze_options ao = PV_ANALYZE_OPTIONS_INIT;
        ao.nthreads = 1;
        if (pv_analyze_binary(bins[k], &ao, &p))
            fail_msg("%s: %s", bins[k], pv_error_last());
        assert_int_equal(pv_source_merge(p, src), PV_OK);
        assert_int_equal(json_array_size(json_object_get(p->source, "unmatched_binary_loops")), 0);
        assert_true(p->nloops >= 5);
        unsigned kcopies = 0;
        for (uint32_t b = 0; b < p->nloops; b++) {
            uint32_t line = p->loops[b].loc.line;
            json_t *m = json_array_get(json_object_get(p->source, "binary_loop_map"), b);
            json_t *sl = json_array_get(json_object_get(p->source, "loops"),
                                        (size_t)json_integer_value(json_object_get(m, "source_loop")));
            json_int_t sline = json_integer_value(json_object_get(sl, "line"));
            assert_non_null(p->loops[b].trip_expr);
            if (sline == 7 || sline == 8 || sline == 10) {
                assert_string_equal(p->loops[b].trip_expr, "n");
                assert_string_equal(str(sl, "function"), "matmul");
                assert_string_equal(str(m, "function"), "main"); /* inlined */
            }
            if (sline == 10) {
                /* the map carries the IR counts: one f64 multiply-add per source iteration */
                json_t *ir = json_object_get(m, "ir");
                json_int_t per = json_integer_value(json_object_get(ir, "source_iterations"));
                json_t *f64 = json_object_get(json_object_get(json_object_get(ir, "counts"), "fp"), "f64");
                assert_true(per >= 1);
                assert_int_equal(json_integer_value(json_object_get(f64, "fma")), per);
            }
            kcopies += sline == 10;
            if (sline == 30)
                assert_string_equal(p->loops[b].trip_expr, "n^2");
            assert_true(line == 0 || (line >= sline && line <= (uint32_t)json_integer_value(json_object_get(sl, "end_line"))) ||
                        !strcmp(str(m, "match"), "block lines"));
        }
        assert_true(kcopies >= 1);
        if (k == 1)
            assert_true(kcopies >= 2); /* vector body and remainder */
        json_t *loops = json_object_get(p->source, "loops");
        for (size_t i = 0; i < json_array_size(loops); i++)
            assert_true(json_is_true(json_object_get(json_array_get(loops, i), "matched")));
        pv_profile_free(p);
    }
    json_decref(src);
}

/* An OpenMP loop: its binary loop's map entry carries the pragma. */
static void merge_carries_pragmas(void **state)
{
    (void)state;
    pv_source_options o = PV_SOURCE_OPTIONS_INIT;
    const char *args[] = {"-fopenmp"};
    o.file = DATA "/omp.c";
    o.nargs = 1;
    o.args = args;
    o.ir = 0;
    void *src = NULL;
    assert_int_equal(pv_source_analyze(&o, &src), PV_OK);
    pv_profile *p;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->generator = strdup("prevision test");
    p->uarch = strdup("zen4");
    p->target.path = strdup("omp");
    p->target.arch = strdup("x86_64");
    p->target.kind = strdup("pie");
    assert_int_equal(pv_profile_intern_file(p, "tests/analyzer/data/omp.c"), 0);
    p->nfunctions = 1;
    p->functions = calloc(1, sizeof *p->functions);
    p->functions[0] = (pv_function){.name = strdup("saxpy.omp_outlined"), .addr = 0x1000, .size = 0x40, .loc = {0, 4},
                                    .flags = PV_FUNC_SYMTAB, .first_block = 0, .nblocks = 1};
    p->nblocks = 1;
    p->blocks = calloc(1, sizeof *p->blocks);
    p->blocks[0] = (pv_block){.addr = 0x1000, .size = 0x40, .ninsns = 10, .func = 0, .loc = {0, 6}};
    p->nloops = 1;
    p->loops = calloc(1, sizeof *p->loops);
    p->loops[0] = (pv_loop){.header = 0x1000, .func = 0, .parent = PV_NONE, .depth = 1, .loc = {0, 6}, .trip_count = -1};
    p->loops[0].nblocks = 1;
    p->loops[0].blocks = calloc(1, sizeof(uint32_t));
    assert_int_equal(pv_source_merge(p, src), PV_OK);
    json_t *m = json_array_get(json_object_get(p->source, "binary_loop_map"), 0);
    assert_string_equal(str(m, "openmp"), "parallel for simd schedule(static) num_threads(4)");
    /* a loop at a pragma's line outside the source loop (a reduction's combining loop): said so */
    p->loops[0].loc.line = 12;
    p->blocks[0].loc.line = 12;
    assert_int_equal(pv_source_merge(p, src), PV_OK);
    json_t *u = json_array_get(json_object_get(p->source, "unmatched_binary_loops"), 0);
    assert_non_null(strstr(str(u, "reason"), "OpenMP directive"));
    assert_string_equal(p->loops[0].trip_expr, "n");
    pv_profile_free(p);
    json_decref(src);
}

static void merge_rejects_non_source(void **state)
{
    (void)state;
    pv_profile *p = matmul_profile();
    json_t *j = json_pack("{s:i}", "loops", 3);
    assert_int_equal(pv_source_merge(p, j), PV_ERR_INVALID);
    assert_int_equal(pv_source_merge(p, NULL), PV_ERR_INVALID);
    assert_int_equal(pv_source_merge(NULL, j), PV_ERR_INVALID);
    assert_null(p->source);
    json_decref(j);
    pv_profile_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(database_entries),          cmocka_unit_test(threads_do_not_change_the_result),
        cmocka_unit_test(missing_and_bad_databases), cmocka_unit_test(progress_is_reported),
        cmocka_unit_test(merge_into_binary_profile), cmocka_unit_test(merge_real_binaries),
        cmocka_unit_test(merge_carries_pragmas), cmocka_unit_test(merge_rejects_non_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
