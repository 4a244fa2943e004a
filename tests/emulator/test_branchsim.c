/* Tests for emulator/branchsim.c on synthetic branch streams: what a
 * history-based predictor must learn (bias, alternation, loop exits,
 * indirect-target patterns, returns) and what it cannot (random outcomes),
 * plus the block-to-branch derivation the block hook relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "emulator/branchsim.h"
#include "prevision/analyzer.h"
#include "prevision/error.h"

static pve_branch *make(void)
{
    pve_branch *b = NULL;
    assert_int_equal(pve_branch_new(&b), PV_OK);
    assert_non_null(b);
    return b;
}

static pve_branch_stats stats(const pve_branch *b)
{
    pve_branch_stats s;
    pve_branch_get_stats(b, &s);
    return s;
}

static uint64_t xs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

static void always_taken(void **state)
{
    (void)state;
    pve_branch *b = make();
    unsigned miss = 0;
    for (int i = 0; i < 10000; i++)
        miss += (unsigned)pve_branch_cond(b, 0x401000, 1);
    /* The base counter starts weakly not-taken: one miss, then none. */
    assert_true(miss >= 1 && miss <= 2);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.cond, 10000);
    assert_int_equal(s.cond_miss, miss);
    pve_branch_free(b);
}

/* A branch that went one way for a long streak is answered by the filter;
 * the streak's end is one misprediction, and the branch is then learnt again. */
static void long_streak(void **state)
{
    (void)state;
    pve_branch *b = make();
    unsigned miss = 0;
    for (int i = 0; i < 5000; i++)
        miss += (unsigned)pve_branch_cond(b, 0x401100, 1);
    assert_true(miss <= 2);
    assert_int_equal(pve_branch_cond(b, 0x401100, 0), 1);
    miss = 0;
    for (int i = 0; i < 5000; i++)
        miss += (unsigned)pve_branch_cond(b, 0x401100, 0);
    assert_true(miss <= 3);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.cond, 10001);
    pve_branch_free(b);
}

static void alternating_learnt(void **state)
{
    (void)state;
    pve_branch *b = make();
    for (int i = 0; i < 2000; i++)
        pve_branch_cond(b, 0x401234, i & 1);
    pve_branch_reset_stats(b);
    for (int i = 0; i < 10000; i++)
        pve_branch_cond(b, 0x401234, i & 1);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.cond, 10000);
    /* A bimodal predictor misses half of these; history makes it none. */
    assert_true(s.cond_miss <= 10);
    pve_branch_free(b);
}

/* A counted inner loop of n iterations inside an outer loop: the exit of
 * the inner loop is predictable from history when n fits in it. */
static unsigned loop_exits(pve_branch *b, int n, int outer)
{
    unsigned miss = 0;
    for (int o = 0; o < outer; o++) {
        for (int i = 0; i < n; i++)
            miss += (unsigned)pve_branch_cond(b, 0x402000, i + 1 < n);
        miss += (unsigned)pve_branch_cond(b, 0x402040, 1);
    }
    return miss;
}

static void loop_exit_learnt(void **state)
{
    (void)state;
    pve_branch *b = make();
    loop_exits(b, 7, 500);
    unsigned miss = loop_exits(b, 7, 1000);
    assert_true(miss <= 10); /* of 8000 branches */
    pve_branch_free(b);
    b = make();
    loop_exits(b, 30, 500);
    miss = loop_exits(b, 30, 1000);
    assert_true(miss <= 20); /* of 31000: the 48-outcome table sees the whole loop */
    pve_branch_free(b);
}

static void random_half_missed(void **state)
{
    (void)state;
    pve_branch *b = make();
    for (int i = 0; i < 100000; i++)
        pve_branch_cond(b, 0x403000, (int)(rnd() >> 63));
    pve_branch_stats s = stats(b);
    double rate = (double)s.cond_miss / (double)s.cond;
    assert_true(rate > 0.45 && rate < 0.55);
    pve_branch_free(b);
}

/* Biased random: 90% taken; a good predictor misses about 10%. */
static void biased_random(void **state)
{
    (void)state;
    pve_branch *b = make();
    for (int i = 0; i < 100000; i++)
        pve_branch_cond(b, 0x403100, rnd() % 10 != 0);
    pve_branch_stats s = stats(b);
    double rate = (double)s.cond_miss / (double)s.cond;
    assert_true(rate > 0.07 && rate < 0.16);
    pve_branch_free(b);
}

/* Many static branches with their own fixed outcomes do not disturb each other. */
static void many_sites(void **state)
{
    (void)state;
    pve_branch *b = make();
    for (int r = 0; r < 20; r++)
        for (uint64_t pc = 0; pc < 2000; pc++)
            pve_branch_cond(b, 0x500000 + pc * 7, (pc * 2654435761u >> 7) & 1);
    pve_branch_reset_stats(b);
    for (uint64_t pc = 0; pc < 2000; pc++)
        pve_branch_cond(b, 0x500000 + pc * 7, (pc * 2654435761u >> 7) & 1);
    pve_branch_stats s = stats(b);
    assert_true(s.cond_miss <= 40); /* 2% of 2000 */
    pve_branch_free(b);
}

static void indirect_targets(void **state)
{
    (void)state;
    pve_branch *b = make();
    /* One target: the last-target buffer has it after the first. */
    unsigned miss = 0;
    for (int i = 0; i < 1000; i++)
        miss += (unsigned)pve_branch_indirect(b, 0x600000, 0x610000, 0);
    assert_int_equal(miss, 1);
    /* A fixed cycle of three targets: learnt from the path history. */
    static const uint64_t tg[3] = {0x620000, 0x620100, 0x620200};
    for (int i = 0; i < 3000; i++)
        pve_branch_indirect(b, 0x600100, tg[i % 3], 1);
    pve_branch_reset_stats(b);
    for (int i = 0; i < 3000; i++)
        pve_branch_indirect(b, 0x600100, tg[i % 3], 1);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.indirect, 3000);
    assert_true(s.indirect_miss <= 30);
    /* Random among four targets: mostly missed. */
    pve_branch_reset_stats(b);
    for (int i = 0; i < 20000; i++)
        pve_branch_indirect(b, 0x600200, 0x630000 + (rnd() & 3) * 64, 0);
    s = stats(b);
    assert_true(s.indirect_miss > 20000 * 6 / 10);
    pve_branch_free(b);
}

static void returns(void **state)
{
    (void)state;
    pve_branch *b = make();
    /* Nesting within the stack: every return predicted. */
    for (int d = 0; d < 20; d++)
        pve_branch_call(b, 0x700000 + (uint64_t)d * 16);
    for (int d = 19; d >= 0; d--)
        assert_int_equal(pve_branch_ret(b, 0x700000 + (uint64_t)d * 16), 0);
    /* 40 deep: the 8 oldest return addresses were overwritten. */
    for (int d = 0; d < 40; d++)
        pve_branch_call(b, 0x710000 + (uint64_t)d * 16);
    unsigned miss = 0;
    for (int d = 39; d >= 0; d--)
        miss += (unsigned)pve_branch_ret(b, 0x710000 + (uint64_t)d * 16);
    assert_int_equal(miss, 8);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.ret, 60);
    assert_int_equal(s.ret_miss, 8);
    pve_branch_free(b);
}

/* The block hook's view: the site of a block's last instruction, decoded
 * by the real decoder, and the next block's address. */
static void sites_from_blocks(void **state)
{
    (void)state;
    pv_decoder *d = NULL;
    assert_int_equal(pv_decoder_new(&d, NULL), PV_OK);
    pv_insn in;
    pve_branch_site jz, call, ret, ijmp, add;
    static const uint8_t jz_bytes[] = {0x74, 0x05};                  /* jz +5 at 0x1000 -> 0x1007 */
    static const uint8_t call_bytes[] = {0xe8, 0x00, 0x01, 0x00, 0x00}; /* call 0x2105 at 0x2000 */
    static const uint8_t ret_bytes[] = {0xc3};
    static const uint8_t ijmp_bytes[] = {0xff, 0xe0};                /* jmp rax */
    static const uint8_t add_bytes[] = {0x48, 0x01, 0xc8};           /* add rax, rcx */
    assert_int_equal(pv_decode_insn(d, jz_bytes, sizeof jz_bytes, 0x1000, &in), PV_OK);
    pve_branch_site_of(&in, 0x1002, &jz);
    assert_int_equal(jz.kind, PVE_BR_COND);
    assert_int_equal(jz.pc, 0x1000);
    assert_int_equal(jz.target, 0x1007);
    assert_int_equal(pv_decode_insn(d, call_bytes, sizeof call_bytes, 0x2000, &in), PV_OK);
    pve_branch_site_of(&in, 0x2005, &call);
    assert_int_equal(call.kind, PVE_BR_CALL);
    assert_int_equal(call.ret, 0x2005);
    assert_int_equal(pv_decode_insn(d, ret_bytes, 1, 0x3000, &in), PV_OK);
    pve_branch_site_of(&in, 0x3001, &ret);
    assert_int_equal(ret.kind, PVE_BR_RET);
    assert_int_equal(pv_decode_insn(d, ijmp_bytes, 2, 0x4000, &in), PV_OK);
    pve_branch_site_of(&in, 0x4002, &ijmp);
    assert_int_equal(ijmp.kind, PVE_BR_IJUMP);
    assert_int_equal(pv_decode_insn(d, add_bytes, 3, 0x5000, &in), PV_OK);
    pve_branch_site_of(&in, 0x5003, &add);
    assert_int_equal(add.kind, PVE_BR_NONE);
    pv_decoder_free(d);

    pve_branch *b = make();
    /* jz always taken (next block at its target), then not taken twice. */
    for (int i = 0; i < 100; i++)
        pve_branch_next(b, &jz, 0x1007);
    assert_int_equal(pve_branch_next(b, &jz, 0x1002), 1);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.cond, 101);
    assert_true(s.cond_miss >= 2 && s.cond_miss <= 3);
    /* call then ret: the return goes to the block after the call. */
    assert_int_equal(pve_branch_next(b, &call, 0x2105), 0);
    assert_int_equal(pve_branch_next(b, &ret, 0x2005), 0);
    assert_int_equal(pve_branch_next(b, &ret, 0x9999), 1);
    /* Blocks without a branch change nothing. */
    assert_int_equal(pve_branch_next(b, &add, 0x5003), 0);
    pve_branch_next(b, &ijmp, 0x4800);
    s = stats(b);
    assert_int_equal(s.cond, 101);
    assert_int_equal(s.indirect, 1);
    assert_int_equal(s.ret, 2);
    assert_int_equal(s.ret_miss, 1);
    pve_branch_free(b);
}

static void counting_off_still_learns(void **state)
{
    (void)state;
    pve_branch *b = make();
    pve_branch_set_counting(b, 0);
    for (int i = 0; i < 2000; i++)
        pve_branch_cond(b, 0x401234, i & 1);
    pve_branch_stats s = stats(b);
    assert_int_equal(s.cond, 0);
    assert_int_equal(s.cond_miss, 0);
    pve_branch_set_counting(b, 1);
    for (int i = 0; i < 1000; i++)
        pve_branch_cond(b, 0x401234, i & 1);
    s = stats(b);
    assert_int_equal(s.cond, 1000);
    assert_true(s.cond_miss <= 2);
    assert_string_equal(pve_branch_model(), "tage-lite-4x1k+ittage-1k+ras32");
    pve_branch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(always_taken),
        cmocka_unit_test(long_streak),
        cmocka_unit_test(alternating_learnt),
        cmocka_unit_test(loop_exit_learnt),
        cmocka_unit_test(random_half_missed),
        cmocka_unit_test(biased_random),
        cmocka_unit_test(many_sites),
        cmocka_unit_test(indirect_targets),
        cmocka_unit_test(returns),
        cmocka_unit_test(sites_from_blocks),
        cmocka_unit_test(counting_off_still_learns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
