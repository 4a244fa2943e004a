/* Host run-time prediction from a profile's dynamic section, static
 * profiles of the run's objects, and a machine model. docs/costmodel.md
 * has the derivation; in short, the run is cut into groups (a loop's own
 * blocks, a function's blocks outside loops, the code of an object without
 * static profile) and each group is a roofline with three roofs:
 *
 *   core    = max(throughput cycles of its blocks,            static, calibrated table
 *                 iterations x loop-carried recurrence)
 *           + its share of branch mispredictions x penalty    simulated, calibrated
 *           + chain: iterations x (recurrence with the loads'  static probes, simulated
 *                    average latency - recurrence at L1)        misses, calibrated sweep
 *   memory  = its other misses beyond L1, each at the level that served it:
 *             sequential ones at bandwidth, the rest at the calibrated cost
 *             of independent random loads (memory-level parallelism)
 *   time    = max(core, memory)        (low end of the interval: the same
 *                                       with optimistic figures; high end:
 *                                       core + memory, throughput + recurrence,
 *                                       pessimistic figures)
 *
 * plus first-touch page faults and page release, file I/O from the bytes
 * and calls at calibrated rates, other system calls, thread creation and
 * process start-up; threads divide the CPU part by the work of the busiest
 * one. No constant here depends on a sample: every figure is the machine
 * model's or the profile's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prevision/analyzer.h"

enum { LO = 0, MID = 1, HI = 2 };

/* The three values of a measured figure for the low, mid and high ends of
 * the interval: a time (ns, cycles) is optimistic at its min, a rate (GB/s,
 * GHz) at its max. 0 when not measured. */
static void t3(const pv_stat *s, double out[3])
{
    if (!s->reps || !(s->median > 0)) {
        out[LO] = out[MID] = out[HI] = 0;
        return;
    }
    out[LO] = s->min > 0 ? s->min : s->median;
    out[MID] = s->median;
    out[HI] = s->max > 0 ? s->max : s->median;
}

static void r3(const pv_stat *s, double out[3])
{
    if (!s->reps || !(s->median > 0)) {
        out[LO] = out[MID] = out[HI] = 0;
        return;
    }
    out[LO] = s->max > 0 ? s->max : s->median;
    out[MID] = s->median;
    out[HI] = s->min > 0 ? s->min : s->median;
}

static const pv_mem_level *mem_level(const pv_machine *m, const char *name)
{
    for (uint32_t i = 0; i < m->nmem_levels; i++)
        if (!strcasecmp(m->mem_levels[i].name, name))
            return &m->mem_levels[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Costs of one miss served at one level                               */
/* ------------------------------------------------------------------ */

typedef struct serve {
    double lat[3];   /* ns of a dependent load served here, minus an L1 hit */
    double full[3];  /* ns of a dependent load served here */
    double win[3];   /* ns of a random load served here with PV_WINDOW_INSNS instructions of other work */
    double rnd[3];   /* ns of an independent random load served here */
    double bw_r[3], bw_w[3], bw_t[3]; /* GB/s: read, write, triad */
} serve;

/* Log-size interpolation of the latency sweep (which 0: dependent chase,
 * 1: independent random loads, 2: random loads with independent work) at
 * working set `size`, for end k. 0 when the sweep lacks the figure. */
static double sweep_at(const pv_machine *m, double size, int which, int k)
{
    double v[3];
    int have = 0;
    double x0 = 0, y0 = 0;
    for (uint32_t i = 0; i < m->nmem_points; i++) {
        const pv_mem_point *pt = &m->mem_points[i];
        t3(which == 2 ? &pt->window_ns : which ? &pt->random_ns : &pt->ns, v);
        if (!(v[k] > 0))
            continue;
        double x = log((double)pt->size), y = v[k];
        if (!have) {
            if (size <= (double)pt->size)
                return y;
            have = 1;
        } else if (size <= (double)pt->size) {
            double t = (log(size) - x0) / (x - x0);
            return y0 + t * (y - y0);
        }
        x0 = x;
        y0 = y;
    }
    return have ? y0 : 0;
}

/* The write fraction w of a level's misses picks the bandwidth: reads at
 * w = 0, triad (two reads, one write) at 1/3, writes at 1. */
static double bw_for(const serve *s, int k, double w)
{
    double r = s->bw_r[k], t = s->bw_t[k] > 0 ? s->bw_t[k] : r, wr = s->bw_w[k] > 0 ? s->bw_w[k] : r;
    if (w <= 1.0 / 3)
        return r + (t - r) * w * 3;
    return t + (wr - t) * (w - 1.0 / 3) * 1.5;
}

/* Levels served after each simulated level: serve[j] for misses of level
 * j served by level j + 1 (or DRAM after the last). */
static void serve_costs(const pv_dynamic *d, const pv_machine *m, double footprint, double par, serve *sv)
{
    double l1[3];
    for (int k = 0; k < 3; k++)
        l1[k] = sweep_at(m, 4096, 0, k);
    for (uint32_t j = 0; j < d->ncaches; j++) {
        serve *s = &sv[j];
        memset(s, 0, sizeof *s);
        const pv_cache_stats *here = &d->caches[j];
        int dram = j + 1 >= d->ncaches;
        /* The working set the served accesses see: beyond this level, within
         * the next one (its half, where a sweep point is mostly hits), or,
         * for memory, the program's footprint (latency grows with it: TLB). */
        double lo = 2.0 * (double)here->size, size;
        if (dram) {
            size = footprint > lo ? footprint : lo;
        } else {
            double hi = 0.5 * (double)d->caches[j + 1].size;
            size = footprint < lo ? lo : footprint > hi ? hi : footprint;
            if (size < lo)
                size = lo;
        }
        for (int k = 0; k < 3; k++) {
            /* The low end: a cache level's served misses at its own edge (twice
             * the level above). The footprint bounds the working set of the
             * code that misses from above, not from below, and where a VM's
             * share of a shared cache moves (a chase over 6.4 MB ran 12 ms and
             * 53 ms natively in two runs of the accuracy benchmark), the
             * interval must hold both. */
            double at = k == LO && !dram ? lo : size;
            double lat = sweep_at(m, at, 0, k);
            s->full[k] = lat;
            s->lat[k] = lat > l1[k] ? lat - l1[k] : 0;
            s->rnd[k] = sweep_at(m, at, 1, k);
            s->win[k] = sweep_at(m, at, 2, k);
        }
        const pv_mem_level *ml = dram ? &m->mem_levels[m->nmem_levels - 1] : mem_level(m, d->caches[j + 1].name);
        if (!ml && m->nmem_levels)
            ml = &m->mem_levels[m->nmem_levels - 1];
        if (ml) {
            r3(&ml->read_gbs, s->bw_r);
            r3(&ml->write_gbs, s->bw_w);
            r3(&ml->triad_gbs, s->bw_t);
            if (par > 1) {
                /* Threads share what all cores together get. */
                double all_r[3], all_t[3];
                r3(&ml->read_gbs_all, all_r);
                r3(&ml->triad_gbs_all, all_t);
                for (int k = 0; k < 3; k++) {
                    if (all_r[k] > 0 && all_r[k] < par * s->bw_r[k])
                        s->bw_r[k] = all_r[k] / par;
                    if (all_t[k] > 0 && all_t[k] < par * s->bw_t[k])
                        s->bw_t[k] = all_t[k] / par;
                }
            }
        }
        for (int k = 0; k < 3; k++) {
            /* An older machine model without random loads: independent
             * misses at the level's read bandwidth, one line each. */
            if (!(s->rnd[k] > 0) && s->bw_r[k] > 0)
                s->rnd[k] = (double)(here->line ? here->line : 64) / s->bw_r[k];
            if (!(s->bw_r[k] > 0))
                s->bw_r[k] = s->bw_w[k] = s->bw_t[k] = 10; /* GB/s: stated in docs/costmodel.md */
        }
    }
}

/* ------------------------------------------------------------------ */
/* Groups                                                              */
/* ------------------------------------------------------------------ */

typedef struct group {
    const pv_profile *s; /* static profile it comes from (for messages), NULL */
    uint32_t idx;        /* loop index, or function index + nloops, in s */
    double t_mid;        /* its time at mid, ns (for the debug listing) */
    double tp;        /* throughput cycles (sum over executions of the blocks' static cycles) */
    double insns;     /* instructions executed */
    double nest_insns, nest_m0; /* with the loops nested in it: instructions, L1 misses */
    double iters;     /* loop iterations (executions of the header), 0 outside loops */
    double cpi[3];    /* cycles per iteration at the calibrated load latency and the two probes */
    int loop;         /* 1: a loop with cpi[0] */
    double cond;      /* conditional branches executed */
    double acc;       /* data accesses (reads + writes) */
    double bytes;     /* bytes accessed */
    double rd;        /* data reads */
    double m[PV_CACHE_MAX_LEVELS];  /* misses (read + write) per level */
    double mr[PV_CACHE_MAX_LEVELS]; /* read misses per level */
    double mw[PV_CACHE_MAX_LEVELS];
} group;

/* One object of the run and its static profiles. */
typedef struct objinfo {
    const pv_profile *s, *pr[2];
    uint32_t *inner;   /* per static block: innermost loop index, PV_NONE */
    double *exec;      /* per static block: executions */
    uint32_t g0;       /* first group: loops, then functions */
    int probes_ok[2];  /* the probe profiles list the same loops */
} objinfo;

static int probes_match(const pv_profile *s, const pv_profile *q)
{
    if (!q || q->nloops != s->nloops)
        return 0;
    for (uint32_t i = 0; i < s->nloops; i++)
        if (q->loops[i].header != s->loops[i].header)
            return 0;
    return 1;
}

static void obj_free(objinfo *o, uint32_t n)
{
    for (uint32_t i = 0; o && i < n; i++) {
        free(o[i].inner);
        free(o[i].exec);
    }
    free(o);
}

/* Cycles per iteration of a loop at load latency L0 + x (x >= 0 cycles
 * above the calibrated one): the recurrence is a maximum of lines in the
 * load latency (one per dependency chain); between the measured points it
 * is taken as linear, beyond the last one it grows at the last slope. */
static double cpi_at(const group *g, const float probe[2], double x)
{
    if (!g->loop)
        return 0;
    if (x <= 0 || !(probe[0] > 0))
        return g->cpi[0];
    if (x <= probe[0])
        return g->cpi[0] + (g->cpi[1] - g->cpi[0]) * x / probe[0];
    double slope = probe[1] > probe[0] ? (g->cpi[2] - g->cpi[1]) / (probe[1] - probe[0])
                                       : (g->cpi[1] - g->cpi[0]) / probe[0];
    if (slope < 0)
        slope = 0;
    return g->cpi[1] + slope * (x - probe[0]);
}

/* The group of the target's code without static blocks (or the extra one). */
static uint32_t unclaimed(const pv_dynamic *d, const objinfo *ob, uint32_t extra)
{
    for (uint32_t i = 0; i < d->nobjects; i++)
        if (d->objects[i].is_target)
            return ob[i].g0 + (ob[i].s ? ob[i].s->nloops + ob[i].s->nfunctions : 0);
    return d->nobjects ? ob[0].g0 + (ob[0].s ? ob[0].s->nloops + ob[0].s->nfunctions : 0) : extra;
}

int pv_predict(const pv_profile *p, const pv_machine *m, pv_prediction *out)
{
    return pv_predict_ex(p, m, NULL, out);
}

int pv_predict_ex(const pv_profile *p, const pv_machine *m, const pv_predict_options *opts, pv_prediction *out)
{
    pv_predict_options defaults = PV_PREDICT_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!p || !m || !out || opts->version != PV_PREDICT_OPTIONS_VERSION)
        return pv_error_set(PV_ERR_INVALID, "pv_predict: NULL argument or options of another version");
    memset(out, 0, sizeof *out);
    const pv_dynamic *d = p->dynamic;
    if (!d)
        return pv_error_set(PV_ERR_INVALID, "%s: the profile has no dynamic section; run 'prevision profile' on "
                            "the program first", p->target.path ? p->target.path : "profile");
    int rc = PV_OK;
    objinfo *ob = NULL;
    group *gs = NULL;
    pv_uarch u;
    pv_machine_uarch(m, &u, NULL);
    /* System calls are costed as such, not as instructions of a block. */
    u.rthroughput[PV_MIX_SYSCALL] = u.latency[PV_MIX_SYSCALL] = 0;

    double ghz[3];
    r3(&m->clock_ghz, ghz);
    if (!(ghz[MID] > 0)) {
        pv_log(PV_LOG_WARN, "machine model has no effective clock; assuming 1 GHz (re-run 'prevision calibrate')");
        ghz[LO] = ghz[MID] = ghz[HI] = 1.0;
    }
    out->ghz = ghz[MID];
    out->insns = d->insns;

    /* Threads: the busiest thread bounds the parallel part. */
    double par = 1;
    uint64_t maxi = 0, sum = 0;
    for (uint32_t i = 0; i < d->nthreads; i++) {
        sum += d->threads[i].insns;
        if (d->threads[i].insns > maxi)
            maxi = d->threads[i].insns;
    }
    if (d->nthreads > 1 && maxi) {
        par = (double)sum / (double)maxi;
        double pus = m->topo.npus ? m->topo.npus : 1;
        if (par > pus)
            par = pus;
    }
    out->parallel_factor = par;
    double footprint = (double)(d->mem_touched ? d->mem_touched : d->mem_peak);
    out->footprint = footprint;

    /* Objects and their static profiles. */
    uint32_t nobj = d->nobjects;
    ob = calloc(nobj ? nobj : 1, sizeof *ob);
    if (!ob)
        goto nomem;
    uint32_t ngroups = 0;
    for (uint32_t i = 0; i < nobj; i++) {
        objinfo *o = &ob[i];
        if (i < opts->nstatics && opts->statics)
            o->s = opts->statics[i];
        else if (!opts->statics && d->objects[i].is_target && p->nblocks)
            o->s = p;
        for (int k = 0; k < 2; k++)
            if (o->s && i < opts->nstatics && opts->probes[k] && probes_match(o->s, opts->probes[k][i])) {
                o->pr[k] = opts->probes[k][i];
                o->probes_ok[k] = 1;
            }
        o->g0 = ngroups;
        if (o->s && o->s->nblocks) {
            out->objects_static++;
            ngroups += o->s->nloops + o->s->nfunctions;
            if (!(o->inner = malloc(o->s->nblocks * sizeof *o->inner)) ||
                !(o->exec = calloc(o->s->nblocks, sizeof *o->exec)))
                goto nomem;
            for (uint32_t b = 0; b < o->s->nblocks; b++)
                o->inner[b] = PV_NONE;
            for (uint32_t l = 0; l < o->s->nloops; l++) {
                const pv_loop *lp = &o->s->loops[l];
                for (uint32_t j = 0; j < lp->nblocks; j++) {
                    uint32_t b = lp->blocks[j];
                    if (b < o->s->nblocks &&
                        (o->inner[b] == PV_NONE || o->s->loops[o->inner[b]].depth < lp->depth))
                        o->inner[b] = l;
                }
            }
        } else {
            o->s = NULL;
        }
        ngroups++; /* the object's code without a static block */
    }
    /* One more group for code that no object claims (a run without objects). */
    uint32_t rest_group = ngroups++;
    gs = calloc(ngroups, sizeof *gs);
    if (!gs)
        goto nomem;
    for (uint32_t i = 0; i < nobj; i++)
        if (ob[i].s)
            for (uint32_t k = 0; k < ob[i].s->nloops + ob[i].s->nfunctions; k++) {
                gs[ob[i].g0 + k].s = ob[i].s;
                gs[ob[i].g0 + k].idx = k;
            }

    /* Per-block cache figures are counts in the simulated windows: scale
     * each level so that the blocks add up to the level's whole-run figures. */
    uint32_t nlev = d->ncaches < PV_CACHE_MAX_LEVELS ? d->ncaches : PV_CACHE_MAX_LEVELS;
    double acc_scale = 1, miss_scale[PV_CACHE_MAX_LEVELS];
    for (uint32_t k = 0; k < PV_CACHE_MAX_LEVELS; k++)
        miss_scale[k] = 1;
    if (d->block_cache && nlev) {
        double acc = 0, mk[PV_CACHE_MAX_LEVELS] = {0};
        for (uint32_t i = 0; i < d->ncounts; i++) {
            const pv_block_cache *bc = &d->block_cache[i];
            acc += (double)(bc->dr + bc->dw);
            for (uint32_t k = 0; k < nlev; k++)
                mk[k] += (double)(bc->mr[k] + bc->mw[k]);
        }
        if (acc > 0)
            acc_scale = (double)d->caches[0].accesses / acc;
        for (uint32_t k = 0; k < nlev; k++)
            if (mk[k] > 0)
                miss_scale[k] = (double)d->caches[k].misses / mk[k];
    }

    /* Rows (executed translation blocks) onto static blocks and groups. */
    pv_mix64 mapped;
    memset(&mapped, 0, sizeof mapped);
    double mapped_insns = 0;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *bc = &d->counts[i];
        if (bc->object >= nobj)
            continue;
        objinfo *o = &ob[bc->object];
        double cnt = (double)bc->count;
        uint32_t gi = o->g0 + (o->s ? o->s->nloops + o->s->nfunctions : 0); /* unmapped */
        uint32_t b = o->s ? pv_profile_block_containing(o->s, bc->addr) : PV_NONE;
        if (b != PV_NONE) {
            const pv_profile *s = o->s;
            gi = o->g0 + (o->inner[b] != PV_NONE ? o->inner[b] : s->nloops + s->blocks[b].func);
            /* A translation block covers its static block from its address
             * on, then the blocks that follow without a gap, until its
             * instructions are used up. */
            double left = bc->ninsns;
            uint64_t a = bc->addr;
            while (b < s->nblocks && left > 0) {
                const pv_block *sb = &s->blocks[b];
                if (a < sb->addr || a >= sb->addr + sb->size)
                    break;
                double frac = a == sb->addr ? 1.0 : (double)(sb->addr + sb->size - a) / (double)sb->size;
                double n = frac * sb->ninsns;
                if (n > left) {
                    frac *= left / n;
                    n = left;
                }
                double w = cnt * frac;
                o->exec[b] += w;
                uint32_t g = o->g0 + (o->inner[b] != PV_NONE ? o->inner[b] : s->nloops + sb->func);
                gs[g].insns += w * sb->ninsns;
                /* The block bound with the machine's table (what the analyzer computes with
                 * it), whatever table the static profile was made with. */
                gs[g].tp += w * pv_uarch_block_cycles_moves(&u, &sb->mix, sb->ninsns, sb->moves);
                gs[g].cond += w * sb->mix.n[PV_MIX_BRANCH_COND];
                gs[g].bytes += w * ((double)sb->mix.bytes_loaded + sb->mix.bytes_stored);
                for (int c = 0; c < PV_MIX_NCLASSES; c++)
                    mapped.n[c] += (uint64_t)(w * sb->mix.n[c] + 0.5);
                mapped.bytes_loaded += (uint64_t)(w * sb->mix.bytes_loaded + 0.5);
                mapped.bytes_stored += (uint64_t)(w * sb->mix.bytes_stored + 0.5);
                mapped_insns += w * sb->ninsns;
                left -= n;
                a = sb->addr + sb->size;
                b++;
            }
            out->blocks_static++;
            out->insns_static += (uint64_t)bc->ninsns * bc->count;
        }
        if (d->block_cache) {
            const pv_block_cache *c = &d->block_cache[i];
            group *g = &gs[gi];
            g->acc += (double)(c->dr + c->dw) * acc_scale;
            g->rd += (double)c->dr * acc_scale;
            for (uint32_t k = 0; k < nlev; k++) {
                g->mr[k] += (double)c->mr[k] * miss_scale[k];
                g->mw[k] += (double)c->mw[k] * miss_scale[k];
                g->m[k] += (double)(c->mr[k] + c->mw[k]) * miss_scale[k];
            }
        }
    }

    /* Code without static blocks: one block-shaped bound over its mix. */
    pv_mix rest;
    memset(&rest, 0, sizeof rest);
    double rest_insns = 0, rest_bytes = 0;
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        double r = (double)d->mix.n[c] - (double)mapped.n[c];
        if (r < 0)
            r = 0;
        rest_insns += r;
        rest.n[c] = (uint32_t)(r > 4e9 ? 4e9 : r);
    }
    rest_bytes = fmax(0, (double)(d->mix.bytes_loaded + d->mix.bytes_stored) -
                             (double)(mapped.bytes_loaded + mapped.bytes_stored));
    rest.n[PV_MIX_SYSCALL] = 0; /* costed as system calls */
    /* The unmapped rest goes to the target's unmapped group when there is
     * no finer attribution (its cache figures stay with their objects). */
    {
        double scale = 1;
        double total = 0;
        for (int c = 0; c < PV_MIX_NCLASSES; c++)
            total += rest.n[c];
        /* pv_mix counts are 32-bit: a scaled-down mix with the same shape. */
        while (total > 2e9) {
            for (int c = 0; c < PV_MIX_NCLASSES; c++)
                rest.n[c] /= 2;
            total /= 2;
            scale *= 2;
        }
        group *g = &gs[unclaimed(d, ob, rest_group)];
        double ni = rest_insns / scale;
        /* Its moves are unknown (a dynamic mix has no move count): all its int_alu ops take a port. */
        g->tp += scale * pv_uarch_block_cycles(&u, &rest, (uint32_t)(ni > 4e9 ? 4e9 : ni));
        g->insns += rest_insns;
        g->cond += (double)rest.n[PV_MIX_BRANCH_COND] * scale;
        g->bytes += rest_bytes;
    }

    /* Without per-block cache figures, the whole run's misses go with the
     * code that has no finer attribution. */
    if (!d->block_cache && nlev) {
        group *g = &gs[unclaimed(d, ob, rest_group)];
        g->acc += (double)d->caches[0].accesses;
        g->rd += (double)d->caches[0].accesses;
        for (uint32_t k = 0; k < nlev; k++) {
            g->m[k] += (double)d->caches[k].misses;
            g->mr[k] += (double)d->caches[k].misses;
        }
    }

    /* Misses sit in the instruction stream of the whole loop nest: an outer
     * loop's misses are as far apart as the instructions of its inner loops
     * make them. */
    for (uint32_t gi = 0; gi < ngroups; gi++) {
        gs[gi].nest_insns += gs[gi].insns;
        gs[gi].nest_m0 += gs[gi].m[0];
    }
    for (uint32_t i = 0; i < nobj; i++) {
        objinfo *o = &ob[i];
        if (!o->s)
            continue;
        for (uint32_t l = 0; l < o->s->nloops; l++) {
            const group *g = &gs[o->g0 + l];
            uint32_t up = o->s->loops[l].parent;
            for (int guard = 0; up < o->s->nloops && guard < 64; guard++) {
                gs[o->g0 + up].nest_insns += g->insns;
                gs[o->g0 + up].nest_m0 += g->m[0];
                up = o->s->loops[up].parent;
            }
        }
    }

    /* Loops: iterations and recurrences. */
    for (uint32_t i = 0; i < nobj; i++) {
        objinfo *o = &ob[i];
        if (!o->s)
            continue;
        for (uint32_t l = 0; l < o->s->nloops; l++) {
            const pv_loop *lp = &o->s->loops[l];
            group *g = &gs[o->g0 + l];
            uint32_t hb = pv_profile_block_containing(o->s, lp->header);
            if (hb == PV_NONE || !(lp->cycles_per_iter > 0))
                continue;
            g->iters = o->exec[hb];
            g->loop = 1;
            g->cpi[0] = g->cpi[1] = g->cpi[2] = lp->cycles_per_iter;
            if (o->probes_ok[0]) {
                g->cpi[1] = o->pr[0]->loops[l].cycles_per_iter;
                g->cpi[2] = o->probes_ok[1] ? o->pr[1]->loops[l].cycles_per_iter : g->cpi[1];
            }
            if (g->iters > 0)
                out->loops_costed++;
        }
    }

    /* Branch mispredictions, spread over the groups by conditional branches. */
    double bmiss = 0, pen[3], cond_all = 0;
    t3(&m->branch_miss_cycles, pen);
    /* The emulator writes whole-run estimates (profile.h: pv_branch_stats);
     * sampled_fraction only says how much of the run they rest on. */
    if (d->has_branches)
        bmiss = (double)(d->branches.cond_miss + d->branches.indirect_miss);
    out->branch_misses = bmiss;
    for (uint32_t g = 0; g < ngroups; g++)
        cond_all += gs[g].cond;

    /* Miss costs per served level. */
    serve sv[PV_CACHE_MAX_LEVELS];
    serve_costs(d, m, footprint, par, sv);
    double avg_access = 8;
    {
        double acc = (double)(d->mix.n[PV_MIX_LOAD] + d->mix.n[PV_MIX_STORE]);
        if (acc > 0)
            avg_access = (double)(d->mix.bytes_loaded + d->mix.bytes_stored) / acc;
        if (avg_access < 1)
            avg_access = 1;
    }
    uint32_t line = nlev && d->caches[0].line ? d->caches[0].line : 64;

    /* The groups. */
    double comp[3] = {0}, br[3] = {0}, mem[3] = {0}, seq_w = 0, seq_n = 0;
    for (uint32_t gi = 0; gi < ngroups; gi++) {
        group *g = &gs[gi];
        if (!(g->tp > 0) && !(g->acc > 0) && !(g->cond > 0))
            continue;
        /* Served accesses per level (reads, writes): the misses of level j
         * that level j + 1 did not miss. */
        double sr[PV_CACHE_MAX_LEVELS] = {0}, sw[PV_CACHE_MAX_LEVELS] = {0};
        for (uint32_t j = 0; j < nlev; j++) {
            sr[j] = g->mr[j] - (j + 1 < nlev ? g->mr[j + 1] : 0);
            sw[j] = g->mw[j] - (j + 1 < nlev ? g->mw[j + 1] : 0);
            if (sr[j] < 0)
                sr[j] = 0;
            if (sw[j] < 0)
                sw[j] = 0;
        }
        /* Sequential share: bytes used per line brought in. */
        double seq = 0;
        if (nlev && g->m[0] > 0) {
            double size = g->bytes > 0 && g->acc > 0 ? g->bytes / g->acc : avg_access;
            if (size > line)
                size = line;
            double bpm = g->acc * size / g->m[0];
            seq = line > size ? (bpm - size) / (line - size) : 1;
            seq = seq < 0 ? 0 : seq > 1 ? 1 : seq;
            seq_w += seq * g->m[0];
            seq_n += g->m[0];
        }
        double share = cond_all > 0 ? g->cond / cond_all : 0;
        for (int k = 0; k < 3; k++) {
            /* The port/issue bound and the recurrence overlap (low, mid: the
             * larger one) or not at all (high: their sum, where the
             * recurrence is known to exceed the loop's own throughput). */
            double c_cyc = g->tp, rec = g->loop ? g->iters * g->cpi[0] : 0;
            if (k == HI && rec > g->tp)
                c_cyc = g->tp + rec;
            else if (rec > c_cyc)
                c_cyc = rec;
            double core = c_cyc / ghz[k];
            double b_ns = bmiss * share * pen[k] / ghz[k];
            /* Dependent loads: the recurrence at the loads' average latency. */
            double chain = 0, chain_miss[PV_CACHE_MAX_LEVELS] = {0};
            if (g->loop && g->iters > 0 && g->rd > 0 && (g->cpi[1] > g->cpi[0] || g->cpi[2] > g->cpi[1])) {
                double extra_ns = 0;
                for (uint32_t j = 0; j < nlev; j++)
                    extra_ns += sr[j] / g->rd * sv[j].lat[k];
                double x = extra_ns * ghz[k]; /* cycles added to an average load */
                double c_mem = g->iters * cpi_at(g, opts->probe_cycles, x);
                /* What the slower recurrence adds: beyond the core time
                 * (low, mid), beyond the recurrence alone (high, where the
                 * core time is throughput + recurrence). */
                double base = k == HI ? rec : c_cyc;
                if (c_mem > base) {
                    chain = (c_mem - base) / ghz[k];
                    if (k == MID)
                        out->loops_bound++;
                }
                /* The chain's loads: per iteration, the recurrence's growth per cycle of load latency. */
                double per_iter = (cpi_at(g, opts->probe_cycles, 1e4) - cpi_at(g, opts->probe_cycles, 0)) / 1e4;
                double nchain = per_iter * g->iters;
                for (uint32_t j = 0; j < nlev; j++) {
                    chain_miss[j] = nchain * sr[j] / g->rd;
                    if (chain_miss[j] > sr[j])
                        chain_miss[j] = sr[j];
                }
            }
            /* The other misses overlap: sequential ones at bandwidth (the
             * prefetchers run ahead), random ones as many at a time as the
             * core's window holds: the calibrated cost of a random load
             * that comes with PV_WINDOW_INSNS instructions of other work,
             * scaled to the group's instructions per miss, and never below
             * the cost of back-to-back independent random loads. */
            double m_ns = 0;
            double ipm = g->nest_m0 > 0 ? g->nest_insns / g->nest_m0 : 0;
            for (uint32_t j = 0; j < nlev; j++) {
                double n = sr[j] + sw[j] - chain_miss[j];
                if (n <= 0)
                    continue;
                double w = (sr[j] + sw[j]) > 0 ? sw[j] / (sr[j] + sw[j]) : 0;
                double bw = bw_for(&sv[j], k, w);
                double each = sv[j].win[k] * ipm / PV_WINDOW_INSNS;
                if (each < sv[j].rnd[k])
                    each = sv[j].rnd[k];
                m_ns += seq * n * line / bw + (1 - seq) * n * each;
            }
            double cpu = core + b_ns + chain;
            double t = k == HI ? cpu + m_ns : (cpu > m_ns ? cpu : m_ns);
            comp[k] += core;
            br[k] += b_ns;
            mem[k] += t - core - b_ns;
            if (k == MID) {
                out->chain_ns += chain;
                g->t_mid = t;
                pv_log(PV_LOG_DEBUG, "predict: group %u %s: %.3g ms (core %.3g, branches %.3g, chain %.3g, "
                       "misses %.3g); iterations %.4g, cpi %.3g/%.3g/%.3g, tp %.4g cycles, seq %.2f",
                       gi, !g->s ? "(no static blocks)" : g->idx < g->s->nloops ? "loop" : "function",
                       t * 1e-6, core * 1e-6, b_ns * 1e-6, chain * 1e-6, m_ns * 1e-6, g->iters, g->cpi[0],
                       g->cpi[1], g->cpi[2], g->tp, seq);
                if (g->s && t > 1e5) {
                    if (g->idx < g->s->nloops) {
                        const pv_loop *lp = &g->s->loops[g->idx];
                        pv_log(PV_LOG_DEBUG, "predict:   loop at %#llx in %s (%s:%u), depth %u",
                               (unsigned long long)lp->header,
                               lp->func < g->s->nfunctions ? g->s->functions[lp->func].name : "?",
                               g->s->target.path ? g->s->target.path : "?", lp->loc.line, lp->depth);
                    } else if (g->idx - g->s->nloops < g->s->nfunctions) {
                        pv_log(PV_LOG_DEBUG, "predict:   function %s (%s)",
                               g->s->functions[g->idx - g->s->nloops].name,
                               g->s->target.path ? g->s->target.path : "?");
                    }
                }
            }
        }
    }
    /* Branch penalties of code without conditional branches counted (no
     * static or dynamic mix): still paid, with the core. */
    if (!(cond_all > 0) && bmiss > 0)
        for (int k = 0; k < 3; k++)
            br[k] += bmiss * pen[k] / ghz[k];
    out->line_use = seq_n > 0 ? seq_w / seq_n : 1;

    /* Threads divide the CPU part; page faults and release stay serial. */
    double pf[3], pfree[3], pages = footprint / 4096.0;
    t3(&m->warm.page_fault_4k_ns, pf);
    t3(&m->warm.page_free_4k_ns, pfree);
    double *terms[3][3] = {{&out->compute.low, &out->branches.low, &out->memory.low},
                           {&out->compute.mid, &out->branches.mid, &out->memory.mid},
                           {&out->compute.high, &out->branches.high, &out->memory.high}};
    for (int k = 0; k < 3; k++) {
        *terms[k][0] = comp[k] / par * 1e-9;
        *terms[k][1] = br[k] / par * 1e-9;
        *terms[k][2] = (mem[k] / par + pages * (pf[k] + pfree[k])) * 1e-9;
    }

    /* File I/O: every system call is taken as a read or a write, in
     * proportion to the bytes, at the fixed cost per call and the cost per
     * byte that the 4 KiB and 1 MiB chunk rates give. */
    double br_ = (double)d->io_bytes_read, bw_ = (double)d->io_bytes_written, calls = (double)d->syscalls;
    double n_r = 0, n_w = 0;
    if (br_ + bw_ > 0) {
        n_r = calls * br_ / (br_ + bw_);
        n_w = calls - n_r;
    }
    double sys_ns[3], call_r[3], call_w[3], r4[3], r1[3], w4[3], w1[3], disk[3];
    t3(&m->warm.syscall_ns, sys_ns);
    t3(&m->warm.syscall_read_ns, call_r);
    t3(&m->warm.syscall_write_ns, call_w);
    r3(&m->warm.file_read_4k_gbs, r4);
    r3(&m->warm.file_cached_gbs, r1);
    r3(&m->warm.file_write_4k_gbs, w4);
    r3(&m->warm.file_write_gbs, w1);
    r3(&m->warm.file_disk_gbs, disk);
    pv_interval *io = &out->io;
    double *iov[3] = {&io->low, &io->mid, &io->high};
    for (int k = 0; k < 3; k++) {
        double cr = 0, pr = 0, cw = 0, pw = 0;
        /* t(chunk) = call + chunk * per_byte, from the two chunk sizes. */
        if (r4[k] > 0 && r1[k] > 0) {
            double t4 = 4096 / r4[k], t1 = 1048576 / r1[k];
            pr = (t1 - t4) / (1048576 - 4096);
            cr = t4 - 4096 * pr;
        }
        if (!(pr > 0) || cr < 0) {
            pr = r1[k] > 0 ? 1 / r1[k] : 0.5; /* 2 GB/s when nothing was measured: docs/costmodel.md */
            cr = call_r[k] > 0 ? call_r[k] : sys_ns[k];
        }
        if (w4[k] > 0 && w1[k] > 0) {
            double t4 = 4096 / w4[k], t1 = 1048576 / w1[k];
            pw = (t1 - t4) / (1048576 - 4096);
            cw = t4 - 4096 * pw;
        }
        if (!(pw > 0) || cw < 0) {
            pw = w1[k] > 0 ? 1 / w1[k] : r1[k] > 0 ? 1 / r1[k] : 0.5;
            cw = call_w[k] > 0 ? call_w[k] : sys_ns[k];
        }
        /* The high end reads what the program did not write from disk. */
        double unwritten = br_ > bw_ ? br_ - bw_ : 0;
        double pr_hi = k == HI && disk[k] > 0 ? 1 / disk[k] : pr;
        *iov[k] = (n_r * cr + (br_ - unwritten) * pr + unwritten * pr_hi + n_w * cw + bw_ * pw) * 1e-9;
    }

    /* Other system calls, threads, process start-up and exit. */
    double tc[3], ps[3];
    t3(&m->warm.thread_create_us, tc);
    t3(&m->warm.process_spawn_us, ps);
    double nthr = d->nthreads > 1 ? d->nthreads - 1 : 0, other = br_ + bw_ > 0 ? 0 : calls;
    out->syscalls.low = (other * sys_ns[LO] + nthr * tc[LO] * 1e3 + ps[LO] * 1e3) * 1e-9;
    out->syscalls.mid = (other * sys_ns[MID] + nthr * tc[MID] * 1e3 + ps[MID] * 1e3) * 1e-9;
    out->syscalls.high = (other * sys_ns[HI] + nthr * tc[HI] * 1e3 + ps[HI] * 1e3) * 1e-9;

    out->total.low = out->compute.low + out->branches.low + out->memory.low + out->io.low + out->syscalls.low;
    out->total.mid = out->compute.mid + out->branches.mid + out->memory.mid + out->io.mid + out->syscalls.mid;
    out->total.high = out->compute.high + out->branches.high + out->memory.high + out->io.high + out->syscalls.high;
    const char *names[5] = {"compute", "branches", "memory", "io", "syscalls"};
    double v[5] = {out->compute.mid, out->branches.mid, out->memory.mid, out->io.mid, out->syscalls.mid};
    int best = 0;
    for (int i = 1; i < 5; i++)
        if (v[i] > v[best])
            best = i;
    out->dominant = names[best];
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "pv_predict: out of memory");
done:
    obj_free(ob, nobj);
    free(gs);
    return rc;
}
