#include "prevision/mix.h"

#include <string.h>

static const char *const class_names[PV_MIX_NCLASSES] = {
#define NAME_(id, name, desc) name,
    PV_MIX_CLASSES(NAME_)
#undef NAME_
};

static const char *const class_descs[PV_MIX_NCLASSES] = {
#define DESC_(id, name, desc) desc,
    PV_MIX_CLASSES(DESC_)
#undef DESC_
};

const char *pv_mix_class_name(pv_mix_class c)
{
    return (unsigned)c < PV_MIX_NCLASSES ? class_names[c] : NULL;
}

const char *pv_mix_class_desc(pv_mix_class c)
{
    return (unsigned)c < PV_MIX_NCLASSES ? class_descs[c] : NULL;
}

int pv_mix_class_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        if (strcmp(class_names[i], name) == 0)
            return i;
    return -1;
}

void pv_mix_add(pv_mix *dst, const pv_mix *src)
{
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        dst->n[i] += src->n[i];
    dst->bytes_loaded += src->bytes_loaded;
    dst->bytes_stored += src->bytes_stored;
}

void pv_mix64_add_scaled(pv_mix64 *dst, const pv_mix *src, uint64_t times)
{
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        dst->n[i] += (uint64_t)src->n[i] * times;
    dst->bytes_loaded += (uint64_t)src->bytes_loaded * times;
    dst->bytes_stored += (uint64_t)src->bytes_stored * times;
}

void pv_mix64_add(pv_mix64 *dst, const pv_mix64 *src)
{
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        dst->n[i] += src->n[i];
    dst->bytes_loaded += src->bytes_loaded;
    dst->bytes_stored += src->bytes_stored;
}

uint64_t pv_mix_total(const pv_mix *m)
{
    uint64_t t = 0;
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        t += m->n[i];
    return t;
}

uint64_t pv_mix64_total(const pv_mix64 *m)
{
    uint64_t t = 0;
    for (int i = 0; i < PV_MIX_NCLASSES; i++)
        t += m->n[i];
    return t;
}
