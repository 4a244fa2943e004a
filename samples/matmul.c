/* matmul: dense double-precision matrix multiply C = A*B of n x n matrices; O(n^3) flops, O(n^2) memory. */
#include <stdio.h>
#include <stdlib.h>

static void matmul(int n, const double *a, const double *b, double *c)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    if (n <= 0) {
        fprintf(stderr, "usage: matmul N (N > 0)\n");
        return 2;
    }
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) {
        fprintf(stderr, "matmul: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n * n; i++) {
        a[i] = (double)(i % 7) * 0.5;
        b[i] = (double)(i % 5) * 0.25;
    }
    matmul(n, a, b, c);
    double trace = 0.0;
    for (int i = 0; i < n; i++)
        trace += c[i * n + i];
    printf("matmul n=%d trace=%.6f\n", n, trace);
    free(a);
    free(b);
    free(c);
    return 0;
}
