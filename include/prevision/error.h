/**
 * @file error.h
 * @brief One error enum for the whole library, plus a per-thread detail message.
 *
 * Every fallible function returns an int: PV_OK (0) on success or one of the
 * negative pv_error codes. The function that detects a failure records a
 * human-readable detail (what failed, on which file/field/address, and what
 * to do) with pv_error_set(); callers read it with pv_error_last().
 * Codes of Unicorn, Capstone, libclang, PAPI and hwloc are translated into
 * these at the module boundary and never leak upward.
 */
#ifndef PREVISION_ERROR_H
#define PREVISION_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. All failures are negative. */
typedef enum pv_error {
    PV_OK = 0,                /**< success */
    PV_ERR_NOMEM = -1,        /**< out of memory */
    PV_ERR_INVALID = -2,      /**< invalid argument from the caller (a programming error or bad usage) */
    PV_ERR_IO = -3,           /**< a file could not be read or written */
    PV_ERR_FORMAT = -4,       /**< an input file is malformed (bad JSON, corrupt ELF, wrong field) */
    PV_ERR_UNSUPPORTED = -5,  /**< valid input that prevision does not handle (other arch, AVX under emulation) */
    PV_ERR_NOTFOUND = -6,     /**< a named thing does not exist (file, symbol, uarch) */
    PV_ERR_LIMIT = -7,        /**< a resource limit was hit (instructions, memory, time) */
    PV_ERR_SANDBOX = -8,      /**< the sandbox refused an operation */
    PV_ERR_BACKEND = -9,      /**< an underlying library or tool failed (Unicorn, libclang, Slurm...) */
    PV_ERR_VERSION = -10,     /**< a file has an unsupported schema version */
    PV_ERR_INTERNAL = -11     /**< a bug in prevision */
} pv_error;

/** @return a static, never-NULL description of @p code (e.g. "malformed input"). */
const char *pv_strerror(int code);

/**
 * Record a detail message for the calling thread and return @p code, so that
 * a failure path reads `return pv_error_set(PV_ERR_FORMAT, "%s: ...", path);`.
 * The message is printf-formatted and truncated at 1023 bytes.
 */
int pv_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Prefix the calling thread's current detail message with a formatted
 * context string followed by ": " (e.g. the file name), and return @p code.
 * With no current message, the prefix is followed by pv_strerror(@p code).
 * The result is truncated at 1023 bytes.
 */
int pv_error_prefix(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * @return the calling thread's last detail message; never NULL (empty string
 * when none). It points into a per-thread buffer that the thread's next
 * pv_error_set(), pv_error_prefix() or pv_error_clear() overwrites; copy it
 * to keep it. Another thread's failures are not seen here: code running
 * work on threads must carry their messages back itself.
 */
const char *pv_error_last(void);

/** @return the code recorded by the calling thread's last pv_error_set(), or PV_OK. */
int pv_error_last_code(void);

/** Forget the calling thread's detail message. */
void pv_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
