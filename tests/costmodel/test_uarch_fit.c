/* Tests for costmodel/uarch_fit.c: a calibrated machine model turned into
 * the analyzer's cost table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prevision/analyzer.h"
#include "prevision/costmodel.h"

static pv_stat st(double v) { return (pv_stat){v, v, v, 3, PV_METHOD_TIMER}; }

static void measured_figures_replace_published(void **state)
{
    (void)state;
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    snprintf(m->topo.uarch, sizeof m->topo.uarch, "skylake");
    snprintf(m->date, sizeof m->date, "2026-01-02T03:04:05Z");
    m->classes[PV_MIX_INT_MUL].latency = st(5.0);
    m->classes[PV_MIX_INT_MUL].rthroughput = st(2.0);
    m->classes[PV_MIX_LOAD].latency = st(6.0);
    m->classes[PV_MIX_LOAD].rthroughput = st(0.25);
    m->classes[PV_MIX_STORE].rthroughput = st(0.5);
    m->classes[PV_MIX_FP_ADD].rthroughput = (pv_stat){0, -1, 0, 3, PV_METHOD_TIMER}; /* broken: ignored */
    pv_uarch u;
    unsigned n = 0;
    assert_int_equal(pv_machine_uarch(m, &u, &n), PV_OK);
    const pv_uarch *sk = pv_uarch_find("skylake");
    assert_non_null(sk);
    assert_int_equal(n, 3);
    assert_string_equal(u.name, "skylake+calibrated");
    assert_true(u.latency[PV_MIX_INT_MUL] == 5.0f);
    assert_true(u.rthroughput[PV_MIX_INT_MUL] == 2.0f);
    assert_true(u.load_latency == 6.0f);
    assert_true(u.load_ports == 4.0f);
    assert_true(u.store_ports == 2.0f);
    /* Unmeasured and broken figures keep the published value; structure is kept. */
    assert_true(u.rthroughput[PV_MIX_FP_ADD] == sk->rthroughput[PV_MIX_FP_ADD]);
    assert_true(u.latency[PV_MIX_INT_DIV] == sk->latency[PV_MIX_INT_DIV]);
    assert_true(u.issue_width == sk->issue_width);
    assert_int_equal(u.ngroups, sk->ngroups); /* no divider measured */
    /* The block bound follows the new figures: 8 imuls at 2 cycles each. */
    pv_mix mix = {0};
    mix.n[PV_MIX_INT_MUL] = 8;
    assert_true(pv_uarch_block_cycles(&u, &mix, 8) == 16.0f);
    free(m);
}

/* Measured dividers get groups of their own: a divide's cycles do not add
 * to the FP adds' or the ALU ops'. */
static void dividers_own_groups(void **state)
{
    (void)state;
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    snprintf(m->topo.uarch, sizeof m->topo.uarch, "zen4");
    m->classes[PV_MIX_FP_DIVSQRT].rthroughput = st(5.0);
    m->classes[PV_MIX_FP_ADD].rthroughput = st(0.5);
    pv_uarch u;
    assert_int_equal(pv_machine_uarch(m, &u, NULL), PV_OK);
    const pv_uarch *z = pv_uarch_find("zen4");
    assert_int_equal(u.ngroups, z->ngroups + 1); /* int_div not measured: stays */
    assert_string_equal(u.groups[u.group[PV_MIX_FP_DIVSQRT]].name, "fp_div");
    assert_int_equal(u.group[PV_MIX_INT_DIV], z->group[PV_MIX_INT_DIV]);
    /* 1 divide and 8 adds: the divider's 5 cycles, not 5 + 8 x 0.5. */
    pv_mix mix = {0};
    mix.n[PV_MIX_FP_DIVSQRT] = 1;
    mix.n[PV_MIX_FP_ADD] = 8;
    assert_true(pv_uarch_block_cycles(&u, &mix, 9) == 5.0f);
    mix.n[PV_MIX_FP_ADD] = 12; /* now the adds bound it: 12 x 0.5 */
    assert_true(pv_uarch_block_cycles(&u, &mix, 13) == 6.0f);
    m->classes[PV_MIX_INT_DIV].rthroughput = st(8.0);
    assert_int_equal(pv_machine_uarch(m, &u, NULL), PV_OK);
    assert_int_equal(u.ngroups, z->ngroups + 2);
    assert_string_equal(u.groups[u.group[PV_MIX_INT_DIV]].name, "int_div");
    free(m);
}

static void unknown_uarch_uses_host_table(void **state)
{
    (void)state;
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    snprintf(m->topo.uarch, sizeof m->topo.uarch, "generic");
    pv_uarch u;
    assert_int_equal(pv_machine_uarch(m, &u, NULL), PV_OK);
    char want[40];
    snprintf(want, sizeof want, "%s+calibrated", pv_uarch_host()->name);
    assert_string_equal(u.name, want);
    assert_int_equal(pv_machine_uarch(NULL, &u, NULL), PV_ERR_INVALID);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(measured_figures_replace_published),
        cmocka_unit_test(dividers_own_groups),
        cmocka_unit_test(unknown_uarch_uses_host_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
