#include "prevision/json.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prevision/error.h"
#include "schemas.h" /* generated: pv_schema_profile_text, pv_schema_machine_text */

const char *pv_schema_text(pv_schema_id id)
{
    switch (id) {
    case PV_SCHEMA_PROFILE: return pv_schema_profile_text;
    case PV_SCHEMA_MACHINE: return pv_schema_machine_text;
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Validator                                                           */
/* ------------------------------------------------------------------ */

/* A JSON path built incrementally on the stack of recursive calls. */
typedef struct jpath {
    const struct jpath *up;
    const char *key; /* object member, or NULL for an array index */
    size_t index;
} jpath;

typedef struct vctx {
    const json_t *root;  /* the schema, for $ref */
    const char *source;
    char msg[768];       /* first failure, kept for anyOf/oneOf to report */
    int quiet;           /* >0 while probing anyOf/oneOf branches */
} vctx;

static void path_render(const jpath *p, char *buf, size_t size)
{
    const jpath *chain[128];
    int n = 0;
    for (; p && n < 128; p = p->up)
        chain[n++] = p;
    size_t used = (size_t)snprintf(buf, size, "$");
    for (int i = n - 1; i >= 0 && used < size; i--) {
        if (chain[i]->key)
            used += (size_t)snprintf(buf + used, size - used, ".%s", chain[i]->key);
        else
            used += (size_t)snprintf(buf + used, size - used, "[%zu]", chain[i]->index);
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static int fail(vctx *c, const jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(vctx *c, const jpath *p, const char *fmt, ...)
{
    if (c->quiet)
        return -1;
    char where[512], what[256];
    path_render(p, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->msg, sizeof c->msg, "%s: %s", where, what);
    return -1;
}

static int type_matches(const char *t, const json_t *v)
{
    if (!strcmp(t, "object")) return json_is_object(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "integer")) return json_is_integer(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    return 0;
}

static void describe(const json_t *v, char *buf, size_t size)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!s) {
        snprintf(buf, size, "%s", type_name(v));
        return;
    }
    if (strlen(s) > 40)
        snprintf(buf, size, "%s", type_name(v));
    else
        snprintf(buf, size, "%s %s", type_name(v), s);
    free(s);
}

static int validate(vctx *c, const json_t *schema, const json_t *v, const jpath *p, int depth);

static const json_t *resolve_ref(vctx *c, const char *ref)
{
    static const char prefix[] = "#/$defs/";
    if (strncmp(ref, prefix, sizeof prefix - 1) != 0)
        return NULL;
    return json_object_get(json_object_get(c->root, "$defs"), ref + sizeof prefix - 1);
}

static double num(const json_t *v) { return json_number_value(v); }

static int validate_object(vctx *c, const json_t *schema, const json_t *v, const jpath *p, int depth)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *req = json_object_get(schema, "required");
    const json_t *addl = json_object_get(schema, "additionalProperties");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r) {
        if (json_is_string(r) && !json_object_get(v, json_string_value(r))) {
            jpath sub = {p, json_string_value(r), 0};
            return fail(c, &sub, "required field is missing");
        }
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        jpath sub = {p, key, 0};
        const json_t *ps = props ? json_object_get(props, key) : NULL;
        if (ps) {
            if (validate(c, ps, val, &sub, depth + 1))
                return -1;
        } else if (json_is_false(addl)) {
            return fail(c, &sub, "unknown field (not in the schema)");
        } else if (json_is_object(addl)) {
            if (validate(c, addl, val, &sub, depth + 1))
                return -1;
        }
    }
    return 0;
}

static int validate_array(vctx *c, const json_t *schema, const json_t *v, const jpath *p, int depth)
{
    const json_t *mn = json_object_get(schema, "minItems");
    const json_t *mx = json_object_get(schema, "maxItems");
    size_t n = json_array_size(v);
    if (mn && (json_int_t)n < json_integer_value(mn))
        return fail(c, p, "expected at least %lld items, got %zu", (long long)json_integer_value(mn), n);
    if (mx && (json_int_t)n > json_integer_value(mx))
        return fail(c, p, "expected at most %lld items, got %zu", (long long)json_integer_value(mx), n);
    const json_t *prefix = json_object_get(schema, "prefixItems");
    const json_t *items = json_object_get(schema, "items");
    size_t np = json_array_size(prefix);
    for (size_t i = 0; i < n; i++) {
        jpath sub = {p, NULL, i};
        const json_t *s = i < np ? json_array_get(prefix, i) : items;
        if (json_is_object(s) && validate(c, s, json_array_get(v, i), &sub, depth + 1))
            return -1;
    }
    return 0;
}

static int validate(vctx *c, const json_t *schema, const json_t *v, const jpath *p, int depth)
{
    if (depth > 64)
        return fail(c, p, "nesting deeper than 64 levels");
    const json_t *ref = json_object_get(schema, "$ref");
    if (ref) {
        const json_t *target = resolve_ref(c, json_string_value(ref));
        if (!target)
            return fail(c, p, "schema error: unresolvable $ref %s", json_string_value(ref));
        if (validate(c, target, v, p, depth + 1))
            return -1;
    }
    char got[64];
    const json_t *t = json_object_get(schema, "type");
    if (json_is_string(t) && !type_matches(json_string_value(t), v)) {
        describe(v, got, sizeof got);
        return fail(c, p, "expected %s, got %s", json_string_value(t), got);
    }
    if (json_is_array(t)) {
        size_t i;
        const json_t *ti;
        int ok = 0;
        json_array_foreach(t, i, ti) ok |= type_matches(json_string_value(ti), v);
        if (!ok) {
            describe(v, got, sizeof got);
            return fail(c, p, "expected one of the types %s, got %s", "in the schema", got);
        }
    }
    const json_t *cst = json_object_get(schema, "const");
    if (cst && !json_equal(cst, v)) {
        char want[64];
        describe(cst, want, sizeof want);
        describe(v, got, sizeof got);
        return fail(c, p, "expected %s, got %s", want, got);
    }
    const json_t *en = json_object_get(schema, "enum");
    if (en) {
        size_t i;
        const json_t *e;
        int ok = 0;
        json_array_foreach(en, i, e) ok |= json_equal(e, v);
        if (!ok) {
            char list[256] = "";
            size_t used = 0;
            json_array_foreach(en, i, e) {
                char one[64];
                describe(e, one, sizeof one);
                const char *sp = strchr(one, ' ');
                used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                         "%s%s", i ? ", " : "", sp ? sp + 1 : one);
                if (used >= sizeof list)
                    break;
            }
            describe(v, got, sizeof got);
            return fail(c, p, "expected one of %s; got %s", list, got);
        }
    }
    if (json_is_number(v)) {
        const json_t *mn = json_object_get(schema, "minimum");
        const json_t *mx = json_object_get(schema, "maximum");
        if (mn && num(v) < num(mn))
            return fail(c, p, "expected a value >= %g, got %g", num(mn), num(v));
        if (mx && num(v) > num(mx))
            return fail(c, p, "expected a value <= %g, got %g", num(mx), num(v));
    }
    if (json_is_string(v)) {
        const json_t *ml = json_object_get(schema, "minLength");
        if (ml && (json_int_t)json_string_length(v) < json_integer_value(ml))
            return fail(c, p, "expected a string of at least %lld characters", (long long)json_integer_value(ml));
        const json_t *pat = json_object_get(schema, "pattern");
        if (json_is_string(pat)) {
            regex_t re;
            if (regcomp(&re, json_string_value(pat), REG_EXTENDED | REG_NOSUB) != 0)
                return fail(c, p, "schema error: bad pattern %s", json_string_value(pat));
            int m = regexec(&re, json_string_value(v), 0, NULL, 0);
            regfree(&re);
            if (m != 0)
                return fail(c, p, "expected a string matching %s, got \"%.40s\"", json_string_value(pat),
                            json_string_value(v));
        }
    }
    if (json_is_object(v) && validate_object(c, schema, v, p, depth))
        return -1;
    if (json_is_array(v) && validate_array(c, schema, v, p, depth))
        return -1;
    const json_t *any = json_object_get(schema, "anyOf");
    const json_t *one = json_object_get(schema, "oneOf");
    if (any || one) {
        const json_t *alts = any ? any : one;
        size_t i, matches = 0;
        const json_t *a;
        c->quiet++;
        json_array_foreach(alts, i, a) matches += validate(c, a, v, p, depth + 1) == 0;
        c->quiet--;
        if (matches == 0 || (one && matches > 1)) {
            describe(v, got, sizeof got);
            return fail(c, p, "%s, got %s", matches ? "matches more than one alternative of oneOf"
                                                    : "matches none of the allowed alternatives", got);
        }
    }
    return 0;
}

int pv_json_validate_with(const void *schema, const void *instance, const char *source)
{
    vctx c = {.root = schema, .source = source};
    if (validate(&c, schema, instance, NULL, 0) == 0)
        return PV_OK;
    return pv_error_set(PV_ERR_FORMAT, "%s: %s", source ? source : "<input>", c.msg);
}

int pv_json_validate(pv_schema_id id, const void *instance, const char *source)
{
    /* Parsed once per process and kept: schemas are immutable. */
    static json_t *parsed[PV_SCHEMA_NSCHEMAS];
    const char *text = pv_schema_text(id);
    if (!text)
        return pv_error_set(PV_ERR_INVALID, "no schema with id %d", (int)id);
    json_t *s = __atomic_load_n(&parsed[id], __ATOMIC_ACQUIRE);
    if (!s) {
        json_error_t err;
        s = json_loads(text, 0, &err);
        if (!s)
            return pv_error_set(PV_ERR_INTERNAL, "compiled-in schema %d is invalid JSON: %s", (int)id, err.text);
        json_t *expected = NULL;
        if (!__atomic_compare_exchange_n(&parsed[id], &expected, s, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            json_decref(s);
            s = expected;
        }
    }
    return pv_json_validate_with(s, instance, source);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

int pv_file_read(const char *path, char **out, size_t *len)
{
    int rc = PV_OK;
    FILE *f = NULL;
    char *buf = NULL;
    size_t cap = 0, used = 0;
    *out = NULL;
    if (!strcmp(path, "-")) {
        f = stdin;
    } else {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = pv_error_set(PV_ERR_IO, "%s: is a directory, expected a file", path);
            goto done;
        }
        f = fopen(path, "rb");
        if (!f) {
            rc = pv_error_set(errno == ENOENT ? PV_ERR_NOTFOUND : PV_ERR_IO, "%s: cannot open: %s", path,
                              strerror(errno));
            goto done;
        }
    }
    for (;;) {
        if (cap - used < 65536) {
            cap = cap ? cap * 2 : 65536 * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory reading the file", path);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = pv_error_set(PV_ERR_IO, "%s: read error: %s", path, strerror(errno));
                goto done;
            }
            break;
        }
    }
    if (!buf && !(buf = malloc(1))) {
        rc = pv_error_set(PV_ERR_NOMEM, "out of memory");
        goto done;
    }
    buf[used] = '\0';
    *out = buf;
    buf = NULL;
    if (len)
        *len = used;
done:
    if (f && f != stdin)
        fclose(f);
    free(buf);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int pv_file_write_atomic(const char *path, const void *data, size_t len)
{
    if (!strcmp(path, "-")) {
        if (write_all(STDOUT_FILENO, data, len) != 0)
            return pv_error_set(PV_ERR_IO, "stdout: write failed: %s", strerror(errno));
        return PV_OK;
    }
    /* A device, FIFO or socket (-o /dev/null, -o /dev/stdout, a named pipe)
     * is written in place: renaming a temporary file over it would replace
     * the device node with a regular file. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return pv_error_set(PV_ERR_IO, "%s: is a directory; name a file to write", path);
        int dfd = open(path, O_WRONLY | O_CLOEXEC);
        if (dfd < 0)
            return pv_error_set(PV_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        int werr = write_all(dfd, data, len) != 0 ? errno : 0;
        if (close(dfd) != 0 && !werr)
            werr = errno;
        return werr ? pv_error_set(PV_ERR_IO, "%s: write failed: %s", path, strerror(werr)) : PV_OK;
    }
    /* Through a symbolic link, replace the file it points to and keep the link. */
    char *real = NULL;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (real = realpath(path, NULL)) != NULL)
        path = real;
    int rc = PV_OK, fd = -1;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(real);
        return pv_error_set(PV_ERR_NOMEM, "out of memory");
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(tmp);
        free(real);
        return rc;
    }
    /* mkstemp makes the file 0600; outputs are ordinary files. */
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        rc = pv_error_set(PV_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = pv_error_set(PV_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = pv_error_set(PV_ERR_IO, "%s: cannot replace the file: %s", path, strerror(errno));
        goto done;
    }
done:
    if (fd >= 0)
        close(fd);
    if (rc != PV_OK)
        unlink(tmp);
    free(tmp);
    free(real);
    return rc;
}

int pv_json_parse(const char *text, size_t len, const char *source, void **out)
{
    json_error_t err;
    *out = NULL;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        if (len == 0)
            return pv_error_set(PV_ERR_FORMAT, "%s: empty file, expected JSON", source);
        return pv_error_set(PV_ERR_FORMAT, "%s:%d:%d: invalid JSON: %s", source, err.line, err.column, err.text);
    }
    *out = j;
    return PV_OK;
}
