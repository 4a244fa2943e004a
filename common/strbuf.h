/* Growable byte buffer for the streaming JSON writers (internal to common/). */
#ifndef PV_COMMON_STRBUF_H
#define PV_COMMON_STRBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pv_strbuf {
    char *data;
    size_t len, cap;
    int oom; /* sticky: set once an allocation failed */
} pv_strbuf;

void pv_sb_reserve(pv_strbuf *b, size_t extra);
void pv_sb_putn(pv_strbuf *b, const char *s, size_t n);
void pv_sb_puts(pv_strbuf *b, const char *s);
void pv_sb_putc(pv_strbuf *b, char c);
void pv_sb_printf(pv_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pv_sb_u64(pv_strbuf *b, uint64_t v);
void pv_sb_i64(pv_strbuf *b, int64_t v);
/* A JSON number that round-trips a float/double (shortest %g that reads back). */
void pv_sb_double(pv_strbuf *b, double v);
/* A float as the shortest decimal that reads back as the same float (for float fields). */
void pv_sb_float(pv_strbuf *b, float v);
/* A JSON string literal with escapes; NULL writes null. */
void pv_sb_json_str(pv_strbuf *b, const char *s);
void pv_sb_free(pv_strbuf *b);

#endif
