/* rep: rep movsb, rep stosq, repe cmpsb and repne scasb with counts 0..6, to compare the emulator's
 * instruction counts of rep-prefixed string instructions with callgrind's. */
#include <stdio.h>
#include <stdlib.h>

static char src[4096], dst[4096];

int main(int argc, char **argv)
{
    long it = argc > 1 ? atol(argv[1]) : 1000, sum = 0;
    for (long i = 0; i < it; i++) {
        long n = i % 7, c;
        void *d = dst, *s = src;
        c = n;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        d = dst;
        c = n * 3;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0L) : "memory");
        src[i % 5] = (char)i;
        d = dst;
        s = src;
        c = n;
        __asm__ volatile("repe cmpsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory", "cc");
        sum += c;
        d = dst;
        c = 2 * n;
        __asm__ volatile("repne scasb" : "+D"(d), "+c"(c) : "a"(1L) : "memory", "cc");
        sum += c;
    }
    printf("rep: %ld\n", sum);
    return 0;
}
