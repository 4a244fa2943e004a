/* Small kernels for the IR pass tests: known operations per iteration. */
void daxpy(int n, double a, const double *restrict x, double *restrict y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

void scale_sqrt(int n, const float *restrict x, float *restrict y)
{
    for (int i = 0; i < n; i++)
        y[i] = __builtin_sqrtf(x[i]) / 3.0f;
}

long isum(int n, const int *x)
{
    long s = 0;
    for (int i = 0; i < n; i++)
        s += x[i] * 7;
    return s;
}
