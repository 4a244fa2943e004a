/**
 * @file mix.h
 * @brief The instruction-mix classes: one table, in one place.
 *
 * Every module that counts operations (the binary analyzer's decoder, the
 * emulator's dynamic counts, the cost model's per-class costs, the profile
 * JSON) uses these classes and these names, and nothing else.
 *
 * Counting convention: an instruction contributes one operation to its
 * compute class (PV_MIX_INT_ALU for `add`, PV_MIX_FP_FMA for `vfmadd231sd`,
 * and so on) and, independently, one PV_MIX_LOAD if it reads memory and one
 * PV_MIX_STORE if it writes memory. A plain `mov rax, [rbx]` is only a load,
 * `add [rbx], rax` is a load, an int ALU op and a store. The sum of a mix is
 * therefore at least the instruction count; the instruction count itself is
 * kept separately. Bytes loaded and stored are tracked alongside the classes.
 */
#ifndef PREVISION_MIX_H
#define PREVISION_MIX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** X-macro: PV_MIX_CLASS(enum suffix, JSON/CLI name, one-line description). */
#define PV_MIX_CLASSES(X)                                                          \
    X(INT_ALU, "int_alu", "integer add/sub/logic/shift/compare/move between registers") \
    X(INT_MUL, "int_mul", "integer multiply")                                        \
    X(INT_DIV, "int_div", "integer divide")                                          \
    X(FP_ADD, "fp_add", "scalar floating-point add/sub/compare/convert")            \
    X(FP_MUL, "fp_mul", "scalar floating-point multiply")                          \
    X(FP_FMA, "fp_fma", "scalar floating-point fused multiply-add")                \
    X(FP_DIVSQRT, "fp_divsqrt", "scalar floating-point divide or square root")     \
    X(SIMD_INT_128, "simd_int_128", "packed integer op on 128-bit vectors")         \
    X(SIMD_INT_256, "simd_int_256", "packed integer op on 256-bit vectors")         \
    X(SIMD_INT_512, "simd_int_512", "packed integer op on 512-bit vectors")         \
    X(SIMD_FP_128, "simd_fp_128", "packed floating-point op on 128-bit vectors")    \
    X(SIMD_FP_256, "simd_fp_256", "packed floating-point op on 256-bit vectors")    \
    X(SIMD_FP_512, "simd_fp_512", "packed floating-point op on 512-bit vectors")    \
    X(LOAD, "load", "memory read (in addition to the compute class)")              \
    X(STORE, "store", "memory write (in addition to the compute class)")           \
    X(BRANCH_COND, "branch_cond", "conditional branch")                            \
    X(JUMP, "jump", "unconditional jump, direct or indirect")                      \
    X(CALL, "call", "call, direct or indirect")                                    \
    X(RET, "ret", "return")                                                         \
    X(STRING, "string", "string instruction (movs/stos/cmps/scas/lods, rep or not)") \
    X(ATOMIC, "atomic", "locked or implicitly atomic read-modify-write (lock prefix, xchg with memory)") \
    X(CRYPTO, "crypto", "AES, SHA or carry-less multiply (CLMUL)")                  \
    X(SYSCALL, "syscall", "system call")                                            \
    X(OTHER, "other", "everything else (nop, cpuid, fences, x87, ...)")

/** The classes, in table order. */
typedef enum pv_mix_class {
#define PV_MIX_ENUM_(id, name, desc) PV_MIX_##id,
    PV_MIX_CLASSES(PV_MIX_ENUM_)
#undef PV_MIX_ENUM_
    PV_MIX_NCLASSES
} pv_mix_class;

/**
 * A static instruction mix: operation counts per class plus bytes moved.
 * 32-bit counts: one function's or block's static mix fits easily.
 */
typedef struct pv_mix {
    uint32_t n[PV_MIX_NCLASSES]; /**< operations per class */
    uint32_t bytes_loaded;       /**< bytes read from memory, sum over operations */
    uint32_t bytes_stored;       /**< bytes written to memory */
} pv_mix;

/** A dynamic (or whole-program) mix: 64-bit counts. */
typedef struct pv_mix64 {
    uint64_t n[PV_MIX_NCLASSES];
    uint64_t bytes_loaded;
    uint64_t bytes_stored;
} pv_mix64;

/** @return the stable name of @p c ("int_alu"...), or NULL if out of range. */
const char *pv_mix_class_name(pv_mix_class c);

/** @return the one-line description of @p c, or NULL if out of range. */
const char *pv_mix_class_desc(pv_mix_class c);

/** @return the class named @p name, or -1 if no class has that name. */
int pv_mix_class_from_name(const char *name);

/** dst += src (static into static), class by class; the 32-bit counts wrap on overflow. */
void pv_mix_add(pv_mix *dst, const pv_mix *src);

/** dst += src * times (static scaled into dynamic). */
void pv_mix64_add_scaled(pv_mix64 *dst, const pv_mix *src, uint64_t times);

/** dst += src (dynamic into dynamic). */
void pv_mix64_add(pv_mix64 *dst, const pv_mix64 *src);

/** @return the sum of all class counts of @p m (not the byte counts). */
uint64_t pv_mix_total(const pv_mix *m);

/** @return the sum of all class counts of @p m (not the byte counts). */
uint64_t pv_mix64_total(const pv_mix64 *m);

#ifdef __cplusplus
}
#endif
#endif
