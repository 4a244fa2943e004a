/* Natural loops of one function's CFG.
 *
 * Dominators by Cooper, Harvey and Kennedy, "A Simple, Fast Dominance
 * Algorithm" (2001): iterate idom over reverse postorder until it settles.
 * A virtual root precedes the entry block and every block that the entry
 * does not reach (code reached only through an unresolved indirect jump),
 * so that loops there are still found. A retreating DFS edge u->h is a back
 * edge when h dominates u (a natural loop headed by h); otherwise the cycle
 * has another entry and is flagged irreducible, with the blocks on paths
 * h->...->u as its body. Nesting follows body inclusion: loops sorted by
 * size, each one's parent is the smallest larger loop holding its header. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct lp {
    uint32_t header;
    uint32_t nlatch, irreducible;
    uint32_t *latch; /* sources of retreating edges into header */
    uint32_t nlatchcap;
} lp;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_size_desc(const void *a, const void *b, void *ud)
{
    const pva_floop *L = ud;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (L[x].nblocks != L[y].nblocks)
        return L[x].nblocks > L[y].nblocks ? -1 : 1;
    return L[x].header < L[y].header ? -1 : L[x].header > L[y].header;
}

int pva_find_loops(uint32_t n, const uint32_t *succ_off, const uint32_t *succ, pva_floop **loops_out,
                   uint32_t *nloops_out)
{
    int rc = PV_OK;
    *loops_out = NULL;
    *nloops_out = 0;
    if (!n)
        return PV_OK;
    uint32_t R = n; /* virtual root */
    uint32_t nedges = succ_off[n];
    uint32_t *pred_off = calloc(n + 2, sizeof *pred_off);
    uint32_t *pred = malloc((nedges ? nedges : 1) * sizeof *pred);
    uint32_t *po = malloc((n + 1) * sizeof *po);      /* postorder number */
    uint32_t *pre = malloc((n + 1) * sizeof *pre);    /* preorder number */
    uint32_t *rpo = malloc((n + 1) * sizeof *rpo);    /* nodes by reverse postorder */
    uint32_t *idom = malloc((n + 1) * sizeof *idom);
    uint8_t *root_child = calloc(n + 1, 1);
    uint32_t *stack = malloc((n + 1) * sizeof *stack);
    uint32_t *iter = malloc((n + 1) * sizeof *iter);
    uint8_t *onstack = calloc(n + 1, 1);
    uint32_t *mark = calloc(n + 1, sizeof *mark), *mark2 = calloc(n + 1, sizeof *mark2);
    uint32_t *work = malloc((n + 1) * sizeof *work);
    lp *lps = NULL;
    uint32_t nlps = 0, lpcap = 0, nL = 0;
    uint32_t *lp_of = malloc((n + 1) * sizeof *lp_of);
    pva_floop *L = NULL;
    uint32_t *order = NULL, *inner = NULL;
    if (!pred_off || !pred || !po || !pre || !rpo || !idom || !root_child || !stack || !iter || !onstack || !mark ||
        !mark2 || !work || !lp_of)
        goto nomem;

    /* Predecessors. */
    for (uint32_t e = 0; e < nedges; e++)
        pred_off[succ[e] + 1]++;
    for (uint32_t i = 0; i < n; i++)
        pred_off[i + 1] += pred_off[i];
    {
        uint32_t *fill = malloc((n + 1) * sizeof *fill);
        if (!fill)
            goto nomem;
        memcpy(fill, pred_off, (n + 1) * sizeof *fill);
        for (uint32_t u = 0; u < n; u++)
            for (uint32_t e = succ_off[u]; e < succ_off[u + 1]; e++)
                pred[fill[succ[e]]++] = u;
        free(fill);
    }

    /* Iterative DFS from the virtual root; retreating edges recorded as we go. */
    for (uint32_t i = 0; i <= n; i++) {
        pre[i] = UINT32_MAX;
        po[i] = UINT32_MAX;
        lp_of[i] = UINT32_MAX;
    }
    uint32_t npre = 0, npo = 0;
    for (uint32_t start = 0; start < n; start++) {
        if (pre[start] != UINT32_MAX)
            continue;
        root_child[start] = 1;
        uint32_t sp = 0;
        stack[sp] = start;
        iter[sp] = succ_off[start];
        sp++;
        pre[start] = npre++;
        onstack[start] = 1;
        while (sp) {
            uint32_t u = stack[sp - 1];
            if (iter[sp - 1] < succ_off[u + 1]) {
                uint32_t v = succ[iter[sp - 1]++];
                if (pre[v] == UINT32_MAX) {
                    pre[v] = npre++;
                    onstack[v] = 1;
                    stack[sp] = v;
                    iter[sp] = succ_off[v];
                    sp++;
                } else if (onstack[v]) {
                    /* Retreating edge u -> v. */
                    if (lp_of[v] == UINT32_MAX) {
                        if (nlps == lpcap) {
                            uint32_t nc = lpcap ? lpcap * 2 : 8;
                            lp *x = realloc(lps, nc * sizeof *x);
                            if (!x)
                                goto nomem;
                            lps = x;
                            lpcap = nc;
                        }
                        lps[nlps] = (lp){.header = v};
                        lp_of[v] = nlps++;
                    }
                    lp *l = &lps[lp_of[v]];
                    if (l->nlatch == l->nlatchcap) {
                        uint32_t nc = l->nlatchcap ? l->nlatchcap * 2 : 2;
                        uint32_t *x = realloc(l->latch, nc * sizeof *x);
                        if (!x)
                            goto nomem;
                        l->latch = x;
                        l->nlatchcap = nc;
                    }
                    l->latch[l->nlatch++] = u;
                }
            } else {
                onstack[u] = 0;
                po[u] = npo++;
                sp--;
            }
        }
    }
    if (!nlps)
        goto done;
    po[R] = npo++;
    for (uint32_t i = 0; i <= n; i++)
        rpo[npo - 1 - po[i]] = i;

    /* Dominators (Cooper-Harvey-Kennedy). */
    for (uint32_t i = 0; i <= n; i++)
        idom[i] = UINT32_MAX;
    idom[R] = R;
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t k = 1; k <= n; k++) {
            uint32_t b = rpo[k], nd = UINT32_MAX;
            if (root_child[b])
                nd = R;
            for (uint32_t e = pred_off[b]; e < pred_off[b + 1]; e++) {
                uint32_t p = pred[e];
                if (idom[p] == UINT32_MAX)
                    continue;
                if (nd == UINT32_MAX) {
                    nd = p;
                    continue;
                }
                uint32_t x = p, y = nd;
                while (x != y) {
                    while (po[x] < po[y])
                        x = idom[x];
                    while (po[y] < po[x])
                        y = idom[y];
                }
                nd = x;
            }
            if (nd != UINT32_MAX && idom[b] != nd) {
                idom[b] = nd;
                changed = 1;
            }
        }
    }

    /* Bodies. */
    if (!(L = calloc(nlps, sizeof *L)))
        goto nomem;
    uint32_t stamp = 0;
    for (uint32_t li = 0; li < nlps; li++) {
        lp *l = &lps[li];
        uint32_t h = l->header;
        stamp++;
        /* Forward reach from h: bounds the body of an irreducible region. */
        int irr = 0;
        for (uint32_t j = 0; j < l->nlatch; j++) {
            uint32_t u = l->latch[j];
            uint32_t x = u;
            while (x != h && x != R)
                x = idom[x];
            if (x != h)
                irr = 1;
        }
        if (irr) {
            uint32_t nw = 0;
            work[nw++] = h;
            mark2[h] = stamp;
            while (nw) {
                uint32_t u = work[--nw];
                for (uint32_t e = succ_off[u]; e < succ_off[u + 1]; e++)
                    if (mark2[succ[e]] != stamp) {
                        mark2[succ[e]] = stamp;
                        work[nw++] = succ[e];
                    }
            }
        }
        uint32_t cap = 16, nb = 0;
        uint32_t *body = malloc(cap * sizeof *body);
        if (!body)
            goto nomem;
        body[nb++] = h;
        mark[h] = stamp;
        uint32_t nw = 0;
        for (uint32_t j = 0; j < l->nlatch; j++) {
            uint32_t u = l->latch[j];
            if (mark[u] != stamp) {
                mark[u] = stamp;
                work[nw++] = u;
            }
        }
        while (nw) {
            uint32_t u = work[--nw];
            if (nb == cap) {
                cap *= 2;
                uint32_t *x = realloc(body, cap * sizeof *x);
                if (!x) {
                    free(body);
                    goto nomem;
                }
                body = x;
            }
            body[nb++] = u;
            for (uint32_t e = pred_off[u]; e < pred_off[u + 1]; e++) {
                uint32_t p = pred[e];
                if (mark[p] == stamp || pre[p] == UINT32_MAX)
                    continue;
                if (irr && mark2[p] != stamp)
                    continue;
                mark[p] = stamp;
                work[nw++] = p;
            }
        }
        /* Header first, the rest by address. */
        if (nb > 2)
            qsort(body + 1, nb - 1, sizeof *body, cmp_u32);
        L[li].header = h;
        L[li].latch = l->latch[0];
        for (uint32_t j = 1; j < l->nlatch; j++)
            if (l->latch[j] > L[li].latch)
                L[li].latch = l->latch[j];
        L[li].blocks = body;
        L[li].nblocks = nb;
        L[li].flags = irr ? PV_LOOP_IRREDUCIBLE : 0;
        L[li].parent = PV_NONE;
        nL = li + 1;
    }

    nL = nlps;
    /* An irreducible region is found once per entry with the same blocks:
     * keep one loop per body (the one found first in DFS order, or the
     * natural loop with that body), flagged irreducible. */
    {
        int any_irr = 0;
        for (uint32_t i = 0; i < nL; i++)
            any_irr |= (L[i].flags & PV_LOOP_IRREDUCIBLE) != 0;
        if (any_irr) {
            uint32_t w = 0;
            for (uint32_t i = 0; i < nL; i++) {
                int dup = -1;
                for (uint32_t k = 0; k < w && dup < 0; k++) {
                    if (L[k].nblocks != L[i].nblocks ||
                        !((L[k].flags | L[i].flags) & PV_LOOP_IRREDUCIBLE))
                        continue;
                    stamp++;
                    for (uint32_t m = 0; m < L[k].nblocks; m++)
                        mark[L[k].blocks[m]] = stamp;
                    uint32_t m = 0;
                    while (m < L[i].nblocks && mark[L[i].blocks[m]] == stamp)
                        m++;
                    if (m == L[i].nblocks)
                        dup = (int)k;
                }
                if (dup >= 0) {
                    /* A natural loop with the same blocks keeps its header. */
                    if (!(L[i].flags & PV_LOOP_IRREDUCIBLE) && (L[dup].flags & PV_LOOP_IRREDUCIBLE)) {
                        free(L[dup].blocks);
                        L[dup] = L[i];
                    } else {
                        free(L[i].blocks);
                    }
                    L[dup].flags |= PV_LOOP_IRREDUCIBLE;
                    continue;
                }
                L[w++] = L[i];
            }
            nL = w;
        }
    }

    /* Nesting. */
    order = malloc(nL * sizeof *order);
    inner = malloc(n * sizeof *inner);
    if (!order || !inner)
        goto nomem;
    for (uint32_t i = 0; i < nL; i++)
        order[i] = i;
    qsort_r(order, nL, sizeof *order, cmp_size_desc, L);
    for (uint32_t i = 0; i < n; i++)
        inner[i] = PV_NONE;
    for (uint32_t k = 0; k < nL; k++) {
        pva_floop *x = &L[order[k]];
        x->parent = inner[x->header];
        x->depth = x->parent == PV_NONE ? 1 : L[x->parent].depth + 1;
        for (uint32_t j = 0; j < x->nblocks; j++)
            inner[x->blocks[j]] = order[k];
    }
    /* Output: outer loops before inner ones (parents first). */
    {
        pva_floop *out = malloc(nL * sizeof *out);
        uint32_t *newidx = malloc(nL * sizeof *newidx);
        if (!out || !newidx) {
            free(out);
            free(newidx);
            goto nomem;
        }
        for (uint32_t k = 0; k < nL; k++)
            newidx[order[k]] = k;
        for (uint32_t k = 0; k < nL; k++) {
            out[k] = L[order[k]];
            if (out[k].parent != PV_NONE)
                out[k].parent = newidx[out[k].parent];
        }
        free(newidx);
        free(L);
        L = out;
    }
    *loops_out = L;
    *nloops_out = nL;
    L = NULL;
    goto done;
nomem:
    rc = pv_error_set(PV_ERR_NOMEM, "out of memory finding loops");
    if (L)
        for (uint32_t i = 0; i < nL; i++)
            free(L[i].blocks);
done:
    free(L);
    for (uint32_t i = 0; i < nlps; i++)
        free(lps[i].latch);
    free(lps);
    free(pred_off);
    free(pred);
    free(po);
    free(pre);
    free(rpo);
    free(idom);
    free(root_child);
    free(stack);
    free(iter);
    free(onstack);
    free(mark);
    free(mark2);
    free(work);
    free(lp_of);
    free(order);
    free(inner);
    return rc;
}

