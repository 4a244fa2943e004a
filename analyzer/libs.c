/* Library usage: sonames and imported symbols grouped into the classes the
 * cost model decides device eligibility from (libm, BLAS/LAPACK, FFTW,
 * OpenMP, pthreads, CUDA, OpenCL, XRT, MPI, crypto, compression...), and
 * the names of functions that never return. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }

typedef struct pat {
    const char *prefix;
    pv_libgroup g;
} pat;

/* Soname prefixes, matched on the name up to ".so" (and a version suffix). */
static const pat sonames[] = {
    {"libc.so", PV_LIBGROUP_LIBC}, {"ld-linux", PV_LIBGROUP_LIBC}, {"libdl.so", PV_LIBGROUP_LIBC},
    {"librt.so", PV_LIBGROUP_LIBC}, {"libutil.so", PV_LIBGROUP_LIBC}, {"libresolv.so", PV_LIBGROUP_LIBC},
    {"libm.so", PV_LIBGROUP_LIBM}, {"libmvec.so", PV_LIBGROUP_LIBM}, {"libquadmath", PV_LIBGROUP_LIBM},
    {"libblas", PV_LIBGROUP_BLAS}, {"libcblas", PV_LIBGROUP_BLAS}, {"libopenblas", PV_LIBGROUP_BLAS},
    {"liblapack", PV_LIBGROUP_BLAS}, {"libmkl", PV_LIBGROUP_BLAS}, {"libatlas", PV_LIBGROUP_BLAS},
    {"libblis", PV_LIBGROUP_BLAS}, {"libflexiblas", PV_LIBGROUP_BLAS}, {"libscalapack", PV_LIBGROUP_BLAS},
    {"libfftw3", PV_LIBGROUP_FFTW}, {"libfftw", PV_LIBGROUP_FFTW},
    {"libgomp", PV_LIBGROUP_OPENMP}, {"libomp", PV_LIBGROUP_OPENMP}, {"libiomp", PV_LIBGROUP_OPENMP},
    {"libpthread", PV_LIBGROUP_PTHREADS},
    {"libcudart", PV_LIBGROUP_CUDA}, {"libcuda.so", PV_LIBGROUP_CUDA}, {"libcublas", PV_LIBGROUP_CUDA},
    {"libcufft", PV_LIBGROUP_CUDA}, {"libcusparse", PV_LIBGROUP_CUDA}, {"libcurand", PV_LIBGROUP_CUDA},
    {"libcusolver", PV_LIBGROUP_CUDA}, {"libcudnn", PV_LIBGROUP_CUDA}, {"libnvrtc", PV_LIBGROUP_CUDA},
    {"libnccl", PV_LIBGROUP_CUDA}, {"libnvToolsExt", PV_LIBGROUP_CUDA},
    {"libOpenCL", PV_LIBGROUP_OPENCL},
    {"libxrt", PV_LIBGROUP_XRT}, {"libxilinxopencl", PV_LIBGROUP_XRT},
    {"libmpi", PV_LIBGROUP_MPI}, {"libmpich", PV_LIBGROUP_MPI}, {"libopen-rte", PV_LIBGROUP_MPI},
    {"libopen-pal", PV_LIBGROUP_MPI}, {"libfmpich", PV_LIBGROUP_MPI},
    {"libcrypto", PV_LIBGROUP_CRYPTO}, {"libssl", PV_LIBGROUP_CRYPTO}, {"libgcrypt", PV_LIBGROUP_CRYPTO},
    {"libsodium", PV_LIBGROUP_CRYPTO}, {"libnettle", PV_LIBGROUP_CRYPTO}, {"libhogweed", PV_LIBGROUP_CRYPTO},
    {"libgnutls", PV_LIBGROUP_CRYPTO}, {"libmbedcrypto", PV_LIBGROUP_CRYPTO}, {"libmbedtls", PV_LIBGROUP_CRYPTO},
    {"libwolfssl", PV_LIBGROUP_CRYPTO}, {"libb2", PV_LIBGROUP_CRYPTO},
    {"libz.so", PV_LIBGROUP_COMPRESSION}, {"libbz2", PV_LIBGROUP_COMPRESSION}, {"liblzma", PV_LIBGROUP_COMPRESSION},
    {"libzstd", PV_LIBGROUP_COMPRESSION}, {"liblz4", PV_LIBGROUP_COMPRESSION}, {"libsnappy", PV_LIBGROUP_COMPRESSION},
    {"libbrotli", PV_LIBGROUP_COMPRESSION}, {"libxz", PV_LIBGROUP_COMPRESSION}, {"libdeflate", PV_LIBGROUP_COMPRESSION},
    {"libstdc++", PV_LIBGROUP_CXX}, {"libc++", PV_LIBGROUP_CXX}, {"libgcc_s", PV_LIBGROUP_CXX},
    {"libsupc++", PV_LIBGROUP_CXX},
};

pv_libgroup pv_libgroup_of_soname(const char *soname)
{
    if (!soname)
        return PV_LIBGROUP_OTHER;
    const char *base = strrchr(soname, '/');
    base = base ? base + 1 : soname;
    for (size_t i = 0; i < sizeof sonames / sizeof sonames[0]; i++)
        if (starts(base, sonames[i].prefix))
            return sonames[i].g;
    return PV_LIBGROUP_OTHER;
}

/* Symbol prefixes that say which library family a call goes to, whatever
 * library provides it (glibc 2.34 moved pthreads into libc.so.6). */
static const pat symbols[] = {
    {"pthread_", PV_LIBGROUP_PTHREADS}, {"sem_", PV_LIBGROUP_PTHREADS},
    {"GOMP_", PV_LIBGROUP_OPENMP}, {"omp_", PV_LIBGROUP_OPENMP}, {"__kmpc_", PV_LIBGROUP_OPENMP},
    {"cblas_", PV_LIBGROUP_BLAS}, {"LAPACKE_", PV_LIBGROUP_BLAS}, {"dgemm_", PV_LIBGROUP_BLAS},
    {"sgemm_", PV_LIBGROUP_BLAS}, {"zgemm_", PV_LIBGROUP_BLAS}, {"cgemm_", PV_LIBGROUP_BLAS},
    {"dgesv_", PV_LIBGROUP_BLAS}, {"dgetrf_", PV_LIBGROUP_BLAS}, {"dsyev_", PV_LIBGROUP_BLAS},
    {"daxpy_", PV_LIBGROUP_BLAS}, {"ddot_", PV_LIBGROUP_BLAS}, {"dgemv_", PV_LIBGROUP_BLAS},
    {"fftw_", PV_LIBGROUP_FFTW}, {"fftwf_", PV_LIBGROUP_FFTW}, {"fftwl_", PV_LIBGROUP_FFTW},
    {"cuda", PV_LIBGROUP_CUDA}, {"cu", PV_LIBGROUP_CUDA}, {"__cuda", PV_LIBGROUP_CUDA},
    {"cublas", PV_LIBGROUP_CUDA}, {"cufft", PV_LIBGROUP_CUDA}, {"nvrtc", PV_LIBGROUP_CUDA},
    {"cl", PV_LIBGROUP_OPENCL},
    {"xrt", PV_LIBGROUP_XRT}, {"_ZN3xrt", PV_LIBGROUP_XRT}, {"_ZNK3xrt", PV_LIBGROUP_XRT},
    {"MPI_", PV_LIBGROUP_MPI}, {"PMPI_", PV_LIBGROUP_MPI}, {"mpi_", PV_LIBGROUP_MPI},
    {"EVP_", PV_LIBGROUP_CRYPTO}, {"SHA256", PV_LIBGROUP_CRYPTO}, {"SHA1", PV_LIBGROUP_CRYPTO},
    {"SHA512", PV_LIBGROUP_CRYPTO}, {"MD5", PV_LIBGROUP_CRYPTO}, {"AES_", PV_LIBGROUP_CRYPTO},
    {"RSA_", PV_LIBGROUP_CRYPTO}, {"SSL_", PV_LIBGROUP_CRYPTO}, {"gcry_", PV_LIBGROUP_CRYPTO},
    {"crypto_", PV_LIBGROUP_CRYPTO}, {"nettle_", PV_LIBGROUP_CRYPTO}, {"gnutls_", PV_LIBGROUP_CRYPTO},
    {"deflate", PV_LIBGROUP_COMPRESSION}, {"inflate", PV_LIBGROUP_COMPRESSION}, {"compress", PV_LIBGROUP_COMPRESSION},
    {"uncompress", PV_LIBGROUP_COMPRESSION}, {"gz", PV_LIBGROUP_COMPRESSION}, {"BZ2_", PV_LIBGROUP_COMPRESSION},
    {"lzma_", PV_LIBGROUP_COMPRESSION}, {"ZSTD_", PV_LIBGROUP_COMPRESSION}, {"LZ4_", PV_LIBGROUP_COMPRESSION},
    {"crc32", PV_LIBGROUP_COMPRESSION}, {"adler32", PV_LIBGROUP_COMPRESSION},
    {"__cxa_", PV_LIBGROUP_CXX}, {"_Unwind_", PV_LIBGROUP_CXX}, {"_ZSt", PV_LIBGROUP_CXX},
    {"_ZNSt", PV_LIBGROUP_CXX}, {"_ZNKSt", PV_LIBGROUP_CXX}, {"_Znwm", PV_LIBGROUP_CXX}, {"_Znam", PV_LIBGROUP_CXX},
    {"_ZdlPv", PV_LIBGROUP_CXX}, {"_ZdaPv", PV_LIBGROUP_CXX}, {"__gxx_personality", PV_LIBGROUP_CXX},
};

/* libm's functions: a call to one is floating-point math wherever it resolves. */
static const char *const libm_names[] = {
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "log1p", "logb", "pow", "sqrt", "cbrt", "hypot",
    "erf", "erfc", "lgamma", "tgamma", "ceil", "floor", "trunc", "round", "lround", "llround", "rint", "lrint",
    "llrint", "nearbyint", "fmod", "remainder", "remquo", "fma", "fmax", "fmin", "fdim", "frexp", "ldexp",
    "modf", "scalbn", "scalbln", "ilogb", "copysign", "nextafter", "sincos", "j0", "j1", "jn", "y0", "y1", "yn",
    NULL};

static int is_libm(const char *n)
{
    size_t len = strlen(n);
    char base[32];
    if (len == 0 || len >= sizeof base)
        return 0;
    memcpy(base, n, len + 1);
    /* sinf, sinl, __sin_finite, __exp_finite */
    if (starts(base, "__") && strstr(base, "_finite"))
        return 1;
    for (int pass = 0; pass < 2; pass++) {
        for (const char *const *p = libm_names; *p; p++)
            if (!strcmp(base, *p))
                return 1;
        if (base[len - 1] != 'f' && base[len - 1] != 'l')
            break;
        base[--len] = 0;
    }
    return 0;
}

int pv_libgroup_of_symbol(const char *name)
{
    if (!name || !name[0])
        return -1;
    size_t nl = strlen(name);
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        const char *p = symbols[i].prefix;
        size_t pl = strlen(p);
        if (nl < pl || strncmp(name, p, pl))
            continue;
        /* Short prefixes ("cu", "cl", "gz") only with a capital after them
         * (cuMemAlloc, clEnqueueNDRangeKernel, gzopen is lowercase: listed). */
        if (pl == 2 && strcmp(p, "gz") && !(name[pl] >= 'A' && name[pl] <= 'Z'))
            continue;
        if (!strcmp(p, "cuda") && !(name[pl] >= 'A' && name[pl] <= 'Z'))
            continue;
        if (!strcmp(p, "xrt") && name[pl] != '_' && !(name[pl] >= 'A' && name[pl] <= 'Z'))
            continue;
        return symbols[i].g;
    }
    if (is_libm(name))
        return PV_LIBGROUP_LIBM;
    return -1;
}

int pva_is_noreturn_name(const char *name)
{
    static const char *const exact[] = {
        "exit", "_exit", "_Exit", "abort", "quick_exit", "__stack_chk_fail", "__stack_chk_fail_local",
        "__assert_fail", "__assert_perror_fail", "__assert", "__fortify_fail", "__chk_fail", "__libc_fatal",
        "err", "errx", "verr", "verrx", "longjmp", "_longjmp", "siglongjmp", "__longjmp_chk", "pthread_exit",
        "__cxa_throw", "__cxa_rethrow", "__cxa_bad_cast", "__cxa_bad_typeid", "__cxa_throw_bad_array_new_length",
        "__cxa_pure_virtual", "__cxa_deleted_virtual", "__cxa_call_terminate", "__cxa_call_unexpected",
        "_Unwind_Resume", "__ubsan_handle_builtin_unreachable", "__ubsan_handle_missing_return",
        "_ZSt9terminatev", "__gxx_personality_terminate", "abort@plt", "exit_group", "thrd_exit",
        "llvm_unreachable_internal", "_ZN4llvm25llvm_unreachable_internalEPKcS1_j",
        "_ZN4llvm18report_fatal_errorEPKcb", "_ZN4llvm18report_fatal_errorERKNS_5TwineEb",
        "_ZN4llvm18report_fatal_errorENS_9StringRefEb", NULL};
    if (!name)
        return 0;
    for (const char *const *p = exact; *p; p++)
        if (!strcmp(name, *p))
            return 1;
    /* std::__throw_logic_error(...) and friends. */
    if (starts(name, "_ZSt") && strstr(name, "__throw_"))
        return 1;
    return 0;
}

const char *pva_import_lib(const pva_elf *e, const pva_import *im)
{
    if (im->lib)
        return im->lib;
    /* Unversioned: the needed library of the symbol's family, or the only one. */
    int g = pv_libgroup_of_symbol(im->name);
    for (uint32_t i = 0; g >= 0 && i < e->nneeded; i++)
        if ((int)pv_libgroup_of_soname(e->needed[i]) == g)
            return e->needed[i];
    if (e->nneeded == 1)
        return e->needed[0];
    return NULL;
}

/* One entry per (soname, group): pthread_create from libc.so.6 is listed as
 * {libc.so.6, pthreads}, printf as {libc.so.6, libc}. */
typedef struct lentry {
    const char *soname;
    uint32_t group;
    uint32_t n, cap;
    const char **imports;
} lentry;

static int add_import(lentry **v, uint32_t *n, uint32_t *cap, const char *soname, uint32_t group, const char *imp)
{
    uint32_t i = 0;
    for (; i < *n; i++)
        if ((*v)[i].group == group && !strcmp((*v)[i].soname, soname))
            break;
    if (i == *n) {
        if (*n == *cap) {
            uint32_t nc = *cap ? *cap * 2 : 8;
            lentry *x = realloc(*v, nc * sizeof *x);
            if (!x)
                return -1;
            *v = x;
            *cap = nc;
        }
        (*v)[(*n)++] = (lentry){soname, group, 0, 0, NULL};
    }
    lentry *l = &(*v)[i];
    if (!imp)
        return 0;
    if (l->n == l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 8;
        const char **x = realloc(l->imports, nc * sizeof *x);
        if (!x)
            return -1;
        l->imports = x;
        l->cap = nc;
    }
    l->imports[l->n++] = imp;
    return 0;
}

int pva_build_libraries(const pva_elf *e, pv_profile *p)
{
    lentry *v = NULL;
    uint32_t n = 0, cap = 0;
    int rc = PV_OK;
    for (uint32_t i = 0; i < e->nneeded; i++)
        if (add_import(&v, &n, &cap, e->needed[i], pv_libgroup_of_soname(e->needed[i]), NULL))
            goto nomem;
    for (uint32_t i = 0; i < e->nimports; i++) {
        const pva_import *im = &e->imports[i];
        const char *lib = pva_import_lib(e, im);
        int g = pv_libgroup_of_symbol(im->name);
        uint32_t group = g >= 0 && g != PV_LIBGROUP_CXX ? (uint32_t)g
                         : lib                          ? pv_libgroup_of_soname(lib)
                         : g >= 0                       ? (uint32_t)g
                                                        : PV_LIBGROUP_OTHER;
        /* A libc-family function from libc stays libc (sem_ and friends aside). */
        if (add_import(&v, &n, &cap, lib ? lib : "(unresolved)", group, im->name))
            goto nomem;
    }
    /* A static binary links its libraries in: their defined functions say
     * which families it uses (cblas_dgemm, GOMP_parallel, cudaMalloc...).
     * libc's and the C++ runtime's own are left out: every binary has them. */
    if (!e->nneeded && !e->has_dynamic) {
        for (uint32_t i = 0; i < e->nsyms; i++) {
            int g = pv_libgroup_of_symbol(e->syms[i].name);
            if (g < 0 || g == PV_LIBGROUP_LIBC || g == PV_LIBGROUP_CXX || e->syms[i].bind == STB_LOCAL)
                continue;
            int dup = 0;
            for (uint32_t k = 0; k < n && !dup; k++)
                for (uint32_t m = 0; m < v[k].n && !dup; m++)
                    dup = !strcmp(v[k].imports[m], e->syms[i].name);
            if (!dup && add_import(&v, &n, &cap, "(linked statically)", (uint32_t)g, e->syms[i].name))
                goto nomem;
        }
    }
    if (n) {
        p->libraries = calloc(n, sizeof *p->libraries);
        if (!p->libraries)
            goto nomem;
        p->nlibraries = n;
        for (uint32_t i = 0; i < n; i++) {
            pv_library *l = &p->libraries[i];
            if (!(l->soname = strdup(v[i].soname)))
                goto nomem;
            l->group = v[i].group;
            if (v[i].n && !(l->imports = calloc(v[i].n, sizeof *l->imports)))
                goto nomem;
            for (uint32_t k = 0; k < v[i].n; k++) {
                if (!(l->imports[k] = strdup(v[i].imports[k])))
                    goto nomem;
                l->nimports++;
            }
        }
    }
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "out of memory listing imported libraries");
done:
    for (uint32_t i = 0; i < n; i++)
        free(v[i].imports);
    free(v);
    return rc;
}
