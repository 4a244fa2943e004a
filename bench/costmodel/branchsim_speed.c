/* Speed of the branch simulator (emulator/branchsim.c): ns per simulated
 * branch on two streams: "loops" is shaped like ordinary code (nested
 * counted loops, a biased data-dependent branch, calls and returns, an
 * indirect jump with two targets; a few percent mispredicted), "random" is
 * the worst case (random outcomes on 48 branches, about 40% mispredicted).
 *
 * build and run from the repository root after building prevision:
 *   cc -O2 -Iinclude -I. bench/costmodel/branchsim_speed.c build/libprevision.a \
 *      $(pkg-config --libs unicorn capstone libelf libdw jansson hwloc papi) -lm -lpthread -o /tmp/bs && /tmp/bs
 * Prints the median of 5 runs of 20 M branches each (thread CPU time). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "emulator/branchsim.h"

static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median5(double *t)
{
    qsort(t, 5, sizeof *t, cmp);
    return t[2];
}

/* Nested loops: outer 0..inner trip counts vary a little; as in compiled code. */
static double loops(uint64_t *misses)
{
    enum { N = 20000000 };
    pve_branch_site inner = {0x401010, 0x401000, 0, PVE_BR_COND};
    pve_branch_site outer = {0x401040, 0x400ff0, 0, PVE_BR_COND};
    pve_branch_site data = {0x401020, 0x401030, 0, PVE_BR_COND};
    pve_branch_site call = {0x401025, 0, 0x40102a, PVE_BR_CALL};
    pve_branch_site ret = {0x402010, 0, 0, PVE_BR_RET};
    pve_branch_site ij = {0x401060, 0, 0, PVE_BR_IJUMP};
    double t[5];
    uint64_t x = 88172645463325252ull;
    for (int r = 0; r < 5; r++) {
        pve_branch *b = NULL;
        if (pve_branch_new(&b))
            exit(1);
        double t0 = cpu_ns();
        int n = 0;
        while (n < N) {
            int trip = 12 + (n >> 10) % 5;
            for (int i = 0; i < trip; i++, n += 4) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                *misses += (uint64_t)pve_branch_next(b, &data, (x & 31) ? data.target : data.pc + 2);
                pve_branch_next(b, &call, 0x402000);
                pve_branch_next(b, &ret, call.ret);
                *misses += (uint64_t)pve_branch_next(b, &inner, i + 1 < trip ? inner.target : inner.pc + 2);
            }
            *misses += (uint64_t)pve_branch_next(b, &ij, 0x403000 + (uint64_t)(n & 1) * 64);
            *misses += (uint64_t)pve_branch_next(b, &outer, outer.target);
            n += 2;
        }
        t[r] = (cpu_ns() - t0) / n;
        pve_branch_free(b);
    }
    return median5(t);
}

int main(void)
{
    uint64_t lm = 0;
    double tl = loops(&lm);
    printf("branchsim, loops: %.1f ns per block-end event (median of 5 x 20 M); %llu mispredicted\n", tl,
           (unsigned long long)lm);
    enum { N = 20000000 };
    static pve_branch_site sites[64];
    for (int i = 0; i < 64; i++) {
        sites[i].pc = 0x401000 + (uint64_t)i * 37;
        sites[i].target = sites[i].pc + 100;
        sites[i].ret = sites[i].pc + 5;
        sites[i].kind = i < 48 ? PVE_BR_COND : i < 54 ? PVE_BR_CALL : i < 60 ? PVE_BR_RET : PVE_BR_IJUMP;
    }
    double t[5];
    uint64_t x = 88172645463325252ull, misses = 0;
    for (int r = 0; r < 5; r++) {
        pve_branch *b = NULL;
        if (pve_branch_new(&b))
            return 1;
        double t0 = cpu_ns();
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const pve_branch_site *s = &sites[(i * 7 + (int)(x & 3)) & 63];
            uint64_t next = s->kind == PVE_BR_COND ? ((x >> 8) % 10 < 8 ? s->target : s->pc + 2)
                            : s->kind == PVE_BR_RET ? s->pc + 5 : s->target + (x & 1) * 64;
            misses += (uint64_t)pve_branch_next(b, s, next);
        }
        t[r] = (cpu_ns() - t0) / N;
        pve_branch_free(b);
    }
    qsort(t, 5, sizeof *t, cmp);
    printf("branchsim, random: %.1f ns per branch (median of 5 x %d; min %.1f, max %.1f); %llu mispredicted\n",
           t[2], N, t[0], t[4], (unsigned long long)misses);
    return 0;
}
