/* The analyzer's static cost table corrected by calibration: the built-in
 * table of the machine's microarchitecture, with every per-class figure the
 * calibration measured put in place of the published one. Issue width and
 * port groups are not measurable with the microbenchmarks we run, so they
 * stay as published. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "prevision/analyzer.h"

/* A measured figure usable as a cost: measured, finite, positive, and below
 * what any single instruction class costs (a guard against a broken timer). */
static int usable(const pv_stat *s) { return s->reps > 0 && isfinite(s->median) && s->median > 0 && s->median < 1e5; }

int pv_machine_uarch(const pv_machine *m, pv_uarch *out, unsigned *nreplaced)
{
    if (!m || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_machine_uarch: NULL argument");
    const pv_uarch *base = m->topo.uarch[0] ? pv_uarch_find(m->topo.uarch) : NULL;
    if (!base)
        base = pv_uarch_host();
    pv_error_clear();
    *out = *base;
    unsigned n = 0;
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        const pv_class_cost *k = &m->classes[c];
        int thr = usable(&k->rthroughput), lat = usable(&k->latency);
        if (thr)
            out->rthroughput[c] = (float)k->rthroughput.median;
        if (lat)
            out->latency[c] = (float)k->latency.median;
        n += thr || lat;
    }
    /* Loads and stores enter the block bound through their port counts. */
    if (usable(&m->classes[PV_MIX_LOAD].rthroughput))
        out->load_ports = (float)(1.0 / m->classes[PV_MIX_LOAD].rthroughput.median);
    if (usable(&m->classes[PV_MIX_STORE].rthroughput))
        out->store_ports = (float)(1.0 / m->classes[PV_MIX_STORE].rthroughput.median);
    if (usable(&m->classes[PV_MIX_LOAD].latency))
        out->load_latency = (float)m->classes[PV_MIX_LOAD].latency.median;
    /* Dividers are units of their own on every current x86 core, not
     * pipelined: a divide occupies its divider for its reciprocal
     * throughput while the ALUs and FP pipes go on. The calibrated figures
     * are per divider, so each divide class gets a group of its own (the
     * built-in tables put them with the ALUs and FP pipes, where their
     * cycles would add to everyone's). */
    static const int divs[2] = {PV_MIX_INT_DIV, PV_MIX_FP_DIVSQRT};
    static const char *const dnames[2] = {"int_div", "fp_div"};
    for (int i = 0; i < 2 && out->ngroups < PV_UARCH_MAX_GROUPS; i++) {
        if (!usable(&m->classes[divs[i]].rthroughput))
            continue;
        pv_uarch_group *g = &out->groups[out->ngroups];
        memset(g, 0, sizeof *g);
        snprintf(g->name, sizeof g->name, "%s", dnames[i]);
        g->units = 1;
        out->group[divs[i]] = (uint8_t)out->ngroups++;
    }
    snprintf(out->name, sizeof out->name, "%.20s+calibrated", base->name);
    snprintf(out->description, sizeof out->description, "%.40s, per-class figures calibrated %.24s", base->name,
             m->date[0] ? m->date : "(undated)");
    if (nreplaced)
        *nreplaced = n;
    return PV_OK;
}
