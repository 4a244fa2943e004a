/* prevision version: our version and the versions of the libraries we run with. */
#include <capstone/capstone.h>
#include <clang-c/Index.h>
#include <elfutils/libdwfl.h>
#include <hwloc.h>
#include <jansson.h>
#include <llvm-c/Core.h>
#include <papi.h>
#include <sqlite3.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision version [--json]\n"
    "\n"
    "Prints prevision's version and the versions of the libraries it runs with,\n"
    "as reported by the libraries themselves at run time.\n";

int cmd_version(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (pv_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            return pv_cli_usage_error("version", "unknown argument '%s'", argv[i]);
        }
    }
    char unicorn[32], capstone[32], llvm[32], papi[32], hwloc[32];
    unsigned umaj, umin;
    unsigned uv = uc_version(&umaj, &umin);
    snprintf(unicorn, sizeof unicorn, "%u.%u.%u", umaj, umin, (uv >> 8) & 0xff);
    int cmaj, cmin;
    cs_version(&cmaj, &cmin);
    snprintf(capstone, sizeof capstone, "%d.%d", cmaj, cmin);
    unsigned lmaj, lmin, lpat;
    LLVMGetVersion(&lmaj, &lmin, &lpat);
    snprintf(llvm, sizeof llvm, "%u.%u.%u", lmaj, lmin, lpat);
    int pv = PAPI_library_init(PAPI_VER_CURRENT);
    if (pv > 0)
        pv = PAPI_get_opt(PAPI_LIB_VERSION, NULL);
    else
        pv = PAPI_VER_CURRENT; /* init failed: report the version we were built against */
    snprintf(papi, sizeof papi, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(pv), PAPI_VERSION_MINOR(pv),
             PAPI_VERSION_REVISION(pv), PAPI_VERSION_INCREMENT(pv));
    unsigned hv = hwloc_get_api_version();
    snprintf(hwloc, sizeof hwloc, "%u.%u.%u", hv >> 16, (hv >> 8) & 0xff, hv & 0xff);
    CXString cv = clang_getClangVersion();
    const char *clang = clang_getCString(cv);
    const char *elfutils = dwfl_version(NULL);

    const char *names[] = {"unicorn", "capstone", "libclang", "llvm", "papi", "hwloc", "elfutils", "jansson", "sqlite"};
    const char *values[] = {unicorn, capstone, clang, llvm, papi, hwloc, elfutils, jansson_version_str(),
                            sqlite3_libversion()};
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "prevision", json_string(PV_VERSION_STRING));
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            json_object_set_new(o, names[i], json_string(values[i]));
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s\n", pv_version_string());
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            printf("  %-9s %s\n", names[i], values[i]);
    }
    clang_disposeString(cv);
    if (pv > 0)
        PAPI_shutdown();
    return PV_EXIT_OK;
}
