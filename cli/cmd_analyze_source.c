/* prevision analyze --source: source facts from libclang and LLVM IR,
 * optionally merged into the static profile of a binary (analyzed here, or
 * read with --profile). `analyze --source ...` dispatches here with the same
 * arguments; `analyze-source` is the same command. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision analyze --source -p BUILD_DIR [options] [BINARY]\n"
    "       prevision analyze --source FILE.c [options] [BINARY] [-- COMPILER_FLAGS...]\n"
    "       (also: prevision analyze-source ...)\n"
    "\n"
    "Reads C sources with libclang (every loop with its trip count as an\n"
    "expression of the program's variables, allocation sizes, OpenMP and\n"
    "pthread parallelism, calls into BLAS/FFTW/CUDA/OpenCL/XRT/MPI/file I/O)\n"
    "and compiles each translation unit to LLVM IR (clang-19 -O2) to count\n"
    "floating-point, integer and memory operations per loop. With -p, the\n"
    "translation units and their flags come from BUILD_DIR/compile_commands.json.\n"
    "With BINARY, the binary is analyzed too (as by 'prevision analyze') and the\n"
    "source facts are merged into its profile by DWARF file:line: each binary\n"
    "loop gets its source loop's trip count, and loops found on one side only\n"
    "are reported.\n"
    "\n"
    "  -p BUILD_DIR       directory holding compile_commands.json\n"
    "  --profile FILE     merge into this static profile instead of analyzing a BINARY\n"
    "  --uarch NAME       cost tables for the BINARY's cycle estimates (see 'analyze')\n"
    "  -o FILE            write JSON to FILE (atomically): the merged profile with\n"
    "                     BINARY or --profile, else the source section\n"
    "  --json             print that JSON on stdout instead of the report\n"
    "  --no-ir            skip the LLVM IR pass (AST facts only)\n"
    "  -j N, -jN          translation units analyzed in parallel (default: CPUs)\n"
    "\n"
    "Parse errors and missing headers are reported as diagnostics; the rest of\n"
    "the file is still analyzed. Exit status: 0 ok, 1 failure, 2 bad usage or\n"
    "bad input (no compile database, no such file, bad profile or binary).\n";

int pv_cli_analyze_source(int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *build_dir = NULL, *profile_path = NULL, *out_path = NULL, *uarch_name = NULL;
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0, json = 0, ir = 1, nflags = 0;
    unsigned threads = 0;
    char **flags = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (pv_cli_is_help(a)) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        }
        if (!strcmp(a, "--")) {
            flags = argv + i + 1;
            nflags = argc - i - 1;
            break;
        }
        if (!strcmp(a, "--source"))
            continue;
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--no-ir"))
            ir = 0;
        else if (!strcmp(a, "-p") || !strcmp(a, "--profile") || !strcmp(a, "-o") || !strcmp(a, "--uarch") ||
                 !strncmp(a, "-j", 2)) {
            int attached = !strncmp(a, "-j", 2) && a[2]; /* -j4 */
            if (!attached && i + 1 >= argc)
                return pv_cli_usage_error(cmd, "option '%s' needs a value", a);
            const char *v = attached ? a + 2 : argv[++i];
            if (!strcmp(a, "-p"))
                build_dir = v;
            else if (!strcmp(a, "--profile"))
                profile_path = v;
            else if (!strcmp(a, "-o"))
                out_path = v;
            else if (!strcmp(a, "--uarch"))
                uarch_name = v;
            else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 1024)
                    return pv_cli_usage_error(cmd, "-j expects a number of threads from 1 to 1024, got '%s'", v);
                threads = (unsigned)n;
            }
        } else if (a[0] == '-' && a[1])
            return pv_cli_usage_error(cmd, "unknown option '%s' (compiler flags go after '--')", a);
        else if (npos == 2)
            return pv_cli_usage_error(cmd, "too many arguments: '%s', '%s' and '%s'", pos[0], pos[1], a);
        else
            pos[npos++] = a;
    }
    /* with -p, a positional argument is the BINARY; without, the source FILE then the BINARY */
    const char *file = build_dir ? NULL : pos[0];
    const char *binary = build_dir ? pos[0] : pos[1];
    if (build_dir && npos > 1)
        return pv_cli_usage_error(cmd, "with -p, expected at most one BINARY, got '%s' and '%s'", pos[0], pos[1]);
    if (!build_dir && !file)
        return pv_cli_usage_error(cmd, "give either -p BUILD_DIR or one source FILE");
    if (build_dir && nflags)
        return pv_cli_usage_error(cmd, "compiler flags after '--' go with a FILE; with -p they come from the database");
    if (binary && profile_path)
        return pv_cli_usage_error(cmd, "give a BINARY to analyze or --profile FILE, not both");
    if (uarch_name && !binary)
        return pv_cli_usage_error(cmd, "--uarch applies to the analysis of a BINARY");

    int code = PV_EXIT_OK, rc;
    pv_profile *prof = NULL;
    json_t *src = NULL;
    char *text = NULL;
    if (profile_path && (rc = pv_profile_load(profile_path, &prof))) {
        code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if (binary) {
        pv_analyze_options aopts = PV_ANALYZE_OPTIONS_INIT;
        if (uarch_name && !(aopts.uarch = pv_uarch_find(uarch_name))) {
            code = pv_cli_usage_error(cmd, "%s", pv_error_last());
            goto done;
        }
        aopts.nthreads = (int)threads;
        pv_progress_bar *abar = pv_cli_progress();
        aopts.progress = abar ? pv_progress_bar_update : NULL;
        aopts.progress_ud = abar;
        rc = pv_analyze_binary(binary, &aopts, &prof);
        pv_progress_bar_free(abar);
        if (rc) {
            code = pv_cli_fail(cmd, rc);
            goto done;
        }
    }
    pv_source_options opts = PV_SOURCE_OPTIONS_INIT;
    opts.build_dir = build_dir;
    opts.file = file;
    opts.nargs = nflags;
    opts.args = (const char *const *)flags;
    opts.threads = threads;
    opts.ir = ir;
    if (prof && build_dir) {
        /* only the translation units the binary was built from */
        opts.only = (const char *const *)prof->files;
        opts.nonly = prof->nfiles;
    }
    pv_progress_bar *bar = pv_cli_progress();
    opts.progress = bar ? pv_progress_bar_update : NULL;
    opts.progress_ud = bar;
    rc = pv_source_analyze(&opts, (void **)&src);
    pv_progress_bar_free(bar);
    if (rc) {
        code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if (prof && (rc = pv_source_merge(prof, src))) {
        code = pv_cli_fail(cmd, rc);
        goto done;
    }
    if (out_path || json) {
        if (prof) {
            if ((rc = pv_profile_to_string(prof, &text, 0))) {
                code = pv_cli_fail(cmd, rc);
                goto done;
            }
        } else if (!(text = json_dumps(src, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
            pv_cli_error(cmd, "out of memory while writing JSON");
            code = PV_EXIT_FAILURE;
            goto done;
        }
        /* One newline at the end, as every text file. */
        size_t len = strlen(text);
        if (len && text[len - 1] != '\n') {
            char *t2 = realloc(text, len + 2);
            if (!t2) {
                pv_cli_error(cmd, "out of memory while writing JSON");
                code = PV_EXIT_FAILURE;
                goto done;
            }
            text = t2;
            memcpy(text + len, "\n", 2);
        }
    }
    if (out_path && (code = pv_cli_write_output(cmd, out_path, text)))
        goto done;
    if (json)
        fputs(text, stdout);
    else {
        char *rep = NULL;
        if ((rc = pv_source_report(prof ? prof->source : src, &rep))) {
            code = pv_cli_fail(cmd, rc);
            goto done;
        }
        if (binary)
            printf("binary %s: %u functions, %u loops\n", binary, prof->nfunctions, prof->nloops);
        fputs(rep, stdout);
        free(rep);
        if (out_path)
            printf("wrote %s\n", out_path);
    }
done:
    free(text);
    json_decref(src);
    pv_profile_free(prof);
    return code;
}
