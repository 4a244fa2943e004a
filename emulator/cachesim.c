/* Multi-level set-associative LRU data-cache simulator (see cachesim.h). */
#include "cachesim.h"

#include <stdlib.h>
#include <string.h>

#include "prevision/error.h"

/* A tag word is (line number << 1) | dirty in its low 48 bits (line numbers
 * are taken modulo 2^47: guest addresses are 47-bit), and with track_cold a
 * pending mark (bit 63) and the window it was set in (bits 48-61) for a line
 * whose first sighting was counted as a cold miss: seen again in a later
 * window, the line recurred (pve_cache_recurred). Bit 62 is always 0, so no
 * real tag equals TAG_INVALID, and invalid ways sit at the LRU end of a set
 * from the start, which makes them the first victims without a separate
 * valid bit. */
#define TAG_INVALID UINT64_MAX
#define KEY_MASK ((((uint64_t)1 << 48) - 1) & ~(uint64_t)1)
#define TAG_KEY(t) ((t) & KEY_MASK)
#define TAG_PEND ((uint64_t)1 << 63)
#define TAG_WSHIFT 48
#define TAG_WMASK ((uint64_t)0x3fff)

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
    uint32_t *meta; /* per key: LS_PEND | LS_RECUR | window of the first sighting (low 16 bits) */
    size_t cap, n; /* cap is a power of two */
    int failed;
} lineset;
#define LS_PEND (1u << 16)  /* first sighting counted as a cold miss (measured, not a first touch) */
#define LS_RECUR (1u << 17) /* seen again in a later window */

struct pve_cache {
    uint32_t nlevels;
    int counting;
    int track_cold;
    lineset seen;
    uint64_t ncold;             /* cold accesses so far, counting or not */
    uint64_t nfirst;            /* of those, first touches */
    uint64_t npend, nrecur;     /* pending first sightings, and those that recurred */
    uint32_t window;            /* windows opened (pve_cache_next_window) */
    int last_cold, last_first;
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
    free(c->seen.meta);
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

/* @return 1 when @p line was not in the set (it is now); *@p slot receives its index, or SIZE_MAX when it
 * could not be remembered. */
static int lineset_add(lineset *s, uint64_t line, size_t *slot)
{
    uint64_t key = line + 1;
    size_t i;
    *slot = SIZE_MAX;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1u << 16;
        uint64_t *k = s->failed ? NULL : calloc(cap, sizeof *k);
        uint32_t *m = k ? calloc(cap, sizeof *m) : NULL;
        if (!k || !m) {
            /* Without room the line cannot be remembered; calling it seen keeps the counts conservative. */
            free(k);
            s->failed = 1;
            return 0;
        }
        for (size_t j = 0; j < s->cap; j++)
            if (s->keys[j]) {
                i = line_slot(s->keys[j], cap);
                while (k[i])
                    i = (i + 1) & (cap - 1);
                k[i] = s->keys[j];
                m[i] = s->meta[j];
            }
        free(s->keys);
        free(s->meta);
        s->keys = k;
        s->meta = m;
        s->cap = cap;
    }
    i = line_slot(key, s->cap);
    while (s->keys[i]) {
        if (s->keys[i] == key) {
            *slot = i;
            return 0;
        }
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[i] = key;
    s->meta[i] = 0;
    s->n++;
    *slot = i;
    return 1;
}

/* A line pending since its cold first sighting is seen in window @p c->window: recurred if that is a later
 * window (each line counts once). */
static void recur(pve_cache *c, size_t slot)
{
    uint32_t *m = &c->seen.meta[slot];
    if ((*m & LS_PEND) && !(*m & LS_RECUR) && (*m & 0xffff) != (c->window & 0xffff)) {
        *m |= LS_RECUR;
        c->nrecur++;
    }
}

static __attribute__((noinline)) void pend_hit(pve_cache *c, uint64_t *t, uint32_t line_bits)
{
    if (((*t >> TAG_WSHIFT) & TAG_WMASK) == (c->window & TAG_WMASK))
        return; /* the window of the first sighting */
    uint64_t line = (TAG_KEY(*t) >> 1) << line_bits >> c->lv[c->nlevels - 1].line_bits;
    const lineset *s = &c->seen;
    *t &= ~(TAG_PEND | TAG_WMASK << TAG_WSHIFT);
    if (!s->cap)
        return;
    size_t i = line_slot(line + 1, s->cap);
    while (s->keys[i] && s->keys[i] != line + 1)
        i = (i + 1) & (s->cap - 1);
    if (s->keys[i])
        recur(c, i);
}

void pve_cache_next_window(pve_cache *c)
{
    c->window++;
}

uint64_t pve_cache_recurred(const pve_cache *c, uint64_t *pending)
{
    if (pending)
        *pending = c->npend;
    return c->nrecur;
}

int pve_cache_cold_failed(const pve_cache *c)
{
    return c->seen.failed;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void pve_cache_seen(const pve_cache *c, uint64_t *lines, uint64_t *pages)
{
    const lineset *s = &c->seen;
    uint32_t lb = c->lv[c->nlevels - 1].line_bits;
    *lines = s->n;
    *pages = 0;
    if (!s->n)
        return;
    uint64_t *pg = malloc(s->n * sizeof *pg);
    if (!pg)
        return;
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->keys[i])
            pg[n++] = lb >= 12 ? (s->keys[i] - 1) << (lb - 12) : (s->keys[i] - 1) >> (12 - lb);
    qsort(pg, n, sizeof *pg, cmp_u64);
    uint64_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += !i || pg[i] != pg[i - 1];
    free(pg);
    *pages = distinct;
}

/* Mark the line of @p addr pending at every level (it was just filled: it is in its set) and in the
 * lineset entry @p slot. */
static void mark_pending(pve_cache *c, uint64_t addr, size_t slot)
{
    for (uint32_t k = 0; k < c->nlevels; k++) {
        const level *l = &c->lv[k];
        uint64_t block = addr >> l->line_bits;
        uint64_t set = l->pow2 ? (block & l->set_mask) : (block % l->nsets);
        uint64_t *t = l->tags + set * l->assoc, key = (block << 1) & KEY_MASK;
        for (uint32_t i = 0; i < l->assoc; i++)
            if (TAG_KEY(t[i]) == key) {
                t[i] = (t[i] & ~(TAG_WMASK << TAG_WSHIFT)) | TAG_PEND |
                       ((uint64_t)(c->window & TAG_WMASK) << TAG_WSHIFT);
                break;
            }
    }
    c->seen.meta[slot] = LS_PEND | (c->window & 0xffff);
    c->npend++;
}

/* A line that missed every level: 0 seen before, 1 cold (never seen), 2 cold and touched for the first
 * time in the run (first_touch). A line seen before but pending is checked for recurrence. */
static int is_cold(pve_cache *c, uint64_t addr)
{
    size_t slot;
    if (!c->track_cold)
        return 0;
    int cold = lineset_add(&c->seen, addr >> c->lv[c->nlevels - 1].line_bits, &slot);
    if (!cold) {
        if (slot != SIZE_MAX)
            recur(c, slot);
        return 0;
    }
    c->ncold++;
    if (c->cfg.first_touch && c->cfg.first_touch(c->cfg.first_touch_ctx, addr))
        return 2;
    if (c->counting && slot != SIZE_MAX)
        mark_pending(c, addr, slot);
    return 1;
}

int pve_cache_last_cold(const pve_cache *c)
{
    return c->last_cold;
}

/* Look line @p block up in @p l and make it the set's most recent.
 * @return 1 on a miss (the line is then filled, evicting the LRU way). */
static inline int lookup(pve_cache *c, const level *l, uint64_t block, unsigned w, pve_cache_level_stats *st)
{
    uint64_t set = l->pow2 ? (block & l->set_mask) : (block % l->nsets);
    uint64_t *s = l->tags + set * l->assoc;
    uint64_t key = (block << 1) & KEY_MASK;
    uint64_t t;
    uint32_t i;
    if (TAG_KEY(s[0]) == key) {
        s[0] |= w;
        if (__builtin_expect((int64_t)s[0] < 0, 0))
            pend_hit(c, &s[0], l->line_bits);
        return 0;
    }
    for (i = 1; i < l->assoc; i++) {
        t = s[i];
        if (TAG_KEY(t) == key) {
            for (; i; i--)
                s[i] = s[i - 1];
            s[0] = t | w;
            if (__builtin_expect((int64_t)t < 0, 0))
                pend_hit(c, &s[0], l->line_bits);
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
        while (k < c->nlevels && lookup(c, &c->lv[k], a >> c->lv[k].line_bits, w, &st[k]))
            k++;
        if (k > missed)
            missed = k;
        if (k == c->nlevels) {
            int ck = is_cold(c, a);
            if (ck > cold)
                cold = ck;
        }
        if (b == last)
            break;
    }
    reached = missed < c->nlevels ? missed + 1 : c->nlevels;
    for (unsigned k = 0; k < reached; k++)
        count_access(&st[k], w);
    for (unsigned k = 0; k < missed; k++) {
        count_miss(&st[k], w);
        st[k].cold_misses += cold != 0;
        st[k].first_misses += cold == 2;
    }
    c->nfirst += cold == 2;
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
    if (!lookup(c, l, first, w, &st[0]))
        return 0;
    count_miss(&st[0], w);
    for (k = 1; k < c->nlevels; k++) {
        l = &c->lv[k];
        count_access(&st[k], w);
        if (!lookup(c, l, addr >> l->line_bits, w, &st[k]))
            return k;
        count_miss(&st[k], w);
    }
    int cold = is_cold(c, addr);
    if (cold) {
        for (k = 0; k < c->nlevels; k++)
            st[k].cold_misses++;
        if (cold == 2) {
            for (k = 0; k < c->nlevels; k++)
                st[k].first_misses++;
            c->nfirst++;
        }
    }
    return c->nlevels;
}

unsigned pve_cache_access_count(pve_cache *c, uint64_t addr, uint32_t size, int is_write, pve_cache_counts *b)
{
    uint64_t cold = c->ncold, first = c->nfirst;
    unsigned d = pve_cache_access(c, addr, size, is_write);
    c->last_cold = c->ncold != cold;
    c->last_first = c->nfirst != first;
    if (b && c->counting) {
        pve_cache_count(b, d, is_write);
        b->cold += (uint64_t)c->last_cold;
        b->first += (uint64_t)c->last_first;
    }
    return d;
}
