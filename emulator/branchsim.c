/* Branch-prediction simulator: TAGE-lite for conditional branches, a
 * history-indexed target table over a last-target buffer for indirect
 * branches, and a return stack (branchsim.h has the model and how the
 * block hook feeds it).
 *
 * The folded histories follow Seznec's reference TAGE code: the history of
 * length L is kept folded (xor of its L-bit window cut into pieces of the
 * width of an index or a tag) and updated in O(1) per pushed bit, so a
 * prediction reads a few registers and four table entries whatever the
 * history lengths. */
#include <stdlib.h>
#include <string.h>

#include "branchsim.h"
#include "prevision/error.h"

#define NTAB 4
#define LOG_BASE 14
#define LOG_TAB 10
#define TAG_BITS 11
#define LOG_BTB 10
#define LOG_IND 10
#define IND_TAG_BITS 12
#define IND_HIST 32
#define RAS_SIZE 32
#define AGE_PERIOD (1u << 18)
#define LOG_FILTER 12
#define STREAK 127 /* same outcome this many times in a row (beyond the longest history): the filter predicts it */

/* History lengths of the tagged tables (geometric), at most 128: the
 * history is a 128-bit shift register. */
#define H0 8
#define H1 20
#define H2 48
#define H3 120

typedef struct tentry {
    uint16_t tag;
    int8_t ctr; /* -4..3: taken when >= 0 */
    uint8_t u;  /* 0..3 */
} tentry;

typedef struct ientry {
    uint64_t target;
    uint16_t tag;
    uint8_t conf;
} ientry;

typedef struct bentry {
    uint64_t pc;
    uint64_t target;
} bentry;

struct pve_branch {
    uint8_t filter[1u << LOG_FILTER]; /* per address: last outcome (bit 7) and how many times in a row (0..127) */
    uint8_t base[1u << LOG_BASE]; /* 2-bit counters: taken when >= 2 */
    tentry tab[NTAB][1u << LOG_TAB];
    ientry ind[1u << LOG_IND];
    bentry btb[1u << LOG_BTB];
    uint64_t ras[RAS_SIZE];
    uint32_t ras_top;
    uint64_t hlo, hhi;           /* global history, newest outcome in bit 0 of hlo */
    int use_alt;                 /* 0..15: >= 8 means trust the alternate over a new entry */
    uint32_t age;                /* branches since the last aging of u */
    uint32_t rng;
    int counting;
    pve_branch_stats st;
};

static inline void push_bit(pve_branch *b, uint32_t n)
{
    b->hhi = (b->hhi << 1) | (b->hlo >> 63);
    b->hlo = (b->hlo << 1) | n;
}

int pve_branch_new(pve_branch **out)
{
    *out = NULL;
    pve_branch *b = calloc(1, sizeof *b);
    if (!b)
        return pv_error_set(PV_ERR_NOMEM, "emulator: out of memory for the branch simulator");
    memset(b->base, 1, sizeof b->base); /* weakly not taken */
    b->use_alt = 8;
    b->rng = 0x2545f491u;
    b->counting = 1;
    *out = b;
    return PV_OK;
}

void pve_branch_free(pve_branch *b) { free(b); }

const char *pve_branch_model(void) { return "tage-lite-4x1k+ittage-1k+ras32"; }

void pve_branch_set_counting(pve_branch *b, int on) { b->counting = on != 0; }

void pve_branch_get_stats(const pve_branch *b, pve_branch_stats *out) { *out = b->st; }

void pve_branch_reset_stats(pve_branch *b) { memset(&b->st, 0, sizeof b->st); }

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xd6e8feb86659fd93ull

static inline uint64_t pc_hash(uint64_t pc) { return (pc ^ (pc >> 29)) * K1; }

/* The hash of table i for address hash ph: the last hist_len[i] history bits. */
static inline uint64_t tab_hash(const pve_branch *b, uint64_t ph, int i)
{
    uint64_t h;
    switch (i) {
    case 0: h = b->hlo & ((1ull << H0) - 1); break;
    case 1: h = b->hlo & ((1ull << H1) - 1); break;
    case 2: h = b->hlo & ((1ull << H2) - 1); break;
    default: h = b->hlo ^ ((b->hhi & ((1ull << (H3 - 64)) - 1)) * K1); break;
    }
    return ((h + (uint64_t)i) ^ ph) * K2;
}

#define IDX(v) ((uint32_t)((v) >> (64 - LOG_TAB)))
#define TAG(v) ((uint16_t)(((v) >> (64 - LOG_TAB - TAG_BITS)) & ((1u << TAG_BITS) - 1)))

static inline void ctr_update(int8_t *c, int taken)
{
    if (taken) {
        if (*c < 3)
            (*c)++;
    } else if (*c > -4) {
        (*c)--;
    }
}

static uint32_t next_rng(pve_branch *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 17;
    b->rng ^= b->rng << 5;
    return b->rng;
}

static __attribute__((noinline, cold)) void age(pve_branch *b)
{
    for (int i = 0; i < NTAB; i++)
        for (uint32_t k = 0; k < (1u << LOG_TAB); k++)
            b->tab[i][k].u >>= 1;
}

static inline int cond_impl(pve_branch *b, uint64_t pc, int taken)
{
    taken = taken != 0;
    uint64_t ph = pc_hash(pc);
    /* Most executed branches go the same way many times in a row (loop
     * back edges, error checks): a small filter answers those without
     * touching the tagged tables, which keeps the simulator cheap in the
     * emulator's block hook. The streak's end is a misprediction, and the
     * branch goes back to the full predictor. */
    uint8_t *f = &b->filter[ph >> (64 - LOG_FILTER)];
    uint8_t fv = *f;
    if ((fv & 0x7f) >= STREAK) {
        int last = fv >> 7;
        push_bit(b, (uint32_t)taken);
        if (last == taken) {
            if ((fv & 0x7f) < 0x7f)
                *f = (uint8_t)(fv + 1);
            if (b->counting)
                b->st.cond++;
            return 0;
        }
        *f = (uint8_t)(taken << 7);
        if (b->counting) {
            b->st.cond++;
            b->st.cond_miss++;
        }
        return 1;
    }
    *f = (fv >> 7) == (unsigned)taken ? (uint8_t)(fv + 1) : (uint8_t)(taken << 7 | 1);
    uint32_t idx[NTAB];
    uint16_t tag[NTAB];
    int prov = -1, alt = -1;
#pragma GCC unroll 4
    for (int i = NTAB - 1; i >= 0; i--) {
        uint64_t v = tab_hash(b, ph, i);
        idx[i] = IDX(v);
        tag[i] = TAG(v);
        if (b->tab[i][idx[i]].tag == tag[i]) {
            if (prov < 0)
                prov = i;
            else if (alt < 0)
                alt = i;
        }
    }
    uint8_t *bc = &b->base[ph >> (64 - LOG_BASE)];
    int base_pred = *bc >= 2;
    int alt_pred = alt >= 0 ? b->tab[alt][idx[alt]].ctr >= 0 : base_pred;
    int pred, prov_pred = base_pred;
    tentry *pe = prov >= 0 ? &b->tab[prov][idx[prov]] : NULL;
    if (pe) {
        prov_pred = pe->ctr >= 0;
        int weak_new = (pe->ctr == 0 || pe->ctr == -1) && pe->u == 0;
        pred = weak_new && b->use_alt >= 8 ? alt_pred : prov_pred;
        if (weak_new && prov_pred != alt_pred) {
            if (alt_pred == taken) {
                if (b->use_alt < 15)
                    b->use_alt++;
            } else if (b->use_alt > 0) {
                b->use_alt--;
            }
        }
    } else {
        pred = base_pred;
    }
    int miss = pred != taken;

    /* Allocate in a longer table on a misprediction. */
    if (miss && prov < NTAB - 1) {
        int cand[NTAB], nc = 0;
        for (int i = prov + 1; i < NTAB; i++)
            if (b->tab[i][idx[i]].u == 0)
                cand[nc++] = i;
        if (nc) {
            /* Mostly the shortest free one; sometimes the next, so that
             * two branches fighting for one entry spread out. */
            int k = nc > 1 && (next_rng(b) & 3) == 0 ? 1 : 0;
            tentry *n = &b->tab[cand[k]][idx[cand[k]]];
            n->tag = tag[cand[k]];
            n->ctr = taken ? 0 : -1;
            n->u = 0;
        } else {
            for (int i = prov + 1; i < NTAB; i++)
                if (b->tab[i][idx[i]].u)
                    b->tab[i][idx[i]].u--;
        }
    }

    /* Train. */
    if (pe) {
        if (pe->u == 0) {
            if (alt >= 0)
                ctr_update(&b->tab[alt][idx[alt]].ctr, taken);
            else if (taken ? *bc < 3 : *bc > 0)
                *bc = (uint8_t)(*bc + (taken ? 1 : -1));
        }
        ctr_update(&pe->ctr, taken);
        if (prov_pred != alt_pred) {
            if (prov_pred == taken) {
                if (pe->u < 3)
                    pe->u++;
            } else if (pe->u) {
                pe->u--;
            }
        }
    } else if (taken ? *bc < 3 : *bc > 0) {
        *bc = (uint8_t)(*bc + (taken ? 1 : -1));
    }
    if (++b->age >= AGE_PERIOD) {
        b->age = 0;
        age(b);
    }
    push_bit(b, (uint32_t)taken);
    if (b->counting) {
        b->st.cond++;
        b->st.cond_miss += (uint64_t)miss;
    }
    return miss;
}

static inline int indirect_impl(pve_branch *b, uint64_t pc, uint64_t target)
{
    uint64_t ph = pc_hash(pc);
    uint64_t v = ((b->hlo & ((1ull << IND_HIST) - 1)) ^ ph) * K2;
    uint16_t ht = (uint16_t)((v >> (64 - LOG_IND - IND_TAG_BITS)) & ((1u << IND_TAG_BITS) - 1));
    ientry *ie = &b->ind[v >> (64 - LOG_IND)];
    bentry *be = &b->btb[ph >> (64 - LOG_BTB)];
    int hit = ie->tag == ht && ie->target;
    uint64_t pred = hit ? ie->target : be->pc == pc ? be->target : 0;
    int miss = pred != target;
    if (hit) {
        if (!miss) {
            if (ie->conf < 3)
                ie->conf++;
        } else if (ie->conf) {
            ie->conf--;
        } else {
            ie->target = target;
        }
    } else if (miss) {
        /* Only a target the last-target buffer gets wrong needs the history. */
        if (ie->conf)
            ie->conf--;
        else {
            ie->tag = ht;
            ie->target = target;
        }
    }
    be->pc = pc;
    be->target = target;
    /* Two bits of the target: its low 16 bits xor-folded, as path histories take low target bits.
     * Nearby targets (the cases of a switch, the functions of a table) then differ; a multiplicative
     * hash's top bits gave the three functions of tests/emulator/data/branches.c the same two bits, and
     * the history could not tell which one ran before (the call was missed every time). */
    uint64_t t = target & 0xffff;
    t ^= t >> 8;
    t ^= t >> 4;
    t ^= t >> 2;
    push_bit(b, (uint32_t)(t & 1));
    push_bit(b, (uint32_t)((t >> 1) & 1));
    if (b->counting) {
        b->st.indirect++;
        b->st.indirect_miss += (uint64_t)miss;
    }
    return miss;
}

static inline void call_impl(pve_branch *b, uint64_t ret)
{
    b->ras_top = (b->ras_top + 1) & (RAS_SIZE - 1);
    b->ras[b->ras_top] = ret;
}

static inline int ret_impl(pve_branch *b, uint64_t target)
{
    uint64_t pred = b->ras[b->ras_top];
    b->ras_top = (b->ras_top - 1) & (RAS_SIZE - 1);
    int miss = pred != target;
    if (b->counting) {
        b->st.ret++;
        b->st.ret_miss += (uint64_t)miss;
    }
    return miss;
}

int pve_branch_cond(pve_branch *b, uint64_t pc, int taken) { return cond_impl(b, pc, taken); }

int pve_branch_indirect(pve_branch *b, uint64_t pc, uint64_t target, int is_call)
{
    (void)is_call; /* calls and jumps share the tables */
    return indirect_impl(b, pc, target);
}

void pve_branch_call(pve_branch *b, uint64_t ret) { call_impl(b, ret); }

int pve_branch_ret(pve_branch *b, uint64_t target) { return ret_impl(b, target); }

void pve_branch_site_of(const pv_insn *last, uint64_t block_end, pve_branch_site *out)
{
    memset(out, 0, sizeof *out);
    if (!last)
        return;
    out->pc = last->addr;
    switch (last->flow) {
    case PV_FLOW_COND:
        out->kind = PVE_BR_COND;
        out->target = last->target;
        break;
    case PV_FLOW_IJUMP: out->kind = PVE_BR_IJUMP; break;
    case PV_FLOW_ICALL:
        out->kind = PVE_BR_ICALL;
        out->ret = block_end;
        break;
    case PV_FLOW_CALL:
        out->kind = PVE_BR_CALL;
        out->ret = block_end;
        break;
    case PV_FLOW_RET: out->kind = PVE_BR_RET; break;
    default: out->kind = PVE_BR_NONE; break;
    }
}

int pve_branch_next(pve_branch *b, const pve_branch_site *prev, uint64_t next)
{
    switch (prev->kind) {
    case PVE_BR_COND: return cond_impl(b, prev->pc, next == prev->target);
    case PVE_BR_IJUMP: return indirect_impl(b, prev->pc, next);
    case PVE_BR_ICALL: {
        int miss = indirect_impl(b, prev->pc, next);
        call_impl(b, prev->ret);
        return miss;
    }
    case PVE_BR_CALL: call_impl(b, prev->ret); return 0;
    case PVE_BR_RET: return ret_impl(b, next);
    default: return 0;
    }
}
