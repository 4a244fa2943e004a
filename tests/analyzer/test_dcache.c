/* Tests for analyzer/dcache.c: profiles are byte-identical with and without
 * the decode cache, on the samples and on system binaries with a wide
 * variety of instructions (libc's AVX2/AVX-512 string functions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyzer/internal.h"

static char *profile_text(const char *path, int cache)
{
    pva_dcache_enabled = cache;
    pv_profile *p = NULL;
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.uarch = pv_uarch_find("zen4");
    if (pv_analyze_binary(path, &o, &p))
        fail_msg("%s: %s", path, pv_error_last());
    char *text = NULL;
    assert_int_equal(pv_profile_to_string(p, &text, 1), PV_OK);
    pv_profile_free(p);
    pva_dcache_enabled = 1;
    return text;
}

static void same_profiles(void **state)
{
    (void)state;
    char paths[8][512];
    int n = 0;
    const char *samples[] = {"matmul", "qsort", "bintrees", "sha256", "stream"};
    for (int i = 0; i < 5; i++)
        snprintf(paths[n++], sizeof paths[0], "%s/%s", PV_SAMPLES_DIR, samples[i]);
    const char *sys[] = {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/bin/ls"};
    for (int i = 0; i < 2; i++)
        if (access(sys[i], R_OK) == 0)
            snprintf(paths[n++], sizeof paths[0], "%s", sys[i]);
    for (int i = 0; i < n; i++) {
        char *a = profile_text(paths[i], 1), *b = profile_text(paths[i], 0);
        if (strcmp(a, b)) {
            size_t k = 0;
            while (a[k] == b[k])
                k++;
            fail_msg("%s: profiles differ at byte %zu: '%.80s' vs '%.80s'", paths[i], k, a + (k > 40 ? k - 40 : 0),
                     b + (k > 40 ? k - 40 : 0));
        }
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(same_profiles)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
