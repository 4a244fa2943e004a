/* The machine's topology through hwloc, plus the CPU identity from CPUID.
 * hwloc is used for everything it knows (caches, NUMA, devices) because it
 * handles sysfs, cgroups and odd firmware; CPUID is read directly for the
 * vendor/family/model because that is what the uarch mapping keys on. */
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prevision/costmodel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

const char *pv_uarch_from_cpuid(const char *vendor, int family, int model)
{
    if (!vendor)
        return "generic";
    if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine")) {
        if (family == 0x17)
            return model >= 0x30 ? "zen2" : "zen1";
        if (family == 0x19) {
            /* Zen 4: Raphael 0x60-0x6f, Phoenix 0x70-0x7f, Genoa 0x10-0x1f, Bergamo 0xa0-0xaf. */
            if ((model >= 0x10 && model <= 0x1f) || (model >= 0x60 && model <= 0x7f) ||
                (model >= 0xa0 && model <= 0xaf))
                return "zen4";
            return "zen3";
        }
        if (family == 0x1a)
            return "zen5";
        return "generic";
    }
    if (!strcmp(vendor, "GenuineIntel") && family == 6) {
        switch (model) {
        case 0x4e: case 0x5e: case 0x55: case 0x8e: case 0x9e: case 0xa5: case 0xa6:
            return "skylake";
        case 0x6a: case 0x6c: case 0x7d: case 0x7e: case 0x8c: case 0x8d: case 0xa7:
            return "icelake";
        case 0x97: case 0x9a: case 0xb7: case 0xba: case 0xbf:
            return "alderlake";
        case 0x8f: case 0xcf:
            return "sapphirerapids";
        default:
            return "generic";
        }
    }
    return "generic";
}

/* Fill the identity fields from CPUID (host only). */
static void read_cpuid(pv_topology *t)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    memcpy(t->cpu_vendor, &b, 4);
    memcpy(t->cpu_vendor + 4, &d, 4);
    memcpy(t->cpu_vendor + 8, &c, 4);
    t->cpu_vendor[12] = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        unsigned fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
        if (fam == 0xf)
            fam += (a >> 20) & 0xff;
        if (fam == 0x6 || fam >= 0xf)
            mod |= ((a >> 16) & 0xf) << 4;
        t->cpu_family = (int32_t)fam;
        t->cpu_model_number = (int32_t)mod;
        t->cpu_stepping = (int32_t)(a & 0xf);
    }
    unsigned max_ext = __get_cpuid_max(0x80000000, NULL);
    if (max_ext >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = 0;
        /* Trim the padding vendors put around the brand string. */
        char *s = brand;
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
            s[--n] = 0;
        snprintf(t->cpu_model, sizeof t->cpu_model, "%s", s);
    }
#else
    (void)t;
#endif
}

/* Identity from hwloc info attributes (XML topologies carry them). */
static void read_info(pv_topology *t, hwloc_topology_t topo)
{
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    hwloc_obj_t objs[2] = {pkg, hwloc_get_root_obj(topo)};
    for (int i = 0; i < 2; i++) {
        if (!objs[i])
            continue;
        const char *v;
        if (!t->cpu_vendor[0] && (v = hwloc_obj_get_info_by_name(objs[i], "CPUVendor")))
            snprintf(t->cpu_vendor, sizeof t->cpu_vendor, "%s", v);
        if (!t->cpu_model[0] && (v = hwloc_obj_get_info_by_name(objs[i], "CPUModel")))
            snprintf(t->cpu_model, sizeof t->cpu_model, "%s", v);
        if (t->cpu_family < 0 && (v = hwloc_obj_get_info_by_name(objs[i], "CPUFamilyNumber")))
            t->cpu_family = atoi(v);
        if (t->cpu_model_number < 0 && (v = hwloc_obj_get_info_by_name(objs[i], "CPUModelNumber")))
            t->cpu_model_number = atoi(v);
        if (t->cpu_stepping < 0 && (v = hwloc_obj_get_info_by_name(objs[i], "CPUStepping")))
            t->cpu_stepping = atoi(v);
    }
    /* Trim trailing blanks some firmware leaves in CPUModel. */
    size_t n = strlen(t->cpu_model);
    while (n && t->cpu_model[n - 1] == ' ')
        t->cpu_model[--n] = 0;
}

static void read_caches(pv_topology *t, hwloc_topology_t topo)
{
    static const struct { hwloc_obj_type_t type; const char *name; } kinds[] = {
        {HWLOC_OBJ_L1CACHE, "L1d"}, {HWLOC_OBJ_L1ICACHE, "L1i"}, {HWLOC_OBJ_L2CACHE, "L2"},
        {HWLOC_OBJ_L2ICACHE, "L2i"}, {HWLOC_OBJ_L3CACHE, "L3"}, {HWLOC_OBJ_L3ICACHE, "L3i"},
        {HWLOC_OBJ_L4CACHE, "L4"}, {HWLOC_OBJ_L5CACHE, "L5"},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && t->ncaches < 8; k++) {
        int n = hwloc_get_nbobjs_by_type(topo, kinds[k].type);
        if (n <= 0)
            continue;
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, kinds[k].type, 0);
        if (!o || !o->attr)
            continue;
        pv_topo_cache *c = &t->caches[t->ncaches++];
        memset(c, 0, sizeof *c);
        snprintf(c->name, sizeof c->name, "%s", kinds[k].name);
        c->level = o->attr->cache.depth;
        const char *ty = o->attr->cache.type == HWLOC_OBJ_CACHE_DATA          ? "data"
                         : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instruction"
                                                                              : "unified";
        snprintf(c->type, sizeof c->type, "%s", ty);
        /* A unified L1 is still the first data level: name it L1d so that
         * the memory levels and the emulator's cache statistics agree. */
        c->size = o->attr->cache.size;
        c->line = o->attr->cache.linesize;
        c->assoc = o->attr->cache.associativity;
        c->count = (uint32_t)n;
        c->shared_by = o->cpuset ? (uint32_t)hwloc_bitmap_weight(o->cpuset) : 0;
    }
}

static void read_numa(pv_topology *t, hwloc_topology_t topo)
{
    int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < n && t->nnuma < 64; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
        pv_topo_numa *z = &t->numa[t->nnuma++];
        z->os_index = o->os_index;
        z->memory = o->attr ? o->attr->numanode.local_memory : 0;
        z->npus = o->cpuset ? (uint32_t)hwloc_bitmap_weight(o->cpuset) : 0;
        t->memory += z->memory;
    }
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    if (!t->memory && root)
        t->memory = root->total_memory;
}

/* hwloc sums the NUMA nodes' meminfo; a VM with hot-plugged memory can
 * leave most of it out of the node (seen here: node0 5.5 GiB, MemTotal
 * 23.5 GiB). What the kernel can hand out is what the planner needs. */
static void host_memory(pv_topology *t)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0)
        return;
    uint64_t os = (uint64_t)pages * (uint64_t)psize;
    if (os <= t->memory)
        return;
    t->memory = os;
    if (t->nnuma == 1)
        t->numa[0].memory = os;
}

static hwloc_obj_t pci_parent(hwloc_obj_t o)
{
    for (o = o->parent; o; o = o->parent)
        if (o->type == HWLOC_OBJ_PCI_DEVICE)
            return o;
    return NULL;
}

static void add_device(pv_topology *t, const char *kind, const char *name, hwloc_obj_t pci, uint64_t size)
{
    if (t->ndevices >= 32)
        return;
    pv_topo_device *d = &t->devices[t->ndevices++];
    memset(d, 0, sizeof *d);
    snprintf(d->kind, sizeof d->kind, "%s", kind);
    snprintf(d->name, sizeof d->name, "%s", name ? name : "");
    if (pci && pci->attr) {
        const struct hwloc_pcidev_attr_s *a = &pci->attr->pcidev;
        snprintf(d->busid, sizeof d->busid, "%04x:%02x:%02x.%01x", (unsigned)a->domain, (unsigned)a->bus,
                 (unsigned)a->dev, (unsigned)a->func);
        d->vendor_id = a->vendor_id;
        d->device_id = a->device_id;
    }
    d->size = size;
}

/* PCI vendors whose devices are FPGAs (Xilinx/AMD, Altera/Intel PSG). */
static int is_fpga_vendor(unsigned v) { return v == 0x10ee || v == 0x1172; }

static void read_devices(pv_topology *t, hwloc_topology_t topo)
{
    hwloc_obj_t o = NULL;
    while ((o = hwloc_get_next_osdev(topo, o))) {
        const char *kind = "other";
        hwloc_obj_t pci = pci_parent(o);
        switch (o->attr->osdev.type) {
        case HWLOC_OBJ_OSDEV_GPU: kind = "gpu"; break;
        case HWLOC_OBJ_OSDEV_COPROC: kind = "coproc"; break;
        case HWLOC_OBJ_OSDEV_NETWORK:
        case HWLOC_OBJ_OSDEV_OPENFABRICS: kind = "nic"; break;
        case HWLOC_OBJ_OSDEV_BLOCK: kind = "disk"; break;
        case HWLOC_OBJ_OSDEV_DMA: kind = "dma"; break;
        }
        if (pci && pci->attr && is_fpga_vendor(pci->attr->pcidev.vendor_id))
            kind = "fpga";
        uint64_t size = 0;
        const char *sz = hwloc_obj_get_info_by_name(o, "Size");
        if (sz)
            size = strtoull(sz, NULL, 10) * 1024; /* hwloc reports block sizes in kB */
        add_device(t, kind, o->name, pci, size);
    }
    /* Display controllers and accelerators without an OS device (no driver
     * loaded) are still worth knowing about. */
    o = NULL;
    while ((o = hwloc_get_next_pcidev(topo, o))) {
        unsigned cls = o->attr->pcidev.class_id >> 8;
        const char *kind = NULL;
        if (is_fpga_vendor(o->attr->pcidev.vendor_id))
            kind = "fpga";
        else if (cls == 0x03)
            kind = "gpu";
        else if (cls == 0x12)
            kind = "coproc";
        if (!kind)
            continue;
        int seen = 0;
        char bus[16];
        snprintf(bus, sizeof bus, "%04x:%02x:%02x.%01x", (unsigned)o->attr->pcidev.domain,
                 (unsigned)o->attr->pcidev.bus, (unsigned)o->attr->pcidev.dev, (unsigned)o->attr->pcidev.func);
        for (uint32_t i = 0; i < t->ndevices; i++)
            if (!strcmp(t->devices[i].busid, bus))
                seen = 1;
        if (!seen)
            add_device(t, kind, o->name ? o->name : "pci", o, 0);
    }
}

int pv_topology_load(pv_topology *out, const pv_topology_options *opts)
{
    pv_topology_options defaults = PV_TOPOLOGY_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (!out || opts->version != PV_TOPOLOGY_OPTIONS_VERSION)
        return pv_error_set(PV_ERR_INVALID, "pv_topology_load: NULL output or options of another version");
    memset(out, 0, sizeof *out);
    out->cpu_family = out->cpu_model_number = out->cpu_stepping = -1;
    hwloc_topology_t topo = NULL;
    int rc = PV_OK;
    if (hwloc_topology_init(&topo) < 0) {
        topo = NULL;
        rc = pv_error_set(PV_ERR_BACKEND, "hwloc: cannot initialize a topology");
        goto done;
    }
    if (opts->synthetic) {
        if (hwloc_topology_set_synthetic(topo, opts->synthetic) < 0) {
            rc = pv_error_set(PV_ERR_FORMAT,
                              "hwloc rejected the synthetic topology '%s'; see hwloc's synthetic syntax, "
                              "e.g. 'pack:2 l3:1(size=8MB) core:4 l2:1(size=1MB) l1d:1(size=32KB) pu:2'",
                              opts->synthetic);
            goto done;
        }
        snprintf(out->source, sizeof out->source, "synthetic");
    } else if (opts->xml) {
        if (hwloc_topology_set_xml(topo, opts->xml) < 0) {
            rc = pv_error_set(PV_ERR_FORMAT, "%s: hwloc cannot use this XML topology file (missing or malformed); "
                              "export one with 'lstopo FILE.xml'", opts->xml);
            goto done;
        }
        snprintf(out->source, sizeof out->source, "xml");
    } else {
        snprintf(out->source, sizeof out->source, "host");
    }
    if (opts->io_devices && !opts->synthetic)
        hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (hwloc_topology_load(topo) < 0) {
        rc = pv_error_set(opts->xml ? PV_ERR_FORMAT : PV_ERR_BACKEND, "%s: hwloc could not load the topology",
                          opts->xml ? opts->xml : opts->synthetic ? opts->synthetic : "host");
        goto done;
    }
    out->npackages = (uint32_t)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    out->ncores = (uint32_t)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    out->npus = (uint32_t)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    if (!out->npackages)
        out->npackages = 1;
    if (!out->ncores)
        out->ncores = out->npus;
    read_caches(out, topo);
    read_numa(out, topo);
    if (opts->io_devices && !opts->synthetic)
        read_devices(out, topo);
    if (!opts->synthetic && !opts->xml) {
        read_cpuid(out);
        host_memory(out);
    }
    read_info(out, topo);
    snprintf(out->uarch, sizeof out->uarch, "%s",
             pv_uarch_from_cpuid(out->cpu_vendor, out->cpu_family, out->cpu_model_number));
done:
    if (topo)
        hwloc_topology_destroy(topo);
    return rc;
}

const pv_topo_cache *pv_topology_llc(const pv_topology *t)
{
    const pv_topo_cache *best = NULL;
    for (uint32_t i = 0; i < t->ncaches; i++)
        if (strcmp(t->caches[i].type, "instruction") && (!best || t->caches[i].level > best->level))
            best = &t->caches[i];
    return best;
}
