/* Loop forms whose trip counts the source analyzer must derive exactly, or
 * report unknown with a reason. Each function holds one form; the test
 * looks loops up by function name. Not meant to be run. */
#define N 100

void count_up(int n, double *a)
{
    for (int i = 0; i < n; i++)
        a[i] = 0;
}

void count_le(int n, double *a)
{
    for (int i = 1; i <= n; i++)
        a[i] = 1;
}

void stride_from_outer(int n, double *a)
{
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j += 2)
            a[j] += 1;
}

void count_down(int n, double *a)
{
    for (int i = n - 1; i >= 0; i--)
        a[i] = 2;
}

void count_down_by3(int n, double *a)
{
    for (int i = n; i > 0; i -= 3)
        a[i] = 3;
}

void triangle(int n, double *a)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            a[i * n + j] = 4;
}

void constant_macro(double *a)
{
    for (int i = 0; i < N; i++)
        a[i] = 5;
}

void reversed_compare(long m, double *a)
{
    long k;
    for (k = 2; m > k; ++k)
        a[k] = 6;
}

void bound_modified(int n, double *a)
{
    for (int i = 0; i < n; i++) {
        a[i] = 7;
        if (a[i] > 3)
            n--;
    }
}

void iv_modified(int n, double *a)
{
    for (int i = 0; i < n; i++) {
        a[i] = 8;
        i += (int)a[i];
    }
}

void geometric(int n, double *a)
{
    for (int i = 1; i < n; i *= 2)
        a[i] = 9;
}

void with_break(int n, double *a)
{
    for (int i = 0; i < n; i++) {
        if (a[i] < 0)
            break;
        a[i] = 10;
    }
}

void call_bound(double *a, int (*len)(void))
{
    for (int i = 0; i < len(); i++)
        a[i] = 11;
}

void while_loop(int n, double *a)
{
    int i = 0;
    while (i < n)
        a[i++] = 12;
}

void float_iv(double *a)
{
    for (double x = 0; x < 1.0; x += 0.1)
        a[0] += x;
}

void switch_break(int n, int *a)
{
    for (int i = 0; i < n; i++) {
        switch (a[i]) {
        case 0: a[i] = 1; break;
        default: break;
        }
    }
}

void cube(int n, double *a)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
                a[k] += a[i] * a[j];
}
