/* avx: executes one AVX2 instruction; the emulator must stop on it and name it with this file and line. */
#include <stdio.h>

__attribute__((noinline)) static void add8(int *out, const int *a, const int *b)
{
    __asm__ volatile("vmovdqu (%1), %%ymm0\n\t"
                     "vpaddd (%2), %%ymm0, %%ymm0\n\t"
                     "vmovdqu %%ymm0, (%0)\n\t"
                     "vzeroupper" ::"r"(out), "r"(a), "r"(b) : "xmm0", "memory");
}

int main(void)
{
    int a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {8, 7, 6, 5, 4, 3, 2, 1}, c[8];
    printf("before\n");
    fflush(stdout);
    add8(c, a, b);
    printf("%d\n", c[0]);
    return 0;
}
