/* Multi-level set-associative LRU data-cache simulator (see cachesim.h). */
#include "cachesim.h"

#include <stdlib.h>
#include <string.h>

#include "prevision/error.h"

/* A tag word is (line number << 1) | dirty. Line numbers are below 2^61
 * (lines are at least 8 bytes), so no real tag ever equals TAG_INVALID,
 * and invalid ways sit at the LRU end of a set from the start, which makes
 * them the first victims without a separate valid bit. */
#define TAG_INVALID UINT64_MAX
#define TAG_KEY(t) ((t) & ~(uint64_t)1)

typedef struct level {
    uint64_t *tags;    /* nsets * assoc words, each set most-recent first */
    uint64_t nsets;
    uint64_t set_mask; /* nsets - 1 when nsets is a power of two */
    uint32_t assoc;
    uint32_t line_bits;
    int pow2;
} level;

/* Last-level lines seen (track_cold): open addressing on line + 1, 0 = empty. */
typedef struct lineset {
    uint64_t *keys;
    size_t cap, n; /* cap is a power of two */
    int failed;
} lineset;

struct pve_cache {
    uint32_t nlevels;
    int counting;
    int track_cold;
    lineset seen;
    pve_cache_level_stats *cur; /* stats while counting, sink otherwise */
    level lv[PVE_CACHE_MAXLEVELS];
    pve_cache_level_stats stats[PVE_CACHE_MAXLEVELS];
    pve_cache_level_stats sink[PVE_CACHE_MAXLEVELS];
    pve_cache_config cfg;
};

void pve_cache_default_level(uint32_t lvl, pve_cache_level_config *out)
{
    memset(out, 0, sizeof *out);
    switch (lvl) {
    case 1:
        strcpy(out->name, "L1d");
        out->size = 48u << 10;
        out->assoc = 12;
        break;
    case 2:
        strcpy(out->name, "L2");
        out->size = 1u << 20;
        out->assoc = 16;
        break;
    case 3:
        strcpy(out->name, "L3");
        out->size = 32u << 20;
        out->assoc = 16;
        break;
    default:
        return;
    }
    out->line = 64;
}

void pve_cache_config_default(pve_cache_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->version = PVE_CACHE_CONFIG_VERSION;
    cfg->nlevels = 3;
    for (uint32_t i = 0; i < 3; i++)
        pve_cache_default_level(i + 1, &cfg->levels[i]);
}

static int is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

int pve_cache_config_check(const pve_cache_config *cfg)
{
    if (!cfg)
        return pv_error_set(PV_ERR_INVALID, "cache simulator: no configuration given");
    if (cfg->version != PVE_CACHE_CONFIG_VERSION)
        return pv_error_set(PV_ERR_INVALID, "cache simulator: configuration version %d, expected %d "
                            "(initialize with PVE_CACHE_CONFIG_INIT)", cfg->version, PVE_CACHE_CONFIG_VERSION);
    if (cfg->nlevels < 1 || cfg->nlevels > PVE_CACHE_MAXLEVELS)
        return pv_error_set(PV_ERR_INVALID, "cache simulator: %u levels, expected 1 to %d",
                            cfg->nlevels, PVE_CACHE_MAXLEVELS);
    for (uint32_t i = 0; i < cfg->nlevels; i++) {
        const pve_cache_level_config *l = &cfg->levels[i];
        uint32_t ways = l->assoc;
        if (!is_pow2(l->line) || l->line < 8 || l->line > 4096)
            return pv_error_set(PV_ERR_INVALID, "cache simulator: level %u (%.8s): line size %u bytes, "
                                "expected a power of two from 8 to 4096", i + 1, l->name, l->line);
        if (l->size == 0 || l->size % l->line)
            return pv_error_set(PV_ERR_INVALID, "cache simulator: level %u (%.8s): size %llu bytes is not "
                                "a non-zero multiple of the %u-byte line", i + 1, l->name,
                                (unsigned long long)l->size, l->line);
        if (ways == 0)
            ways = l->size / l->line > UINT32_MAX ? UINT32_MAX : (uint32_t)(l->size / l->line);
        if (ways > 1024)
            return pv_error_set(PV_ERR_INVALID, "cache simulator: level %u (%.8s): %u ways, at most 1024 are "
                                "supported (give the real associativity instead of fully associative)",
                                i + 1, l->name, ways);
        if (l->size % ((uint64_t)l->line * ways))
            return pv_error_set(PV_ERR_INVALID, "cache simulator: level %u (%.8s): size %llu bytes is not a "
                                "multiple of line * ways = %u * %u", i + 1, l->name,
                                (unsigned long long)l->size, l->line, ways);
    }
    return PV_OK;
}

int pve_cache_new(pve_cache **out, const pve_cache_config *cfg)
{
    int rc;
    pve_cache *c = NULL;
    *out = NULL;
    if ((rc = pve_cache_config_check(cfg)))
        goto done;
    if (!(c = calloc(1, sizeof *c))) {
        rc = pv_error_set(PV_ERR_NOMEM, "cache simulator: out of memory");
        goto done;
    }
    c->cfg = *cfg;
    c->nlevels = cfg->nlevels;
    for (uint32_t i = 0; i < c->nlevels; i++) {
        pve_cache_level_config *lc = &c->cfg.levels[i];
        level *l = &c->lv[i];
        lc->name[sizeof lc->name - 1] = '\0';
        if (lc->assoc == 0)
            lc->assoc = (uint32_t)(lc->size / lc->line);
        l->assoc = lc->assoc;
        l->nsets = lc->size / ((uint64_t)lc->line * lc->assoc);
        l->pow2 = is_pow2(l->nsets);
        l->set_mask = l->nsets - 1;
        while ((1u << l->line_bits) < lc->line)
            l->line_bits++;
        if (!(l->tags = malloc(l->nsets * l->assoc * sizeof *l->tags))) {
            rc = pv_error_set(PV_ERR_NOMEM, "cache simulator: out of memory for level %u (%llu bytes of tags)",
                              i + 1, (unsigned long long)(l->nsets * l->assoc * sizeof *l->tags));
            goto done;
        }
    }
    pve_cache_invalidate(c);
    c->track_cold = cfg->track_cold != 0;
    c->counting = 1;
    c->cur = c->stats;
    *out = c;
    c = NULL;
    rc = PV_OK;
done:
    pve_cache_free(c);
    return rc;
}

void pve_cache_free(pve_cache *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < PVE_CACHE_MAXLEVELS; i++)
        free(c->lv[i].tags);
    free(c->seen.keys);
    free(c);
}

uint32_t pve_cache_nlevels(const pve_cache *c)
{
    return c->nlevels;
}

const pve_cache_level_config *pve_cache_level(const pve_cache *c, uint32_t i)
{
    return i < c->nlevels ? &c->cfg.levels[i] : NULL;
}

void pve_cache_set_counting(pve_cache *c, int on)
{
    c->counting = on != 0;
    c->cur = on ? c->stats : c->sink;
}

int pve_cache_counting(const pve_cache *c)
{
    return c->counting;
}

void pve_cache_get_stats(const pve_cache *c, pve_cache_level_stats *out)
{
    memcpy(out, c->stats, c->nlevels * sizeof *out);
}

void pve_cache_reset_stats(pve_cache *c)
{
    memset(c->stats, 0, sizeof c->stats);
}

void pve_cache_invalidate(pve_cache *c)
{
    for (uint32_t i = 0; i < c->nlevels; i++)
        memset(c->lv[i].tags, 0xff, c->lv[i].nsets * c->lv[i].assoc * sizeof *c->lv[i].tags);
}

static size_t line_slot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* @return 1 when @p line was not in the set (it is now). */
static int lineset_add(lineset *s, uint64_t line)
{
    uint64_t key = line + 1;
    size_t i;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1u << 16;
        uint64_t *k = s->failed ? NULL : calloc(cap, sizeof *k);
        if (!k) {
            /* Without room the line cannot be remembered; calling it seen keeps the counts conservative. */
            s->failed = 1;
            return 0;
        }
        for (size_t j = 0; j < s->cap; j++)
            if (s->keys[j]) {
                i = line_slot(s->keys[j], cap);
                while (k[i])
                    i = (i + 1) & (cap - 1);
                k[i] = s->keys[j];
            }
        free(s->keys);
        s->keys = k;
        s->cap = cap;
    }
    i = line_slot(key, s->cap);
    while (s->keys[i]) {
        if (s->keys[i] == key)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[i] = key;
    s->n++;
    return 1;
}

int pve_cache_cold_failed(const pve_cache *c)
{
    return c->seen.failed;
}

/* A line that missed every level: cold if never seen before. */
static int is_cold(pve_cache *c, uint64_t addr)
{
    return c->track_cold && lineset_add(&c->seen, addr >> c->lv[c->nlevels - 1].line_bits);
}

/* Look line @p block up in @p l and make it the set's most recent.
 * @return 1 on a miss (the line is then filled, evicting the LRU way). */
static inline int lookup(const level *l, uint64_t block, unsigned w, pve_cache_level_stats *st)
{
    uint64_t set = l->pow2 ? (block & l->set_mask) : (block % l->nsets);
    uint64_t *s = l->tags + set * l->assoc;
    uint64_t key = block << 1;
    uint64_t t;
    uint32_t i;
    if (TAG_KEY(s[0]) == key) {
        s[0] |= w;
        return 0;
    }
    for (i = 1; i < l->assoc; i++) {
        t = s[i];
        if (TAG_KEY(t) == key) {
            for (; i; i--)
                s[i] = s[i - 1];
            s[0] = t | w;
            return 0;
        }
    }
    t = s[l->assoc - 1];
    if (t != TAG_INVALID && (t & 1))
        st->writebacks++;
    for (i = l->assoc - 1; i; i--)
        s[i] = s[i - 1];
    s[0] = key | w;
    return 1;
}

static inline void count_access(pve_cache_level_stats *st, unsigned w)
{
    if (w)
        st->writes++;
    else
        st->reads++;
}

static inline void count_miss(pve_cache_level_stats *st, unsigned w)
{
    if (w)
        st->write_misses++;
    else
        st->read_misses++;
}

/* The rare path: an access touching several L1 lines. Each line walks the
 * hierarchy on its own; a level counts the access once if any line reached
 * it and one miss if any line missed it. */
static unsigned access_lines(pve_cache *c, uint64_t first, uint64_t last, unsigned w)
{
    pve_cache_level_stats *st = c->cur;
    uint32_t lb0 = c->lv[0].line_bits;
    unsigned reached, missed = 0; /* levels reached / missed, deepest over the lines */
    int cold = 0;
    for (uint64_t b = first;; b++) {
        uint64_t a = b << lb0;
        unsigned k = 0;
        while (k < c->nlevels && lookup(&c->lv[k], a >> c->lv[k].line_bits, w, &st[k]))
            k++;
        if (k > missed)
            missed = k;
        if (k == c->nlevels && is_cold(c, a))
            cold = 1;
        if (b == last)
            break;
    }
    reached = missed < c->nlevels ? missed + 1 : c->nlevels;
    for (unsigned k = 0; k < reached; k++)
        count_access(&st[k], w);
    for (unsigned k = 0; k < missed; k++) {
        count_miss(&st[k], w);
        st[k].cold_misses += (unsigned)cold;
    }
    return missed;
}

unsigned pve_cache_access(pve_cache *c, uint64_t addr, uint32_t size, int is_write)
{
    unsigned w = is_write != 0;
    pve_cache_level_stats *st = c->cur;
    const level *l = &c->lv[0];
    uint64_t end = addr + (size ? size - 1 : 0);
    uint64_t first = addr >> l->line_bits;
    uint64_t last;
    unsigned k;
    if (end < addr)
        end = UINT64_MAX;
    last = end >> l->line_bits;
    if (__builtin_expect(first != last, 0))
        return access_lines(c, first, last, w);
    count_access(&st[0], w);
    if (!lookup(l, first, w, &st[0]))
        return 0;
    count_miss(&st[0], w);
    for (k = 1; k < c->nlevels; k++) {
        l = &c->lv[k];
        count_access(&st[k], w);
        if (!lookup(l, addr >> l->line_bits, w, &st[k]))
            return k;
        count_miss(&st[k], w);
    }
    if (is_cold(c, addr))
        for (k = 0; k < c->nlevels; k++)
            st[k].cold_misses++;
    return c->nlevels;
}

unsigned pve_cache_access_count(pve_cache *c, uint64_t addr, uint32_t size, int is_write, pve_cache_counts *b)
{
    unsigned d = pve_cache_access(c, addr, size, is_write);
    if (b && c->counting)
        pve_cache_count(b, d, is_write);
    return d;
}
