/* Symbolic expressions of the source analyzer: polynomials in named
 * parameters with rational coefficients, and an evaluator for the printed
 * syntax. Hand-written rather than a CAS library: Debian packages no small C
 * polynomial library (GiNaC is C++, FLINT has no named variables), and the
 * analyzer needs only add, mul, substitution and sums of powers. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prevision/source.h"
#include "source_internal.h"
#include "strbuf.h"

static int64_t gcd64(int64_t a, int64_t b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

/* Normalize a rational: positive denominator, lowest terms. */
static void rat_norm(int64_t *num, int64_t *den)
{
    if (*den < 0) {
        *num = -*num;
        *den = -*den;
    }
    int64_t g = gcd64(*num, *den);
    *num /= g;
    *den /= g;
}

/* a/b + c/d, with overflow detection. */
static int rat_add(int64_t a, int64_t b, int64_t c, int64_t d, int64_t *rn, int64_t *rd)
{
    int64_t g = gcd64(b, d), x, y, den;
    if (__builtin_mul_overflow(a, d / g, &x) || __builtin_mul_overflow(c, b / g, &y) ||
        __builtin_add_overflow(x, y, rn) || __builtin_mul_overflow(b / g, d, &den))
        return pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: coefficient overflows 64 bits");
    *rd = den;
    rat_norm(rn, rd);
    return PV_OK;
}

static int rat_mul(int64_t a, int64_t b, int64_t c, int64_t d, int64_t *rn, int64_t *rd)
{
    int64_t g1 = gcd64(a, d), g2 = gcd64(c, b);
    if (__builtin_mul_overflow(a / g1, c / g2, rn) || __builtin_mul_overflow(b / g2, d / g1, rd))
        return pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: coefficient overflows 64 bits");
    rat_norm(rn, rd);
    return PV_OK;
}

static unsigned term_degree(const pv_poly_term *t)
{
    unsigned d = 0;
    for (unsigned i = 0; i < t->nfactors; i++)
        d += t->exp[i];
    return d;
}

/* Compare monomials: by total degree (higher first), then factor names. */
static int mono_cmp(const pv_poly_term *a, const pv_poly_term *b)
{
    unsigned da = term_degree(a), db = term_degree(b);
    if (da != db)
        return da > db ? -1 : 1;
    for (unsigned i = 0; i < a->nfactors && i < b->nfactors; i++) {
        int c = strcmp(a->var[i], b->var[i]);
        if (c)
            return c;
        if (a->exp[i] != b->exp[i])
            return a->exp[i] > b->exp[i] ? -1 : 1;
    }
    return (int)a->nfactors - (int)b->nfactors;
}

void pv_poly_init(pv_poly *p) { memset(p, 0, sizeof *p); }

void pv_poly_clear(pv_poly *p)
{
    if (!p)
        return;
    free(p->terms);
    memset(p, 0, sizeof *p);
}

static int poly_reserve(pv_poly *p, uint32_t n)
{
    if (n <= p->cap)
        return PV_OK;
    uint32_t cap = p->cap ? p->cap * 2 : 4;
    while (cap < n)
        cap *= 2;
    pv_poly_term *t = realloc(p->terms, cap * sizeof *t);
    if (!t)
        return pv_error_set(PV_ERR_NOMEM, "symbolic expression: out of memory");
    p->terms = t;
    p->cap = cap;
    return PV_OK;
}

/* Add one term into p, merging with an equal monomial and keeping order. */
static int poly_add_term(pv_poly *p, const pv_poly_term *t)
{
    if (t->num == 0)
        return PV_OK;
    uint32_t lo = 0, hi = p->nterms;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (mono_cmp(&p->terms[mid], t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->nterms && mono_cmp(&p->terms[lo], t) == 0) {
        pv_poly_term *u = &p->terms[lo];
        int rc = rat_add(u->num, u->den, t->num, t->den, &u->num, &u->den);
        if (rc)
            return rc;
        if (u->num == 0) {
            memmove(u, u + 1, (p->nterms - lo - 1) * sizeof *u);
            p->nterms--;
        }
        return PV_OK;
    }
    int rc = poly_reserve(p, p->nterms + 1);
    if (rc)
        return rc;
    memmove(&p->terms[lo + 1], &p->terms[lo], (p->nterms - lo) * sizeof *t);
    p->terms[lo] = *t;
    p->nterms++;
    return PV_OK;
}

int pv_poly_set_const(pv_poly *p, int64_t num, int64_t den)
{
    if (den == 0)
        return pv_error_set(PV_ERR_INVALID, "symbolic expression: zero denominator");
    p->nterms = 0;
    pv_poly_term t = {.num = num, .den = den};
    rat_norm(&t.num, &t.den);
    return poly_add_term(p, &t);
}

int pv_poly_set_var(pv_poly *p, const char *name)
{
    if (!name || !name[0] || strlen(name) >= PV_POLY_NAMELEN)
        return pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: variable name '%s' is empty or longer than %d bytes",
                            name ? name : "", PV_POLY_NAMELEN - 1);
    p->nterms = 0;
    pv_poly_term t = {.num = 1, .den = 1, .nfactors = 1};
    strcpy(t.var[0], name);
    t.exp[0] = 1;
    return poly_add_term(p, &t);
}

int pv_poly_copy(pv_poly *out, const pv_poly *a)
{
    if (out == a)
        return PV_OK;
    int rc = poly_reserve(out, a->nterms);
    if (rc)
        return rc;
    if (a->nterms)
        memcpy(out->terms, a->terms, a->nterms * sizeof *a->terms);
    out->nterms = a->nterms;
    return PV_OK;
}

/* Results are built in a temporary so that out may alias an input: on
 * success (@rc PV_OK) the temporary becomes *out, else it is dropped and
 * *out is left as it was. @return rc. */
static int poly_finish(pv_poly *out, pv_poly *tmp, int rc)
{
    if (rc) {
        pv_poly_clear(tmp);
        return rc;
    }
    pv_poly_clear(out);
    *out = *tmp;
    return PV_OK;
}

int pv_poly_add_scaled(pv_poly *out, const pv_poly *a, const pv_poly *b, int64_t num, int64_t den)
{
    pv_poly r;
    pv_poly_init(&r);
    int rc = pv_poly_copy(&r, a);
    for (uint32_t i = 0; !rc && i < b->nterms; i++) {
        pv_poly_term t = b->terms[i];
        rc = rat_mul(t.num, t.den, num, den, &t.num, &t.den);
        if (!rc)
            rc = poly_add_term(&r, &t);
    }
    return poly_finish(out, &r, rc);
}

int pv_poly_add(pv_poly *out, const pv_poly *a, const pv_poly *b) { return pv_poly_add_scaled(out, a, b, 1, 1); }

int pv_poly_sub(pv_poly *out, const pv_poly *a, const pv_poly *b) { return pv_poly_add_scaled(out, a, b, -1, 1); }

int pv_poly_scale(pv_poly *p, int64_t num, int64_t den)
{
    if (den == 0)
        return pv_error_set(PV_ERR_INVALID, "symbolic expression: division by zero");
    pv_poly z;
    pv_poly_init(&z);
    return pv_poly_add_scaled(p, &z, p, num, den);
}

/* Product of two monomials (factor lists are sorted by name). */
static int mono_mul(const pv_poly_term *a, const pv_poly_term *b, pv_poly_term *r)
{
    memset(r, 0, sizeof *r);
    int rc = rat_mul(a->num, a->den, b->num, b->den, &r->num, &r->den);
    if (rc)
        return rc;
    unsigned i = 0, j = 0;
    while (i < a->nfactors || j < b->nfactors) {
        if (r->nfactors == PV_POLY_MAXFACTORS)
            return pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: more than %d variables in one term",
                                PV_POLY_MAXFACTORS);
        int c = i >= a->nfactors ? 1 : j >= b->nfactors ? -1 : strcmp(a->var[i], b->var[j]);
        unsigned k = r->nfactors++;
        if (c < 0) {
            strcpy(r->var[k], a->var[i]);
            r->exp[k] = a->exp[i++];
        } else if (c > 0) {
            strcpy(r->var[k], b->var[j]);
            r->exp[k] = b->exp[j++];
        } else {
            strcpy(r->var[k], a->var[i]);
            unsigned e = (unsigned)a->exp[i++] + b->exp[j++];
            if (e > 255)
                return pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: exponent above 255");
            r->exp[k] = (uint8_t)e;
        }
    }
    return PV_OK;
}

int pv_poly_mul(pv_poly *out, const pv_poly *a, const pv_poly *b)
{
    pv_poly r;
    pv_poly_init(&r);
    int rc = PV_OK;
    for (uint32_t i = 0; !rc && i < a->nterms; i++)
        for (uint32_t j = 0; !rc && j < b->nterms; j++) {
            pv_poly_term t;
            rc = mono_mul(&a->terms[i], &b->terms[j], &t);
            if (!rc)
                rc = poly_add_term(&r, &t);
        }
    return poly_finish(out, &r, rc);
}

int pv_poly_is_const(const pv_poly *p, int64_t *num, int64_t *den)
{
    if (p->nterms == 0) {
        if (num)
            *num = 0;
        if (den)
            *den = 1;
        return 1;
    }
    if (p->nterms != 1 || p->terms[0].nfactors)
        return 0;
    if (num)
        *num = p->terms[0].num;
    if (den)
        *den = p->terms[0].den;
    return 1;
}

int pv_poly_has_var(const pv_poly *p, const char *name)
{
    for (uint32_t i = 0; i < p->nterms; i++)
        for (unsigned k = 0; k < p->terms[i].nfactors; k++)
            if (!strcmp(p->terms[i].var[k], name))
                return 1;
    return 0;
}

unsigned pv_poly_degree(const pv_poly *p)
{
    unsigned d = 0;
    for (uint32_t i = 0; i < p->nterms; i++)
        if (term_degree(&p->terms[i]) > d)
            d = term_degree(&p->terms[i]);
    return d;
}

int pv_poly_subst(pv_poly *out, const pv_poly *p, const char *var, const pv_poly *q)
{
    pv_poly r, mono, pw;
    pv_poly_init(&r);
    pv_poly_init(&mono);
    pv_poly_init(&pw);
    int rc = PV_OK;
    for (uint32_t i = 0; !rc && i < p->nterms; i++) {
        pv_poly_term t = p->terms[i];
        unsigned e = 0;
        for (unsigned k = 0; k < t.nfactors; k++)
            if (!strcmp(t.var[k], var)) {
                e = t.exp[k];
                memmove(&t.var[k], &t.var[k + 1], (t.nfactors - k - 1) * sizeof t.var[0]);
                memmove(&t.exp[k], &t.exp[k + 1], (t.nfactors - k - 1) * sizeof t.exp[0]);
                t.nfactors--;
                break;
            }
        mono.nterms = 0;
        rc = poly_add_term(&mono, &t);
        for (unsigned k = 0; !rc && k < e; k++)
            rc = pv_poly_mul(&mono, &mono, q);
        if (!rc)
            rc = pv_poly_add(&r, &r, &mono);
    }
    pv_poly_clear(&mono);
    pv_poly_clear(&pw);
    return poly_finish(out, &r, rc);
}

/* Coefficients of S_k(T) = sum_{t=0}^{T-1} t^k as polynomials in T (Faulhaber), k <= 4. */
static const int64_t faulhaber[5][6][2] = {
    /* T^0..T^5 coefficients as num/den */
    {{0, 1}, {1, 1}},
    {{0, 1}, {-1, 2}, {1, 2}},
    {{0, 1}, {1, 6}, {-1, 2}, {1, 3}},
    {{0, 1}, {0, 1}, {1, 4}, {-1, 2}, {1, 4}},
    {{0, 1}, {-1, 30}, {0, 1}, {1, 3}, {-1, 2}, {1, 5}},
};

int pv_poly_sum(pv_poly *out, const pv_poly *f, const char *var, const pv_poly *lo, int64_t step,
                const pv_poly *count)
{
    /* f(lo + step*t), as a polynomial in the fresh variable t, then summed term by term. */
    static const char tv[] = "\x01t"; /* cannot clash with a C identifier */
    pv_poly sub, tpoly, g, r, sk, tk, x;
    pv_poly_init(&sub);
    pv_poly_init(&tpoly);
    pv_poly_init(&g);
    pv_poly_init(&r);
    pv_poly_init(&sk);
    pv_poly_init(&tk);
    pv_poly_init(&x);
    int rc = pv_poly_set_var(&tpoly, tv);
    if (!rc)
        rc = pv_poly_add_scaled(&sub, lo, &tpoly, step, 1);
    if (!rc)
        rc = pv_poly_subst(&g, f, var, &sub);
    for (uint32_t i = 0; !rc && i < g.nterms; i++) {
        pv_poly_term t = g.terms[i];
        unsigned e = 0;
        for (unsigned k = 0; k < t.nfactors; k++)
            if (!strcmp(t.var[k], tv)) {
                e = t.exp[k];
                memmove(&t.var[k], &t.var[k + 1], (t.nfactors - k - 1) * sizeof t.var[0]);
                memmove(&t.exp[k], &t.exp[k + 1], (t.nfactors - k - 1) * sizeof t.exp[0]);
                t.nfactors--;
                break;
            }
        if (e > 4) {
            rc = pv_error_set(PV_ERR_UNSUPPORTED, "symbolic expression: sum of a power above 4");
            break;
        }
        /* sk = S_e(count) */
        sk.nterms = 0;
        rc = pv_poly_set_const(&tk, 1, 1);
        for (unsigned k = 0; !rc && k <= e + 1; k++) {
            if (faulhaber[e][k][0])
                rc = pv_poly_add_scaled(&sk, &sk, &tk, faulhaber[e][k][0], faulhaber[e][k][1]);
            if (!rc)
                rc = pv_poly_mul(&tk, &tk, count);
        }
        x.nterms = 0;
        if (!rc)
            rc = poly_add_term(&x, &t);
        if (!rc)
            rc = pv_poly_mul(&x, &x, &sk);
        if (!rc)
            rc = pv_poly_add(&r, &r, &x);
    }
    pv_poly_clear(&sub);
    pv_poly_clear(&tpoly);
    pv_poly_clear(&g);
    pv_poly_clear(&sk);
    pv_poly_clear(&tk);
    pv_poly_clear(&x);
    return poly_finish(out, &r, rc);
}

/* Print order: by degree, and within a degree positive terms first, so
 * that a difference reads `n - i` rather than `-i + n`. */
char *pv_poly_str(const pv_poly *p)
{
    pv_strbuf b = {0};
    if (p->nterms == 0)
        pv_sb_printf(&b, "0");
    int first = 1;
    for (uint32_t g = 0; g < p->nterms;) {
        uint32_t e = g;
        while (e < p->nterms && term_degree(&p->terms[e]) == term_degree(&p->terms[g]))
            e++;
        for (int pass = 0; pass < 2; pass++)
            for (uint32_t i = g; i < e; i++) {
                const pv_poly_term *t = &p->terms[i];
                if ((pass == 0) != (t->num > 0))
                    continue;
                int64_t num = t->num;
                if (first && num < 0) {
                    pv_sb_printf(&b, "-");
                    num = -num;
                } else if (!first) {
                    pv_sb_printf(&b, num < 0 ? " - " : " + ");
                    if (num < 0)
                        num = -num;
                }
                first = 0;
                int wrote = 0;
                if (num != 1 || t->nfactors == 0) {
                    pv_sb_printf(&b, "%lld", (long long)num);
                    wrote = 1;
                }
                for (unsigned k = 0; k < t->nfactors; k++) {
                    pv_sb_printf(&b, "%s%s", wrote ? "*" : "", t->var[k]);
                    if (t->exp[k] > 1)
                        pv_sb_printf(&b, "^%u", t->exp[k]);
                    wrote = 1;
                }
                if (t->den != 1)
                    pv_sb_printf(&b, "/%lld", (long long)t->den);
            }
        g = e;
    }
    if (b.failed) {
        pv_sb_free(&b);
        pv_error_set(PV_ERR_NOMEM, "symbolic expression: out of memory");
        return NULL;
    }
    return b.data;
}

int pv_poly_eval(const pv_poly *p, pv_expr_lookup_fn lookup, void *ud, double *out)
{
    double sum = 0;
    for (uint32_t i = 0; i < p->nterms; i++) {
        const pv_poly_term *t = &p->terms[i];
        double v = (double)t->num / (double)t->den;
        for (unsigned k = 0; k < t->nfactors; k++) {
            double x;
            if (!lookup || lookup(ud, t->var[k], &x) != PV_OK)
                return pv_error_set(PV_ERR_NOTFOUND, "symbolic expression: no value for parameter '%s'", t->var[k]);
            v *= pow(x, t->exp[k]);
        }
        sum += v;
    }
    *out = sum;
    return PV_OK;
}

/* Recursive-descent evaluator for the printed syntax:
 *   expr := term (('+'|'-') term)*     term := unary (('*'|'/') unary)*
 *   unary := '-' unary | power          power := atom ('^' unary)?
 *   atom := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
 * NAME is a C identifier optionally followed by '.'/'->' and more identifiers
 * (struct members such as w->last). FUNC is ceil, floor, min or max. */
typedef struct evalctx {
    const char *s, *start;
    pv_expr_lookup_fn lookup;
    void *ud;
    int rc;
} evalctx;

static void skipws(evalctx *c)
{
    while (isspace((unsigned char)*c->s))
        c->s++;
}

static double fail(evalctx *c, const char *what)
{
    if (!c->rc)
        c->rc = pv_error_set(PV_ERR_FORMAT, "expression '%s': %s at offset %d", c->start, what, (int)(c->s - c->start));
    return 0;
}

static double parse_expr(evalctx *c);

size_t pva_source_ident_len(const char *s)
{
    size_t n = 0;
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        return 0;
    for (;;) {
        while (isalnum((unsigned char)s[n]) || s[n] == '_')
            n++;
        size_t sep = s[n] == '.' ? 1 : (s[n] == '-' && s[n + 1] == '>') ? 2 : 0;
        if (sep && (isalpha((unsigned char)s[n + sep]) || s[n + sep] == '_'))
            n += sep;
        else
            return n;
    }
}

static double parse_atom(evalctx *c)
{
    skipws(c);
    if (*c->s == '(') {
        c->s++;
        double v = parse_expr(c);
        skipws(c);
        if (*c->s != ')')
            return fail(c, "expected ')'");
        c->s++;
        return v;
    }
    if (isdigit((unsigned char)*c->s) || *c->s == '.') {
        char *end;
        double v = strtod(c->s, &end);
        c->s = end;
        return v;
    }
    size_t n = pva_source_ident_len(c->s);
    if (!n)
        return fail(c, "expected a number, a name or '('");
    char name[PV_POLY_NAMELEN];
    if (n >= sizeof name)
        return fail(c, "name too long");
    memcpy(name, c->s, n);
    name[n] = 0;
    c->s += n;
    skipws(c);
    if (*c->s == '(') {
        static const char *const fns[] = {"ceil", "floor", "min", "max"};
        int f = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(name, fns[i]))
                f = i;
        if (f < 0)
            return fail(c, "unknown function");
        c->s++;
        double a = parse_expr(c), b = 0;
        skipws(c);
        if (f >= 2) {
            if (*c->s != ',')
                return fail(c, "expected ','");
            c->s++;
            b = parse_expr(c);
            skipws(c);
        }
        if (*c->s != ')')
            return fail(c, "expected ')'");
        c->s++;
        switch (f) {
        case 0: return ceil(a - 1e-9);
        case 1: return floor(a + 1e-9);
        case 2: return a < b ? a : b;
        default: return a > b ? a : b;
        }
    }
    double v = 0;
    if (!c->lookup || c->lookup(c->ud, name, &v) != PV_OK) {
        if (!c->rc)
            c->rc = pv_error_set(PV_ERR_NOTFOUND, "expression '%s': no value for parameter '%s'", c->start, name);
        return 0;
    }
    return v;
}

static double parse_unary(evalctx *c);

static double parse_power(evalctx *c)
{
    double v = parse_atom(c);
    skipws(c);
    if (*c->s == '^') {
        c->s++;
        v = pow(v, parse_unary(c));
    }
    return v;
}

static double parse_unary(evalctx *c)
{
    skipws(c);
    if (*c->s == '-') {
        c->s++;
        return -parse_unary(c);
    }
    return parse_power(c);
}

static double parse_term(evalctx *c)
{
    double v = parse_unary(c);
    for (;;) {
        skipws(c);
        if (*c->s == '*') {
            c->s++;
            v *= parse_unary(c);
        } else if (*c->s == '/') {
            c->s++;
            double d = parse_unary(c);
            if (d == 0)
                return fail(c, "division by zero");
            v /= d;
        } else
            return v;
    }
}

static double parse_expr(evalctx *c)
{
    double v = parse_term(c);
    for (;;) {
        skipws(c);
        if (*c->s == '+') {
            c->s++;
            v += parse_term(c);
        } else if (*c->s == '-' && c->s[1] != '>') {
            c->s++;
            v -= parse_term(c);
        } else
            return v;
    }
}

int pv_expr_eval(const char *text, pv_expr_lookup_fn lookup, void *ud, double *out)
{
    if (!text || !out)
        return pv_error_set(PV_ERR_INVALID, "pv_expr_eval: NULL argument");
    evalctx c = {.s = text, .start = text, .lookup = lookup, .ud = ud};
    double v = parse_expr(&c);
    skipws(&c);
    if (!c.rc && *c.s)
        fail(&c, "unexpected character");
    if (c.rc)
        return c.rc;
    *out = v;
    return PV_OK;
}
