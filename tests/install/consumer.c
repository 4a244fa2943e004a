/* A program outside the project that uses the installed library. */
#include <prevision/prevision.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    pv_profile *p = NULL;
    if (argc < 2)
        return 2;
    int rc = pv_profile_load(argv[1], &p);
    if (rc) {
        fprintf(stderr, "%s\n", pv_error_last());
        return 1;
    }
    printf("%s: %u functions, %s\n", argv[1], p->nfunctions, pv_mix_class_name(PV_MIX_FP_FMA));
    pv_profile_free(p);
    return 0;
}
