/* prevision validate: check demand-profile files against the schema. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: prevision validate [--json] PROFILE...\n"
    "\n"
    "Checks each demand-profile file: valid JSON, the schema version this\n"
    "prevision reads, every field as docs/schema/profile.schema.json says, and\n"
    "every index in range. Prints one line per file; on the first bad field of a\n"
    "file it names the file, the JSON path of the field and what was expected.\n"
    "\n"
    "  --json    print one JSON object per file instead\n"
    "\n"
    "Exit status: 0 when every file is valid, 2 when one is not.\n";

/* @s as a JSON string literal on stdout: quotes, backslashes and control
 * characters escaped. Other bytes are copied: names and messages are UTF-8
 * on the systems prevision supports. */
static void put_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

int cmd_validate(int argc, char **argv)
{
    int json = 0, nfiles = 0, worst = PV_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (pv_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return PV_EXIT_OK;
        }
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return pv_cli_usage_error("validate", "unknown option '%s'", argv[i]);
        else
            nfiles++;
    }
    if (!nfiles)
        return pv_cli_usage_error("validate", "expected at least one PROFILE file");
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        pv_profile *p = NULL;
        int rc = pv_profile_load(argv[i], &p);
        if (rc == PV_OK) {
            if (json) {
                printf("{\"file\":");
                put_json_string(argv[i]);
                printf(",\"valid\":true,\"functions\":%u,\"blocks\":%u,\"loops\":%u,\"dynamic\":%s}\n", p->nfunctions,
                       p->nblocks, p->nloops, p->dynamic ? "true" : "false");
            } else
                printf("%s: valid profile (schema %d): %u functions, %u blocks, %u loops%s\n", argv[i],
                       p->schema_version, p->nfunctions, p->nblocks, p->nloops,
                       p->dynamic ? ", dynamic section" : "");
            pv_profile_free(p);
        } else {
            int code = pv_cli_exit_code(rc);
            if (json) {
                printf("{\"file\":");
                put_json_string(argv[i]);
                printf(",\"valid\":false,\"error\":");
                put_json_string(pv_error_last());
                printf("}\n");
            }
            pv_cli_fail("validate", rc);
            if (code > worst)
                worst = code;
        }
    }
    return worst;
}
