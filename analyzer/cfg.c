/* One function's control-flow graph: a linear sweep of its bytes with the
 * decoder (each byte decoded once; the records kept are 32 bytes, no text),
 * basic blocks split at branch targets and after control transfers, edges,
 * jump tables, calls, then loops (loops.c) and static cycle estimates.
 *
 * Calls do not end a block (the block is flagged PV_BLOCK_CALL), except
 * calls to functions that never return. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "internal.h"

enum {
    R_NORET = 1 << 15, /* rec.flags: a call that does not return */
    R_PAD = 1 << 14,   /* first rec of a block made only of nops */
};

typedef struct rec {
    uint32_t off;
    uint8_t size, cls, flow, ldst; /* ldst: bit 0 load, bit 1 store */
    uint16_t flags;
    uint16_t jt;      /* jump tables: 1 + index into s->jts, else 0 */
    uint32_t bl, bs;  /* bytes loaded, stored */
    uint64_t target;
} rec;

typedef struct jtab {
    uint32_t first, n; /* range of s->jtt */
} jtab;

struct pva_scratch {
    rec *r;
    size_t rcap;
    uint8_t *mark; /* per byte of the function: 1 instruction start, 2 block leader */
    size_t mcap;
    uint32_t *bfirst; /* per block: its first record */
    size_t bcap;
    jtab *jts;
    size_t njts, jtscap;
    uint64_t *jtt; /* jump-table targets */
    size_t njtt, jttcap;
    uint64_t *calls, *unknown;
    size_t ncalls, callscap, nunknown, unknowncap;
    uint32_t *succ_off, *succ, *indeg;
    size_t socap, scap, indegcap;
    pva_dep *deps;
    size_t depscap;
    pva_dcache *dc;
};

pva_scratch *pva_scratch_new(void)
{
    pva_scratch *s = calloc(1, sizeof(pva_scratch));
    if (s && !(s->dc = pva_dcache_new())) {
        free(s);
        s = NULL;
    }
    return s;
}

void pva_scratch_free(pva_scratch *s)
{
    if (!s)
        return;
    free(s->r);
    free(s->mark);
    free(s->bfirst);
    free(s->jts);
    free(s->jtt);
    free(s->calls);
    free(s->unknown);
    free(s->succ_off);
    free(s->succ);
    free(s->indeg);
    free(s->deps);
    pva_dcache_free(s->dc);
    free(s);
}

void pva_fres_free(pva_fres *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nblocks; i++)
        free(r->blocks[i].succ);
    free(r->blocks);
    for (uint32_t i = 0; i < r->nloops; i++)
        free(r->loops[i].blocks);
    free(r->loops);
    free(r->callees);
    free(r->unknown);
    memset(r, 0, sizeof *r);
}

/* The scratch arrays start at 64 elements and double. */
#define GROW(arr, cap, need) PV_GROW(arr, cap, need, 64)

/* The bound of a jump table's index register: walk back to `cmp idx, N`
 * followed by ja/jae/jb/jbe, following register copies of the index.
 * @return the number of entries, or 0 when not found. */
static uint32_t jt_bound(pv_decoder *d, const rec *r, uint32_t i, const uint8_t *code, uint64_t addr,
                         uint64_t size, int idx)
{
    int set[8], nset = 0;
    set[nset++] = pva_canon_reg(idx);
    unsigned next_id = 0; /* id of the instruction after the current one (walking back) */
    pv_insn in;
    for (uint32_t k = i, steps = 0; k-- > 0 && steps < 32; steps++) {
        if (!pva_decode(d, code + r[k].off, size - r[k].off, addr + r[k].off, &in))
            return 0;
        const cs_insn *ci = d->insn;
        const cs_x86 *x = &ci->detail->x86;
        if (x->op_count == 2 && x->operands[0].type == X86_OP_REG) {
            int dst = pva_canon_reg(x->operands[0].reg), hit = 0;
            for (int j = 0; j < nset; j++)
                hit |= set[j] == dst;
            if (hit && ci->id == X86_INS_CMP && x->operands[1].type == X86_OP_IMM) {
                int64_t v = x->operands[1].imm;
                if (v < 0 || v > (1 << 16))
                    return 0;
                if (next_id == X86_INS_JA || next_id == X86_INS_JBE)
                    return (uint32_t)v + 1;
                if (next_id == X86_INS_JAE || next_id == X86_INS_JB)
                    return (uint32_t)v;
                return 0;
            }
            /* A copy of the index: the bound may be on the source register. */
            if (hit && (ci->id == X86_INS_MOV || ci->id == X86_INS_MOVZX || ci->id == X86_INS_MOVSXD) &&
                x->operands[1].type == X86_OP_REG && nset < 8)
                set[nset++] = pva_canon_reg(x->operands[1].reg);
        }
        next_id = ci->id;
    }
    return 0;
}

/* Resolve the indirect jump whose detail is in d->insn (record @i).
 * @return 1 with targets appended to s->jtt; 0 unresolved; 2 an indirect
 * tail call through a pointer in memory (jmp [rip+X]). */
static int resolve_jt(pva_scratch *s, const pva_ctx *c, pv_decoder *d, const rec *r, uint32_t i,
                      const uint8_t *code, uint64_t addr, uint64_t size)
{
    const cs_x86 *x = &d->insn->detail->x86;
    if (x->op_count != 1)
        return 0;
    uint64_t table = 0;
    int esize = 0, idx = X86_REG_INVALID, rel = 0;
    cs_x86_op op = x->operands[0];
    pv_insn in;
    if (op.type == X86_OP_MEM) {
        if (op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID)
            return 2;
        if (op.mem.scale != 8 || op.mem.index == X86_REG_INVALID)
            return 0;
        idx = op.mem.index;
        esize = 8;
        if (op.mem.base == X86_REG_INVALID) {
            table = (uint64_t)op.mem.disp;
        } else {
            /* jmp [rB + idx*8] with rB = lea/mov of the table just before. */
            int b = pva_canon_reg(op.mem.base);
            for (uint32_t k = i, steps = 0; k-- > 0 && steps < 16 && !table; steps++) {
                if (!pva_decode(d, code + r[k].off, size - r[k].off, addr + r[k].off, &in))
                    return 0;
                const cs_x86 *y = &d->insn->detail->x86;
                if (y->op_count == 2 && y->operands[0].type == X86_OP_REG && pva_canon_reg(y->operands[0].reg) == b) {
                    if (d->insn->id == X86_INS_LEA && y->operands[1].mem.base == X86_REG_RIP &&
                        y->operands[1].mem.index == X86_REG_INVALID)
                        table = in.addr + in.size + (uint64_t)y->operands[1].mem.disp;
                    else if (d->insn->id == X86_INS_MOV && y->operands[1].type == X86_OP_IMM)
                        table = (uint64_t)y->operands[1].imm;
                    else
                        return 0;
                }
            }
            if (!table)
                return 0;
            table += (uint64_t)op.mem.disp;
        }
    } else if (op.type == X86_OP_REG) {
        /* movsxd rX, dword [rT + idx*4]; add rX, rT; jmp rX   (with lea rT, [rip + table])
         * or mov rX, [idx*8 + table]; jmp rX */
        int R = pva_canon_reg(op.reg), T = -1, stage = 0;
        /* The table's lea is often hoisted out of a loop: search further for it. */
        for (uint32_t k = i, steps = 0; k-- > 0 && (steps < 16 || (stage == 2 && steps < 4096)) && stage < 3;
             steps++) {
            if (!pva_decode(d, code + r[k].off, size - r[k].off, addr + r[k].off, &in))
                return 0;
            const cs_insn *ci = d->insn;
            const cs_x86 *y = &ci->detail->x86;
            if (y->op_count != 2 || y->operands[0].type != X86_OP_REG)
                continue;
            int dst = pva_canon_reg(y->operands[0].reg);
            const cs_x86_op *src = &y->operands[1];
            if (stage == 0 && dst == R) {
                if (ci->id == X86_INS_ADD && src->type == X86_OP_REG) {
                    T = pva_canon_reg(src->reg);
                    stage = 1;
                } else if (ci->id == X86_INS_MOV && src->type == X86_OP_MEM && src->mem.scale == 8 &&
                           src->mem.base == X86_REG_INVALID && src->mem.index != X86_REG_INVALID) {
                    table = (uint64_t)src->mem.disp;
                    idx = src->mem.index;
                    esize = 8;
                    stage = 3;
                } else {
                    return 0;
                }
            } else if (stage == 1 && dst == R) {
                if (ci->id == X86_INS_MOVSXD && src->type == X86_OP_MEM && src->mem.scale == 4 &&
                    src->mem.index != X86_REG_INVALID && pva_canon_reg(src->mem.base) == T && src->mem.disp == 0) {
                    idx = src->mem.index;
                    esize = 4;
                    rel = 1;
                    stage = 2;
                } else {
                    return 0;
                }
            } else if (stage == 2 && dst == T) {
                if (ci->id == X86_INS_LEA && src->type == X86_OP_MEM && src->mem.base == X86_REG_RIP &&
                    src->mem.index == X86_REG_INVALID) {
                    table = in.addr + in.size + (uint64_t)src->mem.disp;
                    stage = 3;
                } else {
                    return 0;
                }
            } else if (stage == 1 && dst == T) {
                return 0; /* T redefined between the load and the add */
            }
        }
        if (stage != 3)
            return 0;
    } else {
        return 0;
    }
    uint32_t n = jt_bound(d, r, i, code, addr, size, idx);
    if (!n || n > 16384)
        return 0;
    uint64_t avail = 0;
    const uint8_t *tp = pva_elf_ptr(c->elf, table, &avail);
    if (!tp || avail < (uint64_t)n * (uint64_t)esize)
        return 0;
    if (GROW(s->jtt, s->jttcap, s->njtt + n))
        return 0;
    size_t before = s->njtt;
    for (uint32_t k = 0; k < n; k++) {
        uint64_t t;
        if (esize == 8) {
            memcpy(&t, tp + 8 * (uint64_t)k, 8);
        } else {
            int32_t v;
            memcpy(&v, tp + 4 * (uint64_t)k, 4);
            t = table + (uint64_t)(int64_t)v;
        }
        (void)rel;
        if (t - addr < size)
            s->jtt[s->njtt++] = t;
    }
    return s->njtt > before;
}

static int push_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (GROW(*v, *cap, *n + 1))
        return -1;
    (*v)[(*n)++] = x;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t sort_unique(uint64_t *v, size_t n)
{
    if (n < 2)
        return (uint32_t)n;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    return (uint32_t)w;
}

/* Block whose first record starts at offset @off, or UINT32_MAX. */
static uint32_t block_at(const pva_scratch *s, uint32_t nb, uint64_t off)
{
    uint32_t lo = 0, hi = nb;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->r[s->bfirst[mid]].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nb && s->r[s->bfirst[lo]].off == off ? lo : UINT32_MAX;
}

/* Does the call whose detail is in d->insn (or target @t) not return? */
static int call_noreturn(const pva_ctx *c, pv_decoder *d, const pv_insn *in)
{
    if (in->flow == PV_FLOW_CALL) {
        long k = pva_funcs_find(c->funcs, in->target);
        return k >= 0 && c->funcs->v[k].noreturn;
    }
    const cs_x86 *x = &d->insn->detail->x86;
    if (x->op_count == 1 && x->operands[0].type == X86_OP_MEM && x->operands[0].mem.base == X86_REG_RIP &&
        x->operands[0].mem.index == X86_REG_INVALID) {
        int im = pva_elf_slot_import(c->elf, in->addr + in->size + (uint64_t)x->operands[0].mem.disp);
        return im >= 0 && pva_is_noreturn_name(c->elf->imports[im].name);
    }
    return 0;
}

uint64_t pva_explore_extent(const pva_ctx *c, pv_decoder *d, uint64_t addr, uint64_t limit)
{
    uint64_t avail = 0;
    const uint8_t *code = pva_elf_ptr(c->elf, addr, &avail);
    if (!code)
        return 0;
    if (limit > avail)
        limit = avail;
    if (limit > (64u << 20))
        limit = 64u << 20;
    uint8_t *seen = calloc((limit + 7) / 8 + 1, 1);
    uint64_t *work = NULL, maxend = 0;
    size_t nwork = 0, wcap = 0;
    if (!seen || push_u64(&work, &nwork, &wcap, 0))
        goto done;
    while (nwork) {
        uint64_t off = work[--nwork];
        pv_insn in;
        while (off < limit && !(seen[off / 8] & (1u << (off % 8)))) {
            seen[off / 8] |= (uint8_t)(1u << (off % 8));
            if (!pva_decode(d, code + off, limit - off, addr + off, &in))
                break;
            uint64_t end = off + in.size;
            if (end > maxend)
                maxend = end;
            if (in.flow == PV_FLOW_COND) {
                if (in.target - addr < limit && push_u64(&work, &nwork, &wcap, in.target - addr))
                    goto done;
            } else if (in.flow == PV_FLOW_JUMP) {
                if (in.target - addr >= limit)
                    break;
                end = in.target - addr;
            } else if (in.flow == PV_FLOW_RET || in.flow == PV_FLOW_HALT || in.flow == PV_FLOW_IJUMP) {
                break;
            } else if ((in.flow == PV_FLOW_CALL || in.flow == PV_FLOW_ICALL) && call_noreturn(c, d, &in)) {
                break;
            }
            off = end;
        }
    }
done:
    free(seen);
    free(work);
    return maxend;
}

/* Estimates to 1/100 cycle: more digits would be noise, and short numbers keep a
 * profile of millions of blocks small. */
static float round2(float x) { return roundf(x * 100.0f) / 100.0f; }

int pva_analyze_function(const pva_ctx *c, pv_decoder *d, pva_scratch *s, size_t fi, pva_fres *out)
{
    const pva_func *f = &c->funcs->v[fi];
    uint64_t addr = f->addr, size = f->size, avail = 0;
    int rc = PV_OK;
    uint32_t *inner = NULL; /* per block: the deepest loop holding it */
    memset(out, 0, sizeof *out);
    const uint8_t *code = pva_elf_ptr(c->elf, addr, &avail);
    if (!code)
        goto done_ok;
    if (!size) {
        uint64_t limit = avail;
        if (fi + 1 < c->funcs->n && c->funcs->v[fi + 1].addr - addr < limit)
            limit = c->funcs->v[fi + 1].addr - addr;
        size = pva_explore_extent(c, d, addr, limit);
    }
    if (size > avail)
        size = avail;
    if (size > UINT32_MAX)
        size = UINT32_MAX;
    out->size = size;
    if (!size)
        goto done_ok;
    if (GROW(s->mark, s->mcap, size + 1))
        goto nomem;
    memset(s->mark, 0, size + 1);
    s->njts = s->njtt = s->ncalls = s->nunknown = 0;

    /* Sweep. */
    uint32_t nr = 0;
    int pending = 1;
    pv_insn in;
    for (uint64_t off = 0; off < size;) {
        int fresh;
        if (!pva_decode_cached(s->dc, d, code + off, size - off, addr + off, &in, &fresh)) {
            (void)fresh;
            out->nundecoded++;
            off++;
            pending = 1;
            continue;
        }
        if (nr == s->rcap && GROW(s->r, s->rcap, (size_t)nr + 1))
            goto nomem;
        rec *x = &s->r[nr];
        x->off = (uint32_t)off;
        x->size = in.size;
        x->cls = in.cls;
        x->flow = in.flow;
        x->ldst = (uint8_t)(in.nloads | (in.nstores << 1));
        x->flags = in.flags;
        x->jt = 0;
        x->bl = in.bytes_loaded;
        x->bs = in.bytes_stored;
        x->target = in.target;
        s->mark[off] |= (uint8_t)(1 | (pending ? 2 : 0));
        pending = 0;
        uint64_t next = off + in.size;
        switch (in.flow) {
        case PV_FLOW_COND:
        case PV_FLOW_JUMP:
            if (in.target - addr < size)
                s->mark[in.target - addr] |= 2;
            else if (push_u64(&s->calls, &s->ncalls, &s->callscap, in.target))
                goto nomem;
            s->mark[next] |= 2;
            break;
        case PV_FLOW_IJUMP: {
            size_t first = s->njtt;
            int k = resolve_jt(s, c, d, s->r, nr, code, addr, size);
            if (k == 1) {
                if (GROW(s->jts, s->jtscap, s->njts + 1))
                    goto nomem;
                s->jts[s->njts++] = (jtab){(uint32_t)first, (uint32_t)(s->njtt - first)};
                x->jt = (uint16_t)(s->njts < 0xffff ? s->njts : 0); /* 0xffff: indirect tail call */
                for (size_t j = first; j < s->njtt; j++)
                    s->mark[s->jtt[j] - addr] |= 2;
            } else if (k == 2) {
                x->flags |= PV_INSN_MEM_TARGET; /* indirect tail call, not an unresolved jump */
                x->jt = 0xffff;
            }
            s->mark[next] |= 2;
            break;
        }
        case PV_FLOW_CALL:
        case PV_FLOW_ICALL:
            if (call_noreturn(c, d, &in)) {
                x->flags |= R_NORET;
                s->mark[next] |= 2;
            }
            if (in.flow == PV_FLOW_CALL) {
                if (pva_funcs_find(c->funcs, in.target) >= 0) {
                    if (push_u64(&s->calls, &s->ncalls, &s->callscap, in.target))
                        goto nomem;
                } else if (in.target - addr >= size && pva_elf_code_section(c->elf, in.target)) {
                    if (push_u64(&s->unknown, &s->nunknown, &s->unknowncap, in.target))
                        goto nomem;
                }
            }
            break;
        case PV_FLOW_RET:
        case PV_FLOW_HALT: s->mark[next] |= 2; break;
        default: break;
        }
        nr++;
        off = next;
    }

    /* Blocks. */
    uint32_t nb = 0;
    for (uint32_t i = 0; i < nr; i++)
        if (i == 0 || (s->mark[s->r[i].off] & 2)) {
            if (GROW(s->bfirst, s->bcap, nb + 1))
                goto nomem;
            s->bfirst[nb++] = i;
        }
    if (nb && !(out->blocks = calloc(nb, sizeof *out->blocks)))
        goto nomem;
    out->nblocks = nb;
    if (GROW(s->succ_off, s->socap, (size_t)nb + 1))
        goto nomem;
    uint32_t nsucc_local = 0;
    int back = 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t i0 = s->bfirst[b], i1 = b + 1 < nb ? s->bfirst[b + 1] : nr;
        pv_block *k = &out->blocks[b];
        const rec *last = &s->r[i1 - 1];
        k->addr = addr + s->r[i0].off;
        k->size = last->off + last->size - s->r[i0].off;
        k->ninsns = i1 - i0;
        k->loc.file = PV_NONE;
        for (uint32_t i = i0; i < i1; i++) {
            const rec *x = &s->r[i];
            if (x->cls < PV_MIX_NCLASSES)
                k->mix.n[x->cls]++;
            k->mix.n[PV_MIX_LOAD] += x->ldst & 1;
            k->mix.n[PV_MIX_STORE] += x->ldst >> 1;
            k->mix.bytes_loaded += x->bl;
            k->mix.bytes_stored += x->bs;
            if (x->flow == PV_FLOW_CALL || x->flow == PV_FLOW_ICALL)
                k->flags |= PV_BLOCK_CALL;
            /* Vector moves are eliminated too, but the block's count frees int_alu only. */
            if ((x->flags & PV_INSN_MOVE_ELIM) && x->cls == PV_MIX_INT_ALU)
                k->moves++;
        }
        k->cycles = round2(pv_uarch_block_cycles_moves(c->uarch, &k->mix, k->ninsns, k->moves));
        out->ninsns += k->ninsns;
        pv_mix_add(&out->mix, &k->mix);

        /* Edges. */
        pv_edge e[2];
        uint32_t ne = 0;
        uint64_t next = last->off + last->size;
        const jtab *jt = NULL;
        switch (last->flow) {
        case PV_FLOW_COND:
            e[ne++] = (pv_edge){last->target, last->target - addr < size ? PV_EDGE_TAKEN : PV_EDGE_TAILCALL};
            if (next < size)
                e[ne++] = (pv_edge){addr + next, PV_EDGE_NOT_TAKEN};
            break;
        case PV_FLOW_JUMP:
            e[ne++] = (pv_edge){last->target, last->target - addr < size ? PV_EDGE_JUMP : PV_EDGE_TAILCALL};
            break;
        case PV_FLOW_IJUMP:
            if (last->jt && last->jt != 0xffff)
                jt = &s->jts[last->jt - 1];
            else if (last->jt != 0xffff)
                k->flags |= PV_BLOCK_UNRESOLVED;
            break;
        case PV_FLOW_RET: k->flags |= PV_BLOCK_RET; break;
        case PV_FLOW_HALT: k->flags |= PV_BLOCK_NORETURN; break;
        default:
            if (last->flags & R_NORET)
                k->flags |= PV_BLOCK_NORETURN;
            else if (next < size && b + 1 < nb && s->r[s->bfirst[b + 1]].off == next)
                e[ne++] = (pv_edge){addr + next, PV_EDGE_FALLTHROUGH};
            break;
        }
        uint32_t n = ne;
        uint64_t *jtt = NULL;
        if (jt) {
            /* The table ends at its first entry that is not an instruction
             * of this function: a bound taken from the wrong compare reads
             * past the table into whatever follows. */
            jtt = s->jtt + jt->first;
            uint32_t valid = 0;
            while (valid < jt->n && (s->mark[jtt[valid] - addr] & 1))
                valid++;
            n = sort_unique(jtt, valid);
            if (!n) {
                jt = NULL;
                k->flags |= PV_BLOCK_UNRESOLVED;
            }
        }
        if (n) {
            if (!(k->succ = malloc(n * sizeof *k->succ)))
                goto nomem;
            for (uint32_t j = 0; j < n; j++)
                k->succ[j] = jt ? (pv_edge){jtt[j], PV_EDGE_JUMPTABLE} : e[j];
            k->nsucc = n;
        }
        /* Local CFG for loops. */
        int padding = 1;
        for (uint32_t i = i0; i < i1 && padding; i++)
            padding = (s->r[i].flags & PV_INSN_NOP) != 0;
        s->r[i0].flags = (uint16_t)((s->r[i0].flags & ~R_PAD) | (padding ? R_PAD : 0));
        s->succ_off[b] = nsucc_local;
        if (GROW(s->succ, s->scap, nsucc_local + n))
            goto nomem;
        for (uint32_t j = 0; j < n; j++) {
            if (k->succ[j].kind == PV_EDGE_TAILCALL)
                continue;
            uint32_t t = block_at(s, nb, k->succ[j].target - addr);
            if (t == UINT32_MAX)
                continue;
            s->succ[nsucc_local++] = t;
            back |= t <= b;
        }
    }
    s->succ_off[nb] = nsucc_local;
    /* Alignment padding (a block of nops) that nothing enters falls into the
     * next block: its edge would look like a second entry into a loop. */
    if (back && GROW(s->indeg, s->indegcap, nb))
        goto nomem;
    if (back) {
        memset(s->indeg, 0, nb * sizeof *s->indeg);
        for (uint32_t e = 0; e < nsucc_local; e++)
            s->indeg[s->succ[e]]++;
        uint32_t w = 0;
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t from = s->succ_off[b], to = s->succ_off[b + 1];
            s->succ_off[b] = w;
            if (b && (s->r[s->bfirst[b]].flags & R_PAD) && !s->indeg[b])
                continue;
            for (uint32_t e = from; e < to; e++)
                s->succ[w++] = s->succ[e];
        }
        s->succ_off[nb] = w;
    }

    /* Loops: a cycle needs an edge to a block at or before its source. */
    if (back) {
        if ((rc = pva_find_loops(nb, s->succ_off, s->succ, &out->loops, &out->nloops)))
            goto done;
        /* Own blocks of each loop (not in an inner loop): deepest loop wins. */
        if (!(inner = malloc(nb * sizeof *inner)))
            goto nomem;
        for (uint32_t b = 0; b < nb; b++)
            inner[b] = PV_NONE;
        for (uint32_t l = 0; l < out->nloops; l++)
            for (uint32_t j = 0; j < out->loops[l].nblocks; j++) {
                uint32_t b = out->loops[l].blocks[j];
                if (inner[b] == PV_NONE || out->loops[inner[b]].depth < out->loops[l].depth)
                    inner[b] = l;
            }
        for (uint32_t l = 0; l < out->nloops; l++) {
            uint32_t lb = out->loops[l].latch;
            uint32_t last = (lb + 1 < nb ? s->bfirst[lb + 1] : nr) - 1;
            out->loops[l].cond_addr = addr + s->r[last].off;
        }
        /* Dependency records of the instructions in loops: decoded once more
         * here (not in the sweep: most instructions are in no loop), then
         * the recurrence passes run on the records. */
        uint32_t nin = 0;
        for (uint32_t b = 0; b < nb; b++)
            if (inner[b] != PV_NONE)
                nin += out->blocks[b].ninsns;
        if (GROW(s->deps, s->depscap, nin ? nin : 1))
            goto nomem;
        for (uint32_t l = 0; l < out->nloops; l++) {
            pv_mix m;
            memset(&m, 0, sizeof m);
            uint32_t ni = 0, nd = 0, nmoves = 0;
            /* Address order: one pass over the records is one iteration. */
            for (uint32_t b = 0; b < nb; b++) {
                if (inner[b] != l)
                    continue;
                pv_mix_add(&m, &out->blocks[b].mix);
                ni += out->blocks[b].ninsns;
                nmoves += out->blocks[b].moves;
                uint32_t i0 = s->bfirst[b], i1 = b + 1 < nb ? s->bfirst[b + 1] : nr;
                for (uint32_t i = i0; i < i1; i++) {
                    const rec *x = &s->r[i];
                    if (pva_decode(d, code + x->off, size - x->off, addr + x->off, &in) &&
                        pva_dep_of(d, &in, c->uarch, &s->deps[nd]))
                        nd++;
                }
            }
            float tp = pv_uarch_block_cycles_moves(c->uarch, &m, ni, nmoves);
            float rec_c = nd ? pva_recurrence(c->uarch, s->deps, nd) : 0;
            out->loops[l].cycles = round2(tp > rec_c ? tp : rec_c);
        }
    }

    /* Callees and discovery candidates. */
    if (s->ncalls) {
        out->ncallees = sort_unique(s->calls, s->ncalls);
        if (!(out->callees = malloc(out->ncallees * sizeof *out->callees)))
            goto nomem;
        memcpy(out->callees, s->calls, out->ncallees * sizeof *out->callees);
    }
    if (s->nunknown) {
        out->nunknown = sort_unique(s->unknown, s->nunknown);
        if (!(out->unknown = malloc(out->nunknown * sizeof *out->unknown)))
            goto nomem;
        memcpy(out->unknown, s->unknown, out->nunknown * sizeof *out->unknown);
    }
done_ok:
    out->done = 1;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "out of memory analyzing the function at 0x%llx", (unsigned long long)addr);
done:
    free(inner);
    if (rc)
        pva_fres_free(out);
    return rc;
}
