/* An allocating function with more parameters than an allocation wrapper's
 * table holds (8), only one of them short enough to be a parameter name
 * (names are kept up to 47 bytes): it is not a wrapper. The AST pass used to
 * check the count of names instead of parameters and write past the table. */
#include <stdlib.h>

#define P(i) int parameter_name_longer_than_the_forty_seven_bytes_kept_##i
#define P8(i) P(i##0), P(i##1), P(i##2), P(i##3), P(i##4), P(i##5), P(i##6), P(i##7)

void *make(P8(1), P8(2), P8(3), P8(4), P(50), P(51), P(52), P(53), P(54), P(55), P(56), size_t n)
{
    return malloc(n * 4);
}

void *use(size_t k)
{
    return make(1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2,
                3, 4, 5, 6, 7, k);
}
