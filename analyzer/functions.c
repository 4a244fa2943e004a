/* Function discovery: symbols (.symtab, .dynsym), PLT stubs resolved to
 * their imports through the GOT relocations, .eh_frame FDEs (which cover
 * every function of a stripped C/C++ binary built with unwind tables) and
 * the entry point. Call targets are added later, round by round, by
 * binary.c. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "internal.h"

/* Merge priorities: lower wins when candidates share an address. */
enum { PRIO_PLT, PRIO_GLOBAL, PRIO_WEAK, PRIO_LOCAL, PRIO_DYNSYM, PRIO_FDE, PRIO_OTHER };

int pva_funcs_push(pva_funcs *fs, const pva_func *f)
{
    if (PV_GROW(fs->v, fs->cap, fs->n + 1, 1024))
        return pv_error_set(PV_ERR_NOMEM, "out of memory collecting functions");
    fs->v[fs->n++] = *f;
    return PV_OK;
}

void pva_funcs_free(pva_funcs *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->v[i].owned_name);
        if (fs->v[i].res) {
            pva_fres_free(fs->v[i].res);
            free(fs->v[i].res);
        }
    }
    free(fs->v);
    memset(fs, 0, sizeof *fs);
}

static int cmp_func(const void *a, const void *b)
{
    const pva_func *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    const char *nx = x->name ? x->name : "", *ny = y->name ? y->name : "";
    return strcmp(nx, ny);
}

static int is_symbol(const pva_func *f) { return f->prio <= PRIO_DYNSYM; }

static void drop(pva_func *f)
{
    free(f->owned_name);
    f->owned_name = NULL;
    if (f->res) {
        pva_fres_free(f->res);
        free(f->res);
        f->res = NULL;
    }
}

void pva_funcs_normalize(pva_funcs *fs, const pva_elf *e)
{
    if (!fs->n)
        return;
    qsort(fs->v, fs->n, sizeof *fs->v, cmp_func);
    size_t w = 0;
    uint64_t sym_end = 0; /* end of the last symbol-defined function kept */
    for (size_t i = 0; i < fs->n; i++) {
        pva_func *f = &fs->v[i];
        const pva_sec *sec = pva_elf_code_section(e, f->addr);
        if (!sec) {
            drop(f);
            continue;
        }
        if (w && fs->v[w - 1].addr == f->addr) {
            /* Same address: the kept one (better priority) inherits a size and facts. */
            pva_func *k = &fs->v[w - 1];
            if (!k->size && f->size && !k->res)
                k->size = f->size;
            k->from_fde |= f->from_fde;
            k->noreturn |= f->noreturn;
            if (!k->res && f->res) {
                k->res = f->res;
                f->res = NULL;
            }
            drop(f);
            continue;
        }
        /* A discovered start inside a symbol's range is a part of that function. */
        if (!is_symbol(f) && f->addr < sym_end) {
            drop(f);
            continue;
        }
        uint64_t sec_end = sec->addr + sec->size;
        if (f->size > sec_end - f->addr)
            f->size = sec_end - f->addr;
        if (is_symbol(f)) {
            uint64_t end = f->addr + (f->size ? f->size : 1);
            if (end > sym_end)
                sym_end = end;
        }
        fs->v[w++] = *f;
    }
    fs->n = w;
    /* Never overlap: a function ends where the next one starts. */
    for (size_t i = 0; i + 1 < fs->n; i++) {
        pva_func *f = &fs->v[i];
        uint64_t gap = fs->v[i + 1].addr - f->addr;
        if (f->size > gap)
            f->size = gap;
        if (f->res && f->res->size > gap)
            f->res->size = gap;
    }
}

long pva_funcs_find(const pva_funcs *fs, uint64_t addr)
{
    size_t lo = 0, hi = fs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fs->v[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fs->n && fs->v[lo].addr == addr ? (long)lo : -1;
}

long pva_funcs_containing(const pva_funcs *fs, uint64_t addr)
{
    size_t lo = 0, hi = fs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fs->v[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return -1;
    const pva_func *f = &fs->v[lo - 1];
    uint64_t size = f->res ? f->res->size : f->size;
    return addr - f->addr < (size ? size : 1) ? (long)(lo - 1) : -1;
}

/* ---------------------------------------------------------------- */
/* .eh_frame                                                          */
/* ---------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    uint64_t n, o;
    int bad;
} rd;

/* LEB128: bits beyond the 64th are dropped; the shift stops growing there,
 * however many continuation bytes a corrupt section holds. */
static uint64_t rd_uleb(rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; r->o < r->n; shift += shift < 64 ? 7 : 0) {
        uint8_t b = r->p[r->o++];
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t rd_sleb(rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (r->o < r->n) {
        uint8_t b = r->p[r->o++];
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += shift < 64 ? 7 : 0;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift; /* sign extension, in unsigned arithmetic */
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

static uint64_t rd_fixed(rd *r, unsigned size)
{
    if (r->o + size > r->n) {
        r->bad = 1;
        r->o = r->n;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p + r->o, size);
    r->o += size;
    return v;
}

/* A DW_EH_PE-encoded pointer; @pc is the address of the field (pcrel base). */
static uint64_t rd_enc(rd *r, uint8_t enc, uint64_t pc, int apply)
{
    if (enc == 0xff)
        return 0;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: v = rd_fixed(r, 8); break;
    case 0x01: v = rd_uleb(r); break;
    case 0x02: v = rd_fixed(r, 2); break;
    case 0x03: v = rd_fixed(r, 4); break;
    case 0x04: v = rd_fixed(r, 8); break;
    case 0x09: v = (uint64_t)rd_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4); break;
    case 0x0c: v = rd_fixed(r, 8); break;
    default: r->bad = 1; return 0;
    }
    if (apply && (enc & 0x70) == 0x10)
        v += pc;
    return v;
}

typedef struct cie_enc {
    uint64_t off;
    uint8_t enc;
} cie_enc;

/* FDE encoding of the CIE at @off, parsed on first use and cached. */
static int cie_encoding(rd base, uint64_t off, uint8_t *enc)
{
    rd r = base;
    r.o = off;
    uint64_t len = rd_fixed(&r, 4);
    if (len == 0xffffffffu)
        len = rd_fixed(&r, 8);
    uint64_t end = r.o + len;
    if (r.bad || len < 4 || end > r.n || end < r.o)
        return -1;
    r.n = end;
    uint64_t id = rd_fixed(&r, 4);
    if (id != 0)
        return -1;
    uint8_t version = (uint8_t)rd_fixed(&r, 1);
    const char *aug = (const char *)r.p + r.o;
    const void *nul = r.o < r.n ? memchr(aug, 0, r.n - r.o) : NULL;
    if (!nul)
        return -1;
    r.o += strlen(aug) + 1;
    if (strstr(aug, "eh"))
        rd_fixed(&r, 8);
    rd_uleb(&r);
    rd_sleb(&r);
    if (version == 1)
        rd_fixed(&r, 1);
    else
        rd_uleb(&r);
    *enc = 0; /* absptr */
    if (aug[0] == 'z') {
        rd_uleb(&r);
        for (const char *a = aug + 1; *a && !r.bad; a++) {
            if (*a == 'R') {
                *enc = (uint8_t)rd_fixed(&r, 1);
                break;
            } else if (*a == 'P') {
                uint8_t pe = (uint8_t)rd_fixed(&r, 1);
                rd_enc(&r, pe & 0x7f, 0, 0);
            } else if (*a == 'L') {
                rd_fixed(&r, 1);
            } else if (*a != 'S' && *a != 'B' && *a != 'G') {
                break;
            }
        }
    }
    return r.bad ? -1 : 0;
}

static int collect_fdes(pva_funcs *fs, const pva_elf *e)
{
    const pva_sec *s = pva_elf_section(e, ".eh_frame");
    if (!s || s->type == SHT_NOBITS || !s->size)
        return PV_OK;
    rd base = {e->data + s->off, s->size, 0, 0};
    cie_enc cache[64];
    size_t ncache = 0, next = 0;
    uint64_t o = 0;
    while (o + 4 <= s->size) {
        rd r = base;
        r.o = o;
        uint64_t len = rd_fixed(&r, 4);
        if (len == 0)
            break; /* terminator */
        if (len == 0xffffffffu)
            len = rd_fixed(&r, 8);
        uint64_t start = r.o, end = r.o + len;
        if (r.bad || end > s->size || end < start)
            break; /* corrupt tail: keep what was read so far */
        r.n = end;
        uint64_t cie_ptr = rd_fixed(&r, 4);
        if (cie_ptr != 0 && cie_ptr <= start) {
            uint64_t cie_off = start - cie_ptr;
            uint8_t enc = 0xff;
            for (size_t k = 0; k < ncache; k++)
                if (cache[k].off == cie_off)
                    enc = cache[k].enc;
            if (enc == 0xff) {
                if (cie_encoding(base, cie_off, &enc) == 0) {
                    cache[next] = (cie_enc){cie_off, enc};
                    next = (next + 1) % 64;
                    if (ncache < 64)
                        ncache++;
                } else {
                    enc = 0xff;
                }
            }
            if (enc != 0xff && (enc & 0x70) <= 0x10) {
                uint64_t field = s->addr + r.o;
                uint64_t pc = rd_enc(&r, enc, field, 1);
                uint64_t range = rd_enc(&r, enc & 0x0f, 0, 0);
                if (!r.bad && pc && range && pva_elf_code_section(e, pc)) {
                    pva_func f = {.addr = pc, .size = range, .flags = PV_FUNC_DISCOVERED, .import = -1,
                                  .from_fde = 1, .prio = PRIO_FDE};
                    int rc = pva_funcs_push(fs, &f);
                    if (rc)
                        return rc;
                }
            }
        }
        o = end;
    }
    return PV_OK;
}

/* ---------------------------------------------------------------- */
/* PLT                                                                */
/* ---------------------------------------------------------------- */

static int collect_plt(pva_funcs *fs, const pva_elf *e, pv_decoder *d)
{
    static const char *const names[] = {".plt", ".plt.sec", ".plt.got"};
    for (int k = 0; k < 3; k++) {
        const pva_sec *s = pva_elf_section(e, names[k]);
        if (!s || s->type != SHT_PROGBITS || !(s->flags & SHF_EXECINSTR) || !s->size)
            continue;
        uint64_t es = s->entsize == 8 || s->entsize == 16 ? s->entsize : k == 2 ? 8 : 16;
        if (k == 2 && s->entsize == 0 && s->size % 16 == 0) {
            /* .plt.got of an IBT-enabled binary has 16-byte entries (endbr64 first). */
            const uint8_t *p = e->data + s->off;
            if (s->size >= 4 && !memcmp(p, "\xf3\x0f\x1e\xfa", 4))
                es = 16;
        }
        for (uint64_t o = 0; o + es <= s->size; o += es) {
            const uint8_t *p = e->data + s->off + o;
            uint64_t a = s->addr + o, q = 0;
            pv_insn in;
            while (q < es && pva_decode(d, p + q, es - q, a + q, &in)) {
                const cs_x86 *x = &d->insn->detail->x86;
                q += in.size;
                if (in.flow != PV_FLOW_IJUMP || x->op_count != 1 || x->operands[0].type != X86_OP_MEM ||
                    x->operands[0].mem.base != X86_REG_RIP)
                    continue;
                uint64_t slot = a + q + (uint64_t)x->operands[0].mem.disp;
                int im = pva_elf_slot_import(e, slot);
                if (im < 0)
                    break;
                const char *n = e->imports[im].name;
                size_t nl = strlen(n);
                char *name = malloc(nl + 5);
                if (!name)
                    return pv_error_set(PV_ERR_NOMEM, "out of memory naming PLT stubs");
                memcpy(name, n, nl);
                memcpy(name + nl, "@plt", 5);
                pva_func f = {.addr = a, .size = es, .name = name, .owned_name = name, .flags = PV_FUNC_PLT,
                              .import = im, .noreturn = (uint8_t)pva_is_noreturn_name(n), .prio = PRIO_PLT};
                int rc = pva_funcs_push(fs, &f);
                if (rc) {
                    free(name);
                    return rc;
                }
                break;
            }
        }
    }
    return PV_OK;
}

int pva_funcs_collect(pva_funcs *fs, const pva_elf *e)
{
    int rc = PV_OK;
    pv_decoder *d = NULL;
    pv_decoder_options dopts = PV_DECODER_OPTIONS_INIT;
    dopts.text = 0;
    for (uint32_t i = 0; i < e->nsyms; i++) {
        const pva_sym *s = &e->syms[i];
        uint8_t prio = !s->from_symtab         ? PRIO_DYNSYM
                       : s->bind == STB_GLOBAL ? PRIO_GLOBAL
                       : s->bind == STB_WEAK   ? PRIO_WEAK
                                               : PRIO_LOCAL;
        pva_func f = {.addr = s->addr, .size = s->size, .name = s->name, .flags = PV_FUNC_SYMTAB, .import = -1,
                      .noreturn = (uint8_t)pva_is_noreturn_name(s->name), .prio = prio};
        if ((rc = pva_funcs_push(fs, &f)))
            goto done;
    }
    if ((rc = pv_decoder_new(&d, &dopts)) || (rc = collect_plt(fs, e, d)) || (rc = collect_fdes(fs, e)))
        goto done;
    if (pva_elf_code_section(e, e->entry)) {
        pva_func f = {.addr = e->entry, .flags = PV_FUNC_DISCOVERED, .import = -1, .prio = PRIO_OTHER};
        if ((rc = pva_funcs_push(fs, &f)))
            goto done;
    }
    pva_funcs_normalize(fs, e);
done:
    pv_decoder_free(d);
    return rc;
}
