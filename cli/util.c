#include <stdarg.h>
#include <string.h>

#include "cli.h"

pv_cli_globals pv_cli;

void pv_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "prevision%s%s: error: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int pv_cli_exit_code(int rc)
{
    switch (rc) {
    case PV_OK: return PV_EXIT_OK;
    case PV_ERR_FORMAT:
    case PV_ERR_INVALID:
    case PV_ERR_NOTFOUND:
    case PV_ERR_VERSION:
    case PV_ERR_UNSUPPORTED: return PV_EXIT_USAGE;
    default: return PV_EXIT_FAILURE;
    }
}

int pv_cli_fail(const char *cmd, int rc)
{
    const char *msg = pv_error_last();
    pv_cli_error(cmd, "%s", msg[0] ? msg : pv_strerror(rc));
    return pv_cli_exit_code(rc);
}

int pv_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "prevision %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'prevision %s --help')\n", cmd);
    return PV_EXIT_USAGE;
}

int pv_cli_is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

int pv_cli_write_output(const char *cmd, const char *path, const char *text)
{
    int rc = pv_file_write_atomic(path, text, strlen(text));
    return rc ? pv_cli_fail(cmd, rc) : PV_EXIT_OK;
}

pv_progress_bar *pv_cli_progress(void) { return pv_progress_bar_new(stderr, pv_cli.quiet); }
