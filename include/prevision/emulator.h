/**
 * @file emulator.h
 * @brief The sandboxed Unicorn user-mode Linux x86-64 profiler: loader,
 * syscall layer and sandbox, guest threads, block counting, memory and I/O
 * measurement.
 *
 * One pv_emu runs one program once, the way qemu-user does: the ELF
 * executable (static or dynamic, PIE or not) and, for a dynamic one, its
 * PT_INTERP loader are mapped into a Unicorn x86-64 engine, and the loader
 * maps the libraries through emulated system calls. Every system call goes
 * through an allowlist: files are read-only (the program, its loader and
 * libraries, and paths given in pv_emu_options.allow_read); the guest writes
 * only under a per-run scratch directory; sockets, exec, fork, ptrace and
 * everything not on the list are refused and counted. Threads created with
 * clone(CLONE_VM|CLONE_THREAD) run one at a time on the one engine, switched
 * deterministically. A block hook counts executions of every translated
 * block; the result is a pv_dynamic (profile.h).
 *
 * Conventions (docs/emulator.md has the details and the measurements):
 *  - CPU: Unicorn's "qemu64" model (UC_CPU_X86_QEMU64): SSE, SSE2, SSE3,
 *    CX16, no SSSE3/SSE4/AVX, no ERMS, so glibc's ifuncs pick their SSE2
 *    variants. An instruction the engine cannot execute (AVX and later)
 *    ends the run with end_reason "unsupported".
 *  - Caches (pv_emu_options.cache): a set-associative LRU simulator of the
 *    data caches fed by Unicorn memory hooks, for the whole run or in
 *    sampled windows; the hooks put every guest load and store on Unicorn's
 *    slow path, so they are installed only while a window is open (with a
 *    translation-cache flush at each boundary). The dynamic section then
 *    has per-level statistics and per-block figures (pv_dynamic.caches,
 *    block_cache).
 *  - Instruction counts follow valgrind's callgrind: every executed
 *    instruction counts one, and a rep-prefixed string instruction counts
 *    one per iteration plus one for the final check that finds the count
 *    exhausted (n+1 for n > 0 iterations, 1 for none; a repe/repne
 *    compare stopped by its condition counts its iterations), which is
 *    how QEMU's translation executes them.
 */
#ifndef PREVISION_EMULATOR_H
#define PREVISION_EMULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "prevision/error.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An emulated run. Not thread-safe; one per thread. */
typedef struct pv_emu pv_emu;

/** A host file descriptor value meaning "discard the guest's output" / "empty input". */
#define PV_EMU_FD_NONE (-1)

/** Data-cache simulation during a run (pv_emu_options.cache). */
typedef enum pv_emu_cache_mode {
    PV_EMU_CACHE_OFF = 0,     /**< no simulation: block counting at full speed */
    PV_EMU_CACHE_FULL = 1,    /**< every load and store goes through the simulated hierarchy */
    PV_EMU_CACHE_SAMPLED = 2, /**< periodic windows (SMARTS style): warm-up, then measured; extrapolated */
} pv_emu_cache_mode;

/** Geometry of one simulated cache level. */
typedef struct pv_emu_cache_level {
    char name[8];   /**< "L1d", "L2", "L3" */
    uint64_t size;  /**< bytes: a multiple of line * assoc */
    uint32_t line;  /**< line size, a power of two */
    uint32_t assoc; /**< ways; 0: fully associative */
} pv_emu_cache_level;

/** Options of pv_emu_new(). Initialize with PV_EMU_OPTIONS_INIT. */
typedef struct pv_emu_options {
    int version;                   /**< PV_EMU_OPTIONS_VERSION */
    int argc;                      /**< number of arguments in @ref argv (at least 1) */
    const char *const *argv;       /**< argv[0] is the program: a path to an x86-64 ELF executable */
    const char *const *envp;       /**< NULL-terminated guest environment; NULL: the default clean one
                                        (PATH=/usr/bin:/bin, HOME=<scratch>, TMPDIR=<scratch>, LANG=C) */
    size_t nallow_read;            /**< number of entries in @ref allow_read */
    const char *const *allow_read; /**< files or directories the guest may read (recursively for directories) */
    const char *scratch_dir;       /**< existing directory for the guest's writes; NULL: a new one from mkdtemp */
    int keep_scratch;              /**< 1: do not remove the scratch directory created by pv_emu_new */
    int discard_writes;            /**< 1: files the guest creates or writes accept and count the bytes, store nothing */
    int stdin_fd;                  /**< host fd the guest's fd 0 reads; PV_EMU_FD_NONE: empty input. Not closed */
    int stdout_fd;                 /**< host fd the guest's fd 1 writes; PV_EMU_FD_NONE: discarded. Not closed */
    int stderr_fd;                 /**< host fd the guest's fd 2 writes; PV_EMU_FD_NONE: discarded. Not closed */
    uint64_t max_insns;            /**< stop after this many guest instructions; 0: no limit */
    uint64_t max_mem;              /**< stop when guest mapped memory would exceed this many bytes; 0: no limit */
    double timeout;                /**< stop after this many wall-clock seconds; 0: no limit */
    int deterministic;             /**< 1: fixed clock, random bytes, pid and tids: identical runs give identical profiles */
    uint64_t quantum;              /**< instructions a guest thread runs before the next one gets the CPU; 0: 100000 */
    int ncpus;                     /**< CPUs the guest sees (sched_getaffinity); 0: the host's online CPUs */
    uint32_t nparams;              /**< number of @ref params */
    const pv_param *params;        /**< named parameters copied into the dynamic section */
    int cache;                     /**< pv_emu_cache_mode */
    uint32_t cache_nlevels;        /**< levels in @ref cache_levels, L1d first; 0: built-in defaults
                                        (48 KiB 12-way, 1 MiB 16-way, 32 MiB 16-way, 64-byte lines) */
    pv_emu_cache_level cache_levels[PV_CACHE_MAX_LEVELS];
    uint64_t sample_period;        /**< sampled mode: a window every this many instructions; 0: 10000000 */
    uint64_t sample_warmup;        /**< sampled mode: warm-up instructions at the start of a window; 0: 500000 */
    uint64_t sample_measure;       /**< sampled mode: measured instructions after the warm-up; 0: 200000 */
} pv_emu_options;

#define PV_EMU_OPTIONS_VERSION 1
#define PV_EMU_OPTIONS_INIT                                                                            \
    {                                                                                                  \
        .version = PV_EMU_OPTIONS_VERSION, .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2               \
    }

/**
 * Load a program for emulation: read and check the executable and its
 * PT_INTERP loader, create the Unicorn engine, the scratch directory and the
 * initial stack. Nothing runs yet.
 * @param out  receives the emulator; free with pv_emu_free()
 * @param opts options (copied; the strings must stay valid until pv_emu_free())
 * @return PV_OK; PV_ERR_NOTFOUND when the program does not exist;
 *         PV_ERR_IO when it cannot be read; PV_ERR_FORMAT for a file that is
 *         not ELF or is truncated or corrupt (the detail names the offset or
 *         field); PV_ERR_UNSUPPORTED for valid ELF the emulator does not run
 *         (another machine or class, a shared library); PV_ERR_INVALID for
 *         bad options (for a cache geometry the simulator rejects, the detail
 *         names the level and field); PV_ERR_BACKEND when Unicorn fails;
 *         PV_ERR_NOMEM.
 */
int pv_emu_new(pv_emu **out, const pv_emu_options *opts);

/**
 * Run the program to its end: its exit, a limit, a fault, or an instruction
 * the engine cannot execute. Can be called once per pv_emu.
 * @param emu the emulator
 * @param out receives the dynamic section of what ran (also when a limit or a
 *            fault ended the run: see its end_reason, "exit", "limit:insns",
 *            "limit:mem", "limit:time", "fault", "signal", "unsupported",
 *            "deadlock"); caller frees with pv_dynamic_free()
 * @return PV_OK whenever @p out was filled; PV_ERR_INVALID when called twice;
 *         PV_ERR_BACKEND or PV_ERR_NOMEM when the emulator itself failed.
 */
int pv_emu_run(pv_emu *emu, pv_dynamic **out);

/**
 * @return one line saying how the run ended, e.g. "the program exited with
 * status 0" or "AVX2 instruction 'vpaddd ymm0, ymm1, ymm2' at 0x401136 in
 * /tmp/avx (avx.c:7): the emulator cannot execute AVX; rebuild for the
 * x86-64 baseline (-march=x86-64)"; "" before pv_emu_run(). Owned by @p emu.
 */
const char *pv_emu_end_message(const pv_emu *emu);

/** @return the canonical path of the program being run (owned by @p emu). */
const char *pv_emu_program(const pv_emu *emu);

/** @return the scratch directory of the run (owned by @p emu). */
const char *pv_emu_scratch_dir(const pv_emu *emu);

/**
 * Describe the program as a profile target (path, arch, kind, entry,
 * build-id), for a profile without the analyzer's static section. The
 * strings are malloc()ed and owned by @p t afterwards (pv_profile_free()
 * frees them when @p t is a profile's target).
 * @return PV_OK or PV_ERR_NOMEM.
 */
int pv_emu_target(const pv_emu *emu, pv_target *t);

/** Free an emulator and remove the scratch directory it created (unless keep_scratch). NULL is allowed. */
void pv_emu_free(pv_emu *emu);

/* ------------------------------------------------------------------ */
/* Naming addresses of a dynamic run                                   */
/* ------------------------------------------------------------------ */

/** Symbol tables and line tables of the objects of a dynamic run, read on demand. */
typedef struct pv_emu_symbols pv_emu_symbols;

/**
 * Prepare to name addresses in the objects of @p d (which must outlive the
 * handle). Files are opened lazily, on the first lookup in each object.
 * @return PV_OK or PV_ERR_NOMEM.
 */
int pv_emu_symbols_new(pv_emu_symbols **out, const pv_dynamic *d);

/**
 * Name link-time address @p addr of object @p object: the function symbol
 * containing it (from .symtab, else .dynsym) and, when the object has DWARF
 * line tables, its source file and line.
 * @param func    receives the function name or NULL (owned by @p s)
 * @param offset  receives addr - function start (may be NULL)
 * @param file    receives the source file name or NULL (owned by @p s; may be NULL)
 * @param line    receives the line or 0 (may be NULL)
 * @return PV_OK when a function was found, PV_ERR_NOTFOUND otherwise.
 */
int pv_emu_symbols_lookup(pv_emu_symbols *s, uint32_t object, uint64_t addr, const char **func,
                          uint64_t *offset, const char **file, uint32_t *line);

/** Free a symbolizer. NULL is allowed. */
void pv_emu_symbols_free(pv_emu_symbols *s);

#ifdef __cplusplus
}
#endif
#endif
