/* Declarations shared by the costmodel's .c files (and its white-box tests). */
#ifndef PV_COSTMODEL_INTERNAL_H
#define PV_COSTMODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prevision/costmodel.h"

/* A microbenchmark: runs n iterations of a loop body of `ops` operations. */
typedef void (*pv_kern_fn)(uint64_t n, void *buf);

enum { PV_K_LAT = 1, PV_K_THR = 2, PV_K_BOTH = 3 };

/* CPU features a kernel needs (checked with CPUID before it runs). */
enum {
    PV_F_NONE = 0, PV_F_AVX, PV_F_AVX2, PV_F_FMA, PV_F_AVX512F, PV_F_AES, PV_F_PCLMUL, PV_F_SHA,
    PV_F_SSE41, PV_F_NFEATURES
};

typedef struct pv_kernel_def {
    const char *name;  /* "add r64", "vfmadd231pd ymm" */
    int cls;           /* pv_mix_class */
    int kind;          /* PV_K_LAT, PV_K_THR, PV_K_BOTH */
    unsigned ops;      /* operations per loop iteration */
    int feature;       /* PV_F_* */
    pv_kern_fn fn;
    int aux;           /* 1: recorded in kernels[] but not part of its class's figure */
} pv_kernel_def;

/* The kernel table (x86-64; empty elsewhere). */
extern const pv_kernel_def pv_kernels[];
extern const size_t pv_nkernels;

/* Does this CPU (and OS) support feature f? */
int pv_cpu_has(int feature);
/* Name of feature f ("avx2"). */
const char *pv_feature_name(int feature);

/* Unpredictable-branch loop over a byte array of PV_BRANCH_BYTES entries (1 MiB, the
 * calibration's scratch buffer); one branch per iteration. */
#define PV_BRANCH_BYTES (1u << 20)
void pv_kern_branch_pattern(uint64_t n, const uint8_t *bytes);
/* Random loads over a[0..mask], each followed by PV_KERN_WINDOW_FILL independent
 * adds; PV_KERN_WINDOW_INSNS instructions per load in all (x86-64). Returns a sum. */
#define PV_KERN_WINDOW_FILL 24
#define PV_KERN_WINDOW_INSNS (PV_KERN_WINDOW_FILL + 8)
_Static_assert(PV_KERN_WINDOW_INSNS == PV_WINDOW_INSNS, "the window kernel's size is part of the machine model");
uint64_t pv_kern_window(uint64_t n, const uint64_t *a, uint64_t mask);
/* Pointer chase: follows n pointers starting at *start; returns the end (so it is not optimized out). */
void *pv_kern_chase(uint64_t n, void *start);

/* Monotonic time in ns. */
double pv_now_ns(void);

/* Summary statistics of v[0..n) (sorts v). */
pv_stat pv_stat_of(double *v, unsigned n, pv_method method);

/* PAPI: probe hardware counters. Returns the number of hardware counters of
 * component 0 (0 when PAPI has none or fails) and fills version and note. */
int pv_papi_probe(char *version, size_t vlen, char *note, size_t nlen);

/* A PAPI session counting PAPI_TOT_CYC (and PAPI_TOT_INS when possible). */
typedef struct pv_papi pv_papi;
/* PV_ERR_UNSUPPORTED when the host has no usable counters (the caller falls back to timers). */
int pv_papi_open(pv_papi **out);
int pv_papi_start(pv_papi *p);
/* Stops and returns the cycles counted since start (instructions in *insns if non-NULL). */
int pv_papi_stop(pv_papi *p, long long *cycles, long long *insns);
void pv_papi_close(pv_papi *p);

#endif
