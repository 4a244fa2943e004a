/* OpenMP pragmas (parsed with -fopenmp; no OpenMP runtime header needed). */
void saxpy(int n, float a, const float *x, float *y)
{
#pragma omp parallel for simd schedule(static) num_threads(4)
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

double dot(int n, const double *x, const double *y)
{
    double s = 0;
#pragma omp parallel for reduction(+:s)
    for (int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

void offload(int n, double *v)
{
#pragma omp target teams distribute parallel for map(tofrom: v[0:n])
    for (int i = 0; i < n; i++)
        v[i] *= 2.0;
}
