#include "strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pv_sb_reserve(pv_strbuf *b, size_t extra)
{
    if (b->oom || b->cap - b->len > extra)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= extra)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return;
    }
    b->data = d;
    b->cap = cap;
}

void pv_sb_putn(pv_strbuf *b, const char *s, size_t n)
{
    pv_sb_reserve(b, n + 1);
    if (b->oom)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pv_sb_puts(pv_strbuf *b, const char *s) { pv_sb_putn(b, s, strlen(s)); }

void pv_sb_putc(pv_strbuf *b, char c) { pv_sb_putn(b, &c, 1); }

void pv_sb_printf(pv_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    pv_sb_reserve(b, (size_t)n + 1);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pv_sb_u64(pv_strbuf *b, uint64_t v)
{
    char tmp[24];
    int i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pv_sb_putn(b, tmp + i, sizeof tmp - (size_t)i);
}

void pv_sb_i64(pv_strbuf *b, int64_t v)
{
    if (v < 0) {
        pv_sb_putc(b, '-');
        pv_sb_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        pv_sb_u64(b, (uint64_t)v);
    }
}

void pv_sb_double(pv_strbuf *b, double v)
{
    if (!isfinite(v)) {
        pv_sb_puts(b, "0");
        return;
    }
    char tmp[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* JSON needs a number that jansson reads as real when it is not integral. */
    pv_sb_puts(b, tmp);
}

void pv_sb_float(pv_strbuf *b, float v)
{
    if (!isfinite(v)) {
        pv_sb_puts(b, "0");
        return;
    }
    /* Integral values (most cycle counts of small blocks) need no printf. */
    if (v == (float)(int64_t)v && fabsf(v) < 1e15f) {
        pv_sb_i64(b, (int64_t)v);
        return;
    }
    /* Shortest text that reads back as the same float: at most 9 digits
     * (pv_sb_double would search up to 17 for the float's double value). */
    char tmp[40];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)v);
        if (strtof(tmp, NULL) == v)
            break;
    }
    pv_sb_puts(b, tmp);
}

/* Length of the valid UTF-8 sequence at s, or 0 if the bytes there are not one. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong or surrogate */
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void pv_sb_json_str(pv_strbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!s) {
        pv_sb_puts(b, "null");
        return;
    }
    pv_sb_putc(b, '"');
    const char *run = s;
    while (*s) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x80) {
            s++;
            continue;
        }
        int n = ch >= 0x80 ? utf8_len((const unsigned char *)s) : 1;
        if (ch >= 0x80 && n > 0) {
            s += n;
            continue;
        }
        pv_sb_putn(b, run, (size_t)(s - run));
        switch (ch) {
        case '"': pv_sb_puts(b, "\\\""); break;
        case '\\': pv_sb_puts(b, "\\\\"); break;
        case '\n': pv_sb_puts(b, "\\n"); break;
        case '\t': pv_sb_puts(b, "\\t"); break;
        case '\r': pv_sb_puts(b, "\\r"); break;
        default: {
            /* Control characters, and bytes that are not UTF-8 (file names and
             * symbols may hold any bytes): written as the Latin-1 code point so
             * the profile stays valid JSON that jansson reads back. */
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            pv_sb_putn(b, u, 6);
        }
        }
        s++;
        run = s;
    }
    pv_sb_putn(b, run, (size_t)(s - run));
    pv_sb_putc(b, '"');
}

void pv_sb_free(pv_strbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
