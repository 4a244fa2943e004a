/* Host run-time prediction from a profile's dynamic section and a machine
 * model. The formula (docs/costmodel.md has the derivation):
 *
 *   compute  = sum over executed blocks of count * max(static cycles,
 *              calibrated class cost of the block's mix), plus the mix of
 *              code without static blocks (libraries) at calibrated cost;
 *              divided by the parallelism the threads' work allows;
 *   memory   = cache-miss stalls from the simulated misses per level and the
 *              calibrated latencies (random access) or bandwidths
 *              (streaming access), plus first-touch page faults;
 *   io       = bytes read and written / calibrated file bandwidth;
 *   syscalls = system calls * calibrated syscall cost + thread creations
 *              + process start-up.
 *
 * A class cost is its reciprocal throughput plus ALPHA of the gap to its
 * latency: real code sits between fully independent and fully dependent
 * operations; the low end of the interval takes throughput only, the high
 * end HIGH_ALPHA of the gap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ALPHA 0.1
#define HIGH_ALPHA 0.5

typedef struct costs {
    double thr[PV_MIX_NCLASSES]; /* cycles per op */
    double lat[PV_MIX_NCLASSES];
} costs;

static void class_costs(const pv_machine *m, costs *k)
{
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        const pv_class_cost *cc = &m->classes[c];
        double thr = cc->rthroughput.reps ? cc->rthroughput.median : 0;
        double lat = cc->latency.reps ? cc->latency.median : 0;
        if (!thr && lat)
            thr = lat;
        if (!lat && thr)
            lat = thr;
        if (!thr) /* not measured (no such kernel): one cycle, stated in docs */
            thr = lat = 1.0;
        k->thr[c] = thr;
        k->lat[c] = lat < thr ? thr : lat;
    }
    /* System calls are costed in their own term. */
    k->thr[PV_MIX_SYSCALL] = k->lat[PV_MIX_SYSCALL] = 0;
}

/* low/mid/high cycles of n[] ops (double counts). */
static void mix_cycles(const costs *k, const double *n, double *lo, double *mid, double *hi)
{
    double thr = 0, lat = 0;
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        thr += n[c] * k->thr[c];
        lat += n[c] * k->lat[c];
    }
    *lo = thr;
    *mid = thr + ALPHA * (lat - thr);
    *hi = thr + HIGH_ALPHA * (lat - thr);
}

static const pv_mem_level *mem_level(const pv_machine *m, const char *name)
{
    for (uint32_t i = 0; i < m->nmem_levels; i++)
        if (!strcasecmp(m->mem_levels[i].name, name))
            return &m->mem_levels[i];
    return NULL;
}

static double gbs_or(const pv_stat *s, double dflt) { return s->reps && s->median > 0 ? s->median : dflt; }

static void memory_time(const pv_dynamic *d, const pv_machine *m, int threads, pv_interval *out, double *line_use)
{
    memset(out, 0, sizeof *out);
    *line_use = 1;
    if (!d->ncaches || !m->nmem_levels)
        return;
    double t_lat = 0, t_bw = 0;
    double l1_ratio = -1;
    for (uint32_t i = 0; i < d->ncaches; i++) {
        const pv_cache_stats *cs = &d->caches[i];
        double sf = cs->sampled_fraction > 0 && cs->sampled_fraction <= 1 ? cs->sampled_fraction : 1;
        double misses = (double)cs->misses / sf;
        if (l1_ratio < 0 && cs->accesses)
            l1_ratio = (double)cs->misses / (double)cs->accesses;
        /* Where this level's misses are served: the next simulated level's
         * machine counterpart, or DRAM after the last one. */
        const pv_mem_level *here = mem_level(m, cs->name);
        const pv_mem_level *next = i + 1 < d->ncaches ? mem_level(m, d->caches[i + 1].name) : NULL;
        if (!next)
            next = &m->mem_levels[m->nmem_levels - 1];
        double lat_here = here && here->latency_ns.reps ? here->latency_ns.median : 0;
        double lat_next = next->latency_ns.reps ? next->latency_ns.median : lat_here;
        double extra = lat_next > lat_here ? lat_next - lat_here : 0;
        t_lat += misses * extra;
        double bw = threads > 1 ? gbs_or(&next->read_gbs_all, gbs_or(&next->read_gbs, 10))
                                : gbs_or(&next->read_gbs, 10);
        double line = cs->line ? cs->line : 64;
        double tb = misses * line / bw; /* ns: bytes / (bytes per ns) */
        if (tb > t_bw)
            t_bw = tb;
    }
    /* Spatial locality from the first level's miss ratio: 8-byte accesses
     * walking lines in order miss once per line (ratio 1/8): prefetchers
     * turn that into bandwidth; a ratio near 1 is random access, paid at
     * latency. */
    double r = l1_ratio < 0 ? 0 : (l1_ratio - 0.125) / (1 - 0.125);
    if (r < 0)
        r = 0;
    if (r > 1)
        r = 1;
    *line_use = 1 - r;
    double lat_t = t_lat > t_bw ? t_lat : t_bw;
    out->low = t_bw * 1e-9;
    out->mid = ((1 - r) * t_bw + r * lat_t) * 1e-9;
    out->high = lat_t * 1e-9;
}

int pv_predict(const pv_profile *p, const pv_machine *m, pv_prediction *out)
{
    if (!p || !m || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_predict: NULL argument");
    memset(out, 0, sizeof *out);
    const pv_dynamic *d = p->dynamic;
    if (!d)
        return pv_error_set(PV_ERR_INVALID, "%s: the profile has no dynamic section; run 'prevision profile' on "
                            "the program first", p->target.path ? p->target.path : "profile");
    costs k;
    class_costs(m, &k);
    double ghz = m->clock_ghz.reps && m->clock_ghz.median > 0 ? m->clock_ghz.median : 0;
    if (ghz <= 0) {
        pv_log(PV_LOG_WARN, "machine model has no effective clock; assuming 1 GHz (re-run 'prevision calibrate')");
        ghz = 1.0;
    }
    out->ghz = ghz;
    out->insns = d->insns;

    /* Blocks of the target with static cycles. */
    double rest[PV_MIX_NCLASSES];
    for (int c = 0; c < PV_MIX_NCLASSES; c++)
        rest[c] = (double)d->mix.n[c];
    double c_lo = 0, c_mid = 0, c_hi = 0;
    for (uint32_t i = 0; i < d->ncounts; i++) {
        const pv_block_count *bc = &d->counts[i];
        if (bc->object >= d->nobjects || !d->objects[bc->object].is_target)
            continue;
        uint32_t b = pv_profile_find_block(p, bc->addr);
        if (b == PV_NONE || p->blocks[b].cycles <= 0)
            continue;
        const pv_block *blk = &p->blocks[b];
        double n[PV_MIX_NCLASSES], lo, mid, hi, cnt = (double)bc->count;
        for (int c = 0; c < PV_MIX_NCLASSES; c++)
            n[c] = (double)blk->mix.n[c];
        mix_cycles(&k, n, &lo, &mid, &hi);
        double st = blk->cycles;
        c_lo += cnt * (lo > st ? lo : st);
        c_mid += cnt * (mid > st ? mid : st);
        c_hi += cnt * (hi > st ? hi : st);
        for (int c = 0; c < PV_MIX_NCLASSES; c++) {
            rest[c] -= n[c] * cnt;
            if (rest[c] < 0)
                rest[c] = 0;
        }
        out->blocks_static++;
        out->insns_static += (uint64_t)blk->ninsns * bc->count;
    }
    double lo, mid, hi;
    mix_cycles(&k, rest, &lo, &mid, &hi);
    c_lo += lo, c_mid += mid, c_hi += hi;

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
    out->compute.low = c_lo / ghz / par * 1e-9;
    out->compute.mid = c_mid / ghz / par * 1e-9;
    out->compute.high = c_hi / ghz / par * 1e-9;

    memory_time(d, m, d->nthreads > 1, &out->memory, &out->line_use);
    if (par > 1) {
        out->memory.low /= par;
        out->memory.mid /= par;
    }
    double pf = m->warm.page_fault_4k_ns.reps ? m->warm.page_fault_4k_ns.median : 0;
    double pages = (double)(d->mem_touched ? d->mem_touched : d->mem_peak) / 4096.0;
    out->memory.low += pages * (m->warm.page_fault_4k_ns.reps ? m->warm.page_fault_4k_ns.min : 0) * 1e-9;
    out->memory.mid += pages * pf * 1e-9;
    out->memory.high += pages * (m->warm.page_fault_4k_ns.reps ? m->warm.page_fault_4k_ns.max : 0) * 1e-9;

    double bytes = (double)(d->io_bytes_read + d->io_bytes_written);
    double cached = gbs_or(&m->warm.file_cached_gbs, 2.0);
    double disk = gbs_or(&m->warm.file_disk_gbs, cached);
    out->io.low = bytes / (m->warm.file_cached_gbs.reps ? m->warm.file_cached_gbs.max : cached) * 1e-9;
    out->io.mid = bytes / cached * 1e-9;
    out->io.high = bytes / (disk < cached ? disk : cached) * 1e-9;

    const pv_stat *sc = &m->warm.syscall_ns, *tc = &m->warm.thread_create_us, *ps = &m->warm.process_spawn_us;
    double nsys = (double)d->syscalls, nthr = d->nthreads > 1 ? d->nthreads - 1 : 0;
    out->syscalls.low = (nsys * (sc->reps ? sc->min : 0) + nthr * (tc->reps ? tc->min : 0) * 1e3 +
                         (ps->reps ? ps->min : 0) * 1e3) * 1e-9;
    out->syscalls.mid = (nsys * (sc->reps ? sc->median : 0) + nthr * (tc->reps ? tc->median : 0) * 1e3 +
                         (ps->reps ? ps->median : 0) * 1e3) * 1e-9;
    out->syscalls.high = (nsys * (sc->reps ? sc->max : 0) + nthr * (tc->reps ? tc->max : 0) * 1e3 +
                          (ps->reps ? ps->max : 0) * 1e3) * 1e-9;

    /* Out-of-order execution overlaps compute with misses: the low end
     * assumes full overlap, the middle and high ends none. */
    double cm_lo = out->compute.low > out->memory.low ? out->compute.low : out->memory.low;
    out->total.low = cm_lo + out->io.low + out->syscalls.low;
    out->total.mid = out->compute.mid + out->memory.mid + out->io.mid + out->syscalls.mid;
    out->total.high = out->compute.high + out->memory.high + out->io.high + out->syscalls.high;
    const char *names[4] = {"compute", "memory", "io", "syscalls"};
    double v[4] = {out->compute.mid, out->memory.mid, out->io.mid, out->syscalls.mid};
    int best = 0;
    for (int i = 1; i < 4; i++)
        if (v[i] > v[best])
            best = i;
    out->dominant = names[best];
    return PV_OK;
}
