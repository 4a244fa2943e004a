/* Calibration: run the microbenchmarks and fill a machine model.
 *
 * Every figure is measured `reps` times; min, median and max are kept.
 * Time comes from clock_gettime(CLOCK_THREAD_CPUTIME_ID): the time the
 * measuring thread itself ran, user and kernel, so that other processes on
 * a shared machine (the project's machines run four builds on two cores)
 * do not stretch it; CLOCK_MONOTONIC only where waiting is what is measured
 * (the disk read) and for the total duration. Cycles come from PAPI's
 * PAPI_TOT_CYC when the host has hardware counters; otherwise from the
 * effective clock, itself measured as the rate of a chain of dependent
 * 1-cycle integer adds (the "timer" method). The method is recorded with
 * every figure. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "prevision/version.h"

extern char **environ;

double pv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The calling thread's CPU time in ns (monotonic time where the kernel has no such clock). */
static double cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return pv_now_ns();
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time of the whole process (all its threads) in ns. */
static double proc_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return pv_now_ns();
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

pv_stat pv_stat_of(double *v, unsigned n, pv_method method)
{
    pv_stat s = {0, 0, 0, 0, PV_METHOD_NONE};
    if (!n)
        return s;
    qsort(v, n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.reps = n;
    s.method = (uint8_t)method;
    return s;
}

/* Scale every value of a statistic (ns -> cycles and the like). */
static pv_stat stat_scale(pv_stat s, double k)
{
    s.min *= k;
    s.median *= k;
    s.max *= k;
    if (s.min > s.max) {
        double t = s.min;
        s.min = s.max;
        s.max = t;
    }
    return s;
}

typedef struct cal {
    const pv_calibrate_options *o;
    pv_machine *m;
    unsigned reps;
    double target_ns;     /* wall time of one repetition */
    pv_papi *papi;        /* NULL: timer method */
    double ghz;           /* effective clock (median) */
    void *buf;            /* 1 MiB scratch for the kernels */
    uint64_t done, total; /* progress */
} cal;

static void progress(cal *c, const char *phase)
{
    c->done++;
    if (c->o->progress)
        c->o->progress(c->o->progress_ud, phase, c->done, c->total);
}

/* Find an iteration count that makes fn run about target_ns. */
static uint64_t size_kernel(pv_kern_fn fn, void *buf, double target_ns)
{
    uint64_t n = 256;
    fn(n, buf); /* warm caches, branch predictors and the clock */
    for (;;) {
        double t0 = cpu_ns();
        fn(n, buf);
        double t = cpu_ns() - t0;
        if (t >= target_ns / 8 || n > (1ull << 40)) {
            double k = t > 0 ? target_ns / t : 8;
            uint64_t m = (uint64_t)((double)n * k);
            return m ? m : 1;
        }
        n *= 8;
    }
}

/* One timing of n iterations of a kernel: ns per op and (PAPI) cycles per op. */
static void time_kernel(cal *c, pv_kern_fn fn, uint64_t n, unsigned ops, double *ns, double *cyc)
{
    long long cycles = 0;
    if (c->papi)
        pv_papi_start(c->papi);
    double t0 = cpu_ns();
    fn(n, c->buf);
    double t = cpu_ns() - t0;
    if (c->papi)
        pv_papi_stop(c->papi, &cycles, NULL);
    *ns = t / ((double)n * ops);
    *cyc = c->papi ? (double)cycles / ((double)n * ops) : *ns * c->ghz;
}

/* Run a kernel reps times in a row: fills ns per op and (PAPI) cycles per op. */
static void run_kernel(cal *c, pv_kern_fn fn, unsigned ops, double *ns, double *cyc)
{
    uint64_t n = size_kernel(fn, c->buf, c->target_ns);
    for (unsigned r = 0; r < c->reps; r++)
        time_kernel(c, fn, n, ops, &ns[r], &cyc[r]);
}

/* The effective clock: dependent adds retire one per cycle. */
static void measure_clock(cal *c)
{
    const pv_kernel_def *k = &pv_kernels[0]; /* "add r64" latency */
    double ns[64], cyc[64], ghz[64];
    c->ghz = 1.0;
    run_kernel(c, k->fn, k->ops, ns, cyc);
    for (unsigned r = 0; r < c->reps; r++)
        ghz[r] = c->papi ? cyc[r] / ns[r] : 1.0 / ns[r];
    c->m->clock_ghz = pv_stat_of(ghz, c->reps, c->papi ? PV_METHOD_PAPI : PV_METHOD_TIMER);
    c->ghz = c->m->clock_ghz.median;
    progress(c, "clock");
}

static pv_kernel_result *kernel_slot(pv_machine *m, const char *name, int cls)
{
    for (uint32_t i = 0; i < m->nkernels; i++)
        if (!strcmp(m->kernels[i].name, name))
            return &m->kernels[i];
    if (m->nkernels >= sizeof m->kernels / sizeof m->kernels[0])
        return NULL;
    pv_kernel_result *r = &m->kernels[m->nkernels++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->cls = (uint32_t)cls;
    return r;
}

/* Is the kernel of this name an auxiliary one (not part of its class's figure)? */
static int kernel_aux(const char *name)
{
    for (size_t i = 0; i < pv_nkernels; i++)
        if (pv_kernels[i].name && !strcmp(pv_kernels[i].name, name))
            return pv_kernels[i].aux;
    return 0;
}

/* Median over the class's kernels of each figure (min/max: extremes). */
static void derive_classes(pv_machine *m)
{
    for (int cl = 0; cl < PV_MIX_NCLASSES; cl++) {
        for (int which = 0; which < 2; which++) {
            double med[96], mn = INFINITY, mx = 0;
            unsigned n = 0, reps = 0;
            uint8_t method = PV_METHOD_NONE;
            for (uint32_t i = 0; i < m->nkernels; i++) {
                if ((int)m->kernels[i].cls != cl || kernel_aux(m->kernels[i].name))
                    continue;
                const pv_stat *s = which ? &m->kernels[i].cost.rthroughput : &m->kernels[i].cost.latency;
                if (!s->reps)
                    continue;
                med[n++] = s->median;
                mn = fmin(mn, s->min);
                mx = fmax(mx, s->max);
                reps = s->reps;
                method = s->method;
            }
            if (!n)
                continue;
            pv_stat st = pv_stat_of(med, n, (pv_method)method);
            st.min = fmin(mn, st.median);
            st.max = fmax(mx, st.median);
            st.reps = reps;
            if (which)
                m->classes[cl].rthroughput = st;
            else
                m->classes[cl].latency = st;
        }
    }
    /* A call+ret pair was measured as one: half each. RET shares it. */
    m->classes[PV_MIX_CALL].latency = stat_scale(m->classes[PV_MIX_CALL].latency, 0.5);
    m->classes[PV_MIX_CALL].rthroughput = stat_scale(m->classes[PV_MIX_CALL].rthroughput, 0.5);
    m->classes[PV_MIX_RET] = m->classes[PV_MIX_CALL];
}

/* The class kernels, in passes: each pass times every kernel once, so a
 * kernel's repetitions spread over the whole phase (seconds) instead of
 * following each other within 60 ms. On a VM whose core's other hardware
 * thread belongs to a neighbour, a burst next door halves the throughput of
 * the ALUs for a while: back to back, all repetitions of one kernel fell in
 * such a burst once (int_alu reciprocal throughput 0.37-0.40 cycles in all
 * seven, 0.25-0.27 in every other calibration); spread, a burst reaches a
 * few repetitions of each kernel and the median passes over it.
 * @return PV_OK or PV_ERR_NOMEM. */
static int measure_classes(cal *c)
{
    pv_machine *m = c->m;
    pv_method method = c->papi ? PV_METHOD_PAPI : PV_METHOD_TIMER;
    uint64_t *iters = calloc(pv_nkernels, sizeof *iters);
    double (*cyc)[64] = calloc(pv_nkernels, sizeof *cyc);
    if (!iters || !cyc) {
        free(iters);
        free(cyc);
        return pv_error_set(PV_ERR_NOMEM, "calibration: out of memory for %zu kernels", pv_nkernels);
    }
    for (size_t i = 0; i < pv_nkernels; i++) /* 0: not run (feature absent, or no slot) */
        if (pv_cpu_has(pv_kernels[i].feature) && kernel_slot(m, pv_kernels[i].name, pv_kernels[i].cls))
            iters[i] = size_kernel(pv_kernels[i].fn, c->buf, c->target_ns);
    uint64_t t = 0;
    for (unsigned r = 0; r < c->reps; r++)
        for (size_t i = 0; i < pv_nkernels; i++) {
            double ns;
            if (iters[i])
                time_kernel(c, pv_kernels[i].fn, iters[i], pv_kernels[i].ops, &ns, &cyc[i][r]);
            if (t++ % c->reps == 0) /* one step per kernel in all, as the total counts them */
                progress(c, "instruction classes");
        }
    for (size_t i = 0; i < pv_nkernels; i++) {
        const pv_kernel_def *k = &pv_kernels[i];
        if (!iters[i])
            continue;
        pv_kernel_result *r = kernel_slot(m, k->name, k->cls);
        pv_stat s = pv_stat_of(cyc[i], c->reps, method);
        if (k->kind & PV_K_LAT)
            r->cost.latency = s;
        if (k->kind & PV_K_THR)
            r->cost.rthroughput = s;
    }
    free(iters);
    free(cyc);
    /* SIMD widths present, for the record. */
    static const int feats[] = {PV_F_AVX, PV_F_AVX2, PV_F_FMA, PV_F_AVX512F, PV_F_AES, PV_F_PCLMUL, PV_F_SHA};
    snprintf(m->simd, sizeof m->simd, "sse2");
    for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++)
        if (pv_cpu_has(feats[i])) {
            size_t l = strlen(m->simd);
            snprintf(m->simd + l, sizeof m->simd - l, " %s", pv_feature_name(feats[i]));
        }

    /* Unpredictable branches: random bits versus all zeros, same loop. A
     * pattern that repeats is partly learnt by a large history-based
     * predictor (a 64 KiB one repeated a hundred times was: the penalty
     * came out 11-15 cycles in full runs, 15-19 in quick ones), so no byte
     * is used twice: chunks of at most PV_BRANCH_BYTES fresh random bytes,
     * regenerated (untimed) between chunks. */
    uint8_t *bytes = (uint8_t *)c->buf;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    double pen[64];
    uint64_t n = (uint64_t)(c->target_ns * c->ghz / 4.0) + 1024;
    for (unsigned r = 0; r < c->reps; r++) {
        double t_rand = 0, t_zero = 0;
        for (uint64_t done = 0; done < n; done += PV_BRANCH_BYTES) {
            uint64_t k = n - done < PV_BRANCH_BYTES ? n - done : PV_BRANCH_BYTES;
            for (uint64_t i = 0; i < PV_BRANCH_BYTES; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                bytes[i] = (uint8_t)(x & 1);
            }
            double t0 = cpu_ns();
            pv_kern_branch_pattern(k, bytes);
            t_rand += cpu_ns() - t0;
        }
        memset(bytes, 0, PV_BRANCH_BYTES);
        pv_kern_branch_pattern(n / 4, bytes);
        for (uint64_t done = 0; done < n; done += PV_BRANCH_BYTES) {
            uint64_t k = n - done < PV_BRANCH_BYTES ? n - done : PV_BRANCH_BYTES;
            double t0 = cpu_ns();
            pv_kern_branch_pattern(k, bytes);
            t_zero += cpu_ns() - t0;
        }
        /* Half the random branches mispredict. */
        pen[r] = fmax(0.0, (t_rand - t_zero) / (0.5 * (double)n)) * c->ghz;
    }
    m->branch_miss_cycles = pv_stat_of(pen, c->reps, PV_METHOD_TIMER);
    progress(c, "branches");

    /* The syscall class: a trivial system call. */
    double sns[64];
    uint64_t calls = (uint64_t)(c->target_ns / 200.0) + 100;
    for (unsigned r = 0; r < c->reps; r++) {
        double t0 = cpu_ns();
        for (uint64_t i = 0; i < calls; i++)
            syscall(SYS_getppid);
        sns[r] = (cpu_ns() - t0) / (double)calls;
    }
    m->warm.syscall_ns = pv_stat_of(sns, c->reps, PV_METHOD_TIMER);
    pv_kernel_result *r = kernel_slot(m, "getppid", PV_MIX_SYSCALL);
    if (r) {
        r->cost.latency = stat_scale(m->warm.syscall_ns, c->ghz);
        r->cost.rthroughput = r->cost.latency;
    }
    progress(c, "syscalls");
    derive_classes(m);
    return PV_OK;
}

/* ---- memory ---- */

/* A random cyclic permutation (Sattolo) over the cache lines of buf[0..size). */
static void *build_chain(char *buf, uint64_t size, uint64_t *rng)
{
    uint64_t lines = size / 64;
    if (lines < 2)
        lines = 2;
    uint32_t *idx = malloc(lines * sizeof *idx);
    if (!idx)
        return NULL;
    for (uint64_t i = 0; i < lines; i++)
        idx[i] = (uint32_t)i;
    for (uint64_t i = lines - 1; i > 0; i--) {
        *rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
        uint64_t j = *rng % i;
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (uint64_t i = 0; i < lines; i++)
        *(void **)(buf + (uint64_t)idx[i] * 64) = buf + (uint64_t)idx[(i + 1) % lines] * 64;
    void *start = buf + (uint64_t)idx[0] * 64;
    free(idx);
    return start;
}

/* @p reps timings of dependent loads over a fresh chain through buf[0..size) (seeded by @p seed: the same
 * chain every call) into ns[0..reps). @return 0, or -1 out of memory. */
static int chase_ns(cal *c, char *buf, uint64_t size, uint64_t seed, unsigned reps, double *ns)
{
    uint64_t rng = seed;
    void *p = build_chain(buf, size, &rng);
    if (!p)
        return -1;
    uint64_t lines = size / 64;
    /* Touch every line once so page faults and cold misses are not timed. */
    p = pv_kern_chase(lines, p);
    uint64_t n = 4096;
    double t0 = cpu_ns();
    p = pv_kern_chase(n, p);
    double t = cpu_ns() - t0;
    double per = t / (double)n;
    n = (uint64_t)(c->target_ns / (per > 0.1 ? per : 0.1));
    if (n < 2048)
        n = 2048;
    for (unsigned r = 0; r < reps; r++) {
        t0 = cpu_ns();
        p = pv_kern_chase(n, p);
        ns[r] = (cpu_ns() - t0) / (double)((n + 7) / 8 * 8);
    }
    /* Keep p alive. */
    __asm__ volatile("" ::"r"(p));
    return 0;
}

/* Independent random 8-byte loads over a[0..mask]: four interleaved
 * generators, so that neither the address arithmetic nor one chain limits
 * how many misses the core keeps in flight. n is a multiple of 4. */
static uint64_t rand_reads(const uint64_t *a, uint64_t mask, uint64_t n, uint64_t seed)
{
    const uint64_t M = 6364136223846793005ull, A = 1442695040888963407ull;
    uint64_t x0 = seed, x1 = seed ^ 0x5555, x2 = seed ^ 0xaaaa, x3 = seed ^ 0xffff, s = 0;
    for (uint64_t i = 0; i < n; i += 4) {
        x0 = x0 * M + A;
        x1 = x1 * M + A;
        x2 = x2 * M + A;
        x3 = x3 * M + A;
        s += a[(x0 >> 20) & mask] + a[(x1 >> 20) & mask] + a[(x2 >> 20) & mask] + a[(x3 >> 20) & mask];
    }
    return s;
}

/* Elements of the largest power-of-two part of `size` bytes: the random
 * kernels index with a mask (no multiply or branch that would cost more
 * than an L1 hit), so a sweep point between two powers of two measures
 * them over the power of two below it. */
static uint64_t pow2_elems(uint64_t size)
{
    uint64_t elems = 1;
    while (elems * 2 * 8 <= size)
        elems *= 2;
    return elems;
}

/* @p reps timings, ns per independent random load over the first `size` bytes of buf (already touched), into ns. */
static void random_ns(cal *c, char *buf, uint64_t size, unsigned reps, double *ns)
{
    uint64_t elems = pow2_elems(size);
    const uint64_t *a = (const uint64_t *)(void *)buf;
    uint64_t sink = rand_reads(a, elems - 1, 4096, 1);
    uint64_t n = 1u << 14;
    double t0 = cpu_ns();
    sink += rand_reads(a, elems - 1, n, 2);
    double per = (cpu_ns() - t0) / (double)n;
    n = (uint64_t)(c->target_ns / (per > 0.05 ? per : 0.05)) / 4 * 4;
    if (n < 4096)
        n = 4096;
    for (unsigned r = 0; r < reps; r++) {
        t0 = cpu_ns();
        sink += rand_reads(a, elems - 1, n, 3 + r);
        ns[r] = (cpu_ns() - t0) / (double)n;
    }
    __asm__ volatile("" ::"r"(sink));
}

/* @p reps timings, ns per random load followed by independent work (pv_kern_window) over the first
 * `size` bytes of buf, into ns. */
static void window_ns(cal *c, char *buf, uint64_t size, unsigned reps, double *ns)
{
    uint64_t elems = pow2_elems(size);
    const uint64_t *a = (const uint64_t *)(void *)buf;
    uint64_t sink = pv_kern_window(2048, a, elems - 1);
    double t0 = cpu_ns();
    sink += pv_kern_window(4096, a, elems - 1);
    double per = (cpu_ns() - t0) / 4096;
    uint64_t n = (uint64_t)(c->target_ns / (per > 0.5 ? per : 0.5));
    if (n < 2048)
        n = 2048;
    for (unsigned r = 0; r < reps; r++) {
        t0 = cpu_ns();
        sink += pv_kern_window(n, a, elems - 1);
        ns[r] = (cpu_ns() - t0) / (double)n;
    }
    __asm__ volatile("" ::"r"(sink));
}

/* Bandwidth kernels over n doubles. Plain C: the compiler's code for
 * these loops is what the programs being predicted run too. */
static double bw_read(const double *a, size_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    return s0 + s1 + s2 + s3;
}

static void bw_write(double *a, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        a[i] = v;
}

static void bw_triad(double *a, const double *b, const double *cc, size_t n, double s)
{
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] + s * cc[i];
}

enum { BW_READ, BW_WRITE, BW_TRIAD };

/* One pass of kind k over a region of `bytes`: returns bytes moved. */
static double bw_pass(int k, double *buf, size_t bytes)
{
    size_t n = bytes / sizeof(double);
    switch (k) {
    case BW_READ: {
        double sum = bw_read(buf, n);
        __asm__ volatile("" ::"x"(sum)); /* keep the sum (and so the reads) */
        return (double)n * 8;
    }
    case BW_WRITE: bw_write(buf, n, 1.5); __asm__ volatile("" ::"r"(buf) : "memory"); return (double)n * 8;
    default: {
        size_t third = n / 3;
        bw_triad(buf, buf + third, buf + 2 * third, third, 3.0);
        __asm__ volatile("" ::"r"(buf) : "memory");
        return (double)third * 24;
    }
    }
}

/* GB/s of kind k over `bytes`, repeated passes for target_ns. */
static double bw_once(int k, double *buf, size_t bytes, double target_ns)
{
    bw_pass(k, buf, bytes); /* warm */
    double moved = 0, t0 = cpu_ns(), t;
    do {
        moved += bw_pass(k, buf, bytes);
        t = cpu_ns() - t0;
    } while (t < target_ns);
    return moved / t; /* bytes per ns = GB/s */
}

typedef struct bw_thread {
    volatile int *go; /* 0 wait, 1 run, -1 give up (a sibling could not start) */
    int kind;
    size_t bytes;
    double target_ns;
    double gbs;
    double *buf;
} bw_thread;

static void *bw_worker(void *arg)
{
    bw_thread *w = arg;
    bw_pass(w->kind, w->buf, w->bytes); /* first touch on this thread */
    while (!__atomic_load_n(w->go, __ATOMIC_ACQUIRE))
        sched_yield();
    if (__atomic_load_n(w->go, __ATOMIC_ACQUIRE) > 0)
        w->gbs = bw_once(w->kind, w->buf, w->bytes, w->target_ns);
    return NULL;
}

/* All PUs at once, each on its own buffer. Returns the sum of GB/s, 0 when
 * the threads could not all be started. */
static double bw_all(int kind, size_t bytes, unsigned nthreads, double target_ns)
{
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > 64)
        nthreads = 64;
    pthread_t th[64];
    bw_thread w[64];
    volatile int go = 0;
    double total = 0;
    unsigned started = 0;
    int ok = 1;
    for (unsigned i = 0; i < nthreads; i++) {
        w[i] = (bw_thread){&go, kind, bytes, target_ns, 0, aligned_alloc(64, (bytes + 63) / 64 * 64)};
        if (!w[i].buf)
            ok = 0;
    }
    for (unsigned i = 0; ok && i < nthreads; i++) {
        if (pthread_create(&th[i], NULL, bw_worker, &w[i]) != 0)
            ok = 0;
        else
            started++;
    }
    __atomic_store_n(&go, ok ? 1 : -1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        total += w[i].gbs;
    }
    for (unsigned i = 0; i < nthreads; i++)
        free(w[i].buf);
    return ok ? total : 0;
}

static int measure_memory(cal *c)
{
    pv_machine *m = c->m;
    const pv_topo_cache *llc = pv_topology_llc(&m->topo);
    uint64_t llc_size = llc ? llc->size : (8u << 20);
    /* Several times the LLC, within reason: a VM may report an LLC far
     * larger than what one core reaches, and the host's memory bounds it. */
    uint64_t max = c->o->quick ? (64ull << 20) : (512ull << 20);
    if (max < 4 * llc_size && !c->o->quick)
        max = 4 * llc_size > (1ull << 30) ? (1ull << 30) : 4 * llc_size;
    /* Tests shrink the sweep along with the time per measurement. */
    if (c->o->scale > 0 && c->o->scale < 1)
        max = (uint64_t)((double)max * c->o->scale);
    if (m->topo.memory && max > m->topo.memory / 8)
        max = m->topo.memory / 8;
    if (max < (1u << 20))
        max = 1u << 20;
    char *buf = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return pv_error_set(PV_ERR_NOMEM, "calibration: cannot map %llu bytes for the memory sweep",
                            (unsigned long long)max);
    /* Full: steps of sqrt(2), to place the cliffs (a VM's share of a shared
     * last-level cache) closely; quick: steps of 4. Sizes are whole lines. */
    double step = c->o->quick ? 4 : M_SQRT2;
    m->nmem_points = 0;
    for (double sz = 4096; sz <= (double)max * 1.0001 && m->nmem_points < 48; sz *= step)
        m->mem_points[m->nmem_points++].size = (uint64_t)sz / 64 * 64;
    /* Up to twice the last-level cache, where the cache a core really gets
     * moves with what its neighbours run (on a shared host the cliff of a
     * VM's share wanders by megabytes within seconds), the repetitions are
     * passes over the whole range, so that each point's min..max spans the
     * sweep's duration, not a few milliseconds of one moment. Beyond it, the
     * chain is built once and timed c->reps times in a row: rebuilding and
     * walking hundreds of megabytes per pass would cost more than the
     * whole sweep. */
    uint64_t interleave = 2 * llc_size;
    double (*v)[3][64] = malloc(m->nmem_points * sizeof *v);
    if (!v) {
        munmap(buf, max);
        return pv_error_set(PV_ERR_NOMEM, "calibration: out of memory for the memory sweep");
    }
    for (unsigned pass = 0; pass < c->reps; pass++) {
        for (uint32_t i = 0; i < m->nmem_points; i++) {
            uint64_t s = m->mem_points[i].size;
            int once = s > interleave;
            if (once && pass)
                continue;
            unsigned reps = once ? c->reps : 1, at = once ? 0 : pass;
            if (chase_ns(c, buf, s, 0x2545f4914f6cdd1dull ^ s, reps, &v[i][0][at])) {
                free(v);
                munmap(buf, max);
                return pv_error_set(PV_ERR_NOMEM, "calibration: out of memory for a %llu-byte pointer chain",
                                    (unsigned long long)s);
            }
            random_ns(c, buf, s, reps, &v[i][1][at]);
            window_ns(c, buf, s, reps, &v[i][2][at]);
        }
        progress(c, "memory latency");
    }
    for (uint32_t i = 0; i < m->nmem_points; i++) {
        pv_mem_point *pt = &m->mem_points[i];
        pt->ns = pv_stat_of(v[i][0], c->reps, PV_METHOD_TIMER);
        pt->random_ns = pv_stat_of(v[i][1], c->reps, PV_METHOD_TIMER);
        pt->window_ns = pv_stat_of(v[i][2], c->reps, PV_METHOD_TIMER);
    }
    free(v);
    /* The miss window at the largest set: latency x instructions per load / cost per load. */
    {
        const pv_mem_point *last = &m->mem_points[m->nmem_points - 1];
        if (last->ns.reps && last->window_ns.reps) {
            double w[3] = {last->ns.min * PV_WINDOW_INSNS / last->window_ns.max,
                           last->ns.median * PV_WINDOW_INSNS / last->window_ns.median,
                           last->ns.max * PV_WINDOW_INSNS / last->window_ns.min};
            m->miss_window_insns = pv_stat_of(w, 3, PV_METHOD_TIMER);
            m->miss_window_insns.reps = last->window_ns.reps;
        }
    }
    munmap(buf, max);

    /* Levels: each data/unified cache, measured at half its per-core share, then DRAM. */
    m->nmem_levels = 0;
    for (uint32_t i = 0; i < m->topo.ncaches && m->nmem_levels < 7; i++) {
        const pv_topo_cache *tc = &m->topo.caches[i];
        if (!strcmp(tc->type, "instruction"))
            continue;
        pv_mem_level *lv = &m->mem_levels[m->nmem_levels++];
        memset(lv, 0, sizeof *lv);
        snprintf(lv->name, sizeof lv->name, "%s", tc->level == 1 ? "L1d" : tc->name);
        lv->size = tc->size;
    }
    pv_mem_level *dram = &m->mem_levels[m->nmem_levels++];
    memset(dram, 0, sizeof *dram);
    snprintf(dram->name, sizeof dram->name, "DRAM");
    dram->size = m->mem_points[m->nmem_points - 1].size;

    for (uint32_t l = 0; l < m->nmem_levels; l++) {
        pv_mem_level *lv = &m->mem_levels[l];
        uint64_t test = l + 1 == m->nmem_levels ? lv->size : lv->size / 2;
        /* Latency: the largest sweep point within the test size. */
        for (uint32_t i = 0; i < m->nmem_points; i++)
            if (m->mem_points[i].size <= test) {
                lv->latency_ns = m->mem_points[i].ns;
                lv->random_ns = m->mem_points[i].random_ns;
            }
        if (!lv->latency_ns.reps && m->nmem_points) {
            lv->latency_ns = m->mem_points[0].ns;
            lv->random_ns = m->mem_points[0].random_ns;
        }
        /* Never beyond the sweep's largest set: a level a VM reports as
         * larger than what was swept is measured at the sweep's limit. */
        if (test > max)
            test = max;
        size_t bytes = (size_t)(test < 8192 ? 8192 : test);
        double *b = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!b)
            return pv_error_set(PV_ERR_NOMEM, "calibration: out of memory for the bandwidth test");
        memset(b, 0, bytes);
        double rd[64], wr[64], tr[64];
        double tgt = c->target_ns * 2;
        for (unsigned r = 0; r < c->reps; r++) {
            rd[r] = bw_once(BW_READ, b, bytes, tgt);
            wr[r] = bw_once(BW_WRITE, b, bytes, tgt);
            tr[r] = bw_once(BW_TRIAD, b, bytes, tgt);
        }
        free(b);
        lv->read_gbs = pv_stat_of(rd, c->reps, PV_METHOD_TIMER);
        lv->write_gbs = pv_stat_of(wr, c->reps, PV_METHOD_TIMER);
        lv->triad_gbs = pv_stat_of(tr, c->reps, PV_METHOD_TIMER);
        progress(c, "memory bandwidth");
        /* All cores: private levels scale with cores; shared ones (and DRAM) are split. */
        unsigned nt = m->topo.npus ? m->topo.npus : 1;
        size_t per = bytes;
        if (l + 1 == m->nmem_levels)
            per = bytes / nt;
        unsigned reps_all = c->reps < 3 ? c->reps : 3;
        for (unsigned r = 0; r < reps_all; r++) {
            rd[r] = bw_all(BW_READ, per, nt, tgt);
            tr[r] = bw_all(BW_TRIAD, per, nt, tgt);
        }
        lv->read_gbs_all = pv_stat_of(rd, reps_all, PV_METHOD_TIMER);
        lv->triad_gbs_all = pv_stat_of(tr, reps_all, PV_METHOD_TIMER);
        progress(c, "memory bandwidth, all cores");
    }
    return PV_OK;
}

/* ---- warm-up costs ---- */

static void *empty_thread(void *arg) { return arg; }

static int thp_mode(char *buf, size_t len)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) {
        snprintf(buf, len, "no /sys/kernel/mm/transparent_hugepage (kernel without THP)");
        return 0;
    }
    char line[128] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    if (strstr(line, "[never]")) {
        snprintf(buf, len, "transparent huge pages disabled ([never] in /sys/kernel/mm/transparent_hugepage/enabled)");
        return 0;
    }
    return 1;
}

/* AnonHugePages of this process, kB (to check THP really happened). */
static long anon_huge_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void measure_page_faults(cal *c)
{
    pv_machine *m = c->m;
    size_t len = c->o->quick ? (32u << 20) : (128u << 20);
    double v[64], fr[64];
    for (unsigned r = 0; r < c->reps; r++) {
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return;
#ifdef MADV_NOHUGEPAGE
        madvise(p, len, MADV_NOHUGEPAGE);
#endif
        double t0 = cpu_ns();
        for (size_t o = 0; o < len; o += 4096)
            p[o] = 1;
        v[r] = (cpu_ns() - t0) / (double)(len / 4096);
        /* Giving the pages back (what munmap, free and the exit of a process do). */
        t0 = cpu_ns();
        munmap(p, len);
        fr[r] = (cpu_ns() - t0) / (double)(len / 4096);
    }
    m->warm.page_fault_4k_ns = pv_stat_of(v, c->reps, PV_METHOD_TIMER);
    m->warm.page_free_4k_ns = pv_stat_of(fr, c->reps, PV_METHOD_TIMER);

    char why[160];
    if (!thp_mode(why, sizeof why)) {
        snprintf(m->warm.huge_note, sizeof m->warm.huge_note, "%s", why);
        return;
    }
#ifdef MADV_HUGEPAGE
    const size_t huge = 2u << 20;
    unsigned got = 0;
    long before = anon_huge_kb();
    long gained = 0;
    for (unsigned r = 0; r < c->reps; r++) {
        char *raw = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            break;
        char *p = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
        if (madvise(p, len, MADV_HUGEPAGE) != 0) {
            munmap(raw, len + huge);
            snprintf(m->warm.huge_note, sizeof m->warm.huge_note, "madvise(MADV_HUGEPAGE) failed: %s",
                     strerror(errno));
            return;
        }
        double t0 = cpu_ns();
        for (size_t o = 0; o < len; o += huge)
            p[o] = 1;
        v[got++] = (cpu_ns() - t0) / (double)(len / huge);
        long now = anon_huge_kb();
        if (now > before)
            gained = now - before;
        munmap(raw, len + huge);
    }
    if (got && gained > 0) {
        m->warm.page_fault_huge_ns = pv_stat_of(v, got, PV_METHOD_TIMER);
        snprintf(m->warm.huge_note, sizeof m->warm.huge_note,
                 "THP via madvise(MADV_HUGEPAGE): %ld kB of huge pages observed in AnonHugePages", gained);
    } else {
        snprintf(m->warm.huge_note, sizeof m->warm.huge_note,
                 "madvise(MADV_HUGEPAGE) accepted but no huge page appeared in AnonHugePages; not measured");
    }
#else
    snprintf(m->warm.huge_note, sizeof m->warm.huge_note, "MADV_HUGEPAGE not available at build time");
#endif
}

static void measure_threads(cal *c)
{
    double v[64];
    unsigned n = c->o->quick ? 50 : 200;
    /* CPU time of the process: the creator's and the new threads' together. */
    for (unsigned r = 0; r < c->reps; r++) {
        double t0 = proc_cpu_ns();
        unsigned ok = 0;
        for (unsigned i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, empty_thread, NULL) == 0) {
                pthread_join(t, NULL);
                ok++;
            }
        }
        v[r] = ok ? (proc_cpu_ns() - t0) / ok / 1000.0 : 0;
    }
    c->m->warm.thread_create_us = pv_stat_of(v, c->reps, PV_METHOD_TIMER);
}

/* GB/s reading the file at path in chunks of chunksz; cpu: time with the
 * thread's CPU clock (page cache), else wall time (the disk: waiting is the
 * cost). -1 on error. */
static double read_file_gbs(const char *path, char *chunk, size_t chunksz, int cpu)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    double t0 = cpu ? cpu_ns() : pv_now_ns(), total = 0;
    ssize_t k;
    while ((k = read(fd, chunk, chunksz)) > 0)
        total += (double)k;
    double t = (cpu ? cpu_ns() : pv_now_ns()) - t0;
    close(fd);
    return k < 0 || t <= 0 ? -1 : total / t;
}

/* GB/s writing a new file of `size` bytes at path in chunks of chunksz
 * (write() into the page cache, as a program does: no fsync). The old
 * content is truncated at open(), outside the timed part. -1 on error. */
static double write_file_gbs(const char *path, const char *chunk, size_t chunksz, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    int ok = 1;
    double t0 = cpu_ns();
    for (size_t w = 0; w < size && ok; w += chunksz)
        ok = write(fd, chunk, chunksz) == (ssize_t)chunksz;
    double t = cpu_ns() - t0;
    ok = close(fd) == 0 && ok;
    return !ok || t <= 0 ? -1 : (double)size / t;
}

static int drop_caches(void)
{
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0)
        return -1;
    int ok = write(fd, "1", 1) == 1;
    close(fd);
    return ok ? 0 : -1;
}

/* Keep the repetitions that succeeded (> 0). */
static pv_stat stat_pos(double *v, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (v[i] > 0)
            v[k++] = v[i];
    return pv_stat_of(v, k, PV_METHOD_TIMER);
}

/* Fixed cost of a small read() and write() call: 64 bytes at offset 0 of a
 * cached file, repeated. */
static void measure_small_calls(cal *c, const char *path, char *chunk)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return;
    double rd[64], wr[64];
    unsigned calls = c->o->quick ? 2000 : 20000;
    for (unsigned r = 0; r < c->reps; r++) {
        double t0 = cpu_ns();
        unsigned ok = 0;
        for (unsigned i = 0; i < calls; i++)
            ok += pread(fd, chunk, 64, 0) == 64;
        rd[r] = ok == calls ? (cpu_ns() - t0) / calls : -1;
        t0 = cpu_ns();
        ok = 0;
        for (unsigned i = 0; i < calls; i++)
            ok += pwrite(fd, chunk, 64, 0) == 64;
        wr[r] = ok == calls ? (cpu_ns() - t0) / calls : -1;
    }
    close(fd);
    c->m->warm.syscall_read_ns = stat_pos(rd, c->reps);
    c->m->warm.syscall_write_ns = stat_pos(wr, c->reps);
}

static void measure_files(cal *c)
{
    pv_machine *m = c->m;
    const char *dir = c->o->tmpdir ? c->o->tmpdir : getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/prevision-calibrate.XXXXXX", dir);
    size_t size = c->o->quick ? (32u << 20) : (128u << 20), chunksz = 1u << 20;
    size_t size4k = size / 2;
    char *chunk = malloc(chunksz);
    int fd = mkstemp(path);
    if (!chunk || fd < 0) {
        snprintf(m->warm.disk_note, sizeof m->warm.disk_note, "cannot create a test file in %s: %s", dir,
                 strerror(errno));
        free(chunk);
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    memset(chunk, 0x5a, chunksz);
    double v[64], disk[64];
    /* Writes: 4 KiB chunks (what stdio and most programs issue), then 1 MiB. */
    for (unsigned r = 0; r < c->reps; r++)
        v[r] = write_file_gbs(path, chunk, 4096, size4k);
    m->warm.file_write_4k_gbs = stat_pos(v, c->reps);
    for (unsigned r = 0; r < c->reps; r++)
        v[r] = write_file_gbs(path, chunk, chunksz, size);
    m->warm.file_write_gbs = stat_pos(v, c->reps);
    /* The file stays as the last write left it; flushed, so that its pages
     * are clean and can be evicted for the disk read. */
    fd = open(path, O_WRONLY);
    int ok = m->warm.file_write_gbs.reps && fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(m->warm.disk_note, sizeof m->warm.disk_note, "cannot write a test file in %s", dir);
        goto done;
    }
    unsigned nd = 0;
    const char *how = NULL;
    read_file_gbs(path, chunk, chunksz, 1); /* all of it in the page cache */
    for (unsigned r = 0; r < c->reps; r++)
        v[r] = read_file_gbs(path, chunk, chunksz, 1);
    m->warm.file_cached_gbs = stat_pos(v, c->reps);
    for (unsigned r = 0; r < c->reps; r++)
        v[r] = read_file_gbs(path, chunk, 4096, 1);
    m->warm.file_read_4k_gbs = stat_pos(v, c->reps);
    measure_small_calls(c, path, chunk);
    unsigned dreps = c->reps < 3 ? c->reps : 3;
    for (unsigned r = 0; r < dreps; r++) {
        if (c->o->drop_caches) {
            if (drop_caches() != 0) {
                snprintf(m->warm.disk_note, sizeof m->warm.disk_note,
                         "--drop-caches given but /proc/sys/vm/drop_caches is not writable (%s); disk read not measured",
                         strerror(errno));
                break;
            }
            how = "after writing 1 to /proc/sys/vm/drop_caches";
        } else {
            /* Evicting just our own clean file needs no privilege. */
            int f = open(path, O_RDONLY);
            if (f < 0 || posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED) != 0) {
                if (f >= 0)
                    close(f);
                snprintf(m->warm.disk_note, sizeof m->warm.disk_note,
                         "posix_fadvise(DONTNEED) failed; disk read not measured");
                break;
            }
            close(f);
            how = "after posix_fadvise(POSIX_FADV_DONTNEED) on the test file only; /proc/sys/vm/drop_caches not "
                  "written (pass --drop-caches to drop all caches)";
        }
        double g = read_file_gbs(path, chunk, chunksz, 0);
        if (g > 0)
            disk[nd++] = g;
    }
    if (nd) {
        m->warm.file_disk_gbs = pv_stat_of(disk, nd, PV_METHOD_TIMER);
        snprintf(m->warm.disk_note, sizeof m->warm.disk_note, "%zu MiB file in %s, %s (wall time)", size >> 20, dir,
                 how);
    }
done:
    unlink(path);
    free(chunk);
}

static double rusage_children_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

/* Process start-up and exit: the CPU time of the spawning thread plus that
 * of the children it waited for (what the run takes on an idle machine). */
static void measure_spawn(cal *c)
{
    double v[64];
    unsigned n = c->o->quick ? 10 : 40, got = 0;
    char *argv[] = {"true", NULL};
    for (unsigned r = 0; r < c->reps; r++) {
        double t0 = cpu_ns(), k0 = rusage_children_ns();
        unsigned ok = 0;
        for (unsigned i = 0; i < n; i++) {
            pid_t pid;
            int st;
            if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0 && waitpid(pid, &st, 0) == pid)
                ok++;
        }
        if (ok)
            v[got++] = (cpu_ns() - t0 + rusage_children_ns() - k0) / ok / 1000.0;
    }
    c->m->warm.process_spawn_us = pv_stat_of(v, got, PV_METHOD_TIMER);
}

static void measure_warm(cal *c)
{
    measure_spawn(c);
    measure_page_faults(c);
    progress(c, "page faults");
    measure_threads(c);
    progress(c, "threads");
    measure_files(c);
    progress(c, "files");
}

static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pv_calibrate(pv_machine **out, const pv_calibrate_options *opts)
{
    pv_calibrate_options defaults = PV_CALIBRATE_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!out || opts->version != PV_CALIBRATE_OPTIONS_VERSION)
        return pv_error_set(PV_ERR_INVALID, "pv_calibrate: NULL output or options of another version");
    *out = NULL;
    int rc = PV_OK;
    cal c = {0};
    c.o = opts;
    c.m = calloc(1, sizeof *c.m);
    c.buf = aligned_alloc(4096, 1u << 20);
    if (!c.m || !c.buf) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    memset(c.buf, 0, 1u << 20);
#if !defined(__x86_64__)
    rc = pv_error_set(PV_ERR_UNSUPPORTED, "calibration: microbenchmarks exist for x86-64 only");
    goto done;
#endif
    double t_start = pv_now_ns();
    pv_machine *m = c.m;
    m->schema_version = PV_MACHINE_SCHEMA_VERSION;
    snprintf(m->generator, sizeof m->generator, "prevision %s", PV_VERSION_STRING);
    now_iso(m->date, sizeof m->date);
    m->quick = opts->quick;
    if ((rc = pv_topology_load(&m->topo, NULL)) != PV_OK)
        goto done;
    pv_fingerprint_compute(&m->host, &m->topo);

    c.reps = opts->reps ? opts->reps : opts->quick ? 3 : 7;
    if (c.reps > 64)
        c.reps = 64;
    double scale = opts->scale > 0 ? opts->scale : 1.0;
    c.target_ns = (opts->quick ? 1.5e6 : 8e6) * scale;
    uint32_t only = opts->only ? opts->only : (PV_CAL_CLASSES | PV_CAL_MEMORY | PV_CAL_WARM);

    m->papi_hw_counters = pv_papi_probe(m->papi_version, sizeof m->papi_version, m->method_note,
                                        sizeof m->method_note);
    if (opts->use_papi && m->papi_hw_counters > 0 && pv_papi_open(&c.papi) == PV_OK) {
        m->method = PV_METHOD_PAPI;
    } else {
        m->method = PV_METHOD_TIMER;
        size_t l = strlen(m->method_note);
        snprintf(m->method_note + l, sizeof m->method_note - l,
                 "; cycles derived from clock_gettime and the effective clock (dependent 1-cycle adds)");
    }
    {
        size_t l = strlen(m->method_note);
        snprintf(m->method_note + l, sizeof m->method_note - l,
                 "; times are the measuring thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that other load on a "
                 "shared machine does not count");
    }
    c.total = 1 + ((only & PV_CAL_CLASSES) ? pv_nkernels + 2 : 0) + ((only & PV_CAL_MEMORY) ? 64 : 0) +
              ((only & PV_CAL_WARM) ? 3 : 0);
    double t_phase = pv_now_ns();
    measure_clock(&c);
    if (only & PV_CAL_CLASSES) {
        if ((rc = measure_classes(&c)) != PV_OK)
            goto done;
        pv_log(PV_LOG_DEBUG, "calibrate: clock and classes took %.2f s", (pv_now_ns() - t_phase) / 1e9);
    }
    t_phase = pv_now_ns();
    if ((only & PV_CAL_MEMORY) && (rc = measure_memory(&c)) != PV_OK)
        goto done;
    pv_log(PV_LOG_DEBUG, "calibrate: memory took %.2f s", (pv_now_ns() - t_phase) / 1e9);
    t_phase = pv_now_ns();
    if (only & PV_CAL_WARM)
        measure_warm(&c);
    pv_log(PV_LOG_DEBUG, "calibrate: warm-up costs took %.2f s", (pv_now_ns() - t_phase) / 1e9);
    m->duration_s = (pv_now_ns() - t_start) / 1e9;
    if (opts->progress)
        opts->progress(opts->progress_ud, "done", c.total, c.total);
    *out = m;
    c.m = NULL;
done:
    pv_papi_close(c.papi);
    free(c.buf);
    free(c.m);
    return rc;
}

void pv_machine_free(pv_machine *m) { free(m); }
