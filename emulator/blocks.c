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
#include <math.h>
#include <stdio.h>
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
    free(b->sites);
    free(b->bmiss);
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
        if (e->bsim) {
            pve_branch_site *bs = realloc(b->sites, cap * sizeof *bs);
            if (!bs)
                return NULL;
            b->sites = bs;
            uint64_t *bm = realloc(b->bmiss, cap * sizeof *bm);
            if (!bm)
                return NULL;
            memset(bm + b->capinfo, 0, (cap - b->capinfo) * sizeof *bm);
            b->bmiss = bm;
        }
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
    pv_insn ins;
    int last_ok = 0; /* ins holds the block's last instruction */
    if (pve_mem_read(e, addr, code, n) == 0) {
        uint32_t off = 0;
        while (off < n) {
            if (pv_decode_insn(b->dec, code + off, n - off, addr + off, &ins) || !ins.size) {
                /* bytes Capstone does not know but the engine executed: one instruction of class other */
                in->ninsns++;
                in->mix.n[PV_MIX_OTHER]++;
                last_ok = 0;
                break;
            }
            pv_insn_add_to_mix(&ins, &in->mix);
            in->ninsns++;
            off += ins.size;
            last_ok = 1;
        }
    } else {
        in->ninsns = 1;
        in->mix.n[PV_MIX_OTHER] = 1;
    }
    if (!in->ninsns)
        in->ninsns = 1;
    if (e->bsim)
        /* TCG ends a translation block at its first control-flow instruction: the block's last
         * instruction is the branch that leaves it (or none, at a page boundary or size limit) */
        pve_branch_site_of(last_ok ? &ins : NULL, addr + size, &b->sites[b->ninfo]);
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

/* Branch simulation: the block that ran before this one (same thread) ended with a branch that came
 * here. Runs only for blocks that do run (after the checks that may take a block back). */
static __attribute__((noinline)) void branch_step(pv_emu *e, pve_slot *s, uint64_t addr)
{
    pve_blocks *b = &e->blk;
    uint32_t prev = e->bprev;
    e->bprev = b->tidx[s - b->tab];
    if (prev != PVE_NO_BLOCK && b->sites[prev].kind != PVE_BR_NONE &&
        pve_branch_next(e->bsim, &b->sites[prev], addr) && e->bs_counting)
        b->bmiss[prev]++;
}

/* Sampled branch simulation: the first period is simulated in full, and its counts are kept apart
 * (an exact stratum: short runs are simulated in full, and long ones do not weigh their start-up by the
 * sampling schedule); the rest in periodic windows. Out of memory for the copy: the first period's
 * per-block figures stay in bmiss, counted as if sampled (only the attribution suffers). */
static void branch_split(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    e->bs_split = 1;
    pve_branch_get_stats(e->bsim, &e->bs_st0);
    pve_branch_reset_stats(e->bsim);
    if (b->ninfo && (e->bmiss0 = malloc(b->ninfo * sizeof *e->bmiss0))) {
        memcpy(e->bmiss0, b->bmiss, b->ninfo * sizeof *e->bmiss0);
        memset(b->bmiss, 0, b->ninfo * sizeof *b->bmiss);
        e->nbmiss0 = b->ninfo;
    }
}

/* Sampled branch simulation: the phase at instruction count @p now (before the block about to run). */
static void branch_schedule(pv_emu *e, uint64_t now)
{
    int on, counting;
    if (now < e->bs_period) {
        on = 1, counting = 1;
        e->bs_next = e->bs_period;
    } else {
        if (!e->bs_split)
            branch_split(e);
        uint64_t pos = now % e->bs_period, base = now - pos;
        if (pos < e->bs_warmup) {
            on = 1, counting = 0;
            e->bs_next = base + e->bs_warmup;
        } else if (pos < e->bs_warmup + e->bs_measure) {
            on = 1, counting = 1;
            e->bs_next = base + e->bs_warmup + e->bs_measure;
        } else {
            on = 0, counting = 0;
            e->bs_next = base + e->bs_period;
        }
    }
    if (on && !e->bs_on) {
        /* the blocks before this one were not watched, in any thread */
        e->bprev = PVE_NO_BLOCK;
        for (uint32_t i = 0; i < e->nthreads; i++)
            e->threads[i]->bprev = PVE_NO_BLOCK;
    }
    e->bs_on = on;
    if (counting != e->bs_counting)
        pve_branch_set_counting(e->bsim, counting);
    e->bs_counting = counting;
}

/* Per-block work beyond counting, for blocks that run while a simulation wants it: executions during
 * measured cache windows (the per-block extrapolation of sampled cache figures), and branch prediction. */
static __attribute__((noinline)) void extras(pv_emu *e, pve_slot *s, uint64_t addr)
{
    if ((e->hook_extra & PVE_EXTRA_CACHE) && e->blk.cc)
        e->blk.cc[e->blk.tidx[s - e->blk.tab]].execs++;
    if (e->hook_extra & PVE_EXTRA_BRANCH)
        branch_step(e, s, addr);
}

void pve_blocks_extras(pv_emu *e)
{
    e->hook_extra = (e->bs_on ? PVE_EXTRA_BRANCH : 0) |
                    (e->cache && pve_cache_counting(e->cache) ? PVE_EXTRA_CACHE : 0);
}

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
        pve_blocks_extras(e); /* counting may have changed; also when the emulation stops below */
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
    if (e->bsim && e->bs_period && e->icount - PVE_CW_NINSNS(s->cw) >= e->bs_next)
        branch_schedule(e, e->icount - PVE_CW_NINSNS(s->cw));
    pve_blocks_extras(e);
    recompute(e);
    if (e->hook_extra)
        extras(e, s, addr);
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
    else if (e->hook_extra)
        extras(e, s, addr);
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
    if (PVE_UNLIKELY(ic >= e->event_at)) {
        hook_event(e, s, addr);
        return;
    }
    if (e->hook_extra)
        extras(e, s, addr);
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
    if (e->bsim && e->bs_period && e->bs_next < at)
        at = e->bs_next;
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

/* Sampled branch simulation (PV_EMU_BRANCH_SAMPLED): a window every PERIOD instructions, WARMUP of them
 * training the predictor without counting, then MEASURE counted (docs/emulator.md has the measurements
 * behind these figures). */
#define BS_PERIOD 4000000u
#define BS_WARMUP 200000u
#define BS_MEASURE 100000u

int pve_branch_setup(pv_emu *e, int mode)
{
    e->bprev = PVE_NO_BLOCK;
    if (mode == PV_EMU_BRANCH_OFF)
        return PV_OK;
    if (mode != PV_EMU_BRANCH_FULL && mode != PV_EMU_BRANCH_SAMPLED)
        return pv_error_set(PV_ERR_INVALID, "emulator: unknown branch simulation mode %d (off, full or sampled)",
                            mode);
    int rc = pve_branch_new(&e->bsim);
    if (rc)
        return rc;
    if (mode == PV_EMU_BRANCH_SAMPLED) {
        e->bs_period = BS_PERIOD;
        e->bs_warmup = BS_WARMUP;
        e->bs_measure = BS_MEASURE;
        /* PVE_BENCH_BRANCH_SCHEDULE=P,W,U: another schedule, for bench/ (measuring the trade-off) */
        const char *sch = getenv("PVE_BENCH_BRANCH_SCHEDULE");
        unsigned long long p, w, u;
        if (sch && sscanf(sch, "%llu,%llu,%llu", &p, &w, &u) == 3 && u && p && w + u <= p) {
            e->bs_period = p;
            e->bs_warmup = w;
            e->bs_measure = u;
        }
        e->bs_next = 0; /* the first block sets the phase */
        e->bs_on = 0;
        e->bs_counting = 0;
        pve_branch_set_counting(e->bsim, 0);
    } else {
        e->bs_on = 1;
        e->bs_counting = 1;
    }
    pve_blocks_extras(e);
    return PV_OK;
}

uint64_t *pve_blocks_counts(pv_emu *e)
{
    pve_blocks *b = &e->blk;
    uint64_t *counts = calloc(b->ninfo ? b->ninfo : 1, sizeof *counts);
    if (!counts)
        return NULL;
    for (uint32_t i = 0; i < b->ninfo; i++)
        counts[i] = b->info[i].retired;
    for (uint64_t i = 0; i <= b->mask; i++)
        if (b->tab[i].key)
            counts[b->tidx[i]] += PVE_CW_COUNT(b->tab[i].cw);
    return counts;
}

/* Whole-run estimate of one kind's mispredictions: the first period exactly (m0 of n0), the rest
 * (n - n0 executed) at the rate of its measured windows (m1 of n1); with no window measured there,
 * at the first period's rate. *factor receives the scale of a measured window's misprediction. */
static double estimate(uint64_t n, uint64_t n0, uint64_t m0, uint64_t n1, uint64_t m1, double *factor)
{
    uint64_t rest = n > n0 ? n - n0 : 0;
    *factor = 0;
    if (!rest)
        return (double)m0;
    if (n1) {
        *factor = (double)rest / (double)n1;
        return (double)m0 + (double)m1 * *factor;
    }
    return n0 ? (double)m0 * (double)n / (double)n0 : 0;
}

int pve_blocks_branch_result(pv_emu *e, pv_dynamic *d, const uint32_t *row_of_info)
{
    pve_blocks *b = &e->blk;
    if (!e->bsim)
        return PV_OK;
    uint64_t *counts = pve_blocks_counts(e);
    if (!counts)
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    /* executed branches of each kind, exact: every block ends with at most one */
    uint64_t cond = 0, ind = 0;
    for (uint32_t i = 0; i < b->ninfo; i++) {
        uint32_t k = b->sites[i].kind;
        if (k == PVE_BR_COND)
            cond += counts[i];
        else if (k == PVE_BR_IJUMP || k == PVE_BR_ICALL)
            ind += counts[i];
    }
    pve_branch_stats s0 = {0}, s1;
    pve_branch_get_stats(e->bsim, &s1);
    if (e->bs_split)
        s0 = e->bs_st0;
    else
        s0 = s1, memset(&s1, 0, sizeof s1);
    double fc, fi, fr;
    pv_branch_stats *br = &d->branches;
    d->has_branches = 1;
    snprintf(br->model, sizeof br->model, "%s", pve_branch_model());
    br->cond = cond;
    br->indirect = ind;
    br->cond_miss = (uint64_t)llround(estimate(cond, s0.cond, s0.cond_miss, s1.cond, s1.cond_miss, &fc));
    br->indirect_miss =
        (uint64_t)llround(estimate(ind, s0.indirect, s0.indirect_miss, s1.indirect, s1.indirect_miss, &fi));
    fr = s1.cond + s1.indirect ? (double)(cond + ind - s0.cond - s0.indirect) / (double)(s1.cond + s1.indirect) : 0;
    /* simulated branches (both kinds) over executed ones; a run without branches had nothing to miss */
    uint64_t sim = s0.cond + s0.indirect + s1.cond + s1.indirect;
    br->sampled_fraction = cond + ind ? (double)sim / (double)(cond + ind) : 1.0;
    if (br->sampled_fraction > 1 || !e->bs_period)
        br->sampled_fraction = 1;
    if (br->sampled_fraction <= 0)
        br->sampled_fraction = 1e-9; /* branches ran but none was simulated (a run shorter than a block) */
    free(e->brows);
    e->nbrows = 0;
    if (!(e->brows = calloc(d->ncounts ? d->ncounts : 1, sizeof *e->brows))) {
        free(counts);
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < b->ninfo; i++) {
        if (row_of_info[i] == PV_NONE)
            continue;
        pv_emu_block_branch *r = &e->brows[row_of_info[i]];
        uint32_t k = b->sites[i].kind;
        double f;
        switch (k) {
        case PVE_BR_COND: r->kind = PV_FLOW_COND, f = fc; break;
        case PVE_BR_IJUMP: r->kind = PV_FLOW_IJUMP, f = fi; break;
        case PVE_BR_ICALL: r->kind = PV_FLOW_ICALL, f = fi; break;
        case PVE_BR_RET: r->kind = PV_FLOW_RET, f = fr; break;
        default: continue;
        }
        r->executed += counts[i];
        if (e->bs_split)
            r->mispredicted += (i < e->nbmiss0 ? (double)e->bmiss0[i] : 0) + (double)b->bmiss[i] * f;
        else
            r->mispredicted += (double)b->bmiss[i]; /* every branch was simulated */
    }
    e->nbrows = d->ncounts;
    free(counts);
    return PV_OK;
}
