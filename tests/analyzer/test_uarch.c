/* Tests for analyzer/uarch.c: built-in tables and the block cycle bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/analyzer.h"
#include "analyzer/internal.h"

static void find_and_host(void **state)
{
    (void)state;
    assert_true(pv_uarch_count() >= 3);
    const char *want[] = {"zen4", "zen5", "skylake"};
    for (int i = 0; i < 3; i++) {
        const pv_uarch *u = pv_uarch_find(want[i]);
        assert_non_null(u);
        assert_string_equal(u->name, want[i]);
        assert_int_equal(u->version, PV_UARCH_VERSION);
        for (int c = 0; c < PV_MIX_NCLASSES; c++) {
            assert_true(u->rthroughput[c] > 0);
            assert_true(u->group[c] < u->ngroups);
        }
    }
    assert_non_null(pv_uarch_find("ZEN4"));
    assert_null(pv_uarch_find("pentium4"));
    assert_int_equal(pv_error_last_code(), PV_ERR_NOTFOUND);
    assert_non_null(strstr(pv_error_last(), "known: zen4, zen5, skylake"));
    assert_non_null(pv_uarch_host());
    assert_null(pv_uarch_at(pv_uarch_count()));
}

static void block_bounds(void **state)
{
    (void)state;
    const pv_uarch *z4 = pv_uarch_find("zen4"), *skl = pv_uarch_find("skylake");
    pv_mix m = {0};
    m.n[PV_MIX_INT_ALU] = 8;
    /* 4 ALUs: 8 adds take 2 cycles; issue alone would allow 8/6. */
    assert_float_equal(pv_uarch_block_cycles(z4, &m, 8), 2.0, 1e-5);
    m.n[PV_MIX_LOAD] = 9;
    /* 3 load ports on Zen 4, 2 on Skylake. */
    assert_float_equal(pv_uarch_block_cycles(z4, &m, 9), 3.0, 1e-5);
    assert_float_equal(pv_uarch_block_cycles(skl, &m, 9), 4.5, 1e-5);
    pv_mix e = {0};
    assert_float_equal(pv_uarch_block_cycles(z4, &e, 0), 0.0, 1e-9);
    assert_float_equal(pv_uarch_block_cycles(NULL, &m, 3), 0.0, 1e-9);
    /* A user-filled table (what the cost model builds) works the same way. */
    pv_uarch mine = *z4;
    mine.issue_width = 1;
    assert_float_equal(pv_uarch_block_cycles(&mine, &m, 9), 9.0, 1e-5);
}

/* Moves eliminated at rename take an issue slot, no ALU port. */
static void block_bounds_moves(void **state)
{
    (void)state;
    const pv_uarch *z4 = pv_uarch_find("zen4");
    pv_mix m = {0};
    /* 8 moves + 8 adds: 16 int_alu ops on 4 ALUs are 4 cycles; without the
     * moves 8 adds are 2, and 16 instructions issue in 16/6 cycles. */
    m.n[PV_MIX_INT_ALU] = 16;
    float all = pv_uarch_block_cycles(z4, &m, 16);
    float elim = pv_uarch_block_cycles_moves(z4, &m, 16, 8);
    assert_float_equal(all, 16 * z4->rthroughput[PV_MIX_INT_ALU], 1e-5);
    assert_true(elim < all);
    float issue = 16.0f / z4->issue_width;
    float alu = 8 * z4->rthroughput[PV_MIX_INT_ALU];
    assert_float_equal(elim, alu > issue ? alu : issue, 1e-5);
    assert_float_equal(pv_uarch_block_cycles_moves(z4, &m, 16, 0), all, 1e-9);
    /* All moves: the issue width is the bound, never below it. */
    assert_float_equal(pv_uarch_block_cycles_moves(z4, &m, 16, 16), issue, 1e-5);
    assert_true(pv_uarch_block_cycles_moves(z4, &m, 16, 16) >= 16.0f / z4->issue_width);
    /* More moves than int_alu ops (a hand-made profile): no negative count. */
    assert_float_equal(pv_uarch_block_cycles_moves(z4, &m, 16, 1000), issue, 1e-5);
    /* Other bounds are untouched: 12 loads on 3 ports stay 4 cycles. */
    m.n[PV_MIX_LOAD] = 12;
    assert_float_equal(pv_uarch_block_cycles_moves(z4, &m, 16, 16), 4.0, 1e-5);
    assert_float_equal(pv_uarch_block_cycles_moves(NULL, &m, 16, 8), 0.0, 1e-9);
}

/* Loop-carried chain add eax, ebx; mov ebx, eax: the eliminated move adds no latency. */
static void move_has_no_latency(void **state)
{
    (void)state;
    const pv_uarch *z4 = pv_uarch_find("zen4");
    pv_decoder *d = NULL;
    assert_int_equal(pv_decoder_new(&d, NULL), PV_OK);
    static const uint8_t add[] = {0x01, 0xd8}, mov[] = {0x89, 0xc3}, lea[] = {0x8d, 0x18};
    pv_insn in;
    pva_dep dep[2];
    assert_true(pva_decode(d, add, sizeof add, 0x1000, &in) && pva_dep_of(d, &in, z4, &dep[0]));
    assert_true(pva_decode(d, mov, sizeof mov, 0x1002, &in) && pva_dep_of(d, &in, z4, &dep[1]));
    assert_string_equal(in.text, "mov ebx, eax");
    assert_true(in.flags & PV_INSN_MOVE_ELIM);
    assert_float_equal(pva_recurrence(z4, dep, 2), z4->latency[PV_MIX_INT_ALU], 1e-5);
    /* lea ebx, [rax] in its place is an ALU op: both latencies. */
    assert_true(pva_decode(d, lea, sizeof lea, 0x1002, &in) && pva_dep_of(d, &in, z4, &dep[1]));
    assert_float_equal(pva_recurrence(z4, dep, 2), 2 * z4->latency[PV_MIX_INT_ALU], 1e-5);
    pv_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_and_host),
        cmocka_unit_test(block_bounds),
        cmocka_unit_test(block_bounds_moves),
        cmocka_unit_test(move_has_no_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
