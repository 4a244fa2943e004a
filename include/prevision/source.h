/**
 * @file source.h
 * @brief the source front end of the analyzer: libclang AST pass (loops, trip counts, allocations, parallelism) and LLVM-C IR pass (operation counts), merged into a profile by file:line.
 *
 * Two parts:
 *  - symbolic expressions (pv_poly): polynomials in named program
 *    parameters with rational coefficients, printed like `8*n^2`, and an
 *    evaluator for the printed syntax (pv_expr_eval) that the cost model
 *    uses with a run's parameter values;
 *  - the source analysis (pv_source_analyze): a libclang AST pass per
 *    translation unit (in parallel across TUs) and an optional LLVM IR pass,
 *    producing the profile's `source` section as a JSON object, which
 *    pv_source_merge() attaches to a static profile by DWARF file:line.
 *
 * The schema of the `source` section is in docs/schema/profile.schema.json
 * ($defs/source); docs/source-analysis.md says what is derived and how.
 */
#ifndef PREVISION_SOURCE_H
#define PREVISION_SOURCE_H

#include <stdint.h>

#include "prevision/error.h"
#include "prevision/log.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Symbolic expressions                                                    */

/** Longest variable name in a pv_poly, including the NUL. */
#define PV_POLY_NAMELEN 48
/** Most distinct variables in one term. */
#define PV_POLY_MAXFACTORS 4

/** One term: (num/den) * var[0]^exp[0] * ... ; factors sorted by name. */
typedef struct pv_poly_term {
    int64_t num, den; /**< coefficient in lowest terms, den > 0 */
    uint8_t nfactors;
    uint8_t exp[PV_POLY_MAXFACTORS];
    char var[PV_POLY_MAXFACTORS][PV_POLY_NAMELEN];
} pv_poly_term;

/**
 * A polynomial with rational coefficients in named variables, always kept
 * simplified (like terms merged, zero terms dropped, terms ordered by
 * degree then name). Initialize with pv_poly_init() (or zero it), release
 * with pv_poly_clear(). The zero polynomial has no terms.
 */
typedef struct pv_poly {
    uint32_t nterms, cap;
    pv_poly_term *terms; /**< owned; malloc()ed */
} pv_poly;

/** Make @p p the zero polynomial without allocating. */
void pv_poly_init(pv_poly *p);
/** Free the terms of @p p and make it zero again. NULL is allowed. */
void pv_poly_clear(pv_poly *p);
/** Set @p p to num/den. @return PV_OK, PV_ERR_INVALID (den 0), PV_ERR_NOMEM. */
int pv_poly_set_const(pv_poly *p, int64_t num, int64_t den);
/** Set @p p to the variable @p name. @return PV_OK, PV_ERR_UNSUPPORTED (name empty or too long), PV_ERR_NOMEM. */
int pv_poly_set_var(pv_poly *p, const char *name);
/** Copy @p a into @p out. @return PV_OK or PV_ERR_NOMEM. */
int pv_poly_copy(pv_poly *out, const pv_poly *a);
/**
 * out = a + b, out = a - b, out = a * b, out = a + (num/den)*b.
 * @p out may be the same object as an input.
 * @return PV_OK, PV_ERR_NOMEM, PV_ERR_UNSUPPORTED (a coefficient overflows
 *         64 bits, or a term would have more than PV_POLY_MAXFACTORS variables).
 */
int pv_poly_add(pv_poly *out, const pv_poly *a, const pv_poly *b);
int pv_poly_sub(pv_poly *out, const pv_poly *a, const pv_poly *b);
int pv_poly_mul(pv_poly *out, const pv_poly *a, const pv_poly *b);
int pv_poly_add_scaled(pv_poly *out, const pv_poly *a, const pv_poly *b, int64_t num, int64_t den);
/** p *= num/den. @return as pv_poly_add(); PV_ERR_INVALID when den is 0. */
int pv_poly_scale(pv_poly *p, int64_t num, int64_t den);
/** out = p with variable @p var replaced by @p q. @return as pv_poly_mul(). */
int pv_poly_subst(pv_poly *out, const pv_poly *p, const char *var, const pv_poly *q);
/**
 * out = sum over t = 0 .. count-1 of f(var = lo + step*t): the total of a
 * polynomial over the iterations of a loop (Faulhaber's formulas). Exact
 * for every count >= 0.
 * @return as pv_poly_mul(); PV_ERR_UNSUPPORTED when @p var appears with a power above 4.
 */
int pv_poly_sum(pv_poly *out, const pv_poly *f, const char *var, const pv_poly *lo, int64_t step,
                const pv_poly *count);
/** @return 1 when @p p is a constant (stored in *num / *den when not NULL), else 0. */
int pv_poly_is_const(const pv_poly *p, int64_t *num, int64_t *den);
/** @return 1 when variable @p name occurs in @p p. */
int pv_poly_has_var(const pv_poly *p, const char *name);
/** @return the total degree of @p p (0 for constants and zero). */
unsigned pv_poly_degree(const pv_poly *p);
/**
 * Print @p p: terms by decreasing degree, `*` between factors, `^` for
 * powers, a rational coefficient as `3*n/2`, e.g. `8*n^2`, `n^2/2 + n/2`,
 * `n - i`, `0`. The text is accepted by pv_expr_eval().
 * @return a malloc()ed string the caller frees with free(); NULL when out of memory.
 */
char *pv_poly_str(const pv_poly *p);

/** Gives the value of parameter @p name; returns PV_OK or non-zero when unknown. */
typedef int (*pv_expr_lookup_fn)(void *ud, const char *name, double *value);

/** Evaluate @p p with parameter values from @p lookup. @return PV_OK or PV_ERR_NOTFOUND naming the parameter. */
int pv_poly_eval(const pv_poly *p, pv_expr_lookup_fn lookup, void *ud, double *out);

/**
 * Evaluate an expression as written by the source analyzer: numbers,
 * parameter names (C identifiers, with `.` / `->` member access such as
 * `w->last`), `+ - * / ^`, parentheses, and `ceil(x)`, `floor(x)`,
 * `min(a,b)`, `max(a,b)`. Division is exact (real); trip counts that round
 * say so with ceil().
 * @return PV_OK; PV_ERR_FORMAT for a syntax error (message gives the
 *         offset); PV_ERR_NOTFOUND naming a parameter @p lookup does not know;
 *         PV_ERR_INVALID for a NULL @p text or @p out.
 */
int pv_expr_eval(const char *text, pv_expr_lookup_fn lookup, void *ud, double *out);

/* ---------------------------------------------------------------------- */
/* Source analysis                                                         */

/** Version of pv_source_options understood by this library. */
#define PV_SOURCE_OPTIONS_VERSION 1

/** Options of pv_source_analyze(). Start from PV_SOURCE_OPTIONS_INIT. */
typedef struct pv_source_options {
    unsigned version;           /**< PV_SOURCE_OPTIONS_VERSION */
    const char *build_dir;      /**< directory holding compile_commands.json, or NULL */
    const char *file;           /**< or: one source file to analyze (with @p args as its flags) */
    int nargs;                  /**< number of compiler flags for @p file */
    const char *const *args;    /**< compiler flags for @p file (e.g. "-I", "inc", "-fopenmp") */
    unsigned threads;           /**< TUs parsed in parallel; 0 = one per online CPU */
    int ir;                     /**< 1: also run the LLVM IR pass (default); 0: AST only */
    const char *clang;          /**< compiler for the IR pass; NULL = the clang-19 found at build time */
    pv_progress_fn progress;    /**< optional progress callback ("parsing", "compiling") */
    void *progress_ud;
    /** With @p build_dir: analyze only the entries whose file matches one of
     *  these paths (same base name, then the longest common path suffix),
     *  e.g. the source files a binary's DWARF names; NULL: every entry. */
    const char *const *only;
    unsigned nonly;
} pv_source_options;

/** Default options: AST and IR passes, one thread per CPU, every entry. */
#define PV_SOURCE_OPTIONS_INIT {PV_SOURCE_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, 1, NULL, NULL, NULL, NULL, 0}

/**
 * Analyze the sources named by @p opts (a compile database or one file).
 * Parse errors and missing headers do not fail the call: they become
 * entries of the result's `diagnostics` array (file:line), and the rest of
 * the TU is still analyzed. A TU the IR pass cannot compile gets a
 * diagnostic too.
 * @param opts  options (build_dir or file must be set)
 * @param out   receives a jansson json_t* object (the profile's `source`
 *              section); caller releases it with json_decref()
 * @return PV_OK; PV_ERR_INVALID (bad options, or a build_dir name longer
 *         than a path); PV_ERR_NOTFOUND (no compile_commands.json in
 *         build_dir, no such file, no entry matching @p only, or no compiler
 *         for the IR pass); PV_ERR_IO (no current directory to resolve @p
 *         file against, no temporary directory for the IR pass);
 *         PV_ERR_FORMAT (a compile database libclang cannot read, or one
 *         with no entries); PV_ERR_BACKEND (libclang cannot parse at all);
 *         PV_ERR_NOMEM.
 */
int pv_source_analyze(const pv_source_options *opts, void **out);

/**
 * Attach source facts to a static profile. Each binary loop whose DWARF
 * line (pv_loop.loc) falls in a source loop's line range (innermost
 * containing loop, same file by base name) gets that loop's symbolic trip
 * count in pv_loop.trip_expr (when derived); the source loop records the
 * matched binary loop indices in `binary_loops`. Binary loops without a
 * source loop go to `unmatched_binary_loops`; source loops without a
 * binary loop (fully unrolled, removed) have `"matched": false`.
 * @param p       the profile; its `source` section is replaced by a copy
 *                of @p source with the match results
 * @param source  a json_t* from pv_source_analyze() (not modified)
 * @return PV_OK, PV_ERR_INVALID (not a source object), PV_ERR_NOMEM.
 */
int pv_source_merge(pv_profile *p, const void *source);

/**
 * The human report of a source section: per file and function, the loop
 * nests with their trip-count expressions and total iterations, the
 * predicted work as a polynomial in the program's parameters, allocations
 * as functions of the parameters, parallel regions, library calls and
 * diagnostics.
 * @param source  a json_t* source object
 * @param out     receives a malloc()ed string; caller frees with free()
 * @return PV_OK, PV_ERR_INVALID, PV_ERR_NOMEM.
 */
int pv_source_report(const void *source, char **out);

#ifdef __cplusplus
}
#endif
#endif
