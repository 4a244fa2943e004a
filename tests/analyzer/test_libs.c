/* Tests for analyzer/libs.c: library groups by soname and by symbol, noreturn names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/internal.h"

static void sonames(void **state)
{
    (void)state;
    struct {
        const char *so;
        pv_libgroup g;
    } cases[] = {
        {"libc.so.6", PV_LIBGROUP_LIBC},          {"libm.so.6", PV_LIBGROUP_LIBM},
        {"libopenblas.so.0", PV_LIBGROUP_BLAS},   {"liblapack.so.3", PV_LIBGROUP_BLAS},
        {"libmkl_rt.so.2", PV_LIBGROUP_BLAS},     {"libfftw3.so.3", PV_LIBGROUP_FFTW},
        {"libgomp.so.1", PV_LIBGROUP_OPENMP},     {"libomp.so.5", PV_LIBGROUP_OPENMP},
        {"libpthread.so.0", PV_LIBGROUP_PTHREADS}, {"libcudart.so.12", PV_LIBGROUP_CUDA},
        {"libcuda.so.1", PV_LIBGROUP_CUDA},       {"libcublas.so.12", PV_LIBGROUP_CUDA},
        {"libOpenCL.so.1", PV_LIBGROUP_OPENCL},   {"libxrt_coreutil.so.2", PV_LIBGROUP_XRT},
        {"libmpi.so.40", PV_LIBGROUP_MPI},        {"libcrypto.so.3", PV_LIBGROUP_CRYPTO},
        {"libz.so.1", PV_LIBGROUP_COMPRESSION},   {"libzstd.so.1", PV_LIBGROUP_COMPRESSION},
        {"libstdc++.so.6", PV_LIBGROUP_CXX},      {"/usr/lib/libm.so.6", PV_LIBGROUP_LIBM},
        {"libselinux.so.1", PV_LIBGROUP_OTHER},   {"libzebra.so", PV_LIBGROUP_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (pv_libgroup_of_soname(cases[i].so) != cases[i].g)
            fail_msg("%s: group %d, expected %d", cases[i].so, pv_libgroup_of_soname(cases[i].so), cases[i].g);
    assert_int_equal(pv_libgroup_of_soname(NULL), PV_LIBGROUP_OTHER);
}

static void symbols(void **state)
{
    (void)state;
    assert_int_equal(pv_libgroup_of_symbol("pthread_create"), PV_LIBGROUP_PTHREADS);
    assert_int_equal(pv_libgroup_of_symbol("GOMP_parallel"), PV_LIBGROUP_OPENMP);
    assert_int_equal(pv_libgroup_of_symbol("omp_get_num_threads"), PV_LIBGROUP_OPENMP);
    assert_int_equal(pv_libgroup_of_symbol("cblas_dgemm"), PV_LIBGROUP_BLAS);
    assert_int_equal(pv_libgroup_of_symbol("dgemm_"), PV_LIBGROUP_BLAS);
    assert_int_equal(pv_libgroup_of_symbol("fftw_execute"), PV_LIBGROUP_FFTW);
    assert_int_equal(pv_libgroup_of_symbol("cudaMalloc"), PV_LIBGROUP_CUDA);
    assert_int_equal(pv_libgroup_of_symbol("cuMemAlloc_v2"), PV_LIBGROUP_CUDA);
    assert_int_equal(pv_libgroup_of_symbol("clEnqueueNDRangeKernel"), PV_LIBGROUP_OPENCL);
    assert_int_equal(pv_libgroup_of_symbol("xrtDeviceOpen"), PV_LIBGROUP_XRT);
    assert_int_equal(pv_libgroup_of_symbol("MPI_Allreduce"), PV_LIBGROUP_MPI);
    assert_int_equal(pv_libgroup_of_symbol("EVP_DigestInit_ex"), PV_LIBGROUP_CRYPTO);
    assert_int_equal(pv_libgroup_of_symbol("deflateInit_"), PV_LIBGROUP_COMPRESSION);
    assert_int_equal(pv_libgroup_of_symbol("sqrt"), PV_LIBGROUP_LIBM);
    assert_int_equal(pv_libgroup_of_symbol("expf"), PV_LIBGROUP_LIBM);
    assert_int_equal(pv_libgroup_of_symbol("__cxa_throw"), PV_LIBGROUP_CXX);
    /* Words that only look like prefixes say nothing. */
    assert_int_equal(pv_libgroup_of_symbol("printf"), -1);
    assert_int_equal(pv_libgroup_of_symbol("close"), -1);
    assert_int_equal(pv_libgroup_of_symbol("cudaa"), -1);
    assert_int_equal(pv_libgroup_of_symbol("current"), -1);
    assert_int_equal(pv_libgroup_of_symbol(""), -1);
    assert_int_equal(pv_libgroup_of_symbol(NULL), -1);
}

static void noreturn_names(void **state)
{
    (void)state;
    const char *yes[] = {"exit", "abort", "__stack_chk_fail", "__assert_fail", "_Unwind_Resume", "__cxa_throw",
                         "_ZSt20__throw_length_errorPKc", "longjmp", "pthread_exit"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!pva_is_noreturn_name(yes[i]))
            fail_msg("%s should be noreturn", yes[i]);
    assert_false(pva_is_noreturn_name("printf"));
    assert_false(pva_is_noreturn_name("exit2"));
    assert_false(pva_is_noreturn_name(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sonames), cmocka_unit_test(symbols),
                                       cmocka_unit_test(noreturn_names)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
