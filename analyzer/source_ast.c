/* The libclang AST pass of the source analyzer: one walk per translation
 * unit that finds loops (with symbolic trip counts), allocation sites,
 * parallel constructs, calls into known libraries and diagnostics.
 *
 * The walk recurses by hand (CXChildVisit_Continue plus explicit
 * clang_visitChildren) rather than with CXChildVisit_Recurse, because it
 * keeps a stack of enclosing loops and switches. Facts are gathered raw
 * while a function is walked; trip counts are decided when the function
 * ends, once every assignment in it is known (was the bound or the
 * induction variable modified? is a local a single-assignment alias of a
 * parameter that can be substituted?). */
#include <clang-c/Index.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source_internal.h"

/* Value clang-19 gives _OPENMP under -fopenmp: the parse drops -fopenmp (see
 * pva_source_ast_tu) but keeps the code paths a build with OpenMP sees. */
#define PV_OPENMP_MACRO "-D_OPENMP=202011"

#define MAXKIDS 16

typedef struct kids {
    CXCursor c[MAXKIDS];
    unsigned n, total;
} kids;

static enum CXChildVisitResult collect_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    kids *k = d;
    if (k->n < MAXKIDS)
        k->c[k->n++] = c;
    k->total++;
    return CXChildVisit_Continue;
}

static void children(CXCursor c, kids *k)
{
    k->n = k->total = 0;
    clang_visitChildren(c, collect_cb, k);
}

/* Strip implicit casts (UnexposedExpr), parentheses and C casts. */
static CXCursor unwrap(CXCursor c)
{
    for (;;) {
        enum CXCursorKind k = clang_getCursorKind(c);
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr && k != CXCursor_CStyleCastExpr)
            return c;
        kids ks;
        children(c, &ks);
        if (ks.n == 0)
            return c;
        if (k != CXCursor_CStyleCastExpr && ks.total != 1)
            return c;
        c = ks.c[ks.n - 1]; /* a cast's operand is its last child (after a TypeRef) */
    }
}

static int is_null(CXCursor c) { return clang_Cursor_isNull(c); }

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static char *cxstr(CXString s)
{
    const char *c = clang_getCString(s);
    char *r = strdup(c ? c : "");
    clang_disposeString(s);
    return r;
}

/* Lines are expansion lines: a loop written by a macro (json_object_foreach)
 * is reported where the macro is used, not in the header defining it. */
static unsigned loc_line(CXSourceLocation l, unsigned *col, unsigned *off)
{
    unsigned line = 0, column = 0, offset = 0;
    clang_getExpansionLocation(l, NULL, &line, &column, &offset);
    if (col)
        *col = column;
    if (off)
        *off = offset;
    return line;
}

static unsigned cursor_line(CXCursor c, unsigned *col) { return loc_line(clang_getCursorLocation(c), col, NULL); }

/* ---------------------------------------------------------------------- */
/* Walk state                                                              */

enum { FR_LOOP, FR_SWITCH, FR_ONCE };

typedef struct frame {
    int loop;     /* loop index for FR_LOOP, else -1 */
    uint8_t kind; /* FR_LOOP; FR_SWITCH (a break target); FR_ONCE (do {} while (0): break and continue target) */
} frame;

/* Modifications of a variable in the current function. */
enum { MOD_ASSIGN = 1, MOD_HDR = 2, MOD_DECL = 4 };

typedef struct modrec {
    int loop;      /* innermost loop around the modification, -1 */
    uint8_t flags; /* MOD_ASSIGN; MOD_HDR: a for header updating its own induction variable; MOD_DECL */
} modrec;

typedef struct modent {
    char name[PV_POLY_NAMELEN]; /* "" = free slot */
    uint32_t n, cap;
    modrec *r;
} modent;

typedef struct modmap {
    modent *tab;
    uint32_t cap, count;
    uint32_t *used; /* indices of occupied slots, to reset quickly */
} modmap;

/* A local variable with an affine initializer: a candidate for substitution. */
typedef struct local {
    char name[PV_POLY_NAMELEN];
    int loop; /* innermost loop around the declaration */
    pv_poly init;
    int subst; /* decided at the end of the function */
} local;

typedef struct wrapper {
    char name[PV_POLY_NAMELEN];
    unsigned nparams;
    char params[8][PV_POLY_NAMELEN];
    pv_poly size;
} wrapper;

typedef struct namelist {
    char (*v)[PV_POLY_NAMELEN];
    unsigned n, cap;
    int overflow;
} namelist;

typedef struct funcrange {
    char *name;
    unsigned line, end_line;
} funcrange;

typedef struct walk {
    CXTranslationUnit tu;
    src_result *res;
    const char *buf; /* main file contents (owned by the TU) */
    size_t buflen;
    CXFile mainfile;
    char *func;      /* current function name (owned) */
    unsigned func_line, func_end_line;
    unsigned func_first_loop, func_first_alloc, func_first_callsite;
    size_t func_first_par, func_first_call;
    frame stack[256];
    unsigned depth;
    int hdr_loop;    /* loop whose for-header parts are being walked, -1 */
    CXCursor prev;   /* statement before the one being walked in its compound statement, or null */
    namelist *collect; /* variables read by expr_poly, when collecting a bound's variables */
    modmap mods;
    local *locals;
    unsigned nlocals, caplocals;
    namelist params;
    wrapper *wrappers;
    unsigned nwrappers;
    funcrange *funcs;
    unsigned nfuncs, capfuncs;
    int openmp;      /* the TU is compiled with -fopenmp */
    int rc;          /* first hard error (out of memory) */
} walk;

static void walk_cursor(walk *w, CXCursor c);

static enum CXChildVisitResult walk_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walk *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    w->prev = clang_getNullCursor();
    walk_cursor(w, c);
    return CXChildVisit_Continue;
}

static void walk_children(walk *w, CXCursor c) { clang_visitChildren(c, walk_cb, w); }

static int innermost_loop(const walk *w)
{
    for (unsigned i = w->depth; i-- > 0;)
        if (w->stack[i].kind == FR_LOOP)
            return w->stack[i].loop;
    return -1;
}

static int names_add(walk *w, namelist *l, const char *name)
{
    for (unsigned i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], name))
            return PV_OK;
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : 8;
        void *v = realloc(l->v, cap * sizeof *l->v);
        if (!v)
            return w->rc = PV_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], PV_POLY_NAMELEN, "%s", name);
    return PV_OK;
}

static int names_has(const namelist *l, const char *name)
{
    for (unsigned i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], name))
            return 1;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Modification map                                                        */

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static modent *mod_find(const modmap *m, const char *name)
{
    if (!m->cap)
        return NULL;
    for (uint32_t h = name_hash(name) & (m->cap - 1);; h = (h + 1) & (m->cap - 1)) {
        modent *e = &m->tab[h];
        if (!e->name[0])
            return NULL;
        if (!strcmp(e->name, name))
            return e;
    }
}

static int mod_grow(modmap *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    modent *tab = calloc(cap, sizeof *tab);
    uint32_t *used = malloc(cap * sizeof *used);
    if (!tab || !used) {
        free(tab);
        free(used);
        return PV_ERR_NOMEM;
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < m->count; i++) {
        modent *e = &m->tab[m->used[i]];
        uint32_t h = name_hash(e->name) & (cap - 1);
        while (tab[h].name[0])
            h = (h + 1) & (cap - 1);
        tab[h] = *e;
        used[count++] = h;
    }
    free(m->tab);
    free(m->used);
    m->tab = tab;
    m->used = used;
    m->cap = cap;
    return PV_OK;
}

static void mod_add(walk *w, const char *name, uint8_t flags)
{
    modmap *m = &w->mods;
    modent *e = mod_find(m, name);
    if (!e) {
        if ((m->count + 1) * 2 > m->cap && (w->rc = mod_grow(m)))
            return;
        uint32_t h = name_hash(name) & (m->cap - 1);
        while (m->tab[h].name[0])
            h = (h + 1) & (m->cap - 1);
        e = &m->tab[h];
        snprintf(e->name, sizeof e->name, "%s", name);
        m->used[m->count++] = h;
    }
    int loop = innermost_loop(w);
    if (e->n && e->r[e->n - 1].loop == loop && e->r[e->n - 1].flags == flags)
        return;
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 4;
        modrec *r = realloc(e->r, cap * sizeof *r);
        if (!r) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        e->r = r;
        e->cap = cap;
    }
    e->r[e->n++] = (modrec){loop, flags};
}

static void mod_reset(modmap *m)
{
    for (uint32_t i = 0; i < m->count; i++) {
        modent *e = &m->tab[m->used[i]];
        free(e->r);
        memset(e, 0, sizeof *e);
    }
    m->count = 0;
}

static void mod_free(modmap *m)
{
    mod_reset(m);
    free(m->tab);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static void mark_modified(walk *w, const char *name)
{
    uint8_t f = MOD_ASSIGN;
    if (w->hdr_loop >= 0 && !strcmp(w->res->loops[w->hdr_loop].var, name))
        f = MOD_HDR;
    mod_add(w, name, f);
}

/* Is @p loop equal to or inside loop @p outer? */
static int loop_within(const src_result *r, int loop, int outer)
{
    for (; loop >= 0; loop = r->loops[loop].parent)
        if (loop == outer)
            return 1;
    return 0;
}

/* Was @p name modified (or declared, with @p decls) inside loop @p li? */
static int modified_in(const walk *w, int li, const char *name, int decls)
{
    const modent *e = mod_find(&w->mods, name);
    for (uint32_t i = 0; e && i < e->n; i++)
        if ((decls || !(e->r[i].flags & MOD_DECL)) && loop_within(w->res, e->r[i].loop, li))
            return 1;
    return 0;
}

/* Same, for a member chain: `f->n` also changes when `f` does. */
static int chain_modified_in(const walk *w, int li, const char *name, int decls)
{
    char buf[PV_POLY_NAMELEN];
    snprintf(buf, sizeof buf, "%s", name);
    for (;;) {
        if (modified_in(w, li, buf, decls))
            return 1;
        char *a = strrchr(buf, '>'), *d = strrchr(buf, '.');
        char *cut = a && a > buf && a[-1] == '-' && (!d || a > d) ? a - 1 : d;
        if (!cut)
            return 0;
        *cut = 0;
    }
}

/* Flags of every modification of @p name in the function, OR-ed; and the number of declarations. */
static uint8_t mod_flags(const walk *w, const char *name, unsigned *ndecl)
{
    const modent *e = mod_find(&w->mods, name);
    uint8_t f = 0;
    unsigned nd = 0;
    for (uint32_t i = 0; e && i < e->n; i++) {
        f |= e->r[i].flags;
        nd += (e->r[i].flags & MOD_DECL) != 0;
    }
    if (ndecl)
        *ndecl = nd;
    return f;
}

/* Identifiers (member chains included) in a polynomial variable: the
 * variable itself, or those inside an atom such as `floor(n/2)`. */
typedef void (*ident_fn)(void *ud, const char *ident);

static void var_idents(const char *var, ident_fn fn, void *ud)
{
    if (!strchr(var, '(')) {
        fn(ud, var);
        return;
    }
    char id[PV_POLY_NAMELEN];
    for (const char *s = var; *s;) {
        if (!(isalpha((unsigned char)*s) || *s == '_')) {
            s++;
            continue;
        }
        size_t n = 0;
        for (;;) {
            while (isalnum((unsigned char)s[n]) || s[n] == '_')
                n++;
            size_t sep = s[n] == '.' ? 1 : (s[n] == '-' && s[n + 1] == '>') ? 2 : 0;
            if (sep && (isalpha((unsigned char)s[n + sep]) || s[n + sep] == '_'))
                n += sep;
            else
                break;
        }
        if (s[n] != '(' && n < sizeof id) { /* not a function name (floor, min) */
            memcpy(id, s, n);
            id[n] = 0;
            fn(ud, id);
        }
        s += n;
    }
}

static void poly_idents(const pv_poly *p, ident_fn fn, void *ud)
{
    for (uint32_t i = 0; i < p->nterms; i++)
        for (unsigned k = 0; k < p->terms[i].nfactors; k++)
            var_idents(p->terms[i].var[k], fn, ud);
}

/* ---------------------------------------------------------------------- */
/* Expressions                                                             */

/* Spell an lvalue or operand as a parameter name: a variable (`n`) or a
 * member chain (`w->last`, `s.n`). Returns 0 with *why when it is something else. */
static int spell_name(walk *w, CXCursor c, char *out, const char **why)
{
    (void)w;
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    const char *dummy;
    if (!why)
        why = &dummy;
    if (k == CXCursor_DeclRefExpr) {
        enum CXCursorKind rk = clang_getCursorKind(clang_getCursorReferenced(c));
        if (rk != CXCursor_VarDecl && rk != CXCursor_ParmDecl) {
            *why = rk == CXCursor_FunctionDecl ? "function in the expression" : "non-variable operand";
            return 0;
        }
        CXString s = clang_getCursorSpelling(c);
        const char *cs = clang_getCString(s);
        int ok = cs && cs[0] && strlen(cs) < PV_POLY_NAMELEN;
        if (ok)
            strcpy(out, cs);
        else
            *why = "variable name too long";
        clang_disposeString(s);
        return ok;
    }
    if (k == CXCursor_MemberRefExpr) {
        kids ks;
        children(c, &ks);
        if (ks.n != 1) {
            *why = "non-variable operand";
            return 0;
        }
        CXCursor base = unwrap(ks.c[0]);
        if (!spell_name(w, base, out, why))
            return 0;
        int arrow = clang_getCanonicalType(clang_getCursorType(base)).kind == CXType_Pointer;
        CXString s = clang_getCursorSpelling(c);
        const char *m = clang_getCString(s);
        size_t len = strlen(out);
        int ok = m && m[0] && len + strlen(m) + 2 < PV_POLY_NAMELEN;
        if (ok)
            snprintf(out + len, PV_POLY_NAMELEN - len, "%s%s", arrow ? "->" : ".", m);
        else
            *why = "member chain too long";
        clang_disposeString(s);
        return ok;
    }
    switch (k) {
    case CXCursor_ArraySubscriptExpr: *why = "reads an array element (data-dependent)"; break;
    case CXCursor_CallExpr: *why = "function call in the expression"; break;
    case CXCursor_UnaryOperator: *why = "reads memory through a pointer (data-dependent)"; break;
    default: *why = "non-variable operand";
    }
    return 0;
}

/* Integer value of a constant expression (literals, sizeof, enum constants, macros). */
static int eval_int(CXCursor c, int64_t *v)
{
    CXEvalResult r = clang_Cursor_Evaluate(c);
    if (!r)
        return 0;
    int ok = clang_EvalResult_getKind(r) == CXEval_Int;
    if (ok)
        *v = clang_EvalResult_isUnsignedInt(r) ? (int64_t)clang_EvalResult_getAsUnsigned(r)
                                               : clang_EvalResult_getAsLongLong(r);
    clang_EvalResult_dispose(r);
    return ok;
}

static int is_float_type(CXType t)
{
    enum CXTypeKind k = clang_getCanonicalType(t).kind;
    return k == CXType_Float || k == CXType_Double || k == CXType_LongDouble || k == CXType_Half ||
           k == CXType_Float16 || k == CXType_Float128;
}

enum { EX_BOUND, EX_SIZE };

/* A named atom: floor(P/d) or min/max(a,b), kept as one variable whose name
 * pv_expr_eval() can evaluate. */
static int atom(walk *w, pv_poly *out, const char *fmt, const pv_poly *a, const pv_poly *b, int64_t d, const char **why)
{
    char *sa = pv_poly_str(a), *sb = b ? pv_poly_str(b) : NULL;
    char name[128];
    int ok = sa && (!b || sb);
    if (ok) {
        if (b)
            snprintf(name, sizeof name, fmt, sa, sb);
        else if (a->nterms > 1)
            snprintf(name, sizeof name, "floor((%s)/%lld)", sa, (long long)d);
        else
            snprintf(name, sizeof name, fmt, sa, (long long)d);
    } else
        w->rc = PV_ERR_NOMEM;
    free(sa);
    free(sb);
    if (!ok)
        return 0;
    if (strlen(name) >= PV_POLY_NAMELEN) {
        *why = "expression too long";
        return 0;
    }
    if ((w->rc = pv_poly_set_var(out, name)))
        return 0;
    return 1;
}

/* Translate an integer expression into a polynomial. EX_SIZE accepts
 * division by a constant as an exact rational (allocation sizes, where a
 * byte does not matter); EX_BOUND keeps C's truncating division as a
 * floor() atom. On failure *why says why. */
static int expr_poly(walk *w, CXCursor c, pv_poly *out, int mode, const char **why)
{
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    int64_t v;
    if (k == CXCursor_IntegerLiteral || k == CXCursor_CharacterLiteral || k == CXCursor_UnaryExpr) {
        if (eval_int(c, &v))
            return !(w->rc = pv_poly_set_const(out, v, 1));
        *why = k == CXCursor_UnaryExpr ? "sizeof of a variable-length type" : "unsupported literal";
        return 0;
    }
    if (k == CXCursor_DeclRefExpr) {
        CXCursor ref = clang_getCursorReferenced(c);
        enum CXCursorKind rk = clang_getCursorKind(ref);
        /* enum constants and const variables with a constant initializer fold */
        if ((rk == CXCursor_EnumConstantDecl || (rk == CXCursor_VarDecl && clang_isConstQualifiedType(clang_getCursorType(c)))) &&
            eval_int(c, &v))
            return !(w->rc = pv_poly_set_const(out, v, 1));
    }
    if (k == CXCursor_DeclRefExpr || k == CXCursor_MemberRefExpr) {
        char name[PV_POLY_NAMELEN];
        if (!spell_name(w, c, name, why))
            return 0;
        if (is_float_type(clang_getCursorType(c))) {
            *why = "floating-point operand";
            return 0;
        }
        if (w->collect)
            names_add(w, w->collect, name);
        return !(w->rc = pv_poly_set_var(out, name));
    }
    if (k == CXCursor_UnaryOperator) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        kids ks;
        children(c, &ks);
        if (ks.n != 1 || (op != CXUnaryOperator_Minus && op != CXUnaryOperator_Plus)) {
            *why = op == CXUnaryOperator_Deref ? "reads memory through a pointer (data-dependent)"
                 : op == CXUnaryOperator_PostInc || op == CXUnaryOperator_PostDec || op == CXUnaryOperator_PreInc ||
                           op == CXUnaryOperator_PreDec
                     ? "side effect in the expression"
                     : "non-affine operator";
            return 0;
        }
        if (!expr_poly(w, ks.c[0], out, mode, why))
            return 0;
        if (op == CXUnaryOperator_Minus && (w->rc = pv_poly_scale(out, -1, 1)))
            return 0;
        return 1;
    }
    if (k == CXCursor_BinaryOperator) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        kids ks;
        children(c, &ks);
        if (ks.n != 2) {
            *why = "unexpected expression shape";
            return 0;
        }
        if (op == CXBinaryOperator_Assign) /* i = s = 0: the value assigned */
            return expr_poly(w, ks.c[1], out, mode, why);
        if (op != CXBinaryOperator_Add && op != CXBinaryOperator_Sub && op != CXBinaryOperator_Mul &&
            op != CXBinaryOperator_Div && op != CXBinaryOperator_Shl && op != CXBinaryOperator_Shr) {
            if (eval_int(c, &v)) /* constant bit arithmetic, e.g. (1 << 10) | 3 */
                return !(w->rc = pv_poly_set_const(out, v, 1));
            *why = op == CXBinaryOperator_Rem ? "non-affine operator (%)" : "non-affine operator";
            return 0;
        }
        pv_poly a, b;
        pv_poly_init(&a);
        pv_poly_init(&b);
        int ok = 0;
        int64_t cn, cd;
        if (expr_poly(w, ks.c[0], &a, mode, why) && expr_poly(w, ks.c[1], &b, mode, why)) {
            switch (op) {
            case CXBinaryOperator_Add: ok = !(w->rc = pv_poly_add(out, &a, &b)); break;
            case CXBinaryOperator_Sub: ok = !(w->rc = pv_poly_sub(out, &a, &b)); break;
            case CXBinaryOperator_Mul: ok = !(w->rc = pv_poly_mul(out, &a, &b)); break;
            case CXBinaryOperator_Shl:
                if (pv_poly_is_const(&b, &cn, &cd) && cd == 1 && cn >= 0 && cn < 62) {
                    if (!(w->rc = pv_poly_copy(out, &a)))
                        w->rc = pv_poly_scale(out, (int64_t)1 << cn, 1);
                    ok = !w->rc;
                } else
                    *why = "shift by a non-constant";
                break;
            default: /* Div, Shr */
                if (!pv_poly_is_const(&b, &cn, &cd) || cd != 1 || (op == CXBinaryOperator_Shr && (cn < 0 || cn > 61))) {
                    *why = op == CXBinaryOperator_Div ? "division by a non-constant" : "shift by a non-constant";
                    break;
                }
                if (op == CXBinaryOperator_Shr)
                    cn = (int64_t)1 << cn;
                if (cn == 0) {
                    *why = "division by zero";
                    break;
                }
                int64_t an, ad;
                if (pv_poly_is_const(&a, &an, &ad) && ad == 1) {
                    ok = !(w->rc = pv_poly_set_const(out, an / cn, 1)); /* C division */
                } else if (mode == EX_SIZE) {
                    if (!(w->rc = pv_poly_copy(out, &a)))
                        w->rc = pv_poly_scale(out, 1, cn);
                    ok = !w->rc;
                } else if (cn > 0)
                    ok = atom(w, out, "floor(%s/%lld)", &a, NULL, cn, why);
                else
                    *why = "division by a negative constant";
            }
        }
        pv_poly_clear(&a);
        pv_poly_clear(&b);
        return ok;
    }
    if (k == CXCursor_ConditionalOperator) {
        /* a < b ? a : b and friends: min() / max() */
        kids ks;
        children(c, &ks);
        CXCursor cc = ks.n == 3 ? unwrap(ks.c[0]) : clang_getNullCursor();
        kids ck;
        if (!is_null(cc) && clang_getCursorKind(cc) == CXCursor_BinaryOperator) {
            enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(cc);
            children(cc, &ck);
            if (ck.n == 2 && op >= CXBinaryOperator_LT && op <= CXBinaryOperator_GE) {
                pv_poly p[4];
                for (int i = 0; i < 4; i++)
                    pv_poly_init(&p[i]);
                int ok = expr_poly(w, ck.c[0], &p[0], mode, why) && expr_poly(w, ck.c[1], &p[1], mode, why) &&
                         expr_poly(w, ks.c[1], &p[2], mode, why) && expr_poly(w, ks.c[2], &p[3], mode, why);
                int res = 0;
                if (ok) {
                    char *s[4];
                    for (int i = 0; i < 4; i++)
                        s[i] = pv_poly_str(&p[i]);
                    if (s[0] && s[1] && s[2] && s[3]) {
                        int lt = op == CXBinaryOperator_LT || op == CXBinaryOperator_LE;
                        int same = !strcmp(s[2], s[0]) && !strcmp(s[3], s[1]);
                        int swapped = !strcmp(s[2], s[1]) && !strcmp(s[3], s[0]);
                        if (same || swapped)
                            res = atom(w, out, (lt == same) ? "min(%s,%s)" : "max(%s,%s)", &p[0], &p[1], 0, why);
                        else
                            *why = "conditional expression";
                    } else
                        w->rc = PV_ERR_NOMEM;
                    for (int i = 0; i < 4; i++)
                        free(s[i]);
                }
                for (int i = 0; i < 4; i++)
                    pv_poly_clear(&p[i]);
                return res;
            }
        }
        *why = "conditional expression";
        return 0;
    }
    switch (k) {
    case CXCursor_CallExpr: *why = "function call in the expression"; break;
    case CXCursor_ArraySubscriptExpr: *why = "reads an array element (data-dependent)"; break;
    case CXCursor_FloatingLiteral: *why = "floating-point operand"; break;
    default: *why = "expression not affine in variables and constants";
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Loops                                                                   */

static int add_loop(walk *w)
{
    src_result *r = w->res;
    if (r->nloops == r->caploops) {
        unsigned cap = r->caploops ? r->caploops * 2 : 16;
        src_loop *l = realloc(r->loops, cap * sizeof *l);
        if (!l)
            return -1;
        r->loops = l;
        r->caploops = cap;
    }
    src_loop *l = &r->loops[r->nloops];
    memset(l, 0, sizeof *l);
    pv_poly_init(&l->lo);
    pv_poly_init(&l->dist);
    pv_poly_init(&l->trip);
    pv_poly_init(&l->total);
    l->trip_const = -1;
    l->omp = -1;
    return (int)r->nloops++;
}

static src_alloc *add_alloc(walk *w)
{
    src_result *r = w->res;
    if (r->nallocs == r->capallocs) {
        unsigned cap = r->capallocs ? r->capallocs * 2 : 16;
        src_alloc *a = realloc(r->allocs, cap * sizeof *a);
        if (!a) {
            w->rc = PV_ERR_NOMEM;
            return NULL;
        }
        r->allocs = a;
        r->capallocs = cap;
    }
    src_alloc *a = &r->allocs[r->nallocs++];
    memset(a, 0, sizeof *a);
    pv_poly_init(&a->size);
    a->loop = innermost_loop(w);
    a->func = xstrdup(w->func);
    return a;
}

static int binop_is(CXCursor c, enum CXBinaryOperatorKind op)
{
    return clang_getCursorKind(c) == CXCursor_BinaryOperator && clang_getCursorBinaryOperatorKind(c) == op;
}

static int is_update(CXCursor c)
{
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_CompoundAssignOperator)
        return 1;
    if (k == CXCursor_UnaryOperator) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        return op >= CXUnaryOperator_PostInc && op <= CXUnaryOperator_PreDec;
    }
    return binop_is(c, CXBinaryOperator_Assign) || binop_is(c, CXBinaryOperator_Comma);
}

static int is_test(CXCursor c)
{
    c = unwrap(c);
    if (clang_getCursorKind(c) != CXCursor_BinaryOperator)
        return clang_getCursorKind(c) != CXCursor_UnaryOperator || !is_update(c);
    enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
    return (op >= CXBinaryOperator_LT && op <= CXBinaryOperator_NE) || op == CXBinaryOperator_LAnd ||
           op == CXBinaryOperator_LOr;
}

/* Skip blanks and comments from @p i; returns the new index. */
static size_t skip_blank(const char *b, size_t i, size_t end)
{
    while (i < end) {
        if (isspace((unsigned char)b[i]))
            i++;
        else if (b[i] == '/' && i + 1 < end && b[i + 1] == '/') {
            while (i < end && b[i] != '\n')
                i++;
        } else if (b[i] == '/' && i + 1 < end && b[i + 1] == '*') {
            i += 2;
            while (i + 1 < end && !(b[i] == '*' && b[i + 1] == '/'))
                i++;
            i += 2;
        } else
            break;
    }
    return i;
}

/* The parts of a for statement. libclang skips absent parts, so with fewer
 * than three header children the text decides: the number of ';' before a
 * child (outside the other children and comments) is its slot. A DeclStmt's
 * extent includes its ';'. Headers written by macros fall back to the shape
 * of the expressions. */
static void for_parts(walk *w, CXCursor c, const kids *ks, CXCursor *init, CXCursor *cond, CXCursor *inc)
{
    *init = *cond = *inc = clang_getNullCursor();
    unsigned nh = ks->n ? ks->n - 1 : 0;
    if (nh == 0)
        return;
    if (nh >= 3) {
        *init = ks->c[0];
        *cond = ks->c[1];
        *inc = ks->c[2];
        return;
    }
    CXSourceLocation start = clang_getCursorLocation(c);
    CXFile sf = NULL, ef = NULL;
    unsigned soff = 0, eoff = 0;
    clang_getSpellingLocation(start, &sf, NULL, NULL, &soff);
    clang_getExpansionLocation(start, &ef, NULL, NULL, &eoff);
    int slot[2] = {-1, -1};
    if (w->buf && sf && ef && clang_File_isEqual(sf, w->mainfile) && soff == eoff) {
        size_t pos = soff;
        int semis = 0;
        for (unsigned i = 0; i < nh; i++) {
            CXSourceRange r = clang_getCursorExtent(ks->c[i]);
            unsigned cs = 0, ce = 0;
            clang_getExpansionLocation(clang_getRangeStart(r), NULL, NULL, NULL, &cs);
            clang_getExpansionLocation(clang_getRangeEnd(r), NULL, NULL, NULL, &ce);
            if (cs < pos || cs > w->buflen)
                break;
            for (size_t p = pos; p < cs;) {
                size_t q = skip_blank(w->buf, p, cs);
                if (q > p) {
                    p = q;
                    continue;
                }
                semis += w->buf[p] == ';';
                p++;
            }
            int s = clang_getCursorKind(ks->c[i]) == CXCursor_DeclStmt ? 0 : semis;
            slot[i] = s > 2 ? 2 : s;
            if (clang_getCursorKind(ks->c[i]) == CXCursor_DeclStmt)
                semis++;
            pos = ce;
        }
    }
    if (slot[0] < 0 || (nh == 2 && slot[1] < 0)) {
        /* a macro: by shape */
        if (nh == 1)
            slot[0] = clang_getCursorKind(ks->c[0]) == CXCursor_DeclStmt ? 0 : is_test(ks->c[0]) ? 1 : 2;
        else {
            int d0 = clang_getCursorKind(ks->c[0]) == CXCursor_DeclStmt || binop_is(unwrap(ks->c[0]), CXBinaryOperator_Assign);
            slot[0] = d0 ? 0 : 1;
            slot[1] = is_test(ks->c[1]) && d0 ? 1 : 2;
        }
    }
    for (unsigned i = 0; i < nh; i++) {
        if (slot[i] == 0)
            *init = ks->c[i];
        else if (slot[i] == 1)
            *cond = ks->c[i];
        else
            *inc = ks->c[i];
    }
}

/* The value assigned to @p var by `T var = E`, `var = E` or a comma chain of them. */
static int init_value(walk *w, CXCursor init, const char *var, CXCursor *val)
{
    if (is_null(init))
        return 0;
    init = unwrap(init);
    enum CXCursorKind k = clang_getCursorKind(init);
    kids ks;
    if (k == CXCursor_DeclStmt) {
        kids ds;
        children(init, &ds);
        for (unsigned i = 0; i < ds.n; i++) {
            if (clang_getCursorKind(ds.c[i]) != CXCursor_VarDecl)
                continue;
            CXString s = clang_getCursorSpelling(ds.c[i]);
            const char *nm = clang_getCString(s);
            int match = nm && !strcmp(nm, var);
            clang_disposeString(s);
            if (!match)
                continue;
            children(ds.c[i], &ks);
            for (unsigned j = ks.n; j-- > 0;)
                if (clang_isExpression(clang_getCursorKind(ks.c[j]))) {
                    *val = ks.c[j];
                    return 1;
                }
            return 0;
        }
        return 0;
    }
    if (k == CXCursor_BinaryOperator) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(init);
        children(init, &ks);
        if (ks.n != 2)
            return 0;
        if (op == CXBinaryOperator_Comma)
            return init_value(w, ks.c[1], var, val) || init_value(w, ks.c[0], var, val);
        char nm[PV_POLY_NAMELEN];
        if (op == CXBinaryOperator_Assign && spell_name(w, ks.c[0], nm, NULL) && !strcmp(nm, var)) {
            *val = ks.c[1];
            return 1;
        }
    }
    return 0;
}

/* One variable updated by an increment expression. */
typedef struct update {
    char name[PV_POLY_NAMELEN];
    int64_t step;    /* 0 when not a constant step */
    const char *why; /* when step is 0 */
} update;

/* The step of `v = RHS` for variable @p v: v + C, C + v, v - C; else 0 with *why. */
static int64_t assign_step(walk *w, const char *v, CXCursor rhs, const char **why)
{
    rhs = unwrap(rhs);
    kids rk;
    int64_t c;
    char nm[PV_POLY_NAMELEN];
    if (clang_getCursorKind(rhs) == CXCursor_BinaryOperator) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(rhs);
        children(rhs, &rk);
        if (rk.n == 2 && (op == CXBinaryOperator_Add || op == CXBinaryOperator_Sub)) {
            if (spell_name(w, rk.c[0], nm, NULL) && !strcmp(nm, v) && eval_int(unwrap(rk.c[1]), &c) && c)
                return op == CXBinaryOperator_Add ? c : -c;
            if (op == CXBinaryOperator_Add && spell_name(w, rk.c[1], nm, NULL) && !strcmp(nm, v) &&
                eval_int(unwrap(rk.c[0]), &c) && c)
                return c;
        }
        if (rk.n == 2 && (op == CXBinaryOperator_Mul || op == CXBinaryOperator_Shl || op == CXBinaryOperator_Div ||
                          op == CXBinaryOperator_Shr)) {
            *why = "geometric step: non-affine update";
            return 0;
        }
    }
    if (clang_getCursorKind(rhs) == CXCursor_MemberRefExpr) {
        /* p = p->next */
        CXCursor b = rhs;
        for (;;) {
            children(b, &rk);
            if (rk.n != 1)
                break;
            b = unwrap(rk.c[0]);
            if (clang_getCursorKind(b) != CXCursor_MemberRefExpr)
                break;
        }
        if (spell_name(w, b, nm, NULL) && !strcmp(nm, v)) {
            *why = "pointer-chasing loop: the variable follows a link in memory";
            return 0;
        }
    }
    *why = "non-affine update";
    return 0;
}

/* Variables updated by a for-increment expression, with their steps. */
static void header_updates(walk *w, CXCursor inc, update *u, unsigned *nu, unsigned max)
{
    if (is_null(inc) || *nu >= max)
        return;
    inc = unwrap(inc);
    enum CXCursorKind k = clang_getCursorKind(inc);
    kids ks;
    children(inc, &ks);
    update *x = &u[*nu];
    x->step = 0;
    x->why = "non-affine update";
    int64_t v;
    if (k == CXCursor_UnaryOperator && ks.n == 1) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(inc);
        if (op < CXUnaryOperator_PostInc || op > CXUnaryOperator_PreDec || !spell_name(w, ks.c[0], x->name, NULL))
            return;
        x->step = op == CXUnaryOperator_PostInc || op == CXUnaryOperator_PreInc ? 1 : -1;
        (*nu)++;
        return;
    }
    if ((k != CXCursor_CompoundAssignOperator && k != CXCursor_BinaryOperator) || ks.n != 2)
        return;
    enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(inc);
    if (op == CXBinaryOperator_Comma) {
        header_updates(w, ks.c[0], u, nu, max);
        header_updates(w, ks.c[1], u, nu, max);
        return;
    }
    if (!spell_name(w, ks.c[0], x->name, NULL))
        return;
    if (op == CXBinaryOperator_AddAssign || op == CXBinaryOperator_SubAssign) {
        if (!eval_int(unwrap(ks.c[1]), &v))
            x->why = "non-constant step";
        else if (v == 0)
            x->why = "zero step";
        else
            x->step = op == CXBinaryOperator_AddAssign ? v : -v;
    } else if (op == CXBinaryOperator_Assign)
        x->step = assign_step(w, x->name, ks.c[1], &x->why);
    else if (op >= CXBinaryOperator_MulAssign && op <= CXBinaryOperator_OrAssign)
        x->why = op == CXBinaryOperator_MulAssign || op == CXBinaryOperator_ShlAssign || op == CXBinaryOperator_DivAssign ||
                         op == CXBinaryOperator_ShrAssign
                     ? "geometric step: non-affine update"
                     : "non-affine update";
    (*nu)++;
}

/* Updates of one variable in a loop body: the loop is counted only when
 * there is exactly one, unconditional, by a constant step, and no
 * `continue` can skip it. */
typedef struct upd {
    walk *w;
    const char *name;
    unsigned count;
    int64_t step;
    const char *why;
    int conditional, cont, addr;
} upd;

typedef struct uctx {
    upd *u;
    int cond, inloop;
} uctx;

static void upd_visit(upd *u, CXCursor c, int cond, int inloop);

static enum CXChildVisitResult upd_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    uctx *x = d;
    upd_visit(x->u, c, x->cond, x->inloop);
    return CXChildVisit_Continue;
}

static void upd_record(upd *u, int cond, int64_t step, const char *why)
{
    u->count++;
    u->conditional |= cond;
    u->step = step;
    if (!step)
        u->why = why;
}

static void upd_visit(upd *u, CXCursor c, int cond, int inloop)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    char nm[PV_POLY_NAMELEN];
    kids ks;
    switch (k) {
    case CXCursor_IfStmt:
    case CXCursor_SwitchStmt:
    case CXCursor_ConditionalOperator:
    case CXCursor_CaseStmt:
    case CXCursor_DefaultStmt:
    case CXCursor_LabelStmt:
        cond = 1;
        break;
    case CXCursor_ForStmt:
    case CXCursor_WhileStmt:
    case CXCursor_DoStmt:
        cond = 1;
        inloop = 1;
        break;
    case CXCursor_ContinueStmt:
        if (!inloop)
            u->cont = 1;
        return;
    case CXCursor_IntegerLiteral:
    case CXCursor_FloatingLiteral:
    case CXCursor_StringLiteral:
    case CXCursor_CharacterLiteral:
    case CXCursor_DeclRefExpr:
    case CXCursor_TypeRef:
        return;
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator: {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        if (op == CXBinaryOperator_LAnd || op == CXBinaryOperator_LOr)
            cond = 1;
        else if (op >= CXBinaryOperator_Assign && op <= CXBinaryOperator_OrAssign) {
            children(c, &ks);
            if (ks.n == 2 && spell_name(u->w, ks.c[0], nm, NULL) && !strcmp(nm, u->name)) {
                int64_t v = 0;
                const char *why = "non-affine update";
                if (op == CXBinaryOperator_Assign)
                    v = assign_step(u->w, nm, ks.c[1], &why);
                else if ((op == CXBinaryOperator_AddAssign || op == CXBinaryOperator_SubAssign) && eval_int(unwrap(ks.c[1]), &v))
                    v = op == CXBinaryOperator_AddAssign ? v : -v;
                else if (op == CXBinaryOperator_AddAssign || op == CXBinaryOperator_SubAssign)
                    why = "non-constant step";
                else if (op == CXBinaryOperator_MulAssign || op == CXBinaryOperator_ShlAssign ||
                         op == CXBinaryOperator_DivAssign || op == CXBinaryOperator_ShrAssign)
                    why = "geometric step: non-affine update";
                upd_record(u, cond, v, why);
            }
        }
        break;
    }
    case CXCursor_UnaryOperator: {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        children(c, &ks);
        if (ks.n == 1 && ((op >= CXUnaryOperator_PostInc && op <= CXUnaryOperator_PreDec) || op == CXUnaryOperator_AddrOf) &&
            spell_name(u->w, ks.c[0], nm, NULL) && !strcmp(nm, u->name)) {
            if (op == CXUnaryOperator_AddrOf)
                u->addr = 1;
            else
                upd_record(u, cond, op == CXUnaryOperator_PostInc || op == CXUnaryOperator_PreInc ? 1 : -1, NULL);
        }
        break;
    }
    default: break;
    }
    uctx x = {u, cond, inloop};
    clang_visitChildren(c, upd_cb, &x);
}

/* Find the body update of @p name. Returns the step, or 0 with *why (NULL when the body never updates it). */
static int64_t body_update(walk *w, CXCursor body, const char *name, const char **why)
{
    upd u = {.w = w, .name = name};
    *why = NULL;
    if (is_null(body))
        return 0;
    upd_visit(&u, body, 0, 0);
    if (u.addr)
        *why = "the address of the loop variable is taken in the body";
    else if (!u.count)
        return 0;
    else if (u.count > 1)
        *why = "the loop variable is updated more than once in the body";
    else if (u.conditional)
        *why = "the loop variable is updated conditionally in the body";
    else if (!u.step)
        *why = u.why;
    else if (u.cont)
        *why = "a continue may skip the update of the loop variable";
    else
        return u.step;
    return 0;
}

static void set_reason(src_loop *l, const char *fmt, const char *arg)
{
    char buf[256];
    snprintf(buf, sizeof buf, fmt, arg ? arg : "");
    free(l->reason);
    l->reason = strdup(buf);
}

/* Why a condition that is not a comparison cannot give a count. */
static const char *condition_reason(walk *w, CXCursor c, char *buf, size_t sz)
{
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    char nm[PV_POLY_NAMELEN];
    int64_t v;
    if (binop_is(c, CXBinaryOperator_LOr))
        return "condition with || (several ways out)";
    if (binop_is(c, CXBinaryOperator_LAnd)) {
        /* the most telling conjunct */
        kids ks;
        children(c, &ks);
        char best[200] = "";
        for (unsigned i = 0; i < ks.n; i++) {
            char tmp[200];
            const char *r = condition_reason(w, ks.c[i], tmp, sizeof tmp);
            if (!best[0] || !strncmp(r, "sentinel", 8) || (!strncmp(r, "pointer", 7) && strncmp(best, "sentinel", 8)))
                snprintf(best, sizeof best, "%s", r);
        }
        snprintf(buf, sz, "%s", best[0] ? best : "the condition is not a comparison with a bound");
        return buf;
    }
    if (k == CXCursor_CallExpr)
        return "the condition calls a function";
    if ((k == CXCursor_DeclRefExpr || k == CXCursor_MemberRefExpr) && spell_name(w, c, nm, NULL)) {
        if (clang_getCanonicalType(clang_getCursorType(c)).kind == CXType_Pointer)
            snprintf(buf, sz, "pointer-chasing loop: the condition tests the pointer %s", nm);
        else
            snprintf(buf, sz, "the condition tests %s, not a comparison with a bound", nm);
        return buf;
    }
    if (k == CXCursor_MemberRefExpr || k == CXCursor_ArraySubscriptExpr ||
        (k == CXCursor_UnaryOperator && clang_getCursorUnaryOperatorKind(c) == CXUnaryOperator_Deref))
        return "sentinel loop: the condition reads data from memory";
    if (k == CXCursor_IntegerLiteral && eval_int(c, &v) && v)
        return "no loop condition: runs until a break, return or exit";
    if (k == CXCursor_UnaryOperator && clang_getCursorUnaryOperatorKind(c) == CXUnaryOperator_LNot)
        return "the condition is a negation, not a comparison with a bound";
    if (binop_is(c, CXBinaryOperator_EQ))
        return "the condition is an equality test";
    return "the condition is not a comparison with a bound";
}

/* Find the comparison that bounds the loop: the condition itself, or a
 * conjunct of an && chain (then the count is only an upper bound). */
static int find_comparison(CXCursor c, CXCursor *cmp, int *early)
{
    c = unwrap(c);
    if (binop_is(c, CXBinaryOperator_LAnd)) {
        kids ks;
        children(c, &ks);
        if (ks.n == 2 && (find_comparison(ks.c[0], cmp, early) || find_comparison(ks.c[1], cmp, early))) {
            *early = 1;
            return 1;
        }
        return 0;
    }
    if (clang_getCursorKind(c) == CXCursor_BinaryOperator) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        if (op == CXBinaryOperator_LT || op == CXBinaryOperator_LE || op == CXBinaryOperator_GT ||
            op == CXBinaryOperator_GE || op == CXBinaryOperator_NE) {
            *cmp = c;
            return 1;
        }
    }
    if (clang_getCursorKind(c) == CXCursor_UnaryOperator) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        if (op == CXUnaryOperator_PostDec || op == CXUnaryOperator_PreDec) {
            *cmp = c;
            return 1;
        }
    }
    return 0;
}

/* `v--`, `--v`, `v-- > 0`, `v-- != 0`: the counted-down forms. Returns
 * 1 for post-decrement, 2 for pre-decrement, 0 otherwise; *var is the cursor of v. */
static int countdown(CXCursor c, CXCursor *var)
{
    c = unwrap(c);
    if (clang_getCursorKind(c) == CXCursor_BinaryOperator) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        kids ks;
        children(c, &ks);
        int64_t z;
        if ((op != CXBinaryOperator_GT && op != CXBinaryOperator_NE) || ks.n != 2 || !eval_int(unwrap(ks.c[1]), &z) || z)
            return 0;
        c = unwrap(ks.c[0]);
    }
    if (clang_getCursorKind(c) != CXCursor_UnaryOperator)
        return 0;
    enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
    kids ks;
    children(c, &ks);
    if (ks.n != 1 || (op != CXUnaryOperator_PostDec && op != CXUnaryOperator_PreDec))
        return 0;
    *var = ks.c[0];
    return op == CXUnaryOperator_PostDec ? 1 : 2;
}

static int set_bound_vars(walk *w, src_loop *l, const namelist *vars)
{
    for (unsigned i = 0; i < vars->n; i++) {
        if (!strcmp(vars->v[i], l->var))
            continue;
        char **b = realloc(l->bound_vars, (l->nbound_vars + 1) * sizeof *b);
        if (!b)
            return w->rc = PV_ERR_NOMEM;
        l->bound_vars = b;
        if (!(b[l->nbound_vars] = strdup(vars->v[i])))
            return w->rc = PV_ERR_NOMEM;
        l->nbound_vars++;
    }
    return PV_OK;
}

/* Initial value of @p var: in the for header, else in the statement right
 * before the loop, else its value when the loop starts (the variable itself). */
static int initial_value(walk *w, src_loop *l, CXCursor init, CXCursor prev, const char *var)
{
    CXCursor iv;
    const char *why = NULL;
    if (init_value(w, init, var, &iv) || init_value(w, prev, var, &iv)) {
        if (expr_poly(w, iv, &l->lo, EX_BOUND, &why))
            return 1;
        if (!w->rc)
            set_reason(l, "initial value is not affine: %s", why);
        return 0;
    }
    /* not set nearby: the count is in terms of the variable's value when the loop starts */
    return !(w->rc = pv_poly_set_var(&l->lo, var));
}

/* Derive the raw trip count of a loop from its condition, initial value and
 * step. On failure sets l->reason; the body is checked later. */
static void derive(walk *w, int li, enum CXCursorKind kind, CXCursor init, CXCursor cond, CXCursor inc, CXCursor body,
                   CXCursor prev)
{
    src_loop *l = &w->res->loops[li];
    char buf[200];
    const char *why = NULL;
    if (is_null(cond)) {
        set_reason(l, "no loop condition: runs until a break, return or exit", NULL);
        return;
    }
    CXCursor cmp;
    int early = 0;
    if (!find_comparison(cond, &cmp, &early)) {
        set_reason(l, "%s", condition_reason(w, cond, buf, sizeof buf));
        return;
    }
    CXCursor vc;
    int cd = countdown(cmp, &vc);
    if (cd) {
        /* while (n--): n iterations from n's value on entry */
        if (!spell_name(w, vc, l->var, &why)) {
            set_reason(l, "the counted-down operand is not a variable: %s", why);
            return;
        }
        if (is_float_type(clang_getCursorType(unwrap(vc)))) {
            set_reason(l, "floating-point loop variable", NULL);
            return;
        }
        CXCursor iv;
        if (init_value(w, prev, l->var, &iv)) {
            if (!expr_poly(w, iv, &l->lo, EX_BOUND, &why)) {
                if (!w->rc)
                    set_reason(l, "initial value is not affine: %s", why);
                return;
            }
        } else if ((w->rc = pv_poly_set_var(&l->lo, l->var)))
            return;
        if ((w->rc = pv_poly_copy(&l->dist, &l->lo)))
            return;
        if (cd == 2) {
            pv_poly one;
            pv_poly_init(&one);
            if (!(w->rc = pv_poly_set_const(&one, 1, 1)))
                w->rc = pv_poly_sub(&l->dist, &l->dist, &one);
            pv_poly_clear(&one);
            if (w->rc)
                return;
        }
        l->step = -1;
        l->early_exit = early;
        l->derived = 1;
        /* the decrement is in the condition: the body must not touch it */
        return;
    }
    enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(cmp);
    kids ks;
    children(cmp, &ks);
    if (ks.n != 2) {
        set_reason(l, "the condition is not a comparison with a bound", NULL);
        return;
    }
    namelist vars = {0};
    pv_poly pl, pr, d, rest;
    pv_poly_init(&pl);
    pv_poly_init(&pr);
    pv_poly_init(&d);
    pv_poly_init(&rest);
    const char *whyl = NULL, *whyr = NULL;
    w->collect = &vars;
    int okl = expr_poly(w, ks.c[0], &pl, EX_BOUND, &whyl);
    int okr = expr_poly(w, ks.c[1], &pr, EX_BOUND, &whyr);
    w->collect = NULL;
    update hu[8];
    unsigned nhu = 0;
    header_updates(w, inc, hu, &nhu, 8);
    if (w->rc)
        goto done;
    if (!okl || !okr) {
        /* name the side that is not the loop variable's */
        const char *bad = okl ? whyr : whyl;
        if ((okl || okr) && strstr(bad, "data-dependent") && pv_poly_is_const(okl ? &pl : &pr, NULL, NULL))
            set_reason(l, "sentinel loop: the condition compares data read from memory with a constant", NULL);
        else if (!strcmp(bad, "floating-point operand"))
            set_reason(l, "floating-point loop variable or bound", NULL);
        else
            set_reason(l, okl || okr ? "bound is not affine: %s" : "condition is not affine: %s", bad);
        /* a header update of a compared variable still names the loop variable */
        for (unsigned i = 0; i < nhu; i++)
            if (names_has(&vars, hu[i].name)) {
                snprintf(l->var, sizeof l->var, "%s", hu[i].name);
                break;
            }
        goto done;
    }
    if ((w->rc = pv_poly_sub(&d, &pl, &pr)))
        goto done;
    /* the loop variable: updated by the header, else by the body */
    int64_t step = 0;
    const char *body_why = NULL;
    int from_body = 0;
    for (unsigned i = 0; i < nhu && !l->var[0]; i++)
        if (pv_poly_has_var(&d, hu[i].name)) {
            snprintf(l->var, sizeof l->var, "%s", hu[i].name);
            step = hu[i].step;
            why = hu[i].why;
        }
    if (l->var[0] && !step) {
        set_reason(l, "%s", why);
        goto done;
    }
    if (!l->var[0]) {
        for (unsigned i = 0; i < vars.n && !l->var[0]; i++) {
            if (!pv_poly_has_var(&d, vars.v[i]))
                continue;
            const char *bw = NULL;
            int64_t s = body_update(w, body, vars.v[i], &bw);
            if (s) {
                snprintf(l->var, sizeof l->var, "%s", vars.v[i]);
                step = s;
                from_body = 1;
            } else if (bw && !body_why) {
                body_why = bw;
                snprintf(buf, sizeof buf, "%s", vars.v[i]);
            }
        }
        if (!l->var[0]) {
            if (body_why) {
                snprintf(l->var, sizeof l->var, "%s", buf);
                set_reason(l, "%s", body_why);
            } else if (nhu)
                set_reason(l, "the increment does not update a variable of the condition", NULL);
            else
                set_reason(l, "no variable of the condition changes in the loop", NULL);
            goto done;
        }
    }
    /* another compared variable updated by the header moves the bound */
    for (unsigned i = 0; i < nhu; i++)
        if (strcmp(hu[i].name, l->var) && pv_poly_has_var(&d, hu[i].name)) {
            set_reason(l, "the loop header also updates %s, which the condition reads", hu[i].name);
            goto done;
        }
    /* d = a*var + rest with a = +-1 */
    int64_t a = 0, an = 0, ad = 1;
    for (uint32_t t = 0; t < d.nterms; t++) {
        const pv_poly_term *tm = &d.terms[t];
        int has = 0;
        for (unsigned f = 0; f < tm->nfactors; f++)
            has |= !strcmp(tm->var[f], l->var);
        if (!has) {
            pv_poly one_term = {.nterms = 1, .cap = 1, .terms = (pv_poly_term *)tm};
            if ((w->rc = pv_poly_add_scaled(&rest, &rest, &one_term, 1, 1)))
                goto done;
            continue;
        }
        if (tm->nfactors != 1 || tm->exp[0] != 1) {
            set_reason(l, "the condition is not linear in %s", l->var);
            goto done;
        }
        an = tm->num;
        ad = tm->den;
    }
    if (ad != 1 || (an != 1 && an != -1)) {
        set_reason(l, "the coefficient of %s in the condition is not 1", l->var);
        goto done;
    }
    a = an;
    CXType vt = clang_getCursorType(unwrap(ks.c[pv_poly_has_var(&pl, l->var) ? 0 : 1]));
    if (is_float_type(vt)) {
        set_reason(l, "floating-point loop variable", NULL);
        goto done;
    }
    /* var < -rest when a = 1; var > rest (flipped) when a = -1 */
    pv_poly *bound = &rest;
    if (a == 1 && (w->rc = pv_poly_scale(&rest, -1, 1)))
        goto done;
    if (a == -1)
        op = op == CXBinaryOperator_LT ? CXBinaryOperator_GT
           : op == CXBinaryOperator_GT ? CXBinaryOperator_LT
           : op == CXBinaryOperator_LE ? CXBinaryOperator_GE
           : op == CXBinaryOperator_GE ? CXBinaryOperator_LE : op;
    if (!initial_value(w, l, kind == CXCursor_ForStmt ? init : clang_getNullCursor(), prev, l->var))
        goto done;
    int up = op == CXBinaryOperator_LT || op == CXBinaryOperator_LE || (op == CXBinaryOperator_NE && step > 0);
    if ((up && step < 0) || (!up && step > 0)) {
        set_reason(l, "the step moves away from the bound", NULL);
        goto done;
    }
    if (op == CXBinaryOperator_NE && step != 1 && step != -1) {
        set_reason(l, "'!=' condition with a step other than 1 (may never be equal)", NULL);
        goto done;
    }
    if ((w->rc = up ? pv_poly_sub(&l->dist, bound, &l->lo) : pv_poly_sub(&l->dist, &l->lo, bound)))
        goto done;
    if (op == CXBinaryOperator_LE || op == CXBinaryOperator_GE) {
        pv_poly one;
        pv_poly_init(&one);
        if (!(w->rc = pv_poly_set_const(&one, 1, 1)))
            w->rc = pv_poly_add(&l->dist, &l->dist, &one);
        pv_poly_clear(&one);
        if (w->rc)
            goto done;
    }
    if (set_bound_vars(w, l, &vars))
        goto done;
    l->step = step;
    l->body_update = from_body;
    l->early_exit = early;
    l->derived = 1;
done:
    free(vars.v);
    pv_poly_clear(&pl);
    pv_poly_clear(&pr);
    pv_poly_clear(&d);
    pv_poly_clear(&rest);
}

/* Is @p c a constant-false condition (do { } while (0))? */
static int const_false(CXCursor c)
{
    int64_t v;
    c = unwrap(c);
    return clang_getCursorKind(c) == CXCursor_IntegerLiteral && eval_int(c, &v) && v == 0;
}

static void push(walk *w, int loop, uint8_t kind)
{
    w->stack[w->depth].loop = loop;
    w->stack[w->depth].kind = kind;
    w->depth++;
}

static void walk_loop(walk *w, CXCursor c, enum CXCursorKind k)
{
    kids ks;
    children(c, &ks);
    CXCursor prev = w->prev;
    if (w->depth >= sizeof w->stack / sizeof w->stack[0]) {
        walk_children(w, c);
        return;
    }
    if (k == CXCursor_DoStmt && ks.n == 2 && const_false(ks.c[1])) {
        /* do { ... } while (0): a statement macro, not a loop */
        push(w, -1, FR_ONCE);
        walk_cursor(w, ks.c[0]);
        w->depth--;
        return;
    }
    int li = add_loop(w);
    if (li < 0) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    src_loop *l = &w->res->loops[li];
    l->kind = k == CXCursor_ForStmt ? "for" : k == CXCursor_WhileStmt ? "while" : "do";
    l->func = xstrdup(w->func);
    l->line = loc_line(clang_getCursorLocation(c), &l->col, &l->offset);
    l->end_line = loc_line(clang_getRangeEnd(clang_getCursorExtent(c)), NULL, NULL);
    l->parent = innermost_loop(w);
    l->depth = l->parent >= 0 ? w->res->loops[l->parent].depth + 1 : 1;
    l->innermost = 1;
    if (l->parent >= 0)
        w->res->loops[l->parent].innermost = 0;
    CXCursor init = clang_getNullCursor(), cond = clang_getNullCursor(), inc = clang_getNullCursor(),
             body = clang_getNullCursor();
    if (k == CXCursor_ForStmt && ks.n) {
        for_parts(w, c, &ks, &init, &cond, &inc);
        body = ks.c[ks.n - 1];
    } else if (k == CXCursor_WhileStmt && ks.n == 2) {
        cond = ks.c[0];
        body = ks.c[1];
    } else if (k == CXCursor_DoStmt && ks.n == 2) {
        body = ks.c[0];
        cond = ks.c[1];
    }
    derive(w, li, k, init, cond, inc, body, prev);
    if (w->rc)
        return;
    /* the header belongs to the enclosing loops' bodies */
    if (k == CXCursor_ForStmt) {
        w->hdr_loop = li;
        for (unsigned i = 0; i + 1 < ks.n; i++) {
            w->prev = clang_getNullCursor();
            walk_cursor(w, ks.c[i]);
        }
        w->hdr_loop = -1;
    } else if (k == CXCursor_WhileStmt && !is_null(cond))
        walk_cursor(w, cond);
    if (!is_null(body)) {
        push(w, li, FR_LOOP);
        w->prev = clang_getNullCursor();
        walk_cursor(w, body);
        w->depth--;
    }
    if (k == CXCursor_DoStmt && !is_null(cond))
        walk_cursor(w, cond);
}

/* ---------------------------------------------------------------------- */
/* Calls, allocations, declarations                                        */

static const char *alloc_kind(const char *name, int *size_arg, int *count_arg)
{
    static const struct {
        const char *name;
        int size, count;
    } fns[] = {
        {"malloc", 0, -1}, {"calloc", 1, 0}, {"realloc", 1, -1}, {"aligned_alloc", 1, -1},
        {"posix_memalign", 2, -1}, {"memalign", 1, -1}, {"valloc", 0, -1}, {"reallocarray", 2, 1},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!strcmp(name, fns[i].name)) {
            *size_arg = fns[i].size;
            *count_arg = fns[i].count;
            return fns[i].name;
        }
    return NULL;
}

/* Known library entry points: by exact name or prefix. */
static const char *library_group(const char *n)
{
    static const char *const io[] = {"fopen", "fread", "fwrite", "fclose", "open", "read", "write", "pread",
                                     "pwrite", "mmap", "fgets", "fputs", "fscanf", "fseek", "lseek", "fsync",
                                     "openat", "creat", "readv", "writev", "sendfile", "fdopen", "getline",
                                     "fopen64", "open64", "pread64", "pwrite64", "fdatasync", "ftruncate"};
    static const char *const blas[] = {"dgemm_", "sgemm_", "dgemv_", "sgemv_", "daxpy_", "saxpy_", "ddot_",
                                       "sdot_", "dgesv_", "sgesv_", "dpotrf_", "dsyev_", "dgetrf_", "zgemm_", "cgemm_"};
    switch (n[0]) {
    case 'c':
        if (!strncmp(n, "cblas_", 6))
            return "blas_lapack";
        if (!strncmp(n, "cuda", 4) || !strncmp(n, "cublas", 6) || !strncmp(n, "cufft", 5) || !strncmp(n, "cuLaunch", 8))
            return "cuda";
        if (n[1] == 'l' && n[2] >= 'A' && n[2] <= 'Z')
            return "opencl";
        break;
    case 'L':
        if (!strncmp(n, "LAPACKE_", 8))
            return "blas_lapack";
        break;
    case 'f':
        if (!strncmp(n, "fftw_", 5) || !strncmp(n, "fftwf_", 6) || !strncmp(n, "fftwl_", 6))
            return "fftw";
        break;
    case 'x':
        if (!strncmp(n, "xrt", 3))
            return "xilinx_xrt";
        break;
    case 'M':
        if (!strncmp(n, "MPI_", 4))
            return "mpi";
        break;
    case 'o':
        if (!strncmp(n, "omp_", 4))
            return "openmp";
        break;
    case 'p':
        if (!strncmp(n, "pthread_", 8))
            return "pthreads";
        break;
    default: break;
    }
    size_t len = strlen(n);
    if (len > 1 && n[len - 1] == '_')
        for (size_t i = 0; i < sizeof blas / sizeof blas[0]; i++)
            if (!strcmp(n, blas[i]))
                return "blas_lapack";
    for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
        if (!strcmp(n, io[i]))
            return "file_io";
    return NULL;
}

static void json_add(walk *w, json_t *arr, json_t *obj)
{
    if (!obj || json_array_append_new(arr, obj))
        w->rc = PV_ERR_NOMEM;
}

static void size_of_call(walk *w, CXCursor c, src_alloc *a, int size_arg, int count_arg)
{
    const char *why = "missing argument";
    int nargs = clang_Cursor_getNumArguments(c);
    if (size_arg >= nargs)
        goto unknown;
    if (!expr_poly(w, clang_Cursor_getArgument(c, (unsigned)size_arg), &a->size, EX_SIZE, &why))
        goto unknown;
    if (count_arg >= 0) {
        pv_poly n;
        pv_poly_init(&n);
        int ok = count_arg < nargs && expr_poly(w, clang_Cursor_getArgument(c, (unsigned)count_arg), &n, EX_SIZE, &why);
        if (ok)
            w->rc = pv_poly_mul(&a->size, &a->size, &n);
        pv_poly_clear(&n);
        if (!ok)
            goto unknown;
    }
    a->size_known = 1;
    return;
unknown:
    a->reason = strdup(why);
}

static void record_call(walk *w, CXCursor c, const char *name, unsigned line);

static void walk_call(walk *w, CXCursor c)
{
    CXString cs = clang_getCursorSpelling(c);
    const char *name = clang_getCString(cs);
    if (!name)
        name = "";
    unsigned line = cursor_line(c, NULL);
    int size_arg, count_arg;
    const char *ak = name[0] ? alloc_kind(name, &size_arg, &count_arg) : NULL;
    if (ak) {
        src_alloc *a = add_alloc(w);
        if (a) {
            a->kind = ak;
            a->line = line;
            size_of_call(w, c, a, size_arg, count_arg);
        }
    }
    for (unsigned i = 0; !ak && name[0] && i < w->nwrappers; i++) {
        wrapper *wr = &w->wrappers[i];
        if (strcmp(wr->name, name))
            continue;
        src_alloc *a = add_alloc(w);
        if (!a)
            break;
        a->kind = "wrapper";
        a->callee = strdup(name);
        a->line = line;
        const char *why = NULL;
        int ok = !w->rc && pv_poly_copy(&a->size, &wr->size) == PV_OK;
        for (unsigned p = 0; ok && p < wr->nparams; p++) {
            if (!pv_poly_has_var(&wr->size, wr->params[p]))
                continue;
            pv_poly arg;
            pv_poly_init(&arg);
            ok = (int)p < clang_Cursor_getNumArguments(c) &&
                 expr_poly(w, clang_Cursor_getArgument(c, p), &arg, EX_SIZE, &why);
            if (ok)
                ok = pv_poly_subst(&a->size, &a->size, wr->params[p], &arg) == PV_OK;
            pv_poly_clear(&arg);
        }
        if (ok)
            a->size_known = 1;
        else
            a->reason = strdup(why ? why : "argument is not affine");
        break;
    }
    /* exit() and abort() end the program, so they do not shorten a loop of a
     * run that completes; longjmp leaves the loop and goes on. */
    if (!strcmp(name, "longjmp") || !strcmp(name, "siglongjmp") || !strcmp(name, "_longjmp"))
        for (unsigned i = 0; i < w->depth; i++)
            if (w->stack[i].kind == FR_LOOP)
                w->res->loops[w->stack[i].loop].has_longjmp = 1;
    const char *group = name[0] ? library_group(name) : NULL;
    if (name[0] && !ak && !group && w->func && strcmp(name, "exit") && strcmp(name, "abort") && strcmp(name, "free"))
        record_call(w, c, name, line);
    if (group && !strcmp(name, "pthread_create")) {
        json_t *o = json_object();
        int li = innermost_loop(w);
        if (o) {
            json_object_set_new(o, "kind", json_string("pthread_create"));
            json_object_set_new(o, "file", json_string(w->res->file));
            json_object_set_new(o, "line", json_integer(line));
            if (w->func)
                json_object_set_new(o, "function", json_string(w->func));
            if (clang_Cursor_getNumArguments(c) >= 3) {
                CXCursor r = unwrap(clang_Cursor_getArgument(c, 2));
                if (clang_getCursorKind(r) == CXCursor_UnaryOperator) {
                    kids rk;
                    children(r, &rk);
                    if (rk.n == 1)
                        r = unwrap(rk.c[0]);
                }
                if (clang_getCursorKind(r) == CXCursor_DeclRefExpr) {
                    char *rn = cxstr(clang_getCursorSpelling(r));
                    if (rn)
                        json_object_set_new(o, "routine", json_string(rn));
                    free(rn);
                }
            }
            /* the number of threads is the trip count of the creating loop, known after the function */
            if (li >= 0) {
                json_object_set_new(o, "loop_line", json_integer(w->res->loops[li].line));
                json_object_set_new(o, "loop_index", json_integer(li));
            }
        }
        json_add(w, w->res->parallel, o);
    }
    if (group) {
        json_t *o = json_object();
        if (o) {
            json_object_set_new(o, "callee", json_string(name));
            json_object_set_new(o, "group", json_string(group));
            json_object_set_new(o, "file", json_string(w->res->file));
            json_object_set_new(o, "line", json_integer(line));
            if (w->func)
                json_object_set_new(o, "function", json_string(w->func));
            int li = innermost_loop(w);
            if (li >= 0)
                json_object_set_new(o, "loop_line", json_integer(w->res->loops[li].line));
        }
        json_add(w, w->res->calls, o);
    }
    clang_disposeString(cs);
    walk_children(w, c);
}

static void add_local(walk *w, CXCursor c, const char *name)
{
    CXType t = clang_getCanonicalType(clang_getCursorType(c));
    if (!(t.kind >= CXType_Bool && t.kind <= CXType_Int128) && t.kind != CXType_Pointer && t.kind != CXType_Enum)
        return;
    kids ks;
    children(c, &ks);
    CXCursor init = clang_getNullCursor();
    for (unsigned j = ks.n; j-- > 0;)
        if (clang_isExpression(clang_getCursorKind(ks.c[j]))) {
            init = ks.c[j];
            break;
        }
    if (is_null(init) || ks.total > MAXKIDS)
        return;
    if (w->nlocals == w->caplocals) {
        unsigned cap = w->caplocals ? w->caplocals * 2 : 16;
        local *l = realloc(w->locals, cap * sizeof *l);
        if (!l) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        w->locals = l;
        w->caplocals = cap;
    }
    local *l = &w->locals[w->nlocals];
    memset(l, 0, sizeof *l);
    pv_poly_init(&l->init);
    const char *why;
    if (!expr_poly(w, init, &l->init, EX_BOUND, &why)) {
        pv_poly_clear(&l->init);
        return;
    }
    snprintf(l->name, sizeof l->name, "%s", name);
    l->loop = innermost_loop(w);
    w->nlocals++;
}

/* Variable-length arrays, large fixed arrays (static or on the stack), and
 * locals whose initializer may replace them in trip counts. */
static void walk_vardecl(walk *w, CXCursor c)
{
    CXType t = clang_getCursorType(c);
    if (w->func) {
        CXString s = clang_getCursorSpelling(c);
        const char *nm = clang_getCString(s);
        if (nm && nm[0] && strlen(nm) < PV_POLY_NAMELEN) {
            mod_add(w, nm, MOD_DECL | (w->hdr_loop >= 0 && !strcmp(w->res->loops[w->hdr_loop].var, nm) ? MOD_HDR : 0));
            if (clang_Cursor_getStorageClass(c) != CX_SC_Static && clang_Cursor_getStorageClass(c) != CX_SC_Extern)
                add_local(w, c, nm);
        }
        clang_disposeString(s);
    }
    if (t.kind == CXType_VariableArray) {
        src_alloc *a = add_alloc(w);
        if (!a)
            return;
        a->kind = "vla";
        a->line = cursor_line(c, NULL);
        CXType e = t;
        while (e.kind == CXType_VariableArray || e.kind == CXType_ConstantArray)
            e = clang_getArrayElementType(e);
        long long esz = clang_Type_getSizeOf(e);
        /* the dimension expressions are the VarDecl's expression children, outermost first */
        kids ks;
        children(c, &ks);
        int ok = esz > 0 && !w->rc && pv_poly_set_const(&a->size, esz, 1) == PV_OK;
        const char *why = "unknown element size";
        unsigned ndims = 0;
        for (unsigned i = 0; ok && i < ks.n; i++) {
            if (!clang_isExpression(clang_getCursorKind(ks.c[i])))
                continue;
            pv_poly d;
            pv_poly_init(&d);
            ok = expr_poly(w, ks.c[i], &d, EX_SIZE, &why) && pv_poly_mul(&a->size, &a->size, &d) == PV_OK;
            pv_poly_clear(&d);
            ndims++;
        }
        /* fixed inner dimensions (double a[n][4]) are in the element type chain */
        for (CXType x = clang_getArrayElementType(t); ok && x.kind == CXType_ConstantArray; x = clang_getArrayElementType(x))
            ok = pv_poly_scale(&a->size, clang_getArraySize(x), 1) == PV_OK;
        if (ok && ndims)
            a->size_known = 1;
        else
            a->reason = strdup(ndims || !ok ? why : "dimension not found");
    } else if (t.kind == CXType_ConstantArray) {
        long long sz = clang_Type_getSizeOf(t);
        if (sz < 65536)
            return;
        enum CX_StorageClass sc = clang_Cursor_getStorageClass(c);
        src_alloc *a = add_alloc(w);
        if (!a)
            return;
        a->kind = !w->func || sc == CX_SC_Static || sc == CX_SC_Extern ? "static" : "stack";
        a->line = cursor_line(c, NULL);
        a->size_known = pv_poly_set_const(&a->size, sz, 1) == PV_OK;
        a->callee = cxstr(clang_getCursorSpelling(c));
        /* inside a function, finish_function prints the sizes; at file scope, now */
        if (!w->func && a->size_known && !(a->size_str = pv_poly_str(&a->size)))
            w->rc = PV_ERR_NOMEM;
    }
}

/* ---------------------------------------------------------------------- */
/* Functions                                                               */

static void finish_function(walk *w, CXCursor fn);
static void record_call(walk *w, CXCursor c, const char *name, unsigned line);

static void walk_function(walk *w, CXCursor c)
{
    if (!clang_isCursorDefinition(c))
        return;
    free(w->func);
    w->func = cxstr(clang_getCursorSpelling(c));
    if (!w->func) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    w->func_line = cursor_line(c, NULL);
    w->func_end_line = loc_line(clang_getRangeEnd(clang_getCursorExtent(c)), NULL, NULL);
    w->func_first_loop = w->res->nloops;
    w->func_first_alloc = w->res->nallocs;
    w->func_first_callsite = w->res->ncallsites;
    w->func_first_par = json_array_size(w->res->parallel);
    w->func_first_call = json_array_size(w->res->calls);
    w->depth = 0;
    w->hdr_loop = -1;
    mod_reset(&w->mods);
    for (unsigned i = 0; i < w->nlocals; i++)
        pv_poly_clear(&w->locals[i].init);
    w->nlocals = 0;
    w->params.n = 0;
    int np = clang_Cursor_getNumArguments(c);
    for (int i = 0; i < np; i++) {
        CXString s = clang_getCursorSpelling(clang_Cursor_getArgument(c, (unsigned)i));
        const char *nm = clang_getCString(s);
        if (nm && nm[0] && strlen(nm) < PV_POLY_NAMELEN)
            names_add(w, &w->params, nm);
        clang_disposeString(s);
    }
    if (w->nfuncs == w->capfuncs) {
        unsigned cap = w->capfuncs ? w->capfuncs * 2 : 32;
        funcrange *f = realloc(w->funcs, cap * sizeof *f);
        if (!f) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        w->funcs = f;
        w->capfuncs = cap;
    }
    w->funcs[w->nfuncs++] = (funcrange){strdup(w->func), w->func_line, w->func_end_line};
    walk_children(w, c);
    if (!w->rc)
        finish_function(w, c);
    free(w->func);
    w->func = NULL;
}

typedef struct cctx {
    walk *w;
    CXCursor prev;
} cctx;

static enum CXChildVisitResult compound_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    cctx *x = d;
    if (x->w->rc)
        return CXChildVisit_Break;
    x->w->prev = x->prev;
    walk_cursor(x->w, c);
    x->prev = c;
    return CXChildVisit_Continue;
}

static void mark_operand(walk *w, CXCursor c)
{
    char nm[PV_POLY_NAMELEN];
    if (spell_name(w, c, nm, NULL))
        mark_modified(w, nm);
}

static void walk_cursor(walk *w, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    switch (k) {
    case CXCursor_FunctionDecl:
        if (!w->func)
            walk_function(w, c);
        return;
    case CXCursor_CompoundStmt: {
        cctx x = {w, clang_getNullCursor()};
        clang_visitChildren(c, compound_cb, &x);
        return;
    }
    case CXCursor_ForStmt:
    case CXCursor_WhileStmt:
    case CXCursor_DoStmt:
        if (w->func)
            walk_loop(w, c, k);
        return;
    case CXCursor_SwitchStmt:
        if (w->depth < sizeof w->stack / sizeof w->stack[0]) {
            push(w, -1, FR_SWITCH);
            walk_children(w, c);
            w->depth--;
        }
        return;
    case CXCursor_BreakStmt:
        if (w->depth && w->stack[w->depth - 1].kind == FR_LOOP)
            w->res->loops[w->stack[w->depth - 1].loop].has_break = 1;
        return;
    case CXCursor_ContinueStmt:
        for (unsigned i = w->depth; i-- > 0;)
            if (w->stack[i].kind != FR_SWITCH) {
                if (w->stack[i].kind == FR_LOOP)
                    w->res->loops[w->stack[i].loop].has_continue = 1;
                break;
            }
        return;
    case CXCursor_ReturnStmt:
    case CXCursor_GotoStmt:
    case CXCursor_IndirectGotoStmt:
        for (unsigned i = 0; i < w->depth; i++)
            if (w->stack[i].kind == FR_LOOP) {
                if (k == CXCursor_ReturnStmt)
                    w->res->loops[w->stack[i].loop].has_return = 1;
                else
                    w->res->loops[w->stack[i].loop].has_goto = 1;
            }
        walk_children(w, c);
        return;
    case CXCursor_CallExpr:
        walk_call(w, c);
        return;
    case CXCursor_VarDecl:
        walk_vardecl(w, c);
        if (w->func) /* a file-scope initializer has no loops or calls: do not walk big tables */
            walk_children(w, c);
        return;
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator: {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        if (op >= CXBinaryOperator_Assign && op <= CXBinaryOperator_OrAssign) {
            kids ks;
            children(c, &ks);
            if (ks.n == 2)
                mark_operand(w, ks.c[0]);
        }
        walk_children(w, c);
        return;
    }
    case CXCursor_UnaryOperator: {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        if ((op >= CXUnaryOperator_PostInc && op <= CXUnaryOperator_PreDec) || op == CXUnaryOperator_AddrOf) {
            kids ks;
            children(c, &ks);
            if (ks.n == 1)
                mark_operand(w, ks.c[0]);
        }
        walk_children(w, c);
        return;
    }
    case CXCursor_IntegerLiteral:
    case CXCursor_FloatingLiteral:
    case CXCursor_StringLiteral:
    case CXCursor_CharacterLiteral:
    case CXCursor_DeclRefExpr:
    case CXCursor_TypeRef:
    case CXCursor_ParmDecl:
        return; /* leaves: nothing below them matters */
    default:
        walk_children(w, c);
    }
}

/* ---------------------------------------------------------------------- */
/* End of a function: substitution, trip counts, totals, wrappers          */

typedef struct idcheck {
    walk *w;
    const local *loc;
    int ok;
} idcheck;

/* Is @p id invariant where the local is declared: never assigned in the
 * function, or the header-updated variable of a loop around the declaration? */
static void check_ident(void *ud, const char *id)
{
    idcheck *x = ud;
    unsigned nd = 0;
    uint8_t f = mod_flags(x->w, id, &nd);
    /* only this function's own scalars: a global or a member may change in a call */
    if (nd > 1 || (nd == 0 && !names_has(&x->w->params, id)) || strchr(id, '.') || strstr(id, "->"))
        x->ok = 0;
    if (f & MOD_ASSIGN)
        x->ok = 0;
    else if (f & MOD_HDR) {
        int found = 0;
        for (int li = x->loc->loop; li >= 0 && !found; li = x->w->res->loops[li].parent) {
            const src_loop *l = &x->w->res->loops[li];
            found = !strcmp(l->var, id) && l->derived && !l->body_update;
        }
        if (!found)
            x->ok = 0;
    }
}

/* Apply the substitutable locals to @p p. */
static int substitute(walk *w, pv_poly *p)
{
    for (unsigned i = 0; i < w->nlocals; i++) {
        local *l = &w->locals[i];
        if (l->subst && pv_poly_has_var(p, l->name)) {
            int rc = pv_poly_subst(p, p, l->name, &l->init);
            if (rc)
                return rc; /* too large: keep what we have */
        }
    }
    return PV_OK;
}

static void decide_locals(walk *w)
{
    for (unsigned i = 0; i < w->nlocals; i++) {
        local *l = &w->locals[i];
        unsigned nd = 0;
        uint8_t f = mod_flags(w, l->name, &nd);
        if (nd != 1 || (f & (MOD_ASSIGN | MOD_HDR)))
            continue;
        idcheck x = {w, l, 1};
        poly_idents(&l->init, check_ident, &x);
        if (!x.ok)
            continue;
        /* earlier locals first, so that one pass over a trip count suffices */
        if (substitute(w, &l->init) == PV_OK)
            l->subst = 1;
    }
}

typedef struct varcheck {
    const walk *w;
    int li;
    const char *skip;
    const char *hit;
    char buf[PV_POLY_NAMELEN];
} varcheck;

static void check_variant(void *ud, const char *id)
{
    varcheck *x = ud;
    if (x->hit || (x->skip && !strcmp(id, x->skip)))
        return;
    if (chain_modified_in(x->w, x->li, id, 1)) {
        snprintf(x->buf, sizeof x->buf, "%s", id);
        x->hit = x->buf;
    }
}

static void mentions(void *ud, const char *id)
{
    varcheck *x = ud;
    if (!x->hit && !strcmp(id, x->skip))
        x->hit = x->skip;
}

static char *trip_string(const src_loop *l, int64_t *cnst)
{
    int64_t s = l->step < 0 ? -l->step : l->step;
    int64_t cn, cd;
    char buf[64];
    *cnst = -1;
    if (pv_poly_is_const(&l->dist, &cn, &cd) && cd == 1) {
        *cnst = cn <= 0 ? 0 : (cn + s - 1) / s;
        snprintf(buf, sizeof buf, "%lld", (long long)*cnst);
        return strdup(buf);
    }
    char *d = pv_poly_str(&l->dist);
    if (!d || s == 1)
        return d;
    size_t len = strlen(d) + 48;
    char *t = malloc(len);
    if (t)
        snprintf(t, len, l->dist.nterms > 1 ? "ceil((%s)/%lld)" : "ceil(%s/%lld)", d, (long long)s);
    free(d);
    return t;
}

/* Decide one loop's trip count from its raw derivation and its body. */
static void decide_loop(walk *w, int li)
{
    src_loop *l = &w->res->loops[li];
    if (!l->derived) {
        if (!l->reason)
            l->reason = strdup("not derived");
        return;
    }
    char buf[200];
    const char *why = NULL;
    if (l->var[0] && !l->body_update && modified_in(w, li, l->var, 0)) {
        snprintf(buf, sizeof buf, "induction variable %s modified in body", l->var);
        why = buf;
    }
    for (unsigned i = 0; !why && i < l->nbound_vars; i++)
        if (chain_modified_in(w, li, l->bound_vars[i], 0)) {
            snprintf(buf, sizeof buf, "bound modified in body (%s)", l->bound_vars[i]);
            why = buf;
        }
    int early = l->has_break || l->has_return || l->has_goto || l->has_longjmp || l->early_exit;
    if (!why && early)
        why = l->has_break ? "break in body"
            : l->has_return ? "return in body"
            : l->has_goto ? "goto in body"
            : l->has_longjmp ? "longjmp in body"
                             : "the condition has other terms (&&)";
    if (substitute(w, &l->lo) || substitute(w, &l->dist)) {
        /* keep the unsubstituted form */
    }
    int64_t cn = -1;
    char *ts = trip_string(l, &cn);
    if (!ts) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    if (why) {
        l->reason = strdup(why);
        if (early && !strstr(why, "modified"))
            l->trip_max = ts;
        else
            free(ts);
        return;
    }
    l->trip_str = ts;
    l->trip_const = cn;
    int64_t s = l->step < 0 ? -l->step : l->step;
    if (cn >= 0)
        w->rc = pv_poly_set_const(&l->trip, cn, 1);
    else if (!(w->rc = pv_poly_copy(&l->trip, &l->dist)) && s != 1)
        w->rc = pv_poly_scale(&l->trip, 1, s);
    l->trip_known = !w->rc;
}

/* Total of @p f (a per-iteration quantity inside loop @p li, -1 for none)
 * over one call of the function: summed over each enclosing loop's index
 * range (Faulhaber) when it depends on the index, else multiplied by the
 * trip count. A count ceil(x/s) enters as its average x/s + (s-1)/(2s)
 * (*approx set). With @p w, a variable of f that changes across the
 * iterations of an enclosing loop (other than its index) stops the sum.
 * Returns 1, or 0 with @p why. */
int pva_source_nest_sum(const src_result *r, const void *walkp, int li, pv_poly *f, int *approx, char *why, size_t whysz)
{
    const walk *w = walkp;
    pv_poly c, cnt;
    pv_poly_init(&c);
    pv_poly_init(&cnt);
    int ok = 0;
    for (int pi = li; pi >= 0; pi = r->loops[pi].parent) {
        const src_loop *p = &r->loops[pi];
        if (!p->trip_known) {
            snprintf(why, whysz, "enclosing loop at line %u has an unknown trip count", p->line);
            goto done;
        }
        if (w) {
            /* a variable of f that the outer body changes (other than its index) makes the sum meaningless */
            varcheck x = {w, pi, p->var, NULL, ""};
            poly_idents(f, check_variant, &x);
            if (x.hit) {
                snprintf(why, whysz, "%s changes across iterations of the loop at line %u", x.hit, p->line);
                goto done;
            }
        }
        /* the index inside an atom (floor(i/2)) cannot be summed */
        varcheck y = {w, pi, p->var, NULL, ""};
        for (uint32_t t = 0; t < f->nterms && !y.hit; t++)
            for (unsigned k = 0; k < f->terms[t].nfactors && !y.hit; k++)
                if (strchr(f->terms[t].var[k], '('))
                    var_idents(f->terms[t].var[k], mentions, &y);
        if (y.hit) {
            snprintf(why, whysz, "a rounded bound depends on %s, the index of the loop at line %u", p->var, p->line);
            goto done;
        }
        int64_t ps = p->step < 0 ? -p->step : p->step;
        int rc = pv_poly_copy(&cnt, &p->trip);
        if (!rc && ps > 1 && p->trip_const < 0) {
            *approx = 1;
            if (!(rc = pv_poly_set_const(&c, ps - 1, 2 * ps)))
                rc = pv_poly_add(&cnt, &cnt, &c);
        }
        if (!rc)
            rc = p->var[0] && pv_poly_has_var(f, p->var) ? pv_poly_sum(f, f, p->var, &p->lo, p->step, &cnt)
                                                       : pv_poly_mul(f, f, &cnt);
        if (rc) {
            snprintf(why, whysz, "%s", pv_error_last());
            goto done;
        }
    }
    ok = 1;
done:
    pv_poly_clear(&c);
    pv_poly_clear(&cnt);
    return ok;
}

/* Iterations of a loop's body per call of its function: its trip count
 * summed over the enclosing loops (pva_source_nest_sum). */
static void loop_total(walk *w, int li)
{
    src_loop *l = &w->res->loops[li];
    if (!l->trip_known) {
        l->total_reason = strdup("trip count unknown");
        return;
    }
    pv_poly f, c;
    pv_poly_init(&f);
    pv_poly_init(&c);
    char buf[200];
    if ((w->rc = pv_poly_copy(&f, &l->trip)))
        return;
    int64_t s = l->step < 0 ? -l->step : l->step;
    if (s > 1 && l->trip_const < 0) {
        l->total_approx = 1;
        if ((w->rc = pv_poly_set_const(&c, s - 1, 2 * s)) || (w->rc = pv_poly_add(&f, &f, &c)))
            goto done;
    }
    if (!pva_source_nest_sum(w->res, w, l->parent, &f, &l->total_approx, buf, sizeof buf)) {
        l->total_reason = strdup(buf);
        goto done;
    }
    l->total_known = 1;
    w->rc = pv_poly_copy(&l->total, &f);
done:
    pv_poly_clear(&f);
    pv_poly_clear(&c);
}

/* Heap allocation kinds: what the program asks the allocator for. A wrapper
 * call is counted through the wrapper's own site when calls are composed. */
static int heap_kind(const char *k)
{
    return strcmp(k, "vla") && strcmp(k, "static") && strcmp(k, "stack") && strcmp(k, "wrapper");
}

/* The function's record: its work (iterations of innermost loop bodies) and
 * heap bytes per call, its parameters and its call sites. */
static void add_func(walk *w)
{
    src_result *r = w->res;
    if (r->nfuncs == r->capfuncs) {
        unsigned cap = r->capfuncs ? r->capfuncs * 2 : 16;
        src_func *f = realloc(r->funcs, cap * sizeof *f);
        if (!f) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        r->funcs = f;
        r->capfuncs = cap;
    }
    src_func *f = &r->funcs[r->nfuncs];
    memset(f, 0, sizeof *f);
    for (int m = 0; m < M_N; m++) {
        pv_poly_init(&f->own[m]);
        pv_poly_init(&f->incl[m]);
    }
    r->nfuncs++;
    f->name = strdup(w->func);
    f->line = w->func_line;
    f->end_line = w->func_end_line;
    f->nloops = r->nloops - w->func_first_loop;
    f->first_call = w->func_first_callsite;
    f->ncalls = r->ncallsites - w->func_first_callsite;
    f->has_facts = r->nloops > w->func_first_loop || r->nallocs > w->func_first_alloc ||
                   json_array_size(r->parallel) > w->func_first_par || json_array_size(r->calls) > w->func_first_call;
    if (!f->name || (w->params.n && !(f->params = calloc(w->params.n, sizeof *f->params)))) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    for (unsigned i = 0; i < w->params.n; i++)
        if (!(f->params[f->nparams++] = strdup(w->params.v[i])))
            w->rc = PV_ERR_NOMEM;
    for (unsigned i = w->func_first_loop; i < r->nloops && !w->rc; i++) {
        const src_loop *l = &r->loops[i];
        if (!l->innermost)
            continue;
        if (!l->total_known || pv_poly_add(&f->own[M_WORK], &f->own[M_WORK], &l->total))
            f->own_state[M_WORK] = MS_PARTIAL;
        else
            f->approx |= l->total_approx;
    }
    for (unsigned i = w->func_first_alloc; i < r->nallocs && !w->rc; i++) {
        const src_alloc *a = &r->allocs[i];
        if (!heap_kind(a->kind))
            continue;
        pv_poly t;
        pv_poly_init(&t);
        char why[200];
        int approx = 0;
        int ok = a->size_known && !pv_poly_copy(&t, &a->size) && pva_source_nest_sum(r, w, a->loop, &t, &approx, why, sizeof why) &&
                 !pv_poly_add(&f->own[M_ALLOC], &f->own[M_ALLOC], &t);
        if (!ok)
            f->own_state[M_ALLOC] = MS_PARTIAL;
        f->approx |= approx;
        pv_poly_clear(&t);
    }
}

/* A call to a function the sources may define: its arguments, for the
 * composition of the callee's work in the caller's parameters. */
static void record_call(walk *w, CXCursor c, const char *name, unsigned line)
{
    src_result *r = w->res;
    if (r->ncallsites == r->capcallsites) {
        unsigned cap = r->capcallsites ? r->capcallsites * 2 : 32;
        src_call *k = realloc(r->callsites, cap * sizeof *k);
        if (!k) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        r->callsites = k;
        r->capcallsites = cap;
    }
    int na = clang_Cursor_getNumArguments(c);
    if (na < 0)
        na = 0;
    if (na > 16)
        na = 16;
    src_call *k = &r->callsites[r->ncallsites];
    memset(k, 0, sizeof *k);
    k->callee = strdup(name);
    k->line = line;
    k->loop = innermost_loop(w);
    k->args = calloc(na ? (size_t)na : 1, sizeof *k->args);
    if (!k->callee || !k->args) {
        free(k->callee);
        free(k->args);
        w->rc = PV_ERR_NOMEM;
        return;
    }
    k->nargs = (unsigned)na;
    r->ncallsites++;
    for (unsigned i = 0; i < k->nargs && !w->rc; i++) {
        src_arg *g = &k->args[i];
        pv_poly_init(&g->poly);
        CXCursor a = clang_Cursor_getArgument(c, i);
        enum CXTypeKind tk = clang_getCanonicalType(clang_getCursorType(a)).kind;
        const char *why;
        if (((tk >= CXType_Bool && tk <= CXType_Int128) || tk == CXType_Enum) && expr_poly(w, a, &g->poly, EX_BOUND, &why))
            g->kind = 1;
        else if (tk == CXType_Pointer && spell_name(w, a, g->name, NULL))
            g->kind = 2;
    }
}

static void finish_function(walk *w, CXCursor fn)
{
    src_result *r = w->res;
    decide_locals(w);
    for (unsigned i = w->func_first_loop; i < r->nloops && !w->rc; i++)
        decide_loop(w, (int)i);
    for (unsigned i = w->func_first_loop; i < r->nloops && !w->rc; i++)
        loop_total(w, (int)i);
    for (unsigned i = w->func_first_alloc; i < r->nallocs && !w->rc; i++) {
        src_alloc *a = &r->allocs[i];
        if (a->size_known) {
            substitute(w, &a->size);
            if (!(a->size_str = pv_poly_str(&a->size)))
                w->rc = PV_ERR_NOMEM;
        }
    }
    if (w->rc)
        return;
    /* call-site arguments in the caller's parameters; one that changes across
     * the iterations of a loop around the call (other than as its index) cannot
     * be summed over that loop, and is dropped */
    for (unsigned i = w->func_first_callsite; i < r->ncallsites; i++) {
        src_call *cs = &r->callsites[i];
        for (unsigned k = 0; k < cs->nargs; k++) {
            src_arg *g = &cs->args[k];
            if (g->kind == 1)
                substitute(w, &g->poly);
            for (int pi = cs->loop; pi >= 0 && g->kind; pi = r->loops[pi].parent) {
                varcheck x = {w, pi, r->loops[pi].var, NULL, ""};
                if (g->kind == 1)
                    poly_idents(&g->poly, check_variant, &x);
                else
                    check_variant(&x, g->name);
                if (x.hit)
                    g->kind = 0;
            }
        }
    }
    add_func(w);
    if (w->rc)
        return;
    /* allocation wrapper: returns a pointer, allocates an amount in its parameters only */
    if (clang_getCursorResultType(fn).kind != CXType_Pointer || w->params.n > 8)
        return;
    for (unsigned i = w->func_first_alloc; i < r->nallocs; i++) {
        src_alloc *a = &r->allocs[i];
        if (!a->size_known || a->loop >= 0 || !strcmp(a->kind, "vla") || !strcmp(a->kind, "static") ||
            !strcmp(a->kind, "stack"))
            continue;
        int only_params = 1;
        for (uint32_t t = 0; t < a->size.nterms && only_params; t++)
            for (unsigned k = 0; k < a->size.terms[t].nfactors; k++)
                if (!names_has(&w->params, a->size.terms[t].var[k]) ||
                    (mod_flags(w, a->size.terms[t].var[k], NULL) & MOD_ASSIGN))
                    only_params = 0;
        if (!only_params || pv_poly_degree(&a->size) == 0)
            continue;
        wrapper *nw = realloc(w->wrappers, (w->nwrappers + 1) * sizeof *nw);
        if (!nw) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        w->wrappers = nw;
        wrapper *wr = &nw[w->nwrappers++];
        memset(wr, 0, sizeof *wr);
        snprintf(wr->name, sizeof wr->name, "%s", w->func);
        int np = clang_Cursor_getNumArguments(fn);
        wr->nparams = np > 0 ? (unsigned)np : 0;
        for (unsigned p = 0; p < wr->nparams; p++) {
            CXString s = clang_getCursorSpelling(clang_Cursor_getArgument(fn, p));
            snprintf(wr->params[p], PV_POLY_NAMELEN, "%s", clang_getCString(s) ? clang_getCString(s) : "");
            clang_disposeString(s);
        }
        pv_poly_init(&wr->size);
        if ((w->rc = pv_poly_copy(&wr->size, &a->size)))
            return;
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* OpenMP directives, read from the text (see pva_source_ast_tu)            */

static int omp_construct_word(const char *s, size_t n)
{
    static const char *const words[] = {
        "parallel", "for",     "do",        "simd",      "target",   "teams",    "distribute", "task",
        "taskloop", "sections", "section",  "single",    "master",   "masked",   "critical",   "barrier",
        "atomic",   "ordered", "loop",      "data",      "enter",    "exit",     "update",     "flush",
        "taskwait", "taskgroup", "taskyield", "scope",   "tile",     "unroll",   "cancel",     "cancellation",
        "point",    "declare", "threadprivate", "requires", "metadirective", "end", "interop", "dispatch",
        "scan",     "depobj",  "assumes",   "begin",     "error",    "nothing",  "workshare",  "allocate"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && !strncmp(words[i], s, n))
            return 1;
    return 0;
}

static const funcrange *function_at(const walk *w, unsigned line)
{
    for (unsigned i = 0; i < w->nfuncs; i++)
        if (w->funcs[i].line <= line && line <= w->funcs[i].end_line)
            return &w->funcs[i];
    return NULL;
}

/* Only blanks, comments and preprocessor lines between two offsets? */
static int only_blank_between(const char *b, size_t from, size_t to)
{
    size_t i = from;
    while (i < to) {
        size_t j = skip_blank(b, i, to);
        if (j >= to)
            return 1;
        if (b[j] != '#')
            return 0;
        while (j < to && b[j] != '\n')
            j += b[j] == '\\' && j + 1 < to && b[j + 1] == '\n' ? 2 : 1;
        i = j;
    }
    return 1;
}

/* Each `#pragma omp` line of the main file (continuations joined). */
static void scan_omp(walk *w)
{
    const char *b = w->buf;
    size_t n = w->buflen;
    unsigned line = 1;
    for (size_t i = 0; i < n;) {
        size_t ls = i;
        unsigned lline = line;
        size_t j = i;
        while (j < n && (b[j] == ' ' || b[j] == '\t'))
            j++;
        int is_omp = 0;
        if (j < n && b[j] == '#') {
            j++;
            while (j < n && (b[j] == ' ' || b[j] == '\t'))
                j++;
            if (n - j > 6 && !strncmp(b + j, "pragma", 6) && (b[j + 6] == ' ' || b[j + 6] == '\t')) {
                j += 6;
                while (j < n && (b[j] == ' ' || b[j] == '\t'))
                    j++;
                is_omp = n - j >= 3 && !strncmp(b + j, "omp", 3) && (j + 3 == n || isspace((unsigned char)b[j + 3]));
                j += is_omp ? 3 : 0;
            }
        }
        /* to the end of the (logical) line */
        char text[1024];
        size_t tl = 0;
        int space = 1;
        size_t e = is_omp ? j : ls;
        for (; e < n && b[e] != '\n'; e++) {
            if (b[e] == '\\' && e + 1 < n && b[e + 1] == '\n') {
                e++;
                line++;
                continue;
            }
            if (!is_omp)
                continue;
            if (isspace((unsigned char)b[e])) {
                space = 1;
                continue;
            }
            if (b[e] == '/' && e + 1 < n && b[e + 1] == '/')
                is_omp = 2; /* comment: stop collecting, keep scanning */
            if (is_omp == 2)
                continue;
            if (space && tl && tl + 1 < sizeof text)
                text[tl++] = ' ';
            space = 0;
            if (tl + 1 < sizeof text)
                text[tl++] = b[e];
        }
        text[tl] = 0;
        i = e < n ? e + 1 : n;
        line++;
        if (!is_omp)
            continue;
        /* directive words, then clauses */
        size_t p = 0;
        while (p < tl) {
            size_t q = p;
            while (q < tl && (isalnum((unsigned char)text[q]) || text[q] == '_'))
                q++;
            if (q == p || !omp_construct_word(text + p, q - p))
                break;
            p = q;
            while (p < tl && text[p] == ' ')
                p++;
        }
        char directive[256];
        snprintf(directive, sizeof directive, "%.*s", (int)p, text);
        while (p && directive[p - 1] == ' ')
            directive[--p] = 0;
        json_t *o = json_object();
        if (!o) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        json_object_set_new(o, "kind", json_string("openmp"));
        json_object_set_new(o, "directive", json_string(directive));
        json_object_set_new(o, "pragma", json_string(text));
        const char *cl = text + strlen(directive);
        while (*cl == ' ')
            cl++;
        if (*cl)
            json_object_set_new(o, "clauses", json_string(cl));
        const char *nt = strstr(text, "num_threads(");
        if (nt) {
            nt += 12;
            const char *ne = strchr(nt, ')');
            if (ne)
                json_object_set_new(o, "threads", json_stringn(nt, (size_t)(ne - nt)));
        }
        json_object_set_new(o, "file", json_string(w->res->file));
        json_object_set_new(o, "line", json_integer(lline));
        const funcrange *f = function_at(w, lline);
        if (f)
            json_object_set_new(o, "function", json_string(f->name));
        /* a loop directive governs the loop right after it */
        int loopdir = strstr(directive, "for") || strstr(directive, "simd") || strstr(directive, "loop") ||
                      strstr(directive, "distribute") || strstr(directive, "taskloop");
        int best = -1;
        for (unsigned k = 0; loopdir && k < w->res->nloops; k++) {
            const src_loop *l = &w->res->loops[k];
            if (l->offset > e && (best < 0 || l->offset < w->res->loops[best].offset))
                best = (int)k;
        }
        if (best >= 0 && only_blank_between(b, e, w->res->loops[best].offset)) {
            src_loop *l = &w->res->loops[best];
            json_object_set_new(o, "loop_line", json_integer(l->line));
            if (l->trip_str)
                json_object_set_new(o, "iterations", json_string(l->trip_str));
            else if (l->trip_max)
                json_object_set_new(o, "iterations_max", json_string(l->trip_max));
            l->omp = (int)json_array_size(w->res->parallel);
        }
        json_add(w, w->res->parallel, o);
        if (w->rc)
            return;
    }
}

/* ---------------------------------------------------------------------- */
/* Translation unit                                                        */

static enum CXChildVisitResult top_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walk *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    /* Only what the main file defines: headers are analyzed with the TU that owns them. */
    if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)))
        return CXChildVisit_Continue;
    w->prev = clang_getNullCursor();
    walk_cursor(w, c);
    return CXChildVisit_Continue;
}

static void add_diagnostics(walk *w)
{
    unsigned n = clang_getNumDiagnostics(w->tu);
    for (unsigned i = 0; i < n && !w->rc; i++) {
        CXDiagnostic d = clang_getDiagnostic(w->tu, i);
        enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
        if (sev >= CXDiagnostic_Error) {
            CXFile f;
            unsigned line = 0, col = 0;
            clang_getSpellingLocation(clang_getDiagnosticLocation(d), &f, &line, &col, NULL);
            char *fname = f ? cxstr(clang_getFileName(f)) : strdup(w->res->file);
            char *msg = cxstr(clang_getDiagnosticSpelling(d));
            json_t *o = json_object();
            if (o) {
                json_object_set_new(o, "file", json_string(fname ? fname : ""));
                json_object_set_new(o, "line", json_integer(line));
                json_object_set_new(o, "column", json_integer(col));
                json_object_set_new(o, "severity", json_string(sev == CXDiagnostic_Fatal ? "fatal" : "error"));
                json_object_set_new(o, "pass", json_string("ast"));
                json_object_set_new(o, "message", json_string(msg ? msg : ""));
            }
            json_add(w, w->res->diagnostics, o);
            free(fname);
            free(msg);
        }
        clang_disposeDiagnostic(d);
    }
}

static int is_openmp_flag(const char *a) { return !strncmp(a, "-fopenmp", 8) || !strncmp(a, "-Xopenmp", 8); }

static int parse(void *index, const src_tu *tu, int *openmp, CXTranslationUnit *ctu, json_t *diags)
{
    /* compiler name, flags, -working-directory DIR (libclang resolves relative paths against it), file */
    const char **argv = calloc((size_t)tu->nargs + 10, sizeof *argv);
    if (!argv)
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
    int n = 0;
    argv[n++] = "clang";
    *openmp = 0;
    for (int i = 0; i < tu->nargs; i++) {
        /* With -fopenmp, libclang shows a directive's statement only as a
         * CapturedStmt whose children are the captured variables: the loops
         * under a pragma would be invisible. Parse as plain C with the
         * _OPENMP macro of an OpenMP build; the pragmas are read from the text. */
        if (is_openmp_flag(tu->args[i])) {
            if (!strcmp(tu->args[i], "-fopenmp") || !strncmp(tu->args[i], "-fopenmp=", 9))
                *openmp = 1;
            if (!strcmp(tu->args[i], "-Xopenmp-target") && i + 1 < tu->nargs)
                i++;
            continue;
        }
        argv[n++] = tu->args[i];
    }
    if (*openmp)
        argv[n++] = PV_OPENMP_MACRO;
    /* Warnings are not parse problems, even under -Werror; and with all of
     * them off clang skips the analyses behind some (the CFG-based
     * -Wuninitialized, -Wunreachable-code...), work the facts do not need. */
    argv[n++] = "-w";
    argv[n++] = "-working-directory";
    argv[n++] = tu->dir;
    argv[n++] = "-Qunused-arguments";
    argv[n++] = tu->file;
    /* KeepGoing: a missing header or a syntax error must not hide the rest of the file */
    enum CXErrorCode ec = clang_parseTranslationUnit2FullArgv((CXIndex)index, NULL, argv, n, NULL, 0,
                                                              CXTranslationUnit_KeepGoing, ctu);
    free(argv);
    if (ec == CXError_Success && *ctu)
        return PV_OK;
    *ctu = NULL;
    json_t *o = json_object();
    if (o) {
        json_object_set_new(o, "file", json_string(tu->file));
        json_object_set_new(o, "line", json_integer(0));
        json_object_set_new(o, "severity", json_string("fatal"));
        json_object_set_new(o, "pass", json_string("ast"));
        json_object_set_new(o, "message", json_string(ec == CXError_ASTReadError ? "libclang could not parse the file"
                                                                                 : "libclang refused the command line or the file"));
    }
    if (!o || json_array_append_new(diags, o))
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
    return PV_OK;
}

static void walk_free(walk *w)
{
    for (unsigned i = 0; i < w->nwrappers; i++)
        pv_poly_clear(&w->wrappers[i].size);
    free(w->wrappers);
    for (unsigned i = 0; i < w->nlocals; i++)
        pv_poly_clear(&w->locals[i].init);
    free(w->locals);
    for (unsigned i = 0; i < w->nfuncs; i++)
        free(w->funcs[i].name);
    free(w->funcs);
    free(w->params.v);
    mod_free(&w->mods);
    free(w->func);
    memset(w, 0, sizeof *w);
}

int pva_source_ast_tu(void *index, const src_tu *tu, src_result *res)
{
    int rc = PV_OK;
    CXTranslationUnit ctu = NULL;
    walk w = {.res = res, .hdr_loop = -1};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    res->file = strdup(tu->file);
    res->parallel = json_array();
    res->calls = json_array();
    res->diagnostics = json_array();
    if (!res->file || !res->parallel || !res->calls || !res->diagnostics) {
        rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
        goto done;
    }
    if ((rc = parse(index, tu, &w.openmp, &ctu, res->diagnostics)) || !ctu)
        goto done;
    w.tu = ctu;
    w.mainfile = clang_getFile(ctu, tu->file);
    if (w.mainfile) {
        size_t len = 0;
        w.buf = clang_getFileContents(ctu, w.mainfile, &len);
        w.buflen = w.buf ? len : 0;
    }
    add_diagnostics(&w);
    clang_visitChildren(clang_getTranslationUnitCursor(ctu), top_cb, &w);
    if (!w.rc && w.openmp && w.buf)
        scan_omp(&w);
    /* threads created by pthread_create in a loop: the loop's trip count */
    for (size_t i = 0; !w.rc && i < json_array_size(res->parallel); i++) {
        json_t *o = json_array_get(res->parallel, i);
        json_t *li = json_object_get(o, "loop_index");
        if (!li)
            continue;
        src_loop *l = &res->loops[json_integer_value(li)];
        if (l->trip_str)
            json_object_set_new(o, "threads", json_string(l->trip_str));
        else if (l->trip_max)
            json_object_set_new(o, "threads_max", json_string(l->trip_max));
        json_object_del(o, "loop_index");
    }
    if (w.rc)
        rc = pv_error_set(w.rc, "%s: out of memory during the AST pass", tu->file);
done:
    walk_free(&w);
    if (ctu)
        clang_disposeTranslationUnit(ctu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->parse_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

void pva_source_result_free(src_result *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nloops; i++) {
        src_loop *l = &r->loops[i];
        free(l->func);
        pv_poly_clear(&l->lo);
        pv_poly_clear(&l->dist);
        pv_poly_clear(&l->trip);
        pv_poly_clear(&l->total);
        for (unsigned k = 0; k < l->nbound_vars; k++)
            free(l->bound_vars[k]);
        free(l->bound_vars);
        free(l->trip_str);
        free(l->trip_max);
        free(l->reason);
        free(l->total_reason);
        json_decref(l->ir);
    }
    free(r->loops);
    for (unsigned i = 0; i < r->nallocs; i++) {
        src_alloc *a = &r->allocs[i];
        free(a->func);
        free(a->callee);
        pv_poly_clear(&a->size);
        free(a->size_str);
        free(a->reason);
    }
    free(r->allocs);
    json_decref(r->parallel);
    json_decref(r->calls);
    json_decref(r->diagnostics);
    for (unsigned i = 0; i < r->nfuncs; i++) {
        src_func *f = &r->funcs[i];
        free(f->name);
        for (unsigned k = 0; k < f->nparams; k++)
            free(f->params[k]);
        free(f->params);
        for (int m = 0; m < M_N; m++) {
            pv_poly_clear(&f->own[m]);
            pv_poly_clear(&f->incl[m]);
        }
    }
    free(r->funcs);
    for (unsigned i = 0; i < r->ncallsites; i++) {
        for (unsigned k = 0; k < r->callsites[i].nargs; k++)
            pv_poly_clear(&r->callsites[i].args[k].poly);
        free(r->callsites[i].args);
        free(r->callsites[i].callee);
    }
    free(r->callsites);
    free(r->file);
    memset(r, 0, sizeof *r);
}

const char *pva_source_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Trailing path components two paths share (0 when the base names differ):
 * DWARF may name a file relative to the compile directory, the source
 * analyzer names it absolutely, and two files may share a base name. */
int pva_source_path_match(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    int n = 0;
    size_t i = strlen(a), j = strlen(b);
    for (;;) {
        size_t si = i, sj = j;
        while (si > 0 && a[si - 1] != '/')
            si--;
        while (sj > 0 && b[sj - 1] != '/')
            sj--;
        if (i == si || i - si != j - sj || strncmp(a + si, b + sj, i - si))
            break;
        n++;
        if (si == 0 || sj == 0)
            break;
        i = si - 1;
        j = sj - 1;
    }
    return n;
}
