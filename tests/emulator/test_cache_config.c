/* Tests for cli/cache_config.c: the cache simulator's geometry from a
 * topology (hand-made pv_topology values, so nothing depends on this host),
 * from this host's hwloc, and from a machine model file. The CLI is an
 * executable, so its source is compiled into this test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/cache_config.c"

static void add(pv_topology *t, const char *name, uint32_t level, const char *type, uint64_t size, uint32_t line,
                int32_t assoc)
{
    pv_topo_cache *c = &t->caches[t->ncaches++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->type, sizeof c->type, "%s", type);
    c->level = level;
    c->size = size;
    c->line = line;
    c->assoc = assoc;
}

static void full_topology(void **state)
{
    (void)state;
    pv_topology t;
    memset(&t, 0, sizeof t);
    add(&t, "L1d", 1, "data", 48 << 10, 64, 12);
    add(&t, "L1i", 1, "instruction", 32 << 10, 64, 8);
    add(&t, "L2", 2, "unified", 1280 << 10, 64, 10);
    add(&t, "L3", 3, "unified", 96ull << 20, 64, 16);
    pve_cache_config cfg;
    char note[512];
    pv_cli_cache_config_from_topology(&cfg, &t, "test", note, sizeof note);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_int_equal(cfg.nlevels, 3);
    assert_int_equal(cfg.levels[0].size, 48 << 10);
    assert_int_equal(cfg.levels[0].assoc, 12);
    assert_int_equal(cfg.levels[1].size, 1280 << 10);
    assert_int_equal(cfg.levels[1].assoc, 10);
    assert_int_equal(cfg.levels[2].size, 96ull << 20);
    assert_string_equal(note, "L1d 48 KiB 12-way 64 B lines, L2 1.25 MiB 10-way 64 B lines, L3 96 MiB 16-way 64 B lines; "
                              "from test");
}

static void missing_and_odd_levels(void **state)
{
    (void)state;
    pv_topology t;
    memset(&t, 0, sizeof t);
    /* L1d fully associative and small enough; L2 with unknown ways and line;
     * no L3. */
    add(&t, "L1d", 1, "data", 16 << 10, 64, -1);
    add(&t, "L2", 2, "unified", 512 << 10, 0, 0);
    pve_cache_config cfg;
    char note[512];
    pv_cli_cache_config_from_topology(&cfg, &t, "test", note, sizeof note);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_int_equal(cfg.levels[0].assoc, 0); /* 256 lines, fully associative */
    assert_int_equal(cfg.levels[1].size, 512 << 10);
    assert_int_equal(cfg.levels[1].line, 64);
    assert_int_equal(cfg.levels[1].assoc, 16);
    assert_int_equal(cfg.levels[2].size, 32u << 20); /* default */
    assert_non_null(strstr(note, "L1d 16 KiB fully associative"));
    assert_non_null(strstr(note, "L3 32 MiB 16-way 64 B lines (default: not in the topology)"));

    /* A size no way count fits (and a bad line size): the whole default level. */
    memset(&t, 0, sizeof t);
    add(&t, "L1d", 1, "data", 1000, 48, 3);
    pv_cli_cache_config_from_topology(&cfg, &t, NULL, note, sizeof note);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_int_equal(cfg.levels[0].size, 48 << 10);
    assert_non_null(strstr(note, "(default: topology geometry unusable)"));
    assert_non_null(strstr(note, "from defaults"));
    /* A huge fully associative level gets the default ways. */
    memset(&t, 0, sizeof t);
    add(&t, "L3", 3, "unified", 64ull << 20, 64, -1);
    pv_cli_cache_config_from_topology(&cfg, &t, "x", NULL, 0);
    assert_int_equal(cfg.levels[2].size, 64ull << 20);
    assert_int_equal(cfg.levels[2].assoc, 16);
    /* No topology at all. */
    pv_cli_cache_config_from_topology(&cfg, NULL, NULL, note, 8);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_int_equal(strlen(note), 7);
}

static void host_and_machine_file(void **state)
{
    (void)state;
    pve_cache_config cfg;
    char note[512];
    assert_int_equal(pv_cli_cache_config(&cfg, NULL, note, sizeof note), PV_OK);
    assert_int_equal(pve_cache_config_check(&cfg), PV_OK);
    assert_non_null(strstr(note, "from hwloc (this host)"));
    assert_int_equal(pv_cli_cache_config(&cfg, "/nonexistent/machine.json", note, sizeof note), PV_ERR_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_topology),
        cmocka_unit_test(missing_and_odd_levels),
        cmocka_unit_test(host_and_machine_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
