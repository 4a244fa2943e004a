/* SMARTS-style sampling schedule and extrapolation (see sampling.h). */
#include "sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prevision/error.h"

_Static_assert(PVE_CACHE_MAXLEVELS == PV_CACHE_MAX_LEVELS, "per-block figures in the profile hold every level");

int pve_sampler_new(pve_sampler **out, const pve_sampler_options *o, pve_cache *cache)
{
    pve_sampler *s;
    *out = NULL;
    if (!o || o->version != PVE_SAMPLER_OPTIONS_VERSION)
        return pv_error_set(PV_ERR_INVALID, "cache sampler: options missing or of version %d, expected %d "
                            "(initialize with PVE_SAMPLER_OPTIONS_INIT)", o ? o->version : 0,
                            PVE_SAMPLER_OPTIONS_VERSION);
    if (!cache)
        return pv_error_set(PV_ERR_INVALID, "cache sampler: no cache simulator given");
    if (o->period == 0 || o->measure == 0)
        return pv_error_set(PV_ERR_INVALID, "cache sampler: period (%llu) and measured window (%llu) must be "
                            "positive", (unsigned long long)o->period, (unsigned long long)o->measure);
    if (o->warmup > o->period || o->measure > o->period - o->warmup)
        return pv_error_set(PV_ERR_INVALID, "cache sampler: warm-up (%llu) + measured window (%llu) exceed the "
                            "period (%llu)", (unsigned long long)o->warmup, (unsigned long long)o->measure,
                            (unsigned long long)o->period);
    if (!(s = calloc(1, sizeof *s)))
        return pv_error_set(PV_ERR_NOMEM, "cache sampler: out of memory");
    s->o = *o;
    s->cache = cache;
    s->phase = PVE_SAMPLE_OFF;
    s->next = 0;
    pve_cache_set_counting(cache, 0);
    *out = s;
    return PV_OK;
}

void pve_sampler_free(pve_sampler *s)
{
    if (!s)
        return;
    free(s->w);
    free(s);
}

static void close_window(pve_sampler *s, uint64_t now)
{
    pve_cache_level_stats st[PVE_CACHE_MAXLEVELS];
    uint32_t n = pve_cache_nlevels(s->cache);
    pve_window *w;
    if (s->nw == s->capw) {
        size_t cap = s->capw ? s->capw * 2 : 64;
        pve_window *nw = realloc(s->w, cap * sizeof *nw);
        if (!nw) {
            /* Losing a window biases nothing (windows are exchangeable), it only widens the interval. */
            s->failed = 1;
            return;
        }
        s->w = nw;
        s->capw = cap;
    }
    w = &s->w[s->nw++];
    memset(w, 0, sizeof *w);
    pve_cache_get_stats(s->cache, st);
    w->start = s->win_start;
    w->units = now - s->win_start;
    for (uint32_t k = 0; k < n; k++) {
        w->accesses[k] = st[k].reads + st[k].writes - s->at_start[k].reads - s->at_start[k].writes;
        w->misses[k] = st[k].read_misses + st[k].write_misses - s->at_start[k].read_misses -
                       s->at_start[k].write_misses;
        w->cold[k] = st[k].cold_misses - s->at_start[k].cold_misses;
        w->first[k] = st[k].first_misses - s->at_start[k].first_misses;
    }
}

static void open_window(pve_sampler *s, uint64_t now, uint64_t period)
{
    pve_cache_get_stats(s->cache, s->at_start);
    s->win_start = now;
    s->win_period = period;
}

/* splitmix64's finalizer (written step by step: prevision's own source analysis gives up on a product of
 * an index and a 64-bit constant, whose symbolic coefficient overflows) */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ull;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

pve_sample_phase pve_sampler_advance_(pve_sampler *s, uint64_t now)
{
    const pve_sampler_options *o = &s->o;
    pve_sample_phase p, old = s->phase;
    uint64_t k = 0;
    if (now < o->offset) {
        p = PVE_SAMPLE_OFF;
        s->next = o->offset;
    } else {
        uint64_t rel = now - o->offset, pos, base, at = 0;
        k = rel / o->period;
        pos = rel % o->period;
        base = now - pos;
        if (o->jitter && k) {
            /* the window starts at a pseudo-random place in its period (deterministic: a hash of the
             * period's index): stratified sampling, which a program with a period of its own cannot
             * alias with; the first period keeps its window at the start, so that a run shorter than
             * a period has one */
            at = mix64(k) % (o->period - o->warmup - o->measure + 1);
        }
        if (pos < at) {
            p = PVE_SAMPLE_OFF;
            s->next = base + at;
        } else if (pos < at + o->warmup) {
            p = PVE_SAMPLE_WARMUP;
            s->next = base + at + o->warmup;
        } else if (pos < at + o->warmup + o->measure) {
            p = PVE_SAMPLE_MEASURE;
            s->next = base + at + o->warmup + o->measure;
        } else {
            p = PVE_SAMPLE_OFF;
            s->next = base + o->period;
        }
        if (s->next < now) /* the count wrapped: nothing more to schedule */
            s->next = UINT64_MAX;
    }
    if (old == PVE_SAMPLE_MEASURE && (p != PVE_SAMPLE_MEASURE || k != s->win_period))
        close_window(s, now);
    if (p == PVE_SAMPLE_MEASURE && (old != PVE_SAMPLE_MEASURE || k != s->win_period))
        open_window(s, now, k);
    pve_cache_set_counting(s->cache, p == PVE_SAMPLE_MEASURE);
    if (pve_sample_hooks_on(p) != pve_sample_hooks_on(old))
        s->switches++;
    if (pve_sample_hooks_on(p) && (!pve_sample_hooks_on(old) || k != s->win_period_seen)) {
        /* a new window: what the simulator sees now is later than what it saw before */
        pve_cache_next_window(s->cache);
        s->win_period_seen = k;
    }
    s->phase = p;
    return p;
}

int pve_sampler_finish_aux(pve_sampler *s, uint64_t now, const pve_sample_aux *aux, pve_estimate *out)
{
    int rc;
    pve_cache_config cfg = PVE_CACHE_CONFIG_INIT;
    pve_sample_aux x = {0};
    if (aux)
        x = *aux;
    if (s->phase == PVE_SAMPLE_MEASURE)
        close_window(s, now);
    s->phase = PVE_SAMPLE_OFF;
    s->next = UINT64_MAX;
    pve_cache_set_counting(s->cache, 0);
    cfg.nlevels = pve_cache_nlevels(s->cache);
    for (uint32_t k = 0; k < cfg.nlevels; k++)
        cfg.levels[k] = *pve_cache_level(s->cache, k);
    pve_cache_seen(s->cache, &x.lines_seen, &x.pages_seen);
    x.recurred = pve_cache_recurred(s->cache, &x.pending);
    rc = pve_sample_estimate_aux(s->w, s->nw, &cfg, now, &x, out);
    if (rc == PV_OK && s->failed)
        rc = pv_error_set(PV_ERR_NOMEM, "cache sampler: out of memory recording windows; the estimate uses "
                          "the %zu windows recorded", s->nw);
    if (rc == PV_OK && pve_cache_cold_failed(s->cache))
        rc = pv_error_set(PV_ERR_NOMEM, "cache sampler: out of memory remembering the lines seen; later misses "
                          "to unseen lines were taken as warm");
    return rc;
}

int pve_sampler_finish(pve_sampler *s, uint64_t now, uint64_t footprint_bytes, pve_estimate *out)
{
    pve_sample_aux x = {0};
    x.footprint_bytes = footprint_bytes;
    return pve_sampler_finish_aux(s, now, &x, out);
}

const pve_window *pve_sampler_windows(const pve_sampler *s, size_t *n)
{
    *n = s->nw;
    return s->w;
}

uint64_t pve_sampler_switches(const pve_sampler *s)
{
    return s->switches;
}

double pve_t975(uint64_t df)
{
    static const double t[] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                               2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df == 0)
        return INFINITY;
    if (df < sizeof t / sizeof *t)
        return t[df];
    /* Beyond 30: 1.96 + 2.5/df is within 0.002 of the exact quantile (2.021 at 40, 2.000 at 60, 1.980 at 120). */
    return 1.96 + 2.5 / (double)df;
}

/* Per-window quantity of a level: accesses, or warm misses plus re-references seen cold weighed by q. */
static double wval(const pve_window *w, uint32_t lvl, int what, double q)
{
    switch (what) {
    case 0:
        return (double)w->accesses[lvl];
    default:
        return (double)(w->misses[lvl] - w->cold[lvl]) + q * (double)(w->cold[lvl] - w->first[lvl]);
    }
}

/* Ratio estimate of the total of a window quantity over T units, and its 95% half-width. */
static void ratio_total(const pve_window *w, size_t n, uint32_t lvl, int what, double q, double T, double f,
                        double *est, double *ci)
{
    double sy = 0, su = 0, ss = 0, r;
    for (size_t i = 0; i < n; i++) {
        sy += wval(&w[i], lvl, what, q);
        su += (double)w[i].units;
    }
    r = su > 0 ? sy / su : 0;
    *est = r * T;
    if (f >= 1) {
        *ci = 0;
        return;
    }
    if (n < 2 || su <= 0) {
        *ci = -1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double e = wval(&w[i], lvl, what, q) - r * (double)w[i].units;
        ss += e * e;
    }
    double ubar = su / (double)n;
    double se = (T / ubar) * sqrt((1 - f) * (ss / (double)(n - 1)) / (double)n);
    *ci = pve_t975(n - 1) * se;
}

int pve_sample_estimate(const pve_window *w, size_t n, const pve_cache_config *cfg, uint64_t total_units,
                        uint64_t footprint_bytes, pve_estimate *out)
{
    pve_sample_aux x = {0};
    x.footprint_bytes = footprint_bytes;
    return pve_sample_estimate_aux(w, n, cfg, total_units, &x, out);
}

int pve_sample_estimate_aux(const pve_window *w, size_t n, const pve_cache_config *cfg, uint64_t total_units,
                            const pve_sample_aux *aux, pve_estimate *out)
{
    uint64_t measured = 0;
    double f, T = (double)total_units;
    pve_sample_aux x = {0};
    int rc;
    if (aux)
        x = *aux;
    memset(out, 0, sizeof *out);
    if ((rc = pve_cache_config_check(cfg)))
        return rc;
    for (size_t i = 0; i < n; i++)
        measured += w[i].units;
    if (measured > total_units)
        return pv_error_set(PV_ERR_INVALID, "cache sampler: the windows measured %llu units, more than the run's "
                            "%llu", (unsigned long long)measured, (unsigned long long)total_units);

    out->nlevels = cfg->nlevels;
    out->nwindows = n;
    out->total_units = total_units;
    out->measured_units = measured;
    f = total_units ? (double)measured / T : 0;
    out->fraction = f;
    if (!n || !measured) {
        for (uint32_t k = 0; k < cfg->nlevels; k++)
            out->level[k].accesses_ci95 = out->level[k].misses_ci95 = out->level[k].miss_rate_ci95 = -1;
        return PV_OK;
    }
    /* lines seen: at least the measured cold misses */
    double cold0 = 0;
    for (size_t i = 0; i < n; i++)
        cold0 += (double)w[i].cold[cfg->nlevels - 1];
    double seen = fmax((double)x.lines_seen, cold0);
    double pages = fmax((double)x.footprint_bytes / 4096.0, (double)x.pages_seen);
    double rho = x.pending ? (double)x.recurred / (double)x.pending : 0;
    /* per-block extrapolation: the blocks measured cover block_units of the run, the rest gets the windows'
     * overall rates */
    double rest = x.blocks && x.block_units <= total_units ? T - (double)x.block_units : T;
    uint32_t last_line = cfg->levels[cfg->nlevels - 1].line;
    for (uint32_t k = 0; k < cfg->nlevels; k++) {
        const pve_cache_level_config *lc = &cfg->levels[k];
        pve_level_estimate *e = &out->level[k];
        double C = (double)(lc->size / lc->line);
        double seen_k = seen * (double)last_line / (double)lc->line;
        double F = seen_k + (1 - f) * fmax(0, pages * 4096.0 / (double)lc->line - seen_k);
        double ws = fmax(1, seen_k * rho);
        /* an unknown footprint (no pages): the streamed lines are taken not to fit */
        double p_tr = F > C || pages <= 0 ? 1 : 0, p_rec = fmax(0, 1 - C / ws);
        double q = (1 - rho) * p_tr + rho * p_rec;
        double warm, acc, sy = 0, sa = 0, ss = 0, R, pend = 0, dummy;
        for (size_t i = 0; i < n; i++)
            pend += (double)(w[i].cold[k] - w[i].first[k]);
        ratio_total(w, n, k, 1, 0, rest, f, &warm, &dummy);
        ratio_total(w, n, k, 0, 0, rest, f, &acc, &dummy);
        for (size_t b = 0; x.blocks && b < x.nblocks; b++) {
            const pve_cache_counts *cc = x.blocks[b].cc;
            if (!cc || !cc->execs)
                continue;
            double scale = (double)x.blocks[b].count / (double)cc->execs;
            warm += scale * (double)(cc->mr[k] + cc->mw[k] - cc->cold);
            acc += scale * (double)(cc->dr + cc->dw);
        }
        e->cold_miss_prob = q;
        /* the interval: the windows' spread of warm + q * pending */
        ratio_total(w, n, k, 1, q, T, f, &dummy, &e->misses_ci95);
        /* pending lines are re-references touched while the simulator did not look: (1 - f) / f of them
         * per measured one (none when everything was measured: then every cold line was a first touch,
         * counted in F) */
        double per = f > 0 ? (1 - f) / f : 0;
        e->misses = warm + F + q * pend * per;
        e->misses_if_cold_missed = warm + F + pend * per;
        e->misses_if_cold_hit = warm + F;
        /* Every miss at one level is an access at the next: keep the estimates consistent. */
        if (k == 0)
            ratio_total(w, n, k, 0, q, T, f, &dummy, &e->accesses_ci95), e->accesses = acc;
        else
            e->accesses = out->level[k - 1].misses, e->accesses_ci95 = out->level[k - 1].misses_ci95;
        if (e->misses > e->accesses && e->accesses > 0)
            e->misses = e->accesses;
        for (size_t i = 0; i < n; i++) {
            sy += wval(&w[i], k, 1, q);
            sa += (double)w[i].accesses[k];
        }
        R = sa > 0 ? sy / sa : 0;
        e->miss_rate = e->accesses > 0 ? e->misses / e->accesses : 0;
        if (f >= 1 && n > 0) {
            e->miss_rate_ci95 = 0;
        } else if (n < 2 || sa <= 0) {
            e->miss_rate_ci95 = -1;
        } else {
            for (size_t i = 0; i < n; i++) {
                double d = wval(&w[i], k, 1, q) - R * (double)w[i].accesses[k];
                ss += d * d;
            }
            double abar = sa / (double)n;
            e->miss_rate_ci95 = pve_t975(n - 1) * sqrt((1 - f) * ss / ((double)n * (double)(n - 1))) / abar;
        }
    }

    return PV_OK;
}

int pve_cache_stats_to_profile(const pve_cache *c, const pve_estimate *est, pv_cache_stats **out, uint32_t *n)
{
    uint32_t nl = pve_cache_nlevels(c);
    pve_cache_level_stats st[PVE_CACHE_MAXLEVELS];
    pv_cache_stats *v = calloc(nl, sizeof *v);
    *out = NULL;
    *n = 0;
    if (!v)
        return pv_error_set(PV_ERR_NOMEM, "cache statistics: out of memory");
    pve_cache_get_stats(c, st);
    for (uint32_t k = 0; k < nl; k++) {
        const pve_cache_level_config *l = pve_cache_level(c, k);
        if (!(v[k].name = strdup(l->name))) {
            for (uint32_t j = 0; j < k; j++)
                free(v[j].name);
            free(v);
            return pv_error_set(PV_ERR_NOMEM, "cache statistics: out of memory");
        }
        v[k].size = l->size;
        v[k].line = l->line;
        v[k].assoc = l->assoc;
        if (est && k < est->nlevels) {
            v[k].accesses = (uint64_t)llround(est->level[k].accesses);
            v[k].misses = (uint64_t)llround(est->level[k].misses);
            v[k].sampled_fraction = est->fraction;
            v[k].misses_ci95 = est->level[k].misses_ci95;
        } else {
            v[k].accesses = st[k].reads + st[k].writes;
            v[k].misses = st[k].read_misses + st[k].write_misses;
            v[k].sampled_fraction = 1;
        }
    }
    *out = v;
    *n = nl;
    return PV_OK;
}

void pve_cache_counts_to_profile(const pve_cache_counts *in, pv_block_cache *out)
{
    out->dr = in->dr;
    out->dw = in->dw;
    for (uint32_t k = 0; k < PV_CACHE_MAX_LEVELS; k++) {
        out->mr[k] = in->mr[k];
        out->mw[k] = in->mw[k];
    }
}
