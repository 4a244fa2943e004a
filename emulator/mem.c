/* Guest memory: a sorted list of mappings (VMAs), each backed by host
 * memory that Unicorn uses directly (uc_mem_map_ptr), so system calls read
 * and write guest buffers in place and mincore(2) on the host pages tells
 * which guest pages were touched.
 *
 * Host and guest pages are both 4096 bytes, so a guest range maps to a host
 * range of the same length and a partial unmap is a partial host munmap.
 * Host memory is always read-write; the guest's protections live in
 * Unicorn's regions.
 *
 * Accounting ("mapped"): every mapping except PROT_NONE reservations and
 * stacks (the main stack and MAP_STACK mappings, whose use is measured by
 * touched pages instead). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define MMAP_TOP 0x7ffff7fff000ull
#define MMAP_BOTTOM 0x10000ull
#define STACK_TOP 0x7ffffffff000ull
#define STACK_SIZE (8ull << 20)
#define BRK_MAX (16ull << 30)

static uint32_t guest_prot(uint32_t prot)
{
    uint32_t p = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
    if (p & (PROT_WRITE | PROT_EXEC))
        p |= PROT_READ; /* x86 pages that are writable or executable are readable */
    return p;
}

static int counted(const pve_vma *v) { return v->prot != PROT_NONE && v->kind != PVE_VMA_STACK; }

static void account(pv_emu *e, const pve_vma *v, int sign)
{
    if (!counted(v))
        return;
    uint64_t len = v->end - v->start;
    if (sign > 0) {
        e->mem.mapped += len;
        if (e->mem.mapped > e->mem.peak)
            e->mem.peak = e->mem.mapped;
    } else {
        e->mem.mapped -= len;
    }
}

/* Resident (touched) bytes of host [p, p+len). */
static uint64_t resident(const uint8_t *p, uint64_t len)
{
    unsigned char vec[4096];
    uint64_t n = 0;
    for (uint64_t off = 0; off < len; off += sizeof vec * PVE_PAGE) {
        uint64_t chunk = len - off < sizeof vec * PVE_PAGE ? len - off : sizeof vec * PVE_PAGE;
        if (mincore((void *)(p + off), chunk, vec))
            return 0;
        for (uint64_t i = 0; i < chunk / PVE_PAGE; i++)
            n += vec[i] & 1;
    }
    return n * PVE_PAGE;
}

static int anon_kind(const pve_vma *v) { return v->kind != PVE_VMA_FILE; }

static size_t lower_bound(const pve_mem *m, uint64_t addr)
{
    /* first VMA whose end is above addr */
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

pve_vma *pve_mem_find(pv_emu *e, uint64_t addr)
{
    pve_mem *m = &e->mem;
    if (m->last < m->n && addr >= m->v[m->last].start && addr < m->v[m->last].end)
        return &m->v[m->last];
    size_t i = lower_bound(m, addr);
    if (i < m->n && m->v[i].start <= addr) {
        m->last = i;
        return &m->v[i];
    }
    return NULL;
}

static int vma_insert(pv_emu *e, const pve_vma *v)
{
    pve_mem *m = &e->mem;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        pve_vma *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv)
            return pv_error_set(PV_ERR_NOMEM, "emulator: out of memory for guest mappings");
        m->v = nv;
        m->cap = cap;
    }
    size_t i = lower_bound(m, v->start);
    memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *v);
    m->v[i] = *v;
    m->n++;
    m->last = i;
    return PV_OK;
}

int pve_mem_is_free(pv_emu *e, uint64_t addr, uint64_t len)
{
    if (!len || addr + len < addr || addr + len > STACK_TOP)
        return 0;
    size_t i = lower_bound(&e->mem, addr);
    if (i < e->mem.n && e->mem.v[i].start < addr + len)
        return 0;
    /* the brk area is reserved up to its maximum */
    if (e->mem.brk_start && addr < e->mem.brk_start + e->mem.brk_max && addr + len > e->mem.brk_start)
        return 0;
    return 1;
}

uint64_t pve_mem_find_free(pv_emu *e, uint64_t hint, uint64_t len)
{
    pve_mem *m = &e->mem;
    len = PVE_PAGE_UP(len);
    if (!len)
        return 0;
    hint = PVE_PAGE_DOWN(hint);
    if (hint >= MMAP_BOTTOM && pve_mem_is_free(e, hint, len))
        return hint;
    /* top-down, like Linux's default layout: the highest gap below mmap_top */
    uint64_t top = m->mmap_top;
    size_t i = m->n;
    for (;;) {
        while (i > 0 && m->v[i - 1].start >= top)
            i--;
        uint64_t floor = i ? m->v[i - 1].end : MMAP_BOTTOM;
        if (floor > top) { /* v[i-1] straddles top: the gap starts below it */
            top = m->v[i - 1].start;
            continue;
        }
        if (floor < MMAP_BOTTOM)
            floor = MMAP_BOTTOM;
        if (top >= floor && top - floor >= len) {
            uint64_t a = top - len;
            if (m->brk_start && a < m->brk_start + m->brk_max && top > m->brk_start) {
                top = m->brk_start; /* the brk reservation is in the way: continue below it */
                continue;
            }
            return a;
        }
        if (!i)
            return 0;
        top = m->v[i - 1].start;
    }
}

static void retire_code(pv_emu *e, const pve_vma *v, uint64_t s, uint64_t t)
{
    if (v->prot & PROT_EXEC)
        pve_blocks_retire(e, s, t);
}

/* Remove guest [s, t) from VMA index i (which contains it), releasing the
 * host pages unless @p keep_host. */
static int vma_cut(pv_emu *e, size_t i, uint64_t s, uint64_t t, int keep_host)
{
    pve_mem *m = &e->mem;
    pve_vma v = m->v[i];
    if (!keep_host && anon_kind(&v))
        m->touched += resident(v.host + (s - v.start), t - s);
    retire_code(e, &v, s, t);
    uc_err err = uc_mem_unmap(e->uc, s, t - s);
    if (err)
        return pv_error_set(PV_ERR_BACKEND, "emulator: unmapping guest 0x%llx..0x%llx failed: %s",
                            (unsigned long long)s, (unsigned long long)t, uc_strerror(err));
    if (!keep_host && v.kind != PVE_VMA_BRK)
        munmap(v.host + (s - v.start), t - s);
    else if (!keep_host)
        mmap(v.host + (s - v.start), t - s, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
             0); /* give the pages back, keep the brk reservation */
    account(e, &v, -1);
    if (s == v.start && t == v.end) {
        memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof v);
        m->n--;
    } else if (s == v.start) {
        m->v[i].host += t - v.start;
        m->v[i].start = t;
        account(e, &m->v[i], +1);
    } else if (t == v.end) {
        m->v[i].end = s;
        account(e, &m->v[i], +1);
    } else {
        pve_vma right = v;
        right.start = t;
        right.host = v.host + (t - v.start);
        m->v[i].end = s;
        account(e, &m->v[i], +1);
        int rc = vma_insert(e, &right);
        if (rc)
            return rc;
        account(e, &right, +1);
    }
    m->last = 0;
    return PV_OK;
}

int pve_mem_unmap(pv_emu *e, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    pve_mem *m = &e->mem;
    for (;;) {
        size_t i = lower_bound(m, addr);
        if (i >= m->n || m->v[i].start >= end)
            return PV_OK;
        uint64_t s = m->v[i].start > addr ? m->v[i].start : addr;
        uint64_t t = m->v[i].end < end ? m->v[i].end : end;
        int rc = vma_cut(e, i, s, t, 0);
        if (rc)
            return rc;
        addr = t;
    }
}

int pve_mem_map(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot, int kind, int fd, uint64_t off,
                uint64_t flen, uint32_t obj)
{
    int rc = pve_mem_unmap(e, addr, len);
    if (rc)
        return rc;
    uint8_t *host = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED)
        return pv_error_set(PV_ERR_NOMEM, "emulator: cannot reserve %llu bytes of host memory for the guest",
                            (unsigned long long)len);
    if (fd >= 0 && flen) {
        if (flen > len)
            flen = len;
        /* Only pages inside the file: a host page past its end would raise SIGBUS in the emulator. */
        if (mmap(host, PVE_PAGE_UP(flen), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, (off_t)off) ==
            MAP_FAILED) {
            munmap(host, len);
            return pv_error_set(PV_ERR_IO, "emulator: cannot map %llu file bytes at offset %llu for the guest",
                                (unsigned long long)flen, (unsigned long long)off);
        }
        if (flen & (PVE_PAGE - 1)) /* the tail of the last page is past the end of the file: zeros */
            memset(host + flen, 0, PVE_PAGE_UP(flen) - flen);
    }
    uc_err err = uc_mem_map_ptr(e->uc, addr, len, guest_prot(prot), host);
    if (err) {
        munmap(host, len);
        return pv_error_set(PV_ERR_BACKEND, "emulator: mapping guest 0x%llx+0x%llx failed: %s",
                            (unsigned long long)addr, (unsigned long long)len, uc_strerror(err));
    }
    pve_vma v = {.start = addr, .end = addr + len, .host = host, .prot = prot, .kind = (uint16_t)kind, .obj = obj};
    if ((rc = vma_insert(e, &v))) {
        uc_mem_unmap(e->uc, addr, len);
        munmap(host, len);
        return rc;
    }
    account(e, &v, +1);
    return PV_OK;
}

int pve_mem_protect(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot)
{
    pve_mem *m = &e->mem;
    uint64_t end = addr + len;
    /* Linux: the whole range must be mapped */
    for (uint64_t a = addr; a < end;) {
        pve_vma *v = pve_mem_find(e, a);
        if (!v)
            return -ENOMEM;
        a = v->end;
    }
    for (uint64_t a = addr; a < end;) {
        size_t i = lower_bound(m, a);
        pve_vma v = m->v[i];
        uint64_t s = a, t = v.end < end ? v.end : end;
        if (v.prot != prot) {
            uc_err err = uc_mem_protect(e->uc, s, t - s, guest_prot(prot));
            if (err) {
                pv_error_set(PV_ERR_BACKEND, "emulator: protecting guest 0x%llx..0x%llx failed: %s",
                             (unsigned long long)s, (unsigned long long)t, uc_strerror(err));
                return -ENOMEM;
            }
            /* code made executable again may have been rewritten: forget its blocks */
            if ((prot & PROT_EXEC) && !(v.prot & PROT_EXEC))
                pve_blocks_retire(e, s, t);
            account(e, &v, -1);
            pve_vma mid = v;
            mid.start = s;
            mid.end = t;
            mid.host = v.host + (s - v.start);
            mid.prot = prot;
            if (s == v.start && t == v.end) {
                m->v[i] = mid;
            } else if (s == v.start) {
                m->v[i].start = t;
                m->v[i].host += t - v.start;
                account(e, &m->v[i], +1);
                if (vma_insert(e, &mid))
                    return -ENOMEM;
            } else if (t == v.end) {
                m->v[i].end = s;
                account(e, &m->v[i], +1);
                if (vma_insert(e, &mid))
                    return -ENOMEM;
            } else {
                pve_vma right = v;
                right.start = t;
                right.host = v.host + (t - v.start);
                m->v[i].end = s;
                account(e, &m->v[i], +1);
                if (vma_insert(e, &mid) || vma_insert(e, &right))
                    return -ENOMEM;
                account(e, &right, +1);
            }
            account(e, &mid, +1);
            m->last = 0;
        }
        a = t;
    }
    return 0;
}

void *pve_mem_ptr(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot)
{
    pve_vma *v = pve_mem_find(e, addr);
    if (!v || len > v->end - addr)
        return NULL;
    if ((guest_prot(v->prot) & prot) != prot)
        return NULL;
    return v->host + (addr - v->start);
}

int pve_mem_iov(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot, struct iovec *iov, int max)
{
    int n = 0;
    while (len) {
        pve_vma *v = pve_mem_find(e, addr);
        if (!v || (guest_prot(v->prot) & prot) != prot || n == max)
            return n ? n : -EFAULT; /* a short transfer up to the fault, like the kernel */
        uint64_t chunk = v->end - addr < len ? v->end - addr : len;
        iov[n].iov_base = v->host + (addr - v->start);
        iov[n].iov_len = chunk;
        n++;
        addr += chunk;
        len -= chunk;
    }
    return n;
}

int pve_mem_read(pv_emu *e, uint64_t addr, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        pve_vma *v = pve_mem_find(e, addr);
        if (!v || !(guest_prot(v->prot) & PROT_READ))
            return -EFAULT;
        size_t chunk = v->end - addr < len ? v->end - addr : len;
        memcpy(out, v->host + (addr - v->start), chunk);
        out += chunk;
        addr += chunk;
        len -= chunk;
    }
    return 0;
}

int pve_mem_write(pv_emu *e, uint64_t addr, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    uint64_t a0 = addr, l0 = len;
    while (len) {
        pve_vma *v = pve_mem_find(e, addr);
        if (!v || !(v->prot & PROT_WRITE))
            return -EFAULT;
        size_t chunk = v->end - addr < len ? v->end - addr : len;
        memcpy(v->host + (addr - v->start), in, chunk);
        in += chunk;
        addr += chunk;
        len -= chunk;
    }
    pve_mem_host_wrote(e, a0, l0);
    return 0;
}

int pve_mem_strcpy(pv_emu *e, uint64_t addr, char *buf, size_t size)
{
    size_t n = 0;
    while (n < size) {
        pve_vma *v = pve_mem_find(e, addr + n);
        if (!v || !(guest_prot(v->prot) & PROT_READ))
            return -EFAULT;
        size_t avail = v->end - (addr + n);
        if (avail > size - n)
            avail = size - n;
        const uint8_t *src = v->host + (addr + n - v->start);
        const uint8_t *z = memchr(src, 0, avail);
        if (z) {
            memcpy(buf + n, src, (size_t)(z - src) + 1);
            return 0;
        }
        memcpy(buf + n, src, avail);
        n += avail;
    }
    return -ENAMETOOLONG;
}

void pve_mem_host_wrote(pv_emu *e, uint64_t addr, uint64_t len)
{
    /* The guest's own stores invalidate translations through Unicorn's TLB;
     * the host's writes (read(2) into guest memory) do not. */
    for (uint64_t a = addr; a < addr + len;) {
        pve_vma *v = pve_mem_find(e, a);
        if (!v)
            return;
        uint64_t t = v->end < addr + len ? v->end : addr + len;
        if (v->prot & PROT_EXEC) {
            uc_ctl_remove_cache(e->uc, a, t);
            pve_blocks_retire(e, a, t);
        }
        a = t;
    }
}

int pve_mem_init(pv_emu *e)
{
    pve_mem *m = &e->mem;
    m->mmap_top = MMAP_TOP;
    m->stack_hi = STACK_TOP;
    m->stack_lo = STACK_TOP - STACK_SIZE;
    return pve_mem_map(e, m->stack_lo, STACK_SIZE, PROT_READ | PROT_WRITE, PVE_VMA_STACK, -1, 0, 0, PV_NONE);
}

void pve_mem_fini(pv_emu *e)
{
    pve_mem *m = &e->mem;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i].kind != PVE_VMA_BRK)
            munmap(m->v[i].host, m->v[i].end - m->v[i].start);
    if (m->brk_host)
        munmap(m->brk_host, m->brk_max);
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* Set up the brk area right after the executable (the loader calls this through pve_mem_brk(e, 0) first). */
static int brk_reserve(pv_emu *e)
{
    pve_mem *m = &e->mem;
    m->brk_max = BRK_MAX;
    m->brk_host = mmap(NULL, m->brk_max, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->brk_host == MAP_FAILED) {
        m->brk_host = NULL;
        m->brk_max = 0;
        return -ENOMEM;
    }
    m->brk_cur = m->brk_mapped = m->brk_peak = m->brk_start;
    return 0;
}

int64_t pve_mem_brk(pv_emu *e, uint64_t want)
{
    pve_mem *m = &e->mem;
    if (!m->brk_host && brk_reserve(e))
        return (int64_t)m->brk_cur;
    if (want < m->brk_start || want > m->brk_start + m->brk_max)
        return (int64_t)m->brk_cur;
    uint64_t need = PVE_PAGE_UP(want);
    if (need > m->brk_mapped) {
        uint64_t grow = need - m->brk_mapped;
        if (e->opts.max_mem && m->mapped + grow > e->opts.max_mem) {
            pve_end(e, "limit:mem", -1, "memory limit reached: brk to %llu bytes of heap would map %llu bytes, over "
                    "--max-mem %llu", (unsigned long long)(want - m->brk_start),
                    (unsigned long long)(m->mapped + grow), (unsigned long long)e->opts.max_mem);
            return (int64_t)m->brk_cur;
        }
        /* the area above the heap may have been taken by a MAP_FIXED mmap */
        for (size_t i = lower_bound(m, m->brk_mapped); i < m->n; i++)
            if (m->v[i].start < need)
                return (int64_t)m->brk_cur;
        uint8_t *h = m->brk_host + (m->brk_mapped - m->brk_start);
        if (mprotect(h, grow, PROT_READ | PROT_WRITE))
            return (int64_t)m->brk_cur;
        /* one region for the whole heap: merge with the previous brk VMA */
        uint64_t start = m->brk_mapped;
        pve_vma *prev = m->brk_mapped > m->brk_start ? pve_mem_find(e, m->brk_mapped - 1) : NULL;
        if (prev && prev->kind == PVE_VMA_BRK && prev->end == m->brk_mapped &&
            prev->prot == (PROT_READ | PROT_WRITE)) {
            start = prev->start;
            uc_mem_unmap(e->uc, prev->start, prev->end - prev->start);
            account(e, prev, -1);
            size_t i = (size_t)(prev - m->v);
            memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *prev);
            m->n--;
            m->last = 0;
        }
        uint8_t *hs = m->brk_host + (start - m->brk_start);
        if (uc_mem_map_ptr(e->uc, start, need - start, UC_PROT_READ | UC_PROT_WRITE, hs))
            return (int64_t)m->brk_cur;
        pve_vma v = {.start = start, .end = need, .host = hs, .prot = PROT_READ | PROT_WRITE, .kind = PVE_VMA_BRK,
                     .obj = PV_NONE};
        if (vma_insert(e, &v))
            return (int64_t)m->brk_cur;
        account(e, &v, +1);
        m->brk_mapped = need;
    } else if (need < m->brk_mapped) {
        pve_mem_unmap(e, need, m->brk_mapped - need);
        m->brk_mapped = need;
    }
    m->brk_cur = want;
    if (want > m->brk_peak)
        m->brk_peak = want;
    return (int64_t)want;
}

int64_t pve_mem_mremap(pv_emu *e, uint64_t old, uint64_t oldlen, uint64_t newlen, int flags, uint64_t newaddr)
{
    pve_mem *m = &e->mem;
    if ((old & (PVE_PAGE - 1)) || !newlen)
        return -EINVAL;
    oldlen = PVE_PAGE_UP(oldlen);
    newlen = PVE_PAGE_UP(newlen);
    if (!oldlen)
        return -EINVAL; /* duplicating shared mappings is not supported */
    pve_vma *v = pve_mem_find(e, old);
    if (!v || old + oldlen > v->end)
        return -EFAULT;
    if (v->kind == PVE_VMA_FILE || v->kind == PVE_VMA_BRK)
        return -EINVAL;
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return -EINVAL;
    if (!(flags & MREMAP_FIXED) && newlen <= oldlen) {
        if (newlen < oldlen && pve_mem_unmap(e, old + newlen, oldlen - newlen))
            return -ENOMEM;
        return (int64_t)old;
    }
    uint64_t dest;
    if (flags & MREMAP_FIXED) {
        if (newaddr & (PVE_PAGE - 1))
            return -EINVAL;
        if (newaddr < old + oldlen && old < newaddr + newlen)
            return -EINVAL;
        if (pve_mem_unmap(e, newaddr, newlen))
            return -ENOMEM;
        dest = newaddr;
    } else if (pve_mem_is_free(e, old + oldlen, newlen - oldlen)) {
        dest = old;
    } else if (flags & MREMAP_MAYMOVE) {
        dest = pve_mem_find_free(e, 0, newlen);
        if (!dest)
            return -ENOMEM;
    } else {
        return -ENOMEM;
    }
    if (e->opts.max_mem && newlen > oldlen && counted(v) && m->mapped + (newlen - oldlen) > e->opts.max_mem) {
        pve_end(e, "limit:mem", -1, "memory limit reached: mremap to %llu bytes would map %llu bytes, over "
                "--max-mem %llu", (unsigned long long)newlen, (unsigned long long)(m->mapped + newlen - oldlen),
                (unsigned long long)e->opts.max_mem);
        return -ENOMEM;
    }
    pve_vma keep = *v;
    uint8_t *hold = v->host + (old - v->start);
    uint8_t *hnew = mremap(hold, oldlen, newlen, MREMAP_MAYMOVE);
    if (hnew == MAP_FAILED)
        return -ENOMEM;
    size_t i = (size_t)(v - m->v);
    if (vma_cut(e, i, old, old + oldlen, 1))
        return -ENOMEM;
    if (uc_mem_map_ptr(e->uc, dest, newlen, guest_prot(keep.prot), hnew)) {
        munmap(hnew, newlen);
        return -ENOMEM;
    }
    pve_vma nv = keep;
    nv.start = dest;
    nv.end = dest + newlen;
    nv.host = hnew;
    if (vma_insert(e, &nv))
        return -ENOMEM;
    account(e, &nv, +1);
    return (int64_t)dest;
}

uint64_t pve_mem_touched(pv_emu *e)
{
    uint64_t n = e->mem.touched;
    for (size_t i = 0; i < e->mem.n; i++)
        if (anon_kind(&e->mem.v[i]))
            n += resident(e->mem.v[i].host, e->mem.v[i].end - e->mem.v[i].start);
    return n;
}

uint64_t pve_mem_stack_depth(pv_emu *e)
{
    pve_vma *v = pve_mem_find(e, e->mem.stack_hi - 1);
    if (!v || v->kind != PVE_VMA_STACK)
        return 0;
    unsigned char vec[256];
    /* the lowest resident page of the main stack */
    uint64_t lo = v->end;
    for (uint64_t a = v->start; a < v->end; a += sizeof vec * PVE_PAGE) {
        uint64_t chunk = v->end - a < sizeof vec * PVE_PAGE ? v->end - a : sizeof vec * PVE_PAGE;
        if (mincore(v->host + (a - v->start), chunk, vec))
            return 0;
        for (uint64_t j = 0; j < chunk / PVE_PAGE; j++)
            if (vec[j] & 1) {
                lo = a + j * PVE_PAGE;
                return e->mem.stack_hi - lo;
            }
    }
    return 0;
}
