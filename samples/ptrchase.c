/* ptrchase: follow a random cyclic permutation of n cache-line-sized nodes, 4n steps; O(n) time, latency-bound once n exceeds the caches. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node {
    struct node *next;
    char pad[56]; /* one node per 64-byte line */
};

static uint64_t rng = 88172645463325252ull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct node *chase(struct node *p, long steps)
{
    while (steps--)
        p = p->next;
    return p;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (n <= 1) {
        fprintf(stderr, "usage: ptrchase N (N > 1 nodes)\n");
        return 2;
    }
    struct node *nodes = malloc(sizeof(struct node) * n);
    long *perm = malloc(sizeof(long) * n);
    if (!nodes || !perm) {
        fprintf(stderr, "ptrchase: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++)
        perm[i] = i;
    /* Sattolo's algorithm: a single cycle through every node. */
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(xorshift() % (uint64_t)i);
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (long i = 0; i < n; i++)
        nodes[perm[i]].next = &nodes[perm[(i + 1) % n]];
    struct node *end = chase(&nodes[0], 4 * n);
    printf("ptrchase n=%ld end=%ld\n", n, (long)(end - nodes));
    free(perm);
    free(nodes);
    return 0;
}
