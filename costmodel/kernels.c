/* Microbenchmark kernels, written as inline assembly so that the compiler
 * can neither vectorize, reorder nor delete them: each one is a loop whose
 * body repeats one instruction either as one dependent chain (latency) or
 * over 8-12 independent registers (reciprocal throughput). SIMD kernels
 * exist for every width; the calibrator runs only those the CPU supports
 * (pv_cpu_has), so no AVX instruction executes on a host without it.
 * The loop overhead (dec + jnz) is one fused op per 16-32 measured ops. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#if defined(__x86_64__)

#define R2(x) x x
#define R4(x) x x x x
#define R8(x) R4(x) R4(x)
#define R16(x) R8(x) R8(x)
#define R32(x) R16(x) R16(x)
/* Apply M to the 8 GPRs r8..r15 and to the 12 vector registers 2..13. */
#define G8(M) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define V12(M) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13)

#define KERN(fn, attr, setup, body, teardown, ...)                                                   \
    attr static void fn(uint64_t n, void *buf)                                                       \
    {                                                                                                \
        __asm__ volatile(setup "\n\t.p2align 4\n1:\n" body "\tdec %0\n\tjnz 1b\n" teardown            \
                         : "+r"(n)                                                                   \
                         : "r"(buf)                                                                  \
                         : "cc", "memory", __VA_ARGS__);                                             \
    }

#define GPR_CLOB "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"
#define XMM_CLOB "rax", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
                 "xmm10", "xmm11", "xmm12", "xmm13"

#define GPR_SETUP                                                                                   \
    "mov $1, %%ecx\n\tmov $1, %%eax\n\tmov $1, %%r8d\n\tmov $1, %%r9d\n\tmov $1, %%r10d\n\t"          \
    "mov $1, %%r11d\n\tmov $1, %%r12d\n\tmov $1, %%r13d\n\tmov $1, %%r14d\n\tmov $1, %%r15d\n\t"

/* Scalar FP registers all 1.0 (no denormals, no overflow over 1e10 ops). */
#define ONE_TO(i) "movapd %%xmm0, %%xmm" #i "\n\t"
#define FP_SETUP "mov $0x3ff0000000000000, %%rax\n\tmovq %%rax, %%xmm0\n\tmovapd %%xmm0, %%xmm1\n\t" V12(ONE_TO)
/* Vector registers all zero: adds, multiplies and FMAs of zeros run at full speed. */
#define ZX(i) "pxor %%xmm" #i ", %%xmm" #i "\n\t"
#define ZY(i) "vpxor %%ymm" #i ", %%ymm" #i ", %%ymm" #i "\n\t"
#define ZZ(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define XSETUP ZX(0) ZX(1) V12(ZX)
#define YSETUP ZY(0) ZY(1) V12(ZY)
#define ZSETUP ZZ(0) ZZ(1) V12(ZZ)
#define VZ "\tvzeroupper\n"

#define AVX __attribute__((target("avx")))
#define AVX2 __attribute__((target("avx2")))
#define FMA __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f")))
#define NOATTR

/* ---- integer ---- */
#define ADD_R(i) "add %%rcx, %%r" #i "\n\t"
#define IMUL_R(i) "imul %%rcx, %%r" #i "\n\t"
#define DIV_T(i) "mov %%r8, %%rax\n\txor %%edx, %%edx\n\tdiv %%rcx\n\t"
KERN(k_add_lat, NOATTR, GPR_SETUP, R32("add %%rcx, %%rax\n\t"), "", GPR_CLOB)
KERN(k_add_thr, NOATTR, GPR_SETUP, R4(G8(ADD_R)), "", GPR_CLOB)
KERN(k_imul_lat, NOATTR, GPR_SETUP, R32("imul %%rcx, %%rax\n\t"), "", GPR_CLOB)
KERN(k_imul_thr, NOATTR, GPR_SETUP, R4(G8(IMUL_R)), "", GPR_CLOB)
/* 64-bit divide of a 47-bit dividend by 1: the quotient keeps all its bits,
 * so no early-out shortens it. The chain runs through rax. */
KERN(k_div_lat, NOATTR, GPR_SETUP "mov $0x7fffffffffff, %%rax\n\t",
     R8("xor %%edx, %%edx\n\tdiv %%rcx\n\t"), "", GPR_CLOB)
KERN(k_div_thr, NOATTR, GPR_SETUP "mov $0x7fffffffffff, %%r8\n\t", R8(DIV_T(0)), "", GPR_CLOB)

/* ---- scalar floating point ---- */
#define SD_T(op) op " %%xmm1, %%xmm"
#define ADDSD_T(i) "addsd %%xmm1, %%xmm" #i "\n\t"
#define MULSD_T(i) "mulsd %%xmm1, %%xmm" #i "\n\t"
#define FMASD_T(i) "vfmadd231sd %%xmm1, %%xmm1, %%xmm" #i "\n\t"
#define DIVSD_T(i) "divsd %%xmm1, %%xmm" #i "\n\t"
#define SQRTSD_T(i) "sqrtsd %%xmm" #i ", %%xmm" #i "\n\t"
KERN(k_addsd_lat, NOATTR, FP_SETUP, R32("addsd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_addsd_thr, NOATTR, FP_SETUP, R2(V12(ADDSD_T)), "", XMM_CLOB)
KERN(k_mulsd_lat, NOATTR, FP_SETUP, R32("mulsd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_mulsd_thr, NOATTR, FP_SETUP, R2(V12(MULSD_T)), "", XMM_CLOB)
KERN(k_fmasd_lat, FMA, FP_SETUP, R32("vfmadd231sd %%xmm1, %%xmm1, %%xmm0\n\t"), VZ, XMM_CLOB)
KERN(k_fmasd_thr, FMA, FP_SETUP, R2(V12(FMASD_T)), VZ, XMM_CLOB)
KERN(k_divsd_lat, NOATTR, FP_SETUP, R16("divsd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_divsd_thr, NOATTR, FP_SETUP, V12(DIVSD_T), "", XMM_CLOB)
KERN(k_sqrtsd_lat, NOATTR, FP_SETUP, R16("sqrtsd %%xmm0, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_sqrtsd_thr, NOATTR, FP_SETUP, V12(SQRTSD_T), "", XMM_CLOB)

/* ---- SIMD, 128 bits ---- */
#define PADDD_T(i) "paddd %%xmm1, %%xmm" #i "\n\t"
#define PMULLW_T(i) "pmullw %%xmm1, %%xmm" #i "\n\t"
#define ADDPD_T(i) "addpd %%xmm1, %%xmm" #i "\n\t"
#define MULPD_T(i) "mulpd %%xmm1, %%xmm" #i "\n\t"
#define FMAPD_T(i) "vfmadd231pd %%xmm1, %%xmm1, %%xmm" #i "\n\t"
KERN(k_paddd_lat, NOATTR, XSETUP, R32("paddd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_paddd_thr, NOATTR, XSETUP, R2(V12(PADDD_T)), "", XMM_CLOB)
KERN(k_pmullw_lat, NOATTR, XSETUP, R32("pmullw %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_pmullw_thr, NOATTR, XSETUP, R2(V12(PMULLW_T)), "", XMM_CLOB)
KERN(k_addpd_lat, NOATTR, XSETUP, R32("addpd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_addpd_thr, NOATTR, XSETUP, R2(V12(ADDPD_T)), "", XMM_CLOB)
KERN(k_mulpd_lat, NOATTR, XSETUP, R32("mulpd %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_mulpd_thr, NOATTR, XSETUP, R2(V12(MULPD_T)), "", XMM_CLOB)
KERN(k_fmapd_lat, FMA, XSETUP, R32("vfmadd231pd %%xmm1, %%xmm1, %%xmm0\n\t"), VZ, XMM_CLOB)
KERN(k_fmapd_thr, FMA, XSETUP, R2(V12(FMAPD_T)), VZ, XMM_CLOB)

/* ---- SIMD, 256 bits ---- */
#define VPADDD_Y(i) "vpaddd %%ymm1, %%ymm" #i ", %%ymm" #i "\n\t"
#define VADDPD_Y(i) "vaddpd %%ymm1, %%ymm" #i ", %%ymm" #i "\n\t"
#define VMULPD_Y(i) "vmulpd %%ymm1, %%ymm" #i ", %%ymm" #i "\n\t"
#define VFMA_Y(i) "vfmadd231pd %%ymm1, %%ymm1, %%ymm" #i "\n\t"
KERN(k_vpaddd_y_lat, AVX2, YSETUP, R32("vpaddd %%ymm1, %%ymm0, %%ymm0\n\t"), VZ, XMM_CLOB)
KERN(k_vpaddd_y_thr, AVX2, YSETUP, R2(V12(VPADDD_Y)), VZ, XMM_CLOB)
KERN(k_vaddpd_y_lat, AVX, YSETUP, R32("vaddpd %%ymm1, %%ymm0, %%ymm0\n\t"), VZ, XMM_CLOB)
KERN(k_vaddpd_y_thr, AVX, YSETUP, R2(V12(VADDPD_Y)), VZ, XMM_CLOB)
KERN(k_vmulpd_y_lat, AVX, YSETUP, R32("vmulpd %%ymm1, %%ymm0, %%ymm0\n\t"), VZ, XMM_CLOB)
KERN(k_vmulpd_y_thr, AVX, YSETUP, R2(V12(VMULPD_Y)), VZ, XMM_CLOB)
KERN(k_vfma_y_lat, FMA, YSETUP, R32("vfmadd231pd %%ymm1, %%ymm1, %%ymm0\n\t"), VZ, XMM_CLOB)
KERN(k_vfma_y_thr, FMA, YSETUP, R2(V12(VFMA_Y)), VZ, XMM_CLOB)

/* ---- SIMD, 512 bits ---- */
#define VPADDD_Z(i) "vpaddd %%zmm1, %%zmm" #i ", %%zmm" #i "\n\t"
#define VADDPD_Z(i) "vaddpd %%zmm1, %%zmm" #i ", %%zmm" #i "\n\t"
#define VMULPD_Z(i) "vmulpd %%zmm1, %%zmm" #i ", %%zmm" #i "\n\t"
#define VFMA_Z(i) "vfmadd231pd %%zmm1, %%zmm1, %%zmm" #i "\n\t"
KERN(k_vpaddd_z_lat, AVX512, ZSETUP, R32("vpaddd %%zmm1, %%zmm0, %%zmm0\n\t"), VZ, XMM_CLOB)
KERN(k_vpaddd_z_thr, AVX512, ZSETUP, R2(V12(VPADDD_Z)), VZ, XMM_CLOB)
KERN(k_vaddpd_z_lat, AVX512, ZSETUP, R32("vaddpd %%zmm1, %%zmm0, %%zmm0\n\t"), VZ, XMM_CLOB)
KERN(k_vaddpd_z_thr, AVX512, ZSETUP, R2(V12(VADDPD_Z)), VZ, XMM_CLOB)
KERN(k_vmulpd_z_lat, AVX512, ZSETUP, R32("vmulpd %%zmm1, %%zmm0, %%zmm0\n\t"), VZ, XMM_CLOB)
KERN(k_vmulpd_z_thr, AVX512, ZSETUP, R2(V12(VMULPD_Z)), VZ, XMM_CLOB)
KERN(k_vfma_z_lat, AVX512, ZSETUP, R32("vfmadd231pd %%zmm1, %%zmm1, %%zmm0\n\t"), VZ, XMM_CLOB)
KERN(k_vfma_z_thr, AVX512, ZSETUP, R2(V12(VFMA_Z)), VZ, XMM_CLOB)

/* ---- memory ---- */
#define LOAD_T(i) "mov (%1), %%r" #i "\n\t"
#define STORE_T(i) "mov %%rcx, " #i "*8(%1)\n\t"
/* buf[0] points to itself: a dependent chain of L1 hits. */
KERN(k_load_lat, NOATTR, GPR_SETUP "mov %1, %%rax\n\tmov %%rax, (%%rax)\n\t", R32("mov (%%rax), %%rax\n\t"), "",
     GPR_CLOB)
KERN(k_load_thr, NOATTR, GPR_SETUP, R4(G8(LOAD_T)), "", GPR_CLOB)
/* A store's latency is observable only through store-to-load forwarding. */
KERN(k_store_lat, NOATTR, GPR_SETUP, R16("mov %%rax, (%1)\n\tmov (%1), %%rax\n\t"), "", GPR_CLOB)
KERN(k_store_thr, NOATTR, GPR_SETUP, R4(G8(STORE_T)), "", GPR_CLOB)

/* ---- control flow ---- */
KERN(k_branch, NOATTR, GPR_SETUP, R32("test %%rcx, %%rcx\n\tjz 2f\n2:\n\t"), "", GPR_CLOB)
/* Taken jumps and calls land on 16-byte boundaries: 32 of them packed in 64
 * bytes overflow the branch target buffer's entries per line, and the
 * figure then swung between 1.4 and 8 cycles from one calibration to the
 * next; real code does not pack taken branches that densely. */
KERN(k_jump, NOATTR, "", R32("jmp 2f\n\t.p2align 4\n2:\n\t"), "", "rcx")
/* The calls push below rsp: step over the red zone first. */
KERN(k_callret, NOATTR, "sub $256, %%rsp\n\t", R16("call 2f\n\tjmp 3f\n\t.p2align 4\n2:\n\tret\n\t.p2align 4\n3:\n\t"), "\tadd $256, %%rsp\n",
     "rcx")

/* ---- string, atomic, other ---- */
KERN(k_repmovsb, NOATTR, "", R4("mov %1, %%rsi\n\tlea 2048(%1), %%rdi\n\tmov $64, %%ecx\n\trep movsb\n\t"), "",
     "rsi", "rdi", "rcx")
KERN(k_lockadd, NOATTR, "", R16("lock addq $1, (%1)\n\t"), "", "rcx")
KERN(k_nop, NOATTR, "", R32("nop\n\t"), "", "rcx")

/* ---- crypto ---- */
#define AES_T(i) "aesenc %%xmm1, %%xmm" #i "\n\t"
#define CLMUL_T(i) "pclmulqdq $0, %%xmm1, %%xmm" #i "\n\t"
#define SHA_T(i) "sha256rnds2 %%xmm0, %%xmm1, %%xmm" #i "\n\t"
KERN(k_aes_lat, __attribute__((target("aes"))), XSETUP, R32("aesenc %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_aes_thr, __attribute__((target("aes"))), XSETUP, R2(V12(AES_T)), "", XMM_CLOB)
KERN(k_clmul_lat, __attribute__((target("pclmul"))), XSETUP, R32("pclmulqdq $0, %%xmm1, %%xmm0\n\t"), "", XMM_CLOB)
KERN(k_clmul_thr, __attribute__((target("pclmul"))), XSETUP, R2(V12(CLMUL_T)), "", XMM_CLOB)
KERN(k_sha_lat, __attribute__((target("sha"))), XSETUP, R16("sha256rnds2 %%xmm0, %%xmm1, %%xmm2\n\t"), "", XMM_CLOB)
KERN(k_sha_thr, __attribute__((target("sha"))), XSETUP, V12(SHA_T), "", XMM_CLOB)

#define K(name, cls, kind, ops, feat, fn) {name, PV_MIX_##cls, kind, ops, feat, fn, 0}
/* Measured and recorded, but the class's figure comes from the class's common
 * operation: fp_divsqrt is divides far more often than square roots. */
#define KAUX(name, cls, kind, ops, feat, fn) {name, PV_MIX_##cls, kind, ops, feat, fn, 1}
const pv_kernel_def pv_kernels[] = {
    K("add r64", INT_ALU, PV_K_LAT, 32, PV_F_NONE, k_add_lat),
    K("add r64", INT_ALU, PV_K_THR, 32, PV_F_NONE, k_add_thr),
    K("imul r64", INT_MUL, PV_K_LAT, 32, PV_F_NONE, k_imul_lat),
    K("imul r64", INT_MUL, PV_K_THR, 32, PV_F_NONE, k_imul_thr),
    K("div r64", INT_DIV, PV_K_LAT, 8, PV_F_NONE, k_div_lat),
    K("div r64", INT_DIV, PV_K_THR, 8, PV_F_NONE, k_div_thr),
    K("addsd", FP_ADD, PV_K_LAT, 32, PV_F_NONE, k_addsd_lat),
    K("addsd", FP_ADD, PV_K_THR, 24, PV_F_NONE, k_addsd_thr),
    K("mulsd", FP_MUL, PV_K_LAT, 32, PV_F_NONE, k_mulsd_lat),
    K("mulsd", FP_MUL, PV_K_THR, 24, PV_F_NONE, k_mulsd_thr),
    K("vfmadd231sd", FP_FMA, PV_K_LAT, 32, PV_F_FMA, k_fmasd_lat),
    K("vfmadd231sd", FP_FMA, PV_K_THR, 24, PV_F_FMA, k_fmasd_thr),
    K("divsd", FP_DIVSQRT, PV_K_LAT, 16, PV_F_NONE, k_divsd_lat),
    K("divsd", FP_DIVSQRT, PV_K_THR, 12, PV_F_NONE, k_divsd_thr),
    KAUX("sqrtsd", FP_DIVSQRT, PV_K_LAT, 16, PV_F_NONE, k_sqrtsd_lat),
    KAUX("sqrtsd", FP_DIVSQRT, PV_K_THR, 12, PV_F_NONE, k_sqrtsd_thr),
    K("paddd xmm", SIMD_INT_128, PV_K_LAT, 32, PV_F_NONE, k_paddd_lat),
    K("paddd xmm", SIMD_INT_128, PV_K_THR, 24, PV_F_NONE, k_paddd_thr),
    K("pmullw xmm", SIMD_INT_128, PV_K_LAT, 32, PV_F_NONE, k_pmullw_lat),
    K("pmullw xmm", SIMD_INT_128, PV_K_THR, 24, PV_F_NONE, k_pmullw_thr),
    K("addpd xmm", SIMD_FP_128, PV_K_LAT, 32, PV_F_NONE, k_addpd_lat),
    K("addpd xmm", SIMD_FP_128, PV_K_THR, 24, PV_F_NONE, k_addpd_thr),
    K("mulpd xmm", SIMD_FP_128, PV_K_LAT, 32, PV_F_NONE, k_mulpd_lat),
    K("mulpd xmm", SIMD_FP_128, PV_K_THR, 24, PV_F_NONE, k_mulpd_thr),
    K("vfmadd231pd xmm", SIMD_FP_128, PV_K_LAT, 32, PV_F_FMA, k_fmapd_lat),
    K("vfmadd231pd xmm", SIMD_FP_128, PV_K_THR, 24, PV_F_FMA, k_fmapd_thr),
    K("vpaddd ymm", SIMD_INT_256, PV_K_LAT, 32, PV_F_AVX2, k_vpaddd_y_lat),
    K("vpaddd ymm", SIMD_INT_256, PV_K_THR, 24, PV_F_AVX2, k_vpaddd_y_thr),
    K("vaddpd ymm", SIMD_FP_256, PV_K_LAT, 32, PV_F_AVX, k_vaddpd_y_lat),
    K("vaddpd ymm", SIMD_FP_256, PV_K_THR, 24, PV_F_AVX, k_vaddpd_y_thr),
    K("vmulpd ymm", SIMD_FP_256, PV_K_LAT, 32, PV_F_AVX, k_vmulpd_y_lat),
    K("vmulpd ymm", SIMD_FP_256, PV_K_THR, 24, PV_F_AVX, k_vmulpd_y_thr),
    K("vfmadd231pd ymm", SIMD_FP_256, PV_K_LAT, 32, PV_F_FMA, k_vfma_y_lat),
    K("vfmadd231pd ymm", SIMD_FP_256, PV_K_THR, 24, PV_F_FMA, k_vfma_y_thr),
    K("vpaddd zmm", SIMD_INT_512, PV_K_LAT, 32, PV_F_AVX512F, k_vpaddd_z_lat),
    K("vpaddd zmm", SIMD_INT_512, PV_K_THR, 24, PV_F_AVX512F, k_vpaddd_z_thr),
    K("vaddpd zmm", SIMD_FP_512, PV_K_LAT, 32, PV_F_AVX512F, k_vaddpd_z_lat),
    K("vaddpd zmm", SIMD_FP_512, PV_K_THR, 24, PV_F_AVX512F, k_vaddpd_z_thr),
    K("vmulpd zmm", SIMD_FP_512, PV_K_LAT, 32, PV_F_AVX512F, k_vmulpd_z_lat),
    K("vmulpd zmm", SIMD_FP_512, PV_K_THR, 24, PV_F_AVX512F, k_vmulpd_z_thr),
    K("vfmadd231pd zmm", SIMD_FP_512, PV_K_LAT, 32, PV_F_AVX512F, k_vfma_z_lat),
    K("vfmadd231pd zmm", SIMD_FP_512, PV_K_THR, 24, PV_F_AVX512F, k_vfma_z_thr),
    K("mov load", LOAD, PV_K_LAT, 32, PV_F_NONE, k_load_lat),
    K("mov load", LOAD, PV_K_THR, 32, PV_F_NONE, k_load_thr),
    K("mov store", STORE, PV_K_LAT, 16, PV_F_NONE, k_store_lat),
    K("mov store", STORE, PV_K_THR, 32, PV_F_NONE, k_store_thr),
    K("jcc predictable", BRANCH_COND, PV_K_BOTH, 32, PV_F_NONE, k_branch),
    K("jmp", JUMP, PV_K_BOTH, 32, PV_F_NONE, k_jump),
    K("call+ret", CALL, PV_K_BOTH, 16, PV_F_NONE, k_callret),
    K("rep movsb 64B", STRING, PV_K_BOTH, 4, PV_F_NONE, k_repmovsb),
    K("lock add", ATOMIC, PV_K_BOTH, 16, PV_F_NONE, k_lockadd),
    K("nop", OTHER, PV_K_BOTH, 32, PV_F_NONE, k_nop),
    K("aesenc", CRYPTO, PV_K_LAT, 32, PV_F_AES, k_aes_lat),
    K("aesenc", CRYPTO, PV_K_THR, 24, PV_F_AES, k_aes_thr),
    K("pclmulqdq", CRYPTO, PV_K_LAT, 32, PV_F_PCLMUL, k_clmul_lat),
    K("pclmulqdq", CRYPTO, PV_K_THR, 24, PV_F_PCLMUL, k_clmul_thr),
    K("sha256rnds2", CRYPTO, PV_K_LAT, 16, PV_F_SHA, k_sha_lat),
    K("sha256rnds2", CRYPTO, PV_K_THR, 12, PV_F_SHA, k_sha_thr),
};
const size_t pv_nkernels = sizeof pv_kernels / sizeof pv_kernels[0];

void pv_kern_branch_pattern(uint64_t n, const uint8_t *bytes)
{
    __asm__ volatile("xor %%edx, %%edx\n\t"
                     ".p2align 4\n"
                     "1:\n\t"
                     "movzbl (%1,%%rdx), %%eax\n\t"
                     "test %%eax, %%eax\n\t"
                     "jz 2f\n\t"
                     "add $1, %%rcx\n"
                     "2:\n\t"
                     "inc %%edx\n\t"
                     "and $1048575, %%edx\n\t"
                     "dec %0\n\t"
                     "jnz 1b\n"
                     : "+r"(n)
                     : "r"(bytes)
                     : "cc", "memory", "rax", "rcx", "rdx");
}

#define FILL4 "add $1, %%r8\n\tadd $1, %%r9\n\tadd $1, %%r10\n\tadd $1, %%r11\n\t"
#define FILL16 FILL4 FILL4 FILL4 FILL4

uint64_t pv_kern_window(uint64_t n, const uint64_t *a, uint64_t mask)
{
    uint64_t x = 1, s = 0;
    const uint64_t M = 6364136223846793005ull, A = 1442695040888963407ull;
    __asm__ volatile(".p2align 4\n"
                     "1:\n\t"
                     "imul %[m], %[x]\n\t"
                     "add %[c], %[x]\n\t"
                     "mov %[x], %%rax\n\t"
                     "shr $20, %%rax\n\t"
                     "and %[mask], %%rax\n\t"
                     "add (%[a],%%rax,8), %[s]\n\t" FILL16 FILL4 FILL4
                     "dec %[n]\n\t"
                     "jnz 1b\n"
                     : [n] "+r"(n), [x] "+r"(x), [s] "+r"(s)
                     : [a] "r"(a), [mask] "r"(mask), [m] "r"(M), [c] "r"(A)
                     : "cc", "memory", "rax", "r8", "r9", "r10", "r11");
    return s;
}

void *pv_kern_chase(uint64_t n, void *start)
{
    void *p = start;
    /* 8 loads per iteration; n is rounded up to a multiple of 8. */
    uint64_t it = (n + 7) / 8;
    __asm__ volatile(".p2align 4\n"
                     "1:\n\t" R8("mov (%1), %1\n\t") "dec %0\n\tjnz 1b\n"
                     : "+r"(it), "+r"(p)
                     :
                     : "cc", "memory");
    return p;
}

#else /* not x86-64: no kernels; calibration reports PV_ERR_UNSUPPORTED */

const pv_kernel_def pv_kernels[] = {{NULL, 0, 0, 0, 0, NULL, 0}};
const size_t pv_nkernels = 0;
void pv_kern_branch_pattern(uint64_t n, const uint8_t *bytes) { (void)n; (void)bytes; }
uint64_t pv_kern_window(uint64_t n, const uint64_t *a, uint64_t mask)
{
    uint64_t s = 0, x = 1;
    while (n--) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        s += a[(x >> 20) & mask];
    }
    return s;
}
void *pv_kern_chase(uint64_t n, void *start)
{
    void *volatile *p = start;
    while (n--)
        p = *p;
    return (void *)p;
}
#endif

static int cpu_has(int f);

int pv_cpu_has(int f) { return cpu_has(f) != 0; }

static int cpu_has(int f)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (f) {
    case PV_F_NONE: return 1;
    case PV_F_AVX: return __builtin_cpu_supports("avx");
    case PV_F_AVX2: return __builtin_cpu_supports("avx2");
    case PV_F_FMA: return __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2");
    case PV_F_AVX512F: return __builtin_cpu_supports("avx512f");
    case PV_F_AES: return __builtin_cpu_supports("aes");
    case PV_F_PCLMUL: return __builtin_cpu_supports("pclmul");
    case PV_F_SSE41: return __builtin_cpu_supports("sse4.1");
    case PV_F_SHA: {
        /* __builtin_cpu_supports has no "sha" on every compiler: CPUID leaf 7, EBX bit 29. */
        unsigned a, b, c, d;
        __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
        if (a < 7)
            return 0;
        __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        return (b >> 29) & 1;
    }
    default: return 0;
    }
#else
    return f == PV_F_NONE;
#endif
}

const char *pv_feature_name(int f)
{
    static const char *const names[PV_F_NFEATURES] = {"", "avx", "avx2", "fma", "avx512f", "aes", "pclmul",
                                                      "sha", "sse4.1"};
    return f >= 0 && f < PV_F_NFEATURES ? names[f] : "?";
}
