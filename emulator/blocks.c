/* Block counting: the UC_HOOK_BLOCK callback and its table.
 *
 * The hook runs once per executed translation block, so it does as little
 * as possible: hash the block's address and size into an open-addressing
 * table, bump the count, add the block's instruction count to the running
 * total, and compare that total with one threshold (event_at) behind which
 * everything rare hides (limits, thread switches). A block seen
 * for the first time is decoded once, for its instruction count and mix.
 *
 * Rep-prefixed string instructions need nothing special: QEMU translates
 * one as a block of its own that runs one iteration per entry and is
 * entered once more to find the count exhausted (n + 1 entries for n > 0
 * iterations, 1 for none; repe/repne cmps/scas stopped by the comparison
 * are not re-entered), which is how valgrind's VEX counts them too (measured
 * with callgrind: tests/emulator/test_blocks.c, docs/emulator.md).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* The home slot of a block: its address, folded, so that the blocks of a loop (close in
 * memory) share cache lines of the table; size is part of the key, not of the hash. */
#define HOME(addr, b) (((addr) ^ ((addr) >> 17)) & (b)->mask)
#define MAX_TB_BYTES 16384

static int table_alloc(pve_blocks *b, uint64_t cap)
{
    pve_slot *t = calloc(cap, sizeof *t);
    uint32_t *x = calloc(cap, sizeof *x);
    if (!t || !x) {
        free(t);
        free(x);
        return -1;
    }
    b->tab = t;
    b->tidx = x;
    b->mask = cap - 1;
    b->shift = 64 - (uint32_t)__builtin_ctzll(cap);
    return 0;
}

static uint64_t table_find_free(pve_blocks *b, uint64_t key)
{
    (void)key;
    uint64_t i = HOME(key & ((1ull << 48) - 1), b);
    while (b->tab[i].key && b->tab[i].key != key)
        i = (i + 1) & b->mask;
    return i;
}

/* Rebuild into a table of @p cap slots, keeping the live ones. */
static int table_rebuild(pve_blocks *b, uint64_t cap)
{
    pve_slot *old = b->tab;
    uint32_t *oldx = b->tidx;
    uint64_t n = b->mask + 1;
    if (table_alloc(b, cap)) {
        b->tab = old;
        b->tidx = oldx;
        return -1;
    }
    for (uint64_t i = 0; i < n; i++)
        if (old[i].key) {
            uint64_t j = table_find_free(b, old[i].key);
            b->tab[j] = old[i];
            b->tidx[j] = oldx[i];
        }
    free(old);
    free(oldx);
    b->cur = NULL; /* the memory hook never sees a slot of the old table */
    return 0;
}

int pve_blocks_init(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    if (table_alloc(b, 1 << 12))
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
    free(b->tidx);
    free(b->info);
    free(b->cc);
    pv_decoder_free(b->dec);
    memset(b, 0, sizeof *b);
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
    if ((b->used + 1) * 2 > b->mask + 1 && table_rebuild(b, (b->mask + 1) * 2))
        return NULL;
    if (b->ninfo == b->capinfo) {
        uint32_t cap = b->capinfo ? b->capinfo * 2 : 4096;
        pve_binfo *n = realloc(b->info, cap * sizeof *n);
        if (!n)
            return NULL;
        b->info = n;
        if (e->cache) {
            pve_cache_counts *c = realloc(b->cc, cap * sizeof *c);
            if (!c)
                return NULL;
            memset(c + b->capinfo, 0, (cap - b->capinfo) * sizeof *c);
            b->cc = c;
        }
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
            off += ins.size;
        }
    } else {
        in->ninsns = 1;
        in->mix.n[PV_MIX_OTHER] = 1;
    }
    if (!in->ninsns)
        in->ninsns = 1;
    if (in->ninsns >= 1u << PVE_CW_SHIFT)
        in->ninsns = (1u << PVE_CW_SHIFT) - 1; /* cannot happen: TCG stops a block at 512 instructions */
    uint64_t key = addr | (uint64_t)size << 48;
    uint64_t j = table_find_free(b, key);
    b->tab[j].key = key;
    b->tab[j].cw = in->ninsns;
    b->tidx[j] = b->ninfo++;
    b->used++;
    return &b->tab[j];
}

static void recompute(pv_emu *e);

/* The block the hook is in will not run now (the emulation stops before it):
 * take back its count, and remember where to continue, since Unicorn's RIP
 * is not synced at the start of a chained block. */
static void undo(pv_emu *e, pve_slot *s, uint64_t addr)
{
    s->cw -= 1ull << PVE_CW_SHIFT;
    e->icount -= PVE_CW_NINSNS(s->cw);
    e->resume_pc = addr;
    e->have_resume = 1;
}

/* The rare part of the hook: everything behind event_at. */
static __attribute__((noinline, cold)) void hook_event(pv_emu *e, pve_slot *s, uint64_t addr)
{
    if (e->stop) {
        /* a stop is pending: this block runs after it, do not count it twice */
        undo(e, s, addr);
        return;
    }
    if (e->opts.max_insns && e->icount > e->opts.max_insns) {
        undo(e, s, addr);
        pve_end(e, "limit:insns", -1, "instruction limit reached: %llu instructions ran (--max-insns %llu)",
                (unsigned long long)e->icount, (unsigned long long)e->opts.max_insns);
        return;
    }
    if (__atomic_load_n(&e->timed_out, __ATOMIC_ACQUIRE)) {
        undo(e, s, addr);
        pve_end(e, "limit:time", -1, "time limit reached after %.1f s (--timeout)", e->opts.timeout);
        return;
    }
    if (e->hook_zombie) {
        undo(e, s, addr);
        pve_request_stop(e, PVE_STOP_HOOKS);
        return;
    }
    if (e->sampler) {
        /* the window schedule runs on instructions before this block */
        int want = pve_sample_hooks_on(pve_sampler_step(e->sampler, e->icount - PVE_CW_NINSNS(s->cw)));
        if (want != e->mem_hooked) {
            undo(e, s, addr);
            e->want_mem_hook = want;
            pve_request_stop(e, PVE_STOP_HOOKS);
            return;
        }
    }
    /* a slot ends at the first block after the quantum: every slot runs at least one block */
    if (e->nthreads > 1 && e->icount - PVE_CW_NINSNS(s->cw) >= e->run_start + e->quantum) {
        undo(e, s, addr);
        pve_request_stop(e, PVE_STOP_SWITCH);
        return;
    }
    recompute(e);
}

/* A key that is not in the first slot it hashes to: probe on, or insert; then count. */
static __attribute__((noinline)) void hook_miss(pv_emu *e, uint64_t addr, uint32_t size)
{
    pve_blocks *b = &e->blk;
    if (!size)
        return; /* an emulation stopped before its first instruction (see pve_cache_apply_hooks) */
    uint64_t key = addr | (uint64_t)size << 48;
    uint64_t home = HOME(addr, b), i = home;
    pve_slot *s;
    for (;;) {
        s = &b->tab[i];
        if (s->key == key)
            break;
        if (!s->key) {
            if (!(s = new_block(e, addr, size)))
                return;
            break;
        }
        i = (i + 1) & b->mask;
    }
    if (i != home && PVE_CW_COUNT(s->cw) > PVE_CW_COUNT(b->tab[home].cw)) {
        /* a hot block displaced from its home slot swaps with the colder one there, so the fast
         * path finds it next time; both stay reachable (same run of occupied slots) */
        pve_slot t = b->tab[home];
        uint32_t tx = b->tidx[home];
        b->tab[home] = *s;
        b->tidx[home] = b->tidx[i];
        *s = t;
        b->tidx[i] = tx;
        s = &b->tab[home];
    }
    s->cw += 1ull << PVE_CW_SHIFT;
    b->cur = s;
    e->icount += PVE_CW_NINSNS(s->cw);
    if (e->icount >= e->event_at)
        hook_event(e, s, addr);
}

/* Per executed block: a few shifts, a load that hits, two adds, a compare. The slow paths are tail
 * calls out of line, so this needs no stack frame. */
void pve_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud)
{
    (void)uc;
    pv_emu *e = ud;
    uint64_t key = addr | (uint64_t)size << 48;
    pve_slot *s = &e->blk.tab[HOME(addr, &e->blk)];
    if (PVE_UNLIKELY(s->key != key)) {
        hook_miss(e, addr, size);
        return;
    }
    uint64_t cw = s->cw + (1ull << PVE_CW_SHIFT);
    s->cw = cw;
    e->blk.cur = s;
    uint64_t ic = e->icount + PVE_CW_NINSNS(cw);
    e->icount = ic;
    if (PVE_UNLIKELY(ic >= e->event_at))
        hook_event(e, s, addr);
}

static void recompute(pv_emu *e)
{
    uint64_t at = UINT64_MAX;
    if (e->opts.max_insns)
        at = e->opts.max_insns + 1;
    if (e->nthreads > 1 && e->run_start + e->quantum < at)
        at = e->run_start + e->quantum;
    if (e->sampler && e->sampler->next < at)
        at = e->sampler->next;
    if (__atomic_load_n(&e->timed_out, __ATOMIC_RELAXED) || e->stop || e->hook_zombie)
        at = 0;
    e->event_at = at;
}

void pve_blocks_event(pv_emu *e) { recompute(e); }

void pve_blocks_retire(pv_emu *e, uint64_t lo, uint64_t hi)
{
    pve_blocks *b = &e->blk;
    int any = 0;
    for (uint64_t i = 0; i <= b->mask; i++) {
        pve_slot *s = &b->tab[i];
        if (!s->key)
            continue;
        pve_binfo *in = &b->info[b->tidx[i]];
        if (in->addr < hi && in->addr + in->size > lo) {
            in->retired += PVE_CW_COUNT(s->cw);
            in->flags |= PVE_BLK_RETIRED;
            s->key = 0;
            b->used--;
            any = 1;
        }
    }
    /* linear probing cannot leave holes: rebuild (out of memory: keep the holes; a lookup past
     * one re-decodes its block, and the result merges the duplicate rows) */
    if (any)
        table_rebuild(b, b->mask + 1);
    uc_ctl_remove_cache(e->uc, lo, hi);
}

typedef struct row {
    pv_block_count c;
    uint32_t info;
} row;

static int cmp_count(const void *a, const void *b)
{
    const pv_block_count *x = &((const row *)a)->c, *y = &((const row *)b)->c;
    if (x->object != y->object)
        return x->object < y->object ? -1 : 1;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->ninsns != y->ninsns)
        return x->ninsns < y->ninsns ? -1 : 1;
    return 0;
}

uint32_t pve_blocks_info_of(pv_emu *e, const pve_slot *s) { return e->blk.tidx[s - e->blk.tab]; }

int pve_blocks_result(pv_emu *e, pv_dynamic *d, uint32_t **row_of_info)
{
    int rc = PV_OK;
    pve_blocks *b = &e->blk;
    uint64_t *counts = calloc(b->ninfo ? b->ninfo : 1, sizeof *counts);
    uint32_t *rowof = malloc((b->ninfo ? b->ninfo : 1) * sizeof *rowof);
    row *rows = NULL;
    if (!counts || !rowof)
        goto nomem;
    for (uint32_t i = 0; i < b->ninfo; i++) {
        counts[i] = b->info[i].retired;
        rowof[i] = PV_NONE;
    }
    for (uint64_t i = 0; i <= b->mask; i++)
        if (b->tab[i].key)
            counts[b->tidx[i]] += PVE_CW_COUNT(b->tab[i].cw);
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->ninfo; i++)
        n += counts[i] != 0;
    if (!(rows = calloc(n ? n : 1, sizeof *rows)))
        goto nomem;
    n = 0;
    d->insns = 0;
    for (uint32_t i = 0; i < b->ninfo; i++) {
        if (!counts[i])
            continue;
        const pve_binfo *in = &b->info[i];
        row *r = &rows[n++];
        r->info = i;
        r->c.object = in->obj;
        r->c.addr = in->link;
        r->c.ninsns = in->ninsns;
        r->c.count = counts[i];
        uint64_t ins = (uint64_t)in->ninsns * counts[i];
        d->insns += ins;
        pv_mix64_add_scaled(&d->mix, &in->mix, counts[i]);
        if (in->obj < e->nobjs && e->objs[in->obj].is_target) {
            d->target_insns += ins;
            pv_mix64_add_scaled(&d->target_mix, &in->mix, counts[i]);
        }
    }
    /* sorted by object and address; one row per block (a block retranslated after its code was
     * remapped has two entries) */
    qsort(rows, n, sizeof *rows, cmp_count);
    if (!(d->counts = calloc(n ? n : 1, sizeof *d->counts)))
        goto nomem;
    d->ncounts = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (d->ncounts && !cmp_count(&rows[i - 1], &rows[i])) {
            d->counts[d->ncounts - 1].count += rows[i].c.count;
        } else {
            d->counts[d->ncounts++] = rows[i].c;
        }
        rowof[rows[i].info] = d->ncounts - 1;
    }
    *row_of_info = rowof;
    rowof = NULL;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
done:
    free(counts);
    free(rowof);
    free(rows);
    return rc;
}
