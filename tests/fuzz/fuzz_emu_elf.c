/* libFuzzer target for the emulator's ELF loader checks (emulator/elf.c):
 * any byte string either parses into segments the loader can map (inside the
 * file, ascending, in user space, entry inside) or is rejected with an error
 * detail; nothing reads out of bounds. The header-only variant used for
 * mmap()ed files runs on every prefix the fuzzer hands in. */
#include <stdint.h>
#include <string.h>

#include "emulator/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pve_elf e;
    int rc = pve_elf_parse(data, size, "fuzz", &e);
    if (rc == PV_OK) {
        if (!e.nloads || e.lo >= e.hi || e.entry < e.lo || e.entry >= e.hi)
            __builtin_trap();
        for (uint32_t i = 0; i < e.nloads; i++) {
            const pve_seg *s = &e.loads[i];
            if (s->filesz > s->memsz || s->offset + s->filesz > size)
                __builtin_trap();
            if (i && s->vaddr < e.loads[i - 1].vaddr + e.loads[i - 1].memsz)
                __builtin_trap();
            if (pve_elf_offset_to_vaddr(&e, s->offset) != s->vaddr && s->filesz)
                __builtin_trap();
        }
        if (e.interp[0] && !memchr(e.interp, 0, sizeof e.interp))
            __builtin_trap();
    } else if (!pv_error_last()[0]) {
        __builtin_trap(); /* every rejection says why */
    }
    size_t head = size < 4096 ? size : 4096;
    if (pve_elf_parse_headers(data, head, size, &e) == PV_OK)
        (void)pve_elf_offset_to_vaddr(&e, size / 2);
    return 0;
}
