/* Tests for analyzer/loops.c: dominator-based natural loops on small CFGs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/internal.h"

/* Build CSR successor arrays from an edge list and find loops. */
static void run(uint32_t n, const uint32_t (*edges)[2], uint32_t ne, pva_floop **L, uint32_t *nl)
{
    uint32_t *off = calloc(n + 1, sizeof *off), *succ = malloc((ne ? ne : 1) * sizeof *succ);
    for (uint32_t e = 0; e < ne; e++)
        off[edges[e][0] + 1]++;
    for (uint32_t i = 0; i < n; i++)
        off[i + 1] += off[i];
    uint32_t *fill = malloc((n + 1) * sizeof *fill);
    memcpy(fill, off, (n + 1) * sizeof *fill);
    for (uint32_t e = 0; e < ne; e++)
        succ[fill[edges[e][0]]++] = edges[e][1];
    assert_int_equal(pva_find_loops(n, off, succ, L, nl), PV_OK);
    free(off);
    free(succ);
    free(fill);
}

static void free_loops(pva_floop *L, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(L[i].blocks);
    free(L);
}

static const pva_floop *by_header(const pva_floop *L, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
        if (L[i].header == h)
            return &L[i];
    fail_msg("no loop headed by block %u", h);
    return NULL;
}

static void no_loops(void **state)
{
    (void)state;
    static const uint32_t e[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    pva_floop *L;
    uint32_t n;
    run(4, e, 4, &L, &n);
    assert_int_equal(n, 0);
    free_loops(L, n);
}

/* 0 -> 1 -> 2 -> 3 -> 4 -> 5; 3 -> 2 (inner), 4 -> 1 (middle), 5 -> 0? no: 5 exits; self loop on 2 too. */
static void nested(void **state)
{
    (void)state;
    static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 2}, {2, 3}, {3, 2}, {3, 4}, {4, 1}, {4, 5}};
    pva_floop *L;
    uint32_t n;
    run(6, e, 8, &L, &n);
    assert_int_equal(n, 2);
    const pva_floop *outer = by_header(L, n, 1), *inner = by_header(L, n, 2);
    assert_int_equal(outer->depth, 1);
    assert_int_equal(inner->depth, 2);
    assert_int_equal(outer->parent, PV_NONE);
    assert_int_equal(&L[inner->parent], outer);
    assert_int_equal(outer->nblocks, 4); /* 1 2 3 4 */
    assert_int_equal(inner->nblocks, 2); /* 2 3 */
    assert_int_equal(outer->blocks[0], 1);
    assert_int_equal(inner->blocks[0], 2);
    assert_int_equal(inner->blocks[1], 3);
    assert_false(inner->flags & PV_LOOP_IRREDUCIBLE);
    assert_int_equal(outer->latch, 4);
    free_loops(L, n);
}

/* Two entries into the cycle 1 <-> 2: irreducible. */
static void irreducible(void **state)
{
    (void)state;
    static const uint32_t e[][2] = {{0, 1}, {0, 2}, {1, 2}, {2, 1}, {2, 3}};
    pva_floop *L;
    uint32_t n;
    run(4, e, 5, &L, &n);
    assert_int_equal(n, 1);
    assert_true(L[0].flags & PV_LOOP_IRREDUCIBLE);
    assert_int_equal(L[0].nblocks, 2);
    free_loops(L, n);
}

/* Code reached only from an unresolved jump still has its loops found. */
static void unreachable_loop(void **state)
{
    (void)state;
    static const uint32_t e[][2] = {{0, 1}, {2, 3}, {3, 2}, {3, 4}};
    pva_floop *L;
    uint32_t n;
    run(5, e, 4, &L, &n);
    assert_int_equal(n, 1);
    assert_int_equal(L[0].header, 2);
    assert_false(L[0].flags & PV_LOOP_IRREDUCIBLE);
    free_loops(L, n);
}

/* Sibling loops share a parent and have the same depth. */
static void siblings(void **state)
{
    (void)state;
    static const uint32_t e[][2] = {{0, 1}, {1, 2}, {2, 2}, {2, 3}, {3, 3}, {3, 4}, {4, 1}, {4, 5}};
    pva_floop *L;
    uint32_t n;
    run(6, e, 8, &L, &n);
    assert_int_equal(n, 3);
    const pva_floop *a = by_header(L, n, 2), *b = by_header(L, n, 3), *o = by_header(L, n, 1);
    assert_int_equal(a->depth, 2);
    assert_int_equal(b->depth, 2);
    assert_int_equal(&L[a->parent], o);
    assert_int_equal(&L[b->parent], o);
    free_loops(L, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(no_loops), cmocka_unit_test(nested),
                                       cmocka_unit_test(irreducible), cmocka_unit_test(unreachable_loop),
                                       cmocka_unit_test(siblings)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
