/* prevision: the command-line front end. A command table in the style of
 * git's builtins; each command lives in cli/cmd_NAME.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);

/* Register only commands that really work. */
static const pv_command commands[] = {
    /* binary and source analysis (analyzer/) */
    {"analyze", cmd_analyze, "BINARY", "static profile of an ELF binary: functions, CFG, loops, lines, libraries, mix, cycles (--source: source facts)"},
    {"analyze-source", pv_cli_analyze_source, "BUILD_DIR|FILE", "same as 'analyze --source': loops, trip counts, allocations, parallelism, IR op counts"},

    /* dynamic profiling (emulator/) */
    {"profile", cmd_profile, "-- PROGRAM ARGS", "run a program in the sandboxed emulator and write its dynamic profile"},

    /* hardware model and prediction (costmodel/) */
    {"calibrate", cmd_calibrate, "", "measure this host (topology, per-class costs, memory, warm-up costs)"},
    {"predict", cmd_predict, "PROFILE", "predict a profiled program's run time on this host"},

    /* planning and launching (provisioner/) */

    /* utilities */
    {"validate", cmd_validate, "PROFILE...", "check demand-profile files against the schema"},
    {"version", cmd_version, "", "show prevision's version and the library versions it runs with"},
    {"help", cmd_help, "", "list commands, or show one command's help"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const pv_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void print_main_usage(FILE *out)
{
    fprintf(out,
            "usage: prevision [-q] [-v] [--version] [--help] <command> [options]\n"
            "\n"
            "Predicts what a program will need before it runs, and prepares the machine for it.\n"
            "\n"
            "commands:\n");
    int wname = 0, wneeds = 0;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        int n = (int)strlen(commands[i].name), k = (int)strlen(commands[i].needs);
        wname = n > wname ? n : wname;
        wneeds = k > wneeds ? k : wneeds;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-*s %-*s  %s\n", wname, commands[i].name, wneeds, commands[i].needs, commands[i].summary);
    fprintf(out,
            "\n"
            "global options:\n"
            "  -q, --quiet    no progress bar and no warnings\n"
            "  -v, --verbose  debug messages on stderr\n"
            "  --version      same as 'prevision version'\n"
            "\n"
            "'prevision <command> --help' shows a command's options. Exit status: 0 ok,\n"
            "1 failure, 2 bad usage or bad input.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return pv_cli_usage_error("help", "expected at most one command name");
    if (argc == 2 && pv_cli_is_help(argv[1])) {
        fputs("usage: prevision help [COMMAND]\n\nWithout COMMAND, lists the commands; with one, shows its help.\n", stdout);
        return PV_EXIT_OK;
    }
    if (argc == 2) {
        const pv_command *c = find_command(argv[1]);
        if (!c)
            return pv_cli_usage_error("help", "unknown command '%s'", argv[1]);
        char *sub[] = {(char *)c->name, "--help", NULL};
        return c->fn(2, sub);
    }
    print_main_usage(stdout);
    return PV_EXIT_OK;
}

static void log_to_stderr(void *ud, pv_log_level level, const char *msg)
{
    (void)ud;
    if (level == PV_LOG_DEBUG && !pv_cli.verbose)
        return;
    if (level <= PV_LOG_WARN && level != PV_LOG_DEBUG && pv_cli.quiet)
        return;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "prevision: %s: %s\n", names[level], msg);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            pv_cli.quiet = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            pv_cli.verbose = 1;
        else if (!strcmp(a, "--version"))
            return cmd_version(1, (char *[]){"version", NULL});
        else if (pv_cli_is_help(a)) {
            print_main_usage(stdout);
            return PV_EXIT_OK;
        } else {
            fprintf(stderr, "prevision: error: unknown option '%s' (try 'prevision --help')\n", a);
            return PV_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_main_usage(stderr);
        return PV_EXIT_USAGE;
    }
    const pv_command *c = find_command(argv[i]);
    if (!c) {
        fprintf(stderr, "prevision: error: '%s' is not a prevision command (see 'prevision help')\n", argv[i]);
        return PV_EXIT_USAGE;
    }
    pv_log_set_handler(log_to_stderr, NULL);
    return c->fn(argc - i, argv + i);
}
