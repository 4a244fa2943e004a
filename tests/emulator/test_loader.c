/* emulator/loader.c: where things land. PIE executables at Linux's
 * non-randomized base, the loader top-down below the mmap base, the brk heap
 * right after the executable, non-PIE static executables at their link
 * addresses; the loader maps libc through the emulated mmap and it becomes
 * an object with its load bias. */
#include <setjmp.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "emulator/internal.h"
#include "tests/emulator/emu_util.h"

static pv_emu *load(const char *path)
{
    const char *argv[] = {path, NULL};
    pv_emu_options o = PV_EMU_OPTIONS_INIT;
    o.argc = 1;
    o.argv = argv;
    o.stdout_fd = PV_EMU_FD_NONE;
    pv_emu *e = NULL;
    assert_int_equal(pv_emu_new(&e, &o), PV_OK);
    return e;
}

static void pie_with_loader(void **state)
{
    (void)state;
    pv_emu *e = load(SAMPLE("matmul"));
    assert_int_equal(e->exe_base, 0x555555554000ull);
    assert_non_null(e->interp);
    assert_true(e->interp_base > 0x7f0000000000ull && e->interp_base < 0x7ffff7fff000ull);
    assert_int_equal(e->entry, e->interp->entry + e->interp_base);
    assert_int_equal(e->mem.brk_start, PVE_PAGE_UP(e->exe->hi + e->exe_base));
    assert_int_equal(e->nobjs, 2);
    assert_true(e->objs[0].is_target);
    /* the first page of the executable is its ELF header, mapped read-only */
    pve_vma *v = pve_mem_find(e, e->exe_base);
    assert_non_null(v);
    assert_int_equal(v->kind, PVE_VMA_FILE);
    assert_int_equal(v->obj, 0);
    const uint8_t *p = pve_mem_ptr(e, e->exe_base, 4, PROT_READ);
    assert_memory_equal(p, "\177ELF", 4);
    /* the stack: argc at RSP, 16-byte aligned */
    uint64_t rsp = 0, argc = 0;
    uc_reg_read(e->uc, UC_X86_REG_RSP, &rsp);
    assert_int_equal(rsp % 16, 0);
    assert_int_equal(pve_mem_read(e, rsp, &argc, 8), 0);
    assert_int_equal(argc, 1);
    pv_emu_free(e);
}

static void static_executable(void **state)
{
    (void)state;
    pv_emu *e = load(GUEST("matmul_static"));
    assert_null(e->interp);
    assert_int_equal(e->exe_base, 0);
    assert_int_equal(e->entry, e->exe->entry);
    pve_vma *v = pve_mem_find(e, e->exe->entry);
    assert_non_null(v);
    assert_true(v->prot & PROT_EXEC);
    /* bss beyond the file is zero */
    const pve_seg *last = &e->exe->loads[e->exe->nloads - 1];
    assert_true(last->memsz > last->filesz);
    uint8_t z[64];
    assert_int_equal(pve_mem_read(e, last->vaddr + last->filesz, z, sizeof z), 0);
    for (size_t i = 0; i < sizeof z; i++)
        assert_int_equal(z[i], 0);
    pv_emu_free(e);
}

static void libraries_become_objects(void **state)
{
    (void)state;
    const char *argv[] = {SAMPLE("hashmap"), "100", NULL};
    emu_run r;
    run_emu(argv, NULL, &r);
    const pv_dynamic *d = r.d;
    int libc = -1, ld = -1;
    for (uint32_t i = 0; i < d->nobjects; i++) {
        if (strstr(d->objects[i].path, "/libc.so.6"))
            libc = (int)i;
        if (strstr(d->objects[i].path, "/ld-linux-x86-64.so.2"))
            ld = (int)i;
    }
    assert_true(libc > 0 && ld > 0);
    /* shared objects are linked at 0: their bias is their load address, page-aligned */
    assert_true(d->objects[libc].base > 0x7f0000000000ull);
    assert_int_equal(d->objects[libc].base % PVE_PAGE, 0);
    /* every block of libc is at a link-time address inside the file's span */
    for (uint32_t i = 0; i < d->ncounts; i++)
        if ((int)d->counts[i].object == libc)
            assert_true(d->counts[i].addr < 0x400000);
    emu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pie_with_loader),
        cmocka_unit_test(static_executable),
        cmocka_unit_test(libraries_become_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
