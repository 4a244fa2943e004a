/* ELF reading for the binary analyzer: header, sections, dynamic section,
 * symbols, versions, relocations, build-id.
 *
 * Every offset and size is checked against the file length here before
 * anything (libelf included) reads through it: a fuzzed or truncated file
 * must give PV_ERR_FORMAT naming the field and its file offset, never a
 * crash. The tables themselves (symbols, versions, relocations, dynamic
 * entries) are read straight from the validated image with memcpy: on this
 * little-endian host no conversion is needed, and it keeps libelf's
 * converters (which copy and allocate) off the path of a 50 MB library. */
#include <elf.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SHN_XINDEX_ 0xffff

static const char *magic_guess(const uint8_t *d, size_t len)
{
    if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return " (a PNG image)";
    if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
        return " (gzip-compressed data)";
    if (len >= 2 && d[0] == '#' && d[1] == '!')
        return " (a script)";
    if (len >= 2 && d[0] == 'M' && d[1] == 'Z')
        return " (a Windows PE executable)";
    if (len >= 8 && !memcmp(d, "!<arch>\n", 8))
        return " (an ar archive: a static library, analyze the linked binary)";
    if (len >= 4 && (!memcmp(d, "\xcf\xfa\xed\xfe", 4) || !memcmp(d, "\xfe\xed\xfa\xcf", 4)))
        return " (a Mach-O binary)";
    if (len >= 5 && !memcmp(d, "%PDF-", 5))
        return " (a PDF document)";
    return "";
}

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_386: return "i386 (32-bit x86)";
    case EM_ARM: return "arm (32-bit)";
    case EM_AARCH64: return "aarch64";
    case EM_RISCV: return "riscv";
    case EM_MIPS: return "mips";
    case EM_PPC: return "powerpc";
    case EM_PPC64: return "powerpc64";
    case EM_S390: return "s390";
    case EM_SPARC: return "sparc";
    case EM_SPARCV9: return "sparc64";
    case 258: return "loongarch";
    case EM_NONE: return "none";
    default: return "unknown";
    }
}

/* a + b <= limit without overflow. */
static int fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

const pva_sec *pva_elf_section(const pva_elf *e, const char *name)
{
    for (size_t i = 0; i < e->nsecs; i++)
        if (!strcmp(e->secs[i].name, name))
            return &e->secs[i];
    return NULL;
}

const uint8_t *pva_elf_ptr(const pva_elf *e, uint64_t va, uint64_t *avail)
{
    for (size_t i = 0; i < e->nsecs; i++) {
        const pva_sec *s = &e->secs[i];
        if (!(s->flags & SHF_ALLOC) || s->type == SHT_NOBITS || s->type == SHT_NULL || !s->size)
            continue;
        if (va >= s->addr && va - s->addr < s->size) {
            if (avail)
                *avail = s->size - (va - s->addr);
            return e->data + s->off + (va - s->addr);
        }
    }
    return NULL;
}

const pva_sec *pva_elf_code_section(const pva_elf *e, uint64_t va)
{
    for (size_t i = 0; i < e->nsecs; i++) {
        const pva_sec *s = &e->secs[i];
        if (s->type == SHT_PROGBITS && (s->flags & SHF_EXECINSTR) && (s->flags & SHF_ALLOC) && va >= s->addr &&
            va - s->addr < s->size)
            return s;
    }
    return NULL;
}

int pva_elf_slot_import(const pva_elf *e, uint64_t addr)
{
    size_t lo = 0, hi = e->nslots;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->slots[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->nslots && e->slots[lo].addr == addr ? (int)e->slots[lo].import : -1;
}

const char *pva_elf_kind(const pva_elf *e)
{
    if (e->type == ET_EXEC)
        return e->has_interp || e->has_dynamic ? "exec" : "static";
    return e->has_interp || e->pie_flag ? "pie" : "shared";
}

void pva_elf_close(pva_elf *e)
{
    if (e->elf)
        elf_end(e->elf);
    free(e->secs);
    free(e->needed);
    free(e->imports);
    free(e->slots);
    free(e->syms);
    memset(e, 0, sizeof *e);
}

/* A NUL-terminated string at @off of string-table section @s, or NULL. */
static const char *sec_str(const pva_elf *e, const pva_sec *s, uint64_t off)
{
    if (!s || s->type == SHT_NOBITS || s->type == SHT_NULL || off >= s->size || !fits(s->off, s->size, e->len))
        return NULL;
    const char *p = (const char *)e->data + s->off + off;
    return memchr(p, 0, s->size - off) ? p : NULL;
}

static int read_ehdr(pva_elf *e, Elf64_Ehdr *h)
{
    const uint8_t *d = e->data;
    size_t len = e->len;
    if (len == 0)
        return pv_error_set(PV_ERR_FORMAT, "%s: empty file (0 bytes), not an ELF binary", e->path);
    if (len < 4 || memcmp(d, ELFMAG, SELFMAG)) {
        char got[3 * 4 + 1] = "";
        for (size_t i = 0; i < 4 && i < len; i++)
            snprintf(got + 3 * i, 4, "%02x ", d[i]);
        got[strlen(got) - 1] = 0;
        return pv_error_set(PV_ERR_FORMAT, "%s: not an ELF file: offset 0: magic bytes %s%s, expected 7f 45 4c 46",
                            e->path, got, magic_guess(d, len));
    }
    if (len < EI_NIDENT)
        return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: %zu bytes, the identification alone needs %d",
                            e->path, len, EI_NIDENT);
    if (d[EI_CLASS] == ELFCLASS32)
        return pv_error_set(PV_ERR_UNSUPPORTED,
                            "%s: 32-bit ELF (EI_CLASS %u at offset 0x4); prevision analyzes x86-64 binaries only",
                            e->path, d[EI_CLASS]);
    if (d[EI_CLASS] != ELFCLASS64)
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: offset 0x4: EI_CLASS is %u, expected 1 or 2",
                            e->path, d[EI_CLASS]);
    if (d[EI_DATA] == ELFDATA2MSB)
        return pv_error_set(PV_ERR_UNSUPPORTED,
                            "%s: big-endian ELF (EI_DATA 2 at offset 0x5); prevision analyzes x86-64 binaries only",
                            e->path);
    if (d[EI_DATA] != ELFDATA2LSB)
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: offset 0x5: EI_DATA is %u, expected 1 or 2",
                            e->path, d[EI_DATA]);
    if (len < sizeof *h)
        return pv_error_set(PV_ERR_FORMAT, "%s: truncated ELF file: %zu bytes, the ELF header needs %zu", e->path,
                            len, sizeof *h);
    memcpy(h, d, sizeof *h);
    if (h->e_machine != EM_X86_64)
        return pv_error_set(PV_ERR_UNSUPPORTED,
                            "%s: ELF for machine %s (e_machine %u at offset 0x12), not x86-64; prevision analyzes "
                            "x86-64 binaries only",
                            e->path, machine_name(h->e_machine), h->e_machine);
    if (h->e_type == ET_REL)
        return pv_error_set(PV_ERR_UNSUPPORTED,
                            "%s: relocatable object file (e_type 1 at offset 0x10); link it into an executable or "
                            "shared library first",
                            e->path);
    if (h->e_type == ET_CORE)
        return pv_error_set(PV_ERR_UNSUPPORTED, "%s: core dump (e_type 4 at offset 0x10), not a program", e->path);
    if (h->e_type != ET_EXEC && h->e_type != ET_DYN)
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: offset 0x10: e_type is %u, expected 2 or 3",
                            e->path, h->e_type);
    return PV_OK;
}

static int read_sections(pva_elf *e, const Elf64_Ehdr *h)
{
    size_t len = e->len;
    if (h->e_shoff == 0)
        return pv_error_set(PV_ERR_UNSUPPORTED,
                            "%s: no section header table (e_shoff at offset 0x28 is 0); prevision needs section "
                            "headers (was the file processed by sstrip?)",
                            e->path);
    if (h->e_shentsize != sizeof(Elf64_Shdr))
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: offset 0x3a: e_shentsize is %u, expected %zu",
                            e->path, h->e_shentsize, sizeof(Elf64_Shdr));
    if (!fits(h->e_shoff, sizeof(Elf64_Shdr), len))
        return pv_error_set(PV_ERR_FORMAT,
                            "%s: section header table at offset 0x%llx (e_shoff, header offset 0x28) lies past the "
                            "end of the file (0x%zx bytes): truncated file or corrupt header",
                            e->path, (unsigned long long)h->e_shoff, len);
    Elf64_Shdr s0;
    memcpy(&s0, e->data + h->e_shoff, sizeof s0);
    uint64_t shnum = h->e_shnum ? h->e_shnum : s0.sh_size;
    uint64_t shstrndx = h->e_shstrndx == SHN_XINDEX_ ? s0.sh_link : h->e_shstrndx;
    if (shnum == 0 || shnum > (1u << 20))
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: %llu sections (e_shnum at offset 0x3c)", e->path,
                            (unsigned long long)shnum);
    if (!fits(h->e_shoff, shnum * sizeof(Elf64_Shdr), len))
        return pv_error_set(PV_ERR_FORMAT,
                            "%s: section header table at offset 0x%llx (%llu entries of %zu bytes) ends at 0x%llx, "
                            "past the end of the file (0x%zx bytes): truncated file or corrupt e_shoff (offset 0x28)",
                            e->path, (unsigned long long)h->e_shoff, (unsigned long long)shnum, sizeof(Elf64_Shdr),
                            (unsigned long long)(h->e_shoff + shnum * sizeof(Elf64_Shdr)), len);
    if (shstrndx >= shnum)
        return pv_error_set(PV_ERR_FORMAT,
                            "%s: corrupt ELF header: offset 0x3e: section-name table index %llu, only %llu sections",
                            e->path, (unsigned long long)shstrndx, (unsigned long long)shnum);
    e->secs = calloc(shnum, sizeof *e->secs);
    if (!e->secs)
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory reading %llu section headers", e->path,
                            (unsigned long long)shnum);
    e->nsecs = shnum;
    for (uint64_t i = 0; i < shnum; i++) {
        Elf64_Shdr s;
        uint64_t hoff = h->e_shoff + i * sizeof s;
        memcpy(&s, e->data + hoff, sizeof s);
        pva_sec *x = &e->secs[i];
        x->name = "";
        x->addr = s.sh_addr;
        x->size = s.sh_size;
        x->off = s.sh_offset;
        x->entsize = s.sh_entsize;
        x->type = s.sh_type;
        x->link = s.sh_link;
        x->info = s.sh_info;
        x->flags = s.sh_flags;
        if (s.sh_type == SHT_NULL) {
            x->size = 0; /* no contents, whatever its header says */
            continue;
        }
        if (s.sh_type == SHT_NOBITS)
            continue;
        if (!fits(s.sh_offset, s.sh_size, len))
            return pv_error_set(PV_ERR_FORMAT,
                                "%s: section [%llu] (header at file offset 0x%llx): sh_offset 0x%llx + sh_size 0x%llx "
                                "runs past the end of the file (0x%zx bytes): truncated file or corrupt section header",
                                e->path, (unsigned long long)i, (unsigned long long)hoff,
                                (unsigned long long)s.sh_offset, (unsigned long long)s.sh_size, len);
        if ((s.sh_flags & SHF_ALLOC) && s.sh_addr + s.sh_size < s.sh_addr)
            return pv_error_set(PV_ERR_FORMAT,
                                "%s: section [%llu] (header at file offset 0x%llx): address 0x%llx + size 0x%llx "
                                "overflows",
                                e->path, (unsigned long long)i, (unsigned long long)hoff,
                                (unsigned long long)s.sh_addr, (unsigned long long)s.sh_size);
    }
    const pva_sec *strs = &e->secs[shstrndx];
    for (uint64_t i = 0; i < shnum; i++) {
        Elf64_Shdr s;
        uint64_t hoff = h->e_shoff + i * sizeof s;
        memcpy(&s, e->data + hoff, sizeof s);
        if (i == 0 && s.sh_name == 0)
            continue;
        const char *n = sec_str(e, strs, s.sh_name);
        if (!n)
            return pv_error_set(PV_ERR_FORMAT,
                                "%s: section [%llu] (header at file offset 0x%llx): name offset %u lies outside the "
                                "section-name table [%llu] (%llu bytes)",
                                e->path, (unsigned long long)i, (unsigned long long)hoff, s.sh_name,
                                (unsigned long long)shstrndx, (unsigned long long)strs->size);
        e->secs[i].name = n;
    }
    return PV_OK;
}

static int read_phdrs(pva_elf *e, const Elf64_Ehdr *h)
{
    if (h->e_phnum == 0)
        return PV_OK;
    if (h->e_phentsize != sizeof(Elf64_Phdr))
        return pv_error_set(PV_ERR_FORMAT, "%s: corrupt ELF header: offset 0x36: e_phentsize is %u, expected %zu",
                            e->path, h->e_phentsize, sizeof(Elf64_Phdr));
    if (!fits(h->e_phoff, (uint64_t)h->e_phnum * sizeof(Elf64_Phdr), e->len))
        return pv_error_set(PV_ERR_FORMAT,
                            "%s: program header table at offset 0x%llx (%u entries, e_phoff at offset 0x20) runs "
                            "past the end of the file (0x%zx bytes): truncated file or corrupt header",
                            e->path, (unsigned long long)h->e_phoff, h->e_phnum, e->len);
    for (unsigned i = 0; i < h->e_phnum; i++) {
        Elf64_Phdr p;
        memcpy(&p, e->data + h->e_phoff + (uint64_t)i * sizeof p, sizeof p);
        if (p.p_type == PT_INTERP)
            e->has_interp = 1;
        else if (p.p_type == PT_DYNAMIC)
            e->has_dynamic = 1;
    }
    return PV_OK;
}

static void read_build_id(pva_elf *e)
{
    for (size_t i = 0; i < e->nsecs && !e->build_id[0]; i++) {
        const pva_sec *s = &e->secs[i];
        if (s->type != SHT_NOTE)
            continue;
        const uint8_t *p = e->data + s->off;
        uint64_t n = s->size, o = 0;
        while (o + 12 <= n) {
            uint32_t nsz, dsz, type;
            memcpy(&nsz, p + o, 4);
            memcpy(&dsz, p + o + 4, 4);
            memcpy(&type, p + o + 8, 4);
            uint64_t name_end = o + 12 + (((uint64_t)nsz + 3) & ~3ull);
            uint64_t desc_end = name_end + (((uint64_t)dsz + 3) & ~3ull);
            if (name_end > n || desc_end > n || name_end + dsz > n)
                break;
            if (type == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(p + o + 12, "GNU", 4) && dsz > 0 && dsz <= 64) {
                for (uint32_t k = 0; k < dsz; k++)
                    snprintf(e->build_id + 2 * k, 3, "%02x", p[name_end + k]);
                break;
            }
            o = desc_end;
        }
    }
}

/* Soname of each version index, from .gnu.version_r. */
typedef struct vermap {
    uint16_t idx;
    const char *file;
} vermap;

static size_t read_verneed(const pva_elf *e, const pva_sec *s, vermap *out, size_t cap)
{
    if (!s || s->link >= e->nsecs)
        return 0;
    const pva_sec *strs = &e->secs[s->link];
    const uint8_t *p = e->data + s->off;
    uint64_t o = 0, nout = 0;
    for (unsigned guard = 0; guard < 4096 && o + sizeof(Elf64_Verneed) <= s->size; guard++) {
        Elf64_Verneed vn;
        memcpy(&vn, p + o, sizeof vn);
        const char *file = sec_str(e, strs, vn.vn_file);
        uint64_t a = o + vn.vn_aux;
        for (unsigned k = 0; k < vn.vn_cnt && k < 4096 && a >= o && a + sizeof(Elf64_Vernaux) <= s->size; k++) {
            Elf64_Vernaux aux;
            memcpy(&aux, p + a, sizeof aux);
            if (file && nout < cap)
                out[nout++] = (vermap){(uint16_t)(aux.vna_other & 0x7fff), file};
            if (!aux.vna_next)
                break;
            a += aux.vna_next;
        }
        if (!vn.vn_next)
            break;
        o += vn.vn_next;
    }
    return nout;
}

static int cmp_slot(const void *a, const void *b)
{
    const pva_slot *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int push_sym(pva_elf *e, size_t *cap, const pva_sym *s)
{
    if (e->nsyms == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        pva_sym *v = realloc(e->syms, nc * sizeof *v);
        if (!v)
            return pv_error_set(PV_ERR_NOMEM, "%s: out of memory reading symbols", e->path);
        e->syms = v;
        *cap = nc;
    }
    e->syms[e->nsyms++] = *s;
    return PV_OK;
}

/* Function symbols of a symbol table; for .dynsym also the imports. */
static int read_symtab(pva_elf *e, size_t si, size_t *symcap, int32_t **dyn2imp, size_t *ndyn)
{
    const pva_sec *s = &e->secs[si];
    int dynamic = s->type == SHT_DYNSYM;
    if (s->entsize != sizeof(Elf64_Sym) || s->link >= e->nsecs || e->secs[s->link].type != SHT_STRTAB)
        return pv_error_set(PV_ERR_FORMAT,
                            "%s: symbol table [%zu] %s: entry size %llu (expected %zu) or string table link %u is "
                            "wrong",
                            e->path, si, s->name, (unsigned long long)s->entsize, sizeof(Elf64_Sym), s->link);
    const pva_sec *strs = &e->secs[s->link];
    size_t n = s->size / sizeof(Elf64_Sym);
    const uint8_t *versym = NULL;
    vermap vm[512];
    size_t nvm = 0;
    if (dynamic) {
        for (size_t i = 0; i < e->nsecs; i++) {
            const pva_sec *v = &e->secs[i];
            if (v->type == SHT_GNU_versym && v->size >= n * 2)
                versym = e->data + v->off;
            else if (v->type == SHT_GNU_verneed)
                nvm = read_verneed(e, v, vm, sizeof vm / sizeof vm[0]);
        }
        *dyn2imp = malloc((n ? n : 1) * sizeof **dyn2imp);
        e->imports = malloc((n ? n : 1) * sizeof *e->imports);
        if (!*dyn2imp || !e->imports)
            return pv_error_set(PV_ERR_NOMEM, "%s: out of memory reading .dynsym", e->path);
        *ndyn = n;
    }
    int has_func = 0;
    for (size_t i = 1; i < n; i++) {
        Elf64_Sym sym;
        memcpy(&sym, e->data + s->off + i * sizeof sym, sizeof sym);
        if (dynamic)
            (*dyn2imp)[i] = -1;
        unsigned type = ELF64_ST_TYPE(sym.st_info), bind = ELF64_ST_BIND(sym.st_info);
        const char *name = sec_str(e, strs, sym.st_name);
        if (!name)
            return pv_error_set(PV_ERR_FORMAT,
                                "%s: symbol %zu of [%zu] %s (file offset 0x%llx): name offset %u lies outside its "
                                "string table (%llu bytes)",
                                e->path, i, si, s->name, (unsigned long long)(s->off + i * sizeof sym), sym.st_name,
                                (unsigned long long)strs->size);
        if (!name[0])
            continue;
        if (sym.st_shndx == SHN_UNDEF) {
            if (!dynamic || (bind == STB_WEAK && type == STT_NOTYPE) ||
                (type != STT_FUNC && type != STT_NOTYPE && type != STT_GNU_IFUNC))
                continue;
            pva_import *im = &e->imports[e->nimports];
            im->name = name;
            im->lib = NULL;
            im->dynidx = (uint32_t)i;
            if (versym) {
                uint16_t v;
                memcpy(&v, versym + 2 * i, 2);
                v &= 0x7fff;
                for (size_t k = 0; v >= 2 && k < nvm; k++)
                    if (vm[k].idx == v)
                        im->lib = vm[k].file;
            }
            (*dyn2imp)[i] = (int32_t)e->nimports++;
            continue;
        }
        if (type != STT_FUNC && type != STT_GNU_IFUNC)
            continue;
        if (!pva_elf_code_section(e, sym.st_value))
            continue;
        has_func = 1;
        pva_sym fs = {name, sym.st_value, sym.st_size, (uint8_t)bind, (uint8_t)!dynamic};
        int rc = push_sym(e, symcap, &fs);
        if (rc)
            return rc;
    }
    if (!dynamic && (has_func || n > 1))
        e->has_symtab = 1;
    return PV_OK;
}

static int read_relocs(pva_elf *e, const int32_t *dyn2imp, size_t ndyn, size_t dynsym)
{
    size_t cap = 0;
    for (size_t i = 0; i < e->nsecs; i++) {
        const pva_sec *s = &e->secs[i];
        if (s->type != SHT_RELA || s->link != dynsym)
            continue;
        if (s->entsize != sizeof(Elf64_Rela))
            return pv_error_set(PV_ERR_FORMAT, "%s: relocation section [%zu] %s: entry size %llu, expected %zu",
                                e->path, i, s->name, (unsigned long long)s->entsize, sizeof(Elf64_Rela));
        size_t n = s->size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < n; k++) {
            Elf64_Rela r;
            memcpy(&r, e->data + s->off + k * sizeof r, sizeof r);
            unsigned type = ELF64_R_TYPE(r.r_info);
            size_t sym = ELF64_R_SYM(r.r_info);
            if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || sym >= ndyn || dyn2imp[sym] < 0)
                continue;
            if (e->nslots == cap) {
                size_t nc = cap ? cap * 2 : 64;
                pva_slot *v = realloc(e->slots, nc * sizeof *v);
                if (!v)
                    return pv_error_set(PV_ERR_NOMEM, "%s: out of memory reading relocations", e->path);
                e->slots = v;
                cap = nc;
            }
            e->slots[e->nslots++] = (pva_slot){r.r_offset, (uint32_t)dyn2imp[sym]};
        }
    }
    if (e->nslots)
        qsort(e->slots, e->nslots, sizeof *e->slots, cmp_slot);
    return PV_OK;
}

static int read_dynamic(pva_elf *e)
{
    for (size_t i = 0; i < e->nsecs; i++) {
        const pva_sec *s = &e->secs[i];
        if (s->type != SHT_DYNAMIC)
            continue;
        e->has_dynamic = 1;
        const pva_sec *strs = s->link < e->nsecs ? &e->secs[s->link] : NULL;
        size_t n = s->size / sizeof(Elf64_Dyn), cap = 0;
        for (size_t k = 0; k < n; k++) {
            Elf64_Dyn d;
            memcpy(&d, e->data + s->off + k * sizeof d, sizeof d);
            if (d.d_tag == DT_NULL)
                break;
            if (d.d_tag == DT_FLAGS_1 && (d.d_un.d_val & DF_1_PIE))
                e->pie_flag = 1;
            if (d.d_tag != DT_NEEDED)
                continue;
            const char *name = sec_str(e, strs, d.d_un.d_val);
            if (!name)
                return pv_error_set(PV_ERR_FORMAT,
                                    "%s: DT_NEEDED entry %zu of [%zu] %s (file offset 0x%llx): name offset 0x%llx lies "
                                    "outside the dynamic string table",
                                    e->path, k, i, s->name, (unsigned long long)(s->off + k * sizeof d),
                                    (unsigned long long)d.d_un.d_val);
            if (e->nneeded == cap) {
                size_t nc = cap ? cap * 2 : 8;
                const char **v = realloc(e->needed, nc * sizeof *v);
                if (!v)
                    return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", e->path);
                e->needed = v;
                cap = nc;
            }
            e->needed[e->nneeded++] = name;
        }
        break;
    }
    return PV_OK;
}

int pva_elf_open(pva_elf *e, const void *data, size_t len, const char *path)
{
    memset(e, 0, sizeof *e);
    e->path = path;
    e->data = data;
    e->len = len;
    Elf64_Ehdr h;
    int32_t *dyn2imp = NULL;
    size_t ndyn = 0, symcap = 0;
    int rc = read_ehdr(e, &h);
    if (rc)
        goto done;
    e->type = h.e_type;
    e->entry = h.e_entry;
    if ((rc = read_phdrs(e, &h)) || (rc = read_sections(e, &h)))
        goto done;
    int has_code = 0;
    for (size_t i = 0; i < e->nsecs; i++)
        if (e->secs[i].type == SHT_PROGBITS && (e->secs[i].flags & SHF_EXECINSTR) && e->secs[i].size)
            has_code = 1;
    if (!has_code) {
        rc = pv_error_set(PV_ERR_UNSUPPORTED,
                          "%s: no executable section with contents (a separate debug-info file?); nothing to analyze",
                          path);
        goto done;
    }
    /* libelf only after the checks above; libdw reads DWARF through it. */
    elf_version(EV_CURRENT);
    e->elf = elf_memory((char *)(uintptr_t)data, len);
    size_t shnum = 0;
    if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || elf_getshdrnum(e->elf, &shnum) || shnum != e->nsecs) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: libelf rejects the file: %s", path, elf_errmsg(-1));
        goto done;
    }
    read_build_id(e);
    if ((rc = read_dynamic(e)))
        goto done;
    size_t dynsym = 0;
    for (size_t i = 0; i < e->nsecs; i++)
        if (e->secs[i].type == SHT_DYNSYM) {
            if ((rc = read_symtab(e, i, &symcap, &dyn2imp, &ndyn)))
                goto done;
            dynsym = i;
            break;
        }
    for (size_t i = 0; i < e->nsecs; i++)
        if (e->secs[i].type == SHT_SYMTAB) {
            if ((rc = read_symtab(e, i, &symcap, NULL, NULL)))
                goto done;
            break;
        }
    if (dyn2imp && (rc = read_relocs(e, dyn2imp, ndyn, dynsym)))
        goto done;
done:
    free(dyn2imp);
    if (rc)
        pva_elf_close(e);
    return rc;
}
