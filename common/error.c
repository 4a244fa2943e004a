#include "prevision/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MSG_MAX 1024

static _Thread_local char last_msg[MSG_MAX];
static _Thread_local int last_code;

const char *pv_strerror(int code)
{
    switch (code) {
    case PV_OK: return "success";
    case PV_ERR_NOMEM: return "out of memory";
    case PV_ERR_INVALID: return "invalid argument";
    case PV_ERR_IO: return "I/O error";
    case PV_ERR_FORMAT: return "malformed input";
    case PV_ERR_UNSUPPORTED: return "unsupported";
    case PV_ERR_NOTFOUND: return "not found";
    case PV_ERR_LIMIT: return "limit reached";
    case PV_ERR_SANDBOX: return "refused by the sandbox";
    case PV_ERR_BACKEND: return "backend library failure";
    case PV_ERR_VERSION: return "unsupported version";
    case PV_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
    }
}

int pv_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    last_code = code;
    return code;
}

int pv_error_prefix(int code, const char *fmt, ...)
{
    char prefix[MSG_MAX], old[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_msg, sizeof old);
    if (old[0])
        snprintf(last_msg, sizeof last_msg, "%s: %s", prefix, old);
    else
        snprintf(last_msg, sizeof last_msg, "%s: %s", prefix, pv_strerror(code));
    last_code = code;
    return code;
}

const char *pv_error_last(void) { return last_msg; }

int pv_error_last_code(void) { return last_code; }

void pv_error_clear(void)
{
    last_msg[0] = '\0';
    last_code = PV_OK;
}
