/* Calls between functions: the callee's work composed into the caller's,
 * with its parameters bound to the call's arguments. Not meant to be run. */
#include <stdlib.h>

static void inner(int m, double *a)
{
    for (int j = 0; j < m; j++)
        a[j] += 1;
}

static void twice(int m, int n, double *a)
{
    inner(n, a);
    inner(m, a);
}

double *outer(int n, double *a)
{
    for (int i = 0; i < n; i++)
        inner(i, a);
    twice(n, 2 * n, a);
    return malloc(8 * (size_t)n);
}

struct s {
    int len;
};

static void by_ptr(struct s *p, double *a)
{
    for (int i = 0; i < p->len; i++)
        a[i] = 0;
}

void through_pointer(struct s *q, double *a) { by_ptr(q, a); }

int rec(int n, double *a)
{
    for (int i = 0; i < n; i++)
        a[i] = 1;
    return n ? rec(n - 1, a) : 0;
}

void unknown_arg(double *a, const int *v) { inner(v[0], a); }
