/* Tests for costmodel/topology.c on hwloc synthetic and XML topologies (machine-independent). */
#include <hwloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "prevision/costmodel.h"

static const pv_topo_cache *cache_named(const pv_topology *t, const char *name)
{
    for (uint32_t i = 0; i < t->ncaches; i++)
        if (!strcmp(t->caches[i].name, name))
            return &t->caches[i];
    return NULL;
}

static void load_synthetic(pv_topology *t, const char *desc)
{
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.synthetic = desc;
    assert_int_equal(pv_topology_load(t, &o), PV_OK);
    assert_string_equal(t->source, "synthetic");
}

static void one_socket_no_l3(void **state)
{
    (void)state;
    pv_topology t;
    load_synthetic(&t, "pack:1 l2:4(size=1048576) l1d:1(size=32768) core:1 pu:2");
    assert_int_equal(t.npackages, 1);
    assert_int_equal(t.ncores, 4);
    assert_int_equal(t.npus, 8);
    assert_null(cache_named(&t, "L3"));
    const pv_topo_cache *l1 = cache_named(&t, "L1d"), *l2 = cache_named(&t, "L2");
    assert_non_null(l1);
    assert_non_null(l2);
    assert_int_equal(l1->size, 32768);
    assert_int_equal(l1->count, 4);
    assert_int_equal(l1->shared_by, 2);
    assert_string_equal(l1->type, "data");
    assert_int_equal(l2->size, 1048576);
    assert_int_equal(l2->level, 2);
    /* The LLC is the deepest data level: L2 here. */
    assert_ptr_equal(pv_topology_llc(&t), l2);
    /* Synthetic topologies have one default NUMA node and no identity. */
    assert_int_equal(t.nnuma, 1);
    assert_true(t.memory > 0);
    assert_int_equal(t.ndevices, 0);
    assert_string_equal(t.uarch, "generic");
}

static void two_sockets_with_l3(void **state)
{
    (void)state;
    pv_topology t;
    load_synthetic(&t, "pack:2 l3:1(size=8388608) l2:4(size=1048576) l1d:1(size=49152) core:1 pu:2");
    assert_int_equal(t.npackages, 2);
    assert_int_equal(t.ncores, 8);
    assert_int_equal(t.npus, 16);
    const pv_topo_cache *l3 = cache_named(&t, "L3");
    assert_non_null(l3);
    assert_int_equal(l3->size, 8388608);
    assert_int_equal(l3->count, 2);
    assert_int_equal(l3->shared_by, 8);
    assert_ptr_equal(pv_topology_llc(&t), l3);
    assert_int_equal(cache_named(&t, "L2")->shared_by, 2);
}

static void numa_nodes(void **state)
{
    (void)state;
    pv_topology t;
    load_synthetic(&t, "pack:2 [numa(memory=2147483648)] l3:1(size=16777216) l2:4(size=1048576) "
                       "l1d:1(size=49152) core:1 pu:1");
    assert_int_equal(t.nnuma, 2);
    assert_int_equal(t.numa[0].memory, 2147483648ull);
    assert_int_equal(t.numa[1].memory, 2147483648ull);
    assert_int_equal(t.numa[0].npus, 4);
    assert_int_equal(t.memory, 4294967296ull);
    assert_int_equal(t.numa[1].os_index, 1);
}

static void bad_inputs(void **state)
{
    (void)state;
    pv_topology t;
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.synthetic = "pack:two core:banana";
    assert_int_equal(pv_topology_load(&t, &o), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "synthetic"));
    o.synthetic = NULL;
    o.xml = "/nonexistent/topology.xml";
    assert_int_equal(pv_topology_load(&t, &o), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "/nonexistent/topology.xml"));
    o.version = 99;
    assert_int_equal(pv_topology_load(&t, &o), PV_ERR_INVALID);
}

/* An XML topology carries the CPU identity the uarch name comes from. */
static void xml_with_identity(void **state)
{
    (void)state;
    char path[] = "/tmp/pv_topo_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hwloc_topology_t topo;
    assert_int_equal(hwloc_topology_init(&topo), 0);
    assert_int_equal(hwloc_topology_set_synthetic(topo, "pack:1 l3:1(size=33554432) l2:8(size=1048576) "
                                                        "l1d:1(size=49152) core:1 pu:2"),
                     0);
    assert_int_equal(hwloc_topology_load(topo), 0);
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    hwloc_obj_add_info(pkg, "CPUVendor", "AuthenticAMD");
    hwloc_obj_add_info(pkg, "CPUFamilyNumber", "25");
    hwloc_obj_add_info(pkg, "CPUModelNumber", "97");
    hwloc_obj_add_info(pkg, "CPUModel", "AMD Ryzen 9 7950X 16-Core Processor   ");
    assert_int_equal(hwloc_topology_export_xml(topo, path, 0), 0);
    hwloc_topology_destroy(topo);

    pv_topology t;
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.xml = path;
    assert_int_equal(pv_topology_load(&t, &o), PV_OK);
    unlink(path);
    assert_string_equal(t.source, "xml");
    assert_int_equal(t.ncores, 8);
    assert_int_equal(t.npus, 16);
    assert_string_equal(t.cpu_vendor, "AuthenticAMD");
    assert_int_equal(t.cpu_family, 25);
    assert_int_equal(t.cpu_model_number, 97);
    assert_string_equal(t.cpu_model, "AMD Ryzen 9 7950X 16-Core Processor");
    assert_string_equal(t.uarch, "zen4");
    assert_int_equal(cache_named(&t, "L3")->size, 33554432);
}

static void uarch_names(void **state)
{
    (void)state;
    assert_string_equal(pv_uarch_from_cpuid("AuthenticAMD", 0x1a, 0x02), "zen5");
    assert_string_equal(pv_uarch_from_cpuid("AuthenticAMD", 0x19, 0x61), "zen4");
    assert_string_equal(pv_uarch_from_cpuid("AuthenticAMD", 0x19, 0x21), "zen3");
    assert_string_equal(pv_uarch_from_cpuid("AuthenticAMD", 0x17, 0x31), "zen2");
    assert_string_equal(pv_uarch_from_cpuid("GenuineIntel", 6, 0x55), "skylake");
    assert_string_equal(pv_uarch_from_cpuid("GenuineIntel", 6, 0x6a), "icelake");
    assert_string_equal(pv_uarch_from_cpuid("GenuineIntel", 6, 0x8f), "sapphirerapids");
    assert_string_equal(pv_uarch_from_cpuid("GenuineIntel", 6, 0x01), "generic");
    assert_string_equal(pv_uarch_from_cpuid("CentaurHauls", 6, 0x0f), "generic");
    assert_string_equal(pv_uarch_from_cpuid(NULL, -1, -1), "generic");
}

/* The host: structure only, whatever the machine. */
static void host_topology(void **state)
{
    (void)state;
    pv_topology t;
    assert_int_equal(pv_topology_load(&t, NULL), PV_OK);
    assert_string_equal(t.source, "host");
    assert_true(t.npus >= 1);
    assert_true(t.ncores >= 1 && t.ncores <= t.npus);
    assert_true(t.npackages >= 1);
    assert_true(t.uarch[0] != 0);
#if defined(__x86_64__)
    assert_true(t.cpu_vendor[0] != 0);
    assert_true(t.cpu_family > 0);
#endif
    for (uint32_t i = 0; i < t.ndevices; i++)
        assert_true(t.devices[i].kind[0] != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_socket_no_l3), cmocka_unit_test(two_sockets_with_l3), cmocka_unit_test(numa_nodes),
        cmocka_unit_test(bad_inputs),       cmocka_unit_test(xml_with_identity),    cmocka_unit_test(uarch_names),
        cmocka_unit_test(host_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
