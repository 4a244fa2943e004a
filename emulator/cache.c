/* Cache simulation in the emulator: the memory hook that feeds the
 * simulator (cachesim.c), and its schedule (sampling.c).
 *
 * A Unicorn memory hook sends every guest load and store through Unicorn's
 * slow path, and a hook added or removed takes effect only in code
 * translated afterwards. So the hook is installed only while the cache is
 * simulated: from the start in full mode, for each window in sampled mode,
 * and every change flushes the translation cache (the block hook stops the
 * emulation before the block where a window opens or closes; the run loop
 * changes the hook, flushes, and resumes at that block). Each access is
 * charged to the block that made it (the block hook records the block it
 * is in), which gives the per-block figures of the profile. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

static void hook_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ud)
{
    (void)uc;
    (void)value;
    pv_emu *e = ud;
    pve_slot *s = e->blk.cur;
    pve_cache_counts *b = s && e->blk.cc ? &e->blk.cc[pve_blocks_info_of(e, s)] : NULL;
    pve_cache_access_count(e->cache, addr, (uint32_t)size, type == UC_MEM_WRITE, b);
}

/* Pages whose first touch the simulator saw since the memory hook went on (born), and pages it found
 * touched before: every line of a born page that the simulator has not seen is touched for the first
 * time (the whole history of the page is observed); a page touched before stays so (no system call per
 * line). A small table (page + 1) << 1 | born, cleared when the hook goes on; when full, later pages are
 * asked again (born ones then look touched before: their lines count as re-references, conservative). */
#define BORN_CAP 16384u

/* @return 1 born, 0 touched before, -1 not in the table (added as @p add when @p add >= 0 and there is room) */
static int born_find(pv_emu *e, uint64_t page, int add)
{
    uint64_t key = (page + 1) << 1;
    uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 50) & (BORN_CAP - 1);
    while (e->born[i]) {
        if ((e->born[i] & ~1ull) == key)
            return (int)(e->born[i] & 1);
        i = (i + 1) & (BORN_CAP - 1);
    }
    if (add >= 0 && e->nborn < BORN_CAP / 2) {
        e->born[i] = key | (uint64_t)add;
        e->nborn++;
    }
    return -1;
}

/* pve_cache_config.first_touch: is the cold line at @p addr touched for the first time in the run? Yes when
 * its page was born in this window, or has never been touched: a host page becomes resident when first
 * touched (mincore), and Unicorn calls the memory hook before the access. File-backed pages are resident
 * in the page cache whatever the guest did: their lines count as re-references. */
static int first_touch(void *ctx, uint64_t addr)
{
    pv_emu *e = ctx;
    uint64_t page = addr / PVE_PAGE;
    if (!e->born)
        return 0;
    int known = born_find(e, page, -1);
    if (known >= 0)
        return known;
    pve_vma *v = pve_mem_find(e, addr);
    unsigned char vec = 1;
    if (v && mincore(v->host + (PVE_PAGE_DOWN(addr) - v->start), PVE_PAGE, &vec))
        vec = 1;
    int born = v && !(vec & 1);
    born_find(e, page, born);
    return born;
}

int pve_cache_apply_hooks(pv_emu *e)
{
    if (!e->cache)
        return PV_OK;
    if (e->hook_zombie) {
        /* The hook deleted before the last uc_emu_start is gone now: Unicorn only marks a deleted
         * hook and drops it when an emulation ends, so the code translated meanwhile still had
         * the slow path. Translate again without it. */
        uc_ctl_flush_tb(e->uc);
        uc_ctl_flush_tlb(e->uc);
        e->hook_zombie = 0;
    }
    if (e->want_mem_hook == e->mem_hooked)
        return PV_OK;
    uc_err err;
    if (e->want_mem_hook)
        err = uc_hook_add(e->uc, &e->h_mem, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)hook_mem, e, 1, 0);
    else
        err = uc_hook_del(e->uc, e->h_mem);
    if (err)
        return pv_error_set(PV_ERR_BACKEND, "emulator: cannot %s the memory hook: %s",
                            e->want_mem_hook ? "add" : "remove", uc_strerror(err));
    e->mem_hooked = e->want_mem_hook;
    if (!e->want_mem_hook) {
        /* a deletion completes at the end of the next emulation: stop it at its first block and
         * flush then (a flush now would retranslate with the dying hook) */
        e->hook_zombie = 1;
        return PV_OK;
    }
    /* a new window: pages touched from now on while unobserved were born before it */
    if (e->born) {
        memset(e->born, 0, BORN_CAP * sizeof *e->born);
        e->nborn = 0;
    }
    /* code translated without the hook must go, and so must the TLB entries filled without the
     * mark that sends accesses to the slow path where the hook runs */
    uc_ctl_flush_tb(e->uc);
    uc_ctl_flush_tlb(e->uc);
    return PV_OK;
}

int pve_cache_setup(pv_emu *e)
{
    const pv_emu_options *o = &e->opts;
    if (o->cache == PV_EMU_CACHE_OFF)
        return PV_OK;
    if (o->cache != PV_EMU_CACHE_FULL && o->cache != PV_EMU_CACHE_SAMPLED)
        return pv_error_set(PV_ERR_INVALID, "emulator: unknown cache mode %d (off, full or sampled)", o->cache);
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    if (o->cache_nlevels) {
        if (o->cache_nlevels > PVE_CACHE_MAXLEVELS || o->cache_nlevels > PV_CACHE_MAX_LEVELS)
            return pv_error_set(PV_ERR_INVALID, "emulator: %u cache levels, at most %d", o->cache_nlevels,
                                PVE_CACHE_MAXLEVELS);
        cfg.nlevels = o->cache_nlevels;
        for (uint32_t i = 0; i < cfg.nlevels; i++) {
            pve_cache_level_config *l = &cfg.levels[i];
            memcpy(l->name, o->cache_levels[i].name, sizeof l->name);
            l->name[sizeof l->name - 1] = 0;
            l->size = o->cache_levels[i].size;
            l->line = o->cache_levels[i].line;
            l->assoc = o->cache_levels[i].assoc;
        }
    } else {
        pve_cache_config_default(&cfg);
    }
    /* sampled: a miss to a line the simulator never saw may be a hit the program had while it was not looking */
    cfg.track_cold = o->cache == PV_EMU_CACHE_SAMPLED;
    if (cfg.track_cold && (e->born = calloc(BORN_CAP, sizeof *e->born))) {
        cfg.first_touch = first_touch;
        cfg.first_touch_ctx = e;
    }
    int rc = pve_cache_new(&e->cache, &cfg);
    if (rc)
        return rc;
    if (o->cache == PV_EMU_CACHE_SAMPLED) {
        pve_sampler_options so = PVE_SAMPLER_OPTIONS_INIT;
        if (o->sample_period)
            so.period = o->sample_period;
        if (o->sample_warmup)
            so.warmup = o->sample_warmup;
        if (o->sample_measure)
            so.measure = o->sample_measure;
        so.jitter = 1;
        if ((rc = pve_sampler_new(&e->sampler, &so, e->cache)))
            return rc;
        e->want_mem_hook = pve_sample_hooks_on(pve_sampler_step(e->sampler, 0));
    } else {
        e->want_mem_hook = 1;
    }
    pve_blocks_extras(e);
    return pve_cache_apply_hooks(e);
}

void pve_cache_fini(pv_emu *e)
{
    free(e->born);
    e->born = NULL;
    pve_sampler_free(e->sampler);
    pve_cache_free(e->cache);
    e->sampler = NULL;
    e->cache = NULL;
}

int pve_cache_result(pv_emu *e, pv_dynamic *d, const uint32_t *row_of_info)
{
    if (!e->cache)
        return PV_OK;
    pve_estimate est;
    int rc = PV_OK;
    if (e->sampler) {
        /* per-block figures: the exact block counts weigh what the windows measured per block */
        pve_sample_aux aux = {0};
        uint64_t *counts = pve_blocks_counts(e);
        pve_block_sample *bs = counts ? calloc(e->blk.ninfo ? e->blk.ninfo : 1, sizeof *bs) : NULL;
        aux.footprint_bytes = d->mem_touched;
        for (uint32_t i = 0; bs && e->blk.cc && i < e->blk.ninfo; i++) {
            if (!e->blk.cc[i].execs)
                continue;
            bs[aux.nblocks].count = counts[i];
            bs[aux.nblocks].cc = &e->blk.cc[i];
            aux.nblocks++;
            aux.block_units += counts[i] * e->blk.info[i].ninsns;
        }
        aux.blocks = bs;
        rc = pve_sampler_finish_aux(e->sampler, e->icount, &aux, &est);
        free(bs);
        free(counts);
        if (rc && rc != PV_ERR_NOMEM)
            return rc;
    }
    if ((rc = pve_cache_stats_to_profile(e->cache, e->sampler ? &est : NULL, &d->caches, &d->ncaches)))
        return rc;
    if (!d->ncounts || !e->blk.cc)
        return PV_OK;
    if (!(d->block_cache = calloc(d->ncounts, sizeof *d->block_cache)))
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < e->blk.ninfo; i++) {
        if (row_of_info[i] == PV_NONE)
            continue;
        pv_block_cache one, *to = &d->block_cache[row_of_info[i]];
        pve_cache_counts_to_profile(&e->blk.cc[i], &one);
        to->dr += one.dr;
        to->dw += one.dw;
        for (int k = 0; k < PV_CACHE_MAX_LEVELS; k++) {
            to->mr[k] += one.mr[k];
            to->mw[k] += one.mw[k];
        }
    }
    return PV_OK;
}
