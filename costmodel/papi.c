/* PAPI behind a tiny interface: probe whether hardware counters exist, and
 * count cycles (and instructions) around a microbenchmark. PAPI's return
 * codes are translated here and never leave the module. */
#include <papi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pv_papi {
    int eventset;
    int nevents; /* 1: cycles; 2: cycles + instructions */
};

static int papi_init(void)
{
    if (PAPI_is_initialized() != PAPI_NOT_INITED)
        return 0;
    int v = PAPI_library_init(PAPI_VER_CURRENT);
    return v == PAPI_VER_CURRENT ? 0 : -1;
}

int pv_papi_probe(char *version, size_t vlen, char *note, size_t nlen)
{
    snprintf(version, vlen, "%d.%d.%d", PAPI_VERSION_MAJOR(PAPI_VERSION), PAPI_VERSION_MINOR(PAPI_VERSION),
             PAPI_VERSION_REVISION(PAPI_VERSION));
    if (papi_init() < 0) {
        snprintf(note, nlen, "PAPI_library_init failed: no counters");
        return 0;
    }
    int n = PAPI_num_cmp_hwctrs(0);
    const PAPI_component_info_t *ci = PAPI_get_component_info(0);
    if (n <= 0) {
        snprintf(note, nlen, "PAPI component %s reports %d hardware counters%s%s", ci ? ci->name : "0",
                 n < 0 ? 0 : n, ci && ci->disabled ? ": " : "", ci && ci->disabled ? ci->disabled_reason : "");
        return 0;
    }
    if (PAPI_query_event(PAPI_TOT_CYC) != PAPI_OK) {
        snprintf(note, nlen, "PAPI component %s reports %d hardware counters but no PAPI_TOT_CYC event", ci ? ci->name : "0", n);
        return 0;
    }
    /* A VM may advertise counters the hypervisor never lets the guest read
     * (seen here: 6 counters, every preset unavailable). Only a counting
     * session that really starts and stops proves they work. */
    int es = PAPI_NULL, ok = 0;
    long long v = 0;
    if (PAPI_create_eventset(&es) == PAPI_OK) {
        ok = PAPI_add_event(es, PAPI_TOT_CYC) == PAPI_OK && PAPI_start(es) == PAPI_OK && PAPI_stop(es, &v) == PAPI_OK;
        PAPI_cleanup_eventset(es);
        PAPI_destroy_eventset(&es);
    }
    if (!ok) {
        snprintf(note, nlen, "PAPI component %s reports %d hardware counters but cannot count PAPI_TOT_CYC (virtualized PMU?)",
                 ci ? ci->name : "0", n);
        return 0;
    }
    snprintf(note, nlen, "PAPI component %s: %d hardware counters", ci ? ci->name : "0", n);
    return n;
}

int pv_papi_open(pv_papi **out)
{
    *out = NULL;
    pv_papi *p = NULL;
    int rc = PV_OK;
    if (papi_init() < 0 || PAPI_num_cmp_hwctrs(0) <= 0) {
        rc = pv_error_set(PV_ERR_UNSUPPORTED, "PAPI: no hardware counters on this host; use the timer method");
        goto done;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    p->eventset = PAPI_NULL;
    if (PAPI_create_eventset(&p->eventset) != PAPI_OK || PAPI_add_event(p->eventset, PAPI_TOT_CYC) != PAPI_OK) {
        rc = pv_error_set(PV_ERR_UNSUPPORTED,
                          "PAPI: cannot count PAPI_TOT_CYC on this host (counters not exposed); use the timer method");
        goto done;
    }
    p->nevents = 1;
    /* Instructions are a bonus (IPC sanity); their absence is no failure. */
    if (PAPI_add_event(p->eventset, PAPI_TOT_INS) == PAPI_OK)
        p->nevents = 2;
    *out = p;
    p = NULL;
done:
    if (p) {
        if (p->eventset != PAPI_NULL) {
            PAPI_cleanup_eventset(p->eventset);
            PAPI_destroy_eventset(&p->eventset);
        }
        free(p);
    }
    return rc;
}

int pv_papi_start(pv_papi *p)
{
    return PAPI_start(p->eventset) == PAPI_OK ? PV_OK : pv_error_set(PV_ERR_BACKEND, "PAPI_start failed");
}

int pv_papi_stop(pv_papi *p, long long *cycles, long long *insns)
{
    long long v[2] = {0, 0};
    if (PAPI_stop(p->eventset, v) != PAPI_OK)
        return pv_error_set(PV_ERR_BACKEND, "PAPI_stop failed");
    *cycles = v[0];
    if (insns)
        *insns = p->nevents > 1 ? v[1] : 0;
    return PV_OK;
}

void pv_papi_close(pv_papi *p)
{
    if (!p)
        return;
    PAPI_cleanup_eventset(p->eventset);
    PAPI_destroy_eventset(&p->eventset);
    free(p);
}
