/* Internal interfaces of the emulator module (prefix pve_). */
#ifndef PV_EMULATOR_INTERNAL_H
#define PV_EMULATOR_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <unicorn/unicorn.h>

#include "prevision/analyzer.h"
#include "prevision/emulator.h"

#include "branchsim.h"
#include "cachesim.h"
#include "sampling.h"

#define PVE_PAGE 4096ull
#define PVE_PAGE_DOWN(x) ((uint64_t)(x) & ~(PVE_PAGE - 1))
#define PVE_PAGE_UP(x) (((uint64_t)(x) + PVE_PAGE - 1) & ~(PVE_PAGE - 1))

#define PVE_LIKELY(x) __builtin_expect(!!(x), 1)
#define PVE_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------ */
/* ELF parsing (elf.c): pure functions over bytes, no Unicorn          */
/* ------------------------------------------------------------------ */

#define PVE_MAX_LOADS 16

typedef struct pve_seg {
    uint64_t vaddr, memsz, offset, filesz;
    uint32_t flags; /* PF_R/PF_W/PF_X */
} pve_seg;

typedef struct pve_elf {
    uint16_t type;       /* ET_EXEC or ET_DYN */
    uint64_t entry;      /* link-time */
    uint64_t phoff;
    uint16_t phnum;
    uint64_t phdr_vaddr; /* link-time address of the program headers, 0 when not loaded */
    uint32_t nloads;
    pve_seg loads[PVE_MAX_LOADS]; /* PT_LOAD segments in ascending vaddr order */
    uint64_t lo, hi;     /* page-aligned link-time span of the PT_LOADs */
    char interp[PATH_MAX]; /* PT_INTERP path, "" when none */
    uint64_t build_id_off, build_id_len; /* GNU build-id note descriptor in the file, 0 when none */
} pve_elf;

/* Parse and check an x86-64 ELF executable image (@p len bytes at @p data;
 * @p name for messages). Checks what loading relies on: header, class,
 * machine, type, program headers inside the file, PT_LOAD ranges that neither
 * overflow nor overlap, PT_INTERP NUL-terminated. Returns PV_OK,
 * PV_ERR_FORMAT (not ELF, truncated, corrupt: the detail names the field and
 * offset) or PV_ERR_UNSUPPORTED (another class/machine/type). */
int pve_elf_parse(const uint8_t *data, size_t len, const char *name, pve_elf *out);

/* The same on the first @p len bytes of a file of @p fsize bytes (PT_INTERP
 * and notes past them are skipped); records no error detail. */
int pve_elf_parse_headers(const uint8_t *data, size_t len, uint64_t fsize, pve_elf *out);

/* Link-time address of file offset @p off in an image described by @p elf,
 * or UINT64_MAX when no PT_LOAD maps it. */
uint64_t pve_elf_offset_to_vaddr(const pve_elf *elf, uint64_t off);

/* ------------------------------------------------------------------ */
/* Guest memory (mem.c)                                                */
/* ------------------------------------------------------------------ */

enum { PVE_VMA_ANON = 0, PVE_VMA_FILE, PVE_VMA_STACK, PVE_VMA_BRK };

typedef struct pve_vma {
    uint64_t start, end; /* guest [start, end), page-aligned */
    uint8_t *host;       /* host address of start */
    uint32_t prot;       /* guest PROT_* */
    uint16_t kind;       /* PVE_VMA_* */
    uint16_t shared;     /* MAP_SHARED anonymous (behaves as private: one process) */
    uint32_t obj;        /* object index for mappings of an ELF file, PV_NONE otherwise */
} pve_vma;

typedef struct pve_mem {
    pve_vma *v;
    size_t n, cap;
    size_t last; /* index of the last lookup hit */
    uint64_t mapped, peak;   /* current and peak accounted bytes (see mem.c) */
    uint64_t touched;        /* anonymous bytes touched in mappings already unmapped */
    uint64_t brk_start, brk_cur, brk_mapped, brk_max, brk_peak;
    uint8_t *brk_host;       /* host reservation behind the brk area */
    uint64_t stack_lo, stack_hi;
    uint64_t mmap_top;       /* top-down mmap allocation starts below this */
} pve_mem;

/* ------------------------------------------------------------------ */
/* Blocks (blocks.c)                                                   */
/* ------------------------------------------------------------------ */

/* 16 bytes, four to a cache line: the hot part of a block. */
typedef struct pve_slot {
    uint64_t key;    /* runtime address | size << 48; 0 = empty */
    uint64_t cw;     /* executions << PVE_CW_SHIFT | instructions */
} pve_slot;
#define PVE_CW_SHIFT 12 /* a translation block holds at most 512 instructions */
#define PVE_CW_NINSNS(cw) ((cw) & ((1u << PVE_CW_SHIFT) - 1))
#define PVE_CW_COUNT(cw) ((cw) >> PVE_CW_SHIFT)

enum {
    PVE_BLK_RETIRED = 1 << 0,    /* its code was unmapped: the slot is gone, the count is in retired */
};

typedef struct pve_binfo {
    uint64_t addr;      /* runtime */
    uint32_t size;
    uint32_t ninsns;
    uint32_t obj;       /* object index */
    uint32_t flags;
    uint64_t link;      /* link-time address within obj */
    uint64_t retired;   /* count carried over after retirement */
    pv_mix mix;         /* static mix of one execution */
} pve_binfo;

typedef struct pve_blocks {
    pve_slot *tab;
    uint32_t *tidx;     /* tidx[i]: index into info of tab[i] (cold, parallel to tab) */
    uint64_t mask;      /* capacity - 1 */
    uint32_t shift;     /* 64 - log2(capacity): the hash keeps the top bits */
    uint64_t used;
    pve_binfo *info;
    pve_cache_counts *cc;  /* per info entry, while a cache is simulated (NULL otherwise) */
    uint32_t ninfo, capinfo;
    pve_slot *cur;         /* the block running now (set by the hook; for the memory hook's attribution) */
    pv_decoder *dec;
    pve_branch_site *sites; /* per info entry: the branch the block ends with (branch simulation) */
    uint64_t *bmiss;        /* per info entry: mispredictions of that branch, as simulated (branch simulation) */
} pve_blocks;

/* No previous block (pv_emu.bprev): the next block's predecessor is unknown (start of a thread, of a
 * branch-simulation window). */
#define PVE_NO_BLOCK UINT32_MAX

/* ------------------------------------------------------------------ */
/* Files (syscall_fs.c, sandbox.c)                                     */
/* ------------------------------------------------------------------ */

enum { PVE_FD_FREE = 0, PVE_FD_HOST, PVE_FD_SINK, PVE_FD_NULL, PVE_FD_RANDOM, PVE_FD_DIR };

typedef struct pve_file {
    int refs;
    int kind;           /* PVE_FD_* */
    int host;           /* host fd for HOST and DIR kinds */
    int own;            /* 1: the host fd is ours to close */
    int writable;       /* opened for writing */
    int readable;
    int append;
    int stdio;          /* one of the standard descriptors the emulator set up */
    uint64_t pos, size; /* for SINK files */
    char *gpath;        /* guest path it was opened by (absolute, normalized), for *at() */
    char *hpath;        /* canonical host path */
} pve_file;

#define PVE_MAX_FDS 1024

typedef struct pve_fdslot {
    pve_file *f;
    int cloexec;
} pve_fdslot;

/* A resolved guest path. */
typedef struct pve_path {
    char guest[PATH_MAX]; /* absolute, normalized guest path */
    char host[PATH_MAX];  /* host path to use */
    int in_scratch;       /* 1: host is under the scratch directory (writable) */
    int special;          /* PVE_FD_NULL / PVE_FD_RANDOM for /dev/null, /dev/urandom; 0 otherwise */
} pve_path;

/* A policy refusal from the sandbox: the guest gets -EACCES and the call is counted as refused. */
#define PVE_REFUSED (-10000)

enum { PVE_ACC_READ = 1, PVE_ACC_WRITE = 2, PVE_ACC_CREATE = 4, PVE_ACC_STAT = 8 };

/* ------------------------------------------------------------------ */
/* Threads (thread.c)                                                  */
/* ------------------------------------------------------------------ */

enum { PVE_T_RUNNABLE = 0, PVE_T_FUTEX, PVE_T_EXITED, PVE_T_SLEEP };

typedef struct pve_thread {
    uint32_t tid;
    int state;
    uc_context *ctx;      /* saved registers while not running */
    uint64_t insns;
    uint64_t clear_tid;   /* CLONE_CHILD_CLEARTID / set_tid_address */
    uint64_t robust_list;
    uint64_t futex;       /* address waited on */
    uint32_t bitset;
    uint64_t wait_seq;    /* FIFO order of waiters */
    int64_t deadline;     /* monotonic ns of a futex timeout or the end of a sleep, -1 for none */
    uint64_t timeout_result; /* RAX when the deadline passes: -ETIMEDOUT for futexes, 0 for sleeps */
    int has_result;
    uint64_t result;      /* RAX to set when it runs again */
    uint32_t bprev;       /* branch simulation: info index of its last block, PVE_NO_BLOCK */
} pve_thread;

/* ------------------------------------------------------------------ */
/* The emulator                                                        */
/* ------------------------------------------------------------------ */

enum {
    PVE_STOP_NONE = 0,
    PVE_STOP_SWITCH,      /* the current thread yields the CPU (quantum, blocking, exit) */
    PVE_STOP_HOOKS,       /* a sampled cache window opens or closes: add or remove the memory hook */
    PVE_STOP_END,         /* the run is over: end_reason is set */
};

typedef struct pve_object {
    char *path;
    uint64_t base;
    int is_target;
} pve_object;

typedef struct pve_refused {
    uint32_t nr;
    const char *name;
    uint64_t count;
} pve_refused;

struct pv_emu {
    pv_emu_options opts;
    uc_engine *uc;
    uc_hook h_block, h_syscall, h_invalid, h_intr, h_mem;

    /* hot: the block hook reads these */
    pve_blocks blk;
    uint64_t icount;      /* guest instructions so far, all threads */
    uint64_t event_at;    /* the block hook takes its slow path once icount reaches this */
    uint64_t run_start;   /* icount when the current thread got the CPU */

    int stop;             /* PVE_STOP_* requested from a hook */
    int have_resume;      /* the block hook stopped before block resume_pc ran: continue there */
    uint64_t resume_pc;
    int trace;            /* log every system call (PREVISION_TRACE_SYSCALLS=1) */
    int ran;
    char end_reason[32];
    char end_msg[1024];
    int exit_code;
    int timed_out;        /* set by the watchdog thread (atomic accesses) */

    /* program */
    char *exe_path;       /* canonical host path of the program */
    char *exe_arg;        /* argv[0] as given */
    pve_elf *exe, *interp;
    char *interp_path;    /* canonical */
    uint64_t exe_base, interp_base, entry;
    pve_mem mem;
    pve_object *objs;
    uint32_t nobjs, capobjs;

    /* files and sandbox */
    char scratch[PATH_MAX];     /* canonical scratch directory */
    int made_scratch;
    char cwd[PATH_MAX];         /* guest working directory (the host cwd, overlaid by scratch) */
    char host_cwd[PATH_MAX];    /* canonical host working directory */
    char **allow;               /* canonical allowed read paths */
    size_t nallow;
    pve_fdslot fds[PVE_MAX_FDS];
    uint64_t io_read, io_written, files_opened, syscalls;

    pve_refused *refused;
    uint32_t nrefused, caprefused;

    /* threads */
    pve_thread **threads;
    uint32_t nthreads, capthreads;
    uint32_t cur;               /* index of the running thread */
    uint32_t next_tid;
    uint64_t wait_seq;
    uint32_t pid;
    uint64_t quantum;

    /* time and randomness */
    double t_start;             /* host monotonic seconds at run start */
    int64_t sleep_ns;           /* virtual time added by sleeps and timeouts (deterministic mode) */
    uint64_t rng;               /* splitmix64 state for deterministic random bytes */

    /* branch simulation (branchsim.h): every executed block tells the predictor where the previous
     * block of the same thread went */
    pve_branch *bsim;           /* NULL: off */
    int bs_on;                  /* the block hook feeds the simulator now (sampled mode: inside a window) */
    int hook_extra;             /* PVE_EXTRA_*: what the block hook does beyond counting (pve_blocks_extras) */
    int bs_counting;            /* the simulator counts now (measured part of a window, or always) */
    uint32_t bprev;             /* info index of the previous block of the running thread, PVE_NO_BLOCK */
    uint64_t bs_next;           /* sampled mode: icount at which the window phase changes next */
    uint64_t bs_period, bs_warmup, bs_measure; /* sampled mode: the window schedule (instructions) */
    int bs_split;               /* sampled mode: the first period (simulated in full) is over */
    pve_branch_stats bs_st0;    /* sampled mode: the counts of the first period */
    uint64_t *bmiss0;           /* sampled mode: per info entry, mispredictions of the first period */
    uint32_t nbmiss0;
    pv_emu_block_branch *brows; /* after the run: per row of the dynamic section's counts */
    uint32_t nbrows;

    /* cache simulation */
    pve_cache *cache;
    pve_sampler *sampler;
    int mem_hooked;             /* the memory hook is installed */
    int want_mem_hook;          /* what the sampler asks for; applied between uc_emu_start calls */
    int hook_zombie;            /* the memory hook was deleted: stop once more to flush its translations */
    uint64_t *born;             /* pages first touched since the memory hook went on (open addressing, page + 1) */
    uint32_t nborn;

    /* fault details */
    uint64_t fault_addr;
    int fault_type;
};

/* emu.c */
void pve_end(pv_emu *e, const char *reason, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pve_request_stop(pv_emu *e, int what);
uint32_t pve_object_add(pv_emu *e, const char *path, uint64_t base);
int64_t pve_now_ns(pv_emu *e, int realtime);

/* mem.c */
int pve_mem_init(pv_emu *e);
void pve_mem_fini(pv_emu *e);
pve_vma *pve_mem_find(pv_emu *e, uint64_t addr);
/* Map [addr, addr+len) (page-aligned) for the guest: anonymous zero memory,
 * or @p flen bytes of host fd @p fd from @p off followed by zeros. Replaces
 * whatever was mapped there. */
int pve_mem_map(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot, int kind, int fd, uint64_t off,
                uint64_t flen, uint32_t obj);
int pve_mem_unmap(pv_emu *e, uint64_t addr, uint64_t len);
int pve_mem_protect(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot);
/* Find a free gap of @p len bytes, at @p hint when free, else top-down. 0 when none. */
uint64_t pve_mem_find_free(pv_emu *e, uint64_t hint, uint64_t len);
int pve_mem_is_free(pv_emu *e, uint64_t addr, uint64_t len);
/* Host pointer for guest [addr, addr+len) when it lies in one mapping with
 * @p prot allowed (0: any), else NULL. */
void *pve_mem_ptr(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot);
/* Split guest [addr, addr+len) into host iovecs (at most @p max); returns
 * their count, or -EFAULT when part of the range is unmapped or lacks @p prot. */
int pve_mem_iov(pv_emu *e, uint64_t addr, uint64_t len, uint32_t prot, struct iovec *iov, int max);
int pve_mem_read(pv_emu *e, uint64_t addr, void *buf, size_t len);
int pve_mem_write(pv_emu *e, uint64_t addr, const void *buf, size_t len);
/* Copy a NUL-terminated guest string into @p buf (at most @p size bytes with
 * the NUL). 0, -EFAULT or -ENAMETOOLONG. */
int pve_mem_strcpy(pv_emu *e, uint64_t addr, char *buf, size_t size);
int64_t pve_mem_brk(pv_emu *e, uint64_t want);
int64_t pve_mem_mremap(pv_emu *e, uint64_t old, uint64_t oldlen, uint64_t newlen, int flags, uint64_t newaddr);
uint64_t pve_mem_touched(pv_emu *e);
uint64_t pve_mem_stack_depth(pv_emu *e);
/* Translations of guest code written by the host (read() into code) are stale: drop them. */
void pve_mem_host_wrote(pv_emu *e, uint64_t addr, uint64_t len);

/* loader.c */
int pve_load(pv_emu *e);

/* cache.c */
int pve_cache_setup(pv_emu *e);
void pve_cache_fini(pv_emu *e);
/* Install or remove the memory hook to match want_mem_hook (flushing translations). */
int pve_cache_apply_hooks(pv_emu *e);
int pve_cache_result(pv_emu *e, pv_dynamic *d, const uint32_t *row_of_info);

/* blocks.c */
int pve_blocks_init(pv_emu *e);
void pve_blocks_fini(pv_emu *e);
void pve_hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);
void pve_blocks_event(pv_emu *e);
void pve_blocks_retire(pv_emu *e, uint64_t lo, uint64_t hi);
/* Fill the counts, totals and mixes of @p d; *row_of_info receives, per block info entry, its
 * row in d->counts or PV_NONE (malloc()ed: free it). */
int pve_blocks_result(pv_emu *e, pv_dynamic *d, uint32_t **row_of_info);
/* What the block hook does beyond counting (pv_emu.hook_extra), recomputed by pve_blocks_extras()
 * whenever the branch simulation's window or the cache's counting changes. */
enum { PVE_EXTRA_BRANCH = 1, PVE_EXTRA_CACHE = 2 };
void pve_blocks_extras(pv_emu *e);
/* Branch simulation: create the simulator for @p mode (pv_emu_branch_mode, resolved). */
int pve_branch_setup(pv_emu *e, int mode);
/* Fill d->branches and e->brows (per row of d->counts) from the simulation. */
int pve_blocks_branch_result(pv_emu *e, pv_dynamic *d, const uint32_t *row_of_info);
/* Executions of every block info entry over the run (retired ones included); malloc()ed, NULL when
 * out of memory. */
uint64_t *pve_blocks_counts(pv_emu *e);
/* Index into info of the block in slot @p s. */
uint32_t pve_blocks_info_of(pv_emu *e, const pve_slot *s);

/* syscall.c */
void pve_hook_syscall(uc_engine *uc, void *ud);
void pve_random_bytes(pv_emu *e, void *buf, size_t n);
void pve_refuse(pv_emu *e, uint64_t nr);
const char *pve_syscall_name(uint64_t nr);

/* syscall_fs.c */
int pve_fs_init(pv_emu *e);
void pve_fs_fini(pv_emu *e);
/* Returns 1 when it handled @p nr (result in *ret), 0 when @p nr is not a file syscall. */
int pve_fs_syscall(pv_emu *e, uint64_t nr, const uint64_t *a, int64_t *ret);
pve_file *pve_fs_get(pv_emu *e, int fd);

/* sandbox.c */
int pve_sandbox_init(pv_emu *e);
/* Normalize @p path relative to @p base (an absolute guest directory) into
 * @p out (absolute, no "." or ".." or repeated '/'). 0 or -ENAMETOOLONG. */
int pve_path_normalize(const char *base, const char *path, char *out, size_t size);
/* Resolve a guest path for an access (PVE_ACC_*). Returns 0 with @p out
 * filled, or a negative errno: -EACCES when the sandbox refuses it. */
int pve_sandbox_resolve(pv_emu *e, int dirfd, const char *path, int access, pve_path *out);
/* Is host path @p host (canonical) readable under the policy? */
int pve_sandbox_readable(pv_emu *e, const char *host);

/* thread.c */
int pve_threads_init(pv_emu *e);
void pve_threads_fini(pv_emu *e);
int64_t pve_sys_clone(pv_emu *e, const uint64_t *a);
int64_t pve_sys_futex(pv_emu *e, const uint64_t *a);
void pve_thread_exit(pv_emu *e, int group, int code);
int pve_futex_wake(pv_emu *e, uint64_t addr, int n, uint32_t bitset);
/* Put the running thread to sleep until monotonic time @p deadline (ns); it gets the CPU back then. */
void pve_thread_sleep(pv_emu *e, int64_t deadline);
/* Called after uc_emu_start returned with a switch request: save the
 * current thread, pick the next runnable one and load it. Returns 0, or -1
 * when no thread can run (the run ends: deadlock or all exited). */
int pve_schedule(pv_emu *e);
void pve_thread_account(pv_emu *e);

/* symbols.c */
/* Name @p addr (runtime) of the guest for messages: "in OBJECT (FILE:LINE)". */
void pve_describe_addr(pv_emu *e, uint64_t addr, char *buf, size_t size);

#endif
