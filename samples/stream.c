/* stream: STREAM triad a[i] = b[i] + s*c[i] over arrays of n doubles, 10 passes; O(n) time and memory, bandwidth-bound. */
#include <stdio.h>
#include <stdlib.h>

#define PASSES 10

static void triad(long n, double *a, const double *b, const double *c, double s)
{
    for (long i = 0; i < n; i++)
        a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0) {
        fprintf(stderr, "usage: stream N (N > 0 elements)\n");
        return 2;
    }
    double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n), *c = malloc(sizeof(double) * n);
    if (!a || !b || !c) {
        fprintf(stderr, "stream: out of memory\n");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0 + (double)(i & 15);
        c[i] = 2.0;
    }
    for (int p = 0; p < PASSES; p++)
        triad(n, a, b, c, 3.0 + p);
    double sum = 0.0;
    for (long i = 0; i < n; i += 97)
        sum += a[i];
    printf("stream n=%ld checksum=%.3f\n", n, sum);
    free(a);
    free(b);
    free(c);
    return 0;
}
