/* The libclang AST pass of the source analyzer: one walk per translation
 * unit that finds loops (with symbolic trip counts), allocation sites,
 * parallel constructs, calls into known libraries and diagnostics.
 *
 * The walk recurses by hand (CXChildVisit_Continue plus explicit
 * clang_visitChildren) rather than with CXChildVisit_Recurse, because a
 * loop's trip count can only be decided after its body was seen (was the
 * bound or the induction variable modified? is there a break?). */
#include <clang-c/Index.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source_internal.h"

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

/* Strip implicit casts (UnexposedExpr) and parentheses. */
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

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static char *cxstr(CXString s)
{
    const char *c = clang_getCString(s);
    char *r = strdup(c ? c : "");
    clang_disposeString(s);
    return r;
}

static unsigned cursor_line(CXCursor c, unsigned *col)
{
    unsigned line = 0, column = 0;
    clang_getSpellingLocation(clang_getCursorLocation(c), NULL, &line, &column, NULL);
    if (col)
        *col = column;
    return line;
}

/* Walk state. */
typedef struct frame {
    int loop;    /* loop index, or -1 for a switch (a break target that is not a loop) */
} frame;

typedef struct wrapper {
    char name[PV_POLY_NAMELEN];
    unsigned nparams;
    char params[8][PV_POLY_NAMELEN];
    pv_poly size;
} wrapper;

typedef struct walk {
    CXTranslationUnit tu;
    src_result *res;
    char *func;          /* current function name (owned) */
    unsigned func_line;
    unsigned func_first_loop;
    size_t func_first_par, func_first_call;
    frame stack[256];
    unsigned depth;      /* frames in stack */
    int omp;             /* current enclosing OpenMP directive index, -1 */
    unsigned nomp;       /* OpenMP directives seen */
    wrapper *wrappers;
    unsigned nwrappers;
    int rc;              /* first hard error (out of memory) */
} walk;

static void walk_cursor(walk *w, CXCursor c);

static enum CXChildVisitResult walk_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walk *w = d;
    if (!w->rc)
        walk_cursor(w, c);
    return CXChildVisit_Continue;
}

static void walk_children(walk *w, CXCursor c) { clang_visitChildren(c, walk_cb, w); }

static int innermost_loop(const walk *w)
{
    for (unsigned i = w->depth; i-- > 0;)
        if (w->stack[i].loop >= 0)
            return w->stack[i].loop;
    return -1;
}

/* Spell an lvalue or operand as a parameter name: a variable (`n`) or a
 * member chain (`w->last`, `s.n`). Returns 0 when it is something else. */
static int spell_name(walk *w, CXCursor c, char *out)
{
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_DeclRefExpr) {
        CXCursor ref = clang_getCursorReferenced(c);
        enum CXCursorKind rk = clang_getCursorKind(ref);
        if (rk != CXCursor_VarDecl && rk != CXCursor_ParmDecl)
            return 0;
        CXString s = clang_getCursorSpelling(c);
        const char *cs = clang_getCString(s);
        int ok = cs && strlen(cs) < PV_POLY_NAMELEN;
        if (ok)
            strcpy(out, cs);
        clang_disposeString(s);
        return ok;
    }
    if (k != CXCursor_MemberRefExpr)
        return 0;
    /* Member chains are spelled from their tokens: identifiers, '.' and '->' only. */
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(w->tu, clang_getCursorExtent(c), &toks, &n);
    size_t len = 0;
    int ok = n > 0;
    for (unsigned i = 0; ok && i < n; i++) {
        CXString s = clang_getTokenSpelling(w->tu, toks[i]);
        const char *t = clang_getCString(s);
        CXTokenKind tk = clang_getTokenKind(toks[i]);
        if (!(tk == CXToken_Identifier || (tk == CXToken_Punctuation && (!strcmp(t, ".") || !strcmp(t, "->")))) ||
            len + strlen(t) >= PV_POLY_NAMELEN)
            ok = 0;
        else {
            strcpy(out + len, t);
            len += strlen(t);
        }
        clang_disposeString(s);
    }
    if (toks)
        clang_disposeTokens(w->tu, toks, n);
    return ok;
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

/* Translate an integer expression into a polynomial. @p allow_div accepts
 * division by a constant as an exact rational (allocation sizes); loop
 * bounds refuse it, since C division truncates. On failure *why says why. */
static int expr_poly(walk *w, CXCursor c, pv_poly *out, int allow_div, const char **why)
{
    c = unwrap(c);
    enum CXCursorKind k = clang_getCursorKind(c);
    int64_t v;
    if (k == CXCursor_IntegerLiteral || k == CXCursor_CharacterLiteral || k == CXCursor_UnaryExpr ||
        k == CXCursor_BinaryOperator || k == CXCursor_DeclRefExpr || k == CXCursor_UnaryOperator) {
        /* a DeclRefExpr to a const variable with a constant initializer folds too */
        if (k != CXCursor_DeclRefExpr || clang_getCursorKind(clang_getCursorReferenced(c)) == CXCursor_EnumConstantDecl ||
            clang_isConstQualifiedType(clang_getCursorType(c))) {
            if (eval_int(c, &v)) {
                int rc = pv_poly_set_const(out, v, 1);
                if (rc)
                    w->rc = rc;
                return rc == PV_OK;
            }
        }
    }
    char name[PV_POLY_NAMELEN];
    if (k == CXCursor_DeclRefExpr || k == CXCursor_MemberRefExpr) {
        if (!spell_name(w, c, name)) {
            *why = "non-variable operand";
            return 0;
        }
        enum CXTypeKind tk = clang_getCanonicalType(clang_getCursorType(c)).kind;
        if (tk == CXType_Float || tk == CXType_Double || tk == CXType_LongDouble) {
            *why = "floating-point operand";
            return 0;
        }
        int rc = pv_poly_set_var(out, name);
        if (rc)
            w->rc = rc;
        return rc == PV_OK;
    }
    if (k == CXCursor_UnaryOperator) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        kids ks;
        children(c, &ks);
        if (ks.n != 1 || (op != CXUnaryOperator_Minus && op != CXUnaryOperator_Plus)) {
            *why = "non-affine operator";
            return 0;
        }
        if (!expr_poly(w, ks.c[0], out, allow_div, why))
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
        pv_poly a, b;
        pv_poly_init(&a);
        pv_poly_init(&b);
        int ok = 0;
        int64_t cn;
        if (op != CXBinaryOperator_Add && op != CXBinaryOperator_Sub && op != CXBinaryOperator_Mul &&
            op != CXBinaryOperator_Div && op != CXBinaryOperator_Shl)
            *why = "non-affine operator";
        else if (expr_poly(w, ks.c[0], &a, allow_div, why) && expr_poly(w, ks.c[1], &b, allow_div, why)) {
            switch (op) {
            case CXBinaryOperator_Add: w->rc = pv_poly_add(out, &a, &b); ok = !w->rc; break;
            case CXBinaryOperator_Sub: w->rc = pv_poly_sub(out, &a, &b); ok = !w->rc; break;
            case CXBinaryOperator_Mul: w->rc = pv_poly_mul(out, &a, &b); ok = !w->rc; break;
            case CXBinaryOperator_Shl:
                if (pv_poly_is_const(&b, &cn, NULL) && cn >= 0 && cn < 62) {
                    w->rc = pv_poly_copy(out, &a);
                    if (!w->rc)
                        w->rc = pv_poly_scale(out, (int64_t)1 << cn, 1);
                    ok = !w->rc;
                } else
                    *why = "shift by a non-constant";
                break;
            default: /* Div */
                if (!allow_div)
                    *why = "integer division in the bound";
                else if (pv_poly_is_const(&b, &cn, NULL) && cn != 0) {
                    w->rc = pv_poly_copy(out, &a);
                    if (!w->rc)
                        w->rc = pv_poly_scale(out, 1, cn);
                    ok = !w->rc;
                } else
                    *why = "division by a non-constant";
            }
        }
        pv_poly_clear(&a);
        pv_poly_clear(&b);
        return ok;
    }
    switch (k) {
    case CXCursor_CallExpr: *why = "function call in the expression"; break;
    case CXCursor_ArraySubscriptExpr: *why = "array element in the expression"; break;
    case CXCursor_ConditionalOperator: *why = "conditional expression"; break;
    case CXCursor_FloatingLiteral: *why = "floating-point operand"; break;
    default: *why = "expression not affine in variables and constants";
    }
    return 0;
}

/* Record that variable @p name is modified inside every active loop. */
static void mark_modified(walk *w, const char *name)
{
    for (unsigned i = 0; i < w->depth; i++) {
        int li = w->stack[i].loop;
        if (li < 0)
            continue;
        src_loop *l = &w->res->loops[li];
        int seen = 0;
        for (unsigned k = 0; k < l->nmodified && !seen; k++)
            seen = !strcmp(l->modified[k], name);
        if (seen)
            continue;
        if (l->nmodified == l->capmodified) {
            unsigned cap = l->capmodified ? l->capmodified * 2 : 8;
            char **m = realloc(l->modified, cap * sizeof *m);
            if (!m) {
                w->rc = PV_ERR_NOMEM;
                return;
            }
            l->modified = m;
            l->capmodified = cap;
        }
        if (!(l->modified[l->nmodified] = strdup(name))) {
            w->rc = PV_ERR_NOMEM;
            return;
        }
        l->nmodified++;
    }
}

static int loop_modified(const src_loop *l, const char *name)
{
    for (unsigned k = 0; k < l->nmodified; k++)
        if (!strcmp(l->modified[k], name))
            return 1;
    return 0;
}

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
    pv_poly_init(&l->trip);
    pv_poly_init(&l->total);
    l->trip_const = -1;
    l->omp = w->omp;
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

/* Classify the parts of a for statement by where they start relative to
 * the two semicolons of its header (libclang skips absent parts, so the
 * child index alone cannot tell init from condition). */
static void for_parts(walk *w, CXCursor c, const kids *ks, CXCursor *init, CXCursor *cond, CXCursor *inc)
{
    *init = *cond = *inc = clang_getNullCursor();
    CXSourceLocation start = clang_getRangeStart(clang_getCursorExtent(c));
    CXSourceLocation bodystart = clang_getRangeStart(clang_getCursorExtent(ks->c[ks->n - 1]));
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(w->tu, clang_getRange(start, bodystart), &toks, &n);
    unsigned semi[2] = {0, 0}, nsemi = 0;
    int depth = 0;
    for (unsigned i = 0; i < n && nsemi < 2; i++) {
        if (clang_getTokenKind(toks[i]) != CXToken_Punctuation)
            continue;
        CXString s = clang_getTokenSpelling(w->tu, toks[i]);
        const char *t = clang_getCString(s);
        if (!strcmp(t, "("))
            depth++;
        else if (!strcmp(t, ")"))
            depth--;
        else if (!strcmp(t, ";") && depth == 1)
            clang_getFileLocation(clang_getTokenLocation(w->tu, toks[i]), NULL, NULL, NULL, &semi[nsemi++]);
        clang_disposeString(s);
    }
    if (toks)
        clang_disposeTokens(w->tu, toks, n);
    if (nsemi < 2)
        return; /* a macro-generated header: leave the parts unknown */
    for (unsigned i = 0; i + 1 < ks->n; i++) {
        unsigned off = 0;
        clang_getFileLocation(clang_getRangeStart(clang_getCursorExtent(ks->c[i])), NULL, NULL, NULL, &off);
        if (off < semi[0])
            *init = ks->c[i];
        else if (off < semi[1])
            *cond = ks->c[i];
        else
            *inc = ks->c[i];
    }
}

static int is_null(CXCursor c) { return clang_Cursor_isNull(c); }

/* The initial value of @p var in a for-init: `int i = E` or `i = E`. */
static int for_init_value(walk *w, CXCursor init, const char *var, CXCursor *val)
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
            char *nm = cxstr(clang_getCursorSpelling(ds.c[i]));
            int match = nm && !strcmp(nm, var);
            free(nm);
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
            return for_init_value(w, ks.c[0], var, val) || for_init_value(w, ks.c[1], var, val);
        char nm[PV_POLY_NAMELEN];
        if (op == CXBinaryOperator_Assign && spell_name(w, ks.c[0], nm) && !strcmp(nm, var)) {
            *val = ks.c[1];
            return 1;
        }
    }
    return 0;
}

/* Step of @p var in a for-increment; 0 with *why set when not a constant step. */
static int64_t for_step(walk *w, CXCursor inc, const char *var, const char **why)
{
    *why = "no increment in the loop header";
    if (is_null(inc))
        return 0;
    inc = unwrap(inc);
    enum CXCursorKind k = clang_getCursorKind(inc);
    kids ks;
    children(inc, &ks);
    char nm[PV_POLY_NAMELEN];
    int64_t v;
    if (k == CXCursor_UnaryOperator && ks.n == 1) {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(inc);
        if (!spell_name(w, ks.c[0], nm) || strcmp(nm, var)) {
            *why = "the increment does not update the compared variable";
            return 0;
        }
        if (op == CXUnaryOperator_PostInc || op == CXUnaryOperator_PreInc)
            return 1;
        if (op == CXUnaryOperator_PostDec || op == CXUnaryOperator_PreDec)
            return -1;
        *why = "non-affine step";
        return 0;
    }
    if ((k == CXCursor_CompoundAssignOperator || k == CXCursor_BinaryOperator) && ks.n == 2) {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(inc);
        if (op == CXBinaryOperator_Comma) {
            int64_t s = for_step(w, ks.c[0], var, why);
            return s ? s : for_step(w, ks.c[1], var, why);
        }
        if (!spell_name(w, ks.c[0], nm) || strcmp(nm, var)) {
            *why = "the increment does not update the compared variable";
            return 0;
        }
        if (op == CXBinaryOperator_AddAssign || op == CXBinaryOperator_SubAssign) {
            if (!eval_int(unwrap(ks.c[1]), &v)) {
                *why = "non-constant step";
                return 0;
            }
            if (v == 0) {
                *why = "zero step";
                return 0;
            }
            return op == CXBinaryOperator_AddAssign ? v : -v;
        }
        if (op == CXBinaryOperator_Assign) {
            /* i = i + C, i = i - C */
            CXCursor rhs = unwrap(ks.c[1]);
            kids rk;
            children(rhs, &rk);
            if (clang_getCursorKind(rhs) == CXCursor_BinaryOperator && rk.n == 2) {
                enum CXBinaryOperatorKind rop = clang_getCursorBinaryOperatorKind(rhs);
                if ((rop == CXBinaryOperator_Add || rop == CXBinaryOperator_Sub) && spell_name(w, rk.c[0], nm) &&
                    !strcmp(nm, var) && eval_int(unwrap(rk.c[1]), &v) && v != 0)
                    return rop == CXBinaryOperator_Add ? v : -v;
            }
        }
        *why = "non-affine step";
        return 0;
    }
    *why = "non-affine step";
    return 0;
}

static int is_integer_type(CXType t)
{
    t = clang_getCanonicalType(t);
    return (t.kind >= CXType_Bool && t.kind <= CXType_Int128) || t.kind == CXType_Enum;
}

/* Derive the trip count of a for loop from its header. On failure sets l->reason. */
static void derive_for(walk *w, src_loop *l, CXCursor init, CXCursor cond, CXCursor inc, pv_poly *bound)
{
    const char *why = NULL;
    if (is_null(cond)) {
        l->reason = strdup("no loop condition");
        return;
    }
    CXCursor cc = unwrap(cond);
    kids ks;
    children(cc, &ks);
    if (clang_getCursorKind(cc) != CXCursor_BinaryOperator || ks.n != 2) {
        l->reason = strdup("condition is not a comparison");
        return;
    }
    enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(cc);
    if (op != CXBinaryOperator_LT && op != CXBinaryOperator_LE && op != CXBinaryOperator_GT &&
        op != CXBinaryOperator_GE && op != CXBinaryOperator_NE) {
        l->reason = strdup("condition is not a comparison");
        return;
    }
    char var[PV_POLY_NAMELEN], rvar[PV_POLY_NAMELEN];
    CXCursor bexpr;
    int lok = spell_name(w, ks.c[0], var), rok = spell_name(w, ks.c[1], rvar);
    if (lok && rok && !for_step(w, inc, var, &why) && for_step(w, inc, rvar, &why))
        lok = 0; /* `m > k; ++k`: the compared variable is the one the increment updates */
    if (lok)
        bexpr = ks.c[1];
    else if (rok) {
        strcpy(var, rvar);
        bexpr = ks.c[0];
        /* n > i is i < n */
        op = op == CXBinaryOperator_LT ? CXBinaryOperator_GT
           : op == CXBinaryOperator_GT ? CXBinaryOperator_LT
           : op == CXBinaryOperator_LE ? CXBinaryOperator_GE
           : op == CXBinaryOperator_GE ? CXBinaryOperator_LE : op;
    } else {
        l->reason = strdup("condition does not compare a variable with a bound");
        return;
    }
    strcpy(l->var, var);
    if (!is_integer_type(clang_getCursorType(unwrap(ks.c[0]))) && !is_integer_type(clang_getCursorType(unwrap(ks.c[1])))) {
        enum CXTypeKind tk = clang_getCanonicalType(clang_getCursorType(unwrap(ks.c[0]))).kind;
        l->reason = strdup(tk == CXType_Pointer ? "pointer induction variable" : "non-integer induction variable");
        return;
    }
    if (!expr_poly(w, bexpr, bound, 0, &why)) {
        char buf[160];
        snprintf(buf, sizeof buf, "bound is not affine: %s", why);
        l->reason = strdup(buf);
        return;
    }
    if (pv_poly_has_var(bound, var)) {
        l->reason = strdup("bound depends on the induction variable");
        return;
    }
    CXCursor iv;
    if (!for_init_value(w, init, var, &iv)) {
        char buf[160];
        snprintf(buf, sizeof buf, "no initial value for %s in the loop header", var);
        l->reason = strdup(buf);
        return;
    }
    if (!expr_poly(w, iv, &l->lo, 0, &why)) {
        char buf[160];
        snprintf(buf, sizeof buf, "initial value is not affine: %s", why);
        l->reason = strdup(buf);
        return;
    }
    int64_t step = for_step(w, inc, var, &why);
    if (!step) {
        l->reason = strdup(why);
        return;
    }
    l->step = step;
    /* distance to cover, in the direction of the step */
    pv_poly dist;
    pv_poly_init(&dist);
    int up = op == CXBinaryOperator_LT || op == CXBinaryOperator_LE || (op == CXBinaryOperator_NE && step > 0);
    if ((up && step < 0) || (!up && step > 0)) {
        l->reason = strdup("the step moves away from the bound");
        goto done;
    }
    if (op == CXBinaryOperator_NE && step != 1 && step != -1) {
        l->reason = strdup("'!=' condition with a step other than 1 (may never be equal)");
        goto done;
    }
    if ((w->rc = up ? pv_poly_sub(&dist, bound, &l->lo) : pv_poly_sub(&dist, &l->lo, bound)))
        goto done;
    if (op == CXBinaryOperator_LE || op == CXBinaryOperator_GE) {
        pv_poly one;
        pv_poly_init(&one);
        if (!(w->rc = pv_poly_set_const(&one, 1, 1)))
            w->rc = pv_poly_add(&dist, &dist, &one);
        pv_poly_clear(&one);
        if (w->rc)
            goto done;
    }
    int64_t s = step < 0 ? -step : step;
    char *d = pv_poly_str(&dist);
    if (!d) {
        w->rc = PV_ERR_NOMEM;
        goto done;
    }
    int64_t cn, cd;
    if (pv_poly_is_const(&dist, &cn, &cd) && cd == 1) {
        int64_t t = cn <= 0 ? 0 : (cn + s - 1) / s;
        l->trip_const = t;
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)t);
        l->trip_str = strdup(buf);
        w->rc = pv_poly_set_const(&l->trip, t, 1);
        free(d);
    } else if (s == 1) {
        l->trip_str = d;
        w->rc = pv_poly_copy(&l->trip, &dist);
    } else {
        size_t len = strlen(d) + 40;
        l->trip_str = malloc(len);
        if (l->trip_str)
            snprintf(l->trip_str, len, dist.nterms > 1 ? "ceil((%s)/%lld)" : "ceil(%s/%lld)", d, (long long)s);
        free(d);
        if (!(w->rc = pv_poly_copy(&l->trip, &dist)))
            w->rc = pv_poly_scale(&l->trip, 1, s);
    }
    l->trip_known = !w->rc && l->trip_str;
done:
    pv_poly_clear(&dist);
}

/* Decide whether the derived trip count survives what the body does. */
static void check_body(src_loop *l, const pv_poly *bound)
{
    if (!l->trip_known)
        return;
    const char *why = NULL;
    char buf[200];
    if (l->var[0] && loop_modified(l, l->var)) {
        snprintf(buf, sizeof buf, "induction variable %s modified in body", l->var);
        why = buf;
    }
    for (uint32_t i = 0; !why && i < bound->nterms; i++)
        for (unsigned k = 0; !why && k < bound->terms[i].nfactors; k++)
            if (loop_modified(l, bound->terms[i].var[k])) {
                snprintf(buf, sizeof buf, "bound modified in body (%s)", bound->terms[i].var[k]);
                why = buf;
            }
    if (!why && (l->has_break || l->has_return || l->has_goto || l->has_longjmp))
        why = l->has_break ? "break in body" : l->has_return ? "return in body" : l->has_goto ? "goto in body"
                                                                                               : "call to exit/longjmp in body";
    if (!why)
        return;
    l->reason = strdup(why);
    if (l->has_break || l->has_return || l->has_goto || l->has_longjmp) {
        if (!loop_modified(l, l->var))
            l->trip_max = l->trip_str; /* still an upper bound */
        else
            free(l->trip_str);
    } else
        free(l->trip_str);
    l->trip_str = NULL;
    l->trip_known = 0;
    l->trip_const = -1;
}

static void walk_loop(walk *w, CXCursor c, enum CXCursorKind k)
{
    kids ks;
    children(c, &ks);
    int li = add_loop(w);
    if (li < 0) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    src_loop *l = &w->res->loops[li];
    l->kind = k == CXCursor_ForStmt ? "for" : k == CXCursor_WhileStmt ? "while" : "do";
    l->func = xstrdup(w->func);
    l->line = cursor_line(c, &l->col);
    unsigned eline = 0;
    clang_getSpellingLocation(clang_getRangeEnd(clang_getCursorExtent(c)), NULL, &eline, NULL, NULL);
    l->end_line = eline;
    l->parent = innermost_loop(w);
    l->depth = l->parent >= 0 ? w->res->loops[l->parent].depth + 1 : 1;
    l->innermost = 1;
    if (l->parent >= 0)
        w->res->loops[l->parent].innermost = 0;
    pv_poly bound;
    pv_poly_init(&bound);
    CXCursor body = ks.n ? ks.c[ks.n - 1] : clang_getNullCursor();
    if (k == CXCursor_ForStmt && ks.n && ks.total <= MAXKIDS) {
        CXCursor init, cond, inc;
        for_parts(w, c, &ks, &init, &cond, &inc);
        derive_for(w, l, init, cond, inc, &bound);
        /* the header's own parts belong to the enclosing loops' bodies */
        for (unsigned i = 0; i + 1 < ks.n; i++)
            walk_cursor(w, ks.c[i]);
    } else {
        l->reason = strdup(k == CXCursor_ForStmt ? "unrecognized for header"
                                                 : "while/do loop: no induction variable in a for header");
        for (unsigned i = 0; i + 1 < ks.n; i++)
            if (k == CXCursor_WhileStmt)
                walk_cursor(w, ks.c[i]);
        if (k == CXCursor_DoStmt && ks.n) {
            body = ks.c[0];
        }
    }
    if (w->depth < sizeof w->stack / sizeof w->stack[0] && !is_null(body)) {
        w->stack[w->depth++].loop = li;
        walk_cursor(w, body);
        w->depth--;
    }
    if (k == CXCursor_DoStmt)
        for (unsigned i = 1; i < ks.n; i++)
            walk_cursor(w, ks.c[i]);
    l = &w->res->loops[li]; /* the array may have moved */
    check_body(l, &bound);
    pv_poly_clear(&bound);
}

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
                                     "openat", "creat", "readv", "writev", "sendfile", "fdopen", "getline"};
    static const char *const blas[] = {"dgemm_", "sgemm_", "dgemv_", "sgemv_", "daxpy_", "saxpy_", "ddot_",
                                       "sdot_", "dgesv_", "sgesv_", "dpotrf_", "dsyev_", "dgetrf_", "zgemm_", "cgemm_"};
    if (!strncmp(n, "cblas_", 6) || !strncmp(n, "LAPACKE_", 8))
        return "blas_lapack";
    for (size_t i = 0; i < sizeof blas / sizeof blas[0]; i++)
        if (!strcmp(n, blas[i]))
            return "blas_lapack";
    if (!strncmp(n, "fftw_", 5) || !strncmp(n, "fftwf_", 6) || !strncmp(n, "fftwl_", 6))
        return "fftw";
    if (!strncmp(n, "cuda", 4) || !strncmp(n, "cublas", 6) || !strncmp(n, "cufft", 5) || !strncmp(n, "cuLaunch", 8))
        return "cuda";
    if (n[0] == 'c' && n[1] == 'l' && n[2] >= 'A' && n[2] <= 'Z')
        return "opencl";
    if (!strncmp(n, "xrt", 3))
        return "xilinx_xrt";
    if (!strncmp(n, "MPI_", 4))
        return "mpi";
    if (!strncmp(n, "omp_", 4))
        return "openmp";
    if (!strncmp(n, "pthread_", 8))
        return "pthreads";
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
    if (!expr_poly(w, clang_Cursor_getArgument(c, (unsigned)size_arg), &a->size, 1, &why))
        goto unknown;
    if (count_arg >= 0) {
        pv_poly n;
        pv_poly_init(&n);
        int ok = count_arg < nargs && expr_poly(w, clang_Cursor_getArgument(c, (unsigned)count_arg), &n, 1, &why);
        if (ok)
            w->rc = pv_poly_mul(&a->size, &a->size, &n);
        pv_poly_clear(&n);
        if (!ok)
            goto unknown;
    }
    a->size_known = 1;
    a->size_str = pv_poly_str(&a->size);
    return;
unknown:
    a->reason = strdup(why);
}

static void walk_call(walk *w, CXCursor c)
{
    char *name = cxstr(clang_getCursorSpelling(c));
    if (!name) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
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
    for (unsigned i = 0; !ak && i < w->nwrappers; i++) {
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
                 expr_poly(w, clang_Cursor_getArgument(c, p), &arg, 1, &why);
            if (ok)
                ok = pv_poly_subst(&a->size, &a->size, wr->params[p], &arg) == PV_OK;
            pv_poly_clear(&arg);
        }
        if (ok) {
            a->size_known = 1;
            a->size_str = pv_poly_str(&a->size);
        } else
            a->reason = strdup(why ? why : "argument is not affine");
        break;
    }
    if (!strcmp(name, "exit") || !strcmp(name, "abort") || !strcmp(name, "longjmp") || !strcmp(name, "_exit"))
        for (unsigned i = 0; i < w->depth; i++)
            if (w->stack[i].loop >= 0)
                w->res->loops[w->stack[i].loop].has_longjmp = 1;
    const char *group = name[0] ? library_group(name) : NULL;
    if (!strcmp(name, "pthread_create")) {
        json_t *o = json_object();
        int li = innermost_loop(w);
        if (o) {
            json_object_set_new(o, "kind", json_string("pthread_create"));
            json_object_set_new(o, "file", json_string(w->res->file));
            json_object_set_new(o, "line", json_integer(line));
            if (w->func)
                json_object_set_new(o, "function", json_string(w->func));
            char routine[PV_POLY_NAMELEN];
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
                    if (rn && strlen(rn) < sizeof routine)
                        json_object_set_new(o, "routine", json_string(rn));
                    free(rn);
                }
            }
            if (li >= 0)
                json_object_set_new(o, "loop_line", json_integer(w->res->loops[li].line));
            /* the number of threads is the trip count of the creating loop, known after it is walked */
            if (li >= 0)
                json_object_set_new(o, "loop_index", json_integer(li));
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
    free(name);
    walk_children(w, c);
}

/* Variable-length arrays, and large fixed arrays (static or on the stack). */
static void walk_vardecl(walk *w, CXCursor c)
{
    CXType t = clang_getCursorType(c);
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
            ok = expr_poly(w, ks.c[i], &d, 1, &why) && pv_poly_mul(&a->size, &a->size, &d) == PV_OK;
            pv_poly_clear(&d);
            ndims++;
        }
        /* fixed inner dimensions (double a[n][4]) are in the element type chain */
        for (CXType x = clang_getArrayElementType(t); ok && x.kind == CXType_ConstantArray; x = clang_getArrayElementType(x))
            ok = pv_poly_scale(&a->size, clang_getArraySize(x), 1) == PV_OK;
        if (ok && ndims) {
            a->size_known = 1;
            a->size_str = pv_poly_str(&a->size);
        } else
            a->reason = strdup(ndims || !ok ? why : "dimension not found");
    } else if (t.kind == CXType_ConstantArray) {
        long long sz = clang_Type_getSizeOf(t);
        if (sz < 65536)
            return;
        enum CX_StorageClass sc = clang_Cursor_getStorageClass(c);
        int global = clang_getCursorKind(clang_getCursorSemanticParent(c)) == CXCursor_TranslationUnit;
        src_alloc *a = add_alloc(w);
        if (!a)
            return;
        a->kind = global || sc == CX_SC_Static || sc == CX_SC_Extern ? "static" : "stack";
        a->line = cursor_line(c, NULL);
        a->size_known = pv_poly_set_const(&a->size, sz, 1) == PV_OK;
        a->size_str = pv_poly_str(&a->size);
        char *nm = cxstr(clang_getCursorSpelling(c));
        a->callee = nm;
    }
}

static int is_omp(enum CXCursorKind k) { return k >= CXCursor_OMPParallelDirective && k <= CXCursor_OMPScopeDirective; }

static void walk_omp(walk *w, CXCursor c, enum CXCursorKind k)
{
    json_t *o = json_object();
    if (!o) {
        w->rc = PV_ERR_NOMEM;
        return;
    }
    /* the directive's extent is the pragma line; its tokens give directive and clauses */
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(w->tu, clang_getCursorExtent(c), &toks, &n);
    char text[512] = "";
    size_t len = 0;
    int after_omp = 0;
    unsigned pline = cursor_line(c, NULL);
    for (unsigned i = 0; i < n; i++) {
        unsigned tl = 0;
        clang_getSpellingLocation(clang_getTokenLocation(w->tu, toks[i]), NULL, &tl, NULL, NULL);
        if (tl != pline)
            break; /* the associated statement starts on a later line */
        CXString s = clang_getTokenSpelling(w->tu, toks[i]);
        const char *t = clang_getCString(s);
        if (after_omp) {
            int glue = len == 0 || (strlen(t) == 1 && strchr("()[]:,", t[0])) || strchr("([:", text[len - 1]);
            int wr = snprintf(text + len, sizeof text - len, "%s%s", glue ? "" : " ", t);
            if (wr > 0 && (size_t)wr < sizeof text - len)
                len += (size_t)wr;
        }
        if (!strcmp(t, "omp"))
            after_omp = 1;
        clang_disposeString(s);
    }
    if (toks)
        clang_disposeTokens(w->tu, toks, n);
    char *kind = cxstr(clang_getCursorKindSpelling(k));
    json_object_set_new(o, "kind", json_string("openmp"));
    json_object_set_new(o, "directive", json_string(kind ? kind : ""));
    json_object_set_new(o, "pragma", json_string(text));
    json_object_set_new(o, "file", json_string(w->res->file));
    json_object_set_new(o, "line", json_integer(pline));
    if (w->func)
        json_object_set_new(o, "function", json_string(w->func));
    int li = innermost_loop(w);
    if (li >= 0)
        json_object_set_new(o, "loop_line", json_integer(w->res->loops[li].line));
    free(kind);
    int idx = (int)json_array_size(w->res->parallel);
    w->nomp++;
    json_add(w, w->res->parallel, o);
    int saved = w->omp;
    w->omp = idx;
    walk_children(w, c);
    w->omp = saved;
}

/* After a function: register it as an allocation wrapper when it allocates
 * an amount given by its own parameters, and compute loop totals. */
static void finish_function(walk *w, CXCursor fn, unsigned first_alloc);

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
    w->func_first_loop = w->res->nloops;
    w->func_first_par = json_array_size(w->res->parallel);
    w->func_first_call = json_array_size(w->res->calls);
    unsigned first_alloc = w->res->nallocs;
    w->depth = 0;
    w->omp = -1;
    walk_children(w, c);
    finish_function(w, c, first_alloc);
    free(w->func);
    w->func = NULL;
}

static void walk_cursor(walk *w, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    switch (k) {
    case CXCursor_FunctionDecl:
        if (!w->func)
            walk_function(w, c);
        return;
    case CXCursor_ForStmt:
    case CXCursor_WhileStmt:
    case CXCursor_DoStmt:
        if (w->func)
            walk_loop(w, c, k);
        return;
    case CXCursor_SwitchStmt:
        if (w->depth < sizeof w->stack / sizeof w->stack[0]) {
            w->stack[w->depth++].loop = -1;
            walk_children(w, c);
            w->depth--;
        }
        return;
    case CXCursor_BreakStmt:
        if (w->depth && w->stack[w->depth - 1].loop >= 0)
            w->res->loops[w->stack[w->depth - 1].loop].has_break = 1;
        return;
    case CXCursor_ReturnStmt:
    case CXCursor_GotoStmt:
    case CXCursor_IndirectGotoStmt:
        for (unsigned i = 0; i < w->depth; i++)
            if (w->stack[i].loop >= 0) {
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
        if (w->func)
            walk_vardecl(w, c);
        else
            walk_vardecl(w, c); /* file-scope arrays */
        walk_children(w, c);
        return;
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator: {
        enum CXBinaryOperatorKind op = clang_getCursorBinaryOperatorKind(c);
        if (w->depth && op >= CXBinaryOperator_Assign && op <= CXBinaryOperator_OrAssign) {
            kids ks;
            children(c, &ks);
            char nm[PV_POLY_NAMELEN];
            if (ks.n == 2 && spell_name(w, ks.c[0], nm))
                mark_modified(w, nm);
        }
        walk_children(w, c);
        return;
    }
    case CXCursor_UnaryOperator: {
        enum CXUnaryOperatorKind op = clang_getCursorUnaryOperatorKind(c);
        if (w->depth && (op == CXUnaryOperator_PostInc || op == CXUnaryOperator_PostDec ||
                         op == CXUnaryOperator_PreInc || op == CXUnaryOperator_PreDec || op == CXUnaryOperator_AddrOf)) {
            kids ks;
            children(c, &ks);
            char nm[PV_POLY_NAMELEN];
            if (ks.n == 1 && spell_name(w, ks.c[0], nm))
                mark_modified(w, nm);
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
        return; /* leaves: nothing below them matters */
    default:
        if (is_omp(k)) {
            walk_omp(w, c, k);
            return;
        }
        walk_children(w, c);
    }
}

/* Loop totals: executions of each loop's body per call of its function,
 * summing inner trip counts over the outer loops' index ranges. */
static void loop_total(walk *w, unsigned li)
{
    src_loop *l = &w->res->loops[li];
    if (!l->trip_known) {
        l->total_reason = strdup("trip count unknown");
        return;
    }
    pv_poly f;
    pv_poly_init(&f);
    if ((w->rc = pv_poly_copy(&f, &l->trip)))
        return;
    l->total_approx = l->step != 1 && l->step != -1 && l->trip_const < 0;
    char buf[200];
    for (int pi = l->parent; pi >= 0; pi = w->res->loops[pi].parent) {
        src_loop *p = &w->res->loops[pi];
        if (!p->trip_known) {
            snprintf(buf, sizeof buf, "enclosing loop at line %u has an unknown trip count", p->line);
            l->total_reason = strdup(buf);
            goto done;
        }
        /* a variable in f that the outer body changes (other than its index) makes the sum meaningless */
        for (uint32_t t = 0; t < f.nterms && !l->total_reason; t++)
            for (unsigned k = 0; k < f.terms[t].nfactors; k++)
                if (strcmp(f.terms[t].var[k], p->var) && loop_modified(p, f.terms[t].var[k])) {
                    snprintf(buf, sizeof buf, "%s changes across iterations of the loop at line %u",
                             f.terms[t].var[k], p->line);
                    l->total_reason = strdup(buf);
                    break;
                }
        if (l->total_reason)
            goto done;
        if (p->step != 1 && p->step != -1 && p->trip_const < 0)
            l->total_approx = 1;
        int rc = p->var[0] && pv_poly_has_var(&f, p->var) ? pv_poly_sum(&f, &f, p->var, &p->lo, p->step, &p->trip)
                                                          : pv_poly_mul(&f, &f, &p->trip);
        if (rc) {
            l->total_reason = strdup(pv_error_last());
            goto done;
        }
    }
    l->total_known = 1;
    pv_poly_copy(&l->total, &f);
done:
    pv_poly_clear(&f);
}

static void finish_function(walk *w, CXCursor fn, unsigned first_alloc)
{
    src_result *r = w->res;
    for (unsigned i = w->func_first_loop; i < r->nloops; i++)
        loop_total(w, i);
    /* per-function record (work: iterations of innermost bodies) for functions with any fact */
    if (r->nloops > w->func_first_loop || r->nallocs > first_alloc || json_array_size(r->parallel) > w->func_first_par ||
        json_array_size(r->calls) > w->func_first_call) {
        pv_poly work;
        pv_poly_init(&work);
        int known = 1, approx = 0;
        for (unsigned i = w->func_first_loop; i < r->nloops; i++)
            if (r->loops[i].innermost) {
                if (!r->loops[i].total_known)
                    known = 0;
                else {
                    pv_poly_add(&work, &work, &r->loops[i].total);
                    approx |= r->loops[i].total_approx;
                }
            }
        json_t *o = json_object();
        if (o) {
            json_object_set_new(o, "name", json_string(w->func));
            json_object_set_new(o, "file", json_string(r->file));
            json_object_set_new(o, "line", json_integer(w->func_line));
            json_object_set_new(o, "loops", json_integer(r->nloops - w->func_first_loop));
            char *s = pv_poly_str(&work);
            if (s && work.nterms)
                json_object_set_new(o, known ? "work" : "work_partial", json_string(s));
            if (approx)
                json_object_set_new(o, "work_approx", json_true());
            free(s);
        }
        json_add(w, r->functions, o);
        pv_poly_clear(&work);
    }
    /* allocation wrapper: returns a pointer, allocates an amount in its parameters only */
    if (clang_getCursorResultType(fn).kind != CXType_Pointer || clang_Cursor_getNumArguments(fn) > 8)
        return;
    int np = clang_Cursor_getNumArguments(fn);
    for (unsigned i = first_alloc; i < r->nallocs; i++) {
        src_alloc *a = &r->allocs[i];
        if (!a->size_known || !strcmp(a->kind, "vla") || !strcmp(a->kind, "static") || !strcmp(a->kind, "stack"))
            continue;
        char params[8][PV_POLY_NAMELEN];
        for (int p = 0; p < np; p++) {
            char *pn = cxstr(clang_getCursorSpelling(clang_Cursor_getArgument(fn, (unsigned)p)));
            snprintf(params[p], PV_POLY_NAMELEN, "%s", pn ? pn : "");
            free(pn);
        }
        int only_params = 1;
        for (uint32_t t = 0; t < a->size.nterms && only_params; t++)
            for (unsigned k = 0; k < a->size.terms[t].nfactors; k++) {
                int found = 0;
                for (int p = 0; p < np && !found; p++)
                    found = !strcmp(params[p], a->size.terms[t].var[k]);
                if (!found)
                    only_params = 0;
            }
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
        wr->nparams = (unsigned)np;
        memcpy(wr->params, params, sizeof params);
        pv_poly_init(&wr->size);
        pv_poly_copy(&wr->size, &a->size);
        break;
    }
}

static enum CXChildVisitResult top_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    walk *w = d;
    if (w->rc)
        return CXChildVisit_Break;
    /* Only what the main file defines: headers are analyzed with the TU that owns them. */
    if (!clang_Location_isFromMainFile(clang_getCursorLocation(c)))
        return CXChildVisit_Continue;
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

static int parse(void *index, const src_tu *tu, int drop_openmp, CXTranslationUnit *ctu, json_t *diags)
{
    /* compiler name, flags, -working-directory DIR (libclang resolves relative paths against it), file */
    const char **argv = calloc((size_t)tu->nargs + 8, sizeof *argv);
    if (!argv)
        return pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
    int n = 0;
    argv[n++] = "clang";
    for (int i = 0; i < tu->nargs; i++)
        if (!drop_openmp || strncmp(tu->args[i], "-fopenmp", 8))
            argv[n++] = tu->args[i];
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
    free(w->func);
    w->wrappers = NULL;
    w->nwrappers = 0;
    w->func = NULL;
}

/* Drop what a walk found (not the diagnostics), for the second walk of an OpenMP TU. */
static int result_reset(src_result *r)
{
    json_t *d = json_incref(r->diagnostics);
    char *file = r->file;
    r->file = NULL;
    pv_source_result_free(r);
    r->file = file;
    r->diagnostics = d;
    r->parallel = json_array();
    r->calls = json_array();
    r->functions = json_array();
    return r->parallel && r->calls && r->functions ? PV_OK : PV_ERR_NOMEM;
}

int pv_source_ast_tu(void *index, const src_tu *tu, src_result *res)
{
    int rc = PV_OK;
    CXTranslationUnit ctu = NULL;
    walk w = {.res = res, .omp = -1};
    json_t *omp = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    res->file = strdup(tu->file);
    res->parallel = json_array();
    res->calls = json_array();
    res->diagnostics = json_array();
    res->functions = json_array();
    if (!res->file || !res->parallel || !res->calls || !res->diagnostics || !res->functions) {
        rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
        goto done;
    }
    if ((rc = parse(index, tu, 0, &ctu, res->diagnostics)) || !ctu)
        goto done;
    w.tu = ctu;
    add_diagnostics(&w);
    clang_visitChildren(clang_getTranslationUnitCursor(ctu), top_cb, &w);
    if (!w.rc && w.nomp) {
        /* libclang shows an OpenMP directive's associated statement only as a
         * CapturedStmt whose children are the captured variables, so the loops
         * under a pragma are invisible. Keep the directives, parse again
         * without -fopenmp (the pragmas are then ignored and the loops are
         * plain statements), and attach each directive to the loop after it. */
        omp = json_array();
        for (size_t i = 0; omp && i < json_array_size(res->parallel); i++) {
            json_t *o = json_array_get(res->parallel, i);
            if (!strcmp(json_string_value(json_object_get(o, "kind")), "openmp"))
                json_array_append(omp, o);
        }
        walk_free(&w);
        clang_disposeTranslationUnit(ctu);
        ctu = NULL;
        if (!omp || result_reset(res)) {
            rc = pv_error_set(PV_ERR_NOMEM, "%s: out of memory", tu->file);
            goto done;
        }
        memset(&w, 0, sizeof w);
        w.res = res;
        w.omp = -1;
        if ((rc = parse(index, tu, 1, &ctu, res->diagnostics)) || !ctu)
            goto done;
        w.tu = ctu;
        clang_visitChildren(clang_getTranslationUnitCursor(ctu), top_cb, &w);
        for (size_t i = 0; i < json_array_size(omp); i++) {
            json_t *o = json_array_get(omp, i);
            unsigned line = (unsigned)json_integer_value(json_object_get(o, "line"));
            int best = -1;
            for (unsigned k = 0; k < res->nloops; k++)
                if (res->loops[k].line > line && (best < 0 || res->loops[k].line < res->loops[best].line))
                    best = (int)k;
            json_object_del(o, "loop_line");
            if (best >= 0 && res->loops[best].line <= line + 2) {
                json_object_set_new(o, "loop_line", json_integer(res->loops[best].line));
                if (res->loops[best].trip_str)
                    json_object_set_new(o, "iterations", json_string(res->loops[best].trip_str));
                res->loops[best].omp = (int)json_array_size(res->parallel);
            }
            json_array_append(res->parallel, o);
        }
    }
    /* threads created by pthread_create in a loop: the loop's trip count */
    for (size_t i = 0; i < json_array_size(res->parallel); i++) {
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
    json_decref(omp);
    if (ctu)
        clang_disposeTranslationUnit(ctu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    res->parse_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

void pv_source_result_free(src_result *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nloops; i++) {
        src_loop *l = &r->loops[i];
        free(l->func);
        pv_poly_clear(&l->lo);
        pv_poly_clear(&l->trip);
        pv_poly_clear(&l->total);
        free(l->trip_str);
        free(l->trip_max);
        free(l->reason);
        free(l->total_reason);
        for (unsigned k = 0; k < l->nmodified; k++)
            free(l->modified[k]);
        free(l->modified);
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
    json_decref(r->functions);
    free(r->file);
    memset(r, 0, sizeof *r);
}

const char *pv_source_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
