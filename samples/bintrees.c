/* bintrees: build and check complete binary trees of depth 4..n with malloc/free (Benchmarks Game binary-trees); O(2^n) allocations, recursion depth n. */
#include <stdio.h>
#include <stdlib.h>

struct tree {
    struct tree *left, *right;
};

static struct tree *make(int depth)
{
    struct tree *t = malloc(sizeof *t);
    if (!t) {
        fprintf(stderr, "bintrees: out of memory\n");
        exit(1);
    }
    if (depth > 0) {
        t->left = make(depth - 1);
        t->right = make(depth - 1);
    } else {
        t->left = t->right = NULL;
    }
    return t;
}

static long check(const struct tree *t)
{
    return 1 + (t->left ? check(t->left) + check(t->right) : 0);
}

static void release(struct tree *t)
{
    if (t->left) {
        release(t->left);
        release(t->right);
    }
    free(t);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    if (n < 4 || n > 30) {
        fprintf(stderr, "usage: bintrees N (4 <= N <= 30)\n");
        return 2;
    }
    struct tree *longlived = make(n);
    for (int d = 4; d <= n; d += 2) {
        long iters = 1L << (n - d + 4), total = 0;
        for (long i = 0; i < iters; i++) {
            struct tree *t = make(d);
            total += check(t);
            release(t);
        }
        printf("%ld trees of depth %d check %ld\n", iters, d, total);
    }
    printf("long lived tree of depth %d check %ld\n", n, check(longlived));
    release(longlived);
    return 0;
}
