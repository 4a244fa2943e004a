/* emulator/mem.c: guest mappings on host pages. Splits by munmap and
 * mprotect keep the contents and keep Unicorn's view in step, the brk heap
 * grows and shrinks, mremap grows in place or moves, accounting follows
 * mapped (not reserved) memory, touched pages come from mincore. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/mman.h>

#include "emulator/internal.h"

static pv_emu *emu_new(void)
{
    pv_emu *e = calloc(1, sizeof *e);
    assert_non_null(e);
    assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc), UC_ERR_OK);
    assert_int_equal(pve_blocks_init(e), PV_OK);
    assert_int_equal(pve_mem_init(e), PV_OK);
    return e;
}

static void emu_free(pv_emu *e)
{
    uc_close(e->uc);
    pve_mem_fini(e);
    pve_blocks_fini(e);
    free(e->objs);
    free(e);
}

/* Is guest page @p a mapped in Unicorn? */
static int uc_mapped(pv_emu *e, uint64_t a)
{
    uint8_t b;
    return uc_mem_read(e->uc, a, &b, 1) == UC_ERR_OK;
}

static void map_split_protect(void **state)
{
    (void)state;
    pv_emu *e = emu_new();
    uint64_t a = pve_mem_find_free(e, 0, 5 * PVE_PAGE);
    assert_true(a > 0x7f0000000000ull); /* top-down below the mmap base */
    assert_int_equal(pve_mem_map(e, a, 5 * PVE_PAGE, PROT_READ | PROT_WRITE, PVE_VMA_ANON, -1, 0, 0, PV_NONE),
                     PV_OK);
    assert_int_equal(e->mem.mapped, 5 * PVE_PAGE);
    for (int i = 0; i < 5; i++) {
        uint8_t v = (uint8_t)(i + 1);
        assert_int_equal(pve_mem_write(e, a + (uint64_t)i * PVE_PAGE + 7, &v, 1), 0);
    }
    /* punch a hole in the middle: three mappings' worth of pieces, contents kept */
    assert_int_equal(pve_mem_unmap(e, a + 2 * PVE_PAGE, PVE_PAGE), PV_OK);
    assert_false(uc_mapped(e, a + 2 * PVE_PAGE));
    assert_true(uc_mapped(e, a + PVE_PAGE));
    assert_true(uc_mapped(e, a + 3 * PVE_PAGE));
    uint8_t v;
    assert_int_equal(pve_mem_read(e, a + 4 * PVE_PAGE + 7, &v, 1), 0);
    assert_int_equal(v, 5);
    assert_int_equal(uc_mem_read(e->uc, a + 4 * PVE_PAGE + 7, &v, 1), UC_ERR_OK);
    assert_int_equal(v, 5); /* Unicorn sees the same host page */
    assert_int_equal(pve_mem_read(e, a + 2 * PVE_PAGE, &v, 1), -EFAULT);
    assert_int_equal(e->mem.mapped, 4 * PVE_PAGE);
    /* read-only in the middle of the first piece */
    assert_int_equal(pve_mem_protect(e, a + PVE_PAGE, PVE_PAGE, PROT_READ), 0);
    assert_int_equal(pve_mem_write(e, a + PVE_PAGE, &v, 1), -EFAULT);
    assert_int_equal(pve_mem_write(e, a, &v, 1), 0);
    assert_int_equal(uc_mem_write(e->uc, a + PVE_PAGE, &v, 1), UC_ERR_OK); /* the host may still write */
    assert_int_equal(pve_mem_read(e, a + PVE_PAGE + 7, &v, 1), 0);
    /* protecting a range with a hole fails like Linux */
    assert_int_equal(pve_mem_protect(e, a, 4 * PVE_PAGE, PROT_READ), -ENOMEM);
    /* PROT_NONE is a reservation: not counted */
    assert_int_equal(pve_mem_protect(e, a + 3 * PVE_PAGE, 2 * PVE_PAGE, PROT_NONE), 0);
    assert_int_equal(e->mem.mapped, 2 * PVE_PAGE);
    assert_int_equal(e->mem.peak, 5 * PVE_PAGE);
    assert_null(pve_mem_ptr(e, a + 3 * PVE_PAGE, 1, PROT_READ));
    /* mapping over existing mappings replaces them */
    assert_int_equal(pve_mem_map(e, a, 5 * PVE_PAGE, PROT_READ, PVE_VMA_ANON, -1, 0, 0, PV_NONE), PV_OK);
    assert_int_equal(pve_mem_read(e, a + 7, &v, 1), 0);
    assert_int_equal(v, 0);
    assert_int_equal(e->mem.mapped, 5 * PVE_PAGE);
    /* free gaps: a hint is taken when free, otherwise the highest gap that fits */
    assert_int_equal(pve_mem_find_free(e, 0x200000000ull, PVE_PAGE), 0x200000000ull);
    uint64_t b = pve_mem_find_free(e, a, PVE_PAGE);
    assert_true(b == a - PVE_PAGE);
    assert_true(pve_mem_is_free(e, b, PVE_PAGE));
    assert_false(pve_mem_is_free(e, a, PVE_PAGE));
    emu_free(e);
}

static void brk_heap(void **state)
{
    (void)state;
    pv_emu *e = emu_new();
    e->mem.brk_start = 0x600000;
    assert_int_equal(pve_mem_brk(e, 0), 0x600000);
    assert_int_equal(pve_mem_brk(e, 0x600000 + 100), 0x600000 + 100);
    assert_true(uc_mapped(e, 0x600000));
    assert_int_equal(pve_mem_brk(e, 0x600000 + 3 * PVE_PAGE + 1), 0x600000 + 3 * PVE_PAGE + 1);
    assert_true(uc_mapped(e, 0x600000 + 3 * PVE_PAGE));
    /* the heap stays one mapping as it grows */
    size_t n = e->mem.n;
    assert_int_equal(pve_mem_brk(e, 0x600000 + 10 * PVE_PAGE), 0x600000 + 10 * PVE_PAGE);
    assert_int_equal(e->mem.n, n);
    uint64_t v = 42;
    assert_int_equal(pve_mem_write(e, 0x600000 + 9 * PVE_PAGE, &v, 8), 0);
    assert_int_equal(pve_mem_brk(e, 0x600000 + PVE_PAGE), 0x600000 + PVE_PAGE);
    assert_false(uc_mapped(e, 0x600000 + 9 * PVE_PAGE));
    assert_int_equal(e->mem.brk_peak - e->mem.brk_start, 10 * PVE_PAGE);
    /* below the start: unchanged */
    assert_int_equal(pve_mem_brk(e, 0x500000), 0x600000 + PVE_PAGE);
    /* nobody maps into the heap's reservation by accident */
    assert_false(pve_mem_is_free(e, 0x600000 + 20 * PVE_PAGE, PVE_PAGE));
    emu_free(e);
}

static void mremap_grow_move(void **state)
{
    (void)state;
    pv_emu *e = emu_new();
    uint64_t a = 0x300000000ull;
    assert_int_equal(pve_mem_map(e, a, 2 * PVE_PAGE, PROT_READ | PROT_WRITE, PVE_VMA_ANON, -1, 0, 0, PV_NONE),
                     PV_OK);
    uint64_t v = 0x1234;
    pve_mem_write(e, a + PVE_PAGE, &v, 8);
    /* room after it: grows in place */
    assert_int_equal(pve_mem_mremap(e, a, 2 * PVE_PAGE, 4 * PVE_PAGE, MREMAP_MAYMOVE, 0), (int64_t)a);
    assert_true(uc_mapped(e, a + 3 * PVE_PAGE));
    /* blocked: moves, contents and Unicorn follow */
    assert_int_equal(pve_mem_map(e, a + 4 * PVE_PAGE, PVE_PAGE, PROT_READ, PVE_VMA_ANON, -1, 0, 0, PV_NONE), PV_OK);
    int64_t b = pve_mem_mremap(e, a, 4 * PVE_PAGE, 8 * PVE_PAGE, MREMAP_MAYMOVE, 0);
    assert_true(b > 0 && (uint64_t)b != a);
    assert_false(uc_mapped(e, a));
    uint64_t w = 0;
    assert_int_equal(uc_mem_read(e->uc, (uint64_t)b + PVE_PAGE, &w, 8), UC_ERR_OK);
    assert_int_equal(w, 0x1234);
    /* without MAYMOVE it cannot move */
    assert_int_equal(pve_mem_map(e, (uint64_t)b + 8 * PVE_PAGE, PVE_PAGE, PROT_READ, PVE_VMA_ANON, -1, 0, 0, PV_NONE),
                     PV_OK);
    assert_int_equal(pve_mem_mremap(e, (uint64_t)b, 8 * PVE_PAGE, 64 * PVE_PAGE, 0, 0), -ENOMEM);
    /* shrinking unmaps the tail */
    int64_t c = pve_mem_mremap(e, (uint64_t)b, 8 * PVE_PAGE, 2 * PVE_PAGE, 0, 0);
    assert_int_equal(c, b);
    assert_false(uc_mapped(e, (uint64_t)b + 2 * PVE_PAGE));
    assert_int_equal(pve_mem_mremap(e, a + 1, PVE_PAGE, PVE_PAGE, 0, 0), -EINVAL);
    emu_free(e);
}

static void iov_strings_touched(void **state)
{
    (void)state;
    pv_emu *e = emu_new();
    uint64_t a = 0x310000000ull;
    pve_mem_map(e, a, PVE_PAGE, PROT_READ | PROT_WRITE, PVE_VMA_ANON, -1, 0, 0, PV_NONE);
    pve_mem_map(e, a + PVE_PAGE, PVE_PAGE, PROT_READ | PROT_WRITE, PVE_VMA_ANON, -1, 0, 0, PV_NONE);
    struct iovec iov[4];
    /* a buffer across two mappings is two host pieces */
    assert_int_equal(pve_mem_iov(e, a + PVE_PAGE - 10, 20, PROT_WRITE, iov, 4), 2);
    assert_int_equal(iov[0].iov_len, 10);
    assert_int_equal(iov[1].iov_len, 10);
    /* past the end: what is mapped, then the fault */
    assert_int_equal(pve_mem_iov(e, a + 2 * PVE_PAGE - 10, 20, PROT_WRITE, iov, 4), 1);
    assert_int_equal(pve_mem_iov(e, a + 2 * PVE_PAGE, 20, PROT_WRITE, iov, 4), -EFAULT);
    /* strings across the boundary, too long, unmapped */
    char buf[64];
    pve_mem_write(e, a + PVE_PAGE - 3, "abcdef", 7);
    assert_int_equal(pve_mem_strcpy(e, a + PVE_PAGE - 3, buf, sizeof buf), 0);
    assert_string_equal(buf, "abcdef");
    assert_int_equal(pve_mem_strcpy(e, a + PVE_PAGE - 3, buf, 4), -ENAMETOOLONG);
    assert_int_equal(pve_mem_strcpy(e, 0x1000, buf, sizeof buf), -EFAULT);
    /* touched: pages written by the guest (here the host on its behalf) */
    uint64_t before = pve_mem_touched(e);
    pve_mem_map(e, 0x320000000ull, 16 * PVE_PAGE, PROT_READ | PROT_WRITE, PVE_VMA_ANON, -1, 0, 0, PV_NONE);
    assert_int_equal(pve_mem_touched(e), before);
    for (int i = 0; i < 5; i++)
        pve_mem_write(e, 0x320000000ull + (uint64_t)i * 3 * PVE_PAGE, "x", 1);
    assert_int_equal(pve_mem_touched(e), before + 5 * PVE_PAGE);
    /* unmapped pages stay counted */
    pve_mem_unmap(e, 0x320000000ull, 16 * PVE_PAGE);
    assert_int_equal(pve_mem_touched(e), before + 5 * PVE_PAGE);
    /* stack depth: the lowest touched page of the main stack */
    pve_mem_write(e, e->mem.stack_hi - 3 * PVE_PAGE + 5, "x", 1);
    assert_int_equal(pve_mem_stack_depth(e), 3 * PVE_PAGE);
    emu_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_split_protect),
        cmocka_unit_test(brk_heap),
        cmocka_unit_test(mremap_grow_move),
        cmocka_unit_test(iov_strings_touched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
