/* branches: a conditional branch and an indirect call per iteration, both
 * following a short repeating pattern ("pattern") or random bits ("random"),
 * for the branch simulation's tests: a predictor learns the first and
 * cannot learn the second. usage: branches pattern|random ITERATIONS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long f0(long x) { return x + 1; }
static long f1(long x) { return x ^ 3; }
static long f2(long x) { return x * 5; }
static long (*const table[3])(long) = {f0, f1, f2};

int main(int argc, char **argv)
{
    int random = argc > 1 && !strcmp(argv[1], "random");
    long it = argc > 2 ? atol(argv[2]) : 100000, sum = 0;
    unsigned long s = 0x9e3779b97f4a7c15ul;
    for (long i = 0; i < it; i++) {
        unsigned long bits;
        if (random) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            bits = s >> 32;
        } else {
            bits = (unsigned long)i;
        }
        /* the conditional branch: taken every fourth iteration, or at random */
        unsigned long c = random ? (bits & 1) : ((bits & 3) == 0);
        __asm__ volatile("test %1, %1\n\tjz 1f\n\tadd $7, %0\n1:" : "+r"(sum) : "r"(c) : "cc");
        /* the indirect call: f0 f1 f2 in turn, or at random */
        sum = table[random ? (bits >> 8) % 3 : (unsigned long)i % 3](sum);
    }
    printf("branches: %ld\n", sum);
    return 0;
}
