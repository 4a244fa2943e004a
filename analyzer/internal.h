/* Declarations shared by the binary analyzer files in analyzer/ (not the source_ files).
 * Not installed; Capstone types stay inside the module. */
#ifndef PV_ANALYZER_INTERNAL_H
#define PV_ANALYZER_INTERNAL_H

#include <capstone/capstone.h>
#include <stdint.h>

#include "prevision/analyzer.h"

struct pv_decoder {
    csh cs;
    cs_insn *insn; /* one reusable Capstone instruction with detail */
    int text;
};

/* The architectural register containing Capstone register @r (eax, ax, al
 * -> rax; r9d -> r9; xmm3, ymm3 -> zmm3), so that a partial write and a full
 * read name the same register; other registers map to themselves. Inline:
 * it runs per operand of every instruction in a loop body. */
static inline int pva_canon_reg(int r)
{
    switch (r) {
    case X86_REG_AL: case X86_REG_AH: case X86_REG_AX: case X86_REG_EAX: return X86_REG_RAX;
    case X86_REG_BL: case X86_REG_BH: case X86_REG_BX: case X86_REG_EBX: return X86_REG_RBX;
    case X86_REG_CL: case X86_REG_CH: case X86_REG_CX: case X86_REG_ECX: return X86_REG_RCX;
    case X86_REG_DL: case X86_REG_DH: case X86_REG_DX: case X86_REG_EDX: return X86_REG_RDX;
    case X86_REG_SIL: case X86_REG_SI: case X86_REG_ESI: return X86_REG_RSI;
    case X86_REG_DIL: case X86_REG_DI: case X86_REG_EDI: return X86_REG_RDI;
    case X86_REG_BPL: case X86_REG_BP: case X86_REG_EBP: return X86_REG_RBP;
    case X86_REG_SPL: case X86_REG_SP: case X86_REG_ESP: return X86_REG_RSP;
    default: break;
    }
    if (r >= X86_REG_R8B && r <= X86_REG_R15B)
        return X86_REG_R8 + (r - X86_REG_R8B);
    if (r >= X86_REG_R8D && r <= X86_REG_R15D)
        return X86_REG_R8 + (r - X86_REG_R8D);
    if (r >= X86_REG_R8W && r <= X86_REG_R15W)
        return X86_REG_R8 + (r - X86_REG_R8W);
    if (r >= X86_REG_XMM0 && r <= X86_REG_XMM31)
        return X86_REG_ZMM0 + (r - X86_REG_XMM0);
    if (r >= X86_REG_YMM0 && r <= X86_REG_YMM31)
        return X86_REG_ZMM0 + (r - X86_REG_YMM0);
    return r;
}

/* Decode without recording an error detail (bulk paths: undecodable bytes are
 * counted, not reported). Returns 1 when decoded, 0 when not. The Capstone
 * instruction stays in d->insn until the next call. */
int pva_decode(pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out);

/* A per-thread cache of decoded instruction shapes (dcache.c). */
typedef struct pva_dcache pva_dcache;
/* An empty cache (2^18 entries of 136 bytes, calloc()ed: pages are touched as
 * it fills), or NULL when out of memory. Free with pva_dcache_free() (NULL allowed). */
pva_dcache *pva_dcache_new(void);
void pva_dcache_free(pva_dcache *c);
/* pva_decode() through the cache (@c may be NULL). *fresh is 1 when Capstone
 * decoded it, so d->insn holds its detail; 0 for a cache hit. Indirect jumps
 * and calls always come fresh. */
int pva_decode_cached(pva_dcache *c, pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out,
                      int *fresh);
/* 0 turns the cache off (tests compare profiles with and without it). */
extern int pva_dcache_enabled;

/* What the recurrence needs of one instruction, extracted once from the
 * Capstone detail so that the passes over a loop body do not decode again. */
#define PVA_DEP_MAXR 10
#define PVA_DEP_MAXW 6
typedef struct pva_dep {
    uint8_t nr, nw;
    uint8_t r[PVA_DEP_MAXR]; /* canonical registers read (not rsp/rip) */
    uint8_t w[PVA_DEP_MAXW]; /* canonical registers written */
    uint16_t addrbits;       /* bit i: r[i] forms the address of a load */
    float start_min;         /* a load without address registers waits for the load latency */
    float lat;               /* latency from inputs to outputs */
} pva_dep;
/* Fill @out for the instruction just decoded by @d (d->insn) into @in. @return 1, or 0 when Capstone cannot say. */
int pva_dep_of(pv_decoder *d, const pv_insn *in, const pv_uarch *u, pva_dep *out);
/* Per-iteration recurrence of a body given as dependency records, in order. */
float pva_recurrence(const pv_uarch *u, const pva_dep *dep, uint32_t n);

/* ------------------------------------------------------------------ */
/* Whole-binary analysis (elf.c, functions.c, cfg.c, loops.c, lines.c,  */
/* libs.c, binary.c)                                                    */
/* ------------------------------------------------------------------ */

#include <libelf.h>
#include <stdio.h>

/* One section, its header validated against the file length. */
typedef struct pva_sec {
    const char *name; /* "" when unnamed */
    uint64_t addr, size, off, entsize;
    uint32_t type, link, info;
    uint64_t flags;
} pva_sec;

/* One imported symbol (undefined in .dynsym). */
typedef struct pva_import {
    const char *name; /* points into the file's .dynstr */
    const char *lib;  /* soname from the symbol's version requirement, or NULL */
    uint32_t dynidx;  /* index in .dynsym */
} pva_import;

/* A GOT slot filled with an import by a JUMP_SLOT or GLOB_DAT relocation. */
typedef struct pva_slot {
    uint64_t addr;
    uint32_t import; /* index into pva_elf.imports */
} pva_slot;

/* A symbol that names a function. */
typedef struct pva_sym {
    const char *name;
    uint64_t addr, size;
    uint8_t bind, from_symtab;
} pva_sym;

typedef struct pva_elf {
    const char *path;
    const uint8_t *data;
    size_t len;
    Elf *elf;
    uint16_t type;
    uint64_t entry;
    pva_sec *secs;
    size_t nsecs;
    int has_symtab, has_interp, has_dynamic, pie_flag;
    char build_id[2 * 64 + 1];
    const char **needed; /* DT_NEEDED sonames, pointing into the file */
    uint32_t nneeded;
    pva_import *imports;
    uint32_t nimports;
    pva_slot *slots; /* sorted by address */
    uint32_t nslots;
    pva_sym *syms; /* function symbols in executable sections (both tables) */
    uint32_t nsyms;
} pva_elf;

/* Validate and index an in-memory ELF image (kept, not copied: @data and
 * @path must outlive @e). PV_ERR_FORMAT / PV_ERR_UNSUPPORTED with the offset
 * of what is wrong, PV_ERR_NOMEM; on failure @e holds nothing to free.
 * pva_elf_close() frees an opened one. */
int pva_elf_open(pva_elf *e, const void *data, size_t len, const char *path);
void pva_elf_close(pva_elf *e);
/* Bytes at link-time address @va inside a section with file contents; *avail
 * receives the bytes left in that section. NULL when not in the file. */
const uint8_t *pva_elf_ptr(const pva_elf *e, uint64_t va, uint64_t *avail);
/* The executable section (with contents) containing @va, or NULL. */
const pva_sec *pva_elf_code_section(const pva_elf *e, uint64_t va);
/* The first section named @name, or NULL. */
const pva_sec *pva_elf_section(const pva_elf *e, const char *name);
/* The import whose GOT slot is at @addr, or -1. */
int pva_elf_slot_import(const pva_elf *e, uint64_t addr);
/* "elf kind" as the profile writes it. */
const char *pva_elf_kind(const pva_elf *e);

/* A function to analyze. */
typedef struct pva_func {
    uint64_t addr, size; /* size 0: unknown, found by following the code */
    const char *name;    /* borrowed (file strings or static), or NULL: sub_ADDR */
    char *owned_name;    /* malloc()ed name when built here */
    uint32_t flags;      /* PV_FUNC_* */
    int32_t import;      /* PLT stubs: index into pva_elf.imports, else -1 */
    uint8_t noreturn;
    uint8_t from_fde;
    uint8_t prio;        /* merge priority: lower wins */
    struct pva_fres *res; /* analysis result, once analyzed */
} pva_func;

typedef struct pva_funcs {
    pva_func *v;
    size_t n, cap;
} pva_funcs;

/* Append a candidate (copied; on success fs owns its owned_name and res). PV_ERR_NOMEM. */
int pva_funcs_push(pva_funcs *fs, const pva_func *f);
/* Sort by address, merge candidates at the same address (symbols win, then
 * FDE sizes), clip sizes so that functions never overlap and stay inside
 * their section. */
void pva_funcs_normalize(pva_funcs *fs, const pva_elf *e);
/* Index of the function starting exactly at @addr, or -1. */
long pva_funcs_find(const pva_funcs *fs, uint64_t addr);
/* Index of the function containing @addr, or -1. */
long pva_funcs_containing(const pva_funcs *fs, uint64_t addr);
/* Candidates from symbols, PLT stubs, .eh_frame FDEs and the entry point,
 * normalized. PV_ERR_NOMEM, or a decoder error. */
int pva_funcs_collect(pva_funcs *fs, const pva_elf *e);
/* Free the candidates, their names and results; @fs is left empty. */
void pva_funcs_free(pva_funcs *fs);

/* Read-only context shared by the worker threads. */
typedef struct pva_ctx {
    const pva_elf *elf;
    const pva_funcs *funcs;
    const pv_uarch *uarch;
} pva_ctx;

/* A loop found in one function; blocks are indices into the function's blocks. */
typedef struct pva_floop {
    uint32_t header;  /* local block index */
    uint32_t parent;  /* local loop index or PV_NONE */
    uint32_t depth;
    uint32_t flags;
    uint32_t nblocks;
    uint32_t *blocks; /* header first */
    uint32_t latch;   /* local block index of the last back edge's source */
    uint64_t cond_addr; /* address of that block's last instruction (the loop's branch) */
    float cycles;
} pva_floop;

/* What one function's analysis produced. */
typedef struct pva_fres {
    int done;
    pv_block *blocks;
    uint32_t nblocks;
    pva_floop *loops;
    uint32_t nloops;
    uint64_t *callees; /* target addresses of direct calls and tail calls, sorted, unique */
    uint32_t ncallees;
    uint64_t *unknown; /* call targets that start no known function */
    uint32_t nunknown;
    uint64_t size;     /* final size (for functions whose size was unknown) */
    uint32_t ninsns, nundecoded;
    pv_mix mix;
} pva_fres;

/* Free what @r holds (not @r itself) and zero it. NULL allowed. */
void pva_fres_free(pva_fres *r);

/* Per-thread scratch space of the CFG builder: arrays reused from one
 * function to the next. NULL when out of memory; free with pva_scratch_free(). */
typedef struct pva_scratch pva_scratch;
pva_scratch *pva_scratch_new(void);
void pva_scratch_free(pva_scratch *s);

/* Decode function @fi of c->funcs into blocks, edges, loops and cycle
 * estimates in *@out (zeroed first; free with pva_fres_free()). A function
 * whose bytes are not in the file gets an empty result. PV_ERR_NOMEM naming
 * the function's address; on failure *@out holds nothing. */
int pva_analyze_function(const pva_ctx *c, pv_decoder *d, pva_scratch *s, size_t fi, pva_fres *out);

/* Follow the code from a function's start (bounded by @limit bytes) to find
 * its extent. @return the size in bytes (at least 1 when anything decodes). */
uint64_t pva_explore_extent(const pva_ctx *c, pv_decoder *d, uint64_t addr, uint64_t limit);

/* loops.c: natural loops of a function's CFG. succ[] lists, for each of
 * @n blocks, local successor indices (succ_off[i]..succ_off[i+1]).
 * Fills *loops (malloc()ed, parents before children; each loop's blocks
 * malloc()ed too, the caller frees both) with header, parent, depth, flags,
 * blocks and latch; NULL and 0 when there is no loop. PV_ERR_NOMEM. */
int pva_find_loops(uint32_t n, const uint32_t *succ_off, const uint32_t *succ, pva_floop **loops,
                   uint32_t *nloops);

/* lines.c: address -> file:line from DWARF line tables. */
typedef struct pva_lines pva_lines;
/* The line tables of @elf (kept open: names point into libdw's data) into
 * *@out, freed with pva_lines_free(). PV_OK with *@out NULL when the file
 * has none; a CU whose table libdw cannot read is skipped. PV_ERR_NOMEM
 * naming @path. */
int pva_lines_load(Elf *elf, const char *path, pva_lines **out);
void pva_lines_free(pva_lines *l);
/* Location of the first instruction in [addr, end) that has a line; file
 * names are interned into @p. */
pv_srcloc pva_lines_find(pva_lines *l, pv_profile *p, uint64_t addr, uint64_t end);

/* libs.c */
/* 1 when a function of that name never returns (exit, abort, __cxa_throw, std::__throw_*...). */
int pva_is_noreturn_name(const char *name);
/* p->libraries from the DT_NEEDED entries and the imports (and, for a static
 * binary, the library families of its own symbols). PV_ERR_NOMEM. */
int pva_build_libraries(const pva_elf *e, pv_profile *p);
/* The soname providing import @im (its version's file, else the needed
 * library of its family, else the only one), pointing into the file; or NULL. */
const char *pva_import_lib(const pva_elf *e, const pva_import *im);

#endif
