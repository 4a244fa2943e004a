/* hashmap: insert n pseudo-random keys into an open-addressing hash table, then look up 2n keys (half present); O(n) expected, branchy and cache-unfriendly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n <= 0) {
        fprintf(stderr, "usage: hashmap N (N > 0)\n");
        return 2;
    }
    size_t cap = 1;
    while (cap < (size_t)n * 2)
        cap <<= 1;
    uint64_t *keys = calloc(cap, sizeof *keys);
    if (!keys) {
        fprintf(stderr, "hashmap: out of memory\n");
        return 1;
    }
    for (long i = 1; i <= n; i++) {
        uint64_t k = mix((uint64_t)i) | 1;
        size_t h = (size_t)mix(k) & (cap - 1);
        while (keys[h] && keys[h] != k)
            h = (h + 1) & (cap - 1);
        keys[h] = k;
    }
    long found = 0;
    for (long i = 1; i <= 2 * n; i++) {
        uint64_t k = mix((uint64_t)i) | 1;
        size_t h = (size_t)mix(k) & (cap - 1);
        while (keys[h] && keys[h] != k)
            h = (h + 1) & (cap - 1);
        found += keys[h] == k;
    }
    printf("hashmap n=%ld found=%ld\n", n, found);
    free(keys);
    return 0;
}
