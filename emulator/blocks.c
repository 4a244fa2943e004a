/* Block counting: the UC_HOOK_BLOCK callback and its table.
 *
 * The hook runs once per executed translation block, so it does as little
 * as possible: hash the block's address and size into an open-addressing
 * table, bump the count, add the block's instruction count to the running
 * total, and compare that total with one threshold (event_at) behind which
 * everything rare hides (limits, thread switches, rep checks). A block seen
 * for the first time is decoded once, for its instruction count and mix.
 *
 * Rep-prefixed string instructions: Unicorn (QEMU) executes one iteration
 * per entry of the instruction and leaves it when the count reaches zero,
 * so an instruction with n > 0 iterations is entered n times, with n = 0
 * once. Valgrind enters it once more, for the check that finds the count
 * zero (n + 1; measured with callgrind on a rep movsb loop, see
 * docs/emulator.md). To count like callgrind, each rep instruction gets a
 * UC_HOOK_CODE hook bounded to its address (translations containing it are
 * flushed so the hook takes effect) that reads RCX on entry: the entry with
 * RCX = 1 is the last iteration, and it adds the extra entry to the count
 * of the one-instruction block at the rep instruction, unconditionally for
 * rep movs/stos/lods and, for repe/repne cmps/scas, when the flags after it
 * say the loop would have continued (checked at the next block). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define GOLD 0x9E3779B97F4A7C15ull
#define MAX_TB_BYTES 16384

static int table_alloc(pve_blocks *b, uint64_t cap)
{
    pve_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    b->tab = t;
    b->mask = cap - 1;
    b->shift = 64 - (uint32_t)__builtin_ctzll(cap);
    return 0;
}

static pve_slot *table_insert(pve_blocks *b, uint64_t key)
{
    uint64_t i = (key * GOLD) >> b->shift;
    while (b->tab[i].key && b->tab[i].key != key)
        i = (i + 1) & b->mask;
    return &b->tab[i];
}

static int table_grow(pve_blocks *b)
{
    pve_slot *old = b->tab;
    uint64_t cap = (b->mask + 1) * 2;
    if (table_alloc(b, cap)) {
        b->tab = old;
        return -1;
    }
    for (uint64_t i = 0; i <= (cap / 2) - 1; i++)
        if (old[i].key)
            *table_insert(b, old[i].key) = old[i];
    free(old);
    return 0;
}

int pve_blocks_init(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    if (table_alloc(b, 1 << 14))
        return pv_error_set(PV_ERR_NOMEM, "emulator: out of memory for the block table");
    pv_decoder_options o = PV_DECODER_OPTIONS_INIT;
    o.text = 0;
    int rc = pv_decoder_new(&b->dec, &o);
    if (rc)
        return rc;
    return PV_OK;
}

void pve_blocks_fini(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    free(b->tab);
    free(b->info);
    for (uint32_t i = 0; i < b->nreps; i++)
        free(b->reps[i]);
    free(b->reps);
    pv_decoder_free(b->dec);
    memset(b, 0, sizeof *b);
}

static pve_slot *slot_find(pve_blocks *b, uint64_t key)
{
    uint64_t i = (key * GOLD) >> b->shift;
    while (b->tab[i].key) {
        if (b->tab[i].key == key)
            return &b->tab[i];
        i = (i + 1) & b->mask;
    }
    return NULL;
}

/* The string opcode after the prefixes: 0 plain rep, 1 repe, 2 repne; -1 when not a rep string op. */
static int rep_kind(const uint8_t *p, uint32_t n, int *addr32)
{
    int rep = 0, repne = 0;
    *addr32 = 0;
    uint32_t i = 0;
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0xf3)
            rep = 1, repne = 0;
        else if (c == 0xf2)
            repne = 1, rep = 0;
        else if (c == 0x67)
            *addr32 = 1;
        else if (c == 0x66 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 ||
                 (c >= 0x40 && c <= 0x4f) || c == 0xf0)
            continue;
        else
            break;
    }
    if (i >= n || (!rep && !repne))
        return -1;
    uint8_t op = p[i];
    if (op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf)
        return repne ? 2 : 1;
    if ((op >= 0xa4 && op <= 0xa5) || (op >= 0xaa && op <= 0xad) || (op >= 0x6c && op <= 0x6f))
        return 0;
    return -1;
}

static void hook_rep(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);

static void add_rep_site(pv_emu *e, uint64_t addr, uint32_t len, int kind, int addr32)
{
    pve_blocks *b = &e->blk;
    for (uint32_t i = 0; i < b->nreps; i++)
        if (b->reps[i]->addr == addr)
            return;
    if (b->nreps == b->capreps) {
        uint32_t cap = b->capreps ? b->capreps * 2 : 16;
        pve_repsite **n = realloc(b->reps, cap * sizeof *n);
        if (!n)
            return;
        b->reps = n;
        b->capreps = cap;
    }
    pve_repsite *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->addr = addr;
    r->len = len;
    r->kind = (uint8_t)kind;
    r->addr32 = (uint8_t)addr32;
    r->emu = e;
    if (uc_hook_add(e->uc, &r->hook, UC_HOOK_CODE, (void *)hook_rep, r, addr, addr)) {
        free(r);
        return;
    }
    b->reps[b->nreps++] = r;
    b->nreps_pending++;
    e->event_at = 0;
}

static uint32_t object_of(pv_emu *e, uint64_t addr, uint64_t *link)
{
    pve_vma *v = pve_mem_find(e, addr);
    uint32_t obj = v ? v->obj : PV_NONE;
    if (obj == PV_NONE) {
        /* code outside any ELF mapping (JIT, trampolines): one pseudo-object */
        obj = pve_object_add(e, "[anonymous]", 0);
        if (obj == PV_NONE)
            obj = 0;
    }
    *link = addr - e->objs[obj].base;
    return obj;
}

/* First sight of a block: decode it, record it, insert it. NULL on allocation failure. */
static pve_slot *new_block(pv_emu *e, uint64_t addr, uint32_t size)
{
    pve_blocks *b = &e->blk;
    if ((b->used + 1) * 2 > b->mask + 1 && table_grow(b))
        return NULL;
    if (b->ninfo == b->capinfo) {
        uint32_t cap = b->capinfo ? b->capinfo * 2 : 4096;
        pve_binfo *n = realloc(b->info, cap * sizeof *n);
        if (!n)
            return NULL;
        b->info = n;
        b->capinfo = cap;
    }
    pve_binfo *in = &b->info[b->ninfo];
    memset(in, 0, sizeof *in);
    in->addr = addr;
    in->size = size;
    in->obj = object_of(e, addr, &in->link);
    static uint8_t code[MAX_TB_BYTES];
    uint32_t n = size < MAX_TB_BYTES ? size : MAX_TB_BYTES;
    if (pve_mem_read(e, addr, code, n) == 0) {
        uint32_t off = 0;
        while (off < n) {
            pv_insn ins;
            if (pv_decode_insn(b->dec, code + off, n - off, addr + off, &ins) || !ins.size) {
                /* bytes Capstone does not know but the engine executed: one instruction of class other */
                in->ninsns++;
                in->mix.n[PV_MIX_OTHER]++;
                break;
            }
            pv_insn_add_to_mix(&ins, &in->mix);
            in->ninsns++;
            if ((ins.flags & PV_INSN_STRING) && (ins.flags & (PV_INSN_REP | PV_INSN_REPNE))) {
                int a32, k = rep_kind(code + off, ins.size, &a32);
                if (k >= 0) {
                    in->flags |= PVE_BLK_REP;
                    add_rep_site(e, addr + off, ins.size, k, a32);
                }
            }
            off += ins.size;
        }
    } else {
        in->ninsns = 1;
        in->mix.n[PV_MIX_OTHER] = 1;
    }
    if (!in->ninsns)
        in->ninsns = 1;
    uint64_t key = addr | (uint64_t)size << 48;
    pve_slot *s = table_insert(b, key);
    s->key = key;
    s->count = 0;
    s->ninsns = in->ninsns;
    s->idx = b->ninfo++;
    b->used++;
    return s;
}

static pve_slot *lookup(pv_emu *e, uint64_t addr, uint32_t size)
{
    uint64_t key = addr | (uint64_t)size << 48;
    pve_slot *s = slot_find(&e->blk, key);
    return s ? s : new_block(e, addr, size);
}

static void rep_extra(pv_emu *e, pve_repsite *r)
{
    pve_slot *s = lookup(e, r->addr, r->len);
    if (s) {
        s->count++;
        e->icount += s->ninsns;
    }
}

static void hook_rep(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)addr;
    (void)size;
    pve_repsite *r = ud;
    pv_emu *e = r->emu;
    uint64_t rcx = 0;
    uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
    if (r->addr32)
        rcx &= 0xffffffffu;
    if (rcx != 1)
        return;
    if (r->kind == 0) {
        rep_extra(e, r);
    } else {
        e->blk.rep_check = r;
        e->event_at = 0;
    }
}

static void recompute(pv_emu *e);

/* The block the hook is in will not run now (the emulation stops before it):
 * take back its count, and remember where to continue, since Unicorn's RIP
 * is not synced at the start of a chained block. */
static void undo(pv_emu *e, pve_slot *s, uint64_t addr)
{
    s->count--;
    e->icount -= s->ninsns;
    e->resume_pc = addr;
    e->have_resume = 1;
}

void pve_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc;
    pv_emu *e = ud;
    pve_blocks *b = &e->blk;
    uint64_t key = addr | (uint64_t)size << 48;
    uint64_t i = (key * GOLD) >> b->shift;
    pve_slot *s;
    for (;;) {
        s = &b->tab[i];
        if (PVE_LIKELY(s->key == key))
            break;
        if (!s->key) {
            if (!(s = new_block(e, addr, size)))
                return;
            break;
        }
        i = (i + 1) & b->mask;
    }
    s->count++;
    e->icount += s->ninsns;
    if (PVE_UNLIKELY(e->icount >= e->event_at)) {
        /* the slow path: rare events, in order of urgency */
        if (b->rep_check) {
            pve_repsite *r = b->rep_check;
            b->rep_check = NULL;
            uint64_t fl = 0;
            uc_reg_read(e->uc, UC_X86_REG_EFLAGS, &fl);
            int zf = (fl >> 6) & 1;
            if ((r->kind == 1 && zf) || (r->kind == 2 && !zf))
                rep_extra(e, r);
            /* the table may have grown: find this block again */
            s = slot_find(b, key);
        }
        if (b->nreps_pending || e->stop) {
            /* this block runs again after the restart: do not count it twice */
            undo(e, s, addr);
            if (!e->stop)
                pve_request_stop(e, PVE_STOP_RESTART);
            return;
        }
        if (e->opts.max_insns && e->icount > e->opts.max_insns) {
            undo(e, s, addr);
            pve_end(e, "limit:insns", -1, "instruction limit reached: %llu instructions ran (--max-insns %llu)",
                    (unsigned long long)e->icount, (unsigned long long)e->opts.max_insns);
            return;
        }
        if (e->timed_out) {
            undo(e, s, addr);
            pve_end(e, "limit:time", -1, "time limit reached after %.1f s (--timeout)", e->opts.timeout);
            return;
        }
        /* a slot ends at the first block after the quantum: every slot runs at least one block */
        if (e->nthreads > 1 && e->icount - s->ninsns >= e->run_start + e->quantum) {
            undo(e, s, addr);
            pve_request_stop(e, PVE_STOP_SWITCH);
            return;
        }
        recompute(e);
    }
}

static void recompute(pv_emu *e)
{
    uint64_t at = UINT64_MAX;
    if (e->opts.max_insns)
        at = e->opts.max_insns + 1;
    if (e->nthreads > 1 && e->run_start + e->quantum < at)
        at = e->run_start + e->quantum;
    if (e->blk.rep_check || e->blk.nreps_pending || e->timed_out)
        at = 0;
    e->event_at = at;
}

void pve_blocks_event(pv_emu *e) { recompute(e); }

void pve_blocks_flush_pending(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    for (uint32_t i = b->nreps - b->nreps_pending; i < b->nreps; i++)
        uc_ctl_remove_cache(e->uc, b->reps[i]->addr, b->reps[i]->addr + b->reps[i]->len);
    b->nreps_pending = 0;
    recompute(e);
}

void pve_blocks_retire(pv_emu *e, uint64_t lo, uint64_t hi)
{
    pve_blocks *b = &e->blk;
    int any = 0;
    for (uint64_t i = 0; i <= b->mask; i++) {
        pve_slot *s = &b->tab[i];
        if (!s->key)
            continue;
        pve_binfo *in = &b->info[s->idx];
        if (in->addr < hi && in->addr + in->size > lo) {
            in->retired += s->count;
            in->flags |= PVE_BLK_RETIRED;
            s->key = 0;
            b->used--;
            any = 1;
        }
    }
    if (any) {
        /* linear probing cannot leave holes: rebuild */
        pve_slot *old = b->tab;
        uint64_t cap = b->mask + 1;
        if (table_alloc(b, cap)) {
            b->tab = old; /* out of memory: keep the table with its holes; lookups may re-decode */
        } else {
            for (uint64_t i = 0; i < cap; i++)
                if (old[i].key)
                    *table_insert(b, old[i].key) = old[i];
            free(old);
        }
    }
    /* rep hooks there would fire on whatever code comes next */
    for (uint32_t i = 0; i < b->nreps;) {
        pve_repsite *r = b->reps[i];
        if (r->addr >= lo && r->addr < hi) {
            uc_hook_del(e->uc, r->hook);
            if (b->rep_check == r)
                b->rep_check = NULL;
            if (i >= b->nreps - b->nreps_pending)
                b->nreps_pending--;
            free(r);
            memmove(&b->reps[i], &b->reps[i + 1], (b->nreps - i - 1) * sizeof *b->reps);
            b->nreps--;
        } else {
            i++;
        }
    }
    uc_ctl_remove_cache(e->uc, lo, hi);
}

static int cmp_count(const void *a, const void *b)
{
    const pv_block_count *x = a, *y = b;
    if (x->object != y->object)
        return x->object < y->object ? -1 : 1;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->ninsns != y->ninsns)
        return x->ninsns < y->ninsns ? -1 : 1;
    return 0;
}

int pve_blocks_result(pv_emu *e, pv_dynamic *d)
{
    pve_blocks *b = &e->blk;
    uint64_t *counts = calloc(b->ninfo ? b->ninfo : 1, sizeof *counts);
    if (!counts)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < b->ninfo; i++)
        counts[i] = b->info[i].retired;
    for (uint64_t i = 0; i <= b->mask; i++)
        if (b->tab[i].key)
            counts[b->tab[i].idx] += b->tab[i].count;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->ninfo; i++)
        n += counts[i] != 0;
    d->counts = calloc(n ? n : 1, sizeof *d->counts);
    if (!d->counts) {
        free(counts);
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    }
    d->insns = 0;
    for (uint32_t i = 0; i < b->ninfo; i++) {
        if (!counts[i])
            continue;
        const pve_binfo *in = &b->info[i];
        pv_block_count *c = &d->counts[d->ncounts++];
        c->object = in->obj;
        c->addr = in->link;
        c->ninsns = in->ninsns;
        c->count = counts[i];
        uint64_t ins = (uint64_t)in->ninsns * counts[i];
        d->insns += ins;
        pv_mix64_add_scaled(&d->mix, &in->mix, counts[i]);
        if (in->obj < e->nobjs && e->objs[in->obj].is_target) {
            d->target_insns += ins;
            pv_mix64_add_scaled(&d->target_mix, &in->mix, counts[i]);
        }
    }
    free(counts);
    /* merge rows for the same block (a block retranslated after its code was remapped) */
    qsort(d->counts, d->ncounts, sizeof *d->counts, cmp_count);
    uint32_t w = 0;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        if (w && !cmp_count(&d->counts[w - 1], &d->counts[i]))
            d->counts[w - 1].count += d->counts[i].count;
        else
            d->counts[w++] = d->counts[i];
    }
    d->ncounts = w;
    return PV_OK;
}
