/* Cache geometry for the emulator's cache simulator, from hwloc or a machine
 * model (the emulator may not include the cost model's headers, so the CLI
 * fills the simulator's plain configuration). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../emulator/cachesim.h"
#include "cli.h"

static void say(char *note, size_t len, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void say(char *note, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!note || *used >= len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(note + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
}

static const pv_topo_cache *find_level(const pv_topology *t, uint32_t level)
{
    for (uint32_t i = 0; i < t->ncaches && i < sizeof t->caches / sizeof *t->caches; i++) {
        const pv_topo_cache *c = &t->caches[i];
        if (c->level == level && (!strcmp(c->type, "data") || !strcmp(c->type, "unified")))
            return c;
    }
    return NULL;
}

static void human(char *buf, size_t len, uint64_t bytes)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
    else if (bytes >= (1u << 20))
        snprintf(buf, len, "%.2f MiB", (double)bytes / (1 << 20));
    else
        snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
}

void pv_cli_cache_config_from_topology(pve_cache_config *cfg, const pv_topology *t, const char *source, char *note,
                                       size_t notelen)
{
    size_t used = 0;
    pve_cache_config c = PVE_CACHE_CONFIG_INIT;
    if (note && notelen)
        note[0] = '\0';
    c.nlevels = 3;
    for (uint32_t level = 1; level <= 3; level++) {
        pve_cache_level_config *l = &c.levels[level - 1], def;
        const pv_topo_cache *tc = t ? find_level(t, level) : NULL;
        const char *why = NULL;
        char size[32];
        pve_cache_default_level(level, &def);
        *l = def;
        if (!tc || tc->size == 0) {
            why = "not in the topology";
        } else {
            pve_cache_config one = PVE_CACHE_CONFIG_INIT;
            l->size = tc->size;
            l->line = tc->line ? tc->line : def.line;
            /* Unknown (0) or fully associative (-1) ways: the simulator needs a
             * real count; a fully associative cache of at most 1024 lines is
             * simulated as such, larger ones with the default ways. */
            if (tc->assoc > 0)
                l->assoc = (uint32_t)tc->assoc;
            else if (tc->assoc < 0 && tc->size / l->line <= 1024)
                l->assoc = 0;
            else
                l->assoc = def.assoc;
            one.nlevels = 1;
            one.levels[0] = *l;
            if (pve_cache_config_check(&one) != PV_OK) {
                /* Keep the size if the default ways fit it, else the whole default level. */
                l->assoc = def.assoc;
                one.levels[0] = *l;
                if (pve_cache_config_check(&one) != PV_OK) {
                    *l = def;
                    why = "topology geometry unusable";
                }
            }
            pv_error_clear();
        }
        human(size, sizeof size, l->size);
        if (l->assoc)
            say(note, notelen, &used, "%s%s %s %u-way %u B lines", level > 1 ? ", " : "", l->name, size, l->assoc,
                l->line);
        else
            say(note, notelen, &used, "%s%s %s fully associative %u B lines", level > 1 ? ", " : "", l->name, size,
                l->line);
        if (why)
            say(note, notelen, &used, " (default: %s)", why);
    }
    say(note, notelen, &used, "; from %s", source ? source : "defaults");
    *cfg = c;
}

int pv_cli_cache_config(pve_cache_config *cfg, const char *machine_path, char *note, size_t notelen)
{
    pv_topology topo;
    pv_machine *m = NULL;
    int rc;
    char src[300];
    if (machine_path) {
        if ((rc = pv_machine_load(machine_path, &m)))
            return rc;
        topo = m->topo;
        pv_machine_free(m);
        snprintf(src, sizeof src, "machine model %s", machine_path);
    } else {
        pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
        o.io_devices = 0;
        if ((rc = pv_topology_load(&topo, &o)))
            return rc;
        snprintf(src, sizeof src, "hwloc (this host)");
    }
    pv_cli_cache_config_from_topology(cfg, &topo, src, note, notelen);
    return PV_OK;
}
