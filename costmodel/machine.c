/* Machine model files: JSON writer and reader (jansson, validated against
 * docs/schema/machine.schema.json), host fingerprint, and the per-user cache. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "internal.h"
#include "prevision/json.h"

const char *pv_method_name(pv_method m)
{
    switch (m) {
    case PV_METHOD_TIMER: return "timer";
    case PV_METHOD_PAPI: return "papi";
    default: return "none";
    }
}

/* ---- fingerprint ---- */

static void human_size(char *buf, size_t len, uint64_t b)
{
    if (b >= (1ull << 30) && b % (1ull << 30) == 0)
        snprintf(buf, len, "%lluG", (unsigned long long)(b >> 30));
    else if (b >= (1ull << 20) && b % (1ull << 20) == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(b >> 20));
    else if (b >= 1024 && b % 1024 == 0)
        snprintf(buf, len, "%lluK", (unsigned long long)(b >> 10));
    else
        snprintf(buf, len, "%llu", (unsigned long long)b);
}

void pv_fingerprint_compute(pv_fingerprint *fp, const pv_topology *t)
{
    memset(fp, 0, sizeof *fp);
    snprintf(fp->cpu_model, sizeof fp->cpu_model, "%s", t->cpu_model);
    fp->cores = t->ncores;
    fp->pus = t->npus;
    fp->memory = t->memory;
    size_t used = 0;
    for (uint32_t i = 0; i < t->ncaches && used < sizeof fp->caches; i++) {
        char sz[24];
        human_size(sz, sizeof sz, t->caches[i].size);
        used += (size_t)snprintf(fp->caches + used, sizeof fp->caches - used, "%s%s:%s", used ? " " : "",
                                 t->caches[i].name, sz);
    }
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(fp->kernel, sizeof fp->kernel, "%s", u.release);
    char all[512];
    snprintf(all, sizeof all, "%s|%u|%u|%llu|%s|%s", fp->cpu_model, fp->cores, fp->pus,
             (unsigned long long)fp->memory, fp->caches, fp->kernel);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = all; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    snprintf(fp->hash, sizeof fp->hash, "%016llx", (unsigned long long)h);
}

int pv_machine_matches_host(const pv_machine *m, char *why, size_t whylen)
{
    pv_topology t;
    pv_topology_options o = PV_TOPOLOGY_OPTIONS_INIT;
    o.io_devices = 0;
    if (pv_topology_load(&t, &o) != PV_OK) {
        if (why)
            snprintf(why, whylen, "the host topology could not be read");
        return 0;
    }
    pv_fingerprint fp;
    pv_fingerprint_compute(&fp, &t);
    if (!strcmp(fp.hash, m->host.hash))
        return 1;
    if (why) {
        if (strcmp(fp.cpu_model, m->host.cpu_model))
            snprintf(why, whylen, "CPU '%s' here, '%s' in the model", fp.cpu_model, m->host.cpu_model);
        else if (fp.cores != m->host.cores || fp.pus != m->host.pus)
            snprintf(why, whylen, "%u cores/%u PUs here, %u/%u in the model", fp.cores, fp.pus, m->host.cores,
                     m->host.pus);
        else if (fp.memory != m->host.memory)
            snprintf(why, whylen, "%llu bytes of memory here, %llu in the model", (unsigned long long)fp.memory,
                     (unsigned long long)m->host.memory);
        else if (strcmp(fp.caches, m->host.caches))
            snprintf(why, whylen, "caches '%s' here, '%s' in the model", fp.caches, m->host.caches);
        else if (strcmp(fp.kernel, m->host.kernel))
            snprintf(why, whylen, "kernel %s here, %s in the model", fp.kernel, m->host.kernel);
        else
            snprintf(why, whylen, "fingerprint %s here, %s in the model", fp.hash, m->host.hash);
    }
    return 0;
}

/* ---- writer ---- */

static json_t *stat_json(const pv_stat *s)
{
    return json_pack("{s:f,s:f,s:f,s:i,s:s}", "min", s->min, "median", s->median, "max", s->max, "reps",
                     (json_int_t)s->reps, "method", pv_method_name((pv_method)s->method));
}

/* Set key to the statistic when it was measured (absent otherwise). */
static void set_stat(json_t *o, const char *key, const pv_stat *s)
{
    if (s->reps)
        json_object_set_new(o, key, stat_json(s));
}

static json_t *topology_json(const pv_topology *t)
{
    json_t *caches = json_array(), *numa = json_array(), *devs = json_array();
    for (uint32_t i = 0; i < t->ncaches; i++) {
        const pv_topo_cache *c = &t->caches[i];
        json_array_append_new(caches, json_pack("{s:s,s:i,s:s,s:I,s:i,s:i,s:i,s:i}", "name", c->name, "level",
                                                (json_int_t)c->level, "type", c->type, "size", (json_int_t)c->size,
                                                "line", (json_int_t)c->line, "assoc", (json_int_t)c->assoc,
                                                "count", (json_int_t)c->count, "shared_by",
                                                (json_int_t)c->shared_by));
    }
    for (uint32_t i = 0; i < t->nnuma; i++)
        json_array_append_new(numa, json_pack("{s:i,s:I,s:i}", "os_index", (json_int_t)t->numa[i].os_index,
                                              "memory_bytes", (json_int_t)t->numa[i].memory, "pus",
                                              (json_int_t)t->numa[i].npus));
    for (uint32_t i = 0; i < t->ndevices; i++) {
        const pv_topo_device *d = &t->devices[i];
        json_array_append_new(devs, json_pack("{s:s,s:s,s:s,s:i,s:i,s:I}", "kind", d->kind, "name", d->name,
                                              "busid", d->busid, "vendor_id", (json_int_t)d->vendor_id,
                                              "device_id", (json_int_t)d->device_id, "size_bytes",
                                              (json_int_t)d->size));
    }
    return json_pack("{s:s,s:i,s:i,s:i,s:I,s:{s:s,s:i,s:i,s:i,s:s,s:s},s:o,s:o,s:o}", "source", t->source,
                     "packages", (json_int_t)t->npackages, "cores", (json_int_t)t->ncores, "pus",
                     (json_int_t)t->npus, "memory_bytes", (json_int_t)t->memory, "cpu", "vendor", t->cpu_vendor,
                     "family", (json_int_t)t->cpu_family, "model", (json_int_t)t->cpu_model_number, "stepping",
                     (json_int_t)t->cpu_stepping, "name", t->cpu_model, "uarch", t->uarch, "caches", caches, "numa",
                     numa, "devices", devs);
}

int pv_machine_to_string(const pv_machine *m, char **out)
{
    *out = NULL;
    json_t *root = json_pack("{s:s,s:i,s:s,s:s,s:b,s:f}", "format", PV_MACHINE_FORMAT, "schema_version",
                             (json_int_t)m->schema_version, "generator", m->generator, "date", m->date, "quick",
                             m->quick, "duration_s", m->duration_s);
    if (!root)
        return pv_error_set(PV_ERR_NOMEM, "out of memory writing a machine model");
    json_object_set_new(root, "host",
                        json_pack("{s:s,s:i,s:i,s:I,s:s,s:s,s:s}", "cpu_model", m->host.cpu_model, "cores",
                                  (json_int_t)m->host.cores, "pus", (json_int_t)m->host.pus, "memory_bytes",
                                  (json_int_t)m->host.memory, "caches", m->host.caches, "kernel", m->host.kernel,
                                  "fingerprint", m->host.hash));
    json_object_set_new(root, "topology", topology_json(&m->topo));
    json_object_set_new(root, "counters",
                        json_pack("{s:s,s:i,s:s,s:s}", "papi_version", m->papi_version, "hw_counters",
                                  (json_int_t)m->papi_hw_counters, "method", pv_method_name(m->method), "note",
                                  m->method_note));
    set_stat(root, "clock_ghz", &m->clock_ghz);
    json_object_set_new(root, "simd", json_string(m->simd));
    json_t *classes = json_object();
    for (int c = 0; c < PV_MIX_NCLASSES; c++) {
        if (!m->classes[c].latency.reps && !m->classes[c].rthroughput.reps)
            continue;
        json_t *o = json_object();
        set_stat(o, "latency", &m->classes[c].latency);
        set_stat(o, "rthroughput", &m->classes[c].rthroughput);
        json_object_set_new(classes, pv_mix_class_name((pv_mix_class)c), o);
    }
    json_object_set_new(root, "classes", classes);
    json_t *kernels = json_array();
    for (uint32_t i = 0; i < m->nkernels; i++) {
        const pv_kernel_result *k = &m->kernels[i];
        json_t *o = json_pack("{s:s,s:s}", "name", k->name, "class", pv_mix_class_name((pv_mix_class)k->cls));
        set_stat(o, "latency", &k->cost.latency);
        set_stat(o, "rthroughput", &k->cost.rthroughput);
        json_array_append_new(kernels, o);
    }
    json_object_set_new(root, "kernels", kernels);
    set_stat(root, "branch_miss_cycles", &m->branch_miss_cycles);
    json_t *sweep = json_array(), *levels = json_array();
    for (uint32_t i = 0; i < m->nmem_points; i++) {
        json_t *o = json_pack("{s:I,s:o}", "size", (json_int_t)m->mem_points[i].size, "ns",
                              stat_json(&m->mem_points[i].ns));
        set_stat(o, "random_ns", &m->mem_points[i].random_ns);
        set_stat(o, "window_ns", &m->mem_points[i].window_ns);
        json_array_append_new(sweep, o);
    }
    for (uint32_t i = 0; i < m->nmem_levels; i++) {
        const pv_mem_level *l = &m->mem_levels[i];
        json_t *o = json_pack("{s:s,s:I}", "name", l->name, "size", (json_int_t)l->size);
        set_stat(o, "latency_ns", &l->latency_ns);
        set_stat(o, "random_ns", &l->random_ns);
        set_stat(o, "read_gbs", &l->read_gbs);
        set_stat(o, "write_gbs", &l->write_gbs);
        set_stat(o, "triad_gbs", &l->triad_gbs);
        set_stat(o, "read_gbs_all", &l->read_gbs_all);
        set_stat(o, "triad_gbs_all", &l->triad_gbs_all);
        json_array_append_new(levels, o);
    }
    json_t *memo = json_pack("{s:o,s:o}", "latency_sweep", sweep, "levels", levels);
    set_stat(memo, "miss_window_insns", &m->miss_window_insns);
    json_object_set_new(root, "memory", memo);
    json_t *w = json_pack("{s:s,s:s}", "huge_note", m->warm.huge_note, "disk_note", m->warm.disk_note);
    set_stat(w, "page_fault_4k_ns", &m->warm.page_fault_4k_ns);
    set_stat(w, "page_fault_huge_ns", &m->warm.page_fault_huge_ns);
    set_stat(w, "page_free_4k_ns", &m->warm.page_free_4k_ns);
    set_stat(w, "thread_create_us", &m->warm.thread_create_us);
    set_stat(w, "file_cached_gbs", &m->warm.file_cached_gbs);
    set_stat(w, "file_disk_gbs", &m->warm.file_disk_gbs);
    set_stat(w, "file_read_4k_gbs", &m->warm.file_read_4k_gbs);
    set_stat(w, "file_write_gbs", &m->warm.file_write_gbs);
    set_stat(w, "file_write_4k_gbs", &m->warm.file_write_4k_gbs);
    set_stat(w, "syscall_ns", &m->warm.syscall_ns);
    set_stat(w, "syscall_read_ns", &m->warm.syscall_read_ns);
    set_stat(w, "syscall_write_ns", &m->warm.syscall_write_ns);
    set_stat(w, "process_spawn_us", &m->warm.process_spawn_us);
    json_object_set_new(root, "warmup", w);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        return pv_error_set(PV_ERR_NOMEM, "out of memory writing a machine model");
    *out = s;
    return PV_OK;
}

int pv_machine_save(const pv_machine *m, const char *path)
{
    char *s = NULL;
    int rc = pv_machine_to_string(m, &s);
    if (rc == PV_OK) {
        size_t n = strlen(s);
        char *t = realloc(s, n + 2);
        if (t) {
            s = t;
            s[n] = '\n';
            s[n + 1] = 0;
        }
        rc = pv_file_write_atomic(path, s, strlen(s));
    }
    free(s);
    return rc;
}

/* ---- reader ---- */

static pv_stat stat_get(const json_t *o, const char *key)
{
    pv_stat s = {0, 0, 0, 0, PV_METHOD_NONE};
    const json_t *v = key ? json_object_get(o, key) : o;
    if (!json_is_object(v))
        return s;
    s.min = json_number_value(json_object_get(v, "min"));
    s.median = json_number_value(json_object_get(v, "median"));
    s.max = json_number_value(json_object_get(v, "max"));
    s.reps = (uint32_t)json_integer_value(json_object_get(v, "reps"));
    const char *me = json_string_value(json_object_get(v, "method"));
    s.method = me && !strcmp(me, "papi") ? PV_METHOD_PAPI : me && !strcmp(me, "timer") ? PV_METHOD_TIMER
                                                                                       : PV_METHOD_NONE;
    return s;
}

static void str_get(char *dst, size_t len, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(dst, len, "%s", v ? v : "");
}

static uint64_t u64_get(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

static void topology_get(pv_topology *t, const json_t *o, const char *source)
{
    memset(t, 0, sizeof *t);
    str_get(t->source, sizeof t->source, o, "source");
    t->npackages = (uint32_t)u64_get(o, "packages");
    t->ncores = (uint32_t)u64_get(o, "cores");
    t->npus = (uint32_t)u64_get(o, "pus");
    t->memory = u64_get(o, "memory_bytes");
    const json_t *cpu = json_object_get(o, "cpu");
    str_get(t->cpu_vendor, sizeof t->cpu_vendor, cpu, "vendor");
    str_get(t->cpu_model, sizeof t->cpu_model, cpu, "name");
    str_get(t->uarch, sizeof t->uarch, cpu, "uarch");
    t->cpu_family = (int32_t)json_integer_value(json_object_get(cpu, "family"));
    t->cpu_model_number = (int32_t)json_integer_value(json_object_get(cpu, "model"));
    t->cpu_stepping = (int32_t)json_integer_value(json_object_get(cpu, "stepping"));
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(o, "caches"), i, v) {
        if (t->ncaches >= 8) {
            pv_log(PV_LOG_WARN, "%s: more than 8 cache levels; ignored $.topology.caches[%zu] and after", source, i);
            break;
        }
        pv_topo_cache *c = &t->caches[t->ncaches++];
        str_get(c->name, sizeof c->name, v, "name");
        str_get(c->type, sizeof c->type, v, "type");
        c->level = (uint32_t)u64_get(v, "level");
        c->size = u64_get(v, "size");
        c->line = (uint32_t)u64_get(v, "line");
        c->assoc = (int32_t)json_integer_value(json_object_get(v, "assoc"));
        c->count = (uint32_t)u64_get(v, "count");
        c->shared_by = (uint32_t)u64_get(v, "shared_by");
    }
    json_array_foreach(json_object_get(o, "numa"), i, v) {
        if (t->nnuma >= 64)
            break;
        pv_topo_numa *z = &t->numa[t->nnuma++];
        z->os_index = (uint32_t)u64_get(v, "os_index");
        z->memory = u64_get(v, "memory_bytes");
        z->npus = (uint32_t)u64_get(v, "pus");
    }
    json_array_foreach(json_object_get(o, "devices"), i, v) {
        if (t->ndevices >= 32)
            break;
        pv_topo_device *d = &t->devices[t->ndevices++];
        str_get(d->kind, sizeof d->kind, v, "kind");
        str_get(d->name, sizeof d->name, v, "name");
        str_get(d->busid, sizeof d->busid, v, "busid");
        d->vendor_id = (uint32_t)u64_get(v, "vendor_id");
        d->device_id = (uint32_t)u64_get(v, "device_id");
        d->size = u64_get(v, "size_bytes");
    }
}

static const json_t *machine_schema(void)
{
    static json_t *schema;
    if (!schema) {
        json_error_t e;
        schema = json_loads(pv_schema_text(PV_SCHEMA_MACHINE), 0, &e);
    }
    return schema;
}

int pv_machine_parse(const char *text, size_t len, const char *source, pv_machine **out)
{
    *out = NULL;
    json_t *root = NULL;
    pv_machine *m = NULL;
    int rc = pv_json_parse(text, len, source, (void **)&root);
    if (rc != PV_OK)
        goto done;
    if (!json_is_object(root)) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: $: expected a machine model object", source);
        goto done;
    }
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt || strcmp(fmt, PV_MACHINE_FORMAT)) {
        rc = pv_error_set(PV_ERR_FORMAT, "%s: $.format: expected \"%s\" (is this a machine model from "
                          "'prevision calibrate -o'?)", source, PV_MACHINE_FORMAT);
        goto done;
    }
    const json_t *ver = json_object_get(root, "schema_version");
    if (json_is_integer(ver) && json_integer_value(ver) != PV_MACHINE_SCHEMA_VERSION) {
        rc = pv_error_set(PV_ERR_VERSION, "%s: $.schema_version: the file is version %lld, this prevision reads "
                          "version %d; re-run 'prevision calibrate --force'", source,
                          (long long)json_integer_value(ver), PV_MACHINE_SCHEMA_VERSION);
        goto done;
    }
    const json_t *schema = machine_schema();
    if (!schema) {
        rc = pv_error_set(PV_ERR_INTERNAL, "the compiled-in machine schema does not parse");
        goto done;
    }
    if ((rc = pv_json_validate_with(schema, root, source)) != PV_OK)
        goto done;
    m = calloc(1, sizeof *m);
    if (!m) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    m->schema_version = (int)json_integer_value(ver);
    str_get(m->generator, sizeof m->generator, root, "generator");
    str_get(m->date, sizeof m->date, root, "date");
    m->quick = json_is_true(json_object_get(root, "quick"));
    m->duration_s = json_number_value(json_object_get(root, "duration_s"));
    const json_t *h = json_object_get(root, "host");
    str_get(m->host.cpu_model, sizeof m->host.cpu_model, h, "cpu_model");
    m->host.cores = (uint32_t)u64_get(h, "cores");
    m->host.pus = (uint32_t)u64_get(h, "pus");
    m->host.memory = u64_get(h, "memory_bytes");
    str_get(m->host.caches, sizeof m->host.caches, h, "caches");
    str_get(m->host.kernel, sizeof m->host.kernel, h, "kernel");
    str_get(m->host.hash, sizeof m->host.hash, h, "fingerprint");
    topology_get(&m->topo, json_object_get(root, "topology"), source);
    const json_t *cn = json_object_get(root, "counters");
    str_get(m->papi_version, sizeof m->papi_version, cn, "papi_version");
    m->papi_hw_counters = (int32_t)json_integer_value(json_object_get(cn, "hw_counters"));
    const char *meth = json_string_value(json_object_get(cn, "method"));
    m->method = meth && !strcmp(meth, "papi") ? PV_METHOD_PAPI : PV_METHOD_TIMER;
    str_get(m->method_note, sizeof m->method_note, cn, "note");
    m->clock_ghz = stat_get(root, "clock_ghz");
    str_get(m->simd, sizeof m->simd, root, "simd");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(root, "classes"), key, v) {
        int c = pv_mix_class_from_name(key);
        if (c < 0) {
            pv_log(PV_LOG_WARN, "%s: $.classes.%s: not a mix class of this prevision; ignored", source, key);
            continue;
        }
        m->classes[c].latency = stat_get(v, "latency");
        m->classes[c].rthroughput = stat_get(v, "rthroughput");
    }
    size_t i;
    json_array_foreach(json_object_get(root, "kernels"), i, v) {
        const char *cls = json_string_value(json_object_get(v, "class"));
        int c = cls ? pv_mix_class_from_name(cls) : -1;
        if (c < 0 || m->nkernels >= sizeof m->kernels / sizeof m->kernels[0]) {
            pv_log(PV_LOG_WARN, "%s: $.kernels[%zu]: %s; ignored", source, i,
                   c < 0 ? "unknown mix class" : "too many kernels");
            continue;
        }
        pv_kernel_result *k = &m->kernels[m->nkernels++];
        str_get(k->name, sizeof k->name, v, "name");
        k->cls = (uint32_t)c;
        k->cost.latency = stat_get(v, "latency");
        k->cost.rthroughput = stat_get(v, "rthroughput");
    }
    m->branch_miss_cycles = stat_get(root, "branch_miss_cycles");
    const json_t *mem = json_object_get(root, "memory");
    m->miss_window_insns = stat_get(mem, "miss_window_insns");
    json_array_foreach(json_object_get(mem, "latency_sweep"), i, v) {
        if (m->nmem_points >= 48)
            break;
        m->mem_points[m->nmem_points].size = u64_get(v, "size");
        m->mem_points[m->nmem_points].random_ns = stat_get(v, "random_ns");
        m->mem_points[m->nmem_points].window_ns = stat_get(v, "window_ns");
        m->mem_points[m->nmem_points++].ns = stat_get(v, "ns");
    }
    json_array_foreach(json_object_get(mem, "levels"), i, v) {
        if (m->nmem_levels >= 8)
            break;
        pv_mem_level *l = &m->mem_levels[m->nmem_levels++];
        str_get(l->name, sizeof l->name, v, "name");
        l->size = u64_get(v, "size");
        l->latency_ns = stat_get(v, "latency_ns");
        l->random_ns = stat_get(v, "random_ns");
        l->read_gbs = stat_get(v, "read_gbs");
        l->write_gbs = stat_get(v, "write_gbs");
        l->triad_gbs = stat_get(v, "triad_gbs");
        l->read_gbs_all = stat_get(v, "read_gbs_all");
        l->triad_gbs_all = stat_get(v, "triad_gbs_all");
    }
    const json_t *w = json_object_get(root, "warmup");
    m->warm.page_fault_4k_ns = stat_get(w, "page_fault_4k_ns");
    m->warm.page_fault_huge_ns = stat_get(w, "page_fault_huge_ns");
    m->warm.page_free_4k_ns = stat_get(w, "page_free_4k_ns");
    m->warm.thread_create_us = stat_get(w, "thread_create_us");
    m->warm.file_cached_gbs = stat_get(w, "file_cached_gbs");
    m->warm.file_disk_gbs = stat_get(w, "file_disk_gbs");
    m->warm.file_read_4k_gbs = stat_get(w, "file_read_4k_gbs");
    m->warm.file_write_gbs = stat_get(w, "file_write_gbs");
    m->warm.file_write_4k_gbs = stat_get(w, "file_write_4k_gbs");
    m->warm.syscall_ns = stat_get(w, "syscall_ns");
    m->warm.syscall_read_ns = stat_get(w, "syscall_read_ns");
    m->warm.syscall_write_ns = stat_get(w, "syscall_write_ns");
    m->warm.process_spawn_us = stat_get(w, "process_spawn_us");
    str_get(m->warm.huge_note, sizeof m->warm.huge_note, w, "huge_note");
    str_get(m->warm.disk_note, sizeof m->warm.disk_note, w, "disk_note");
    *out = m;
    m = NULL;
done:
    free(m);
    json_decref(root);
    return rc;
}

int pv_machine_load(const char *path, pv_machine **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = pv_file_read(path, &text, &len);
    if (rc == PV_OK)
        rc = pv_machine_parse(text, len, path, out);
    free(text);
    return rc;
}

/* ---- cache ---- */

int pv_machine_cache_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(buf, len, "%s/prevision/machine.json", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.cache/prevision/machine.json", home);
    else
        return pv_error_set(PV_ERR_NOTFOUND, "neither XDG_CACHE_HOME nor HOME is set: no cache directory; "
                            "pass -o FILE to keep the machine model");
    return PV_OK;
}

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (!slash)
        return PV_OK;
    *slash = 0;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return pv_error_set(PV_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return pv_error_set(PV_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
    return PV_OK;
}

int pv_machine_get(pv_machine **out, const pv_calibrate_options *opts, int force, int *reused)
{
    char path[4096];
    *out = NULL;
    if (reused)
        *reused = 0;
    int have_path = pv_machine_cache_path(path, sizeof path) == PV_OK;
    if (have_path && !force) {
        pv_machine *m = NULL;
        int rc = pv_machine_load(path, &m);
        if (rc == PV_OK) {
            char why[256];
            int quick_ok = !m->quick || (opts && opts->quick);
            if (pv_machine_matches_host(m, why, sizeof why) && quick_ok) {
                *out = m;
                if (reused)
                    *reused = 1;
                return PV_OK;
            }
            if (!quick_ok)
                pv_log(PV_LOG_INFO, "%s: cached model is from a --quick run; measuring in full", path);
            else
                pv_log(PV_LOG_WARN, "%s: cached machine model is from another host (%s); measuring again", path,
                       why);
            pv_machine_free(m);
        } else if (rc != PV_ERR_NOTFOUND) {
            pv_log(PV_LOG_WARN, "%s: cached machine model unusable (%s); measuring again", path, pv_error_last());
        }
    }
    pv_error_clear();
    pv_machine *m = NULL;
    int rc = pv_calibrate(&m, opts);
    if (rc != PV_OK)
        return rc;
    if (have_path) {
        if (make_parent_dirs(path) == PV_OK && pv_machine_save(m, path) == PV_OK)
            pv_log(PV_LOG_DEBUG, "machine model cached in %s", path);
        else
            pv_log(PV_LOG_WARN, "could not cache the machine model in %s: %s", path, pv_error_last());
    }
    pv_error_clear();
    *out = m;
    return PV_OK;
}
