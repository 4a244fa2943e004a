/* libFuzzer target: pv_decode_insn() on arbitrary bytes, then the mix and
 * the dependency records the loop recurrence uses. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analyzer/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pv_decoder *d;
    if (!d) {
        pv_decoder_options o = PV_DECODER_OPTIONS_INIT;
        if (pv_decoder_new(&d, &o) != PV_OK)
            __builtin_trap();
    }
    const pv_uarch *u = pv_uarch_find("zen5");
    pv_mix mix;
    memset(&mix, 0, sizeof mix);
    size_t off = 0;
    pva_dep deps[64];
    uint32_t nd = 0;
    /* Decode the buffer as a straight line, as the sweep does. */
    while (off < size) {
        pv_insn in;
        if (pv_decode_insn(d, data + off, size - off, 0x401000 + off, &in) != PV_OK) {
            if (in.size != 0)
                __builtin_trap();
            off++;
            continue;
        }
        if (in.size == 0 || in.size > 15 || in.size > size - off)
            __builtin_trap();
        pv_insn_add_to_mix(&in, &mix);
        if (nd < 64 && pva_dep_of(d, &in, u, &deps[nd]))
            nd++;
        off += in.size;
    }
    (void)pva_recurrence(u, deps, nd);
    (void)pv_uarch_block_cycles(u, &mix, (uint32_t)nd);
    return 0;
}
