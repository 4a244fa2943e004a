/* Shared declarations of the prevision command-line front end. */
#ifndef PV_CLI_H
#define PV_CLI_H

#include <stdio.h>

#include "prevision/prevision.h"

/* Exit codes (documented in docs/cli.md). */
enum { PV_EXIT_OK = 0, PV_EXIT_FAILURE = 1, PV_EXIT_USAGE = 2 };

/* Global options, parsed by main before the command runs. */
typedef struct pv_cli_globals {
    int quiet;   /* -q: no progress bar, no warnings */
    int verbose; /* -v: debug messages */
} pv_cli_globals;

extern pv_cli_globals pv_cli;

/* A subcommand: argv[0] is the command name. Returns an exit code. */
typedef int (*pv_cmd_fn)(int argc, char **argv);

typedef struct pv_command {
    const char *name;
    pv_cmd_fn fn;
    const char *needs;   /* what the command reads, for `prevision help` */
    const char *summary; /* one line */
} pv_command;

/* Print "prevision CMD: error: MSG" on stderr (one line). */
void pv_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report the library's last error for @p rc and return the exit code for it:
 * 2 for bad input or usage (FORMAT, INVALID, NOTFOUND, VERSION, UNSUPPORTED), 1 otherwise. */
int pv_cli_fail(const char *cmd, int rc);

/* Exit code for a library error code (see pv_cli_fail). */
int pv_cli_exit_code(int rc);

/* Print a usage error plus "try 'prevision CMD --help'" and return PV_EXIT_USAGE. */
int pv_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is @p arg "-h" or "--help"? */
int pv_cli_is_help(const char *arg);

/* Write @p text to @p path atomically ("-" = stdout). Returns an exit code, printing the error. */
int pv_cli_write_output(const char *cmd, const char *path, const char *text);

/* A progress bar on stderr unless quiet or not a terminal; free with pv_progress_bar_free(). */
pv_progress_bar *pv_cli_progress(void);

/* Commands, one cmd_NAME.c each, grouped by the module they front. */
/* analyzer */
/* `analyze BINARY`: static profile of an ELF file (cli/cmd_analyze.c); dispatches `--source` */
int cmd_analyze(int argc, char **argv);
/* `analyze --source ...` / `analyze-source ...`: source facts (cli/cmd_analyze_source.c) */
int pv_cli_analyze_source(int argc, char **argv);

/* emulator */
int cmd_profile(int argc, char **argv);
/* Cache geometry for the emulator's cache simulator (cli/cache_config.c):
 * L1d, L2 and L3 from the machine model file @p machine_path, or from this
 * host's hwloc topology when NULL; a level the topology lacks or describes
 * unusably gets pve_cache_default_level(). @p note (may be NULL) receives a
 * one-line account ("L1d 32 KiB 8-way 64 B lines, ...; from hwloc (this host)").
 * Returns PV_OK or the error of loading the machine model or topology. */
struct pve_cache_config;
int pv_cli_cache_config(struct pve_cache_config *cfg, const char *machine_path, char *note, size_t notelen);
/* The same from a topology already loaded; @p source names it in the note. */
void pv_cli_cache_config_from_topology(struct pve_cache_config *cfg, const pv_topology *t, const char *source,
                                       char *note, size_t notelen);

/* costmodel */
int cmd_calibrate(int argc, char **argv);
int cmd_predict(int argc, char **argv);

/* provisioner */

/* utilities */
int cmd_version(int argc, char **argv);
int cmd_validate(int argc, char **argv);

#endif
