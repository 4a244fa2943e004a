/* Source lines from DWARF with libdw.
 *
 * Each CU's line table is read once (dwarf_getsrclines) into one array of
 * rows sorted by address; a lookup is a binary search. dwarf_getsrc_die()
 * per address would re-walk the CU list every time, which is far too slow
 * for the millions of blocks of a large library. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct row {
    uint64_t addr;
    uint32_t file; /* index into names */
    uint32_t line; /* 0: no source; UINT32_MAX: end of a sequence */
    uint32_t seq;  /* position in the tables, for a stable sort */
} row;

struct pva_lines {
    row *rows;
    size_t nrows;
    const char **names; /* libdw's strings (valid while dw is open) */
    uint32_t *interned; /* profile file index per name, PV_NONE until used */
    size_t nnames, namecap;
    Dwarf *dw;
    const pv_profile *p; /* profile the interned indices belong to */
};

#define END_SEQ UINT32_MAX

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    /* End-of-sequence rows first, so a sequence starting where another ends wins. */
    int ex = x->line == END_SEQ, ey = y->line == END_SEQ;
    if (ex != ey)
        return ex ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void pva_lines_free(pva_lines *l)
{
    if (!l)
        return;
    free(l->rows);
    free(l->names);
    free(l->interned);
    if (l->dw)
        dwarf_end(l->dw);
    free(l);
}

static uint32_t name_index(pva_lines *l, const char *name, const char **last, uint32_t *last_idx)
{
    if (name == *last)
        return *last_idx;
    /* Names repeat per CU; a short scan back finds most. */
    for (size_t i = l->nnames, k = 0; i-- > 0 && k < 64; k++)
        if (l->names[i] == name || !strcmp(l->names[i], name)) {
            *last = name;
            *last_idx = (uint32_t)i;
            return (uint32_t)i;
        }
    if (l->nnames == l->namecap) {
        size_t nc = l->namecap ? l->namecap * 2 : 64;
        const char **v = realloc(l->names, nc * sizeof *v);
        if (!v)
            return PV_NONE;
        l->names = v;
        l->namecap = nc;
    }
    l->names[l->nnames] = name;
    *last = name;
    *last_idx = (uint32_t)l->nnames;
    return (uint32_t)l->nnames++;
}

pva_lines *pva_lines_load(Elf *elf)
{
    Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
    if (!dw)
        return NULL;
    pva_lines *l = calloc(1, sizeof *l);
    if (!l) {
        dwarf_end(dw);
        return NULL;
    }
    l->dw = dw;
    size_t cap = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    const char *last = NULL;
    uint32_t last_idx = 0;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        Dwarf_Lines *lines;
        size_t n;
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_getsrclines(&cu, &lines, &n) == 0) {
            if (l->nrows + n > cap) {
                size_t nc = cap ? cap : 1024;
                while (nc < l->nrows + n)
                    nc *= 2;
                row *v = realloc(l->rows, nc * sizeof *v);
                if (!v)
                    break;
                l->rows = v;
                cap = nc;
            }
            for (size_t i = 0; i < n; i++) {
                Dwarf_Line *ln = dwarf_onesrcline(lines, i);
                Dwarf_Addr a;
                int lineno = 0;
                bool end = false;
                if (!ln || dwarf_lineaddr(ln, &a) || dwarf_lineno(ln, &lineno))
                    continue;
                dwarf_lineendsequence(ln, &end);
                const char *src = dwarf_linesrc(ln, NULL, NULL);
                row *r = &l->rows[l->nrows];
                r->addr = a;
                r->seq = (uint32_t)l->nrows;
                r->line = end ? END_SEQ : lineno > 0 ? (uint32_t)lineno : 0;
                r->file = src ? name_index(l, src, &last, &last_idx) : PV_NONE;
                if (r->file == PV_NONE && !end)
                    r->line = 0;
                l->nrows++;
            }
        }
        off = next;
    }
    if (!l->nrows) {
        pva_lines_free(l);
        return NULL;
    }
    qsort(l->rows, l->nrows, sizeof *l->rows, cmp_row);
    l->interned = malloc(l->nnames * sizeof *l->interned);
    if (!l->interned && l->nnames) {
        pva_lines_free(l);
        return NULL;
    }
    for (size_t i = 0; i < l->nnames; i++)
        l->interned[i] = PV_NONE;
    return l;
}

static pv_srcloc loc_of(pva_lines *l, pv_profile *p, const row *r)
{
    pv_srcloc loc = {PV_NONE, 0};
    if (l->interned[r->file] == PV_NONE)
        l->interned[r->file] = pv_profile_intern_file(p, l->names[r->file]);
    loc.file = l->interned[r->file];
    loc.line = loc.file == PV_NONE ? 0 : r->line;
    return loc;
}

static int valid(const row *r) { return r->line != 0 && r->line != END_SEQ && r->file != PV_NONE; }

pv_srcloc pva_lines_find(pva_lines *l, pv_profile *p, uint64_t addr, uint64_t end)
{
    pv_srcloc none = {PV_NONE, 0};
    if (!l || !l->nrows)
        return none;
    if (l->p != p) {
        for (size_t i = 0; i < l->nnames; i++)
            l->interned[i] = PV_NONE;
        l->p = p;
    }
    /* lo: first row after addr. */
    size_t lo = 0, hi = l->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->rows[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && valid(&l->rows[lo - 1]))
        return loc_of(l, p, &l->rows[lo - 1]);
    /* No line at addr itself: the first row with one inside [addr, end). */
    for (size_t i = lo; i < l->nrows && l->rows[i].addr < end; i++)
        if (valid(&l->rows[i]))
            return loc_of(l, p, &l->rows[i]);
    return none;
}
