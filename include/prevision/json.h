/**
 * @file json.h
 * @brief JSON helpers shared by every module: schema validation with exact
 *        error paths, whole-file reads and atomic writes.
 *
 * prevision's files (profiles, machine models, catalogs, plans) are JSON
 * described by JSON Schemas under docs/schema/. The schemas are compiled
 * into the library, and readers validate against them before converting,
 * so that every rejection says which file, which JSON path, and what was
 * expected. The validator implements the subset of JSON Schema 2020-12 the
 * project's schemas use (type, const, enum, properties, required,
 * additionalProperties, items, prefixItems, minItems, maxItems, minimum,
 * maximum, minLength, pattern, anyOf, oneOf, $ref to "#/$defs/NAME");
 * tests check the same files with python3-jsonschema. Why not a library:
 * Debian bookworm packages no maintained C JSON Schema validator.
 */
#ifndef PREVISION_JSON_H
#define PREVISION_JSON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The schemas compiled into the library. */
typedef enum pv_schema_id {
    PV_SCHEMA_PROFILE = 0, /**< docs/schema/profile.schema.json */
    PV_SCHEMA_MACHINE,     /**< docs/schema/machine.schema.json */
    PV_SCHEMA_NSCHEMAS
} pv_schema_id;

/**
 * @return the text of a compiled-in schema (static, never freed), or NULL
 *         when @p id is out of range.
 */
const char *pv_schema_text(pv_schema_id id);

/**
 * Validate a jansson value against a compiled-in schema.
 * @param id       which schema
 * @param instance a json_t* (declared void* so this header needs no jansson)
 * @param source   name for messages (file path)
 * @return PV_OK, or PV_ERR_FORMAT with the message
 *         "SOURCE: $.path.to[3].field: expected WHAT, got WHAT".
 */
int pv_json_validate(pv_schema_id id, const void *instance, const char *source);

/**
 * Validate @p instance against an arbitrary schema given as a json_t*.
 * Same contract as pv_json_validate(); $ref resolves inside @p schema.
 */
int pv_json_validate_with(const void *schema, const void *instance, const char *source);

/**
 * Read a whole file ("-" is stdin) into a malloc()ed, NUL-terminated buffer.
 * @param path  file to read
 * @param out   receives the buffer; caller frees with free()
 * @param len   receives the length (without the NUL); may be NULL
 * @return PV_OK, PV_ERR_NOTFOUND (no such file), PV_ERR_IO (other errors,
 *         message names the path and errno text), PV_ERR_NOMEM.
 */
int pv_file_read(const char *path, char **out, size_t *len);

/**
 * Write @p len bytes to @p path atomically: the data goes to a temporary
 * file in the same directory, is flushed with fsync(), then renamed over
 * @p path. On any failure the temporary file is removed and @p path is left
 * as it was. "-" writes to stdout (not atomic, by nature). A @p path that
 * exists and is not a regular file (a device such as /dev/null, a FIFO) is
 * opened and written in place, never replaced; a symbolic link is followed,
 * so the file it points to is replaced and the link kept.
 * @return PV_OK or PV_ERR_IO with the path and errno text (a directory too).
 */
int pv_file_write_atomic(const char *path, const void *data, size_t len);

/**
 * Parse JSON text with jansson, turning a syntax error into
 * PV_ERR_FORMAT "SOURCE:LINE:COLUMN: invalid JSON: REASON".
 * @param out receives a json_t* (as void*); caller releases with json_decref().
 */
int pv_json_parse(const char *text, size_t len, const char *source, void **out);

#ifdef __cplusplus
}
#endif
#endif
