/**
 * @file analyzer.h
 * @brief the binary analyzer: ELF (libelf), x86-64 decoding into mix classes (Capstone), CFG, loops, call graph, DWARF lines (libdw), library usage, static cycle estimates.
 *
 * Three layers, usable separately:
 *  - the decoder (pv_decoder, pv_decode_insn): one x86-64 instruction at a
 *    time into its mix class, memory operations and control flow. The
 *    emulator uses it once per translated block; it never touches files.
 *  - the microarchitecture tables (pv_uarch): per-class latency and
 *    throughput, ports, issue width; built in (pv_uarch_find) or filled by
 *    the cost model from measurements, and the block cycle bound.
 *  - the whole-binary analysis (pv_analyze_binary): ELF, functions, CFG,
 *    loops, call graph, source lines, libraries, into a pv_profile.
 */
#ifndef PREVISION_ANALYZER_H
#define PREVISION_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "prevision/error.h"
#include "prevision/log.h"
#include "prevision/mix.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Decoder                                                             */
/* ------------------------------------------------------------------ */

/** A decoder: wraps one Capstone handle. Not thread-safe: one per thread. */
typedef struct pv_decoder pv_decoder;

/** Control-flow kind of an instruction (pv_insn.flow). */
typedef enum pv_flow {
    PV_FLOW_NONE = 0,  /**< falls through to the next instruction */
    PV_FLOW_COND,      /**< conditional branch (jcc, jrcxz, loop); target in pv_insn.target */
    PV_FLOW_JUMP,      /**< direct unconditional jump; target in pv_insn.target */
    PV_FLOW_IJUMP,     /**< indirect jump (register or memory) */
    PV_FLOW_CALL,      /**< direct call; target in pv_insn.target */
    PV_FLOW_ICALL,     /**< indirect call */
    PV_FLOW_RET,       /**< return (ret, iret) */
    PV_FLOW_SYSCALL,   /**< syscall, sysenter, int N: continues after the kernel returns */
    PV_FLOW_HALT,      /**< hlt, ud2, int3: execution does not continue */
    PV_FLOW_NKINDS
} pv_flow;

/** pv_insn.cls when the instruction has no compute class (a pure load or store move, push/pop). */
#define PV_INSN_NOCLASS 0xff

/** pv_insn.flags. */
enum {
    PV_INSN_TCG_UNSUPPORTED = 1 << 0, /**< AVX/AVX2/AVX-512/FMA/F16C/XOP: Unicorn's TCG cannot execute it; pv_insn.ext names the group */
    PV_INSN_LOCK = 1 << 1,            /**< lock prefix (or xchg with memory): atomic */
    PV_INSN_REP = 1 << 2,             /**< rep/repe prefix on a string instruction */
    PV_INSN_REPNE = 1 << 3,           /**< repne prefix on a string instruction */
    PV_INSN_STRING = 1 << 4,          /**< string instruction (movs/stos/lods/cmps/scas/ins/outs) */
    PV_INSN_MEM_TARGET = 1 << 5,      /**< indirect jump/call through a memory operand */
    PV_INSN_NOP = 1 << 6,             /**< nop, endbr, or another instruction without effect on data */
    PV_INSN_MOVE_ELIM = 1 << 7,       /**< a register-to-register move the core eliminates at rename (mov r64,r64
                                           or r32,r32 between two different general-purpose registers; movaps,
                                           movapd, movups, movupd, movdqa, movdqu and their VEX forms between two
                                           different xmm or ymm registers): an issue slot, no execution port, no
                                           latency on Zen and on Intel since Ivy Bridge. Its class stays what it
                                           was (int_alu, simd_*) */
};

/** One decoded instruction. Plain data; no pointers into the decoder except ext (static). */
typedef struct pv_insn {
    uint64_t addr;          /**< address it was decoded at */
    uint64_t target;        /**< direct branch/call target, 0 when none */
    uint32_t bytes_loaded;  /**< bytes read from memory by one execution (for rep string ops: one element) */
    uint32_t bytes_stored;  /**< bytes written to memory by one execution (rep: one element) */
    uint16_t flags;         /**< PV_INSN_* */
    uint16_t id;            /**< Capstone instruction id (x86_insn), for callers that need it; 0 if undecodable */
    uint8_t size;           /**< length in bytes (1..15) */
    uint8_t cls;            /**< compute class (pv_mix_class) or PV_INSN_NOCLASS */
    uint8_t flow;           /**< pv_flow */
    uint8_t nloads;         /**< 0 or 1: the instruction reads memory */
    uint8_t nstores;        /**< 0 or 1: the instruction writes memory */
    uint8_t str_elem;       /**< element size of a string instruction (1, 2, 4, 8), else 0 */
    uint16_t vec_bits;      /**< widest vector register/operand: 0, 64 (MMX), 128, 256 or 512 */
    const char *ext;        /**< for PV_INSN_TCG_UNSUPPORTED: "AVX", "AVX2", "AVX-512", "FMA", "F16C", "XOP"; else NULL */
    char text[64];          /**< "vfmadd231pd ymm0, ymm1, ymm2" (Intel syntax, truncated) when the decoder was created with text on, else "" */
} pv_insn;

/** Options of pv_decoder_new(). */
typedef struct pv_decoder_options {
    int version; /**< PV_DECODER_OPTIONS_VERSION */
    int text;    /**< 1: fill pv_insn.text (default); 0: leave it empty (faster) */
} pv_decoder_options;
#define PV_DECODER_OPTIONS_VERSION 1
#define PV_DECODER_OPTIONS_INIT {PV_DECODER_OPTIONS_VERSION, 1}

/**
 * Create an x86-64 decoder.
 * @param out  receives the decoder (NULL on failure); free with pv_decoder_free()
 * @param opts options, or NULL for the defaults
 * @return PV_OK, PV_ERR_NOMEM, PV_ERR_INVALID (bad options version) or
 *         PV_ERR_BACKEND when Capstone cannot be opened.
 */
int pv_decoder_new(pv_decoder **out, const pv_decoder_options *opts);

/** Free a decoder. NULL is allowed. */
void pv_decoder_free(pv_decoder *d);

/**
 * Decode the one instruction at @p code (@p len bytes available, at guest
 * address @p addr) and classify it (see mix.h for the counting convention).
 * @return PV_OK with @p out filled; PV_ERR_FORMAT when the bytes are not a
 *         valid x86-64 instruction (or @p len is too short for it): the detail
 *         names the address and bytes, @p out->size is 0 and @p out->cls is
 *         PV_INSN_NOCLASS; PV_ERR_INVALID for NULL arguments.
 */
int pv_decode_insn(pv_decoder *d, const uint8_t *code, size_t len, uint64_t addr, pv_insn *out);

/**
 * Add one execution of @p in to @p mix: its compute class (if any), one
 * load and/or one store op, and the bytes moved. For rep string
 * instructions this counts one element; scale by the iteration count
 * (bytes_loaded * n) yourself if you know it.
 */
void pv_insn_add_to_mix(const pv_insn *in, pv_mix *mix);

/** @return a static name of a pv_flow ("none", "cond", "jump", "ijump", "call", "icall", "ret", "syscall", "halt"), or NULL. */
const char *pv_flow_name(pv_flow f);

/* ------------------------------------------------------------------ */
/* Microarchitecture tables                                             */
/* ------------------------------------------------------------------ */

/** Most port groups a pv_uarch may define. */
#define PV_UARCH_MAX_GROUPS 8

/** A group of equivalent execution ports (e.g. the integer ALUs). */
typedef struct pv_uarch_group {
    char name[16]; /**< "int", "fp", "branch"... */
    float units;   /**< ports in the group (informational; throughputs below already account for it) */
} pv_uarch_group;

/**
 * Static cost figures of one microarchitecture, per mix class.
 * A plain struct: the cost model fills one from measurements and passes it
 * in pv_analyze_options.uarch. Block bound (Facile/uiCA style), in cycles:
 *   max( ninsns / issue_width,
 *        for each group g: sum over classes c in g of n[c] * rthroughput[c],
 *        n[LOAD] / load_ports, n[STORE] / store_ports )
 * and for a loop, also the loop-carried dependency chain built from
 * latency[] (plus load_latency through address registers).
 */
typedef struct pv_uarch {
    int version;                           /**< PV_UARCH_VERSION */
    char name[32];                         /**< "zen4", "skylake", or the cost model's name */
    char description[96];                  /**< one line */
    float issue_width;                     /**< sustained instructions (macro-ops) issued per cycle */
    float load_ports;                      /**< loads per cycle */
    float store_ports;                     /**< stores per cycle */
    float load_latency;                    /**< L1 hit load-to-use latency, cycles */
    float latency[PV_MIX_NCLASSES];        /**< cycles from inputs to result, per class */
    float rthroughput[PV_MIX_NCLASSES];    /**< reciprocal throughput: cycles per op of that class on its group */
    uint8_t group[PV_MIX_NCLASSES];        /**< index into groups[] of the ports each class runs on */
    uint32_t ngroups;
    pv_uarch_group groups[PV_UARCH_MAX_GROUPS];
} pv_uarch;
#define PV_UARCH_VERSION 1

/**
 * Find a built-in microarchitecture by name ("zen4", "zen5", "skylake";
 * case-insensitive).
 * @return a static table, or NULL with PV_ERR_NOTFOUND recorded (the detail
 *         lists the known names).
 */
const pv_uarch *pv_uarch_find(const char *name);

/** @return the built-in table closest to the host CPU (CPUID vendor/family/model); never NULL. */
const pv_uarch *pv_uarch_host(void);

/** @return the number of built-in tables; pv_uarch_at(i) for i below it returns each. */
size_t pv_uarch_count(void);

/** @return the @p i-th built-in table, or NULL when out of range. */
const pv_uarch *pv_uarch_at(size_t i);

/**
 * Static cycle estimate of one execution of straight-line code with mix
 * @p mix and @p ninsns instructions on @p u: the maximum of the issue,
 * port-group, load-port and store-port bounds (no dependencies).
 * @return cycles (0 for an empty mix), or 0 when @p u is NULL.
 */
float pv_uarch_block_cycles(const pv_uarch *u, const pv_mix *mix, uint32_t ninsns);

/**
 * pv_uarch_block_cycles() for code of which @p nmoves instructions are
 * general-purpose register moves the core eliminates at rename
 * (PV_INSN_MOVE_ELIM with class int_alu; pv_block.moves): they are counted
 * in @p ninsns and in mix->n[PV_MIX_INT_ALU], take an issue slot (the issue
 * bound keeps them) but no ALU port (the int_alu class's port-group bound
 * leaves them out). @p nmoves above mix->n[PV_MIX_INT_ALU] counts as
 * mix->n[PV_MIX_INT_ALU]; with @p nmoves 0 it is pv_uarch_block_cycles().
 * The result is never below ninsns / issue_width.
 * @return cycles (0 for an empty mix), or 0 when @p u is NULL.
 */
float pv_uarch_block_cycles_moves(const pv_uarch *u, const pv_mix *mix, uint32_t ninsns, uint32_t nmoves);

/* ------------------------------------------------------------------ */
/* Whole-binary analysis                                               */
/* ------------------------------------------------------------------ */

/** Options of pv_analyze_binary(). */
typedef struct pv_analyze_options {
    int version;              /**< PV_ANALYZE_OPTIONS_VERSION */
    const pv_uarch *uarch;    /**< cost table for block/loop cycles; NULL: pv_uarch_host(). Not copied: must outlive the call */
    int nthreads;             /**< worker threads; 0: one per online CPU */
    int no_lines;             /**< 1: skip DWARF line lookup */
    pv_progress_fn progress;  /**< optional progress callback ("functions", done, total), called from the calling thread only */
    void *progress_ud;        /**< passed to @p progress */
} pv_analyze_options;
#define PV_ANALYZE_OPTIONS_VERSION 1
#define PV_ANALYZE_OPTIONS_INIT {PV_ANALYZE_OPTIONS_VERSION, NULL, 0, 0, NULL, NULL}

/**
 * Analyze an x86-64 ELF file (executable, PIE, shared library or static
 * binary) into a static demand profile: target, functions (from .symtab /
 * .dynsym, or discovered from the entry point, call targets and
 * .eh_frame_hdr when stripped), PLT stubs resolved to imports and their
 * libraries, basic blocks sorted by address with CFG edges and cycle
 * estimates, natural loops with nesting, call graph, DWARF source lines,
 * library groups and instruction mixes.
 * @param path ELF file (mapped read-only during the call)
 * @param opts options, or NULL for the defaults
 * @param out  receives the profile (NULL on failure); caller frees it with
 *             pv_profile_free()
 * @return PV_OK; PV_ERR_NOTFOUND / PV_ERR_IO when the file cannot be read
 *         (a directory, not a regular file); PV_ERR_FORMAT for a file that
 *         is not ELF or is corrupt or truncated (the detail names the field
 *         and its file offset); PV_ERR_UNSUPPORTED for valid ELF of another
 *         class or machine, a relocatable object or one without section
 *         headers; PV_ERR_LIMIT for more functions, blocks or loops than a
 *         profile holds (2^32 - 1); PV_ERR_INVALID for NULL arguments or an
 *         options version this library does not know; PV_ERR_NOMEM.
 */
int pv_analyze_binary(const char *path, const pv_analyze_options *opts, pv_profile **out);

/**
 * pv_analyze_binary() on an ELF image already in memory (@p len bytes at
 * @p data, not modified, must stay valid during the call); @p name is the
 * path used in messages and in target.path. The fuzz target's entry point.
 * @return as pv_analyze_binary().
 */
int pv_analyze_memory(const void *data, size_t len, const char *name, const pv_analyze_options *opts,
                      pv_profile **out);

/**
 * Hex SHA-256 of @p len bytes (FIPS 180-4) into @p hex (65 bytes, NUL-terminated).
 * Cannot fail; thread-safe.
 */
void pv_sha256_hex(const void *data, size_t len, char hex[65]);

/** @return the pv_libgroup of a library soname ("libm.so.6" -> PV_LIBGROUP_LIBM); PV_LIBGROUP_OTHER when unknown. */
pv_libgroup pv_libgroup_of_soname(const char *soname);

/**
 * @return the pv_libgroup an imported symbol name points to regardless of its
 * library ("pthread_create" -> PTHREADS, "GOMP_parallel" -> OPENMP,
 * "cblas_dgemm" -> BLAS), or -1 when the name says nothing.
 */
int pv_libgroup_of_symbol(const char *name);

#ifdef __cplusplus
}
#endif
#endif
