/* Private declarations shared by analyzer/source_*.c (the source front end). */
#ifndef PV_SOURCE_INTERNAL_H
#define PV_SOURCE_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "prevision/source.h"

/* One translation unit to analyze: the compiler command as in the database. */
typedef struct src_tu {
    char *dir;   /* working directory of the command */
    char *file;  /* absolute path of the main file */
    int nargs;
    char **args; /* compiler flags only: no compiler name, no -c/-o/-M*, no input file */
} src_tu;

/* A loop found by the AST pass. Raw facts are gathered while walking the
 * function; trip counts and totals are decided when the function ends
 * (after every modification in it was seen and local variables were
 * replaced by their definitions). */
typedef struct src_loop {
    char *func;              /* enclosing function */
    const char *kind;        /* "for", "while", "do" */
    unsigned line, col, end_line;
    unsigned offset;         /* file offset of the loop keyword (main file), for pragma association */
    int parent;              /* index in the TU's loop array, -1 for outermost */
    unsigned depth;
    char var[PV_POLY_NAMELEN]; /* induction variable, "" when none */
    int64_t step;
    /* raw derivation (in the function's own variables) */
    int derived;             /* condition, initial value and step understood */
    int body_update;         /* the induction variable is updated in the body, not in a for header */
    int early_exit;          /* the condition has other terms (&&): the count is only an upper bound */
    pv_poly lo;              /* initial value of var */
    pv_poly dist;            /* distance to the bound in the direction of the step (+1 for <=, >=) */
    char **bound_vars;       /* variables the bound reads (raw, before substitution) */
    unsigned nbound_vars;
    size_t capbound_vars;
    /* decided at the end of the function */
    pv_poly trip;            /* dist/|step| (exact when the step is +-1 or the count is constant) */
    int trip_known;
    char *trip_str;          /* printed trip count, with ceil() when rounding */
    char *trip_max;          /* upper bound when the loop may exit early */
    char *reason;            /* why the trip count is unknown */
    int64_t trip_const;      /* constant trip count, -1 when not constant */
    pv_poly total;           /* executions of the body per call of the function */
    int total_known;
    int total_approx;        /* a ceil() was averaged on the way */
    char *total_reason;
    int innermost;
    int omp;                 /* index in the TU's parallel array of its OpenMP directive, -1 */
    /* collected while walking the body */
    int has_break, has_return, has_goto, has_longjmp, has_continue;
    json_t *ir;              /* array of IR loop records attached later, or NULL */
} src_loop;

/* An allocation site. */
typedef struct src_alloc {
    char *func;
    const char *kind;        /* "malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "wrapper", "vla", "static", "stack" */
    char *callee;            /* wrapper name for kind "wrapper", array name for "static"/"stack" */
    unsigned line;
    int loop;                /* innermost enclosing loop index, -1 */
    int size_known;
    pv_poly size;
    char *size_str;
    char *reason;
} src_alloc;

/* Measures of a function, own (its loops) and with its callees. */
enum { M_WORK, M_FLOPS, M_FMA, M_LOADED, M_STORED, M_ALLOC, M_N };
/* State of a measure: complete, or a lower bound (some part unknown). */
enum { MS_KNOWN = 0, MS_PARTIAL = 1 };

/* An argument of a call site: an affine integer, a pointer variable (whose
 * member chains rename the callee's), or unknown. */
typedef struct src_arg {
    uint8_t kind; /* 0 unknown, 1 poly, 2 name */
    pv_poly poly;
    char name[PV_POLY_NAMELEN];
} src_arg;

/* A call to a function that may be defined in the analyzed sources. */
typedef struct src_call {
    char *callee;
    unsigned line;
    int loop;      /* innermost loop around the call in the caller, -1 */
    unsigned nargs;
    src_arg *args;
} src_call;

/* A function definition. */
typedef struct src_func {
    char *name;
    unsigned line, end_line, nloops;
    char **params;
    unsigned nparams;
    int has_facts;      /* loops, allocations, parallelism or library calls: worth a record */
    int approx;         /* a rounded count was averaged in its work */
    pv_poly own[M_N];   /* per call, its own loops and allocation sites */
    uint8_t own_state[M_N];
    pv_poly incl[M_N];  /* with the functions it calls (composed in source_main.c) */
    uint8_t incl_state[M_N];
    int composed;       /* some callee contributed */
    int incl_approx;    /* approx, or a callee's */
    uint8_t mark;       /* composition: 0 new, 1 in progress, 2 done */
    unsigned first_call, ncalls; /* its call sites in src_result.callsites */
} src_func;

/* What the AST pass found in one TU. */
typedef struct src_result {
    char *file;
    src_loop *loops;
    unsigned nloops;
    size_t caploops;
    src_alloc *allocs;
    unsigned nallocs;
    size_t capallocs;
    json_t *parallel;    /* array */
    json_t *calls;       /* array */
    json_t *diagnostics; /* array */
    src_func *funcs;     /* every function defined in the main file */
    unsigned nfuncs;
    size_t capfuncs;
    src_call *callsites;
    unsigned ncallsites;
    size_t capcallsites;
    double parse_seconds;
} src_result;

/* AST pass over one TU with an index owned by the calling thread (void* =
 * CXIndex), into *@res (zeroed by the caller; free with
 * pva_source_result_free() whatever the result). Parse errors become
 * diagnostics; PV_ERR_NOMEM otherwise, with the error detail in the
 * calling thread. */
int pva_source_ast_tu(void *index, const src_tu *tu, src_result *res);

/* IR pass over one TU: compile to bitcode in @p tmpdir with @p clang and count
 * per loop; appends IR loop objects to @p loops and diagnostics to @p diags
 * (a TU that does not compile is a diagnostic). PV_ERR_NOTFOUND when @p
 * clang cannot be run, PV_ERR_NOMEM; the detail is in the calling thread. */
int pva_source_ir_tu(const char *clang, const char *tmpdir, unsigned id, const src_tu *tu, json_t *loops,
                    json_t *diags);

/* Free what @r holds and zero it (not @r itself). NULL allowed. */
void pva_source_result_free(src_result *r);

/* Total over one call of its function of @p f, a quantity per iteration of
 * loop @p li (-1: outside loops): summed or multiplied over the enclosing
 * loops. @p walk: the AST pass's state, for the check that f's variables do
 * not change across iterations; NULL once the walk is over (the caller
 * ensured it). Sets *approx when a rounded count was averaged. Returns 1, or
 * 0 with @p why. */
int pva_source_nest_sum(const src_result *r, const void *walk, int li, pv_poly *f, int *approx, char *why, size_t whysz);

/* Length of the parameter name at @s: a C identifier or a member chain
 * (`w->last`, `s.n`), as pv_expr_eval() reads them; 0 when @s does not
 * start with one. */
size_t pva_source_ident_len(const char *s);

/* Base name of a path (pointer into it). */
const char *pva_source_basename(const char *path);

/* Trailing path components @p a and @p b share; 0 when their base names differ. */
int pva_source_path_match(const char *a, const char *b);

#endif
