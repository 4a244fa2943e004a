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

struct node {
    struct node *next;
    int v;
};

int list_sum(struct node *p)
{
    int s = 0;
    while (p != 0) {
        s += p->v;
        p = p->next;
    }
    return s;
}

int list_len(struct node *head)
{
    int k = 0;
    for (struct node *p = head; p; p = p->next)
        k++;
    return k;
}

void data_bound(int *len, double *a)
{
    for (int i = 0; i < len[0]; i++)
        a[i] = 13;
}

void countdown(int n, double *a)
{
    while (n--)
        a[n] = 14;
}

void countdown_local(int m, double *a)
{
    for (int i = 0; i < m; i++) {
        int k = m;
        while (k-- > 0)
            a[k] += 15;
    }
}

void do_count(int n, double *a)
{
    int i = 0;
    do {
        a[i] = 16;
        i++;
    } while (i < n);
}

void and_cond(int n, double *a)
{
    for (int i = 0; i < n && a[i] != 0; i++)
        a[i] = 17;
}

void offset_cond(int n, double *a)
{
    for (int i = 0; i + 1 < n; i++)
        a[i] = a[i + 1];
}

void pointer_iv(double *a, int n)
{
    for (double *p = a; p < a + n; p += 2)
        *p = 18;
}

void local_bound(int n, double *a)
{
    int m = 2 * n + 1;
    for (int i = 0; i < m; i++)
        a[i] = 19;
}

void half_bound(int n, double *a)
{
    for (int i = 0; i < n / 2; i++)
        a[i] = 20;
}

void min_bound(int n, int m, double *a)
{
    for (int i = 0; i < (n < m ? n : m); i++)
        a[i] = 21;
}

void while_conditional_update(int n, double *a)
{
    int i = 0;
    while (i < n) {
        if (a[i] > 0)
            i++;
        a[i] = 22;
    }
}

void while_geometric(int n, double *a)
{
    int i = 1;
    while (i < n) {
        a[i] = 23;
        i = i * 2;
    }
}

void not_a_loop(double *a)
{
    do {
        a[0] = 24;
    } while (0);
}

void forever(double *a)
{
    for (;;) {
        if (a[0] > 1)
            break;
        a[0] += 25;
    }
}

void sentinel(const char *s, int *out)
{
    int k = 0;
    while (*s++)
        k++;
    *out = k;
}

#define FOR_EACH(i, n) for (int i = 0; i < (n); i++)

void macro_loop(int n, double *a)
{
    FOR_EACH(i, n)
        a[i] = 26;
}

void row_sums(int n, const int *rowlen, double *a)
{
    for (int i = 0; i < n; i++) {
        int len = rowlen[i];
        for (int j = 0; j < len; j++)
            a[i] += j;
    }
}

void triangle_le(int n, double *a)
{
    for (int i = 0; i < n; i++)
        for (int j = i; j <= n; j++)
            a[j] += 27;
}

void entry_value(int n, double *a, int i)
{
    i += 2;
    for (; i < n; i++)
        a[i] = 28;
}

void chained_init(int n, double *a)
{
    int i, j;
    for (i = j = 0; i < n; i++)
        a[i] = 29 + j;
}

void predecrement(int n, double *a)
{
    while (--n)
        a[n] = 30;
}
