/**
 * @file profile.h
 * @brief The demand profile: the contract between prevision's modules.
 *
 * A profile describes one target binary: its static structure (functions,
 * basic blocks, loops, instruction mix, library usage) from the analyzer,
 * and optionally what a sandboxed run measured (the dynamic section, from
 * the emulator), what the source said (source facts) and fitted scaling
 * models. On disk it is versioned JSON described by
 * docs/schema/profile.schema.json; pv_profile_load() validates a file
 * against that schema before converting it, so every rejection names the
 * file, the JSON path of the bad field and what was expected.
 *
 * Ownership: a pv_profile and everything reachable from it is owned by the
 * profile and freed by pv_profile_free(). Strings and arrays inside are
 * allocated with malloc(); code filling a profile may assign malloc()ed
 * memory to its fields and the profile takes ownership.
 */
#ifndef PREVISION_PROFILE_H
#define PREVISION_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "prevision/mix.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the profile format written by this library (field "schema_version"). */
#define PV_PROFILE_SCHEMA_VERSION 1
/** Value of the "format" field of every profile. */
#define PV_PROFILE_FORMAT "prevision-profile"

/** No source location / no index. */
#define PV_NONE UINT32_MAX

/** A source location. file indexes pv_profile.files; PV_NONE when unknown. */
typedef struct pv_srcloc {
    uint32_t file; /**< index into pv_profile.files, or PV_NONE */
    uint32_t line; /**< 1-based line, 0 when unknown */
} pv_srcloc;

/** The analyzed binary. */
typedef struct pv_target {
    char *path;       /**< path as given */
    char *build_id;   /**< hex GNU build-id, or NULL if the ELF has none */
    char *arch;       /**< "x86_64" */
    char *kind;       /**< "exec", "pie", "shared" or "static" */
    char sha256[65];  /**< hex SHA-256 of the file, "" when unknown */
    uint64_t entry;   /**< ELF entry point (link-time address) */
    int stripped;     /**< 1 when the binary had no symbol table and functions were discovered */
} pv_target;

/** Function flags. */
enum {
    PV_FUNC_SYMTAB = 1 << 0,     /**< named by .symtab/.dynsym */
    PV_FUNC_DISCOVERED = 1 << 1, /**< found from entry point, call targets or .eh_frame */
    PV_FUNC_PLT = 1 << 2,        /**< a PLT stub for an imported symbol */
};

/** One function. Its blocks are blocks[first_block .. first_block+nblocks). */
typedef struct pv_function {
    char *name;            /**< symbol name, "sub_ADDR" when discovered, "sym@plt" for PLT stubs */
    uint64_t addr;         /**< link-time start address */
    uint64_t size;         /**< bytes */
    pv_srcloc loc;         /**< declaration line from DWARF */
    uint32_t flags;        /**< PV_FUNC_* */
    uint32_t first_block;  /**< index of its first block in pv_profile.blocks */
    uint32_t nblocks;
    uint32_t ninsns;       /**< static instruction count */
    uint32_t nundecoded;   /**< bytes Capstone could not decode */
    uint32_t ncallees;
    uint32_t *callees;     /**< indices into pv_profile.functions (direct and resolved PLT calls) */
    char *import_lib;      /**< for PLT stubs: the library (DT_NEEDED soname) providing it, or NULL */
    pv_mix mix;            /**< static mix of all its instructions */
} pv_function;

/** Kinds of CFG edge. */
typedef enum pv_edge_kind {
    PV_EDGE_FALLTHROUGH = 0, /**< to the next block, no branch */
    PV_EDGE_TAKEN,           /**< conditional branch taken */
    PV_EDGE_NOT_TAKEN,       /**< conditional branch not taken */
    PV_EDGE_JUMP,            /**< unconditional direct jump */
    PV_EDGE_JUMPTABLE,       /**< resolved indirect jump through a table */
    PV_EDGE_TAILCALL,        /**< jump to another function's entry */
    PV_EDGE_NKINDS
} pv_edge_kind;

/** One CFG successor edge. */
typedef struct pv_edge {
    uint64_t target; /**< link-time address of the successor block */
    uint8_t kind;    /**< pv_edge_kind */
} pv_edge;

/** Block flags. */
enum {
    PV_BLOCK_UNRESOLVED = 1 << 0, /**< ends in an indirect jump that was not resolved */
    PV_BLOCK_RET = 1 << 1,        /**< ends in a return */
    PV_BLOCK_CALL = 1 << 2,       /**< contains a call */
    PV_BLOCK_NORETURN = 1 << 3,   /**< ends the function (hlt, ud2, call to a noreturn function) */
};

/** One basic block. */
typedef struct pv_block {
    uint64_t addr;       /**< link-time address */
    uint32_t size;       /**< bytes */
    uint32_t ninsns;     /**< instructions */
    uint32_t func;       /**< index of its function */
    uint32_t flags;      /**< PV_BLOCK_* */
    float cycles;        /**< static cycle estimate for one execution */
    uint32_t nsucc;
    pv_edge *succ;       /**< successors */
    pv_srcloc loc;       /**< source line of its first instruction with one */
    pv_mix mix;          /**< static mix */
    uint32_t moves;      /**< general-purpose register moves among its instructions that the core eliminates
                              at rename (PV_INSN_MOVE_ELIM, class int_alu): counted in ninsns and
                              mix.n[PV_MIX_INT_ALU], they take no ALU port (pv_uarch_block_cycles_moves());
                              0 in profiles written before the field existed */
} pv_block;

/** Loop flags. */
enum {
    PV_LOOP_IRREDUCIBLE = 1 << 0, /**< part of an irreducible region (several entries) */
};

/** One natural loop. */
typedef struct pv_loop {
    uint64_t header;       /**< link-time address of the header block */
    uint32_t func;         /**< index of its function */
    uint32_t parent;       /**< index of the enclosing loop, PV_NONE for an outermost loop */
    uint32_t depth;        /**< 1 for an outermost loop */
    uint32_t flags;        /**< PV_LOOP_* */
    uint32_t nblocks;
    uint32_t *blocks;      /**< indices into pv_profile.blocks, header first */
    pv_srcloc loc;         /**< source line of the header */
    int64_t trip_count;    /**< static trip count when constant, -1 otherwise */
    char *trip_expr;       /**< symbolic trip count (e.g. "n"), or NULL */
    float cycles_per_iter; /**< static cycles of one iteration of the loop's own blocks (those in no inner
                                loop): the larger of their throughput bound and the loop-carried
                                dependency chain through them; inner loops are costed by their own entries */
} pv_loop;

/** Library groups that drive device eligibility in the cost model. */
#define PV_LIBGROUPS(X)                     \
    X(LIBC, "libc")                         \
    X(LIBM, "libm")                         \
    X(BLAS, "blas_lapack")                  \
    X(FFTW, "fftw")                         \
    X(OPENMP, "openmp")                     \
    X(PTHREADS, "pthreads")                 \
    X(CUDA, "cuda")                         \
    X(OPENCL, "opencl")                     \
    X(XRT, "xilinx_xrt")                    \
    X(MPI, "mpi")                           \
    X(CRYPTO, "crypto")                     \
    X(COMPRESSION, "compression")           \
    X(CXX, "cxx_runtime")                   \
    X(OTHER, "other")

typedef enum pv_libgroup {
#define PV_LIBGROUP_ENUM_(id, name) PV_LIBGROUP_##id,
    PV_LIBGROUPS(PV_LIBGROUP_ENUM_)
#undef PV_LIBGROUP_ENUM_
    PV_LIBGROUP_NGROUPS
} pv_libgroup;

/** @return the stable name of a library group, or NULL when out of range. */
const char *pv_libgroup_name(pv_libgroup g);
/** @return the group named @p name, or -1. */
int pv_libgroup_from_name(const char *name);

/** One imported library (DT_NEEDED) and what the binary uses from it. */
typedef struct pv_library {
    char *soname;     /**< e.g. "libm.so.6" */
    uint32_t group;   /**< pv_libgroup */
    uint32_t nimports;
    char **imports;   /**< imported symbol names resolved to this library */
} pv_library;

/** A key = value parameter of a dynamic run (e.g. "argv[1]" = "200"). */
typedef struct pv_param {
    char *key;
    char *value;
} pv_param;

/** A loaded object during a dynamic run. */
typedef struct pv_object {
    char *path;     /**< path of the file mapped */
    uint64_t base;  /**< load bias: runtime address = link-time address + base */
    int is_target;  /**< 1 for the profiled executable */
} pv_object;

/** Executions of one block during a dynamic run. */
typedef struct pv_block_count {
    uint32_t object; /**< index into pv_dynamic.objects */
    uint64_t addr;   /**< link-time address within that object */
    uint32_t ninsns; /**< instructions in the executed block */
    uint64_t count;  /**< executions */
} pv_block_count;

/** Most cache levels a profile records per block (pv_block_cache.mr/mw). */
#define PV_CACHE_MAX_LEVELS 4

/**
 * Cache figures of one executed block (see pv_dynamic.block_cache), for the
 * levels of pv_dynamic.caches, L1d first. They are counts as measured: in
 * sampled mode only the measured windows count; scaling a level's figures
 * so that they add up to its whole-run pv_cache_stats.accesses (dr + dw)
 * and misses (mr + mw) gives per-block estimates.
 */
typedef struct pv_block_cache {
    uint64_t dr;                      /**< data reads simulated in the block */
    uint64_t dw;                      /**< data writes simulated in the block */
    uint64_t mr[PV_CACHE_MAX_LEVELS]; /**< read misses at level k (0 = L1d) */
    uint64_t mw[PV_CACHE_MAX_LEVELS]; /**< write misses at level k */
} pv_block_cache;

/** Statistics of one simulated cache level. */
typedef struct pv_cache_stats {
    char *name;        /**< "L1d", "L2", "L3" */
    uint64_t size;     /**< bytes */
    uint32_t line;     /**< line size, bytes */
    uint32_t assoc;    /**< ways */
    uint64_t accesses; /**< accesses simulated at this level */
    uint64_t misses;   /**< misses at this level */
    double sampled_fraction; /**< fraction of memory accesses simulated (1 = full) */
    /** Sampled mode: accesses and misses above are whole-run estimates, and
     *  this is the half-width of the 95% confidence interval of misses;
     *  0 when exact (full simulation), < 0 when unknown (fewer than two windows). */
    double misses_ci95;
} pv_cache_stats;

/** A refused system call and how often the guest attempted it. */
typedef struct pv_refused {
    char *name;     /**< e.g. "socket" */
    int32_t nr;     /**< x86-64 syscall number */
    uint64_t count;
} pv_refused;

/**
 * Simulated branch prediction over a dynamic run (the emulator replays
 * every executed branch through a predictor model, as cachegrind's
 * --branch-sim does). Present when pv_dynamic.has_branches is 1.
 */
typedef struct pv_branch_stats {
    char model[32];          /**< predictor simulated, e.g. "gshare-16k" */
    uint64_t cond;           /**< conditional branches executed */
    uint64_t cond_miss;      /**< of those, mispredicted (an estimate when sampled_fraction < 1) */
    uint64_t indirect;       /**< indirect jumps and calls executed (returns excluded) */
    uint64_t indirect_miss;  /**< of those, target mispredicted */
    double sampled_fraction; /**< fraction of the executed branches that were simulated (1 = all): cond and
                                  indirect are executed counts, the misses whole-run estimates when < 1 */
} pv_branch_stats;

/** Per-thread work. */
typedef struct pv_thread_stats {
    uint32_t tid;
    uint64_t insns;
} pv_thread_stats;

/** The dynamic section: what one emulated run measured. */
typedef struct pv_dynamic {
    uint32_t nargs;
    char **argv;             /**< command line of the run */
    uint32_t nparams;
    pv_param *params;        /**< named parameters (problem sizes) */
    uint64_t insns;          /**< total guest instructions, all objects */
    uint64_t target_insns;   /**< instructions in the target object */
    pv_mix64 mix;            /**< dynamic mix, all objects */
    pv_mix64 target_mix;     /**< dynamic mix, target object only */
    uint32_t nobjects;
    pv_object *objects;
    uint32_t ncounts;
    pv_block_count *counts;
    /* memory */
    uint64_t mem_peak;       /**< peak guest mapped memory, bytes */
    uint64_t mem_touched;    /**< bytes of distinct pages actually touched */
    uint64_t heap_peak;      /**< brk heap high-water mark, bytes */
    uint64_t stack_peak;     /**< deepest stack use, bytes */
    /* I/O */
    uint64_t io_bytes_read;
    uint64_t io_bytes_written;
    uint64_t io_files_opened;
    uint64_t syscalls;       /**< system calls made (allowed and refused) */
    uint32_t ncaches;
    pv_cache_stats *caches;
    uint32_t nrefused;
    pv_refused *refused;
    uint32_t nthreads;
    pv_thread_stats *threads;
    int32_t exit_code;       /**< guest exit status, when it exited */
    char *end_reason;        /**< "exit", "limit:insns", "limit:mem", "limit:time", "fault", ... */
    double emu_seconds;      /**< wall time of the emulation (informational, never compared) */
    int deterministic;       /**< 1 when run in deterministic mode */
    /** NULL, or ncounts entries: block_cache[i] holds the cache figures of
     *  counts[i] for the ncaches levels (ncaches <= PV_CACHE_MAX_LEVELS). */
    pv_block_cache *block_cache;
    int has_branches;        /**< 1 when @ref branches holds a branch simulation */
    pv_branch_stats branches;
} pv_dynamic;

/** A demand profile. Zero-initialize, or use pv_profile_new(). */
typedef struct pv_profile {
    int schema_version;      /**< PV_PROFILE_SCHEMA_VERSION when written by this library */
    char *generator;         /**< "prevision X.Y.Z" */
    char *uarch;             /**< microarchitecture the static cycle estimates are for */
    pv_target target;
    uint32_t nfiles;
    char **files;            /**< source file names referenced by pv_srcloc.file */
    uint32_t nfunctions;
    pv_function *functions;
    uint32_t nblocks;
    pv_block *blocks;
    uint32_t nloops;
    pv_loop *loops;
    uint32_t nlibraries;
    pv_library *libraries;
    pv_mix mix;              /**< static mix of the whole binary */
    uint64_t ninsns;         /**< static instruction count of the whole binary */
    uint64_t nundecoded;     /**< undecodable bytes in code */
    pv_dynamic *dynamic;     /**< NULL when no dynamic run */
    /** Source facts (libclang/LLVM IR pass): a jansson json_t* object or NULL.
     *  Kept as JSON because only the cost model reads it; validated by the schema. */
    void *source;
    /** Scaling models (fitted from several dynamic runs): jansson json_t* array or NULL. */
    void *scaling;
} pv_profile;

/** Allocate an empty profile. @return PV_OK or PV_ERR_NOMEM. Free with pv_profile_free(). */
int pv_profile_new(pv_profile **out);

/** Free a profile and everything it owns (pv_profile_new() or a reader made it). NULL is allowed. */
void pv_profile_free(pv_profile *p);

/** Free the contents of a dynamic section and the section itself. NULL is allowed. */
void pv_dynamic_free(pv_dynamic *d);

/**
 * Intern a source file name in p->files: the index of an equal name already
 * there, else a strdup() of @p name appended. p->files may have been sized
 * exactly (by the reader, or by code filling the profile): it is grown here.
 * @return its index, or PV_NONE on allocation failure (no detail recorded).
 */
uint32_t pv_profile_intern_file(pv_profile *p, const char *name);

/** @return the file name of @p loc, or NULL when it has none. */
const char *pv_profile_file(const pv_profile *p, pv_srcloc loc);

/**
 * Find the block that starts at link-time address @p addr (binary search;
 * blocks must be sorted by address, as the analyzer writes them).
 * @return its index or PV_NONE.
 */
uint32_t pv_profile_find_block(const pv_profile *p, uint64_t addr);

/**
 * Find the block containing link-time address @p addr: the one with
 * addr <= @p addr < addr + size (a block of size 0 holds its address alone).
 * Binary search; blocks must be sorted by address and not overlap, as the
 * analyzer writes them. @return its index or PV_NONE.
 */
uint32_t pv_profile_block_containing(const pv_profile *p, uint64_t addr);

/**
 * Find the function containing link-time address @p addr (functions sorted
 * by address). @return its index or PV_NONE.
 */
uint32_t pv_profile_find_function(const pv_profile *p, uint64_t addr);

/**
 * Serialize @p p to a JSON string.
 * @param p       profile to write
 * @param out     receives a malloc()ed NUL-terminated string; caller frees with free()
 * @param compact 1 for no indentation (large profiles), 0 for indented
 * @return PV_OK, PV_ERR_NOMEM, or PV_ERR_INVALID if @p p is inconsistent
 *         (an index out of range), with a detail message; *@p out is NULL
 *         on failure. The output is canonical: parsing it and writing again
 *         gives the same bytes.
 */
int pv_profile_to_string(const pv_profile *p, char **out, int compact);

/**
 * Write @p p to @p path atomically (temporary file + rename): on failure no
 * partial file is left and an existing file at @p path is untouched.
 * "-" writes to stdout.
 * @return PV_OK, PV_ERR_IO (with the path and errno text) or as pv_profile_to_string().
 */
int pv_profile_save(const pv_profile *p, const char *path, int compact);

/**
 * Parse a profile from a JSON string, validating it against the schema.
 * @param text   JSON text
 * @param len    its length
 * @param source name used in error messages (usually the file path)
 * @param out    receives the profile, NULL on failure; caller frees it with
 *               pv_profile_free()
 * @return PV_OK; PV_ERR_FORMAT for bad JSON, a field that breaks the schema
 *         (message: "SOURCE: $.blocks[3].addr: expected integer, got string"),
 *         an index out of range, unsorted blocks, or a value too large for
 *         its field; PV_ERR_VERSION for a schema_version this library cannot
 *         read; PV_ERR_NOMEM.
 */
int pv_profile_parse(const char *text, size_t len, const char *source, pv_profile **out);

/**
 * Load and validate a profile file ("-" reads stdin); messages name @p path.
 * @param out receives the profile, NULL on failure; free with pv_profile_free()
 * @return as pv_profile_parse(), or PV_ERR_IO / PV_ERR_NOTFOUND when the
 *         file cannot be read.
 */
int pv_profile_load(const char *path, pv_profile **out);

#ifdef __cplusplus
}
#endif
#endif
