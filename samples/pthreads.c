/* pthreads: T threads each integrate 4/(1+x^2) over a 1/T share of n intervals (computes pi); O(n/T) time per thread, embarrassingly parallel. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct work {
    long first, last, n;
    double sum;
};

static void *integrate(void *arg)
{
    struct work *w = arg;
    double h = 1.0 / (double)w->n, s = 0.0;
    for (long i = w->first; i < w->last; i++) {
        double x = ((double)i + 0.5) * h;
        s += 4.0 / (1.0 + x * x);
    }
    w->sum = s * h;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int t = argc > 2 ? atoi(argv[2]) : 2;
    if (n <= 0 || t <= 0 || t > 256) {
        fprintf(stderr, "usage: pthreads N [THREADS] (N > 0, 1 <= THREADS <= 256)\n");
        return 2;
    }
    pthread_t tid[256];
    struct work w[256];
    for (int i = 0; i < t; i++) {
        w[i].first = n * i / t;
        w[i].last = n * (i + 1) / t;
        w[i].n = n;
        if (pthread_create(&tid[i], NULL, integrate, &w[i]) != 0) {
            fprintf(stderr, "pthreads: cannot create thread %d\n", i);
            return 1;
        }
    }
    double pi = 0.0;
    for (int i = 0; i < t; i++) {
        pthread_join(tid[i], NULL);
        pi += w[i].sum;
    }
    printf("pthreads n=%ld threads=%d pi=%.12f\n", n, t, pi);
    return 0;
}
