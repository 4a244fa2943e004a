/* A growable, always NUL-terminated byte buffer: the streaming JSON writer's
 * output, and the text builders of the analyzer's reports (internal to the
 * modules, not installed).
 *
 * Zero-initialize a pv_strbuf ({0}), append, then check `failed` once at the
 * end: an append that cannot allocate sets it and every later append does
 * nothing, so a builder needs no error check per call. On success `data`
 * (NULL when nothing was appended) is a malloc()ed string of `len` bytes the
 * caller owns and frees with free() or pv_sb_free(). */
#ifndef PV_COMMON_STRBUF_H
#define PV_COMMON_STRBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pv_strbuf {
    char *data;
    size_t len, cap;
    int failed; /* sticky: an allocation (or a printf format) failed */
} pv_strbuf;

/* Room for @extra more bytes after len. */
void pv_sb_reserve(pv_strbuf *b, size_t extra);
/* Append @n bytes of @s (which need not be NUL-terminated). */
void pv_sb_putn(pv_strbuf *b, const char *s, size_t n);
void pv_sb_puts(pv_strbuf *b, const char *s);
void pv_sb_putc(pv_strbuf *b, char c);
void pv_sb_printf(pv_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal integers. */
void pv_sb_u64(pv_strbuf *b, uint64_t v);
void pv_sb_i64(pv_strbuf *b, int64_t v);
/* A JSON number that round-trips a double (shortest %g that reads back); 0 for inf/NaN. */
void pv_sb_double(pv_strbuf *b, double v);
/* A float as the shortest decimal that reads back as the same float (for float fields); 0 for inf/NaN. */
void pv_sb_float(pv_strbuf *b, float v);
/* A JSON string literal with escapes; NULL writes null. Bytes that are not
 * UTF-8 are written as the Latin-1 code point (\u00XX). */
void pv_sb_json_str(pv_strbuf *b, const char *s);
/* Free the data and empty the buffer (it may be reused). */
void pv_sb_free(pv_strbuf *b);

#endif
