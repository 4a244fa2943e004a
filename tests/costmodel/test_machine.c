/* Tests for costmodel/machine.c: machine model round trip, schema
 * rejections with JSON paths, schema versions, other hosts, the cache. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "prevision/costmodel.h"
#include "prevision/json.h"
#include "prevision/log.h"

static char logbuf[4096];
static void capture_log(void *ud, pv_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s\n", msg);
}

static pv_stat st(double v, pv_method me) { return (pv_stat){v * 0.9, v, v * 1.2, 3, (uint8_t)me}; }

/* A deterministic machine model on a synthetic topology, fingerprinted as this host. */
static pv_machine *make_machine(void)
{
    pv_machine *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->schema_version = PV_MACHINE_SCHEMA_VERSION;
    snprintf(m->generator, sizeof m->generator, "prevision test");
    snprintf(m->date, sizeof m->date, "2026-01-02T03:04:05Z");
    m->quick = 1;
    m->duration_s = 1.5;
    pv_topology host;
    assert_int_equal(pv_topology_load(&host, NULL), PV_OK);
    pv_fingerprint_compute(&m->host, &host);
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.synthetic = "pack:2 [numa(memory=1073741824)] l3:1(size=33554432) l2:4(size=1048576) l1d:1(size=49152) "
                  "core:1 pu:2";
    assert_int_equal(pv_topology_load(&m->topo, &o), PV_OK);
    snprintf(m->topo.uarch, sizeof m->topo.uarch, "zen5");
    m->topo.ndevices = 1;
    snprintf(m->topo.devices[0].kind, 12, "gpu");
    snprintf(m->topo.devices[0].name, 64, "card0");
    snprintf(m->topo.devices[0].busid, 16, "0000:01:00.0");
    m->topo.devices[0].vendor_id = 0x10de;
    snprintf(m->papi_version, sizeof m->papi_version, "7.0.0");
    m->method = PV_METHOD_TIMER;
    snprintf(m->method_note, sizeof m->method_note, "no counters");
    m->clock_ghz = st(4.0, PV_METHOD_TIMER);
    snprintf(m->simd, sizeof m->simd, "sse2 avx avx2");
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        m->classes[c].latency = st(1.0 + c, PV_METHOD_TIMER);
        m->classes[c].rthroughput = st(0.25 * (1 + c), PV_METHOD_TIMER);
    }
    m->nkernels = 1;
    snprintf(m->kernels[0].name, 32, "add r64");
    m->kernels[0].cls = PV_MIX_INT_ALU;
    m->kernels[0].cost = m->classes[PV_MIX_INT_ALU];
    m->branch_miss_cycles = st(15, PV_METHOD_TIMER);
    m->nmem_points = 2;
    m->mem_points[0] = (pv_mem_point){4096, st(1.0, PV_METHOD_TIMER), st(0.3, PV_METHOD_TIMER),
                                      st(1.4, PV_METHOD_TIMER)};
    m->mem_points[1] = (pv_mem_point){1 << 26, st(90.0, PV_METHOD_TIMER), st(6.0, PV_METHOD_TIMER),
                                      st(16.0, PV_METHOD_TIMER)};
    m->miss_window_insns = st(180, PV_METHOD_TIMER);
    const char *names[4] = {"L1d", "L2", "L3", "DRAM"};
    double lat[4] = {1, 4, 12, 90}, bw[4] = {100, 60, 30, 15};
    m->nmem_levels = 4;
    for (int i = 0; i < 4; i++) {
        pv_mem_level *l = &m->mem_levels[i];
        snprintf(l->name, sizeof l->name, "%s", names[i]);
        l->size = 49152ull << (4 * i);
        l->latency_ns = st(lat[i], PV_METHOD_TIMER);
        l->random_ns = st(lat[i] / 8, PV_METHOD_TIMER);
        l->read_gbs = l->write_gbs = l->triad_gbs = st(bw[i], PV_METHOD_TIMER);
        l->read_gbs_all = l->triad_gbs_all = st(2 * bw[i], PV_METHOD_TIMER);
    }
    m->warm.page_fault_4k_ns = st(1000, PV_METHOD_TIMER);
    m->warm.thread_create_us = st(30, PV_METHOD_TIMER);
    m->warm.file_cached_gbs = st(10, PV_METHOD_TIMER);
    m->warm.syscall_ns = st(200, PV_METHOD_TIMER);
    m->warm.process_spawn_us = st(500, PV_METHOD_TIMER);
    m->warm.file_read_4k_gbs = st(6, PV_METHOD_TIMER);
    m->warm.page_free_4k_ns = st(300, PV_METHOD_TIMER);
    m->warm.file_write_gbs = st(5, PV_METHOD_TIMER);
    m->warm.file_write_4k_gbs = st(1.5, PV_METHOD_TIMER);
    m->warm.syscall_read_ns = st(450, PV_METHOD_TIMER);
    m->warm.syscall_write_ns = st(1800, PV_METHOD_TIMER);
    snprintf(m->warm.huge_note, sizeof m->warm.huge_note, "transparent huge pages disabled");
    snprintf(m->warm.disk_note, sizeof m->warm.disk_note, "not measured");
    return m;
}

static char *to_text(const pv_machine *m)
{
    char *s = NULL;
    assert_int_equal(pv_machine_to_string(m, &s), PV_OK);
    return s;
}

static int parse(const char *text, pv_machine **out) { return pv_machine_parse(text, strlen(text), "m.json", out); }

static void round_trip(void **state)
{
    (void)state;
    pv_machine *m = make_machine(), *r = NULL;
    char *s = to_text(m);
    assert_int_equal(parse(s, &r), PV_OK);
    assert_string_equal(r->date, m->date);
    assert_string_equal(r->host.hash, m->host.hash);
    assert_int_equal(r->topo.npus, 16);
    assert_int_equal(r->topo.nnuma, 2);
    assert_int_equal(r->topo.ncaches, m->topo.ncaches);
    assert_int_equal(r->topo.caches[0].size, m->topo.caches[0].size);
    assert_string_equal(r->topo.devices[0].kind, "gpu");
    assert_int_equal(r->topo.devices[0].vendor_id, 0x10de);
    assert_string_equal(r->topo.uarch, "zen5");
    assert_true(r->clock_ghz.median == 4.0);
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        assert_true(fabs(r->classes[c].latency.median - m->classes[c].latency.median) < 1e-9);
        assert_int_equal(r->classes[c].rthroughput.reps, 3);
    }
    assert_int_equal(r->nmem_levels, 4);
    assert_string_equal(r->mem_levels[3].name, "DRAM");
    assert_true(r->mem_levels[3].latency_ns.median == 90);
    assert_true(r->warm.syscall_ns.median == 200);
    /* The fields added for the predictor (optional in the schema). */
    assert_true(r->mem_points[1].random_ns.median == 6.0);
    assert_true(r->mem_points[1].window_ns.median == 16.0);
    assert_true(r->miss_window_insns.median == 180);
    assert_true(r->mem_levels[3].random_ns.median == 90.0 / 8);
    assert_true(r->warm.file_read_4k_gbs.median == 6);
    assert_true(r->warm.page_free_4k_ns.median == 300);
    assert_true(r->warm.file_write_gbs.median == 5);
    assert_true(r->warm.file_write_4k_gbs.median == 1.5);
    assert_true(r->warm.syscall_read_ns.median == 450);
    assert_true(r->warm.syscall_write_ns.median == 1800);
    assert_int_equal(r->warm.syscall_write_ns.method, PV_METHOD_TIMER);
    assert_int_equal(r->warm.page_fault_huge_ns.reps, 0); /* absent stays absent */
    assert_string_equal(r->warm.huge_note, m->warm.huge_note);
    /* Serializing again gives the same text. */
    char *s2 = to_text(r);
    assert_string_equal(s, s2);
    /* And the schema compiled in is the one on disk. */
    json_t *inst = json_loads(s, 0, NULL);
    assert_int_equal(pv_json_validate(PV_SCHEMA_MACHINE, inst, "m.json"), PV_OK);
    json_decref(inst);
    free(s);
    free(s2);
    pv_machine_free(m);
    pv_machine_free(r);
}

/* Edit a serialized model with a jansson callback and parse it. */
static int parse_edited(void (*edit)(json_t *), pv_machine **out)
{
    pv_machine *m = make_machine();
    char *s = to_text(m);
    json_t *root = json_loads(s, 0, NULL);
    edit(root);
    char *t = json_dumps(root, 0);
    int rc = parse(t, out);
    json_decref(root);
    free(s);
    free(t);
    pv_machine_free(m);
    return rc;
}

static void ed_version(json_t *r) { json_object_set_new(r, "schema_version", json_integer(9)); }
static void ed_type(json_t *r)
{
    json_object_set_new(json_object_get(json_object_get(r, "classes"), "load"), "latency", json_string("fast"));
}
static void ed_missing(json_t *r) { json_object_del(r, "memory"); }
static void ed_format(json_t *r) { json_object_set_new(r, "format", json_string("prevision-profile")); }
static void ed_bad_new_field(json_t *r)
{
    json_object_set_new(json_object_get(r, "warmup"), "file_write_gbs", json_string("fast"));
}
static void ed_unknown_class(json_t *r)
{
    json_t *c = json_object_get(r, "classes");
    json_object_set(c, "quantum_op", json_object_get(c, "int_alu"));
}

static void rejections(void **state)
{
    (void)state;
    pv_machine *r = NULL;
    assert_int_equal(parse("{\"format\": \"prevision-machine\",", &r), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "m.json:1:"));
    assert_null(r);
    assert_int_equal(parse("[1,2]", &r), PV_ERR_FORMAT);
    assert_int_equal(parse_edited(ed_version, &r), PV_ERR_VERSION);
    assert_non_null(strstr(pv_error_last(), "version 9"));
    assert_int_equal(parse_edited(ed_type, &r), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.classes.load.latency: expected object"));
    assert_int_equal(parse_edited(ed_missing, &r), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.memory: required field is missing"));
    assert_int_equal(parse_edited(ed_format, &r), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.format"));
    assert_int_equal(parse_edited(ed_bad_new_field, &r), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.warmup.file_write_gbs: expected object"));
    assert_null(r);
    assert_int_equal(pv_machine_load("/nonexistent/m.json", &r), PV_ERR_NOTFOUND);
}

/* A file written before the predictor's figures existed (no random_ns, no
 * file-write or small-call costs) still loads; those figures read as not
 * measured. */
static void ed_older_file(json_t *r)
{
    json_t *w = json_object_get(r, "warmup");
    static const char *const gone[] = {"page_free_4k_ns", "file_read_4k_gbs", "file_write_gbs", "file_write_4k_gbs", "syscall_read_ns",
                                       "syscall_write_ns"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        json_object_del(w, gone[i]);
    json_t *mem = json_object_get(r, "memory"), *v;
    size_t i;
    json_object_del(mem, "miss_window_insns");
    json_array_foreach(json_object_get(mem, "latency_sweep"), i, v)
    {
        json_object_del(v, "random_ns");
        json_object_del(v, "window_ns");
    }
    json_array_foreach(json_object_get(mem, "levels"), i, v) json_object_del(v, "random_ns");
}

static void older_file_loads(void **state)
{
    (void)state;
    pv_machine *r = NULL;
    assert_int_equal(parse_edited(ed_older_file, &r), PV_OK);
    assert_int_equal(r->nmem_points, 2);
    assert_true(r->mem_points[1].ns.median == 90.0);
    assert_int_equal(r->mem_points[1].random_ns.reps, 0);
    assert_int_equal(r->mem_points[1].window_ns.reps, 0);
    assert_int_equal(r->mem_levels[3].random_ns.reps, 0);
    assert_int_equal(r->miss_window_insns.reps, 0);
    assert_int_equal(r->warm.file_write_gbs.reps, 0);
    assert_int_equal(r->warm.file_write_4k_gbs.reps, 0);
    assert_int_equal(r->warm.file_read_4k_gbs.reps, 0);
    assert_int_equal(r->warm.syscall_read_ns.reps, 0);
    assert_int_equal(r->warm.syscall_write_ns.reps, 0);
    assert_int_equal(r->warm.page_free_4k_ns.reps, 0);
    assert_true(r->warm.file_cached_gbs.median == 10);
    /* And it serializes without the fields it lacks. */
    char *s = to_text(r);
    assert_null(strstr(s, "file_write_gbs"));
    assert_null(strstr(s, "random_ns"));
    assert_null(strstr(s, "miss_window"));
    free(s);
    pv_machine_free(r);
}

static void unknown_class_warns(void **state)
{
    (void)state;
    pv_machine *r = NULL;
    logbuf[0] = 0;
    pv_log_set_handler(capture_log, NULL);
    assert_int_equal(parse_edited(ed_unknown_class, &r), PV_OK);
    pv_log_set_handler(NULL, NULL);
    assert_non_null(strstr(logbuf, "$.classes.quantum_op: not a mix class"));
    assert_non_null(strstr(logbuf, "ignored"));
    assert_true(r->classes[PV_MIX_INT_ALU].latency.reps == 3);
    pv_machine_free(r);
}

static void other_host(void **state)
{
    (void)state;
    pv_machine *m = make_machine();
    char why[256];
    assert_int_equal(pv_machine_matches_host(m, why, sizeof why), 1);
    snprintf(m->host.cpu_model, sizeof m->host.cpu_model, "Imaginary CPU 9000");
    snprintf(m->host.hash, sizeof m->host.hash, "0123456789abcdef");
    assert_int_equal(pv_machine_matches_host(m, why, sizeof why), 0);
    assert_non_null(strstr(why, "Imaginary CPU 9000"));
    pv_machine_free(m);
}

static void fingerprint_stable(void **state)
{
    (void)state;
    pv_topology t;
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.synthetic = "pack:1 l2:2(size=1048576) l1d:1(size=32768) core:1 pu:1";
    assert_int_equal(pv_topology_load(&t, &o), PV_OK);
    pv_fingerprint a, b;
    pv_fingerprint_compute(&a, &t);
    pv_fingerprint_compute(&b, &t);
    assert_string_equal(a.hash, b.hash);
    assert_string_equal(a.caches, "L1d:32K L2:1M");
    t.caches[1].size *= 2;
    pv_fingerprint_compute(&b, &t);
    assert_string_not_equal(a.hash, b.hash);
}

static char tmpdir[64];

static void cache(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pv_cache_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char path[4096];
    setenv("XDG_CACHE_HOME", tmpdir, 1);
    assert_int_equal(pv_machine_cache_path(path, sizeof path), PV_OK);
    char want[4096];
    snprintf(want, sizeof want, "%s/prevision/machine.json", tmpdir);
    assert_string_equal(path, want);

    /* A cached model of this host is reused without measuring. */
    pv_machine *m = make_machine();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/prevision", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(pv_machine_save(m, path), PV_OK);
    pv_calibrate_options o = PV_CALIBRATE_OPTIONS_INIT;
    o.quick = 1;
    o.reps = 1;
    o.scale = 0.02;
    o.only = PV_CAL_CLASSES;
    pv_machine *got = NULL;
    int reused = -1;
    assert_int_equal(pv_machine_get(&got, &o, 0, &reused), PV_OK);
    assert_int_equal(reused, 1);
    assert_string_equal(got->date, m->date);
    pv_machine_free(got);

    /* Another host's model: a warning, then a new measurement replaces it. */
    snprintf(m->host.hash, sizeof m->host.hash, "0123456789abcdef");
    snprintf(m->host.cpu_model, sizeof m->host.cpu_model, "Imaginary CPU 9000");
    assert_int_equal(pv_machine_save(m, path), PV_OK);
    logbuf[0] = 0;
    pv_log_set_handler(capture_log, NULL);
#if defined(__x86_64__)
    assert_int_equal(pv_machine_get(&got, &o, 0, &reused), PV_OK);
    assert_int_equal(reused, 0);
    assert_non_null(strstr(logbuf, "another host"));
    assert_string_not_equal(got->host.hash, "0123456789abcdef");
    pv_machine_free(got);
    /* ... and the fresh one is now cached. */
    assert_int_equal(pv_machine_load(path, &got), PV_OK);
    assert_int_equal(pv_machine_matches_host(got, NULL, 0), 1);
    pv_machine_free(got);
    /* A corrupt cache is reported and replaced. */
    FILE *f = fopen(path, "w");
    fputs("{not json", f);
    fclose(f);
    logbuf[0] = 0;
    assert_int_equal(pv_machine_get(&got, &o, 0, &reused), PV_OK);
    assert_non_null(strstr(logbuf, "unusable"));
    pv_machine_free(got);
#endif
    pv_log_set_handler(NULL, NULL);
    pv_machine_free(m);
    unlink(path);
    rmdir(dir);
    rmdir(tmpdir);

    unsetenv("XDG_CACHE_HOME");
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    unsetenv("HOME");
    assert_int_equal(pv_machine_cache_path(path, sizeof path), PV_ERR_NOTFOUND);
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),   cmocka_unit_test(rejections),  cmocka_unit_test(older_file_loads),         cmocka_unit_test(unknown_class_warns),
        cmocka_unit_test(other_host),   cmocka_unit_test(fingerprint_stable), cmocka_unit_test(cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
