/* Naming addresses of a dynamic run: function symbols (libelf) and source
 * lines (libdw) of the objects the run mapped, read lazily per object. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

typedef struct sym {
    uint64_t addr, size;
    char *name;
} sym;

typedef struct symobj {
    const char *path;
    int loaded;
    int fd;
    Elf *elf;
    Dwarf *dw;
    sym *syms;
    size_t nsyms;
} symobj;

struct pv_emu_symbols {
    uint32_t n;
    symobj *o;
};

static int cmp_sym(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* prefer the sized, then the global, symbol at one address: keep input order otherwise */
    return (y->size > 0) - (x->size > 0);
}

static void read_symtab(symobj *o, Elf_Scn *scn, GElf_Shdr *sh)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || !sh->sh_entsize)
        return;
    size_t n = sh->sh_size / sh->sh_entsize;
    sym *s = realloc(o->syms, (o->nsyms + n) * sizeof *s);
    if (!s)
        return;
    o->syms = s;
    for (size_t i = 0; i < n; i++) {
        GElf_Sym gs;
        if (!gelf_getsym(data, (int)i, &gs))
            continue;
        int type = GELF_ST_TYPE(gs.st_info);
        if ((type != STT_FUNC && type != STT_GNU_IFUNC) || gs.st_shndx == SHN_UNDEF || !gs.st_value)
            continue;
        const char *name = elf_strptr(o->elf, sh->sh_link, gs.st_name);
        if (!name || !*name)
            continue;
        char *dup = strdup(name);
        if (!dup)
            continue;
        o->syms[o->nsyms++] = (sym){gs.st_value, gs.st_size, dup};
    }
}

static void load(symobj *o)
{
    o->loaded = 1;
    o->fd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (o->fd < 0)
        return;
    elf_version(EV_CURRENT);
    o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
    if (!o->elf)
        return;
    Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
    GElf_Shdr sh, shs = {0}, shd = {0};
    while ((scn = elf_nextscn(o->elf, scn))) {
        if (!gelf_getshdr(scn, &sh))
            continue;
        if (sh.sh_type == SHT_SYMTAB) {
            symtab = scn;
            shs = sh;
        } else if (sh.sh_type == SHT_DYNSYM) {
            dynsym = scn;
            shd = sh;
        }
    }
    if (symtab)
        read_symtab(o, symtab, &shs);
    if (dynsym)
        read_symtab(o, dynsym, &shd);
    if (o->nsyms)
        qsort(o->syms, o->nsyms, sizeof *o->syms, cmp_sym);
    o->dw = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
}

static void unload(symobj *o)
{
    for (size_t i = 0; i < o->nsyms; i++)
        free(o->syms[i].name);
    free(o->syms);
    if (o->dw)
        dwarf_end(o->dw);
    if (o->elf)
        elf_end(o->elf);
    if (o->fd >= 0)
        close(o->fd);
}

static int lookup(symobj *o, uint64_t addr, const char **func, uint64_t *offset, const char **file, uint32_t *line)
{
    if (!o->loaded)
        load(o);
    *func = NULL;
    if (file)
        *file = NULL;
    if (line)
        *line = 0;
    /* the last symbol at or below addr; sizeless symbols cover up to the next one */
    size_t lo = 0, hi = o->nsyms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        uint64_t at = o->syms[lo - 1].addr;
        for (size_t j = lo; j > 0 && o->syms[j - 1].addr == at; j--) {
            const sym *s = &o->syms[j - 1];
            if (!s->size || addr < s->addr + s->size) {
                *func = s->name;
                if (offset)
                    *offset = addr - s->addr;
                break;
            }
        }
    }
    if (o->dw && (file || line)) {
        Dwarf_Die cu;
        if (dwarf_addrdie(o->dw, addr, &cu)) {
            Dwarf_Line *l = dwarf_getsrc_die(&cu, addr);
            int ln = 0;
            if (l && dwarf_lineno(l, &ln) == 0) {
                if (file)
                    *file = dwarf_linesrc(l, NULL, NULL);
                if (line)
                    *line = (uint32_t)ln;
            }
        }
    }
    return *func ? PV_OK : PV_ERR_NOTFOUND;
}

int pv_emu_symbols_new(pv_emu_symbols **out, const pv_dynamic *d)
{
    *out = NULL;
    pv_emu_symbols *s = calloc(1, sizeof *s);
    if (!s || !(s->o = calloc(d->nobjects ? d->nobjects : 1, sizeof *s->o))) {
        free(s);
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    }
    s->n = d->nobjects;
    for (uint32_t i = 0; i < s->n; i++) {
        s->o[i].path = d->objects[i].path;
        s->o[i].fd = -1;
    }
    *out = s;
    return PV_OK;
}

int pv_emu_symbols_lookup(pv_emu_symbols *s, uint32_t object, uint64_t addr, const char **func, uint64_t *offset,
                          const char **file, uint32_t *line)
{
    *func = NULL;
    if (!s || object >= s->n)
        return PV_ERR_NOTFOUND;
    return lookup(&s->o[object], addr, func, offset, file, line);
}

void pv_emu_symbols_free(pv_emu_symbols *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        unload(&s->o[i]);
    free(s->o);
    free(s);
}

void pve_describe_addr(pv_emu *e, uint64_t addr, char *buf, size_t size)
{
    buf[0] = 0;
    pve_vma *v = pve_mem_find(e, addr);
    if (!v || v->obj == PV_NONE || v->obj >= e->nobjs)
        return;
    const pve_object *ob = &e->objs[v->obj];
    symobj o = {.path = ob->path, .fd = -1};
    const char *func = NULL, *file = NULL;
    uint64_t off = 0;
    uint32_t line = 0;
    lookup(&o, addr - ob->base, &func, &off, &file, &line);
    int n = snprintf(buf, size, " in %s", ob->path);
    if (n > 0 && (size_t)n < size && (func || file)) {
        char fn[256] = "", fl[PATH_MAX + 32] = "";
        if (func)
            snprintf(fn, sizeof fn, "%s+0x%llx", func, (unsigned long long)off);
        if (file)
            snprintf(fl, sizeof fl, "%s%s:%u", func ? ", " : "", file, line);
        snprintf(buf + n, size - (size_t)n, " (%s%s)", fn, fl);
    }
    unload(&o);
}
