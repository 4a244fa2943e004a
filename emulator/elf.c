/* ELF executable parsing for the loader: a pure function over bytes, so the
 * fuzz target (tests/fuzz/fuzz_emu_elf.c) exercises exactly what the loader
 * trusts. libelf would do, but the loader needs only the header and the
 * program headers, and checks of its own on them (ranges, overlaps). */
#include <elf.h>
#include <string.h>

#include "internal.h"

static int rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static const char *machine_name(int m)
{
    switch (m) {
    case EM_386: return "i386";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "s390";
    case EM_MIPS: return "MIPS";
    default: return NULL;
    }
}

/* x86-64 user space ends at 2^47; anything above cannot be mapped. */
#define PVE_USER_TOP (1ull << 47)

/* @p len bytes of the file are at @p data; the file has @p fsize bytes
 * (segments are checked against fsize, headers against len). */
static int parse(const uint8_t *data, size_t len, uint64_t fsize, const char *name, int exec, pve_elf *out)
{
    memset(out, 0, sizeof *out);
    if (len < 4 || memcmp(data, ELFMAG, SELFMAG))
        return pv_error_set(PV_ERR_FORMAT, "%s: not an ELF file (no \\177ELF magic at offset 0); give an x86-64 "
                            "Linux executable", name);
    if (len < EI_NIDENT)
        return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: %zu bytes, shorter than the ELF identification",
                            name, len);
    if (data[EI_CLASS] != ELFCLASS64) {
        if (data[EI_CLASS] == ELFCLASS32)
            return pv_error_set(PV_ERR_UNSUPPORTED, "%s: 32-bit ELF; the emulator runs x86-64 (64-bit) executables "
                                "only", name);
        return pv_error_set(PV_ERR_FORMAT, "%s: bad ELF class %u at offset %d", name, data[EI_CLASS], EI_CLASS);
    }
    if (data[EI_DATA] != ELFDATA2LSB)
        return pv_error_set(PV_ERR_UNSUPPORTED, "%s: big-endian ELF; the emulator runs little-endian x86-64 "
                            "executables only", name);
    if (len < sizeof(Elf64_Ehdr))
        return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: %zu bytes, shorter than the %zu-byte ELF header",
                            name, len, sizeof(Elf64_Ehdr));
    int machine = rd16(data + offsetof(Elf64_Ehdr, e_machine));
    if (machine != EM_X86_64) {
        const char *m = machine_name(machine);
        if (m)
            return pv_error_set(PV_ERR_UNSUPPORTED, "%s: ELF for %s (e_machine %d); the emulator runs x86-64 "
                                "executables only", name, m, machine);
        return pv_error_set(PV_ERR_UNSUPPORTED, "%s: ELF for machine %d, not x86-64 (62); the emulator runs x86-64 "
                            "executables only", name, machine);
    }
    out->type = (uint16_t)rd16(data + offsetof(Elf64_Ehdr, e_type));
    if (out->type != ET_EXEC && out->type != ET_DYN) {
        if (out->type == ET_REL)
            return pv_error_set(PV_ERR_UNSUPPORTED, "%s: relocatable object file (ET_REL); link it into an "
                                "executable first", name);
        if (out->type == ET_CORE)
            return pv_error_set(PV_ERR_UNSUPPORTED, "%s: core dump (ET_CORE), not an executable", name);
        return pv_error_set(PV_ERR_FORMAT, "%s: bad ELF type %u in e_type (offset 16)", name, out->type);
    }
    out->entry = rd64(data + offsetof(Elf64_Ehdr, e_entry));
    out->phoff = rd64(data + offsetof(Elf64_Ehdr, e_phoff));
    out->phnum = (uint16_t)rd16(data + offsetof(Elf64_Ehdr, e_phnum));
    int phentsize = rd16(data + offsetof(Elf64_Ehdr, e_phentsize));
    if (out->phnum == 0)
        return pv_error_set(PV_ERR_FORMAT, "%s: no program headers (e_phnum 0): not an executable", name);
    if (out->phnum == 0xffff)
        return pv_error_set(PV_ERR_FORMAT, "%s: extended program header count (e_phnum 0xffff) is not supported",
                            name);
    if (phentsize != sizeof(Elf64_Phdr))
        return pv_error_set(PV_ERR_FORMAT, "%s: e_phentsize %d at offset 54, expected %zu", name, phentsize,
                            sizeof(Elf64_Phdr));
    if (out->phoff > len || (uint64_t)out->phnum * sizeof(Elf64_Phdr) > len - out->phoff)
        return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: %u program headers at offset %llu need %llu "
                            "bytes, the file has %zu", name, out->phnum, (unsigned long long)out->phoff,
                            (unsigned long long)(out->phoff + (uint64_t)out->phnum * sizeof(Elf64_Phdr)), len);
    int have_interp = 0;
    uint64_t phdr_seg = 0;
    int have_phdr_seg = 0;
    for (unsigned i = 0; i < out->phnum; i++) {
        const uint8_t *ph = data + out->phoff + (uint64_t)i * sizeof(Elf64_Phdr);
        uint32_t type = rd32(ph + offsetof(Elf64_Phdr, p_type));
        uint32_t flags = rd32(ph + offsetof(Elf64_Phdr, p_flags));
        uint64_t off = rd64(ph + offsetof(Elf64_Phdr, p_offset));
        uint64_t vaddr = rd64(ph + offsetof(Elf64_Phdr, p_vaddr));
        uint64_t filesz = rd64(ph + offsetof(Elf64_Phdr, p_filesz));
        uint64_t memsz = rd64(ph + offsetof(Elf64_Phdr, p_memsz));
        uint64_t phoff_here = out->phoff + (uint64_t)i * sizeof(Elf64_Phdr);
        if (type == PT_LOAD) {
            if (out->nloads == PVE_MAX_LOADS)
                return pv_error_set(PV_ERR_FORMAT, "%s: more than %d PT_LOAD segments (program header %u at offset "
                                    "%llu)", name, PVE_MAX_LOADS, i, (unsigned long long)phoff_here);
            if (filesz > memsz)
                return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD program header %u (offset %llu): p_filesz %llu "
                                    "exceeds p_memsz %llu", name, i, (unsigned long long)phoff_here,
                                    (unsigned long long)filesz, (unsigned long long)memsz);
            if (off > fsize || filesz > fsize - off)
                return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: PT_LOAD program header %u (offset %llu) "
                                    "maps file bytes %llu..%llu, the file has %llu", name, i,
                                    (unsigned long long)phoff_here, (unsigned long long)off,
                                    (unsigned long long)(off + filesz), (unsigned long long)fsize);
            if (vaddr >= PVE_USER_TOP || memsz > PVE_USER_TOP - vaddr - PVE_PAGE)
                return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD program header %u (offset %llu): address range "
                                    "0x%llx+0x%llx is outside x86-64 user space", name, i,
                                    (unsigned long long)phoff_here, (unsigned long long)vaddr,
                                    (unsigned long long)memsz);
            if ((vaddr & (PVE_PAGE - 1)) != (off & (PVE_PAGE - 1)))
                return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD program header %u (offset %llu): p_vaddr 0x%llx and "
                                    "p_offset 0x%llx differ modulo the 4096-byte page", name, i,
                                    (unsigned long long)phoff_here, (unsigned long long)vaddr,
                                    (unsigned long long)off);
            if (memsz == 0)
                continue;
            if (out->nloads && vaddr < out->loads[out->nloads - 1].vaddr + out->loads[out->nloads - 1].memsz)
                return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD program header %u (offset %llu) at 0x%llx overlaps "
                                    "or precedes the previous one; segments must ascend", name, i,
                                    (unsigned long long)phoff_here, (unsigned long long)vaddr);
            pve_seg *s = &out->loads[out->nloads++];
            s->vaddr = vaddr;
            s->memsz = memsz;
            s->offset = off;
            s->filesz = filesz;
            s->flags = flags;
        } else if (type == PT_INTERP && len == fsize) {
            if (have_interp)
                return pv_error_set(PV_ERR_FORMAT, "%s: two PT_INTERP program headers", name);
            have_interp = 1;
            if (off > len || filesz > len - off)
                return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: PT_INTERP at offset %llu+%llu is past the "
                                    "end (%zu bytes)", name, (unsigned long long)off, (unsigned long long)filesz,
                                    len);
            if (filesz < 2 || filesz >= sizeof out->interp || data[off + filesz - 1] != 0 ||
                memchr(data + off, 0, filesz - 1))
                return pv_error_set(PV_ERR_FORMAT, "%s: PT_INTERP at offset %llu is not one NUL-terminated path",
                                    name, (unsigned long long)off);
            memcpy(out->interp, data + off, filesz);
        } else if (type == PT_PHDR) {
            have_phdr_seg = 1;
            phdr_seg = vaddr;
        } else if (type == PT_NOTE && off <= len && filesz <= len - off && !out->build_id_len) {
            /* GNU build-id: namesz 4 "GNU\0", type NT_GNU_BUILD_ID */
            for (uint64_t p = off; p + 12 <= off + filesz;) {
                uint32_t nsz = rd32(data + p), dsz = rd32(data + p + 4), nt = rd32(data + p + 8);
                uint64_t name_end = p + 12 + ((nsz + 3ull) & ~3ull);
                uint64_t desc_end = name_end + ((dsz + 3ull) & ~3ull);
                if (name_end > off + filesz || desc_end > off + filesz)
                    break;
                if (nt == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(data + p + 12, "GNU", 4) && dsz && dsz <= 64) {
                    out->build_id_off = name_end;
                    out->build_id_len = dsz;
                    break;
                }
                p = desc_end;
            }
        }
    }
    if (!out->nloads)
        return pv_error_set(PV_ERR_FORMAT, "%s: no PT_LOAD segment: nothing to load", name);
    if (have_phdr_seg)
        out->phdr_vaddr = phdr_seg;
    else
        out->phdr_vaddr = pve_elf_offset_to_vaddr(out, out->phoff) == UINT64_MAX
                              ? 0
                              : pve_elf_offset_to_vaddr(out, out->phoff);
    out->lo = PVE_PAGE_DOWN(out->loads[0].vaddr);
    out->hi = PVE_PAGE_UP(out->loads[out->nloads - 1].vaddr + out->loads[out->nloads - 1].memsz);
    if (out->type == ET_DYN && out->hi - out->lo > (1ull << 40))
        return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD segments span %llu bytes; too large to load", name,
                            (unsigned long long)(out->hi - out->lo));
    if (!exec)
        return PV_OK;
    if (out->type == ET_EXEC && out->lo < 0x10000)
        return pv_error_set(PV_ERR_FORMAT, "%s: PT_LOAD at 0x%llx, below the lowest mappable address 0x10000", name,
                            (unsigned long long)out->lo);
    if (out->type == ET_DYN && out->entry == 0 && !out->interp[0])
        return pv_error_set(PV_ERR_UNSUPPORTED, "%s: a shared library (ET_DYN without an entry point), not an "
                            "executable", name);
    if (out->entry < out->lo || out->entry >= out->hi)
        return pv_error_set(PV_ERR_FORMAT, "%s: entry point 0x%llx (e_entry, offset 24) is outside the loaded "
                            "segments 0x%llx..0x%llx", name, (unsigned long long)out->entry,
                            (unsigned long long)out->lo, (unsigned long long)out->hi);
    return PV_OK;
}

int pve_elf_parse(const uint8_t *data, size_t len, const char *name, pve_elf *out)
{
    return parse(data, len, len, name, 1, out);
}

int pve_elf_parse_headers(const uint8_t *data, size_t len, uint64_t fsize, pve_elf *out)
{
    int rc = parse(data, len, fsize, "mapped file", 0, out);
    if (rc)
        pv_error_clear();
    return rc;
}

uint64_t pve_elf_offset_to_vaddr(const pve_elf *elf, uint64_t off)
{
    for (uint32_t i = 0; i < elf->nloads; i++) {
        const pve_seg *s = &elf->loads[i];
        uint64_t o0 = PVE_PAGE_DOWN(s->offset);
        if (off >= o0 && off < s->offset + s->filesz)
            return s->vaddr - (s->offset - off);
    }
    return UINT64_MAX;
}
