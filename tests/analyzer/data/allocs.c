/* Allocation sites: direct calls, a visible wrapper, a VLA and a large static array. */
#include <stdlib.h>

static double table[1 << 16];

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (!p)
        abort();
    return p;
}

double run(int n, int m)
{
    double *a = calloc((size_t)n, sizeof(double));
    float *b = xmalloc(sizeof(float) * (size_t)n * (size_t)m);
    int *c = malloc((size_t)(n + 1) * 4);
    char *d = aligned_alloc(64, (size_t)n << 10);
    double vla[n][m];
    char *e = malloc((size_t)rand());
    vla[0][0] = table[0] + a[0] + b[0] + c[0] + d[0] + e[0];
    double r = vla[0][0];
    free(a), free(b), free(c), free(d), free(e);
    return r;
}
