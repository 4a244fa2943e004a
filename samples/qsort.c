/* qsort: recursive quicksort of n pseudo-random 32-bit integers; O(n log n) compares, branchy integer work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t rng = 2463534242u;
static uint32_t xorshift32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void quicksort(uint32_t *v, long lo, long hi)
{
    while (lo < hi) {
        uint32_t pivot = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                uint32_t t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller side, loop on the larger: O(log n) stack. */
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n <= 0) {
        fprintf(stderr, "usage: qsort N (N > 0)\n");
        return 2;
    }
    uint32_t *v = malloc(sizeof(uint32_t) * n);
    if (!v) {
        fprintf(stderr, "qsort: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        v[i] = xorshift32();
    quicksort(v, 0, n - 1);
    uint64_t h = 0;
    for (long i = 0; i < n; i++) {
        if (i && v[i - 1] > v[i]) {
            fprintf(stderr, "qsort: not sorted at %ld\n", i);
            return 1;
        }
        h = h * 31 + v[i];
    }
    printf("qsort n=%ld hash=%016llx\n", n, (unsigned long long)h);
    free(v);
    return 0;
}
