/* Tests for analyzer/binary.c (and the whole pass behind pv_analyze_binary):
 * the samples' loop nests, source lines, call edges, PLT imports, a
 * stripped copy, and instruction counts checked against objdump. */
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

static pv_profile *analyze(const char *sample)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", PV_SAMPLES_DIR, sample);
    pv_profile *p = NULL;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.uarch = pv_uarch_find("zen4");
    int rc = pv_analyze_binary(path, &o, &p);
    if (rc)
        fail_msg("pv_analyze_binary(%s): %s", path, pv_error_last());
    return p;
}

static uint32_t func_index(const pv_profile *p, const char *name)
{
    for (uint32_t i = 0; i < p->nfunctions; i++)
        if (!strcmp(p->functions[i].name, name))
            return i;
    return PV_NONE;
}

static const char *base(const char *f)
{
    const char *b = f ? strrchr(f, '/') : NULL;
    return b ? b + 1 : f;
}

/* The loop nest of matmul.c lines 7-11: depths 1, 2, 3, each the parent of the next. */
static void matmul_loop_nest(void **state)
{
    (void)state;
    pv_profile *p = analyze("matmul");
    assert_string_equal(p->target.arch, "x86_64");
    assert_false(p->target.stripped);
    assert_int_equal(strlen(p->target.sha256), 64);
    uint32_t at[4] = {PV_NONE, PV_NONE, PV_NONE, PV_NONE};
    static const uint32_t want_line[4] = {0, 7, 8, 10};
    for (uint32_t i = 0; i < p->nloops; i++) {
        const pv_loop *l = &p->loops[i];
        const char *f = pv_profile_file(p, l->loc);
        if (!f || strcmp(base(f), "matmul.c"))
            continue;
        for (int d = 1; d <= 3; d++)
            if (l->loc.line == want_line[d]) {
                assert_int_equal(l->depth, d);
                at[d] = i;
            }
    }
    for (int d = 1; d <= 3; d++)
        if (at[d] == PV_NONE)
            fail_msg("no loop at matmul.c:%u", want_line[d]);
    assert_int_equal(p->loops[at[1]].parent, PV_NONE);
    assert_int_equal(p->loops[at[2]].parent, at[1]);
    assert_int_equal(p->loops[at[3]].parent, at[2]);
    /* The inner loop's blocks are inside the middle loop's, which are inside the outer's. */
    for (int d = 2; d <= 3; d++) {
        const pv_loop *in = &p->loops[at[d]], *out = &p->loops[at[d - 1]];
        assert_true(in->nblocks < out->nblocks);
        for (uint32_t k = 0; k < in->nblocks; k++) {
            int found = 0;
            for (uint32_t m = 0; m < out->nblocks; m++)
                found |= out->blocks[m] == in->blocks[k];
            assert_true(found);
        }
    }
    /* The inner loop multiplies and adds doubles, and costs cycles. */
    const pv_loop *inner = &p->loops[at[3]];
    pv_mix m = {0};
    for (uint32_t k = 0; k < inner->nblocks; k++)
        pv_mix_add(&m, &p->blocks[inner->blocks[k]].mix);
    assert_true(m.n[PV_MIX_FP_MUL] >= 1);
    assert_true(m.n[PV_MIX_FP_ADD] >= 1);
    assert_true(m.n[PV_MIX_LOAD] >= 2);
    assert_true(inner->cycles_per_iter >= 3.0f); /* the fp add chain: 3 cycles on zen4 */
    assert_int_equal(p->blocks[inner->blocks[0]].addr, inner->header);
    /* Every block of the nest has a line of matmul.c (7..12 or main's inlined call site). */
    for (uint32_t k = 0; k < p->loops[at[1]].nblocks; k++) {
        const pv_block *b = &p->blocks[p->loops[at[1]].blocks[k]];
        assert_non_null(pv_profile_file(p, b->loc));
        assert_true(b->loc.line > 0);
    }
    pv_profile_free(p);
}

/* qsort: quicksort calls itself (the recursive call edge); main calls quicksort. */
static void qsort_call_edges(void **state)
{
    (void)state;
    pv_profile *p = analyze("qsort");
    uint32_t q = func_index(p, "quicksort"), m = func_index(p, "main");
    assert_int_not_equal(q, PV_NONE);
    assert_int_not_equal(m, PV_NONE);
    int self = 0, from_main = 0;
    for (uint32_t k = 0; k < p->functions[q].ncallees; k++)
        self |= p->functions[q].callees[k] == q;
    for (uint32_t k = 0; k < p->functions[m].ncallees; k++)
        from_main |= p->functions[m].callees[k] == q;
    assert_true(self);
    assert_true(from_main);
    /* A block of quicksort holds the call and is flagged so. */
    int call_blocks = 0;
    for (uint32_t b = p->functions[q].first_block; b < p->functions[q].first_block + p->functions[q].nblocks; b++)
        call_blocks += !!(p->blocks[b].flags & PV_BLOCK_CALL);
    assert_true(call_blocks >= 1);
    /* Loops nest inside quicksort: the partition loops are deeper than the outer while. */
    uint32_t maxdepth = 0;
    for (uint32_t i = 0; i < p->nloops; i++)
        if (p->loops[i].func == q && p->loops[i].depth > maxdepth)
            maxdepth = p->loops[i].depth;
    assert_true(maxdepth >= 3);
    pv_profile_free(p);
}

/* PLT stubs resolve to their imports and libc.so.6; libraries are grouped. */
static void plt_and_libraries(void **state)
{
    (void)state;
    pv_profile *p = analyze("pthreads");
    uint32_t pc = func_index(p, "pthread_create@plt");
    assert_int_not_equal(pc, PV_NONE);
    assert_true(p->functions[pc].flags & PV_FUNC_PLT);
    assert_non_null(p->functions[pc].import_lib);
    assert_string_equal(p->functions[pc].import_lib, "libc.so.6");
    int threads = 0, libc = 0;
    for (uint32_t i = 0; i < p->nlibraries; i++) {
        const pv_library *l = &p->libraries[i];
        for (uint32_t k = 0; k < l->nimports; k++) {
            if (!strcmp(l->imports[k], "pthread_create")) {
                assert_int_equal(l->group, PV_LIBGROUP_PTHREADS);
                threads = 1;
            }
            if (!strcmp(l->imports[k], "printf") || !strcmp(l->imports[k], "malloc")) {
                assert_int_equal(l->group, PV_LIBGROUP_LIBC);
                libc = 1;
            }
        }
    }
    assert_true(threads);
    assert_true(libc);
    /* main's callees include the stub. */
    uint32_t m = func_index(p, "main");
    int calls_stub = 0;
    for (uint32_t k = 0; k < p->functions[m].ncallees; k++)
        calls_stub |= p->functions[m].callees[k] == pc;
    assert_true(calls_stub);
    pv_profile_free(p);
}

/* Blocks are sorted, inside their function, and the profile survives a round trip. */
static void structure_and_round_trip(void **state)
{
    (void)state;
    pv_profile *p = analyze("bintrees");
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->nblocks; i++) {
        const pv_block *b = &p->blocks[i];
        if (i)
            assert_true(b->addr >= p->blocks[i - 1].addr + p->blocks[i - 1].size);
        const pv_function *f = &p->functions[b->func];
        assert_true(i >= f->first_block && i < f->first_block + f->nblocks);
        assert_true(b->addr >= f->addr && b->addr + b->size <= f->addr + f->size);
        assert_true(b->ninsns >= 1);
        total += b->ninsns;
        /* Every edge but a tail call lands on a block of the same function. */
        for (uint32_t e = 0; e < b->nsucc; e++) {
            if (b->succ[e].kind == PV_EDGE_TAILCALL)
                continue;
            uint32_t t = pv_profile_find_block(p, b->succ[e].target);
            assert_int_not_equal(t, PV_NONE);
            assert_int_equal(p->blocks[t].func, b->func);
        }
    }
    assert_int_equal(total, p->ninsns);
    for (uint32_t i = 1; i < p->nfunctions; i++)
        assert_true(p->functions[i].addr >= p->functions[i - 1].addr + p->functions[i - 1].size);
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    pv_profile *q = NULL;
    if (pv_profile_parse(text, strlen(text), "round-trip", &q))
        fail_msg("%s", pv_error_last());
    assert_int_equal(q->nblocks, p->nblocks);
    assert_int_equal(q->nloops, p->nloops);
    assert_int_equal(q->nfunctions, p->nfunctions);
    free(text);
    pv_profile_free(q);
    pv_profile_free(p);
}

/* A stripped copy: functions come from the entry point, calls and .eh_frame. */
static void stripped_copy(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_strip_XXXXXX", cmd[2048], path[1100];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/matmul", dir);
    snprintf(cmd, sizeof cmd, "strip -o '%s' '%s/matmul' 2>/dev/null", path, PV_SAMPLES_DIR);
    if (system(cmd) != 0) {
        rmdir(dir);
        skip();
    }
    pv_profile *full = analyze("matmul"), *p = NULL;
    assert_int_equal(pv_analyze_binary(path, NULL, &p), PV_OK);
    assert_true(p->target.stripped);
    uint32_t discovered = 0;
    for (uint32_t i = 0; i < p->nfunctions; i++)
        discovered += !!(p->functions[i].flags & PV_FUNC_DISCOVERED);
    assert_true(discovered >= 3);
    /* main is found again (by its FDE or as __libc_start_main's argument's FDE), loops and all. */
    uint32_t m = func_index(full, "main");
    uint32_t sm = pv_profile_find_function(p, full->functions[m].addr);
    assert_int_not_equal(sm, PV_NONE);
    assert_int_equal(p->functions[sm].addr, full->functions[m].addr);
    assert_int_equal(p->functions[sm].ninsns, full->functions[m].ninsns);
    uint32_t maxdepth = 0;
    for (uint32_t i = 0; i < p->nloops; i++)
        if (p->loops[i].depth > maxdepth)
            maxdepth = p->loops[i].depth;
    assert_int_equal(maxdepth, 3);
    assert_int_equal(p->nloops, full->nloops);
    /* PLT stubs keep their names: they come from .dynsym and relocations. */
    assert_int_not_equal(func_index(p, "malloc@plt"), PV_NONE);
    pv_profile_free(p);
    pv_profile_free(full);
    unlink(path);
    rmdir(dir);
}

/* Per-function instruction counts equal objdump's for every symbol in .text. */
static void insn_counts_match_objdump(void **state)
{
    (void)state;
    const char *samples[] = {"matmul", "qsort", "sha256"};
    for (int s = 0; s < 3; s++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "objdump -d --no-show-raw-insn -j .text '%s/%s' 2>/dev/null", PV_SAMPLES_DIR,
                 samples[s]);
        FILE *f = popen(cmd, "r");
        if (!f)
            skip();
        pv_profile *p = analyze(samples[s]);
        char line[1024], cur[256] = "";
        unsigned count = 0, checked = 0;
        int have = 0;
        for (int done = 0; !done;) {
            char *ok = fgets(line, sizeof line, f);
            char name[256];
            unsigned long long a;
            int header = ok && sscanf(line, "%llx <%255[^>]>:", &a, name) == 2;
            if (!ok || header) {
                if (have) {
                    uint32_t fi = func_index(p, cur);
                    if (fi != PV_NONE) {
                        if (p->functions[fi].ninsns != count)
                            fail_msg("%s: %s: %u instructions, objdump says %u", samples[s], cur,
                                     p->functions[fi].ninsns, count);
                        checked++;
                    }
                }
                if (!ok)
                    done = 1;
                else {
                    snprintf(cur, sizeof cur, "%s", name);
                    count = 0;
                    have = 1;
                }
                continue;
            }
            /* An instruction line: "  1139:\tmov ..." */
            char *c = line;
            while (*c == ' ')
                c++;
            char *colon = strchr(c, ':');
            /* Only inside the symbol's extent: objdump also lists the padding up to the next symbol. */
            uint32_t fi = have ? func_index(p, cur) : PV_NONE;
            if (fi != PV_NONE && colon && colon > c && colon[1] == '\t' &&
                strspn(c, "0123456789abcdef") == (size_t)(colon - c)) {
                uint64_t at = strtoull(c, NULL, 16);
                count += at >= p->functions[fi].addr && at < p->functions[fi].addr + p->functions[fi].size;
            }
        }
        pclose(f);
        assert_true(checked >= 4);
        pv_profile_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matmul_loop_nest),      cmocka_unit_test(qsort_call_edges),
        cmocka_unit_test(plt_and_libraries),     cmocka_unit_test(structure_and_round_trip),
        cmocka_unit_test(stripped_copy),         cmocka_unit_test(insn_counts_match_objdump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
