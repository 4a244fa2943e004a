/**
 * @file log.h
 * @brief Diagnostics and progress from the library to whoever embeds it.
 *
 * The library never prints. Warnings (a machine model from another host, a
 * field ignored...) go to a process-wide log handler that the CLI installs;
 * long-running work reports progress through a per-call callback. The
 * terminal progress bar here is for front ends (the CLI) to plug in.
 */
#ifndef PREVISION_LOG_H
#define PREVISION_LOG_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Severity of a pv_log() message; the CLI shows WARN and ERROR, and DEBUG with -v. */
typedef enum pv_log_level { PV_LOG_DEBUG = 0, PV_LOG_INFO, PV_LOG_WARN, PV_LOG_ERROR } pv_log_level;

/** A log sink: receives one complete message without trailing newline. */
typedef void (*pv_log_fn)(void *ud, pv_log_level level, const char *msg);

/**
 * Install a log handler for the whole process (NULL discards messages, the
 * default). Not thread-safe against concurrent pv_log(): install it first.
 */
void pv_log_set_handler(pv_log_fn fn, void *ud);

/** Send a printf-formatted message (truncated at 1023 bytes) to the handler, if any. */
void pv_log(pv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Progress callback for long work: @p phase names the step ("decoding"),
 * @p done of @p total units are complete (total 0 when unknown).
 * Called from the thread doing the work; must be cheap.
 */
typedef void (*pv_progress_fn)(void *ud, const char *phase, uint64_t done, uint64_t total);

/** A terminal progress bar. Opaque; not thread-safe (update it from one thread). */
typedef struct pv_progress_bar pv_progress_bar;

/**
 * Create a progress bar drawing on @p out. When @p out is not a terminal
 * (or when @p force_quiet is set) the bar stays silent.
 * @return a bar to pass as the `ud` of pv_progress_bar_update(); free with
 *         pv_progress_bar_free(). NULL only when out of memory.
 */
pv_progress_bar *pv_progress_bar_new(FILE *out, int force_quiet);

/** A pv_progress_fn that draws on a pv_progress_bar (pass the bar as @p ud). Redraws at most 10 times a second. */
void pv_progress_bar_update(void *ud, const char *phase, uint64_t done, uint64_t total);

/** Erase the bar's line and free it. NULL is allowed. */
void pv_progress_bar_free(pv_progress_bar *bar);

#ifdef __cplusplus
}
#endif
#endif
