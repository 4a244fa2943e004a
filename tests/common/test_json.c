/* Tests for common/json.c: the schema validator, file reads, atomic writes. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "prevision/error.h"
#include "prevision/json.h"

static int check(const char *schema, const char *instance)
{
    json_t *s = json_loads(schema, 0, NULL), *i = json_loads(instance, JSON_DECODE_ANY, NULL);
    assert_non_null(s);
    assert_non_null(i);
    int rc = pv_json_validate_with(s, i, "t.json");
    json_decref(s);
    json_decref(i);
    return rc;
}

static void validator_keywords(void **state)
{
    (void)state;
    const char *s = "{\"type\":\"object\",\"required\":[\"a\"],\"additionalProperties\":false,"
                    "\"properties\":{\"a\":{\"$ref\":\"#/$defs/pos\"},\"b\":{\"type\":\"array\",\"minItems\":1,"
                    "\"items\":{\"enum\":[\"x\",\"y\"]}},\"c\":{\"type\":\"string\",\"pattern\":\"^[0-9a-f]+$\"},"
                    "\"d\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]},"
                    "\"e\":{\"type\":[\"integer\",\"null\"]}},"
                    "\"$defs\":{\"pos\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}}}";
    assert_int_equal(check(s, "{\"a\":3,\"b\":[\"x\"],\"c\":\"ab12\",\"d\":\"s\",\"e\":null}"), PV_OK);
    assert_int_equal(check(s, "{}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.a: required field is missing");
    assert_int_equal(check(s, "{\"a\":0}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.a: expected a value >= 1, got 0");
    assert_int_equal(check(s, "{\"a\":11}"), PV_ERR_FORMAT);
    assert_int_equal(check(s, "{\"a\":1.5}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.a: expected integer, got number 1.5");
    assert_int_equal(check(s, "{\"a\":1,\"b\":[]}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.b: expected at least 1 items, got 0");
    assert_int_equal(check(s, "{\"a\":1,\"b\":[\"x\",\"z\"]}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.b[1]: expected one of \"x\", \"y\"; got string \"z\"");
    assert_int_equal(check(s, "{\"a\":1,\"c\":\"XYZ\"}"), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.c: expected a string matching"));
    assert_int_equal(check(s, "{\"a\":1,\"d\":[]}"), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "$.d: matches none"));
    assert_int_equal(check(s, "{\"a\":1,\"e\":\"s\"}"), PV_ERR_FORMAT);
    assert_int_equal(check(s, "{\"a\":1,\"zz\":1}"), PV_ERR_FORMAT);
    assert_string_equal(pv_error_last(), "t.json: $.zz: unknown field (not in the schema)");
}

static void compiled_schema_is_valid_json(void **state)
{
    (void)state;
    json_t *s = json_loads(pv_schema_text(PV_SCHEMA_PROFILE), 0, NULL);
    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(s, "title")), "prevision demand profile");
    json_decref(s);
    assert_null(pv_schema_text(PV_SCHEMA_NSCHEMAS));
}

static void parse_errors_have_positions(void **state)
{
    (void)state;
    void *j = NULL;
    assert_int_equal(pv_json_parse("{\n  \"a\": tru\n}", 14, "x.json", &j), PV_ERR_FORMAT);
    assert_non_null(strstr(pv_error_last(), "x.json:2:"));
    assert_null(j);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void atomic_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_test_json_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], *back = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/out.json", dir);
    assert_int_equal(pv_file_write_atomic(path, "hello", 5), PV_OK);
    assert_int_equal(pv_file_read(path, &back, &len), PV_OK);
    assert_int_equal(len, 5);
    assert_string_equal(back, "hello");
    free(back);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_mode & S_IRGRP || umask(022) & 040); /* not left 0600 by mkstemp */

    /* Rename over a directory fails: the error names the path and no temporary is left. */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(pv_file_write_atomic(sub, "x", 1), PV_ERR_IO);
    assert_non_null(strstr(pv_error_last(), "adir"));
    assert_int_equal(count_entries(dir), 2);

    /* A directory that does not exist. */
    char nodir[300];
    snprintf(nodir, sizeof nodir, "%s/no/such/file", dir);
    assert_int_equal(pv_file_write_atomic(nodir, "x", 1), PV_ERR_IO);
    assert_non_null(strstr(pv_error_last(), "no/such/file"));
    rmdir(sub);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* Special files are written in place, never replaced: `-o /dev/null` once
 * turned /dev/null into a regular file by renaming over it. A FIFO stands in
 * for the device so that a regression cannot damage the machine. Symbolic
 * links are followed: the file they point to is replaced, the link kept. */
static void atomic_write_special_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/pv_test_json_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fifo[256], target[256], link[256], buf[16] = {0};
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader, so the writer's open does not block */
    assert_true(rd >= 0);
    assert_int_equal(pv_file_write_atomic(fifo, "data", 4), PV_OK);
    assert_int_equal(read(rd, buf, sizeof buf), 4);
    assert_string_equal(buf, "data");
    close(rd);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(count_entries(dir), 1); /* no temporary left beside it */

    snprintf(target, sizeof target, "%s/real.json", dir);
    snprintf(link, sizeof link, "%s/link.json", dir);
    assert_int_equal(pv_file_write_atomic(target, "old", 3), PV_OK);
    assert_int_equal(symlink("real.json", link), 0);
    assert_int_equal(pv_file_write_atomic(link, "new", 3), PV_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    char *back = NULL;
    size_t len;
    assert_int_equal(pv_file_read(target, &back, &len), PV_OK);
    assert_string_equal(back, "new");
    free(back);
    unlink(link);
    unlink(target);
    unlink(fifo);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validator_keywords),
        cmocka_unit_test(compiled_schema_is_valid_json),
        cmocka_unit_test(parse_errors_have_positions),
        cmocka_unit_test(atomic_write),
        cmocka_unit_test(atomic_write_special_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
