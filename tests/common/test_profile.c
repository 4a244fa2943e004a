/* Tests for common/profile.c: the demand-profile model, writer and validating reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "prevision/prevision.h"

/* A small but complete profile: 2 functions, 3 blocks, a loop, a library, dynamic and source sections. */
static pv_profile *make_profile(void)
{
    pv_profile *p;
    assert_int_equal(pv_profile_new(&p), PV_OK);
    p->generator = strdup("prevision test");
    p->uarch = strdup("zen4");
    p->target.path = strdup("/tmp/a.out");
    p->target.build_id = strdup("0123abcd");
    p->target.arch = strdup("x86_64");
    p->target.kind = strdup("pie");
    memset(p->target.sha256, 'a', 64);
    p->target.entry = 0x1040;
    uint32_t f0 = pv_profile_intern_file(p, "matmul.c");
    assert_int_equal(f0, 0);
    assert_int_equal(pv_profile_intern_file(p, "matmul.c"), 0);
    assert_int_equal(pv_profile_intern_file(p, "other.c \"quoted\"\n"), 1);

    p->nfunctions = 2;
    p->functions = calloc(2, sizeof *p->functions);
    p->functions[0] = (pv_function){.name = strdup("main"), .addr = 0x1000, .size = 0x40, .loc = {0, 10},
                                    .flags = PV_FUNC_SYMTAB, .first_block = 0, .nblocks = 2, .ninsns = 9};
    p->functions[0].ncallees = 1;
    p->functions[0].callees = malloc(sizeof(uint32_t));
    p->functions[0].callees[0] = 1;
    p->functions[0].mix.n[PV_MIX_INT_ALU] = 5;
    p->functions[0].mix.n[PV_MIX_FP_FMA] = 4000000000u;
    p->functions[1] = (pv_function){.name = strdup("malloc@plt"), .addr = 0x2000, .size = 16,
                                    .loc = {PV_NONE, 0}, .flags = PV_FUNC_PLT, .first_block = 2, .nblocks = 1,
                                    .ninsns = 1, .import_lib = strdup("libc.so.6")};

    p->nblocks = 3;
    p->blocks = calloc(3, sizeof *p->blocks);
    p->blocks[0] = (pv_block){.addr = 0x1000, .size = 0x20, .ninsns = 5, .func = 0, .cycles = 2.5f, .loc = {0, 11}};
    p->blocks[0].nsucc = 2;
    p->blocks[0].succ = malloc(2 * sizeof(pv_edge));
    p->blocks[0].succ[0] = (pv_edge){0x1000, PV_EDGE_TAKEN};
    p->blocks[0].succ[1] = (pv_edge){0x1020, PV_EDGE_NOT_TAKEN};
    p->blocks[0].mix.n[PV_MIX_LOAD] = 2;
    p->blocks[0].mix.n[PV_MIX_INT_ALU] = 3;
    p->blocks[0].mix.bytes_loaded = 16;
    p->blocks[0].moves = 2;
    p->blocks[1] = (pv_block){.addr = 0x1020, .size = 0x20, .ninsns = 4, .func = 0, .flags = PV_BLOCK_RET | PV_BLOCK_CALL,
                              .cycles = 1.0f / 3.0f, .loc = {1, 12}};
    p->blocks[2] = (pv_block){.addr = 0x2000, .size = 16, .ninsns = 1, .func = 1, .flags = PV_BLOCK_UNRESOLVED,
                              .loc = {PV_NONE, 0}};

    p->nloops = 1;
    p->loops = calloc(1, sizeof *p->loops);
    p->loops[0] = (pv_loop){.header = 0x1000, .func = 0, .parent = PV_NONE, .depth = 1, .loc = {0, 11},
                            .trip_count = -1, .trip_expr = strdup("n"), .cycles_per_iter = 2.5f};
    p->loops[0].nblocks = 1;
    p->loops[0].blocks = malloc(sizeof(uint32_t));
    p->loops[0].blocks[0] = 0;

    p->nlibraries = 1;
    p->libraries = calloc(1, sizeof *p->libraries);
    p->libraries[0].soname = strdup("libc.so.6");
    p->libraries[0].group = PV_LIBGROUP_LIBC;
    p->libraries[0].nimports = 1;
    p->libraries[0].imports = malloc(sizeof(char *));
    p->libraries[0].imports[0] = strdup("malloc");
    p->ninsns = 10;
    p->mix.n[PV_MIX_INT_ALU] = 5;

    pv_dynamic *d = calloc(1, sizeof *d);
    d->nargs = 2;
    d->argv = malloc(2 * sizeof(char *));
    d->argv[0] = strdup("./matmul");
    d->argv[1] = strdup("200");
    d->nparams = 1;
    d->params = malloc(sizeof(pv_param));
    d->params[0] = (pv_param){strdup("n"), strdup("200")};
    d->insns = 123456789012ull;
    d->target_insns = 100;
    d->mix.n[PV_MIX_FP_FMA] = 8000000000ull;
    d->nobjects = 1;
    d->objects = calloc(1, sizeof(pv_object));
    d->objects[0] = (pv_object){strdup("/tmp/a.out"), 0x555555554000ull, 1};
    d->ncounts = 1;
    d->counts = calloc(1, sizeof(pv_block_count));
    d->counts[0] = (pv_block_count){0, 0x1000, 5, 40000};
    d->mem_peak = 1 << 20;
    d->ncaches = 1;
    d->caches = calloc(1, sizeof(pv_cache_stats));
    d->caches[0] = (pv_cache_stats){.name = strdup("L1d"), .size = 49152, .line = 64, .assoc = 12, .accesses = 1000,
                                    .misses = 10, .sampled_fraction = 0.25, .misses_ci95 = 2.5};
    d->nrefused = 1;
    d->refused = calloc(1, sizeof(pv_refused));
    d->refused[0] = (pv_refused){strdup("socket"), 41, 2};
    d->nthreads = 1;
    d->threads = calloc(1, sizeof(pv_thread_stats));
    d->threads[0] = (pv_thread_stats){1, 99};
    d->exit_code = 3;
    d->end_reason = strdup("exit");
    d->emu_seconds = 0.125;
    d->deterministic = 1;
    d->has_branches = 1;
    d->branches = (pv_branch_stats){"gshare-16k", 1000, 37, 50, 4, 0.5};
    p->dynamic = d;
    p->source = json_pack("{s:[{s:s,s:i}]}", "loops", "trip", "n", "line", 11);
    p->scaling = json_pack("[{s:s,s:s,s:s}]", "metric", "insns", "param", "n", "model", "2*n^3");
    return p;
}

static void assert_profiles_equal(const pv_profile *a, const pv_profile *b)
{
    assert_string_equal(a->target.path, b->target.path);
    assert_string_equal(a->target.build_id, b->target.build_id);
    assert_string_equal(a->target.sha256, b->target.sha256);
    assert_string_equal(a->uarch, b->uarch);
    assert_int_equal(a->nfiles, b->nfiles);
    for (uint32_t i = 0; i < a->nfiles; i++)
        assert_string_equal(a->files[i], b->files[i]);
    assert_int_equal(a->nfunctions, b->nfunctions);
    for (uint32_t i = 0; i < a->nfunctions; i++) {
        assert_string_equal(a->functions[i].name, b->functions[i].name);
        assert_int_equal(a->functions[i].addr, b->functions[i].addr);
        assert_int_equal(a->functions[i].flags, b->functions[i].flags);
        assert_int_equal(a->functions[i].loc.file, b->functions[i].loc.file);
        assert_int_equal(a->functions[i].ncallees, b->functions[i].ncallees);
        assert_memory_equal(&a->functions[i].mix, &b->functions[i].mix, sizeof(pv_mix));
    }
    assert_int_equal(a->nblocks, b->nblocks);
    for (uint32_t i = 0; i < a->nblocks; i++) {
        const pv_block *x = &a->blocks[i], *y = &b->blocks[i];
        assert_int_equal(x->addr, y->addr);
        assert_int_equal(x->flags, y->flags);
        assert_true(x->cycles == y->cycles); /* exact: floats are written to round-trip */
        assert_int_equal(x->nsucc, y->nsucc);
        for (uint32_t s = 0; s < x->nsucc; s++) {
            assert_int_equal(x->succ[s].target, y->succ[s].target);
            assert_int_equal(x->succ[s].kind, y->succ[s].kind);
        }
        assert_int_equal(x->loc.file, y->loc.file);
        assert_int_equal(x->loc.line, y->loc.line);
        assert_memory_equal(&x->mix, &y->mix, sizeof(pv_mix));
        assert_int_equal(x->moves, y->moves);
    }
    assert_int_equal(a->nloops, b->nloops);
    assert_string_equal(a->loops[0].trip_expr, b->loops[0].trip_expr);
    assert_int_equal(a->loops[0].parent, b->loops[0].parent);
    assert_int_equal(a->loops[0].trip_count, b->loops[0].trip_count);
    assert_int_equal(a->libraries[0].group, b->libraries[0].group);
    assert_string_equal(a->libraries[0].imports[0], b->libraries[0].imports[0]);
    const pv_dynamic *d = a->dynamic, *e = b->dynamic;
    assert_non_null(e);
    assert_int_equal(d->insns, e->insns);
    assert_memory_equal(&d->mix, &e->mix, sizeof(pv_mix64));
    assert_int_equal(d->objects[0].base, e->objects[0].base);
    assert_int_equal(d->counts[0].count, e->counts[0].count);
    assert_string_equal(d->caches[0].name, e->caches[0].name);
    assert_true(d->caches[0].sampled_fraction == e->caches[0].sampled_fraction);
    assert_true(d->caches[0].misses_ci95 == e->caches[0].misses_ci95);
    assert_int_equal(d->has_branches, e->has_branches);
    assert_memory_equal(&d->branches, &e->branches, sizeof(pv_branch_stats));
    assert_string_equal(d->refused[0].name, e->refused[0].name);
    assert_int_equal(d->exit_code, e->exit_code);
    assert_string_equal(d->params[0].value, e->params[0].value);
    assert_true(json_equal(a->source, b->source));
    assert_true(json_equal(a->scaling, b->scaling));
}

static void round_trip(void **state)
{
    (void)state;
    for (int compact = 0; compact <= 1; compact++) {
        pv_profile *p = make_profile(), *q = NULL;
        char *text = NULL, *text2 = NULL;
        assert_int_equal(pv_profile_to_string(p, &text, compact), PV_OK);
        int rc = pv_profile_parse(text, strlen(text), "mem", &q);
        if (rc)
            fail_msg("%s", pv_error_last());
        assert_profiles_equal(p, q);
        /* Writing what was read gives the same bytes: the format is canonical. */
        assert_int_equal(pv_profile_to_string(q, &text2, compact), PV_OK);
        assert_string_equal(text, text2);
        free(text);
        free(text2);
        pv_profile_free(p);
        pv_profile_free(q);
    }
}

static void non_utf8_names_survive(void **state)
{
    (void)state;
    pv_profile *p = make_profile(), *q = NULL;
    char *text = NULL;
    free(p->files[0]);
    p->files[0] = strdup("caf\xe9\x01.c");  /* Latin-1 byte and a control character */
    free(p->functions[0].name);
    p->functions[0].name = strdup("na\xc3\xafve_\xe2\x82\xac"); /* valid UTF-8 kept as is */
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    assert_non_null(strstr(text, "caf\\u00e9\\u0001.c"));
    assert_non_null(strstr(text, "na\xc3\xafve_\xe2\x82\xac"));
    int rc = pv_profile_parse(text, strlen(text), "utf8", &q);
    if (rc)
        fail_msg("%s", pv_error_last());
    assert_string_equal(q->files[0], "caf\xc3\xa9\x01.c");
    assert_string_equal(q->functions[0].name, p->functions[0].name);
    free(text);
    pv_profile_free(p);
    pv_profile_free(q);
}

static void lookups(void **state)
{
    (void)state;
    pv_profile *p = make_profile();
    assert_int_equal(pv_profile_find_block(p, 0x1020), 1);
    assert_int_equal(pv_profile_find_block(p, 0x1021), PV_NONE);
    /* blocks 0x1000+0x20, 0x1020+0x20, 0x2000+16: inside, at each edge, in the gap, before and after */
    assert_int_equal(pv_profile_block_containing(p, 0x1000), 0);
    assert_int_equal(pv_profile_block_containing(p, 0x101f), 0);
    assert_int_equal(pv_profile_block_containing(p, 0x1020), 1);
    assert_int_equal(pv_profile_block_containing(p, 0x103f), 1);
    assert_int_equal(pv_profile_block_containing(p, 0x1040), PV_NONE);
    assert_int_equal(pv_profile_block_containing(p, 0x0fff), PV_NONE);
    assert_int_equal(pv_profile_block_containing(p, 0x200f), 2);
    assert_int_equal(pv_profile_block_containing(p, 0x2010), PV_NONE);
    assert_int_equal(pv_profile_find_function(p, 0x103f), 0);
    assert_int_equal(pv_profile_find_function(p, 0x1040), PV_NONE);
    assert_int_equal(pv_profile_find_function(p, 0x200f), 1);
    assert_int_equal(pv_profile_find_function(p, 0x10), PV_NONE);
    assert_string_equal(pv_profile_file(p, p->blocks[1].loc), "other.c \"quoted\"\n");
    assert_null(pv_profile_file(p, p->blocks[2].loc));
    pv_profile_free(p);
}

/* A profile's file array may be sized exactly (the reader does so): interning
 * a new name into a loaded profile of 3 files must grow it, not write past it. */
static void intern_into_loaded_profile(void **state)
{
    (void)state;
    pv_profile *p = make_profile(), *q = NULL;
    char *text = NULL;
    assert_int_equal(pv_profile_intern_file(p, "third.c"), 2);
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    assert_int_equal(pv_profile_parse(text, strlen(text), "three.json", &q), PV_OK);
    assert_int_equal(q->nfiles, 3);
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "new%d.c", i);
        assert_int_equal(pv_profile_intern_file(q, name), 3 + i);
    }
    assert_string_equal(q->files[2], "third.c");
    assert_string_equal(q->files[3], "new0.c");
    assert_string_equal(q->files[42], "new39.c");
    assert_int_equal(pv_profile_intern_file(q, "new7.c"), 10);
    free(text);
    pv_profile_free(p);
    pv_profile_free(q);
}

/* Replace the first occurrence of @from in the serialized profile and expect a rejection mentioning @needle. */
static void expect_rejected(const char *from, const char *to, int code, const char *needle)
{
    pv_profile *p = make_profile(), *q = NULL;
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    char *at = strstr(text, from);
    if (!at)
        fail_msg("pattern %s not in the profile", from);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *bad = malloc(n);
    snprintf(bad, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    int rc = pv_profile_parse(bad, strlen(bad), "bad.json", &q);
    if (rc != code)
        fail_msg("replacing %s by %s: expected %d, got %d (%s)", from, to, code, rc, pv_error_last());
    assert_null(q);
    if (!strstr(pv_error_last(), needle))
        fail_msg("message '%s' lacks '%s'", pv_error_last(), needle);
    assert_non_null(strstr(pv_error_last(), "bad.json"));
    free(bad);
    free(text);
    pv_profile_free(p);
}

static void rejects_bad_fields(void **state)
{
    (void)state;
    expect_rejected("\"addr\":4096,\"size\":32", "\"addr\":\"4096\",\"size\":32", PV_ERR_FORMAT,
                    "$.blocks[0].addr: expected integer, got string");
    expect_rejected("\"insns\":5,\"func\":0", "\"insns\":-5,\"func\":0", PV_ERR_FORMAT,
                    "$.blocks[0].insns: expected a value >= 0");
    expect_rejected("\"func\":1,\"flags\"", "\"func\":7,\"flags\"", PV_ERR_FORMAT,
                    "$.blocks[2].func: expected an index into $.functions");
    expect_rejected("\"kind\":\"pie\"", "\"kind\":\"elf\"", PV_ERR_FORMAT,
                    "$.target.kind: expected one of \"exec\", \"pie\", \"shared\", \"static\"; got string \"elf\"");
    expect_rejected("\"taken\"", "\"sideways\"", PV_ERR_FORMAT, "$.blocks[0].succ[0][1]");
    expect_rejected("\"libraries\":[", "\"libs\":[", PV_ERR_FORMAT, "$.libraries: required field is missing");
    expect_rejected("\"fp_fma\":8000000000", "\"fp_fmaa\":8000000000", PV_ERR_FORMAT, "$.dynamic.mix.fp_fmaa");
    expect_rejected("[0,4096,5,40000]", "[3,4096,5,40000]", PV_ERR_FORMAT, "$.dynamic.block_counts[0][0]");
    expect_rejected("\"cond_miss\":37", "\"cond_miss\":\"37\"", PV_ERR_FORMAT,
                    "$.dynamic.branches.cond_miss: expected integer, got string");
    expect_rejected("\"model\":\"gshare-16k\"", "\"modle\":\"gshare-16k\"", PV_ERR_FORMAT,
                    "$.dynamic.branches");
    expect_rejected("\"blocks\":[0]", "\"blocks\":[9]", PV_ERR_FORMAT, "$.loops[0].blocks[0]");
    expect_rejected("\"callees\":[1]", "\"callees\":[2]", PV_ERR_FORMAT, "$.functions[0].callees[0]");
    expect_rejected("\"schema_version\":1", "\"schema_version\":2", PV_ERR_VERSION, "version 2");
    expect_rejected("\"format\":\"prevision-profile\"", "\"format\":\"something\"", PV_ERR_FORMAT, "$.format");
    expect_rejected("{\"addr\":4128", "{\"addr\":4000", PV_ERR_FORMAT, "sorted by address");
    expect_rejected("\"fp_fma\":4000000000", "\"fp_fma\":5000000000", PV_ERR_FORMAT, "below 2^32");
    expect_rejected("\"summary\":", "\"x\":1,\"summary\":", PV_ERR_FORMAT, "$.x: unknown field");
    /* 32-bit fields: a larger value is an error, not cut to its low bits (first_block 2^32 read as 0) */
    expect_rejected("\"first_block\":0,", "\"first_block\":4294967296,", PV_ERR_FORMAT,
                    "$.functions[0].first_block: expected a value below 2^32, got 4294967296");
    expect_rejected("\"insns\":5,\"func\":0", "\"insns\":4294967301,\"func\":0", PV_ERR_FORMAT,
                    "$.blocks[0].insns: expected a value below 2^32");
    expect_rejected("\"depth\":1", "\"depth\":4294967297", PV_ERR_FORMAT, "$.loops[0].depth: expected a value below 2^32");
    expect_rejected("\"line\":10", "\"line\":4294967306", PV_ERR_FORMAT, "$.functions[0].line: expected a value below 2^32");
    expect_rejected("[0,4096,5,40000]", "[0,4096,4294967301,40000]", PV_ERR_FORMAT,
                    "$.dynamic.block_counts[0][2]: expected a value below 2^32");
    expect_rejected("\"tid\":1", "\"tid\":4294967297", PV_ERR_FORMAT, "$.dynamic.threads[0].tid");
    expect_rejected("\"exit_code\":3", "\"exit_code\":4294967299", PV_ERR_FORMAT,
                    "$.dynamic.exit_code: expected a 32-bit integer, got 4294967299");
    expect_rejected("\"nr\":41", "\"nr\":-4294967255", PV_ERR_FORMAT, "$.dynamic.refused_syscalls[0].nr");
    /* pv_branch_stats.model holds 31 bytes: longer names were cut silently */
    expect_rejected("\"model\":\"gshare-16k\"", "\"model\":\"gshare-16k-with-a-much-longer-name\"", PV_ERR_FORMAT,
                    "$.dynamic.branches.model: expected a string of at most 31 characters");
    expect_rejected("\"model\":\"gshare-16k\"",
                    "\"model\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"",
                    PV_ERR_FORMAT, "$.dynamic.branches.model: 32 bytes, at most 31");
    expect_rejected("\"cond\":1000,\"cond_miss\":37,\"indirect\":50,\"indirect_miss\":4,\"sampled_fraction\":0.5",
                    "\"cond\":1000,\"cond_miss\":37,\"indirect\":50,\"indirect_miss\":4,\"sampled_fraction\":0",
                    PV_ERR_FORMAT, "$.dynamic.branches.sampled_fraction: expected a value > 0");
}

/* Optional per-block cache figures: rows of 6 + 2 per cache level, all or none. */
/* blocks[].moves: written when not 0; a profile from before the field (no
 * "moves") loads with 0; a count above the block's instructions is refused. */
static void block_moves(void **state)
{
    (void)state;
    pv_profile *p = make_profile(), *q = NULL;
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    assert_non_null(strstr(text, "\"cycles\":2.5,\"moves\":2,"));
    assert_null(strstr(text + (strstr(text, "\"moves\":2,") - text) + 1, "\"moves\"")); /* only where not 0 */
    /* Remove it: an old profile. */
    char *at = strstr(text, ",\"moves\":2");
    memmove(at, at + strlen(",\"moves\":2"), strlen(at + strlen(",\"moves\":2")) + 1);
    int rc = pv_profile_parse(text, strlen(text), "old.json", &q);
    if (rc)
        fail_msg("%s", pv_error_last());
    assert_int_equal(q->blocks[0].moves, 0);
    assert_int_equal(q->blocks[0].ninsns, 5);
    pv_profile_free(q);
    free(text);
    pv_profile_free(p);
    expect_rejected("\"moves\":2", "\"moves\":6", PV_ERR_FORMAT,
                    "$.blocks[0].moves: 6 register moves in a block of 5 instructions");
    expect_rejected("\"moves\":2", "\"moves\":-1", PV_ERR_FORMAT, "$.blocks[0].moves");
    expect_rejected("\"moves\":2", "\"moves\":1.5", PV_ERR_FORMAT, "$.blocks[0].moves");
}

static void block_cache_round_trip(void **state)
{
    (void)state;
    pv_profile *p = make_profile(), *q = NULL;
    pv_dynamic *d = p->dynamic;
    char *text = NULL;
    d->caches = realloc(d->caches, 2 * sizeof(pv_cache_stats));
    d->caches[1] = (pv_cache_stats){.name = strdup("L2"), .size = 1 << 20, .line = 64, .assoc = 16, .accesses = 10,
                                    .misses = 4, .sampled_fraction = 1};
    d->ncaches = 2;
    d->counts = realloc(d->counts, 2 * sizeof(pv_block_count));
    d->counts[1] = (pv_block_count){.object = 0, .addr = 0x1010, .ninsns = 3, .count = 7};
    d->ncounts = 2;
    d->block_cache = calloc(2, sizeof(pv_block_cache));
    d->block_cache[0] = (pv_block_cache){.dr = 100, .dw = 50, .mr = {9, 3}, .mw = {1, 1}};
    d->block_cache[1] = (pv_block_cache){.dr = 5, .mr = {5, 0}};
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    assert_non_null(strstr(text, "[0,4096,5,40000,100,50,9,1,3,1]"));
    assert_non_null(strstr(text, "\"misses_ci95\":2.5"));
    assert_int_equal(pv_profile_parse(text, strlen(text), "bc.json", &q), PV_OK);
    assert_non_null(q->dynamic->block_cache);
    assert_memory_equal(q->dynamic->block_cache, d->block_cache, 2 * sizeof(pv_block_cache));
    assert_true(q->dynamic->caches[1].misses_ci95 == 0);
    pv_profile_free(q);
    q = NULL;
    /* A row without the figures among rows with them, or a wrong length, is rejected. */
    char *bad = strdup(text);
    char *row = strstr(bad, "[0,4112,3,7,5,0,5,0,0,0]");
    assert_non_null(row);
    memcpy(row, "[0,4112,3,7,5,0,5,0,0]  ", 24);
    assert_int_equal(pv_profile_parse(bad, strlen(bad), "bc.json", &q), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.dynamic.block_counts[1]"));
    memcpy(row, "[0,4112,3,7]            ", 24);
    assert_int_equal(pv_profile_parse(bad, strlen(bad), "bc.json", &q), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.dynamic.block_counts[1]"));
    assert_null(q);
    /* Without block_cache the rows stay at 4 items. */
    free(d->block_cache);
    d->block_cache = NULL;
    free(text);
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    assert_non_null(strstr(text, "[0,4096,5,40000]"));
    /* An old sampled profile without misses_ci95 reads as unknown. */
    free(bad);
    free(text);
    pv_profile_free(p);
}

static void rejects_bad_json(void **state)
{
    (void)state;
    pv_profile *p = make_profile(), *q = NULL;
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 0), PV_OK);
    /* Every truncation is rejected, never accepted and never a crash. */
    size_t len = strlen(text);
    for (size_t cut = 0; cut < len - 2; cut += 1 + cut / 16) {
        assert_int_not_equal(pv_profile_parse(text, cut, "trunc.json", &q), PV_OK);
        assert_null(q);
        assert_non_null(strstr(pv_error_last(), "trunc.json"));
    }
    assert_int_equal(pv_profile_parse("", 0, "empty.json", &q), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "empty file"));
    assert_int_equal(pv_profile_parse("[1,2]", 5, "arr.json", &q), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$: expected object, got array"));
    assert_int_equal(pv_profile_parse("{\"a\":1,\"a\":2}", 13, "dup.json", &q), PV_ERR_FORMAT);
    free(text);
    pv_profile_free(p);
}

static void inconsistent_model_is_not_written(void **state)
{
    (void)state;
    pv_profile *p = make_profile();
    char *text = NULL;
    p->blocks[0].func = 9;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_ERR_INVALID);
    assert_null(text);
    assert_non_null(strstr(pv_error_last(), "blocks[0].func"));
    p->blocks[0].func = 0;
    /* What the reader would reject is not written either. */
    p->functions[1].nblocks = 2; /* blocks 2..3 of 3 */
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "functions[1]: first_block 2 + nblocks 2"));
    p->functions[1].nblocks = 1;
    p->blocks[1].addr = 0x1000; /* same address as blocks[0] */
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "blocks[1].addr 0x1000: blocks must be sorted by address"));
    p->blocks[1].addr = 0x1020;
    p->dynamic->counts[0].object = 1;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_ERR_INVALID);
    assert_non_null(strstr(pv_error_last(), "dynamic.block_counts[0].object = 1"));
    p->dynamic->counts[0].object = 0;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    free(text);
    pv_profile_free(p);
}

static void save_and_load_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_test_profile_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/p.json", dir);
    pv_profile *p = make_profile(), *q = NULL;
    assert_int_equal(pv_profile_save(p, path, 0), PV_OK);
    /* PV_KEEP_PROFILE=FILE keeps a copy: that is how tests/data/profile-small.json was made. */
    if (getenv("PV_KEEP_PROFILE"))
        assert_int_equal(pv_profile_save(p, getenv("PV_KEEP_PROFILE"), 0), PV_OK);
    assert_int_equal(pv_profile_load(path, &q), PV_OK);
    assert_profiles_equal(p, q);
    pv_profile_free(q);

    /* A failed save (inconsistent model) leaves the previous file untouched. */
    char *before = NULL, *after = NULL;
    assert_int_equal(pv_file_read(path, &before, NULL), PV_OK);
    p->loops[0].parent = 5;
    assert_int_equal(pv_profile_save(p, path, 0), PV_ERR_INVALID);
    assert_int_equal(pv_file_read(path, &after, NULL), PV_OK);
    assert_string_equal(before, after);
    free(before);
    free(after);

    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.json", dir);
    assert_int_equal(pv_profile_load(missing, &q), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "none.json"));
    assert_int_equal(pv_profile_load(dir, &q), PV_ERR_IO);
    assert_non_null(strstr(pv_error_last(), "is a directory"));
    unlink(path);
    rmdir(dir);
    pv_profile_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(lookups),
        cmocka_unit_test(intern_into_loaded_profile),
        cmocka_unit_test(non_utf8_names_survive),
        cmocka_unit_test(rejects_bad_fields),
        cmocka_unit_test(block_moves),
        cmocka_unit_test(rejects_bad_json),
        cmocka_unit_test(block_cache_round_trip),
        cmocka_unit_test(inconsistent_model_is_not_written),
        cmocka_unit_test(save_and_load_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
