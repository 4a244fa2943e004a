/* A file with a syntax error and a missing header: the analyzer must still
 * report the loops of the functions that parse, plus diagnostics. */
#include "no_such_header.h"

void good_before(int n, double *a)
{
    for (int i = 0; i < n; i++)
        a[i] = 1;
}

void broken(int n, double *a)
{
    for (int i = 0; i < n; i++)
        a[i] = 2 +;
}

void good_after(int m, double *a)
{
    for (int j = 0; j < m; j += 4)
        a[j] = 3;
}
