/* Growable arrays: the one doubling-capacity helper of the library's modules.
 * Internal (not installed): modules reach common/'s headers through the
 * pv_common target; the public API never exposes it. */
#ifndef PV_COMMON_GROW_H
#define PV_COMMON_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/**
 * Make the malloc()ed array *@p p (capacity *@p cap elements of @p esz
 * bytes) hold at least @p need elements. The capacity doubles, starting from
 * *@p cap, or from @p init (at least 1) for an empty array, until it is
 * enough; the contents are kept (realloc()). Nothing happens when *@p cap
 * already suffices.
 * @return 0; -1 when out of memory or when the size in bytes would not fit
 *         in a size_t: then *@p p and *@p cap are unchanged (the caller still
 *         owns and frees *@p p). Records no error detail: the caller knows
 *         what it was growing and says so.
 */
static inline int pv_grow(void **p, size_t *cap, size_t need, size_t esz, size_t init)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : init ? init : 1;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return -1;
        nc *= 2;
    }
    if (esz && nc > SIZE_MAX / esz)
        return -1;
    void *v = realloc(*p, nc * esz);
    if (!v)
        return -1;
    *p = v;
    *cap = nc;
    return 0;
}

/**
 * pv_grow() on a typed array: PV_GROW(arr, cap, need, init) with @p arr any
 * object pointer lvalue and @p cap a size_t lvalue (a compile error
 * otherwise). Evaluates to 0, or -1 as pv_grow(). @p arr is evaluated twice.
 */
#define PV_GROW(arr, cap, need, init)                                                   \
    __extension__({                                                                     \
        void *pv_grow_p_ = (arr);                                                       \
        int pv_grow_rc_ = pv_grow(&pv_grow_p_, &(cap), (need), sizeof *(arr), (init)); \
        (arr) = pv_grow_p_;                                                             \
        pv_grow_rc_;                                                                    \
    })

#endif
