/* libFuzzer target: the ELF reader and the whole analysis behind
 * pv_analyze_memory() on arbitrary bytes. Any return code is fine; a crash,
 * a leak or undefined behaviour is a bug. */
#include <stddef.h>
#include <stdint.h>

#include "prevision/analyzer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pv_analyze_options o = PV_ANALYZE_OPTIONS_INIT;
    o.nthreads = 1; /* deterministic and cheap; the threaded path is the same code per function */
    o.uarch = pv_uarch_find("zen4");
    pv_profile *p = NULL;
    if (pv_analyze_memory(data, size, "fuzz", &o, &p) == PV_OK) {
        /* Serializing checks every index the analysis produced. */
        char *text = NULL;
        if (pv_profile_to_string(p, &text, 1) != PV_OK)
            __builtin_trap();
        __builtin_free(text);
        pv_profile_free(p);
    }
    return 0;
}
