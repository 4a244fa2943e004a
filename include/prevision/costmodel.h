/**
 * @file costmodel.h
 * @brief the hardware model: hwloc topology, PAPI/timer calibration, machine model files, runtime prediction.
 *
 * Three layers, each usable on its own:
 *  - the topology (pv_topology): what hwloc sees (packages, cores, PUs,
 *    caches, NUMA nodes, PCI/OS devices) plus CPUID identity and the
 *    microarchitecture name the analyzer's --uarch understands;
 *  - the machine model (pv_machine): the topology plus calibrated figures
 *    (per mix class latency/throughput, memory latency and bandwidth per
 *    level, warm-up costs), each with min/median/max over repetitions and
 *    the method that produced it; stored as JSON described by
 *    docs/schema/machine.schema.json;
 *  - prediction (pv_predict): host run time of a profile with a dynamic
 *    section, as a breakdown with a low/high interval.
 */
#ifndef PREVISION_COSTMODEL_H
#define PREVISION_COSTMODEL_H

#include <stdint.h>

#include "prevision/error.h"
#include "prevision/log.h"
#include "prevision/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Topology                                                            */
/* ------------------------------------------------------------------ */

/** One cache level as hwloc reports it (one entry per level and type). */
typedef struct pv_topo_cache {
    char name[8];       /**< "L1d", "L1i", "L2", "L3" ... */
    uint32_t level;     /**< 1, 2, 3 ... */
    char type[12];      /**< "data", "instruction" or "unified" */
    uint64_t size;      /**< bytes per instance */
    uint32_t line;      /**< line size in bytes, 0 when unknown */
    int32_t assoc;      /**< ways; -1 fully associative; 0 unknown */
    uint32_t count;     /**< instances in the machine */
    uint32_t shared_by; /**< PUs sharing one instance */
} pv_topo_cache;

/** One NUMA node. */
typedef struct pv_topo_numa {
    uint32_t os_index;  /**< the OS's node number */
    uint64_t memory;    /**< local memory, bytes */
    uint32_t npus;      /**< PUs attached */
} pv_topo_numa;

/** One PCI or OS device hwloc sees. */
typedef struct pv_topo_device {
    char kind[12];      /**< "gpu", "fpga", "nic", "disk", "coproc", "dma", "other" */
    char name[64];      /**< OS name ("eth0", "vda", "card0") or PCI class text */
    char busid[16];     /**< PCI bus id "0000:00:02.0", "" when not on PCI */
    uint32_t vendor_id; /**< PCI vendor id, 0 when unknown */
    uint32_t device_id; /**< PCI device id, 0 when unknown */
    uint64_t size;      /**< disks: bytes, else 0 */
} pv_topo_device;

/** The machine's topology. Fixed-size arrays keep it a plain value. */
typedef struct pv_topology {
    uint32_t npackages, ncores, npus;
    uint32_t ncaches;
    pv_topo_cache caches[8];   /**< by level, data/unified before instruction */
    uint32_t nnuma;
    pv_topo_numa numa[64];
    uint64_t memory;           /**< total memory, bytes */
    uint32_t ndevices;
    pv_topo_device devices[32];
    char cpu_vendor[16];       /**< "AuthenticAMD", "GenuineIntel", "" when unknown */
    char cpu_model[80];        /**< brand string */
    int32_t cpu_family;        /**< CPUID display family, -1 when unknown */
    int32_t cpu_model_number;  /**< CPUID display model, -1 when unknown */
    int32_t cpu_stepping;      /**< -1 when unknown */
    char uarch[24];            /**< analyzer --uarch name: "zen5", "skylake"..., "generic" */
    char source[16];           /**< "host", "synthetic" or "xml" */
} pv_topology;

/** How to build a topology. */
typedef struct pv_topology_options {
    int version;               /**< PV_TOPOLOGY_OPTIONS_VERSION */
    const char *synthetic;     /**< hwloc synthetic description, or NULL */
    const char *xml;           /**< hwloc XML file, or NULL */
    int io_devices;            /**< 1: also list PCI/OS devices */
} pv_topology_options;
#define PV_TOPOLOGY_OPTIONS_VERSION 1
#define PV_TOPOLOGY_OPTIONS_INIT {PV_TOPOLOGY_OPTIONS_VERSION, NULL, NULL, 1}

/**
 * Read the topology of this host (default), a synthetic description or an
 * XML file with hwloc. For the host the CPU identity comes from CPUID;
 * for synthetic/XML topologies from the package's info attributes when
 * present (CPUVendor, CPUFamilyNumber, CPUModelNumber, CPUModel).
 * @param out  filled on success
 * @param opts options or NULL for the host with devices
 * @return PV_OK; PV_ERR_FORMAT for a synthetic string or XML file hwloc
 *         rejects; PV_ERR_BACKEND when hwloc fails otherwise.
 */
int pv_topology_load(pv_topology *out, const pv_topology_options *opts);

/**
 * Map a CPU identity to the analyzer's microarchitecture names.
 * @return a static string: "zen2".."zen5", "skylake", "icelake",
 *         "alderlake", "sapphirerapids"..., or "generic".
 */
const char *pv_uarch_from_cpuid(const char *vendor, int family, int model);

/** @return the last-level data/unified cache of @p t, or NULL. */
const pv_topo_cache *pv_topology_llc(const pv_topology *t);

/* ------------------------------------------------------------------ */
/* Machine model                                                       */
/* ------------------------------------------------------------------ */

/** Version of the machine model format (field "schema_version"). */
#define PV_MACHINE_SCHEMA_VERSION 1
/** Value of the "format" field of every machine model. */
#define PV_MACHINE_FORMAT "prevision-machine"

/** How a figure was measured. */
typedef enum pv_method {
    PV_METHOD_NONE = 0,  /**< not measured */
    PV_METHOD_TIMER,     /**< clock_gettime; cycles derived from the effective clock */
    PV_METHOD_PAPI,      /**< PAPI hardware counters (PAPI_TOT_CYC...) */
} pv_method;

/** @return "none", "timer" or "papi". */
const char *pv_method_name(pv_method m);

/** A measured figure: min, median and max over repetitions. */
typedef struct pv_stat {
    double min, median, max;
    uint32_t reps;      /**< repetitions; 0 = not measured */
    uint8_t method;     /**< pv_method */
} pv_stat;

/** Per mix class figures, in cycles per operation. */
typedef struct pv_class_cost {
    pv_stat latency;     /**< dependent chain: cycles from input to result */
    pv_stat rthroughput; /**< independent ops: cycles per op (reciprocal throughput) */
} pv_class_cost;

/** One microbenchmark's result (finer than a class: "aesenc", "vfmadd231pd ymm"). */
typedef struct pv_kernel_result {
    char name[32];
    uint32_t cls;        /**< pv_mix_class it contributes to */
    pv_class_cost cost;
} pv_kernel_result;

/** One point of the memory latency sweep. */
typedef struct pv_mem_point {
    uint64_t size;       /**< working set, bytes */
    pv_stat ns;          /**< ns per dependent load (random cyclic pointer chase: no overlap) */
    pv_stat random_ns;   /**< ns per independent random 8-byte load over the same set: what the
                              core overlaps (memory-level parallelism); reps 0 in older files */
    pv_stat window_ns;   /**< ns per independent random load followed by 24 independent instructions
                              (PV_WINDOW_INSNS per load): how many misses the core overlaps when each
                              comes with other work; reps 0 in older files */
} pv_mem_point;

/** Instructions per load of the pv_mem_point.window_ns kernel. */
#define PV_WINDOW_INSNS 32

/** One memory level (a cache level, or "DRAM"). */
typedef struct pv_mem_level {
    char name[8];        /**< "L1d", "L2", "L3", "DRAM" */
    uint64_t size;       /**< capacity (DRAM: the working set used to measure) */
    pv_stat latency_ns;  /**< load-to-use latency, ns */
    pv_stat random_ns;   /**< independent random loads, ns each (see pv_mem_point.random_ns) */
    pv_stat read_gbs;    /**< single-core read bandwidth, GB/s (1e9 B/s) */
    pv_stat write_gbs;
    pv_stat triad_gbs;
    pv_stat read_gbs_all;   /**< all cores together */
    pv_stat triad_gbs_all;
} pv_mem_level;

/** Costs the warm-up planner and the predictor use. */
typedef struct pv_warm_costs {
    pv_stat page_fault_4k_ns;    /**< first touch of one 4 KiB page */
    pv_stat page_fault_huge_ns;  /**< first touch of one 2 MiB huge page (THP) */
    pv_stat page_free_4k_ns;     /**< munmap of one touched 4 KiB page (free, process exit) */
    pv_stat thread_create_us;    /**< pthread_create + join of an empty thread */
    pv_stat file_cached_gbs;     /**< read() from the page cache, 1 MiB chunks */
    pv_stat file_disk_gbs;       /**< read() after the file left the page cache */
    pv_stat file_read_4k_gbs;    /**< read() from the page cache, 4 KiB chunks */
    pv_stat file_write_gbs;      /**< write() of a new file into the page cache, 1 MiB chunks */
    pv_stat file_write_4k_gbs;   /**< the same in 4 KiB chunks */
    pv_stat syscall_ns;          /**< a trivial system call (getppid) */
    pv_stat syscall_read_ns;     /**< pread() of 64 bytes from a cached file: a read call's fixed cost */
    pv_stat syscall_write_ns;    /**< pwrite() of 64 bytes into a cached file: a write call's fixed cost */
    pv_stat process_spawn_us;    /**< posix_spawn + waitpid of /bin/true (process start-up and exit) */
    char huge_note[160];         /**< why huge pages were (not) measured */
    char disk_note[200];         /**< how the disk read was done or why not */
} pv_warm_costs;

/** Host identity; a machine model is reused only on the same fingerprint. */
typedef struct pv_fingerprint {
    char cpu_model[80];
    uint32_t cores, pus;
    uint64_t memory;
    char caches[96];     /**< "L1d:48K L2:1M L3:512M" */
    char kernel[64];     /**< uname release */
    char hash[17];       /**< hex FNV-1a 64 of the fields above */
} pv_fingerprint;

/** A machine model: topology, identity and calibrated figures. */
typedef struct pv_machine {
    int schema_version;
    char generator[48];
    char date[32];               /**< ISO 8601 UTC of the calibration */
    int quick;                   /**< 1 when made by --quick */
    double duration_s;           /**< wall time of the calibration */
    pv_fingerprint host;
    pv_topology topo;
    /* counters */
    char papi_version[16];
    int32_t papi_hw_counters;    /**< PAPI_num_cmp_hwctrs(0) */
    pv_method method;            /**< what produced the per-class figures */
    char method_note[320];
    pv_stat clock_ghz;           /**< effective clock */
    char simd[64];               /**< widths measured: "sse2 avx avx2 fma avx512f" */
    pv_class_cost classes[PV_MIX_NCLASSES];
    uint32_t nkernels;
    pv_kernel_result kernels[96];
    pv_stat branch_miss_cycles;  /**< mispredicted-branch penalty */
    uint32_t nmem_points;
    pv_mem_point mem_points[48];
    uint32_t nmem_levels;
    pv_mem_level mem_levels[8];  /**< cache levels then DRAM */
    /** How far past a cache miss the core keeps issuing independent work, in
     *  instructions, at the sweep's largest set: latency x PV_WINDOW_INSNS /
     *  window_ns (derived; for the record). reps 0 in older files. */
    pv_stat miss_window_insns;
    pv_warm_costs warm;
} pv_machine;

/** Calibration options. */
typedef struct pv_calibrate_options {
    int version;                 /**< PV_CALIBRATE_OPTIONS_VERSION */
    int quick;                   /**< 1: fewer repetitions, smaller sets (< 15 s) */
    int drop_caches;             /**< 1: may write /proc/sys/vm/drop_caches */
    int use_papi;                /**< 1 (default): use PAPI when it has counters */
    unsigned reps;               /**< repetitions per figure, 0 = default (3 quick, 7 full) */
    double scale;                /**< factor on time per measurement and (below 1) on the largest
                                      memory working set; 0 = 1.0 (tests use less) */
    const char *tmpdir;          /**< where the file-read test writes, NULL = cache dir or /tmp */
    uint32_t only;               /**< PV_CAL_* mask of parts to run, 0 = all */
    pv_progress_fn progress;
    void *progress_ud;
} pv_calibrate_options;
#define PV_CALIBRATE_OPTIONS_VERSION 1
#define PV_CALIBRATE_OPTIONS_INIT {PV_CALIBRATE_OPTIONS_VERSION, 0, 0, 1, 0, 0.0, NULL, 0, NULL, NULL}
enum { PV_CAL_CLASSES = 1, PV_CAL_MEMORY = 2, PV_CAL_WARM = 4 };

/**
 * Measure this host: topology (hwloc), effective clock, per-class figures,
 * memory latency and bandwidth per level, warm-up costs.
 * @param out  receives a malloc()ed machine; free with pv_machine_free()
 * @return PV_OK; PV_ERR_NOMEM; PV_ERR_BACKEND when hwloc fails;
 *         PV_ERR_UNSUPPORTED on a non-x86-64 host.
 */
int pv_calibrate(pv_machine **out, const pv_calibrate_options *opts);

/** Free a machine model. NULL is allowed. */
void pv_machine_free(pv_machine *m);

/** Compute the fingerprint of host topology @p t plus the running kernel (uname). */
void pv_fingerprint_compute(pv_fingerprint *fp, const pv_topology *t);

/** Serialize a machine model. @param out malloc()ed JSON text, caller frees. */
int pv_machine_to_string(const pv_machine *m, char **out);

/** Write a machine model atomically ("-" = stdout). */
int pv_machine_save(const pv_machine *m, const char *path);

/**
 * Parse and validate a machine model (docs/schema/machine.schema.json).
 * @return PV_OK; PV_ERR_FORMAT (bad JSON or a field breaking the schema,
 *         naming the JSON path); PV_ERR_VERSION (another schema version).
 *         Unknown mix-class or kernel names are ignored with a pv_log warning.
 */
int pv_machine_parse(const char *text, size_t len, const char *source, pv_machine **out);

/** Load a machine model file. Also PV_ERR_NOTFOUND / PV_ERR_IO. */
int pv_machine_load(const char *path, pv_machine **out);

/**
 * Does @p m describe this host? Compares fingerprints.
 * @return 1 same host, 0 another host (and fills @p why, if given, with
 *         the first field that differs).
 */
int pv_machine_matches_host(const pv_machine *m, char *why, size_t whylen);

/**
 * The cache file for this host: $XDG_CACHE_HOME/prevision/machine.json or
 * ~/.cache/prevision/machine.json. @param buf receives the path.
 * @return PV_OK or PV_ERR_NOTFOUND when neither variable is set.
 */
int pv_machine_cache_path(char *buf, size_t len);

/**
 * Calibrate or reuse the cached model: returns the cached model when it
 * exists, is valid and matches this host's fingerprint (unless @p force);
 * otherwise calibrates and stores the result in the cache (creating the
 * directory). A stale or unreadable cache is reported with pv_log and
 * replaced. @param reused set to 1 when the cache was used.
 */
int pv_machine_get(pv_machine **out, const pv_calibrate_options *opts, int force, int *reused);

struct pv_uarch;

/**
 * The analyzer's cost table for machine @p m: the built-in table of the
 * model's microarchitecture (topo.uarch; the host's nearest when unknown)
 * with each per-class latency and reciprocal throughput replaced by the
 * calibrated median where one was measured, and load/store ports and load
 * latency derived from the calibrated load and store figures. Issue width
 * and port groups stay as published. The name becomes "BASE+calibrated".
 * Pass the result in pv_analyze_options.uarch (prevision analyze --machine).
 * @param m          a machine model (from pv_calibrate or pv_machine_load)
 * @param out        filled on success (a plain value; nothing to free)
 * @param nreplaced  if not NULL, receives how many classes got a measured figure
 * @return PV_OK, or PV_ERR_INVALID for NULL arguments.
 */
int pv_machine_uarch(const pv_machine *m, struct pv_uarch *out, unsigned *nreplaced);

/* ------------------------------------------------------------------ */
/* Prediction                                                          */
/* ------------------------------------------------------------------ */

/** A predicted time in seconds with its interval. */
typedef struct pv_interval {
    double low, mid, high;
} pv_interval;

/**
 * The prediction for one profile on one machine. The five terms add up to
 * the total (compute + branches + memory + io + syscalls = total, for each
 * of low, mid and high): memory is the part of the cache-miss time that
 * compute does not hide (docs/costmodel.md).
 */
typedef struct pv_prediction {
    pv_interval total;
    pv_interval compute;   /**< instruction execution: port/issue throughput and loop recurrences */
    pv_interval memory;    /**< cache-miss stalls not hidden behind compute, first-touch page faults, page release */
    pv_interval io;        /**< file bytes read and written, and the read/write calls' fixed cost */
    pv_interval syscalls;  /**< other system calls, thread creation, process start-up */
    const char *dominant;  /**< "compute", "branches", "memory", "io" or "syscalls" */
    double ghz;            /**< clock used */
    uint64_t insns;        /**< dynamic instructions */
    uint64_t blocks_static;   /**< executed blocks costed with static cycles */
    uint64_t insns_static;    /**< instructions in those blocks */
    double parallel_factor;   /**< compute divided by this (threads on cores) */
    double line_use;          /**< share of the misses beyond L1 paid at bandwidth (sequential), 0..1 */
    /* fields below were added with the branch and static terms */
    pv_interval branches;     /**< mispredicted branches at the calibrated penalty */
    double branch_misses;     /**< mispredicted branches (conditional and indirect), whole run */
    uint32_t loops_costed;    /**< loops costed with their recurrence */
    uint32_t loops_bound;     /**< of those, loops whose recurrence (with memory latency) bounded them */
    double chain_ns;          /**< time of dependent (serialized) misses on loop recurrences, ns */
    double footprint;         /**< working set used for latencies, bytes (touched memory) */
    uint32_t objects_static;  /**< objects of the run with a static profile */
} pv_prediction;

/** Options of pv_predict_ex(). */
typedef struct pv_predict_options {
    int version;                     /**< PV_PREDICT_OPTIONS_VERSION */
    /** Static profiles of the run's objects (prevision analyze, preferably
     *  with the machine's calibrated table: pv_machine_uarch()): statics[i]
     *  for p->dynamic->objects[i], NULL where there is none. NULL: the
     *  profile's own blocks serve for the target, when it has some. */
    const pv_profile *const *statics;
    /** The same analyses with the load latency raised by probe_cycles[0] and
     *  probe_cycles[1] (pv_uarch.load_latency + probe): how much a loop's
     *  recurrence grows with the load latency tells how many dependent loads
     *  it chains per iteration, so that misses on the chain are paid in full.
     *  Either may be NULL (no chain information: misses overlap). */
    const pv_profile *const *probes[2];
    uint32_t nstatics;               /**< entries in statics and probes */
    float probe_cycles[2];           /**< the two load-latency increments, cycles (e.g. 256, 512) */
} pv_predict_options;
#define PV_PREDICT_OPTIONS_VERSION 1
#define PV_PREDICT_OPTIONS_INIT {PV_PREDICT_OPTIONS_VERSION, NULL, {NULL, NULL}, 0, {0, 0}}

/**
 * Predict the run time of the program @p p describes on machine @p m.
 * Same as pv_predict_ex() with default options (the profile's own static
 * blocks, if any, for the target).
 * @return PV_OK; PV_ERR_INVALID when @p p has no dynamic section (the
 *         message says to run `prevision profile`).
 */
int pv_predict(const pv_profile *p, const pv_machine *m, pv_prediction *out);

/**
 * Predict with static profiles of the run's objects (see
 * pv_predict_options). Static profiles whose blocks do not match the
 * dynamic run (another build) only cost their matching blocks; loops whose
 * probe analyses do not list the same headers get no chain information.
 * @return as pv_predict(); PV_ERR_INVALID for options of another version.
 */
int pv_predict_ex(const pv_profile *p, const pv_machine *m, const pv_predict_options *opts, pv_prediction *out);

#ifdef __cplusplus
}
#endif
#endif
