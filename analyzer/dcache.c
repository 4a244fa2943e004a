/* A per-thread cache of decoded instruction shapes, in front of Capstone.
 *
 * Capstone with detail costs about half a microsecond per instruction and
 * was most of the time of analyzing a large library; most instructions
 * there repeat byte for byte, up to their displacement and immediate
 * (`mov rdi, [rbp-0x18]`, `call rel32`, `lea rsi, [rip+X]`). Nothing the
 * sweep keeps depends on those bytes except a relative branch's target,
 * which is recomputed. So the key is the instruction's "head": its bytes
 * before the first displacement or immediate byte (prefixes, opcode,
 * ModRM, SIB), which decide its length and meaning. Heads are prefix-free
 * (the decoder reads them left to right and knows where they end), so a
 * lookup tries lengths 1, 2, ... and the first entry that matches is the
 * instruction. Indirect jumps and calls are not cached: their callers read
 * Capstone's operands. tests/analyzer/test_dcache.c checks that profiles
 * are identical with and without the cache. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int pva_dcache_enabled = 1;

#define DC_BITS 18
#define DC_SIZE (1u << DC_BITS)
#define DC_MAXFILL (DC_SIZE / 4 * 3)

typedef struct dc_entry {
    uint8_t head[15];
    uint8_t hlen;     /* 0: empty slot */
    uint8_t rel_off;  /* offset of a relative branch's immediate, 0 if none */
    uint8_t rel_size;
    pv_insn proto;    /* decoded fields up to text; addr and target per use */
} dc_entry;

struct pva_dcache {
    dc_entry *t;
    size_t n;
    /* One bit per slot, set when an entry's probe starts there: most tried
     * lengths are shorter than the head and miss, and this 8 KB bitmap stays
     * in L1 where the 34 MB table would cost a cache miss per try. */
    uint64_t used[DC_SIZE / 64];
};

pva_dcache *pva_dcache_new(void)
{
    pva_dcache *c = calloc(1, sizeof *c);
    if (c && !(c->t = calloc(DC_SIZE, sizeof *c->t))) {
        free(c);
        c = NULL;
    }
    return c;
}

void pva_dcache_free(pva_dcache *c)
{
    if (!c)
        return;
    free(c->t);
    free(c);
}

static inline uint64_t step(uint64_t h, uint8_t b) { return (h ^ b) * 0x100000001b3ull; }
static inline uint32_t slot_of(uint64_t h, unsigned len) { return (uint32_t)((h ^ (h >> 29) ^ len) * 0x9e3779b97f4a7c15ull >> (64 - DC_BITS)); }

/* The signed little-endian branch displacement of @size (1, 2 or 4) bytes at @p. */
static inline int64_t read_rel(const uint8_t *p, unsigned size)
{
    if (size == 1)
        return (int8_t)p[0];
    if (size == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void insert(pva_dcache *c, const uint8_t *code, pv_decoder *d, const pv_insn *in)
{
    if (c->n >= DC_MAXFILL)
        return;
    if (in->flow == PV_FLOW_IJUMP || in->flow == PV_FLOW_ICALL)
        return;
    const cs_x86_encoding *enc = &d->insn->detail->x86.encoding;
    unsigned m = in->size;
    if (enc->disp_size) {
        if (!enc->disp_offset)
            return;
        if (enc->disp_offset < m)
            m = enc->disp_offset;
    }
    if (enc->imm_size) {
        if (!enc->imm_offset)
            return;
        if (enc->imm_offset < m)
            m = enc->imm_offset;
    }
    if (m == 0 || m > 15)
        return;
    for (unsigned i = 0; i + 1 < m; i++)
        if (code[i] == 0x0f && code[i + 1] == 0x0f)
            return; /* 3DNow!: the opcode is in the immediate byte */
    uint8_t rel_off = 0, rel_size = 0;
    if (in->target) {
        rel_off = enc->imm_offset;
        rel_size = enc->imm_size;
        if (!rel_off || (rel_size != 1 && rel_size != 2 && rel_size != 4) || rel_off + rel_size > in->size)
            return;
        if (in->addr + in->size + (uint64_t)read_rel(code + rel_off, rel_size) != in->target)
            return;
    }
    /* An immediate must not change what the instruction is: Capstone numbers
     * compare pseudo-ops by predicate (cmpltsd, vpcmpnequb...), and a few
     * mnemonics change with it. Decode two variants and cache only when all
     * agree. The caller is done with d->insn (indirect flows never get here). */
    if (enc->imm_size && !in->target) {
        static const uint8_t fill[2] = {0x00, 0xff};
        for (int v = 0; v < 2; v++) {
            uint8_t buf[16];
            pv_insn alt;
            memcpy(buf, code, in->size);
            if ((unsigned)enc->imm_offset + enc->imm_size > in->size)
                return;
            memset(buf + enc->imm_offset, fill[v], enc->imm_size);
            if (!pva_decode(d, buf, in->size, in->addr, &alt) || alt.size != in->size || alt.id != in->id ||
                alt.cls != in->cls || alt.flow != in->flow || alt.nloads != in->nloads || alt.nstores != in->nstores ||
                alt.flags != in->flags || alt.bytes_loaded != in->bytes_loaded ||
                alt.bytes_stored != in->bytes_stored || alt.str_elem != in->str_elem || alt.vec_bits != in->vec_bits ||
                alt.ext != in->ext)
                return;
        }
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < m; i++)
        h = step(h, code[i]);
    uint32_t s = slot_of(h, m);
    while (c->t[s].hlen) {
        if (c->t[s].hlen == m && !memcmp(c->t[s].head, code, m))
            return;
        s = (s + 1) & (DC_SIZE - 1);
    }
    uint32_t s0 = slot_of(h, m);
    c->used[s0 / 64] |= 1ull << (s0 % 64);
    dc_entry *e = &c->t[s];
    memcpy(e->head, code, m);
    e->hlen = (uint8_t)m;
    e->rel_off = rel_off;
    e->rel_size = rel_size;
    memcpy(&e->proto, in, offsetof(pv_insn, text));
    e->proto.text[0] = 0;
    c->n++;
}

int pva_decode_cached(pva_dcache *c, pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out,
                      int *fresh)
{
    if (c && pva_dcache_enabled) {
        uint64_t h = 0xcbf29ce484222325ull;
        size_t maxl = len < 15 ? len : 15;
        for (unsigned l = 1; l <= maxl; l++) {
            h = step(h, code[l - 1]);
            uint32_t s = slot_of(h, l);
            if (!(c->used[s / 64] & (1ull << (s % 64))))
                continue;
            for (;;) {
                const dc_entry *e = &c->t[s];
                if (!e->hlen)
                    break;
                if (e->hlen == l && !memcmp(e->head, code, l)) {
                    if (e->proto.size > len)
                        goto miss; /* the buffer ends inside it: let Capstone say so */
                    memcpy(out, &e->proto, offsetof(pv_insn, text));
                    out->text[0] = 0;
                    out->addr = addr;
                    if (e->rel_size)
                        out->target = addr + out->size + (uint64_t)read_rel(code + e->rel_off, e->rel_size);
                    *fresh = 0;
                    return 1;
                }
                s = (s + 1) & (DC_SIZE - 1);
            }
        }
    }
miss:
    *fresh = 1;
    if (!pva_decode(d, code, len, addr, out))
        return 0;
    if (c && pva_dcache_enabled)
        insert(c, code, d, out);
    return 1;
}
